"""Data drift between a reference profile of notes and a new batch, in plain numpy.

    profile = build_profile(reference_texts)          # JSON-serialisable; store it with the model
    report = compare(profile, batch_texts)            # DriftReport; report.as_dict() for the CLI
    report.drifted, report.score, report.statistics

The decision uses one statistic, the Jensen-Shannon divergence (base 2, 0..1) between the
reference and batch unigram distributions of lower-cased word tokens over the profile's vocabulary
plus one out-of-vocabulary bucket. The other statistics (KS and Wasserstein distance on note length
in characters, OOV rate difference) are reported for people, not used in the decision.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

PROFILE_VERSION = "drift-profile/1"
OOV = "<oov>"
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class DriftConfig:
    """How `compare` decides.

    :param threshold: JSD (base 2) above which a batch counts as drifted. Calibrated with a 300-token
        profile of 254 three-sentence chunks of 30 MACCROBAT case reports: batches of 40 chunks of the
        14 held-out reports scored 0.05-0.075 (50 draws), batches of 40 presidio-research PII sentences
        0.19 and above, character-shuffled chunks 0.36, German clinical text 0.39.
    :param min_batch: batches with fewer notes are never called drifted (too noisy to judge).
    """

    threshold: float = 0.12
    min_batch: int = 20


@dataclass(frozen=True)
class DriftReport:
    """Result of `compare`: `score` is the JSD the decision used, `statistics` holds all of them."""

    drifted: bool
    score: float
    threshold: float
    statistics: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """`{"drifted", "score", "threshold", "statistics"}` as `clinical drift compare` prints it."""
        return {
            "drifted": self.drifted,
            "score": self.score,
            "threshold": self.threshold,
            "statistics": dict(self.statistics),
        }


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters and inner apostrophes; numbers are left out).

    :param text: one note.
    """
    return _TOKEN.findall(text.lower())


def build_profile(
    texts: Sequence[str], vocab_size: int = 300, length_sample: int = 2000, length_bins: int = 20, seed: int = 0
) -> dict:
    """Reference profile of a corpus (plain JSON types only).

    :param texts: reference notes.
    :param vocab_size: number of most frequent tokens kept; the rest share the OOV bucket. Small on
        purpose: rare words make the JSD of a 40-note batch noisy without telling kinds of text apart.
    :param length_sample: at most this many note lengths (characters) are kept, sampled with `seed`.
    :param length_bins: number of quantile bins of the length histogram (for display).
    :param seed: seed of the length sample.
    """
    if not texts:
        raise ValueError("a drift profile needs at least one reference text")
    counts: Counter = Counter()
    for text in texts:
        counts.update(tokenize(text))
    total = sum(counts.values())
    vocab = [token for token, _ in counts.most_common(vocab_size)]
    in_vocab = sum(counts[t] for t in vocab)
    lengths = np.array([len(t) for t in texts], dtype=float)
    if len(lengths) > length_sample:
        lengths = np.random.default_rng(seed).choice(lengths, size=length_sample, replace=False)
    lengths.sort()
    edges = np.unique(np.quantile(lengths, np.linspace(0, 1, length_bins + 1)))
    hist, _ = np.histogram(lengths, bins=edges) if len(edges) > 1 else (np.array([len(lengths)]), None)
    return {
        "version": PROFILE_VERSION,
        "n_texts": len(texts),
        "n_tokens": int(total),
        "vocab": vocab,
        "token_counts": [int(counts[t]) for t in vocab],
        "oov_count": int(total - in_vocab),
        "oov_rate": float((total - in_vocab) / total) if total else 0.0,
        "length_sample": [float(x) for x in lengths],
        "length_histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in hist]},
    }


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0 = same, 1 = disjoint) of two count or probability vectors.

    :param p: non-negative weights of the first distribution.
    :param q: non-negative weights of the second, same length.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0 if p.sum() == q.sum() else 1.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_qm = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(max(0.0, (kl_pm + kl_qm) / 2))


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs.

    :param a: first sample.
    :param b: second sample.
    """
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    if len(a) == 0 or len(b) == 0:
        return 0.0
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def wasserstein(a: np.ndarray, b: np.ndarray) -> float:
    """First Wasserstein (earth mover's) distance between two 1-D samples, in their units.

    :param a: first sample.
    :param b: second sample.
    """
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    if len(a) == 0 or len(b) == 0:
        return 0.0
    grid = np.sort(np.concatenate([a, b]))
    widths = np.diff(grid)
    cdf_a = np.searchsorted(a, grid[:-1], side="right") / len(a)
    cdf_b = np.searchsorted(b, grid[:-1], side="right") / len(b)
    return float(np.sum(np.abs(cdf_a - cdf_b) * widths))


def compare(profile: dict, batch_texts: Sequence[str], config: DriftConfig | None = None) -> DriftReport:
    """Compare a batch of notes with a reference profile.

    :param profile: output of `build_profile` (possibly read back from JSON).
    :param batch_texts: the new notes.
    :param config: threshold and minimum batch size; DriftConfig() when None.
    :returns: DriftReport whose `score` is the token JSD; `drifted` is True only when the batch has at
        least `config.min_batch` notes and the score exceeds `config.threshold`.
    """
    config = config or DriftConfig()
    if profile.get("version") != PROFILE_VERSION:
        raise ValueError(f"drift profile version {profile.get('version')!r} is not {PROFILE_VERSION!r}")
    index = {token: i for i, token in enumerate(profile["vocab"])}
    reference = np.array(profile["token_counts"] + [profile["oov_count"]], dtype=float)
    batch = np.zeros_like(reference)
    for text in batch_texts:
        for token in tokenize(text):
            batch[index.get(token, len(index))] += 1
    n_batch_tokens = float(batch.sum())
    batch_oov_rate = float(batch[-1] / n_batch_tokens) if n_batch_tokens else 0.0
    ref_lengths = np.array(profile["length_sample"], dtype=float)
    batch_lengths = np.array([len(t) for t in batch_texts], dtype=float)
    jsd = jensen_shannon(reference, batch) if n_batch_tokens else 0.0
    statistics = {
        "token_jsd": jsd,
        "length_ks": ks_statistic(ref_lengths, batch_lengths),
        "length_wasserstein": wasserstein(ref_lengths, batch_lengths),
        "oov_rate_reference": float(profile["oov_rate"]),
        "oov_rate_batch": batch_oov_rate,
        "oov_rate_diff": batch_oov_rate - float(profile["oov_rate"]),
        "batch_size": len(batch_texts),
        "batch_tokens": int(n_batch_tokens),
        "mean_length_reference": float(ref_lengths.mean()) if len(ref_lengths) else 0.0,
        "mean_length_batch": float(batch_lengths.mean()) if len(batch_lengths) else 0.0,
        "decision_statistic": "token_jsd",
        "enough_data": len(batch_texts) >= config.min_batch,
    }
    drifted = bool(statistics["enough_data"] and jsd > config.threshold)
    return DriftReport(drifted=drifted, score=jsd, threshold=config.threshold, statistics=statistics)
