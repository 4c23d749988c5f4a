"""`clinical serve`: verify the active release, then run `bentoml serve` on its Bento, following releases.

    clinical serve --port 3000                 # verifies, then replaces itself with `bentoml serve`
    clinical serve --check                     # verifies and prints the release, serves nothing

Before anything is served the active release is verified (clinical.serving.active.verify_release:
signature, Bento hash, model hashes); a tampered or unknown release stops here with exit status 1.
The service then runs with `CLINICAL_SERVE_FOLLOW_RELEASES=1`: it verifies again in the worker,
loads the release's model and watches the registry, so `clinical release promote` and
`clinical release rollback` switch the served model without a restart and without dropping requests.
The service code is the active Bento's at start; a release whose code differs takes effect on the
next start (the model swaps at once).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from clinical.serving.active import VerifiedRelease, verify_release
from clinical.serving.deploy import default_public_key_path
from clinical.serving.release import ReleaseError, ReleaseRegistry, load_public_key
from clinical.settings import Settings


@dataclass(frozen=True)
class ServePlan:
    """What `clinical serve` runs: the verified release, the command line and its environment."""

    release: VerifiedRelease
    argv: list[str]
    env: dict[str, str]


def bentoml_executable() -> str:
    """The `bentoml` console script of this Python environment."""
    beside = Path(sys.executable).with_name("bentoml")
    if beside.is_file():
        return str(beside)
    found = shutil.which("bentoml")
    if found is None:
        raise ReleaseError("the bentoml command is not installed in this environment")
    return found


def plan_serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 3000,
    public_key: str | Path | None = None,
    environ: dict[str, str] | None = None,
) -> ServePlan:
    """Verify the active release and build the `bentoml serve` command for it.

    settings: where the release registry, the BentoML store and the monitor folder are.
    host, port: where the service listens.
    public_key: public key PEM; default CLINICAL_RELEASE_PUBLIC_KEY, else the development key.
    environ: base environment of the service (os.environ when None).
    Raises ReleaseVerificationError (refused) or ReleaseError (cannot run) with a one-line reason.
    """
    key_path = Path(public_key) if public_key else default_public_key_path(settings)
    if key_path is None:
        raise ReleaseError("no release public key: set CLINICAL_RELEASE_PUBLIC_KEY or pass --public-key")
    key = load_public_key(key_path)
    registry = ReleaseRegistry(settings.releases_dir or settings.home / "releases")
    release = verify_release(registry, key, settings.bentoml_home)
    env = dict(os.environ if environ is None else environ)
    env.update(
        {
            "BENTOML_HOME": str(Path(settings.bentoml_home).resolve()),
            "BENTOML_DO_NOT_TRACK": "true",
            "CLINICAL_SERVE_FOLLOW_RELEASES": "1",
            "CLINICAL_RELEASES_DIR": str(registry.root.resolve()),
            "CLINICAL_RELEASE_PUBLIC_KEY": str(key_path.resolve()),
            # The service imports its code from the signed Bento folder: bytecode written there would change
            # the folder's hash, and the next verification (a promote, a rollback, a restart) would refuse the
            # release as "changed after release".
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if settings.serving_monitor_dir is not None and not env.get("CLINICAL_SERVING_MONITOR_DIR"):
        env["CLINICAL_SERVING_MONITOR_DIR"] = str(settings.serving_monitor_dir)
    env.pop("CLINICAL_MODEL_DIR", None)
    env.pop("CLINICAL_MODEL_TAG", None)
    argv = [bentoml_executable(), "serve", release.bento_tag, "--host", host, "--port", str(port)]
    return ServePlan(release=release, argv=argv, env=env)
