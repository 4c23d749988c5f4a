"""LoRA fine-tuning of a causal LM on chat-format SFT records, as one linear function.

    from clinical.modeling.lora import LoraTrainingConfig, train_lora
    result = train_lora("cache/smollm2-135m-instruct", train_records, "adapters/run1",
                        LoraTrainingConfig(max_steps=20), validation_records=val_records)

Reading order: config, data (chat template -> token ids, loss only on the assistant reply, batches of
similar length), model (base + LoRA on the attention projections), loop (AdamW, optional bf16
autocast, gradient accumulation), checkpoint (peft adapter + training_summary.json).
Benchmark: `.venv/bin/python benchmarks/lora_bench.py`.
"""

from __future__ import annotations

import json
import math
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from clinical.ids import sha256_file

IGNORE_INDEX = -100
ADAPTER_WEIGHTS = "adapter_model.safetensors"
SUMMARY_FILENAME = "training_summary.json"


@dataclass
class LoraTrainingConfig:
    """Hyperparameters of one LoRA run.

    r, alpha, dropout: LoRA rank, scaling numerator (scale = alpha / r) and dropout on the LoRA input.
    target_modules: names of the linear layers that get adapters.
    learning_rate: constant AdamW learning rate. weight_decay: AdamW weight decay.
    max_steps: cap on optimizer steps (0 = no cap); training stops at max_steps or after `epochs`
        passes over the data, whichever comes first.
    batch_size: examples per forward pass; grad_accum: forward passes per optimizer step.
    max_length: examples are truncated to this many tokens (examples left with no assistant token
        after truncation are skipped).
    seed: seeds LoRA init, dropout and batch order; a fixed seed gives the same adapter on CPU.
    bf16_autocast: run forward/backward under bf16 autocast where the hardware has native bf16
        (CUDA, or CPUs with AVX512_BF16/AMX); ignored elsewhere.
    gradient_checkpointing: trade compute for memory (large base models).
    checkpoint_every: save the adapter every this many steps under out_dir/checkpoints (0 = never).
    log_every: record the loss every this many steps (and call `progress`).
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    max_steps: int = 20
    epochs: int = 1
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 512
    seed: int = 0
    bf16_autocast: bool = True
    gradient_checkpointing: bool = False
    checkpoint_every: int = 0
    log_every: int = 1


@dataclass
class TrainResult:
    """Outcome of train_lora.

    adapter_dir: peft adapter directory (adapter_config.json, adapter_model.safetensors,
        training_summary.json). adapter_sha256: sha256 of adapter_model.safetensors.
    losses: (optimizer step, training loss) pairs every `log_every` steps.
    validation_loss: token-weighted mean loss on the validation records (None without them).
    train_tokens: non-padding tokens processed in training; tokens_per_s: train_tokens / seconds.
    seconds: wall time of the training loop; peak_rss_mb: peak resident memory of this process.
    """

    adapter_dir: Path
    adapter_sha256: str
    losses: list[tuple[int, float]]
    validation_loss: float | None
    steps: int
    train_tokens: int
    tokens_per_s: float
    seconds: float
    peak_rss_mb: float
    n_examples: int = 0
    n_skipped: int = 0
    n_truncated: int = 0
    bf16_autocast: bool = False
    device: str = "cpu"
    config: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["adapter_dir"] = str(self.adapter_dir)
        out["losses"] = [[step, loss] for step, loss in self.losses]
        return out


def cpu_has_native_bf16() -> bool:
    """True where the CPU executes bf16 natively (AVX512_BF16 or AMX); emulated bf16 is slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def encode_example(tokenizer, messages: Sequence[dict[str, str]], max_length: int) -> dict[str, list[int]]:
    """Token ids and labels of one chat example; labels are IGNORE_INDEX except on the assistant reply.

    messages: system/user/assistant turns (clinical.schema.chat_messages with entities); the last
        one must be the assistant turn. max_length: truncate to this many tokens.
    The reply's labels run through the end-of-turn token so the model learns to stop; the template's
    trailing newline after it is not trained.
    """
    if not messages or messages[-1]["role"] != "assistant":
        raise ValueError("the last message of a training example must be the assistant turn")
    prompt_ids = _chat_ids(tokenizer, messages[:-1], add_generation_prompt=True)
    full_ids = _chat_ids(tokenizer, messages, add_generation_prompt=False)
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise ValueError("chat template does not render the prompt as a prefix of the full conversation")
    labels = [IGNORE_INDEX] * len(prompt_ids) + full_ids[len(prompt_ids) :]
    eos = tokenizer.eos_token_id
    reply = full_ids[len(prompt_ids) :]
    if eos in reply:
        last = len(prompt_ids) + len(reply) - 1 - reply[::-1].index(eos)
        labels[last + 1 :] = [IGNORE_INDEX] * (len(labels) - last - 1)
    return {"input_ids": full_ids[:max_length], "labels": labels[:max_length]}


def length_bucketed_batches(lengths: Sequence[int], batch_size: int, generator: torch.Generator) -> list[list[int]]:
    """Indices grouped into batches of similar length (little padding), batches in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    perm = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in perm]


def collate(examples: Sequence[dict[str, list[int]]], pad_token_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch: input_ids with pad_token_id, attention_mask 0 and labels IGNORE_INDEX on padding."""
    width = max(len(e["input_ids"]) for e in examples)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        input_ids[row, :n] = torch.tensor(example["input_ids"])
        labels[row, :n] = torch.tensor(example["labels"])
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def train_lora(
    base_model_path: str | Path,
    train_records: Sequence[dict[str, Any]],
    out_dir: str | Path,
    config: LoraTrainingConfig | None = None,
    validation_records: Sequence[dict[str, Any]] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter on `train_records` and save it to `out_dir`.

    base_model_path: local Hugging Face model directory (see base_model.resolve_base_model).
    train_records / validation_records: SFT records; only their "messages" (system, user, assistant)
        are used. Nothing from them is logged.
    out_dir: adapter directory to write (created; files in it are overwritten).
    config: hyperparameters (defaults: LoraTrainingConfig()).
    progress: called as progress(step, total_steps, loss) every `log_every` steps.
    """
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = config or LoraTrainingConfig()
    base_model_path = Path(base_model_path).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        use_bf16 = config.bf16_autocast and torch.cuda.is_bf16_supported()
    else:
        use_bf16 = config.bf16_autocast and cpu_has_native_bf16()

    # data
    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    train_examples, n_skipped, n_truncated = _encode_records(tokenizer, train_records, config.max_length)
    if not train_examples:
        raise ValueError("no training example has an assistant token within max_length")
    val_examples, _, _ = _encode_records(tokenizer, validation_records or [], config.max_length)
    lengths = [len(e["input_ids"]) for e in train_examples]
    steps_per_epoch = math.ceil(math.ceil(len(train_examples) / config.batch_size) / config.grad_accum)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps > 0:
        total_steps = min(total_steps, config.max_steps)

    # model
    model = AutoModelForCausalLM.from_pretrained(
        base_model_path, dtype=torch.bfloat16 if device == "cuda" else torch.float32
    ).to(device)
    model.config.use_cache = False
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    lora_config = LoraConfig(
        r=config.r,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora_config)
    model.peft_config["default"].base_model_name_or_path = str(base_model_path)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)

    # loop
    model.train()
    losses: list[tuple[int, float]] = []
    train_tokens = 0
    step = 0
    micro = 0
    window_loss = 0.0
    t0 = time.perf_counter()
    while step < total_steps:
        for batch_indices in length_bucketed_batches(lengths, config.batch_size, generator):
            batch = collate([train_examples[i] for i in batch_indices], pad_token_id)
            batch = {k: v.to(device) for k, v in batch.items()}
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
                loss = model(**batch).loss
            (loss / config.grad_accum).backward()
            window_loss += loss.item() / config.grad_accum
            train_tokens += int(batch["attention_mask"].sum())
            micro += 1
            if micro % config.grad_accum:
                continue
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % config.log_every == 0 or step == total_steps:
                losses.append((step, window_loss))
                if progress is not None:
                    progress(step, total_steps, window_loss)
            window_loss = 0.0
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total_steps:
                model.save_pretrained(out_dir / "checkpoints" / f"step-{step:06d}")
            if step >= total_steps:
                break
    seconds = time.perf_counter() - t0
    validation_loss = _mean_loss(model, val_examples, config.batch_size, pad_token_id, device, use_bf16)

    # checkpoint
    model.save_pretrained(out_dir)
    result = TrainResult(
        adapter_dir=out_dir,
        adapter_sha256=sha256_file(out_dir / ADAPTER_WEIGHTS),
        losses=losses,
        validation_loss=validation_loss,
        steps=step,
        train_tokens=train_tokens,
        tokens_per_s=train_tokens / seconds if seconds > 0 else 0.0,
        seconds=seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        n_examples=len(train_examples),
        n_skipped=n_skipped,
        n_truncated=n_truncated,
        bf16_autocast=use_bf16,
        device=device,
        config={**asdict(config), "target_modules": list(config.target_modules)},
    )
    summary = {**result.as_dict(), "base_model_path": str(base_model_path)}
    (out_dir / SUMMARY_FILENAME).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return result


def _chat_ids(tokenizer, messages, add_generation_prompt: bool) -> list[int]:
    # transformers 5 returns a BatchEncoding from apply_chat_template(tokenize=True).
    encoded = tokenizer.apply_chat_template(
        list(messages), add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True
    )
    return list(encoded["input_ids"])


def _encode_records(tokenizer, records, max_length: int) -> tuple[list[dict[str, list[int]]], int, int]:
    examples, skipped, truncated = [], 0, 0
    for record in records:
        full = encode_example(tokenizer, record["messages"], max_length=1 << 30)
        example = {"input_ids": full["input_ids"][:max_length], "labels": full["labels"][:max_length]}
        truncated += len(full["input_ids"]) > max_length
        # A window with fewer than two tokens or no trained label gives no loss term.
        if len(example["input_ids"]) < 2 or all(x == IGNORE_INDEX for x in example["labels"][1:]):
            skipped += 1
            continue
        examples.append(example)
    return examples, skipped, truncated


@torch.no_grad()
def _mean_loss(model, examples, batch_size: int, pad_token_id: int, device: str, use_bf16: bool) -> float | None:
    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        batch = collate([examples[i] for i in order[start : start + batch_size]], pad_token_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=use_bf16):
            loss = model(**batch).loss
        n = int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
        total += loss.item() * n
        count += n
    model.train()
    return total / count if count else None
