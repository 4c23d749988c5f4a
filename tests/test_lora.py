"""LoRA training on the tiny model: label masking, batching, loss, determinism, merging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from modeling_fixtures import NOTES, sft_records, tiny_adapter, tiny_base  # noqa: F401  (pytest fixtures)

from clinical.modeling.lora import (
    IGNORE_INDEX,
    SUMMARY_FILENAME,
    LoraTrainingConfig,
    assistant_loss,
    collate,
    encode_example,
    latest_checkpoint,
    length_bucketed_batches,
    lr_lambda,
    micro_batch_plan,
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


def test_assistant_loss_matches_the_models_loss_with_the_lm_head_on_labelled_positions_only(tiny_base, tokenizer):  # noqa: F811
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base.path, dtype=torch.float32)
    examples = [
        encode_example(tokenizer, chat_messages(text, ENTITIES), 1024) for text in ("Pt on aspirin.", "x " * 40)
    ]
    batch = collate(examples, tokenizer.pad_token_id, pad_to=128)
    seen = []
    handle = model.lm_head.register_forward_hook(lambda module, args, out: seen.append(args[0].shape[0]))
    loss, n = assistant_loss(model, batch)
    handle.remove()
    assert n == int((batch["labels"][:, 1:] != IGNORE_INDEX).sum()) and seen == [n]  # one row per labelled token
    torch.testing.assert_close(loss, model(**batch).loss, atol=1e-5, rtol=0)


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


# --- checkpoints, resume, batching, schedules -------------------------------------------------------

RESUME_SETTINGS = dict(
    max_steps=6,
    epochs=10,
    batch_size=2,
    learning_rate=1e-2,
    dropout=0.1,
    seed=3,
    lr_scheduler="linear",
    warmup_steps=1,
    checkpoint_every=2,
    keep_checkpoints=2,
)

# Runs train_lora in a child process, slowed by a sleep in the progress callback so that the test
# can SIGKILL it between two checkpoints.
DRIVER = """
import sys, time
sys.path.insert(0, {tests!r})
from modeling_fixtures import sft_records
from clinical.modeling.lora import LoraTrainingConfig, train_lora
config = LoraTrainingConfig(**{settings!r})
train_lora({base!r}, sft_records(), {out!r}, config, progress=lambda step, total, loss: time.sleep(0.25))
"""


def test_micro_batch_plan_and_schedules():
    lengths = [5, 9, 7, 3, 8]
    plan = micro_batch_plan(lengths, LoraTrainingConfig(batch_size=2, grad_accum=2), total_steps=4)
    assert len(plan) == 8
    assert sorted(i for batch in plan[:3] for i in batch) == list(range(5))  # one epoch, then the next
    assert plan == micro_batch_plan(lengths, LoraTrainingConfig(batch_size=2, grad_accum=2), total_steps=4)
    shuffled = micro_batch_plan(lengths, LoraTrainingConfig(batch_size=2, batching="shuffle", seed=1), 3)
    assert sorted(i for batch in shuffled for i in batch) == list(range(5))
    linear = lr_lambda(LoraTrainingConfig(lr_scheduler="linear", warmup_steps=1), total_steps=5)
    assert [round(linear(s), 3) for s in range(6)] == [0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    cosine = lr_lambda(LoraTrainingConfig(lr_scheduler="cosine"), total_steps=4)
    assert [round(cosine(s), 3) for s in range(5)] == [1.0, 0.854, 0.5, 0.146, 0.0]
    assert collate([{"input_ids": [5], "labels": [5]}], 0, pad_to=3)["attention_mask"].tolist() == [[1, 0, 0]]


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [("precision", "fp16", "precision must be one of"), ("batching", "pack", "batching"), ("batch_size", 0, ">= 1")],
)
def test_config_rejects_bad_values(field, value, match):
    with pytest.raises(ValueError, match=match):
        LoraTrainingConfig(**{field: value})


@pytest.fixture(scope="module")
def reference_run(tiny_base, tmp_path_factory):  # noqa: F811
    """An uninterrupted run with checkpoints every 2 of 6 steps, dropout and a linear schedule."""
    return train_lora(
        tiny_base.path, sft_records(), tmp_path_factory.mktemp("reference"), LoraTrainingConfig(**RESUME_SETTINGS)
    )


class CrashError(Exception):
    pass


def test_crashed_run_resumes_in_process(tiny_base, reference_run, tmp_path):  # noqa: F811
    def crash_at_step_5(step, total, loss):
        if step == 5:
            raise CrashError

    with pytest.raises(CrashError):
        train_lora(
            tiny_base.path, sft_records(), tmp_path, LoraTrainingConfig(**RESUME_SETTINGS), progress=crash_at_step_5
        )
    assert latest_checkpoint(tmp_path).name == "step-000004"
    resumed = train_lora(tiny_base.path, sft_records(), tmp_path, LoraTrainingConfig(**RESUME_SETTINGS))
    assert resumed.resumed_from_step == 4 and resumed.losses == reference_run.losses
    assert resumed.adapter_sha256 == reference_run.adapter_sha256


@pytest.mark.slow  # a child process that imports torch/transformers/peft: ~15-50 s on this machine
def test_killed_run_resumes_from_its_last_checkpoint(tiny_base, reference_run, tmp_path):  # noqa: F811
    reference = reference_run
    tmp_path.joinpath("reference").symlink_to(reference.adapter_dir)
    assert reference.steps == 6 and reference.resumed_from_step == 0
    kept = sorted(p.name for p in (tmp_path / "reference" / "checkpoints").iterdir())
    assert kept == ["step-000002", "step-000004"]  # keep_checkpoints=2; no checkpoint at the last step
    assert {p.name for p in (tmp_path / "reference" / "checkpoints" / "step-000004").iterdir()} >= {
        "adapter_model.safetensors",
        "optimizer.rank0.pt",
        "scheduler.pt",
        "rng.rank0.pt",
        "trainer_state.json",
    }

    out = tmp_path / "killed"
    script = DRIVER.format(
        tests=str(Path(__file__).parent), settings=RESUME_SETTINGS, base=str(tiny_base.path), out=str(out)
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while latest_checkpoint(out) is None and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    _, err = child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, err.decode()[-2000:]
    checkpoint = latest_checkpoint(out)
    assert checkpoint is not None and not (out / "adapter_model.safetensors").exists()
    killed_at = json.loads((checkpoint / "trainer_state.json").read_text())["step"]
    assert 0 < killed_at < 6

    resumed = train_lora(tiny_base.path, sft_records(), out, LoraTrainingConfig(**RESUME_SETTINGS))
    assert resumed.resumed_from_step == killed_at
    assert resumed.steps == 6 and resumed.losses == reference.losses
    assert resumed.adapter_sha256 == reference.adapter_sha256
    assert resumed.train_tokens == reference.train_tokens

    other = LoraTrainingConfig(**{**RESUME_SETTINGS, "learning_rate": 5e-3})
    with pytest.raises(ValueError, match="another config"):
        train_lora(tiny_base.path, sft_records(), out, other)


def test_module_entry_point_trains_from_jsonl(tiny_base, tmp_path, capsys):  # noqa: F811
    from clinical.modeling.lora import main

    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": text, "entities": ents}) + "\n" for text, ents in NOTES))
    code = main(
        [
            "--base",
            str(tiny_base.path),
            "--train",
            str(train),
            "--out",
            str(tmp_path / "a"),
            "--set",
            "max_steps=2",
            "--set",
            "batching=pad_max",
            "--set",
            "max_length=256",
            "--set",
            "epochs=5",
            "--set",
            "precision=fp32",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and len(summary["adapter_sha256"]) == 64
    trained = json.loads((tmp_path / "a" / SUMMARY_FILENAME).read_text())
    assert trained["padding_fraction"] > 0.3 and trained["bf16_autocast"] is False
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "x", "entities": []}) + "\n{not json\n")
    assert main(["--base", str(tiny_base.path), "--train", str(bad), "--out", str(tmp_path / "b")]) == 2
    assert "bad.jsonl line 2: JSONDecodeError" in capsys.readouterr().err


def test_dagster_run_config_covers_every_hyperparameter_and_names_a_stable_folder():
    from clinical_assets.training import LoraConfig, adapter_dir_name

    assert set(LoraConfig.model_fields) == set(LoraTrainingConfig.__dataclass_fields__) - {"log_every"}
    config = LoraConfig(learning_rate=1e-3, target_modules=["q_proj"], batching="shuffle", precision="fp32")
    training = config.training_config()
    assert training.target_modules == ("q_proj",) and training.batching == "shuffle" and training.precision == "fp32"
    name = adapter_dir_name("d" * 64, "b" * 64, config)
    retry = LoraConfig(**{**config.model_dump(), "checkpoint_every": 3, "keep_checkpoints": 5})
    assert adapter_dir_name("d" * 64, "b" * 64, retry) == name  # checkpoint settings do not move the folder
    assert adapter_dir_name("d" * 64, "b" * 64, LoraConfig(learning_rate=2e-3)) != name
    assert adapter_dir_name("e" * 64, "b" * 64, config) != name and adapter_dir_name("d" * 64, "c" * 64, config) != name
    with pytest.raises(ValueError, match="precision must be one of"):
        LoraConfig(precision="fp8").training_config()


def test_accelerate_fsdp_config_and_production_hyperparameters_load():
    # Parsed by accelerate's own loader; launching it needs CUDA GPUs (docs/TRAINING.md), not exercised here.
    from accelerate.commands.config.config_args import load_config_from_file

    deploy = Path(__file__).resolve().parents[1] / "deploy" / "accelerate"
    config = load_config_from_file(str(deploy / "fsdp.yaml"))
    assert config.distributed_type == "FSDP" and config.mixed_precision == "bf16" and config.num_processes > 1
    assert config.fsdp_config["fsdp_transformer_layer_cls_to_wrap"] == "LlamaDecoderLayer"
    production = LoraTrainingConfig(**json.loads((deploy / "lora_70b.json").read_text()))
    assert production.gradient_checkpointing and production.checkpoint_every > 0
