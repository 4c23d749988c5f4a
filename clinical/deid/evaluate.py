"""Score a PHI detector against annotated notes, token by token; convert corpora to that format.

    clinical deid eval --input ANNOTATED.jsonl        # prints one JSON object (see `score`)
    python -m clinical.deid.evaluate demo LANDING.jsonl PHI.jsonl OUT.jsonl
    python -m clinical.deid.evaluate presidio ../shared/data/presidio_synth/synth_dataset_v2.json OUT.jsonl
    python -m clinical.deid.evaluate presidio-heldout ../shared/data/presidio_synth/synth_dataset_v2.json OUT.jsonl

Annotated lines are `{"id": str, "text": str, "spans": [{"start", "end", "type"}]}` (character
offsets, end exclusive). A token is a run of letters or digits; a gold token lies in a gold span, a
predicted token in a detected span. Recall and precision count tokens over the whole corpus; F2
weighs recall four times as much as precision (a leak costs more than an over-redaction). A gold
span is missed when any of its tokens is not redacted (a partial leak is a leak). Spans of types in
IGNORED_TYPES (e.g. countries, organisations in the presidio set) are not scored either way. Titles and
credentials inside gold name spans ("Dr.", "MD") count as gold tokens; `missed_title_tokens` says how
many of the missed tokens they are, and `recall_without_titles` leaves them out (the policy keeps them:
they identify nobody, and real clinical gold sets such as PhysioNet's leave them out of name spans).

`clinical_meaning_redacted` measures the other side on brat corpora: the share of Medication,
Disease_disorder and Lab_value tokens that a detector would redact.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

TOKEN = re.compile(r"[^\W_]+")
IGNORED_TYPES = frozenset({"ORGANIZATION", "TITLE", "NRP", "GPE", "AGE", "IGNORE"})
"""Gold types that are not Safe-Harbor identifiers as labelled (countries and states sit in GPE)."""

PRESIDIO_SYNTH_TYPES = {
    "PERSON": "NAME",
    "STREET_ADDRESS": "ADDRESS",
    "ZIP_CODE": "ZIP",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP",
    "DOMAIN_NAME": "URL",
    "CREDIT_CARD": "ACCOUNT",
    "IBAN_CODE": "ACCOUNT",
    "US_DRIVER_LICENSE": "LICENSE",
    "DATE_TIME": "DATE",
}
"""presidio-research type -> our gold type; other types are kept as IGNORE."""

# A bare year or weekday is not an identifier under Safe Harbor: only dates with a day or month count.
_DAY_LEVEL_DATE = re.compile(r"\d+\s*[/.-]\s*\d+|[A-Za-z]{3,}\.?\s+\d|\d\s+[A-Za-z]{3,}")
MEANING_TYPES = ("Medication", "Disease_disorder", "Lab_value")

TITLE_AND_CREDENTIAL_WORDS = frozenset(
    """dr mr mrs ms miss mx prof rev fr sir dame md do rn np pa phd dds dmd lpn lvn cna rt rrt bsn msn aprn fnp crna
    dnp pharmd mbbs jr sr ii iii""".split()
)
"""Tokens that some gold sets put inside a name span ("Mrs. Kathrine Filemonsen DDS") although a title or a
credential identifies nobody: `score` reports how many of the missed tokens are of this kind."""


class AnnotatedFileError(ValueError):
    """A line of an annotated file that cannot be used; the message names the file and line only."""


def read_annotated(path: str | Path) -> list[dict[str, Any]]:
    """Annotated records from JSONL; raises AnnotatedFileError naming the line (never its text).

    :param path: JSONL file of `{"id", "text", "spans"}` lines.
    """
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotatedFileError(f"{path}: cannot read as UTF-8 text ({type(exc).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text, spans = record["text"], record["spans"]
            ok = isinstance(record["id"], str) and isinstance(text, str) and isinstance(spans, list)
            ok = ok and all(0 <= int(s["start"]) < int(s["end"]) <= len(text) and str(s["type"]) for s in spans)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise AnnotatedFileError(f"{path}:{number}: expected {{id: str, text: str, spans: [{{start, end, type}}]}}")
        records.append(record)
    return records


def _covered(tokens: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int]]) -> list[bool]:
    spans = sorted(spans)
    return [any(s < end and start < e for s, e in spans) for start, end in tokens]


def score(records: Sequence[dict[str, Any]], predicted: Sequence[Sequence[tuple[int, int]]]) -> dict[str, Any]:
    """Token-level recall, precision, F2, per-type recall and the ids of notes with a missed span.

    :param records: annotated records (`read_annotated`).
    :param predicted: for each record, the (start, end) offsets the detector found.
    """
    gold_n = pred_n = hit_n = 0
    by_type: Counter = Counter()
    by_type_hit: Counter = Counter()
    missed_ids, missed_spans, gold_spans = [], 0, 0
    missed_titles = 0
    for record, spans in zip(records, predicted, strict=True):
        text = record["text"]
        tokens = [m.span() for m in TOKEN.finditer(text)]
        ignored = [(s["start"], s["end"]) for s in record["spans"] if s["type"] in IGNORED_TYPES]
        gold = [s for s in record["spans"] if s["type"] not in IGNORED_TYPES]
        in_pred = _covered(tokens, spans)
        in_ignored = _covered(tokens, ignored)
        gold_types: list[str | None] = [None] * len(tokens)
        note_missed = False
        for g in gold:
            gold_spans += 1
            span_missed = False
            for i, (start, end) in enumerate(tokens):
                if start < g["end"] and g["start"] < end:
                    gold_types[i] = g["type"]
                    span_missed = span_missed or not in_pred[i]
            missed_spans += span_missed
            note_missed = note_missed or span_missed
        for i in range(len(tokens)):
            if gold_types[i] is not None:
                gold_n += 1
                by_type[gold_types[i]] += 1
                if in_pred[i]:
                    hit_n += 1
                    by_type_hit[gold_types[i]] += 1
                elif gold_types[i] == "NAME" and text[slice(*tokens[i])].lower() in TITLE_AND_CREDENTIAL_WORDS:
                    missed_titles += 1
            if in_pred[i] and (gold_types[i] is not None or not in_ignored[i]):
                pred_n += 1
        if note_missed:
            missed_ids.append(record["id"])
    recall = hit_n / gold_n if gold_n else 1.0
    precision = hit_n / pred_n if pred_n else 1.0
    f2 = 5 * precision * recall / (4 * precision + recall) if precision + recall else 0.0
    return {
        "notes": len(records),
        "gold_spans": gold_spans,
        "missed_spans": missed_spans,
        "gold_tokens": gold_n,
        "predicted_tokens": pred_n,
        "matched_tokens": hit_n,
        "recall": round(recall, 4),
        "precision": round(precision, 4),
        "f2": round(f2, 4),
        # Recall with the titles and credentials inside gold name spans left out of the count (both ways).
        "recall_without_titles": round(hit_n / (gold_n - missed_titles), 4) if gold_n > missed_titles else 1.0,
        "missed_title_tokens": missed_titles,
        "recall_by_type": {t: round(by_type_hit[t] / n, 4) for t, n in sorted(by_type.items())},
        "gold_tokens_by_type": dict(sorted(by_type.items())),
        "notes_with_missed_span": missed_ids,
    }


def evaluate_detector(records: Sequence[dict[str, Any]], detect_many: Callable | None = None) -> dict[str, Any]:
    """`score` of a detector (default: the pipeline's Safe-Harbor policy) on annotated records.

    :param records: annotated records.
    :param detect_many: texts -> list of span lists with .start/.end; None for the pipeline's policy.
    """
    if detect_many is None:
        from clinical.deid.engine import get_deidentifier

        detect_many = get_deidentifier().detect_many
    found = detect_many([r["text"] for r in records])
    return score(records, [[(s.start, s.end) for s in spans] for spans in found])


def from_demo_truth(landing: str | Path, phi: str | Path) -> list[dict[str, Any]]:
    """Annotated records from a demo batch (clinical.demo_batch): its landing JSONL and `<batch>.phi.jsonl`.

    :param landing: the batch's JSONL landing file.
    :param phi: the truth file written beside it.
    """
    truth = {row["record_id"]: row["spans"] for row in map(json.loads, Path(phi).read_text().splitlines())}
    out = []
    for row in map(json.loads, Path(landing).read_text(encoding="utf-8").splitlines()):
        spans = [{"start": s["start"], "end": s["end"], "type": s["type"]} for s in truth.get(row["record_id"], [])]
        out.append({"id": row["record_id"], "text": row["text"], "spans": spans})
    return out


def from_presidio_synth(path: str | Path) -> list[dict[str, Any]]:
    """Annotated records from presidio-research's synthetic set (`synth_dataset_v2.json`).

    Types map through PRESIDIO_SYNTH_TYPES; dates without a day or month (a bare year, a weekday)
    and every other type become IGNORE (not scored).

    :param path: the JSON file.
    """
    out = []
    for i, record in enumerate(json.loads(Path(path).read_text(encoding="utf-8"))):
        spans = []
        for s in record["spans"]:
            kind = PRESIDIO_SYNTH_TYPES.get(s["entity_type"], "IGNORE")
            if kind == "DATE" and not _DAY_LEVEL_DATE.search(s["entity_value"]):
                kind = "IGNORE"
            spans.append({"start": s["start_position"], "end": s["end_position"], "type": kind})
        out.append(
            {"id": f"synth-{i:04d}", "text": record["full_text"], "spans": spans, "template_id": record["template_id"]}
        )
    return out


HELD_OUT_EVERY = 5
"""presidio_synth templates with template_id % HELD_OUT_EVERY == 0 (42 of 209) are held out: the
recognizers were developed looking only at the failures on the other templates."""


def split_presidio_synth(records: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(development, held-out) parts of `from_presidio_synth` records, split by template.

    :param records: records with a "template_id".
    """
    dev = [r for r in records if r["template_id"] % HELD_OUT_EVERY != 0]
    held = [r for r in records if r["template_id"] % HELD_OUT_EVERY == 0]
    return dev, held


def read_brat_types(directory: str | Path, types: Sequence[str] = MEANING_TYPES) -> list[dict[str, Any]]:
    """`{"id", "text", "spans"}` records of a brat corpus with only the text-bound spans of `types`.

    :param directory: folder of NAME.txt + NAME.ann.
    :param types: brat entity types to keep.
    """
    out = []
    for txt in sorted(Path(directory).glob("*.txt")):
        ann = txt.with_suffix(".ann")
        spans = []
        for line in ann.read_text(encoding="utf-8").splitlines() if ann.exists() else []:
            fields = line.split("\t")
            if not line.startswith("T") or len(fields) < 2:
                continue
            kind, _, offsets = fields[1].partition(" ")
            if kind in types:
                for fragment in offsets.split(";"):
                    start, end = (int(x) for x in fragment.split())
                    spans.append({"start": start, "end": end, "type": kind})
        out.append({"id": txt.stem, "text": txt.read_text(encoding="utf-8"), "spans": spans})
    return out


def clinical_meaning_redacted(
    records: Sequence[dict[str, Any]], predicted: Sequence[Sequence[tuple[int, int]]]
) -> dict[str, Any]:
    """Share of clinical tokens (by type and overall) that fall inside a detected span.

    :param records: records from `read_brat_types`.
    :param predicted: for each record, the (start, end) offsets the detector found.
    """
    result = score(records, predicted)
    total = result["gold_tokens"]
    redacted = result["matched_tokens"]
    return {
        "tokens": total,
        "redacted_tokens": redacted,
        "redacted_share": round(redacted / total, 4) if total else 0.0,
        "redacted_share_by_type": result["recall_by_type"],
        "tokens_by_type": result["gold_tokens_by_type"],
    }


def _write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """`demo LANDING PHI OUT`, `presidio SYNTH_JSON OUT`, `presidio-dev SYNTH_JSON OUT` or
    `presidio-heldout SYNTH_JSON OUT`: write annotated JSONL for `clinical deid eval`."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 4 and args[0] == "demo":
        _write_jsonl(args[3], from_demo_truth(args[1], args[2]))
    elif len(args) == 3 and args[0] == "presidio":
        _write_jsonl(args[2], from_presidio_synth(args[1]))
    elif len(args) == 3 and args[0] in ("presidio-dev", "presidio-heldout"):
        dev, held = split_presidio_synth(from_presidio_synth(args[1]))
        _write_jsonl(args[2], dev if args[0] == "presidio-dev" else held)
    else:
        print(main.__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
