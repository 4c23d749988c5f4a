"""The README's main job: generate a demo landing batch and materialize the whole graph.

Runs go through the real Dagster jobs on the instance in DAGSTER_HOME (the embedded SQLite one by
default), so everything it does shows up in `dagster dev` afterwards.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from clinical import intake
from clinical.demo_batch import write_demo_batch, write_demo_manifest
from clinical.landing import find_landing_files
from clinical.settings import Settings

DEMO_BATCH = "demo_batch_0001"
# The demo trains a 135M model for a few CPU minutes: the promotion gate judges it under the named,
# loose "demo" profile (clinical.promotion), recorded as "demo thresholds — not a clinical release".
DEMO_GATE_PROFILE = "demo"


def with_demo_gate(run_config: dict | None, settings: Settings) -> dict:
    """`run_config` with the demo gate profile on the promotion_policy resource, unless the run config
    already configures that resource or CLINICAL_GATE_PROFILE chose a profile."""
    config = dict(run_config or {})
    resources = dict(config.get("resources", {}))
    if settings.gate_profile is None and "promotion_policy" not in resources:
        resources["promotion_policy"] = {"config": {"profile": DEMO_GATE_PROFILE}}
        config["resources"] = resources
    return config


# No reviewer is at hand in the demo: synthetic notes that pass the privacy guard are approved by this
# named rule (clinical.review), which lineage and the audit trail record.
DEMO_AUTO_APPROVAL = "all_pass_privacy_guard"


def with_demo_review(run_config: dict | None) -> dict:
    """`run_config` with the demo's auto-approval rule on synthetic_notes, unless it names a rule itself."""
    config = dict(run_config or {})
    ops = dict(config.get("ops", {}))
    op = dict(ops.get("synthetic_notes", {}))
    op["config"] = {"auto_approve": DEMO_AUTO_APPROVAL, **op.get("config", {})}
    ops["synthetic_notes"] = op
    config["ops"] = ops
    return config


def prepare_demo_inputs(settings: Settings, count: int = 24, seed: int = 0) -> dict[str, Path]:
    """Write the demo batch (fake PHI, Faker-seeded) unless it is already in the landing folder.

    The PHI truth (every inserted value with its offsets) goes to `truth/`, the clinician-style
    entity labels to the annotations folder; the batch's data-use manifest (demo protocol) goes
    beside it, also for a batch written before manifests existed.
    """
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    settings.annotations_dir.mkdir(parents=True, exist_ok=True)
    existing = find_landing_files(settings.landing_dir).get(DEMO_BATCH)
    labels = settings.annotations_dir / f"{DEMO_BATCH}.entities.jsonl"
    if existing is None or not labels.exists():
        batch = write_demo_batch(settings.landing_dir, DEMO_BATCH, count=count, seed=seed, truth_dir=settings.truth_dir)
        if Path(batch.labels_path) != labels:
            shutil.move(str(batch.labels_path), labels)
        existing = Path(batch.path)
    if not intake.manifest_path(existing).exists():
        write_demo_manifest(existing)
    return {
        "landing": existing,
        "manifest": intake.manifest_path(existing),
        "labels": labels,
        "phi_truth": settings.truth_dir / f"{DEMO_BATCH}.phi.jsonl",
    }


def run_demo(settings: Settings, instance: Any, run_config: dict | None = None, log=print) -> dict[str, Any]:
    """Ingest every landing batch, then run the training job; returns the run ids and timings.

    Args:
        settings: where the data lives.
        instance: the DagsterInstance the runs are recorded in.
        run_config: run config of training_job (e.g. shorter training for tests); the promotion gate
            gets the demo profile unless it configures promotion_policy itself (see with_demo_gate).
        log: where progress lines go.
    """
    from clinical_assets.definitions import build_definitions
    from clinical_assets.partitions import landing_batches

    defs = build_definitions(settings)
    batches = sorted(find_landing_files(settings.landing_dir))
    known = set(instance.get_dynamic_partitions(landing_batches.name))
    new = [b for b in batches if b not in known]
    if new:
        instance.add_dynamic_partitions(landing_batches.name, new)
    runs: dict[str, Any] = {"ingest": {}, "timings_s": {}}
    ingest_job = defs.resolve_job_def("ingest_job")
    for batch in batches:
        started = time.perf_counter()
        log(f"[demo] ingest + de-identify batch {batch}")
        result = ingest_job.execute_in_process(instance=instance, partition_key=batch)
        runs["ingest"][batch] = result.run_id
        runs["timings_s"][f"ingest:{batch}"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    log("[demo] training_job: annotations, synthetic notes, dataset, base model, LoRA, evaluation, serving")
    result = defs.resolve_job_def("training_job").execute_in_process(
        instance=instance, run_config=with_demo_gate(with_demo_review(run_config), settings)
    )
    runs["training"] = result.run_id
    runs["timings_s"]["training_job"] = round(time.perf_counter() - started, 1)
    return runs
