"""LoRA training speed and memory of SmolLM2-135M on this machine: (a) a plain peft fp32 loop with
every example padded to max length versus (b) the project's path (clinical.modeling.lora.train_lora:
length bucketing, bf16 autocast where the CPU has native bf16, LM head only on the assistant tokens),
plus greedy extraction speed (notes/s).

    .venv/bin/python benchmarks/lora_bench.py [--steps 12] [--max-length 512] [--threads N] [--ablations]

Data: MACCROBAT case reports of ../shared/data/maccrobat_dev (CLINICAL_BRAT_DIRS) cut into 400-character
chunks as sft_dataset does (invented notes when the corpus is absent). Both modes use LoRA r=16 on
q/k/v/o, dropout 0.05, batch 4, AdamW 2e-4, seed 0 and **the same micro-batches in the same order**
(train_lora's batch plan; (a) pads each of them to max_length), so both process the same real tokens
and the tokens/s ratio is the inverse ratio of their step times.

Fairness on a shared CPU: each mode runs in its own process (peak RSS = ru_maxrss of that mode
alone), and the processes take turns step by step (lockstep: one trains while the other waits in a
blocking read), so load from other jobs hits both modes alike. Reported per mode: tokens/s over the
whole loop (first step included), steady-state tokens/s without the first step (warm-up, one-off
kernel set-up), and real tokens per CPU-second without the first step (process CPU time: the
least load-sensitive figure, exact with --threads 1). tokens counts real (non-padding) tokens, so
padding is wasted work. --ablations adds bucketing-in-fp32 and bucketing+bf16 with the full-vocabulary
logits of the model's own loss, to split the gain. DESIGN.md budget: peak RSS <= 6 GB and (b) >= 2x (a)
in tokens/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH_SIZE = 4
SEQ_LEN = 256


def synthetic_records(n: int) -> list[dict]:
    """Invented notes whose chat rendering exceeds SEQ_LEN tokens, with the target cut inside the reply."""
    from clinical.schema import chat_messages

    drugs = ["metformin", "lisinopril", "atorvastatin", "amlodipine", "omeprazole", "sertraline"]
    records = []
    for i in range(n):
        drug = drugs[i % len(drugs)]
        text = (
            f"Follow-up visit {i}. Patient reports improved energy, denies chest pain or dyspnea. "
            f"Continues {drug} 20 mg PO daily and aspirin 81 mg daily. Hemoglobin A1c 7.{i % 10}%, "
            "creatinine 1.1 mg/dL, LDL 96 mg/dL. History of hypertension, hyperlipidemia and type 2 "
            "diabetes mellitus. Status post cholecystectomy. Plan: repeat lipid panel in three months."
        )
        entities = [
            {"type": "medication", "text": drug, "dose": "20 mg", "route": "PO", "frequency": "daily"},
            {"type": "medication", "text": "aspirin", "dose": "81 mg", "frequency": "daily"},
            {"type": "condition", "text": "chest pain", "negated": True},
            {"type": "condition", "text": "dyspnea", "negated": True},
            {"type": "lab_value", "text": "Hemoglobin A1c", "value": f"7.{i % 10}", "unit": "%"},
            {"type": "lab_value", "text": "creatinine", "value": "1.1", "unit": "mg/dL"},
            {"type": "lab_value", "text": "LDL", "value": "96", "unit": "mg/dL"},
            {"type": "condition", "text": "hypertension"},
            {"type": "condition", "text": "hyperlipidemia"},
            {"type": "condition", "text": "type 2 diabetes mellitus"},
            {"type": "procedure", "text": "cholecystectomy"},
            {"type": "procedure", "text": "lipid panel"},
        ]
        records.append({"messages": chat_messages(text, entities)})
    return records


def maccrobat_corpus_chunks(max_chars: int = 400) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """(doc id, [(chunk text, chunk entities)]) of the configured brat corpora, sorted by doc id;
    chunks cut as sft_dataset cuts them. [] when no corpus is present."""
    from clinical.brat import read_brat_corpus
    from clinical.settings import Settings
    from clinical.sft import chunk_document

    docs = []
    for directory in Settings.from_env().brat_dirs:
        if Path(directory).is_dir():
            for doc in read_brat_corpus(directory):
                chunks = chunk_document(doc.text, doc.entities, max_chars=max_chars)
                docs.append((doc.doc_id, [(text, entities) for text, entities, _ in chunks]))
    return sorted(docs, key=lambda d: d[0])


def maccrobat_records(max_chars: int = 400) -> list[dict]:
    """Chat records of MACCROBAT chunks (the corpus configured for the pipeline), or [] if absent."""
    from clinical.schema import chat_messages

    docs = maccrobat_corpus_chunks(max_chars)
    return [{"messages": chat_messages(text, entities)} for _, chunks in docs for text, entities in chunks]


def bench_records() -> tuple[list[dict], str]:
    records = maccrobat_records()
    return (records, "maccrobat") if records else (synthetic_records(64), "synthetic")


STEP_DONE = "STEP-DONE"
RESULT = "RESULT "


class Lockstep:
    """Child side of the turn-taking protocol: after each optimizer step, report on stdout and block
    until the parent hands over the next turn. Records how long the child was paused, so that the
    child's own time excludes the other mode's turns."""

    def __init__(self) -> None:
        self.paused = 0.0
        self.paused_cpu = 0.0
        self.enter: list[tuple[float, float]] = []  # (wall, cpu) when a step ended
        self.leave: list[tuple[float, float]] = []  # (wall, cpu) when the next turn began

    def wait_turn(self) -> None:
        sys.stdin.readline()

    def step_done(self, *_: object) -> None:
        now = (time.perf_counter(), time.process_time())
        self.enter.append(now)
        print(STEP_DONE, flush=True)
        sys.stdin.readline()
        back = (time.perf_counter(), time.process_time())
        self.leave.append(back)
        self.paused += back[0] - now[0]
        self.paused_cpu += back[1] - now[1]

    def steps_after_first(self) -> tuple[list[float], list[float]]:
        """Wall and CPU seconds of steps 2.., each from the start of its turn to the end of the step."""
        turns = list(zip(self.leave, self.enter[1:], strict=False))
        return [end[0] - begin[0] for begin, end in turns], [end[1] - begin[1] for begin, end in turns]


def training_config(steps: int, max_length: int, batching: str = "bucket", precision: str = "auto"):
    from clinical.modeling.lora import LoraTrainingConfig

    return LoraTrainingConfig(
        max_steps=steps,
        epochs=1000,
        batch_size=BATCH_SIZE,
        max_length=max_length,
        batching=batching,
        precision=precision,
        log_every=1,
        checkpoint_every=0,
    )


def shared_plan(tokenizer, records, steps: int, max_length: int):
    """The encoded examples and train_lora's micro-batch plan for the benchmark config."""
    from clinical.modeling.lora import _encode_records, micro_batch_plan

    examples, _, _ = _encode_records(tokenizer, records, max_length)
    lengths = [len(e["input_ids"]) for e in examples]
    return examples, micro_batch_plan(lengths, training_config(steps, max_length), steps)


def _summary(mode: str, source: str, step_tokens: list[int], walls: list[float], cpus: list[float], **extra) -> dict:
    import resource

    steady = sum(step_tokens[1:])
    return {
        "mode": mode,
        "data": source,
        "steps": len(walls),
        "tokens": sum(step_tokens),
        "first_step_s": round(walls[0], 2),
        "s_per_step_after_first": round(statistics.mean(walls[1:]), 2) if len(walls) > 1 else None,
        "tokens_per_s": sum(step_tokens) / sum(walls),
        "tokens_per_s_after_first": steady / sum(walls[1:]) if len(walls) > 1 else None,
        "tokens_per_cpu_s_after_first": steady / sum(cpus) if cpus and sum(cpus) > 0 else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **extra,
    }


def run_plain(base_path: str, steps: int, max_length: int, lockstep: Lockstep) -> dict:
    """(a) The plain baseline: peft + AdamW in fp32, the model's own loss (logits over every position),
    the shared micro-batches each padded to max_length."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from clinical.modeling.lora import collate

    lockstep.wait_turn()
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    records, source = bench_records()
    examples, plan = shared_plan(tokenizer, records, steps, max_length)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    model.train()
    step_tokens, walls, cpus, losses = [], [], [], []
    for step in range(steps):
        wall, cpu = time.perf_counter(), time.process_time()
        batch = collate([examples[i] for i in plan[step]], tokenizer.pad_token_id, pad_to=max_length)
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        walls.append(time.perf_counter() - wall)
        if step:  # the CPU figures leave out the first step, as for (b)
            cpus.append(time.process_time() - cpu)
        step_tokens.append(int(batch["attention_mask"].sum()))
        losses.append(round(loss.item(), 4))
        lockstep.step_done()
    return _summary(
        "(a) plain peft fp32, padded to max_length",
        source,
        step_tokens,
        walls,
        cpus,
        padding_fraction=round(1 - sum(step_tokens) / (steps * BATCH_SIZE * max_length), 3),
        losses=losses,
    )


def run_training(
    base_path: str, steps: int, max_length: int, batching: str, precision: str, lockstep: Lockstep, full_logits=False
) -> dict:
    """(b) The project's path: train_lora (bucketing + bf16 autocast + LM head on assistant tokens only).
    full_logits (ablation): the model's own loss, logits at every position, as before that change."""
    from contextlib import nullcontext
    from unittest import mock

    from transformers import AutoTokenizer

    from clinical.modeling import lora

    lockstep.wait_turn()
    records, source = bench_records()
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    examples, plan = shared_plan(tokenizer, records, steps, max_length)
    config = training_config(steps, max_length, batching, precision)
    if batching != "bucket":
        plan = lora.micro_batch_plan([len(e["input_ids"]) for e in examples], config, steps)

    def model_loss(model, batch):
        return model(**batch).loss, int((batch["labels"][:, 1:] != lora.IGNORE_INDEX).sum())

    patch = mock.patch.object(lora, "assistant_loss", model_loss) if full_logits else nullcontext()
    with tempfile.TemporaryDirectory() as out, patch:
        result = lora.train_lora(base_path, records, out, config, progress=lockstep.step_done)
    step_tokens = [sum(len(examples[i]["input_ids"]) for i in batch) for batch in plan[: result.steps]]
    assert sum(step_tokens) == result.train_tokens, "benchmark plan differs from train_lora's"
    walls, cpus = lockstep.steps_after_first()
    # result.seconds is train_lora's loop time, the other modes' turns (pauses) included.
    walls = [result.seconds - lockstep.paused - sum(walls), *walls]
    logits = "full-vocabulary logits at every position" if full_logits else "LM head on assistant tokens"
    return _summary(
        f"(b) train_lora batching={batching} precision={precision} (bf16 autocast: {result.bf16_autocast}; {logits})",
        source,
        step_tokens,
        walls,
        cpus,
        padding_fraction=round(result.padding_fraction, 3),
        losses=[round(loss, 4) for _, loss in result.losses],
    )


def run_generation(base_path: str, n_notes: int, max_new_tokens: int) -> dict:
    """Greedy extraction with the base model (fp32, free decoding, as `Extractor.load` defaults):
    notes/s one note at a time (what `clinical extract` does per note) and batched (extract_many)."""
    import resource

    from clinical.modeling.extract import Extractor

    docs = maccrobat_corpus_chunks()
    texts = [text for _, chunks in docs for text, _ in chunks] or [
        r["messages"][1]["content"] for r in synthetic_records(n_notes + 1)
    ]
    texts = texts[: n_notes + 1]
    extractor = Extractor.load(base_path, max_new_tokens=max_new_tokens)
    extractor.extract(texts[0])  # warm-up
    start = time.perf_counter()
    single = [extractor.extract(text) for text in texts[1:]]
    single_s = time.perf_counter() - start
    start = time.perf_counter()
    batched = extractor.extract_many(texts[1:])
    batched_s = time.perf_counter() - start
    tokens = sum(r.output_tokens for r in single)
    return {
        "mode": f"greedy extract, base model fp32, {len(single)} MACCROBAT chunks, max_new_tokens={max_new_tokens}",
        "notes_per_s": len(single) / single_s,
        "notes_per_s_batched": len(batched) / batched_s,
        "latency_s": single_s / len(single),
        "output_tokens": tokens,
        "tokens_per_s": tokens / single_s,
        "valid_json": [r.valid_json for r in single],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_lockstep(commands: dict[str, list[str]]) -> dict[str, dict]:
    """Start one child per mode and let them take turns, one optimizer step each, until all finish."""
    procs = {}
    for name, command in commands.items():
        err = tempfile.TemporaryFile(mode="w+")
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True)
        procs[name] = (proc, err)
    results: dict[str, dict] = {}
    steps, start = dict.fromkeys(procs, 0), time.perf_counter()
    while len(results) < len(procs):
        for name, (proc, err) in procs.items():
            if name in results:
                continue
            proc.stdin.write("go\n")
            proc.stdin.flush()
            for line in proc.stdout:
                if line.startswith(STEP_DONE):
                    steps[name] += 1
                    print(f"{name}: step {steps[name]} done at {time.perf_counter() - start:.0f} s", file=sys.stderr)
                    break
                if line.startswith(RESULT):
                    results[name] = json.loads(line[len(RESULT) :])
                    print(json.dumps(results[name]), flush=True)
                    break
            else:
                proc.wait()
                err.seek(0)
                raise RuntimeError(f"benchmark child {name} failed (exit {proc.returncode}):\n{err.read()[-3000:]}")
    for proc, err in procs.values():
        proc.wait()
        err.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps per training mode")
    parser.add_argument("--max-length", type=int, default=512, help="token limit (the padding width of (a))")
    parser.add_argument("--threads", type=int, default=0, help="torch threads in every mode (0 = torch default)")
    parser.add_argument(
        "--ablations", action="store_true", help="also train_lora in fp32, and with bf16 but full-vocabulary logits"
    )
    parser.add_argument("--no-generate", action="store_true", help="skip the extraction-speed measurement")
    parser.add_argument("--gen-notes", type=int, default=4, help="notes timed for extraction speed (after one warm-up)")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="generation limit per note")
    parser.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "clinical_base_models"),
        help="base-model cache (SmolLM2 is converted there once; the pipeline's is data/artifacts/base_models)",
    )
    parser.add_argument("--model", default="smollm2-135m-instruct", help="base-model spec (tiny-random: smoke test)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        if args.child == "generate":
            print(RESULT + json.dumps(run_generation(args.base, args.gen_notes, args.max_new_tokens)))
            return
        lockstep = Lockstep()
        if args.child == "plain":
            result = run_plain(args.base, args.steps, args.max_length, lockstep)
        else:
            batching, precision, *rest = args.child.split(":")
            full = rest == ["full"]
            result = run_training(args.base, args.steps, args.max_length, batching, precision, lockstep, full)
        print(RESULT + json.dumps(result), flush=True)
        return

    import torch

    from clinical.modeling.base_model import resolve_base_model
    from clinical.modeling.lora import cpu_has_native_bf16

    start = time.perf_counter()
    base = resolve_base_model(args.model, Path(args.cache_dir))
    print(
        f"base model {base.name} at {base.path} ({base.n_params:,} params): "
        f"resolved in {time.perf_counter() - start:.1f} s (includes conversion on first use)"
    )
    threads = args.threads or torch.get_num_threads()
    print(f"{os.cpu_count()} CPUs, torch threads per mode {threads}, native bf16: {cpu_has_native_bf16()}")
    # Other jobs on a shared machine slow every mode; the load average shows how busy it was.
    print(f"load average before: {os.getloadavg()}", flush=True)
    modes = ["plain", "bucket:auto"] + (["bucket:fp32", "bucket:auto:full"] if args.ablations else [])
    common = ["--base", str(base.path), "--steps", str(args.steps), "--max-length", str(args.max_length)]
    common += ["--threads", str(args.threads)]
    results = run_lockstep({m: [sys.executable, __file__, "--child", m, *common] for m in modes})
    print(f"load average after training: {os.getloadavg()}")
    plain, project = results["plain"], results["bucket:auto"]
    for key in ("tokens_per_s", "tokens_per_s_after_first", "tokens_per_cpu_s_after_first"):
        if plain.get(key) and project.get(key):
            print(f"(b)/(a) {key}: {project[key]:.1f} / {plain[key]:.1f} = {project[key] / plain[key]:.2f}x")
    peak = max(r["peak_rss_mb"] for r in results.values())
    print(
        f"budget: (b) >= 2x (a) in tokens/s; peak RSS (b) {project['peak_rss_mb']:.0f} MB, (a) "
        f"{plain['peak_rss_mb']:.0f} MB, max {peak:.0f} MB (budget <= 6144 MB)"
    )
    if not args.no_generate:
        command = [sys.executable, __file__, "--child", "generate", *common]
        command += ["--gen-notes", str(args.gen_notes), "--max-new-tokens", str(args.max_new_tokens)]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT)]
        if proc.returncode or not lines:
            raise RuntimeError(f"generation child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        generation = json.loads(lines[-1][len(RESULT) :])
        print(json.dumps(generation))
        print(
            f"inference: {generation['notes_per_s']:.3f} notes/s one at a time, "
            f"{generation['notes_per_s_batched']:.3f} notes/s batched"
        )


if __name__ == "__main__":
    main()
