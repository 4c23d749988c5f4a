"""The de-identification engine end to end (spaCy loaded once per session)."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import fields

import pytest

from clinical.deid import PLACEHOLDERS, Deidentifier, DeidPolicy, PhiSpan, get_deidentifier, merge_spans

# Gold types of presidio-research's synthetic set that Safe Harbor asks for and the policy covers.
SYNTH_TYPES = {
    "PERSON",
    "STREET_ADDRESS",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "US_SSN",
    "IP_ADDRESS",
    "DOMAIN_NAME",
    "CREDIT_CARD",
    "IBAN_CODE",
    "ZIP_CODE",
    "DATE_TIME",
}
# A bare year or weekday is not an identifier under Safe Harbor: count only dates with a day or month.
_DAY_LEVEL_DATE = re.compile(r"\d+\s*[/.-]\s*\d+|[A-Za-z]{3,}\.?\s+\d|\d\s+[A-Za-z]{3,}")
SYNTH_RECALL_FLOOR = 0.67  # measured 0.696 (1,905 spans) with en_core_web_sm 3.8.0
SYNTH_PATTERN_TYPES_FLOOR = 0.95  # email, SSN, IP, URL, credit card, IBAN: measured 0.95-1.0


@pytest.fixture(scope="session")
def deid() -> Deidentifier:
    return get_deidentifier()


def typed(text: str, spans: list[PhiSpan]) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.type) for s in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DOB: 02/12/1931", [("02/12/1931", "DATE")]),
        ("MRN 00123456", [("00123456", "MEDICAL_RECORD_NUMBER")]),
        ("Seen by Dr. John Smith today.", [("John Smith", "PERSON")]),
        (
            "Lives at 12 Main St, Boston, MA 02115.",
            [("12 Main St", "STREET_ADDRESS"), ("Boston", "LOCATION"), ("02115", "ZIP_CODE")],
        ),
        (
            "Call (617) 555-0123 or fax 617.555.0199.",
            [("(617) 555-0123", "PHONE_NUMBER"), ("617.555.0199", "PHONE_NUMBER")],
        ),
        ("A 93-year-old woman.", [("93", "AGE_OVER_89")]),
        ("Email jane.doe@example.com.", [("jane.doe@example.com", "EMAIL_ADDRESS")]),
        ("SSN 432-56-7891.", [("432-56-7891", "US_SSN")]),
        ("IP 192.168.1.10 logged.", [("192.168.1.10", "IP_ADDRESS")]),
        ("member ID: XYZ123456", [("XYZ123456", "HEALTH_PLAN_NUMBER")]),
        ("Admitted on Feb 12, 2019 at 14:30.", [("Feb 12, 2019 at 14:30", "DATE")]),
    ],
)
def test_detect_finds_identifiers(deid, text, expected):
    assert typed(text, deid.detect(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Metformin 500 mg PO BID",
        "History of Parkinson disease.",
        "Parkinson's disease with tremor.",
        "Crohn's disease, on infliximab.",
        "HbA1c 7.2%",
        "Lisinopril 10 mg daily and Eliquis 5 mg BID.",
        "Lasix 40 mg IV q6h PRN for edema.",
        "Hashimoto thyroiditis and Cushing syndrome.",
        "Strength 4/5 in all extremities, pain 7/10.",
        "Warfarin, Coumadin, atorvastatin 40 mg at bedtime.",
        "EF 55%, LA dilated, ST elevation in V2.",
        "Gram, Ziehl-Neelsen staining negative; Epstein-Barr virus serology negative.",
        "The patient was diagnosed with nephrotic syndrome in 1995.",
    ],
)
def test_detect_keeps_clinical_text(deid, text):
    assert typed(text, deid.detect(text)) == []


def test_dob_label_survives_redaction(deid):
    text = "DOB: 02/12/1931. Metformin 500 mg PO BID."
    assert deid.redact(text) == "DOB: [DATE 1931]. Metformin 500 mg PO BID."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen 02/12/2019 by John Smith.", "Seen [DATE 2019] by [NAME]."),
        ("Seen on 2/12.", "Seen on [DATE]."),
        ("MRN 00123456, phone (617) 555-0123.", "MRN [MRN], phone [PHONE]."),
        ("12 Main St, Boston, MA 02115", "[ADDRESS], [LOCATION], MA [ZIP 021]"),
        ("A 93-year-old man.", "A [AGE 90+]-year-old man."),
    ],
)
def test_redact_uses_typed_placeholders(deid, text, expected):
    assert deid.redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Dates: every element but the year goes; the year stays in the placeholder.
        ("DOB: 02/12/1931", "DOB: [DATE 1931]"),
        ("Admitted on Feb 12, 2019 at 14:30.", "Admitted on [DATE 2019]."),
        ("Biopsy 12-Feb-2019.", "Biopsy [DATE 2019]."),
        ("Seen on 2/12.", "Seen on [DATE]."),
        # Ages over 89 are aggregated into one category; younger ages stay.
        ("A 93-year-old woman.", "A [AGE 90+]-year-old woman."),
        ("aged 101, lives alone", "aged [AGE 90+], lives alone"),
        ("A 67-year-old man.", "A 67-year-old man."),
        # ZIP codes keep their first three digits, or 000 for the 17 restricted prefixes.
        ("Boston, MA 02115", "[LOCATION], MA [ZIP 021]"),
        ("ZIP: 60614", "ZIP: [ZIP 606]"),
        ("Austin, Texas 78701-1234", "[LOCATION], Texas [ZIP 787]"),
        ("ZIP: 03601", "ZIP: [ZIP 000]"),
        ("ZIP: 05901", "ZIP: [ZIP 000]"),
        ("ZIP: 69201", "ZIP: [ZIP 000]"),
        ("ZIP: 89301", "ZIP: [ZIP 000]"),
        ("ZIP: 82101", "ZIP: [ZIP 000]"),
        ("ZIP: 89001", "ZIP: [ZIP 000]"),
    ],
)
def test_safe_harbor_output_rules(deid, text, expected):
    assert deid.redact(text) == expected


def test_restricted_zip_prefixes_are_the_census_seventeen():
    from clinical.deid.engine import RESTRICTED_ZIP3

    assert len(RESTRICTED_ZIP3) == 17
    assert {"036", "059", "063", "102", "203", "556", "692", "790", "821"} <= RESTRICTED_ZIP3
    assert {"823", "830", "831", "878", "879", "884", "890", "893"} <= RESTRICTED_ZIP3


def test_other_policies_keep_the_plain_zip_placeholder():
    only_zip = get_deidentifier(DeidPolicy(name="zip_only", entities=("ZIP_CODE",)))
    assert only_zip.redact("ZIP: 60614") == "ZIP: [ZIP]"


def test_spans_are_sorted_merged_offsets(deid):
    text = "John Smith, MRN 00123456, seen 2019-02-12 at 12 Main St, fax 617-555-0199, zip 02115."
    spans = deid.detect(text)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(0 <= a.start < a.end <= len(text) for a in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    assert {f.name for f in fields(PhiSpan)} == {"start", "end", "type", "score"}
    assert all(s.type in PLACEHOLDERS for s in spans)


def test_deidentify_and_detect_many_agree(deid):
    texts = ["Seen by John Smith on 02/12/2019.", "", "Metformin 500 mg PO BID.", "MRN 00123456"]
    many = deid.detect_many(texts)
    assert many == [deid.detect(t) for t in texts]
    result = deid.deidentify(texts[0])
    assert result.spans == many[0]
    assert result.text == "Seen by [NAME] on [DATE 2019]."


def test_long_text_is_windowed(deid):
    text = ("Metformin 500 mg PO BID. " * 5000) + "MRN 00123456"
    spans = deid.detect(text)
    assert typed(text, spans) == [("00123456", "MEDICAL_RECORD_NUMBER")]


def test_errors_and_logs_never_hold_note_text(deid, caplog):
    with pytest.raises(TypeError) as error:
        deid.detect(b"MRN 00123456")
    assert "00123456" not in str(error.value)
    with caplog.at_level(logging.DEBUG):
        deid.detect("Seen by John Smith, MRN 00123456.")
    assert "00123456" not in caplog.text and "John Smith" not in caplog.text
    with pytest.raises(ValueError) as error:
        deid.redact("MRN 00123456", [PhiSpan(4, 99, "MEDICAL_RECORD_NUMBER", 1.0)])
    assert "00123456" not in str(error.value)


def test_policy_fingerprint_is_a_stable_content_hash():
    policy = DeidPolicy()
    assert policy.fingerprint() == DeidPolicy().fingerprint()
    assert len(policy.fingerprint()) == 64
    assert policy.fingerprint() != DeidPolicy(score_threshold=0.5).fingerprint()
    assert json.loads(json.dumps(policy.as_dict()))["name"] == "safe_harbor"
    assert policy.as_dict()["version"] == "0.3.0"


def test_get_deidentifier_is_cached_per_policy(deid):
    assert get_deidentifier() is deid
    assert get_deidentifier(DeidPolicy()) is deid


def test_policy_entities_limit_output():
    policy = DeidPolicy(name="dates_only", entities=("DATE",))
    only_dates = get_deidentifier(policy)
    text = "John Smith seen 02/12/2019, MRN 00123456."
    assert typed(text, only_dates.detect(text)) == [("02/12/2019", "DATE")]
    assert only_dates.redact(text) == "John Smith seen [DATE], MRN 00123456."


def test_merge_spans_keeps_the_higher_scoring_type():
    spans = [PhiSpan(5, 10, "ZIP_CODE", 0.4), PhiSpan(0, 8, "DATE", 0.9), PhiSpan(20, 25, "PERSON", 0.85)]
    assert merge_spans(spans) == [PhiSpan(0, 10, "DATE", 0.9), PhiSpan(20, 25, "PERSON", 0.85)]


def test_recall_on_presidio_synthetic_set(deid, shared_data):
    path = shared_data / "presidio_synth" / "synth_dataset_v2.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    records = json.loads(path.read_text(encoding="utf-8"))
    predictions = deid.detect_many([r["full_text"] for r in records])
    hits = total = pattern_hits = pattern_total = 0
    for record, spans in zip(records, predictions, strict=True):
        for gold in record["spans"]:
            kind, value = gold["entity_type"], gold["entity_value"]
            if kind not in SYNTH_TYPES or (kind == "DATE_TIME" and not _DAY_LEVEL_DATE.search(value)):
                continue
            hit = any(s.start < gold["end_position"] and gold["start_position"] < s.end for s in spans)
            hits, total = hits + hit, total + 1
            if kind in {"EMAIL_ADDRESS", "US_SSN", "IP_ADDRESS", "DOMAIN_NAME", "CREDIT_CARD", "IBAN_CODE"}:
                pattern_hits, pattern_total = pattern_hits + hit, pattern_total + 1
    assert total > 1500
    assert hits / total >= SYNTH_RECALL_FLOOR
    assert pattern_hits / pattern_total >= SYNTH_PATTERN_TYPES_FLOOR


def test_case_reports_keep_clinical_words(deid, shared_data):
    # MACCROBAT reports are published case reports: whatever is flagged there is over-redaction.
    texts = [p.read_text(encoding="utf-8") for p in sorted((shared_data / "maccrobat_dev").glob("*.txt"))]
    if not texts:
        pytest.skip("no MACCROBAT texts under ../shared/data/maccrobat_dev")
    flagged = [
        t[s.start : s.end].lower()
        for t, spans in zip(texts, deid.detect_many(texts), strict=True)
        for s in spans
        if s.type in ("PERSON", "LOCATION")
    ]
    for word in ("ataxia", "renal", "gait", "echo", "ef", "la", "st", "septum", "dysphagia"):
        assert word not in flagged
    assert len(flagged) <= 40


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Patient: Lee, Lisa    MRN: 1234567\n\nLisa was seen today. Lisa denies pain.", "Lisa"),
        ("Attending: Dr. Joseph\n\nThe plan was discussed with Joseph today.", "Joseph"),
    ],
)
def test_a_name_found_once_is_redacted_everywhere_in_the_note(deid, text, leaked):
    redacted = deid.redact(text)
    assert leaked not in redacted
    assert "was seen today" in redacted or "discussed with" in redacted


def test_name_propagation_leaves_clinical_words(deid):
    text = "Patient: Parkinson, James\nHistory of Parkinson disease on carbidopa-levodopa."
    redacted = deid.redact(text)
    assert "James" not in redacted and "Patient: Parkinson" not in redacted
    assert "History of Parkinson disease on carbidopa-levodopa" in redacted
