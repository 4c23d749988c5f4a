"""The review loop of synthetic notes: reviewers' decision files, named auto-approval rules, outcomes.

A synthetic record is `pending` until one of these decides it, in this order:

1. the privacy guard (clinical.privacy): a record that reproduces a long n-gram of real text is
   `rejected`, whatever a reviewer or a rule says (review_rule `privacy_guard`);
2. a reviewer's decision from a decision file in the review folder (review_rule `reviewer`);
3. the auto-approval rule named in the run config, e.g. `all_pass_privacy_guard` (review_rule is the
   rule's name; the rule and its counts go to lineage and the audit trail);
4. otherwise the record stays `pending`, and only `approved` records reach training.

Decision files (`*.jsonl` or `*.csv` in the review folder, read in name order, UTF-8), one decision
per line / row with the fields

| field | meaning |
|---|---|
| synthetic_id | the record's id (`syn_` + 32 hex digits), as shown by the asset |
| decision | `approved` or `rejected` |
| reviewer | who decided: a staff id or e-mail (not a patient identifier), 1-128 characters |
| reason | free text, required for `rejected`, at most 500 characters |
| timestamp | ISO 8601 with a time zone, e.g. `2026-11-27T10:15:00Z` |

CSV files start with that header row. When several decisions name one record, the latest timestamp
wins (then the later file and line). A bad line (malformed JSON, missing or wrong field, unknown
decision, bad timestamp, non-UTF-8 bytes) is refused with an error naming the file and line; every
valid line of the same file is kept.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from clinical.ids import sha256_bytes

DECISIONS = ("approved", "rejected")
FIELDS = ("synthetic_id", "decision", "reviewer", "reason", "timestamp")
SYNTHETIC_ID = re.compile(r"^syn_[0-9a-f]{32}$")
MAX_REVIEWER = 128
MAX_REASON = 500

# Named auto-approval rules; the name is what the run config gives and what lineage records.
AUTO_APPROVAL_RULES: dict[str, str] = {
    "none": "no auto-approval: records without a reviewer decision stay pending",
    "all_pass_privacy_guard": "approve every record that passes the privacy guard and has no reviewer decision",
}
GUARD_RULE = "privacy_guard"
REVIEWER_RULE = "reviewer"


class ReviewConfigError(ValueError):
    """An auto-approval rule that does not exist."""


@dataclass(frozen=True)
class Decision:
    """One reviewer decision, with the file, its sha256 and the line it came from."""

    synthetic_id: str
    decision: str
    reviewer: str
    reason: str
    timestamp: str
    file: str
    file_sha256: str
    line: int

    def sort_key(self) -> tuple[datetime, str, int]:
        return (datetime.fromisoformat(self.timestamp.replace("Z", "+00:00")), self.file, self.line)


@dataclass(frozen=True)
class DecisionError:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ReviewDecisions:
    """Everything read from a review folder: the winning decision per record, refused lines, files."""

    decisions: dict[str, Decision] = field(default_factory=dict)
    errors: list[DecisionError] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    superseded: int = 0

    def all(self) -> list[Decision]:
        return sorted(self.decisions.values(), key=lambda d: d.synthetic_id)


def _validate(fields: Mapping[str, Any]) -> dict[str, str]:
    """The decision's fields, checked; raises ValueError with a one-line reason."""
    if not isinstance(fields, Mapping):
        raise ValueError(f"a decision must be an object, got {type(fields).__name__}")
    out: dict[str, str] = {}
    for name in FIELDS:
        value = fields.get(name, "" if name == "reason" else None)
        if value is None:
            raise ValueError(f"missing field {name!r}")
        if not isinstance(value, str):
            raise ValueError(f"field {name!r} must be a string, got {type(value).__name__}")
        out[name] = value.strip()
    if not SYNTHETIC_ID.match(out["synthetic_id"]):
        raise ValueError("synthetic_id must be 'syn_' followed by 32 hex digits")
    out["decision"] = out["decision"].lower()
    if out["decision"] not in DECISIONS:
        raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
    if not 0 < len(out["reviewer"]) <= MAX_REVIEWER or any(c in out["reviewer"] for c in "\r\n\t"):
        raise ValueError(f"reviewer must be 1-{MAX_REVIEWER} characters on one line")
    if len(out["reason"]) > MAX_REASON:
        raise ValueError(f"reason longer than {MAX_REASON} characters")
    if out["decision"] == "rejected" and not out["reason"]:
        raise ValueError("a rejection needs a reason")
    try:
        parsed = datetime.fromisoformat(out["timestamp"].replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("timestamp is not ISO 8601 (e.g. 2026-11-27T10:15:00Z)") from None
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a time zone (e.g. a trailing Z for UTC)")
    return out


def _lines(data: bytes) -> Iterable[tuple[int, str | None]]:
    """(line number, text) per line; text is None for a line that is not UTF-8."""
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            yield number, raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            yield number, None


def read_decision_file(path: str | Path) -> tuple[list[Decision], list[DecisionError], str]:
    """Parse one `.jsonl` or `.csv` decision file: (valid decisions, refused lines, file sha256)."""
    path = Path(path)
    data = path.read_bytes()
    digest = sha256_bytes(data)
    decisions: list[Decision] = []
    errors: list[DecisionError] = []
    header: list[str] | None = None
    for number, text in _lines(data):
        if text is None:
            errors.append(DecisionError(path.name, number, "line is not valid UTF-8"))
            continue
        if not text.strip():
            continue
        try:
            if path.suffix == ".jsonl":
                try:
                    fields = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"malformed JSON ({exc.msg})") from None
            else:
                row = next(csv.reader(io.StringIO(text)))
                if header is None:
                    header = [h.strip() for h in row]
                    missing = [f for f in FIELDS if f != "reason" and f not in header]
                    if missing:
                        errors.append(DecisionError(path.name, number, f"CSV header lacks {', '.join(missing)}"))
                        return [], errors, digest
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{len(row)} columns, the header has {len(header)}")
                fields = dict(zip(header, row, strict=True))
            valid = _validate(fields)
        except ValueError as exc:
            errors.append(DecisionError(path.name, number, str(exc)))
            continue
        decisions.append(Decision(**valid, file=path.name, file_sha256=digest, line=number))
    if path.suffix == ".csv" and header is None:
        errors.append(DecisionError(path.name, 1, "empty CSV file (no header row)"))
    return decisions, errors, digest


def read_review_folder(folder: str | Path | None) -> ReviewDecisions:
    """Every decision file of `folder` (missing or None: no decisions); the latest decision per record wins."""
    result = ReviewDecisions()
    if not folder or not Path(folder).is_dir():
        return result
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix in (".jsonl", ".csv")):
        decisions, errors, digest = read_decision_file(path)
        result.errors += errors
        result.files.append({"file": path.name, "sha256": digest, "decisions": len(decisions), "refused": len(errors)})
        for decision in decisions:
            current = result.decisions.get(decision.synthetic_id)
            if current is not None:
                result.superseded += 1
                if decision.sort_key() < current.sort_key():
                    continue
            result.decisions[decision.synthetic_id] = decision
    return result


@dataclass(frozen=True)
class ReviewOutcome:
    """The review state of one record."""

    status: str  # approved | rejected | pending
    rule: str | None  # privacy_guard | reviewer | <auto rule name> | None (pending)
    reviewer: str | None = None
    reason: str | None = None
    decided_at: str | None = None
    decision_file: str | None = None


def check_rule(auto_approve: str) -> str:
    if auto_approve not in AUTO_APPROVAL_RULES:
        raise ReviewConfigError(
            f"unknown auto-approval rule {auto_approve!r}; known: {', '.join(sorted(AUTO_APPROVAL_RULES))}"
        )
    return auto_approve


def review_outcomes(
    synthetic_ids: Iterable[str],
    guard_rejections: Mapping[str, str],
    decisions: Mapping[str, Decision],
    auto_approve: str,
) -> dict[str, ReviewOutcome]:
    """The review state of every record: guard rejection, else reviewer decision, else rule, else pending.

    guard_rejections: synthetic_id -> reason for records the privacy guard refused.
    """
    check_rule(auto_approve)
    outcomes = {}
    for synthetic_id in synthetic_ids:
        decision = decisions.get(synthetic_id)
        if synthetic_id in guard_rejections:
            outcomes[synthetic_id] = ReviewOutcome("rejected", GUARD_RULE, reason=guard_rejections[synthetic_id])
        elif decision is not None:
            outcomes[synthetic_id] = ReviewOutcome(
                decision.decision,
                REVIEWER_RULE,
                decision.reviewer,
                decision.reason or None,
                decision.timestamp,
                f"{decision.file}:{decision.line}",
            )
        elif auto_approve != "none":
            outcomes[synthetic_id] = ReviewOutcome("approved", auto_approve, reason=AUTO_APPROVAL_RULES[auto_approve])
        else:
            outcomes[synthetic_id] = ReviewOutcome("pending", None)
    return outcomes
