from pathlib import Path

import pytest

from clinical.brat import (
    BratFormatError,
    Span,
    entities_from_spans,
    read_brat_corpus,
    read_brat_document,
    split_value_unit,
)
from clinical.ids import sha256_file
from clinical.schema import ENTITY_TYPES, normalize_entity

MACCROBAT = Path(__file__).resolve().parents[2] / "shared" / "data" / "maccrobat_dev"
needs_maccrobat = pytest.mark.skipif(
    not MACCROBAT.is_dir(), reason=f"MACCROBAT dev data not found at {MACCROBAT} (../shared absent)"
)

TEXT = (
    "A 60-year-old man with diabetes was given metformin 500 mg orally twice daily. "
    "Serum potassium was 2.9 mmol/L. He denied chest pain. Hepatitis B and C were negative.\n"
)


def _find(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def _span_line(tid: str, btype: str, needle: str, text: str = TEXT) -> str:
    start, end = _find(text, needle)
    return f"{tid}\t{btype} {start} {end}\t{needle}"


def _write(tmp_path: Path, name: str, text: str, ann_lines: list[str]) -> Path:
    txt = tmp_path / f"{name}.txt"
    txt.write_text(text, encoding="utf-8")
    (tmp_path / f"{name}.ann").write_text("\n".join(ann_lines) + "\n", encoding="utf-8")
    return txt


def _fixture_lines() -> list[str]:
    hep_b = TEXT.index("Hepatitis B")
    c = TEXT.index(" C were") + 1
    return [
        _span_line("T1", "Age", "60-year-old"),
        _span_line("T2", "Disease_disorder", "diabetes"),
        "E1\tDisease_disorder:T2 ",
        _span_line("T3", "Medication", "metformin"),
        "E2\tMedication:T3 ",
        _span_line("T4", "Dosage", "500 mg"),
        _span_line("T5", "Administration", "orally"),
        _span_line("T6", "Frequency", "twice daily"),
        "R1\tMODIFY Arg1:T4 Arg2:E2\t",
        "R2\tMODIFY Arg1:T5 Arg2:E2\t",
        "R3\tMODIFY Arg1:T6 Arg2:E2\t",
        _span_line("T7", "Diagnostic_procedure", "Serum potassium"),
        "E3\tDiagnostic_procedure:T7 ",
        _span_line("T8", "Lab_value", "2.9 mmol/L"),
        "R4\tMODIFY Arg1:T8 Arg2:E3\t",
        _span_line("T9", "Sign_symptom", "chest pain"),
        "E4\tSign_symptom:T9 ",
        "A1\tPOLARITY E4 NEG",
        f"T10\tDiagnostic_procedure {hep_b} {hep_b + 9};{c} {c + 1}\tHepatitis C",
        "E5\tDiagnostic_procedure:T10 ",
        "*\tOVERLAP E1 E2",
        "#1\tAnnotatorNotes T1\tfree text",
    ]


def test_inline_fixture_maps_types_attributes_and_offsets(tmp_path):
    doc = read_brat_document(_write(tmp_path, "doc1", TEXT, _fixture_lines()))
    assert doc.doc_id == "doc1" and doc.text == TEXT and doc.errors == []
    by_text = {e["text"]: e for e in doc.entities}
    for entity in doc.entities:
        assert entity["type"] in ENTITY_TYPES
        assert TEXT[entity["start"] : entity["end"]] == entity["text"]
        normalize_entity(entity)
    assert "60-year-old" not in by_text
    assert by_text["diabetes"]["type"] == "condition" and "negated" not in by_text["diabetes"]
    med = by_text["metformin"]
    assert (med["type"], med["dose"], med["route"], med["frequency"]) == (
        "medication",
        "500 mg",
        "orally",
        "twice daily",
    )
    lab = by_text["Serum potassium was 2.9 mmol/L"]
    expected = ("lab_value", "Serum potassium", "2.9", "mmol/L")
    assert (lab["type"], lab["test"], lab["value"], lab["unit"]) == expected
    assert "Serum potassium" not in by_text
    assert by_text["chest pain"]["negated"] is True
    hep = by_text["Hepatitis B and C"]
    assert hep["type"] == "procedure" and len(hep["fragments"]) == 2
    assert [e["start"] for e in doc.entities] == sorted(e["start"] for e in doc.entities)


def test_source_files_carry_hashes(tmp_path):
    txt = _write(tmp_path, "doc1", TEXT, _fixture_lines())
    doc = read_brat_document(txt)
    assert [f["path"] for f in doc.source_files] == [str(txt), str(txt.with_suffix(".ann"))]
    assert doc.source_files[0]["sha256"] == sha256_file(txt)


def test_lab_value_far_from_its_test_keeps_value_span(tmp_path):
    text = "Potassium was measured twice. Result: 2.9 mmol/L."
    lines = [
        _span_line("T1", "Diagnostic_procedure", "Potassium", text),
        "E1\tDiagnostic_procedure:T1 ",
        _span_line("T2", "Lab_value", "2.9 mmol/L", text),
        "R1\tMODIFY Arg1:T2 Arg2:E1",
    ]
    doc = read_brat_document(_write(tmp_path, "far", text, lines))
    lab = next(e for e in doc.entities if e["type"] == "lab_value")
    assert (lab["text"], lab["test"]) == ("2.9 mmol/L", "Potassium")
    assert any(e["type"] == "procedure" and e["text"] == "Potassium" for e in doc.entities)


def test_event_arguments_attach_medication_attributes(tmp_path):
    text = "Started aspirin 81 mg daily."
    lines = [
        _span_line("T1", "Medication", "aspirin", text),
        _span_line("T2", "Dosage", "81 mg", text),
        "E1\tMedication:T1 Dose:T2",
    ]
    doc = read_brat_document(_write(tmp_path, "ev", text, lines))
    assert doc.entities[0]["dose"] == "81 mg"


@pytest.mark.parametrize(
    "bad_line, reason",
    [
        ("T9\tMedication5\tx", "Type start end"),
        ("T9\tMedication a b\tx", "bad offsets"),
        ("T9\tMedication 0 9999\tx", "outside the text"),
        ("T9\tMedication 0 5\tnot this", "does not match"),
        ("T9 Medication 0 5", "3 tab-separated"),
        ("R9\tMODIFY Arg1:T1", "relation needs"),
        ("R9\tMODIFY Arg1:T1 Arg2:T404", "unknown annotation"),
        ("Q9\twhat", "unknown annotation id"),
        ("T9\tMedicaton 0 1\tA", "unknown label 'Medicaton'"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, bad_line, reason):
    lines = _fixture_lines()
    lines.insert(3, bad_line)
    txt = _write(tmp_path, "bad", TEXT, lines)
    with pytest.raises(BratFormatError, match=reason) as info:
        read_brat_document(txt)
    assert info.value.line == 4 and info.value.path.endswith("bad.ann")
    assert isinstance(info.value, ValueError) and "bad.ann:4: " in str(info.value)


def test_corpus_collects_errors_and_keeps_good_lines(tmp_path):
    _write(tmp_path, "b_good", TEXT, _fixture_lines())
    _write(tmp_path, "a_badline", TEXT, ["T1\tMedication zz\tx", *_fixture_lines()])
    (tmp_path / "c_no_ann.txt").write_text("orphan", encoding="utf-8")
    (tmp_path / "d_latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "d_latin1.ann").write_text("", encoding="utf-8")
    corpus = read_brat_corpus(tmp_path)
    assert [d.doc_id for d in corpus] == ["a_badline", "b_good"]
    assert len(corpus[0].entities) == len(corpus[1].entities)
    messages = [str(e) for e in corpus.errors]
    assert len(messages) == 3
    assert any("a_badline.ann:1:" in m for m in messages)
    assert any("c_no_ann.ann" in m and "not found" in m for m in messages)
    assert any("d_latin1.txt" in m and "UTF-8" in m for m in messages)


def test_missing_directory_is_a_format_error(tmp_path):
    with pytest.raises(BratFormatError, match="not a directory"):
        read_brat_corpus(tmp_path / "absent")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("12 mg/dL", {"value": "12", "unit": "mg/dL"}),
        ("120/80 mmHg", {"value": "120/80", "unit": "mmHg"}),
        ("7.45", {"value": "7.45"}),
        ("elevated", {"value": "elevated"}),
        ("60%", {"value": "60", "unit": "%"}),
    ],
)
def test_split_value_unit(raw, expected):
    assert split_value_unit(raw) == expected


@needs_maccrobat
def test_maccrobat_dev_corpus_reads_cleanly():
    corpus = read_brat_corpus(MACCROBAT)
    assert len(corpus) == 44 and corpus.errors == []
    assert [d.doc_id for d in corpus] == sorted(d.doc_id for d in corpus)
    seen_types = set()
    for doc in corpus:
        for entity in doc.entities:
            assert doc.text[entity["start"] : entity["end"]] == entity["text"], (doc.doc_id, entity)
            normalize_entity(entity)
            seen_types.add(entity["type"])
    assert seen_types == set(ENTITY_TYPES)
    entities = [e for d in corpus for e in d.entities]
    assert any(e.get("negated") for e in entities)
    assert any(e["type"] == "medication" and "dose" in e for e in entities)
    assert any(e["type"] == "lab_value" and "unit" in e and "test" in e for e in entities)


@needs_maccrobat
def test_maccrobat_known_document():
    doc = read_brat_document(MACCROBAT / "18416479.txt")
    med = next(e for e in doc.entities if e["text"] == "ursodeoxycholic acid")
    assert (med["dose"], med["frequency"]) == ("900 mg", "daily")
    lab = next(e for e in doc.entities if e["type"] == "lab_value" and e["value"] == "elevated")
    assert lab["text"] == "elevated serum hepatobiliary enzymes"


def test_entities_from_spans_is_the_brat_mapping():
    text = "Gave aspirin 81 mg."
    spans = [Span("a", "Medication", 5, 12, [(5, 12)], "aspirin"), Span("b", "Dosage", 13, 18, [(13, 18)], "81 mg")]
    assert entities_from_spans(text, spans, [("b", "a")], set()) == [
        {"type": "medication", "text": "aspirin", "start": 5, "end": 12, "dose": "81 mg"}
    ]
    assert entities_from_spans(text, spans, [], {"a"})[0]["negated"] is True


@needs_maccrobat
def test_maccrobat_default_golden_set_is_small_and_stable():
    from clinical.labels import GOLDEN_FRACTION, golden_rule

    doc_ids = sorted(p.stem for p in MACCROBAT.glob("*.txt"))
    golden = [d for d in doc_ids if golden_rule(d, fraction=GOLDEN_FRACTION)]
    assert golden == ["20146086", "25410034", "26175648", "28353558"]
    assert golden_rule("20146086", fraction=GOLDEN_FRACTION) == "fraction:0.1"
    assert golden_rule("x", in_golden_folder=True) == "folder:golden" and golden_rule("x", listed=["x"]) == "listed"
    assert [d for d in doc_ids if golden_rule(d, fraction=GOLDEN_FRACTION, salt="v2")] != golden
    assert read_brat_document(MACCROBAT / "18416479.txt").annotated_at.endswith("+00:00")


def test_mismatch_error_does_not_quote_note_text(tmp_path):
    lines = ["T1\tMedication 0 9\tSecret Name"]
    with pytest.raises(BratFormatError, match="does not match the document at 0 9") as info:
        read_brat_document(_write(tmp_path, "quote", TEXT, lines))
    assert "Secret" not in str(info.value) and TEXT[:9] not in str(info.value)
