"""Entity scores, JSON validity and hallucination rates against hand-computed values."""

from __future__ import annotations

import pytest

from clinical.evaluation import (
    document_counts,
    exact_match,
    hallucination_rate,
    json_validity_rate,
    markdown_table,
    negation_accuracy,
    normalize_text,
    relaxed_match,
    score_entities,
    summarize,
)


def ent(etype: str, text: str) -> dict:
    return {"type": etype, "text": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("  Metformin  500 mg. ", "metformin 500 mg"), ('"Type 2\ndiabetes"', "type 2 diabetes"), ("(HbA1c)", "hba1c")],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("gold", "pred", "exact", "relaxed"),
    [
        ("metformin", "Metformin.", True, True),
        ("metformin 500 mg", "metformin", False, True),
        ("type 2 diabetes mellitus", "diabetes mellitus type 2", False, True),
        ("chest pain", "pain in the abdomen", False, True),
        ("chest pain", "abdominal tenderness", False, False),
        ("left lower lobe pneumonia", "lobe", False, True),
        ("normal eye movements", "eye", False, True),
        # containment is of whole words: one-letter or part-word fragments match nothing
        ("IOPs", "S", False, False),
        ("normal intraocular pressures", "a", False, False),
        ("inflammatory markers", "lammato", False, False),
        ("0.9", "0", False, False),
        ("", "x", False, False),
    ],
)
def test_match_modes(gold, pred, exact, relaxed):
    assert exact_match(gold, pred) is exact
    assert relaxed_match(gold, pred) is relaxed


def test_score_entities_hand_computed():
    gold = [
        [ent("medication", "metformin"), ent("condition", "type 2 diabetes"), ent("lab_value", "HbA1c 7.2%")],
        [ent("medication", "aspirin"), ent("condition", "chest pain")],
    ]
    pred = [
        [ent("medication", "Metformin"), ent("condition", "diabetes"), ent("procedure", "biopsy")],
        [ent("medication", "aspirin 81 mg"), ent("medication", "aspirin"), ent("condition", "fever")],
    ]
    scores = score_entities(gold, pred)
    exact, relaxed = scores["exact"], scores["relaxed"]
    # exact: medication tp=2 (metformin, aspirin) of 3 predicted, 2 gold; condition 0/2/2; lab 0/0/1; proc 0/1/0
    assert exact["medication"]["precision"] == pytest.approx(2 / 3)
    assert exact["medication"]["recall"] == pytest.approx(1.0)
    assert exact["medication"]["f1"] == pytest.approx(0.8)
    assert exact["condition"]["f1"] == 0.0 and exact["condition"]["support"] == 2
    assert exact["lab_value"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "tp": 0, "predicted": 0}
    assert exact["procedure"]["support"] == 0 and exact["procedure"]["predicted"] == 1
    assert exact["micro"]["precision"] == pytest.approx(2 / 6)
    assert exact["micro"]["recall"] == pytest.approx(2 / 5)
    # relaxed adds "diabetes" ~ "type 2 diabetes"; the second aspirin is matched once only (one-to-one)
    assert relaxed["medication"]["tp"] == 2
    assert relaxed["condition"]["tp"] == 1
    assert relaxed["micro"]["precision"] == pytest.approx(3 / 6)
    assert relaxed["micro"]["recall"] == pytest.approx(3 / 5)
    assert relaxed["micro"]["f1"] == pytest.approx(2 * 0.5 * 0.6 / 1.1)


def test_exact_partner_is_not_stolen_by_relaxed_pair():
    gold = [[ent("medication", "aspirin 81 mg"), ent("medication", "aspirin")]]
    pred = [[ent("medication", "aspirin"), ent("medication", "aspirin 81 mg")]]
    assert score_entities(gold, pred)["exact"]["micro"]["tp"] == 2


def test_score_entities_empty_and_mismatched():
    assert score_entities([[]], [[]])["exact"]["micro"]["f1"] == 0.0
    with pytest.raises(ValueError):
        score_entities([[]], [])


def test_json_validity_rate():
    assert json_validity_rate([True, False, True, True]) == 0.75
    assert json_validity_rate([]) == 0.0


def test_hallucination_rate():
    texts = ["Started  Metformin 500 mg for diabetes.", "No meds."]
    preds = [[ent("medication", "metformin 500 mg"), ent("condition", "hypertension")], [ent("medication", "")]]
    assert hallucination_rate(texts, preds) == pytest.approx(2 / 3)
    assert hallucination_rate(["x"], [[]]) == 0.0


def test_markdown_table():
    table = markdown_table(score_entities([[ent("medication", "aspirin")]], [[ent("medication", "aspirin")]]))
    lines = table.splitlines()
    assert lines[0] == "| mode | type | precision | recall | f1 | support |"
    assert "| exact | medication | 1.000 | 1.000 | 1.000 | 1 |" in lines
    assert lines[-1] == "| relaxed | **micro** | 1.000 | 1.000 | 1.000 | 1 |"


def test_negation_accuracy_on_matched_pairs():
    gold = [[{**ent("condition", "chest pain"), "negated": True}, ent("condition", "fever"), ent("medication", "x")]]
    pred = [[{**ent("condition", "chest pain"), "negated": True}, {**ent("condition", "fever"), "negated": True}]]
    result = negation_accuracy(gold, pred)
    assert result == {"accuracy": 0.5, "pairs": 2, "gold_negated": 1, "negated_found": 1}
    assert negation_accuracy([[]], [[]])["accuracy"] == 0.0


def test_document_counts_and_summarize():
    texts = ["Metformin for diabetes.", "Denies fever."]
    gold = [
        [ent("medication", "metformin"), ent("condition", "diabetes")],
        [{**ent("condition", "fever"), "negated": True}],
    ]
    pred = [[ent("medication", "Metformin"), ent("condition", "asthma")], []]
    assert document_counts(gold, pred) == [(1, 2, 2), (0, 0, 1)]
    with pytest.raises(ValueError, match="mode"):
        document_counts(gold, pred, "fuzzy")
    summary = summarize(texts, gold, pred, [True, False], [1.0, 3.0])
    assert summary["documents"] == 2
    assert summary["json_validity"] == 0.5
    assert summary["hallucination_rate"] == pytest.approx(0.5)
    assert summary["scores"]["relaxed"]["micro"]["recall"] == pytest.approx(1 / 3)
    assert summary["latency_s"]["mean"] == 2.0 and summary["latency_s"]["max"] == 3.0
    assert summary["counts"] == [(1, 2, 2), (0, 0, 1)]
