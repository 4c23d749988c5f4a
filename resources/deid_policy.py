"""The de-identification policy the pipeline applies (and `clinical deid` applies too)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from clinical.deid.engine import POLICY_VERSIONS, Deidentifier, DeidPolicy, get_deidentifier
from clinical.deid.surrogate import DEV_SURROGATE_SECRET


class DeidPolicyResource(dg.ConfigurableResource):
    """Which de-identification policy runs; its name, version and fingerprint go into lineage.

    "safe_harbor" (default) writes typed placeholders; "surrogate" writes consistent fake values per
    patient and shifts dates (an expert-determination option, not Safe Harbor: docs/DEID.md). The
    surrogate secret comes from the environment in production
    (`surrogate_secret=dg.EnvVar("CLINICAL_DEID_SURROGATE_SECRET")`); only its keyed id is recorded.
    """

    name: str = Field(default="safe_harbor", description=f"Policy name: one of {', '.join(POLICY_VERSIONS)}.")
    surrogate_secret: str = Field(
        default=DEV_SURROGATE_SECRET,
        description="Secret of the surrogate policy (>= 16 characters); the default is public, for development.",
    )

    def policy(self) -> DeidPolicy:
        return DeidPolicy.for_name(self.name)

    def deidentifier(self) -> Deidentifier:
        return get_deidentifier(self.policy(), self.surrogate_secret if self.name == "surrogate" else None)
