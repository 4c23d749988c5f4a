"""The model card: every section, lineage by hash, intervals, subgroup tables, data-use fields, no text."""

from __future__ import annotations

import json

from clinical import promotion
from clinical.model_card import NOT_RECORDED, build_model_card, card_json, card_sha256, data_use, render_markdown
from clinical.subgroups import bootstrap_analysis

NOTE_TEXT = "A 45-year-old woman started metformin for type 2 diabetes."
SECTIONS = [
    "## Model details",
    "## Intended use",
    "## Factors",
    "## Metrics",
    "## Evaluation data",
    "## Training data (lineage by hash)",
    "## Quantitative analyses",
    "## Ethical considerations",
    "## Caveats and recommendations",
    "## IRB and data use",
    "## Promotion gate",
]


def artifacts(data_use_values=None):
    fairness = bootstrap_analysis(
        [(3, 4, 4), (1, 2, 4)], [{"sex": "female"}, {"sex": "male"}], resamples=50, min_support=1, dimensions=("sex",)
    )
    scores = {"micro_f1": 0.6, "micro_f1_ci": [0.4, 0.8], "exact_micro_f1": 0.5, "json_validity": 1.0}
    evaluation = {
        "artifact_id": "eval_abc_123",
        "parents": {"adapter": "adapter_1", "dataset_version": "d" * 64},
        "details": {
            "dataset_version": "d" * 64,
            "splits": {
                "test": {
                    "documents": 2,
                    "sources": {"annotation": 2},
                    "example_ids_sha256": "e" * 64,
                    "models": {"tuned": scores, "base_zero_shot": {**scores, "micro_f1": 0.2}},
                    "fairness": {"tuned": fairness},
                }
            },
            "skipped": {"golden": "dataset dddd has no golden split"},
            "bootstrap": {"resamples": 50, "seed": 0, "confidence": 0.95},
        },
    }
    adapter = {
        "artifact_id": "adapter_1",
        "sha256": "a" * 64,
        "code_version": "c1",
        "run_id": "run-1",
        "parents": {"dataset_version": "d" * 64, "base_model": "base_1"},
        "details": {"config": {"r": 16}, "training": {"steps": 2}, "data_use": data_use_values},
    }
    base = {"artifact_id": "base_1", "sha256": "b" * 64, "details": {"name": "tiny", "license": "apache-2.0"}}
    decision = promotion.decide(evaluation["details"], promotion.thresholds("demo")).as_dict()
    trace = {
        "dataset": {
            "dataset_version": "d" * 64,
            "examples": 10,
            "patients": 4,
            "source_files": [{"path": "landing/batch.jsonl", "sha256": "f" * 64, "rows_used": 3}],
            "annotations": [{"annotation_id": "ann_1", "kind": "brat", "guideline_version": "g1", "doc_id": "x"}],
            "synthetic": [{"generator_version": "synth@1", "seed": 7, "notes": 5}],
        },
        "deidentification_policies": [{"policy": "safe_harbor@3", "policy_fingerprint": "p" * 16}],
    }
    return {
        "adapter": adapter,
        "base": base,
        "evaluation": evaluation,
        "decision": {"artifact_id": "gate_1", "details": decision},
        "trace": trace,
        "data_use_values": adapter["details"]["data_use"],
        "created_at": "2026-01-01T00:00:00+00:00",
    }


def test_card_has_every_section_and_the_lineage_by_hash():
    card = build_model_card(**artifacts())
    markdown = render_markdown(card)
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    for digest in ("a" * 64, "b" * 64, "d" * 64, "f" * 64, "p" * 16):
        assert digest in markdown
    assert "synth@1" in markdown and "| 7 |" in markdown
    assert "[0.400, 0.800]" in markdown, "metrics carry their intervals"
    assert "| sex | female |" in markdown and "Fairness gap: 0.500" in markdown
    assert "clinician-in-the-loop" in markdown and "Out of scope:" in markdown
    assert "demo thresholds — not a clinical release" in markdown
    assert "not evaluated: golden" in markdown
    assert card["links"] == {
        "adapter": "adapter_1",
        "evaluation": "eval_abc_123",
        "dataset_version": "d" * 64,
        "promotion_decision": "gate_1",
    }


def test_data_use_fields_not_recorded_when_unset_and_shown_when_set():
    keys = ("irb_protocol_id", "irb_body", "dua_id", "dua_expires", "landing_protocols")
    assert data_use(None) == dict.fromkeys(keys, NOT_RECORDED)
    values = {"irb_protocol_id": "IRB-2026-17", "irb_body": "Ethics Board", "dua_id": None, "dua_expires": "2027-01-31"}
    card = build_model_card(**artifacts(values))
    assert card["data_use"]["dua_id"] == NOT_RECORDED and card["data_use"]["irb_protocol_id"] == "IRB-2026-17"
    assert "| IRB protocol id | IRB-2026-17 |" in render_markdown(card)


def test_card_json_is_canonical_and_holds_no_note_text():
    inputs = artifacts()
    card = build_model_card(**inputs)
    assert card_sha256(card) == card_sha256(json.loads(card_json(card)))
    assert card_sha256(card) != card_sha256({**card, "created_at": "2026-01-02T00:00:00+00:00"})
    assert NOTE_TEXT not in card_json(card) and "metformin" not in card_json(card)


def test_card_without_a_gate_decision_says_so():
    inputs = {**artifacts(), "decision": None}
    card = build_model_card(**inputs)
    assert card["promotion"]["passed"] is None
    assert "has not judged" in render_markdown(card)
