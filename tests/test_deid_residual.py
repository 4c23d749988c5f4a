"""The residual-PHI scan on its own: table rows of leaks it must flag and clean text it must pass."""

from __future__ import annotations

import json

import pytest

from clinical.deid.residual import (
    RESIDUAL_SCANNER_VERSION,
    ResidualFinding,
    mask_placeholders,
    name_words,
    scan,
    scan_notes,
    summarize,
)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.kind) for f in scan(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visitor badge 482913 issued.", [("482913", "DIGIT_RUN")]),
        ("Lives in MA [ZIP 021], formerly 02115.", [("02115", "DIGIT_RUN")]),
        ("Call back at (617) 555-0123.", [("(617) 555-0123", "PHONE")]),
        ("Call back at 555-0199 tomorrow.", [("555-0199", "PHONE")]),
        ("SSN 432-56-7891 on file", [("432-56-7891", "SSN")]),
        ("wrote to jane.doe@example.com", [("jane.doe@example.com", "EMAIL")]),
        ("see https://portal.example.org/x", [("https://portal.example.org/x", "URL")]),
        ("see portal.hospital.org for results", [("portal.hospital.org", "URL")]),
        ("logged in from 10.2.33.4", [("10.2.33.4", "IP_ADDRESS")]),
        ("drawn 02/12/2019", [("02/12/2019", "DATE")]),
        ("CT 2019-02-12 showed", [("2019-02-12", "DATE")]),
        ("biopsy 12-Feb-2019", [("12-Feb", "DATE")]),
        ("returns Feb 12 for review", [("Feb 12", "DATE")]),
        ("seen on 2/12 again", [("2/12", "DATE")]),
        ("seen again on the 12th", [("on the 12th", "DATE")]),
        ("A 93-year-old woman", [("93", "AGE_OVER_89")]),
        ("discussed with Dr. Okafor today", [("Okafor", "NAME_AFTER_TITLE")]),
        ("Mrs. Wade called", [("Wade", "NAME_AFTER_TITLE")]),
        ("Patient: Ezekiel [NAME]", [("Ezekiel", "NAME_AFTER_LABEL")]),
        ("Patient: Kevin [NAME]", [("Kevin", "NAME_AFTER_LABEL"), ("Kevin", "NAME_LIST")]),
        ("MRN: A1234 on chart", [("A1234", "LABELLED_VALUE")]),
        ("DOB: 3-4-56", [("3-4-56", "DATE"), ("3-4-56", "LABELLED_VALUE")]),
        ("her son Kevin visited", [("Kevin", "NAME_LIST")]),
        ("SMITH, JOHN admitted", [("SMITH", "NAME_LIST"), ("JOHN", "NAME_LIST")]),
    ],
)
def test_scan_flags_leaks(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Patient: [NAME]    MRN: [MRN]    DOB: [DATE 1996]",
        "Address: [ADDRESS], [LOCATION], MA [ZIP 021]\nPhone: [PHONE]    Email: [EMAIL]",
        "Attending: Dr. [NAME]\n\n[NAME] was seen today.",
        "Electronically signed by Dr. [NAME], MD on [DATE 2021].",
        "A [AGE 90+]-year-old man. A 67-year-old woman.",
        "metformin 500 mg PO BID; Lasix 40 mg IV q6h PRN",
        "Labs: HbA1c 5.9%, TSH 4.06 mIU/L, WBC 8.0 K/uL, platelets 250,000/uL, BP 120/80.",
        "Strength 4/5 in all extremities, pain 7/10.",
        "History of Parkinson disease, Crohn's disease, Wilson disease and Bell's palsy.",
        "Hodgkin lymphoma in 2019; stage 3 chronic kidney disease.",
        "Moved to Virginia in May; will follow up in clinic.",
        "Empfehlung: Ibuprofen bei Bedarf, Wiedervorstellung in 3 Wochen.",
        "",
    ],
)
def test_scan_passes_clean_text(text):
    assert scan(text) == []


def test_demo_batch_after_deidentification_passes(tmp_path):
    from clinical.deid import get_deidentifier
    from clinical.demo_batch import write_demo_batch

    deid = get_deidentifier()
    batch = write_demo_batch(tmp_path / "landing", "b", count=24, seed=0)
    texts = [json.loads(line)["text"] for line in batch.path.read_text().splitlines()]
    redacted = [deid.redact(t, s) for t, s in zip(texts, deid.detect_many(texts), strict=True)]
    assert [summarize(scan(t)) for t in redacted] == [{}] * len(texts)
    # The same notes before de-identification are full of findings: the scan is not blind.
    assert all(scan(t) for t in texts)


def test_scan_notes_reports_hashes_and_counts_never_text():
    leak = "Visitor badge 482913 issued; seen again on the 12th; badge 553311."
    rows = scan_notes(
        [
            {"note_id": "n1", "text_sha256": "a" * 64, "text": leak},
            {"note_id": "n2", "text_sha256": "b" * 64, "text": "Seen by [NAME] on [DATE 2020]."},
        ]
    )
    assert rows == [
        {"note_id": "n1", "text_sha256": "a" * 64, "phi_type": "DATE", "findings": 1},
        {"note_id": "n1", "text_sha256": "a" * 64, "phi_type": "DIGIT_RUN", "findings": 2},
    ]
    assert "482913" not in json.dumps(rows)
    assert RESIDUAL_SCANNER_VERSION


def test_placeholders_are_masked_with_offsets_kept():
    text = "Seen [DATE 2019] at MA [ZIP 021] by [NAME]."
    masked = mask_placeholders(text)
    assert len(masked) == len(text) and "2019" not in masked and "021" not in masked
    assert masked.startswith("Seen ") and masked.endswith(".")


def test_name_list_is_fakers_minus_common_and_clinical_words():
    words = name_words()
    assert len(words) > 1000
    assert {"Kevin", "Okafor", "Smith"} & words == {"Kevin", "Smith"}
    assert not {"May", "Will", "Grace", "Virginia", "Parkinson"} & words


def test_errors_never_hold_note_text():
    with pytest.raises(TypeError) as error:
        scan(b"MRN 00123456")
    assert "00123456" not in str(error.value)
    assert ResidualFinding(0, 3, "DIGIT_RUN").kind == "DIGIT_RUN"
