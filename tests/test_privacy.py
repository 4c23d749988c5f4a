import duckdb
import numpy as np
import pytest
from scipy import stats

from clinical import privacy, warehouse
from clinical.privacy import (
    NgramIndex,
    clip_l1,
    laplace_histogram,
    ngram_guard,
    per_patient_contributions,
    release_statistics,
    tokenize,
)

REAL = (
    "The patient was admitted with acute pancreatitis after a heavy meal and was treated with IV fluids, "
    "bowel rest and analgesia; lipase peaked on the second hospital day and normalized before discharge."
)


def _copy_of(tokens: int) -> str:
    """A synthetic note that contains exactly `tokens` consecutive tokens of REAL, framed by other words."""
    words = tokenize(REAL)[5 : 5 + tokens]
    return "Synthetic note: zebra quartz " + " ".join(words) + " quartz zebra end."


def test_tokenize_ignores_case_punctuation_and_spacing():
    assert tokenize("Hgb 10.2 g/dL,  NO fever!") == ["hgb", "10", "2", "g", "dl", "no", "fever"]


def test_a_copied_8_gram_is_caught_and_a_7_gram_is_not():
    index = NgramIndex.build([REAL], n=8)
    seven, eight, twelve = _copy_of(7), _copy_of(8), _copy_of(12)
    results = ngram_guard(
        [
            {"synthetic_id": "s7", "text": seven},
            {"synthetic_id": "s8", "text": eight},
            {"synthetic_id": "s12", "text": twelve},
        ],
        index,
    )
    assert results["s7"].passed and results["s7"].longest_run == 0 and results["s7"].shared_ngrams == 0
    assert not results["s8"].passed and results["s8"].longest_run == 8 and results["s8"].shared_ngrams == 1
    assert "8 consecutive tokens" in results["s8"].reason
    assert not results["s12"].passed and results["s12"].longest_run == 12 and results["s12"].shared_ngrams == 5
    # the same words with other case and punctuation are still a copy
    assert index.overlap(eight.upper().replace(" ", " ,  ")).longest_run == 8


def test_index_keeps_hashes_not_text_and_other_lengths_work():
    index = NgramIndex.build([REAL, "short text"], n=5)
    assert index.texts == 2 and all(isinstance(h, bytes) and len(h) == 8 for h in index.hashes)
    assert len(index.hashes) == len(tokenize(REAL)) - 4
    assert index.overlap(_copy_of(5)).longest_run == 5 and index.overlap(_copy_of(4)).longest_run == 0
    with pytest.raises(ValueError):
        NgramIndex(1)


def test_laplace_noise_scale_matches_sensitivity_over_epsilon():
    """Noise of the released histogram is Laplace(0, sensitivity / epsilon): mean, spread and KS test."""
    bins = [f"b{i}" for i in range(20000)]
    for epsilon in (0.5, 2.0):
        released = laplace_histogram([], bins, epsilon, np.random.default_rng(7))
        noise = np.array([released[b] for b in bins])
        scale = 1.0 / epsilon
        assert abs(noise.mean()) < 0.05 * scale
        assert np.mean(np.abs(noise)) == pytest.approx(scale, rel=0.03)  # E|X| = b for Laplace(0, b)
        assert noise.var() == pytest.approx(2 * scale**2, rel=0.06)  # Var = 2 b^2
        assert stats.kstest(noise, stats.laplace(scale=scale).cdf).pvalue > 0.001
        assert stats.kstest(noise, stats.laplace(scale=2 * scale).cdf).pvalue < 1e-6  # a wrong scale is rejected


def test_the_composed_release_splits_epsilon_and_its_noise_has_that_scale():
    features = [(f"pt_{i % 7}", {"a": {"x": 1.0}, "b": {"y": 0.5, "z": 0.5}}) for i in range(30)]
    bins = {"a": ("x", "w"), "b": ("y", "z")}
    draws = np.array([release_statistics(features, bins, 1.0, "fp", seed=s).statistics["a"]["w"] for s in range(4000)])
    # two statistics share epsilon = 1: each gets 0.5, so Laplace scale 1 / 0.5 = 2 on a true count of 0
    assert np.mean(np.abs(draws)) == pytest.approx(2.0, rel=0.06)
    release = release_statistics(features, bins, 1.0, "fp", seed=1)
    assert [q["laplace_scale"] for q in release.queries] == [2.0, 2.0]
    assert sum(q["epsilon"] for q in release.queries) == pytest.approx(1.0)
    # 7 patients, each contributing at most 1 to "x" whatever their number of documents
    exact = release_statistics(features, bins, 1e9, "fp", seed=1).statistics
    assert exact["a"]["x"] == pytest.approx(7.0, abs=1e-6) and exact["b"]["y"] == pytest.approx(3.5, abs=1e-6)
    assert release == release_statistics(features, bins, 1.0, "fp", seed=1)
    assert release.noise == "seeded:1" and release_statistics(features, bins, 1.0, "fp").noise == "os-entropy"
    assert (
        release_statistics(features, bins, 1.0, "fp").statistics
        != release_statistics(features, bins, 1.0, "fp").statistics
    )
    with pytest.raises(ValueError):
        release_statistics(features, bins, 0.0, "fp")


def test_one_patient_moves_each_histogram_by_at_most_one():
    rng = np.random.default_rng(0)
    features = []
    for i in range(40):
        vector = {f"k{j}": float(v) for j, v in enumerate(rng.random(5))}
        features.append((f"pt_{i % 9}", clip_l1(vector)))
    bins = [f"k{j}" for j in range(5)]

    def exact(items):
        return laplace_histogram(per_patient_contributions(items), bins, 1e12, np.random.default_rng(0))

    full = exact(features)
    for patient in {p for p, _ in features}:
        without = exact([f for f in features if f[0] != patient])
        assert sum(abs(full[b] - without[b]) for b in bins) <= 1.0 + 1e-6
    assert clip_l1({"a": 3.0, "b": 1.0}) == {"a": 0.75, "b": 0.25}


def test_releases_are_stored_and_found_again_and_documents_loaded():
    con = duckdb.connect()
    con.execute(warehouse.WAREHOUSE_SCHEMA)
    con.execute(
        "INSERT INTO deidentified_notes VALUES ('n1', 'b1', 'pt_1', 'progress note', 'Hx of HTN.', 'h', 'r', "
        "'f.jsonl', 's', 1, 'safe_harbor@1', 'fp', 0, 'run')"
    )
    con.execute(
        "INSERT INTO annotations (annotation_id, kind, note_id, doc_id, patient_key, text, entities, source_files) "
        "VALUES ('lbl_1', 'note_labels', 'n1', NULL, NULL, NULL, ?, '[]'),"
        " ('brat_1', 'brat', NULL, 'd1', 'pt_2', 'A case report.', '[]', '[]')",
        ['[{"type": "condition", "text": "HTN"}]'],
    )
    documents = privacy.load_real_documents(con)
    assert [(d.doc_id, d.patient_key, d.text) for d in documents] == [
        ("n1", "pt_1", "Hx of HTN."),
        ("brat_1", "pt_2", "A case report."),
    ]
    assert documents[0].entities == [{"type": "condition", "text": "HTN"}]
    fingerprint = privacy.documents_fingerprint(documents)
    release = release_statistics([("pt_1", {"a": {"x": 1.0}})], {"a": ("x",)}, 0.5, fingerprint, seed=3)
    privacy.store_release(con, release, "run-1")
    assert privacy.find_release(con, fingerprint, 0.5, release.spec, "seeded:3") == release
    assert privacy.find_release(con, fingerprint, 0.5, release.spec, "os-entropy") is None
    assert privacy.find_release(con, fingerprint, 1.0, release.spec, "seeded:3") is None
