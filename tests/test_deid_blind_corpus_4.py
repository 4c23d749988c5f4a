"""Checks of the blind corpus generator benchmarks/deid_blind_corpus_4.py.

These tests check the corpus itself (determinism, span validity, gold
conventions, distractors); they never run the detector.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

MODULE_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "deid_blind_corpus_4.py"

# Look-alikes written into the note templates that must never fall in gold.
DISTRACTORS = (
    "BP 120/80",
    "HR 88",
    "RR 12-20",
    "GCS 15",
    "4/5 strength",
    "2/4 pulses",
    "pain 7/10",
    "levo 0.05",
    "lasix 40 IV x1",
    "NS 500cc",
    "heparin gtt at 1000 units/hr",
    "K 3.6 at 0400",
    "Foley",
    "Swan-Ganz",
    "Dobhoff",
    "Parkinson's",
    "Glasgow",
    "Babinski",
    "Baker's cyst",
    "Hickman",
    "Quinton",
    "Cordis",
    "MICU",
    "CCU",
    "7 North",
    "Farr 2",
    "temp rose to 101",
    "hope to extubate",
    "may need trach",
    "did not grant permission",
    "skin mark",
    "bill accordingly",
    "last summer",
    "looks young",
)
TITLE_START = re.compile(r"^(dr|mr|mrs|ms)\b", re.IGNORECASE)
CREDENTIAL_END = re.compile(r" (rn|md)$", re.IGNORECASE)


def _load_module():
    spec = importlib.util.spec_from_file_location("deid_blind_corpus_4", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_module():
    return _load_module()


@pytest.fixture(scope="module")
def notes(corpus_module):
    return corpus_module.generate_corpus(600, 7)


def test_deterministic_for_seed(corpus_module, notes):
    assert corpus_module.generate_corpus(600, 7) == notes
    assert corpus_module.generate_corpus(20, 8) != notes[:20]


def test_spans_are_valid(corpus_module, notes):
    for note in notes:
        text = note["text"]
        previous_end = 0
        for span in note["spans"]:
            start, end = span["start"], span["end"]
            assert 0 <= previous_end <= start < end <= len(text), note["id"]
            piece = text[start:end]
            assert piece == piece.strip(), (note["id"], piece)
            assert span["type"] in corpus_module.ALLOWED_TYPES
            previous_end = end


def test_styles_declared_and_all_present(corpus_module, notes):
    styles = {note["style"] for note in notes}
    assert styles <= set(corpus_module.STYLES)
    assert styles == set(corpus_module.STYLES)
    assert len(corpus_module.STYLES) >= 8


def test_name_gold_excludes_titles_and_credentials(notes):
    for note in notes:
        for span in note["spans"]:
            if span["type"] != "NAME":
                continue
            piece = note["text"][span["start"] : span["end"]]
            assert not TITLE_START.match(piece), (note["id"], piece)
            assert not CREDENTIAL_END.search(piece), (note["id"], piece)
            assert not piece.endswith("'s"), (note["id"], piece)


def test_distractors_present_and_never_gold(notes):
    for distractor in DISTRACTORS:
        needle = distractor.lower()
        found = 0
        for note in notes:
            lowered = note["text"].lower()
            start = lowered.find(needle)
            while start != -1:
                found += 1
                end = start + len(needle)
                for span in note["spans"]:
                    assert span["end"] <= start or span["start"] >= end, (note["id"], distractor)
                start = lowered.find(needle, start + 1)
        assert found, distractor


def test_age_gold_over_89(notes):
    ages = [int(note["text"][s["start"] : s["end"]]) for note in notes for s in note["spans"] if s["type"] == "AGE_90"]
    assert ages
    assert all(age > 89 for age in ages)


def test_corpus_size_targets(corpus_module, notes):
    assert len(set(corpus_module.FEMALE_FIRST) | set(corpus_module.MALE_FIRST)) >= 300
    assert len(set(corpus_module.SURNAMES)) >= 300
    assert len(set(corpus_module.TOWNS)) >= 60
    assert len(set(corpus_module.FACILITIES)) >= 40
    mean_spans = sum(len(note["spans"]) for note in notes) / len(notes)
    assert 12 <= mean_spans <= 30


def test_does_not_use_faker():
    source = MODULE_PATH.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(import|from)\s+faker", source, re.IGNORECASE | re.MULTILINE)


def test_cli_writes_jsonl(corpus_module, tmp_path):
    output = tmp_path / "out.jsonl"
    corpus_module.main(["--notes", "12", "--seed", "7", "--output", str(output)])
    lines = output.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 12
    first = json.loads(lines[0])
    assert set(first) == {"id", "text", "spans", "style"}
    assert first == corpus_module.generate_note(7, 0)
    again = tmp_path / "again.jsonl"
    corpus_module.main(["--notes", "12", "--seed", "7", "--output", str(again)])
    assert again.read_bytes() == output.read_bytes()
