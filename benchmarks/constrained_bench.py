"""JSON validity and relaxed F1 of a demo-like LoRA adapter on held-out MACCROBAT chunks, with free
greedy decoding and with constrained decoding (json, copy).

    .venv/bin/python benchmarks/constrained_bench.py [--steps 30] [--held-out-docs 4] [--chunks 6]
        [--max-new-tokens 192] [--adapter DIR] [--out /tmp/constrained_bench]

The adapter: SmolLM2-135M-Instruct, the lora_adapter asset's default hyperparameters (r=16 on q/k/v/o,
lr 2e-4, batch 4, max_length 512, 30 steps), trained on the 400-character chunks of every report but
the last `--held-out-docs` (by document id); evaluation on the first `--chunks` chunks of those held-out
reports. --adapter reuses an adapter trained before (its folder is printed). Prints one JSON line per
decoding mode; no note text is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lora_bench import maccrobat_corpus_chunks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--held-out-docs", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--max-new-tokens", type=int, default=192)
    parser.add_argument("--adapter", help="an adapter directory trained before (skips training)")
    parser.add_argument("--modes", default="none,json,copy")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "constrained_bench"))
    parser.add_argument("--cache-dir", default=str(Path(tempfile.gettempdir()) / "clinical_base_models"))
    args = parser.parse_args()

    from clinical.evaluation import score_entities
    from clinical.modeling.base_model import resolve_base_model
    from clinical.modeling.extract import Extractor
    from clinical.modeling.lora import LoraTrainingConfig, train_lora
    from clinical.schema import chat_messages

    docs = maccrobat_corpus_chunks()
    if len(docs) <= args.held_out_docs:
        raise SystemExit("MACCROBAT corpus not found (CLINICAL_BRAT_DIRS / ../shared/data/maccrobat_dev)")
    train_docs, test_docs = docs[: -args.held_out_docs], docs[-args.held_out_docs :]
    adapter = args.adapter
    if adapter is None:
        base = resolve_base_model("smollm2-135m-instruct", Path(args.cache_dir))
        records = [{"messages": chat_messages(t, e)} for _, chunks in train_docs for t, e in chunks]
        config = LoraTrainingConfig(max_steps=args.steps, epochs=100, batch_size=4, max_length=512)
        started = time.perf_counter()
        result = train_lora(base.path, records, Path(args.out) / "adapter", config)
        adapter = str(result.adapter_dir)
        print(
            json.dumps(
                {
                    "adapter": adapter,
                    "train_examples": result.n_examples,
                    "steps": result.steps,
                    "seconds": round(time.perf_counter() - started, 1),
                    "losses": [round(loss, 3) for _, loss in result.losses[::5]],
                }
            ),
            flush=True,
        )
    held_out = [(t, e) for _, chunks in test_docs for t, e in chunks][: args.chunks]
    gold = [entities for _, entities in held_out]
    for mode in args.modes.split(","):
        constrained = None if mode == "none" else mode
        extractor = Extractor.load(adapter, max_new_tokens=args.max_new_tokens, constrained=constrained)
        results = [extractor.extract(text) for text, _ in held_out]
        scores = score_entities(gold, [r.entities for r in results])["relaxed"]
        print(
            json.dumps(
                {
                    "decoding": extractor.model_info["decoding"],
                    "chunks": len(results),
                    "json_validity": sum(r.valid_json for r in results) / len(results),
                    "relaxed_micro_f1": round(scores["micro"]["f1"], 3),
                    "relaxed_f1_by_type": {k: round(v["f1"], 3) for k, v in scores.items() if k != "micro"},
                    "predicted": scores["micro"]["predicted"],
                    "gold": scores["micro"]["support"],
                    "entities_not_in_text": sum(
                        e["text"] not in text
                        for (text, _), r in zip(held_out, results, strict=True)
                        for e in r.entities
                    ),
                    "mean_output_tokens": sum(r.output_tokens for r in results) / len(results),
                    "mean_latency_s": round(sum(r.latency_s for r in results) / len(results), 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
