"""Record files: every kind of bad line is quarantined with a reason naming it; good lines go on."""

from __future__ import annotations

import json

import pytest

from clinical.records import FieldSpec, RecordFileError, read_records

FIELDS = (FieldSpec("id"), FieldSpec("text", is_text=True))


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"id": "a", "text": ', "malformed JSON"),
        (b'["id", "text"]', "expected a JSON object, got list"),
        (b'{"text": "x"}', "missing required field 'id'"),
        (b'{"id": "a"}', "missing required field 'text'"),
        (b'{"id": "a", "text": 5}', "field 'text' must be a string, got int"),
        (b'{"id": "a", "text": "   "}', "field 'text' is empty"),
        (b'{"id": "a", "text": ""}', "missing required field 'text'"),
        (b'{"id": {"x": 1}, "text": "t"}', "field 'id' must be a string, got dict"),
        (b'{"id": "a", "text": "caf\xe9"}', "line is not valid UTF-8"),
    ],
)
def test_bad_jsonl_line_is_quarantined_and_the_rest_kept(tmp_path, line: bytes, reason: str) -> None:
    good = [json.dumps({"id": f"g{i}", "text": f"note {i}"}).encode() for i in range(2)]
    path = write(tmp_path, "in.jsonl", b"\n".join([good[0], line, good[1]]) + b"\n")
    result = read_records(path, FIELDS)
    assert [r["id"] for _line, r in result.records] == ["g0", "g1"]
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejected] == [(2, reason)]


def test_huge_text_is_quarantined_not_truncated(tmp_path) -> None:
    path = write(tmp_path, "in.jsonl", json.dumps({"id": "big", "text": "x" * 51}).encode())
    result = read_records(path, FIELDS, max_text_chars=50)
    assert not result.records
    assert result.rejected[0].reason == "field 'text' has 51 characters, over the limit 50"


def test_reasons_never_contain_the_text(tmp_path) -> None:
    secret_text = "John Smith MRN 12345678"
    lines = [json.dumps({"id": 7, "text": secret_text, "extra": 1}), json.dumps({"id": "x", "text": 3})]
    path = write(tmp_path, "in.jsonl", "\n".join(lines).encode())
    result = read_records(path, FIELDS)
    assert result.records == [(1, {"id": "7", "text": secret_text})]
    assert all(secret_text not in r.reason for r in result.rejected)


def test_csv_with_quoted_newlines_and_a_short_row(tmp_path) -> None:
    data = b'id,text\n1,"line one\nline two"\n2\n3,third\n'
    result = read_records(write(tmp_path, "in.csv", data), FIELDS)
    assert [r for _line, r in result.records] == [
        {"id": "1", "text": "line one\nline two"},
        {"id": "3", "text": "third"},
    ]
    assert [(r.line, r.reason) for r in result.rejected] == [(4, "expected 2 columns, got 1")]


@pytest.mark.parametrize("name", ["missing.jsonl", "notes.txt"])
def test_file_level_errors_name_the_file(tmp_path, name: str) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(RecordFileError, match=name):
        read_records(tmp_path / name, FIELDS)


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path) -> None:
    data = b'\n{"id": "a", "text": "t"}\n\n{"id": "b", "text": "u"}\r\n'
    result = read_records(write(tmp_path, "in.jsonl", data), FIELDS)
    assert [line for line, _r in result.records] == [2, 4]
