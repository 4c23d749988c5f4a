"""The whole graph in-process with the tiny model: every asset materializes, the adapter's lineage reaches
the source rows, no PHI reaches the de-identified zone's metadata, and the sensors request the right runs."""

from __future__ import annotations

import json
import shutil
import stat

import dagster as dg
import pytest

from clinical import ids, lineage, warehouse
from clinical.demo import DEMO_BATCH, prepare_demo_inputs, run_demo
from clinical.demo_batch import DEMO_PROTOCOL
from clinical.intake import write_manifest
from clinical.settings import Settings
from clinical_assets.definitions import ASSETS, build_resources
from clinical_assets.partitions import landing_batches
from resources import RetrainingPolicy
from sensors import drift_sensor, new_batch_sensor

RUN_CONFIG = {
    "ops": {
        "synthetic_notes": {"config": {"count": 12, "seed": 1}},
        "lora_adapter": {"config": {"max_steps": 2, "batch_size": 2, "max_length": 256}},
        "evaluation": {"config": {"max_examples": 2, "max_new_tokens": 8, "few_shot_k": 1}},
    }
}

SHIFTED_NOTES = [
    "Der Patient stellt sich mit seit {n} Tagen bestehenden Kopfschmerzen und Übelkeit vor. "
    "Keine Vorerkrankungen bekannt. Empfehlung: Ibuprofen bei Bedarf, Wiedervorstellung in {n} Wochen.",
    "Anamnese: Schwindel, Müdigkeit und Appetitlosigkeit seit {n} Wochen. Blutdruck im Normbereich. "
    "Weitere Abklärung durch den Hausarzt empfohlen.",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, shared_data_or_none):
    home = tmp_path_factory.mktemp("clinical_home")
    brat_dirs: tuple[str, ...] = ()
    if shared_data_or_none is not None:
        corpus = home / "brat"
        corpus.mkdir()
        for txt in sorted((shared_data_or_none / "maccrobat_dev").glob("*.txt"))[:3]:
            shutil.copy(txt, corpus)
            shutil.copy(txt.with_suffix(".ann"), corpus)
        brat_dirs = (str(corpus),)
    settings = Settings.from_env(
        {"CLINICAL_HOME": str(home), "CLINICAL_BASE_MODEL": "tiny-random", "CLINICAL_BRAT_DIRS": ":".join(brat_dirs)}
    )
    inputs = prepare_demo_inputs(settings, count=12, seed=3)
    with dg.instance_for_test() as instance:
        runs = run_demo(settings, instance, run_config=RUN_CONFIG, log=lambda _msg: None)
        yield {"settings": settings, "instance": instance, "runs": runs, "inputs": inputs}


def test_every_asset_materialized(pipeline) -> None:
    instance = pipeline["instance"]
    for asset in ASSETS:
        for key in asset.keys:
            event = instance.get_latest_materialization_event(key)
            assert event is not None, f"{key} not materialized"
            assert "seconds" in event.asset_materialization.metadata, f"{key} does not show its timing"
    for run_id in [*pipeline["runs"]["ingest"].values(), pipeline["runs"]["training"]]:
        assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS


def test_adapter_lineage_reaches_the_source_rows(pipeline) -> None:
    settings = pipeline["settings"]
    landing_file = pipeline["inputs"]["landing"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        trace = lineage.trace(con, "latest:lora_adapter")
    kinds = [a["kind"] for a in trace["chain"]]
    assert kinds[0] == "lora_adapter" and "base_model" in kinds
    files = {f["path"]: f for f in trace["dataset"]["source_files"]}
    assert str(landing_file) in files
    assert files[str(landing_file)]["sha256"] == ids.sha256_file(landing_file)
    lines = {n for n, raw in enumerate(landing_file.read_text().splitlines(), start=1) if raw.strip()}
    rows = [r for r in trace["dataset"]["source_rows"] if r["source_path"] == str(landing_file)]
    assert rows and {r["row_number"] for r in rows} <= lines
    assert len(rows) == files[str(landing_file)]["rows_used"]
    assert trace["deidentification_policies"][0]["policy"].startswith("safe_harbor@")
    assert trace["dataset"]["synthetic"], "synthetic generator version and seed are part of lineage"
    manifest = files[str(landing_file)]["manifest"]
    assert manifest["protocol_id"] == DEMO_PROTOCOL, "the batch manifest's protocol id reaches lineage"
    assert manifest["manifest_sha256"] == ids.sha256_file(pipeline["inputs"]["manifest"])
    assert trace["data_use"]["landing_protocols"] == DEMO_PROTOCOL
    assert f"protocol {DEMO_PROTOCOL}" in lineage.render_markdown(trace)


def test_patient_impact_reaches_adapter_and_serving_artifacts(pipeline) -> None:
    settings = pipeline["settings"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        key = con.execute(
            "SELECT d.patient_key FROM deidentified_notes d JOIN sft_examples e "
            "ON list_contains(from_json(e.parents, '[\"varchar\"]'), d.note_id) WHERE e.split = 'train' LIMIT 1"
        ).fetchone()[0]
        report = lineage.impacted(con, patient_key=key)
        nobody = lineage.impacted(con, patient_key="pt_" + "0" * 32)
    kinds = {a["kind"] for a in report["artifacts"]}
    assert {"lora_adapter", "merged_model", "trtllm_bundle", "bento"} <= kinds
    assert nobody["artifacts"] == [] and nobody["records"] == 0


def test_no_phi_outside_the_restricted_zone(pipeline) -> None:
    settings, instance = pipeline["settings"], pipeline["instance"]
    truth = [json.loads(line) for line in pipeline["inputs"]["phi_truth"].read_text().splitlines()]
    phi_values = {s["value"] for row in truth for s in row["spans"] if len(s["value"]) >= 6}
    record_ids = {row["record_id"] for row in truth}
    assert phi_values and record_ids
    metadata_text = ""
    for asset in ASSETS:
        for key in asset.keys:
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=100).records
            for record in records:
                metadata_text += json.dumps({k: str(v.value) for k, v in record.asset_materialization.metadata.items()})
    for run in instance.get_runs():
        metadata_text += json.dumps(run.tags)
    leaked = sorted(v for v in phi_values | record_ids if v in metadata_text)
    assert not leaked, f"{len(leaked)} PHI value(s) in Dagster metadata or run tags"
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE data_type = 'VARCHAR'"
        ).fetchall()
        stored = " ".join(
            str(v[0]) for table, column in columns for v in con.execute(f'SELECT "{column}" FROM {table}').fetchall()
        )
    assert not [r for r in record_ids if r in stored], "raw record ids reached the warehouse"
    mode = stat.S_IMODE(settings.restricted_path.stat().st_mode)
    assert mode == 0o600


def test_new_batch_sensor_adds_partitions_and_requests_ingest(tmp_path) -> None:
    from resources import LandingZone

    (tmp_path / "b1.jsonl").write_text('{"record_id": "1", "patient_id": "p", "text": "t"}\n')
    write_manifest(tmp_path / "b1.jsonl", "IRB-1", "Ethics Board", "2099-12-31", "data-office")
    zone = LandingZone(landing_dir=str(tmp_path), annotations_dir=str(tmp_path))
    with dg.instance_for_test() as instance:
        result = new_batch_sensor(dg.build_sensor_context(instance=instance, resources={"landing_zone": zone}))
        assert [r.partition_key for r in result.run_requests] == ["b1"]
        assert result.dynamic_partitions_requests[0].partition_keys == ["b1"]
        again = new_batch_sensor(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"landing_zone": zone})
        )
        assert isinstance(again, dg.SkipReason)
        (tmp_path / "b1.jsonl").write_text('{"record_id": "1", "patient_id": "p", "text": "changed"}\n')
        instance.add_dynamic_partitions(landing_batches.name, ["b1"])
        changed = new_batch_sensor(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"landing_zone": zone})
        )
        assert [r.partition_key for r in changed.run_requests] == ["b1"]
        assert changed.run_requests[0].run_key != result.run_requests[0].run_key
        assert not changed.dynamic_partitions_requests


def test_drift_sensor_skips_stationary_batch_and_requests_retraining_on_shift(pipeline) -> None:
    settings, instance = pipeline["settings"], pipeline["instance"]
    built = build_resources(settings)
    # min interval 0: the fixture's own training_job run just started, and this test is about drift.
    resources = {
        "warehouse": built["warehouse"],
        "alerting": built["alerting"],
        "retraining_policy": RetrainingPolicy(pause_file=built["retraining_policy"].pause_file, min_interval_minutes=0),
    }
    first = drift_sensor(dg.build_sensor_context(instance=instance, resources=resources))
    assert isinstance(first, dg.SensorResult) and not first.run_requests
    assert "below threshold" in first.skip_reason.skip_message and DEMO_BATCH in first.skip_reason.skip_message

    shifted = settings.landing_dir / "shifted_batch.jsonl"
    shifted.write_text(
        "\n".join(
            json.dumps(
                {"record_id": f"s{i}", "patient_id": f"X{i % 7}", "text": SHIFTED_NOTES[i % 2].format(n=i % 5 + 2)}
            )
            for i in range(40)
        )
        + "\n"
    )
    write_manifest(shifted, "IRB-2026-0042", "Ethics Board", "2099-12-31", "data-office")
    instance.add_dynamic_partitions(landing_batches.name, ["shifted_batch"])
    from clinical_assets.definitions import build_definitions

    build_definitions(settings).resolve_job_def("ingest_job").execute_in_process(
        instance=instance, partition_key="shifted_batch"
    )
    second = drift_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources))
    assert len(second.run_requests) == 1
    request = second.run_requests[0]
    assert request.tags["clinical/trigger"] == "drift"
    assert request.tags["clinical/drift_batches"] == "shifted_batch"
    assert float(request.tags["clinical/drift_score"]) > float(request.tags["clinical/drift_threshold"])
    third = drift_sensor(dg.build_sensor_context(instance=instance, cursor=second.cursor, resources=resources))
    assert isinstance(third, dg.SkipReason) and "no new" in third.skip_message


def test_deidentification_removes_the_inserted_phi(pipeline) -> None:
    """Score de-identification against the demo batch's PHI truth: every inserted value must be gone."""
    settings = pipeline["settings"]
    truth = [json.loads(line) for line in pipeline["inputs"]["phi_truth"].read_text().splitlines()]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        texts = dict(con.execute("SELECT note_id, text FROM deidentified_notes").fetchall())
    total = leaked = 0
    for row in truth:
        text = texts[ids.note_id(settings.hmac_secret, row["record_id"])]
        for span in row["spans"]:
            total += 1
            leaked += span["value"] in text
    assert total > 100
    assert leaked / total <= 0.01, f"{leaked} of {total} inserted PHI values survived de-identification"


def test_audit_trail_of_the_run_verifies_with_an_event_per_artifact(pipeline) -> None:
    from clinical import audit

    settings = pipeline["settings"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        result = audit.verify(con, audit.read_anchor(audit.anchor_path(settings.warehouse_path)))
        chain = audit.events(con)
        artifacts = con.execute("SELECT artifact_id, sha256, code_version, run_id FROM artifacts").fetchall()
    assert result.ok, result.reason
    registered = {
        (p["artifact_id"], p["sha256"], p["code_version"], p["run_id"])
        for e in chain
        if e.event_type == "artifact_registered"
        for p in [json.loads(e.payload)]
    }
    assert artifacts and set(artifacts) <= registered
    types = {e.event_type for e in chain}
    assert {"batch_ingested", "dataset_created"} <= types
    ingested = {json.loads(e.payload)["run_id"] for e in chain if e.event_type == "batch_ingested"}
    assert set(pipeline["runs"]["ingest"].values()) <= ingested


def test_residual_phi_scan_blocks_a_leaky_batch_and_sft_dataset_leaves_it_out(pipeline, tmp_path) -> None:
    """A note whose PHI the presidio policy misses (a bare 6-digit badge number, a dotted date with a
    two-digit year) fails the blocking check; sft_dataset then leaves that note out and says so,
    keeping its clean siblings."""
    from clinical.demo_batch import write_demo_batch
    from clinical_assets.annotations import annotations
    from clinical_assets.dataset import sft_dataset
    from clinical_assets.definitions import build_definitions

    settings, instance = pipeline["settings"], pipeline["instance"]
    batch = write_demo_batch(settings.landing_dir, "leaky_batch", count=3, seed=11, truth_dir=tmp_path)
    records = [json.loads(line) for line in batch.path.read_text().splitlines()]
    records[0]["text"] += "Visitor badge 482913 issued; seen again 25.12.19.\n"
    batch.path.write_text("".join(json.dumps(r) + "\n" for r in records))
    shutil.move(str(batch.labels_path), settings.annotations_dir / "leaky_batch.entities.jsonl")
    instance.add_dynamic_partitions(landing_batches.name, ["leaky_batch"])

    result = (
        build_definitions(settings)
        .resolve_job_def("ingest_job")
        .execute_in_process(instance=instance, partition_key="leaky_batch", raise_on_error=False)
    )
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "residual_phi_scan"]
    assert not evaluation.passed
    metadata = json.dumps({k: str(v.value) for k, v in evaluation.metadata.items()})
    assert "482913" not in metadata and "25.12.19" not in metadata
    assert "DIGIT_RUN" in metadata and "DATE" in metadata
    leaky = ids.note_id(settings.hmac_secret, records[0]["record_id"])
    clean = {ids.note_id(settings.hmac_secret, r["record_id"]) for r in records[1:]}
    assert leaky in metadata and not clean & set(metadata.split('"'))

    dg.materialize([annotations, sft_dataset], instance=instance, resources=build_resources(settings))
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        version, report = con.execute(
            "SELECT dataset_version, report FROM datasets ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        parents = {
            p
            for (row,) in con.execute(
                "SELECT parents FROM sft_examples WHERE dataset_version = ?", [version]
            ).fetchall()
            for p in json.loads(row)
        }
        flagged = con.execute("SELECT DISTINCT note_id FROM residual_phi_findings").fetchall()
    assert json.loads(report)["notes_excluded_residual_phi"] == 1
    assert flagged == [(leaky,)]
    assert leaky not in parents and clean <= parents


def test_lineage_reports_hold_no_phi_in_any_format(pipeline) -> None:
    settings = pipeline["settings"]
    truth = [json.loads(line) for line in pipeline["inputs"]["phi_truth"].read_text().splitlines()]
    secrets = {s["value"] for row in truth for s in row["spans"] if len(s["value"]) >= 4}
    secrets |= {row["record_id"] for row in truth}
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        trace = lineage.trace(con, "latest:bento")
        impact = lineage.impacted(con, source_file=str(pipeline["inputs"]["landing"]))
    reports = {
        "json": json.dumps(trace, default=str) + json.dumps(impact, default=str),
        "markdown": lineage.render_markdown(trace),
        "html": lineage.render_html(trace),
    }
    landing_sha = ids.sha256_file(pipeline["inputs"]["landing"])
    for name, text in reports.items():
        assert landing_sha in text, f"{name} report does not reach the source file"
        leaked = [v for v in secrets if v in text]
        assert not leaked, f"{len(leaked)} PHI value(s) in the {name} lineage report"
    assert [a["kind"] for a in trace["chain"]][:2] == ["bento", "merged_model"]
    assert "<script" not in reports["html"]


def test_promotion_gate_passes_under_the_demo_profile_and_the_model_card_records_it(pipeline) -> None:
    from clinical_assets.model_card import model_card

    settings, instance = pipeline["settings"], pipeline["instance"]
    run = instance.get_run_by_id(pipeline["runs"]["training"])
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("evaluation"), "promotion_gate"), limit=1
    )
    assert checks and checks[0].run_id == run.run_id and checks[0].status.value == "SUCCEEDED"
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        evaluated = lineage.latest_artifact(con, "evaluation")
        decision = lineage.latest_artifact(con, "promotion_decision")
        card = lineage.latest_artifact(con, "model_card")
    assert decision["details"]["passed"] is True
    assert decision["details"]["thresholds"]["profile"] == "demo"
    assert decision["details"]["label"] == "demo thresholds — not a clinical release"
    assert decision["parents"]["evaluation"] == evaluated["artifact_id"]
    details = evaluated["details"]
    assert "golden" in details["splits"] or "no golden split" in details["skipped"]["golden"]
    assert set(details["splits"]["test"]["models"]) == {
        "tuned",
        "base_zero_shot",
        "base_few_shot",
        "dictionary",
    }
    # The tuned model against each baseline on the same notes, with a paired bootstrap interval.
    paired = details["splits"]["test"]["tuned_minus"]
    assert set(paired) == {"base_zero_shot", "base_few_shot", "dictionary"}
    models = details["splits"]["test"]["models"]
    for name, difference in paired.items():
        assert difference["value"] == pytest.approx(models["tuned"]["micro_f1"] - models[name]["micro_f1"])
        low, high = difference["ci"]
        assert low <= difference["value"] <= high and 0.0 <= difference["share_a_better"] <= 1.0
    evaluation_event = instance.get_latest_materialization_event(dg.AssetKey("evaluation")).asset_materialization
    assert "| test | base_zero_shot |" in evaluation_event.metadata["tuned_minus_baselines"].value
    assert card["parents"] == {
        "adapter": evaluated["parents"]["adapter"],
        "evaluation": evaluated["artifact_id"],
        "dataset_version": evaluated["parents"]["dataset_version"],
        "promotion_decision": decision["artifact_id"],
    }
    assert ids.sha256_file(card["path"]) == card["sha256"]
    event = instance.get_latest_materialization_event(model_card.key).asset_materialization
    assert "demo thresholds — not a clinical release" in event.metadata["model_card"].value
    assert event.metadata["model_card_sha256"].value == card["sha256"]
    assert (
        f"| landing batches' protocols / agreements (manifests) | {DEMO_PROTOCOL} |"
        in event.metadata["model_card"].value
    )


def test_serving_assets_link_their_evaluation_and_model_card(pipeline) -> None:
    settings, instance = pipeline["settings"], pipeline["instance"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        card = lineage.latest_artifact(con, "model_card")
    for asset in ("merged_model", "bento", "deployment"):
        links = instance.get_latest_materialization_event(dg.AssetKey(asset)).asset_materialization.metadata["links"]
        assert f"| evaluation | `{card['parents']['evaluation']}` |" in links.value, asset
        assert f"| model_card | `{card['artifact_id']}` | `{card['sha256'][:16]}` |" in links.value, asset
        assert "[model_card](/assets/model_card)" in links.value and "**Promotion gate:** passed" in links.value


def test_failing_promotion_gate_blocks_model_card_merge_and_serving(pipeline) -> None:
    """Production thresholds on the tiny random model: the blocking gate fails, so nothing downstream of
    evaluation materializes in that run, and the decision is in lineage with its thresholds."""
    from clinical_assets.definitions import build_definitions

    settings, instance = pipeline["settings"], pipeline["instance"]
    keys = [dg.AssetKey(k) for k in ("evaluation", "model_card", "merged_model", "trtllm_engine", "bento")]
    result = (
        build_definitions(settings)
        .resolve_job_def("training_job")
        .execute_in_process(
            instance=instance,
            asset_selection=keys,
            run_config={
                "ops": {"evaluation": {"config": {**RUN_CONFIG["ops"]["evaluation"]["config"], "models": ["tuned"]}}},
                "resources": {"promotion_policy": {"config": {"profile": "production"}}},
            },
            raise_on_error=False,
        )
    )
    (gate,) = [e for e in result.get_asset_check_evaluations() if e.check_name == "promotion_gate"]
    assert not gate.passed
    assert gate.metadata["profile"].value == "production"
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey("evaluation")}
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        decision = lineage.latest_artifact(con, "promotion_decision")
        bento = lineage.latest_artifact(con, "bento")
    assert decision["run_id"] == result.run_id and decision["details"]["passed"] is False
    assert decision["details"]["thresholds"]["floor"] == 0.5
    assert bento["run_id"] != result.run_id
