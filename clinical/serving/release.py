"""Signed release manifests (ed25519) and a release registry with an atomic `active` pointer.

A release manifest names what is served and why it may be: the Bento tag, the sha256 of the model
artifacts, the evaluation summary, the model card's hash and the lineage ids. It is signed over
its canonical JSON (sorted keys, compact, ASCII) with an ed25519 key made once by
`clinical release keygen --out DIR` (private key PEM, file mode 0600; public key PEM beside it).

    manifest = make_release_manifest("clinical_extraction:abc", {"merged_model": "<sha256>"},
                                     {"micro_f1": 0.41}, None, {"bento": "bento_clinical_extraction:abc"})
    signed = sign_manifest(manifest, load_private_key("keys/release_signing.key"))
    verify_manifest(signed, load_public_key("keys/release_signing.pub"))   # -> manifest, or raises

The registry folder (default `$CLINICAL_HOME/releases`) holds `manifests/<manifest sha256>.json`
(one signed manifest per release, never removed) and `active`: JSON naming the active release and
the stack of earlier ones, replaced atomically (temporary file + os.replace) under a file lock.
Promote and rollback verify signatures with the configured public key before switching; a
manifest that fails verification never becomes active.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SCHEMA = "clinical-release/1"
ALGORITHM = "ed25519"
SIGNING_CONTEXT = b"clinical-release-manifest/1\n"
"""Prefix of the signed bytes, so a signature over a manifest cannot be reused for anything else."""
PRIVATE_KEY_NAME = "release_signing.key"
PUBLIC_KEY_NAME = "release_signing.pub"
ACTIVE_NAME = "active"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MANIFEST_KEYS = frozenset(
    {"schema", "bento_tag", "model_sha256", "evaluation", "model_card_sha256", "lineage", "created_at"}
)
OPTIONAL_MANIFEST_KEYS = frozenset({"serving", "notes"})
"""Added later, present only when set, so manifests signed before them keep their hash:
serving: how the release must be served (e.g. {"deidentify_requests": true, "deid_policies": [...]});
notes: short strings without PHI (e.g. why model_card_sha256 is null)."""

AuditHook = Callable[[str, dict[str, Any]], None]
"""Called as hook(event_type, {"bento_tag": ..., "manifest_sha256": ...}) after a switch."""


class ReleaseError(ValueError):
    """A release operation that cannot proceed (bad input, nothing to roll back to, ...)."""


class ReleaseVerificationError(ReleaseError):
    """A signed manifest that is malformed, tampered with, or signed by another key."""


# --- manifests -----------------------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Sorted-key, compact, ASCII JSON bytes (no NaN): what the signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def manifest_sha256(manifest: dict[str, Any]) -> str:
    """sha256 of a manifest's canonical JSON: the release's id in the registry and the audit trail."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


def _check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or not MANIFEST_KEYS <= set(manifest) <= MANIFEST_KEYS | OPTIONAL_MANIFEST_KEYS:
        raise ReleaseVerificationError(
            f"manifest must be an object with the keys {sorted(MANIFEST_KEYS)} "
            f"(and optionally {sorted(OPTIONAL_MANIFEST_KEYS)}), nothing else"
        )
    if manifest["schema"] != SCHEMA:
        raise ReleaseVerificationError(f"manifest schema {manifest['schema']!r} is not {SCHEMA!r}")
    if not isinstance(manifest["bento_tag"], str) or ":" not in manifest["bento_tag"]:
        raise ReleaseVerificationError("bento_tag must be a 'name:version' string")
    hashes = manifest["model_sha256"]
    if not isinstance(hashes, dict) or not hashes:
        raise ReleaseVerificationError("model_sha256 must map artifact names to sha256 hex digests")
    for name, digest in hashes.items():
        if not isinstance(digest, str) or not _SHA256.match(digest):
            raise ReleaseVerificationError(f"model_sha256[{name!r}] is not a lower-case sha256 hex digest")
    card = manifest["model_card_sha256"]
    if card is not None and (not isinstance(card, str) or not _SHA256.match(card)):
        raise ReleaseVerificationError("model_card_sha256 must be a sha256 hex digest or null")
    if not isinstance(manifest["evaluation"], dict):
        raise ReleaseVerificationError("evaluation must be a JSON object")
    if not isinstance(manifest["lineage"], dict | list):
        raise ReleaseVerificationError("lineage must be a JSON object or list of ids")
    if "serving" in manifest and not isinstance(manifest["serving"], dict):
        raise ReleaseVerificationError("serving must be a JSON object")
    if "notes" in manifest and (
        not isinstance(manifest["notes"], list) or not all(isinstance(n, str) for n in manifest["notes"])
    ):
        raise ReleaseVerificationError("notes must be a list of strings")


def make_release_manifest(
    bento_tag: str,
    model_hashes: dict[str, str],
    evaluation: dict[str, Any],
    model_card_sha256: str | None,
    lineage_ids: dict[str, Any] | list[str],
    created_at: str | None = None,
    serving: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """A release manifest (plain dict, JSON-safe), checked for shape.

    bento_tag: the Bento served, "clinical_extraction:<version>".
    model_hashes: artifact name -> sha256 (e.g. merged_model, adapter, trtllm_bundle).
    evaluation: the evaluation summary the promotion rests on (scores, counts; no text).
    model_card_sha256: sha256 of the model card, None when there is none.
    lineage_ids: artifact ids (or a name -> id mapping) for `clinical lineage trace`.
    created_at: UTC ISO time; now when None.
    serving: how to serve it (see OPTIONAL_MANIFEST_KEYS); left out when None.
    notes: short PHI-free notes; left out when None.
    """
    manifest = {
        "schema": SCHEMA,
        "bento_tag": bento_tag,
        "model_sha256": dict(model_hashes),
        "evaluation": copy.deepcopy(evaluation),
        "model_card_sha256": model_card_sha256,
        "lineage": copy.deepcopy(lineage_ids),
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if serving is not None:
        manifest["serving"] = copy.deepcopy(serving)
    if notes is not None:
        manifest["notes"] = list(notes)
    try:
        canonical_json(manifest)
    except (TypeError, ValueError) as exc:
        raise ReleaseError(f"manifest is not plain JSON: {exc}") from None
    try:
        _check_manifest(manifest)
    except ReleaseVerificationError as exc:
        raise ReleaseError(str(exc)) from None
    return manifest


def public_key_fingerprint(public_key: Ed25519PublicKey) -> str:
    """sha256 of the raw 32-byte public key, hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_manifest(manifest: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """`{"manifest", "algorithm", "signature" (base64), "key_fingerprint"}` for a manifest."""
    _check_manifest(manifest)
    signature = private_key.sign(SIGNING_CONTEXT + canonical_json(manifest))
    return {
        "manifest": copy.deepcopy(manifest),
        "algorithm": ALGORITHM,
        "signature": base64.b64encode(signature).decode("ascii"),
        "key_fingerprint": public_key_fingerprint(private_key.public_key()),
    }


def verify_manifest(signed: dict[str, Any], public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The manifest of `signed` if its signature holds under `public_key`; else ReleaseVerificationError."""
    if not isinstance(signed, dict) or set(signed) != {"manifest", "algorithm", "signature", "key_fingerprint"}:
        raise ReleaseVerificationError(
            "not a signed release manifest (manifest, algorithm, signature, key_fingerprint)"
        )
    if signed["algorithm"] != ALGORITHM:
        raise ReleaseVerificationError(f"algorithm {signed['algorithm']!r} is not {ALGORITHM}")
    expected = public_key_fingerprint(public_key)
    if signed["key_fingerprint"] != expected:
        raise ReleaseVerificationError(
            f"signed by key {str(signed['key_fingerprint'])[:16]}..., not the configured key {expected[:16]}..."
        )
    try:
        signature = base64.b64decode(signed["signature"], validate=True)
    except (TypeError, ValueError):
        raise ReleaseVerificationError("signature is not base64") from None
    manifest = signed["manifest"]
    try:
        message = SIGNING_CONTEXT + canonical_json(manifest)
    except (TypeError, ValueError):
        raise ReleaseVerificationError("manifest is not plain JSON") from None
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        raise ReleaseVerificationError(
            "signature does not match the manifest: it was changed after signing, or the signature was"
        ) from None
    _check_manifest(manifest)
    return copy.deepcopy(manifest)


# --- keys ----------------------------------------------------------------------------------------


def generate_keypair(out_dir: str | Path) -> tuple[Path, Path]:
    """Write a new ed25519 key pair into out_dir: private PEM (0600, never overwritten) and public PEM."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path, public_path = out / PRIVATE_KEY_NAME, out / PUBLIC_KEY_NAME
    if private_path.exists() or public_path.exists():
        raise ReleaseError(f"{out} already holds a release key: refusing to overwrite it")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    os.chmod(private_path, 0o600)  # whatever the umask
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_path, public_path


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The ed25519 private key in a PEM file; refused when group or others can read it."""
    path = Path(path)
    try:
        readable_by_others = bool(path.stat().st_mode & 0o077)
        data = path.read_bytes()
    except OSError as exc:
        raise ReleaseError(f"private key {path} cannot be read ({type(exc).__name__})") from None
    if readable_by_others:
        raise ReleaseError(f"private key {path} is readable by group or others: chmod 600 it")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ReleaseError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The ed25519 public key in a PEM file."""
    path = Path(path)
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise ReleaseError(f"public key {path} cannot be read ({type(exc).__name__})") from None
    except ValueError:
        raise ReleaseError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReleaseError(f"{path} is not an ed25519 key")
    return key


# --- registry ------------------------------------------------------------------------------------


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ReleaseRegistry:
    """A folder of signed manifests and the `active` pointer (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifests = self.root / "manifests"
        self.active_path = self.root / ACTIVE_NAME

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.manifests.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read_active(self) -> dict[str, Any] | None:
        """`{"manifest_sha256", "bento_tag", "previous": [{"manifest_sha256", "bento_tag"}, ...]}` or None."""
        if not self.active_path.exists():
            return None
        try:
            pointer = json.loads(self.active_path.read_text())
            _ = pointer["manifest_sha256"], pointer["bento_tag"], list(pointer["previous"])
        except (ValueError, KeyError, TypeError):
            raise ReleaseError(f"{self.active_path} is unreadable: restore it from the audit trail") from None
        return pointer

    def load(self, digest: str, public_key: Ed25519PublicKey) -> dict[str, Any]:
        """The verified manifest stored under a manifest sha256 (its hash is checked too)."""
        path = self.manifests / f"{digest}.json"
        try:
            signed = json.loads(path.read_text())
        except (OSError, ValueError):
            raise ReleaseVerificationError(
                f"release {digest[:16]} is missing or unreadable in {self.manifests}"
            ) from None
        manifest = verify_manifest(signed, public_key)
        if manifest_sha256(manifest) != digest:
            raise ReleaseVerificationError(f"{path.name} holds another manifest than its name says")
        return manifest

    def _switch(self, pointer: dict[str, Any], event_type: str, audit: AuditHook | None) -> None:
        before = self.active_path.read_bytes() if self.active_path.exists() else None
        _write_atomic(self.active_path, json.dumps(pointer, indent=2, sort_keys=True).encode())
        if audit is None:
            return
        try:
            audit(event_type, {"bento_tag": pointer["bento_tag"], "manifest_sha256": pointer["manifest_sha256"]})
        except BaseException:
            # No switch without its audit event: put the previous pointer back.
            if before is None:
                self.active_path.unlink(missing_ok=True)
            else:
                _write_atomic(self.active_path, before)
            raise

    def promote(self, signed: dict[str, Any], public_key: Ed25519PublicKey, audit: AuditHook | None = None) -> dict:
        """Verify `signed`, store it and make it active; the previous release is kept for rollback.

        Returns the new pointer (with "changed": False when it was already active).
        """
        manifest = verify_manifest(signed, public_key)
        digest = manifest_sha256(manifest)
        with self._locked():
            current = self.read_active()
            if current is not None and current["manifest_sha256"] == digest:
                return {**current, "changed": False}
            stored = self.manifests / f"{digest}.json"
            if not stored.exists():
                _write_atomic(stored, json.dumps(signed, indent=2, sort_keys=True).encode())
            previous = []
            if current is not None:
                previous = [
                    {"manifest_sha256": current["manifest_sha256"], "bento_tag": current["bento_tag"]},
                    *current["previous"],
                ]
            pointer = {"manifest_sha256": digest, "bento_tag": manifest["bento_tag"], "previous": previous}
            self._switch(pointer, "release_promoted", audit)
        return {**pointer, "changed": True}

    def rollback(self, public_key: Ed25519PublicKey, audit: AuditHook | None = None) -> dict[str, Any]:
        """Make the previous release active again, after verifying its stored signed manifest."""
        with self._locked():
            current = self.read_active()
            if current is None or not current["previous"]:
                raise ReleaseError("no previous release to roll back to")
            target, *older = current["previous"]
            manifest = self.load(target["manifest_sha256"], public_key)
            pointer = {
                "manifest_sha256": target["manifest_sha256"],
                "bento_tag": manifest["bento_tag"],
                "previous": older,
            }
            self._switch(pointer, "release_rolled_back", audit)
        return {**pointer, "rolled_back_from": current["manifest_sha256"]}

    def status(self, public_key: Ed25519PublicKey | None) -> dict[str, Any]:
        """The active release and the earlier ones, each with whether its signature verifies."""
        pointer = self.read_active()
        if pointer is None:
            return {"active": None, "previous": [], "registry": str(self.root)}

        def describe(entry: dict[str, Any]) -> dict[str, Any]:
            out = {"manifest_sha256": entry["manifest_sha256"], "bento_tag": entry["bento_tag"]}
            if public_key is None:
                out["verified"] = None
                return out
            try:
                manifest = self.load(entry["manifest_sha256"], public_key)
                out.update(verified=True, created_at=manifest["created_at"])
            except ReleaseVerificationError as exc:
                out.update(verified=False, problem=str(exc))
            return out

        return {
            "active": describe(pointer),
            "previous": [describe(e) for e in pointer["previous"]],
            "registry": str(self.root),
        }
