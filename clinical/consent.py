"""Consent revocation: revocation files, exclusion from future datasets, impact, flags and the report.

A compliance officer drops a CSV file into the revocations folder (`$CLINICAL_HOME/revocations`,
`CLINICAL_REVOCATIONS_DIR`). Its header names the columns; each row revokes one patient or one
source record:

| column | required | meaning |
|---|---|---|
| patient_key | one of the three | the keyed patient hash (`pt_` + 32 hex), as in lineage reports |
| note_id | one of the three | the keyed id of one source record (`note_` + 32 hex) |
| record_id | one of the three | the source system's record id; made its note id at once, never stored |
| reason_code | yes | a short code: `patient_request`, `guardian_request`, `irb_withdrawal`, `legal_hold`, ... |
| requested_at | yes | ISO date or date-time of the request |
| requested_by | yes | staff id of whoever received the request (letters, digits, `_ . @ + -`) |

Raw patient ids are refused: `clinical consent key` turns them into patient keys on the officer's
machine without logging them. Errors name the file and line and never echo a cell's value (it could
be an identifier). Valid lines of a file with some bad lines are kept.

Revocations are stored in `consent_revocations`; `drop_revoked` leaves revoked patients and records
out of every dataset built afterwards; `process_files` records a file's revocations, flags every
dataset and artifact that holds their records (`artifact_flags`), appends a `consent_revoked` event
to the audit trail and returns the revocation report, which `write_report` saves as Markdown and JSON.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from clinical import audit, ids, lineage
from clinical.warehouse import insert_rows

ID_COLUMNS = ("patient_key", "note_id", "record_id")
REQUIRED_COLUMNS = ("reason_code", "requested_at", "requested_by")
RAW_IDENTIFIER_COLUMNS = frozenset({"patient_id", "mrn", "name", "patient_name", "ssn", "dob"})
PATIENT_KEY = re.compile(r"^pt_[0-9a-f]{32}$")
NOTE_ID = re.compile(r"^note_[0-9a-f]{32}$")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
STAFF_ID = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")
MAX_RECORD_ID = 256
MAX_FILE_BYTES = 20 * 1024 * 1024
FLAG_REVOKED = "trained_on_revoked_data"
REPORT_VERSION = 1


class RevocationFileError(ValueError):
    """A revocation file that cannot be read at all (no header, wrong columns, not UTF-8, too big)."""


@dataclass(frozen=True)
class Revocation:
    """One valid line of a revocation file (no raw identifiers: record ids are already note ids)."""

    revocation_id: str
    file_name: str
    file_sha256: str
    line_number: int
    patient_key: str | None
    note_id: str | None
    reason_code: str
    requested_at: str
    requested_by: str


@dataclass
class ParsedFile:
    """A revocation file: its hash, the valid revocations and one message per bad line."""

    path: Path
    sha256: str
    revocations: list[Revocation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


def find_revocation_files(folder: str | Path) -> list[Path]:
    """The `*.csv` files of the revocations folder, sorted by name (an absent folder has none)."""
    root = Path(folder)
    return sorted(p for p in root.glob("*.csv") if p.is_file()) if root.is_dir() else []


def _iso_timestamp(value: str) -> str | None:
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def parse_revocation_file(path: str | Path, secret: str) -> ParsedFile:
    """Read one revocation file; bad lines become errors naming the file and line, valid lines are kept.

    Raises RevocationFileError when the file as a whole is unusable (the message names the file).
    """
    path = Path(path)
    data = path.read_bytes()
    parsed = ParsedFile(path=path, sha256=ids.sha256_bytes(data))
    where = path.name
    if len(data) > MAX_FILE_BYTES:
        raise RevocationFileError(f"{where}: {len(data)} bytes, more than {MAX_FILE_BYTES}: split the file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RevocationFileError(f"{where}: not UTF-8 (byte {exc.start}): save it as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        raise RevocationFileError(f"{where} line 1: empty file, expected a header row")
    columns = [h.strip().lower() for h in header]
    raw = sorted(set(columns) & RAW_IDENTIFIER_COLUMNS)
    if raw:
        raise RevocationFileError(
            f"{where} line 1: column(s) {', '.join(raw)} hold raw identifiers, which are not accepted: "
            "convert patient ids with `clinical consent key` and give patient_key"
        )
    unknown = sorted(set(columns) - set(ID_COLUMNS) - set(REQUIRED_COLUMNS))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if unknown or missing or not set(columns) & set(ID_COLUMNS) or len(set(columns)) != len(columns):
        problems = []
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        if not set(columns) & set(ID_COLUMNS):
            problems.append("no id column")
        if unknown:
            # Positions, not names: a file without a header row would echo its first data row.
            positions = [str(i) for i, c in enumerate(columns, start=1) if c in unknown]
            problems.append(f"unknown column(s) at position {', '.join(positions)}")
        if len(set(columns)) != len(columns):
            problems.append("a column named twice")
        raise RevocationFileError(
            f"{where} line 1: header {'; '.join(problems)}; expected one or more of {', '.join(ID_COLUMNS)} "
            f"and {', '.join(REQUIRED_COLUMNS)}"
        )
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            parsed.errors.append(f"{where} line {line}: {len(row)} fields, the header has {len(columns)}")
            continue
        cells = {c: v.strip() for c, v in zip(columns, row, strict=True)}
        error, revocation = _revocation(cells, secret, parsed, line)
        if error:
            parsed.errors.append(f"{where} line {line}: {error}")
        else:
            parsed.revocations.append(revocation)
    return parsed


def _revocation(cells: dict[str, str], secret: str, parsed: ParsedFile, line: int) -> tuple[str | None, Any]:
    """(error, None) or (None, Revocation); errors describe the problem, never the value."""
    given = [c for c in ID_COLUMNS if cells.get(c)]
    if len(given) != 1:
        return f"give exactly one of {', '.join(ID_COLUMNS)} (found {len(given)})", None
    patient_key = note_id = None
    if given == ["patient_key"]:
        patient_key = cells["patient_key"]
        if not PATIENT_KEY.match(patient_key):
            return "patient_key is not a keyed patient hash (pt_ + 32 hex digits); see `clinical consent key`", None
    elif given == ["note_id"]:
        note_id = cells["note_id"]
        if not NOTE_ID.match(note_id):
            return "note_id is not a keyed record id (note_ + 32 hex digits)", None
    else:
        record_id = cells["record_id"]
        if len(record_id) > MAX_RECORD_ID:
            return f"record_id longer than {MAX_RECORD_ID} characters", None
        note_id = ids.note_id(secret, record_id)
    if not REASON_CODE.match(cells["reason_code"]):
        return "reason_code must be a short code (lower-case letters, digits, _ . -; e.g. patient_request)", None
    requested_at = _iso_timestamp(cells["requested_at"])
    if requested_at is None:
        return "requested_at is not an ISO date or date-time (e.g. 2026-11-27 or 2026-11-27T10:15:00)", None
    if not STAFF_ID.match(cells["requested_by"]):
        return "requested_by must be a staff id (letters, digits, _ . @ + -; at most 128)", None
    revocation_id = "rev_" + ids.sha256_text(f"{parsed.sha256}:{line}")[:32]
    return None, Revocation(
        revocation_id=revocation_id,
        file_name=parsed.name,
        file_sha256=parsed.sha256,
        line_number=line,
        patient_key=patient_key,
        note_id=note_id,
        reason_code=cells["reason_code"],
        requested_at=requested_at,
        requested_by=cells["requested_by"],
    )


def revoked_sets(con: Any) -> tuple[set[str], set[str]]:
    """(revoked patient keys, revoked note ids) in force."""
    if not lineage.table_exists(con, "consent_revocations"):
        return set(), set()
    rows = con.execute("SELECT patient_key, note_id FROM consent_revocations").fetchall()
    return {k for k, _ in rows if k}, {n for _, n in rows if n}


def drop_revoked(con: Any, *sources: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    """Each list of source rows (dicts with `patient_key`, maybe `note_id`) without revoked patients and records."""
    keys, notes = revoked_sets(con)
    if not keys and not notes:
        return tuple(list(rows) for rows in sources)
    return tuple(
        [r for r in rows if r.get("patient_key") not in keys and r.get("note_id") not in notes] for rows in sources
    )


def excluded_counts(con: Any) -> dict[str, int]:
    """What revocations keep out of datasets now: labelled notes, corpus documents, synthetic notes, patients."""
    keys, notes = revoked_sets(con)
    key_list, note_list = sorted(keys), sorted(notes)
    labelled = con.execute(
        "SELECT count(*) FROM annotations a JOIN deidentified_notes d ON d.note_id = a.note_id "
        "WHERE a.kind = 'note_labels' AND (list_contains(?, d.patient_key) OR list_contains(?, d.note_id))",
        [key_list, note_list],
    ).fetchone()[0]
    corpus = con.execute(
        "SELECT count(*) FROM annotations WHERE kind = 'brat' AND list_contains(?, patient_key)", [key_list]
    ).fetchone()[0]
    synthetic = con.execute(
        "SELECT count(*) FROM synthetic_notes WHERE review_status = 'approved' AND list_contains(?, patient_key)",
        [key_list],
    ).fetchone()[0]
    return {
        "revoked_patients": len(keys),
        "revoked_records": len(notes),
        "labelled_notes_excluded": labelled,
        "corpus_documents_excluded": corpus,
        "synthetic_notes_excluded": synthetic,
        "records_excluded": labelled + corpus + synthetic,
    }


def record_revocations(con: Any, parsed: ParsedFile) -> int:
    """Store a file's valid revocations (idempotent: the same file and line is stored once)."""
    rows = [asdict(r) for r in parsed.revocations]
    for row in rows:
        row["line_number"] = int(row["line_number"])
    return insert_rows(con, "consent_revocations", rows, or_replace=True)


def flag_impacted(con: Any, impact: dict[str, Any], file_sha256: str) -> list[dict[str, Any]]:
    """Flag every dataset version and artifact in `impact` as trained on revoked data; returns the flags."""
    flags: dict[str, dict[str, Any]] = {}
    for d in impact["datasets"]:
        if d["split"] in ("train", "validation"):
            flag = flags.setdefault(
                d["dataset_version"],
                {"artifact_id": d["dataset_version"], "kind": "dataset", "records": 0},
            )
            flag["records"] += int(d["examples"])
    for a in impact["artifacts"]:
        flags.setdefault(a["artifact_id"], {"artifact_id": a["artifact_id"], "kind": a["kind"], "records": None})
    rows = [{**f, "flag": FLAG_REVOKED, "revocation_file_sha256": file_sha256} for f in flags.values()]
    insert_rows(con, "artifact_flags", rows, or_replace=True)
    return rows


def process_file(
    con: Any,
    parsed: ParsedFile,
    anchor: str | Path,
    data_use: dict[str, Any] | None = None,
    run_key: str | None = None,
) -> dict[str, Any]:
    """Record a parsed file's revocations, flag what they reached, audit it; returns the revocation report."""
    record_revocations(con, parsed)
    keys = sorted({r.patient_key for r in parsed.revocations if r.patient_key})
    notes = sorted({r.note_id for r in parsed.revocations if r.note_id})
    impact = lineage.impacted_records(con, patient_keys=keys, note_ids=notes)
    flags = flag_impacted(con, impact, parsed.sha256) if parsed.revocations else []
    retrain = bool(flags)
    report = {
        "report_version": REPORT_VERSION,
        "file": {"name": parsed.name, "sha256": parsed.sha256},
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "valid_lines": len(parsed.revocations),
        "bad_lines": parsed.errors,
        "patient_keys": keys,
        "note_ids": notes,
        "reason_codes": dict(sorted(Counter(r.reason_code for r in parsed.revocations).items())),
        "requested_by": sorted({r.requested_by for r in parsed.revocations}),
        "records_found": impact["records"],
        "datasets": impact["datasets"],
        "artifacts": impact["artifacts"],
        "flags": [{k: f[k] for k in ("artifact_id", "kind", "flag")} for f in flags],
        "retraining": {"requested": bool(retrain and run_key), "run_key": run_key if retrain else None},
        "data_use": data_use or {},
        "excluded_from_future_datasets": excluded_counts(con),
    }
    event = {
        "file_sha256": parsed.sha256,
        "revocations": len(parsed.revocations),
        "bad_lines": len(parsed.errors),
        "patients": len(keys),
        "records": len(notes),
        "reason_codes": report["reason_codes"],
        "flagged": [f["artifact_id"] for f in flags][:50],
        "flagged_total": len(flags),
        "run_key": report["retraining"]["run_key"],
    }
    audit.record(con, anchor, "consent_revoked", event)
    return report


def needs_retraining(report: dict[str, Any]) -> bool:
    """Whether a revocation reached any dataset or model (then the flagged models must be replaced)."""
    return bool(report["retraining"]["requested"])


def render_report_markdown(report: dict[str, Any]) -> str:
    """The revocation report for people: what was revoked, what it reached, what happens next."""
    f = report["file"]
    lines = [
        f"# Consent revocation report `{f['sha256'][:16]}`",
        "",
        f"- file: `{f['name']}` sha256 `{f['sha256']}`",
        f"- received: {report['received_at']}",
        f"- valid lines: {report['valid_lines']}; bad lines: {len(report['bad_lines'])}",
        f"- patients revoked: {len(report['patient_keys'])}; records revoked: {len(report['note_ids'])}",
        f"- reason codes: {', '.join(f'{k} ({v})' for k, v in report['reason_codes'].items()) or 'none'}",
        f"- source records found in the warehouse: {report['records_found']}",
    ]
    retraining = report["retraining"]
    if retraining["run_key"]:
        lines.append(f"- retraining: training_job requested with run key `{retraining['run_key']}`")
    else:
        lines.append("- retraining: not needed (no dataset or model holds these records)")
    data_use = {k: v for k, v in report.get("data_use", {}).items() if v}
    if data_use:
        lines.append("- data use: " + ", ".join(f"{k} `{v}`" for k, v in data_use.items()))
    lines += ["", "## Flagged datasets and models (trained on revoked data)", ""]
    if report["flags"]:
        by_id = {a["artifact_id"]: a for a in report["artifacts"]}
        lines += ["| kind | id | sha256 | run |", "|---|---|---|---|"]
        for flag in report["flags"]:
            a = by_id.get(flag["artifact_id"], {})
            digest, run = a.get("sha256") or "-", a.get("run_id") or "-"
            lines.append(f"| {flag['kind']} | `{flag['artifact_id']}` | `{digest}` | `{run}` |")
    else:
        lines.append("_none_")
    lines += ["", "## Examples per dataset split holding the revoked records", ""]
    if report["datasets"]:
        lines += ["| dataset version | split | examples |", "|---|---|---|"]
        lines += [f"| `{d['dataset_version']}` | {d['split']} | {d['examples']} |" for d in report["datasets"]]
    else:
        lines.append("_none_")
    excluded = report["excluded_from_future_datasets"]
    lines += [
        "",
        "## Excluded from every dataset built from now on (all revocations in force)",
        "",
        "| what | count |",
        "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v} |" for k, v in excluded.items()],
    ]
    if report["patient_keys"] or report["note_ids"]:
        lines += ["", "## Revoked keys (keyed hashes, no raw identifiers)", ""]
        lines += [f"- patient `{k}`" for k in report["patient_keys"]]
        lines += [f"- record `{n}`" for n in report["note_ids"]]
    if report["bad_lines"]:
        lines += ["", "## Bad lines (not applied: fix and drop a corrected file)", ""]
        lines += [f"- {e}" for e in report["bad_lines"]]
    return "\n".join(lines) + "\n"


def write_report(report_dir: str | Path, report: dict[str, Any]) -> tuple[Path, Path]:
    """Save the report as `<sha256[:16]>.md` and `.json` in `report_dir` (atomic replace); returns both paths."""
    folder = Path(report_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = report["file"]["sha256"][:16]
    paths = (folder / f"{stem}.md", folder / f"{stem}.json")
    bodies = (render_report_markdown(report), json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
    for path, body in zip(paths, bodies, strict=True):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
    return paths


def rejected_report(path: Path, sha256: str, error: str) -> dict[str, Any]:
    """The report of a file that could not be read at all (nothing was applied)."""
    return {
        "report_version": REPORT_VERSION,
        "file": {"name": path.name, "sha256": sha256},
        "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "valid_lines": 0,
        "bad_lines": [error],
        "patient_keys": [],
        "note_ids": [],
        "reason_codes": {},
        "requested_by": [],
        "records_found": 0,
        "datasets": [],
        "artifacts": [],
        "flags": [],
        "retraining": {"requested": False, "run_key": None},
        "data_use": {},
        "excluded_from_future_datasets": {},
    }


def write_revocation_file(
    folder: str | Path,
    *,
    patient_keys: list[str] = (),  # type: ignore[assignment]
    note_ids: list[str] = (),  # type: ignore[assignment]
    reason_code: str,
    requested_by: str,
    requested_at: str | None = None,
    now: datetime | None = None,
) -> Path:
    """Write a revocation CSV into `folder` (atomically, so the sensor never reads half a file).

    Raises ValueError naming the first bad value's kind (never the value) when something is malformed.
    """
    if not patient_keys and not note_ids:
        raise ValueError("nothing to revoke: give at least one patient key or note id")
    for key in patient_keys:
        if not PATIENT_KEY.match(key):
            raise ValueError(
                "a patient key is malformed (pt_ + 32 hex digits); convert raw ids with `clinical consent key`"
            )
    for note in note_ids:
        if not NOTE_ID.match(note):
            raise ValueError("a note id is malformed (note_ + 32 hex digits)")
    if not REASON_CODE.match(reason_code):
        raise ValueError("reason code must be a short code (lower-case letters, digits, _ . -)")
    if not STAFF_ID.match(requested_by):
        raise ValueError("requested-by must be a staff id (letters, digits, _ . @ + -)")
    stamp = now or datetime.now(UTC)
    when = _iso_timestamp(requested_at) if requested_at else stamp.isoformat(timespec="seconds")
    if when is None:
        raise ValueError("requested-at is not an ISO date or date-time")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["patient_key", "note_id", "reason_code", "requested_at", "requested_by"])
    for key in patient_keys:
        writer.writerow([key, "", reason_code, when, requested_by])
    for note in note_ids:
        writer.writerow(["", note, reason_code, when, requested_by])
    body = buffer.getvalue()
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"revocation-{stamp.strftime('%Y%m%dT%H%M%S')}-{ids.sha256_text(body)[:8]}.csv"
    tmp = root / f".{path.name}.tmp"
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, path)
    return path


# The asset that shows each artifact kind in the Dagster UI (flags become observations on it).
KIND_ASSET = {
    "dataset": "sft_dataset",
    "lora_adapter": "lora_adapter",
    "evaluation": "evaluation",
    "merged_model": "merged_model",
    "trtllm_bundle": "trtllm_engine",
    "bento": "bento",
}


def retraining_run_key(file_hashes: list[str]) -> str:
    """The training_job run key of a set of revocation files: their sha256 prefixes."""
    return "consent:" + ",".join(sorted(h[:16] for h in file_hashes))


def process_folder(
    con: Any,
    files: list[Path],
    processed: set[str],
    secret: str,
    anchor: str | Path,
    report_dir: str | Path,
    data_use: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Process the revocation files whose sha256 is not in `processed`; returns one report per file.

    Each report also holds `report_paths` (its Markdown and JSON files). A file that cannot be read
    at all gets a report listing why and applies nothing; a file with some bad lines applies the rest.
    """
    pending = [(path, ids.sha256_file(path)) for path in files]
    pending = [(path, digest) for path, digest in pending if digest not in processed]
    run_key = retraining_run_key([d for _, d in pending]) if pending else None
    reports = []
    for path, digest in pending:
        try:
            parsed = parse_revocation_file(path, secret)
        except RevocationFileError as exc:
            report = rejected_report(path, digest, str(exc))
        else:
            report = process_file(con, parsed, anchor, data_use=data_use, run_key=run_key)
        md, js = write_report(report_dir, report)
        reports.append({**report, "report_paths": {"markdown": str(md), "json": str(js)}})
    return reports


def keys_for_patient_ids(secret: str, lines: list[str], environment: str = "development") -> list[str]:
    """Patient keys of raw patient ids (one per line, blank lines skipped), computed locally, in order.

    The ids are never stored or printed; the development secret is refused in production, where the
    keys would not match the warehouse's.
    """
    from clinical.ids import DEV_HMAC_SECRET, patient_key

    if environment == "production" and secret == DEV_HMAC_SECRET:
        raise ValueError("CLINICAL_HMAC_SECRET is not set: the development secret is refused in production")
    return [patient_key(secret, line) for line in lines if line.strip()]


def status(con: Any) -> dict[str, Any]:
    """Revocations in force (per file: lines, patients, records, reason codes) and the flagged artifacts."""
    if not lineage.table_exists(con, "consent_revocations"):
        return {"files": [], "flags": [], "excluded_from_future_datasets": {}}
    from clinical.warehouse import fetch_dicts

    files = fetch_dicts(
        con,
        "SELECT file_name, file_sha256, count(*) AS lines, count(DISTINCT patient_key) AS patients, "
        "count(DISTINCT note_id) AS records, string_agg(DISTINCT reason_code, ',' ORDER BY reason_code) AS reasons, "
        "CAST(min(recorded_at) AS VARCHAR) AS recorded_at FROM consent_revocations "
        "GROUP BY file_name, file_sha256 ORDER BY min(recorded_at), file_name",
    )
    flags = fetch_dicts(
        con,
        "SELECT artifact_id, kind, flag, revocation_file_sha256, CAST(flagged_at AS VARCHAR) AS flagged_at "
        "FROM artifact_flags ORDER BY flagged_at, artifact_id",
    )
    return {"files": files, "flags": flags, "excluded_from_future_datasets": excluded_counts(con)}


def latest_flag_status(con: Any, kind: str) -> dict[str, Any] | None:
    """The newest dataset version (`kind` "dataset") or artifact of `kind` with its revocation flags.

    None when there is none yet. `flags` is empty when it holds no revoked data.
    """
    if kind == "dataset":
        row = con.execute("SELECT dataset_version FROM datasets ORDER BY created_at DESC LIMIT 1").fetchone()
        latest = {"artifact_id": row[0], "kind": "dataset", "sha256": None, "run_id": None} if row else None
    else:
        latest = lineage.latest_artifact(con, kind)
    if latest is None:
        return None
    flags = [f for f in lineage.artifact_flags(con, [latest["artifact_id"]]) if f["flag"] == FLAG_REVOKED]
    return {
        "artifact_id": latest["artifact_id"],
        "kind": kind,
        "sha256": latest.get("sha256"),
        "flags": flags,
        "revocation_files": sorted({f["revocation_file_sha256"] for f in flags}),
    }
