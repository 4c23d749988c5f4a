"""new_batch_sensor: a file dropped in the landing folder becomes a partition and an ingest run."""

import json
from pathlib import Path

import dagster as dg

from clinical.ids import sha256_file
from clinical_assets.jobs import ingest_job
from clinical_assets.partitions import landing_batches
from resources import LandingZone


def changed_batches(files: dict[str, Path], seen: dict[str, str]) -> dict[str, str]:
    """Batches whose file is new or whose content changed since `seen` (batch → sha256)."""
    changed = {}
    for key, path in files.items():
        digest = sha256_file(path)
        if seen.get(key) != digest:
            changed[key] = digest
    return changed


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a landing_batches partition for each new (or changed) landing file and requests its ingest run.",
)
def new_batch_sensor(context: dg.SensorEvaluationContext, landing_zone: LandingZone) -> dg.SensorResult | dg.SkipReason:
    seen = json.loads(context.cursor) if context.cursor else {}
    files = landing_zone.batches()
    changed = changed_batches(files, seen)
    if not changed:
        return dg.SkipReason(f"no new landing files ({len(files)} known in {landing_zone.landing_dir})")
    existing = set(context.instance.get_dynamic_partitions(landing_batches.name))
    new_keys = sorted(k for k in changed if k not in existing)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=key,
                run_key=f"{key}:{digest[:16]}",
                tags={"clinical/trigger": "new_batch", "clinical/source_sha256": digest},
            )
            for key, digest in sorted(changed.items())
        ],
        dynamic_partitions_requests=[landing_batches.build_add_request(new_keys)] if new_keys else [],
        cursor=json.dumps({**seen, **changed}, sort_keys=True),
    )
