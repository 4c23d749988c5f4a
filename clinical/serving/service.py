"""BentoML service: `POST /extract` with `{"text": ...}` returns the entities of one clinical note.

    clinical serve --port 3000                                               # the active signed release
    BENTOML_HOME=... bentoml serve clinical_extraction:<version>            # a built Bento
    CLINICAL_MODEL_DIR=path/to/model bentoml serve clinical.serving.service:ClinicalExtractionService

Response: `{"entities": [...], "valid_json": bool, "model": {...}, "deidentified": bool,
"latency_s": float}` with the entity objects of clinical.schema.

The model: under `clinical serve` (`CLINICAL_SERVE_FOLLOW_RELEASES=1`, with `CLINICAL_RELEASES_DIR`
and `CLINICAL_RELEASE_PUBLIC_KEY`) the model of the active release, verified (signature, Bento and
model hashes) and followed: a promote or rollback swaps the model without dropping a request (see
clinical.serving.active). Otherwise, in order: the Bento's own model (alias MODEL_ALIAS, set by
clinical.serving.bento.build_bento), a model store tag in `CLINICAL_MODEL_TAG`, or a folder in
`CLINICAL_MODEL_DIR`.

Other settings from the environment:
| variable | default | meaning |
|---|---|---|
| CLINICAL_MAX_TEXT_CHARS | 20000 | longest note, in characters (413 above) |
| CLINICAL_MAX_REQUEST_BYTES | 4 x chars + 4096 | largest request body, in bytes (413 above, before parsing) |
| CLINICAL_MAX_NEW_TOKENS | 256 | generation limit per note |
| CLINICAL_DEIDENTIFY_REQUESTS | auto | auto, always or never (see should_deidentify) |
| CLINICAL_MAX_BATCH_SIZE | 8 | most concurrent requests in one generate() call |
| CLINICAL_BATCH_WAIT_MS | 5 | how long a batch waits for company after its first request |
| CLINICAL_RELEASE_POLL_S | 1.0 | how often the active-release pointer is checked |
| CLINICAL_SERVING_MONITOR_DIR | $CLINICAL_HOME/monitoring/requests | per-request statistics (serving.monitor) |
| CLINICAL_SERVING_BACKEND | auto | auto, pytorch or tensorrt_llm (see clinical.serving.backends) |
| CLINICAL_TRTLLM_BUNDLE | (the model's record) | TensorRT-LLM bundle folder copied to this host |

Backend: chosen when a model is loaded (clinical.serving.backends.choose_backend): TensorRT-LLM where
the model's bundle, `tensorrt_llm` and a CUDA GPU are all present (GPU-only, untested here), else the
PyTorch Extractor on CUDA or CPU. The choice and its one-line reason are in the startup log, in the
`model` block of every /extract response (`backend`, `backend_reason`), in POST /info and in the
`clinical_serving_backend{backend,reason}` gauge.

Endpoints besides /extract: POST /info (the model block: ids, hashes, backend; token needed),
BentoML's /healthz and /livez (process up, batch thread alive), /readyz (503 until the model is
loaded) and /metrics (Prometheus: BentoML's own series plus
`clinical_requests_total{route,status}`, `clinical_request_latency_seconds`,
`clinical_entities_total{type}`, `clinical_invalid_request_json_total`,
`clinical_model_invalid_json_total`, `clinical_batch_size`, `clinical_deidentified_requests_total`,
`clinical_release_events_total{outcome}`, `clinical_serving_backend{backend,reason}`).

Authentication: every route except /healthz, /readyz, /livez and /metrics needs
`Authorization: Bearer <token>`, else 401 (compared in constant time). The token comes from
`CLINICAL_SERVICE_TOKEN` or from the file named by `CLINICAL_SERVICE_TOKEN_FILE` (a mounted secret;
set one, not both; at least 16 characters). Without a token the service refuses to start, unless
`CLINICAL_SERVICE_ALLOW_NO_AUTH=1` (development only; refused when `CLINICAL_ENV=production`).
The token is never logged.

Note text is PHI-adjacent even after de-identification: it is never logged, and error messages
never quote it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

import bentoml
import yaml
from bentoml._internal.configuration.containers import BentoMLContainer
from bentoml.exceptions import InvalidArgument
from pydantic import ConfigDict, Field

SERVICE_NAME = "clinical_extraction"
MODEL_ALIAS = "clinical_extractor"
"""Alias under which a Bento built by clinical.serving.bento refers to its model."""
DEFAULT_MAX_TEXT_CHARS = 20000
DEFAULT_MAX_NEW_TOKENS = 256
DEIDENTIFY_MODES = ("auto", "always", "never")
STATS_KEY = "clinical.request_stats"
"""ASGI scope key of the per-request statistics the handler fills and the middleware records."""
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/livez", "/metrics"})
"""Routes served without a token: probes and Prometheus scraping."""
MIN_TOKEN_CHARS = 16

logger = logging.getLogger(__name__)


class _Extractor(Protocol):
    model_info: dict[str, Any]

    def extract(self, text: str) -> Any: ...


@dataclass(frozen=True)
class ModelLocation:
    """Where the served model lives.

    path: model or adapter folder given to Extractor.load.
    source: "bento" (the Bento's model), "store" (CLINICAL_MODEL_TAG) or "env" (CLINICAL_MODEL_DIR).
    tag: BentoML model tag, None for a plain folder.
    """

    path: Path
    source: str
    tag: str | None = None


def resolve_model_location(environ: dict[str, str] | None = None) -> ModelLocation:
    """Find the model to serve: the Bento's own model, else CLINICAL_MODEL_TAG, else CLINICAL_MODEL_DIR.

    environ: environment to read (os.environ when None).
    """
    env = os.environ if environ is None else environ
    aliases = BentoMLContainer.model_aliases.get()
    # BentoML sets the aliases only while it loads a Bento; a stored model that happens to be
    # named like the alias must not be mistaken for the Bento's own.
    if MODEL_ALIAS in aliases:
        stored = bentoml.models.get(aliases[MODEL_ALIAS])
        return ModelLocation(Path(stored.path), "bento", str(stored.tag))
    if env.get("CLINICAL_MODEL_TAG"):
        stored = bentoml.models.get(env["CLINICAL_MODEL_TAG"])
        return ModelLocation(Path(stored.path), "store", str(stored.tag))
    if env.get("CLINICAL_MODEL_DIR"):
        path = Path(env["CLINICAL_MODEL_DIR"])
        if not path.is_dir():
            raise FileNotFoundError(f"CLINICAL_MODEL_DIR {path} is not a folder")
        return ModelLocation(path, "env")
    raise RuntimeError(
        "no model to serve: build a Bento with clinical.serving.bento.build_bento, "
        "or set CLINICAL_MODEL_TAG (model store tag) or CLINICAL_MODEL_DIR (model folder)"
    )


def _int_env(name: str, default: int, environ: dict[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def max_text_chars(environ: dict[str, str] | None = None) -> int:
    """Largest note accepted, in characters: CLINICAL_MAX_TEXT_CHARS, default 20000."""
    return _int_env("CLINICAL_MAX_TEXT_CHARS", DEFAULT_MAX_TEXT_CHARS, environ)


def max_request_bytes(environ: dict[str, str] | None = None) -> int:
    """Largest request body in bytes: CLINICAL_MAX_REQUEST_BYTES, default 4 bytes per allowed character + 4096."""
    return _int_env("CLINICAL_MAX_REQUEST_BYTES", 4 * max_text_chars(environ) + 4096, environ)


def deidentify_mode(environ: dict[str, str] | None = None) -> str:
    """CLINICAL_DEIDENTIFY_REQUESTS: auto (default), always or never."""
    env = os.environ if environ is None else environ
    mode = (env.get("CLINICAL_DEIDENTIFY_REQUESTS") or "auto").strip().lower()
    if mode not in DEIDENTIFY_MODES:
        raise ValueError(f"CLINICAL_DEIDENTIFY_REQUESTS must be one of {', '.join(DEIDENTIFY_MODES)}, got {mode!r}")
    return mode


def should_deidentify(mode: str, trained_on_deidentified: bool | None) -> bool:
    """Whether requests are de-identified before inference: `always`, `never`, or (auto) exactly
    when the model is known to have been trained on de-identified text: the release manifest's
    `serving.deidentify_requests`, else the BentoML model's `trained_on_deidentified` metadata."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    return bool(trained_on_deidentified)


def model_store_metadata(model_path: str | Path) -> dict[str, Any]:
    """The `metadata` of a BentoML model folder (its model.yaml); {} for a plain folder."""
    path = Path(model_path) / "model.yaml"
    if not path.is_file():
        return {}
    try:
        info = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError:
        return {}
    metadata = info.get("metadata") if isinstance(info, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def validate_text(text: str, max_chars: int) -> str:
    """Return `text` if it can be served; raise InvalidArgument (HTTP 400 / 413) otherwise.

    text: the note from the request body.
    max_chars: largest accepted length in characters.
    """
    if not isinstance(text, str):
        raise InvalidArgument(f"text must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidArgument("text is empty")
    if len(text) > max_chars:
        raise InvalidArgument(
            f"text has {len(text)} characters, more than the limit of {max_chars}",
            error_code=HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        )
    return text


def extraction_response(extractor: _Extractor, text: str, model: dict[str, Any]) -> dict[str, Any]:
    """Run the extractor on one validated note and shape the /extract response.

    extractor: an object with `.extract(text) -> ExtractionResult`.
    text: the validated note.
    model: what the response says about the model (tag, source, the extractor's model_info).
    """
    return shape_response(extractor.extract(text), model, deidentified=False)


def shape_response(result: Any, model: dict[str, Any], deidentified: bool) -> dict[str, Any]:
    """The /extract body for an ExtractionResult (never the raw model output: it echoes note text)."""
    return {
        "entities": list(result.entities),
        "valid_json": bool(result.valid_json),
        "model": model,
        "deidentified": deidentified,
        "latency_s": round(float(result.latency_s), 4),
    }


# --- bearer-token authentication -----------------------------------------------------------------


class AuthConfigError(RuntimeError):
    """The service's token settings are missing or unusable: the service must not start."""


@dataclass(frozen=True)
class AuthConfig:
    """The resolved token (None only when auth is explicitly disabled for development)."""

    token: str | None
    source: str

    def __repr__(self) -> str:  # never show the token
        return f"AuthConfig(token={'<set>' if self.token else None}, source={self.source!r})"


def resolve_auth(environ: dict[str, str] | None = None) -> AuthConfig:
    """The bearer token from CLINICAL_SERVICE_TOKEN or CLINICAL_SERVICE_TOKEN_FILE; raise
    AuthConfigError (naming the variables, never the token) when none is usable.

    environ: environment to read (os.environ when None).
    """
    env = os.environ if environ is None else environ
    direct = env.get("CLINICAL_SERVICE_TOKEN") or ""
    file_name = env.get("CLINICAL_SERVICE_TOKEN_FILE") or ""
    if direct and file_name:
        raise AuthConfigError("set CLINICAL_SERVICE_TOKEN or CLINICAL_SERVICE_TOKEN_FILE, not both")
    if file_name:
        path = Path(file_name)
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthConfigError(f"CLINICAL_SERVICE_TOKEN_FILE {path} cannot be read ({type(exc).__name__})") from None
        source = f"file {path}"
        if path.stat().st_mode & 0o077:
            logger.warning("token file %s is readable by group or others; make it 0600/0400", path)
    else:
        token, source = direct.strip(), "CLINICAL_SERVICE_TOKEN"
    if token:
        if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
            raise AuthConfigError(
                f"the token from {source} must be at least {MIN_TOKEN_CHARS} characters without spaces "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return AuthConfig(token, source)
    if env.get("CLINICAL_SERVICE_ALLOW_NO_AUTH") == "1":
        if (env.get("CLINICAL_ENV") or "development") == "production":
            raise AuthConfigError("CLINICAL_SERVICE_ALLOW_NO_AUTH=1 is refused when CLINICAL_ENV=production")
        return AuthConfig(None, "disabled by CLINICAL_SERVICE_ALLOW_NO_AUTH=1")
    raise AuthConfigError(
        "refusing to start without authentication: set CLINICAL_SERVICE_TOKEN or CLINICAL_SERVICE_TOKEN_FILE "
        "(a file holding the bearer token), or CLINICAL_SERVICE_ALLOW_NO_AUTH=1 for local development only"
    )


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Whether an Authorization header value is `Bearer <token>`, compared in constant time."""
    if not authorization:
        return False
    scheme, _, presented = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode("utf-8"), token.encode("utf-8"))


_UNAUTHORIZED_BODY = b'{"error":"missing or invalid bearer token"}'


# --- metrics ------------------------------------------------------------------------------------

_metrics_lock = threading.Lock()
_metrics: ServiceMetrics | None = None


@dataclass(frozen=True)
class ServiceMetrics:
    """The project's Prometheus series (see the module docstring), created once per process.

    prometheus_client is imported on first use, after BentoML has set PROMETHEUS_MULTIPROC_DIR in the
    worker, so the series reach BentoML's /metrics.
    """

    requests: Any
    latency: Any
    entities: Any
    invalid_request_json: Any
    model_invalid_json: Any
    batch_size: Any
    deidentified: Any
    release_events: Any
    backend: Any


def service_metrics() -> ServiceMetrics:
    global _metrics
    with _metrics_lock:
        if _metrics is None:
            import prometheus_client as prom

            _metrics = ServiceMetrics(
                requests=prom.Counter("clinical_requests", "Requests by route and HTTP status", ["route", "status"]),
                latency=prom.Histogram(
                    "clinical_request_latency_seconds",
                    "Time from request to response, by route",
                    ["route"],
                    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
                ),
                entities=prom.Counter("clinical_entities", "Entities returned, by type", ["type"]),
                invalid_request_json=prom.Counter(
                    "clinical_invalid_request_json", "POST /extract bodies that were not UTF-8 JSON"
                ),
                model_invalid_json=prom.Counter(
                    "clinical_model_invalid_json", "Extractions whose model output was not complete JSON"
                ),
                batch_size=prom.Histogram(
                    "clinical_batch_size", "Requests per generate() batch", buckets=(1, 2, 4, 8, 16, 32)
                ),
                deidentified=prom.Counter("clinical_deidentified_requests", "Requests de-identified before inference"),
                release_events=prom.Counter(
                    "clinical_release_events", "Active-release changes seen by the service", ["outcome"]
                ),
                backend=prom.Gauge(
                    "clinical_serving_backend",
                    "1 for the inference backend serving now, with the reason it was chosen (0 for earlier ones)",
                    ["backend", "reason"],
                    multiprocess_mode="livemax",
                ),
            )
        return _metrics


_backend_lock = threading.Lock()
_backend_labels: tuple[str, str] | None = None


def record_backend(model: dict[str, Any]) -> None:
    """Set `clinical_serving_backend{backend,reason}` to 1 for the model block's backend (and 0 for the
    one before it, after a release swap); a metrics failure never stops serving."""
    global _backend_labels
    labels = (str(model.get("backend", "unknown")), str(model.get("backend_reason", "")))
    try:
        gauge = service_metrics().backend
        with _backend_lock:
            if _backend_labels is not None and _backend_labels != labels:
                gauge.labels(*_backend_labels).set(0)
            gauge.labels(*labels).set(1)
            _backend_labels = labels
    except Exception:  # noqa: BLE001 - metrics must not fail a model load
        logger.warning("backend gauge could not be recorded")


def _route_label(path: str) -> str:
    return path if path in ("/extract", *OPEN_PATHS) else "other"


# --- the ASGI middleware: auth, body checks, metrics, monitoring ----------------------------------


def _json_error(status: int, message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json.dumps({"error": message}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


class BearerTokenMiddleware:
    """ASGI middleware in front of the BentoML app.

    - 401 for any HTTP or websocket request outside OPEN_PATHS without the token. It runs before
      BentoML parses the body, so an unauthenticated caller learns nothing about the request schema.
      The token is resolved when the app is built (so a missing token stops start-up).
    - POST /extract bodies: 413 above CLINICAL_MAX_REQUEST_BYTES (read no further), 400 for a body
      that is not UTF-8 JSON, with a one-line message that never quotes the body.
    - Every HTTP request: `clinical_requests_total{route,status}` and its latency; every /extract
      request: one record of the serving monitor (statistics only, never text).
    """

    def __init__(self, app: Any, environ: dict[str, str] | None = None) -> None:
        self.app = app
        self.config = resolve_auth(environ)
        self.max_bytes = max_request_bytes(environ)
        self.monitor_dir = (os.environ if environ is None else environ).get("CLINICAL_SERVING_MONITOR_DIR") or None
        if self.config.token is None:
            logger.warning("AUTHENTICATION DISABLED (%s): do not expose this service", self.config.source)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            if self._authorized(scope):
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        started = time.perf_counter()
        path = scope.get("path") or ""
        status = {"code": 500}
        stats: dict[str, Any] = {}
        scope[STATS_KEY] = stats

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self._dispatch(scope, receive, send_and_note, path)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(path)
            try:
                metrics = service_metrics()
                metrics.requests.labels(route=route, status=str(status["code"])).inc()
                metrics.latency.labels(route=route).observe(elapsed)
            except Exception:  # noqa: BLE001 - metrics must not fail a request
                logger.warning("metrics could not be recorded")
            if route == "/extract":
                self._record(stats, status["code"], elapsed)

    def _authorized(self, scope: dict[str, Any]) -> bool:
        token = self.config.token
        if token is None or scope.get("path") in OPEN_PATHS:
            return True
        header = None
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                header = value.decode("latin-1")
                break
        return bearer_token_matches(header, token)

    async def _dispatch(self, scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
        if not self._authorized(scope):
            await send(
                {
                    "type": "http.response.start",
                    "status": int(HTTPStatus.UNAUTHORIZED),
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(_UNAUTHORIZED_BODY)).encode()),
                        (b"www-authenticate", b'Bearer realm="clinical_extraction"'),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _UNAUTHORIZED_BODY})
            return
        if path != "/extract" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body, problem = await self._read_body(scope, receive)
        if problem is not None:
            code, message = problem
            if code == HTTPStatus.BAD_REQUEST:
                try:
                    service_metrics().invalid_request_json.inc()
                except Exception:  # noqa: BLE001
                    pass
            start, end = _json_error(int(code), message)
            await send(start)
            await send(end)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, scope: dict[str, Any], receive: Any) -> tuple[bytes, tuple[int, str] | None]:
        for name, value in scope.get("headers") or ():
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return b"", (HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
                if declared > self.max_bytes:
                    return b"", (
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        f"request body of {declared} bytes is larger than the limit of {self.max_bytes}",
                    )
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b"", (HTTPStatus.BAD_REQUEST, "client disconnected before sending the body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return b"", (
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"request body is larger than the limit of {self.max_bytes} bytes",
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return body, (HTTPStatus.BAD_REQUEST, f"request body is not UTF-8 (bad byte at offset {exc.start})")
        try:
            parsed = json.loads(decoded)
        except ValueError as exc:
            where = f"line {exc.lineno} column {exc.colno}" if hasattr(exc, "lineno") else "body"
            return body, (HTTPStatus.BAD_REQUEST, f"request body is not valid JSON ({where})")
        if not isinstance(parsed, dict):
            return body, (
                HTTPStatus.BAD_REQUEST,
                f'request body must be a JSON object {{"text": ...}}, got {type(parsed).__name__}',
            )
        return body, None

    def _record(self, stats: dict[str, Any], status: int, elapsed: float) -> None:
        from clinical.serving import monitor

        monitor.record_request(
            text_chars=int(stats.get("text_chars", 0)),
            latency_ms=elapsed * 1000.0,
            status=status,
            entities=stats.get("entities"),
            valid_json=stats.get("valid_json"),
            release=stats.get("release"),
            model_version=stats.get("model_version"),
            error_class=stats.get("error_class"),
            directory=self.monitor_dir,
        )


class ExtractRequest(bentoml.IODescriptor):
    """Body of POST /extract."""

    # BentoML logs request validation errors; pydantic would quote the offending input there.
    model_config = ConfigDict(hide_input_in_errors=True)

    text: str = Field(description="One clinical note as plain text (de-identified before inference when configured).")


# --- what is served ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """A loaded model and how to serve it.

    extractor: the Extractor; model: what responses say about it (ids and hashes only);
    deidentify: whether requests are de-identified first; release / model_version: ids for the
    serving monitor.
    """

    extractor: Any
    model: dict[str, Any]
    deidentify: bool
    release: str | None
    model_version: str | None


class StaticModel:
    """The ReleaseFollower interface for a service without releases (plain `bentoml serve`)."""

    swaps = 0

    def __init__(self, served: Served) -> None:
        self._served = served

    def current(self) -> tuple[None, Served]:
        return None, self._served

    def watching(self) -> bool:
        return False


def _load_extractor(path: Path) -> tuple[Any, dict[str, Any]]:
    """The extractor of the backend chosen for this model on this host (clinical.serving.backends),
    and what the model block says about the backend. Raises BackendUnavailableError when
    CLINICAL_SERVING_BACKEND=tensorrt_llm cannot be honoured."""
    from clinical.serving.backends import TENSORRT_LLM, TrtllmExtractor, choose_backend

    max_new_tokens = _int_env("CLINICAL_MAX_NEW_TOKENS", DEFAULT_MAX_NEW_TOKENS)
    choice = choose_backend(model_store_metadata(path))
    logger.info("backend %s: %s", choice.backend, choice.reason)  # ids and hashes only
    if choice.backend == TENSORRT_LLM and choice.bundle is not None:
        extractor = TrtllmExtractor.load(path, choice.bundle, max_new_tokens=max_new_tokens)  # GPU-only
    else:
        from clinical.modeling.extract import Extractor

        extractor = Extractor.load(str(path), max_new_tokens=max_new_tokens)
    return extractor, choice.describe()


def _warm_deidentifier() -> Any:
    from clinical.deid import get_deidentifier

    return get_deidentifier()


def load_release(release: Any, mode: str) -> Served:
    """Served for a VerifiedRelease (clinical.serving.active): its Bento's model, and de-identification
    as the manifest's `serving.deidentify_requests` (or the model's metadata) and `mode` say."""
    serving = release.manifest.get("serving") or {}
    trained = serving.get("deidentify_requests")
    if trained is None:
        trained = model_store_metadata(release.bento.model_path).get("trained_on_deidentified")
    deidentify = should_deidentify(mode, trained)
    if deidentify:
        _warm_deidentifier()  # spaCy loads once per process, before the model goes live
    extractor, backend = _load_extractor(release.bento.model_path)
    model = {
        "tag": release.bento.model_tag,
        "source": "release",
        "release": release.manifest_sha256,
        "bento_tag": release.bento_tag,
        **_json_safe(extractor.model_info),
        **backend,
    }
    record_backend(model)
    return Served(extractor, model, deidentify, release.bento_tag, release.bento.model_tag)


def load_static(mode: str) -> Served:
    """Served for the model resolve_model_location finds (no release registry)."""
    location = resolve_model_location()
    trained = model_store_metadata(location.path).get("trained_on_deidentified")
    deidentify = should_deidentify(mode, trained)
    if deidentify:
        _warm_deidentifier()
    extractor, backend = _load_extractor(location.path)
    model = {"tag": location.tag, "source": location.source, **_json_safe(extractor.model_info), **backend}
    record_backend(model)
    return Served(extractor, model, deidentify, None, location.tag)


def run_batch(models: Any, texts: list[str], on_deidentified: Any = None) -> list[tuple[Served, Any]]:
    """Extract a batch of validated notes with the model being served now.

    models: a ReleaseFollower or StaticModel (`.current() -> (release, Served)`); the batch runs on
        one model, so a swap during generation takes effect with the next batch.
    texts: the request notes; de-identified first when the served model says so.
    on_deidentified: optional callback(count) (metrics).
    """
    from clinical.serving.batching import extract_batch

    _, served = models.current()
    if served.deidentify:
        deid = _warm_deidentifier()
        texts = [deid.deidentify(text).text for text in texts]
        if on_deidentified is not None:
            on_deidentified(len(texts))
    own_batch = getattr(served.extractor, "extract_batch", None)  # the TensorRT-LLM backend batches itself
    results = own_batch(texts) if callable(own_batch) else extract_batch(served.extractor, texts)
    return [(served, result) for result in results]


def _follower_from_env(mode: str, on_event: Any) -> Any:
    from clinical.serving.active import DEFAULT_POLL_S, ReleaseFollower
    from clinical.serving.release import ReleaseRegistry, load_public_key

    missing = [v for v in ("CLINICAL_RELEASES_DIR", "CLINICAL_RELEASE_PUBLIC_KEY") if not os.environ.get(v)]
    if missing:
        raise RuntimeError(f"CLINICAL_SERVE_FOLLOW_RELEASES=1 needs {' and '.join(missing)}")
    poll_s = float(os.environ.get("CLINICAL_RELEASE_POLL_S") or DEFAULT_POLL_S)
    follower = ReleaseFollower(
        ReleaseRegistry(os.environ["CLINICAL_RELEASES_DIR"]),
        load_public_key(os.environ["CLINICAL_RELEASE_PUBLIC_KEY"]),
        BentoMLContainer.bentoml_home.get(),
        lambda release: load_release(release, mode),
        poll_s=poll_s,
        on_event=on_event,
    )
    follower.start()
    return follower


@bentoml.service(
    name=SERVICE_NAME,
    traffic={"timeout": 300},
    workers=1,
    labels={"project": "clinical-llm-factory", "task": "clinical-entity-extraction"},
)
class ClinicalExtractionService:
    """Clinical entity extraction with the fine-tuned model of this Bento (or of the active release)."""

    def __init__(self) -> None:
        from clinical.serving.batching import DEFAULT_MAX_BATCH_SIZE, MicroBatcher

        # Fails start-up with a clear message when no token is configured (the middleware checks too).
        self.auth = resolve_auth()
        from clinical.serving.backends import requested_backend

        requested_backend()  # a misspelt CLINICAL_SERVING_BACKEND stops start-up before any model loads
        self.max_chars = max_text_chars()
        self.metrics = service_metrics()
        mode = deidentify_mode()
        if os.environ.get("CLINICAL_SERVE_FOLLOW_RELEASES") == "1":
            self.models = _follower_from_env(
                mode, lambda outcome, _digest: self.metrics.release_events.labels(outcome=outcome).inc()
            )
        else:
            self.models = StaticModel(load_static(mode))
        wait_ms = _int_env("CLINICAL_BATCH_WAIT_MS", 5) if os.environ.get("CLINICAL_BATCH_WAIT_MS") != "0" else 0
        self.batcher = MicroBatcher(
            self._run_batch,
            max_batch_size=_int_env("CLINICAL_MAX_BATCH_SIZE", DEFAULT_MAX_BATCH_SIZE),
            max_wait_s=wait_ms / 1000.0,
            on_batch=self.metrics.batch_size.observe,
            name="clinical-batcher",
        )
        _, served = self.models.current()
        import torch

        logger.info(
            "serving %s (release %s) on backend %s (%s), de-identification of requests %s, %d torch threads",
            served.model.get("tag"),
            (served.model.get("release") or "none")[:16],
            served.model.get("backend"),
            served.model.get("backend_reason"),
            "on" if served.deidentify else "off",
            torch.get_num_threads(),
        )

    def _run_batch(self, texts: list[str]) -> list[tuple[Served, Any]]:
        return run_batch(self.models, texts, self.metrics.deidentified.inc)

    def __is_ready__(self) -> bool:
        return self.batcher.alive()

    def __is_alive__(self) -> bool:
        return self.batcher.alive()

    @bentoml.api(route="/info")
    def info(self) -> dict[str, Any]:
        """What is served now: the model block of /extract responses (ids, hashes, backend and the
        reason it was chosen) and whether requests are de-identified."""
        _, served = self.models.current()
        return {"service": SERVICE_NAME, "model": served.model, "deidentify_requests": served.deidentify}

    @bentoml.api(route="/extract", input_spec=ExtractRequest)
    async def extract(self, text: str, ctx: bentoml.Context) -> dict[str, Any]:
        """Entities of one note: `{"entities": [...], "valid_json": bool, "model": {...}, "deidentified": bool}`."""
        # BearerTokenMiddleware has authenticated the caller and checked the body is a JSON object.
        stats = ctx.request.scope.get(STATS_KEY)
        stats = stats if isinstance(stats, dict) else {}
        stats["text_chars"] = len(text) if isinstance(text, str) else 0
        validate_text(text, self.max_chars)
        try:
            served, result = await asyncio.wrap_future(self.batcher.submit(text))
        except Exception as exc:
            stats["error_class"] = type(exc).__name__
            logger.error("extraction failed (%s)", type(exc).__name__)  # never the message: it may quote text
            raise
        stats.update(
            entities=result.entities,
            valid_json=bool(result.valid_json),
            release=served.release,
            model_version=served.model_version,
        )
        for entity in result.entities:
            self.metrics.entities.labels(type=str(entity.get("type", "other"))).inc()
        if not result.valid_json:
            self.metrics.model_invalid_json.inc()
        return shape_response(result, served.model, served.deidentify)


ClinicalExtractionService.add_asgi_middleware(BearerTokenMiddleware)


def _json_safe(info: dict[str, Any]) -> dict[str, Any]:
    scalar = str | int | float | bool | type(None)
    return {str(k): (v if isinstance(v, scalar) else str(v)) for k, v in info.items()}
