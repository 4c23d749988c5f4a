"""The production Dagster instance (deploy/postgres/dagster.yaml) against the real PostgreSQL server.

Each session gets a fresh database `clinical_test_<random>` (dropped at the end) and a DAGSTER_HOME
holding the production dagster.yaml, configured only through the DAGSTER_PG_* variables. Real
project runs are materialized into it and read back from PostgreSQL's own tables; the slow test
runs `dagster dev` (webserver + daemon) on that instance, waits for a new_batch_sensor tick,
restarts it and checks through GraphQL that the runs, materializations and ticks are still there.

Without a server these tests skip with a loud reason; with CLINICAL_REQUIRE_POSTGRES=1 (CI) they fail.
Server: CLINICAL_TEST_PG_HOST / CLINICAL_TEST_PG_PORT / CLINICAL_TEST_PG_USER / CLINICAL_TEST_PG_PASSWORD
(default 127.0.0.1:5432, user postgres, no password).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path

import dagster as dg
import pytest
from dagster_dev_server import DagsterDev

from clinical.demo_batch import write_demo_batch
from clinical.settings import Settings
from clinical_assets.partitions import landing_batches

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEPLOY_YAML = PROJECT_ROOT / "deploy" / "postgres" / "dagster.yaml"
SERVER = {
    "host": os.environ.get("CLINICAL_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("CLINICAL_TEST_PG_PORT", "5432")),
    "user": os.environ.get("CLINICAL_TEST_PG_USER", "postgres"),
    "password": os.environ.get("CLINICAL_TEST_PG_PASSWORD", ""),
}
BATCH = "pg_batch_0001"
SENSOR = "new_batch_sensor"
LOCATION = "clinical_llm_factory"


def _unavailable(reason: str) -> None:
    message = (
        f"!!! PostgreSQL tests NOT RUN: {reason} (server {SERVER['host']}:{SERVER['port']}). Start it with "
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`; "
        "CLINICAL_REQUIRE_POSTGRES=1 turns this skip into a failure."
    )
    if os.environ.get("CLINICAL_REQUIRE_POSTGRES") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _pg(dbname: str):
    import psycopg2

    return psycopg2.connect(dbname=dbname, connect_timeout=5, **SERVER)


def _query(dbname: str, sql: str, params: tuple = ()) -> list[tuple]:
    con = _pg(dbname)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def pg_database():
    """A fresh database on the server for this session, dropped afterwards."""
    try:
        import psycopg2
    except ImportError as exc:
        _unavailable(f"psycopg2 not importable ({exc})")
    try:
        admin = _pg("postgres")
    except psycopg2.OperationalError as exc:
        _unavailable(f"cannot connect: {str(exc).strip().splitlines()[0]}")
    admin.autocommit = True
    name = f"clinical_test_{secrets.token_hex(6)}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def pg_env(pg_database):
    """The DAGSTER_PG_* variables pointing at the session's database (set in this process, too)."""
    env = {
        "DAGSTER_PG_HOST": SERVER["host"],
        "DAGSTER_PG_PORT": str(SERVER["port"]),
        "DAGSTER_PG_DB": pg_database,
        "DAGSTER_PG_USERNAME": SERVER["user"],
        "DAGSTER_PG_PASSWORD": SERVER["password"],
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        yield env


@pytest.fixture(scope="module")
def pg_home(tmp_path_factory, pg_env) -> Path:
    """A DAGSTER_HOME holding the production dagster.yaml, unchanged."""
    home = tmp_path_factory.mktemp("dagster_home_pg")
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    return home


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, pg_database, pg_home):
    """One small landing batch through the project's ingest_job, recorded in PostgreSQL."""
    from clinical_assets.definitions import build_definitions

    clinical_home = tmp_path_factory.mktemp("clinical_home_pg")
    settings = Settings.from_env({"CLINICAL_HOME": str(clinical_home), "CLINICAL_BRAT_DIRS": ""})
    batch = write_demo_batch(settings.landing_dir, BATCH, count=4, seed=11, truth_dir=settings.truth_dir)
    with dg.DagsterInstance.from_config(str(pg_home)) as instance:
        instance.add_dynamic_partitions(landing_batches.name, [BATCH])
        result = (
            build_definitions(settings)
            .resolve_job_def("ingest_job")
            .execute_in_process(instance=instance, partition_key=BATCH, raise_on_error=True)
        )
        yield {"instance": instance, "run_id": result.run_id, "settings": settings, "batch": batch}


def test_production_instance_uses_postgres_for_runs_events_and_ticks(ingested) -> None:
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    instance = ingested["instance"]
    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)


def test_materializations_are_stored_in_postgres(ingested, pg_database) -> None:
    instance, run_id = ingested["instance"], ingested["run_id"]
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    rows = _query(pg_database, "SELECT status, partition FROM runs WHERE run_id = %s", (run_id,))
    assert rows == [("SUCCESS", BATCH)]
    materialized = _query(
        pg_database,
        "SELECT asset_key, partition FROM event_logs "
        "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION' ORDER BY asset_key",
        (run_id,),
    )
    assert materialized == [('["deidentified_notes"]', BATCH), ('["raw_notes"]', BATCH)]
    assert _query(
        pg_database, "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = %s", ("landing_batches",)
    ) == [(BATCH,)]
    assert _query(pg_database, "SELECT count(*) FROM asset_keys WHERE asset_key = %s", ('["raw_notes"]',)) == [(1,)]


def test_no_phi_in_the_postgres_instance(ingested, pg_database) -> None:
    batch = ingested["batch"]
    truth = [json.loads(line) for line in Path(batch.phi_path).read_text().splitlines()]
    phi = {s["value"] for row in truth for s in row["spans"] if len(s["value"]) >= 6}
    record_ids = {row["record_id"] for row in truth}
    assert phi and record_ids
    stored = " ".join(
        str(v)
        for sql in (
            "SELECT event FROM event_logs",
            "SELECT run_body FROM runs",
            "SELECT key || '=' || value FROM run_tags",
        )
        for (v,) in _query(pg_database, sql)
    )
    leaked = sorted(v for v in phi | record_ids if v in stored)
    assert not leaked, f"{len(leaked)} PHI value(s) stored in the Dagster instance"


def _sensor_ticks(pg_database: str) -> list[tuple[int, str]]:
    """(id, status) of the sensor's ticks, read from PostgreSQL's job_ticks table."""
    rows = _query(pg_database, "SELECT id, status, tick_body FROM job_ticks WHERE type = 'SENSOR' ORDER BY id")
    return [(tick_id, status) for tick_id, status, body in rows if json.loads(body).get("job_name") == SENSOR]


ASSET_QUERY = """
query ($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset { assetMaterializations(limit: 10) { runId partition } }
  }
}"""

SENSOR_QUERY = """
query ($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 50) { tickId status timestamp skipReason } } }
  }
}"""

RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status jobName } } }"""


@pytest.mark.slow
def test_materializations_and_sensor_ticks_survive_a_webserver_restart(
    ingested, pg_env, pg_home, pg_database, tmp_path
) -> None:
    landing_home = tmp_path / "clinical_home"
    (landing_home / "landing").mkdir(parents=True)
    env = {
        **os.environ,
        **pg_env,
        "DAGSTER_HOME": str(pg_home),
        "CLINICAL_HOME": str(landing_home),
        "CLINICAL_BRAT_DIRS": "",
    }
    log = tmp_path / "dagster_dev.log"
    server = DagsterDev(env, log)
    try:
        server.wait_ready()
        deadline = time.monotonic() + 180
        while not _sensor_ticks(pg_database):
            assert time.monotonic() < deadline, (
                f"no {SENSOR} tick in PostgreSQL after 180 s; log:\n{log.read_text()[-3000:]}"
            )
            assert server.proc.poll() is None, f"dagster dev exited; log:\n{log.read_text()[-3000:]}"
            time.sleep(1)
    finally:
        server.stop()
    ticks_before = _sensor_ticks(pg_database)
    assert ticks_before and all(status in {"SKIPPED", "SUCCESS", "STARTED"} for _id, status in ticks_before)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.url}/server_info", timeout=2)

    server = DagsterDev(env, log)
    try:
        server.wait_ready()
        run = server.graphql(RUN_QUERY, {"runId": ingested["run_id"]})["runOrError"]
        assert run == {"__typename": "Run", "status": "SUCCESS", "jobName": "ingest_job"}
        for asset in ("raw_notes", "deidentified_notes"):
            found = server.graphql(ASSET_QUERY, {"path": [asset]})["assetOrError"]
            assert found["__typename"] == "Asset"
            assert {"runId": ingested["run_id"], "partition": BATCH} in found["assetMaterializations"]
        selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "sensorName": SENSOR}
        sensor = server.graphql(SENSOR_QUERY, {"selector": selector})["sensorOrError"]
        assert sensor["__typename"] == "Sensor", sensor
        shown = {int(t["tickId"]) for t in sensor["sensorState"]["ticks"]}
        assert {tick_id for tick_id, _status in ticks_before} <= shown
        assert any("no new landing files" in (t["skipReason"] or "") for t in sensor["sensorState"]["ticks"])
    finally:
        server.stop()
