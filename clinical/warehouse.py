"""DuckDB storage in two zones.

- The restricted zone (`raw.duckdb`, file mode 0600) holds raw notes with PHI and the quarantine of
  raw lines. Only `raw_notes` and `deidentified_notes` open it.
- The de-identified zone (`warehouse.duckdb`) holds everything downstream, plus the lineage tables
  that tie every artifact to its parents. It never holds PHI.

DuckDB lets one process write a file at a time, and the Dagster daemon, webserver and runs are
separate processes: connections are short-lived and retried while another process holds the lock.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

RESTRICTED_SCHEMA = """
CREATE TABLE IF NOT EXISTS raw_notes (
    note_id VARCHAR PRIMARY KEY, batch VARCHAR NOT NULL, record_id VARCHAR NOT NULL,
    patient_id VARCHAR NOT NULL, patient_key VARCHAR NOT NULL, note_type VARCHAR, note_date VARCHAR,
    text VARCHAR NOT NULL, text_sha256 VARCHAR NOT NULL, source_path VARCHAR NOT NULL,
    source_sha256 VARCHAR NOT NULL, row_number INTEGER NOT NULL, run_id VARCHAR,
    ingested_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS raw_quarantine (
    batch VARCHAR NOT NULL, source_path VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    row_number INTEGER NOT NULL, reason VARCHAR NOT NULL, raw_line VARCHAR, run_id VARCHAR,
    quarantined_at TIMESTAMP DEFAULT current_timestamp
);
"""

WAREHOUSE_SCHEMA = """
CREATE TABLE IF NOT EXISTS landing_sources (
    batch VARCHAR PRIMARY KEY, path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, rows INTEGER,
    accepted INTEGER, quarantined INTEGER, run_id VARCHAR, ingested_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS quarantine_log (
    batch VARCHAR NOT NULL, source_path VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    row_number INTEGER NOT NULL, reason VARCHAR NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS deidentified_notes (
    note_id VARCHAR PRIMARY KEY, batch VARCHAR NOT NULL, patient_key VARCHAR NOT NULL,
    note_type VARCHAR, text VARCHAR NOT NULL, text_sha256 VARCHAR NOT NULL,
    raw_text_sha256 VARCHAR NOT NULL, source_path VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL,
    row_number INTEGER NOT NULL, policy VARCHAR NOT NULL, policy_fingerprint VARCHAR NOT NULL,
    phi_spans INTEGER NOT NULL, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS phi_span_audit (
    note_id VARCHAR NOT NULL, start_offset INTEGER NOT NULL, end_offset INTEGER NOT NULL,
    phi_type VARCHAR NOT NULL, score DOUBLE, policy_fingerprint VARCHAR NOT NULL
);
-- where each replacement sits in the de-identified text (residual scan skips exactly these; docs/DEID.md)
ALTER TABLE phi_span_audit ADD COLUMN IF NOT EXISTS output_start INTEGER;
ALTER TABLE phi_span_audit ADD COLUMN IF NOT EXISTS output_end INTEGER;
CREATE TABLE IF NOT EXISTS annotations (
    annotation_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, note_id VARCHAR, doc_id VARCHAR,
    patient_key VARCHAR, text VARCHAR, entities JSON NOT NULL, source_files JSON NOT NULL,
    annotator VARCHAR, guideline_version VARCHAR, run_id VARCHAR
);
CREATE TABLE IF NOT EXISTS synthetic_notes (
    synthetic_id VARCHAR PRIMARY KEY, patient_key VARCHAR NOT NULL, note_type VARCHAR,
    text VARCHAR NOT NULL, entities JSON NOT NULL, generator_version VARCHAR NOT NULL,
    seed INTEGER NOT NULL, review_status VARCHAR NOT NULL, review_rule VARCHAR, run_id VARCHAR
);
-- synthetic review loop and privacy guards (clinical/review.py, clinical/privacy.py, docs/SYNTHETIC.md)
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS reviewer VARCHAR;
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS review_reason VARCHAR;
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS reviewed_at VARCHAR;
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS edge_cases JSON;
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS privacy_longest_run INTEGER;
ALTER TABLE synthetic_notes ADD COLUMN IF NOT EXISTS profile VARCHAR;
CREATE TABLE IF NOT EXISTS synthetic_review_decisions (
    file_sha256 VARCHAR NOT NULL, line INTEGER NOT NULL, file VARCHAR NOT NULL, synthetic_id VARCHAR NOT NULL,
    decision VARCHAR NOT NULL, reviewer VARCHAR NOT NULL, reason VARCHAR, decided_at VARCHAR NOT NULL,
    run_id VARCHAR, recorded_at TIMESTAMP DEFAULT current_timestamp, PRIMARY KEY (file_sha256, line)
);
CREATE TABLE IF NOT EXISTS dp_releases (
    release_id VARCHAR PRIMARY KEY, source_fingerprint VARCHAR NOT NULL, epsilon DOUBLE NOT NULL,
    spec VARCHAR NOT NULL, noise VARCHAR NOT NULL, release JSON NOT NULL, run_id VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS sft_examples (
    dataset_version VARCHAR NOT NULL, example_id VARCHAR NOT NULL, split VARCHAR NOT NULL,
    source VARCHAR NOT NULL, patient_key VARCHAR NOT NULL, parents JSON NOT NULL,
    text VARCHAR NOT NULL, entities JSON NOT NULL, messages JSON NOT NULL,
    PRIMARY KEY (dataset_version, example_id)
);
CREATE TABLE IF NOT EXISTS datasets (
    dataset_version VARCHAR PRIMARY KEY, report JSON NOT NULL, run_id VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS artifacts (
    artifact_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR,
    parents JSON NOT NULL, details JSON NOT NULL, code_version VARCHAR, run_id VARCHAR,
    created_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS drift_references (
    reference_version VARCHAR PRIMARY KEY, dataset_version VARCHAR NOT NULL, profile JSON NOT NULL,
    run_id VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS residual_phi_findings (
    batch VARCHAR NOT NULL, note_id VARCHAR NOT NULL, text_sha256 VARCHAR NOT NULL,
    phi_type VARCHAR NOT NULL, findings INTEGER NOT NULL, scanner_version VARCHAR NOT NULL,
    run_id VARCHAR, scanned_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS audit_events (
    seq BIGINT PRIMARY KEY, recorded_at VARCHAR NOT NULL, event_type VARCHAR NOT NULL, payload JSON NOT NULL,
    prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL
);
-- annotations: golden sets, adjudication (is_primary), provenance; sft_examples: the note type (docs/DATA.md)
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS golden BOOLEAN DEFAULT false;
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS golden_rule VARCHAR;
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS is_primary BOOLEAN DEFAULT true;
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS note_type VARCHAR;
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS annotated_at VARCHAR;
ALTER TABLE annotations ADD COLUMN IF NOT EXISTS text_sha256 VARCHAR;
ALTER TABLE sft_examples ADD COLUMN IF NOT EXISTS note_type VARCHAR;
CREATE TABLE IF NOT EXISTS consent_revocations (
    revocation_id VARCHAR PRIMARY KEY, file_name VARCHAR NOT NULL, file_sha256 VARCHAR NOT NULL,
    line_number INTEGER NOT NULL, patient_key VARCHAR, note_id VARCHAR, reason_code VARCHAR NOT NULL,
    requested_at VARCHAR NOT NULL, requested_by VARCHAR NOT NULL, recorded_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS artifact_flags (
    artifact_id VARCHAR NOT NULL, kind VARCHAR NOT NULL, flag VARCHAR NOT NULL, revocation_file_sha256 VARCHAR NOT NULL,
    records INTEGER, flagged_at TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (artifact_id, flag, revocation_file_sha256)
);
-- landing_sources: each batch's data-use manifest (clinical/intake.py, docs/CONTRACTS.md)
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS protocol_id VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS dua_id VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS approving_body VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS permitted_purposes JSON;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS approval_expires VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS data_steward VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS manifest_path VARCHAR;
ALTER TABLE landing_sources ADD COLUMN IF NOT EXISTS manifest_sha256 VARCHAR;
"""


def _open(path: Path, read_only: bool, timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def initialize(path: str | Path, schema: str, restricted: bool = False) -> None:
    """Create the database file and its tables if missing; restricted files are made mode 0600."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077) if restricted else None
    try:
        with connect(path) as con:
            con.execute(schema)
    finally:
        if old_umask is not None:
            os.umask(old_umask)
    if restricted:
        os.chmod(path, 0o600)
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            os.chmod(wal, 0o600)


@contextmanager
def connect(path: str | Path, read_only: bool = False, timeout_s: float = 120.0) -> Iterator[Any]:
    """A short-lived DuckDB connection, retried while another process holds the file lock."""
    con = _open(Path(path), read_only, timeout_s)
    try:
        yield con
    finally:
        con.close()


def insert_rows(con: Any, table: str, rows: list[dict[str, Any]], or_replace: bool = False) -> int:
    """Insert dicts into `table` (lists/dicts stored as JSON); `or_replace` overwrites equal keys."""
    if not rows:
        return 0
    columns = list(rows[0])
    placeholders = ", ".join("?" for _ in columns)
    values = [
        [json.dumps(r[c], ensure_ascii=False) if isinstance(r[c], list | dict) else r[c] for c in columns] for r in rows
    ]
    verb = "INSERT OR REPLACE" if or_replace else "INSERT"
    con.executemany(f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)
    return len(rows)


def fetch_dicts(con: Any, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Run a query and return rows as dicts."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
