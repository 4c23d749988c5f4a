"""Scores for entity extraction against a golden set: P/R/F1 per type, JSON validity, hallucination.

Entities are `{"type": str, "text": str, ...}` (see clinical.schema). Matching is one-to-one within a
document: each gold entity is used by at most one prediction.
- exact: same type and the same normalized text (lower case, whitespace collapsed, punctuation
  stripped at both ends);
- relaxed: same type and one normalized text contains the other, or their token overlap
  (shared tokens / tokens of the shorter text) is at least 0.5.

Negation accuracy is measured on the relaxed-matched pairs: the share whose `negated` flag (absent
means false) agrees between gold and prediction. `summarize` puts every score of one model on one
split together (the evaluation asset and the model card read that shape).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

MODES: tuple[str, ...] = ("exact", "relaxed")
MICRO = "micro"
_EDGE_PUNCT = string.punctuation + "“”‘’«»…–—"


def normalize_text(text: str) -> str:
    """Lower case, whitespace collapsed to single spaces, punctuation stripped at both ends.

    :param text: entity text as written.
    """
    return " ".join(str(text).lower().split()).strip(_EDGE_PUNCT + " ")


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+(?:[.,]\w+)*", text)  # "0.9" and "1,200" are one token


def _contains(longer: list[str], shorter: list[str]) -> bool:
    """`shorter` occurs in `longer` as a contiguous run of tokens."""
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def exact_match(gold: str, pred: str) -> bool:
    """Normalized texts are equal.

    :param gold: gold entity text.
    :param pred: predicted entity text.
    """
    return normalize_text(gold) == normalize_text(pred)


def relaxed_match(gold: str, pred: str, min_overlap: float = 0.5) -> bool:
    """One normalized text contains the other as whole words, or token overlap >= `min_overlap`.

    Containment is of whole tokens ("eye" in "normal eye movements"), never of characters: a
    one-letter fragment such as "s" does not match "IOPs".

    :param gold: gold entity text.
    :param pred: predicted entity text.
    :param min_overlap: shared tokens divided by the token count of the shorter text.
    """
    g, p = normalize_text(gold), normalize_text(pred)
    if not g or not p:
        return False
    g_list, p_list = _tokens(g), _tokens(p)
    if not g_list or not p_list:
        return False
    if _contains(p_list, g_list) or _contains(g_list, p_list):
        return True
    g_tokens, p_tokens = Counter(g_list), Counter(p_list)
    shorter = min(sum(g_tokens.values()), sum(p_tokens.values()))
    if shorter == 0:
        return False
    return sum((g_tokens & p_tokens).values()) / shorter >= min_overlap


def _match_document(gold: list[dict], pred: list[dict], same: Callable[[str, str], bool]) -> list[tuple[int, int]]:
    # Greedy one-to-one: exact-text pairs first, so a relaxed pairing never steals an exact partner.
    used_gold: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for passes in (exact_match, same):
        for pi, p in enumerate(pred):
            if any(pi == q for _, q in pairs):
                continue
            for gi, g in enumerate(gold):
                if gi in used_gold or g.get("type") != p.get("type"):
                    continue
                if passes(str(g.get("text", "")), str(p.get("text", ""))):
                    used_gold.add(gi)
                    pairs.append((gi, pi))
                    break
    return pairs


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": n_gold, "tp": tp, "predicted": n_pred}


def score_entities(gold: Sequence[Sequence[dict]], pred: Sequence[Sequence[dict]]) -> dict[str, dict]:
    """Precision, recall, F1 and support per entity type and micro-averaged, for both match modes.

    :param gold: per document, the gold entities.
    :param pred: per document (same order and length as `gold`), the predicted entities.
    :returns: `{"exact": {type: {precision, recall, f1, support, tp, predicted}, ..., "micro": {...}},
        "relaxed": {...}}`; support is the number of gold entities; a score with nothing to divide by is 0.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents but pred has {len(pred)}")
    types = sorted({e.get("type") for doc in (*gold, *pred) for e in doc if e.get("type") is not None})
    n_gold = Counter(e.get("type") for doc in gold for e in doc)
    n_pred = Counter(e.get("type") for doc in pred for e in doc)
    scores: dict[str, dict] = {}
    for mode in MODES:
        same = exact_match if mode == "exact" else relaxed_match
        tp: Counter = Counter()
        for g_doc, p_doc in zip(gold, pred, strict=True):
            for gi, _ in _match_document(list(g_doc), list(p_doc), same):
                tp[g_doc[gi].get("type")] += 1
        by_type = {t: _prf(tp[t], n_pred[t], n_gold[t]) for t in types}
        by_type[MICRO] = _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values()))
        scores[mode] = by_type
    return scores


def document_counts(gold: Sequence[Sequence[dict]], pred: Sequence[Sequence[dict]], mode: str = "relaxed"):
    """Per document, (true positives, predicted entities, gold entities) under one match mode; the
    input of the bootstrap in clinical.subgroups.

    :param gold: per document, the gold entities.
    :param pred: per document (same order), the predicted entities.
    :param mode: "exact" or "relaxed".
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents but pred has {len(pred)}")
    same = exact_match if mode == "exact" else relaxed_match
    return [(len(_match_document(list(g), list(p), same)), len(p), len(g)) for g, p in zip(gold, pred, strict=True)]


def negation_accuracy(gold: Sequence[Sequence[dict]], pred: Sequence[Sequence[dict]]) -> dict[str, float | int]:
    """Agreement of the `negated` flag on relaxed-matched (gold, prediction) pairs.

    :returns: `{"accuracy", "pairs", "gold_negated", "negated_found"}`: accuracy over matched pairs
        (0.0 when none matched), matched pairs, gold entities marked negated, and how many of those
        were matched by a prediction that is also marked negated.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} documents but pred has {len(pred)}")
    pairs = agree = negated_found = 0
    for g_doc, p_doc in zip(gold, pred, strict=True):
        for gi, pi in _match_document(list(g_doc), list(p_doc), relaxed_match):
            g_neg, p_neg = bool(g_doc[gi].get("negated")), bool(p_doc[pi].get("negated"))
            pairs += 1
            agree += g_neg == p_neg
            negated_found += g_neg and p_neg
    gold_negated = sum(bool(e.get("negated")) for doc in gold for e in doc)
    return {
        "accuracy": agree / pairs if pairs else 0.0,
        "pairs": pairs,
        "gold_negated": gold_negated,
        "negated_found": negated_found,
    }


def summarize(
    texts: Sequence[str],
    gold: Sequence[Sequence[dict]],
    pred: Sequence[Sequence[dict]],
    valid_json: Sequence[bool],
    latencies_s: Sequence[float],
) -> dict[str, Any]:
    """Every score of one model on one set of documents.

    :returns: `{"documents", "scores" (score_entities), "json_validity", "hallucination_rate",
        "negation", "latency_s": {"mean", "p50", "p95", "max"}, "counts" (document_counts, relaxed)}`.
    """
    latencies = sorted(float(x) for x in latencies_s)

    def quantile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(round(q * (len(latencies) - 1))))] if latencies else 0.0

    return {
        "documents": len(texts),
        "scores": score_entities(gold, pred),
        "json_validity": json_validity_rate(valid_json),
        "hallucination_rate": hallucination_rate(texts, pred),
        "negation": negation_accuracy(gold, pred),
        "latency_s": {
            "mean": sum(latencies) / len(latencies) if latencies else 0.0,
            "p50": quantile(0.5),
            "p95": quantile(0.95),
            "max": latencies[-1] if latencies else 0.0,
        },
        "counts": document_counts(gold, pred, "relaxed"),
    }


def json_validity_rate(flags: Sequence[bool]) -> float:
    """Share of model outputs that parsed as valid JSON (0.0 for no outputs).

    :param flags: one bool per output (ExtractionResult.valid_json).
    """
    return sum(bool(f) for f in flags) / len(flags) if flags else 0.0


def hallucination_rate(texts: Sequence[str], preds: Sequence[Sequence[dict]]) -> float:
    """Share of predicted entities whose text does not occur in their note (case-insensitive,
    whitespace collapsed); 0.0 when nothing was predicted.

    :param texts: the notes.
    :param preds: per note (same order), the predicted entities.
    """
    if len(texts) != len(preds):
        raise ValueError(f"{len(texts)} texts but {len(preds)} prediction lists")
    total = missing = 0
    for text, entities in zip(texts, preds, strict=True):
        haystack = " ".join(text.lower().split())
        for entity in entities:
            total += 1
            needle = " ".join(str(entity.get("text", "")).lower().split())
            if not needle or needle not in haystack:
                missing += 1
    return missing / total if total else 0.0


def markdown_table(scores: dict[str, Any], digits: int = 3) -> str:
    """A Markdown table (one row per mode and entity type, micro last) for Dagster metadata.

    :param scores: the output of `score_entities`.
    :param digits: decimals shown for precision, recall and F1.
    """
    lines = ["| mode | type | precision | recall | f1 | support |", "|---|---|---:|---:|---:|---:|"]
    for mode in [m for m in MODES if m in scores] + [m for m in scores if m not in MODES]:
        rows = scores[mode]
        for etype in [t for t in rows if t != MICRO] + ([MICRO] if MICRO in rows else []):
            r = rows[etype]
            name = f"**{etype}**" if etype == MICRO else etype
            lines.append(
                f"| {mode} | {name} | {r['precision']:.{digits}f} | {r['recall']:.{digits}f} "
                f"| {r['f1']:.{digits}f} | {r['support']} |"
            )
    return "\n".join(lines)
