"""Release signing and the release registry, for the deployment asset (see clinical/serving/deploy.py)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from clinical.serving import deploy, release


class ReleaseSigning(dg.ConfigurableResource):
    """Where signed releases go, the key that signs them, and the environment's promotion rule.

    The signing key is a file path (CLINICAL_RELEASE_SIGNING_KEY, a mounted 0600 secret), never key
    material; without one a development key pair is made once under `keys_dir` (refused in production).
    """

    releases_dir: str = Field(description="Release registry: signed manifests and the `active` pointer.")
    keys_dir: str = Field(description="Folder of the development key pair (used only without signing_key).")
    signing_key: str | None = Field(default=None, description="Path of the ed25519 private key PEM (0600).")
    public_key: str | None = Field(default=None, description="Path of the matching public key PEM.")
    environment: str = Field(default="development", description="CLINICAL_ENV; production never auto-promotes.")

    def signing(self) -> deploy.SigningKey:
        return deploy.resolve_signing_key(self.signing_key, self.public_key, self.environment, self.keys_dir)

    def registry(self) -> release.ReleaseRegistry:
        return release.ReleaseRegistry(Path(self.releases_dir))
