"""Signed release manifests, the release registry (promote / rollback) and its audit events."""

from __future__ import annotations

import copy
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clinical import audit, warehouse
from clinical.cli import main
from clinical.serving import release
from clinical.serving.release import ReleaseError, ReleaseRegistry, ReleaseVerificationError

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def _manifest(tag: str = "clinical_extraction:aaaa", digest: str = H1) -> dict:
    return release.make_release_manifest(
        tag,
        {"merged_model": digest, "adapter": H2},
        {"micro_f1": 0.41, "json_validity": 0.97},
        H3,
        {"bento": f"bento_{tag}", "merged_model": "merged_x"},
        created_at="2026-11-27T10:00:00+00:00",
    )


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_sign_verify_round_trip(key):
    manifest = _manifest()
    signed = release.sign_manifest(manifest, key)
    assert signed["algorithm"] == "ed25519"
    assert signed["key_fingerprint"] == release.public_key_fingerprint(key.public_key())
    assert release.verify_manifest(json.loads(json.dumps(signed)), key.public_key()) == manifest


def _tampered(signed: dict, how: str) -> dict:
    bad = copy.deepcopy(signed)
    if how == "tag":
        bad["manifest"]["bento_tag"] = "clinical_extraction:evil"
    elif how == "hash":
        bad["manifest"]["model_sha256"]["merged_model"] = "f" * 64
    elif how == "evaluation":
        bad["manifest"]["evaluation"]["micro_f1"] = 0.99
    elif how == "signature":
        sig = bytearray(release.base64.b64decode(bad["signature"]))
        sig[0] ^= 1
        bad["signature"] = release.base64.b64encode(bytes(sig)).decode()
    elif how == "extra_field":
        bad["manifest"]["note"] = "x"
    return bad


@pytest.mark.parametrize("how", ["tag", "hash", "evaluation", "signature", "extra_field"])
def test_tampered_manifest_is_refused(key, how):
    signed = release.sign_manifest(_manifest(), key)
    with pytest.raises(ReleaseVerificationError):
        release.verify_manifest(_tampered(signed, how), key.public_key())


def test_other_key_is_refused(key):
    other = Ed25519PrivateKey.generate()
    signed = release.sign_manifest(_manifest(), other)
    with pytest.raises(ReleaseVerificationError, match="not the configured key"):
        release.verify_manifest(signed, key.public_key())
    # A forged fingerprint does not help: the signature itself fails.
    signed["key_fingerprint"] = release.public_key_fingerprint(key.public_key())
    with pytest.raises(ReleaseVerificationError, match="signature does not match"):
        release.verify_manifest(signed, key.public_key())


def test_bad_manifest_inputs_are_clear_errors():
    with pytest.raises(ReleaseError, match="sha256"):
        release.make_release_manifest("clinical_extraction:a", {"m": "nothex"}, {}, None, [])
    with pytest.raises(ReleaseError, match="bento_tag"):
        release.make_release_manifest("notag", {"m": H1}, {}, None, [])


def test_keygen_private_key_is_0600_and_never_overwritten(tmp_path: Path):
    private_path, public_path = release.generate_keypair(tmp_path / "keys")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    key = release.load_private_key(private_path)
    assert release.public_key_fingerprint(key.public_key()) == release.public_key_fingerprint(
        release.load_public_key(public_path)
    )
    with pytest.raises(ReleaseError, match="refusing to overwrite"):
        release.generate_keypair(tmp_path / "keys")
    private_path.chmod(0o644)
    with pytest.raises(ReleaseError, match="chmod 600"):
        release.load_private_key(private_path)


def test_promote_switches_and_rollback_restores(tmp_path: Path, key):
    registry = ReleaseRegistry(tmp_path / "releases")
    events: list[tuple[str, dict]] = []
    first = release.sign_manifest(_manifest("clinical_extraction:v1", H1), key)
    second = release.sign_manifest(_manifest("clinical_extraction:v2", H2), key)
    registry.promote(first, key.public_key(), audit=lambda t, p: events.append((t, p)))
    out = registry.promote(second, key.public_key(), audit=lambda t, p: events.append((t, p)))
    assert out["bento_tag"] == "clinical_extraction:v2" and out["changed"] is True
    active = registry.read_active()
    assert active["previous"][0]["bento_tag"] == "clinical_extraction:v1"
    assert registry.promote(second, key.public_key())["changed"] is False

    back = registry.rollback(key.public_key(), audit=lambda t, p: events.append((t, p)))
    assert back["bento_tag"] == "clinical_extraction:v1"
    assert registry.read_active()["previous"] == []
    assert len(list(registry.manifests.glob("*.json"))) == 2  # the rolled-back release stays stored
    assert [t for t, _ in events] == ["release_promoted", "release_promoted", "release_rolled_back"]
    assert set(events[0][1]) == {"bento_tag", "manifest_sha256"}
    with pytest.raises(ReleaseError, match="no previous release"):
        registry.rollback(key.public_key())
    assert not list(registry.root.glob(".active.*"))  # no temporary files left behind


def test_tampered_promote_leaves_active_unchanged(tmp_path: Path, key):
    registry = ReleaseRegistry(tmp_path / "releases")
    registry.promote(release.sign_manifest(_manifest("clinical_extraction:v1"), key), key.public_key())
    before = registry.active_path.read_bytes()
    bad = _tampered(release.sign_manifest(_manifest("clinical_extraction:v2", H2), key), "tag")
    with pytest.raises(ReleaseVerificationError):
        registry.promote(bad, key.public_key())
    assert registry.active_path.read_bytes() == before
    assert len(list(registry.manifests.glob("*.json"))) == 1


def test_failed_audit_reverts_the_switch(tmp_path: Path, key):
    registry = ReleaseRegistry(tmp_path / "releases")
    registry.promote(release.sign_manifest(_manifest("clinical_extraction:v1"), key), key.public_key())
    before = registry.active_path.read_bytes()

    def broken(_t, _p):
        raise RuntimeError("warehouse locked")

    with pytest.raises(RuntimeError):
        registry.promote(release.sign_manifest(_manifest("clinical_extraction:v2", H2), key), key.public_key(), broken)
    assert registry.active_path.read_bytes() == before


def test_rollback_refuses_a_tampered_stored_release(tmp_path: Path, key):
    registry = ReleaseRegistry(tmp_path / "releases")
    first = release.sign_manifest(_manifest("clinical_extraction:v1"), key)
    registry.promote(first, key.public_key())
    registry.promote(release.sign_manifest(_manifest("clinical_extraction:v2", H2), key), key.public_key())
    stored = registry.manifests / f"{release.manifest_sha256(first['manifest'])}.json"
    stored.write_text(json.dumps(_tampered(first, "hash")))
    before = registry.active_path.read_bytes()
    with pytest.raises(ReleaseVerificationError):
        registry.rollback(key.public_key())
    assert registry.active_path.read_bytes() == before
    assert registry.status(key.public_key())["previous"][0]["verified"] is False


def test_cli_keygen_promote_rollback_status_and_audit(tmp_path: Path, monkeypatch, capsys):
    home = tmp_path / "home"
    monkeypatch.setenv("CLINICAL_HOME", str(home))
    monkeypatch.delenv("CLINICAL_RELEASES_DIR", raising=False)
    assert main(["release", "keygen", "--out", str(tmp_path / "keys")]) == 0
    keys = json.loads(capsys.readouterr().out)
    assert stat.S_IMODE(Path(keys["private_key"]).stat().st_mode) == 0o600
    monkeypatch.setenv("CLINICAL_RELEASE_PUBLIC_KEY", keys["public_key"])

    paths = []
    for tag, digest in (("clinical_extraction:v1", H1), ("clinical_extraction:v2", H2)):
        unsigned = tmp_path / f"{digest[:4]}.manifest.json"
        unsigned.write_text(json.dumps(_manifest(tag, digest)))
        signed = tmp_path / f"{digest[:4]}.signed.json"
        assert main(["release", "sign", str(unsigned), "--key", keys["private_key"], "--output", str(signed)]) == 0
        paths.append(signed)
    assert main(["release", "promote", str(paths[0])]) == 0
    assert main(["release", "promote", str(paths[1])]) == 0

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(_tampered(json.loads(paths[1].read_text()), "tag")))
    active = (home / "releases" / "active").read_bytes()
    assert main(["release", "promote", str(forged)]) == 1
    assert "release refused" in capsys.readouterr().err
    assert (home / "releases" / "active").read_bytes() == active

    assert main(["release", "rollback"]) == 0
    capsys.readouterr()
    assert main(["release", "status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["active"]["bento_tag"] == "clinical_extraction:v1" and status["active"]["verified"] is True

    assert main(["audit", "verify"]) == 0
    with warehouse.connect(home / "warehouse.duckdb", read_only=True) as con:
        chain = audit.events(con)
    assert [e.event_type for e in chain] == ["release_promoted", "release_promoted", "release_rolled_back"]
    assert set(json.loads(chain[0].payload)) == {"bento_tag", "manifest_sha256"}

    monkeypatch.delenv("CLINICAL_RELEASE_PUBLIC_KEY")
    assert main(["release", "rollback"]) == 2
    assert "CLINICAL_RELEASE_PUBLIC_KEY" in capsys.readouterr().err
