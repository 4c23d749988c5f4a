"""deidentified_notes: presidio de-identification of one batch, from the restricted zone into the warehouse."""

import time
from collections import Counter

import dagster as dg

from clinical import ids
from clinical.deid import engine, lexicons, recognizers, residual, surrogate
from clinical.warehouse import fetch_dicts, insert_rows
from clinical_assets.ingest import raw_notes
from clinical_assets.metadata import counts_table, md_table
from clinical_assets.partitions import landing_batches
from clinical_assets.versioning import code_version
from resources import DeidPolicyResource, Warehouse

PROGRESS_EVERY = 64
RESIDUAL_NOTES_SHOWN = 50


@dg.asset(
    partitions_def=landing_batches,
    deps=[raw_notes],
    group_name="privacy",
    code_version=code_version(engine, recognizers, lexicons, surrogate),
    kinds={"presidio", "duckdb"},
    owners=["team:privacy"],
    tags={"zone": "deidentified"},
)
def deidentified_notes(
    context: dg.AssetExecutionContext, warehouse: Warehouse, deid_policy: DeidPolicyResource
) -> dg.MaterializeResult:
    """The batch's notes with PHI replaced under the configured policy: typed placeholders ([NAME],
    [DATE 2019], ...) under "safe_harbor", consistent per-patient surrogates and date shifts under
    "surrogate" (expert determination, not Safe Harbor).

    The span audit keeps offsets (in the raw note, and of the replacement in the output text),
    identifier types and scores — never the PHI text, never a surrogate mapping. Each note keeps its
    note id, patient key and source file/sha256/line, so every later record traces back here.
    """
    batch = context.partition_key
    with warehouse.connect_restricted(read_only=True) as con:
        raw = fetch_dicts(
            con,
            "SELECT note_id, patient_key, note_type, text, text_sha256, source_path, source_sha256, row_number "
            "FROM raw_notes WHERE batch = ? ORDER BY row_number",
            [batch],
        )
    deidentifier = deid_policy.deidentifier()
    policy = deidentifier.policy
    fingerprint = policy.fingerprint()
    started = time.perf_counter()
    all_spans = []
    for offset in range(0, len(raw), PROGRESS_EVERY):
        all_spans += deidentifier.detect_many([row["text"] for row in raw[offset : offset + PROGRESS_EVERY]])
        context.log.info(f"de-identified {len(all_spans)}/{len(raw)} notes")
    notes, spans = [], []
    for row, note_spans in zip(raw, all_spans, strict=True):
        note_spans = engine.merge_spans(note_spans)
        text, inserted = deidentifier.redact_with_offsets(row.pop("text"), note_spans, patient_key=row["patient_key"])
        raw_sha = row.pop("text_sha256")
        notes.append(
            {
                **row,
                "batch": batch,
                "text": text,
                "text_sha256": ids.sha256_text(text),
                "raw_text_sha256": raw_sha,
                "policy": f"{policy.name}@{policy.version}",
                "policy_fingerprint": fingerprint,
                "phi_spans": len(note_spans),
                "run_id": context.run.run_id,
            }
        )
        spans += [
            {
                "note_id": row["note_id"],
                "start_offset": s.start,
                "end_offset": s.end,
                "phi_type": s.type,
                "score": float(s.score),
                "policy_fingerprint": fingerprint,
                "output_start": out_start,
                "output_end": out_end,
            }
            for s, (out_start, out_end) in zip(note_spans, inserted, strict=True)
        ]
    seconds = time.perf_counter() - started
    with warehouse.connect() as con:
        con.execute(
            "DELETE FROM phi_span_audit WHERE note_id IN (SELECT note_id FROM deidentified_notes WHERE batch = ?)",
            [batch],
        )
        con.execute("DELETE FROM deidentified_notes WHERE batch = ?", [batch])
        insert_rows(con, "deidentified_notes", notes, or_replace=True)
        insert_rows(con, "phi_span_audit", spans)
    by_type = Counter(s["phi_type"] for s in spans)
    return dg.MaterializeResult(
        metadata={
            "notes": len(notes),
            "phi_spans": len(spans),
            "phi_spans_by_type": counts_table(dict(by_type), "identifier type", "spans"),
            "policy": f"{policy.name}@{policy.version}",
            "policy_fingerprint": fingerprint,
            **(
                {"surrogate_secret_id": deidentifier.surrogates.secret_id, "date_shift_weeks": "1-52, per patient"}
                if deidentifier.surrogates is not None
                else {}
            ),
            "notes_per_second": round(len(notes) / seconds, 2) if seconds > 0 else 0.0,
            "seconds": round(seconds, 3),
        },
        data_version=dg.DataVersion(
            ids.content_hash([[n["note_id"], n["text_sha256"]] for n in notes] + [fingerprint])
        ),
    )


@dg.asset_check(
    asset=deidentified_notes,
    blocking=True,
    partitions_def=landing_batches,
    description=(
        "A second, independent scan of the batch's de-identified text (regexes for digit runs, phone, "
        "SSN, e-mail, URL, IP, date and age shapes, names after titles and labels, and Faker's name "
        "lists) that skips exactly the replacements the policy wrote (their output offsets from the span "
        "audit), so surrogate text is not a finding. Fails while candidate PHI remains, so nothing "
        "downstream of the batch materializes in the run; the findings go to the residual_phi_findings "
        "table, and sft_dataset leaves out notes with open findings. Reports note ids, text hashes and "
        "identifier types, never text."
    ),
)
def residual_phi_scan(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    batch = context.partition_key
    with warehouse.connect(read_only=True) as con:
        notes = fetch_dicts(
            con,
            "SELECT note_id, text_sha256, text, policy_fingerprint FROM deidentified_notes WHERE batch = ? "
            "ORDER BY row_number",
            [batch],
        )
        audit = con.execute(
            "SELECT a.note_id, a.output_start, a.output_end FROM phi_span_audit a "
            "JOIN deidentified_notes d ON d.note_id = a.note_id AND d.policy_fingerprint = a.policy_fingerprint "
            "WHERE d.batch = ? AND a.output_start IS NOT NULL",
            [batch],
        ).fetchall()
    inserted: dict[str, list[tuple[int, int]]] = {}
    for note_id, start, end in audit:
        inserted.setdefault(note_id, []).append((start, end))
    rows = residual.scan_notes([{**n, "inserted": inserted.get(n["note_id"], [])} for n in notes])
    with warehouse.connect() as con:
        con.execute("DELETE FROM residual_phi_findings WHERE batch = ?", [batch])
        insert_rows(
            con,
            "residual_phi_findings",
            [
                {
                    **r,
                    "batch": batch,
                    "scanner_version": residual.RESIDUAL_SCANNER_VERSION,
                    "run_id": context.run.run_id,
                }
                for r in rows
            ],
        )
    by_type: Counter = Counter()
    by_note: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        by_type[r["phi_type"]] += r["findings"]
        by_note.setdefault((r["note_id"], r["text_sha256"]), []).append(f"{r['phi_type']} x{r['findings']}")
    flagged = [
        {"note_id": note_id, "text_sha256": sha[:16], "identifier types": ", ".join(kinds)}
        for (note_id, sha), kinds in list(by_note.items())[:RESIDUAL_NOTES_SHOWN]
    ]
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "notes_scanned": len(notes),
            "notes_with_findings": len(by_note),
            "findings": sum(by_type.values()),
            "findings_by_type": counts_table(dict(by_type), "identifier type", "findings"),
            "flagged_notes": md_table(flagged),
            "scanner_version": residual.RESIDUAL_SCANNER_VERSION,
        },
    )
