import random
import re
from collections import Counter, defaultdict

import pytest

from clinical.schema import ENTITY_TYPES, chat_messages, normalize_entity
from clinical.synthetic import (
    ALL_DRUGS,
    BRAND_NAMES,
    CLASS_OF_DRUG,
    CONDITION_PROFILES,
    DRUG_CLASSES,
    EDGE_CASES,
    GENERATOR_VERSION,
    LAB_TESTS,
    NOTE_TYPES,
    STATISTIC_BINS,
    VocabularyError,
    default_profile,
    document_features,
    drug_lexicon,
    generate_synthetic_notes,
    icd10_description,
    match_condition,
    match_drug,
    misspell,
    profile_from_statistics,
    sample_clinical_body,
    validate_vocabularies,
)


@pytest.fixture(scope="module")
def many_notes():
    """200 notes over 25 seeds (8 each)."""
    return [n for seed in range(25) for n in generate_synthetic_notes(8, seed=seed)]


def test_every_code_and_drug_is_in_the_real_vocabularies():
    counts = validate_vocabularies()
    assert counts["icd10_codes"] >= 60 and counts["drugs"] >= 80 and counts["labs"] >= 20
    assert sum(p.rare for p in CONDITION_PROFILES) >= 12 and len(CONDITION_PROFILES) >= 40
    assert icd10_description("E11.9") == "Type 2 diabetes mellitus without complications"
    assert icd10_description("E84.0") == "Cystic fibrosis with pulmonary manifestations"
    with pytest.raises(VocabularyError, match="does not exist"):
        icd10_description("E11.99X")
    with pytest.raises(VocabularyError, match="not a billable code"):
        icd10_description("E11")
    lexicon = drug_lexicon()
    assert len(lexicon.generics) > 15000 and lexicon.generic_of("Lasix") == "furosemide"
    assert all(d in lexicon.generics for d in ALL_DRUGS)
    assert all(lexicon.generic_of(b) == g for g, b in BRAND_NAMES.items())


def test_same_seed_same_notes_other_seed_other_notes():
    assert generate_synthetic_notes(6, seed=3) == generate_synthetic_notes(6, seed=3)
    assert generate_synthetic_notes(6, seed=3) != generate_synthetic_notes(6, seed=4)


def test_offsets_match_the_text_exactly_over_many_seeds(many_notes):
    assert len(many_notes) == 200 and len({n["synthetic_id"] for n in many_notes}) == 200
    for note in many_notes:
        assert note["synthetic"] is True and note["generator_version"] == GENERATOR_VERSION
        assert note["patient_key"].startswith("syn_pt_") and note["note_type"] in NOTE_TYPES
        assert note["synthetic_id"].startswith("syn_") and note["profile"] == default_profile().fingerprint()
        for entity in note["entities"]:
            assert entity["type"] in ENTITY_TYPES
            assert note["text"][entity["start"] : entity["end"]] == entity["text"], entity
            normalize_entity(entity)
        chat_messages(note["text"], note["entities"])


def test_conditions_carry_valid_icd10_and_drugs_realistic_regimens(many_notes):
    entities = [e for n in many_notes for e in n["entities"]]
    assert {e["type"] for e in entities} == set(ENTITY_TYPES)
    conditions = [e for e in entities if e["type"] == "condition"]
    assert all("icd10" in e for e in conditions)
    for code in {e["icd10"] for e in conditions}:
        icd10_description(code)  # raises if not a valid billable code
    meds = [e for e in entities if e["type"] == "medication"]
    for med in meds:
        cls = DRUG_CLASSES[med["drug_class"]]
        assert CLASS_OF_DRUG[med["generic"]] == med["drug_class"]
        if "dose" in med:
            assert med["dose"] in cls.doses[med["generic"]]
            assert med["route"] in cls.routes and med["frequency"] in cls.frequencies
    assert any("dose" in m for m in meds)
    brands = [m for m in meds if m["text"] in BRAND_NAMES.values()]
    assert brands and all(drug_lexicon().generic_of(m["text"]) == m["generic"] for m in brands)


def test_lab_values_have_units_and_plausible_ranges(many_notes):
    labs = [e for n in many_notes for e in n["entities"] if e["type"] == "lab_value"]
    assert len(labs) > 200
    by_name = {name: test for test in LAB_TESTS.values() for name in test.names}
    for lab in labs:
        test = by_name[lab["test"]]
        assert lab["unit"] == test.unit and lab["value"] in lab["text"] and lab["unit"] in lab["text"]
        limits = [(test.low, test.high)] + [
            (low, high) for profile in CONDITION_PROFILES for key, low, high in profile.labs if LAB_TESTS[key] is test
        ]
        value = float(lab["value"])
        assert min(lo for lo, _ in limits) <= value <= max(hi for _, hi in limits), lab


def test_every_edge_case_appears_and_is_real(many_notes):
    seen = Counter(c for n in many_notes for c in n["edge_cases"])
    assert set(seen) == set(EDGE_CASES)
    assert seen["rare_disease"] >= 5
    entities = [e for n in many_notes for e in n["entities"]]
    assert any(e.get("negated") for e in entities)
    # misspelled drugs: the entity is the surface form, which the lexicon does not know, with its generic kept
    typos = [
        e
        for e in entities
        if e["type"] == "medication" and e["text"] not in (e["generic"], BRAND_NAMES.get(e["generic"]))
    ]
    assert typos and all(drug_lexicon().generic_of(e["text"]) != e["generic"] for e in typos)
    tables = [n for n in many_notes if "table" in n["edge_cases"]]
    assert all("| test | result | flag | reference |" in n["text"] for n in tables)
    # copy-forward: the history of an earlier note of the same patient reappears verbatim
    by_patient = defaultdict(list)
    for note in many_notes:
        by_patient[note["patient_key"]].append(note)
    copied = [n for n in many_notes if "copy_forward" in n["edge_cases"]]
    assert copied
    for note in copied:
        history = note["text"].split(": ", 1)[1].split("\n\n", 1)[0]
        earlier = by_patient[note["patient_key"]][: by_patient[note["patient_key"]].index(note)]
        assert any(history in e["text"] for e in earlier)


def test_misspell_always_changes_the_word():
    rng = random.Random(0)
    for word in ["metformin", "hypertension", "asthma", "gout"]:
        assert all(misspell(word, rng) != word for _ in range(50))


def test_profile_weights_steer_the_generator():
    base = default_profile()
    only_cf = {code: 0.0 for code in base.condition_weights} | {"E84.0": 1.0}
    profile = type(base)(**{**base.__dict__, "condition_weights": only_cf, "source": "test"})
    notes = generate_synthetic_notes(10, seed=1, profile=profile)
    assert all(
        {e.get("icd10") for e in n["entities"] if e["type"] == "condition" and not e.get("negated")} == {"E84.0"}
        for n in notes
    )
    assert all(n["profile"] == profile.fingerprint() != base.fingerprint() for n in notes)
    more_labs = type(base)(**{**base.__dict__, "type_mix": {**base.type_mix, "lab_value": 0.4}})

    def labs(p):
        return sum(
            e["type"] == "lab_value" for n in generate_synthetic_notes(40, seed=2, profile=p) for e in n["entities"]
        )

    assert labs(more_labs) > 1.3 * labs(base)


def test_document_features_are_bounded_and_use_the_vocabularies():
    text = "Hx of T2DM and essential hypertension, no fever. On Lasix 40 mg and metformin. Hgb 11.2 g/dL."
    entities = [
        {"type": "condition", "text": "T2DM"},
        {"type": "condition", "text": "essential hypertension"},
        {"type": "condition", "text": "fever", "negated": True},
        {"type": "medication", "text": "Lasix"},
        {"type": "medication", "text": "metformin"},
        {"type": "lab_value", "text": "Hgb 11.2 g/dL"},
    ]
    features = document_features(text, entities)
    assert match_condition("t2dm") == "E11.9" and match_drug("LASIX") == "furosemide"
    assert features["conditions"] == {"E11.9": 0.5, "I10": 0.5}
    assert features["drugs"] == {"furosemide": 0.5, "metformin": 0.5}
    assert features["negation"] == pytest.approx({"negated": 1 / 3, "affirmed": 2 / 3})
    assert features["types"] == pytest.approx({"condition": 0.5, "medication": 1 / 3, "lab_value": 1 / 6})
    assert list(features["length"].values()) == [1.0]
    for name, vector in features.items():
        assert sum(vector.values()) <= 1.0 + 1e-9 and set(vector) <= set(STATISTIC_BINS[name])
    assert document_features(None, None) == {k: {} for k in STATISTIC_BINS}


def test_profile_from_statistics_keeps_strong_signal_and_drops_noise():
    bins = {name: dict.fromkeys(labels, 0.0) for name, labels in STATISTIC_BINS.items()}
    bins["conditions"] |= {"E84.0": 500.0, "I10": 3.0}  # 3.0 is under the noise threshold at scale 5
    profile = profile_from_statistics(bins, "dp:test", noise_scales=dict.fromkeys(STATISTIC_BINS, 5.0))
    weights = profile.condition_weights
    assert weights["E84.0"] > 10 * weights["E11.9"] and weights["I10"] == pytest.approx(weights["E11.9"])
    assert profile.source == "dp:test" and profile.negation_rate == pytest.approx(default_profile().negation_rate)


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


def test_generated_notes_are_phi_free(many_notes):
    for note in many_notes:
        text = note["text"]
        for lab in (e for e in note["entities"] if e["type"] == "lab_value"):  # 1936 pg/mL is not a year
            text = text[: lab["start"]] + "#" * (lab["end"] - lab["start"]) + text[lab["end"] :]
        assert not re.search(r"\d{1,2}/\d{1,2}/\d{2,4}|\b(19|20)\d{2}\b|\b\d{3}-\d{2}-\d{4}\b", text)
        ages = [int(a) for a in re.findall(r"(\d+) y/o", note["text"])]
        assert all(a < 90 for a in ages)
