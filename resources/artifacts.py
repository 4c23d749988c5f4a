"""Local folders for model artifacts and for BentoML's store."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field


class ArtifactStore(dg.ConfigurableResource):
    """Model artifacts (base-model cache, adapters, merged weights, engine bundles) by kind and name."""

    root: str = Field(description="Root folder of the artifact store.")

    def path(self, kind: str, name: str = "") -> Path:
        folder = Path(self.root) / kind / name if name else Path(self.root) / kind
        folder.parent.mkdir(parents=True, exist_ok=True)
        return folder


class BentoStore(dg.ConfigurableResource):
    """BENTOML_HOME: BentoML's model and Bento store."""

    home: str = Field(description="BentoML home folder (models and bentos).")
