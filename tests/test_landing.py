"""Landing batches: ids are keyed hashes, every record knows its source row, bad rows are quarantined."""

from __future__ import annotations

import json

import pytest

from clinical import ids
from clinical.landing import batch_key, find_landing_files, parse_landing_file

SECRET = "test-secret-0123456789"


def note(record_id: str, patient: str, text: str = "Patient on metformin 500 mg PO BID.") -> str:
    return json.dumps({"record_id": record_id, "patient_id": patient, "text": text, "note_type": "progress"})


def test_records_get_keyed_ids_and_source_rows(tmp_path) -> None:
    path = tmp_path / "batch-1.jsonl"
    path.write_text("\n".join([note("r1", "MRN001"), "{broken", note("r2", "MRN001"), note("r1", "MRN002")]) + "\n")
    batch = parse_landing_file(path, SECRET)
    assert batch.batch == "batch-1"
    assert batch.source_sha256 == ids.sha256_file(path)
    assert [n["row_number"] for n in batch.notes] == [1, 3]
    first = batch.notes[0]
    assert first["note_id"] == ids.note_id(SECRET, "r1")
    assert first["patient_key"] == ids.patient_key(SECRET, "MRN001") == batch.notes[1]["patient_key"]
    assert "MRN001" not in first["patient_key"] and first["patient_key"].startswith("pt_")
    assert first["text_sha256"] == ids.sha256_text(first["text"])
    assert [(q.line, q.reason.split(" (")[0]) for q in batch.quarantine] == [
        (2, "malformed JSON"),
        (4, "duplicate record_id within the batch"),
    ]


def test_patient_key_depends_on_the_secret() -> None:
    assert ids.patient_key("secret-one-000000", "MRN1") != ids.patient_key("secret-two-000000", "MRN1")


def test_csv_landing_file(tmp_path) -> None:
    path = tmp_path / "ward 7 (nov).csv"
    path.write_text('record_id,patient_id,text\nr1,P1,"BP 120/80, on lisinopril"\nr2,,missing patient\n')
    batch = parse_landing_file(path, SECRET)
    assert batch.batch == "ward_7_nov"
    assert [n["record_id"] for n in batch.notes] == ["r1"]
    assert batch.quarantine[0].reason == "missing required field 'patient_id'"


@pytest.mark.parametrize(
    ("name", "key"), [("a.jsonl", "a"), ("2026-11-27 batch.csv", "2026-11-27_batch"), ("ü.jsonl", "batch")]
)
def test_batch_key_is_partition_safe(name: str, key: str) -> None:
    assert batch_key(name) == key


def test_find_landing_files_ignores_other_files(tmp_path) -> None:
    for name in ["b.jsonl", "a.csv", "notes.txt", ".hidden.jsonl"]:
        (tmp_path / name).write_text("")
    assert list(find_landing_files(tmp_path)) == ["a", "b"]
