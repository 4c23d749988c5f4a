"""annotations + sft_dataset in Dagster: brat and Label Studio import, golden hold-out, agreement, checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
from modeling_fixtures import build_tiny_base, needs_smollm2_tokenizer

from clinical import sft, warehouse
from clinical.settings import Settings
from clinical_assets.annotations import annotations
from clinical_assets.dataset import golden_set_held_out, sft_dataset, split_leakage
from clinical_assets.definitions import build_resources
from resources import BaseModelRegistry

FIXTURES = Path(__file__).parent / "fixtures"
DRUGS = ["metformin", "lisinopril", "atorvastatin", "amoxicillin", "warfarin", "levothyroxine", "omeprazole"]
CONDITIONS = ["diabetes", "hypertension", "hyperlipidemia", "otitis media", "atrial fibrillation", "hypothyroidism"]


def _brat_doc(folder: Path, name: str, i: int, drop_condition: bool = False) -> None:
    """A small invented case report with a medication (dose linked) and a condition, in brat format."""
    drug, condition = DRUGS[i % len(DRUGS)], CONDITIONS[i % len(CONDITIONS)]
    text = (
        f"Case {name}: a patient in clinic {i * 11 + 3} with {condition} was given {drug} {i + 1}0 mg. "
        f"Follow-up in week {i + 2} showed a stable course without complications number {i * 7 + 1}.\n"
    )
    lines = []
    start = text.index(condition)
    if not drop_condition:
        lines.append(f"T1\tDisease_disorder {start} {start + len(condition)}\t{condition}")
    start = text.index(drug)
    lines.append(f"T2\tMedication {start} {start + len(drug)}\t{drug}")
    dose = f"{i + 1}0 mg"
    start = text.index(dose)
    lines += [f"T3\tDosage {start} {start + len(dose)}\t{dose}", "E1\tMedication:T2 ", "R1\tMODIFY Arg1:T3 Arg2:E1\t"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / f"{name}.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    home = tmp_path_factory.mktemp("annotations_home")
    corpus, second = home / "corpus", home / "annotator_b"
    for i in range(1, 7):
        _brat_doc(corpus, f"case0{i}", i)
    _brat_doc(corpus / "golden", "case07", 7)
    _brat_doc(second, "case01", 1, drop_condition=True)  # a second annotator on case01: agreement
    settings = Settings.from_env(
        {"CLINICAL_HOME": str(home), "CLINICAL_BRAT_DIRS": f"{corpus}:{second}", "CLINICAL_BASE_MODEL": "tiny-random"}
    )
    settings.annotations_dir.mkdir(parents=True)
    shutil.copy(FIXTURES / "labelstudio_export.json", settings.annotations_dir / "project-7.json")
    (settings.annotations_dir / "broken.json").write_text("[]", encoding="utf-8")
    resources = build_resources(settings)
    info = build_tiny_base(tmp_path_factory)
    resources["base_models"] = BaseModelRegistry(spec="tiny-random", cache_dir=str(info.path.parent))
    run_config = {"ops": {"annotations": {"config": {"golden_fraction": 0.0, "golden_documents": ["case02"]}}}}
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [annotations, sft_dataset, golden_set_held_out, split_leakage],
        instance=instance,
        resources=resources,
        run_config=run_config,
    )
    return {"settings": settings, "result": result, "resources": resources, "instance": instance}


def _metadata(result, key: str) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.path[-1] == key]
    return {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}


@needs_smollm2_tokenizer
def test_annotations_import_brat_and_labelstudio_with_provenance(built):
    assert built["result"].success
    with warehouse.connect(built["settings"].warehouse_path, read_only=True) as con:
        rows = warehouse.fetch_dicts(
            con,
            "SELECT kind, doc_id, annotator, guideline_version, annotated_at, golden, golden_rule, is_primary, "
            "note_type, entities FROM annotations ORDER BY kind, doc_id, annotator",
        )
    brat_rows = [r for r in rows if r["kind"] == "brat"]
    ls_rows = [r for r in rows if r["kind"] == "labelstudio"]
    assert len(brat_rows) == 8 and len(ls_rows) == 3  # 6 + golden + second annotator; 3 non-cancelled
    assert all(r["annotator"] and r["guideline_version"] and r["annotated_at"] for r in rows)
    assert {r["note_type"] for r in brat_rows} == {"case_report"}
    assert {r["note_type"] for r in ls_rows} == {"progress_note", "discharge_summary"}
    golden = {(r["doc_id"], r["golden_rule"]) for r in rows if r["golden"]}
    assert golden == {("case02", "listed"), ("case07", "folder:golden")}
    assert sorted(r["annotator"] for r in ls_rows if r["doc_id"] == "task:101") == ["ls_user:11", "ls_user:12"]
    primary = [r for r in ls_rows if r["doc_id"] == "task:101" and r["is_primary"]]
    assert [r["annotator"] for r in primary] == ["ls_user:11"]  # the ground_truth annotation
    case01 = [r for r in brat_rows if r["doc_id"] == "case01"]
    assert sorted((r["annotator"], r["is_primary"]) for r in case01) == [("annotator_b", False), ("corpus", True)]
    assert "annotator-b@example.org" not in json.dumps(rows)  # e-mails from the export never stored


@needs_smollm2_tokenizer
def test_annotations_metadata_reports_agreement_and_refusals(built):
    metadata = _metadata(built["result"], "annotations")
    assert metadata["double_annotated_pairs"] == 2  # task 101 in Label Studio, case01 in two brat folders
    agreement = metadata["agreement"]
    assert "span_f1_exact" in agreement and "token_kappa" in agreement
    condition_row = next(line for line in agreement.splitlines() if line.startswith("| condition"))
    # case01: 0 vs 1 condition; task 101: 3 vs 2, of which chest pain matches exactly and headache overlaps
    assert condition_row.startswith("| condition | 2 | 3 | 3 | 0.333 | 0.667 |")
    assert metadata["refused_count"] == 1 and "empty export" in metadata["refused"]
    assert metadata["golden_annotations"] == 2


@needs_smollm2_tokenizer
def test_sft_dataset_holds_golden_out_and_checks_pass(built):
    result, settings = built["result"], built["settings"]
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["golden_set_held_out"].passed and checks["split_leakage"].passed
    metadata = _metadata(result, "sft_dataset")
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        rows = warehouse.fetch_dicts(
            con,
            "SELECT split, source, patient_key, note_type, text FROM sft_examples WHERE dataset_version = ?",
            [metadata["dataset_version"]],
        )
        report = json.loads(con.execute("SELECT report FROM datasets").fetchone()[0])
    golden = [r for r in rows if r["split"] == "golden"]
    assert {r["text"].split(":")[0] for r in golden} == {"Case case02", "Case case07"}
    golden_patients = {r["patient_key"] for r in golden}
    assert not golden_patients & {r["patient_key"] for r in rows if r["split"] != "golden"}
    assert {r["note_type"] for r in rows} == {"case_report", "progress_note", "discharge_summary"}
    assert report["by_split"]["golden"] == 2 and report["by_note_type"]["case_report"] == 7
    assert report["exact_duplicates_removed"] == 0  # case01's second annotation is not primary: not a copy
    assert report["token_length"]["counter"].startswith("tiny-random tokenizer")
    assert report["token_length"]["example"]["min"] > report["token_length"]["text"]["max"] > 0
    card = metadata["dataset_card_md"]
    assert metadata["dataset_version"] in card and "| golden |" in card and "near duplicates removed" in card


@needs_smollm2_tokenizer
def test_golden_check_fails_when_a_golden_text_reaches_train(built):
    settings, instance = built["settings"], built["instance"]
    version = _metadata(built["result"], "sft_dataset")["dataset_version"]
    with warehouse.connect(settings.warehouse_path) as con:
        golden = warehouse.fetch_dicts(
            con, "SELECT * FROM sft_examples WHERE dataset_version = ? AND split = 'golden' LIMIT 1", [version]
        )[0]
        train_patient = con.execute(
            "SELECT patient_key FROM sft_examples WHERE dataset_version = ? AND split = 'train' LIMIT 1", [version]
        ).fetchone()[0]
        leaked = {**golden, "example_id": "leaked", "split": "train", "patient_key": train_patient}
        leaked["text"] = golden["text"].replace("Case", "CASE")  # same normalised text
        warehouse.insert_rows(con, "sft_examples", [leaked])
    result = dg.materialize(
        [sft_dataset, golden_set_held_out, split_leakage],
        instance=instance,
        resources=built["resources"],
        selection=dg.AssetSelection.checks(golden_set_held_out, split_leakage),
        raise_on_error=False,
    )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["golden_set_held_out"].passed and not checks["split_leakage"].passed
    assert "golden_texts_in_other_splits | 1" in checks["golden_set_held_out"].metadata["result"].value
    with warehouse.connect(settings.warehouse_path) as con:
        con.execute("DELETE FROM sft_examples WHERE example_id = 'leaked'")
    assert sft.GOLDEN in sft.ALL_SPLITS
