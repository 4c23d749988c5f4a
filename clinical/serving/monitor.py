"""Serving monitor: per-request statistics of the extraction service, never the text.

The service calls `record_request(...)` once per request (success or failure); the
serving_monitor_sensor reads a time window back with `read_requests(...)` and `summarize(...)`, and
compares each served model version's entity types with what that model predicted on its evaluation
(`entity_reference(...)`: the evaluation found through lineage, else the gold rates, saying so).

Store: JSONL files, one per UTC day, `<monitor dir>/requests-YYYY-MM-DD.jsonl`, where the monitor
dir is `CLINICAL_SERVING_MONITOR_DIR` (default `$CLINICAL_HOME/monitoring/requests`). Plain
append-only files and not DuckDB, because DuckDB allows one writer process and the pipeline holds the
warehouse while the service runs. Each line is written with one `write` under an exclusive `flock`,
so several service workers can append to the same file.

One line (schema `serving-request/1`):

| field | type | meaning |
|---|---|---|
| schema | str | `serving-request/1` |
| at | str | UTC time, ISO 8601 with milliseconds |
| ts | float | the same time in seconds since the epoch |
| release | str or null | release id / Bento tag that served the request |
| model_version | str or null | model tag or adapter hash |
| text_chars | int | length of the request text in characters (0 when there was none) |
| entity_counts | {type: int} | entities returned by type (schema types, else `other`) |
| n_entities | int | sum of entity_counts |
| valid_json | bool or null | whether the model wrote valid JSON; null when no generation happened |
| latency_ms | float | time spent serving the request |
| status | int | HTTP status returned |
| error_class | str or null | exception class name of a failed request (never its message) |

Identifiers (release, model_version, error_class) must look like identifiers (letters, digits and
`._:@/+-`, at most 200 characters); anything else is stored as `"invalid"` so a caller cannot leak
text into the store by mistake. `record_request` never raises: monitoring must not break serving.
"""

from __future__ import annotations

import fcntl
import json
import logging
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clinical.schema import ENTITY_TYPES

SCHEMA = "serving-request/1"
OTHER_TYPE = "other"
MONITOR_DIR_ENV = "CLINICAL_SERVING_MONITOR_DIR"
FILE_PREFIX = "requests-"
UNKNOWN_MODEL = "unknown"
EVALUATION_SPLIT = "test"
EVALUATED_MODEL = "tuned"
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.:@/+\-]{1,200}")

logger = logging.getLogger(__name__)


def default_monitor_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`CLINICAL_SERVING_MONITOR_DIR`, else `$CLINICAL_HOME/monitoring/requests` (CLINICAL_HOME: ./data)."""
    env = os.environ if environ is None else environ
    if env.get(MONITOR_DIR_ENV):
        return Path(env[MONITOR_DIR_ENV])
    home = Path(env.get("CLINICAL_HOME") or Path.cwd() / "data")
    return home / "monitoring" / "requests"


def _identifier(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if _IDENTIFIER.fullmatch(text) else "invalid"


def entity_counts(entities: Iterable[Any] | None) -> dict[str, int]:
    """Entities by type; types outside the schema (or entities without one) count as `other`.

    :param entities: entity dicts with a `type` key, as the service returns them.
    """
    counts: Counter = Counter()
    for entity in entities or ():
        etype = entity.get("type") if isinstance(entity, Mapping) else None
        counts[etype if etype in ENTITY_TYPES else OTHER_TYPE] += 1
    return dict(sorted(counts.items()))


def file_for(directory: str | Path, ts: float) -> Path:
    day = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    return Path(directory) / f"{FILE_PREFIX}{day}.jsonl"


def build_record(
    *,
    text_chars: int,
    latency_ms: float,
    status: int,
    entities: Iterable[Any] | None = None,
    valid_json: bool | None = None,
    release: str | None = None,
    model_version: str | None = None,
    error_class: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The line `record_request` appends (see the module docstring for the fields)."""
    ts = time.time() if now is None else float(now)
    counts = entity_counts(entities)
    latency = float(latency_ms)
    return {
        "schema": SCHEMA,
        "at": datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds"),
        "ts": round(ts, 3),
        "release": _identifier(release),
        "model_version": _identifier(model_version),
        "text_chars": max(0, int(text_chars)),
        "entity_counts": counts,
        "n_entities": sum(counts.values()),
        "valid_json": None if valid_json is None else bool(valid_json),
        "latency_ms": round(latency, 3) if math.isfinite(latency) else None,
        "status": int(status),
        "error_class": _identifier(error_class),
    }


def record_request(
    *,
    text_chars: int,
    latency_ms: float,
    status: int,
    entities: Iterable[Any] | None = None,
    valid_json: bool | None = None,
    release: str | None = None,
    model_version: str | None = None,
    error_class: str | None = None,
    directory: str | Path | None = None,
    now: float | None = None,
) -> dict[str, Any] | None:
    """Append the statistics of one served request; returns the record, or None when it could not be
    written (logged as a warning naming the exception class). Never raises, never stores text.

    :param text_chars: `len(text)` of the request's note (pass 0 when the body had no text).
    :param latency_ms: time spent on the request in milliseconds.
    :param status: HTTP status returned (200, 400, 413, 500, ...).
    :param entities: the entity dicts returned (only their `type` is read).
    :param valid_json: the extractor's JSON validity; None when the request failed before generation.
    :param release: release id or Bento tag serving the request.
    :param model_version: model tag or adapter hash.
    :param error_class: `type(exc).__name__` of a failed request; never the message.
    :param directory: monitor dir; `default_monitor_dir()` when None.
    :param now: timestamp in seconds since the epoch (time.time() when None).
    """
    try:
        record = build_record(
            text_chars=text_chars,
            latency_ms=latency_ms,
            status=status,
            entities=entities,
            valid_json=valid_json,
            release=release,
            model_version=model_version,
            error_class=error_class,
            now=now,
        )
        path = file_for(directory if directory is not None else default_monitor_dir(), record["ts"])
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
        finally:
            os.close(fd)
        return record
    except Exception as exc:  # noqa: BLE001 - monitoring must never fail a request
        logger.warning("serving monitor could not record a request (%s)", type(exc).__name__)
        return None


@dataclass(frozen=True)
class RequestLog:
    """Records read back from the store, oldest first; `skipped` counts unreadable lines."""

    records: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    files: int = 0


def read_requests(directory: str | Path, since: float | None = None, until: float | None = None) -> RequestLog:
    """Records with `since <= ts < until` (either bound optional), oldest first.

    Only the daily files that can hold the window are opened. Lines that are not JSON objects of this
    schema are skipped and counted, never raised: a half-written line must not stop the sensor.

    :param directory: the monitor dir.
    :param since: lower bound in seconds since the epoch (inclusive).
    :param until: upper bound in seconds since the epoch (exclusive).
    """
    root = Path(directory)
    if not root.is_dir():
        return RequestLog()
    first = datetime.fromtimestamp(since, UTC).date() if since is not None else None
    last = datetime.fromtimestamp(until, UTC).date() if until is not None else None
    records: list[dict[str, Any]] = []
    skipped = files = 0
    for path in sorted(root.glob(f"{FILE_PREFIX}*.jsonl")):
        try:
            day = datetime.strptime(path.stem[len(FILE_PREFIX) :], "%Y-%m-%d").date()
        except ValueError:
            continue
        if (first is not None and day < first) or (last is not None and day > last):
            continue
        files += 1
        with path.open("rb") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                    ts = float(record["ts"])
                    ok = record.get("schema") == SCHEMA and isinstance(record.get("entity_counts"), dict)
                except (ValueError, KeyError, TypeError):
                    ok = False
                if not ok:
                    skipped += 1
                    continue
                if (since is None or ts >= since) and (until is None or ts < until):
                    records.append(record)
    records.sort(key=lambda r: r["ts"])
    return RequestLog(records=records, skipped=skipped, files=files)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1 if q > 0 else 0)])


def summarize(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Window statistics of request records (plain JSON types).

    - `error_rate`: share of requests answered 5xx; `client_error_rate`: share answered 4xx.
    - `invalid_json_rate`: among requests that generated (valid_json not null), the share with invalid JSON.
    - `entity_counts` / `entity_type_rates`: entities by type over the successful requests, and each
      type's share of all their entities (the distribution the reference profile is compared with).
    - `entities_per_request`, latency p50/p95 in ms, mean text length; `releases` seen in the window;
      `by_model`: the entity counts of each model version served in the window (`by_model`).
    """
    n = len(records)
    ok = [r for r in records if 200 <= int(r.get("status", 0)) < 300]
    generated = [r for r in records if r.get("valid_json") is not None]
    counts: Counter = Counter()
    for r in ok:
        counts.update({k: int(v) for k, v in r["entity_counts"].items()})
    total_entities = sum(counts.values())
    latencies = [float(r["latency_ms"]) for r in records if r.get("latency_ms") is not None]
    errors = Counter(r["error_class"] for r in records if r.get("error_class"))
    return {
        "requests": n,
        "successful": len(ok),
        "error_rate": sum(1 for r in records if int(r.get("status", 0)) >= 500) / n if n else 0.0,
        "client_error_rate": sum(1 for r in records if 400 <= int(r.get("status", 0)) < 500) / n if n else 0.0,
        "generated": len(generated),
        "invalid_json_rate": sum(1 for r in generated if not r["valid_json"]) / len(generated) if generated else 0.0,
        "entity_counts": dict(sorted(counts.items())),
        "entity_type_rates": {k: v / total_entities for k, v in sorted(counts.items())} if total_entities else {},
        "entities_per_request": total_entities / len(ok) if ok else 0.0,
        "latency_ms_p50": _quantile(latencies, 0.5),
        "latency_ms_p95": _quantile(latencies, 0.95),
        "mean_text_chars": sum(int(r.get("text_chars", 0)) for r in records) / n if n else 0.0,
        "error_classes": dict(errors.most_common(10)),
        "releases": sorted({str(r.get("release")) for r in records if r.get("release")}),
        "by_model": by_model(records),
        "first_ts": records[0]["ts"] if records else None,
        "last_ts": records[-1]["ts"] if records else None,
    }


def model_key(record: Mapping[str, Any]) -> str:
    """The model version a request was served by (`unknown` when the record names none)."""
    return str(record.get("model_version") or UNKNOWN_MODEL)


def by_model(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model version (`model_key`): requests, successful ones, the releases that served it, entities
    by type over its successful requests and their mean per successful request (`entities_per_request`,
    by type: the rate compared with the model's predicted entities per note on its evaluation)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(model_key(record), []).append(record)
    out = {}
    for key, group in sorted(groups.items()):
        ok = [r for r in group if 200 <= int(r.get("status", 0)) < 300]
        counts: Counter = Counter()
        for r in ok:
            counts.update({k: int(v) for k, v in r["entity_counts"].items()})
        out[key] = {
            "requests": len(group),
            "successful": len(ok),
            "releases": sorted({str(r["release"]) for r in group if r.get("release")}),
            "entity_counts": dict(sorted(counts.items())),
            "entities_per_request": {k: round(v / len(ok), 4) for k, v in sorted(counts.items())} if ok else {},
        }
    return out


def window(directory: str | Path, minutes: float, now: float | None = None) -> tuple[RequestLog, dict[str, Any]]:
    """Records of the last `minutes` and their summary.

    :param directory: the monitor dir.
    :param minutes: window length.
    :param now: end of the window (time.time() when None).
    """
    end = time.time() if now is None else now
    start = end - timedelta(minutes=minutes).total_seconds()
    log = read_requests(directory, since=start, until=end + 1e-3)
    return log, summarize(log.records)


# --- what the served model should predict -----------------------------------------------------------


@dataclass(frozen=True)
class EntityReference:
    """The entity-type rates a served model's predictions are compared with.

    rates: by type; the served model's predicted entities per note on its evaluation (`source`
    "evaluation"), else the gold rates of drift_reference (`source` "gold"); only their mix is compared.
    label: one line for people (which evaluation, or why gold); evaluation_id: the evaluation artifact.
    """

    rates: dict[str, float]
    source: str
    label: str
    evaluation_id: str | None = None
    per_note: bool = False


def _artifacts(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    from clinical.lineage import query_artifacts

    return query_artifacts(con, sql, params)


def served_adapter(con: Any, model_version: str | None, release: str | None) -> tuple[str | None, str | None]:
    """(adapter artifact id, evaluation id named by the release) of a served model, through lineage:
    the newest deployment of the release (Bento tag), else the Bento whose model is `model_version`
    (its merged model's adapter). (None, None) when lineage does not know the model."""
    if release:
        for deployment in _artifacts(
            con,
            "SELECT * FROM artifacts WHERE kind = 'deployment' AND details->>'bento_tag' = ? ORDER BY created_at DESC",
            [release],
        ):
            if deployment["parents"].get("adapter"):
                return deployment["parents"]["adapter"], deployment["parents"].get("evaluation")
    bentos = _artifacts(
        con,
        "SELECT * FROM artifacts WHERE kind = 'bento' AND (details->>'model_tag' = ? OR details->>'tag' = ?) "
        "ORDER BY created_at DESC",
        [model_version or "", release or ""],
    )
    for bento in bentos:
        merged = _artifacts(
            con, "SELECT * FROM artifacts WHERE artifact_id = ?", [bento["parents"].get("merged_model", "")]
        )
        if merged and merged[0]["parents"].get("adapter"):
            return merged[0]["parents"]["adapter"], None
    return None, None


def evaluated_entity_rates(con: Any, model_version: str | None, release: str | None) -> dict[str, Any] | None:
    """The served model's predicted entities per note by type on its evaluation (held-out test split,
    the tuned model), from the warehouse's artifacts: `{"evaluation_id", "adapter", "split", "documents",
    "predicted_per_note"}`; the evaluation the release names first, then the adapter's other
    evaluations, newest first. None when lineage has no evaluation of the model with predicted rates.

    :param con: a warehouse connection.
    :param model_version: the request records' `model_version` (the Bento model tag).
    :param release: the request records' `release` (the Bento tag).
    """
    adapter, named = served_adapter(con, model_version, release)
    if adapter is None:
        return None
    evaluations = _artifacts(
        con,
        "SELECT * FROM artifacts WHERE kind = 'evaluation' AND parents->>'adapter' = ? ORDER BY created_at DESC",
        [adapter],
    )
    evaluations.sort(key=lambda e: e["artifact_id"] != named)  # stable: the named one first
    for evaluation in evaluations:
        split = (evaluation["details"].get("splits") or {}).get(EVALUATION_SPLIT) or {}
        rates = ((split.get("models") or {}).get(EVALUATED_MODEL) or {}).get("predicted_per_note")
        if isinstance(rates, dict) and rates and all(isinstance(v, int | float) for v in rates.values()):
            return {
                "evaluation_id": evaluation["artifact_id"],
                "adapter": adapter,
                "split": EVALUATION_SPLIT,
                "documents": split.get("documents"),
                "predicted_per_note": {str(k): float(v) for k, v in sorted(rates.items())},
            }
    return None


def entity_reference(
    con: Any,
    model_version: str | None,
    release: str | None,
    gold_rates: Mapping[str, float] | None,
    gold_label: str = "gold entity-type rates of drift_reference",
) -> EntityReference:
    """What the predictions of `model_version` are compared with: the rates that same model predicted
    on its evaluation's held-out test split, else (saying why) the gold rates of the drift reference.

    A model biased towards some entity types predicts that mix on its evaluation too; comparing it with
    the gold mix would call it drifted from its first window.
    """
    evaluated = evaluated_entity_rates(con, model_version, release) if con is not None else None
    if evaluated is not None and sum(evaluated["predicted_per_note"].values()) > 0:
        return EntityReference(
            rates=evaluated["predicted_per_note"],
            source="evaluation",
            label=f"{model_version or release}'s own predictions on evaluation {evaluated['evaluation_id']} "
            f"({evaluated['split']} split, {evaluated['documents']} notes)",
            evaluation_id=evaluated["evaluation_id"],
            per_note=True,
        )
    why = (
        f"no predicted entity rates recorded for model {model_version or release or UNKNOWN_MODEL}"
        if evaluated is None
        else f"model {model_version or release} predicted no entities on its evaluation"
    )
    return EntityReference(rates=dict(gold_rates or {}), source="gold", label=f"{gold_label} ({why})")
