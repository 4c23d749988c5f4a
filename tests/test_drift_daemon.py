"""The real `dagster-daemon run` ticks drift_sensor and submits a training_job run with the drift tags.

The instance is a temporary DAGSTER_HOME (SQLite). Its queue admits no run (max_concurrent_runs: 0):
the daemon's sensor creates and submits the run exactly as in production, but the queue does not start
a real retrain (minutes of CPU) inside the test; the run stays QUEUED with its run key and tags.
"""

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import dagster as dg
import pytest
from drift_fixtures import CLINICAL_WORDS, OTHER_WORDS, fake_notes

from clinical import drift, warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGSTER_YAML = """
storage:
  sqlite:
    base_dir: {home}/storage
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 0
telemetry:
  enabled: false
"""


def seed_warehouse(path: Path) -> None:
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    profile = drift.build_profile(fake_notes(CLINICAL_WORDS, 200, seed=0), embeddings=False)
    texts = fake_notes(OTHER_WORDS, 25, seed=zlib.crc32(b"b-drifted"))
    with warehouse.connect(path) as con:
        warehouse.insert_rows(
            con,
            "drift_references",
            [{"reference_version": "ref" + "0" * 61, "dataset_version": "d", "profile": profile}],
        )
        warehouse.insert_rows(
            con,
            "deidentified_notes",
            [
                {"note_id": f"n{i}", "batch": "b-drifted", "patient_key": f"pt_{i}", "text": text,
                 "text_sha256": f"h{i}", "raw_text_sha256": "x", "source_path": "/landing/b.jsonl",
                 "source_sha256": "y", "row_number": i + 1, "policy": "test", "policy_fingerprint": "z", "phi_spans": 0}
                for i, text in enumerate(texts)
            ],
        )  # fmt: skip


@pytest.mark.slow
def test_daemon_tick_submits_a_training_run_with_drift_tags(tmp_path) -> None:
    home = tmp_path / "clinical"
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML.format(home=dagster_home))
    seed_warehouse(home / "warehouse.duckdb")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "CLINICAL_HOME": str(home),
        "CLINICAL_BRAT_DIRS": "",
        "CLINICAL_DRIFT_SENSOR": "running",
        "CLINICAL_RETRAIN_MIN_INTERVAL_MINUTES": "0",
        "HF_HUB_OFFLINE": "1",
    }
    log = (tmp_path / "daemon.log").open("wb")
    daemon = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-m", "clinical_assets.definitions"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            deadline = time.monotonic() + 150
            runs = []
            # The sensor creates the run (NOT_STARTED) and submits it to the queue (QUEUED).
            while time.monotonic() < deadline and not (runs and runs[0].status == dg.DagsterRunStatus.QUEUED):
                assert daemon.poll() is None, (tmp_path / "daemon.log").read_text()[-3000:]
                runs = instance.get_runs(dg.RunsFilter(job_name="training_job"))
                time.sleep(0.5)
            assert runs, "no training_job run within 150 s:\n" + (tmp_path / "daemon.log").read_text()[-3000:]
            [run] = runs
            assert run.tags["clinical/trigger"] == "drift"
            assert run.tags["clinical/drift_batches"] == "b-drifted"
            assert float(run.tags["clinical/drift_score"]) > float(run.tags["clinical/drift_threshold"]) == 8.0
            assert run.tags["dagster/run_key"].startswith("drift:b-drifted@")
            assert run.tags["dagster/sensor_name"] == "drift_sensor"
            assert run.status == dg.DagsterRunStatus.QUEUED
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait(timeout=10)
        log.close()
    alerts = [json.loads(line) for line in (home / "alerts.log").read_text().splitlines()]
    assert [a["event"] for a in alerts] == ["drift.retraining_requested"]
