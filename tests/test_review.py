import json

import pytest

from clinical.review import (
    AUTO_APPROVAL_RULES,
    ReviewConfigError,
    read_decision_file,
    read_review_folder,
    review_outcomes,
)

A, B, C, D = (f"syn_{c * 32}" for c in "abcd")


def _line(synthetic_id, decision="approved", reviewer="dr.lee@hospital.example", reason="", ts="2026-11-27T10:00:00Z"):
    return json.dumps(
        {"synthetic_id": synthetic_id, "decision": decision, "reviewer": reviewer, "reason": reason, "timestamp": ts}
    )


def test_jsonl_decisions_bad_lines_named_valid_lines_kept(tmp_path):
    path = tmp_path / "batch1.jsonl"
    lines = [
        _line(A),
        "{not json",
        _line(B, decision="maybe"),
        _line(C, decision="rejected"),  # no reason
        json.dumps({"synthetic_id": D, "decision": "approved", "timestamp": "2026-11-27T10:00:00Z"}),
        _line(D, ts="yesterday"),
        _line(D, ts="2026-11-27T10:00:00"),  # no time zone
        _line("note_123"),
        "",
        _line(B, decision="REJECTED", reason="dose of tobramycin implausible for age"),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe broken\n")
    decisions, errors, digest = read_decision_file(path)
    assert [(d.synthetic_id, d.decision, d.line) for d in decisions] == [(A, "approved", 1), (B, "rejected", 10)]
    assert decisions[0].file == "batch1.jsonl" and decisions[0].file_sha256 == digest
    reasons = {e.line: e.reason for e in errors}
    assert set(reasons) == {2, 3, 4, 5, 6, 7, 8, 11}
    assert reasons[2].startswith("malformed JSON") and "approved, rejected" in reasons[3]
    assert reasons[4] == "a rejection needs a reason" and reasons[5] == "missing field 'reviewer'"
    assert "ISO 8601" in reasons[6] and "time zone" in reasons[7] and "32 hex" in reasons[8]
    assert reasons[11] == "line is not valid UTF-8"
    assert str(errors[0]) == f"batch1.jsonl:2: {reasons[2]}"


def test_csv_decisions_and_bad_csv_files(tmp_path):
    good = tmp_path / "a.csv"
    good.write_text(
        "synthetic_id,decision,reviewer,reason,timestamp\n"
        f"{A},approved,rn.kim,,2026-11-27T09:00:00+01:00\n"
        f'{B},rejected,rn.kim,"copy-forward text, contradicts plan",2026-11-27T09:05:00Z\n'
        f"{C},approved,rn.kim\n"
    )
    decisions, errors, _ = read_decision_file(good)
    assert [(d.synthetic_id, d.decision) for d in decisions] == [(A, "approved"), (B, "rejected")]
    assert decisions[1].reason == "copy-forward text, contradicts plan"
    assert [(e.line, e.reason) for e in errors] == [(4, "3 columns, the header has 5")]
    bad_header = tmp_path / "b.csv"
    bad_header.write_text(f"id,decision\n{A},approved\n")
    assert read_decision_file(bad_header)[1][0].reason == "CSV header lacks synthetic_id, reviewer, timestamp"
    empty = tmp_path / "c.csv"
    empty.write_text("")
    assert read_decision_file(empty)[1][0].reason == "empty CSV file (no header row)"


def test_folder_latest_decision_wins(tmp_path):
    assert read_review_folder(tmp_path / "missing").decisions == {}
    assert read_review_folder(None).decisions == {}
    (tmp_path / "1.jsonl").write_text(_line(A, "rejected", reason="odd", ts="2026-11-27T12:00:00Z") + "\n")
    (tmp_path / "2.jsonl").write_text(_line(A, "approved", ts="2026-11-27T11:00:00Z") + "\n" + _line(B) + "\n")
    (tmp_path / "notes.txt").write_text("ignored")
    folder = read_review_folder(tmp_path)
    assert folder.decisions[A].decision == "rejected" and folder.decisions[B].decision == "approved"
    assert folder.superseded == 1 and [f["file"] for f in folder.files] == ["1.jsonl", "2.jsonl"]
    assert all(len(f["sha256"]) == 64 for f in folder.files)


def test_outcomes_guard_then_reviewer_then_rule_then_pending(tmp_path):
    (tmp_path / "r.jsonl").write_text(
        _line(A) + "\n" + _line(B, "rejected", reason="implausible labs") + "\n" + _line(C) + "\n"
    )
    decisions = read_review_folder(tmp_path).decisions
    guard = {C: "privacy guard: reproduces 9 consecutive tokens"}
    pending = review_outcomes([A, B, C, D], guard, decisions, "none")
    assert {k: (v.status, v.rule) for k, v in pending.items()} == {
        A: ("approved", "reviewer"),
        B: ("rejected", "reviewer"),
        C: ("rejected", "privacy_guard"),  # a reviewer's approval does not override the guard
        D: ("pending", None),
    }
    assert pending[A].reviewer == "dr.lee@hospital.example" and pending[A].decision_file == "r.jsonl:1"
    assert pending[B].reason == "implausible labs" and pending[C].reason.startswith("privacy guard")
    auto = review_outcomes([A, D], guard, decisions, "all_pass_privacy_guard")
    assert (auto[D].status, auto[D].rule) == ("approved", "all_pass_privacy_guard") and auto[A].rule == "reviewer"
    assert set(AUTO_APPROVAL_RULES) == {"none", "all_pass_privacy_guard"}
    with pytest.raises(ReviewConfigError, match="unknown auto-approval rule 'yolo'"):
        review_outcomes([A], {}, {}, "yolo")
