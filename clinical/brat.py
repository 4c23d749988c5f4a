"""Read brat standoff annotations (MACCROBAT2020 style) as clinical entities.

A document is `NAME.txt` plus `NAME.ann`. Lines of the .ann file:
`T` text-bound spans (`T1<TAB>Type 10 20;25 30<TAB>text`), `E` events whose trigger is a T,
`R` relations (`R1<TAB>MODIFY Arg1:T5 Arg2:E4`), `A`/`M` attributes (`A1<TAB>POLARITY E3 NEG`);
`*` equivalences, `#` notes and `N` normalisations are ignored.

Mapping to clinical.schema.ENTITY_TYPES (BRAT_TYPE_MAP); other types are ignored:
- medication: Medication, with `dose`/`route`/`frequency` from Dosage/Administration/Frequency
  spans linked to it by a MODIFY relation (either direction, through events) or as event arguments.
- condition: Disease_disorder, Sign_symptom.
- procedure: Diagnostic_procedure, Therapeutic_procedure.
- lab_value: Lab_value. In MACCROBAT the Lab_value span is only the result ("elevated",
  "3.55 kPa"); the test it belongs to is a Diagnostic_procedure linked by MODIFY. (A Lab_value
  that modifies a Sign_symptom, "moderate" regurgitation, leaves the condition as it is.)
  When the nearest linked test is adjacent (LAB_JOIN_GAP: at most a few words such as " was ",
  " of ", ": ", no digits, brackets or sentence break between), the entity text is the joined span
  ("serum potassium was 2.9 mmol/L") and that test is not emitted again as a procedure. In every
  case the entity carries `test` (the linked test name, when there is one) and `value`/`unit`
  (a leading number is split from its unit: "3.55 kPa" -> "3.55", "kPa"; words stay whole).
Offsets: `start`/`end` are character offsets into the .txt (end exclusive) and always satisfy
`text[start:end] == entity["text"]`. A discontinuous span covers its first to its last fragment
(so its text includes the gap, e.g. "Hepatitis B and C") and keeps the pieces in `fragments`.
Negation: `negated: True` (only then present) when a POLARITY NEG attribute points at the entity's
event or span; other polarities (UNCERTAIN, MAYBE_NEG) are not negation.
Unknown labels: a text-bound type outside BRAT_KNOWN_TYPES (the 41 MACCROBAT2020 types) is a malformed
line (a typo such as "Medicaton" would otherwise silently drop the span).

`entities_from_spans` is the same mapping for spans that come from elsewhere (clinical.labelstudio).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clinical.ids import sha256_file
from clinical.schema import CONDITION, LAB_VALUE, MEDICATION, PROCEDURE

BRAT_TYPE_MAP: dict[str, str] = {
    "Medication": MEDICATION,
    "Disease_disorder": CONDITION,
    "Sign_symptom": CONDITION,
    "Diagnostic_procedure": PROCEDURE,
    "Therapeutic_procedure": PROCEDURE,
    "Lab_value": LAB_VALUE,
}
# The 41 entity types of MACCROBAT2020 (Caufield et al.); the ones not in BRAT_TYPE_MAP are read and ignored.
BRAT_KNOWN_TYPES: frozenset[str] = frozenset(
    {
        "Activity", "Administration", "Age", "Area", "Biological_attribute", "Biological_structure",
        "Clinical_event", "Color", "Coreference", "Date", "Detailed_description", "Diagnostic_procedure",
        "Disease_disorder", "Distance", "Dosage", "Duration", "Family_history", "Frequency", "Height",
        "History", "Lab_value", "Mass", "Medication", "Nonbiological_location", "Occupation",
        "Other_entity", "Other_event", "Outcome", "Personal_background", "Qualitative_concept",
        "Quantitative_concept", "Severity", "Sex", "Shape", "Sign_symptom", "Subject", "Texture",
        "Therapeutic_procedure", "Time", "Volume", "Weight",
    }
)  # fmt: skip
MEDICATION_ATTRIBUTES: dict[str, str] = {
    "Dosage": "dose",
    "Administration": "route",
    "Frequency": "frequency",
}
LAB_TEST_TYPES = ("Diagnostic_procedure",)
LAB_JOIN_GAP = re.compile(r"[^\d.;!?()\n]{0,16}")
_NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?"
_NUMBER_UNIT = re.compile(rf"^([<>≤≥~]?\s*{_NUMBER}(?:\s*/\s*{_NUMBER})?)\s*(\S.{{0,15}})?$")


class BratFormatError(ValueError):
    """A brat file that cannot be read, or one malformed line in it (`path`, `line` say where)."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


@dataclass
class BratDocument:
    """One annotated document.

    doc_id: the file stem; text: the .txt content; entities: clinical entities in text order;
    source_files: `{"path", "sha256"}` of the .txt and .ann; errors: the malformed lines that were
    skipped (only when read with strict=False); annotated_at: the .ann file's modification time
    (UTC, ISO 8601), the only annotation timestamp brat keeps.
    """

    doc_id: str
    text: str
    entities: list[dict[str, Any]]
    source_files: list[dict[str, str]]
    annotated_at: str = ""
    errors: list[BratFormatError] = field(default_factory=list)


class BratCorpus(list):
    """A list of BratDocument sorted by doc id, with `errors`: every BratFormatError met on the way."""

    def __init__(self, documents=(), errors=None):
        super().__init__(documents)
        self.errors: list[BratFormatError] = list(errors or [])


@dataclass
class Span:
    """A text-bound annotation: id, source type (a BRAT_KNOWN_TYPES name), offsets, its text."""

    tid: str
    btype: str
    start: int
    end: int
    fragments: list[tuple[int, int]]
    text: str


def entities_from_spans(
    text: str, spans: list[Span], links: list[tuple[str, str]], negated: set[str]
) -> list[dict[str, Any]]:
    """Clinical entities from source-typed spans, exactly as for a brat document.

    links: pairs of span ids joined by a relation (MODIFY in brat; any relation in Label Studio);
    negated: ids of negated spans. Returns entities in text order with `start`/`end` offsets.
    """
    by_id = {span.tid: span for span in spans}
    relations = [("MODIFY", a, b, 0) for a, b in links]
    return _build_entities(text, by_id, {}, relations, set(negated))


def read_brat_document(txt_path: str | Path, strict: bool = True) -> BratDocument:
    """Read `txt_path` and the .ann beside it.

    strict: raise BratFormatError on the first malformed line; with False, skip such lines and
    list them in `BratDocument.errors`. A missing .ann or undecodable file always raises.
    """
    txt_path = Path(txt_path)
    ann_path = txt_path.with_suffix(".ann")
    text = _read_utf8(txt_path)
    ann = _read_utf8(ann_path)
    errors: list[BratFormatError] = []

    def fail(line_no: int, reason: str) -> None:
        error = BratFormatError(ann_path, line_no, reason)
        if strict:
            raise error
        errors.append(error)

    spans, events, relations, negated_ids = _parse_ann(ann, text, fail)
    entities = _build_entities(text, spans, events, relations, negated_ids)
    return BratDocument(
        doc_id=txt_path.stem,
        text=text,
        entities=entities,
        source_files=[
            {"path": str(txt_path), "sha256": sha256_file(txt_path)},
            {"path": str(ann_path), "sha256": sha256_file(ann_path)},
        ],
        annotated_at=datetime.fromtimestamp(ann_path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds"),
        errors=errors,
    )


def read_brat_corpus(directory: str | Path) -> BratCorpus:
    """Read every `*.txt` with its .ann under `directory` (not recursive), sorted by doc id.

    Malformed lines are skipped and unreadable documents left out; all of them are listed in the
    returned corpus's `errors`, so one bad line never loses the rest of the corpus.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BratFormatError(directory, None, "not a directory")
    documents: list[BratDocument] = []
    errors: list[BratFormatError] = []
    for txt_path in sorted(directory.glob("*.txt"), key=lambda p: p.stem):
        try:
            document = read_brat_document(txt_path, strict=False)
        except BratFormatError as error:
            errors.append(error)
            continue
        documents.append(document)
        errors.extend(document.errors)
    return BratCorpus(documents, errors)


def _read_utf8(path: Path) -> str:
    try:
        # newline="" keeps "\r\n" as two characters, as brat counts offsets.
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        raise BratFormatError(path, None, "file not found") from None
    except UnicodeDecodeError as error:
        raise BratFormatError(path, None, f"not UTF-8 (byte {error.start})") from None


def _parse_ann(ann: str, text: str, fail):
    spans: dict[str, Span] = {}
    events: dict[str, str] = {}
    relations: list[tuple[str, str, str, int]] = []
    attributes: list[tuple[str, str, str]] = []
    for line_no, line in enumerate(ann.splitlines(), start=1):
        if not line.strip() or line[0] in "*#N":
            continue
        fields = line.split("\t")
        kind = line[0]
        try:
            if kind == "T":
                span = _parse_span(fields, text)
                spans[span.tid] = span
            elif kind == "E":
                parts = fields[1].split() if len(fields) > 1 else []
                if not parts or not all(":" in p for p in parts):
                    raise ValueError("event needs 'Type:Tn [Role:Id ...]'")
                events[fields[0]] = parts[0].split(":", 1)[1]
                # Event arguments (e.g. "Dose:T6") link to the trigger like a MODIFY relation.
                relations.extend(("MODIFY", fields[0], p.split(":", 1)[1], line_no) for p in parts[1:])
            elif kind == "R":
                parts = fields[1].split() if len(fields) > 1 else []
                if len(parts) < 3 or not all(":" in p for p in parts[1:3]):
                    raise ValueError("relation needs 'Type Arg1:X Arg2:Y'")
                relations.append((parts[0], parts[1].split(":", 1)[1], parts[2].split(":", 1)[1], line_no))
            elif kind in "AM":
                parts = fields[1].split() if len(fields) > 1 else []
                if len(parts) < 2:
                    raise ValueError("attribute needs 'Name Target [Value]'")
                attributes.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
            else:
                raise ValueError(f"unknown annotation id {fields[0]!r}")
        except ValueError as error:
            fail(line_no, str(error))
    for _, arg1, arg2, line_no in relations:
        for arg in (arg1, arg2):
            if _trigger(arg, events) not in spans:
                fail(line_no, f"relation refers to unknown annotation {arg!r}")
    negated_ids = {target for name, target, value in attributes if name == "POLARITY" and value == "NEG"}
    negated_spans = {_trigger(t, events) for t in negated_ids}
    return spans, events, relations, negated_spans


def _parse_span(fields: list[str], text: str) -> Span:
    if len(fields) < 3:
        raise ValueError("text-bound annotation needs 3 tab-separated fields")
    head = fields[1].split(" ", 1)
    if len(head) != 2:
        raise ValueError("text-bound annotation needs 'Type start end'")
    btype, offsets = head
    if btype not in BRAT_KNOWN_TYPES:
        raise ValueError(f"unknown label {btype!r} (not a MACCROBAT2020 entity type)")
    fragments = []
    for piece in offsets.split(";"):
        bounds = piece.split()
        if len(bounds) != 2 or not all(b.isdigit() for b in bounds):
            raise ValueError(f"bad offsets {offsets!r}")
        start, end = int(bounds[0]), int(bounds[1])
        if not 0 <= start < end <= len(text):
            raise ValueError(f"offsets {start}-{end} outside the text (length {len(text)})")
        fragments.append((start, end))
    fragments.sort()
    annotated = fields[2]
    joined = " ".join(text[s:e] for s, e in fragments)
    if joined.split() != annotated.split():
        raise ValueError(f"span text does not match the document at {offsets}")  # no note text in errors
    return Span(fields[0], btype, fragments[0][0], fragments[-1][1], fragments, annotated)


def _trigger(ann_id: str, events: dict[str, str]) -> str:
    return events.get(ann_id, ann_id)


def _build_entities(text, spans, events, relations, negated_spans) -> list[dict[str, Any]]:
    linked: dict[str, list[str]] = {}
    for rtype, arg1, arg2, _ in relations:
        if rtype != "MODIFY":
            continue
        a, b = _trigger(arg1, events), _trigger(arg2, events)
        if a in spans and b in spans:
            linked.setdefault(a, []).append(b)
            linked.setdefault(b, []).append(a)

    entities: list[dict[str, Any]] = []
    joined_tests: set[str] = set()
    for span in spans.values():
        if span.btype != "Lab_value":
            continue
        tests = [spans[t] for t in linked.get(span.tid, []) if spans[t].btype in LAB_TEST_TYPES]
        entity = _lab_entity(text, span, tests, joined_tests)
        if span.tid in negated_spans:
            entity["negated"] = True
        entities.append(entity)

    for span in spans.values():
        etype = BRAT_TYPE_MAP.get(span.btype)
        if etype is None or etype == LAB_VALUE or span.tid in joined_tests:
            continue
        entity = _entity(text, etype, span.start, span.end, span)
        if span.tid in negated_spans:
            entity["negated"] = True
        if etype == MEDICATION:
            for other in sorted(linked.get(span.tid, []), key=lambda t: spans[t].start):
                key = MEDICATION_ATTRIBUTES.get(spans[other].btype)
                if key and key not in entity:
                    entity[key] = spans[other].text
        entities.append(entity)
    entities.sort(key=lambda e: (e["start"], e["end"], e["type"]))
    return entities


def _entity(text: str, etype: str, start: int, end: int, span: Span) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": etype, "text": text[start:end], "start": start, "end": end}
    if len(span.fragments) > 1:
        entity["fragments"] = [list(f) for f in span.fragments]
    return entity


def _lab_entity(text: str, value: Span, tests: list[Span], joined_tests: set[str]) -> dict[str, Any]:
    def gap(test: Span) -> str:
        return text[test.end : value.start] if test.end <= value.start else text[value.end : test.start]

    def distance(test: Span) -> int:
        return max(test.start - value.end, value.start - test.end)

    entity = _entity(text, LAB_VALUE, value.start, value.end, value)
    adjacent = [t for t in tests if distance(t) >= 0 and LAB_JOIN_GAP.fullmatch(gap(t))]
    if adjacent:
        test = min(adjacent, key=lambda t: (distance(t), t.start))
        start, end = min(test.start, value.start), max(test.end, value.end)
        entity = _entity(text, LAB_VALUE, start, end, value)
        entity.pop("fragments", None)
        joined_tests.add(test.tid)
        entity["test"] = test.text
    elif tests:
        entity["test"] = min(tests, key=lambda t: (abs(distance(t)), t.start)).text
    entity.update(split_value_unit(value.text))
    return entity


def split_value_unit(value: str) -> dict[str, str]:
    """Split a lab result into `value` and `unit` when it starts with a number ("12 mg/dL").

    Word results ("elevated", "negative") come back whole as `value`.
    """
    value = value.strip()
    match = _NUMBER_UNIT.match(value)
    if match and match.group(2):
        return {"value": match.group(1), "unit": match.group(2).strip()}
    return {"value": value}
