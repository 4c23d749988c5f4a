"""evaluation and its blocking promotion gate: the tuned adapter against the base model prompted
zero-shot and few-shot and against a dictionary baseline, on the held-out test split and the golden set."""

import gc
import inspect
import json
import time
from collections import Counter

import dagster as dg
from pydantic import Field

from clinical import baseline, lineage, promotion, subgroups
from clinical import evaluation as scoring
from clinical.ids import sha256_text
from clinical.modeling import extract
from clinical.schema import ENTITY_TYPES
from clinical.serving.monitor import entity_counts
from clinical.warehouse import fetch_dicts
from clinical_assets.metadata import bar_plot, links_metadata, md_table
from clinical_assets.training import lora_adapter
from clinical_assets.versioning import code_version
from resources import Warehouse
from resources.promotion import PromotionPolicy

EVALUATION_CODE = code_version(scoring, extract, baseline, subgroups)
GATE_CODE = code_version(promotion)
MODELS = ("tuned", "base_zero_shot", "base_few_shot", "dictionary")
EVAL_SPLITS = ("test", "golden")


class EvaluationConfig(dg.Config):
    max_examples: int = Field(
        default=8,
        description="Notes scored per split. Generation is slow on CPU (3 LLM passes x 2 splits, each note up to "
        "max_new_tokens at ~15 tokens/s, batch_size notes per generate()); raise it on a GPU host.",
    )
    max_new_tokens: int = Field(default=256, description="Generation limit per note.")
    batch_size: int = Field(
        default=8,
        description="Notes decoded together in one left-padded greedy generate() (same tokens as one at a "
        "time; several times the throughput on CPU). Latency per note is the amortized time in its batch.",
    )
    few_shot_k: int = Field(default=2, description="Train-split examples shown to the base model few-shot.")
    models: list[str] = Field(default=list(MODELS), description=f"Which of {', '.join(MODELS)} to evaluate.")
    bootstrap_resamples: int = Field(default=1000, description="Bootstrap resamples of the notes for the CIs.")
    bootstrap_seed: int = Field(default=0, description="Seed of the bootstrap (intervals are reproducible).")
    min_subgroup_support: int = Field(default=10, description="Gold entities a subgroup needs for the gap.")


def evaluation_records(con, version: str, split: str) -> list[dict]:
    """Examples of one split with their source and note type (NULL while the dataset has no note_type)."""
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sft_examples'"
        ).fetchall()
    }
    note_type = "note_type" if "note_type" in columns else "NULL AS note_type"
    rows = fetch_dicts(
        con,
        f"SELECT example_id, source, {note_type}, text, entities FROM sft_examples "
        "WHERE dataset_version = ? AND split = ? ORDER BY example_id",
        [version, split],
    )
    return [{**r, "entities": json.loads(r["entities"])} for r in rows]


def few_shot_examples(train: list[dict], k: int) -> list[dict]:
    """k train examples for the few-shot prompt: the ones covering the most entity types, then the
    shortest, then by id (deterministic; never from the evaluated splits)."""
    labelled = [r for r in train if r["entities"]]
    labelled.sort(key=lambda r: (-len({e["type"] for e in r["entities"]}), len(r["text"]), r["example_id"]))
    return [{"text": r["text"], "entities": r["entities"]} for r in labelled[:k]]


def run_extractor(extractor, records: list[dict], examples: list[dict] | None, log, batch_size: int = 1) -> list[tuple]:
    """(entities, valid_json, latency_s) per record; notes go to the model `batch_size` at a time
    (Extractor.extract_many) and latency_s is the amortized wall time per note of its batch."""
    results: list[tuple] = []
    step = max(batch_size, 1)
    for start in range(0, len(records), step):
        chunk = records[start : start + step]
        began = time.perf_counter()
        outputs = extractor.extract_many([r["text"] for r in chunk], examples=examples or None)
        per_note = (time.perf_counter() - began) / len(chunk)
        results.extend((out.entities, out.valid_json, per_note) for out in outputs)
        log(f"{len(results)}/{len(records)} notes, {per_note:.1f}s/note")
    return results


def predicted_per_note(predictions: list[list[dict]]) -> dict[str, float]:
    """Mean number of predicted entities per note, for each entity type (0.0 for a type never predicted)."""
    totals: Counter = Counter()
    for entities in predictions:
        totals.update(entity_counts(entities))
    notes = max(len(predictions), 1)
    return {etype: round(totals[etype] / notes, 4) for etype in ENTITY_TYPES}


def paired_differences(records: list[dict], by_model: dict[str, list[tuple]], config: EvaluationConfig) -> dict:
    """For every other model: the tuned model's relaxed micro F1 minus that model's on the same notes, with
    a paired bootstrap interval (clinical.subgroups.paired_f1_difference; same resamples and seed)."""
    gold = [r["entities"] for r in records]
    counts = {name: scoring.document_counts(gold, [p for p, _, _ in res]) for name, res in by_model.items()}
    return {
        name: subgroups.paired_f1_difference(
            counts["tuned"], other, resamples=config.bootstrap_resamples, seed=config.bootstrap_seed
        )
        for name, other in counts.items()
        if name != "tuned" and "tuned" in counts
    }


def model_entry(records: list[dict], results: list[tuple], config: EvaluationConfig, is_llm: bool) -> tuple:
    """(scores of one model on one split for the summary, its bootstrap/subgroup analysis)."""
    texts = [r["text"] for r in records]
    gold = [r["entities"] for r in records]
    summary = scoring.summarize(
        texts, gold, [p for p, _, _ in results], [v for _, v, _ in results], [t for *_, t in results]
    )
    analysis = subgroups.bootstrap_analysis(
        summary["counts"],
        [subgroups.document_groups(r["text"], r.get("source"), r.get("note_type")) for r in records],
        resamples=config.bootstrap_resamples,
        seed=config.bootstrap_seed,
        min_support=config.min_subgroup_support,
    )
    relaxed, exact = summary["scores"]["relaxed"], summary["scores"]["exact"]
    entry = {
        "micro_f1": relaxed["micro"]["f1"],
        "micro_f1_ci": analysis["micro_f1"]["ci"],
        "micro_precision": relaxed["micro"]["precision"],
        "micro_recall": relaxed["micro"]["recall"],
        "exact_micro_f1": exact["micro"]["f1"],
        "json_validity": summary["json_validity"] if is_llm else None,
        "hallucination_rate": summary["hallucination_rate"],
        "negation_accuracy": summary["negation"]["accuracy"],
        "negation_pairs": summary["negation"]["pairs"],
        "gold_negated": summary["negation"]["gold_negated"],
        "latency_mean_s": summary["latency_s"]["mean"],
        "latency_p95_s": summary["latency_s"]["p95"],
        # Entities the model predicts per note, by type (the serving monitor's reference rates for
        # the model that is deployed; counts only, no text).
        "predicted_per_note": predicted_per_note([p for p, _, _ in results]),
        "by_type": {
            etype: {
                "exact_precision": exact[etype]["precision"],
                "exact_recall": exact[etype]["recall"],
                "exact_f1": exact[etype]["f1"],
                "relaxed_precision": s["precision"],
                "relaxed_recall": s["recall"],
                "relaxed_f1": s["f1"],
                "support": s["support"],
            }
            for etype, s in relaxed.items()
        },
    }
    return entry, analysis


@dg.asset(
    deps=[lora_adapter],
    group_name="evaluation",
    code_version=EVALUATION_CODE,
    kinds={"pytorch", "duckdb"},
    owners=["team:clinical-safety"],
)
def evaluation(
    context: dg.AssetExecutionContext, config: EvaluationConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Entity-level precision, recall and F1 per entity type (exact and relaxed match), JSON validity,
    hallucination rate, negation accuracy and latency per note, on the held-out test split and the
    golden set, for the tuned adapter, the base model prompted zero-shot and few-shot (examples from the
    train split) and a dictionary baseline; recall per subgroup (age band, sex, note type, source), the
    fairness gap and bootstrap intervals. The blocking promotion_gate check judges it."""
    started = time.perf_counter()
    unknown = sorted(set(config.models) - set(MODELS))
    if unknown or "tuned" not in config.models:
        raise dg.Failure(f"config.models must include 'tuned' and only {', '.join(MODELS)}; got {config.models}")
    skipped: dict[str, str] = {}
    with warehouse.connect(read_only=True) as con:
        adapter = lineage.latest_artifact(con, "lora_adapter")
        if adapter is None:
            raise dg.Failure("no lora_adapter has been trained")
        version = adapter["parents"]["dataset_version"]
        base = lineage.find_artifact(con, adapter["parents"]["base_model"])
        train = evaluation_records(con, version, "train")
        by_split = {split: evaluation_records(con, version, split)[: config.max_examples] for split in EVAL_SPLITS}
        if not by_split["test"]:
            by_split["test"] = evaluation_records(con, version, "validation")[: config.max_examples]
            skipped["test"] = "the dataset has no test split: its validation split was scored as 'test'"
    if not by_split["golden"]:
        skipped["golden"] = f"dataset {version[:12]} has no golden split (no clinician golden examples yet)"
    splits = {s: recs for s, recs in by_split.items() if recs}
    if not splits:
        raise dg.Failure(f"dataset {version[:12]} has no test, validation or golden examples")
    shots = few_shot_examples(train, config.few_shot_k)
    if "base_few_shot" in config.models and not shots:
        skipped["base_few_shot"] = "the train split has no labelled example to show"
    if "base_few_shot" in config.models and "examples" not in inspect.signature(extract.Extractor.extract).parameters:
        skipped["base_few_shot"] = "Extractor.extract takes no few-shot examples in this version"
    results: dict[str, dict[str, list]] = {s: {} for s in splits}

    def log_for(name: str, split: str):
        return lambda message: context.log.info(f"{name} on {split}: {message}")

    context.log.info(f"evaluating on {', '.join(f'{s} ({len(r)} notes)' for s, r in splits.items())}")
    tuned = extract.Extractor.load(adapter["path"], max_new_tokens=config.max_new_tokens)
    for split, records in splits.items():
        results[split]["tuned"] = run_extractor(tuned, records, None, log_for("tuned", split), config.batch_size)
    del tuned
    gc.collect()
    base_models = [m for m in ("base_zero_shot", "base_few_shot") if m in config.models and m not in skipped]
    if base_models:
        prompted = extract.Extractor.load(base["path"], max_new_tokens=config.max_new_tokens)
        for name in base_models:
            for split, records in splits.items():
                examples = shots if name == "base_few_shot" else None
                results[split][name] = run_extractor(
                    prompted, records, examples, log_for(name, split), config.batch_size
                )
        del prompted
        gc.collect()
    lexicon_sources: dict[str, int] = {}
    if "dictionary" in config.models:
        dictionary = baseline.DictionaryBaseline.build(train)
        lexicon_sources = dictionary.sources
        for split, records in splits.items():
            results[split]["dictionary"] = [(e, True, t) for e, t in dictionary.run([r["text"] for r in records])]

    summary_splits: dict[str, dict] = {}
    for split, records in splits.items():
        models, fairness = {}, {}
        for name, model_results in results[split].items():
            models[name], fairness[name] = model_entry(records, model_results, config, is_llm=name != "dictionary")
        ids = sorted(r["example_id"] for r in records)
        paired = paired_differences(records, results[split], config)
        sources: dict[str, int] = {}
        for r in records:
            sources[r["source"]] = sources.get(r["source"], 0) + 1
        summary_splits[split] = {
            "documents": len(records),
            "example_ids": ids,
            "example_ids_sha256": sha256_text("\n".join(ids)),
            "sources": sources,
            "models": models,
            "fairness": fairness,
            "tuned_minus": paired,
        }
    eval_id = "eval_" + adapter["sha256"][:16] + "_" + context.run.run_id[:8]
    summary = {
        "evaluation_id": eval_id,
        "dataset_version": version,
        "adapter": adapter["artifact_id"],
        "base_model": base["artifact_id"] if base else None,
        "splits": summary_splits,
        "skipped": skipped,
        "few_shot": {"k": len(shots), "from_split": "train"},
        "dictionary_lexicon": lexicon_sources,
        "bootstrap": {
            "resamples": config.bootstrap_resamples,
            "seed": config.bootstrap_seed,
            "confidence": 0.95,
            "method": "percentile, notes resampled with replacement",
            "min_subgroup_support": config.min_subgroup_support,
        },
        "config": config.model_dump(),
    }
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
    metadata = evaluation_metadata(summary, adapter, started)
    return dg.MaterializeResult(metadata={**metadata, "links": links_metadata(warehouse, eval_id)})


def evaluation_metadata(summary: dict, adapter: dict, started: float) -> dict:
    """Tables and plots of the evaluation for the Dagster UI (scores and counts only, no text)."""
    splits = summary["splits"]
    main = "golden" if "golden" in splits else "test"
    overview, per_type, subgroup_rows = [], [], []
    for split, result in splits.items():
        for name, m in result["models"].items():
            ci = m["micro_f1_ci"]
            overview.append(
                {
                    "split": split,
                    "model": name,
                    "notes": result["documents"],
                    "relaxed micro F1": m["micro_f1"],
                    "95% CI": f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci[0] is not None else "n/a",
                    "exact micro F1": m["exact_micro_f1"],
                    "JSON validity": "n/a" if m["json_validity"] is None else m["json_validity"],
                    "hallucination": m["hallucination_rate"],
                    "negation acc": m["negation_accuracy"],
                    "latency s/note (amortized)": m["latency_mean_s"],
                }
            )
            for etype, s in m["by_type"].items():
                per_type.append(
                    {
                        "split": split,
                        "model": name,
                        "type": etype,
                        "exact P": s["exact_precision"],
                        "exact R": s["exact_recall"],
                        "exact F1": s["exact_f1"],
                        "relaxed P": s["relaxed_precision"],
                        "relaxed R": s["relaxed_recall"],
                        "relaxed F1": s["relaxed_f1"],
                        "support": s["support"],
                    }
                )
    tuned_fairness = splits[main]["fairness"]["tuned"]
    recall_plot: dict[str, dict[str, float]] = {}
    for name, analysis in splits[main]["fairness"].items():
        for dim, groups in analysis["subgroups"].items():
            for g in groups:
                recall_plot.setdefault(name, {})[f"{dim}:{g['group']}"] = g["recall"]
                if name == "tuned":
                    subgroup_rows.append(
                        {
                            "dimension": dim,
                            "group": g["group"],
                            "notes": g["documents"],
                            "gold entities": g["support"],
                            "recall": g["recall"],
                            "95% CI": f"[{g['ci'][0]:.3f}, {g['ci'][1]:.3f}]" if g["ci"][0] is not None else "n/a",
                            "in gap": g["in_gap"],
                        }
                    )
    paired_rows = [
        {
            "split": split,
            "tuned minus": name,
            "notes": d["documents"],
            "F1 difference": round(d["value"], 4),
            "95% CI (paired bootstrap)": f"[{d['ci'][0]:.3f}, {d['ci'][1]:.3f}]" if d["ci"][0] is not None else "n/a",
            "resamples where tuned is better": round(d["share_a_better"], 3),
        }
        for split, result in splits.items()
        for name, d in result.get("tuned_minus", {}).items()
    ]
    gap = tuned_fairness["max_fairness_gap"]
    tuned = splits[main]["models"]["tuned"]
    base_f1 = {n: m["micro_f1"] for n, m in splits[main]["models"].items() if n.startswith("base_")}
    metadata = {
        "seconds": round(time.perf_counter() - started, 3),
        "evaluation_id": summary["evaluation_id"],
        "adapter_artifact_id": adapter["artifact_id"],
        "adapter_sha256": adapter["sha256"],
        "dataset_version": summary["dataset_version"],
        "gate_split": main,
        "examples": splits[main]["documents"],
        "examples_per_split": dg.MetadataValue.json({s: r["documents"] for s, r in splits.items()}),
        "golden_set": summary["skipped"].get("golden", f"{splits.get('golden', {}).get('documents', 0)} notes"),
        "not_evaluated": dg.MetadataValue.json(summary["skipped"]),
        "tuned_micro_f1_relaxed": float(tuned["micro_f1"]),
        "base_micro_f1_relaxed": float(max(base_f1.values(), default=0.0)),
        "tuned_json_validity": float(tuned["json_validity"]),
        "tuned_hallucination_rate": float(tuned["hallucination_rate"]),
        "tuned_negation_accuracy": float(tuned["negation_accuracy"]),
        "tuned_mean_latency_s": round(tuned["latency_mean_s"], 3),
        "tuned_fairness_gap": float(gap["value"]) if gap else "not measurable (too little support per subgroup)",
        "overview": md_table(overview),
        "tuned_minus_baselines": md_table(paired_rows),
        "scores": md_table(per_type),
        "tuned_recall_by_subgroup": md_table(subgroup_rows),
        "f1_by_entity_type": bar_plot(
            {n: {t: s["relaxed_f1"] for t, s in m["by_type"].items()} for n, m in splits[main]["models"].items()},
            f"Relaxed F1 by entity type ({main})",
            "F1",
        ),
        "recall_by_subgroup": bar_plot(recall_plot, f"Recall by subgroup ({main})", "recall"),
        "bootstrap": dg.MetadataValue.json(summary["bootstrap"]),
    }
    return metadata


@dg.asset_check(
    asset=evaluation,
    blocking=True,
    description=(
        "Promotion gate: the tuned adapter's relaxed micro F1 must reach the stronger prompted base model's "
        "plus a margin and a floor, its JSON validity a minimum, and its fairness gap stay under a maximum "
        "(thresholds: the promotion_policy resource, profile production or demo). Blocking: while it fails, "
        "model_card, merged_model, trtllm_engine and bento do not materialize in the run. The decision and "
        "thresholds are registered in lineage as a promotion_decision artifact."
    ),
)
def promotion_gate(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, promotion_policy: PromotionPolicy
) -> dg.AssetCheckResult:
    gate = promotion_policy.thresholds()
    with warehouse.connect(read_only=True) as con:
        evaluated = lineage.latest_artifact(con, "evaluation")
    if evaluated is None:
        raise dg.Failure("no evaluation has been recorded")
    decision = promotion.decide(evaluated["details"], gate)
    decision_id = f"gate_{evaluated['artifact_id'].removeprefix('eval_')}_{context.run.run_id[:8]}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=decision_id,
        kind="promotion_decision",
        path=None,
        sha256=None,
        parents={"evaluation": evaluated["artifact_id"], "adapter": evaluated["parents"]["adapter"]},
        details=decision.as_dict(),
        code_version=GATE_CODE,
    )
    context.log.info(decision.summary())
    return dg.AssetCheckResult(
        passed=decision.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=decision.summary(),
        metadata={
            "profile": gate.profile,
            "thresholds_label": gate.label,
            "gate_split": decision.split,
            "criteria": md_table(decision.criteria),
            "not_gated": dg.MetadataValue.md("\n".join(f"- {n}" for n in decision.notes) or "_none_"),
            "thresholds": dg.MetadataValue.json(gate.as_dict()),
            "evaluation_id": evaluated["artifact_id"],
            "promotion_decision_id": decision_id,
        },
    )
