"""The secret behind patient keys and note ids."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from clinical.ids import DEV_HMAC_SECRET


class PatientIdentity(dg.ConfigurableResource):
    """HMAC secret for keyed hashes of patient and record identifiers.

    The development default is public (it is in the source); production must set
    CLINICAL_HMAC_SECRET, and with `environment: production` the default is refused.
    """

    hmac_secret: str = Field(default=DEV_HMAC_SECRET, description="Secret key for HMAC-SHA256.")
    environment: str = Field(default="development", description="'development' or 'production'.")

    def secret(self) -> str:
        if self.environment == "production" and self.hmac_secret == DEV_HMAC_SECRET:
            raise ValueError("CLINICAL_HMAC_SECRET is not set: the development secret is refused in production")
        if len(self.hmac_secret) < 16:
            raise ValueError("CLINICAL_HMAC_SECRET must be at least 16 characters")
        return self.hmac_secret

    @property
    def uses_dev_secret(self) -> bool:
        return self.hmac_secret == DEV_HMAC_SECRET
