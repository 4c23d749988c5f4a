"""An append-only, hash-chained audit trail of pipeline events, in the de-identified warehouse.

Each row of `audit_events` is one event: `seq` (1, 2, ...), `recorded_at` (UTC, ISO 8601), `event_type`,
`payload` (canonical JSON of ids, hashes, run ids and code versions, never PHI), `prev_hash` (the
previous event's hash, 64 zeros for the first) and `hash` = sha256(prev_hash + canonical event), where
the canonical event is the sorted-key JSON of seq, recorded_at, event_type and the payload text.
Editing any field breaks that row's hash; inserting or deleting a row in the middle breaks the seq
run or the next row's prev_hash. Deleting (or appending to) the tail leaves a valid chain, so the
last seq and hash are also written to a head anchor file beside the warehouse (`audit_head.json`,
replaced atomically) that `verify` compares with. Whoever can rewrite both the warehouse and the
anchor can rewrite history: in production copy the anchor to a write-once store as well.

Event types in use: `artifact_registered`, `dataset_created`, `batch_ingested`, `review_decision`,
`synthetic_review`, `consent_revoked` (clinical/consent.py: revocation file sha256, counts, reason
codes, flagged artifact ids, the retraining run key), and the release registry's promotion and
rollback events; new kinds of event append their own types through the same call.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS_HASH = "0" * 64
ANCHOR_NAME = "audit_head.json"
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
# A payload refers to things by id and hash; these keys would carry note text or raw identifiers.
FORBIDDEN_KEYS = frozenset({"text", "raw_line", "raw_text", "note_text", "patient_id", "record_id", "mrn", "name"})
MAX_STRING = 512

_append_lock = threading.Lock()


class AuditPayloadError(ValueError):
    """A payload that could carry PHI or is not plain JSON."""


class AnchorError(ValueError):
    """A head anchor file that is not what `write_anchor` wrote."""


@dataclass(frozen=True)
class Event:
    """One stored audit event."""

    seq: int
    recorded_at: str
    event_type: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Anchor:
    """The head of the chain as last written: its seq and hash (seq 0 and the genesis hash when empty)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `verify`: ok, how many events, the head, and the first bad seq with the reason."""

    ok: bool
    events: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_payload(payload: dict[str, Any]) -> str:
    """The payload as sorted-key, compact, ASCII JSON, after checking it holds no text fields."""
    if not isinstance(payload, dict):
        raise AuditPayloadError("payload must be a JSON object")
    _check(payload, "payload")
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _check(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditPayloadError(f"{where}: keys must be strings")
            if key.lower() in FORBIDDEN_KEYS:
                raise AuditPayloadError(f"{where}.{key}: not allowed in the audit trail (ids and hashes only)")
            _check(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
    elif isinstance(value, str):
        if len(value) > MAX_STRING:
            raise AuditPayloadError(f"{where}: string of {len(value)} characters (at most {MAX_STRING})")
    elif value is not None and not isinstance(value, bool | int | float):
        raise AuditPayloadError(f"{where}: {type(value).__name__} is not JSON")


def event_hash(prev_hash: str, seq: int, recorded_at: str, event_type: str, payload: str) -> str:
    """sha256(prev_hash + canonical event), hex."""
    canonical = json.dumps(
        {"seq": seq, "recorded_at": recorded_at, "event_type": event_type, "payload": payload},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256((prev_hash + canonical).encode("ascii")).hexdigest()


def append_event(con: Any, event_type: str, payload: dict[str, Any]) -> Event:
    """Append one event at the head of the chain (in its own transaction) and return it."""
    if not EVENT_TYPE.match(event_type):
        raise AuditPayloadError(f"event type {event_type!r}: lower-case letters, digits, '_' and '.' only")
    body = canonical_payload(payload)
    with _append_lock:
        con.execute("BEGIN TRANSACTION")
        try:
            head = con.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
            recorded_at = datetime.now(UTC).isoformat(timespec="microseconds")
            digest = event_hash(prev, seq, recorded_at, event_type, body)
            con.execute(
                "INSERT INTO audit_events (seq, recorded_at, event_type, payload, prev_hash, hash) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [seq, recorded_at, event_type, body, prev, digest],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return Event(seq, recorded_at, event_type, body, prev, digest)


def anchor_path(warehouse_path: str | Path) -> Path:
    """Where the head anchor of a warehouse's audit trail lives: beside the warehouse file."""
    return Path(warehouse_path).with_name(ANCHOR_NAME)


def read_anchor(path: str | Path) -> Anchor | None:
    """The anchor written by `write_anchor`, or None when there is no file."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        return Anchor(int(data["seq"]), str(data["hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise AnchorError(f"head anchor {path} is unreadable ({type(exc).__name__}): it was edited") from None


def write_anchor(path: str | Path, event: Event | Anchor) -> None:
    """Replace the anchor atomically (temporary file + rename); never moves it backwards.

    Call it while the warehouse connection that appended `event` is still open: DuckDB's file lock
    then orders the writers of different processes.
    """
    path = Path(path)
    current = read_anchor(path)
    if current is not None and current.seq > event.seq:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"seq": event.seq, "hash": event.hash}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def record(con: Any, anchor: str | Path, event_type: str, payload: dict[str, Any]) -> Event:
    """Append an event and move the head anchor to it."""
    event = append_event(con, event_type, payload)
    write_anchor(anchor, event)
    return event


def events(con: Any) -> list[Event]:
    """Every stored event in seq order (an empty list when the table does not exist yet)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_events'").fetchone()
    if not exists[0]:
        return []
    rows = con.execute(
        "SELECT seq, recorded_at, event_type, CAST(payload AS VARCHAR), prev_hash, hash FROM audit_events ORDER BY seq"
    ).fetchall()
    return [Event(*row) for row in rows]


def verify(con: Any, anchor: Anchor | None) -> VerifyResult:
    """Check the whole chain against itself and the anchor; name the first bad seq and why."""
    chain = events(con)
    head_seq, head_hash = (chain[-1].seq, chain[-1].hash) if chain else (0, GENESIS_HASH)

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, len(chain), head_seq, head_hash, seq, reason)

    prev, expected = GENESIS_HASH, 1
    for event in chain:
        if event.seq > expected:
            gap = f"{expected}" if event.seq == expected + 1 else f"{expected}..{event.seq - 1}"
            return broken(expected, f"seq {gap} missing before seq {event.seq}: event(s) deleted")
        if event.seq < expected:
            return broken(event.seq, f"seq {event.seq} out of order after seq {expected - 1}: inserted or renumbered")
        if event.prev_hash != prev:
            return broken(
                event.seq, f"prev_hash is not the hash of seq {event.seq - 1}: an event was inserted or changed"
            )
        if event_hash(event.prev_hash, event.seq, event.recorded_at, event.event_type, event.payload) != event.hash:
            return broken(event.seq, "hash does not match the event's content: the event was edited")
        prev, expected = event.hash, expected + 1
    if anchor is None:
        return (
            broken(1, "head anchor missing: a deleted tail cannot be detected")
            if chain
            else VerifyResult(True, 0, 0, GENESIS_HASH)
        )
    if head_seq < anchor.seq:
        return broken(head_seq + 1, f"chain ends at seq {head_seq}, the head anchor at seq {anchor.seq}: tail deleted")
    if head_seq > anchor.seq:
        return broken(anchor.seq + 1, f"seq {anchor.seq + 1}..{head_seq} follow the anchored head: appended unanchored")
    if head_hash != anchor.hash:
        return broken(head_seq, "head hash differs from the anchor: the chain was rewritten")
    return VerifyResult(True, len(chain), head_seq, head_hash)
