"""drift_sensor: compares each new de-identified batch with the training reference and requests
retraining when enough batches in a row drift past the threshold, unless retraining is paused, already
running, or the last retrain was too recent.

The decision is `evaluate`, a plain function of the cursor state, the drift reports and the gates, so
tests call it directly; `drift_sensor` only reads the warehouse, the instance and the pause file, sends
alerts and returns what `evaluate` decided. Every tick says why it did or did not request a run.
"""

import json
import os
import time
from dataclasses import dataclass, field

import dagster as dg

from clinical import drift
from clinical.warehouse import fetch_dicts
from clinical_assets.jobs import training_job
from clinical_assets.monitoring import drift_config, latest_reference
from resources import Alerting, RetrainingPolicy, Warehouse

ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
ALERTED_KEPT = 50
RESUME_HINT = "resume with `clinical retraining resume`"


def batch_fingerprints(con) -> dict[str, str]:
    """Each de-identified batch with a hash of its content (a re-ingested batch is checked again), in
    order of arrival (landing_sources.ingested_at, then batch key), so "consecutive" means consecutive."""
    rows = fetch_dicts(
        con,
        "SELECT n.batch, sha256(string_agg(n.text_sha256, ',' ORDER BY n.note_id)) AS fingerprint, "
        "min(l.ingested_at) AS arrived FROM deidentified_notes n LEFT JOIN landing_sources l ON l.batch = n.batch "
        "GROUP BY n.batch ORDER BY arrived NULLS LAST, n.batch",
    )
    return {r["batch"]: r["fingerprint"] for r in rows}


def batch_texts(con, batch: str) -> list[str]:
    return [r["text"] for r in fetch_dicts(con, "SELECT text FROM deidentified_notes WHERE batch = ?", [batch])]


@dataclass(frozen=True)
class Gates:
    """What can hold a retraining request back, as read at tick time.

    :param pause: the pause record (`resources.retraining.read_pause`), None when not paused.
    :param active_run: (run id, status) of a queued or running training_job run, or None.
    :param last_run: (run id, start timestamp in seconds) of the newest training_job run, or None.
    :param min_interval_minutes: minimum time between the start of one retrain and the next request.
    :param now: current time in seconds since the epoch.
    """

    pause: dict | None = None
    active_run: tuple[str, str] | None = None
    last_run: tuple[str, float] | None = None
    min_interval_minutes: float = 0.0
    now: float = 0.0


@dataclass(frozen=True)
class Decision:
    """Outcome of one tick: `kind` is request, below_threshold, waiting, paused, running, min_interval or
    nothing_new; `message` is the skip reason shown in the UI; `alert` is (event, summary, fields) or None."""

    kind: str
    message: str
    state: dict
    run_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    alert: tuple[str, str, dict] | None = None


def _scores(reports: list[tuple[str, str, drift.DriftReport]]) -> str:
    parts = []
    for batch, _version, report in reports:
        stats = report.statistics
        note = (
            ""
            if stats.get("enough_data", True)
            else f" ({stats.get('batch_size')} {stats.get('unit', 'notes')}, too few)"
        )
        statistic = f" {stats['decision_statistic']}" if stats.get("decision_statistic") else ""
        parts.append(f"{batch}: {report.score:.3f}{statistic}{note}")
    return ", ".join(parts)


def _label(trigger: str) -> str:
    return "drift" if trigger == "drift" else f"{trigger} drift"


def _streak_text(streak: list[dict], threshold: float) -> str:
    return ", ".join(f"{s['batch']} {s['score']:.3f}" for s in streak) + f" > threshold {threshold:.3f}"


def update_streak(state: dict, reference: str, reports: list[tuple[str, str, drift.DriftReport]]) -> dict:
    """New cursor state after checking `reports` (batch, version, report) in order of arrival.

    A drifted batch extends the run of consecutive drifted batches; a batch that did not drift ends it.
    A new reference starts afresh (scores against another reference are not comparable).
    """
    same_reference = state.get("reference") == reference
    streak = list(state.get("streak", [])) if same_reference else []
    checked = dict(state.get("checked", {}))
    for batch, version, report in reports:
        checked[batch] = version
        streak = [s for s in streak if s["batch"] != batch]
        if report.drifted:
            statistic = str(report.statistics.get("decision_statistic", ""))
            streak.append({"batch": batch, "version": version, "score": round(report.score, 6), "statistic": statistic})
        else:
            streak = []
    return {
        "checked": checked,
        "reference": reference,
        "streak": streak,
        "alerted": list(state.get("alerted", [])) if same_reference else [],
    }


def evaluate(
    state: dict,
    reference: str,
    reports: list[tuple[str, str, drift.DriftReport]],
    threshold: float,
    consecutive_batches: int,
    gates: Gates,
    trigger: str = "drift",
) -> Decision:
    """Decide one tick of the drift sensor (or, with trigger="serving", of the serving monitor).

    :param state: the cursor state of the previous tick (`{}` on the first).
    :param reference: version of the drift reference the batches were compared with.
    :param reports: (batch, version, DriftReport) of the batches new since the last tick, in order of arrival.
    :param threshold: the drift threshold in force (for messages and tags).
    :param consecutive_batches: drifted batches in a row needed before retraining.
    :param gates: pause, running and rate-limit state at tick time.
    :param trigger: names the run key prefix, the `clinical/trigger` tag and the alert events.
    """
    new_state = update_streak(state, reference, reports)
    streak = new_state["streak"]
    scores = _scores(reports)
    if len(streak) < consecutive_batches:
        note = f" (retraining paused by {gates.pause.get('paused_by')})" if gates.pause is not None else ""
        if streak:
            message = (
                f"waiting for {consecutive_batches} consecutive drifted batches: {len(streak)} so far "
                f"({_streak_text(streak, threshold)})"
            )
            return Decision("waiting", message + (f"; checked {scores}" if reports else "") + note, new_state)
        if not reports:
            return Decision("nothing_new", "no new de-identified batches since the last check" + note, new_state)
        return Decision("below_threshold", f"below threshold {threshold:.3f}: {scores}" + note, new_state)

    run_key = f"{trigger}:" + ",".join(f"{s['batch']}@{s['version'][-12:]}" for s in streak)
    worst = max(streak, key=lambda s: s["score"])
    fields = {
        "batches": [s["batch"] for s in streak],
        "score": round(worst["score"], 4),
        "threshold": round(threshold, 4),
        "reference": reference[:16],
        "run_key": run_key,
        "consecutive_batches": consecutive_batches,
    }
    waiting = f"drifted batches wait: {_streak_text(streak, threshold)}"
    hold = None
    if gates.pause is not None:
        pause = gates.pause
        hold = (
            "paused",
            f"paused by {pause.get('paused_by')} at {pause.get('paused_at')} ({pause.get('reason')}); "
            f"{waiting}; {RESUME_HINT}",
            {"paused_by": pause.get("paused_by")},
        )
    elif gates.active_run is not None:
        run_id, status = gates.active_run
        hold = ("running", f"retraining already running (run {run_id}, {status}); {waiting}", {"last_run_id": run_id})
    elif gates.last_run is not None and gates.min_interval_minutes > 0:
        run_id, started = gates.last_run
        elapsed_min = (gates.now - started) / 60
        if elapsed_min < gates.min_interval_minutes:
            hold = (
                "min_interval",
                f"minimum interval {gates.min_interval_minutes:g} min between retrains: last training_job run "
                f"{run_id} started {elapsed_min:.0f} min ago, next request in "
                f"{gates.min_interval_minutes - elapsed_min:.0f} min; {waiting}",
                {"last_run_id": run_id, "min_interval_minutes": gates.min_interval_minutes},
            )
    if hold is not None:
        kind, message, extra = hold
        alert = None
        alert_key = f"{kind}:{run_key}"
        # Only paused and rate-limited drift wakes people up, once per held set of batches; a running
        # retrain is already the answer to the drift.
        if kind in {"paused", "min_interval"} and alert_key not in new_state["alerted"]:
            new_state["alerted"] = [*new_state["alerted"], alert_key][-ALERTED_KEPT:]
            alert = (
                f"{trigger}.retraining_{kind}",
                f"{_label(trigger)} in {', '.join(fields['batches'])} "
                f"(score {fields['score']} > {fields['threshold']}) but retraining is held: {kind.replace('_', ' ')}",
                {**fields, **extra, "held_because": kind},
            )
        return Decision(kind, message, new_state, run_key=run_key, alert=alert)

    new_state["streak"] = []
    tags = {
        "clinical/trigger": trigger,
        "clinical/drift_batches": ",".join(fields["batches"]),
        "clinical/drift_score": f"{worst['score']:.4f}",
        "clinical/drift_threshold": f"{threshold:.4f}",
        "clinical/drift_reference": reference[:16],
        "clinical/drift_consecutive": str(consecutive_batches),
        "clinical/drift_statistic": str(worst.get("statistic") or ""),
    }
    alert = (
        f"{trigger}.retraining_requested",
        f"{_label(trigger)} in {', '.join(fields['batches'])} (score {fields['score']} > {fields['threshold']}): "
        "training_job requested",
        fields,
    )
    message = f"requested training_job for {_streak_text(streak, threshold)}"
    return Decision("request", message, new_state, run_key=run_key, tags=tags, alert=alert)


def read_gates(instance: dg.DagsterInstance, policy: RetrainingPolicy, now: float) -> Gates:
    """The pause file and the training_job runs the gates depend on."""
    active = instance.get_run_records(dg.RunsFilter(job_name=training_job.name, statuses=ACTIVE_STATUSES), limit=1)
    last = instance.get_run_records(dg.RunsFilter(job_name=training_job.name), limit=1)
    last_run = None
    if last:
        record = last[0]
        started = record.start_time if record.start_time is not None else record.create_timestamp.timestamp()
        last_run = (record.dagster_run.run_id, started)
    return Gates(
        pause=policy.pause_state(),
        active_run=(active[0].dagster_run.run_id, active[0].dagster_run.status.value) if active else None,
        last_run=last_run,
        min_interval_minutes=policy.min_interval_minutes,
        now=now,
    )


def _default_status() -> dg.DefaultSensorStatus:
    # Off by default on a laptop: a drift-triggered retrain of SmolLM2 takes minutes of CPU.
    running = os.environ.get("CLINICAL_DRIFT_SENSOR", "").lower() == "running"
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=60,
    default_status=_default_status(),
    description=(
        "Drift of new de-identified batches against the training reference; requests training_job after "
        "K drifted batches in a row unless paused (clinical retraining pause), already running or rate-limited."
    ),
)
def drift_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: Warehouse,
    retraining_policy: RetrainingPolicy,
    alerting: Alerting,
) -> dg.SensorResult | dg.SkipReason:
    state = json.loads(context.cursor) if context.cursor else {}
    config = drift_config(retraining_policy)
    with warehouse.connect(read_only=True) as con:
        reference = latest_reference(con)
        if reference is None:
            return dg.SkipReason("no drift reference yet: materialize drift_reference")
        ref_version = reference["reference_version"]
        checked = state.get("checked", {})
        pending = {
            batch: f"{ref_version}:{fp}"
            for batch, fp in batch_fingerprints(con).items()
            if checked.get(batch) != f"{ref_version}:{fp}"
        }
        profile = json.loads(reference["profile"])
        if profile.get("version") != drift.PROFILE_VERSION:
            return dg.SkipReason(
                f"drift reference {ref_version[:16]} is {profile.get('version')}, not {drift.PROFILE_VERSION}: "
                "materialize drift_reference again"
            )
        reports = [(b, v, drift.compare(profile, batch_texts(con, b), config)) for b, v in pending.items()]
    for batch, _version, report in reports:
        context.log.info(
            f"drift {batch}: score {report.score:.4f} ({report.statistics.get('decision_statistic')}) "
            f"threshold {report.threshold:.4f}"
        )
    gates = read_gates(context.instance, retraining_policy, time.time())
    decision = evaluate(state, ref_version, reports, config.threshold, retraining_policy.consecutive_batches, gates)
    if decision.kind == "nothing_new":
        return dg.SkipReason(decision.message)
    if decision.alert is not None:
        delivery = alerting.send(*decision.alert)
        context.log.info(f"alert {decision.alert[0]} delivered by {delivery}")
    cursor = json.dumps(decision.state, sort_keys=True)
    if decision.kind != "request":
        return dg.SensorResult(skip_reason=decision.message, cursor=cursor)
    context.log.info(decision.message)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=decision.run_key, tags=decision.tags)],
        cursor=cursor,
    )
