"""Alerts for on-call staff: Slack-compatible JSON to a webhook, or a JSONL file when there is none.

Alerts leave the building (a chat service), so they carry identifiers only: batch keys, scores,
thresholds, run ids, job names, step and asset keys, error class names. `build_payload` keeps only the
fields named in `ALERT_FIELDS` and never a free-text message; callers compose `summary` from those
same values.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

ALERT_FIELDS = frozenset(
    {
        "batches",
        "score",
        "threshold",
        "reference",
        "run_id",
        "run_key",
        "job",
        "step_keys",
        "error_class",
        "asset_keys",
        "sensor",
        "held_because",
        "paused_by",
        "last_run_id",
        "min_interval_minutes",
        "consecutive_batches",
        "requests",
        "release",
        "error_rate",
        "invalid_json_rate",
        "entity_jsd",
        "statistic",
    }
)


def _value(value: Any) -> str | int | float | bool:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


def build_payload(event: str, summary: str, fields: Mapping[str, Any]) -> dict:
    """Slack-compatible `{"text", "blocks", "event", "fields"}` with only the allowed fields.

    :param event: short event name, e.g. `drift.retraining_requested`, `run.failed`.
    :param summary: one line for people, composed from identifiers and numbers only.
    :param fields: identifiers and numbers; keys outside `ALERT_FIELDS` are dropped.
    """
    kept = {k: _value(v) for k, v in sorted(fields.items()) if k in ALERT_FIELDS and v is not None}
    text = f"[clinical] {summary}"
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]
    if kept:
        # Slack allows at most 10 fields per section.
        items = list(kept.items())
        for start in range(0, len(items), 10):
            blocks.append(
                {
                    "type": "section",
                    "fields": [{"type": "mrkdwn", "text": f"*{k}*\n`{v}`"} for k, v in items[start : start + 10]],
                }
            )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"event `{event}`"}]})
    return {"text": text, "blocks": blocks, "event": event, "fields": kept}


class Alerting(dg.ConfigurableResource):
    """Sends alerts to a Slack-compatible webhook; falls back to a JSONL file. Never raises."""

    webhook_url: str | None = Field(
        default=None, description="Incoming-webhook URL (CLINICAL_ALERT_WEBHOOK_URL); None writes to log_path only."
    )
    log_path: str = Field(description="JSONL file that receives alerts when there is no webhook or it fails.")
    timeout_s: float = Field(default=5.0, description="Timeout of the webhook POST in seconds.")

    def send(self, event: str, summary: str, fields: Mapping[str, Any] | None = None) -> str:
        """Deliver one alert; returns "webhook", "file" or "dropped" (both failed), never raises.

        :param event: short event name, e.g. `drift.retraining_requested`.
        :param summary: one line composed from identifiers and numbers only.
        :param fields: identifiers and numbers (see `ALERT_FIELDS`).
        """
        payload = build_payload(event, summary, fields or {})
        error = None
        if self.webhook_url:
            try:
                request = urllib.request.Request(
                    self.webhook_url,
                    data=json.dumps(payload).encode("utf-8"),
                    headers={"Content-Type": "application/json"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                    if 200 <= response.status < 300:
                        return "webhook"
                    error = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                error = f"HTTPError {exc.code}"
            except Exception as exc:  # noqa: BLE001 - an alert must never break the sensor that sends it
                error = type(exc).__name__
        record = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "event": event,
            "text": payload["text"],
            "fields": payload["fields"],
            "webhook_error": error,
        }
        try:
            path = Path(self.log_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record, sort_keys=True) + "\n")
        except OSError:
            return "dropped"
        return "file"
