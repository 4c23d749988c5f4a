"""Privacy guards of the synthetic generator: an n-gram overlap guard and differentially private statistics.

1. **N-gram guard.** No synthetic note may reproduce a run of `n` (default 8) or more consecutive
   tokens of a real de-identified note or annotated document. Real texts are tokenized (lower-case
   letters and digits; punctuation and spacing ignored), every n-gram is hashed (8-byte BLAKE2b) into
   a set, and each synthetic note is checked against it; the longest shared run of tokens is reported
   (exact when >= n; a run shorter than n cannot be seen and counts as 0). The set holds hashes only,
   never text. Exact n-gram hashing instead of MinHash: it misses no copied run and stays small here
   (~16 bytes per real token); MinHash would estimate document similarity, not find one copied phrase.

2. **Differential privacy.** The generator is conditioned on histograms of the real data (note-length
   bins, entity-type mix, negated share of condition mentions, condition and drug frequencies).
   Privacy unit: one patient (all of their documents). Each patient contributes the mean of their
   documents' vectors (clinical.synthetic.document_features), each of L1 norm <= 1, so adding or
   removing one patient changes each histogram by at most 1 in L1 norm: sensitivity 1. Each of the
   k = 5 histograms gets Laplace noise of scale b = sensitivity / (epsilon / k) on every bin (the
   Laplace mechanism, epsilon / k-DP each); by sequential composition the release is epsilon-DP.
   Everything computed from the release afterwards (clamping, mixing with the defaults, generation)
   is post-processing and keeps the guarantee. Bins come from the generator's fixed vocabularies,
   never from the data, so the bin set itself reveals nothing.

   Noise comes from numpy's PCG64 generator: seeded (tests, reproducible demos; anyone who knows the
   seed can subtract the noise, so a seeded release is marked `seeded` and is not a privacy guarantee)
   or from OS entropy (production). A release is stored and reused while the real data, epsilon and
   the statistic bins are unchanged, so re-running the generator does not spend the budget again.
   (numpy's floating-point Laplace sampler is the textbook mechanism, without the floating-point
   hardening of e.g. the snapping mechanism; fine for conditioning a generator, say so to auditors.)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from clinical.ids import content_hash
from clinical.warehouse import fetch_dicts

DEFAULT_NGRAM = 8
TOKEN = re.compile(r"[a-z0-9]+")
MECHANISM = "laplace"
SENSITIVITY = 1.0


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits); punctuation, case and spacing do not count."""
    return TOKEN.findall(text.lower())


def _hash(tokens: Sequence[str]) -> bytes:
    return hashlib.blake2b("\x1f".join(tokens).encode("utf-8"), digest_size=8).digest()


@dataclass(frozen=True)
class Overlap:
    """How much of one text reproduces the index: shared n-grams and the longest shared token run."""

    shared_ngrams: int
    longest_run: int  # tokens; 0 when no n-gram is shared (a shared run shorter than n is not visible)


class NgramIndex:
    """Hashes of every n-gram of a set of real texts; never the texts themselves."""

    def __init__(self, n: int = DEFAULT_NGRAM) -> None:
        if n < 2:
            raise ValueError(f"n-gram length must be >= 2, got {n}")
        self.n = n
        self.hashes: set[bytes] = set()
        self.texts = 0

    @classmethod
    def build(cls, texts: Iterable[str], n: int = DEFAULT_NGRAM) -> NgramIndex:
        index = cls(n)
        for text in texts:
            index.add(text)
        return index

    def add(self, text: str) -> None:
        tokens = tokenize(text)
        self.hashes.update(_hash(tokens[i : i + self.n]) for i in range(len(tokens) - self.n + 1))
        self.texts += 1

    def overlap(self, text: str) -> Overlap:
        """Shared n-grams of `text` with the index, and the longest run of consecutive shared tokens."""
        tokens = tokenize(text)
        hits = [_hash(tokens[i : i + self.n]) in self.hashes for i in range(len(tokens) - self.n + 1)]
        longest = run = 0
        for hit in hits:
            run = run + 1 if hit else 0
            longest = max(longest, run)
        return Overlap(sum(hits), longest + self.n - 1 if longest else 0)


@dataclass(frozen=True)
class GuardResult:
    """Outcome of the n-gram guard for one synthetic record."""

    synthetic_id: str
    passed: bool
    shared_ngrams: int
    longest_run: int
    reason: str | None = None


def ngram_guard(notes: Iterable[Mapping[str, Any]], index: NgramIndex) -> dict[str, GuardResult]:
    """Check every synthetic note (`synthetic_id`, `text`) against the real-text index."""
    results = {}
    for note in notes:
        found = index.overlap(note["text"])
        passed = found.shared_ngrams == 0
        reason = (
            None
            if passed
            else (
                f"privacy guard: reproduces {found.longest_run} consecutive tokens of a real note "
                f"({found.shared_ngrams} shared {index.n}-grams; limit < {index.n})"
            )
        )
        results[note["synthetic_id"]] = GuardResult(
            note["synthetic_id"], passed, found.shared_ngrams, found.longest_run, reason
        )
    return results


# ------------------------------------------------------------------------------------------------
# Real documents (the de-identified zone only).


@dataclass(frozen=True)
class RealDocument:
    """One real document: its id, patient key, de-identified text (None if not stored) and gold entities."""

    doc_id: str
    patient_key: str | None
    text: str | None
    entities: list[dict[str, Any]] | None


def load_real_documents(con: Any) -> list[RealDocument]:
    """De-identified notes (with their label-file entities when annotated) and brat documents."""
    notes = fetch_dicts(con, "SELECT note_id, patient_key, text FROM deidentified_notes ORDER BY note_id")
    labels: dict[str, list[dict[str, Any]]] = {}
    for row in fetch_dicts(
        con, "SELECT note_id, entities FROM annotations WHERE note_id IS NOT NULL ORDER BY annotation_id"
    ):  # one label set per note (the first), so a note annotated twice does not count twice
        entities = json.loads(row["entities"]) if isinstance(row["entities"], str) else row["entities"]
        labels.setdefault(row["note_id"], entities)
    documents = [RealDocument(n["note_id"], n["patient_key"], n["text"], labels.get(n["note_id"])) for n in notes]
    for row in fetch_dicts(
        con,
        "SELECT annotation_id, patient_key, text, entities FROM annotations "
        "WHERE note_id IS NULL AND text IS NOT NULL ORDER BY annotation_id",
    ):
        entities = json.loads(row["entities"]) if isinstance(row["entities"], str) else row["entities"]
        documents.append(RealDocument(row["annotation_id"], row["patient_key"], row["text"], entities))
    return documents


def documents_fingerprint(documents: Sequence[RealDocument]) -> str:
    """Content hash of the real documents (ids, text hashes, entities): changes exactly when they change."""
    return content_hash(
        [
            [d.doc_id, d.patient_key, hashlib.sha256((d.text or "").encode("utf-8")).hexdigest(), d.entities]
            for d in documents
        ]
    )


# ------------------------------------------------------------------------------------------------
# Differential privacy.


def clip_l1(vector: Mapping[str, float], bound: float = SENSITIVITY) -> dict[str, float]:
    """Scale `vector` down so that its L1 norm is at most `bound`."""
    norm = sum(abs(v) for v in vector.values())
    scale = bound / norm if norm > bound else 1.0
    return {k: v * scale for k, v in vector.items()}


def per_patient_contributions(
    vectors: Iterable[tuple[str | None, Mapping[str, float]]], bound: float = SENSITIVITY
) -> list[dict[str, float]]:
    """Average each patient's document vectors (documents without a patient key count alone), then clip
    to L1 <= bound: one patient's whole contribution is bounded, whatever their number of documents."""
    grouped: dict[str, list[Mapping[str, float]]] = defaultdict(list)
    for i, (patient, vector) in enumerate(vectors):
        if vector:
            grouped[patient or f"\x00doc{i}"].append(vector)
    contributions = []
    for _, items in sorted(grouped.items()):
        mean: dict[str, float] = defaultdict(float)
        for vector in items:
            for key, value in vector.items():
                mean[key] += value / len(items)
        contributions.append(clip_l1(mean, bound))
    return contributions


def laplace_histogram(
    contributions: Iterable[Mapping[str, float]],
    bins: Sequence[str],
    epsilon: float,
    rng: np.random.Generator,
    sensitivity: float = SENSITIVITY,
) -> dict[str, float]:
    """Sum of contributions (each of L1 norm <= sensitivity) per bin, plus Laplace(sensitivity/epsilon) noise.

    Keys outside `bins` are dropped (bins are fixed in advance, never taken from the data).
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    totals = dict.fromkeys(bins, 0.0)
    for contribution in contributions:
        for key, value in clip_l1(contribution, sensitivity).items():
            if key in totals:
                totals[key] += value
    noise = rng.laplace(0.0, sensitivity / epsilon, size=len(bins))
    return {key: totals[key] + float(n) for key, n in zip(bins, noise, strict=True)}


@dataclass(frozen=True)
class DPRelease:
    """A stored release of noised statistics: what was released, how, and from which data."""

    release_id: str
    epsilon: float
    mechanism: str
    sensitivity: float
    queries: list[dict[str, Any]]
    statistics: dict[str, dict[str, float]]
    source_fingerprint: str
    spec: str
    noise: str  # "os-entropy" or "seeded:<seed>"
    noisy_totals: dict[str, float] = field(default_factory=dict)  # sum of each noised histogram

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def statistics_spec(bins: Mapping[str, Sequence[str]]) -> str:
    """Fingerprint of the histogram bins: a release is reused only for the same bins."""
    return content_hash({k: list(v) for k, v in sorted(bins.items())})[:16]


def noise_mode(seed: int | None) -> str:
    """How a release's noise was drawn: `os-entropy`, or `seeded:<seed>` (reproducible, so not private)."""
    return "os-entropy" if seed is None else f"seeded:{seed}"


def release_statistics(
    features: Sequence[tuple[str | None, Mapping[str, Mapping[str, float]]]],
    bins: Mapping[str, Sequence[str]],
    epsilon: float,
    source_fingerprint: str,
    seed: int | None = None,
) -> DPRelease:
    """Release every histogram of `bins` under total `epsilon` (split evenly, sequential composition).

    features: (patient key, {histogram name: vector of L1 norm <= 1}) per real document.
    seed: None draws the noise from OS entropy; an int makes the release reproducible (and removable).
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
    rng = np.random.default_rng(seed)
    share = epsilon / len(bins)
    statistics, queries = {}, []
    for name, names in sorted(bins.items()):
        contributions = per_patient_contributions((patient, f.get(name, {})) for patient, f in features)
        statistics[name] = laplace_histogram(contributions, names, share, rng)
        queries.append(
            {
                "statistic": name,
                "bins": len(names),
                "epsilon": share,
                "sensitivity_l1": SENSITIVITY,
                "laplace_scale": SENSITIVITY / share,
                "contributors": "patients",
            }
        )
    spec = statistics_spec(bins)
    release_id = "dp_" + content_hash([source_fingerprint, epsilon, spec, statistics])[:24]
    return DPRelease(
        release_id=release_id,
        epsilon=epsilon,
        mechanism=MECHANISM,
        sensitivity=SENSITIVITY,
        queries=queries,
        statistics=statistics,
        source_fingerprint=source_fingerprint,
        spec=spec,
        noise=noise_mode(seed),
        noisy_totals={name: round(sum(stats.values()), 3) for name, stats in statistics.items()},
    )


def find_release(con: Any, source_fingerprint: str, epsilon: float, spec: str, noise: str) -> DPRelease | None:
    """The stored release for the same data, epsilon, bins and noise mode, if any (reuse spends no budget)."""
    rows = fetch_dicts(
        con,
        "SELECT release FROM dp_releases WHERE source_fingerprint = ? AND epsilon = ? AND spec = ? AND noise = ? "
        "ORDER BY created_at DESC LIMIT 1",
        [source_fingerprint, epsilon, spec, noise],
    )
    if not rows:
        return None
    data = json.loads(rows[0]["release"])
    return DPRelease(**data)


def store_release(con: Any, release: DPRelease, run_id: str | None) -> None:
    con.execute("DELETE FROM dp_releases WHERE release_id = ?", [release.release_id])
    con.execute(
        "INSERT INTO dp_releases (release_id, source_fingerprint, epsilon, spec, noise, release, run_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            release.release_id,
            release.source_fingerprint,
            release.epsilon,
            release.spec,
            release.noise,
            json.dumps(release.as_dict()),
            run_id,
        ],
    )
