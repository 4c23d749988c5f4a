"""Annotation label files and golden-set rules.

Label files: `{"record_id", "entities": [...], "annotator"?, "guideline_version"?, "annotated_at"?}`
per line. They are the clinician labels of landing records (the demo batch writes one beside each
batch). Records are matched to notes by the same keyed hash as ingest, so no raw identifier is stored.

Golden sets (held out of training, read by evaluation as split "golden"): an annotation is golden
when (first rule that applies, recorded as `golden_rule`)
1. it comes from a `golden/` folder: `<brat dir>/golden/*.txt|.ann`, `<annotations dir>/golden/`
   (label files and Label Studio exports) -> "folder:golden";
2. its brat document id is in the configured list -> "listed";
3. its brat document id hashes below the configured fraction (GOLDEN_FRACTION = 0.1: a stable,
   deterministic ~10% of a corpus; 4 of the 44 MACCROBAT dev reports) -> "fraction:<f>".
The hash rule depends only on the document id (and an optional salt), so adding documents to a
corpus never moves an existing document in or out of the golden set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinical import ids
from clinical.schema import SchemaError, normalize_entity

LABEL_SUFFIX = ".entities.jsonl"
GOLDEN_FOLDER = "golden"
GOLDEN_FRACTION = 0.1


def golden_rule(
    doc_id: str | None,
    in_golden_folder: bool = False,
    listed: tuple[str, ...] | list[str] = (),
    fraction: float = 0.0,
    salt: str = "",
) -> str | None:
    """Why an annotated document is golden (see the module docstring), or None when it is not."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"golden fraction must be between 0 and 1, got {fraction}")
    if in_golden_folder:
        return f"folder:{GOLDEN_FOLDER}"
    if doc_id is None:
        return None
    if doc_id in listed:
        return "listed"
    if fraction > 0 and int(ids.sha256_text(f"golden{salt}\x1f{doc_id}")[:16], 16) / 16**16 < fraction:
        return f"fraction:{fraction:g}"
    return None


@dataclass
class LabelFile:
    """Labels read from one file, plus the lines refused (line number and reason)."""

    path: Path
    sha256: str
    labels: list[dict[str, Any]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def read_label_file(path: str | Path, secret: str) -> LabelFile:
    """Parse a label file; each good line becomes `{"note_id", "entities", "annotator", ...}`."""
    path = Path(path)
    out = LabelFile(path=path, sha256=ids.sha256_file(path))
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            out.errors.append((number, f"malformed line ({type(exc).__name__})"))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("record_id"), str | int):
            out.errors.append((number, "missing required field 'record_id'"))
            continue
        if not isinstance(obj.get("entities"), list):
            out.errors.append((number, "field 'entities' must be a list"))
            continue
        try:
            entities = [{**normalize_entity(e), **_offsets(e)} for e in obj["entities"]]
        except SchemaError as exc:
            out.errors.append((number, f"invalid entity: {exc}"))
            continue
        out.labels.append(
            {
                "note_id": ids.note_id(secret, str(obj["record_id"])),
                "entities": entities,
                "annotator": str(obj.get("annotator") or "unknown"),
                "guideline_version": str(obj.get("guideline_version") or "unversioned"),
                "annotated_at": str(obj.get("annotated_at") or ""),
                "line": number,
            }
        )
    return out


def _offsets(entity: dict[str, Any]) -> dict[str, int]:
    if isinstance(entity.get("start"), int) and isinstance(entity.get("end"), int):
        return {"start": entity["start"], "end": entity["end"]}
    return {}


def find_label_files(folder: str | Path) -> list[Path]:
    root = Path(folder)
    return sorted(root.glob(f"*{LABEL_SUFFIX}")) if root.is_dir() else []
