"""Shared test setup: offline environment, the shared reference data, temporary project settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Under pytest-xdist (`make test`: -n 2 --dist loadfile --no-loadscope-reorder) each file runs on one
# worker, handed out in collection order; these files take the longest (measured), so they start first
# and the two workers finish close together. Order only: a stale list costs time, never a result.
# A plain serial `pytest` keeps the usual order.
SLOWEST_FILES_FIRST = (
    "test_extract.py",
    "test_ui_browser.py",
    "test_pipeline.py",
    "test_lora.py",
    "test_postgres.py",
    "test_consent.py",
    "test_deid_engine.py",
    "test_bento.py",
    "test_drift_sensor.py",
    "test_deid_corpus.py",
    "test_drift_daemon.py",
    "test_definitions.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker
        return
    rank = {name: i for i, name in enumerate(SLOWEST_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order otherwise kept


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data (the public reference data); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared/data is not part of the repo)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data_or_none() -> Path | None:
    """../shared/data when present, else None (for tests that use it only to enrich their input)."""
    return SHARED_DATA if SHARED_DATA.is_dir() else None


@pytest.fixture(scope="session")
def deid():
    """The pipeline's de-identifier (safe_harbor policy), loaded once for the de-identification tests."""
    from clinical.deid.engine import get_deidentifier

    return get_deidentifier()
