"""Signed releases meet serving: the deployment asset, verification before serving, `clinical serve
--check`, de-identification of requests, and model swaps on promote/rollback without dropped requests."""

from __future__ import annotations

import json
import shutil
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from modeling_fixtures import tiny_base  # noqa: F401 - session fixture
from serving_fixtures import tiny_bento  # noqa: F401 - session fixture

from clinical import audit, lineage, warehouse
from clinical.cli import main
from clinical.modeling.base_model import weights_sha256
from clinical.serving import active, deploy, release
from clinical.serving.batching import MicroBatcher
from clinical.serving.release import ReleaseError, ReleaseRegistry, ReleaseVerificationError
from clinical.serving.service import (
    Served,
    StaticModel,
    deidentify_mode,
    load_release,
    run_batch,
    should_deidentify,
)

# --- policy and summaries --------------------------------------------------------------------------


def test_deidentification_mode_and_decision():
    assert deidentify_mode({}) == "auto"
    assert deidentify_mode({"CLINICAL_DEIDENTIFY_REQUESTS": "Never"}) == "never"
    with pytest.raises(ValueError, match="CLINICAL_DEIDENTIFY_REQUESTS must be one of"):
        deidentify_mode({"CLINICAL_DEIDENTIFY_REQUESTS": "sometimes"})
    assert should_deidentify("auto", True) and not should_deidentify("auto", None)
    assert should_deidentify("always", False) and not should_deidentify("never", True)


def test_promotion_policy():
    passed, failed = {"passed": True}, {"passed": False}
    assert deploy.promotion_decision("development", passed).promote
    assert deploy.promotion_decision("staging", passed).promote
    assert not deploy.promotion_decision("production", passed).promote
    assert "clinical release promote" in deploy.promotion_decision("production", passed).reason
    assert not deploy.promotion_decision("development", failed).promote
    assert not deploy.promotion_decision("development", None).promote
    assert not deploy.promotion_decision("development", passed, auto_promote=False).promote


def test_evaluation_summary_keeps_numbers_and_the_gate():
    evaluation = {
        "artifact_id": "eval_1",
        "details": {
            "dataset_version": "ds1",
            "splits": {
                "test": {
                    "documents": 4,
                    "example_ids": ["ex1"],
                    "models": {"tuned": {"micro_f1": 0.4, "exact_micro_f1": 0.3, "json_validity": 1.0, "x": "t"}},
                }
            },
        },
    }
    decision = {
        "artifact_id": "gate_1",
        "details": {"passed": True, "split": "test", "label": "demo", "thresholds": {"profile": "demo"}},
    }
    summary = deploy.evaluation_summary(evaluation, decision)
    assert summary["splits"]["test"] == {
        "documents": 4,
        "models": {"tuned": {"micro_f1_relaxed": 0.4, "micro_f1_exact": 0.3, "json_validity": 1.0}},
    }
    assert summary["gate"] == {
        "passed": True,
        "split": "test",
        "label": "demo",
        "profile": "demo",
        "decision_id": "gate_1",
    }
    assert deploy.evaluation_summary(None) == {"evaluated": False}
    assert "gate" not in deploy.evaluation_summary(evaluation, None)


def test_signing_key_development_production_and_mismatch(tmp_path: Path):
    keys = tmp_path / "keys"
    first = deploy.resolve_signing_key(None, None, "development", keys)
    assert first.generated and stat.S_IMODE(first.private_path.stat().st_mode) == 0o600
    again = deploy.resolve_signing_key(None, None, "development", keys)
    assert not again.generated and again.fingerprint == first.fingerprint
    assert first.fingerprint[:16] in repr(first) and "PRIVATE" not in repr(first)
    with pytest.raises(ReleaseError, match="CLINICAL_RELEASE_SIGNING_KEY"):
        deploy.resolve_signing_key(None, None, "production", tmp_path / "prod")
    assert not (tmp_path / "prod").exists()
    configured = deploy.resolve_signing_key(first.private_path, first.public_path, "production", tmp_path / "x")
    assert configured.fingerprint == first.fingerprint and configured.source == "CLINICAL_RELEASE_SIGNING_KEY"
    _, other_public = release.generate_keypair(tmp_path / "other")
    with pytest.raises(ReleaseError, match="not one key pair"):
        deploy.resolve_signing_key(first.private_path, other_public, "production", tmp_path / "x")


# --- verification before serving -------------------------------------------------------------------


@pytest.fixture
def store(tiny_bento, tmp_path: Path):  # noqa: F811 - pytest fixture
    """A private copy of the tiny Bento's BentoML home (tests tamper with it) and the Bento's tag."""
    home, _model_tag, result = tiny_bento
    copy = tmp_path / "bentoml"
    shutil.copytree(home, copy, symlinks=True)
    return copy, result.tag


def _signed_release(home: Path, tag: str, key: Ed25519PrivateKey, created_at: str, **extra) -> dict:
    stored = active.find_bento(home, tag)
    hashes = {**active.bento_hashes(stored), "merged_model": weights_sha256(stored.model_path)}
    manifest = release.make_release_manifest(
        tag, hashes, {"evaluated": True}, None, {"bento": f"bento_{tag}"}, created_at=created_at, **extra
    )
    return release.sign_manifest(manifest, key)


def test_verify_release_refuses_tampered_manifest_bento_and_model(store, tmp_path: Path):
    home, tag = store
    key = Ed25519PrivateKey.generate()
    registry = ReleaseRegistry(tmp_path / "releases")
    with pytest.raises(ReleaseVerificationError, match="no active release"):
        active.verify_release(registry, key.public_key(), home)
    signed = _signed_release(home, tag, key, "2026-11-27T10:00:00+00:00")
    registry.promote(signed, key.public_key())
    verified = active.verify_release(registry, key.public_key(), home)
    assert verified.bento_tag == tag and verified.bento.model_path.is_dir()
    assert set(verified.describe()["model_sha256"]) == {"bento", "bento_model", "merged_model"}

    digest = registry.read_active()["manifest_sha256"]
    stored_manifest = registry.manifests / f"{digest}.json"
    original = stored_manifest.read_text()
    forged = json.loads(original)
    forged["manifest"]["model_sha256"]["bento_model"] = "0" * 64
    stored_manifest.write_text(json.dumps(forged))
    with pytest.raises(ReleaseVerificationError, match="signature does not match"):
        active.verify_release(registry, key.public_key(), home)
    stored_manifest.write_text(original)

    service_py = verified.bento.path / "src" / "clinical" / "serving" / "service.py"
    code = service_py.read_text()
    service_py.write_text(code + "\n# changed\n")
    with pytest.raises(ReleaseVerificationError, match="Bento folder .* does not match"):
        active.verify_release(registry, key.public_key(), home)
    service_py.write_text(code)

    config = verified.bento.model_path / "config.json"
    config.write_text(config.read_text().replace("{", '{"tampered": 1, ', 1))
    with pytest.raises(ReleaseVerificationError, match="model folder .* does not match"):
        active.verify_release(registry, key.public_key(), home)


def test_manifest_without_bento_hashes_is_not_servable(store, tmp_path: Path):
    home, tag = store
    key = Ed25519PrivateKey.generate()
    registry = ReleaseRegistry(tmp_path / "releases")
    manifest = release.make_release_manifest(tag, {"merged_model": "1" * 64}, {}, None, [])
    registry.promote(release.sign_manifest(manifest, key), key.public_key())
    with pytest.raises(ReleaseVerificationError, match="names no bento, bento_model hash"):
        active.verify_release(registry, key.public_key(), home)
    unknown = release.make_release_manifest(
        "clinical_extraction:nope", {"bento": "1" * 64, "bento_model": "2" * 64}, {}, None, []
    )
    registry.promote(release.sign_manifest(unknown, key), key.public_key())
    with pytest.raises(ReleaseVerificationError, match="not in the BentoML store"):
        active.verify_release(registry, key.public_key(), home)


def test_clinical_serve_check_verifies_and_refuses_a_tampered_release(store, tmp_path: Path, monkeypatch, capsys):
    home, tag = store
    clinical_home = tmp_path / "home"
    monkeypatch.setenv("CLINICAL_HOME", str(clinical_home))
    monkeypatch.setenv("BENTOML_HOME", str(home))
    for name in ("CLINICAL_RELEASES_DIR", "CLINICAL_RELEASE_PUBLIC_KEY", "CLINICAL_ENV"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve", "--check"]) == 2
    assert "no release public key" in capsys.readouterr().err

    signing = deploy.resolve_signing_key(None, None, "development", clinical_home / "keys")
    signed = _signed_release(home, tag, signing.private_key, "2026-11-27T10:00:00+00:00")
    manifest_file = deploy.write_signed_manifest(signed, tmp_path / "out")
    assert main(["release", "promote", str(manifest_file)]) == 0  # the development public key is found
    capsys.readouterr()
    assert main(["serve", "--check"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["verified"]["bento_tag"] == tag

    registry = ReleaseRegistry(clinical_home / "releases")
    stored = registry.manifests / f"{registry.read_active()['manifest_sha256']}.json"
    forged = json.loads(stored.read_text())
    forged["manifest"]["bento_tag"] = "clinical_extraction:other"
    stored.write_text(json.dumps(forged))
    assert main(["serve", "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("clinical: serve refused:") and len(err.strip().splitlines()) == 1


# --- what reaches the model --------------------------------------------------------------------------


class Recording:
    """Wraps a real Extractor and keeps the texts the model was given."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_info = inner.model_info
        self.seen: list[str] = []

    def extract(self, text: str):
        self.seen.append(text)
        return self.inner.extract(text)


def test_requests_are_deidentified_before_inference_when_configured(tiny_base):  # noqa: F811 - pytest fixture
    from clinical.modeling.extract import Extractor

    note = "Jane Roe, MRN 48213377, seen on 03/14/2019. Started metformin 500 mg for type 2 diabetes."
    recording = Recording(Extractor.load(tiny_base.path, max_new_tokens=4))
    counted: list[int] = []
    [(served, result)] = run_batch(StaticModel(Served(recording, {}, True, None, None)), [note], counted.append)
    assert "Jane" not in recording.seen[0] and "48213377" not in recording.seen[0]
    assert "[NAME]" in recording.seen[0] and "metformin 500 mg" in recording.seen[0]
    assert counted == [1] and served.deidentify and isinstance(result.entities, list)
    run_batch(StaticModel(Served(recording, {}, False, None, None)), [note])
    assert recording.seen[1] == note


# --- promote and rollback while requests are in flight ----------------------------------------------


def test_follower_swaps_models_without_dropping_requests(store, tmp_path: Path, monkeypatch):
    home, tag = store
    monkeypatch.setenv("CLINICAL_MAX_NEW_TOKENS", "24")
    key = Ed25519PrivateKey.generate()
    registry = ReleaseRegistry(tmp_path / "releases")
    first = _signed_release(home, tag, key, "2026-11-27T10:00:00+00:00")
    second = _signed_release(home, tag, key, "2026-11-27T11:00:00+00:00")
    registry.promote(first, key.public_key())
    events: list[str] = []
    follower = active.ReleaseFollower(
        registry,
        key.public_key(),
        home,
        lambda r: load_release(r, "never"),
        poll_s=0.02,
        on_event=lambda outcome, _d: events.append(outcome),
    )
    first_id = release.manifest_sha256(first["manifest"])
    second_id = release.manifest_sha256(second["manifest"])
    assert follower.current()[0].manifest_sha256 == first_id
    batcher = MicroBatcher(lambda texts: run_batch(follower, texts), max_batch_size=4)
    served_by: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            try:
                served, result = batcher.submit("Lisinopril 10 mg daily for hypertension.").result(60)
                assert isinstance(result.entities, list)
                served_by.append(served.model["release"])
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

    def wait_for(release_id: str) -> None:
        deadline = time.monotonic() + 30
        while follower.current()[0].manifest_sha256 != release_id:
            assert time.monotonic() < deadline, "the follower did not switch"
            time.sleep(0.02)
        count = len(served_by)
        while len(served_by) < count + 1:  # a request admitted after the switch
            assert time.monotonic() < deadline, "no requests served after the switch"
            time.sleep(0.02)

    follower.start()
    with ThreadPoolExecutor(3) as pool:
        for _ in range(3):
            pool.submit(client)
        try:
            while len(served_by) < 3:
                time.sleep(0.02)
            registry.promote(second, key.public_key())
            wait_for(second_id)
            registry.rollback(key.public_key())
            wait_for(first_id)
        finally:
            stop.set()
    follower.stop()
    batcher.close()
    assert not failures, failures[:1]
    assert served_by[0] == first_id and served_by[-1] == first_id and second_id in served_by
    assert events == ["swapped", "swapped"] and follower.swaps == 2

    # A release whose stored manifest was altered behind the registry's back is refused; the
    # current one keeps serving.
    registry.promote(second, key.public_key())
    stored = registry.manifests / f"{second_id}.json"
    forged = json.loads(stored.read_text())
    forged["manifest"]["created_at"] = "2026-11-28T00:00:00+00:00"
    stored.write_text(json.dumps(forged))
    assert follower.check_once() == "refused"
    assert follower.current()[0].manifest_sha256 == first_id
    assert follower.check_once() == "unchanged"  # refused once, not retried in a loop


# --- the deployment asset ----------------------------------------------------------------------------


def _lineage(wh, home: Path, tag: str, gate_passed: bool | None) -> None:
    stored = active.find_bento(home, tag)
    merged_sha = weights_sha256(stored.model_path)
    wh.register_artifact(
        "run0",
        artifact_id="adapter_a",
        kind="lora_adapter",
        path=None,
        sha256="a" * 64,
        parents={},
        details={},
        code_version="c",
    )
    wh.register_artifact(
        "run0",
        artifact_id="merged_m",
        kind="merged_model",
        path=str(stored.model_path),
        sha256=merged_sha,
        parents={"adapter": "adapter_a"},
        details={"base_sha256": "b" * 64},
        code_version="c",
    )
    wh.register_artifact(
        "run0",
        artifact_id="eval_e",
        kind="evaluation",
        path=None,
        sha256=None,
        parents={"adapter": "adapter_a"},
        details={"splits": {"test": {"documents": 2, "models": {"tuned": {"micro_f1": 0.5}}}}},
        code_version="c",
    )
    if gate_passed is not None:
        wh.register_artifact(
            "run0",
            artifact_id="gate_g",
            kind="promotion_decision",
            path=None,
            sha256=None,
            parents={"evaluation": "eval_e", "adapter": "adapter_a"},
            details={"passed": gate_passed, "split": "test", "label": "demo thresholds"},
            code_version="c",
        )
    wh.register_artifact(
        "run0",
        artifact_id=f"bento_{tag}",
        kind="bento",
        path=str(stored.path),
        sha256=None,
        parents={"merged_model": "merged_m"},
        details={"tag": tag},
        code_version="c",
    )


def _deploy(tmp_path: Path, home: Path, environment: str = "development", **config):
    from clinical.settings import Settings
    from clinical_assets.definitions import build_resources
    from clinical_assets.serving import deployment

    settings = Settings.from_env(
        {"CLINICAL_HOME": str(tmp_path / "home"), "BENTOML_HOME": str(home), "CLINICAL_ENV": environment}
    )
    resources = build_resources(settings)
    run_config = {"ops": {"deployment": {"config": config}}} if config else None
    result = dg.materialize([deployment], resources=resources, run_config=run_config, raise_on_error=False)
    return settings, resources, result


def test_deployment_signs_registers_and_auto_promotes_when_the_gate_passed(store, tmp_path: Path):
    home, tag = store
    from clinical.settings import Settings
    from clinical_assets.definitions import build_resources

    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path / "home"), "BENTOML_HOME": str(home)})
    wh = build_resources(settings)["warehouse"]
    _lineage(wh, home, tag, gate_passed=True)
    _, _, result = _deploy(tmp_path, home)
    assert result.success
    metadata = result.asset_materializations_for_node("deployment")[0].metadata
    digest = metadata["manifest_sha256"].value
    assert metadata["promoted"].value is True and metadata["is_active"].value is True
    assert metadata["model_card_sha256"].value == "none"
    assert "no model_card" in metadata["notes"].value

    public_key = release.load_public_key(tmp_path / "home" / "keys" / "release_signing.pub")
    assert stat.S_IMODE((tmp_path / "home" / "keys" / "release_signing.key").stat().st_mode) == 0o600
    signed = json.loads(Path(metadata["manifest"].value).read_text())
    manifest = release.verify_manifest(signed, public_key)
    assert manifest["bento_tag"] == tag and manifest["model_card_sha256"] is None
    assert set(manifest["model_sha256"]) == {"base", "adapter", "merged_model", "bento", "bento_model"}
    assert manifest["evaluation"]["gate"]["passed"] is True
    assert manifest["serving"] == {"deidentify_requests": False, "deid_policies": []}
    registry = ReleaseRegistry(tmp_path / "home" / "releases")
    assert registry.read_active()["manifest_sha256"] == digest
    assert active.verify_release(registry, public_key, home).manifest_sha256 == digest

    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        deployed = lineage.latest_artifact(con, "deployment")
        key_record = lineage.latest_artifact(con, "release_signing_key")
        chain = [e.event_type for e in audit.events(con)]
    assert deployed["sha256"] == digest and deployed["parents"]["bento"] == f"bento_{tag}"
    assert deployed["parents"]["promotion_decision"] == "gate_g"
    assert key_record["sha256"] == release.public_key_fingerprint(public_key)
    assert "release_promoted" in chain


@pytest.mark.parametrize(
    ("gate", "environment", "reason"),
    [(False, "development", "did not pass"), (True, "production", "")],
)
def test_deployment_without_a_passed_gate_or_in_production_is_not_promoted(store, tmp_path, gate, environment, reason):
    home, tag = store
    from clinical.settings import Settings
    from clinical_assets.definitions import build_resources

    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path / "home"), "BENTOML_HOME": str(home)})
    _lineage(build_resources(settings)["warehouse"], home, tag, gate_passed=gate)
    _, _, result = _deploy(tmp_path, home, environment)
    if environment == "production":
        assert not result.success  # no signing key configured: refused, and no key generated
        assert not (tmp_path / "home" / "keys").exists()
        return
    metadata = result.asset_materializations_for_node("deployment")[0].metadata
    assert metadata["promoted"].value is False and reason in metadata["promotion"].value
    assert not (tmp_path / "home" / "releases" / "active").exists()
    assert "clinical release promote" in metadata["next"].value
