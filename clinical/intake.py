"""IRB-aware intake: the data-use manifest every landing batch must come with.

Beside each landing file `<name>.jsonl|csv` the source system drops `<name>.manifest.json`:

| field | required | meaning |
|---|---|---|
| manifest_version | yes | 1 |
| protocol_id | one of the two | IRB / ethics protocol id the batch was released under |
| dua_id | one of the two | data use agreement id |
| approving_body | yes | the IRB or ethics committee that approved the protocol / agreement |
| permitted_purposes | yes | non-empty list out of PURPOSES (e.g. ["model_training", "evaluation"]) |
| approval_expires | yes | ISO date (YYYY-MM-DD): the last day the approval holds |
| data_steward | yes | role or staff id responsible for the batch (never a patient) |

`raw_notes` refuses a batch whose manifest is missing, malformed or expired; `sft_dataset` leaves out
the records of batches whose approval has expired since, or whose purposes lack `model_training`
(`training_exclusions`). Errors are one line, name the file and the field, and never echo a value
(a mistyped manifest could hold anything).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from clinical import ids
from clinical.warehouse import fetch_dicts

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = 1
TRAINING_PURPOSE = "model_training"
PURPOSES = ("model_training", "evaluation", "deidentification_qa", "quality_improvement", "research")
FIELDS = (
    "manifest_version",
    "protocol_id",
    "dua_id",
    "approving_body",
    "permitted_purposes",
    "approval_expires",
    "data_steward",
)
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$")
STEWARD_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+ -]{0,127}$")
BODY_MAX = 200
MAX_BYTES = 64 * 1024


class ManifestError(ValueError):
    """A missing, unreadable, invalid or expired batch manifest; the message is one line naming file and field."""


@dataclass(frozen=True)
class Manifest:
    """A valid batch manifest (no PHI: ids, a body's name, purposes, a date and a steward's role)."""

    protocol_id: str | None
    dua_id: str | None
    approving_body: str
    permitted_purposes: tuple[str, ...]
    approval_expires: str
    data_steward: str
    manifest_version: int
    path: str
    sha256: str

    @property
    def basis(self) -> str:
        """The id training and lineage cite: the protocol id, else the data use agreement id."""
        return self.protocol_id or f"DUA {self.dua_id}"

    def permits_training(self, today: date) -> bool:
        return TRAINING_PURPOSE in self.permitted_purposes and date.fromisoformat(self.approval_expires) >= today

    def record(self) -> dict[str, Any]:
        """The manifest as stored in landing_sources and lineage (purposes as a list)."""
        out = asdict(self)
        out["permitted_purposes"] = list(self.permitted_purposes)
        return out


def manifest_path(landing_file: str | Path) -> Path:
    """Where the manifest of a landing file lives: `<name>.manifest.json` beside it."""
    landing_file = Path(landing_file)
    return landing_file.with_name(landing_file.stem + MANIFEST_SUFFIX)


def _text(data: dict[str, Any], key: str, where: str, pattern: re.Pattern[str] | None, max_len: int = 0) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{where}: {key} must be a string")
    value = value.strip()
    if pattern is not None and not pattern.match(value):
        raise ManifestError(f"{where}: {key} has characters or a length an id may not have ({pattern.pattern})")
    if max_len and len(value) > max_len:
        raise ManifestError(f"{where}: {key} longer than {max_len} characters")
    return value


def parse_manifest(data: Any, where: str, today: date, sha256: str = "", path: str = "") -> Manifest:
    """Validate a manifest's JSON value; raises ManifestError naming `where` and the field.

    Args:
        data: the parsed JSON.
        where: how errors name the file (its name, never its content).
        today: expiry is checked against this date (an approval holds through its expiry day).
    """
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: must be a JSON object with fields {', '.join(FIELDS)}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        positions = [str(i) for i, k in enumerate(data, start=1) if k in unknown]
        raise ManifestError(
            f"{where}: unknown field(s) at position {', '.join(positions)}; expected {', '.join(FIELDS)}"
        )
    if data.get("manifest_version") != MANIFEST_VERSION:
        raise ManifestError(f"{where}: manifest_version must be {MANIFEST_VERSION}")
    protocol_id = _text(data, "protocol_id", where, ID_PATTERN)
    dua_id = _text(data, "dua_id", where, ID_PATTERN)
    if protocol_id is None and dua_id is None:
        raise ManifestError(f"{where}: protocol_id or dua_id is required (the IRB protocol or data use agreement)")
    body = _text(data, "approving_body", where, None, BODY_MAX)
    if body is None:
        raise ManifestError(f"{where}: approving_body is required (the IRB or ethics committee)")
    purposes = data.get("permitted_purposes")
    if not isinstance(purposes, list) or not purposes or not all(isinstance(p, str) for p in purposes):
        raise ManifestError(
            f"{where}: permitted_purposes must be a non-empty list of strings out of {', '.join(PURPOSES)}"
        )
    bad = [str(i) for i, p in enumerate(purposes, start=1) if p not in PURPOSES]
    if bad:
        raise ManifestError(
            f"{where}: permitted_purposes item(s) {', '.join(bad)} not a known purpose; use {', '.join(PURPOSES)}"
        )
    expires_raw = data.get("approval_expires")
    try:
        expires = date.fromisoformat(expires_raw) if isinstance(expires_raw, str) and len(expires_raw) == 10 else None
    except ValueError:
        expires = None
    if expires is None:
        raise ManifestError(f"{where}: approval_expires must be an ISO date (YYYY-MM-DD)")
    if expires < today:
        raise ManifestError(f"{where}: approval_expires {expires.isoformat()} has passed (today {today.isoformat()})")
    steward = _text(data, "data_steward", where, STEWARD_PATTERN)
    if steward is None:
        raise ManifestError(f"{where}: data_steward is required (a role or staff id, e.g. 'research-data-office')")
    return Manifest(
        protocol_id=protocol_id,
        dua_id=dua_id,
        approving_body=body,
        permitted_purposes=tuple(dict.fromkeys(purposes)),
        approval_expires=expires.isoformat(),
        data_steward=steward,
        manifest_version=MANIFEST_VERSION,
        path=path,
        sha256=sha256,
    )


def read_manifest(landing_file: str | Path, today: date | None = None) -> Manifest:
    """The valid manifest of a landing file; ManifestError (one line, naming file and field) otherwise."""
    path = manifest_path(landing_file)
    if not path.is_file():
        raise ManifestError(
            f"{path.name}: missing; every landing batch needs a data-use manifest beside it (docs/CONTRACTS.md)"
        )
    raw = path.read_bytes()
    if len(raw) > MAX_BYTES:
        raise ManifestError(f"{path.name}: {len(raw)} bytes, more than {MAX_BYTES}")
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path.name}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path.name}: not valid JSON (line {exc.lineno} column {exc.colno})") from None
    return parse_manifest(data, path.name, today or date.today(), sha256=ids.sha256_bytes(raw), path=str(path))


def write_manifest(
    landing_file: str | Path,
    protocol_id: str | None,
    approving_body: str,
    approval_expires: str,
    data_steward: str,
    permitted_purposes: tuple[str, ...] | list[str] = (TRAINING_PURPOSE, "evaluation"),
    dua_id: str | None = None,
) -> Path:
    """Write (and validate against today) the manifest of a landing file; returns its path."""
    data = {
        "manifest_version": MANIFEST_VERSION,
        "protocol_id": protocol_id,
        "dua_id": dua_id,
        "approving_body": approving_body,
        "permitted_purposes": list(permitted_purposes),
        "approval_expires": approval_expires,
        "data_steward": data_steward,
    }
    data = {k: v for k, v in data.items() if v is not None}
    path = manifest_path(landing_file)
    parse_manifest(data, path.name, date.today())
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def landing_columns(manifest: Manifest) -> dict[str, Any]:
    """The manifest's columns of a landing_sources row."""
    return {
        "protocol_id": manifest.protocol_id,
        "dua_id": manifest.dua_id,
        "approving_body": manifest.approving_body,
        "permitted_purposes": list(manifest.permitted_purposes),
        "approval_expires": manifest.approval_expires,
        "data_steward": manifest.data_steward,
        "manifest_path": manifest.path,
        "manifest_sha256": manifest.sha256,
    }


def batch_approvals(con: Any) -> dict[str, dict[str, Any]]:
    """The recorded manifest of each ingested batch (batch → landing_sources manifest columns)."""
    rows = fetch_dicts(
        con,
        "SELECT batch, protocol_id, dua_id, approving_body, permitted_purposes, approval_expires, data_steward, "
        "manifest_sha256 FROM landing_sources ORDER BY batch",
    )
    for row in rows:
        row["permitted_purposes"] = json.loads(row["permitted_purposes"]) if row["permitted_purposes"] else []
    return {r["batch"]: r for r in rows}


def training_refusal(approval: dict[str, Any] | None, today: date) -> str | None:
    """Why a batch's records may not train a model today (None: they may)."""
    if approval is None or not approval.get("manifest_sha256"):
        return "no_manifest"
    if date.fromisoformat(approval["approval_expires"]) < today:
        return "approval_expired"
    if TRAINING_PURPOSE not in approval["permitted_purposes"]:
        return "purpose_excludes_training"
    return None


def training_exclusions(con: Any, today: date | None = None) -> tuple[set[str], dict[str, Any]]:
    """Note ids whose batch may not train a model today, and the counts for the dataset card.

    A note's batch is the landing_sources row of its partition; a batch ingested before manifests
    existed has none and is left out too (no recorded data-use basis).
    """
    today = today or date.today()
    approvals = batch_approvals(con)
    notes = con.execute("SELECT note_id, batch FROM deidentified_notes").fetchall()
    refusals = {b: training_refusal(approvals.get(b), today) for b in {batch for _, batch in notes}}
    excluded = {n for n, b in notes if refusals[b]}
    by_reason: dict[str, int] = {}
    for _, batch in notes:
        if refusals[batch]:
            by_reason[refusals[batch]] = by_reason.get(refusals[batch], 0) + 1
    used = sorted(b for b, r in refusals.items() if r is None)
    summary = {
        "checked_on": today.isoformat(),
        "notes_excluded": len(excluded),
        "notes_excluded_by_reason": dict(sorted(by_reason.items())),
        "batches_refused": {b: r for b, r in sorted(refusals.items()) if r},
        "batches_permitted": [
            {
                "batch": b,
                "protocol_id": approvals[b]["protocol_id"],
                "dua_id": approvals[b]["dua_id"],
                "approval_expires": approvals[b]["approval_expires"],
                "manifest_sha256": approvals[b]["manifest_sha256"],
            }
            for b in used
        ],
    }
    return excluded, summary


def drop_unapproved(rows: list[dict[str, Any]], excluded: set[str]) -> list[dict[str, Any]]:
    """Labelled-note rows without those whose note id is in `excluded`."""
    return [r for r in rows if r.get("note_id") not in excluded] if excluded else list(rows)


def protocols_used(summary: dict[str, Any]) -> str | None:
    """The protocol / agreement ids of the batches a dataset may use, as one line for data_use."""
    cited = sorted({b["protocol_id"] or f"DUA {b['dua_id']}" for b in summary.get("batches_permitted", [])})
    return ", ".join(cited) or None


def examples_refused(con: Any, dataset_version: str, split: str = "train", today: date | None = None) -> int:
    """How many examples of a dataset's split come from notes that may not train a model today (an approval
    that expired after the dataset was built, say): training refuses such a dataset."""
    excluded, _ = training_exclusions(con, today)
    if not excluded:
        return 0
    rows = con.execute(
        "SELECT parents FROM sft_examples WHERE dataset_version = ? AND split = ?", [dataset_version, split]
    ).fetchall()
    return sum(1 for (parents,) in rows if excluded & set(json.loads(parents)))
