"""The promotion gate: may this adapter be merged, packaged and served?

Criteria, all on the gate split (the golden set when the dataset has one with at least
`min_examples` evaluated notes, else the held-out test split), relaxed-match micro F1:
- tuned F1 >= the stronger prompted base model's F1 (zero-shot or few-shot) + `margin`;
- tuned F1 >= `floor`;
- tuned JSON validity >= `min_json_validity`;
- tuned fairness gap (largest minus smallest recall among known subgroups with enough support, the
  largest over age band, sex, note type and source) <= `max_fairness_gap`; when no dimension has two
  groups with enough support the gap cannot be measured, which fails unless `allow_unmeasured_gap`;
- at least `min_examples` notes were evaluated.

Profiles (PROFILES) name threshold sets; single thresholds can be overridden. "production" is the
default. "demo" exists so the CPU demo (a 135M model trained for minutes) runs the whole graph: its
thresholds are so loose that they check only that an evaluation happened, and every record of a
decision under it says "demo thresholds — not a clinical release".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

DEMO_LABEL = "demo thresholds — not a clinical release"
PRODUCTION_LABEL = "production thresholds"


@dataclass(frozen=True)
class GateThresholds:
    """One set of gate thresholds (see the module docstring)."""

    profile: str
    margin: float
    floor: float
    min_json_validity: float
    max_fairness_gap: float
    allow_unmeasured_gap: bool
    min_examples: int
    label: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, GateThresholds] = {
    "production": GateThresholds(
        profile="production",
        margin=0.05,
        floor=0.5,
        min_json_validity=0.98,
        max_fairness_gap=0.2,
        allow_unmeasured_gap=False,
        min_examples=20,
        label=PRODUCTION_LABEL,
    ),
    "demo": GateThresholds(
        profile="demo",
        margin=-1.0,
        floor=0.0,
        min_json_validity=0.0,
        max_fairness_gap=1.0,
        allow_unmeasured_gap=True,
        min_examples=1,
        label=DEMO_LABEL,
    ),
}
OVERRIDABLE = ("margin", "floor", "min_json_validity", "max_fairness_gap", "min_examples")


def thresholds(profile: str = "production", **overrides: float | int | None) -> GateThresholds:
    """The thresholds of `profile` with the given overrides (None leaves a threshold as is).

    An override of a production threshold is recorded in the profile name ("production+overrides"),
    so a loosened gate never passes for the production one.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown promotion gate profile {profile!r}; known: {', '.join(PROFILES)}")
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise ValueError(f"unknown gate threshold(s) {', '.join(unknown)}; known: {', '.join(OVERRIDABLE)}")
    base = PROFILES[profile]
    changed = {k: v for k, v in overrides.items() if v is not None and v != getattr(base, k)}
    if not changed:
        return base
    return replace(base, profile=f"{profile}+overrides", **changed)


@dataclass(frozen=True)
class GateDecision:
    """passed: every criterion passed; criteria: one row per criterion; split: the gate split;
    notes: comparisons reported but not gated (the dictionary baseline)."""

    passed: bool
    criteria: list[dict[str, Any]]
    thresholds: GateThresholds
    split: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "criteria": self.criteria,
            "thresholds": self.thresholds.as_dict(),
            "split": self.split,
            "label": self.thresholds.label,
            "notes": self.notes,
        }

    def summary(self) -> str:
        """One line: the decision and the failed criteria."""
        failed = [c["criterion"] for c in self.criteria if not c["passed"]]
        verdict = "PASSED" if self.passed else "BLOCKED (" + "; ".join(failed) + ")"
        return f"promotion gate {verdict} on {self.split} under {self.thresholds.profile} ({self.thresholds.label})"


def gate_split(splits: dict[str, Any], min_examples: int) -> str | None:
    """The split the gate judges: "golden" when it holds >= `min_examples` evaluated notes, else
    "test" (else a smaller golden set) when it holds any; None when nothing was evaluated."""
    documents = {name: result.get("documents", 0) for name, result in splits.items()}
    if documents.get("golden", 0) >= max(min_examples, 1):
        return "golden"
    for name in ("test", "golden"):
        if documents.get(name, 0) >= 1:
            return name
    return None


def decide(evaluation: dict[str, Any], gate: GateThresholds) -> GateDecision:
    """Apply the gate to an evaluation summary.

    :param evaluation: `{"splits": {split: {"documents": int, "models": {"tuned": {...}, "base_zero_shot":
        {...}, "base_few_shot": {...}}, "fairness": {"tuned": {...}}}}}` as the evaluation asset records
        it; each model entry has `micro_f1` (relaxed) and `json_validity`; fairness has
        `max_fairness_gap` ({"value", ...} or None).
    :param gate: the thresholds.
    """
    split = gate_split(evaluation.get("splits", {}), gate.min_examples)
    if split is None:
        criterion = {
            "criterion": "evaluated notes",
            "value": 0,
            "threshold": f">= {gate.min_examples}",
            "passed": False,
        }
        return GateDecision(False, [criterion], gate, "none")
    result = evaluation["splits"][split]
    models = result["models"]
    tuned = models["tuned"]
    base_names = [m for m in ("base_zero_shot", "base_few_shot") if m in models]
    base_f1 = max((models[m]["micro_f1"] for m in base_names), default=0.0)
    best_base = max(base_names, key=lambda m: models[m]["micro_f1"]) if base_names else "none"
    gap = (result.get("fairness", {}).get("tuned") or {}).get("max_fairness_gap")
    criteria = [
        {
            "criterion": "evaluated notes",
            "value": result["documents"],
            "threshold": f">= {gate.min_examples}",
            "passed": result["documents"] >= gate.min_examples,
        },
        {
            "criterion": f"tuned F1 vs base ({best_base}) + margin",
            "value": round(tuned["micro_f1"], 4),
            "threshold": f">= {base_f1:.4f} + {gate.margin}",
            "passed": tuned["micro_f1"] >= base_f1 + gate.margin,
        },
        {
            "criterion": "tuned F1 floor",
            "value": round(tuned["micro_f1"], 4),
            "threshold": f">= {gate.floor}",
            "passed": tuned["micro_f1"] >= gate.floor,
        },
        {
            "criterion": "tuned JSON validity",
            "value": round(tuned["json_validity"], 4),
            "threshold": f">= {gate.min_json_validity}",
            "passed": tuned["json_validity"] >= gate.min_json_validity,
        },
    ]
    if gap is None:
        criteria.append(
            {
                "criterion": "fairness gap",
                "value": "not measurable (no dimension with 2 known groups of enough support)",
                "threshold": f"<= {gate.max_fairness_gap}" + (" or unmeasured" if gate.allow_unmeasured_gap else ""),
                "passed": gate.allow_unmeasured_gap,
            }
        )
    else:
        criteria.append(
            {
                "criterion": f"fairness gap ({gap.get('dimension', '?')})",
                "value": round(gap["value"], 4),
                "threshold": f"<= {gate.max_fairness_gap}",
                "passed": gap["value"] <= gate.max_fairness_gap,
            }
        )
    notes = []
    if "dictionary" in models:
        lexicon = models["dictionary"]["micro_f1"]
        verdict = "beats" if lexicon > tuned["micro_f1"] else "does not beat"
        notes.append(
            f"dictionary baseline F1 {lexicon:.3f} {verdict} the tuned F1 {tuned['micro_f1']:.3f} on {split} "
            "(reported, not gated)"
        )
    return GateDecision(all(c["passed"] for c in criteria), criteria, gate, split, notes)
