"""Read Label Studio JSON exports (the standard "JSON" export of a project) as clinical entities.

An export is a list of tasks:
`{"id", "data": {"text", "note_type"?, "patient_key"?, "guideline_version"?}, "annotations": [...]}`.
Each annotation has `id`, `completed_by` (a user id, or an object with `id`), `created_at`,
`updated_at`, `was_cancelled`, `ground_truth` and `result`, a list of items:
- regions: `{"id", "from_name", "to_name", "type": "labels", "value": {"start", "end", "text", "labels"}}`;
- per-region attributes: `{"id": <region id>, "type": "choices", "value": {"choices": [...]}}`
  (a Choices tag with `perRegion="true"`, e.g. assertion = Present/Negated/Uncertain);
- relations: `{"type": "relation", "from_id", "to_id", "labels"?}`.
docs/DATA.md shows the labelling config this expects (docs/labelstudio_config.xml).

Mapping: region labels are the brat/MACCROBAT type names and go through exactly the brat mapping
(clinical.brat.entities_from_spans): Medication with Dosage/Administration/Frequency attached through
relations as dose/route/frequency; Lab_value with the Diagnostic_procedure it is related to as
`test` and value/unit; Disease_disorder/Sign_symptom -> condition; Diagnostic/Therapeutic_procedure
-> procedure. Lower-case short names are accepted as aliases (LABEL_ALIASES: "medication", "dose",
"route", "frequency", "condition", "symptom", "procedure", "lab_test", "lab_value"). Any relation
(whatever its label) links its two regions, as MODIFY does in brat.
Negation: a region is negated when a per-region choice or one of its own labels is in NEGATION_VALUES
("Negated", "NEG", "Absent", any case); other assertion values (Uncertain, Present) are not negation.

Every annotation keeps its annotator (`ls_user:<id>`, never a name or e-mail), its timestamp
(updated_at, else created_at) and a guideline version (task `data.guideline_version`, else the
reader's default). Cancelled annotations are skipped. Bad input never loses valid work: an export
that is not JSON or not a list of tasks, or an empty one, raises LabelStudioFormatError naming the
file (and the JSON line); a task without text, a region with offsets outside the text or an unknown
label is listed in `errors` (file, task, annotation, result item, reason) and the rest is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinical.brat import BRAT_KNOWN_TYPES, BRAT_TYPE_MAP, MEDICATION_ATTRIBUTES, Span, entities_from_spans
from clinical.ids import sha256_file

EXPORT_SUFFIX = ".json"
NEGATION_VALUES = frozenset({"negated", "neg", "absent", "negative"})
LABEL_ALIASES: dict[str, str] = {
    "medication": "Medication",
    "dose": "Dosage",
    "dosage": "Dosage",
    "route": "Administration",
    "frequency": "Frequency",
    "condition": "Disease_disorder",
    "disease": "Disease_disorder",
    "symptom": "Sign_symptom",
    "procedure": "Therapeutic_procedure",
    "lab_test": "Diagnostic_procedure",
    "test": "Diagnostic_procedure",
    "lab_value": "Lab_value",
}
# Labels that matter for the four targets; other MACCROBAT types are accepted and ignored.
USED_TYPES = frozenset(BRAT_TYPE_MAP) | frozenset(MEDICATION_ATTRIBUTES)


class LabelStudioFormatError(ValueError):
    """An export that cannot be read, or one bad task/region in it (`path`, `task`, `where` say where)."""

    def __init__(self, path: str | Path, reason: str, task: int | None = None, where: str = ""):
        self.path = str(path)
        self.task = task
        self.where = where
        self.reason = reason
        location = self.path
        if task is not None:
            location += f": task {task}"
        if where:
            location += f" {where}"
        super().__init__(f"{location}: {reason}")


@dataclass
class LabelStudioAnnotation:
    """One completed annotation of one task.

    task_id/annotation_id: Label Studio's ids; text: the task text; entities: as from brat;
    annotator: `ls_user:<id>`; annotated_at: ISO timestamp; ground_truth: Label Studio's flag;
    note_type/patient_key: from the task data when given; guideline_version: from the task data or
    the reader's default.
    """

    task_id: int | str
    annotation_id: int | str
    project: int | str | None
    text: str
    entities: list[dict[str, Any]]
    annotator: str
    annotated_at: str
    guideline_version: str
    ground_truth: bool = False
    note_type: str | None = None
    patient_key: str | None = None


@dataclass
class LabelStudioExport:
    """What one export file held: annotations kept, and every problem met (the rest still imports)."""

    path: Path
    sha256: str
    annotations: list[LabelStudioAnnotation] = field(default_factory=list)
    errors: list[LabelStudioFormatError] = field(default_factory=list)
    cancelled: int = 0


def find_exports(folder: str | Path) -> list[Path]:
    """Label Studio export files (`*.json`) directly in `folder`, sorted by name."""
    root = Path(folder)
    return sorted(root.glob(f"*{EXPORT_SUFFIX}")) if root.is_dir() else []


def read_export(path: str | Path, guideline_version: str = "unversioned") -> LabelStudioExport:
    """Parse one export; raises LabelStudioFormatError only when nothing in the file is usable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelStudioFormatError(path, "file not found") from None
    try:
        tasks = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise LabelStudioFormatError(path, f"not UTF-8 (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise LabelStudioFormatError(path, f"not JSON (line {error.lineno}, column {error.colno})") from None
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise LabelStudioFormatError(path, f"an export must be a JSON list of tasks, got {type(tasks).__name__}")
    if not tasks:
        raise LabelStudioFormatError(path, "empty export: no tasks")
    out = LabelStudioExport(path=path, sha256=sha256_file(path))
    for index, task in enumerate(tasks, start=1):
        try:
            out.annotations += _read_task(path, index, task, guideline_version, out)
        except LabelStudioFormatError as error:
            out.errors.append(error)
    return out


def _read_task(path: Path, index: int, task: Any, default_guideline: str, out: LabelStudioExport):
    if not isinstance(task, dict):
        raise LabelStudioFormatError(path, f"task must be an object, got {type(task).__name__}", index)
    task_id = task.get("id", index)

    def fail(reason: str, where: str = "") -> LabelStudioFormatError:
        return LabelStudioFormatError(path, reason, index, f"(id {task_id}) {where}".strip())

    data = task.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("text"), str) or not data["text"].strip():
        raise fail("task needs data.text, a non-empty string")
    text = data["text"]
    annotations = task.get("annotations")
    if not isinstance(annotations, list):
        raise fail("task needs 'annotations', a list")
    guideline = str(data.get("guideline_version") or default_guideline)
    note_type = data.get("note_type") if isinstance(data.get("note_type"), str) else None
    patient_key = data.get("patient_key") if isinstance(data.get("patient_key"), str) else None
    kept = []
    for a_index, annotation in enumerate(annotations, start=1):
        where = f"annotation {a_index}"
        if not isinstance(annotation, dict) or not isinstance(annotation.get("result"), list):
            out.errors.append(fail("annotation needs 'result', a list", where))
            continue
        if annotation.get("was_cancelled"):
            out.cancelled += 1
            continue

        def refuse(reason: str, item: int | str, where: str = where) -> None:
            out.errors.append(fail(reason, f"{where} result {item}"))

        entities = _read_result(text, annotation["result"], refuse)
        kept.append(
            LabelStudioAnnotation(
                task_id=task_id,
                annotation_id=annotation.get("id", a_index),
                project=task.get("project"),
                text=text,
                entities=entities,
                annotator=_annotator(annotation.get("completed_by")),
                annotated_at=str(annotation.get("updated_at") or annotation.get("created_at") or ""),
                guideline_version=guideline,
                ground_truth=bool(annotation.get("ground_truth")),
                note_type=note_type,
                patient_key=patient_key,
            )
        )
    return kept


def _annotator(completed_by: Any) -> str:
    # Only the numeric user id: exports may carry e-mail addresses, which stay out of the warehouse.
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("id")
    return f"ls_user:{completed_by}" if isinstance(completed_by, int | str) and completed_by != "" else "unknown"


def canonical_label(label: str) -> str | None:
    """The MACCROBAT type name of a region label, or None when it is not one we know."""
    if label in BRAT_KNOWN_TYPES:
        return label
    return LABEL_ALIASES.get(label.strip().lower().replace(" ", "_"))


def _read_result(text: str, result: list[Any], fail) -> list[dict[str, Any]]:
    spans: list[Span] = []
    negated: set[str] = set()
    links: list[tuple[int, str, str]] = []
    region_ids: set[str] = set()
    attributes: list[tuple[int, str, list[str]]] = []
    for number, item in enumerate(result, start=1):
        if not isinstance(item, dict):
            fail("result item must be an object", number)
            continue
        kind = item.get("type")
        if kind == "relation":
            if not all(isinstance(item.get(k), str) for k in ("from_id", "to_id")):
                fail("relation needs 'from_id' and 'to_id'", number)
                continue
            links.append((number, item["from_id"], item["to_id"]))
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            fail(f"result item of type {kind!r} needs 'value', an object", number)
            continue
        region_id = str(item.get("id") or f"r{number}")
        if kind in ("choices", "taxonomy"):
            choices = value.get("choices") or []
            attributes.append((number, region_id, [c for c in choices if isinstance(c, str)]))
            continue
        if kind not in ("labels", "hypertextlabels"):
            continue  # other control tags (ratings, text areas) carry nothing for the entities
        span = _region(text, region_id, value, number, fail)
        if span is None:
            continue
        label_values = [str(v) for v in value.get("labels") or []]
        if any(v.strip().lower() in NEGATION_VALUES for v in label_values):
            negated.add(region_id)
        spans.append(span)
        region_ids.add(region_id)
    for _number, region_id, choices in attributes:
        if region_id not in region_ids:
            continue  # a document-level choice (no region), e.g. note quality
        if any(c.strip().lower() in NEGATION_VALUES for c in choices):
            negated.add(region_id)
    good_links = []
    for number, a, b in links:
        if a in region_ids and b in region_ids:
            good_links.append((a, b))
        else:
            fail(f"relation refers to unknown region {(a if a not in region_ids else b)!r}", number)
    return entities_from_spans(text, spans, good_links, negated)


def _region(text: str, region_id: str, value: dict[str, Any], number: int, fail) -> Span | None:
    start, end = value.get("start"), value.get("end")
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool):
        fail("region needs integer 'start' and 'end'", number)
        return None
    if not 0 <= start < end <= len(text):
        fail(f"offsets {start}-{end} outside the text (length {len(text)})", number)
        return None
    labels = [str(v) for v in value.get("labels") or []]
    types = [canonical_label(v) for v in labels if v.strip().lower() not in NEGATION_VALUES]
    if not labels or not types:
        fail("region has no label", number)
        return None
    if None in types:
        unknown = [v for v in labels if v.strip().lower() not in NEGATION_VALUES and canonical_label(v) is None]
        fail(f"unknown label {unknown[0]!r} (expected a MACCROBAT type such as Medication, or an alias)", number)
        return None
    given = value.get("text")
    if isinstance(given, str) and given.split() != text[start:end].split():
        fail(f"region text does not match the task text at {start}-{end}", number)
        return None
    used = [t for t in types if t in USED_TYPES] or types
    return Span(region_id, used[0], start, end, [(start, end)], text[start:end])
