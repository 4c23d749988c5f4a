"""consent_revocation_sensor: a revocation file in the revocations folder becomes exclusion, flags,
a report and a retraining request.

The work is `clinical.consent.process_folder` (a plain function, tested directly); the sensor keeps the
sha256 of every file it has processed in its cursor, shows the flags as observations on the affected
assets ("trained on revoked data" in the asset's events) and as a failed `no_revoked_consent` check on
each asset whose newest version was flagged, and requests training_job with a run key naming the
revocation files' hashes.
"""

import json

import dagster as dg

from clinical import consent
from clinical_assets.consent import CHECK_NAME, CHECKED_ASSETS, check_result_fields
from clinical_assets.jobs import training_job
from resources import ConsentRegistry, PatientIdentity, Warehouse


def flag_observations(reports: list[dict], known_assets: set[str] | None = None) -> list[dg.AssetObservation]:
    """One observation per flagged dataset or artifact, on the asset that made it (no PHI: ids and hashes)."""
    observations = []
    for report in reports:
        artifacts = {a["artifact_id"]: a for a in report["artifacts"]}
        for flag in report["flags"]:
            asset = consent.KIND_ASSET.get(flag["kind"], flag["kind"])
            if known_assets is not None and asset not in known_assets:
                continue
            artifact = artifacts.get(flag["artifact_id"], {})
            observations.append(
                dg.AssetObservation(
                    asset_key=asset,
                    description="Trained on revoked data: replace or retire this version",
                    metadata={
                        "consent_flag": dg.MetadataValue.md(
                            "**TRAINED ON REVOKED DATA**: consent was revoked for records in this version"
                        ),
                        "flagged_artifact": flag["artifact_id"],
                        "flagged_kind": flag["kind"],
                        "flagged_sha256": artifact.get("sha256") or "",
                        "made_by_run": artifact.get("run_id") or "",
                        "revocation_file_sha256": report["file"]["sha256"],
                        "revocation_report": dg.MetadataValue.path(report["report_paths"]["markdown"]),
                        "retraining_run_key": report["retraining"]["run_key"] or "",
                    },
                )
            )
    return observations


def check_evaluations(con, reports: list[dict], known_assets: set[str] | None = None) -> list[dg.AssetCheckEvaluation]:
    """A failed no_revoked_consent check on each checked asset whose newest version these reports flagged."""
    files = {r["file"]["sha256"] for r in reports}
    evaluations = []
    for asset, kind in CHECKED_ASSETS.items():
        if known_assets is not None and asset not in known_assets:
            continue
        status = consent.latest_flag_status(con, kind)
        if status is None or not files & set(status["revocation_files"]):
            continue
        passed, metadata = check_result_fields(status)
        evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=dg.AssetKey(asset),
                check_name=CHECK_NAME,
                passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                metadata=metadata,
            )
        )
    return evaluations


@dg.sensor(
    job=training_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Consent revocations (CSV files in the revocations folder): records them, excludes the patients and "
        "records from future datasets, flags every dataset and model they reached, writes a report and "
        "requests training_job."
    ),
)
def consent_revocation_sensor(
    context: dg.SensorEvaluationContext,
    consent_registry: ConsentRegistry,
    warehouse: Warehouse,
    identity: PatientIdentity,
) -> dg.SensorResult | dg.SkipReason:
    processed = set(json.loads(context.cursor).get("processed", [])) if context.cursor else set()
    files = consent_registry.files()
    known = None
    if context.repository_def is not None:
        known = {k.to_user_string() for k in context.repository_def.asset_graph.get_all_asset_keys()}
    with warehouse.connect() as con:
        reports = consent.process_folder(
            con,
            files,
            processed,
            identity.secret(),
            warehouse.audit_anchor_path,
            consent_registry.reports_dir,
            data_use=warehouse.data_use,
        )
        evaluations = check_evaluations(con, reports, known) if reports else []
    if not reports:
        return dg.SkipReason(f"no new revocation files ({len(files)} known in {consent_registry.revocations_dir})")
    for report in reports:
        where = report["report_paths"]["markdown"]
        context.log.info(
            f"revocation file {report['file']['name']} sha256 {report['file']['sha256'][:16]}: "
            f"{report['valid_lines']} applied, {len(report['bad_lines'])} bad, {len(report['flags'])} flagged; "
            f"report {where}"
        )
        for error in report["bad_lines"]:
            context.log.error(error)
    cursor = json.dumps({"processed": sorted(processed | {r["file"]["sha256"] for r in reports})})
    run_keys = sorted({r["retraining"]["run_key"] for r in reports if r["retraining"]["run_key"]})
    hashes = ",".join(r["file"]["sha256"][:16] for r in reports)
    requests = [
        dg.RunRequest(
            run_key=run_key,
            tags={
                "clinical/trigger": "consent_revocation",
                "clinical/revocation_files": hashes,
                "clinical/flagged": str(sum(len(r["flags"]) for r in reports)),
            },
        )
        for run_key in run_keys
    ]
    skip = None
    if not requests:
        bad = [e for r in reports for e in r["bad_lines"]]
        skip = (
            f"revocations recorded, no dataset or model holds their records: no retraining ({len(bad)} bad lines)"
            if any(r["valid_lines"] for r in reports)
            else f"nothing applied: {bad[0] if bad else 'empty file'}"
        )
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=skip,
        cursor=cursor,
        asset_events=[*flag_observations(reports, known), *evaluations],
    )
