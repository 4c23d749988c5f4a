"""Shared helpers of the per-family de-identification test tables (tests/test_deid_*.py)."""

from __future__ import annotations

from clinical.deid.engine import PhiSpan, merge_spans

THRESHOLD = 0.4
"""The policy's score threshold (DeidPolicy.score_threshold)."""


def found(recognizer_cls, text: str) -> list[str]:
    """Texts a recognizer finds on its own (no spaCy, no context words) at or above the policy
    threshold, overlaps merged."""
    recognizer = recognizer_cls()
    entities = list(getattr(recognizer, "supported_entities", None) or [recognizer_cls.ENTITY])
    results = recognizer.analyze(text, entities=entities, nlp_artifacts=None)
    spans = merge_spans(PhiSpan(r.start, r.end, r.entity_type, r.score) for r in results if r.score >= THRESHOLD)
    return [text[s.start : s.end] for s in spans]


def typed(text: str, spans: list[PhiSpan]) -> list[tuple[str, str]]:
    """(text, type) of each detected span."""
    return [(text[s.start : s.end], s.type) for s in spans]


def leaked(text: str, spans: list[PhiSpan], values: list[str]) -> list[str]:
    """The values (PHI strings of a test row) that some detected span does not fully cover."""
    out = []
    for value in values:
        start = text.index(value)
        end = start + len(value)
        covered = [False] * len(value)
        for s in spans:
            for i in range(max(s.start, start), min(s.end, end)):
                covered[i - start] = True
        if not all(c or value[i] in " ,.-/()" for i, c in enumerate(covered)):
            out.append(value)
    return out
