"""The recognizer set as a whole: the Safe-Harbor coverage table, its documentation and presidio's
registry. Each recognizer family has its own table of rows: tests/test_deid_names.py, _geo.py and
_places.py, _dates.py, _contact.py, _ids.py (docs/DEID.md maps every identifier to them)."""

from __future__ import annotations

from pathlib import Path

import presidio_analyzer.predefined_recognizers as presidio_predefined

from clinical.deid.engine import PLACEHOLDERS, SAFE_HARBOR_ENTITIES
from clinical.deid.recognizers import (
    PATTERN_RECOGNIZERS,
    PRESIDIO_RECOGNIZERS,
    SAFE_HARBOR_COVERAGE,
    SAFE_HARBOR_GAPS,
    build_recognizers,
)

ROOT = Path(__file__).resolve().parents[1]
FAMILY_TESTS = (
    "test_deid_names.py",
    "test_deid_geo.py",
    "test_deid_places.py",
    "test_deid_dates.py",
    "test_deid_contact.py",
    "test_deid_ids.py",
)


def test_safe_harbor_table_lists_all_18_identifiers():
    assert len(SAFE_HARBOR_COVERAGE) == 18
    covered = {e for entities in SAFE_HARBOR_COVERAGE.values() for e in entities}
    assert covered <= set(SAFE_HARBOR_ENTITIES)
    assert set(SAFE_HARBOR_ENTITIES) <= set(PLACEHOLDERS)
    not_covered = [name for name, entities in SAFE_HARBOR_COVERAGE.items() if not entities]
    assert not_covered and all(name in SAFE_HARBOR_GAPS for name in not_covered)


def test_every_recognizer_is_documented_and_has_a_family_test_table():
    doc = (ROOT / "docs" / "DEID.md").read_text(encoding="utf-8")
    family_sources = "\n".join((ROOT / "tests" / name).read_text(encoding="utf-8") for name in FAMILY_TESTS)
    names = {type(r).__name__ for r in build_recognizers()} - {cls.__name__ for cls in PRESIDIO_RECOGNIZERS}
    assert len(names) >= len(PATTERN_RECOGNIZERS) + 2
    assert [n for n in sorted(names) if f"`{n}`" not in doc] == []
    assert [n for n in sorted(names) if n not in family_sources and n != "ClinicalNerRecognizer"] == []
    assert all(name in doc for name in FAMILY_TESTS)


def test_class_names_do_not_shadow_presidio_recognizers():
    # presidio's registry loader finds recognizer classes by name among all subclasses: a clash
    # breaks every default AnalyzerEngine built in the same process.
    ours = {cls.__name__ for cls in PATTERN_RECOGNIZERS} | {
        "ClinicalNerRecognizer",
        "ClinicalPatternRecognizer",
        "NameLexiconRecognizer",
    }
    assert not ours & set(dir(presidio_predefined))
