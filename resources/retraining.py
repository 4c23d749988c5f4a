"""When the drift sensor may request retraining: consecutive drifted batches, a pause switch, a rate limit.

The pause switch is a small JSON file (`$CLINICAL_HOME/control/retraining_paused.json`) written by
`clinical retraining pause --reason ...` and removed by `clinical retraining resume`; the sensor reads
it on every tick, so pausing needs no access to the Dagster UI and survives a daemon restart.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from pydantic import Field

MAX_REASON_CHARS = 200


def read_pause(pause_file: str | Path) -> dict | None:
    """The pause record (`{"paused_by", "reason", "paused_at"}`), or None when retraining is not paused.

    :param pause_file: path of the pause file. A file that exists but cannot be parsed still counts as
        paused: an operator meant to stop retraining, and a corrupt file must not silently resume it.
    """
    path = Path(pause_file)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"paused_by": "unknown", "reason": f"unreadable pause file {path}", "paused_at": None}
    if not isinstance(record, dict):
        return {"paused_by": "unknown", "reason": f"unreadable pause file {path}", "paused_at": None}
    return record


def write_pause(pause_file: str | Path, reason: str, paused_by: str, now: datetime | None = None) -> dict:
    """Pause retraining: write the pause file atomically and return its record.

    :param pause_file: path of the pause file (its folder is created).
    :param reason: why, in the operator's words (cut to 200 characters; keep PHI out of it).
    :param paused_by: who paused (the CLI passes $USER).
    :param now: timestamp of the pause (UTC now when None).
    """
    path = Path(pause_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "paused_by": paused_by,
        "reason": " ".join(reason.split())[:MAX_REASON_CHARS],
        "paused_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return record


def remove_pause(pause_file: str | Path) -> dict | None:
    """Resume retraining: remove the pause file; returns the record it held (None if not paused)."""
    record = read_pause(pause_file)
    Path(pause_file).unlink(missing_ok=True)
    return record


class RetrainingPolicy(dg.ConfigurableResource):
    """Gates between "a batch drifted" and "training_job is requested"."""

    consecutive_batches: int = Field(
        default=1, ge=1, description="Drifted batches in a row needed before retraining (against flapping)."
    )
    min_interval_minutes: float = Field(
        default=60.0, ge=0, description="Minimum time between the start of one training_job run and the next request."
    )
    pause_file: str = Field(description="Path of the pause file; retraining is paused while it exists.")
    threshold: float | None = Field(
        default=None,
        description=(
            "Drift threshold on the drift score (largest z-score of the decision statistics, see clinical.drift); "
            "None keeps clinical.drift.DriftConfig's default."
        ),
    )

    def pause_state(self) -> dict | None:
        """The pause record, or None when retraining is not paused."""
        return read_pause(self.pause_file)
