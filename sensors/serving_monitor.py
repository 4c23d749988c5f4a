"""serving_monitor_sensor: checks served traffic window by window and alerts on-call; optionally
requests retraining after K drifted windows, with the drift sensor's gates.

Each tick reads the complete, non-overlapping windows of `window_minutes` since the last one it
checked (clinical.serving.monitor store; no text there) and judges each with `check_window`:
- error rate (5xx share) above `max_error_rate` -> alert `serving.error_rate` (retraining does not fix
  a broken service, so it never requests a run);
- invalid-JSON rate above `max_invalid_json_rate` -> alert `serving.invalid_json`, and the window drifted;
- entity-type rates of each served model version's predictions against the rates THAT model predicted
  on its evaluation (held-out test split; clinical.serving.monitor.entity_reference, through lineage:
  release -> deployment -> evaluation, or model tag -> Bento -> merged model -> adapter -> evaluation),
  else, said in the tick's reason and the alert, against the gold rates of drift_reference: bootstrap
  p-value below `entity_p_value` and JSD above `min_entity_jsd` -> alert `serving.prediction_drift`, and
  the window drifted. A model biased towards some types is compared with its own bias, so it does not
  look drifted from its first window; a move away from what it did on its evaluation does.
Windows with fewer than `min_requests` requests are reported, never judged. With
`request_retraining`, drifted windows go through `sensors.drift.evaluate` (K consecutive, pause,
already running, minimum interval; run key `serving:<windows>`; tag clinical/trigger=serving).
"""

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import dagster as dg

from clinical import drift
from clinical.serving import monitor
from clinical_assets.jobs import training_job
from clinical_assets.monitoring import latest_reference
from resources import Alerting, RetrainingPolicy, ServingMonitor, Warehouse
from sensors.drift import evaluate, read_gates

MAX_WINDOWS_PER_TICK = 48
CHECKED_KEPT = 200
SCORE_THRESHOLD = 1.0


@dataclass(frozen=True)
class WindowCheck:
    """One judged window: `report` feeds the retraining gates; `alerts` are (event, summary, fields)."""

    key: str
    summary: dict
    report: drift.DriftReport
    alerts: list[tuple[str, str, dict]]


def window_key(start: float) -> str:
    return "serving@" + time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(start))


References = Callable[[str, Mapping], monitor.EntityReference]
"""model key (clinical.serving.monitor.model_key) and its `by_model` summary -> what it is compared with."""
NO_REFERENCE = monitor.EntityReference(rates={}, source="none", label="no entity-type rates to compare with")


def fixed_reference(rates: Mapping[str, float], label: str = "gold entity-type rates of drift_reference") -> References:
    """One reference for every model version (e.g. gold rates; used when no warehouse is at hand)."""
    reference = monitor.EntityReference(rates=dict(rates), source="gold", label=label) if rates else NO_REFERENCE
    return lambda _key, _group: reference


def lineage_references(con, gold_rates: Mapping[str, float], summaries: list[dict]) -> References:
    """Each model version's own evaluated rates (else gold), for every model in `summaries`, resolved
    once while `con` is open; the returned resolver needs no connection."""
    resolved: dict[str, monitor.EntityReference] = {}
    for summary in summaries:
        for key, group in (summary.get("by_model") or {}).items():
            if key not in resolved:
                model = None if key == monitor.UNKNOWN_MODEL else key
                release = (group.get("releases") or [None])[-1]
                found = monitor.entity_reference(con, model, release, gold_rates)
                resolved[key] = found if found.rates else NO_REFERENCE
    fallback = fixed_reference(gold_rates)
    return lambda key, group: resolved.get(key) or fallback(key, group)


def entity_checks(summary: dict, references: References | Mapping[str, float], limits: ServingMonitor) -> list[dict]:
    """Entity-type shift of each model version served in the window against its reference, most
    drifted first (ratio of JSD to min_entity_jsd when the p-value is below entity_p_value, else 0)."""
    resolve = references if callable(references) else fixed_reference(references)
    groups = summary.get("by_model") or {
        monitor.UNKNOWN_MODEL: {"successful": summary.get("successful", 0), "entity_counts": summary["entity_counts"]}
    }
    checks = []
    for key, group in groups.items():
        if not group.get("entity_counts"):
            continue
        reference = resolve(key, group)
        shift = (
            drift.entity_rate_shift(
                reference.rates,
                group["entity_counts"],
                requests=group.get("successful"),
                reference_per_note=reference.per_note,
            )
            if reference.rates
            else {"entity_jsd": 0.0, "p_value": 1.0, "observed_entities": 0, "by_type": []}
        )
        significant = shift["p_value"] < limits.entity_p_value
        checks.append(
            {
                "model_version": key,
                "reference": reference,
                "shift": shift,
                "ratio": shift["entity_jsd"] / max(limits.min_entity_jsd, 1e-9) if significant else 0.0,
                "significant": significant,
            }
        )
    checks.sort(key=lambda c: -c["ratio"])
    return checks


def reference_rows(checks: list[dict]) -> list[dict]:
    """What each model version was compared with (for tick reasons, alerts and logs; no text)."""
    return [
        {
            "model_version": c["model_version"],
            "reference": c["reference"].source,
            "evaluation_id": c["reference"].evaluation_id,
            "entity_jsd": round(c["shift"]["entity_jsd"], 4),
            "p_value": round(c["shift"]["p_value"], 4),
            "entities": c["shift"]["observed_entities"],
        }
        for c in checks
    ]


def reference_field(model_version: str, reference: monitor.EntityReference) -> str:
    """The alert's `reference` field (identifiers only): the model and what its rates were compared with."""
    if reference.source == "evaluation":
        return f"{model_version} vs its evaluation {reference.evaluation_id} (test split)"
    if reference.source == "gold":
        return f"{model_version} vs gold rates of drift_reference (no predicted rates recorded for it)"
    return f"{model_version}: no reference rates"


def check_window(
    key: str, summary: dict, references: References | Mapping[str, float], limits: ServingMonitor
) -> WindowCheck:
    """Judge one window's summary (clinical.serving.monitor.summarize) against the limits.

    `references` gives each served model version's reference rates (`lineage_references`); a plain
    dict of rates is one reference for all. `report.score` is the largest ratio of a retraining-relevant
    statistic to its limit (invalid-JSON rate / max_invalid_json_rate; entity JSD / min_entity_jsd of the
    most drifted model version when its p-value is below entity_p_value); the window drifted when it has
    enough requests and the score exceeds 1.
    """
    n = summary["requests"]
    enough = n >= limits.min_requests
    checks = entity_checks(summary, references, limits)
    worst = checks[0] if checks else None
    shift = worst["shift"] if worst else {"entity_jsd": 0.0, "p_value": 1.0, "observed_entities": 0, "by_type": []}
    ratios = {"invalid_json_rate": summary["invalid_json_rate"] / max(limits.max_invalid_json_rate, 1e-9)}
    if worst is not None and worst["significant"]:
        ratios["entity_jsd"] = worst["ratio"]
    decision = max(ratios, key=ratios.get)
    score = float(ratios[decision])
    statistics = {
        "requests": n,
        "batch_size": n,
        "unit": "requests",
        "enough_data": enough,
        "decision_statistic": decision,
        "error_rate": summary["error_rate"],
        "invalid_json_rate": summary["invalid_json_rate"],
        "entity_jsd": shift["entity_jsd"],
        "entity_p_value": shift["p_value"],
        "entity_model_version": worst["model_version"] if worst else None,
        "entity_reference": worst["reference"].label if worst else NO_REFERENCE.label,
        "entity_reference_source": worst["reference"].source if worst else NO_REFERENCE.source,
        "entity_by_type": shift["by_type"],
        "entity_references": reference_rows(checks),
        "releases": summary["releases"],
    }
    report = drift.DriftReport(
        drifted=bool(enough and score > SCORE_THRESHOLD), score=score, threshold=SCORE_THRESHOLD, statistics=statistics
    )
    base = {"batches": [key], "requests": n, "sensor": "serving_monitor_sensor", "release": summary["releases"]}
    alerts: list[tuple[str, str, dict]] = []
    if enough and summary["error_rate"] > limits.max_error_rate:
        rate = round(summary["error_rate"], 4)
        alerts.append(
            (
                "serving.error_rate",
                f"serving {key}: error rate {rate} > {limits.max_error_rate} over {n} requests",
                {**base, "error_rate": rate, "threshold": limits.max_error_rate,
                 "error_class": list(summary["error_classes"])},
            )
        )  # fmt: skip
    if enough and summary["invalid_json_rate"] > limits.max_invalid_json_rate:
        rate = round(summary["invalid_json_rate"], 4)
        alerts.append(
            (
                "serving.invalid_json",
                f"serving {key}: invalid-JSON rate {rate} > {limits.max_invalid_json_rate} over {n} requests",
                {**base, "invalid_json_rate": rate, "threshold": limits.max_invalid_json_rate},
            )
        )
    if enough and "entity_jsd" in ratios and ratios["entity_jsd"] > SCORE_THRESHOLD:
        jsd = round(shift["entity_jsd"], 4)
        reference = worst["reference"]
        alerts.append(
            (
                "serving.prediction_drift",
                f"serving {key}: entity-type rates of {worst['model_version']} drifted (JSD {jsd} > "
                f"{limits.min_entity_jsd}, p {shift['p_value']:.4f}) over {shift['observed_entities']} entities "
                f"against {reference.label}",
                {**base, "entity_jsd": jsd, "threshold": limits.min_entity_jsd, "score": round(score, 4),
                 "reference": reference_field(worst["model_version"], reference)},
            )
        )  # fmt: skip
    return WindowCheck(key=key, summary=summary, report=report, alerts=alerts)


def due_windows(window_end: float | None, now: float, minutes: float) -> tuple[list[tuple[float, float]], float]:
    """Complete windows not checked yet (at most MAX_WINDOWS_PER_TICK, the latest) and the new cursor end.

    :param window_end: end of the last checked window (None on the first tick: only the last complete one).
    :param now: current time in seconds since the epoch.
    :param minutes: window length.
    """
    width = minutes * 60
    last_complete_end = math.floor(now / width) * width
    start = last_complete_end - width if window_end is None else window_end
    windows = []
    while start + width <= last_complete_end + 1e-6:
        windows.append((start, start + width))
        start += width
    return windows[-MAX_WINDOWS_PER_TICK:], (windows[-1][1] if windows else (window_end or start))


def read_windows(limits: ServingMonitor, window_end: float | None, now: float) -> tuple[list[tuple[str, dict]], float]:
    """(window key, summary) of the due windows from the request store, and the new cursor end."""
    windows, new_end = due_windows(window_end, now, limits.window_minutes)
    summaries = []
    for start, end in windows:
        log = monitor.read_requests(limits.directory, since=start, until=end)
        summaries.append((window_key(start), monitor.summarize(log.records)))
    return summaries, new_end


def check_windows(
    limits: ServingMonitor, references: References | Mapping[str, float], window_end: float | None, now: float
) -> tuple[list[WindowCheck], float]:
    """Read and judge the due windows from the request store."""
    summaries, new_end = read_windows(limits, window_end, now)
    return [check_window(key, summary, references, limits) for key, summary in summaries], new_end


def _describe(check: WindowCheck) -> str:
    s = check.report.statistics
    if not s["enough_data"]:
        return f"{check.key}: {s['requests']} requests, too few"
    return (
        f"{check.key}: {s['requests']} requests, errors {s['error_rate']:.3f}, invalid JSON "
        f"{s['invalid_json_rate']:.3f}, entity JSD {s['entity_jsd']:.3f} (p {s['entity_p_value']:.3g}"
        + (f", {s['entity_model_version']} against {s['entity_reference']})" if s["entity_model_version"] else ")")
    )


def _reference_note(checks: list[WindowCheck]) -> str:
    """Says which served models were compared with gold rates instead of their own evaluation, or that
    prediction drift could not be checked at all."""
    rows = [r for c in checks for r in c.report.statistics["entity_references"]]
    if not rows:
        return ""
    gold = sorted({r["model_version"] for r in rows if r["reference"] == "gold"})
    missing = sorted({r["model_version"] for r in rows if r["reference"] == "none"})
    notes = []
    if gold:
        notes.append(
            f"gold rates of drift_reference used for {', '.join(gold)} (no predicted rates recorded "
            "for that model in an evaluation)"
        )
    if missing:
        notes.append(f"prediction drift not checked for {', '.join(missing)} (no evaluated or gold entity rates)")
    return f" ({'; '.join(notes)})" if notes else ""


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Served traffic per window (clinical.serving.monitor store, no text): alerts on error rate, invalid JSON "
        "and entity-type drift of each served model against its own evaluation's predictions (else the gold rates "
        "of drift_reference); requests training_job after K drifted windows only when "
        "ServingMonitor.request_retraining is set (same gates as drift_sensor)."
    ),
)
def serving_monitor_sensor(
    context: dg.SensorEvaluationContext,
    warehouse: Warehouse,
    serving_monitor: ServingMonitor,
    retraining_policy: RetrainingPolicy,
    alerting: Alerting,
) -> dg.SensorResult | dg.SkipReason:
    state = json.loads(context.cursor) if context.cursor else {}
    now = time.time()
    summaries, new_end = read_windows(serving_monitor, state.get("window_end"), now)
    with warehouse.connect(read_only=True) as con:
        reference = latest_reference(con)
        ref_version = reference["reference_version"] if reference else "none"
        profile = json.loads(reference["profile"]) if reference else {}
        gold = profile.get("entity_type_rates") or {}
        references = lineage_references(con, gold, [summary for _key, summary in summaries])
    checks = [check_window(key, summary, references, serving_monitor) for key, summary in summaries]
    if not checks:
        return dg.SkipReason(f"no complete {serving_monitor.window_minutes:g}-minute window since the last check")
    for check in checks:
        context.log.info(_describe(check))
        for row in check.report.statistics["entity_references"]:
            context.log.info(
                f"{check.key}: entity rates of {row['model_version']} against {row['reference']} "
                f"({row['evaluation_id'] or 'no evaluation with predicted rates'}): {json.dumps(row)}"
            )
        for alert in check.alerts:
            delivery = alerting.send(*alert)
            context.log.info(f"alert {alert[0]} delivered by {delivery}")
    described = "; ".join(_describe(c) for c in checks) + _reference_note(checks)
    if not serving_monitor.request_retraining:
        cursor = json.dumps({**state, "window_end": new_end}, sort_keys=True)
        alarms = sum(len(c.alerts) for c in checks)
        return dg.SensorResult(
            skip_reason=f"alert only (request_retraining off), {alarms} alerts: {described}", cursor=cursor
        )
    # Windows with too few requests (nights, outages) neither extend nor end a run of drifted windows.
    reports = [(c.key, f"{ref_version}:{c.key}", c.report) for c in checks if c.report.statistics["enough_data"]]
    gates = read_gates(context.instance, retraining_policy, now)
    decision = evaluate(
        state, ref_version, reports, SCORE_THRESHOLD, retraining_policy.consecutive_batches, gates, trigger="serving"
    )
    new_state = {**decision.state, "window_end": new_end}
    new_state["checked"] = dict(list(new_state["checked"].items())[-CHECKED_KEPT:])
    if decision.alert is not None:
        delivery = alerting.send(*decision.alert)
        context.log.info(f"alert {decision.alert[0]} delivered by {delivery}")
    cursor = json.dumps(new_state, sort_keys=True)
    if decision.kind == "nothing_new":
        return dg.SensorResult(skip_reason=f"no window with enough requests: {described}", cursor=cursor)
    if decision.kind != "request":
        return dg.SensorResult(skip_reason=f"{decision.message}; {described}", cursor=cursor)
    context.log.info(decision.message)
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=decision.run_key, tags=decision.tags)], cursor=cursor)
