"""The dictionary baseline: lexicon from the train split plus drug names, longest match, negation."""

from __future__ import annotations

from clinical.baseline import DictionaryBaseline, drug_names, phrase_key
from clinical.evaluation import hallucination_rate, score_entities

TRAIN = [
    {
        "entities": [
            {"type": "condition", "text": "type 2 diabetes"},
            {"type": "condition", "text": "chest pain"},
            {"type": "procedure", "text": "appendectomy"},
            {"type": "lab_value", "text": "Hemoglobin"},
            {"type": "condition", "text": "diabetes"},
            {"type": "procedure", "text": "diabetes"},
            {"type": "condition", "text": "diabetes"},
        ]
    }
]


def test_drug_lexicon_holds_names_not_stop_words():
    names = drug_names()
    assert len(names) > 50_000
    assert {"metformin", "lisinopril", "heparin", "warfarin"} <= names
    assert not {"with", "the", "no", "all", "more"} & names
    assert all(len(n) >= 4 for n in names)


def test_longest_match_majority_type_and_copied_text():
    model = DictionaryBaseline.build(TRAIN)
    assert model.lexicon[phrase_key("Diabetes")] == "condition", "majority type of the train labels"
    assert model.sources["train_phrases"] == 5 and model.sources["drug_variants"] > 50_000
    note = "Started Metformin 500 mg for Type 2 diabetes; s/p appendectomy. Hemoglobin 11.2."
    entities = model.extract(note)
    assert [(e["type"], e["text"]) for e in entities] == [
        ("medication", "Metformin"),
        ("condition", "Type 2 diabetes"),
        ("procedure", "appendectomy"),
        ("lab_value", "Hemoglobin"),
    ]
    assert hallucination_rate([note], [entities]) == 0.0


def test_negation_trigger_within_the_sentence():
    model = DictionaryBaseline.build(TRAIN, use_drug_lexicon=False)
    entities = model.extract("Denies chest pain. Chest pain resolved. No history of appendectomy or diabetes.")
    flags = [(e["text"], bool(e.get("negated"))) for e in entities]
    assert flags == [("chest pain", True), ("Chest pain", False), ("appendectomy", True), ("diabetes", True)]


def test_train_labels_win_over_drug_names_and_scores_are_real():
    train = [{"entities": [{"type": "lab_value", "text": "insulin"}]}]
    model = DictionaryBaseline.build(train)
    assert model.lexicon["insulin"] == "lab_value"
    gold = [[{"type": "medication", "text": "aspirin"}, {"type": "condition", "text": "gout"}]]
    pred = [e for e, _ in model.run(["Aspirin was given for gout."])]
    scores = score_entities(gold, pred)["exact"]
    assert scores["medication"]["f1"] == 1.0 and scores["condition"]["recall"] == 0.0
