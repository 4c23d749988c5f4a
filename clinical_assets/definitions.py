"""The code location: every asset, check, job, sensor and resource of the factory.

`dagster dev` in the repository root loads `defs` (see pyproject.toml [tool.dagster] and
workspace.yaml). Paths and secrets come from the environment through `clinical.settings`.
"""

import os

import dagster as dg

from clinical.settings import Settings
from clinical_assets.annotations import annotations
from clinical_assets.consent import CONSENT_CHECKS
from clinical_assets.dataset import golden_set_held_out, sft_dataset, split_leakage
from clinical_assets.deidentify import deidentified_notes, residual_phi_scan
from clinical_assets.evaluation import evaluation, promotion_gate
from clinical_assets.ingest import raw_notes
from clinical_assets.jobs import ingest_job, training_job
from clinical_assets.model_card import model_card
from clinical_assets.monitoring import batch_drift, drift_reference
from clinical_assets.serving import bento, deployment, merged_model, trtllm_engine, trtllm_engine_built
from clinical_assets.synthetic import synthetic_notes, synthetic_review_status
from clinical_assets.training import base_model, lora_adapter
from resources import (
    Alerting,
    ArtifactStore,
    BaseModelRegistry,
    BentoStore,
    ConsentRegistry,
    DeidPolicyResource,
    LandingZone,
    PatientIdentity,
    RetrainingPolicy,
    ServingMonitor,
    Warehouse,
)
from resources.promotion import PromotionPolicy
from resources.releases import ReleaseSigning
from sensors import (
    consent_revocation_sensor,
    drift_sensor,
    new_batch_sensor,
    run_failure_alert_sensor,
    serving_monitor_sensor,
)

ASSETS = [
    raw_notes,
    deidentified_notes,
    annotations,
    synthetic_notes,
    sft_dataset,
    base_model,
    lora_adapter,
    evaluation,
    model_card,
    merged_model,
    trtllm_engine,
    bento,
    deployment,
    drift_reference,
]


def from_env_if_same(value: str | None, variable: str) -> str | dg.EnvVar | None:
    """A secret that came from the environment is passed as dg.EnvVar, so the Dagster UI shows the
    variable's name in the resource config, never its value."""
    return dg.EnvVar(variable) if value and os.environ.get(variable) == value else value


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Resources for one deployment's settings (tests pass their own temporary settings)."""
    return {
        "landing_zone": LandingZone(
            landing_dir=str(settings.landing_dir),
            annotations_dir=str(settings.annotations_dir),
            brat_dirs=list(settings.brat_dirs),
            review_dir=str(settings.review_dir or settings.home / "review"),
        ),
        "warehouse": Warehouse(
            path=str(settings.warehouse_path),
            restricted_path=str(settings.restricted_path),
            irb_protocol_id=settings.irb_protocol,
            irb_body=settings.irb_body,
            dua_id=settings.dua_id,
            dua_expires=settings.dua_expires,
        ),
        "consent_registry": ConsentRegistry(
            revocations_dir=str(settings.revocations_dir or settings.home / "revocations"),
            reports_dir=str(settings.home / "compliance" / "revocations"),
        ),
        "identity": PatientIdentity(
            hmac_secret=from_env_if_same(settings.hmac_secret, "CLINICAL_HMAC_SECRET"), environment=settings.environment
        ),
        "deid_policy": DeidPolicyResource(
            surrogate_secret=from_env_if_same(settings.deid_surrogate_secret, "CLINICAL_DEID_SURROGATE_SECRET")
        ),
        "base_models": BaseModelRegistry(
            spec=settings.base_model, cache_dir=str(settings.artifacts_dir / "base_models")
        ),
        "artifacts": ArtifactStore(root=str(settings.artifacts_dir)),
        "bentoml_store": BentoStore(home=str(settings.bentoml_home)),
        "release_signing": ReleaseSigning(
            releases_dir=str(settings.releases_dir or settings.home / "releases"),
            keys_dir=str(settings.home / "keys"),
            signing_key=str(settings.release_signing_key) if settings.release_signing_key else None,
            public_key=str(settings.release_public_key) if settings.release_public_key else None,
            environment=settings.environment,
        ),
        "alerting": Alerting(
            webhook_url=from_env_if_same(settings.alert_webhook_url, "CLINICAL_ALERT_WEBHOOK_URL"),
            log_path=str(settings.alerts_log or settings.home / "alerts.log"),
        ),
        "promotion_policy": PromotionPolicy(
            profile=settings.gate_profile or "production",
            margin=settings.gate_margin,
            floor=settings.gate_floor,
            min_json_validity=settings.gate_min_json_validity,
            max_fairness_gap=settings.gate_max_fairness_gap,
        ),
        "retraining_policy": RetrainingPolicy(
            consecutive_batches=settings.drift_consecutive_batches,
            min_interval_minutes=settings.retrain_min_interval_minutes,
            pause_file=str(settings.retraining_pause_file or settings.home / "control" / "retraining_paused.json"),
            threshold=settings.drift_threshold,
        ),
        "serving_monitor": ServingMonitor(
            directory=str(settings.serving_monitor_dir or settings.home / "monitoring" / "requests")
        ),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=[
            trtllm_engine_built,
            residual_phi_scan,
            promotion_gate,
            golden_set_held_out,
            split_leakage,
            synthetic_review_status,
            batch_drift,
            *CONSENT_CHECKS,
        ],
        jobs=[ingest_job, training_job],
        sensors=[
            new_batch_sensor,
            drift_sensor,
            run_failure_alert_sensor,
            consent_revocation_sensor,
            serving_monitor_sensor,
        ],
        resources=build_resources(settings),
    )


defs = build_definitions(Settings.from_env())
