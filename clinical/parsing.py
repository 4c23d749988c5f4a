"""Reading entities out of generated text.

A fine-tuned small model usually writes `{"entities": [...]}` but can stop mid-object at the token
limit or fall into a repetition loop; the completed entity objects before that point are still
useful, so they are salvaged instead of discarding the whole output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from clinical.ids import canonical_json
from clinical.schema import SchemaError, normalize_entity

_DECODER = json.JSONDecoder()


@dataclass
class ParsedOutput:
    """entities: schema-valid, deduplicated entities in output order.
    valid_json: the output held a complete JSON object with an "entities" list.
    salvaged: entities recovered from output that was not valid JSON (0 when valid_json).
    dropped: objects found but rejected by the schema (duplicates are removed, not counted here).
    """

    entities: list[dict[str, Any]] = field(default_factory=list)
    valid_json: bool = False
    salvaged: int = 0
    dropped: int = 0


def parse_model_output(text: str) -> ParsedOutput:
    """Parse generated text into entities.

    text: the model's reply (the assistant turn only), possibly wrapped in prose or code fences,
        truncated, or repeating itself.
    """
    start = text.find("{")
    if start >= 0:
        try:
            obj, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("entities"), list):
            entities, dropped = _validate(obj["entities"])
            return ParsedOutput(entities=entities, valid_json=True, salvaged=0, dropped=dropped)
    entities, dropped = _validate(_salvage_objects(text))
    return ParsedOutput(entities=entities, valid_json=False, salvaged=len(entities), dropped=dropped)


def _salvage_objects(text: str) -> list[Any]:
    """Completed JSON objects after the start of the entities list (anywhere if there is no such list)."""
    key = text.find('"entities"')
    bracket = text.find("[", key) if key >= 0 else -1
    pos = bracket + 1 if bracket >= 0 else 0
    found = []
    while (pos := text.find("{", pos)) >= 0:
        try:
            obj, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError:
            pos += 1
            continue
        found.append(obj)
        pos = end
    return found


def _validate(items: list[Any]) -> tuple[list[dict[str, Any]], int]:
    entities, seen, dropped = [], set(), 0
    for item in items:
        try:
            entity = normalize_entity(item)
        except SchemaError:
            dropped += 1
            continue
        key = canonical_json(entity)
        if key not in seen:
            seen.add(key)
            entities.append(entity)
    return entities, dropped
