"""serving_monitor_sensor: checks served traffic window by window and alerts on-call; optionally
requests retraining after K drifted windows, with the drift sensor's gates.

Each tick reads the complete, non-overlapping windows of `window_minutes` since the last one it
checked (clinical.serving.monitor store; no text there) and judges each with `check_window`:
- error rate (5xx share) above `max_error_rate` -> alert `serving.error_rate` (retraining does not fix
  a broken service, so it never requests a run);
- invalid-JSON rate above `max_invalid_json_rate` -> alert `serving.invalid_json`, and the window drifted;
- entity-type rates of the predictions against the reference profile's rates (drift_reference):
  bootstrap p-value below `entity_p_value` and JSD above `min_entity_jsd` -> alert
  `serving.prediction_drift`, and the window drifted.
Windows with fewer than `min_requests` requests are reported, never judged. With
`request_retraining`, drifted windows go through `sensors.drift.evaluate` (K consecutive, pause,
already running, minimum interval; run key `serving:<windows>`; tag clinical/trigger=serving).
"""

import json
import math
import time
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


def check_window(key: str, summary: dict, reference_rates: dict[str, float], limits: ServingMonitor) -> WindowCheck:
    """Judge one window's summary (clinical.serving.monitor.summarize) against the limits.

    `report.score` is the largest ratio of a retraining-relevant statistic to its limit (invalid-JSON
    rate / max_invalid_json_rate; entity JSD / min_entity_jsd when its p-value is below entity_p_value);
    the window drifted when it has enough requests and the score exceeds 1.
    """
    n = summary["requests"]
    enough = n >= limits.min_requests
    shift = (
        drift.entity_rate_shift(reference_rates, summary["entity_counts"])
        if reference_rates
        else {"entity_jsd": 0.0, "p_value": 1.0, "observed_entities": 0, "by_type": []}
    )
    ratios = {"invalid_json_rate": summary["invalid_json_rate"] / max(limits.max_invalid_json_rate, 1e-9)}
    if shift["p_value"] < limits.entity_p_value:
        ratios["entity_jsd"] = shift["entity_jsd"] / max(limits.min_entity_jsd, 1e-9)
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
        alerts.append(
            (
                "serving.prediction_drift",
                f"serving {key}: entity-type rates drifted (JSD {jsd} > {limits.min_entity_jsd}, "
                f"p {shift['p_value']:.4f}) over {shift['observed_entities']} entities",
                {**base, "entity_jsd": jsd, "threshold": limits.min_entity_jsd, "score": round(score, 4)},
            )
        )
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


def check_windows(
    limits: ServingMonitor, reference_rates: dict[str, float], window_end: float | None, now: float
) -> tuple[list[WindowCheck], float]:
    """Read and judge the due windows from the request store."""
    windows, new_end = due_windows(window_end, now, limits.window_minutes)
    checks = []
    for start, end in windows:
        log = monitor.read_requests(limits.directory, since=start, until=end)
        checks.append(check_window(window_key(start), monitor.summarize(log.records), reference_rates, limits))
    return checks, new_end


def _describe(check: WindowCheck) -> str:
    s = check.report.statistics
    if not s["enough_data"]:
        return f"{check.key}: {s['requests']} requests, too few"
    return (
        f"{check.key}: {s['requests']} requests, errors {s['error_rate']:.3f}, invalid JSON "
        f"{s['invalid_json_rate']:.3f}, entity JSD {s['entity_jsd']:.3f} (p {s['entity_p_value']:.3g})"
    )


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Served traffic per window (clinical.serving.monitor store, no text): alerts on error rate, invalid JSON "
        "and entity-type drift against drift_reference; requests training_job after K drifted windows only when "
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
    with warehouse.connect(read_only=True) as con:
        reference = latest_reference(con)
    ref_version = reference["reference_version"] if reference else "none"
    profile = json.loads(reference["profile"]) if reference else {}
    rates = profile.get("entity_type_rates") or {}
    now = time.time()
    checks, new_end = check_windows(serving_monitor, rates, state.get("window_end"), now)
    if not checks:
        return dg.SkipReason(f"no complete {serving_monitor.window_minutes:g}-minute window since the last check")
    for check in checks:
        context.log.info(_describe(check))
        for alert in check.alerts:
            delivery = alerting.send(*alert)
            context.log.info(f"alert {alert[0]} delivered by {delivery}")
    note = "" if rates else " (no entity-type rates in the reference: prediction drift not checked)"
    described = "; ".join(_describe(c) for c in checks) + note
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
