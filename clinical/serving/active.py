"""What `clinical serve` serves: the active release, verified, and followed while the service runs.

`verify_release` checks, before any weight is loaded, that
1. the release's signed manifest verifies under the configured ed25519 public key and is stored
   under its own sha256 (clinical.serving.release);
2. the Bento it names is in the BentoML store, and the sha256 of the Bento folder (code, bento.yaml,
   environment) equals the manifest's `model_sha256["bento"]`;
3. the sha256 of the model folder the Bento carries equals `model_sha256["bento_model"]`, and its
   safetensors weights hash to `model_sha256["merged_model"]` when the manifest names it.
Anything else raises ReleaseVerificationError with a one-line reason: a tampered manifest, Bento or
model is never served.

The BentoML store is read as files (`<home>/bentos/<name>/<version>/bento.yaml`,
`<home>/models/<name>/<version>/`), so no process-wide BentoML state is touched.

`ReleaseFollower` keeps the loaded model of the active release and watches the registry's `active`
pointer. When `clinical release promote` or `rollback` replaces it, the follower verifies the new
release, loads its model next to the old one, and swaps the two under a lock. A request that already
holds the old model finishes on it; the next one gets the new model, so no request is dropped. A
release that fails verification is refused (logged by manifest hash, counted) and the current one
keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clinical.ids import sha256_dir
from clinical.serving.release import ReleaseError, ReleaseRegistry, ReleaseVerificationError

T = TypeVar("T")
DEFAULT_POLL_S = 1.0
REQUIRED_HASHES = ("bento", "bento_model")
"""Manifest hashes `clinical serve` needs: without them it cannot tell what it would serve."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BentoInStore:
    """A Bento's folder and the model it carries, found in a BentoML home folder."""

    tag: str
    path: Path
    model_tag: str
    model_path: Path
    labels: dict[str, str]


def find_bento(bentoml_home: str | Path, tag: str) -> BentoInStore:
    """The Bento `name:version` in `<bentoml_home>/bentos` and its (single) model; ReleaseVerificationError
    naming what is missing otherwise."""
    name, _, version = tag.partition(":")
    if not name or not version or "/" in tag or ".." in tag:
        raise ReleaseVerificationError(f"bento tag {tag!r} is not 'name:version'")
    home = Path(bentoml_home)
    path = home / "bentos" / name / version
    try:
        info = yaml.safe_load((path / "bento.yaml").read_text())
    except (OSError, yaml.YAMLError):
        raise ReleaseVerificationError(f"Bento {tag} is not in the BentoML store {home}") from None
    models = (info or {}).get("models") or []
    if len(models) != 1 or not isinstance(models[0], dict) or ":" not in str(models[0].get("tag", "")):
        raise ReleaseVerificationError(f"Bento {tag} must carry exactly one model")
    model_tag = str(models[0]["tag"])
    model_name, _, model_version = model_tag.partition(":")
    model_path = home / "models" / model_name / model_version
    if not (model_path / "model.yaml").is_file():
        raise ReleaseVerificationError(f"model {model_tag} of Bento {tag} is not in the BentoML store {home}")
    labels = {str(k): str(v) for k, v in ((info or {}).get("labels") or {}).items()}
    return BentoInStore(tag=tag, path=path, model_tag=model_tag, model_path=model_path, labels=labels)


def bento_hashes(bento: BentoInStore) -> dict[str, str]:
    """`{"bento": sha256 of the Bento folder, "bento_model": sha256 of its model folder}`."""
    return {"bento": sha256_dir(bento.path), "bento_model": sha256_dir(bento.model_path)}


@dataclass(frozen=True)
class VerifiedRelease:
    """A release whose signature, Bento and model hashes were checked.

    manifest_sha256: the release id; manifest: the verified manifest; bento: where it lives.
    """

    manifest_sha256: str
    manifest: dict[str, Any]
    bento: BentoInStore

    @property
    def bento_tag(self) -> str:
        return self.bento.tag

    def describe(self) -> dict[str, Any]:
        """Ids and hashes only (what the service reports and logs)."""
        return {
            "manifest_sha256": self.manifest_sha256,
            "bento_tag": self.bento.tag,
            "model_tag": self.bento.model_tag,
            "model_sha256": dict(self.manifest["model_sha256"]),
            "created_at": self.manifest["created_at"],
        }


def verify_release(
    registry: ReleaseRegistry,
    public_key: Ed25519PublicKey,
    bentoml_home: str | Path,
    manifest_sha256: str | None = None,
) -> VerifiedRelease:
    """Verify a release (the active one when manifest_sha256 is None) as the module docstring says."""
    if manifest_sha256 is None:
        try:
            pointer = registry.read_active()
        except ReleaseError as exc:
            raise ReleaseVerificationError(str(exc)) from None
        if pointer is None:
            raise ReleaseVerificationError(
                f"no active release in {registry.root}: promote one with `clinical release promote`"
            )
        manifest_sha256 = str(pointer["manifest_sha256"])
    manifest = registry.load(manifest_sha256, public_key)
    hashes = manifest["model_sha256"]
    missing = [name for name in REQUIRED_HASHES if name not in hashes]
    if missing:
        raise ReleaseVerificationError(
            f"release {manifest_sha256[:16]} names no {', '.join(missing)} hash: it cannot be verified for serving"
        )
    bento = find_bento(bentoml_home, manifest["bento_tag"])
    actual = bento_hashes(bento)
    for name, digest in actual.items():
        if hashes[name] != digest:
            what = "Bento folder" if name == "bento" else "model folder"
            raise ReleaseVerificationError(
                f"the {what} of {bento.tag} does not match the signed manifest "
                f"({name} sha256 {digest[:16]}..., signed {hashes[name][:16]}...): it was changed after release"
            )
    if "merged_model" in hashes:
        from clinical.modeling.base_model import BaseModelError, weights_sha256

        try:
            weights = weights_sha256(bento.model_path)
        except BaseModelError as exc:
            raise ReleaseVerificationError(str(exc)) from None
        if weights != hashes["merged_model"]:
            raise ReleaseVerificationError(
                f"the weights of {bento.model_tag} do not match the signed merged_model sha256"
            )
    return VerifiedRelease(manifest_sha256=manifest_sha256, manifest=manifest, bento=bento)


class ReleaseFollower(Generic[T]):
    """The loaded model of the active release, swapped atomically when the active pointer changes.

    registry, public_key, bentoml_home: where releases and Bentos are, and the key they must verify under.
    load: builds the served object (an Extractor, ...) from a VerifiedRelease; runs outside the lock.
    poll_s: how often the watcher thread looks at the pointer.
    on_event: optional callback(outcome, release id) with outcome "swapped" or "refused" (metrics).
    """

    def __init__(
        self,
        registry: ReleaseRegistry,
        public_key: Ed25519PublicKey,
        bentoml_home: str | Path,
        load: Callable[[VerifiedRelease], T],
        poll_s: float = DEFAULT_POLL_S,
        on_event: Callable[[str, str], None] | None = None,
    ) -> None:
        self.registry = registry
        self.public_key = public_key
        self.bentoml_home = Path(bentoml_home)
        self.load = load
        self.poll_s = poll_s
        self.on_event = on_event
        self.swaps = 0
        self.refused: set[str] = set()
        self._lock = threading.Lock()
        self._check_lock = threading.Lock()
        release = verify_release(registry, public_key, bentoml_home)
        self._current: tuple[VerifiedRelease, T] = (release, load(release))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> tuple[VerifiedRelease, T]:
        """The release being served and its loaded object (hold on to both for one request or batch)."""
        with self._lock:
            return self._current

    def check_once(self) -> str:
        """Look at the active pointer once: "unchanged", "swapped" or "refused"."""
        with self._check_lock:
            try:
                pointer = self.registry.read_active()
            except ReleaseError as exc:
                logger.error("release pointer unreadable, keeping the current release: %s", exc)
                return "refused"
            if pointer is None:
                return "unchanged"
            digest = str(pointer["manifest_sha256"])
            if digest == self.current()[0].manifest_sha256 or digest in self.refused:
                return "unchanged"
            try:
                release = verify_release(self.registry, self.public_key, self.bentoml_home, digest)
                loaded = self.load(release)
            except Exception as exc:  # noqa: BLE001 - any failure to verify or load keeps the current release
                self.refused.add(digest)
                reason = str(exc) if isinstance(exc, ReleaseVerificationError) else type(exc).__name__
                logger.error("release %s refused, still serving the previous one: %s", digest[:16], reason)
                self._notify("refused", digest)
                return "refused"
            with self._lock:
                previous = self._current[0]
                self._current = (release, loaded)
                self.swaps += 1
            logger.info(
                "now serving release %s (%s); was %s (%s)",
                digest[:16],
                release.bento_tag,
                previous.manifest_sha256[:16],
                previous.bento_tag,
            )
            self._notify("swapped", digest)
            return "swapped"

    def _notify(self, outcome: str, digest: str) -> None:
        if self.on_event is not None:
            try:
                self.on_event(outcome, digest)
            except Exception:  # noqa: BLE001 - metrics must not stop the watcher
                logger.warning("release event callback failed")

    def start(self) -> None:
        """Start the watcher thread (daemon)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="release-follower", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.check_once()
            except Exception as exc:  # noqa: BLE001 - the watcher must outlive one bad release
                logger.error("release watcher: %s", type(exc).__name__)
