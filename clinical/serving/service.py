"""BentoML service: `POST /extract` with `{"text": ...}` returns the entities of one clinical note.

    BENTOML_HOME=... bentoml serve clinical_extraction:<version>            # a built Bento
    CLINICAL_MODEL_DIR=path/to/model bentoml serve clinical.serving.service:ClinicalExtractionService

Response: `{"entities": [...], "valid_json": bool, "model": {...}}` with the entity objects of
clinical.schema. The model comes from, in order: the Bento's own model (alias MODEL_ALIAS, set by
clinical.serving.bento.build_bento), a model store tag in `CLINICAL_MODEL_TAG`, or a folder in
`CLINICAL_MODEL_DIR`. Other settings from the environment: `CLINICAL_MAX_TEXT_CHARS` (default
20000), `CLINICAL_MAX_NEW_TOKENS` (default 256). BentoML's own /healthz, /readyz, /livez and
/metrics stay as they are.

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

import hmac
import logging
import os
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

import bentoml
from bentoml._internal.configuration.containers import BentoMLContainer
from bentoml.exceptions import InvalidArgument
from pydantic import ConfigDict, Field

SERVICE_NAME = "clinical_extraction"
MODEL_ALIAS = "clinical_extractor"
"""Alias under which a Bento built by clinical.serving.bento refers to its model."""
DEFAULT_MAX_TEXT_CHARS = 20000
DEFAULT_MAX_NEW_TOKENS = 256
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
    result = extractor.extract(text)
    return {
        "entities": list(result.entities),
        "valid_json": bool(result.valid_json),
        "model": model,
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


class BearerTokenMiddleware:
    """ASGI middleware: 401 for any HTTP or websocket request outside OPEN_PATHS without the token.

    It runs before BentoML parses the body, so an unauthenticated caller learns nothing about the
    request schema. The token is resolved when the app is built (so a missing token stops start-up).
    """

    def __init__(self, app: Any, environ: dict[str, str] | None = None) -> None:
        self.app = app
        self.config = resolve_auth(environ)
        if self.config.token is None:
            logger.warning("AUTHENTICATION DISABLED (%s): do not expose this service", self.config.source)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        token = self.config.token
        if token is None or scope["type"] not in ("http", "websocket") or scope.get("path") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers") or ():
            if name.lower() == b"authorization":
                header = value.decode("latin-1")
                break
        if bearer_token_matches(header, token):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
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


class ExtractRequest(bentoml.IODescriptor):
    """Body of POST /extract."""

    # BentoML logs request validation errors; pydantic would quote the offending input there.
    model_config = ConfigDict(hide_input_in_errors=True)

    text: str = Field(description="One clinical note, de-identified, as plain text.")


@bentoml.service(
    name=SERVICE_NAME,
    traffic={"timeout": 300},
    workers=1,
    labels={"project": "clinical-llm-factory", "task": "clinical-entity-extraction"},
)
class ClinicalExtractionService:
    """Clinical entity extraction with the fine-tuned model of this Bento."""

    def __init__(self) -> None:
        from clinical.modeling.extract import Extractor

        # Fails start-up with a clear message when no token is configured (the middleware checks too).
        self.auth = resolve_auth()
        self.location = resolve_model_location()
        self.max_chars = max_text_chars()
        max_new_tokens = _int_env("CLINICAL_MAX_NEW_TOKENS", DEFAULT_MAX_NEW_TOKENS)
        self.extractor = Extractor.load(str(self.location.path), max_new_tokens=max_new_tokens)
        self.model = {
            "tag": self.location.tag,
            "source": self.location.source,
            **_json_safe(self.extractor.model_info),
        }

    @bentoml.api(route="/extract", input_spec=ExtractRequest)
    def extract(self, text: str, ctx: bentoml.Context) -> dict[str, Any]:
        """Entities of one note: `{"entities": [...], "valid_json": bool, "model": {...}}`."""
        # BearerTokenMiddleware has authenticated the caller. A later issue hooks in here, before
        # the model sees the text: de-identification of the request.
        validate_text(text, self.max_chars)
        # The Extractor serialises generate() itself; request batching (a later issue) becomes
        # a batchable API calling extract_many.
        return extraction_response(self.extractor, text, self.model)


ClinicalExtractionService.add_asgi_middleware(BearerTokenMiddleware)


def _json_safe(info: dict[str, Any]) -> dict[str, Any]:
    scalar = str | int | float | bool | type(None)
    return {str(k): (v if isinstance(v, scalar) else str(v)) for k, v in info.items()}
