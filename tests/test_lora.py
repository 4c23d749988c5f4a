"""LoRA training on the tiny model: label masking, batching, loss, determinism, merging."""

from __future__ import annotations

import json

import pytest
import torch
from modeling_fixtures import sft_records, tiny_adapter, tiny_base  # noqa: F401  (pytest fixtures)

from clinical.modeling.lora import (
    IGNORE_INDEX,
    SUMMARY_FILENAME,
    LoraTrainingConfig,
    collate,
    encode_example,
    length_bucketed_batches,
    train_lora,
)
from clinical.modeling.merge import merge_adapter
from clinical.schema import chat_messages, target_json

ENTITIES = [{"type": "medication", "text": "aspirin", "dose": "81 mg"}]


@pytest.fixture(scope="module")
def tokenizer(tiny_base):  # noqa: F811
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_base.path)


def test_labels_cover_only_the_assistant_reply(tokenizer):
    example = encode_example(tokenizer, chat_messages("Pt on aspirin 81 mg.", ENTITIES), max_length=1024)
    labelled = [t for t, label in zip(example["input_ids"], example["labels"], strict=True) if label != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == target_json(ENTITIES) + tokenizer.eos_token
    first = example["labels"].index(labelled[0])
    assert all(label == IGNORE_INDEX for label in example["labels"][:first])
    prompt = tokenizer.decode(example["input_ids"][:first])
    assert prompt.endswith("<|im_start|>assistant\n") and "Pt on aspirin" in prompt
    assert example["labels"][-1] == IGNORE_INDEX  # template newline after <|im_end|>


def test_truncation_and_missing_assistant_turn(tokenizer):
    messages = chat_messages("Pt on aspirin 81 mg.", ENTITIES)
    assert len(encode_example(tokenizer, messages, max_length=20)["input_ids"]) == 20
    with pytest.raises(ValueError, match="assistant"):
        encode_example(tokenizer, messages[:2], max_length=20)


def test_length_bucketing_groups_similar_lengths():
    lengths = [50, 10, 40, 20, 30, 60, 11]
    batches = length_bucketed_batches(lengths, 2, torch.Generator().manual_seed(0))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert sorted(sorted(lengths[i] for i in b) for b in batches) == [[10, 11], [20, 30], [40, 50], [60]]


def test_collate_pads_right_and_masks_padding():
    batch = collate([{"input_ids": [5, 6, 7], "labels": [-100, 6, 7]}, {"input_ids": [8], "labels": [8]}], 2)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 2, 2]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [8, -100, -100]]


def test_training_reduces_loss_on_a_repeated_batch(tiny_adapter):  # noqa: F811
    # 4 records at batch_size 4: every step sees the same batch.
    losses = [loss for _, loss in tiny_adapter.losses]
    assert len(losses) == tiny_adapter.steps == 4
    assert losses[-1] < losses[0]
    assert tiny_adapter.validation_loss is not None and tiny_adapter.train_tokens > 0
    assert tiny_adapter.tokens_per_s > 0 and tiny_adapter.peak_rss_mb > 0


def test_adapter_files_and_summary(tiny_adapter, tiny_base):  # noqa: F811
    config = json.loads((tiny_adapter.adapter_dir / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_base.path)
    assert config["r"] == 16 and sorted(config["target_modules"]) == ["k_proj", "o_proj", "q_proj", "v_proj"]
    summary = json.loads((tiny_adapter.adapter_dir / SUMMARY_FILENAME).read_text())
    assert summary["adapter_sha256"] == tiny_adapter.adapter_sha256
    assert summary["steps"] == 4


def test_same_seed_gives_the_same_adapter(tiny_base, tiny_adapter, tmp_path):  # noqa: F811
    calls = []
    settings = {**tiny_adapter.config, "target_modules": tuple(tiny_adapter.config["target_modules"])}
    config = LoraTrainingConfig(**settings)
    again = train_lora(
        tiny_base.path,
        sft_records(),
        tmp_path / "again",
        config,
        progress=lambda step, total, loss: calls.append((step, total)),
    )
    assert again.adapter_sha256 == tiny_adapter.adapter_sha256
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_merged_weights_match_adapter_logits(tiny_adapter, tmp_path):  # noqa: F811
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base_path = json.loads((tiny_adapter.adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"]
    result = merge_adapter(tiny_adapter.adapter_dir, tmp_path / "merged")
    ids = torch.tensor([[1, 9690, 198, 4093, 2, 198, 1, 520, 9531, 198]])
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32).eval()
        base_logits = base(ids).logits
        adapted = PeftModel.from_pretrained(base, tiny_adapter.adapter_dir).eval()
        adapter_logits = adapted(ids).logits
        merged_logits = AutoModelForCausalLM.from_pretrained(result.path, dtype=torch.float32).eval()(ids).logits
    assert not torch.allclose(adapter_logits, base_logits, atol=1e-4)
    torch.testing.assert_close(merged_logits, adapter_logits, atol=1e-4, rtol=0)
    assert result.sha256 != result.base_sha256
    assert (result.path / "tokenizer_config.json").is_file()
    assert not any("lora" in p.name for p in result.path.iterdir())
