"""The BentoML extraction service and its Bento: request rules, a real build, a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from bentoml.exceptions import InvalidArgument

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
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(sys.modules, "clinical.modeling.extract", types.SimpleNamespace(Extractor=FakeExtractor))
        mp.setenv("CLINICAL_MODEL_DIR", str(model_dir))
        mp.setenv("CLINICAL_MAX_TEXT_CHARS", "200")
        mp.setenv("CLINICAL_SERVICE_TOKEN", TOKEN)
        mp.delenv("CLINICAL_SERVICE_TOKEN_FILE", raising=False)
        with TestClient(ClinicalExtractionService.to_asgi(), headers=AUTH) as test_client:
            assert FakeExtractor.loaded_from == str(model_dir)
            yield test_client


def test_http_layer_in_process(client):
    ok = client.post("/extract", json={"text": SYNTHETIC_NOTE})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["entities"] == [{"type": "medication", "text": "metformin"}]
    assert body["valid_json"] is True
    assert body["model"]["source"] == "env" and body["model"]["kind"] == "fake"
    assert client.post("/extract", json={"text": ""}).status_code == 400
    assert client.post("/extract", json={"text": "y" * 201}).status_code == 413
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


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
def tiny_model(tmp_path_factory) -> Path:
    base_model = pytest.importorskip("clinical.modeling.base_model")
    return Path(base_model.resolve_base_model("tiny-random", tmp_path_factory.mktemp("cache")).path)


@pytest.fixture(scope="module")
def built(tiny_model: Path, tmp_path_factory) -> tuple[Path, str, BentoBuildResult]:
    home = tmp_path_factory.mktemp("bentoml_home")
    model_tag = save_model_to_store(
        tiny_model, "clinical-extractor", {"adapter_version": "v7"}, {"base": "tiny-random"}, home
    )
    return home, model_tag, build_bento(model_tag, home)


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


@pytest.mark.slow
def test_bentoml_serve_of_the_built_bento(built, tmp_path: Path):
    home, model_tag, result = built
    port = _free_port()
    bentoml_cli = Path(sys.executable).with_name("bentoml")
    log = (tmp_path / "serve.log").open("w")
    token_file = tmp_path / "service.token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    env = {
        **_bentoml_env(home),
        "CLINICAL_MAX_TEXT_CHARS": "2000",
        "CLINICAL_MAX_NEW_TOKENS": "32",
        "CLINICAL_SERVICE_TOKEN_FILE": str(token_file),
    }
    for name in ("CLINICAL_MODEL_DIR", "CLINICAL_SERVICE_TOKEN", "CLINICAL_SERVICE_ALLOW_NO_AUTH"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [str(bentoml_cli), "serve", result.tag, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "service not ready in 180 s"
            time.sleep(0.5)

        status, body = _post(f"{base}/extract", {"text": SYNTHETIC_NOTE})
        assert status == 200, body
        assert isinstance(body["entities"], list)
        assert isinstance(body["valid_json"], bool)
        assert body["model"]["tag"] == model_tag and body["model"]["source"] == "bento"
        assert _post(f"{base}/extract", {"text": ""})[0] == 400
        assert _post(f"{base}/extract", {"text": "z" * 2001})[0] == 413
        assert _post(f"{base}/extract", {"text": SYNTHETIC_NOTE}, headers={})[0] == 401
        wrong = {"Authorization": "Bearer not-the-token-0123456789"}
        assert _post(f"{base}/extract", {"text": SYNTHETIC_NOTE}, headers=wrong)[0] == 401
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            assert b"bentoml_service_request" in response.read()
        served_log = (tmp_path / "serve.log").read_text()
        assert SYNTHETIC_NOTE not in served_log
        assert TOKEN not in served_log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
