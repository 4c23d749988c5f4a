"""parse_model_output: strict JSON first, salvage of completed entities from broken output."""

from __future__ import annotations

import pytest

from clinical.parsing import parse_model_output

MED = {"type": "medication", "text": "aspirin"}
MED_DOSE = {"type": "medication", "text": "aspirin", "dose": "81 mg"}
COND = {"type": "condition", "text": "lesion"}
NEG = {"type": "condition", "text": "chest pain", "negated": True}

CASES = [
    # (id, model output, expected entities, valid_json, salvaged)
    ("valid", '{"entities": [{"type": "medication", "text": "aspirin"}]}', [MED], True, 0),
    ("valid_empty", '{"entities": []}', [], True, 0),
    (
        "valid_with_prose_and_fence",
        'Here:\n```json\n{"entities": [{"type": "condition", "text": "lesion"}]}\n```',
        [COND],
        True,
        0,
    ),
    (
        "valid_trailing_garbage",
        '{"entities": [{"type": "condition", "text": "lesion"}]} {"entities": [',
        [COND],
        True,
        0,
    ),
    (
        "key_order_and_whitespace",
        '{"entities":[{"dose":"81 mg","text":" aspirin ","type":"medication"}]}',
        [MED_DOSE],
        True,
        0,
    ),
    ("negated_kept", '{"entities": [{"type": "condition", "text": "chest pain", "negated": true}]}', [NEG], True, 0),
    (
        "invalid_type_dropped",
        '{"entities": [{"type": "symptom", "text": "x"}, {"type": "condition", "text": "lesion"}]}',
        [COND],
        True,
        0,
    ),
    ("empty_text_dropped", '{"entities": [{"type": "condition", "text": "  "}]}', [], True, 0),
    ("wrong_field_type_dropped", '{"entities": [{"type": "condition", "text": "x", "negated": "yes"}]}', [], True, 0),
    (
        "non_object_items_dropped",
        '{"entities": ["aspirin", 3, null, {"type": "medication", "text": "aspirin"}]}',
        [MED],
        True,
        0,
    ),
    (
        "duplicates_removed",
        '{"entities": [{"type": "medication", "text": "aspirin"}, {"text": "aspirin", "type": "medication"}]}',
        [MED],
        True,
        0,
    ),
    (
        "truncated_mid_entity",
        '{"entities": [{"type": "medication", "text": "aspirin"}, {"type": "condi',
        [MED],
        False,
        1,
    ),
    ("truncated_mid_list", '{"entities": [{"type": "medication", "text": "aspirin"}, ', [MED], False, 1),
    (
        "repetition_loop",
        '{"entities": [{"type": "condition", "text": "lesion"}' + ', {"type": "condition", '
        '"text": "lesion"}' * 40 + ', {"type": "condition", "text": "les',
        [COND],
        False,
        1,
    ),
    (
        "salvage_validates",
        '{"entities": [{"type": "drug", "text": "x"}, {"type": "condition", "text": "lesion"}, ',
        [COND],
        False,
        1,
    ),
    (
        "bare_list",
        '[{"type": "medication", "text": "aspirin"}, {"type": "condition", "text": "lesion"}]',
        [MED, COND],
        False,
        2,
    ),
    ("object_without_entities_key", '{"result": []}', [], False, 0),
    ("no_json", "The patient takes aspirin.", [], False, 0),
    ("empty", "", [], False, 0),
    ("entities_not_a_list", '{"entities": {"type": "medication", "text": "aspirin"}}', [], False, 0),
]


@pytest.mark.parametrize(
    ("text", "entities", "valid_json", "salvaged"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_parse_model_output(text, entities, valid_json, salvaged):
    parsed = parse_model_output(text)
    assert parsed.entities == entities
    assert parsed.valid_json is valid_json
    assert parsed.salvaged == salvaged


def test_dropped_counts_schema_rejects():
    parsed = parse_model_output('{"entities": [{"type": "symptom", "text": "x"}, {"type": "condition"}]}')
    assert parsed.entities == [] and parsed.dropped == 2
