"""drift_sensor: compares each new de-identified batch with the training reference and requests
retraining when the drift score passes the threshold."""

import json
import os

import dagster as dg

from clinical import drift
from clinical.warehouse import fetch_dicts
from clinical_assets.jobs import training_job
from clinical_assets.monitoring import latest_reference
from resources import Warehouse

ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def batch_fingerprints(con) -> dict[str, str]:
    """Each de-identified batch with a hash of its content (a re-ingested batch is checked again)."""
    rows = fetch_dicts(
        con,
        "SELECT batch, sha256(string_agg(text_sha256, ',' ORDER BY note_id)) AS fingerprint "
        "FROM deidentified_notes GROUP BY batch ORDER BY batch",
    )
    return {r["batch"]: r["fingerprint"] for r in rows}


def batch_texts(con, batch: str) -> list[str]:
    return [r["text"] for r in fetch_dicts(con, "SELECT text FROM deidentified_notes WHERE batch = ?", [batch])]


def _default_status() -> dg.DefaultSensorStatus:
    # Off by default on a laptop: a drift-triggered retrain of SmolLM2 takes minutes of CPU.
    running = os.environ.get("CLINICAL_DRIFT_SENSOR", "").lower() == "running"
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=_default_status(),
    description="Drift of new de-identified batches against the training reference; requests training_job.",
)
def drift_sensor(context: dg.SensorEvaluationContext, warehouse: Warehouse) -> dg.SensorResult | dg.SkipReason:
    state = json.loads(context.cursor) if context.cursor else {"checked": {}}
    config = drift.DriftConfig()
    with warehouse.connect(read_only=True) as con:
        reference = latest_reference(con)
        if reference is None:
            return dg.SkipReason("no drift reference yet: materialize drift_reference")
        ref_version = reference["reference_version"]
        pending = {
            batch: f"{ref_version}:{fp}"
            for batch, fp in batch_fingerprints(con).items()
            if state["checked"].get(batch) != f"{ref_version}:{fp}"
        }
        if not pending:
            return dg.SkipReason("no new de-identified batches since the last check")
        profile = json.loads(reference["profile"])
        reports = {batch: drift.compare(profile, batch_texts(con, batch), config) for batch in pending}
    drifted = {b: r for b, r in reports.items() if r.drifted}
    summary = ", ".join(f"{b}: {r.score:.3f}" for b, r in sorted(reports.items()))
    for batch, report in sorted(reports.items()):
        context.log.info(f"drift {batch}: score {report.score:.4f} threshold {report.threshold:.4f}")
    if drifted and context.instance.get_run_records(
        dg.RunsFilter(job_name=training_job.name, statuses=ACTIVE_STATUSES), limit=1
    ):
        checked = {**state["checked"], **{b: pending[b] for b in reports if b not in drifted}}
        return dg.SensorResult(
            skip_reason=f"retraining already running; drifted batches wait: {', '.join(sorted(drifted))}",
            cursor=json.dumps({"checked": checked}, sort_keys=True),
        )
    checked = {**state["checked"], **pending}
    if not drifted:
        return dg.SensorResult(
            skip_reason=f"below threshold {config.threshold:.3f}: {summary}",
            cursor=json.dumps({"checked": checked}, sort_keys=True),
        )
    worst = max(drifted.items(), key=lambda item: item[1].score)
    run_key = "drift:" + ",".join(f"{b}@{pending[b][-12:]}" for b in sorted(drifted))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                tags={
                    "clinical/trigger": "drift",
                    "clinical/drift_batches": ",".join(sorted(drifted)),
                    "clinical/drift_score": f"{worst[1].score:.4f}",
                    "clinical/drift_threshold": f"{config.threshold:.4f}",
                    "clinical/drift_reference": ref_version[:16],
                },
            )
        ],
        cursor=json.dumps({"checked": checked}, sort_keys=True),
    )
