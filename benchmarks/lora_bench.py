"""LoRA training speed and memory of SmolLM2-135M on this machine, with and without bf16 autocast,
plus greedy extraction speed of the base model.

    .venv/bin/python benchmarks/lora_bench.py [--steps 5] [--cache-dir /tmp/clinical_base_models]

Batches are 4 examples x 256 tokens of invented notes (no patient data). Each mode runs in its own
process so that peak RSS belongs to that mode alone; the first step (allocator and oneDNN warm-up)
is left out of the steady-state s/step.
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


def run_training(base_path: str, steps: int, bf16: bool) -> dict:
    from clinical.modeling.lora import LoraTrainingConfig, train_lora

    stamps: list[float] = []
    cpu_stamps: list[float] = []

    def on_step(step: int, total: int, loss: float) -> None:
        stamps.append(time.perf_counter())
        cpu_stamps.append(_cpu_seconds())

    config = LoraTrainingConfig(
        max_steps=steps, epochs=1000, batch_size=BATCH_SIZE, max_length=SEQ_LEN, bf16_autocast=bf16
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = train_lora(
            base_path,
            synthetic_records(BATCH_SIZE * 2),
            out,
            config,
            progress=on_step,
        )
    steady = _median_delta(stamps)
    cpu_steady = _median_delta(cpu_stamps)
    tokens_per_step = result.train_tokens / result.steps
    return {
        "mode": "train bf16 autocast" if result.bf16_autocast else "train fp32",
        "steps": result.steps,
        "tokens_per_step": tokens_per_step,
        "first_step_s": stamps[0] - start if stamps else None,
        "s_per_step": steady,
        "cpu_s_per_step": cpu_steady,
        "tokens_per_s": tokens_per_step / steady if steady else result.tokens_per_s,
        "loop_tokens_per_s": result.tokens_per_s,
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
    parser.add_argument(
        "--cache-dir",
        default=str(Path(tempfile.gettempdir()) / "clinical_base_models"),
        help="base-model cache (SmolLM2 is converted there once)",
    )
    parser.add_argument("--child", choices=["bf16", "fp32", "generate"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        result = (
            run_generation(args.base)
            if args.child == "generate"
            else run_training(args.base, args.steps, bf16=args.child == "bf16")
        )
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
    for child in ("fp32", "bf16", "generate"):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", child, "--base", str(base.path), "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(json.dumps(json.loads(proc.stdout.strip().splitlines()[-1]), indent=None))
        print(f"load average after {child}: {os.getloadavg()}")


if __name__ == "__main__":
    main()
