"""Subgroups from de-identified text, recall per subgroup, the fairness gap and bootstrap intervals."""

from __future__ import annotations

import pytest

from clinical.subgroups import age_band, bootstrap_analysis, document_groups, paired_f1_difference, sex


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("A 45-year-old woman presented with cough.", "45-64"),
        ("The patient, a 72 year old man, ...", "65-89"),
        ("A 90+-year-old resident of a nursing home.", "90+"),
        ("Pt aged 30 with asthma.", "18-44"),
        ("A 3-month-old infant with fever.", "0-17"),
        ("A 17-yr-old boy.", "0-17"),
        ("Took 45 mg daily for 3 years.", "unknown"),
        ("No age stated.", "unknown"),
    ],
)
def test_age_band(text, band):
    assert age_band(text) == band


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A 45-year-old woman with a history of asthma.", "female"),
        ("A 60-year-old male; his wife reports ...", "male"),
        ("The female patient and her husband.", "female"),
        ("She reports pain. Her exam was normal.", "female"),
        ("He was admitted. His labs were normal.", "male"),
        ("She said he had left.", "unknown"),
        ("Patient admitted for pneumonia.", "unknown"),
    ],
)
def test_sex(text, expected):
    assert sex(text) == expected


def test_document_groups_defaults_to_unknown():
    assert document_groups("A 50-year-old man.", "annotation", None) == {
        "age_band": "45-64",
        "sex": "male",
        "note_type": "unknown",
        "source": "annotation",
    }


def test_bootstrap_recall_per_subgroup_gap_and_reproducible_intervals():
    # 10 notes of women with recall 0.9 and 10 of men with recall 0.5; 2 notes of unknown sex.
    counts = [(9, 10, 10)] * 10 + [(5, 6, 10)] * 10 + [(0, 0, 10)] * 2
    groups = [{"sex": "female"}] * 10 + [{"sex": "male"}] * 10 + [{"sex": "unknown"}] * 2
    result = bootstrap_analysis(counts, groups, resamples=300, seed=1, min_support=20, dimensions=("sex",))
    rows = {r["group"]: r for r in result["subgroups"]["sex"]}
    assert rows["female"]["recall"] == pytest.approx(0.9) and rows["male"]["recall"] == pytest.approx(0.5)
    assert rows["unknown"]["in_gap"] is False, "unknown never enters the fairness gap"
    gap = result["fairness_gap"]["sex"]
    assert gap["value"] == pytest.approx(0.4) and gap["groups"] == ["female", "male"]
    low, high = gap["ci"]
    assert low <= 0.4 <= high
    assert result["max_fairness_gap"]["dimension"] == "sex"
    micro = result["micro_f1"]
    assert micro["ci"][0] <= micro["value"] <= micro["ci"][1]
    again = bootstrap_analysis(counts, groups, resamples=300, seed=1, min_support=20, dimensions=("sex",))
    assert again["micro_f1"]["ci"] == micro["ci"], "same seed, same interval"


def test_gap_needs_two_groups_with_support():
    counts = [(1, 1, 2)] * 4
    groups = [{"sex": "female"}] * 3 + [{"sex": "male"}]
    result = bootstrap_analysis(counts, groups, resamples=50, min_support=5, dimensions=("sex",))
    assert result["fairness_gap"]["sex"] is None and result["max_fairness_gap"] is None


def test_bootstrap_rejects_mismatched_input():
    with pytest.raises(ValueError, match="count rows"):
        bootstrap_analysis([(1, 1, 1)], [], resamples=10)
    empty = bootstrap_analysis([], [], resamples=10)
    assert empty["documents"] == 0 and empty["micro_f1"] == {"value": 0.0, "ci": [0.0, 0.0]}


def test_paired_difference_of_two_models_on_the_same_documents():
    # Model A finds 3 of 4 gold entities on every note, model B 1 of 4: A is better on every note.
    better = [(3, 3, 4)] * 12
    worse = [(1, 3, 4)] * 12
    result = paired_f1_difference(better, worse, resamples=200, seed=3)
    assert result["value"] == pytest.approx(6 / 7 - 2 / 7)
    assert result["ci"][0] > 0 and result["share_a_better"] == 1.0
    assert paired_f1_difference(better, worse, resamples=200, seed=3) == result  # reproducible
    # Swapped: the difference is negative and its interval lies below zero.
    swapped = paired_f1_difference(worse, better, resamples=200, seed=3)
    assert swapped["ci"][1] < 0 and swapped["share_a_better"] == 0.0
    # Two models that trade wins note by note: the interval straddles zero.
    a = [(4, 4, 4), (0, 4, 4)] * 6
    b = [(0, 4, 4), (4, 4, 4)] * 6
    mixed = paired_f1_difference(a, b, resamples=500, seed=0)
    assert mixed["value"] == 0 and mixed["ci"][0] < 0 < mixed["ci"][1]
    with pytest.raises(ValueError, match="12 documents for model A but 1 for model B"):
        paired_f1_difference(a, [(1, 1, 1)])
