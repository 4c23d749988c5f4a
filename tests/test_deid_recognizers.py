"""Pattern recognizers on their own (no spaCy): one table row per case, as presidio tests them."""

from __future__ import annotations

import presidio_analyzer.predefined_recognizers as presidio_predefined
import pytest

from clinical.deid.engine import PLACEHOLDERS, SAFE_HARBOR_ENTITIES, PhiSpan, merge_spans
from clinical.deid.recognizers import (
    PATTERN_RECOGNIZERS,
    SAFE_HARBOR_COVERAGE,
    SAFE_HARBOR_GAPS,
    AccountNumberRecognizer,
    AgeOver89Recognizer,
    ClinicalDateRecognizer,
    ClinicalPhoneRecognizer,
    DeviceIdRecognizer,
    HealthPlanNumberRecognizer,
    LabelledAddressRecognizer,
    LabelledNameRecognizer,
    LicenseNumberRecognizer,
    MedicalRecordNumberRecognizer,
    StreetAddressRecognizer,
    UniqueIdRecognizer,
    VehicleIdRecognizer,
    ZipCodeRecognizer,
    is_clinical_term,
)

THRESHOLD = 0.4


def found(recognizer_cls, text: str) -> list[str]:
    """Texts of the matches at or above the policy threshold, overlaps merged (no context words)."""
    recognizer = recognizer_cls()
    results = recognizer.analyze(text, entities=[recognizer_cls.ENTITY], nlp_artifacts=None)
    spans = merge_spans(PhiSpan(r.start, r.end, r.entity_type, r.score) for r in results if r.score >= THRESHOLD)
    return [text[s.start : s.end] for s in spans]


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (MedicalRecordNumberRecognizer, "MRN: 00123456", ["00123456"]),
        (MedicalRecordNumberRecognizer, "MRN 00123456 admitted", ["00123456"]),
        (MedicalRecordNumberRecognizer, "medical record number 4455123", ["4455123"]),
        (MedicalRecordNumberRecognizer, "record # 98765", ["98765"]),
        (MedicalRecordNumberRecognizer, "MR#12345678", ["12345678"]),
        (MedicalRecordNumberRecognizer, "Patient ID: AB123456", ["AB123456"]),
        (UniqueIdRecognizer, "ref 12345678 on file", ["12345678"]),
        (UniqueIdRecognizer, "card 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        (ClinicalDateRecognizer, "seen 02/12/2019", ["02/12/2019"]),
        (ClinicalDateRecognizer, "seen on 2/12 for follow-up", ["2/12"]),
        (ClinicalDateRecognizer, "CT 2019-02-12 showed", ["2019-02-12"]),
        (ClinicalDateRecognizer, "admitted Feb 12, 2019", ["Feb 12, 2019"]),
        (ClinicalDateRecognizer, "biopsy 12-Feb-2019", ["12-Feb-2019"]),
        (ClinicalDateRecognizer, "returns February 12th", ["February 12th"]),
        (ClinicalDateRecognizer, "in November 2000 because", ["November 2000"]),
        (ClinicalDateRecognizer, "drawn 02/12/2019 14:30 fasting", ["02/12/2019 14:30"]),
        (ClinicalDateRecognizer, "at 2019-02-12T08:15:00", ["2019-02-12T08:15:00"]),
        (ClinicalDateRecognizer, "on 12 March 2018 at 9:05 pm", ["12 March 2018 at 9:05 pm"]),
        (ClinicalDateRecognizer, "DOB: 3/4/56", ["3/4/56"]),
        (ClinicalDateRecognizer, "dated 25.12.2019", ["25.12.2019"]),
        (AgeOver89Recognizer, "a 93-year-old man", ["93"]),
        (AgeOver89Recognizer, "92 year old woman", ["92"]),
        (AgeOver89Recognizer, "aged 95, lives alone", ["95"]),
        (AgeOver89Recognizer, "91 y/o F", ["91"]),
        (AgeOver89Recognizer, "101 yo M", ["101"]),
        (AgeOver89Recognizer, "a woman in her 90s", ["90s"]),
        (ClinicalPhoneRecognizer, "call (617) 555-0123", ["(617) 555-0123"]),
        (ClinicalPhoneRecognizer, "fax 617.555.0199", ["617.555.0199"]),
        (ClinicalPhoneRecognizer, "cell 617-555-0123 x12", ["617-555-0123 x12"]),
        (ClinicalPhoneRecognizer, "+1 617 555 0123", ["+1 617 555 0123"]),
        (ClinicalPhoneRecognizer, "Phone: 6175550123", ["6175550123"]),
        (ClinicalPhoneRecognizer, "reach me on +44 20 7946 0958", ["+44 20 7946 0958"]),
        (ZipCodeRecognizer, "Boston, MA 02115", ["02115"]),
        (ZipCodeRecognizer, "Austin, Texas 78701-1234", ["78701-1234"]),
        (ZipCodeRecognizer, "ZIP: 60614", ["60614"]),
        (ZipCodeRecognizer, "zip code 94110", ["94110"]),
        (StreetAddressRecognizer, "lives at 12 Main St with", ["12 Main St"]),
        (StreetAddressRecognizer, "1600 Pennsylvania Avenue", ["1600 Pennsylvania Avenue"]),
        (StreetAddressRecognizer, "42 West Elm Road, Apt 4B", ["42 West Elm Road, Apt 4B"]),
        (StreetAddressRecognizer, "at 350 Sunset Blvd.", ["350 Sunset Blvd."]),
        (StreetAddressRecognizer, "P.O. Box 1234", ["P.O. Box 1234"]),
        (StreetAddressRecognizer, "Loorenstrasse 149", ["Loorenstrasse 149"]),
        (HealthPlanNumberRecognizer, "member ID: XYZ123456", ["XYZ123456"]),
        (HealthPlanNumberRecognizer, "Medicaid # 12345678A", ["12345678A"]),
        (HealthPlanNumberRecognizer, "policy number 7788-9900", ["7788-9900"]),
        (HealthPlanNumberRecognizer, "MBI 1EG4-TE5-MK73", ["1EG4-TE5-MK73"]),
        (AccountNumberRecognizer, "acct # 99887766", ["99887766"]),
        (AccountNumberRecognizer, "account number: 000123-45", ["000123-45"]),
        (LicenseNumberRecognizer, "license no. D1234567", ["D1234567"]),
        (LicenseNumberRecognizer, "DEA AB1234563", ["AB1234563"]),
        (LicenseNumberRecognizer, "certificate #77812", ["77812"]),
        (VehicleIdRecognizer, "VIN 1HGCM82633A004352", ["1HGCM82633A004352"]),
        (VehicleIdRecognizer, "license plate 7ABC123", ["7ABC123"]),
        (DeviceIdRecognizer, "pacemaker serial number SN-88213", ["SN-88213"]),
        (DeviceIdRecognizer, "UDI: 00844588003288", ["00844588003288"]),
    ],
)
def test_recognizer_finds(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    ("recognizer_cls", "text"),
    [
        (MedicalRecordNumberRecognizer, "Metformin 500 mg PO BID"),
        (UniqueIdRecognizer, "platelets 150,000/uL and WBC 12.5"),
        (UniqueIdRecognizer, "version 1.2345678 and 2019-02-12"),
        (ClinicalDateRecognizer, "Strength 4/5 in all extremities"),
        (ClinicalDateRecognizer, "pain 7/10, BP 120/80"),
        (ClinicalDateRecognizer, "visual acuity 6/18 and 6/9"),
        (ClinicalDateRecognizer, "diagnosed in 1995"),
        (ClinicalDateRecognizer, "may 5 mg be given"),
        (ClinicalDateRecognizer, "values 16/22/15"),
        (ClinicalDateRecognizer, "HbA1c 7.2%"),
        (AgeOver89Recognizer, "a 74-year-old man"),
        (AgeOver89Recognizer, "HR 95 bpm"),
        (AgeOver89Recognizer, "SpO2 92% on room air"),
        (ClinicalPhoneRecognizer, "BP 120/80, HR 88, 2019-02-12"),
        (ClinicalPhoneRecognizer, "SSN 432-56-7891"),
        (ZipCodeRecognizer, "platelets 15000 today"),
        (StreetAddressRecognizer, "took 2 tablets by mouth"),
        (StreetAddressRecognizer, "Metformin 500 mg PO BID"),
        (HealthPlanNumberRecognizer, "plan to start insulin"),
        (AccountNumberRecognizer, "on account of 3 episodes"),
        (LicenseNumberRecognizer, "licensed practical nurse"),
        (VehicleIdRecognizer, "platelet count 52 x 10^9/L"),
        (DeviceIdRecognizer, "SNOMED concept"),
    ],
)
def test_recognizer_keeps_clinical_text(recognizer_cls, text):
    assert found(recognizer_cls, text) == []


@pytest.mark.parametrize(
    ("text", "clinical"),
    [
        ("Metformin", True),
        ("Lisinopril", True),
        ("Crohn's", True),
        ("Parkinson", True),
        ("BID", True),
        ("DOB", True),
        ("HbA1c", True),
        ("atorvastatin", True),
        ("pembrolizumab", True),
        ("Maria Gonzalez", False),
        ("John Smith", False),
        ("Springfield", False),
    ],
)
def test_is_clinical_term(text, clinical):
    assert is_clinical_term(text) is clinical


def test_safe_harbor_table_lists_all_18_identifiers():
    assert len(SAFE_HARBOR_COVERAGE) == 18
    covered = {e for entities in SAFE_HARBOR_COVERAGE.values() for e in entities}
    assert covered <= set(SAFE_HARBOR_ENTITIES)
    assert set(SAFE_HARBOR_ENTITIES) <= set(PLACEHOLDERS)
    not_covered = [name for name, entities in SAFE_HARBOR_COVERAGE.items() if not entities]
    assert not_covered and all(name in SAFE_HARBOR_GAPS for name in not_covered)


def test_class_names_do_not_shadow_presidio_recognizers():
    # presidio's registry loader finds recognizer classes by name among all subclasses: a clash
    # breaks every default AnalyzerEngine built in the same process.
    ours = {cls.__name__ for cls in PATTERN_RECOGNIZERS} | {"ClinicalNerRecognizer", "ClinicalPatternRecognizer"}
    assert not ours & set(dir(presidio_predefined))


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (LabelledNameRecognizer, "Patient: Lee, Lisa    MRN: 123", ["Lee, Lisa"]),
        (LabelledNameRecognizer, "Attending: Dr. Joseph\n\nLisa was seen", ["Joseph"]),
        (LabelledNameRecognizer, "Electronically signed by Dr. Mcdowell, MD on", ["Mcdowell"]),
        (LabelledNameRecognizer, "Patient name: Ann-Marie O'Neil\nDOB", ["Ann-Marie O'Neil"]),
        (LabelledNameRecognizer, "seen with Mrs. Wade today", ["Wade"]),
        (LabelledNameRecognizer, "Emergency contact: Tom Baker (son)", ["Tom Baker"]),
        (LabelledNameRecognizer, "Patient: denies chest pain", []),
        (LabelledNameRecognizer, "Dr. visit scheduled", []),
        (
            LabelledAddressRecognizer,
            "Address: 6984 Price Shoals, Erictown, KS 66123\nPhone",
            ["6984 Price Shoals, Erictown, KS 66123"],
        ),
        (LabelledAddressRecognizer, "Home address:  12 Rue de la Paix, Paris", ["12 Rue de la Paix, Paris"]),
        (LabelledAddressRecognizer, "No fixed address.", []),
    ],
)
def test_labelled_fields(recognizer_cls, text: str, expected: list[str]) -> None:
    assert found(recognizer_cls, text) == expected
