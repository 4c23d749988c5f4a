"""LoRA fine-tuning of a causal LM on chat-format SFT records, as one linear function.

    from clinical.modeling.lora import LoraTrainingConfig, train_lora
    result = train_lora("cache/smollm2-135m-instruct", train_records, "adapters/run1",
                        LoraTrainingConfig(max_steps=20), validation_records=val_records)

Reading order: config, data (chat template -> token ids, loss only on the assistant reply, batches of
similar length), model (base + LoRA on the attention projections), loop (AdamW, optional bf16
autocast, gradient accumulation; the LM head runs only where there is a label), checkpoint (peft
adapter + training_summary.json).
Benchmark: `.venv/bin/python benchmarks/lora_bench.py`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import shutil
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


PRECISIONS = ("auto", "bf16", "fp32")
BATCHINGS = ("bucket", "shuffle", "pad_max")
LR_SCHEDULERS = ("constant", "linear", "cosine")
CHECKPOINTS_DIRNAME = "checkpoints"
TRAINER_STATE = "trainer_state.json"
# Fields that change neither the adapter nor the data order: a resumed run may differ in these.
NOT_FINGERPRINTED = ("checkpoint_every", "keep_checkpoints", "resume", "log_every")


@dataclass
class LoraTrainingConfig:
    """Hyperparameters of one LoRA run.

    r, alpha, dropout: LoRA rank, scaling numerator (scale = alpha / r) and dropout on the LoRA input.
    target_modules: names of the linear layers that get adapters.
    learning_rate: peak AdamW learning rate. weight_decay: AdamW weight decay.
    lr_scheduler: "constant", "linear" (decay to 0) or "cosine" (to 0), after `warmup_steps` of linear warm-up.
    max_steps: cap on optimizer steps (0 = no cap); training stops at max_steps or after `epochs`
        passes over the data, whichever comes first.
    batch_size: examples per forward pass (per process); grad_accum: forward passes per optimizer step.
    max_length: examples are truncated to this many tokens (examples left with no assistant token
        after truncation are skipped).
    batching: "bucket" (batches of similar length, random batch order, padding to the longest in the
        batch: least padding), "shuffle" (random batches, padding to the longest in the batch) or
        "pad_max" (random batches padded to max_length: the plain baseline). Packing several examples
        into one row is not implemented: with the assistant-only loss mask, bucketing gets most of
        its gain without cross-example attention masks.
    seed: seeds LoRA init, dropout and batch order; a fixed seed gives the same adapter on CPU.
    precision: "auto" = bf16 autocast where the hardware has native bf16 (CUDA, or CPUs with
        AVX512_BF16/AMX; emulated bf16 is slower than fp32, so it is not used there), "bf16" = bf16
        autocast wherever torch allows it, "fp32" = no autocast. The base weights are loaded in fp32
        on CPU and bf16 on CUDA; the LoRA weights and optimizer state stay fp32 in every mode.
    gradient_checkpointing: trade compute for memory (large base models).
    checkpoint_every: every this many optimizer steps save a checkpoint (adapter, optimizer,
        scheduler, RNG states, step) under out_dir/checkpoints/step-NNNNNN (0 = never);
        keep_checkpoints: how many of the newest checkpoints to keep.
    resume: continue from the newest checkpoint under out_dir when its fingerprint (this config
        except the checkpoint/log fields, the base model and the encoded data) matches; a mismatch
        raises instead of mixing two runs.
    log_every: record the loss every this many steps (and call `progress`).
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    lr_scheduler: str = "constant"
    warmup_steps: int = 0
    max_steps: int = 20
    epochs: int = 1
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 512
    batching: str = "bucket"
    seed: int = 0
    precision: str = "auto"
    gradient_checkpointing: bool = False
    checkpoint_every: int = 0
    keep_checkpoints: int = 2
    resume: bool = True
    log_every: int = 1

    def __post_init__(self) -> None:
        self.target_modules = tuple(self.target_modules)
        for name, allowed in (("precision", PRECISIONS), ("batching", BATCHINGS), ("lr_scheduler", LR_SCHEDULERS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"LoRA config {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        for name in ("r", "alpha", "batch_size", "grad_accum", "max_length", "epochs", "log_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"LoRA config {name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_steps", "warmup_steps", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"LoRA config {name} must be >= 0, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0 or self.learning_rate <= 0:
            raise ValueError("LoRA config needs 0 <= dropout < 1 and learning_rate > 0")
        if not self.target_modules:
            raise ValueError("LoRA config target_modules must name at least one module")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "target_modules": list(self.target_modules)}


@dataclass
class TrainResult:
    """Outcome of train_lora.

    adapter_dir: peft adapter directory (adapter_config.json, adapter_model.safetensors,
        training_summary.json). adapter_sha256: sha256 of adapter_model.safetensors.
    losses: (optimizer step, training loss) pairs every `log_every` steps.
    validation_loss: token-weighted mean loss on the validation records (None without them).
    train_tokens: non-padding tokens processed in training (all processes, all sessions of a resumed
        run); tokens_per_s: tokens processed by this session / seconds.
    seconds: wall time of this session's training loop; peak_rss_mb: peak resident memory of this process.
    resumed_from_step: the checkpoint step this session started from (0 = from scratch).
    fingerprint: sha256 of the config (minus checkpoint/log fields), base model and encoded data.
    padding_fraction: share of the processed token slots (this session) that were padding.
    processes: data-parallel processes (accelerate launch); 1 here.
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
    resumed_from_step: int = 0
    fingerprint: str = ""
    padding_fraction: float = 0.0
    processes: int = 1

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


def collate(
    examples: Sequence[dict[str, list[int]]], pad_token_id: int, pad_to: int | None = None
) -> dict[str, torch.Tensor]:
    """Right-pad a batch: input_ids with pad_token_id, attention_mask 0 and labels IGNORE_INDEX on padding.

    pad_to: pad every row to this width (the plain fixed-length baseline) instead of the longest row.
    """
    width = max(len(e["input_ids"]) for e in examples)
    width = max(width, pad_to or 0)
    input_ids = torch.full((len(examples), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example["input_ids"])
        input_ids[row, :n] = torch.tensor(example["input_ids"])
        labels[row, :n] = torch.tensor(example["labels"])
        attention_mask[row, :n] = 1
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def assistant_loss(model, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Mean next-token cross-entropy over the labelled (assistant) positions, and their count.

    The same value as the model's own `labels=` loss, but the LM head runs only at the positions
    whose next token has a label (`logits_to_keep` as a boolean mask): the prompt's logits (about 60 %
    of the tokens of a MACCROBAT chunk, each a 49,152-wide vocabulary row for SmolLM2) are never
    computed, stored or backpropagated. It goes through the model's full forward, so accelerate /
    FSDP wrappers see an ordinary call.
    """
    labels = batch["labels"]
    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != IGNORE_INDEX
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep).logits
    targets = labels[:, 1:][keep[:, :-1]]
    if logits.dim() != 2 or logits.shape[0] != targets.numel():
        raise ValueError(
            f"{type(model).__name__} ignored a boolean logits_to_keep mask (logits {tuple(logits.shape)}): "
            "a causal LM of transformers >= 5 is needed"
        )
    return torch.nn.functional.cross_entropy(logits.float(), targets), targets.numel()


def micro_batch_plan(
    lengths: Sequence[int], config: LoraTrainingConfig, total_steps: int, processes: int = 1
) -> list[list[int]]:
    """Every micro-batch of the run, in order, as example indices: enough epochs for
    total_steps * grad_accum * processes micro-batches, each epoch ordered by `config.batching` from
    one generator seeded with config.seed. The whole plan depends only on the data and the config,
    so a resumed run replays exactly the batches it had not yet seen."""
    generator = torch.Generator().manual_seed(config.seed)
    needed = total_steps * config.grad_accum * processes
    plan: list[list[int]] = []
    while len(plan) < needed:
        if config.batching == "bucket":
            plan.extend(length_bucketed_batches(lengths, config.batch_size, generator))
        else:
            order = torch.randperm(len(lengths), generator=generator).tolist()
            plan.extend(order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size))
    return plan[:needed]


def lr_lambda(config: LoraTrainingConfig, total_steps: int) -> Callable[[int], float]:
    """Learning-rate multiplier per optimizer step: linear warm-up, then constant, linear or cosine decay."""

    def factor(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / (config.warmup_steps + 1)
        if config.lr_scheduler == "constant":
            return 1.0
        span = max(1, total_steps - config.warmup_steps)
        progress = min(1.0, (step - config.warmup_steps) / span)
        if config.lr_scheduler == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def latest_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint directory under out_dir/checkpoints (half-written ones end in .tmp)."""
    root = Path(out_dir) / CHECKPOINTS_DIRNAME
    done = sorted(p for p in root.glob("step-*") if p.is_dir() and not p.name.endswith(".tmp"))
    done = [p for p in done if (p / TRAINER_STATE).is_file()]
    return done[-1] if done else None


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
    out_dir: adapter directory to write (created; files in it are overwritten). Checkpoints go to
        out_dir/checkpoints; with config.resume a restarted run continues from the newest one.
    config: hyperparameters (defaults: LoraTrainingConfig()).
    progress: called as progress(step, total_steps, loss) every `log_every` steps (main process only).

    Under `accelerate launch` (see deploy/accelerate/ and docs/TRAINING.md) the same function runs
    data-parallel or FSDP across processes: each process takes every n-th micro-batch of the plan.
    That path needs GPUs and is not exercised on this CPU-only machine.
    """
    from accelerate import Accelerator, DistributedType
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    config = config or LoraTrainingConfig()
    base_model_path = Path(base_model_path).resolve()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    accelerator = Accelerator()
    device = accelerator.device
    rank, processes = accelerator.process_index, accelerator.num_processes
    torch.manual_seed(config.seed)
    use_bf16 = _use_bf16(config.precision, device.type)

    # data
    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    train_examples, n_skipped, n_truncated = _encode_records(tokenizer, train_records, config.max_length)
    if not train_examples:
        raise ValueError("no training example has an assistant token within max_length")
    val_examples, _, _ = _encode_records(tokenizer, validation_records or [], config.max_length)
    lengths = [len(e["input_ids"]) for e in train_examples]
    batches_per_epoch = math.ceil(len(train_examples) / config.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / (config.grad_accum * processes))
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps > 0:
        total_steps = min(total_steps, config.max_steps)
    plan = micro_batch_plan(lengths, config, total_steps, processes)
    fingerprint = _fingerprint(config, base_model_path, train_examples, processes)
    pad_to = config.max_length if config.batching == "pad_max" else None

    # model
    model = AutoModelForCausalLM.from_pretrained(
        base_model_path, dtype=torch.bfloat16 if device.type == "cuda" else torch.float32
    )
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

    # resume: adapter weights go in before accelerate wraps the model, optimizer state after
    checkpoint = latest_checkpoint(out_dir) if config.resume else None
    state: dict[str, Any] = {"step": 0, "losses": [], "train_tokens": 0}
    if checkpoint is not None:
        state = json.loads((checkpoint / TRAINER_STATE).read_text())
        if state["fingerprint"] != fingerprint:
            raise ValueError(
                f"{checkpoint} was written by a run with another config, base model or data "
                f"(fingerprint {state['fingerprint'][:12]} != {fingerprint[:12]}): use another output "
                "directory or resume=False"
            )
        _load_adapter_weights(model, checkpoint)
    if accelerator.distributed_type == DistributedType.FSDP:  # multi-GPU only: not exercised on this CPU machine
        from peft.utils.other import fsdp_auto_wrap_policy

        # LoRA layers in FSDP units of their own: trainable and frozen (and fp32 and bf16) weights never
        # share a flat parameter.
        accelerator.state.fsdp_plugin.auto_wrap_policy = fsdp_auto_wrap_policy(model)
    model = accelerator.prepare(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = accelerator.prepare(
        torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(config, total_steps))
    if checkpoint is not None:
        optimizer.load_state_dict(torch.load(checkpoint / f"optimizer.rank{rank}.pt", weights_only=True))
        scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt", weights_only=True))
        _set_rng_state(torch.load(checkpoint / f"rng.rank{rank}.pt", weights_only=False))

    # loop
    model.train()
    step = start_step = int(state["step"])
    losses: list[tuple[int, float]] = [(int(a), float(b)) for a, b in state["losses"]]
    train_tokens = int(state["train_tokens"])
    session_tokens = session_slots = 0
    t0 = time.perf_counter()
    while step < total_steps:
        window_loss = 0.0
        for k in range(config.grad_accum):
            index = (step * config.grad_accum + k) * processes + rank
            batch = collate([train_examples[i] for i in plan[index]], pad_token_id, pad_to=pad_to)
            batch = {key: value.to(device) for key, value in batch.items()}
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_bf16):
                loss, _ = assistant_loss(model, batch)
            accelerator.backward(loss / config.grad_accum)
            window_loss += loss.item() / config.grad_accum
            session_tokens += int(batch["attention_mask"].sum())
            session_slots += batch["attention_mask"].numel()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        if processes > 1:  # the mean loss over all processes
            window_loss = float(accelerator.reduce(torch.tensor(window_loss, device=device), reduction="mean"))
        if step % config.log_every == 0 or step == total_steps:
            losses.append((step, window_loss))
            if progress is not None and accelerator.is_main_process:
                progress(step, total_steps, window_loss)
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < total_steps:
            _save_checkpoint(
                accelerator,
                model,
                optimizer,
                scheduler,
                out_dir,
                config,
                {
                    "step": step,
                    "losses": losses,
                    "train_tokens": train_tokens + session_tokens * processes,
                    "fingerprint": fingerprint,
                },
            )
    seconds = time.perf_counter() - t0
    train_tokens += session_tokens * processes
    validation_loss = _mean_loss(model, val_examples, config.batch_size, pad_token_id, device, use_bf16)

    # adapter
    _save_adapter(accelerator, model, out_dir)
    result = TrainResult(
        adapter_dir=out_dir,
        adapter_sha256=sha256_file(out_dir / ADAPTER_WEIGHTS) if accelerator.is_main_process else "",
        losses=losses,
        validation_loss=validation_loss,
        steps=step,
        train_tokens=train_tokens,
        tokens_per_s=session_tokens * processes / seconds if seconds > 0 else 0.0,
        seconds=seconds,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        n_examples=len(train_examples),
        n_skipped=n_skipped,
        n_truncated=n_truncated,
        bf16_autocast=use_bf16,
        device=str(device),
        config=config.as_dict(),
        resumed_from_step=start_step,
        fingerprint=fingerprint,
        padding_fraction=1 - session_tokens / session_slots if session_slots else 0.0,
        processes=processes,
    )
    if accelerator.is_main_process:
        summary = {**result.as_dict(), "base_model_path": str(base_model_path)}
        (out_dir / SUMMARY_FILENAME).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return result


def _use_bf16(precision: str, device_type: str) -> bool:
    if precision == "fp32":
        return False
    if device_type == "cuda":  # GPU path: not exercised on this CPU-only machine
        return torch.cuda.is_bf16_supported()
    return precision == "bf16" or cpu_has_native_bf16()


def _fingerprint(config: LoraTrainingConfig, base_model_path: Path, examples, processes: int) -> str:
    settings = {k: v for k, v in config.as_dict().items() if k not in NOT_FINGERPRINTED}
    digest = hashlib.sha256()
    digest.update(json.dumps({"config": settings, "base": str(base_model_path), "processes": processes}).encode())
    for example in examples:
        digest.update(json.dumps([example["input_ids"], example["labels"]]).encode())
    return digest.hexdigest()


def _save_adapter(accelerator, model, directory: Path) -> None:
    # get_state_dict gathers FSDP shards (a collective: every process calls it); peft keeps the LoRA keys.
    state_dict = accelerator.get_state_dict(model)
    accelerator.unwrap_model(model).save_pretrained(
        directory, state_dict=state_dict, is_main_process=accelerator.is_main_process
    )


def _load_adapter_weights(model, checkpoint: Path) -> None:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    result = set_peft_model_state_dict(model, load_file(checkpoint / ADAPTER_WEIGHTS))
    missing = [k for k in result.missing_keys if "lora_" in k]
    if result.unexpected_keys or missing:
        raise ValueError(f"{checkpoint} does not match the LoRA layout of this config")


def _rng_state() -> dict[str, Any]:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_checkpoint(accelerator, model, optimizer, scheduler, out_dir: Path, config, state: dict[str, Any]) -> None:
    """Write out_dir/checkpoints/step-NNNNNN atomically: into a .tmp directory, renamed when complete,
    so a run killed mid-write leaves the previous checkpoint as the newest complete one."""
    root = out_dir / CHECKPOINTS_DIRNAME
    final = root / f"step-{state['step']:06d}"
    tmp = root / f"{final.name}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    _save_adapter(accelerator, model, tmp)
    rank = accelerator.process_index
    torch.save(optimizer.state_dict(), tmp / f"optimizer.rank{rank}.pt")
    torch.save(_rng_state(), tmp / f"rng.rank{rank}.pt")
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
        (tmp / TRAINER_STATE).write_text(json.dumps(state, indent=1) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in sorted(p for p in root.glob("step-*") if not p.name.endswith(".tmp"))[: -config.keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


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
def _mean_loss(model, examples, batch_size: int, pad_token_id: int, device, use_bf16: bool) -> float | None:
    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["input_ids"]))
    for start in range(0, len(order), batch_size):
        batch = collate([examples[i] for i in order[start : start + batch_size]], pad_token_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        with torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16, enabled=use_bf16):
            loss, n = assistant_loss(model, batch)
        total += loss.item() * n
        count += n
    model.train()
    return total / count if count else None


def load_records(path: str | Path) -> list[dict[str, Any]]:
    """SFT records from JSONL: each line `{"messages": [...]}` or `{"text": str, "entities": [...]}`.
    Raises ValueError naming the line of the first malformed record (never its content)."""
    from clinical.schema import SchemaError, chat_messages

    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if isinstance(record, dict) and isinstance(record.get("messages"), list):
                    records.append({"messages": record["messages"]})
                elif isinstance(record, dict) and isinstance(record.get("text"), str) and record["text"].strip():
                    records.append({"messages": chat_messages(record["text"], list(record["entities"]))})
                else:
                    raise ValueError("needs 'messages' or 'text' and 'entities'")
            except (json.JSONDecodeError, SchemaError, ValueError, KeyError, TypeError) as exc:
                reason = type(exc).__name__ if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise ValueError(f"{path} line {number}: {reason}") from None
    return records


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m clinical.modeling.lora` (or under `accelerate launch`): train_lora from files.

    Prints progress to stderr and one JSON summary (hashes, steps, timings; no note text) to stdout.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m clinical.modeling.lora", description=main.__doc__)
    parser.add_argument("--base", required=True, help="local Hugging Face base model directory")
    parser.add_argument("--train", required=True, help="SFT records, JSONL")
    parser.add_argument("--validation", help="validation records, JSONL")
    parser.add_argument("--out", required=True, help="adapter directory (checkpoints under it; resumes)")
    parser.add_argument("--config", help="JSON file of LoraTrainingConfig fields")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one field")
    args = parser.parse_args(argv)
    settings: dict[str, Any] = json.loads(Path(args.config).read_text()) if args.config else {}
    fields = LoraTrainingConfig.__dataclass_fields__
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep or key not in fields:
            parser.error(f"--set {key!r}: not a LoraTrainingConfig field")
        try:
            settings[key] = json.loads(raw)
        except json.JSONDecodeError:
            settings[key] = raw if key != "target_modules" else raw.split(",")
    unknown = sorted(set(settings) - set(fields))
    if unknown:
        parser.error(f"unknown config fields: {', '.join(unknown)}")
    try:
        config = LoraTrainingConfig(**settings)
        train = load_records(args.train)
        validation = load_records(args.validation) if args.validation else None
    except (ValueError, OSError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def progress(step: int, total: int, loss: float) -> None:
        print(f"step {step}/{total} loss {loss:.4f}", file=sys.stderr, flush=True)

    result = train_lora(args.base, train, args.out, config, validation_records=validation, progress=progress)
    if result.adapter_sha256:  # main process
        keys = ("adapter_sha256", "steps", "resumed_from_step", "train_tokens", "tokens_per_s", "seconds")
        print(json.dumps({**{k: getattr(result, k) for k in keys}, "adapter_dir": str(result.adapter_dir)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
