"""new_batch_sensor: a file dropped in the landing folder becomes a partition and an ingest run.

A landing file waits until its data-use manifest (`<name>.manifest.json`, clinical/intake.py) is
beside it: source systems often copy the data first. The skip reason names each waiting file.
A manifest that is present but invalid or expired does get a run, and raw_notes fails it with the
reason, so the refusal shows in the UI; a corrected manifest changes the fingerprint and runs again.
"""

import json
from pathlib import Path

import dagster as dg

from clinical.ids import sha256_file
from clinical.intake import manifest_path
from clinical_assets.jobs import ingest_job
from clinical_assets.partitions import landing_batches
from resources import LandingZone


def batch_fingerprint(path: Path) -> str | None:
    """sha256 of a landing file, then ':' and the first 16 hex of its manifest's sha256; None without a manifest."""
    manifest = manifest_path(path)
    if not manifest.is_file():
        return None
    return f"{sha256_file(path)}:{sha256_file(manifest)[:16]}"


def changed_batches(files: dict[str, Path], seen: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(batches whose file or manifest is new or changed since `seen`: batch → fingerprint, batches waiting
    for a manifest)."""
    changed, waiting = {}, []
    for key, path in files.items():
        digest = batch_fingerprint(path)
        if digest is None:
            waiting.append(key)
        elif seen.get(key) != digest:
            changed[key] = digest
    return changed, waiting


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a landing_batches partition for each new (or changed) landing file that has its data-use "
    "manifest beside it and requests its ingest run; files without a manifest wait (named in the skip reason).",
)
def new_batch_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone) -> dg.SensorResult | dg.SkipReason:
    seen = json.loads(context.cursor) if context.cursor else {}
    files = landing_zone.batches()
    changed, waiting = changed_batches(files, seen)
    wait_note = (
        f"; waiting for a data-use manifest: {', '.join(manifest_path(files[k]).name for k in sorted(waiting))}"
        if waiting
        else ""
    )
    if not changed:
        return dg.SkipReason(f"no new landing files ({len(files)} known in {landing_zone.landing_dir}){wait_note}")
    if waiting:
        context.log.info(wait_note.lstrip("; "))
    existing = set(context.instance.get_dynamic_partitions(landing_batches.name))
    new_keys = sorted(k for k in changed if k not in existing)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=key,
                run_key=f"{key}:{digest[:16]}:{digest.split(':')[1]}",
                tags={"clinical/trigger": "new_batch", "clinical/source_sha256": digest.split(":")[0]},
            )
            for key, digest in sorted(changed.items())
        ],
        dynamic_partitions_requests=[landing_batches.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps({**seen, **changed}, sort_keys=True),
    )
