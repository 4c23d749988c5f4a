import numpy as np
import pytest

from clinical.neardup import NearDupParams, jaccard, keep_first, near_duplicate_pairs, shingles, signatures

BASE = (
    "Patient admitted with community acquired pneumonia and treated with intravenous ceftriaxone for five days. "
    "Chest radiograph showed right lower lobe consolidation which improved on repeat imaging before discharge. "
    "Oxygen was weaned to room air on the third hospital day and blood cultures remained negative throughout. "
    "She will complete oral therapy at home and return to the respiratory clinic in two weeks for review."
)


def test_shingles_are_normalised_word_ngrams():
    assert shingles("Chest  PAIN today, resolved.", 3) == {
        "chest pain today",
        "pain today ,",
        "today , resolved",
        ", resolved .",
    }
    assert shingles("short note", 5) == {"short note"}
    assert shingles("   ") == set()
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)


def test_signatures_are_seeded_and_estimate_jaccard():
    sets = [shingles(BASE), shingles(BASE.replace("five", "seven")), shingles("Unrelated text about a knee sprain.")]
    first, again = signatures(sets), signatures(sets)
    assert np.array_equal(first, again) and first.dtype == np.uint64 and first.shape == (3, 128)
    assert not np.array_equal(first, signatures(sets, NearDupParams(seed=1)))
    estimate = float(np.mean(first[0] == first[1]))
    assert abs(estimate - jaccard(sets[0], sets[1])) < 0.15
    assert float(np.mean(first[0] == first[2])) < 0.1


def test_near_duplicates_found_and_confirmed_by_exact_jaccard():
    edited = BASE.replace("five days", "5 days")  # a one-word edit of a 60-word note: Jaccard ~0.85
    rewritten = BASE.replace("Patient admitted", "Woman seen").replace("Chest radiograph", "X-ray")
    other = "Follow-up for gout; allopurinol continued, uric acid 5.1 mg/dL, no flares since the last visit."
    pairs = near_duplicate_pairs([BASE, other, edited, rewritten])
    assert [(i, j) for i, j, _ in pairs] == [(0, 2)]
    assert pairs[0][2] == pytest.approx(jaccard(shingles(BASE), shingles(edited)), abs=1e-4) and pairs[0][2] >= 0.8
    loose = near_duplicate_pairs([BASE, other, edited, rewritten], NearDupParams(threshold=0.5))
    assert (0, 3) in {(i, j) for i, j, _ in loose}


def test_keep_first_keeps_the_earlier_copy():
    edited = BASE.replace("five days", "5 days")
    kept, removed = keep_first([edited, "A different note entirely about asthma.", BASE])
    assert kept == [0, 1] and removed == {2: 0}


@pytest.mark.parametrize("kwargs", [{"num_perm": 100, "bands": 32}, {"threshold": 0}, {"shingle_size": 0}])
def test_bad_params_are_refused(kwargs):
    with pytest.raises(ValueError):
        NearDupParams(**kwargs)
