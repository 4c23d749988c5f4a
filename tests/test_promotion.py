"""The promotion gate's decisions, profiles, overrides and its configuration from the environment."""

from __future__ import annotations

import pytest

from clinical import promotion
from clinical.demo import with_demo_gate
from clinical.settings import Settings
from clinical_assets.definitions import build_resources


def evaluation(tuned_f1=0.7, base_f1=0.5, few_f1=0.6, validity=1.0, gap=0.1, documents=30, split="test") -> dict:
    return {
        "splits": {
            split: {
                "documents": documents,
                "models": {
                    "tuned": {"micro_f1": tuned_f1, "json_validity": validity},
                    "base_zero_shot": {"micro_f1": base_f1, "json_validity": 0.5},
                    "base_few_shot": {"micro_f1": few_f1, "json_validity": 0.6},
                    "dictionary": {"micro_f1": 0.9, "json_validity": None},
                },
                "fairness": {
                    "tuned": {"max_fairness_gap": None if gap is None else {"value": gap, "dimension": "sex"}}
                },
            }
        }
    }


def failed(decision: promotion.GateDecision) -> list[str]:
    return [c["criterion"] for c in decision.criteria if not c["passed"]]


def test_production_gate_passes_a_good_model():
    decision = promotion.decide(evaluation(), promotion.thresholds("production"))
    assert decision.passed and not failed(decision)
    assert decision.split == "test"
    assert "PASSED" in decision.summary() and "production" in decision.summary()


@pytest.mark.parametrize(
    ("kwargs", "criterion"),
    [
        ({"tuned_f1": 0.62}, "tuned F1 vs base (base_few_shot) + margin"),
        ({"tuned_f1": 0.45, "base_f1": 0.1, "few_f1": 0.1}, "tuned F1 floor"),
        ({"validity": 0.97}, "tuned JSON validity"),
        ({"gap": 0.25}, "fairness gap (sex)"),
        ({"gap": None}, "fairness gap"),
        ({"documents": 5}, "evaluated notes"),
    ],
)
def test_production_gate_blocks_each_failed_criterion(kwargs, criterion):
    decision = promotion.decide(evaluation(**kwargs), promotion.thresholds("production"))
    assert not decision.passed
    assert failed(decision) == [criterion]
    assert "BLOCKED" in decision.summary() and criterion in decision.summary()


def test_the_dictionary_baseline_is_reported_not_gated():
    # The gate compares against the prompted base model; a stronger lexicon lookup is said plainly.
    decision = promotion.decide(evaluation(), promotion.thresholds("production"))
    assert decision.passed
    assert decision.notes == ["dictionary baseline F1 0.900 beats the tuned F1 0.700 on test (reported, not gated)"]


def test_demo_profile_is_named_and_labelled():
    demo = promotion.thresholds("demo")
    decision = promotion.decide(evaluation(tuned_f1=0.01, validity=0.1, gap=None, documents=2), demo)
    assert decision.passed
    record = decision.as_dict()
    assert record["label"] == "demo thresholds — not a clinical release"
    assert record["thresholds"]["profile"] == "demo"
    assert promotion.decide(evaluation(documents=0), demo).passed is False, "nothing evaluated never passes"


def test_golden_split_is_judged_when_large_enough():
    both = evaluation(documents=25, split="golden")
    both["splits"]["test"] = evaluation(tuned_f1=0.0)["splits"]["test"]
    assert promotion.decide(both, promotion.thresholds("production")).split == "golden"
    both["splits"]["golden"]["documents"] = 3
    assert promotion.decide(both, promotion.thresholds("production")).split == "test"


def test_overrides_rename_the_profile_and_bad_names_fail():
    loosened = promotion.thresholds("production", floor=0.1, margin=None)
    assert loosened.profile == "production+overrides" and loosened.floor == 0.1 and loosened.margin == 0.05
    assert promotion.thresholds("production", floor=0.5) is promotion.PROFILES["production"]
    with pytest.raises(ValueError, match="unknown promotion gate profile 'lenient'"):
        promotion.thresholds("lenient")
    with pytest.raises(ValueError, match="unknown gate threshold"):
        promotion.thresholds("production", recall=0.5)


def test_thresholds_come_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {"CLINICAL_HOME": str(tmp_path), "CLINICAL_GATE_PROFILE": "production", "CLINICAL_GATE_FLOOR": "0.3"}
    )
    gate = build_resources(settings)["promotion_policy"].thresholds()
    assert gate.profile == "production+overrides" and gate.floor == 0.3 and gate.min_json_validity == 0.98
    with pytest.raises(ValueError, match="CLINICAL_GATE_MARGIN must be a number"):
        Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_GATE_MARGIN": "five"})
    default = build_resources(Settings.from_env({"CLINICAL_HOME": str(tmp_path)}))["promotion_policy"]
    assert default.thresholds() is promotion.PROFILES["production"]


def test_demo_run_config_selects_the_demo_profile_unless_chosen(tmp_path):
    plain = Settings.from_env({"CLINICAL_HOME": str(tmp_path)})
    config = with_demo_gate({"ops": {"x": {}}}, plain)
    assert config["resources"]["promotion_policy"] == {"config": {"profile": "demo"}} and "x" in config["ops"]
    chosen = Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_GATE_PROFILE": "production"})
    assert "resources" not in with_demo_gate({}, chosen)
    own = {"resources": {"promotion_policy": {"config": {"profile": "production"}}}}
    assert with_demo_gate(own, plain) == own
