"""The promotion gate's thresholds as a resource.

Built from clinical.settings (CLINICAL_GATE_* environment variables) in build_resources; a run can
also set it in run config, e.g. `{"resources": {"promotion_policy": {"config": {"profile": "demo"}}}}`
(that is how `clinical demo` chooses its named demo profile).
"""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from clinical import promotion


class PromotionPolicy(dg.ConfigurableResource):
    """Thresholds of the blocking promotion gate on `evaluation` (see clinical.promotion).

    `profile` names a threshold set ("production" or "demo"); each other field, when set, overrides
    one threshold of it (the decision then records the profile as "<profile>+overrides").
    """

    profile: str = Field(default="production", description="Threshold profile: production or demo.")
    margin: float | None = Field(default=None, description="Tuned F1 must reach the prompted base's F1 + margin.")
    floor: float | None = Field(default=None, description="Lowest acceptable tuned relaxed micro F1.")
    min_json_validity: float | None = Field(default=None, description="Lowest acceptable JSON validity rate.")
    max_fairness_gap: float | None = Field(default=None, description="Largest acceptable recall gap.")
    min_examples: int | None = Field(default=None, description="Fewest evaluated notes the gate accepts.")

    def thresholds(self) -> promotion.GateThresholds:
        return promotion.thresholds(
            self.profile,
            margin=self.margin,
            floor=self.floor,
            min_json_validity=self.min_json_validity,
            max_fairness_gap=self.max_fairness_gap,
            min_examples=self.min_examples,
        )
