"""Project settings from the environment, with defaults for the embedded single-machine setup.

| variable | default | meaning |
|---|---|---|
| CLINICAL_HOME | ./data | root of all local state (DuckDB files, artifacts, landing folder) |
| CLINICAL_LANDING_DIR | $CLINICAL_HOME/landing | folder the new-batch sensor watches |
| CLINICAL_ANNOTATIONS_DIR | $CLINICAL_HOME/annotations | label files, Label Studio exports, golden/ (docs/DATA.md) |
| CLINICAL_REVIEW_DIR | $CLINICAL_HOME/review | reviewers' decision files on synthetic notes (docs/SYNTHETIC.md) |
| CLINICAL_BRAT_DIRS | ../shared/data/maccrobat_dev if present | brat corpora, separated by ':' |
| CLINICAL_BASE_MODEL | smollm2-135m-instruct | base model spec or a local HF model directory |
| CLINICAL_HMAC_SECRET | development default | secret of the keyed patient hashes |
| CLINICAL_ENV | development | 'production' refuses the development secret |
| CLINICAL_DEID_SURROGATE_SECRET | unset | secret (16+ characters) the `surrogate` de-id policy needs to run |
| BENTOML_HOME | $CLINICAL_HOME/bentoml | BentoML model and Bento store |
| CLINICAL_ALERT_WEBHOOK_URL | unset | Slack-compatible webhook for alerts; else $CLINICAL_HOME/alerts.log |
| CLINICAL_DRIFT_CONSECUTIVE_BATCHES | 1 | drifted batches in a row before the drift sensor requests retraining |
| CLINICAL_RETRAIN_MIN_INTERVAL_MINUTES | 60 | minutes from a training_job run's start to the next drift request |
| CLINICAL_DRIFT_THRESHOLD | unset (8.0) | override of the drift threshold (max z-score) the drift sensor uses |
| CLINICAL_RELEASES_DIR | $CLINICAL_HOME/releases | release registry: signed manifests and the `active` pointer |
| CLINICAL_RELEASE_PUBLIC_KEY | unset | ed25519 public key (PEM) that promote/rollback verify releases with |
| CLINICAL_RELEASE_SIGNING_KEY | unset | ed25519 private key (PEM, 0600) that signs releases; production needs it |
| CLINICAL_SERVING_MONITOR_DIR | $CLINICAL_HOME/monitoring/requests | per-request serving statistics (JSONL files) |
| CLINICAL_IRB_PROTOCOL | unset | IRB protocol id the data are used under (recorded in lineage and model cards) |
| CLINICAL_IRB_BODY | unset | the approving body (IRB / ethics committee) |
| CLINICAL_DUA_ID | unset | data use agreement id |
| CLINICAL_DUA_EXPIRES | unset | expiry of the approval / agreement, ISO date (YYYY-MM-DD) |
| CLINICAL_REVOCATIONS_DIR | $CLINICAL_HOME/revocations | consent revocation CSVs the consent sensor watches |
| CLINICAL_GATE_PROFILE | production (`clinical demo`: demo) | promotion gate thresholds: production or demo |
| CLINICAL_GATE_MARGIN | profile's (0.05) | tuned F1 must reach the prompted base model's F1 + this margin |
| CLINICAL_GATE_FLOOR | profile's (0.5) | lowest tuned relaxed micro F1 the gate accepts |
| CLINICAL_GATE_MIN_JSON_VALIDITY | profile's (0.98) | lowest JSON validity rate the gate accepts |
| CLINICAL_GATE_MAX_FAIRNESS_GAP | profile's (0.2) | largest recall gap between subgroups the gate accepts |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clinical.ids import DEV_HMAC_SECRET

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_MACCROBAT = PROJECT_ROOT.parent / "shared" / "data" / "maccrobat_dev"


@dataclass(frozen=True)
class Settings:
    """Resolved locations and choices for one deployment."""

    home: Path
    landing_dir: Path
    annotations_dir: Path
    truth_dir: Path
    warehouse_path: Path
    restricted_path: Path
    artifacts_dir: Path
    bentoml_home: Path
    base_model: str = "smollm2-135m-instruct"
    brat_dirs: tuple[str, ...] = field(default_factory=tuple)
    review_dir: Path | None = None
    hmac_secret: str = DEV_HMAC_SECRET
    deid_surrogate_secret: str | None = None
    environment: str = "development"
    alert_webhook_url: str | None = None
    alerts_log: Path | None = None
    retraining_pause_file: Path | None = None
    drift_consecutive_batches: int = 1
    retrain_min_interval_minutes: float = 60.0
    drift_threshold: float | None = None
    releases_dir: Path | None = None
    release_public_key: Path | None = None
    release_signing_key: Path | None = None
    serving_monitor_dir: Path | None = None
    irb_protocol: str | None = None
    irb_body: str | None = None
    dua_id: str | None = None
    dua_expires: str | None = None
    revocations_dir: Path | None = None
    gate_profile: str | None = None
    gate_margin: float | None = None
    gate_floor: float | None = None
    gate_min_json_validity: float | None = None
    gate_max_fairness_gap: float | None = None

    def data_use(self) -> dict[str, str | None]:
        """The IRB / data-use fields recorded in lineage (datasets, adapters) and model cards.

        Keys: irb_protocol_id, irb_body, dua_id, dua_expires (ISO date); None where unset.
        """
        return {
            "irb_protocol_id": self.irb_protocol,
            "irb_body": self.irb_body,
            "dua_id": self.dua_id,
            "dua_expires": self.dua_expires,
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("CLINICAL_HOME") or Path.cwd() / "data").resolve()
        brat = env.get("CLINICAL_BRAT_DIRS")
        if brat is None:
            brat_dirs = (str(SHARED_MACCROBAT),) if SHARED_MACCROBAT.is_dir() else ()
        else:
            brat_dirs = tuple(p for p in brat.split(os.pathsep) if p)
        return cls(
            home=home,
            landing_dir=Path(env.get("CLINICAL_LANDING_DIR") or home / "landing"),
            annotations_dir=Path(env.get("CLINICAL_ANNOTATIONS_DIR") or home / "annotations"),
            review_dir=Path(env.get("CLINICAL_REVIEW_DIR") or home / "review"),
            truth_dir=home / "truth",
            warehouse_path=home / "warehouse.duckdb",
            restricted_path=home / "restricted" / "raw.duckdb",
            artifacts_dir=home / "artifacts",
            bentoml_home=Path(env.get("BENTOML_HOME") or home / "bentoml"),
            base_model=env.get("CLINICAL_BASE_MODEL") or "smollm2-135m-instruct",
            brat_dirs=brat_dirs,
            hmac_secret=env.get("CLINICAL_HMAC_SECRET") or DEV_HMAC_SECRET,
            deid_surrogate_secret=env.get("CLINICAL_DEID_SURROGATE_SECRET") or None,
            environment=env.get("CLINICAL_ENV") or "development",
            alert_webhook_url=env.get("CLINICAL_ALERT_WEBHOOK_URL") or None,
            alerts_log=home / "alerts.log",
            retraining_pause_file=home / "control" / "retraining_paused.json",
            drift_consecutive_batches=int(env.get("CLINICAL_DRIFT_CONSECUTIVE_BATCHES") or 1),
            retrain_min_interval_minutes=float(env.get("CLINICAL_RETRAIN_MIN_INTERVAL_MINUTES") or 60.0),
            drift_threshold=float(env["CLINICAL_DRIFT_THRESHOLD"]) if env.get("CLINICAL_DRIFT_THRESHOLD") else None,
            releases_dir=Path(env.get("CLINICAL_RELEASES_DIR") or home / "releases"),
            release_public_key=Path(env["CLINICAL_RELEASE_PUBLIC_KEY"])
            if env.get("CLINICAL_RELEASE_PUBLIC_KEY")
            else None,
            release_signing_key=Path(env["CLINICAL_RELEASE_SIGNING_KEY"])
            if env.get("CLINICAL_RELEASE_SIGNING_KEY")
            else None,
            serving_monitor_dir=Path(env.get("CLINICAL_SERVING_MONITOR_DIR") or home / "monitoring" / "requests"),
            irb_protocol=env.get("CLINICAL_IRB_PROTOCOL") or None,
            irb_body=env.get("CLINICAL_IRB_BODY") or None,
            dua_id=env.get("CLINICAL_DUA_ID") or None,
            dua_expires=_iso_date(env.get("CLINICAL_DUA_EXPIRES"), "CLINICAL_DUA_EXPIRES"),
            revocations_dir=Path(env.get("CLINICAL_REVOCATIONS_DIR") or home / "revocations"),
            gate_profile=env.get("CLINICAL_GATE_PROFILE") or None,
            gate_margin=_float_env(env, "CLINICAL_GATE_MARGIN"),
            gate_floor=_float_env(env, "CLINICAL_GATE_FLOOR"),
            gate_min_json_validity=_float_env(env, "CLINICAL_GATE_MIN_JSON_VALIDITY"),
            gate_max_fairness_gap=_float_env(env, "CLINICAL_GATE_MAX_FAIRNESS_GAP"),
        )


def _float_env(env: Mapping[str, str], variable: str) -> float | None:
    """The number in `variable`, None when unset; a clear error naming `variable` otherwise."""
    value = env.get(variable)
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{variable} must be a number, got {value!r}") from None


def _iso_date(value: str | None, variable: str) -> str | None:
    """`value` as an ISO date (YYYY-MM-DD), None when unset; a clear error naming `variable` otherwise."""
    if not value:
        return None
    from datetime import date

    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{variable} must be an ISO date (YYYY-MM-DD), got {value!r}") from None
