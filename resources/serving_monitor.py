"""Where the serving monitor's per-request statistics live and when served traffic counts as drifted."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class ServingMonitor(dg.ConfigurableResource):
    """The request store written by the BentoML service (clinical.serving.monitor) and the limits the
    serving_monitor_sensor checks each window of requests against."""

    directory: str = Field(
        description="Folder of the daily requests-YYYY-MM-DD.jsonl files (CLINICAL_SERVING_MONITOR_DIR)."
    )
    window_minutes: float = Field(default=60.0, gt=0, description="Length of one non-overlapping window of requests.")
    min_requests: int = Field(default=50, ge=1, description="Windows with fewer requests are reported, never judged.")
    max_error_rate: float = Field(
        default=0.05, ge=0, le=1, description="Share of 5xx answers above which on-call is alerted."
    )
    max_invalid_json_rate: float = Field(
        default=0.25, ge=0, le=1, description="Share of generations with invalid JSON above which the window drifted."
    )
    entity_p_value: float = Field(
        default=0.001,
        gt=0,
        lt=1,
        description="Entity-type rates drifted when the bootstrap p-value against the reference is below this.",
    )
    min_entity_jsd: float = Field(
        default=0.02,
        ge=0,
        description="...and the entity-type JSD (bits) is above this (large windows see tiny shifts).",
    )
    request_retraining: bool = Field(
        default=False,
        description="Request training_job after K drifted windows (same gates as the drift sensor); else alert only.",
    )
