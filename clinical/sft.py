"""Build the SFT dataset: chunk notes, make chat examples, split by patient, dedupe, check leakage.

Record shape (docs/CONTRACTS.md): `{"example_id", "split", "source", "patient_key", "parents",
"text", "entities", "messages"}`; example_id is the content hash of `messages`.

Rules, all deterministic:
- A chunk ends at the last sentence or line boundary (else whitespace) within max_chars that
  cuts no entity; when there is none it is extended to the first such boundary after that. So
  entities crossing a boundary are kept whole, never split or dropped, and a chunk exceeds
  max_chars only to finish an entity or a word longer than max_chars.
- A patient's split comes from a hash of (salt, patient_key), so all their notes land together.
  With >= 3 patients every split with a non-zero fraction gets at least one patient: the patient
  with the fewest examples (then smallest key) moves from the split holding the most patients.
- Exact duplicates (same text after case-folding and collapsing whitespace) keep one record:
  annotation before deid_note before synthetic, then the smallest example_id; the parents of the
  removed copies are added to the kept record, so lineage still reaches every source row.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from typing import Any

from clinical.ids import content_hash, sha256_text
from clinical.schema import chat_messages

SOURCES = ("deid_note", "annotation", "synthetic")
SPLITS = ("train", "validation", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
SOURCE_PRIORITY = {"annotation": 0, "deid_note": 1, "synthetic": 2}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*")
_WHITESPACE = re.compile(r"\s+")

Chunk = tuple[str, list[dict[str, Any]], tuple[int, int]]


def chunk_document(text: str, entities: list[dict[str, Any]], max_chars: int = 700) -> list[Chunk]:
    """Split `text` into chunks of about `max_chars` characters with their entities.

    entities: dicts with `text` and, ideally, `start`/`end` offsets into `text`; one without
    offsets is placed at its first occurrence after the previous entity (ValueError if absent,
    or if given offsets do not match its text). Returns (chunk_text, chunk_entities,
    (chunk_start, chunk_end)) with entity offsets relative to the chunk; whitespace between chunks
    belongs to none.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be >= 1, got {max_chars}")
    located = _locate(text, entities)
    spans = [(e["start"], e["end"]) for e in located]
    sentence_cuts = sorted({m.end() for m in _SENTENCE_END.finditer(text)})
    word_cuts = sorted({m.end() for m in _WHITESPACE.finditer(text)})

    def crosses(cut: int) -> bool:
        return any(start < cut < end for start, end in spans)

    chunks: list[Chunk] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return chunks
        cut = _choose_cut(pos, pos + max_chars, len(text), (sentence_cuts, word_cuts), crosses)
        inside = [e for e in located if pos <= e["start"] and e["end"] <= cut]
        end = len(text[pos:cut].rstrip()) + pos
        end = max([end, *(e["end"] for e in inside)])
        rebased = [{**e, "start": e["start"] - pos, "end": e["end"] - pos} for e in inside]
        chunks.append((text[pos:end], rebased, (pos, end)))
        pos = cut


def _choose_cut(pos: int, limit: int, length: int, tiers, crosses) -> int:
    if limit >= length:
        return length
    for cuts in tiers:
        fitting = [c for c in cuts if pos < c <= limit and not crosses(c)]
        if fitting:
            return max(fitting)
    later = [c for cuts in tiers for c in cuts if c > limit and not crosses(c)]
    return min(later, default=length)


def _locate(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    located = []
    cursor = 0
    for i, entity in enumerate(entities):
        span_text = entity.get("text")
        if not isinstance(span_text, str) or not span_text:
            raise ValueError(f"entity {i} has no text")
        if "start" in entity and "end" in entity:
            start, end = entity["start"], entity["end"]
            if text[start:end] != span_text:
                raise ValueError(f"entity {i} offsets {start}-{end} do not match its text")
        else:
            start = text.find(span_text, cursor)
            if start < 0:
                start = text.find(span_text)
            if start < 0:
                raise ValueError(f"entity {i} text does not occur in the document")
            end = start + len(span_text)
        cursor = end
        located.append({**entity, "start": start, "end": end})
    return located


def _check_fractions(fractions) -> tuple[float, float, float]:
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or any(f < 0 for f in values) or sum(values) <= 0:
        raise ValueError(f"fractions must be 3 non-negative numbers (train, validation, test): {fractions}")
    total = sum(values)
    return tuple(f / total for f in values)  # type: ignore[return-value]


def assign_split(patient_key: str, salt: str = "", fractions=DEFAULT_FRACTIONS) -> str:
    """The split of every example of `patient_key`: a hash of (salt, key) placed on `fractions`.

    salt: changes the assignment as a whole (e.g. per dataset release); fractions: relative sizes of
    train, validation, test (normalised to sum 1).
    """
    shares = _check_fractions(fractions)
    point = int(sha256_text(f"{salt}\x1f{patient_key}")[:16], 16) / 16**16
    cumulative = 0.0
    for split, share in zip(SPLITS, shares, strict=True):
        cumulative += share
        if point < cumulative and share > 0:
            return split
    return [s for s, share in zip(SPLITS, shares, strict=True) if share > 0][-1]


def make_example(
    text: str, entities: list[dict[str, Any]], source: str, patient_key: str, parents: list[str]
) -> dict[str, Any]:
    """One SFT record; `split` stays None until build_sft_dataset assigns it.

    source: one of SOURCES; patient_key: keyed hash of the patient (or a synthetic key);
    parents: ids of the records this example came from (note ids, annotation ids, synthetic ids).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    if not isinstance(patient_key, str) or not patient_key:
        raise ValueError("patient_key must be a non-empty string")
    if not isinstance(parents, list) or not parents or not all(isinstance(p, str) for p in parents):
        raise ValueError("parents must be a non-empty list of ids")
    messages = chat_messages(text, entities)
    return {
        "example_id": content_hash(messages),
        "split": None,
        "source": source,
        "patient_key": patient_key,
        "parents": list(parents),
        "text": text,
        "entities": [dict(e) for e in entities],
        "messages": messages,
    }


def normalized_text(text: str) -> str:
    """The form used to find exact duplicates: case-folded, whitespace collapsed."""
    return " ".join(text.split()).casefold()


def _dedupe(examples: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    ordered = sorted(examples, key=lambda e: (SOURCE_PRIORITY.get(e["source"], 9), e["example_id"], e["patient_key"]))
    kept: dict[str, dict[str, Any]] = {}
    for example in ordered:
        key = normalized_text(example["text"])
        if key in kept:
            parents = kept[key]["parents"]
            parents.extend(p for p in example["parents"] if p not in parents)
        else:
            kept[key] = {**example, "parents": list(example["parents"])}
    return list(kept.values()), len(examples) - len(kept)


def _patient_splits(records, salt: str, shares) -> tuple[dict[str, str], list[dict[str, str]]]:
    sizes = Counter(r["patient_key"] for r in records)
    split_of = {p: assign_split(p, salt, shares) for p in sorted(sizes)}
    moved: list[dict[str, str]] = []
    if len(split_of) < 3:
        return split_of, moved
    for target, share in zip(SPLITS, shares, strict=True):
        members = Counter(split_of.values())
        if share == 0 or members[target]:
            continue
        donor = max(SPLITS, key=lambda s: (members[s], -SPLITS.index(s)))
        patient = min((p for p, s in split_of.items() if s == donor), key=lambda p: (sizes[p], p))
        split_of[patient] = target
        moved.append({"patient_key": patient, "from": donor, "to": target})
    return split_of, moved


def _length_stats(values: list[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "max": 0, "mean": 0.0, "median": 0.0, "p95": 0}
    ordered = sorted(values)
    return {
        "min": ordered[0],
        "max": ordered[-1],
        "mean": round(statistics.fmean(ordered), 2),
        "median": float(statistics.median(ordered)),
        "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
    }


def build_sft_dataset(
    examples: list[dict[str, Any]], fractions=DEFAULT_FRACTIONS, salt: str = ""
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Dedupe `examples` (records from make_example), split them by patient and report.

    fractions: train/validation/test shares of patients; salt: passed to assign_split.
    Returns (records sorted by split then example_id, report) without changing the inputs. The
    report holds counts by split/source/entity type, whitespace-token length stats of the note
    text and of the target, duplicates removed, patients moved to fill empty splits, and the
    leakage check (`leakage` is True when a patient or a normalised text is in two splits).
    """
    shares = _check_fractions(fractions)
    for i, example in enumerate(examples):
        missing = {"example_id", "source", "patient_key", "parents", "text", "messages"} - set(example)
        if missing:
            raise ValueError(f"example {i} lacks {', '.join(sorted(missing))}")
    records, duplicates = _dedupe(examples)
    split_of, moved = _patient_splits(records, salt, shares)
    for record in records:
        record["split"] = split_of[record["patient_key"]]
    records.sort(key=lambda r: (SPLITS.index(r["split"]), r["example_id"]))

    splits_of_patient: dict[str, set[str]] = defaultdict(set)
    splits_of_text: dict[str, set[str]] = defaultdict(set)
    for record in records:
        splits_of_patient[record["patient_key"]].add(record["split"])
        splits_of_text[normalized_text(record["text"])].add(record["split"])
    leaking = sorted(p for p, s in splits_of_patient.items() if len(s) > 1)
    leaking_texts = sum(1 for s in splits_of_text.values() if len(s) > 1)

    report = {
        "examples": len(records),
        "patients": len(splits_of_patient),
        "by_split": {s: sum(r["split"] == s for r in records) for s in SPLITS},
        "patients_by_split": {s: sum(v == s for v in split_of.values()) for s in SPLITS},
        "by_source": dict(sorted(Counter(r["source"] for r in records).items())),
        "by_entity_type": dict(sorted(Counter(e["type"] for r in records for e in r["entities"]).items())),
        "token_length": {
            "text": _length_stats([len(r["text"].split()) for r in records]),
            "target": _length_stats([len(r["messages"][-1]["content"].split()) for r in records]),
        },
        "duplicates_removed": duplicates,
        "moved_patients": moved,
        "leakage": bool(leaking or leaking_texts),
        "leaking_patient_keys": leaking,
        "leaking_texts": leaking_texts,
        "fractions": list(shares),
        "dataset_version": dataset_version(records),
    }
    return records, report


def dataset_version(records: list[dict[str, Any]]) -> str:
    """Content hash over the (example_id, split) pairs: same examples in the same splits, same version."""
    return content_hash(sorted([r["example_id"], r["split"]] for r in records))
