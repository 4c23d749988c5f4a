"""`clinical deid eval` and its scoring: token-level recall/precision/F2, converters, clinical meaning."""

from __future__ import annotations

import json

import pytest

from clinical.cli import main
from clinical.deid import evaluate

MEANING_REDACTED_MAX = 0.02  # issue 3: at most 2% of Medication/Disease_disorder/Lab_value tokens


def record(text: str, *spans: tuple[int, int, str], rid: str = "n1") -> dict:
    return {"id": rid, "text": text, "spans": [{"start": s, "end": e, "type": t} for s, e, t in spans]}


@pytest.mark.parametrize(
    ("rec", "predicted", "recall", "precision", "missed"),
    [
        (record("Seen by John Smith today", (8, 18, "NAME")), [(8, 18)], 1.0, 1.0, []),
        (record("Seen by John Smith today", (8, 18, "NAME")), [(8, 12)], 0.5, 1.0, ["n1"]),
        (record("Seen by John Smith today", (8, 18, "NAME")), [(0, 18)], 1.0, 0.5, []),
        (record("Seen by John Smith today", (8, 18, "NAME")), [], 0.0, 1.0, ["n1"]),
        (record("Works at Acme in France", (9, 13, "ORGANIZATION")), [(9, 13)], 1.0, 1.0, []),
        (record("No identifiers here"), [(0, 2)], 1.0, 0.0, []),
    ],
)
def test_score_table(rec, predicted, recall, precision, missed):
    result = evaluate.score([rec], [predicted])
    assert (result["recall"], result["precision"], result["notes_with_missed_span"]) == (recall, precision, missed)


def test_f2_and_per_type_recall():
    rec = record("John Smith, MRN 1234567, 02/12/2019", (0, 10, "NAME"), (16, 23, "MRN"), (25, 35, "DATE"))
    result = evaluate.score([rec], [[(0, 4), (16, 23), (25, 35)]])
    assert result["recall_by_type"] == {"DATE": 1.0, "MRN": 1.0, "NAME": 0.5}
    # Six gold tokens (John, Smith, 1234567, 02, 12, 2019); "Smith" is missed.
    assert result["recall"] == round(5 / 6, 4) and result["precision"] == 1.0
    assert result["f2"] == round(5 * (5 / 6) / (4 + 5 / 6), 4)


def test_missed_titles_and_credentials_are_counted_apart():
    # Gold "Dr. Ann Lee MD" (tokens Dr, Ann, Lee, MD); the detector finds "Ann Lee" only.
    rec = record("Seen by Dr. Ann Lee MD today", (8, 22, "NAME"))
    result = evaluate.score([rec], [[(12, 19)]])
    assert result["recall"] == 0.5 and result["missed_title_tokens"] == 2
    assert result["recall_without_titles"] == 1.0
    # A missed name word is never counted as a title.
    result = evaluate.score([rec], [[(12, 15)]])
    assert result["missed_title_tokens"] == 2 and result["recall_without_titles"] == 0.5


def test_read_annotated_names_the_bad_line_never_the_text(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps(record("MRN 00123456", (4, 12, "MRN"))) + '\n{"id": "x", "text": "SSN 123", "spans": [1]}\n'
    )
    with pytest.raises(evaluate.AnnotatedFileError) as error:
        evaluate.read_annotated(path)
    assert ":2:" in str(error.value) and "SSN 123" not in str(error.value)


def test_cli_eval_prints_the_scores(tmp_path, capsys):
    path = tmp_path / "a.jsonl"
    rows = [record("Seen by Dr. John Smith, MRN 00123456.", (12, 22, "NAME"), (28, 36, "MRN"))]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["deid", "eval", "--input", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recall"] == 1.0 and out["notes_with_missed_span"] == []
    assert {"precision", "f2", "recall_by_type"} <= set(out)
    assert main(["deid", "eval", "--input", str(tmp_path / "missing.jsonl")]) == 2


def test_demo_truth_converts_and_scores_full_recall(tmp_path):
    from clinical.demo_batch import write_demo_batch

    batch = write_demo_batch(tmp_path / "landing", "b", count=6, seed=5)
    records = evaluate.from_demo_truth(batch.path, batch.phi_path)
    assert len(records) == 6 and all(r["spans"] for r in records)
    assert all(r["text"][s["start"] : s["end"]] for r in records for s in r["spans"])
    result = evaluate.evaluate_detector(records)
    assert result["recall"] >= 0.99 and result["precision"] >= 0.9


def test_presidio_synth_converts(shared_data):
    path = shared_data / "presidio_synth" / "synth_dataset_v2.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    records = evaluate.from_presidio_synth(path)
    assert len(records) == 1500
    kinds = {s["type"] for r in records for s in r["spans"]}
    assert {"NAME", "ADDRESS", "SSN", "IGNORE"} <= kinds


def test_clinical_meaning_survives_on_maccrobat(shared_data):
    """Share of Medication, Disease_disorder and Lab_value tokens the policy redacts (measured 0.0024)."""
    from clinical.deid import get_deidentifier

    folder = shared_data / "maccrobat_dev"
    records = evaluate.read_brat_types(folder)
    if not records:
        pytest.skip(f"no brat documents under {folder}")
    found = get_deidentifier().detect_many([r["text"] for r in records])
    result = evaluate.clinical_meaning_redacted(records, [[(s.start, s.end) for s in spans] for spans in found])
    assert result["tokens"] > 1500
    assert set(result["tokens_by_type"]) == set(evaluate.MEANING_TYPES)
    assert result["redacted_share"] <= MEANING_REDACTED_MAX, result["redacted_share_by_type"]
