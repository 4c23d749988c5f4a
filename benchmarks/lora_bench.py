"""LoRA training speed and memory of SmolLM2-135M on this machine: (a) a plain peft fp32 loop with
every example padded to max length versus (b) the project's path (clinical.modeling.lora.train_lora:
length bucketing + bf16 autocast where the CPU has native bf16), plus greedy extraction speed.

    .venv/bin/python benchmarks/lora_bench.py [--steps 5] [--max-length 512] [--ablations]

Data: MACCROBAT case reports of ../shared/data/maccrobat_dev (CLINICAL_BRAT_DIRS) cut into 400-character
chunks as sft_dataset does (invented notes when the corpus is absent). Both modes use LoRA r=16 on
q/k/v/o, batch 4, AdamW 2e-4, the same examples and seed. tokens/s counts real (non-padding) tokens
over the whole loop, first step included, so padding is wasted work in the figure. Each mode runs in
its own process so that peak RSS (ru_maxrss) belongs to that mode alone. --ablations adds
bucketing-in-fp32 and padding-with-bf16 to split the gain between the two. DESIGN.md budget: peak
RSS <= 6 GB and (b) >= 2x (a) in tokens/s.
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


def run_plain(base_path: str, steps: int, max_length: int) -> dict:
    """(a) The plain baseline: peft + AdamW in fp32, random batches padded to max_length."""
    import resource

    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from clinical.modeling.lora import _encode_records, collate

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    records, source = bench_records()
    examples, _, _ = _encode_records(tokenizer, records, max_length)
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    model = get_peft_model(
        model,
        LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]),
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4)
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(0)).tolist()
    model.train()
    tokens = 0
    start = time.perf_counter()
    for step in range(steps):
        chosen = [examples[i] for i in order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]]
        batch = collate(chosen, tokenizer.pad_token_id, pad_to=max_length)
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum())
    seconds = time.perf_counter() - start
    return {
        "mode": "(a) plain peft fp32, padded to max_length",
        "data": source,
        "steps": steps,
        "tokens_per_step": tokens / steps,
        "s_per_step": seconds / steps,
        "tokens_per_s": tokens / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_training(base_path: str, steps: int, max_length: int, batching: str, precision: str) -> dict:
    """(b) The project's path: train_lora (bucketing + bf16 autocast by default)."""
    from clinical.modeling.lora import LoraTrainingConfig, train_lora

    records, source = bench_records()
    config = LoraTrainingConfig(
        max_steps=steps,
        epochs=1000,
        batch_size=BATCH_SIZE,
        max_length=max_length,
        batching=batching,
        precision=precision,
    )
    with tempfile.TemporaryDirectory() as out:
        result = train_lora(base_path, records, out, config)
    return {
        "mode": f"(b) train_lora batching={batching} precision={precision} (bf16 autocast: {result.bf16_autocast})",
        "data": source,
        "steps": result.steps,
        "tokens_per_step": result.train_tokens / result.steps,
        "s_per_step": result.seconds / result.steps,
        "tokens_per_s": result.tokens_per_s,
        "padding_fraction": round(result.padding_fraction, 3),
        "peak_rss_mb": result.peak_rss_mb,
        "losses": [round(loss, 4) for _, loss in result.losses],
    }


def _cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median_delta(stamps: list[float]) -> float | None:
    return statistics.median(b - a for a, b in zip(stamps, stamps[1:], strict=False)) if len(stamps) > 1 else None


def run_generation(base_path: str, max_new_tokens: int = 64) -> dict:
    import resource

    from clinical.modeling.extract import Extractor

    extractor = Extractor.load(base_path, max_new_tokens=max_new_tokens)
    records = synthetic_records(3)
    extractor.extract(records[0]["messages"][1]["content"])  # warm-up
    results = extractor.extract_many([r["messages"][1]["content"] for r in records[1:]])
    tokens = sum(r.output_tokens for r in results)
    seconds = sum(r.latency_s for r in results)
    return {
        "mode": "greedy extract (fp32)",
        "output_tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "latency_s": seconds / len(results),
        "valid_json": [r.valid_json for r in results],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="optimizer steps per training mode")
    parser.add_argument("--max-length", type=int, default=512, help="token limit (the padding width of (a))")
    parser.add_argument("--ablations", action="store_true", help="also bucketing in fp32 and padding with bf16")
    parser.add_argument("--no-generate", action="store_true", help="skip the extraction-speed measurement")
    parser.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "clinical_base_models"),
        help="base-model cache (SmolLM2 is converted there once)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "generate":
            result = run_generation(args.base)
        elif args.child == "plain":
            result = run_plain(args.base, args.steps, args.max_length)
        else:
            batching, precision = args.child.split(":")
            result = run_training(args.base, args.steps, args.max_length, batching, precision)
        print(json.dumps(result))
        return

    from clinical.modeling.base_model import resolve_base_model

    start = time.perf_counter()
    base = resolve_base_model("smollm2-135m-instruct", Path(args.cache_dir))
    print(
        f"base model {base.name} at {base.path} ({base.n_params:,} params): "
        f"resolved in {time.perf_counter() - start:.1f} s (includes conversion on first use)"
    )
    # Other jobs on a shared 2-core machine slow every mode; the load average shows when that happened.
    print(f"load average before: {os.getloadavg()}")
    children = ["plain", "bucket:auto"]
    if args.ablations:
        children += ["bucket:fp32", "pad_max:auto"]
    if not args.no_generate:
        children.append("generate")
    results = {}
    for child in children:
        command = [sys.executable, __file__, "--child", child, "--base", str(base.path), "--steps", str(args.steps)]
        proc = subprocess.run(
            [*command, "--max-length", str(args.max_length)], capture_output=True, text=True, check=True
        )
        results[child] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(results[child]))
        print(f"load average after {child}: {os.getloadavg()}")
    speedup = results["bucket:auto"]["tokens_per_s"] / results["plain"]["tokens_per_s"]
    peak = max(r["peak_rss_mb"] for r in results.values())
    print(f"speedup (b)/(a) in tokens/s: {speedup:.2f}x (budget >= 2x); peak RSS {peak:.0f} MB (budget <= 6144 MB)")


if __name__ == "__main__":
    main()
