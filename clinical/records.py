"""Reading record files (JSONL and CSV) line by line: good records go on, bad ones go to quarantine.

One malformed line never loses the rest of the file. Every rejection names the file, the line and
what is wrong — never the content, which may be PHI.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_TEXT_CHARS = 100_000
"""Longest note accepted (characters); longer ones are quarantined, not truncated."""


@dataclass(frozen=True)
class FieldSpec:
    """One expected field: its name, whether it is required, and whether it is the note text."""

    name: str
    required: bool = True
    is_text: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rejected:
    """A quarantined line: where it was and why it was refused (never its content)."""

    line: int
    reason: str
    raw: str


@dataclass
class ReadResult:
    """Outcome of reading one file: accepted records (with their line number) and rejections."""

    path: Path
    records: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return len(self.records) + len(self.rejected)


class RecordFileError(ValueError):
    """The file as a whole cannot be read (missing, a directory, unknown format)."""


def _validate(obj: Any, fields: tuple[FieldSpec, ...], max_text_chars: int) -> tuple[dict[str, str], str]:
    """Return (record, "") or ({}, reason). Values are stripped strings; unknown fields are dropped."""
    if not isinstance(obj, dict):
        return {}, f"expected a JSON object, got {type(obj).__name__}"
    record: dict[str, str] = {}
    for spec in fields:
        names = (spec.name, *spec.aliases)
        present = [n for n in names if n in obj and obj[n] is not None and obj[n] != ""]
        if not present:
            if spec.required:
                return {}, f"missing required field {spec.name!r}"
            continue
        value = obj[present[0]]
        if isinstance(value, int | float) and not isinstance(value, bool) and not spec.is_text:
            value = str(value)
        if not isinstance(value, str):
            return {}, f"field {spec.name!r} must be a string, got {type(value).__name__}"
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            return {}, f"field {spec.name!r} is not valid UTF-8"
        if spec.is_text:
            if not value.strip():
                return {}, f"field {spec.name!r} is empty"
            if len(value) > max_text_chars:
                return {}, f"field {spec.name!r} has {len(value)} characters, over the limit {max_text_chars}"
        record[spec.name] = value if spec.is_text else value.strip()
    return record, ""


def _jsonl_rows(data: bytes) -> Iterator[tuple[int, str, Any, str]]:
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        line = raw_line.decode("utf-8", errors="surrogateescape").rstrip("\r")
        if any("\udc80" <= ch <= "\udcff" for ch in line):
            yield number, line, None, "line is not valid UTF-8"
            continue
        try:
            yield number, line, json.loads(line), ""
        except json.JSONDecodeError as exc:
            yield number, line, None, f"malformed JSON ({exc.msg} at column {exc.colno})"


def _csv_rows(data: bytes) -> Iterator[tuple[int, str, Any, str]]:
    text = data.decode("utf-8", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames:
        return
    expected = len(reader.fieldnames)
    while True:
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start_line, "", None, f"malformed CSV ({exc})"
            continue
        raw = ",".join(v if isinstance(v, str) else "" for v in row.values())
        if None in row or any(v is None for v in row.values()):
            got = expected + len(row.get(None) or []) - sum(v is None for v in row.values())
            yield start_line, raw, None, f"expected {expected} columns, got {got}"
            continue
        yield start_line, raw, dict(row), ""


def read_records(path: str | Path, fields: tuple[FieldSpec, ...], max_text_chars: int = MAX_TEXT_CHARS) -> ReadResult:
    """Read a .jsonl or .csv file, validating every line against `fields`.

    Args:
        path: the file; its suffix (.jsonl/.json or .csv) picks the format.
        fields: the fields every record must (or may) have.
        max_text_chars: longest accepted value of the text field.
    """
    path = Path(path)
    if not path.exists():
        raise RecordFileError(f"{path}: no such file")
    if not path.is_file():
        raise RecordFileError(f"{path}: not a regular file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = _jsonl_rows(path.read_bytes())
    elif suffix == ".csv":
        rows = _csv_rows(path.read_bytes())
    else:
        raise RecordFileError(f"{path}: unsupported format {suffix!r} (expected .jsonl or .csv)")
    result = ReadResult(path=path)
    for number, raw, obj, error in rows:
        if not error:
            record, error = _validate(obj, fields, max_text_chars)
            if not error:
                result.records.append((number, record))
                continue
        result.rejected.append(Rejected(line=number, reason=error, raw=raw))
    return result


def write_jsonl(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Write rows as JSON lines (UTF-8), creating parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
