"""The de-identification policy the pipeline applies (and `clinical deid` applies too)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from clinical.deid.engine import POLICY_VERSIONS, SURROGATE_SECRET_VARIABLE, Deidentifier, DeidPolicy, get_deidentifier


class DeidPolicyResource(dg.ConfigurableResource):
    """Which de-identification policy runs; its name, version and fingerprint go into lineage.

    "safe_harbor" (default) writes typed placeholders; "surrogate" writes consistent fake values per
    patient and shifts dates (an expert-determination option, not Safe Harbor: docs/DEID.md). The
    surrogate secret comes from the environment: the Definitions pass
    `surrogate_secret=dg.EnvVar("CLINICAL_DEID_SURROGATE_SECRET")` when the variable is set
    (`clinical.settings.Settings.deid_surrogate_secret`), so the UI shows the variable's name, never its
    value; only a keyed id of the secret is recorded. Without a secret the surrogate policy refuses to
    run (the error names the variable); "safe_harbor" needs none.
    """

    name: str = Field(default="safe_harbor", description=f"Policy name: one of {', '.join(POLICY_VERSIONS)}.")
    surrogate_secret: str | None = Field(
        default=None,
        description=f"Secret of the surrogate policy (>= 16 characters), from {SURROGATE_SECRET_VARIABLE}; "
        "required by the surrogate policy, ignored by safe_harbor.",
    )

    def policy(self) -> DeidPolicy:
        return DeidPolicy.for_name(self.name)

    def deidentifier(self) -> Deidentifier:
        """The policy's Deidentifier; raises SurrogateSecretMissingError (naming the variable) when the
        surrogate policy has no secret."""
        return get_deidentifier(self.policy(), self.surrogate_secret if self.name == "surrogate" else None)
