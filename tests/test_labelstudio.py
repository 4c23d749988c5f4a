import copy
import json
from pathlib import Path

import pytest

from clinical.labelstudio import LabelStudioFormatError, canonical_label, find_exports, read_export
from clinical.schema import normalize_entity

FIXTURE = Path(__file__).parent / "fixtures" / "labelstudio_export.json"
TASKS = json.loads(FIXTURE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, tasks, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(tasks if isinstance(tasks, str) else json.dumps(tasks), encoding="utf-8")
    return path


def _by_text(annotation) -> dict:
    return {e["text"]: e for e in annotation.entities}


def test_fixture_maps_types_relations_and_negation_like_brat():
    export = read_export(FIXTURE, guideline_version="site-default")
    assert export.errors == [] and export.cancelled == 1 and len(export.annotations) == 3
    first, second, discharge = export.annotations
    for annotation in export.annotations:
        for entity in annotation.entities:
            assert annotation.text[entity["start"] : entity["end"]] == entity["text"]
            normalize_entity(entity)
    entities = _by_text(first)
    assert (first.annotator, first.annotated_at, first.guideline_version) == (
        "ls_user:11",
        "2026-10-02T09:20:31.000000Z",
        "clin-ner-v1.2",
    )
    assert first.ground_truth and first.note_type == "progress_note"
    assert entities["chest pain"]["negated"] is True and "negated" not in entities["headache"]
    med = entities["lisinopril"]
    assert (med["type"], med["dose"], med["route"], med["frequency"]) == ("medication", "10 mg", "PO", "daily")
    lab = entities["Serum sodium was 131 mmol/L"]
    assert (lab["type"], lab["test"], lab["value"], lab["unit"]) == ("lab_value", "Serum sodium", "131", "mmol/L")
    assert entities["hypertension"]["type"] == "condition"
    assert second.annotator == "ls_user:12" and "annotator-b" not in json.dumps(second.__dict__)
    assert "Follow-up visit" not in _by_text(second)  # Clinical_event: a known type outside the four targets
    assert discharge.guideline_version == "site-default"  # no guideline in the task data
    entities = _by_text(discharge)
    assert entities["fever"]["negated"] is True  # negation as a second label of the region
    assert entities["ceftriaxone"]["route"] == "IV" and entities["Chest X-ray"]["type"] == "procedure"


def test_bad_regions_are_named_and_the_rest_is_kept(tmp_path):
    tasks = copy.deepcopy(TASKS)
    result = tasks[0]["annotations"][0]["result"]
    result.append({"id": "zz", "type": "labels", "value": {"start": 5, "end": 9000, "labels": ["Medication"]}})
    result.append({"id": "yy", "type": "labels", "value": {"start": 0, "end": 5, "labels": ["Medicaton"]}})
    result.append({"type": "relation", "from_id": "c", "to_id": "nowhere"})
    tasks.append({"id": 103, "data": {"note": "no text field"}, "annotations": []})
    export = read_export(_write(tmp_path, tasks))
    messages = [str(e) for e in export.errors]
    assert len(messages) == 4
    assert any("task 1 (id 101) annotation 1 result 15: offsets 5-9000 outside the text" in m for m in messages)
    assert any("result 16: unknown label 'Medicaton'" in m for m in messages)
    assert any("relation refers to unknown region 'nowhere'" in m for m in messages)
    assert any("task 3 (id 103): task needs data.text" in m for m in messages)
    assert all(m.startswith(str(tmp_path / "export.json")) for m in messages)
    assert len(export.annotations) == 3
    assert _by_text(export.annotations[0]) == _by_text(read_export(FIXTURE).annotations[0])


@pytest.mark.parametrize(
    "content, reason",
    [
        ("[]", "empty export: no tasks"),
        ('{"tasks": []}', "must be a JSON list of tasks"),
        ('[{"id": 1,\n "data": ', r"not JSON \(line 2"),
    ],
)
def test_unusable_exports_raise_one_clear_error(tmp_path, content, reason):
    with pytest.raises(LabelStudioFormatError, match=reason) as info:
        read_export(_write(tmp_path, content))
    assert str(info.value).startswith(str(tmp_path / "export.json"))


def test_non_utf8_and_missing_files(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes('[{"data": {"text": "caf\xe9"}}]'.encode("latin-1"))
    with pytest.raises(LabelStudioFormatError, match="not UTF-8"):
        read_export(path)
    with pytest.raises(LabelStudioFormatError, match="file not found"):
        read_export(tmp_path / "absent.json")


def test_region_text_must_match_and_aliases_are_accepted(tmp_path):
    text = "Aspirin 81 mg daily. No rash."
    result = [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 7, "text": "Aspirin", "labels": ["medication"]}},
        {"id": "b", "type": "labels", "value": {"start": 8, "end": 13, "text": "81 mg", "labels": ["dose"]}},
        {"id": "c", "type": "labels", "value": {"start": 24, "end": 28, "text": "rash", "labels": ["symptom"]}},
        {"id": "c", "type": "choices", "value": {"start": 24, "end": 28, "choices": ["NEG"]}},
        {"id": "d", "type": "labels", "value": {"start": 14, "end": 19, "text": "wrong", "labels": ["Frequency"]}},
        {"type": "relation", "from_id": "b", "to_id": "a"},
    ]
    export = read_export(_write(tmp_path, [{"id": 5, "data": {"text": text}, "annotations": [{"result": result}]}]))
    (error,) = export.errors
    assert "result 5: region text does not match" in str(error) and "wrong" not in str(error)
    (annotation,) = export.annotations
    assert annotation.annotator == "unknown" and annotation.guideline_version == "unversioned"
    assert annotation.entities == [
        {"type": "medication", "text": "Aspirin", "start": 0, "end": 7, "dose": "81 mg"},
        {"type": "condition", "text": "rash", "start": 24, "end": 28, "negated": True},
    ]
    assert canonical_label("Lab test") == "Diagnostic_procedure" and canonical_label("Wart") is None


def test_find_exports_lists_json_files_only(tmp_path):
    _write(tmp_path, TASKS, "b.json")
    _write(tmp_path, TASKS, "a.json")
    (tmp_path / "labels.entities.jsonl").write_text("", encoding="utf-8")
    assert [p.name for p in find_exports(tmp_path)] == ["a.json", "b.json"]
    assert find_exports(tmp_path / "absent") == []


def test_shipped_labelling_config_matches_the_importer():
    import xml.etree.ElementTree as ET

    from clinical.labelstudio import NEGATION_VALUES, USED_TYPES

    root = ET.parse(Path(__file__).parents[1] / "docs" / "labelstudio_config.xml").getroot()
    labels = {label.get("value") for label in root.iter("Label")}
    assert labels == set(USED_TYPES) and all(canonical_label(v) == v for v in labels)
    (choices,) = [c for c in root.iter("Choices") if c.get("perRegion") == "true"]
    assert {c.get("value").lower() for c in choices.iter("Choice")} & NEGATION_VALUES == {"negated"}
    assert [r.get("value") for r in root.iter("Relation")] == ["MODIFY"]
