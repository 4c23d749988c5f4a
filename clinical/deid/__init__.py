"""De-identification of clinical notes with presidio: Safe-Harbor recognizers and the engine."""

from clinical.deid.engine import (
    PLACEHOLDERS,
    Deidentifier,
    DeidPolicy,
    DeidResult,
    PhiSpan,
    get_deidentifier,
    merge_spans,
)
from clinical.deid.recognizers import SAFE_HARBOR_COVERAGE, SAFE_HARBOR_GAPS

__all__ = [
    "PLACEHOLDERS",
    "SAFE_HARBOR_COVERAGE",
    "SAFE_HARBOR_GAPS",
    "DeidPolicy",
    "DeidResult",
    "Deidentifier",
    "PhiSpan",
    "get_deidentifier",
    "merge_spans",
]
