"""serving_monitor_sensor: windows of served requests (the real JSONL store), alerts on error rate,
invalid JSON and entity-type drift, and retraining through the drift sensor's gates."""

import json
import math
import time

import dagster as dg
import pytest
from drift_fixtures import CLINICAL_WORDS, fake_notes, register_served_model

from clinical import drift, warehouse
from clinical.serving import monitor
from resources import Alerting, RetrainingPolicy, ServingMonitor, Warehouse
from resources.retraining import write_pause
from sensors import serving_monitor_sensor
from sensors.serving_monitor import check_window, due_windows, lineage_references, read_windows

REFERENCE_RATES = {"condition": 0.4, "lab_value": 0.2, "medication": 0.25, "procedure": 0.15}
HOUR = 3600.0


def limits(directory, **kw) -> ServingMonitor:
    return ServingMonitor(directory=str(directory), min_requests=20, **kw)


def write_window(directory, start, n=60, status=200, valid=True, mix=None, release="rel-1", model=None) -> None:
    mix = mix or {"condition": 4, "lab_value": 2, "medication": 3, "procedure": 1}
    entities = [{"type": t} for t, k in mix.items() for _ in range(k)]
    for i in range(n):
        monitor.record_request(
            text_chars=500,
            latency_ms=100,
            status=status,
            entities=entities if status == 200 else None,
            valid_json=valid if status == 200 else None,
            release=release,
            model_version=model,
            error_class=None if status == 200 else "RuntimeError",
            directory=directory,
            now=start + 1 + i * (HOUR - 10) / n,
        )


def test_due_windows_are_complete_non_overlapping_and_capped() -> None:
    now = 10 * HOUR + 125
    assert due_windows(None, now, 60) == ([(9 * HOUR, 10 * HOUR)], 10 * HOUR)
    windows, end = due_windows(7 * HOUR, now, 60)
    assert windows == [(7 * HOUR, 8 * HOUR), (8 * HOUR, 9 * HOUR), (9 * HOUR, 10 * HOUR)] and end == 10 * HOUR
    assert due_windows(10 * HOUR, now, 60) == ([], 10 * HOUR)
    assert len(due_windows(0.0, now, 1)[0]) == 48


def test_check_window_judges_each_statistic(tmp_path) -> None:
    lim = limits(tmp_path)

    def summary(**kw):
        records = []
        for i in range(kw.get("n", 60)):
            bad = i < kw.get("errors", 0)
            records.append(
                monitor.build_record(
                    text_chars=10,
                    latency_ms=1,
                    status=500 if bad else 200,
                    entities=None
                    if bad
                    else [
                        {"type": t}
                        for t, k in kw.get(
                            "mix", {"condition": 4, "lab_value": 2, "medication": 3, "procedure": 1}
                        ).items()
                        for _ in range(k)
                    ],  # noqa: E501
                    valid_json=None if bad else i >= kw.get("errors", 0) + kw.get("invalid", 0),
                    error_class="RuntimeError" if bad else None,
                )
            )
        return monitor.summarize(records)

    calm = check_window("w", summary(), REFERENCE_RATES, lim)
    assert not calm.report.drifted and calm.alerts == []
    errors = check_window("w", summary(errors=10), REFERENCE_RATES, lim)
    assert [a[0] for a in errors.alerts] == ["serving.error_rate"] and not errors.report.drifted
    assert errors.alerts[0][2]["error_class"] == ["RuntimeError"]
    invalid = check_window("w", summary(invalid=30), REFERENCE_RATES, lim)
    assert invalid.report.drifted and invalid.report.statistics["decision_statistic"] == "invalid_json_rate"
    assert [a[0] for a in invalid.alerts] == ["serving.invalid_json"]
    shifted = check_window("w", summary(mix={"condition": 9, "medication": 1}), REFERENCE_RATES, lim)
    assert shifted.report.drifted and shifted.report.statistics["decision_statistic"] == "entity_jsd"
    assert [a[0] for a in shifted.alerts] == ["serving.prediction_drift"]
    few = check_window("w", summary(n=5, errors=5), REFERENCE_RATES, lim)
    assert not few.report.drifted and few.alerts == [] and few.report.statistics["enough_data"] is False
    assert not check_window("w", summary(mix={"condition": 9, "medication": 1}), {}, lim).report.drifted


class Env:
    def __init__(self, tmp_path, instance) -> None:
        self.instance = instance
        self.store = tmp_path / "monitoring"
        self.warehouse = Warehouse(path=str(tmp_path / "w.duckdb"), restricted_path=str(tmp_path / "r.duckdb"))
        self.pause_file = tmp_path / "paused.json"
        self.alerts_log = tmp_path / "alerts.log"
        warehouse.initialize(self.warehouse.path, warehouse.WAREHOUSE_SCHEMA)
        profile = drift.build_profile(
            fake_notes(CLINICAL_WORDS, 40, seed=0), entity_counts={"condition": 40, "lab_value": 20,
            "medication": 25, "procedure": 15}, entity_source="gold", embeddings=False,
        )  # fmt: skip
        with warehouse.connect(self.warehouse.path) as con:
            warehouse.insert_rows(
                con,
                "drift_references",
                [{"reference_version": "ref" + "1" * 61, "dataset_version": "d", "profile": profile}],
            )
        # Three complete windows well before now, so the test does not depend on the clock.
        self.t0 = math.floor(time.time() / HOUR) * HOUR - 5 * HOUR
        self.cursor = json.dumps({"window_end": self.t0})

    def tick(self, retrain=True, **policy):
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={
                "warehouse": self.warehouse,
                "serving_monitor": limits(self.store, request_retraining=retrain),
                "retraining_policy": RetrainingPolicy(pause_file=str(self.pause_file), **policy),
                "alerting": Alerting(log_path=str(self.alerts_log)),
            },
        )
        result = serving_monitor_sensor(context)
        if isinstance(result, dg.SensorResult) and result.cursor:
            self.cursor = result.cursor
        return result

    def alerts(self) -> list[dict]:
        return [json.loads(x) for x in self.alerts_log.read_text().splitlines()] if self.alerts_log.exists() else []


@pytest.fixture
def env(tmp_path):
    with dg.instance_for_test() as instance:
        yield Env(tmp_path, instance)


def test_sensor_requests_retraining_after_k_drifted_windows_with_tags(env) -> None:
    write_window(env.store, env.t0, mix={"condition": 9, "medication": 1})
    write_window(env.store, env.t0 + HOUR, mix={"condition": 9, "medication": 1})
    result = env.tick(consecutive_batches=2, min_interval_minutes=0)
    [request] = result.run_requests
    assert request.tags["clinical/trigger"] == "serving"
    assert request.tags["clinical/drift_statistic"] == "entity_jsd"
    assert (
        request.run_key.startswith("serving:serving@") and request.tags["clinical/drift_batches"].count("serving@") == 2
    )
    events = [a["event"] for a in env.alerts()]
    assert events == ["serving.prediction_drift", "serving.prediction_drift", "serving.retraining_requested"]
    assert env.alerts()[0]["fields"]["release"] == "rel-1" and env.alerts()[0]["fields"]["requests"] == 60
    # windows already checked are not read again
    later = env.tick(consecutive_batches=2, min_interval_minutes=0)
    assert isinstance(later, dg.SkipReason) and "no complete 60-minute window" in later.skip_message


def test_sensor_gates_pause_and_alert_only_mode(env) -> None:
    write_pause(env.pause_file, "maintenance", "dora")
    write_window(env.store, env.t0, valid=False)
    result = env.tick(min_interval_minutes=0)
    assert not result.run_requests and result.skip_reason.skip_message.startswith("paused by dora")
    assert [a["event"] for a in env.alerts()] == ["serving.invalid_json", "serving.retraining_paused"]


def test_sensor_alert_only_by_default_and_error_rate_never_retrains(env) -> None:
    write_window(env.store, env.t0, status=500, n=30)
    write_window(env.store, env.t0 + HOUR, n=30)
    result = env.tick(retrain=False)
    assert not result.run_requests
    message = result.skip_reason.skip_message
    assert message.startswith("alert only (request_retraining off), 1 alerts:") and "errors 1.000" in message
    assert [a["event"] for a in env.alerts()] == ["serving.error_rate"]
    assert json.loads(env.cursor)["window_end"] == env.t0 + 5 * HOUR


# A model biased towards conditions and medications: its own evaluation (test split) shows that mix.
BIASED_EVALUATED = {"condition": 6.3, "lab_value": 0.0, "medication": 0.7, "procedure": 0.0}
BIASED_SERVED = {"condition": 9, "medication": 1}


def test_a_biased_model_is_compared_with_its_own_evaluation_not_with_gold(env) -> None:
    with warehouse.connect(env.warehouse.path) as con:
        model, release = register_served_model(con, "biased", BIASED_EVALUATED)
    # Against the gold rates this mix drifts (test_check_window_judges_each_statistic); against the
    # rates the same model predicted on its evaluation it does not.
    write_window(env.store, env.t0, mix=BIASED_SERVED, model=model, release=release)
    # An hour later the model moves away from what it predicted on its evaluation (towards the gold mix).
    write_window(env.store, env.t0 + HOUR, mix={"condition": 4, "lab_value": 2, "medication": 3, "procedure": 1},
                 model=model, release=release)  # fmt: skip
    result = env.tick(retrain=False)
    message = result.skip_reason.skip_message
    assert "1 alerts" in message and "gold" not in message
    assert f"{_hour(env.t0)}: 60 requests, errors 0.000, invalid JSON 0.000, entity JSD 0.000" in message
    assert f"{model} against {model}'s own predictions on evaluation eval_biased (test split, 30 notes)" in message
    [alert] = env.alerts()
    assert alert["event"] == "serving.prediction_drift"
    fields = alert["fields"]
    assert fields["reference"] == f"{model} vs its evaluation eval_biased (test split)"
    assert fields["batches"] == f"serving@{_hour(env.t0 + HOUR)}" and fields["release"] == release
    assert f"entity-type rates of {model} drifted" in alert["text"]
    # The rates by type (in the tick's log): the model's evaluated entities per note beside the entities
    # per request it serves now.
    [(key, summary)], _end = read_windows(limits(env.store), env.t0 + HOUR, env.t0 + 2 * HOUR)
    with warehouse.connect(env.warehouse.path, read_only=True) as con:
        references = lineage_references(con, {}, [summary])
    check = check_window(key, summary, references, limits(env.store))
    rows = {r["type"]: r for r in check.report.statistics["entity_by_type"]}
    assert rows["lab_value"]["reference_per_note"] == 0.0 and rows["lab_value"]["observed_per_request"] == 2.0
    assert rows["condition"]["reference_rate"] == 0.9 and rows["condition"]["observed_rate"] == 0.4
    assert check.report.statistics["entity_reference_source"] == "evaluation" and check.report.drifted


def test_a_model_without_evaluated_rates_falls_back_to_gold_and_says_so(env) -> None:
    with warehouse.connect(env.warehouse.path) as con:
        model, release = register_served_model(con, "old", None)  # evaluated before predicted rates existed
    write_window(env.store, env.t0, mix=BIASED_SERVED, model=model, release=release)
    result = env.tick(retrain=False)
    message = result.skip_reason.skip_message
    assert f"gold rates of drift_reference used for {model} (no predicted rates recorded" in message
    [alert] = env.alerts()
    assert alert["event"] == "serving.prediction_drift"
    assert (
        alert["fields"]["reference"] == f"{model} vs gold rates of drift_reference (no predicted rates recorded for it)"
    )
    assert "no predicted entity rates recorded" in alert["text"]


def test_each_model_version_in_a_window_has_its_own_reference(env) -> None:
    with warehouse.connect(env.warehouse.path) as con:
        biased, biased_release = register_served_model(con, "biased", BIASED_EVALUATED)
        balanced, balanced_release = register_served_model(con, "balanced", REFERENCE_RATES)
    # A release switch inside the first window: each model keeps to its own evaluated mix. In the second
    # the balanced model predicts like the biased one: only it is named.
    write_window(env.store, env.t0, n=30, mix=BIASED_SERVED, model=biased, release=biased_release)
    write_window(env.store, env.t0 + 1, n=30, model=balanced, release=balanced_release)
    write_window(env.store, env.t0 + HOUR, n=30, mix=BIASED_SERVED, model=biased, release=biased_release)
    write_window(env.store, env.t0 + HOUR + 1, n=30, mix=BIASED_SERVED, model=balanced, release=balanced_release)
    env.tick(retrain=False)
    [alert] = env.alerts()
    assert alert["fields"]["batches"] == f"serving@{_hour(env.t0 + HOUR)}"
    assert alert["fields"]["reference"] == f"{balanced} vs its evaluation eval_balanced (test split)"


def _hour(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(ts))
