"""Does the demo's LoRA recipe beat prompting? Train an adapter on a materialized dataset with the
`lora_adapter` asset's default hyperparameters, then score it, the base model zero-shot and the base
model few-shot on the same held-out MACCROBAT chunks (relaxed micro F1 with 95 % bootstrap intervals).

    make demo                                  # or any CLINICAL_HOME whose sft_dataset is materialized
    .venv/bin/python benchmarks/finetune_bench.py [--home data] [--notes 16] [--source annotation]
    .venv/bin/python benchmarks/finetune_bench.py --adapter data/artifacts/adapters/<dir>   # score only
    .venv/bin/python benchmarks/finetune_bench.py --set max_steps=120 --set learning_rate=5e-4

Data: the newest dataset version in `$CLINICAL_HOME/warehouse.duckdb`: the train split to train on,
the first `--notes` examples (by example id, as the `evaluation` asset picks them) of the test and
golden splits to score, keeping only `--source` (default `annotation`: the MACCROBAT chunks; `any`
keeps synthetic and de-identified notes too). The golden documents never reach training; the test
split holds other patients' (here: other case reports') chunks. Decoding is the product's own
(`Extractor.extract_many`, ordered copy decoding); few-shot uses the evaluation asset's choice of
`--shots` train examples. Prints one JSON line per model and split, the tuned model's F1 minus each
base model's with a paired bootstrap interval (the same notes resampled for both), then a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _paired(tuned: list, other: list, resamples: int) -> dict:
    """Tuned minus other micro F1 on the same documents, paired bootstrap (rounded for printing)."""
    from clinical.subgroups import paired_f1_difference

    d = paired_f1_difference(tuned, other, resamples=resamples, seed=0)
    return {
        "value": round(d["value"], 3),
        "ci": [round(x, 3) for x in d["ci"]],
        "share_tuned_better": round(d["share_a_better"], 3),
        "documents": d["documents"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", default=os.environ.get("CLINICAL_HOME", "data"), help="CLINICAL_HOME of a demo")
    parser.add_argument("--notes", type=int, default=16, help="held-out notes scored per split")
    parser.add_argument("--source", default="annotation", help="keep only this source (any = all)")
    parser.add_argument("--shots", type=int, default=2, help="few-shot examples")
    parser.add_argument("--adapter", help="score this adapter instead of training one")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="LoRA config override")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)

    import duckdb

    from clinical import evaluation as scoring
    from clinical import subgroups
    from clinical.modeling import extract, lora
    from clinical_assets.evaluation import evaluation_records, few_shot_examples
    from clinical_assets.training import LoraConfig, latest_dataset_version, split_records

    home = Path(args.home)
    database = home / "warehouse.duckdb"
    if not database.is_file():
        parser.error(f"{database} does not exist: run `make demo` (or pass --home)")
    con = duckdb.connect(str(database), read_only=True)
    version = latest_dataset_version(con)
    train = split_records(con, version, "train")
    held_out = {}
    for split in ("test", "golden"):
        records = evaluation_records(con, version, split)
        held_out[split] = [r for r in records if args.source in ("any", r["source"])][: args.notes]
    base_rows = con.execute(
        "SELECT path FROM artifacts WHERE kind = 'base_model' ORDER BY created_at DESC LIMIT 1"
    ).fetchall()
    con.close()
    base = Path(base_rows[0][0]) if base_rows else home / "artifacts" / "base_models" / "smollm2-135m-instruct"

    adapter = args.adapter
    if adapter is None:
        overrides = dict(item.split("=", 1) for item in args.set)
        config = LoraConfig(**{k: _value(v) for k, v in overrides.items()}).training_config()
        out_dir = Path(tempfile.mkdtemp(prefix="finetune_bench_"))
        started = time.perf_counter()
        result = lora.train_lora(base, train, out_dir, config)
        adapter = str(result.adapter_dir)
        print(
            json.dumps(
                {
                    "trained": adapter,
                    "train_examples": len(train),
                    "steps": result.steps,
                    "seconds": round(time.perf_counter() - started, 1),
                    "tokens_per_s": round(result.tokens_per_s, 1),
                    "loss_first_last": [round(result.losses[0][1], 3), round(result.losses[-1][1], 3)],
                    "config": {k: v for k, v in config.as_dict().items() if k in ("learning_rate", "max_steps", "r")},
                }
            ),
            flush=True,
        )

    summary: dict[str, dict[str, float]] = {}
    all_counts: dict[str, dict[str, list]] = {}
    shots = few_shot_examples(train, args.shots)
    models = (("tuned", adapter, None), ("base_zero_shot", base, None), ("base_few_shot", base, shots))
    for name, ref, examples in models:
        extractor = extract.Extractor.load(ref)
        for split, records in held_out.items():
            if not records:
                continue
            started = time.perf_counter()
            outputs = extractor.extract_many([r["text"] for r in records], examples=examples)
            gold = [r["entities"] for r in records]
            pred = [o.entities for o in outputs]
            micro = scoring.score_entities(gold, pred)["relaxed"]["micro"]
            counts = scoring.document_counts(gold, pred)
            all_counts.setdefault(split, {})[name] = counts
            ci = subgroups.bootstrap_analysis(
                counts, [{} for _ in records], resamples=args.resamples, seed=0, dimensions=()
            )["micro_f1"]["ci"]
            summary.setdefault(name, {})[split] = round(micro["f1"], 3)
            print(
                json.dumps(
                    {
                        "model": name,
                        "split": split,
                        "notes": len(records),
                        "gold_entities": micro["support"],
                        "relaxed_micro_f1": round(micro["f1"], 3),
                        "f1_95ci": [round(ci[0], 3), round(ci[1], 3)],
                        "precision": round(micro["precision"], 3),
                        "recall": round(micro["recall"], 3),
                        "json_validity": round(sum(o.valid_json for o in outputs) / len(outputs), 3),
                        "seconds": round(time.perf_counter() - started, 1),
                    }
                ),
                flush=True,
            )
        del extractor
    groups = dict(all_counts)
    if len(all_counts) > 1:  # every held-out document together (test and golden are disjoint)
        groups["all_held_out"] = {
            name: [c for split in all_counts.values() for c in split.get(name, [])] for name in all_counts["test"]
        }
    paired = {
        group: {
            f"tuned_minus_{name}": _paired(by_model["tuned"], counts, args.resamples)
            for name, counts in by_model.items()
            if name != "tuned"
        }
        for group, by_model in groups.items()
    }
    print(json.dumps({"paired_bootstrap": paired}))
    print(json.dumps({"summary_relaxed_micro_f1": summary, "decoding": extract.decoding_name("copy")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
