"""The de-identification policy the pipeline applies (and `clinical deid` applies too)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from clinical.deid.engine import Deidentifier, DeidPolicy, get_deidentifier


class DeidPolicyResource(dg.ConfigurableResource):
    """Which de-identification policy runs; its name, version and fingerprint go into lineage."""

    name: str = Field(default="safe_harbor", description="Policy name.")

    def policy(self) -> DeidPolicy:
        return DeidPolicy(name=self.name)

    def deidentifier(self) -> Deidentifier:
        return get_deidentifier(self.policy())
