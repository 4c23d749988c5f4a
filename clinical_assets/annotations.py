"""annotations: clinician labels — brat corpora, Label Studio exports and label files of landing records."""

import time
from collections import Counter
from pathlib import Path

import dagster as dg
from pydantic import Field

from clinical import agreement, brat, ids, labels, labelstudio
from clinical.warehouse import insert_rows
from clinical_assets.metadata import counts_table, md_table
from clinical_assets.versioning import code_version
from resources import LandingZone, PatientIdentity, Warehouse

BRAT_GUIDELINE = "MACCROBAT2020"
BRAT_NOTE_TYPE = "case_report"
LABELSTUDIO_NOTE_TYPE = "clinical_note"
KIND_ORDER = {"brat": 0, "labelstudio": 1, "note_labels": 2}


class AnnotationsConfig(dg.Config):
    golden_fraction: float = Field(
        default=labels.GOLDEN_FRACTION,
        description="Share of brat documents made golden by a hash of their id (0.1: 4 of the 44 MACCROBAT "
        "dev reports). Golden documents are held out of training; docs/DATA.md.",
    )
    golden_documents: list[str] = Field(default=[], description="brat document ids that are golden as well.")
    golden_salt: str = Field(default="", description="Salt of the golden hash (a new salt picks a new golden set).")
    labelstudio_guideline_version: str = Field(
        default="unversioned",
        description="Guideline version of Label Studio annotations whose task data names none.",
    )


def _keyed_patient(secret: str, given: str | None, fallback: str) -> str:
    """A task's patient: an already keyed `pt_...` hash as is, any other identifier through the HMAC."""
    if given and given.startswith("pt_") and len(given) == 35:
        return given
    return ids.patient_key(secret, given or fallback)


def _brat_rows(folder: Path, secret: str, config: AnnotationsConfig, errors: list, sources: list) -> list[dict]:
    rows = []
    corpus_name = folder.name
    for path, in_golden in ((folder / labels.GOLDEN_FOLDER, True), (folder, False)):
        if in_golden and not path.is_dir():
            continue
        corpus = brat.read_brat_corpus(path)
        errors += [{"file": Path(e.path).name, "where": f"line {e.line}", "reason": e.reason} for e in corpus.errors]
        for doc in corpus:
            rule = labels.golden_rule(
                doc.doc_id, in_golden, config.golden_documents, config.golden_fraction, config.golden_salt
            )
            rows.append(
                {
                    "annotation_id": "brat_" + ids.content_hash([d["sha256"] for d in doc.source_files])[:32],
                    "kind": "brat",
                    "note_id": None,
                    "doc_id": doc.doc_id,
                    "patient_key": ids.patient_key(secret, f"brat:{corpus_name}:{doc.doc_id}"),
                    "text": doc.text,
                    "entities": doc.entities,
                    "source_files": doc.source_files,
                    "annotator": corpus_name,
                    "guideline_version": BRAT_GUIDELINE,
                    "golden": rule is not None,
                    "golden_rule": rule,
                    "note_type": BRAT_NOTE_TYPE,
                    "annotated_at": doc.annotated_at,
                    "text_sha256": ids.sha256_text(doc.text),
                    "_ground_truth": False,
                }
            )
        sources.append({"source": str(path), "kind": "brat", "golden": in_golden, "documents": len(corpus)})
    return rows


def _labelstudio_rows(folder: Path, secret: str, config: AnnotationsConfig, errors: list, sources: list) -> list:
    rows = []
    for path, in_golden in ((folder / labels.GOLDEN_FOLDER, True), (folder, False)):
        for export_path in labelstudio.find_exports(path):
            try:
                export = labelstudio.read_export(export_path, config.labelstudio_guideline_version)
            except labelstudio.LabelStudioFormatError as error:
                errors.append({"file": export_path.name, "where": "file", "reason": error.reason})
                continue
            errors += [
                {"file": export_path.name, "where": f"task {e.task} {e.where}".strip(), "reason": e.reason}
                for e in export.errors
            ]
            # Within a task the most recently updated annotation comes first (it wins adjudication).
            ordered = sorted(export.annotations, key=lambda a: a.annotated_at, reverse=True)
            for ann in ordered:
                fallback = f"labelstudio:{ann.project}:{ann.task_id}"
                rows.append(
                    {
                        "annotation_id": "ls_"
                        + ids.content_hash([export.sha256, str(ann.task_id), str(ann.annotation_id)])[:32],
                        "kind": "labelstudio",
                        "note_id": None,
                        "doc_id": f"task:{ann.task_id}",
                        "patient_key": _keyed_patient(secret, ann.patient_key, fallback),
                        "text": ann.text,
                        "entities": ann.entities,
                        "source_files": [
                            {
                                "path": str(export_path),
                                "sha256": export.sha256,
                                "task": ann.task_id,
                                "annotation": ann.annotation_id,
                            }
                        ],
                        "annotator": ann.annotator,
                        "guideline_version": ann.guideline_version,
                        "golden": in_golden,
                        "golden_rule": f"folder:{labels.GOLDEN_FOLDER}" if in_golden else None,
                        "note_type": ann.note_type or LABELSTUDIO_NOTE_TYPE,
                        "annotated_at": ann.annotated_at,
                        "text_sha256": ids.sha256_text(ann.text),
                        "_ground_truth": ann.ground_truth,
                    }
                )
            sources.append(
                {
                    "source": str(export_path),
                    "kind": "labelstudio",
                    "golden": in_golden,
                    "documents": len(export.annotations),
                    "cancelled": export.cancelled,
                }
            )
    return rows


def _label_file_rows(folder: Path, secret: str, errors: list, sources: list) -> list[dict]:
    rows = []
    for path, in_golden in ((folder / labels.GOLDEN_FOLDER, True), (folder, False)):
        for label_path in labels.find_label_files(path):
            parsed = labels.read_label_file(label_path, secret)
            errors += [{"file": label_path.name, "where": f"line {line}", "reason": r} for line, r in parsed.errors]
            for label in parsed.labels:
                rows.append(
                    {
                        "annotation_id": "lbl_" + ids.content_hash([label["note_id"], parsed.sha256])[:32],
                        "kind": "note_labels",
                        "note_id": label["note_id"],
                        "doc_id": None,
                        "patient_key": None,
                        "text": None,
                        "entities": label["entities"],
                        "source_files": [{"path": str(label_path), "sha256": parsed.sha256, "line": label["line"]}],
                        "annotator": label["annotator"],
                        "guideline_version": label["guideline_version"],
                        "golden": in_golden,
                        "golden_rule": f"folder:{labels.GOLDEN_FOLDER}" if in_golden else None,
                        "note_type": None,
                        "annotated_at": label["annotated_at"],
                        "text_sha256": None,
                        "_ground_truth": False,
                    }
                )
            sources.append(
                {"source": str(label_path), "kind": "labels", "golden": in_golden, "documents": len(parsed.labels)}
            )
    return rows


def adjudicate(rows: list[dict]) -> int:
    """Mark one primary annotation per note (`is_primary`) and spread golden to all of its annotations.

    A note is the same text (text_sha256) or the same landing record (note_id). The primary one is
    Label Studio's ground_truth annotation, else the first in source order (brat folders as
    configured, then Label Studio exports by name with the latest update first, then label files).
    Returns how many annotations are secondary (kept for agreement, not trained on twice).
    """
    groups: dict[str, list[dict]] = {}
    for order, row in enumerate(rows):
        row["_order"] = order
        groups.setdefault(row["text_sha256"] or row["note_id"] or row["annotation_id"], []).append(row)
    secondary = 0
    for members in groups.values():
        members.sort(key=lambda r: (not r["_ground_truth"], r["_order"]))
        golden = next((r for r in members if r["golden"]), None)
        for i, row in enumerate(members):
            row["is_primary"] = i == 0
            secondary += i > 0
            if golden is not None and not row["golden"]:
                row["golden"], row["golden_rule"] = True, f"same note as {golden['golden_rule']}"
    return secondary


@dg.asset(
    group_name="data",
    code_version=code_version(brat, labels, labelstudio, agreement),
    kinds={"duckdb"},
    owners=["team:clinical-annotation"],
    tags={"zone": "deidentified"},
)
def annotations(
    context: dg.AssetExecutionContext,
    config: AnnotationsConfig,
    landing_zone: LandingZone,
    warehouse: Warehouse,
    identity: PatientIdentity,
) -> dg.MaterializeResult:
    """Gold entity labels: brat corpora, Label Studio exports and label files keyed to landing records.

    Each annotation keeps its source files with their sha256, the annotator, a timestamp and the
    guideline version. Golden annotations (golden/ folders, listed ids, a hashed fraction of brat
    documents) are held out of training by sft_dataset. Where two annotators labelled the same
    note, span F1 (exact, overlap) and token-level Cohen's kappa per entity type are reported.
    """
    started = time.perf_counter()
    secret = identity.secret()
    errors: list[dict] = []
    sources: list[dict] = []
    rows: list[dict] = []
    for folder in landing_zone.brat_dirs:
        rows += _brat_rows(Path(folder), secret, config, errors, sources)
    rows += _labelstudio_rows(Path(landing_zone.annotations_dir), secret, config, errors, sources)
    rows += _label_file_rows(Path(landing_zone.annotations_dir), secret, errors, sources)
    unique: dict[str, dict] = {}
    for row in rows:
        if row["annotation_id"] in unique:
            name = Path(row["source_files"][0]["path"]).name
            errors.append({"file": name, "where": "file", "reason": "same files as an earlier document (kept once)"})
            continue
        unique[row["annotation_id"]] = row
    rows = list(unique.values())
    secondary = adjudicate(rows)
    pairs = agreement.double_annotated([r for r in rows if r["text"] is not None])
    agreement_rows = agreement.agreement_report(pairs)
    run_id = context.run.run_id
    stored = [{k: v for k, v in r.items() if not k.startswith("_")} | {"run_id": run_id} for r in rows]
    with warehouse.connect() as con:
        con.execute("DELETE FROM annotations")
        insert_rows(con, "annotations", stored)
    if errors:
        context.log.warning(f"{len(errors)} annotation item(s) refused; see the 'refused' metadata")
    by_type = Counter(e["type"] for r in rows if r["is_primary"] for e in r["entities"])
    golden = Counter((r["kind"], r["golden_rule"]) for r in rows if r["golden"])
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "annotated_documents": len(rows),
            "secondary_annotations": secondary,
            "entities": sum(by_type.values()),
            "entities_by_type": counts_table(dict(by_type), "entity type", "entities"),
            "golden_annotations": sum(golden.values()),
            "golden": md_table(
                [{"kind": k, "rule": rule, "annotations": n} for (k, rule), n in sorted(golden.items())]
            ),
            "double_annotated_pairs": len(pairs),
            "agreement": md_table(agreement_rows)
            if agreement_rows
            else dg.MetadataValue.md("_no note was labelled by two annotators_"),
            "sources": md_table(sources),
            "refused": md_table(errors[:50]),
            "refused_count": len(errors),
        },
        data_version=dg.DataVersion(
            ids.content_hash(sorted([r["annotation_id"], r["golden"], r["is_primary"]] for r in rows))
        ),
    )
