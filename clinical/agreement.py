"""Inter-annotator agreement on documents that two annotators labelled.

Two views, per entity type and overall ("all"):
- Span F1: annotator A's entities against annotator B's, one-to-one matching of the same type.
  `exact`: same start and end; `overlap`: the spans share at least one character (each entity is
  matched at most once, greedily by largest overlap). F1 = 2 * matches / (|A| + |B|), which is
  symmetric in A and B (so no annotator has to be the reference).
- Cohen's kappa on token labels: the text is cut into tokens (TOKEN: runs of letters/digits, or
  single other non-space characters); each token gets the type of the entity that covers it, or
  "O" when none does (where two entities of one annotator overlap, the earlier-starting, then
  longer, one wins). Per entity type T the kappa is computed on the binary labels "T" vs "not T",
  so it measures agreement on T alone; "all" is the multi-class kappa over the four types plus "O".
  kappa = (p_o - p_e) / (1 - p_e); when p_e == 1 (both annotators gave every token one label) it is
  1.0 if they agree everywhere.
Documents are paired by the sha256 of their text, so brat folders and Label Studio tasks with the
same note compare whatever their ids; with more than two annotators every pair counts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

from clinical.schema import ENTITY_TYPES

TOKEN = re.compile(r"\w+|[^\w\s]")
OUTSIDE = "O"


def match_spans(a: list[dict[str, Any]], b: list[dict[str, Any]], mode: str = "exact") -> int:
    """How many entities of `a` pair one-to-one with an entity of `b` (same type, `mode` match)."""
    if mode not in ("exact", "overlap"):
        raise ValueError(f"mode must be 'exact' or 'overlap', got {mode!r}")
    if mode == "exact":
        counts_a = Counter((e["type"], e["start"], e["end"]) for e in a)
        counts_b = Counter((e["type"], e["start"], e["end"]) for e in b)
        return sum(min(n, counts_b[key]) for key, n in counts_a.items())
    candidates = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            shared = min(x["end"], y["end"]) - max(x["start"], y["start"])
            if x["type"] == y["type"] and shared > 0:
                candidates.append((-shared, i, j))
    used_a, used_b, matches = set(), set(), 0
    for _, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            matches += 1
    return matches


def token_labels(text: str, entities: list[dict[str, Any]]) -> list[str]:
    """One label per TOKEN of `text`: the covering entity's type or "O"."""
    tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    labels = [OUTSIDE] * len(tokens)
    for entity in sorted(entities, key=lambda e: (e["start"], -(e["end"] - e["start"]))):
        for k, (start, end) in enumerate(tokens):
            if labels[k] == OUTSIDE and start < entity["end"] and end > entity["start"]:
                labels[k] = entity["type"]
    return labels


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two equally long label sequences; None when they are empty."""
    if len(a) != len(b):
        raise ValueError(f"label sequences differ in length: {len(a)} and {len(b)}")
    if not a:
        return None
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in count_a) / (n * n)
    if expected >= 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1.0 - expected)


def _f1(matches: int, n_a: int, n_b: int) -> float | None:
    return None if n_a + n_b == 0 else 2 * matches / (n_a + n_b)


def double_annotated(documents: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Pairs of annotations of the same text by different annotators.

    documents: `{"text_sha256" (or "text"), "annotator", "entities"}`; pairs come sorted by text
    hash, then annotator, so the report is deterministic.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for doc in documents:
        key = doc.get("text_sha256") or doc["text"]
        groups[key].append(doc)
    pairs = []
    for key in sorted(groups):
        docs = sorted(groups[key], key=lambda d: str(d["annotator"]))
        pairs += [(x, y) for x, y in combinations(docs, 2) if x["annotator"] != y["annotator"]]
    return pairs


def agreement_report(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows per entity type and "all": documents, entities of each side, exact/overlap span F1, kappa.

    Each pair is two annotations of the same note (with `text` and offset-carrying `entities`).
    Empty when there are no pairs.
    """
    if not pairs:
        return []
    types = [*ENTITY_TYPES, "all"]
    n_a: Counter[str] = Counter()
    n_b: Counter[str] = Counter()
    exact: Counter[str] = Counter()
    overlap: Counter[str] = Counter()
    tokens_a: list[str] = []
    tokens_b: list[str] = []
    for first, second in pairs:
        a = [e for e in first["entities"] if "start" in e and "end" in e]
        b = [e for e in second["entities"] if "start" in e and "end" in e]
        for etype in types:
            sub_a = a if etype == "all" else [e for e in a if e["type"] == etype]
            sub_b = b if etype == "all" else [e for e in b if e["type"] == etype]
            n_a[etype] += len(sub_a)
            n_b[etype] += len(sub_b)
            exact[etype] += match_spans(sub_a, sub_b, "exact")
            overlap[etype] += match_spans(sub_a, sub_b, "overlap")
        tokens_a += token_labels(first["text"], a)
        tokens_b += token_labels(second["text"], b)
    rows = []
    for etype in types:
        if etype == "all":
            kappa = cohen_kappa(tokens_a, tokens_b)
        else:
            kappa = cohen_kappa([t == etype for t in tokens_a], [t == etype for t in tokens_b])
        rows.append(
            {
                "entity_type": etype,
                "documents": len(pairs),
                "entities_a": n_a[etype],
                "entities_b": n_b[etype],
                "span_f1_exact": _round(_f1(exact[etype], n_a[etype], n_b[etype])),
                "span_f1_overlap": _round(_f1(overlap[etype], n_a[etype], n_b[etype])),
                "token_kappa": _round(kappa),
            }
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
