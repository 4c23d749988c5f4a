"""evaluation: the tuned adapter against the prompted base model on the held-out test split."""

import gc
import time

import dagster as dg
from pydantic import Field

from clinical import evaluation as scoring
from clinical import lineage
from clinical.modeling import extract
from clinical_assets.metadata import bar_plot, md_table
from clinical_assets.training import lora_adapter, split_records
from clinical_assets.versioning import code_version
from resources import Warehouse

EVALUATION_CODE = code_version(scoring, extract)


class EvaluationConfig(dg.Config):
    max_examples: int = Field(default=6, description="Test examples scored (generation is slow on CPU).")
    max_new_tokens: int = Field(default=256, description="Generation limit per example.")


def run_model(ref: str, records: list[dict], max_new_tokens: int, log=None) -> dict:
    """Extract entities from every record's text with one model and score them against the gold labels."""
    extractor = extract.Extractor.load(ref, max_new_tokens=max_new_tokens)
    results = []
    for i, record in enumerate(records, start=1):
        results.append(extractor.extract(record["text"]))
        if log:
            log(f"{i}/{len(records)} examples, {results[-1].latency_s:.1f}s")
    del extractor
    gc.collect()
    predictions = [r.entities for r in results]
    return {
        "scores": scoring.score_entities([r["entities"] for r in records], predictions),
        "json_validity": scoring.json_validity_rate([r.valid_json for r in results]),
        "hallucination_rate": scoring.hallucination_rate([r["text"] for r in records], predictions),
        "mean_latency_s": sum(r.latency_s for r in results) / max(len(results), 1),
    }


@dg.asset(
    deps=[lora_adapter],
    group_name="evaluation",
    code_version=EVALUATION_CODE,
    kinds={"pytorch"},
    owners=["team:clinical-safety"],
)
def evaluation(
    context: dg.AssetExecutionContext, config: EvaluationConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Entity-level precision, recall and F1 per entity type (exact and relaxed match), JSON validity,
    hallucination rate and latency, for the tuned adapter and for the base model prompted with the
    same instructions, on the held-out test split."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        adapter = lineage.latest_artifact(con, "lora_adapter")
        if adapter is None:
            raise dg.Failure("no lora_adapter has been trained")
        version = adapter["parents"]["dataset_version"]
        base = lineage.find_artifact(con, adapter["parents"]["base_model"])
        records = split_records(con, version, "test") or split_records(con, version, "validation")
    records = records[: config.max_examples]
    if not records:
        raise dg.Failure(f"dataset {version[:12]} has no test or validation examples")
    context.log.info(f"scoring {len(records)} held-out examples with the tuned and the base model")
    tuned = run_model(adapter["path"], records, config.max_new_tokens, lambda m: context.log.info(f"tuned: {m}"))
    prompted = run_model(base["path"], records, config.max_new_tokens, lambda m: context.log.info(f"base: {m}"))
    rows, f1 = [], {"tuned": {}, "base": {}}
    for name, result in (("tuned", tuned), ("base", prompted)):
        for etype, s in result["scores"]["relaxed"].items():
            f1[name][etype] = s["f1"]
            exact = result["scores"]["exact"][etype]
            rows.append(
                {
                    "model": name,
                    "entity type": etype,
                    "exact P": exact["precision"],
                    "exact R": exact["recall"],
                    "exact F1": exact["f1"],
                    "relaxed F1": s["f1"],
                    "support": s["support"],
                }
            )
    summary = {
        "dataset_version": version,
        "examples": len(records),
        "tuned": tuned,
        "base": prompted,
    }
    eval_id = "eval_" + adapter["sha256"][:16] + "_" + context.run.run_id[:8]
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=eval_id,
        kind="evaluation",
        path=None,
        sha256=None,
        parents={"adapter": adapter["artifact_id"], "dataset_version": version},
        details=summary,
        code_version=EVALUATION_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "adapter_sha256": adapter["sha256"],
            "dataset_version": version,
            "examples": len(records),
            "tuned_micro_f1_relaxed": float(tuned["scores"]["relaxed"]["micro"]["f1"]),
            "base_micro_f1_relaxed": float(prompted["scores"]["relaxed"]["micro"]["f1"]),
            "tuned_json_validity": float(tuned["json_validity"]),
            "base_json_validity": float(prompted["json_validity"]),
            "tuned_hallucination_rate": float(tuned["hallucination_rate"]),
            "tuned_mean_latency_s": round(tuned["mean_latency_s"], 3),
            "scores": md_table(rows),
            "f1_by_entity_type": bar_plot(f1, "Relaxed F1 by entity type", "F1"),
            "evaluation_id": eval_id,
        }
    )
