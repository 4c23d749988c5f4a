"""Identity without PHI: keyed hashes for people and records, content hashes for everything else.

People are referred to only by an HMAC-SHA256 of their identifier under a secret that comes from
the environment (`CLINICAL_HMAC_SECRET`); without the secret the key cannot be reversed or
recomputed from a guessed MRN. Notes, files and datasets are referred to by SHA-256 of their content.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

DEV_HMAC_SECRET = "dev-only-secret-change-me"
"""Documented development default. Production sets CLINICAL_HMAC_SECRET (see README)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_text(text: str) -> str:
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_dir(path: str | Path) -> str:
    """Hash of a directory: the sorted (relative path, file sha256) pairs of every file in it."""
    root = Path(path)
    entries = sorted(f"{p.relative_to(root).as_posix()}\t{sha256_file(p)}" for p in root.rglob("*") if p.is_file())
    return sha256_text("\n".join(entries))


def keyed_hash(secret: str, value: str, namespace: str) -> str:
    """HMAC-SHA256 of `value` under `secret`, separated by `namespace` (patient, record, ...)."""
    message = f"{namespace}\x1f{value}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def patient_key(secret: str, patient_id: str) -> str:
    return "pt_" + keyed_hash(secret, patient_id.strip(), "patient")[:32]


def note_id(secret: str, record_id: str) -> str:
    """Stable id of a source record, derived from the source system's record id under the secret."""
    return "note_" + keyed_hash(secret, record_id.strip(), "record")[:32]


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(obj: Any) -> str:
    """SHA-256 of the canonical JSON form of `obj` (key order does not matter)."""
    return sha256_text(canonical_json(obj))
