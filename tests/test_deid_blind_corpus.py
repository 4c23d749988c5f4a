"""The blind de-identification corpus (benchmarks/deid_blind_corpus.py): shape and gold rules, no detector."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATH = ROOT / "benchmarks" / "deid_blind_corpus.py"


def _load():
    spec = importlib.util.spec_from_file_location("deid_blind_corpus", PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("deid_blind_corpus", mod)
    spec.loader.exec_module(mod)
    return mod


BC = _load()


@pytest.fixture(scope="module")
def notes():
    return BC.generate(400, seed=11)


def _outside_gold(note: dict, pattern: str) -> bool:
    for m in re.finditer(pattern, note["text"], flags=re.IGNORECASE):
        if not any(s["start"] < m.end() and m.start() < s["end"] for s in note["spans"]):
            return True
    return False


def test_deterministic():
    a = BC.generate(40, seed=5)
    b = BC.generate(40, seed=5)
    assert a == b
    assert a != BC.generate(40, seed=6)
    assert [n["text"] for n in BC.generate(10, seed=5)] == [n["text"] for n in a[:10]]


def test_record_shape_and_spans_valid_and_stripped(notes):
    seen_ids = set()
    for n in notes:
        assert set(n) >= {"id", "text", "spans", "template", "part"}
        assert n["id"] not in seen_ids
        seen_ids.add(n["id"])
        prev_end = -1
        for s in n["spans"]:
            assert s["type"] in BC.TYPES
            assert 0 <= s["start"] < s["end"] <= len(n["text"])
            assert s["start"] >= prev_end, (n["id"], s)  # sorted, no overlaps
            prev_end = s["end"]
            val = n["text"][s["start"] : s["end"]]
            assert val == val.strip(), (n["id"], val)
            core = val[1:] if s["type"] == "PHONE" and re.match(r"\(\d{3}\)", val) else val  # (617) 555-0134
            assert core.strip(" \t\n.,;:()[]\"'-/#@") == core, (n["id"], val)


def test_every_note_is_one_part_and_parts_follow_template_numbers(notes):
    for n in notes:
        assert n["part"] in ("dev", "heldout")
        assert n["template"] == n["templates"][0]
        for num in n["templates"]:
            assert BC.part_of(num) == n["part"]
            assert ("heldout" if num % 3 == 0 else "dev") == n["part"]
    parts = {n["part"] for n in notes}
    assert parts == {"dev", "heldout"}


def test_template_families():
    nums = [t[0] for t in BC.TEMPLATES]
    assert len(set(nums)) == len(nums) >= 30
    for part in ("dev", "heldout"):
        slots = {t[1] for t in BC.TEMPLATES if BC.part_of(t[0]) == part}
        assert slots == {"head", "body", "tail"}


def test_every_family_used(notes):
    used = {num for n in notes for num in n["templates"]}
    assert used == {t[0] for t in BC.TEMPLATES}


def test_forced_part():
    for part in ("dev", "heldout"):
        assert {n["part"] for n in BC.generate(30, seed=2, part=part)} == {part}


def test_distractors_occur_outside_gold(notes):
    distractors = [
        r"\bwill\b",
        r"\bmay\b",
        r"\bhope\b",
        r"\bmark\b",
        r"\bfrank\b",
        r"\bgrant\b",
        r"\brose\b",
        r"\bbill\b",
        r"\bfoley\b",
        r"swan-ganz",
        r"\bdobhoff\b",
        r"parkinson's",
        r"\bhickman\b",
        r"\bglasgow\b",
        r"\bMICU\b",
        r"\bCCU\b",
        r"\b7/10\b",
        r"\b4/5\b",
        r"\bPS 10/5\b",
        r"\b2/2\b",
        r"\bHR 80-90s\b",
        r"\bBP 110/60\b",
        r"\bRR 12-20\b",
        r"\b2-3L NC\b",
        r"\b30-50cc/hr\b",
        r"\b(Monday|Tuesday|Wednesday|Friday)\b",
        r"\b(19|20)\d\d\b",
    ]
    for pat in distractors:
        assert any(_outside_gold(n, pat) for n in notes), pat


def test_titles_and_credentials_never_inside_names(notes):
    bad = re.compile(
        r"^(dr|drs|mr|mrs|ms|miss|fr|rev|atty|np|rn|md|resident|intern|fellow|nurse)\b\.?|"
        r"\b(md|rn|np|bsn|dr|sn)\.?$|'s$|\b(daughter|dtr|son|wife|husband|sister|brother|hcp)\b",
        re.IGNORECASE,
    )
    n_names = 0
    for n in notes:
        for s in n["spans"]:
            if s["type"] == "NAME":
                n_names += 1
                val = n["text"][s["start"] : s["end"]]
                assert not bad.search(val), (n["id"], val)
    assert n_names > 1000


def test_ages_and_realism(notes):
    types = {s["type"] for n in notes for s in n["spans"]}
    assert {"NAME", "DATE", "LOCATION", "PHONE", "AGE_90", "MRN", "ADDRESS", "ZIP"} <= types
    for n in notes:
        for s in n["spans"]:
            val = n["text"][s["start"] : s["end"]]
            if s["type"] == "AGE_90":
                assert val.isdigit() and int(val) >= 90
            assert not (s["type"] == "DATE" and re.fullmatch(r"(19|20)\d\d", val))
    texts = " ".join(n["text"] for n in notes)
    assert any(n["text"] == n["text"].lower() for n in notes)  # all-lower-case notes
    assert "pager" in texts.lower()
    assert any(w in texts for w in ("Florida", "NH", "Haiti", "Vietnam"))  # states/countries, not gold


def test_cli(tmp_path):
    out = tmp_path / "b.jsonl"
    assert BC.main(["--notes", "12", "--seed", "4", "--output", str(out), "--part", "heldout"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 12 and {r["part"] for r in rows} == {"heldout"}
    assert rows == BC.generate(12, seed=4, part="heldout")
