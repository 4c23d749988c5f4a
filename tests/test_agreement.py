import pytest

from clinical.agreement import agreement_report, cohen_kappa, double_annotated, match_spans, token_labels

TEXT = "Pt with intermittent headache, denies chest pain. Started lisinopril 10 mg."


def _e(needle: str, etype: str = "condition") -> dict:
    start = TEXT.index(needle)
    return {"type": etype, "text": needle, "start": start, "end": start + len(needle)}


A = [_e("intermittent headache"), _e("chest pain"), _e("lisinopril", "medication")]
B = [_e("headache"), _e("chest pain"), _e("lisinopril 10 mg", "medication"), _e("Pt", "procedure")]


def test_exact_and_overlap_matching_are_one_to_one():
    assert match_spans(A, B, "exact") == 1
    assert match_spans(A, B, "overlap") == 3
    assert match_spans(A, A, "exact") == 3
    # one long span overlapping two short ones matches only one of them
    assert match_spans([_e("intermittent headache")], [_e("intermittent"), _e("headache")], "overlap") == 1
    with pytest.raises(ValueError):
        match_spans(A, B, "fuzzy")


def test_token_labels_and_kappa():
    labels = token_labels(TEXT, A)
    assert labels[:4] == ["O", "O", "condition", "condition"]
    assert labels.count("medication") == 1
    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0  # chance-level agreement
    # textbook example: 20 items, p_o = 0.7, p_e = 0.5 -> kappa 0.4
    a = ["y"] * 10 + ["n"] * 10
    b = ["y"] * 7 + ["n"] * 3 + ["y"] * 3 + ["n"] * 7
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["O", "O"], ["O", "O"]) == 1.0
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])


def test_report_per_type_is_symmetric_and_pairs_by_text():
    docs = [
        {"text": TEXT, "annotator": "b", "entities": B},
        {"text": TEXT, "annotator": "a", "entities": A},
        {"text": "Another note.", "annotator": "a", "entities": []},
    ]
    pairs = double_annotated(docs)
    assert [(x["annotator"], y["annotator"]) for x, y in pairs] == [("a", "b")]
    rows = {r["entity_type"]: r for r in agreement_report(pairs)}
    condition = rows["condition"]
    assert (condition["entities_a"], condition["entities_b"]) == (2, 2)
    assert condition["span_f1_exact"] == 0.5 and condition["span_f1_overlap"] == 1.0
    assert rows["procedure"]["span_f1_exact"] == 0.0 and rows["procedure"]["entities_a"] == 0
    assert rows["all"]["span_f1_exact"] == round(2 * 1 / 7, 4)
    assert -1.0 <= rows["all"]["token_kappa"] < 1.0
    swapped = {r["entity_type"]: r for r in agreement_report([(pairs[0][1], pairs[0][0])])}
    assert all(swapped[t]["span_f1_exact"] == rows[t]["span_f1_exact"] for t in rows)
    assert all(swapped[t]["token_kappa"] == rows[t]["token_kappa"] for t in rows)
    assert agreement_report([]) == []
