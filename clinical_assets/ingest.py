"""raw_notes: one landing file per partition, parsed into the restricted zone."""

import time
from collections import Counter

import dagster as dg

from clinical import intake, landing, records
from clinical.warehouse import insert_rows
from clinical_assets.metadata import md_table
from clinical_assets.partitions import landing_batches
from clinical_assets.versioning import code_version
from resources import LandingZone, PatientIdentity, Warehouse


@dg.asset(
    partitions_def=landing_batches,
    group_name="ingest",
    code_version=code_version(landing, records, intake),
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    tags={"zone": "restricted"},
)
def raw_notes(
    context: dg.AssetExecutionContext,
    landing_zone: LandingZone,
    warehouse: Warehouse,
    identity: PatientIdentity,
) -> dg.MaterializeResult:
    """Raw clinical notes of one landing batch, in the restricted zone (PHI).

    Every accepted record gets a note id and a patient key (keyed hashes), its source file path,
    sha256 and line number, and the sha256 of its text. Malformed lines are quarantined with the
    reason; the rest of the batch goes on. A batch without a valid data-use manifest
    (`<name>.manifest.json`: IRB protocol or data use agreement, permitted purposes, approval expiry,
    data steward; clinical/intake.py) is refused before any record is read.
    """
    batch = context.partition_key
    started = time.perf_counter()
    landing_file = landing_zone.batch_file(batch)
    try:
        manifest = intake.read_manifest(landing_file)
    except intake.ManifestError as exc:
        warehouse.audit("batch_refused", {"batch": batch, "reason": str(exc), "run_id": context.run.run_id})
        raise dg.Failure(
            description=f"batch {batch} refused: {exc}",
            metadata={"batch": batch, "manifest": intake.manifest_path(landing_file).name, "reason": str(exc)},
            allow_retries=False,
        ) from None
    parsed = landing.parse_landing_file(landing_file, identity.secret(), batch)
    run_id = context.run.run_id
    quarantine = [
        {
            "batch": batch,
            "source_path": parsed.source_path,
            "source_sha256": parsed.source_sha256,
            "row_number": r.line,
            "reason": r.reason,
        }
        for r in parsed.quarantine
    ]
    with warehouse.connect_restricted() as con:
        con.execute("DELETE FROM raw_notes WHERE batch = ?", [batch])
        con.execute("DELETE FROM raw_quarantine WHERE batch = ?", [batch])
        insert_rows(con, "raw_notes", [{**n, "run_id": run_id} for n in parsed.notes], or_replace=True)
        insert_rows(
            con,
            "raw_quarantine",
            [{**q, "raw_line": r.raw, "run_id": run_id} for q, r in zip(quarantine, parsed.quarantine, strict=True)],
        )
    with warehouse.connect() as con:
        con.execute("DELETE FROM landing_sources WHERE batch = ?", [batch])
        con.execute("DELETE FROM quarantine_log WHERE batch = ?", [batch])
        insert_rows(
            con,
            "landing_sources",
            [{**parsed.source_record(), **intake.landing_columns(manifest), "run_id": run_id}],
        )
        insert_rows(con, "quarantine_log", [{**q, "run_id": run_id} for q in quarantine])
    warehouse.audit(
        "batch_ingested",
        {
            "batch": batch,
            "source_sha256": parsed.source_sha256,
            "rows": parsed.rows,
            "accepted": len(parsed.notes),
            "quarantined": len(parsed.quarantine),
            "protocol_id": manifest.protocol_id,
            "dua_id": manifest.dua_id,
            "manifest_sha256": manifest.sha256,
            "code_version": context.assets_def.code_versions_by_key[context.asset_key],
            "run_id": run_id,
        },
    )
    if parsed.quarantine:
        context.log.warning(f"batch {batch}: {len(parsed.quarantine)} line(s) quarantined")
    if identity.uses_dev_secret:
        context.log.warning("patient keys use the development HMAC secret; set CLINICAL_HMAC_SECRET")
    reasons = Counter(r.reason.split(" (")[0] for r in parsed.quarantine)
    return dg.MaterializeResult(
        metadata={
            "rows": parsed.rows,
            "accepted": len(parsed.notes),
            "quarantined": len(parsed.quarantine),
            "patients": len({n["patient_key"] for n in parsed.notes}),
            "source_path": dg.MetadataValue.path(parsed.source_path),
            "source_sha256": parsed.source_sha256,
            "protocol_id": manifest.protocol_id or "",
            "dua_id": manifest.dua_id or "",
            "permitted_purposes": ", ".join(manifest.permitted_purposes),
            "approval_expires": manifest.approval_expires,
            "data_steward": manifest.data_steward,
            "manifest_sha256": manifest.sha256,
            "quarantine": md_table(
                [{"line": q["row_number"], "reason": q["reason"]} for q in quarantine[:50]],
                ["line", "reason"],
            ),
            "quarantine_reasons": dg.MetadataValue.json(dict(reasons)),
            "seconds": round(time.perf_counter() - started, 3),
        },
        data_version=dg.DataVersion(parsed.source_sha256),
    )
