import csv
import json
import re

import pytest

from clinical.demo_batch import PHI_TYPES, RECORD_FIELDS, write_demo_batch
from clinical.schema import ENTITY_TYPES, normalize_entity


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_jsonl_batch_and_truth_files(tmp_path):
    batch = write_demo_batch(tmp_path / "landing", "b1", count=12, seed=2)
    assert batch.n == 12
    assert batch.path == tmp_path / "landing" / "b1.jsonl"
    assert batch.phi_path == tmp_path / "truth" / "b1.phi.jsonl"
    assert batch.labels_path == tmp_path / "truth" / "b1.entities.jsonl"
    records = _jsonl(batch.path)
    assert [tuple(r) for r in records] == [RECORD_FIELDS] * 12
    assert len({r["record_id"] for r in records}) == 12
    assert 1 < len({r["patient_id"] for r in records}) < 12
    texts = {r["record_id"]: r["text"] for r in records}

    phi = _jsonl(batch.phi_path)
    assert [p["record_id"] for p in phi] == list(texts)
    for row in phi:
        text = texts[row["record_id"]]
        types = {s["type"] for s in row["spans"]}
        assert {"NAME", "DATE", "MRN", "ADDRESS", "CITY", "ZIP", "PHONE"} <= types <= set(PHI_TYPES)
        for span in row["spans"]:
            assert text[span["start"] : span["end"]] == span["value"]

    labels = _jsonl(batch.labels_path)
    assert [r["record_id"] for r in labels] == list(texts)
    for row in labels:
        text = texts[row["record_id"]]
        assert {e["type"] for e in row["entities"]} <= set(ENTITY_TYPES)
        for entity in row["entities"]:
            assert text[entity["start"] : entity["end"]] == entity["text"]
            normalize_entity(entity)


def test_phi_spans_cover_every_identifier_and_avoid_entities(tmp_path):
    batch = write_demo_batch(tmp_path / "landing", "b2", count=10, seed=5)
    records = {r["record_id"]: r for r in _jsonl(batch.path)}
    entities = {r["record_id"]: r["entities"] for r in _jsonl(batch.labels_path)}
    for row in _jsonl(batch.phi_path):
        record = records[row["record_id"]]
        masked = list(record["text"])
        for span in row["spans"]:
            masked[span["start"] : span["end"]] = "#" * (span["end"] - span["start"])
            for entity in entities[row["record_id"]]:
                assert entity["end"] <= span["start"] or span["end"] <= entity["start"]
        masked_text = "".join(masked)
        assert record["patient_id"] not in masked_text
        assert not re.search(r"\d{3}-\d{2}-\d{4}|\d{3}-\d{3}-\d{4}|@", masked_text)


def test_same_seed_same_batch(tmp_path):
    a = write_demo_batch(tmp_path / "a" / "landing", "b", count=6, seed=9)
    b = write_demo_batch(tmp_path / "b" / "landing", "b", count=6, seed=9)
    c = write_demo_batch(tmp_path / "c" / "landing", "b", count=6, seed=10)
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.phi_path.read_bytes() == b.phi_path.read_bytes()
    assert a.path.read_bytes() != c.path.read_bytes()


def test_csv_has_same_columns_and_custom_truth_dir(tmp_path):
    batch = write_demo_batch(tmp_path / "in", "b3", count=5, seed=1, fmt="csv", patients=2, truth_dir=tmp_path / "t")
    assert batch.path.suffix == ".csv" and batch.phi_path.parent == tmp_path / "t"
    with open(batch.path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 and tuple(rows[0]) == RECORD_FIELDS
    assert len({r["patient_id"] for r in rows}) == 2
    phi = _jsonl(batch.phi_path)
    for row, truth in zip(rows, phi, strict=True):
        for span in truth["spans"]:
            assert row["text"][span["start"] : span["end"]] == span["value"]


@pytest.mark.parametrize("kwargs", [{"fmt": "xml"}, {"count": 0}])
def test_bad_arguments(tmp_path, kwargs):
    with pytest.raises(ValueError):
        write_demo_batch(tmp_path, "b", **kwargs)
