"""Drift statistics and the default decision, on generated text and on the shared reference data."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from drift_fixtures import CLINICAL_WORDS, OTHER_WORDS, fake_notes

from clinical.drift import (
    DriftConfig,
    build_profile,
    compare,
    jensen_shannon,
    ks_statistic,
    tokenize,
    wasserstein,
)


def chunks(paths, sentences_per_chunk: int = 3) -> list[str]:
    out = []
    for path in paths:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out += [" ".join(lines[i : i + sentences_per_chunk]) for i in range(0, len(lines), sentences_per_chunk)]
    return out


def test_tokenize_lowercases_words_and_drops_numbers():
    assert tokenize("Metformin 500 mg, Crohn's DISEASE!") == ["metformin", "mg", "crohn's", "disease"]


def test_statistics_on_known_inputs():
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert jensen_shannon([2, 2], [1, 1]) == pytest.approx(0.0)
    assert jensen_shannon([1, 1], [1, 0]) == pytest.approx(0.3112781, abs=1e-6)
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0
    assert ks_statistic([1, 2], [3, 4]) == 1.0
    assert wasserstein([0, 0], [1, 1]) == pytest.approx(1.0)
    assert wasserstein([0, 1, 2], [1, 2, 3]) == pytest.approx(1.0)
    assert wasserstein([0, 10], [0, 10]) == 0.0


def test_profile_is_json_serialisable_and_versioned():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 50, seed=0), vocab_size=10)
    assert json.loads(json.dumps(profile)) == profile
    assert profile["version"] == "drift-profile/1"
    assert len(profile["vocab"]) == 10 and profile["oov_count"] > 0
    assert sum(profile["length_histogram"]["counts"]) == 50
    with pytest.raises(ValueError):
        build_profile([])


def test_same_distribution_does_not_drift_and_other_text_does():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 300, seed=0))
    same = compare(profile, fake_notes(CLINICAL_WORDS, 40, seed=1))
    other = compare(profile, fake_notes(OTHER_WORDS, 40, seed=2))
    assert not same.drifted and same.score < same.threshold
    assert other.drifted and other.score > 0.5
    assert other.statistics["oov_rate_batch"] > same.statistics["oov_rate_batch"]
    assert set(other.as_dict()) == {"drifted", "score", "threshold", "statistics"}
    assert other.as_dict()["score"] == other.statistics["token_jsd"]
    json.dumps(other.as_dict())


def test_length_statistics_see_longer_notes():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 200, seed=0, length=(40, 60)))
    longer = compare(profile, fake_notes(CLINICAL_WORDS, 40, seed=3, length=(200, 300)))
    assert longer.statistics["length_ks"] == 1.0
    assert longer.statistics["length_wasserstein"] > 500


def test_small_batch_never_drifts_and_config_applies():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 100, seed=0))
    small = compare(profile, fake_notes(OTHER_WORDS, 5, seed=1))
    assert not small.drifted and small.statistics["enough_data"] is False
    assert compare(profile, fake_notes(OTHER_WORDS, 5, seed=1), DriftConfig(min_batch=1)).drifted
    assert not compare(profile, [], DriftConfig(min_batch=0)).drifted
    with pytest.raises(ValueError):
        compare({"version": "other"}, ["x"])


def test_maccrobat_heldout_chunks_do_not_drift_but_other_text_does(shared_data):
    paths = sorted((shared_data / "maccrobat_dev").glob("*.txt"))
    synth_path = shared_data / "presidio_synth" / "synth_dataset_v2.json"
    if len(paths) < 40 or not synth_path.is_file():
        pytest.skip("MACCROBAT texts or presidio_synth set missing under ../shared/data")
    profile = build_profile(chunks(paths[:30]))
    heldout = chunks(paths[30:])
    synth = [r["full_text"] for r in json.loads(synth_path.read_text(encoding="utf-8"))]
    rng = random.Random(0)
    same = [compare(profile, rng.sample(heldout, 40)) for _ in range(20)]
    assert not any(r.drifted for r in same), max(r.score for r in same)
    assert all(compare(profile, rng.sample(synth, 40)).drifted for _ in range(10))
    shuffled = ["".join(rng.sample(t, len(t))) for t in rng.sample(heldout, 40)]
    assert compare(profile, shuffled).drifted
    german = ["Der Patient wurde mit Fieber und Husten aufgenommen, die Laborwerte zeigten eine Leukozytose."] * 40
    assert compare(profile, german).drifted
    assert np.isfinite([r.score for r in same]).all()
