"""Build the SFT dataset: chunk notes, make chat examples, split by patient, dedupe, check leakage.

Record shape (docs/CONTRACTS.md): `{"example_id", "split", "source", "patient_key", "parents",
"text", "entities", "messages", "note_type"}`; example_id is the content hash of `messages`.

Rules, all deterministic:
- A chunk ends at the last sentence or line boundary (else whitespace) within max_chars that
  cuts no entity; when there is none it is extended to the first such boundary after that. So
  entities crossing a boundary are kept whole, never split or dropped, and a chunk exceeds
  max_chars only to finish an entity or a word longer than max_chars.
- Golden examples (clinician golden sets, make_example(golden=True)) have split "golden" and are
  never trained on: their patients get no train/validation/test split at all (any other example
  of a golden patient is held out and counted as `held_out_golden_patient`).
- Every other patient's split comes from a hash of (salt, patient_key), so all their notes land
  together. With >= 3 patients every split with a non-zero fraction gets at least one patient:
  the patient with the fewest examples (then smallest key) moves from the split holding the most.
- Exact duplicates (same text after case-folding and collapsing whitespace), then near duplicates
  (clinical.neardup: word-5-gram Jaccard >= 0.8, found with MinHash LSH), are removed across the
  whole dataset. The copy kept is the first by (split: golden, test, validation, train; source:
  annotation, deid_note, synthetic; example_id), so an evaluation copy always wins over a training
  copy and nothing leaks; the parents of removed copies are added to the kept record, so lineage
  still reaches every source row.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from clinical import neardup
from clinical.ids import content_hash, sha256_text
from clinical.schema import ENTITY_TYPES, chat_messages

SOURCES = ("deid_note", "annotation", "synthetic")
SPLITS = ("train", "validation", "test")
GOLDEN = "golden"
ALL_SPLITS = (*SPLITS, GOLDEN)
TRAINING_SPLITS = ("train", "validation")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
SOURCE_PRIORITY = {"annotation": 0, "deid_note": 1, "synthetic": 2}
SPLIT_PRIORITY = {GOLDEN: 0, "test": 1, "validation": 2, "train": 3}
NEAR_DUPLICATES = neardup.NearDupParams()
APPROXIMATE_TOKENS = (
    "characters / 4 (approximation; the SmolLM2 tokenizer averages 4.2 characters per token on the "
    "MACCROBAT note text and 3.5 on the compact JSON target)"
)
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
    text: str,
    entities: list[dict[str, Any]],
    source: str,
    patient_key: str,
    parents: list[str],
    note_type: str | None = None,
    golden: bool = False,
) -> dict[str, Any]:
    """One SFT record; `split` stays None until build_sft_dataset assigns it ("golden" when golden).

    source: one of SOURCES; patient_key: keyed hash of the patient (or a synthetic key);
    parents: ids of the records this example came from (note ids, annotation ids, synthetic ids);
    note_type: the note's type ("case_report", "discharge_summary", ...); golden: from a clinician
    golden set, held out of training.
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
        "split": GOLDEN if golden else None,
        "source": source,
        "patient_key": patient_key,
        "parents": list(parents),
        "text": text,
        "entities": [dict(e) for e in entities],
        "messages": messages,
        "note_type": note_type or "unknown",
    }


def normalized_text(text: str) -> str:
    """The form used to find exact duplicates: case-folded, whitespace collapsed."""
    return " ".join(text.split()).casefold()


def _priority(record: dict[str, Any]) -> tuple:
    return (
        SPLIT_PRIORITY.get(record["split"], 9),
        SOURCE_PRIORITY.get(record["source"], 9),
        record["example_id"],
        record["patient_key"],
    )


def _merge_parents(kept: dict[str, Any], removed: dict[str, Any]) -> None:
    parents = kept["parents"]
    parents.extend(p for p in removed["parents"] if p not in parents)


def _dedupe(examples: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    kept: dict[str, dict[str, Any]] = {}
    for example in sorted(examples, key=_priority):
        key = normalized_text(example["text"])
        if key in kept:
            _merge_parents(kept[key], example)
        else:
            kept[key] = {**example, "parents": list(example["parents"])}
    return list(kept.values()), len(examples) - len(kept)


def _near_dedupe(
    records: list[dict[str, Any]], params: neardup.NearDupParams
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    ordered = sorted(records, key=_priority)
    kept_indices, removed = neardup.keep_first([r["text"] for r in ordered], params)
    for index, target in sorted(removed.items()):
        _merge_parents(ordered[target], ordered[index])
    moves = [{"removed_from": ordered[i]["split"], "kept_in": ordered[k]["split"]} for i, k in sorted(removed.items())]
    return [ordered[i] for i in kept_indices], moves


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


def approximate_tokens(text: str) -> int:
    """Token count estimate without a tokenizer: characters / 4, rounded up (see APPROXIMATE_TOKENS)."""
    return -(-len(text) // 4)


def token_length_report(
    records: list[dict[str, Any]], count_tokens: Callable[[str], int] | None = None, counter: str = ""
) -> dict[str, Any]:
    """Length statistics of the note text, the JSON target and the whole example (all turns).

    count_tokens: the base model's tokenizer as a function (e.g. `lambda s: len(tok(s).input_ids)`);
    without it, approximate_tokens estimates (APPROXIMATE_TOKENS says so in the report).
    """
    count = count_tokens or approximate_tokens
    text = [count(r["text"]) for r in records]
    target = [count(r["messages"][-1]["content"]) for r in records]
    example = [sum(count(m["content"]) for m in r["messages"]) for r in records]
    by_split = defaultdict(list)
    for record, length in zip(records, example, strict=True):
        by_split[record["split"]].append(length)
    return {
        "counter": counter or (APPROXIMATE_TOKENS if count_tokens is None else "tokenizer"),
        "text": _length_stats(text),
        "target": _length_stats(target),
        "example": _length_stats(example),
        "example_by_split": {s: _length_stats(by_split[s]) for s in ALL_SPLITS if by_split[s]},
    }


def build_sft_dataset(
    examples: list[dict[str, Any]],
    fractions=DEFAULT_FRACTIONS,
    salt: str = "",
    near_duplicates: neardup.NearDupParams | None = NEAR_DUPLICATES,
    count_tokens: Callable[[str], int] | None = None,
    token_counter: str = "",
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Hold out golden examples, dedupe (exact, then near), split by patient and report.

    examples: records from make_example; fractions: train/validation/test shares of patients; salt:
    passed to assign_split; near_duplicates: MinHash settings (None: exact duplicates only);
    count_tokens/token_counter: see token_length_report.
    Returns (records sorted by split then example_id, report) without changing the inputs. The
    report (the dataset card) holds counts by split/source/entity type/note type, token length
    stats, duplicates removed, patients moved to fill empty splits, the golden hold-out and the
    leakage check (`leakage` is True when a patient, a normalised text or a near-duplicate pair is
    in two splits).
    """
    shares = _check_fractions(fractions)
    for i, example in enumerate(examples):
        missing = {"example_id", "source", "patient_key", "parents", "text", "messages"} - set(example)
        if missing:
            raise ValueError(f"example {i} lacks {', '.join(sorted(missing))}")
        if example.get("split") not in (None, GOLDEN):
            raise ValueError(f"example {i} has split {example['split']!r}; only 'golden' may be preset")
    golden_patients = {e["patient_key"] for e in examples if e.get("split") == GOLDEN}
    pool, held_out = [], 0
    for example in examples:
        if example.get("split") != GOLDEN and example["patient_key"] in golden_patients:
            held_out += 1
            continue
        pool.append({"note_type": "unknown", **example, "parents": list(example["parents"])})
    for record in pool:
        if record["split"] != GOLDEN:
            record["split"] = assign_split(record["patient_key"], salt, shares)
    records, exact_removed = _dedupe(pool)
    near_moves: list[dict[str, str]] = []
    if near_duplicates is not None:
        records, near_moves = _near_dedupe(records, near_duplicates)
    split_of, moved = _patient_splits([r for r in records if r["split"] != GOLDEN], salt, shares)
    for record in records:
        if record["split"] != GOLDEN:
            record["split"] = split_of[record["patient_key"]]
    records.sort(key=lambda r: (ALL_SPLITS.index(r["split"]), r["example_id"]))

    leakage = leakage_report(records, near_duplicates)
    report = {
        "examples": len(records),
        "patients": len({r["patient_key"] for r in records}),
        "by_split": {s: sum(r["split"] == s for r in records) for s in ALL_SPLITS},
        "patients_by_split": {s: len({r["patient_key"] for r in records if r["split"] == s}) for s in ALL_SPLITS},
        "by_source": dict(sorted(Counter(r["source"] for r in records).items())),
        "by_split_and_source": {
            s: dict(sorted(Counter(r["source"] for r in records if r["split"] == s).items())) for s in ALL_SPLITS
        },
        "by_entity_type": dict(sorted(Counter(e["type"] for r in records for e in r["entities"]).items())),
        "by_split_and_entity_type": {
            s: {t: sum(e["type"] == t for r in records if r["split"] == s for e in r["entities"]) for t in ENTITY_TYPES}
            for s in ALL_SPLITS
        },
        "by_note_type": dict(sorted(Counter(r["note_type"] for r in records).items())),
        "token_length": token_length_report(records, count_tokens, token_counter),
        "duplicates_removed": exact_removed + len(near_moves),
        "exact_duplicates_removed": exact_removed,
        "near_duplicates_removed": len(near_moves),
        "near_duplicates_removed_by_split": dict(sorted(Counter(m["removed_from"] for m in near_moves).items())),
        "near_duplicate_method": near_duplicates.as_dict() if near_duplicates else None,
        "held_out_golden_patient": held_out,
        "moved_patients": moved,
        **leakage,
        "fractions": list(shares),
        "dataset_version": dataset_version(records),
    }
    return records, report


def leakage_report(
    records: list[dict[str, Any]], near_duplicates: neardup.NearDupParams | None = NEAR_DUPLICATES
) -> dict[str, Any]:
    """Whether any patient, normalised text or near-duplicate pair spans two splits (golden included)."""
    splits_of_patient: dict[str, set[str]] = defaultdict(set)
    splits_of_text: dict[str, set[str]] = defaultdict(set)
    for record in records:
        splits_of_patient[record["patient_key"]].add(record["split"])
        splits_of_text[normalized_text(record["text"])].add(record["split"])
    leaking = sorted(p for p, s in splits_of_patient.items() if len(s) > 1)
    leaking_texts = sum(1 for s in splits_of_text.values() if len(s) > 1)
    near = 0
    if near_duplicates is not None:
        pairs = neardup.near_duplicate_pairs([r["text"] for r in records], near_duplicates)
        near = sum(records[i]["split"] != records[j]["split"] for i, j, _ in pairs)
    return {
        "leakage": bool(leaking or leaking_texts or near),
        "leaking_patient_keys": leaking,
        "leaking_texts": leaking_texts,
        "near_duplicate_pairs_across_splits": near,
    }


def golden_leaks(
    records: list[dict[str, Any]],
    golden_annotation_ids: set[str] | frozenset[str] = frozenset(),
    near_duplicates: neardup.NearDupParams = NEAR_DUPLICATES,
) -> dict[str, int]:
    """What of the golden set reaches a non-golden split (all zero when the hold-out holds).

    Counts: golden patients with examples in train/validation/test; non-golden examples whose
    normalised text equals a golden one or is a near duplicate of one; non-golden examples whose
    parents include a golden annotation id.
    """
    golden = [r for r in records if r["split"] == GOLDEN]
    others = [r for r in records if r["split"] != GOLDEN]
    golden_patients = {r["patient_key"] for r in golden}
    golden_texts = {normalized_text(r["text"]) for r in golden}
    texts = [r["text"] for r in golden] + [r["text"] for r in others]
    pairs = neardup.near_duplicate_pairs(texts, near_duplicates) if golden and others else []
    near = {j for i, j, _ in pairs if i < len(golden) <= j}
    return {
        "golden_examples": len(golden),
        "golden_patients": len(golden_patients),
        "golden_patients_in_other_splits": len(golden_patients & {r["patient_key"] for r in others}),
        "golden_texts_in_other_splits": sum(normalized_text(r["text"]) in golden_texts for r in others),
        "golden_near_duplicates_in_other_splits": len(near),
        "golden_annotations_in_other_splits": sum(
            any(p in golden_annotation_ids for p in r["parents"]) for r in others
        ),
    }


def dataset_version(records: list[dict[str, Any]]) -> str:
    """Content hash over the (example_id, split) pairs: same examples in the same splits, same version."""
    return content_hash(sorted([r["example_id"], r["split"]] for r in records))


LENGTH_PARTS = ("text", "target", "example")


def dataset_card_markdown(report: dict[str, Any]) -> str:
    """The dataset card as Markdown (shown in the Dagster UI; the JSON form is the report itself)."""

    def table(header: list[str], rows: list[list[Any]]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])

    sources = sorted({src for counts in report["by_split_and_source"].values() for src in counts})
    splits = [s for s in ALL_SPLITS if report["by_split"].get(s)]
    lengths = report["token_length"]
    near = report.get("near_duplicate_method") or {}
    parts = [
        f"**Dataset** `{report['dataset_version']}` (content hash of example ids and splits): "
        f"{report['examples']} examples, {report['patients']} patients.",
        "### Examples by split and source",
        table(
            ["split", "patients", *sources, "total"],
            [
                [s, report["patients_by_split"][s], *(report["by_split_and_source"][s].get(x, 0) for x in sources)]
                + [report["by_split"][s]]
                for s in splits
            ],
        ),
        "### Entities by split and type",
        table(["split", *ENTITY_TYPES], [[s, *report["by_split_and_entity_type"][s].values()] for s in splits]),
        "### Note types",
        table(["note type", "examples"], [[k, v] for k, v in report["by_note_type"].items()]),
        f"### Length ({lengths['counter']})",
        table(
            ["part", "min", "median", "mean", "p95", "max"],
            [
                [k, *(lengths[k][m] for m in ("min", "median", "mean", "p95", "max"))]
                for k in ("text", "target", "example")
            ],
        ),
        "### Duplicates and hold-out",
        table(
            ["what", "count"],
            [
                ["exact duplicates removed", report["exact_duplicates_removed"]],
                [
                    f"near duplicates removed (word-{near.get('shingle_words', '-')}-gram Jaccard >= "
                    f"{near.get('threshold', '-')})",
                    report["near_duplicates_removed"],
                ],
                ["examples of golden patients held out of every split", report["held_out_golden_patient"]],
                ["patients moved to fill an empty split", len(report["moved_patients"])],
                ["patients in two splits", len(report["leaking_patient_keys"])],
                ["texts in two splits", report["leaking_texts"]],
                ["near-duplicate pairs across splits", report["near_duplicate_pairs_across_splits"]],
            ],
        ),
    ]
    return "\n\n".join(parts)
