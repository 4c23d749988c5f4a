"""annotations: clinician golden sets — brat standoff corpora and label files of landing records."""

import time
from collections import Counter
from pathlib import Path

import dagster as dg

from clinical import brat, ids, labels
from clinical.warehouse import insert_rows
from clinical_assets.metadata import counts_table, md_table
from clinical_assets.versioning import code_version
from resources import LandingZone, PatientIdentity, Warehouse

BRAT_GUIDELINE = "MACCROBAT2020"


@dg.asset(
    group_name="data",
    code_version=code_version(brat, labels),
    kinds={"duckdb"},
    owners=["team:clinical-annotation"],
    tags={"zone": "deidentified"},
)
def annotations(
    context: dg.AssetExecutionContext,
    landing_zone: LandingZone,
    warehouse: Warehouse,
    identity: PatientIdentity,
) -> dg.MaterializeResult:
    """Gold entity labels: brat corpora (text + entities) and label files keyed to landing records.

    Each annotation keeps its source files with their sha256, the annotator and the guideline version.
    """
    started = time.perf_counter()
    secret = identity.secret()
    rows, errors, sources = [], [], []
    for folder in landing_zone.brat_dirs:
        corpus = brat.read_brat_corpus(folder)
        errors += [{"file": Path(str(e.path)).name, "line": e.line, "reason": e.reason} for e in corpus.errors]
        for doc in corpus:
            rows.append(
                {
                    "annotation_id": "brat_" + ids.content_hash([d["sha256"] for d in doc.source_files])[:32],
                    "kind": "brat",
                    "note_id": None,
                    "doc_id": doc.doc_id,
                    "patient_key": ids.patient_key(secret, f"brat:{Path(folder).name}:{doc.doc_id}"),
                    "text": doc.text,
                    "entities": doc.entities,
                    "source_files": doc.source_files,
                    "annotator": Path(folder).name,
                    "guideline_version": BRAT_GUIDELINE,
                }
            )
        sources.append({"source": str(folder), "kind": "brat", "documents": len(corpus)})
    for path in labels.find_label_files(landing_zone.annotations_dir):
        parsed = labels.read_label_file(path, secret)
        errors += [{"file": path.name, "line": line, "reason": reason} for line, reason in parsed.errors]
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
                    "source_files": [{"path": str(path), "sha256": parsed.sha256, "line": label["line"]}],
                    "annotator": label["annotator"],
                    "guideline_version": label["guideline_version"],
                }
            )
        sources.append({"source": str(path), "kind": "labels", "documents": len(parsed.labels)})
    run_id = context.run.run_id
    with warehouse.connect() as con:
        con.execute("DELETE FROM annotations")
        insert_rows(con, "annotations", [{**r, "run_id": run_id} for r in rows])
    if errors:
        context.log.warning(f"{len(errors)} annotation line(s) refused; see the 'refused' metadata")
    by_type = Counter(e["type"] for r in rows for e in r["entities"])
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "annotated_documents": len(rows),
            "entities": sum(by_type.values()),
            "entities_by_type": counts_table(dict(by_type), "entity type", "entities"),
            "sources": md_table(sources),
            "refused": md_table(errors[:50]),
        },
        data_version=dg.DataVersion(ids.content_hash(sorted(r["annotation_id"] for r in rows))),
    )
