"""Landing batches: files of raw notes dropped by the source system, one Dagster partition each.

A landing record is `{"record_id", "patient_id", "text"}` plus optional `note_type` and `note_date`
(JSONL, or CSV with those columns). Each accepted record gets a note id and a patient key (both
keyed hashes under the project secret), the source file path + sha256 + line number, and the
sha256 of its text. Rejected lines keep their reason and line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinical import ids
from clinical.records import FieldSpec, ReadResult, Rejected, read_records

LANDING_FIELDS = (
    FieldSpec("record_id", aliases=("id",)),
    FieldSpec("patient_id"),
    FieldSpec("text", is_text=True),
    FieldSpec("note_type", required=False),
    FieldSpec("note_date", required=False),
)
LANDING_SUFFIXES = (".jsonl", ".csv")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def batch_key(path: str | Path) -> str:
    """The partition key of a landing file: its name without suffix, reduced to safe characters."""
    return _KEY_UNSAFE.sub("_", Path(path).stem).strip("_") or "batch"


def find_landing_files(landing_dir: str | Path) -> dict[str, Path]:
    """Landing files by batch key (sorted by name; a later duplicate key is ignored)."""
    found: dict[str, Path] = {}
    root = Path(landing_dir)
    if not root.is_dir():
        return found
    for path in sorted(root.iterdir()):
        if path.is_file() and path.suffix.lower() in LANDING_SUFFIXES and not path.name.startswith("."):
            found.setdefault(batch_key(path), path)
    return found


@dataclass
class LandingBatch:
    """A parsed landing file: accepted raw notes (restricted zone) and quarantined lines."""

    batch: str
    source_path: str
    source_sha256: str
    notes: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[Rejected] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.notes) + len(self.quarantine)

    def source_record(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "path": self.source_path,
            "sha256": self.source_sha256,
            "rows": self.rows,
            "accepted": len(self.notes),
            "quarantined": len(self.quarantine),
        }


def parse_landing_file(path: str | Path, secret: str, batch: str | None = None) -> LandingBatch:
    """Parse one landing file into raw-note records (with PHI: restricted zone only).

    Args:
        path: the landing file (.jsonl or .csv).
        secret: the HMAC secret for patient keys and note ids.
        batch: the partition key; defaults to `batch_key(path)`.
    """
    path = Path(path)
    result: ReadResult = read_records(path, LANDING_FIELDS)
    out = LandingBatch(batch=batch or batch_key(path), source_path=str(path), source_sha256=ids.sha256_file(path))
    out.quarantine.extend(result.rejected)
    seen: set[str] = set()
    for line, record in result.records:
        nid = ids.note_id(secret, record["record_id"])
        if nid in seen:
            out.quarantine.append(Rejected(line, "duplicate record_id within the batch", raw=""))
            continue
        seen.add(nid)
        out.notes.append(
            {
                "note_id": nid,
                "batch": out.batch,
                "record_id": record["record_id"],
                "patient_id": record["patient_id"],
                "patient_key": ids.patient_key(secret, record["patient_id"]),
                "note_type": record.get("note_type"),
                "note_date": record.get("note_date"),
                "text": record["text"],
                "text_sha256": ids.sha256_text(record["text"]),
                "source_path": out.source_path,
                "source_sha256": out.source_sha256,
                "row_number": line,
            }
        )
    out.quarantine.sort(key=lambda r: r.line)
    return out
