"""Checks for the blind synthetic de-identification corpus #3 generator.

These tests validate the corpus itself (determinism, span integrity, gold
conventions, CLI); they deliberately do not run or score the detector.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

MODULE_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "deid_blind_corpus_3.py"

ALLOWED_TYPES = {
    "NAME",
    "LOCATION",
    "ADDRESS",
    "ZIP",
    "DATE",
    "AGE_90",
    "PHONE",
    "EMAIL",
    "SSN",
    "MRN",
    "HEALTH_PLAN",
    "ACCOUNT",
    "LICENSE",
    "VEHICLE",
    "DEVICE",
    "URL",
    "IP",
    "ID",
}

TITLE_WORDS = {"Dr", "Dr.", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Rev.", "Fr."}
CREDENTIAL_SUFFIXES = (" RN", " MD", " PT", " RD", " PharmD", " NP")

# Look-alikes written verbatim by the generator; none may overlap gold.
DISTRACTORS = (
    "pain 6/10",
    "GCS 15",
    "Foley",
    "MICU",
    "Tmax rose to",
    "hope to wean",
    "lasix 40 IV x1",
    "RR 12-20",
    "2/4 pulses",
    "4/5 strength",
    "Swan-Ganz",
    "Babinski",
    "BP 120/80",
    "NS 500cc",
)


def _load_module():
    spec = importlib.util.spec_from_file_location("deid_blind_corpus_3", MODULE_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpus = _load_module()


@pytest.fixture(scope="module")
def notes() -> list[dict]:
    return [note.to_json() for note in corpus.generate_notes(600, 7)]


def test_same_seed_is_deterministic_and_seeds_differ():
    first = [n.to_json() for n in corpus.generate_notes(40, 11)]
    second = [n.to_json() for n in corpus.generate_notes(40, 11)]
    other = [n.to_json() for n in corpus.generate_notes(40, 12)]
    assert first == second
    assert [n["text"] for n in first] != [n["text"] for n in other]


def test_spans_are_valid(notes):
    for note in notes:
        text = note["text"]
        previous_end = 0
        for span in sorted(note["spans"], key=lambda s: s["start"]):
            start, end = span["start"], span["end"]
            assert 0 <= start < end <= len(text), note["id"]
            assert span["type"] in ALLOWED_TYPES
            assert text[start:end] == text[start:end].strip(), (note["id"], text[start:end])
            assert start >= previous_end, f"overlap in {note['id']}"
            previous_end = end


def test_styles_declared_and_all_present(notes):
    declared = set(corpus.STYLES)
    assert len(declared) >= 8
    seen = Counter(note["style"] for note in notes)
    assert set(seen) == declared


def test_notes_have_reasonable_size(notes):
    assert all(300 <= len(note["text"]) <= 3000 for note in notes)
    mean_spans = sum(len(note["spans"]) for note in notes) / len(notes)
    assert 10 <= mean_spans <= 25


def test_name_gold_excludes_titles_and_credentials(notes):
    for note in notes:
        for span in note["spans"]:
            if span["type"] != "NAME":
                continue
            value = note["text"][span["start"] : span["end"]]
            assert value.split()[0] not in TITLE_WORDS, value
            assert not value.endswith(CREDENTIAL_SUFFIXES), value
            assert not value.endswith("'s"), value


def test_distractors_never_inside_gold(notes):
    hits = Counter()
    for note in notes:
        text = note["text"]
        for phrase in DISTRACTORS:
            start = text.find(phrase)
            while start != -1:
                hits[phrase] += 1
                end = start + len(phrase)
                for span in note["spans"]:
                    assert span["end"] <= start or span["start"] >= end, (note["id"], phrase)
                start = text.find(phrase, end)
    assert set(hits) == set(DISTRACTORS)


def test_age_gold_is_over_89(notes):
    ages = [int(n["text"][s["start"] : s["end"]]) for n in notes for s in n["spans"] if s["type"] == "AGE_90"]
    assert ages
    assert all(age > 89 for age in ages)


def test_cli_writes_jsonl(tmp_path):
    outputs = [tmp_path / "first.jsonl", tmp_path / "second.jsonl"]
    for output in outputs:
        command = [sys.executable, str(MODULE_PATH), "--notes", "20", "--seed", "3", "--output", str(output)]
        subprocess.run(command, check=True, timeout=60)
    lines = outputs[0].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 20
    record = json.loads(lines[0])
    assert set(record) == {"id", "text", "spans", "style"}
    assert record["style"] in corpus.STYLES
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
