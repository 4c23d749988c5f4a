"""Near-duplicate detection: MinHash signatures with LSH banding, confirmed by exact shingle Jaccard.

- Shingles: word n-grams (SHINGLE_SIZE = 5 words) of the text case-folded with whitespace collapsed
  and punctuation kept as its own token; a text shorter than n words is one shingle. Each shingle
  is hashed to 32 bits (blake2b), so signatures do not depend on Python's hash seed.
- MinHash: NUM_PERM = 128 hash functions from the multiply-add-shift family (Dietzfelbinger):
  h(x) = ((a*x + b) mod 2^64) >> 32 for the 32-bit shingle hash x, with 64-bit a (odd) and b drawn
  from a numpy Generator seeded with SEED (uint64 arithmetic wraps mod 2^64, which is the family's
  definition); the signature is the minimum per function over the shingles. (A plain linear
  (a*x + b) mod p with small a is monotone in x for most shingles, so every function would pick
  the same minimum and over-estimate similarity.)
- Candidates: LSH with BANDS = 32 bands of 4 rows (texts whose signatures agree on a whole band);
  at threshold 0.8 a pair is a candidate with probability 1 - (1 - 0.8^4)^32 > 0.9999.
- Confirmation: the exact Jaccard similarity of the two shingle sets must be >= THRESHOLD (0.8), so
  MinHash only finds candidates and no pair is removed on an estimate.
For sets of a few thousand texts this runs in well under a second; above that the banding keeps
the work close to linear.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

SHINGLE_SIZE = 5
NUM_PERM = 128
BANDS = 32
THRESHOLD = 0.8
SEED = 20260
_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class NearDupParams:
    """The documented settings, recorded in the dataset card."""

    shingle_size: int = SHINGLE_SIZE
    num_perm: int = NUM_PERM
    bands: int = BANDS
    threshold: float = THRESHOLD
    seed: int = SEED

    def __post_init__(self) -> None:
        if self.shingle_size < 1 or self.num_perm < 1 or self.bands < 1 or self.num_perm % self.bands:
            raise ValueError("need shingle_size >= 1 and num_perm a positive multiple of bands")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    def as_dict(self) -> dict[str, float | int]:
        return {
            "method": "minhash-lsh+jaccard",
            "shingle_words": self.shingle_size,
            "permutations": self.num_perm,
            "bands": self.bands,
            "threshold": self.threshold,
            "seed": self.seed,
        }


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Word `size`-grams of the normalised text (one shingle for shorter texts, none for empty)."""
    tokens = _TOKEN.findall(text.casefold())
    if not tokens:
        return set()
    if len(tokens) <= size:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _hash32(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=4).digest(), "little")


def signatures(shingle_sets: list[set[str]], params: NearDupParams = NearDupParams()) -> np.ndarray:
    """MinHash signatures, one row of `num_perm` uint64 per set (all-max for an empty set)."""
    rng = np.random.default_rng(params.seed)
    a = rng.integers(0, np.iinfo(np.uint64).max, size=params.num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, np.iinfo(np.uint64).max, size=params.num_perm, dtype=np.uint64, endpoint=True)
    shift = np.uint64(32)
    out = np.full((len(shingle_sets), params.num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, items in enumerate(shingle_sets):
        if not items:
            continue
        x = np.fromiter((_hash32(s) for s in sorted(items)), dtype=np.uint64, count=len(items))
        out[row] = ((np.outer(x, a) + b) >> shift).min(axis=0)
    return out


def candidate_pairs(sigs: np.ndarray, bands: int = BANDS) -> set[tuple[int, int]]:
    """Index pairs (i < j) whose signatures agree on at least one whole band."""
    n, num_perm = sigs.shape
    rows = num_perm // bands
    pairs: set[tuple[int, int]] = set()
    for band in range(bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        for i in range(n):
            buckets[sigs[i, band * rows : (band + 1) * rows].tobytes()].append(i)
        for members in buckets.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    pairs.add((members[x], members[y]))
    return pairs


def near_duplicate_pairs(texts: list[str], params: NearDupParams = NearDupParams()) -> list[tuple[int, int, float]]:
    """(i, j, jaccard) for every pair of `texts` (i < j) at or above the threshold, sorted."""
    sets = [shingles(t, params.shingle_size) for t in texts]
    sigs = signatures(sets, params)
    found = []
    for i, j in sorted(candidate_pairs(sigs, params.bands)):
        if not sets[i] or not sets[j]:
            continue
        similarity = jaccard(sets[i], sets[j])
        if similarity >= params.threshold:
            found.append((i, j, round(similarity, 4)))
    return found


def keep_first(texts: list[str], params: NearDupParams = NearDupParams()) -> tuple[list[int], dict[int, int]]:
    """Greedy removal in the given (priority) order.

    Returns (indices kept, {removed index: index of the kept text it duplicates}). A text is removed
    when it is a near duplicate of a text kept before it, so the caller's ordering decides which copy
    survives (e.g. golden and test before train).
    """
    neighbours: dict[int, list[int]] = defaultdict(list)
    for i, j, _ in near_duplicate_pairs(texts, params):
        neighbours[i].append(j)
        neighbours[j].append(i)
    kept: list[int] = []
    kept_set: set[int] = set()
    removed: dict[int, int] = {}
    for index in range(len(texts)):
        earlier = [k for k in neighbours.get(index, []) if k in kept_set]
        if earlier:
            removed[index] = min(earlier)
        else:
            kept.append(index)
            kept_set.add(index)
    return kept, removed
