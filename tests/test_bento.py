"""The BentoML extraction service and its Bento: request rules, a real build, a real server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from bentoml.exceptions import InvalidArgument
from modeling_fixtures import tiny_base  # noqa: F401 - session fixture
from serving_fixtures import tiny_bento  # noqa: F401 - session fixture

from clinical.serving.bento import BentoBuildResult, build_bento, save_model_to_store
from clinical.serving.service import (
    AuthConfigError,
    ModelLocation,
    bearer_token_matches,
    extraction_response,
    max_text_chars,
    resolve_auth,
    resolve_model_location,
    validate_text,
)

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SYNTHETIC_NOTE = "Started metformin 500 mg twice daily for type 2 diabetes. HbA1c 8.1 %."


@dataclass
class FakeResult:
    entities: list
    valid_json: bool
    raw_output: str
    latency_s: float


class FakeExtractor:
    """Stands in for clinical.modeling.extract.Extractor where only the HTTP layer is under test."""

    model_info = {"ref": "fake", "kind": "fake"}
    loaded_from: str | None = None

    @classmethod
    def load(cls, ref, max_new_tokens=256):
        cls.loaded_from = ref
        return cls()

    def extract(self, text):
        return FakeResult([{"type": "medication", "text": "metformin"}], True, "{}", 0.01)


# --- request rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", 400),
        ("   \n\t", 400),
        ("x" * 101, 413),
    ],
)
def test_bad_text_is_refused_without_quoting_it(text, status):
    with pytest.raises(InvalidArgument) as caught:
        validate_text(text, max_chars=100)
    assert caught.value.error_code.value == status
    if text.strip():
        assert text not in str(caught.value)


def test_good_text_passes_and_limit_comes_from_env():
    assert validate_text("x" * 100, max_chars=100) == "x" * 100
    assert max_text_chars({}) == 20000
    assert max_text_chars({"CLINICAL_MAX_TEXT_CHARS": "500"}) == 500
    with pytest.raises(ValueError, match="CLINICAL_MAX_TEXT_CHARS"):
        max_text_chars({"CLINICAL_MAX_TEXT_CHARS": "lots"})


def test_response_shape():
    out = extraction_response(FakeExtractor(), SYNTHETIC_NOTE, {"tag": None, "source": "env"})
    assert out["entities"] == [{"type": "medication", "text": "metformin"}]
    assert out["valid_json"] is True
    assert out["model"] == {"tag": None, "source": "env"}


def test_model_location_from_env_or_clear_error(tmp_path: Path):
    assert resolve_model_location({"CLINICAL_MODEL_DIR": str(tmp_path)}) == ModelLocation(tmp_path, "env")
    with pytest.raises(FileNotFoundError, match="CLINICAL_MODEL_DIR"):
        resolve_model_location({"CLINICAL_MODEL_DIR": str(tmp_path / "missing")})
    with pytest.raises(RuntimeError, match="no model to serve"):
        resolve_model_location({})


# --- authentication ------------------------------------------------------------------------------


def test_token_from_env_or_file_and_refusal_without_one(tmp_path: Path):
    assert resolve_auth({"CLINICAL_SERVICE_TOKEN": TOKEN}).token == TOKEN
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n")
    secret.chmod(0o600)
    assert resolve_auth({"CLINICAL_SERVICE_TOKEN_FILE": str(secret)}).token == TOKEN
    assert TOKEN not in repr(resolve_auth({"CLINICAL_SERVICE_TOKEN": TOKEN}))
    with pytest.raises(AuthConfigError, match="refusing to start without authentication"):
        resolve_auth({})
    with pytest.raises(AuthConfigError, match="not both"):
        resolve_auth({"CLINICAL_SERVICE_TOKEN": TOKEN, "CLINICAL_SERVICE_TOKEN_FILE": str(secret)})
    with pytest.raises(AuthConfigError, match="cannot be read"):
        resolve_auth({"CLINICAL_SERVICE_TOKEN_FILE": str(tmp_path / "missing")})
    with pytest.raises(AuthConfigError, match="at least 16") as caught:
        resolve_auth({"CLINICAL_SERVICE_TOKEN": "short"})
    assert "short" not in str(caught.value)
    assert resolve_auth({"CLINICAL_SERVICE_ALLOW_NO_AUTH": "1"}).token is None
    with pytest.raises(AuthConfigError, match="production"):
        resolve_auth({"CLINICAL_SERVICE_ALLOW_NO_AUTH": "1", "CLINICAL_ENV": "production"})


def test_bearer_header_check():
    assert bearer_token_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_token_matches(f"bearer {TOKEN}", TOKEN)
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer ", f"Bearer {TOKEN[:-1]}"):
        assert not bearer_token_matches(header, TOKEN)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The service's ASGI app with a fake extractor; built once, since BentoML registers its
    Prometheus metrics globally per process."""
    from starlette.testclient import TestClient

    from clinical.serving.service import ClinicalExtractionService

    model_dir = tmp_path_factory.mktemp("model")
    monitor_dir = tmp_path_factory.mktemp("monitor")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLINICAL_SERVING_MONITOR_DIR", str(monitor_dir))
        mp.delenv("CLINICAL_SERVE_FOLLOW_RELEASES", raising=False)
        mp.delenv("CLINICAL_DEIDENTIFY_REQUESTS", raising=False)
        mp.delenv("CLINICAL_SERVING_BACKEND", raising=False)
        mp.delenv("CLINICAL_TRTLLM_BUNDLE", raising=False)
        mp.setitem(sys.modules, "clinical.modeling.extract", types.SimpleNamespace(Extractor=FakeExtractor))
        mp.setenv("CLINICAL_MODEL_DIR", str(model_dir))
        mp.setenv("CLINICAL_MAX_TEXT_CHARS", "200")
        mp.setenv("CLINICAL_SERVICE_TOKEN", TOKEN)
        mp.delenv("CLINICAL_SERVICE_TOKEN_FILE", raising=False)
        with TestClient(ClinicalExtractionService.to_asgi(), headers=AUTH) as test_client:
            assert FakeExtractor.loaded_from == str(model_dir)
            test_client.monitor_dir = monitor_dir
            yield test_client


def test_http_layer_in_process(client):
    ok = client.post("/extract", json={"text": SYNTHETIC_NOTE})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["entities"] == [{"type": "medication", "text": "metformin"}]
    assert body["valid_json"] is True
    assert body["model"]["source"] == "env" and body["model"]["kind"] == "fake"
    assert body["deidentified"] is False  # a plain folder says nothing about de-identified training
    assert client.post("/extract", json={"text": ""}).status_code == 400
    assert client.post("/extract", json={"text": "y" * 201}).status_code == 413
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_service_reports_its_backend_and_why(client):
    """Here (no TensorRT-LLM bundle, no tensorrt_llm, no GPU) the service runs PyTorch on CPU and says
    why in every /extract response, in /info and in the clinical_serving_backend gauge."""
    import prometheus_client

    from clinical.serving.backends import detect_runtime

    if detect_runtime().cuda_available:
        pytest.skip("a CUDA GPU is visible: the backend would be pytorch-cuda")
    body = client.post("/extract", json={"text": SYNTHETIC_NOTE}).json()
    assert body["model"]["backend"] == "pytorch-cpu"
    reason = body["model"]["backend_reason"]
    assert reason.startswith("no TensorRT-LLM bundle recorded for this model")
    assert reason.endswith("no CUDA GPU visible")
    info = client.post("/info")
    assert info.status_code == 200, info.text
    assert info.json()["model"] == body["model"]
    assert info.json()["deidentify_requests"] is False
    assert client.post("/info", headers={"Authorization": ""}).status_code == 401
    gauge = prometheus_client.REGISTRY.get_sample_value(
        "clinical_serving_backend", {"backend": "pytorch-cpu", "reason": reason}
    )
    assert gauge == 1.0


def test_backend_choice_is_logged_at_start_and_forced_tensorrt_llm_refuses(tmp_path: Path, monkeypatch, caplog):
    import logging

    from clinical.serving import service
    from clinical.serving.backends import BackendUnavailableError

    monkeypatch.setitem(sys.modules, "clinical.modeling.extract", types.SimpleNamespace(Extractor=FakeExtractor))
    monkeypatch.setenv("CLINICAL_MODEL_DIR", str(tmp_path))
    for name in ("CLINICAL_MODEL_TAG", "CLINICAL_SERVING_BACKEND", "CLINICAL_TRTLLM_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level(logging.INFO, logger="clinical.serving.service"):
        served = service.load_static("never")
    assert f"backend {served.model['backend']}: {served.model['backend_reason']}" in caplog.text
    monkeypatch.setenv("CLINICAL_SERVING_BACKEND", "pytorch")
    assert service.load_static("never").model["backend_reason"] == "CLINICAL_SERVING_BACKEND=pytorch"
    monkeypatch.setenv("CLINICAL_SERVING_BACKEND", "tensorrt_llm")
    with pytest.raises(BackendUnavailableError, match="CLINICAL_SERVING_BACKEND=tensorrt_llm but .*refusing to start"):
        service.load_static("never")


def test_extract_needs_the_bearer_token(client, caplog):
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": TOKEN},
    ):
        refused = client.post("/extract", json={"text": SYNTHETIC_NOTE}, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "metformin" not in refused.text
    # Without any header the body is not even parsed: 401, not 400; the probes stay open.
    saved = client.headers.pop("Authorization")
    try:
        assert client.post("/extract", json={"text": SYNTHETIC_NOTE}).status_code == 401
        assert client.post("/extract", json={"note": 1}).status_code == 401
        # /metrics is open too; the real-serve test checks it (in process it waits on the
        # multiprocess Prometheus set-up that only `bentoml serve` does).
        for path in ("/healthz", "/readyz", "/livez"):
            assert client.get(path).status_code == 200, path
    finally:
        client.headers["Authorization"] = saved
    assert TOKEN not in caplog.text
    assert SYNTHETIC_NOTE not in caplog.text


SECRET = "Jane Roe MRN 4711 seen today"


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"note": SECRET}, 400),
        ({"text": [SECRET]}, 400),
        ({"text": {"t": SECRET}}, 400),
        ({"text": SECRET * 10}, 413),
    ],
    ids=["missing-field", "list", "object", "too-long"],
)
def test_refused_request_never_echoes_the_note(client, caplog, payload, status):
    response = client.post("/extract", json=payload)
    assert response.status_code == status
    assert "Jane" not in response.text
    assert "Jane" not in caplog.text


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"text": "Jane Roe', 400, "not valid JSON (line 1 column 10)"),
        (b'{"text": "Jane \xff Roe"}', 400, "not UTF-8 (bad byte at offset 15)"),
        (b'["Jane Roe"]', 400, "must be a JSON object"),
        (b'{"text": "' + b"J" * 5000 + b'"}', 413, "larger than the limit of"),
    ],
    ids=["truncated", "not-utf8", "array", "too-many-bytes"],
)
def test_malformed_bodies_get_one_line_errors_without_the_note(client, caplog, body, status, message):
    response = client.post("/extract", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert message in error and "\n" not in error
    assert "Jane" not in response.text and "Jane" not in caplog.text


def test_every_extract_request_reaches_the_serving_monitor_without_text(client):
    from clinical.serving import monitor

    before = len(monitor.read_requests(client.monitor_dir).records)
    assert client.post("/extract", json={"text": SYNTHETIC_NOTE}).status_code == 200
    assert client.post("/extract", json={"text": ""}).status_code == 400
    assert (
        client.post("/extract", json={"text": SYNTHETIC_NOTE}, headers={"Authorization": "Bearer x"}).status_code == 401
    )
    records = monitor.read_requests(client.monitor_dir).records[before:]
    assert [r["status"] for r in records] == [200, 400, 401]
    assert records[0]["entity_counts"] == {"medication": 1} and records[0]["valid_json"] is True
    assert records[0]["text_chars"] == len(SYNTHETIC_NOTE)
    stored = "".join(p.read_text() for p in client.monitor_dir.glob("*.jsonl"))
    assert "metformin" not in stored and "Jane" not in stored


# --- a real Bento ------------------------------------------------------------------------------


def _bentoml_env(home: Path) -> dict[str, str]:
    return {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "true"}


def _fake_model_dir(root: Path) -> Path:
    model = root / "fake-model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    (model / "model.safetensors").write_bytes(b"\0" * 32)
    return model


@pytest.fixture(scope="module")
def tiny_model(tiny_base) -> Path:  # noqa: F811 - pytest fixture
    return Path(tiny_base.path)


@pytest.fixture(scope="module")
def built(tiny_bento) -> tuple[Path, str, BentoBuildResult]:  # noqa: F811 - pytest fixture
    return tiny_bento


def test_bento_carries_model_and_adapter_version(built, tiny_model: Path):
    home, model_tag, result = built
    assert model_tag.startswith("clinical-extractor:")
    assert result.tag == f"clinical_extraction:v7-{model_tag.split(':')[1]}"
    assert result.model_tag == model_tag
    assert result.labels["adapter_version"] == "v7"
    assert result.path.is_relative_to(home / "bentos")

    listed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import bentoml, json; b = bentoml.get({result.tag!r}); "
            "print(json.dumps([str(m.tag) for m in b.info.all_models]))",
        ],
        env=_bentoml_env(home),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(listed.stdout.splitlines()[-1]) == [model_tag]

    info = yaml.safe_load((result.path / "bento.yaml").read_text())
    assert info["labels"]["model_tag"] == model_tag
    assert info["models"][0]["alias"] == "clinical_extractor"
    model_path = home / "models" / model_tag.replace(":", "/")
    for f in tiny_model.iterdir():
        if f.is_file():
            assert (model_path / f.name).read_bytes() == f.read_bytes()
    src = result.path / "src"
    assert (src / "clinical" / "serving" / "service.py").is_file()
    assert not any(p.name in {".venv", "data", ".dagster_home"} for p in src.rglob("*"))


def test_build_labels_version_and_clean_context(tmp_path: Path):
    home = tmp_path / "home"
    model_tag = save_model_to_store(_fake_model_dir(tmp_path), "fake-extractor:r1", None, None, home)
    assert model_tag == "fake-extractor:r1"
    result = build_bento(model_tag, home, version="2026.11.27", labels={"run_id": "abc"})
    assert result.tag == "clinical_extraction:2026.11.27"
    assert result.labels["adapter_version"] == "r1"
    assert result.labels["run_id"] == "abc"
    assert result.labels["model_sha256"]
    files = {p.relative_to(result.path / "src").as_posix() for p in (result.path / "src").rglob("*")}
    assert "clinical/serving/service.py" in files
    assert not any("__pycache__" in f or f.endswith(".pyc") for f in files)
    reqs = (result.path / "env" / "python" / "requirements.txt").read_text()
    assert "transformers==" in reqs and "bentoml==" in reqs
    assert "presidio-analyzer==" in reqs and "cryptography==" in reqs and "prometheus-client==" in reqs


def test_missing_model_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save_model_to_store(tmp_path / "nope", "x", None, None, tmp_path / "home")


# --- a real server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, payload: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **(AUTH if headers is None else headers)},
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def _metric(text: str, name: str, labels: str = "") -> float:
    """Sum of the samples of one Prometheus series (optionally only those whose labels contain `labels`)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {") and labels in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def _wait_ready(base: str, proc: subprocess.Popen, log_path: Path, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert time.monotonic() < deadline, f"service not ready in {timeout_s} s"
        time.sleep(0.5)


@pytest.mark.slow
def test_clinical_serve_follows_promote_and_rollback_without_dropping_requests(built, tmp_path: Path, monkeypatch):
    """The real `clinical serve` on localhost: verified start, auth, bad inputs, batching of concurrent
    requests, Prometheus series, and a promote + rollback while requests are in flight."""
    from concurrent.futures import ThreadPoolExecutor

    from clinical.cli import main
    from clinical.modeling.base_model import weights_sha256
    from clinical.serving import active, deploy, release
    from clinical.serving import monitor as serving_monitor

    source_home, model_tag, result = built
    home = tmp_path / "bentoml"
    shutil.copytree(source_home, home, symlinks=True)
    clinical_home = tmp_path / "clinical"
    signing = deploy.resolve_signing_key(None, None, "development", clinical_home / "keys")
    stored = active.find_bento(home, result.tag)
    hashes = {**active.bento_hashes(stored), "merged_model": weights_sha256(stored.model_path)}
    manifests = []
    for created in ("2026-11-27T10:00:00+00:00", "2026-11-27T11:00:00+00:00"):
        manifest = release.make_release_manifest(result.tag, hashes, {}, None, {}, created_at=created)
        path = deploy.write_signed_manifest(release.sign_manifest(manifest, signing.private_key), tmp_path / "out")
        manifests.append((release.manifest_sha256(manifest), path))
    (first, first_path), (second, second_path) = manifests
    for name in (
        "CLINICAL_RELEASES_DIR",
        "CLINICAL_RELEASE_PUBLIC_KEY",
        "CLINICAL_ENV",
        "CLINICAL_SERVING_MONITOR_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLINICAL_HOME", str(clinical_home))
    monkeypatch.setenv("BENTOML_HOME", str(home))
    assert main(["release", "promote", str(first_path)]) == 0

    token_file = tmp_path / "service.token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    env = {
        **_bentoml_env(home),
        "CLINICAL_HOME": str(clinical_home),
        "CLINICAL_MAX_TEXT_CHARS": "2000",
        "CLINICAL_MAX_NEW_TOKENS": "24",
        "CLINICAL_SERVICE_TOKEN_FILE": str(token_file),
        "CLINICAL_RELEASE_POLL_S": "0.2",
        "CLINICAL_BATCH_WAIT_MS": "50",
    }
    # PYTHONDONTWRITEBYTECODE too: `clinical serve` itself must keep bytecode out of the signed Bento folder,
    # or the promote and rollback below re-verify a folder the service changed.
    for name in (
        "CLINICAL_MODEL_DIR",
        "CLINICAL_SERVICE_TOKEN",
        "CLINICAL_SERVICE_ALLOW_NO_AUTH",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(name, None)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("clinical")), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, proc, log_path)
        status, body = _post(f"{base}/extract", {"text": SYNTHETIC_NOTE})
        assert status == 200, body
        assert body["model"]["release"] == first and body["model"]["tag"] == model_tag
        assert body["model"]["source"] == "release" and body["deidentified"] is False
        assert _post(f"{base}/extract", {"text": SYNTHETIC_NOTE}, headers={})[0] == 401
        wrong = {"Authorization": "Bearer not-the-token-0123456789"}
        assert _post(f"{base}/extract", {"text": SYNTHETIC_NOTE}, headers=wrong)[0] == 401
        assert _post(f"{base}/extract", {"text": ""})[0] == 400
        assert _post(f"{base}/extract", {"note": SYNTHETIC_NOTE})[0] == 400
        assert _post(f"{base}/extract", {"text": "z" * 2001})[0] == 413
        request = urllib.request.Request(
            f"{base}/extract", data=b'{"text": "Jane', headers={"Content-Type": "application/json", **AUTH}
        )
        with pytest.raises(urllib.error.HTTPError) as bad_json:
            urllib.request.urlopen(request, timeout=30)
        assert bad_json.value.code == 400 and "not valid JSON" in json.loads(bad_json.value.read())["error"]

        # Concurrent requests share generate() calls.
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _: _post(f"{base}/extract", {"text": SYNTHETIC_NOTE})[0], range(6)))
        assert statuses == [200] * 6
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        batches = _metric(metrics, "clinical_batch_size_count")
        batched = _metric(metrics, "clinical_batch_size_sum")
        assert batched == 7 and batches < batched, (batches, batched)

        # Promote, then roll back, while clients keep sending requests.
        served_by: list[str] = []
        failures: list[object] = []
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                code, answer = _post(f"{base}/extract", {"text": SYNTHETIC_NOTE})
                if code == 200:
                    served_by.append(answer["model"]["release"])
                else:
                    failures.append((code, answer))

        def wait_for(release_id: str) -> None:
            deadline = time.monotonic() + 120
            while not served_by or served_by[-1] != release_id:
                assert time.monotonic() < deadline, f"still not served by {release_id[:12]}"
                assert proc.poll() is None
                time.sleep(0.1)

        with ThreadPoolExecutor(3) as pool:
            for _ in range(3):
                pool.submit(client)
            try:
                wait_for(first)
                assert main(["release", "promote", str(second_path)]) == 0
                wait_for(second)
                assert main(["release", "rollback"]) == 0
                wait_for(first)
            finally:
                stop.set()
        assert not failures, failures[:3]
        assert second in served_by and served_by[-1] == first

        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert _metric(metrics, "clinical_release_events_total", 'outcome="swapped"') == 2
        assert _metric(metrics, "clinical_requests_total", 'status="401"') == 2
        assert _metric(metrics, "clinical_requests_total", 'status="200"') >= 8
        assert _metric(metrics, "clinical_invalid_request_json_total") == 1
        assert "clinical_request_latency_seconds_bucket" in metrics
        assert "bentoml_service_request" in metrics

        records = serving_monitor.read_requests(clinical_home / "monitoring" / "requests").records
        assert {r["status"] for r in records} >= {200, 400, 401, 413}
        assert {r["release"] for r in records if r["status"] == 200} == {result.tag}
        served_log = log_path.read_text()
        assert SYNTHETIC_NOTE not in served_log and "metformin" not in served_log
        assert TOKEN not in served_log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
