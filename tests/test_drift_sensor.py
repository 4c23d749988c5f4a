"""The drift sensor's gates (threshold, K consecutive batches, pause, running, minimum interval), its
alerts, the run-failure alert sensor and `clinical retraining`, on a warehouse seeded directly (no training)."""

import json
import time
import uuid
import zlib

import dagster as dg
import pytest
from drift_fixtures import CLINICAL_WORDS, OTHER_WORDS, fake_notes

from clinical import drift, warehouse
from clinical.cli import main
from resources import Alerting, RetrainingPolicy, Warehouse
from resources.retraining import read_pause, write_pause
from sensors import drift_sensor, run_failure_alert_sensor
from sensors.drift import Gates, evaluate

SECRET_TEXT = "Patient Zebulon Quuxley MRN 99812"


class Env:
    """A seeded warehouse, a test instance and the sensor's resources."""

    def __init__(self, tmp_path, instance: dg.DagsterInstance) -> None:
        self.home = tmp_path
        self.instance = instance
        self.warehouse = Warehouse(path=str(tmp_path / "warehouse.duckdb"), restricted_path=str(tmp_path / "r.duckdb"))
        self.pause_file = tmp_path / "control" / "retraining_paused.json"
        self.alerts_log = tmp_path / "alerts.log"
        self.cursor: str | None = None
        warehouse.initialize(self.warehouse.path, warehouse.WAREHOUSE_SCHEMA)
        profile = drift.build_profile(fake_notes(CLINICAL_WORDS, 200, seed=0), embeddings=False)
        with warehouse.connect(self.warehouse.path) as con:
            warehouse.insert_rows(
                con,
                "drift_references",
                [{"reference_version": "ref" + "0" * 61, "dataset_version": "ds1", "profile": profile}],
            )

    def add_batch(self, batch: str, drifted: bool, n: int = 25) -> None:
        texts = fake_notes(OTHER_WORDS if drifted else CLINICAL_WORDS, n, seed=zlib.crc32(batch.encode()))
        rows = [
            {
                "note_id": f"{batch}-{i}",
                "batch": batch,
                "patient_key": f"pt_{i}",
                "text": text,
                "text_sha256": f"{batch}{i}",
                "raw_text_sha256": "x",
                "source_path": f"/landing/{batch}.jsonl",
                "source_sha256": "y",
                "row_number": i + 1,
                "policy": "test",
                "policy_fingerprint": "z",
                "phi_spans": 0,
            }
            for i, text in enumerate(texts)
        ]
        with warehouse.connect(self.warehouse.path) as con:
            warehouse.insert_rows(con, "deidentified_notes", rows)

    def tick(self, **policy) -> dg.SensorResult | dg.SkipReason:
        resources = {
            "warehouse": self.warehouse,
            "retraining_policy": RetrainingPolicy(pause_file=str(self.pause_file), **policy),
            "alerting": Alerting(log_path=str(self.alerts_log)),
        }
        result = drift_sensor(dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources=resources))
        if isinstance(result, dg.SensorResult) and result.cursor is not None:
            self.cursor = result.cursor
        return result

    def alerts(self) -> list[dict]:
        if not self.alerts_log.exists():
            return []
        return [json.loads(line) for line in self.alerts_log.read_text().splitlines()]

    def add_training_run(self, status: dg.DagsterRunStatus) -> str:
        run_id = str(uuid.uuid4())
        self.instance.add_run(dg.DagsterRun(job_name="training_job", run_id=run_id, status=status))
        return run_id


@pytest.fixture
def env(tmp_path):
    with dg.instance_for_test() as instance:
        yield Env(tmp_path, instance)


def skip_message(result) -> str:
    if isinstance(result, dg.SkipReason):
        return result.skip_message
    assert not result.run_requests, "expected a skipped tick"
    return result.skip_reason.skip_message


def test_no_reference_yet_and_nothing_new(tmp_path) -> None:
    with dg.instance_for_test() as instance:
        env = Env(tmp_path, instance)
        with warehouse.connect(env.warehouse.path) as con:
            con.execute("DELETE FROM drift_references")
        assert "no drift reference yet" in skip_message(env.tick())


def test_below_threshold_names_the_batch_score_and_threshold(env) -> None:
    env.add_batch("b1", drifted=False)
    message = skip_message(env.tick())
    assert message.startswith("below threshold 8.000: b1: ")
    assert message.endswith(" token_jsd") or message.endswith(" char3_jsd")
    assert "no new de-identified batches" in skip_message(env.tick())
    assert env.alerts() == []


def test_small_batches_are_never_called_drifted_and_say_so(env) -> None:
    env.add_batch("tiny", drifted=True, n=5)
    assert "(5 notes, too few)" in skip_message(env.tick())


def test_threshold_override_from_the_policy(env) -> None:
    env.add_batch("b1", drifted=False)
    result = env.tick(threshold=-100.0, min_interval_minutes=0)
    assert result.run_requests[0].tags["clinical/drift_threshold"] == "-100.0000"


def test_k_consecutive_drifted_batches_are_needed_and_a_clean_batch_resets_the_count(env) -> None:
    env.add_batch("b1", drifted=True)
    assert skip_message(env.tick(consecutive_batches=2)).startswith(
        "waiting for 2 consecutive drifted batches: 1 so far"
    )
    env.add_batch("b2", drifted=False)
    assert skip_message(env.tick(consecutive_batches=2)).startswith("below threshold")
    env.add_batch("b3", drifted=True)
    assert "1 so far (b3 " in skip_message(env.tick(consecutive_batches=2))
    env.add_batch("b4", drifted=True)
    result = env.tick(consecutive_batches=2)
    assert len(result.run_requests) == 1
    request = result.run_requests[0]
    assert request.tags["clinical/drift_batches"] == "b3,b4"
    assert request.tags["clinical/drift_consecutive"] == "2"
    assert float(request.tags["clinical/drift_score"]) > float(request.tags["clinical/drift_threshold"])
    assert request.tags["clinical/drift_statistic"] in drift.DECISION_STATISTICS
    assert request.tags["clinical/trigger"] == "drift"
    assert request.run_key.startswith("drift:b3@") and ",b4@" in request.run_key
    assert "no new de-identified batches" in skip_message(env.tick(consecutive_batches=2))


def test_retraining_request_sends_an_alert_without_text(env) -> None:
    env.add_batch("b1", drifted=True)
    result = env.tick(min_interval_minutes=0)
    assert len(result.run_requests) == 1
    [alert] = env.alerts()
    assert alert["event"] == "drift.retraining_requested"
    assert alert["fields"]["batches"] == "b1"
    assert alert["fields"]["score"] > alert["fields"]["threshold"] == 8.0
    assert alert["fields"]["run_key"] == result.run_requests[0].run_key
    assert "quarterly" not in json.dumps(alert)


def test_paused_holds_drift_alerts_once_and_resume_requests(env) -> None:
    write_pause(env.pause_file, "EHR migration", "alice")
    env.add_batch("b1", drifted=True)
    message = skip_message(env.tick(min_interval_minutes=0))
    assert message.startswith("paused by alice at ") and "(EHR migration)" in message and "b1 " in message
    assert "clinical retraining resume" in message
    assert skip_message(env.tick(min_interval_minutes=0)).startswith("paused by alice")
    alerts = env.alerts()
    assert [a["event"] for a in alerts] == ["drift.retraining_paused"]
    assert alerts[0]["fields"]["paused_by"] == "alice" and "EHR" not in json.dumps(alerts[0])
    env.pause_file.unlink()
    result = env.tick(min_interval_minutes=0)
    assert result.run_requests[0].tags["clinical/drift_batches"] == "b1"
    assert [a["event"] for a in env.alerts()][-1] == "drift.retraining_requested"


def test_paused_is_mentioned_even_without_drift(env) -> None:
    write_pause(env.pause_file, "maintenance", "bob")
    env.add_batch("b1", drifted=False)
    assert skip_message(env.tick()).endswith("(retraining paused by bob)")


def test_retraining_already_running_holds_the_request(env) -> None:
    run_id = env.add_training_run(dg.DagsterRunStatus.STARTED)
    env.add_batch("b1", drifted=True)
    message = skip_message(env.tick(min_interval_minutes=0))
    assert message.startswith(f"retraining already running (run {run_id}, STARTED)") and "b1 " in message
    assert env.alerts() == []
    env.instance.report_run_canceled(env.instance.get_run_by_id(run_id))
    assert env.tick(min_interval_minutes=0).run_requests


def test_minimum_interval_between_retrains(env) -> None:
    run_id = env.add_training_run(dg.DagsterRunStatus.SUCCESS)
    env.add_batch("b1", drifted=True)
    message = skip_message(env.tick(min_interval_minutes=60))
    assert message.startswith(f"minimum interval 60 min between retrains: last training_job run {run_id} started 0 min")
    assert [a["event"] for a in env.alerts()] == ["drift.retraining_min_interval"]
    assert env.tick(min_interval_minutes=0).run_requests


def test_evaluate_minimum_interval_elapses() -> None:
    report = drift.DriftReport(drifted=True, score=0.5, threshold=0.12, statistics={"enough_data": True})
    reports = [("b1", "ref:fp1", report)]
    recent = Gates(last_run=("r1", 1000.0), min_interval_minutes=60, now=1000.0 + 30 * 60)
    later = Gates(last_run=("r1", 1000.0), min_interval_minutes=60, now=1000.0 + 61 * 60)
    held = evaluate({}, "ref", reports, 0.12, 1, recent)
    assert held.kind == "min_interval" and "next request in 30 min" in held.message
    assert evaluate(held.state, "ref", [], 0.12, 1, later).kind == "request"


def test_evaluate_new_reference_restarts_the_count() -> None:
    report = drift.DriftReport(drifted=True, score=0.5, threshold=0.12, statistics={"enough_data": True})
    first = evaluate({}, "ref1", [("b1", "ref1:a", report)], 0.12, 2, Gates())
    assert first.kind == "waiting" and len(first.state["streak"]) == 1
    second = evaluate(first.state, "ref2", [("b2", "ref2:b", report)], 0.12, 2, Gates())
    assert second.kind == "waiting" and [s["batch"] for s in second.state["streak"]] == ["b2"]


def test_an_old_reference_profile_asks_for_a_new_one(env) -> None:
    with warehouse.connect(env.warehouse.path) as con:
        con.execute("UPDATE drift_references SET profile = ?", [json.dumps({"version": "drift-profile/1"})])
    env.add_batch("b1", drifted=True)
    assert "materialize drift_reference again" in skip_message(env.tick())


def test_old_cursor_format_is_read(env) -> None:
    env.add_batch("b1", drifted=False)
    env.cursor = json.dumps({"checked": {}})
    assert skip_message(env.tick()).startswith("below threshold")


@dg.op
def explode() -> None:
    raise ValueError(SECRET_TEXT)


@dg.job
def failing_job() -> None:
    explode()


def test_run_failure_sensor_alerts_job_run_steps_and_error_class(tmp_path) -> None:
    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert_sensor",
            dagster_instance=instance,
            dagster_run=instance.get_run_by_id(result.run_id),
            dagster_event=result.get_run_failure_event(),
            resources={"alerting": Alerting(log_path=str(tmp_path / "alerts.log"))},
        ).for_run_failure()
        run_failure_alert_sensor(context)
    text = (tmp_path / "alerts.log").read_text()
    [alert] = [json.loads(line) for line in text.splitlines()]
    assert alert["event"] == "run.failed"
    assert alert["fields"] == {
        "job": "failing_job",
        "run_id": result.run_id,
        "step_keys": "explode",
        "error_class": "ValueError",
    }
    assert result.run_id in alert["text"] and "ValueError" in alert["text"]
    assert "Zebulon" not in text and "99812" not in text


def test_cli_pause_status_resume(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLINICAL_HOME", str(tmp_path))
    monkeypatch.setenv("USER", "carol")
    assert main(["retraining", "pause", "--reason", "bad batch upstream, investigating"]) == 0
    record = read_pause(tmp_path / "control" / "retraining_paused.json")
    assert record["paused_by"] == "carol" and record["reason"] == "bad batch upstream, investigating"
    capsys.readouterr()
    assert main(["retraining", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["paused"] is True and status["paused_by"] == "carol" and status["threshold"] == 8.0
    assert main(["retraining", "resume"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "paused": False,
        "was_paused": True,
        "pause_file": str(tmp_path / "control" / "retraining_paused.json"),
    }
    assert read_pause(tmp_path / "control" / "retraining_paused.json") is None
    assert main(["retraining", "pause", "--reason", "  "]) == 2


def test_unreadable_pause_file_still_pauses(tmp_path) -> None:
    path = tmp_path / "control" / "retraining_paused.json"
    path.parent.mkdir()
    path.write_text("{not json")
    assert read_pause(path)["paused_by"] == "unknown"


def test_gates_read_timestamps_of_real_runs(env) -> None:
    env.add_training_run(dg.DagsterRunStatus.SUCCESS)
    from sensors.drift import read_gates

    gates = read_gates(env.instance, RetrainingPolicy(pause_file=str(env.pause_file)), time.time())
    assert gates.active_run is None and abs(gates.now - gates.last_run[1]) < 60
