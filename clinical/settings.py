"""Project settings from the environment, with defaults for the embedded single-machine setup.

| variable | default | meaning |
|---|---|---|
| CLINICAL_HOME | ./data | root of all local state (DuckDB files, artifacts, landing folder) |
| CLINICAL_LANDING_DIR | $CLINICAL_HOME/landing | folder the new-batch sensor watches |
| CLINICAL_ANNOTATIONS_DIR | $CLINICAL_HOME/annotations | annotation label files (*.entities.jsonl) |
| CLINICAL_BRAT_DIRS | ../shared/data/maccrobat_dev if present | brat corpora, separated by ':' |
| CLINICAL_BASE_MODEL | smollm2-135m-instruct | base model spec or a local HF model directory |
| CLINICAL_HMAC_SECRET | development default | secret of the keyed patient hashes |
| CLINICAL_ENV | development | 'production' refuses the development secret |
| BENTOML_HOME | $CLINICAL_HOME/bentoml | BentoML model and Bento store |
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
    hmac_secret: str = DEV_HMAC_SECRET
    environment: str = "development"

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
            truth_dir=home / "truth",
            warehouse_path=home / "warehouse.duckdb",
            restricted_path=home / "restricted" / "raw.duckdb",
            artifacts_dir=home / "artifacts",
            bentoml_home=Path(env.get("BENTOML_HOME") or home / "bentoml"),
            base_model=env.get("CLINICAL_BASE_MODEL") or "smollm2-135m-instruct",
            brat_dirs=brat_dirs,
            hmac_secret=env.get("CLINICAL_HMAC_SECRET") or DEV_HMAC_SECRET,
            environment=env.get("CLINICAL_ENV") or "development",
        )
