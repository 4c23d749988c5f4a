"""The extraction task: entity types, the JSON target the model learns to write, and the prompt.

The target is one JSON object `{"entities": [...]}`; each entity has `type` (one of ENTITY_TYPES)
and `text` (the span as written in the note), plus optional attributes:
`negated` (bool), `dose`, `route`, `frequency` (medications), `value`, `unit` (lab values) and
`icd10` (conditions). `clinical extract` and the BentoML service return the same entity objects.
"""

from __future__ import annotations

import json
from typing import Any

MEDICATION = "medication"
CONDITION = "condition"
PROCEDURE = "procedure"
LAB_VALUE = "lab_value"
ENTITY_TYPES: tuple[str, ...] = (MEDICATION, CONDITION, PROCEDURE, LAB_VALUE)

OPTIONAL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "negated": bool,
    "dose": str,
    "route": str,
    "frequency": str,
    "value": str,
    "unit": str,
    "icd10": str,
}

SYSTEM_PROMPT = (
    "You are a clinical information extraction system. Read the clinical note and return only "
    'JSON of the form {"entities": [{"type": T, "text": S}]} where T is one of medication, '
    'condition, procedure, lab_value and S is copied exactly from the note. Add "negated": true '
    "for negated findings, dose/route/frequency for medications and value/unit for lab values."
)


class SchemaError(ValueError):
    """An entity or target does not follow the extraction schema."""


def normalize_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """Validate one entity and return it with keys in a canonical order; raise SchemaError if invalid."""
    if not isinstance(entity, dict):
        raise SchemaError(f"entity must be an object, got {type(entity).__name__}")
    etype = entity.get("type")
    if etype not in ENTITY_TYPES:
        raise SchemaError(f"entity type must be one of {', '.join(ENTITY_TYPES)}, got {etype!r}")
    text = entity.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SchemaError("entity text must be a non-empty string")
    out: dict[str, Any] = {"type": etype, "text": text.strip()}
    for key, kind in OPTIONAL_FIELDS.items():
        if key in entity and entity[key] is not None:
            if not isinstance(entity[key], kind):
                raise SchemaError(f"entity field {key!r} must be {getattr(kind, '__name__', kind)}")
            out[key] = entity[key]
    return out


def target_json(entities: list[dict[str, Any]]) -> str:
    """The assistant turn of a training example: compact JSON, entities in note order as given."""
    # Compact separators: about a fifth fewer tokens to learn and generate than json.dumps' default.
    return json.dumps({"entities": [normalize_entity(e) for e in entities]}, ensure_ascii=False, separators=(",", ":"))


def chat_messages(note_text: str, entities: list[dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """Chat-format messages; with `entities` the assistant turn (the target) is included."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": note_text},
    ]
    if entities is not None:
        messages.append({"role": "assistant", "content": target_json(entities)})
    return messages
