import random
import re

import pytest

from clinical.schema import ENTITY_TYPES, chat_messages, normalize_entity
from clinical.synthetic import (
    CONDITIONS,
    GENERATOR_VERSION,
    LABS,
    MEDICATIONS,
    NOTE_TYPES,
    PROCEDURES,
    generate_synthetic_notes,
    sample_clinical_body,
)

ICD10_CM = re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$")


def test_tables_have_the_promised_size_and_real_looking_codes():
    assert len(CONDITIONS) >= 25 and len(MEDICATIONS) >= 25 and len(PROCEDURES) >= 15 and len(LABS) >= 12
    codes = {name: code for name, code, _, _ in CONDITIONS}
    assert codes["type 2 diabetes mellitus"] == "E11.9" and codes["essential hypertension"] == "I10"
    assert all(ICD10_CM.match(code) for code in codes.values())
    assert all(m in MEDICATIONS for *_, meds in CONDITIONS for m in meds)
    assert MEDICATIONS["metformin"] == ("500 mg", "PO", "BID")


def test_same_seed_same_notes_other_seed_other_notes():
    assert generate_synthetic_notes(6, seed=3) == generate_synthetic_notes(6, seed=3)
    assert generate_synthetic_notes(6, seed=3) != generate_synthetic_notes(6, seed=4)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_notes_follow_the_record_shape_with_exact_offsets(seed):
    notes = generate_synthetic_notes(30, seed=seed)
    assert len(notes) == 30
    assert len({n["synthetic_id"] for n in notes}) == 30
    patients = {n["patient_key"] for n in notes}
    assert 1 < len(patients) < 30
    for note in notes:
        assert note["synthetic"] is True and note["seed"] == seed
        assert note["generator_version"] == GENERATOR_VERSION
        assert note["patient_key"].startswith("syn_pt_") and note["note_type"] in NOTE_TYPES
        for entity in note["entities"]:
            assert entity["type"] in ENTITY_TYPES
            assert note["text"][entity["start"] : entity["end"]] == entity["text"]
            normalize_entity(entity)
        chat_messages(note["text"], note["entities"])


def test_notes_cover_all_types_attributes_and_negation():
    entities = [e for n in generate_synthetic_notes(20, seed=0) for e in n["entities"]]
    assert {e["type"] for e in entities} == set(ENTITY_TYPES)
    meds = [e for e in entities if e["type"] == "medication" and "dose" in e]
    assert meds and all({"route", "frequency"} <= set(e) for e in meds)
    labs = [e for e in entities if e["type"] == "lab_value"]
    assert all(e["value"] in e["text"] and e["unit"] in e["text"] for e in labs)
    assert all("icd10" in e for e in entities if e["type"] == "condition")
    assert any(e.get("negated") for e in entities)


def test_zero_and_negative_counts():
    assert generate_synthetic_notes(0, seed=0) == []
    with pytest.raises(ValueError):
        generate_synthetic_notes(-1, seed=0)


def test_sample_clinical_body_is_reusable_and_phi_free():
    text, entities = sample_clinical_body(random.Random(5))
    assert (text, entities) == sample_clinical_body(random.Random(5))
    assert all(text[e["start"] : e["end"]] == e["text"] for e in entities)
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2,4}|\b(19|20)\d{2}\b", text)
    ages = [int(a) for a in re.findall(r"(\d+)-year-old", text)]
    assert ages and all(a < 90 for a in ages)
