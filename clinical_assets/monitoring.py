"""drift_reference: the profile of the training text that new batches are compared with; batch_drift:
the per-batch drift check on deidentified_notes (WARN only, never blocks ingestion)."""

import json
import time
from collections import Counter

import dagster as dg
import numpy as np

from clinical import drift, ids, lineage
from clinical.serving import monitor
from clinical.warehouse import fetch_dicts, insert_rows
from clinical_assets.dataset import sft_dataset
from clinical_assets.deidentify import deidentified_notes
from clinical_assets.metadata import _png_markdown, _pyplot, md_table
from clinical_assets.partitions import landing_batches
from clinical_assets.training import latest_dataset_version
from clinical_assets.versioning import code_version
from resources import RetrainingPolicy, Warehouse

DRIFT_CODE = code_version(drift)
ENTITY_SOURCE = "gold entities of the sft_dataset train split"


def latest_reference(con) -> dict | None:
    rows = fetch_dicts(
        con,
        "SELECT reference_version, dataset_version, profile FROM drift_references ORDER BY created_at DESC LIMIT 1",
    )
    return rows[0] if rows else None


def drift_config(policy: RetrainingPolicy) -> drift.DriftConfig:
    """The DriftConfig the sensor and the check share: the policy's threshold, else the default."""
    return drift.DriftConfig(**({"threshold": policy.threshold} if policy.threshold is not None else {}))


def length_histogram_plot(profile: dict, batch_texts: list[str]) -> dg.MetadataValue:
    """Note length (characters): the reference sample against the batch, as densities."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3), dpi=90)
    ref = np.array(profile["length_sample"], dtype=float)
    batch = np.array([len(t) for t in batch_texts], dtype=float)
    top = max(ref.max() if len(ref) else 1.0, batch.max() if len(batch) else 1.0)
    bins = np.linspace(0, top, 30)
    ax.hist(ref, bins=bins, density=True, alpha=0.5, label="reference")
    if len(batch):
        ax.hist(batch, bins=bins, density=True, alpha=0.5, label="batch")
    ax.set_title("note length")
    ax.set_xlabel("characters")
    ax.legend()
    return _png_markdown(fig, "note length")


def shifted_tokens_plot(statistics: dict) -> dg.MetadataValue:
    """Reference and batch rates of the in-vocabulary tokens that moved most (never OOV words)."""
    plt = _pyplot()
    rows = statistics.get("top_shifted_tokens", [])
    fig, ax = plt.subplots(figsize=(5.5, 3), dpi=90)
    xs = np.arange(len(rows))
    ax.bar(xs - 0.2, [r["reference_rate"] for r in rows], width=0.4, label="reference")
    ax.bar(xs + 0.2, [r["batch_rate"] for r in rows], width=0.4, label="batch")
    ax.set_xticks(xs, [r["token"] for r in rows], rotation=45, ha="right")
    ax.set_title("top shifted tokens")
    ax.set_ylabel("rate")
    ax.legend()
    return _png_markdown(fig, "top shifted tokens")


def report_metadata(report: drift.DriftReport) -> dict:
    """Numbers and tables of a DriftReport for the UI (identifiers and numbers only)."""
    stats = report.statistics
    rows = [
        {
            "statistic": name,
            "value": float(stats[name]),
            "z-score": float(stats["z_scores"][name]),
            "threshold (value)": float(stats["statistic_thresholds"][name]),
            "decides": "yes" if name == stats["decision_statistic"] else "",
        }
        for name in drift.DECISION_STATISTICS
        if name in stats.get("z_scores", {})
    ]
    reported = [
        {"statistic": name, "value": float(stats[name])}
        for name in (
            "token_psi",
            "header_jsd",
            "length_ks",
            "length_ks_p_value",
            "length_wasserstein",
            "oov_rate_diff",
            "embedding_mmd_permutation_p",
        )
        if name in stats
    ]
    return {
        "drifted": report.drifted,
        "score": dg.MetadataValue.float(float(report.score)),
        "threshold": dg.MetadataValue.float(float(report.threshold)),
        "decision_statistic": str(stats.get("decision_statistic")),
        "batch_size": int(stats["batch_size"]),
        "enough_data": bool(stats["enough_data"]),
        "decision_statistics": md_table(rows),
        "reported_statistics": md_table(reported),
        "combination_rule": stats.get("combination_rule", ""),
    }


def deployed_model_rates(con, gold_rates: dict[str, float]) -> dict:
    """Metadata: the entity types the latest deployed model predicted per note on its evaluation (the
    reference serving_monitor_sensor compares its served predictions with), beside the gold rates."""
    deployment = lineage.latest_artifact(con, "deployment")
    if deployment is None:
        return {"deployed_model": "none deployed yet: served predictions are compared with each served model's "
                "own evaluation once it is deployed (gold rates when it has none)"}  # fmt: skip
    bento_tag = deployment["details"].get("bento_tag")
    evaluated = monitor.evaluated_entity_rates(con, None, bento_tag)
    if evaluated is None:
        return {"deployed_model": f"{bento_tag}: no predicted entity rates recorded in its evaluation; the serving "
                "monitor compares it with the gold rates"}  # fmt: skip
    per_note = evaluated["predicted_per_note"]
    total = sum(per_note.values()) or 1.0
    rows = [
        {"type": t, "gold share": float(gold_rates.get(t, 0.0)), "model per note": float(per_note.get(t, 0.0)),
         "model share": round(per_note.get(t, 0.0) / total, 4)}
        for t in sorted(set(gold_rates) | set(per_note))
    ]  # fmt: skip
    return {
        "deployed_model": f"{bento_tag} (evaluation {evaluated['evaluation_id']}, {evaluated['split']} split, "
        f"{evaluated['documents']} notes)",
        "deployed_model_entity_rates": md_table(rows),
    }


@dg.asset(
    deps=[sft_dataset],
    group_name="monitoring",
    code_version=DRIFT_CODE,
    kinds={"duckdb", "numpy"},
    owners=["team:on-call"],
)
def drift_reference(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Profile of the de-identified training text (sft_dataset train split): word and character 3-gram
    distributions, note lengths, section headers, entity-type rates (gold entities of the dataset), a
    sample of all-MiniLM-L6-v2 embeddings and the calibrated null of each decision statistic. No text is
    stored. Its metadata also shows the entity types the latest deployed model predicted per note on its
    evaluation: serving_monitor_sensor compares each served model with its own evaluated rates, and with
    these gold rates only when a model has none recorded.
    The drift sensor and the batch_drift check compare every new de-identified batch with it."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        version = latest_dataset_version(con)
        rows = fetch_dicts(
            con,
            "SELECT text, entities, parents FROM sft_examples WHERE dataset_version = ? AND split = 'train' "
            "ORDER BY example_id",
            [version],
        )
    texts = [r["text"] for r in rows]
    # Chunks of one source record stay on one side of the calibration split.
    groups = [(json.loads(r["parents"]) if isinstance(r["parents"], str) else r["parents"])[0] for r in rows]
    entity_counts: Counter = Counter()
    for r in rows:
        entities = json.loads(r["entities"]) if isinstance(r["entities"], str) else r["entities"]
        entity_counts.update(e.get("type", "other") for e in entities)
    profile = drift.build_profile(texts, entity_counts=dict(entity_counts), entity_source=ENTITY_SOURCE, groups=groups)
    reference_version = ids.content_hash(profile)
    with warehouse.connect(read_only=True) as con:
        deployed = deployed_model_rates(con, profile["entity_type_rates"])
    with warehouse.connect() as con:
        con.execute("DELETE FROM drift_references WHERE reference_version = ?", [reference_version])
        insert_rows(
            con,
            "drift_references",
            [
                {
                    "reference_version": reference_version,
                    "dataset_version": version,
                    "profile": profile,
                    "run_id": context.run.run_id,
                }
            ],
        )
    calibration = profile["calibration"]
    null_rows = [
        {"statistic": name, "batch size": size, "null mean": mean, "null sd": sd}
        for name in drift.DECISION_STATISTICS
        if name in calibration
        for size, mean, sd in zip(calibration["sizes"], calibration[name]["mean"], calibration[name]["sd"], strict=True)
    ]
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "reference_version": reference_version,
            "dataset_version": version,
            "texts": len(texts),
            "fit_texts": profile["n_fit_texts"],
            "calibration_texts": profile["n_calibration_texts"],
            "calibration_held_out": profile["calibration_held_out"],
            "embedding_model": str(profile["embedding_model"]),
            "embeddings_kept": len(profile["embeddings"]),
            "entity_source": ENTITY_SOURCE,
            "entity_type_rates": md_table(
                [{"type": k, "rate": float(v)} for k, v in profile["entity_type_rates"].items()]
            ),
            **deployed,
            "calibrated_null": md_table(null_rows),
            "default_threshold": drift.DriftConfig().threshold,
            "decision_statistics": ", ".join(drift.DECISION_STATISTICS),
        },
        data_version=dg.DataVersion(reference_version),
    )


@dg.asset_check(
    asset=deidentified_notes,
    blocking=False,
    partitions_def=landing_batches,
    description=(
        "Drift of this batch against the latest drift_reference, with the drift sensor's own logic and "
        "threshold (clinical.drift.compare): z-scores of token JSD, character 3-gram JSD and embedding MMD, "
        "length KS/Wasserstein, header JSD, plots of note length and top shifted tokens. WARN only: it "
        "never blocks ingestion; the drift sensor decides about retraining."
    ),
)
def batch_drift(
    context: dg.AssetCheckExecutionContext, warehouse: Warehouse, retraining_policy: RetrainingPolicy
) -> dg.AssetCheckResult:
    result = batch_drift_result(warehouse, retraining_policy, context.partition_key)
    context.log.info(f"drift {context.partition_key}: {result.metadata.get('status') or result.metadata['score']}")
    return result


def batch_drift_result(warehouse: Warehouse, retraining_policy: RetrainingPolicy, batch: str) -> dg.AssetCheckResult:
    """The batch_drift evaluation of one batch (WARN severity; passed = not drifted)."""
    config = drift_config(retraining_policy)
    with warehouse.connect(read_only=True) as con:
        reference = latest_reference(con)
        texts = [r["text"] for r in fetch_dicts(con, "SELECT text FROM deidentified_notes WHERE batch = ?", [batch])]
    if reference is None:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"status": "no drift reference yet: materialize drift_reference", "batch_size": len(texts)},
        )
    profile = json.loads(reference["profile"])
    if profile.get("version") != drift.PROFILE_VERSION:
        return dg.AssetCheckResult(
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"status": f"drift reference is {profile.get('version')}: materialize drift_reference again"},
        )
    started = time.perf_counter()
    report = drift.compare(profile, texts, config)
    return dg.AssetCheckResult(
        passed=not report.drifted,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            **report_metadata(report),
            "reference_version": reference["reference_version"][:16],
            "seconds": round(time.perf_counter() - started, 3),
            "length_histogram": length_histogram_plot(profile, texts),
            "top_shifted_tokens": shifted_tokens_plot(report.statistics),
        },
    )
