from collections import Counter
from pathlib import Path

import pytest

from clinical.ids import content_hash
from clinical.schema import SchemaError
from clinical.sft import (
    SPLITS,
    assign_split,
    build_sft_dataset,
    chunk_document,
    dataset_card_markdown,
    dataset_version,
    golden_leaks,
    make_example,
)

MACCROBAT = Path(__file__).resolve().parents[2] / "shared" / "data" / "maccrobat_dev"


def _entity(text: str, needle: str, etype: str = "condition") -> dict:
    start = text.index(needle)
    return {"type": etype, "text": needle, "start": start, "end": start + len(needle)}


def _check_chunks(text, entities, chunks):
    assert sum(len(c[1]) for c in chunks) == len(entities)
    for chunk_text, chunk_entities, (start, end) in chunks:
        assert text[start:end] == chunk_text and chunk_text == chunk_text.strip()
        for entity in chunk_entities:
            assert chunk_text[entity["start"] : entity["end"]] == entity["text"]


def test_short_document_is_one_chunk():
    text = "Pt denies chest pain.\n"
    chunks = chunk_document(text, [_entity(text, "chest pain")])
    assert chunks == [("Pt denies chest pain.", [{**_entity(text, "chest pain")}], (0, 21))]


def test_long_document_splits_at_sentences_and_rebases():
    sentences = [f"Sentence {i} mentions hypertension and metformin." for i in range(12)]
    text = " ".join(sentences)
    entities = []
    for sentence in sentences:
        offset = text.index(sentence)
        for needle, etype in (("hypertension", "condition"), ("metformin", "medication")):
            start = offset + sentence.index(needle)
            entities.append({"type": etype, "text": needle, "start": start, "end": start + len(needle)})
    chunks = chunk_document(text, entities, max_chars=120)
    assert len(chunks) > 4
    assert all(len(c[0]) <= 120 and c[0].endswith(".") for c in chunks)
    _check_chunks(text, entities, chunks)


def test_entity_across_a_boundary_is_kept_whole():
    text = "Dx: acute on chronic. Kidney injury resolved. Plan follows here."
    entities = [_entity(text, "chronic. Kidney injury")]
    chunks = chunk_document(text, entities, max_chars=25)
    _check_chunks(text, entities, chunks)
    holder = next(c for c in chunks if c[1])
    assert holder[1][0]["text"] == "chronic. Kidney injury"


def test_entity_longer_than_max_chars_extends_the_chunk():
    text = "Hx of community-acquired pneumonia. Stable."
    entities = [_entity(text, "community-acquired pneumonia")]
    chunks = chunk_document(text, entities, max_chars=10)
    _check_chunks(text, entities, chunks)
    assert any(len(c[0]) > 10 for c in chunks)


def test_entities_without_offsets_are_located_and_bad_offsets_rejected():
    text = "Metformin daily. Continue metformin."
    chunks = chunk_document(text, [{"type": "medication", "text": "metformin"}])
    assert chunks[0][1][0]["start"] == text.index("metformin")
    with pytest.raises(ValueError, match="do not match"):
        chunk_document(text, [{"type": "medication", "text": "metformin", "start": 0, "end": 9}])
    with pytest.raises(ValueError, match="does not occur"):
        chunk_document(text, [{"type": "medication", "text": "aspirin"}])


@pytest.mark.skipif(not MACCROBAT.is_dir(), reason=f"MACCROBAT dev data not found at {MACCROBAT}")
def test_maccrobat_documents_chunk_without_losing_entities():
    from clinical.brat import read_brat_corpus

    for doc in read_brat_corpus(MACCROBAT):
        chunks = chunk_document(doc.text, doc.entities, max_chars=700)
        _check_chunks(doc.text, doc.entities, chunks)
        assert all(len(c[0]) <= 700 for c in chunks)


def test_assign_split_is_deterministic_and_proportional():
    keys = [f"pt_{i}" for i in range(3000)]
    splits = [assign_split(k) for k in keys]
    assert splits == [assign_split(k) for k in keys]
    counts = Counter(splits)
    assert 0.77 < counts["train"] / 3000 < 0.83
    assert 0.08 < counts["validation"] / 3000 < 0.12 and 0.08 < counts["test"] / 3000 < 0.12
    assert [assign_split(k, salt="v2") for k in keys] != splits
    assert {assign_split(k, fractions=(1, 0, 0)) for k in keys[:50]} == {"train"}


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (-1, 1, 1), (0, 0, 0)])
def test_assign_split_rejects_bad_fractions(fractions):
    with pytest.raises(ValueError):
        assign_split("pt_1", fractions=fractions)


def test_make_example_follows_the_contract():
    text = "Pt on metformin 500 mg PO BID."
    med = {**_entity(text, "metformin", "medication"), "dose": "500 mg", "route": "PO", "frequency": "BID"}
    example = make_example(text, [med], "annotation", "pt_abc", ["note_1"])
    assert set(example) == {
        "example_id",
        "split",
        "source",
        "patient_key",
        "parents",
        "text",
        "entities",
        "messages",
        "note_type",
    }
    assert example["split"] is None and example["note_type"] == "unknown"
    assert example["example_id"] == content_hash(example["messages"])
    assert [m["role"] for m in example["messages"]] == ["system", "user", "assistant"]
    assert '"start"' not in example["messages"][-1]["content"]
    assert example["entities"][0]["start"] == med["start"]
    with pytest.raises(ValueError):
        make_example(text, [med], "web", "pt_abc", ["note_1"])
    with pytest.raises(ValueError):
        make_example(text, [med], "annotation", "pt_abc", [])
    with pytest.raises(SchemaError):
        make_example(text, [{"type": "drug", "text": "metformin"}], "annotation", "pt_abc", ["n"])


CONDITIONS = ["asthma", "hypertension", "type 2 diabetes", "migraine", "gout", "anemia", "psoriasis", "COPD"]
DRUGS = ["albuterol", "lisinopril", "metformin", "sumatriptan", "allopurinol", "ferrous sulfate", "methotrexate"]
PROCEDURES = ["spirometry", "echocardiogram", "colonoscopy", "chest X-ray", "MRI brain", "skin biopsy"]
TESTS = ["sodium", "potassium", "hemoglobin", "creatinine", "glucose"]


def _note(i: int, seed: int) -> tuple[str, list[dict]]:
    """A distinct small labelled note (no two share a 5-word run, so none are near duplicates)."""
    k = i * 7 + seed * 13
    condition, drug = CONDITIONS[k % len(CONDITIONS)], DRUGS[(k // 2) % len(DRUGS)]
    procedure, test = PROCEDURES[(k // 3) % len(PROCEDURES)], TESTS[k % len(TESTS)]
    text = (
        f"Visit {i}-{seed}: day {k % 29 + 1} of care. History of {condition} since {1990 + k % 30}. "
        f"Takes {drug} {5 * (k % 9 + 1)} mg daily; {procedure} booked for week {k % 50 + 2}. "
        f"Serum {test} {k % 97 + 3} units at hour {k % 23}."
    )
    lab = f"Serum {test} {k % 97 + 3} units"
    entities = [_entity(text, condition), _entity(text, drug, "medication"), _entity(text, procedure, "procedure")]
    entities.append(_entity(text, lab, "lab_value"))
    return text, sorted(entities, key=lambda e: e["start"])


def _synthetic_examples(count=30, seed=0):
    out = []
    for i in range(count):
        text, entities = _note(i, seed)
        out.append(
            make_example(text, entities, "synthetic", f"pt_syn_{seed}_{i}", [f"syn_{seed}_{i}"], "progress_note")
        )
    return out


def test_build_dataset_splits_by_patient_and_reports():
    examples = _synthetic_examples()
    records, report = build_sft_dataset(examples, fractions=(0.8, 0.1, 0.1), salt="s")
    assert len(records) == report["examples"] == 30 and report["duplicates_removed"] == 0
    assert report["leakage"] is False and report["leaking_patient_keys"] == []
    assert all(report["by_split"][s] > 0 for s in SPLITS)
    assert sum(report["by_split"].values()) == 30
    assert report["by_source"] == {"synthetic": 30}
    assert set(report["by_entity_type"]) == {"medication", "condition", "procedure", "lab_value"}
    assert report["token_length"]["text"]["max"] >= report["token_length"]["text"]["min"] > 0
    patient_splits = {}
    for record in records:
        assert patient_splits.setdefault(record["patient_key"], record["split"]) == record["split"]
    assert report["dataset_version"] == dataset_version(records)
    assert all(e["split"] is None for e in examples)


def test_dataset_version_ignores_input_order_and_tracks_splits():
    examples = _synthetic_examples(12, seed=3)
    records, _ = build_sft_dataset(examples)
    again, _ = build_sft_dataset(list(reversed(examples)))
    assert records == again and dataset_version(records) == dataset_version(again)
    moved = [{**records[0], "split": "test" if records[0]["split"] != "test" else "train"}, *records[1:]]
    assert dataset_version(moved) != dataset_version(records)


def test_duplicates_removed_with_both_parents_kept():
    text = "Hx of HTN.\nOn lisinopril."
    entities = [_entity(text, "HTN"), _entity(text, "lisinopril", "medication")]
    first = make_example(text, entities, "deid_note", "pt_a", ["note_1"])
    copy = make_example("hx of  HTN. on lisinopril.", [], "synthetic", "pt_b", ["syn_9"])
    other = make_example("Denies fever.", [], "deid_note", "pt_c", ["note_3"])
    records, report = build_sft_dataset([copy, first, other])
    assert report["duplicates_removed"] == 1 and len(records) == 2
    kept = next(r for r in records if r["patient_key"] == "pt_a")
    assert kept["parents"] == ["note_1", "syn_9"] and kept["source"] == "deid_note"


def test_tiny_data_gets_every_split_filled_deterministically():
    examples = [
        make_example(f"Note {i} about asthma.", [], "deid_note", f"pt_{i % 3}", [f"note_{i}"]) for i in range(7)
    ]
    records, report = build_sft_dataset(examples)
    assert report["patients_by_split"] == {"train": 1, "validation": 1, "test": 1, "golden": 0}
    assert len(report["moved_patients"]) == 2
    assert all(report["by_split"][s] > 0 for s in SPLITS) and report["leakage"] is False
    assert build_sft_dataset(examples)[1]["moved_patients"] == report["moved_patients"]


def test_two_patients_and_empty_input():
    two = [make_example(f"Note {i}.", [], "deid_note", f"pt_{i}", [f"n{i}"]) for i in range(2)]
    records, report = build_sft_dataset(two)
    assert len(records) == 2 and report["moved_patients"] == []
    records, report = build_sft_dataset([])
    assert records == [] and report["examples"] == 0 and report["leakage"] is False


def test_golden_examples_are_held_out_with_their_patients():
    examples = _synthetic_examples(20, seed=5)
    text, entities = _note(99, 5)
    golden = make_example(text, entities, "annotation", "pt_gold", ["ann_gold"], "case_report", golden=True)
    same_patient = make_example("Pt gold later visit: stable.", [], "deid_note", "pt_gold", ["note_x"])
    records, report = build_sft_dataset([*examples, golden, same_patient], salt="g")
    assert golden["split"] == "golden" and report["by_split"]["golden"] == 1
    assert [r["parents"] for r in records if r["split"] == "golden"] == [["ann_gold"]]
    assert report["held_out_golden_patient"] == 1 and report["patients_by_split"]["golden"] == 1
    assert all(r["patient_key"] != "pt_gold" for r in records if r["split"] != "golden")
    assert report["leakage"] is False and all(report["by_split"][s] > 0 for s in SPLITS)
    assert golden_leaks(records, {"ann_gold"})["golden_examples"] == 1
    assert not any(v for k, v in golden_leaks(records, {"ann_gold"}).items() if k.endswith("_in_other_splits"))
    with pytest.raises(ValueError, match="only 'golden' may be preset"):
        build_sft_dataset([{**golden, "split": "train"}])


def test_near_duplicates_removed_keeping_the_golden_copy():
    base = [make_example(*_note(i, 8), "synthetic", f"pt_{i}", [f"syn_{i}"]) for i in range(12)]
    text, entities = _note(50, 8)
    long_text = text + " Plan unchanged; continue the same medicines and review the results at the next visit."
    gold = make_example(long_text, entities, "annotation", "pt_gold", ["ann_gold"], golden=True)
    copy_text = long_text.replace("Plan unchanged", "Plan unaltered")
    train_copy = make_example(copy_text, entities, "deid_note", "pt_0", ["note_copy"])
    records, report = build_sft_dataset([*base, train_copy, gold])
    assert report["near_duplicates_removed"] == 1 and report["exact_duplicates_removed"] == 0
    assert sum(report["near_duplicates_removed_by_split"].values()) == 1
    kept = next(r for r in records if r["split"] == "golden")
    assert kept["parents"] == ["ann_gold", "note_copy"] and kept["text"] == long_text
    assert report["near_duplicate_pairs_across_splits"] == 0 and report["duplicates_removed"] == 1
    assert report["near_duplicate_method"]["shingle_words"] == 5
    off, off_report = build_sft_dataset([*base, train_copy, gold], near_duplicates=None)
    assert len(off) == len(records) + 1 and off_report["near_duplicate_method"] is None


def test_golden_leaks_detects_patient_text_and_near_duplicate():
    text, entities = _note(1, 9)
    golden = {**make_example(text, entities, "annotation", "pt_g", ["ann_g"], golden=True)}
    leaked_patient = {**make_example("Other text.", [], "deid_note", "pt_g", ["n1"]), "split": "train"}
    leaked_text = {**make_example(text.upper(), [], "deid_note", "pt_t", ["n2"]), "split": "train"}
    leaked_parent = {**make_example("More text.", [], "annotation", "pt_u", ["ann_g"]), "split": "test"}
    leaks = golden_leaks([golden, leaked_patient, leaked_text, leaked_parent], {"ann_g"})
    assert leaks["golden_patients_in_other_splits"] == 1
    assert leaks["golden_texts_in_other_splits"] == 1 and leaks["golden_near_duplicates_in_other_splits"] == 1
    assert leaks["golden_annotations_in_other_splits"] == 1


def test_dataset_card_has_counts_lengths_and_hash():
    examples = _synthetic_examples(15, seed=2)
    records, report = build_sft_dataset(examples, count_tokens=lambda s: len(s), token_counter="characters")
    card = dataset_card_markdown(report)
    assert report["dataset_version"] in card and "### Examples by split and source" in card
    assert "| train |" in card and "| golden |" not in card and "(characters)" in card
    lengths = report["token_length"]
    assert lengths["counter"] == "characters" and lengths["text"]["max"] == max(len(r["text"]) for r in records)
    assert set(lengths["example_by_split"]) == {"train", "validation", "test"}
    assert report["by_note_type"] == {"progress_note": 15}
    assert sum(report["by_split_and_entity_type"]["train"].values()) == sum(
        len(r["entities"]) for r in records if r["split"] == "train"
    )
    default = build_sft_dataset(examples)[1]["token_length"]["counter"]
    assert default.startswith("characters / 4")
    assert build_sft_dataset(examples)[1]["token_length"]["text"]["max"] == max(
        -(-len(r["text"]) // 4) for r in records
    )


def test_cached_tokenizer_dir_never_builds(tmp_path):
    from clinical.dataset import cached_tokenizer_dir

    assert cached_tokenizer_dir("smollm2-135m-instruct", tmp_path) is None
    (tmp_path / "smollm2-tokenizer").mkdir()
    (tmp_path / "smollm2-tokenizer" / "tokenizer_config.json").write_text("{}")
    assert cached_tokenizer_dir("tiny-random", tmp_path) == tmp_path / "smollm2-tokenizer"
    local = tmp_path / "llama"
    local.mkdir()
    assert cached_tokenizer_dir(str(local), tmp_path) is None  # never another model's tokenizer
    (local / "tokenizer_config.json").write_text("{}")
    assert cached_tokenizer_dir(str(local), tmp_path) == local
