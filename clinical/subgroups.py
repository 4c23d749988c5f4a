"""Subgroups of evaluated notes (age band, sex, note type, source), recall per subgroup, the fairness
gap, and bootstrap confidence intervals.

Age and sex come from the de-identified text itself (Safe Harbor keeps ages up to 89; older ages
are already written "90+"):
- age: the first match of AGE_PATTERN, e.g. "45-year-old", "45 year old", "45-yr-old", "90+-year-old",
  "aged 45", "age: 45"; "3-month-old", "10-day-old" and "2-week-old" count as age 0. Bands: AGE_BANDS.
- sex: the first of the words in FEMALE_WORDS / MALE_WORDS (woman, man, female, male, girl, boy,
  lady, gentleman, ...); when none occurs, the pronouns decide (she/her vs he/him/his) if one side has
  at least twice as many as the other.
Anything else is "unknown"; "unknown" groups are shown in the tables but never enter the fairness gap.

Bootstrap: documents are resampled with replacement (`resamples` times, numpy's default_rng(seed));
each resample re-sums the per-document counts (true positives, predicted and gold entities of the
relaxed match), and the interval is the percentile interval (2.5th and 97.5th percentiles for 95%).
The fairness gap of a dimension is the largest minus the smallest recall among its known groups with
at least `min_support` gold entities (in the full sample); its interval comes from the same resamples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

UNKNOWN = "unknown"
DIMENSIONS: tuple[str, ...] = ("age_band", "sex", "note_type", "source")
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-17", 0, 17),
    ("18-44", 18, 44),
    ("45-64", 45, 64),
    ("65-89", 65, 89),
)
AGE_PATTERN = re.compile(
    r"\b(?P<age>\d{1,3}|90\+)\s*-?\s*(?P<unit>years?|yrs?|months?|mos?|weeks?|wks?|days?)\s*-?\s*old\b"
    r"|\bage(?:d|:)?\s+(?P<age2>\d{1,3}|90\+)(?!\s*(?:%|mg|kg|cm|mm))\b",
    re.IGNORECASE,
)
FEMALE_WORDS = ("woman", "female", "girl", "lady", "mother", "wife", "daughter", "gravida")
MALE_WORDS = ("man", "male", "boy", "gentleman", "father", "husband", "son")
_SEX_WORD = re.compile(r"\b(" + "|".join(FEMALE_WORDS + MALE_WORDS) + r")\b", re.IGNORECASE)
_FEMALE_PRONOUN = re.compile(r"\b(she|her|hers)\b", re.IGNORECASE)
_MALE_PRONOUN = re.compile(r"\b(he|him|his)\b", re.IGNORECASE)


def age_band(text: str) -> str:
    """The age band stated in a note (see AGE_PATTERN), or "unknown"."""
    match = AGE_PATTERN.search(text)
    if not match:
        return UNKNOWN
    raw = match.group("age") or match.group("age2")
    if raw == "90+":
        return "90+"
    unit = (match.group("unit") or "year").lower()
    age = int(raw) if unit.startswith(("y", "year")) else 0
    if age > 89:
        return "90+"
    for name, low, high in AGE_BANDS:
        if low <= age <= high:
            return name
    return UNKNOWN


def sex(text: str) -> str:
    """ "female", "male" or "unknown" from the words of a note (see the module docstring)."""
    match = _SEX_WORD.search(text)
    if match:
        return "female" if match.group(1).lower() in FEMALE_WORDS else "male"
    female, male = len(_FEMALE_PRONOUN.findall(text)), len(_MALE_PRONOUN.findall(text))
    if female and female >= 2 * male:
        return "female"
    if male and male >= 2 * female:
        return "male"
    return UNKNOWN


def document_groups(text: str, source: str | None = None, note_type: str | None = None) -> dict[str, str]:
    """The subgroup of one evaluated note in every dimension of DIMENSIONS."""
    return {
        "age_band": age_band(text),
        "sex": sex(text),
        "note_type": note_type or UNKNOWN,
        "source": source or UNKNOWN,
    }


def _f1(tp: np.ndarray, n_pred: np.ndarray, n_gold: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(n_pred > 0, tp / np.maximum(n_pred, 1), 0.0)
        recall = np.where(n_gold > 0, tp / np.maximum(n_gold, 1), 0.0)
        return np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)


def _interval(values: np.ndarray, confidence: float) -> list[float | None]:
    values = values[~np.isnan(values)]
    if values.size == 0:
        return [None, None]
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return [float(low), float(high)]


def bootstrap_analysis(
    counts: Sequence[tuple[int, int, int]],
    groups: Sequence[Mapping[str, str]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    min_support: int = 10,
    dimensions: Sequence[str] = DIMENSIONS,
) -> dict[str, Any]:
    """Micro F1 and recall per subgroup with bootstrap percentile intervals, and the fairness gap.

    :param counts: per document, (true positives, predicted entities, gold entities) of one model.
    :param groups: per document (same order), its subgroup per dimension (document_groups).
    :param resamples: bootstrap resamples of the documents.
    :param seed: seed of numpy's default_rng, so intervals are reproducible.
    :param confidence: coverage of the percentile intervals.
    :param min_support: gold entities a known group needs to enter the fairness gap.
    :returns: `{"micro_f1": {"value", "ci"}, "micro_recall": {...}, "subgroups": {dim: [{"group",
        "documents", "support", "recall", "ci", "in_gap"}]}, "fairness_gap": {dim: {"value", "ci",
        "groups"} or None}, "max_fairness_gap": {"value", "ci", "dimension"} or None, "resamples",
        "seed", "confidence", "min_support"}`.
    """
    if len(counts) != len(groups):
        raise ValueError(f"{len(counts)} count rows but {len(groups)} group rows")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    table = np.asarray(counts, dtype=float).reshape(-1, 3)
    n = table.shape[0]
    weights = _resample_weights(n, resamples, seed)
    boot = weights @ table if n else np.zeros((resamples, 3))
    total = table.sum(axis=0) if n else np.zeros(3)
    out: dict[str, Any] = {
        "resamples": resamples,
        "seed": seed,
        "confidence": confidence,
        "min_support": min_support,
        "documents": n,
        "micro_f1": {
            "value": float(_f1(total[0:1], total[1:2], total[2:3])[0]),
            "ci": _interval(_f1(boot[:, 0], boot[:, 1], boot[:, 2]), confidence),
        },
        "micro_recall": {
            "value": float(total[0] / total[2]) if total[2] else 0.0,
            "ci": _interval(np.where(boot[:, 2] > 0, boot[:, 0] / np.maximum(boot[:, 2], 1), np.nan), confidence),
        },
        "subgroups": {},
        "fairness_gap": {},
    }
    best: dict[str, Any] | None = None
    for dim in dimensions:
        names = sorted({g.get(dim, UNKNOWN) for g in groups})
        rows, gap_recalls = [], []
        for name in names:
            mask = np.array([g.get(dim, UNKNOWN) == name for g in groups], dtype=float)
            tp, gold = float(table[:, 0] @ mask), float(table[:, 2] @ mask)
            boot_tp, boot_gold = weights @ (table[:, 0] * mask), weights @ (table[:, 2] * mask)
            boot_recall = np.where(boot_gold > 0, boot_tp / np.maximum(boot_gold, 1), np.nan)
            in_gap = name != UNKNOWN and gold >= min_support
            rows.append(
                {
                    "group": name,
                    "documents": int(mask.sum()),
                    "support": int(gold),
                    "recall": tp / gold if gold else 0.0,
                    "ci": _interval(boot_recall, confidence),
                    "in_gap": in_gap,
                }
            )
            if in_gap:
                gap_recalls.append((name, tp / gold, boot_recall))
        out["subgroups"][dim] = rows
        if len(gap_recalls) < 2:
            out["fairness_gap"][dim] = None
            continue
        point = max(r for _, r, _ in gap_recalls) - min(r for _, r, _ in gap_recalls)
        stacked = np.vstack([b for _, _, b in gap_recalls])
        with np.errstate(invalid="ignore"), _QuietNaN():
            boot_gap = np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0)
        gap = {"value": float(point), "ci": _interval(boot_gap, confidence), "groups": [g for g, _, _ in gap_recalls]}
        out["fairness_gap"][dim] = gap
        if best is None or gap["value"] > best["value"]:
            best = {**gap, "dimension": dim}
    out["max_fairness_gap"] = best
    return out


def _resample_weights(n: int, resamples: int, seed: int) -> np.ndarray:
    """weights[b, d]: how often document d was drawn in bootstrap resample b (numpy default_rng(seed))."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((resamples, 0), dtype=int)
    weights = np.zeros((resamples, n))
    if n:
        np.add.at(weights, (np.repeat(np.arange(resamples), n), draws.ravel()), 1.0)
    return weights


def paired_f1_difference(
    counts_a: Sequence[tuple[int, int, int]],
    counts_b: Sequence[tuple[int, int, int]],
    *,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """Micro F1 of model A minus model B on the same documents, with a paired bootstrap interval.

    Each resample draws the same documents for both models, so what the notes have in common (hard
    notes are hard for both) cancels out: the interval of the difference is far narrower than the two
    separate intervals suggest. A lower bound above 0 means A beats B on these documents at the
    interval's confidence.

    :param counts_a: per document, (true positives, predicted, gold) of model A (document_counts).
    :param counts_b: the same documents, in the same order, for model B.
    :returns: `{"value", "ci", "share_a_better", "documents", "resamples", "seed", "confidence"}`;
        share_a_better is the share of resamples in which A's micro F1 is higher.
    """
    a = np.asarray(counts_a, dtype=float).reshape(-1, 3)
    b = np.asarray(counts_b, dtype=float).reshape(-1, 3)
    if a.shape != b.shape:
        raise ValueError(f"{a.shape[0]} documents for model A but {b.shape[0]} for model B")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    n = a.shape[0]
    weights = _resample_weights(n, resamples, seed)
    boot_a = weights @ a if n else np.zeros((resamples, 3))
    boot_b = weights @ b if n else np.zeros((resamples, 3))
    total_a, total_b = a.sum(axis=0), b.sum(axis=0)
    point = float(_f1(total_a[0:1], total_a[1:2], total_a[2:3])[0] - _f1(total_b[0:1], total_b[1:2], total_b[2:3])[0])
    diff = _f1(boot_a[:, 0], boot_a[:, 1], boot_a[:, 2]) - _f1(boot_b[:, 0], boot_b[:, 1], boot_b[:, 2])
    return {
        "value": point,
        "ci": _interval(diff, confidence) if n else [None, None],
        "share_a_better": float((diff > 0).mean()) if n else 0.0,
        "documents": n,
        "resamples": resamples,
        "seed": seed,
        "confidence": confidence,
    }


class _QuietNaN:
    """Silence numpy's all-NaN-slice warnings (a resample can miss a small group entirely)."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)
