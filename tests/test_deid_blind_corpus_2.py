"""Checks for the second blind de-identification corpus (benchmarks/deid_blind_corpus_2.py); no detector involved."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

MODULE_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "deid_blind_corpus_2.py"


def _load():
    spec = importlib.util.spec_from_file_location("deid_blind_corpus_2", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


corpus = _load()


@pytest.fixture(scope="module")
def notes() -> list[dict]:
    return corpus.generate(240, seed=11)


def test_deterministic():
    assert corpus.generate(30, seed=5) == corpus.generate(30, seed=5)
    assert corpus.generate(30, seed=5) != corpus.generate(30, seed=6)


def test_record_shape(notes):
    ids = set()
    for note in notes:
        assert set(note) == {"id", "text", "spans", "style"}
        assert isinstance(note["text"], str) and note["text"]
        ids.add(note["id"])
        for span in note["spans"]:
            assert set(span) == {"start", "end", "type"}
            assert span["type"] in corpus.TYPES
    assert len(ids) == len(notes)


def test_spans_valid_sorted_non_overlapping_and_stripped(notes):
    for note in notes:
        text, prev_end = note["text"], -1
        for span in note["spans"]:
            start, end = span["start"], span["end"]
            assert 0 <= start < end <= len(text)
            assert start >= prev_end, (note["id"], span)
            prev_end = end
            value = text[start:end]
            assert value == value.strip(), (note["id"], value)
            assert value[-1] not in " ,;:([\"'", (note["id"], value)
            assert value[0] not in " ,;:)]\"'" and (value[0] != "(" or span["type"] == "PHONE"), (note["id"], value)


def test_every_style_appears(notes):
    assert len(corpus.STYLES) >= 6
    assert {n["style"] for n in notes} == set(corpus.STYLES)


def test_frame_count():
    assert corpus.FRAME_COUNT >= 60
    assert corpus.frame_count() == corpus.FRAME_COUNT


def test_distractors_occur_outside_gold(notes):
    seen = set()
    for note in notes:
        low = note["text"].lower()
        for phrase in corpus.DISTRACTORS:
            for m in re.finditer(r"(?<![a-z])" + re.escape(phrase.lower()) + r"(?![a-z])", low):
                seen.add(phrase)
                for span in note["spans"]:
                    assert m.end() <= span["start"] or m.start() >= span["end"], (note["id"], phrase, span)
    missing = set(corpus.DISTRACTORS) - seen
    assert not missing, missing


def test_every_style_has_distractors(notes):
    for style in corpus.STYLES:
        texts = [n["text"].lower() for n in notes if n["style"] == style]
        assert all(any(p.lower() in t for p in corpus.DISTRACTORS) for t in texts), style


TITLE_TOKENS = {"dr", "md", "m.d", "rn", "np", "pa-c", "mr", "mrs", "ms", "phd", "rrt", "lcsw", "licsw", "msw"}
RELATION_WORDS = {"wife", "husband", "daughter", "son", "dtr", "niece", "sister", "brother", "pt's", "hcp"}


def test_names_carry_no_titles_credentials_relations_or_possessive(notes):
    n_names = 0
    for note in notes:
        for span in note["spans"]:
            if span["type"] != "NAME":
                continue
            n_names += 1
            value = note["text"][span["start"] : span["end"]]
            if re.fullmatch(r"[A-Za-z]\.?[A-Za-z]?\.?", value):
                continue  # initials ("MS", "j.k.") may spell a credential by chance
            tokens = {t.strip(".,").lower() for t in value.split()}
            assert not tokens & TITLE_TOKENS, (note["id"], value)
            assert not tokens & RELATION_WORDS, (note["id"], value)
            assert not value.endswith("'s"), (note["id"], value)
    assert n_names > 500


def test_age_90_values(notes):
    ages = [n["text"][s["start"] : s["end"]] for n in notes for s in n["spans"] if s["type"] == "AGE_90"]
    assert ages
    assert all(a.isdigit() and int(a) >= 90 for a in ages)


def test_states_and_countries_are_not_gold(notes):
    for note in notes:
        for span in note["spans"]:
            if span["type"] != "LOCATION":
                continue  # "Georgia" may be a first name
            value = note["text"][span["start"] : span["end"]].lower()
            assert value not in {s.lower() for s in corpus.STATES + corpus.COUNTRIES}


def test_type_coverage(notes):
    types = {s["type"] for n in notes for s in n["spans"]}
    for needed in ("NAME", "LOCATION", "ADDRESS", "ZIP", "DATE", "AGE_90", "PHONE", "EMAIL", "MRN", "URL"):
        assert needed in types, needed


def test_date_forms(notes):
    dates = [n["text"][s["start"] : s["end"]] for n in notes for s in n["spans"] if s["type"] == "DATE"]
    assert any(re.fullmatch(r"\d{1,2}/\d{1,2}", d) for d in dates)
    assert any(re.fullmatch(r"\d{1,2}-\d{1,2}", d) for d in dates)
    assert any("@" in d for d in dates)
    assert any(re.fullmatch(r"\d{1,2}(st|nd|rd|th)", d) for d in dates)


def test_cli_writes_jsonl(tmp_path):
    out = tmp_path / "blind2.jsonl"
    corpus.main(["--notes", "12", "--seed", "3", "--output", str(out)])
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines == corpus.generate(12, 3)
