"""The hash-chained audit trail: a clean chain verifies; every edit, insertion and deletion is named."""

from __future__ import annotations

import json

import pytest

from clinical import audit, warehouse
from clinical.cli import main

EVENTS = [
    ("batch_ingested", {"batch": "b1", "source_sha256": "a" * 64, "rows": 12, "accepted": 11, "quarantined": 1}),
    ("dataset_created", {"dataset_version": "ds1", "examples": 40, "by_split": {"train": 32, "test": 8}}),
    ("artifact_registered", {"artifact_id": "lora_1", "kind": "lora_adapter", "sha256": "b" * 64, "run_id": "r1"}),
    ("promotion", {"artifact_id": "lora_1", "stage": "production", "approved_by": "reviewer_key_1"}),
    ("review_decision", {"synthetic_id": "syn_1", "decision": "approved", "rule": "r2"}),
]


@pytest.fixture
def trail(tmp_path):
    """A warehouse with five events and its anchor; yields (warehouse path, anchor path)."""
    path = tmp_path / "warehouse.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    anchor = audit.anchor_path(path)
    with warehouse.connect(path) as con:
        for event_type, payload in EVENTS:
            audit.record(con, anchor, event_type, payload)
    return path, anchor


def check(path, anchor) -> audit.VerifyResult:
    with warehouse.connect(path, read_only=True) as con:
        return audit.verify(con, audit.read_anchor(anchor))


def forge(con, seq: int, prev_hash: str, event_type: str = "rollback", payload: str = '{"artifact_id":"x"}') -> None:
    """Insert a self-consistent event, as someone who knows the hashing scheme would."""
    at = "2026-11-27T00:00:00.000000+00:00"
    digest = audit.event_hash(prev_hash, seq, at, event_type, payload)
    con.execute("INSERT INTO audit_events VALUES (?, ?, ?, ?, ?, ?)", [seq, at, event_type, payload, prev_hash, digest])


def test_clean_chain_verifies(trail) -> None:
    result = check(*trail)
    assert result.ok and result.events == 5 and result.head_seq == 5 and result.bad_seq is None
    assert json.loads(trail[1].read_text()) == {"seq": 5, "hash": result.head_hash}
    with warehouse.connect(trail[0], read_only=True) as con:
        chain = audit.events(con)
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(chain, chain[1:], strict=False))
    assert json.loads(chain[1].payload)["dataset_version"] == "ds1"


def test_empty_trail_verifies(tmp_path) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    assert check(path, audit.anchor_path(path)).ok


def _edit_payload(con) -> None:
    con.execute("""UPDATE audit_events SET payload = '{"artifact_id":"lora_2"}' WHERE seq = 3""")


def _edit_type(con) -> None:
    con.execute("UPDATE audit_events SET event_type = 'rollback' WHERE seq = 3")


def _edit_and_rehash(con) -> None:
    """Edit seq 3 and recompute its own hash: seq 4's prev_hash no longer matches."""
    row = con.execute("SELECT recorded_at, prev_hash FROM audit_events WHERE seq = 3").fetchone()
    payload = '{"artifact_id":"lora_2"}'
    digest = audit.event_hash(row[1], 3, row[0], "artifact_registered", payload)
    con.execute("UPDATE audit_events SET payload = ?, hash = ? WHERE seq = 3", [payload, digest])


def _insert_middle(con) -> None:
    """Shift seq 3.. up by one and forge a new seq 3 that chains onto seq 2."""
    prev = con.execute("SELECT hash FROM audit_events WHERE seq = 2").fetchone()[0]
    for seq in (5, 4, 3):
        con.execute("UPDATE audit_events SET seq = seq + 1 WHERE seq = ?", [seq])
    forge(con, 3, prev)


def _append_tail(con) -> None:
    forge(con, 6, con.execute("SELECT hash FROM audit_events WHERE seq = 5").fetchone()[0])


def _delete_middle(con) -> None:
    con.execute("DELETE FROM audit_events WHERE seq = 3")


def _delete_last(con) -> None:
    con.execute("DELETE FROM audit_events WHERE seq = 5")


def _delete_all(con) -> None:
    con.execute("DELETE FROM audit_events")


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "reason"),
    [
        (_edit_payload, 3, "edited"),
        (_edit_type, 3, "edited"),
        (_edit_and_rehash, 4, "prev_hash"),
        (_insert_middle, 4, "prev_hash"),
        (_append_tail, 6, "appended"),
        (_delete_middle, 3, "missing"),
        (_delete_last, 5, "tail deleted"),
        (_delete_all, 1, "tail deleted"),
    ],
)
def test_tampering_is_detected(trail, tamper, bad_seq, reason) -> None:
    with warehouse.connect(trail[0]) as con:
        tamper(con)
    result = check(*trail)
    assert not result.ok
    assert result.bad_seq == bad_seq, result.reason
    assert reason in result.reason


def test_missing_or_edited_anchor_is_detected(trail) -> None:
    path, anchor = trail
    anchor.write_text(json.dumps({"seq": 5, "hash": "f" * 64}))
    assert "rewritten" in check(path, anchor).reason
    anchor.unlink()
    assert "anchor missing" in check(path, anchor).reason
    anchor.write_text("{not json")
    with pytest.raises(audit.AnchorError):
        audit.read_anchor(anchor)


def test_cli_reports_an_unreadable_anchor(trail, monkeypatch, capsys) -> None:
    path, anchor = trail
    monkeypatch.setenv("CLINICAL_HOME", str(path.parent))
    anchor.write_text('{"seq": "x"}')
    assert main(["audit", "verify"]) == 1
    assert "anchor" in capsys.readouterr().err


def test_anchor_never_moves_backwards(tmp_path) -> None:
    anchor = tmp_path / audit.ANCHOR_NAME
    audit.write_anchor(anchor, audit.Anchor(7, "a" * 64))
    audit.write_anchor(anchor, audit.Anchor(6, "b" * 64))
    assert audit.read_anchor(anchor) == audit.Anchor(7, "a" * 64)
    assert [p.name for p in tmp_path.iterdir()] == [audit.ANCHOR_NAME]


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "Patient John Smith"},
        {"nested": [{"record_id": "MRN-1"}]},
        {"note": "x" * (audit.MAX_STRING + 1)},
        {"when": object()},
    ],
)
def test_payloads_that_could_carry_phi_are_refused(tmp_path, payload) -> None:
    path = tmp_path / "warehouse.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    with warehouse.connect(path) as con, pytest.raises(audit.AuditPayloadError):
        audit.append_event(con, "artifact_registered", payload)
    with warehouse.connect(path) as con:
        assert audit.events(con) == []


def test_cli_audit_verify(trail, monkeypatch, capsys) -> None:
    path, _anchor = trail
    monkeypatch.setenv("CLINICAL_HOME", str(path.parent))
    assert main(["audit", "verify"]) == 0
    assert "intact: 5 events" in capsys.readouterr().out
    assert main(["audit", "verify", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    with warehouse.connect(path) as con:
        _delete_middle(con)
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["clinical: audit trail broken at seq 3: seq 3 missing before seq 4: event(s) deleted"]


def test_cli_audit_verify_without_warehouse(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLINICAL_HOME", str(tmp_path))
    assert main(["audit", "verify"]) == 2
    assert "no warehouse" in capsys.readouterr().err


def test_warehouse_resource_audits_every_artifact_registration(tmp_path) -> None:
    from resources import Warehouse

    resource = Warehouse(path=str(tmp_path / "warehouse.duckdb"), restricted_path=str(tmp_path / "r" / "raw.duckdb"))
    resource.register_artifact(
        "run-1",
        artifact_id="base_1",
        kind="base_model",
        path="/models/base",
        sha256="c" * 64,
        parents={},
        details={"licence": "apache-2.0"},
        code_version="cv1",
    )
    resource.audit("promotion", {"artifact_id": "base_1", "stage": "staging"})
    with warehouse.connect(resource.path, read_only=True) as con:
        chain = audit.events(con)
        assert audit.verify(con, audit.read_anchor(resource.audit_anchor_path)).ok
    assert [e.event_type for e in chain] == ["artifact_registered", "promotion"]
    assert json.loads(chain[0].payload) == {
        "artifact_id": "base_1",
        "kind": "base_model",
        "sha256": "c" * 64,
        "parents": {},
        "code_version": "cv1",
        "run_id": "run-1",
    }
