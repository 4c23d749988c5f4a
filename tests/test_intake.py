"""IRB-aware intake: batch manifests are validated, raw_notes refuses a batch without a valid one, the
protocol id reaches landing_sources and the audit trail, and training leaves out records whose approval
expired or whose purposes exclude model training."""

from __future__ import annotations

import json
from datetime import date

import dagster as dg
import pytest
from modeling_fixtures import tiny_base  # noqa: F401  (pytest fixture)

from clinical import ids, intake, warehouse
from clinical.demo_batch import DEMO_PROTOCOL, write_demo_batch
from clinical.landing import find_landing_files
from clinical.settings import Settings
from clinical_assets.dataset import load_sources
from clinical_assets.definitions import build_resources
from clinical_assets.ingest import raw_notes
from clinical_assets.partitions import landing_batches
from resources import BaseModelRegistry, LandingZone
from sensors import new_batch_sensor

TODAY = date(2026, 11, 27)
VALID = {
    "manifest_version": 1,
    "protocol_id": "IRB-2026-0042",
    "approving_body": "Hospital Ethics Board",
    "permitted_purposes": ["model_training", "evaluation"],
    "approval_expires": "2027-06-30",
    "data_steward": "research-data-office",
}
SECRET_VALUE = "Jane Doe MRN 884422"  # a value an error must never echo


def test_valid_manifest_parses_and_records_its_hash(tmp_path) -> None:
    landing = tmp_path / "b1.jsonl"
    landing.write_text("")
    (tmp_path / "b1.manifest.json").write_text(json.dumps(VALID))
    manifest = intake.read_manifest(landing, today=TODAY)
    assert manifest.protocol_id == "IRB-2026-0042" and manifest.dua_id is None
    assert manifest.permitted_purposes == ("model_training", "evaluation")
    assert manifest.sha256 == ids.sha256_file(tmp_path / "b1.manifest.json")
    assert manifest.permits_training(TODAY) and not manifest.permits_training(date(2027, 7, 1))
    assert intake.landing_columns(manifest)["protocol_id"] == "IRB-2026-0042"


def test_a_data_use_agreement_alone_is_a_valid_basis() -> None:
    data = {**{k: v for k, v in VALID.items() if k != "protocol_id"}, "dua_id": "DUA-17"}
    manifest = intake.parse_manifest(data, "m.json", TODAY)
    assert manifest.basis == "DUA DUA-17"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"protocol_id": None}, "protocol_id or dua_id"),
        ({"protocol_id": "IRB 2026/0042 " + SECRET_VALUE}, "protocol_id"),
        ({"dua_id": 17}, "dua_id must be a string"),
        ({"approving_body": ""}, "approving_body is required"),
        ({"permitted_purposes": []}, "permitted_purposes must be a non-empty list"),
        ({"permitted_purposes": "model_training"}, "permitted_purposes must be a non-empty list"),
        ({"permitted_purposes": ["model_training", SECRET_VALUE]}, "permitted_purposes item(s) 2 not a known purpose"),
        ({"approval_expires": "30/06/2027"}, "approval_expires must be an ISO date"),
        ({"approval_expires": "2027-02-30"}, "approval_expires must be an ISO date"),
        ({"approval_expires": "2026-11-26"}, "approval_expires 2026-11-26 has passed (today 2026-11-27)"),
        ({"data_steward": None}, "data_steward is required"),
        ({"manifest_version": 2}, "manifest_version must be 1"),
        ({"patient_name": SECRET_VALUE}, "unknown field(s) at position 7"),
    ],
)
def test_invalid_manifest_errors_name_the_field_and_never_the_value(change, field) -> None:
    data = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    with pytest.raises(intake.ManifestError) as caught:
        intake.parse_manifest(data, "b1.manifest.json", TODAY)
    message = str(caught.value)
    assert message.startswith("b1.manifest.json: ") and field in message
    assert "\n" not in message and SECRET_VALUE not in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "b1.manifest.json: missing"),
        (b"{not json", "b1.manifest.json: not valid JSON (line 1 column 2)"),
        (b"\xff\xfe", "b1.manifest.json: not UTF-8"),
        (b"[]", "b1.manifest.json: must be a JSON object"),
    ],
)
def test_unreadable_manifest_files(tmp_path, content, expected) -> None:
    landing = tmp_path / "b1.jsonl"
    landing.write_text("")
    if content is not None:
        (tmp_path / "b1.manifest.json").write_bytes(content)
    with pytest.raises(intake.ManifestError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        intake.read_manifest(landing, today=TODAY)


def test_the_demo_batch_comes_with_a_valid_manifest(tmp_path) -> None:
    batch = write_demo_batch(tmp_path / "landing", "b", count=2, seed=1, truth_dir=tmp_path / "truth")
    manifest = intake.read_manifest(batch.path)
    assert batch.manifest_path == intake.manifest_path(batch.path)
    assert manifest.protocol_id == DEMO_PROTOCOL and manifest.permits_training(date.today())
    assert list(find_landing_files(tmp_path / "landing")) == ["b"], "a manifest is not a landing batch"


def _ingest(settings, instance, batch: str):
    resources = build_resources(settings)
    return dg.materialize(
        [raw_notes],
        partition_key=batch,
        instance=instance,
        resources={k: resources[k] for k in ("landing_zone", "warehouse", "identity")},
        raise_on_error=False,
    )


def test_raw_notes_ingests_with_the_protocol_id_and_refuses_without_a_valid_manifest(tmp_path) -> None:
    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_BRAT_DIRS": ""})
    good = write_demo_batch(settings.landing_dir, "good", count=3, seed=1, truth_dir=settings.truth_dir)
    bare = write_demo_batch(settings.landing_dir, "bare", count=3, seed=2, truth_dir=settings.truth_dir, manifest=False)
    stale = write_demo_batch(settings.landing_dir, "stale", count=3, seed=3, truth_dir=settings.truth_dir)
    intake.manifest_path(stale.path).write_text(json.dumps({**VALID, "approval_expires": "2020-01-31"}))
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(landing_batches.name, ["good", "bare", "stale"])
        ok = _ingest(settings, instance, "good")
        assert ok.success
        metadata = ok.asset_materializations_for_node("raw_notes")[0].metadata
        assert metadata["protocol_id"].value == DEMO_PROTOCOL
        assert metadata["manifest_sha256"].value == ids.sha256_file(good.manifest_path)
        for batch, path, why in [
            ("bare", bare.path, "bare.manifest.json: missing"),
            ("stale", stale.path, "stale.manifest.json: approval_expires 2020-01-31 has passed"),
        ]:
            result = _ingest(settings, instance, batch)
            assert not result.success
            (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
            description = failure.step_failure_data.user_failure_data.description
            assert description.startswith(f"batch {batch} refused: {why}"), description
            assert path.exists(), "the refused batch stays in the landing folder"
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        sources = warehouse.fetch_dicts(con, "SELECT batch, protocol_id, manifest_sha256 FROM landing_sources")
        refused = con.execute("SELECT payload FROM audit_events WHERE event_type = 'batch_refused'").fetchall()
    assert sources == [
        {"batch": "good", "protocol_id": DEMO_PROTOCOL, "manifest_sha256": ids.sha256_file(good.manifest_path)}
    ]
    assert sorted(json.loads(p)["batch"] for (p,) in refused) == ["bare", "stale"]
    with warehouse.connect(settings.restricted_path, read_only=True) as con:
        assert {b for (b,) in con.execute("SELECT DISTINCT batch FROM raw_notes").fetchall()} == {"good"}


def _note_row(note_id: str, batch: str) -> dict:
    return {
        "note_id": note_id,
        "batch": batch,
        "patient_key": "pt_" + note_id[-32:],
        "text": "Started metformin.",
        "text_sha256": "t" + note_id,
        "raw_text_sha256": "r" + note_id,
        "source_path": f"/landing/{batch}.jsonl",
        "source_sha256": "f" * 64,
        "row_number": 1,
        "policy": "safe_harbor@1",
        "policy_fingerprint": "p" * 16,
        "phi_spans": 0,
    }


def test_lora_adapter_refuses_a_dataset_whose_approval_expired_after_it_was_built(tmp_path, tiny_base) -> None:  # noqa: F811
    from clinical_assets.training import lora_adapter

    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_BRAT_DIRS": ""})
    note = "note_" + "a" * 32
    with warehouse.connect(settings.warehouse_path) as con:
        con.execute(warehouse.WAREHOUSE_SCHEMA)
        manifest = intake.parse_manifest(VALID, "b1", date(2026, 1, 1), sha256="m" * 64)
        row = {"batch": "b1", "path": "/landing/b1.jsonl", "sha256": "f" * 64}
        warehouse.insert_rows(con, "landing_sources", [{**row, **intake.landing_columns(manifest)}])
        warehouse.insert_rows(con, "deidentified_notes", [_note_row(note, "b1")])
        example = {"dataset_version": "d" * 64, "source": "deid_note", "patient_key": "pt_" + "a" * 32}
        example |= {"text": "Started metformin.", "entities": [], "messages": []}
        warehouse.insert_rows(
            con,
            "sft_examples",
            [{**example, "example_id": "e1", "split": "train", "parents": [note]}],
        )
        warehouse.insert_rows(con, "datasets", [{"dataset_version": "d" * 64, "report": {}}])
        assert intake.examples_refused(con, "d" * 64, today=date(2027, 6, 30)) == 0, "holds through its expiry day"
        assert intake.examples_refused(con, "d" * 64, today=date(2027, 7, 1)) == 1
        con.execute("UPDATE landing_sources SET approval_expires = '2020-01-31'")
    resources = build_resources(settings)
    resources["base_models"] = BaseModelRegistry(spec="tiny-random", cache_dir=str(tiny_base.path.parent))
    result = dg.materialize(
        [lora_adapter],
        resources={k: resources[k] for k in ("base_models", "artifacts", "warehouse")},
        raise_on_error=False,
    )
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    description = failure.step_failure_data.user_failure_data.description
    assert description.startswith("dataset dddddddddddd holds 1 train example(s) from landing batches no longer")


def test_training_leaves_out_expired_and_non_training_batches(tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    batches = {
        "current": {**VALID, "approval_expires": "2099-12-31"},
        "last_day": {**VALID, "approval_expires": "2026-11-27"},  # holds through its expiry day
        "expired": {**VALID, "approval_expires": "2026-11-26"},
        "eval_only": {**VALID, "permitted_purposes": ["evaluation"]},
    }
    with warehouse.connect(path) as con:
        for batch, data in batches.items():
            manifest = intake.parse_manifest(data, batch, date(2026, 1, 1), sha256=batch * 4)
            row = {"batch": batch, "path": f"/landing/{batch}.jsonl", "sha256": "f" * 64}
            warehouse.insert_rows(con, "landing_sources", [{**row, **intake.landing_columns(manifest)}])
        warehouse.insert_rows(con, "landing_sources", [{"batch": "legacy", "path": "/l.jsonl", "sha256": "f" * 64}])
        notes = {b: f"note_{i:032x}" for i, b in enumerate([*batches, "legacy"])}
        warehouse.insert_rows(con, "deidentified_notes", [_note_row(n, b) for b, n in notes.items()])
        warehouse.insert_rows(
            con,
            "annotations",
            [
                {"annotation_id": f"a{i}", "kind": "note_labels", "note_id": n, "entities": [], "source_files": []}
                for i, n in enumerate(notes.values())
            ],
        )
        excluded, summary = intake.training_exclusions(con, today=TODAY)
        labelled = load_sources(con)[0]
    assert excluded == {notes["expired"], notes["eval_only"], notes["legacy"]}
    assert summary["notes_excluded_by_reason"] == {
        "approval_expired": 1,
        "no_manifest": 1,
        "purpose_excludes_training": 1,
    }
    assert summary["batches_refused"] == {
        "eval_only": "purpose_excludes_training",
        "expired": "approval_expired",
        "legacy": "no_manifest",
    }
    assert intake.protocols_used(summary) == "IRB-2026-0042"
    assert [b["batch"] for b in summary["batches_permitted"]] == ["current", "last_day"]
    # sft_dataset's reader, on the real date: 'last_day' depends on it, the others do not
    used = {r["note_id"] for r in labelled}
    assert notes["current"] in used
    assert not used & {notes["expired"], notes["eval_only"], notes["legacy"]}


def test_new_batch_sensor_waits_for_the_manifest_and_reruns_when_it_changes(tmp_path) -> None:
    (tmp_path / "b1.jsonl").write_text('{"record_id": "1", "patient_id": "p", "text": "t"}\n')
    zone = LandingZone(landing_dir=str(tmp_path), annotations_dir=str(tmp_path / "annotations"))
    with dg.instance_for_test() as instance:
        waiting = new_batch_sensor(dg.build_sensor_context(instance=instance, resources={"landing_zone": zone}))
        assert isinstance(waiting, dg.SkipReason)
        assert "waiting for a data-use manifest: b1.manifest.json" in waiting.skip_message
        intake.write_manifest(tmp_path / "b1.jsonl", "IRB-1", "Ethics Board", "2099-12-31", "data-office")
        first = new_batch_sensor(dg.build_sensor_context(instance=instance, resources={"landing_zone": zone}))
        assert [r.partition_key for r in first.run_requests] == ["b1"]
        assert first.run_requests[0].tags["clinical/source_sha256"] == ids.sha256_file(tmp_path / "b1.jsonl")
        instance.add_dynamic_partitions(landing_batches.name, ["b1"])
        same = new_batch_sensor(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"landing_zone": zone})
        )
        assert isinstance(same, dg.SkipReason) and "waiting" not in same.skip_message
        intake.write_manifest(tmp_path / "b1.jsonl", "IRB-1", "Ethics Board", "2100-12-31", "data-office")
        renewed = new_batch_sensor(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"landing_zone": zone})
        )
        assert [r.partition_key for r in renewed.run_requests] == ["b1"]
        assert renewed.run_requests[0].run_key != first.run_requests[0].run_key
