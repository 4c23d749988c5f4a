"""Numbers and codes (Safe-Harbor identifiers G-M and R): SSN, medical record, health-plan, account,
certificate/licence, vehicle and device numbers, and any other labelled unique identifier."""

from __future__ import annotations

import pytest
from deid_helpers import found, typed

from clinical.deid.recognizers import (
    AccountNumberRecognizer,
    AnyCaseIbanRecognizer,
    DeviceIdRecognizer,
    HealthPlanNumberRecognizer,
    LabelledIdRecognizer,
    LicenseNumberRecognizer,
    MedicalRecordNumberRecognizer,
    UniqueIdRecognizer,
    VehicleIdRecognizer,
)


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
        (UniqueIdRecognizer, "ins Tufts HP # A675938649. BCBS id B22329426", ["A675938649", "B22329426"]),
        (
            UniqueIdRecognizer,
            "incident report # ir-820186; JOB#: IR-154495; MassHealth #1VF4-VD1-LU20",
            ["ir-820186", "IR-154495", "1VF4-VD1-LU20"],
        ),
        (LabelledIdRecognizer, "GB JOB#: 1260-1789\nsz job#: 5787-1912", ["1260-1789", "5787-1912"]),
        (UniqueIdRecognizer, "ME notified - case 15415708, declined; 1,234,567 cells", ["15415708"]),
        (LabelledIdRecognizer, "Specimen accession no. S5232714.", ["S5232714"]),
        (LabelledIdRecognizer, "reference number is 55-1234", ["55-1234"]),
        (LabelledIdRecognizer, "badge #A7731 at the desk", ["A7731"]),
        (LabelledIdRecognizer, "Employee ID: 7731-AX", ["7731-AX"]),
        (HealthPlanNumberRecognizer, "member ID: XYZ123456", ["XYZ123456"]),
        (HealthPlanNumberRecognizer, "Medicaid # 12345678A", ["12345678A"]),
        (HealthPlanNumberRecognizer, "Insurance: MassHealth ID 5XD3-TY4-ZS38", ["5XD3-TY4-ZS38"]),
        (DeviceIdRecognizer, "Implant: 3605-47L7 (lot 7731), sticker in chart", ["3605-47L7"]),
        (HealthPlanNumberRecognizer, "policy number 7788-9900", ["7788-9900"]),
        (HealthPlanNumberRecognizer, "MBI 1EG4-TE5-MK73", ["1EG4-TE5-MK73"]),
        (AccountNumberRecognizer, "acct # 99887766", ["99887766"]),
        (AccountNumberRecognizer, "account number: 000123-45", ["000123-45"]),
        (LicenseNumberRecognizer, "license no. D1234567", ["D1234567"]),
        (LicenseNumberRecognizer, "My driver's license number is F162823540116", ["F162823540116"]),
        (LicenseNumberRecognizer, "DEA AB1234563", ["AB1234563"]),
        (LicenseNumberRecognizer, "certificate #77812", ["77812"]),
        (VehicleIdRecognizer, "VIN 1HGCM82633A004352", ["1HGCM82633A004352"]),
        (VehicleIdRecognizer, "license plate 7ABC123", ["7ABC123"]),
        (VehicleIdRecognizer, "car w/ plate 7AF 611 in garage level 3", ["7AF 611"]),
        (VehicleIdRecognizer, "car VIN 1HGZG68926N813785, plate 1EE728.", ["1HGZG68926N813785", "1EE728"]),
        (AnyCaseIbanRecognizer, "my iban is de89370400440532013000 ok", ["de89370400440532013000"]),
        (AnyCaseIbanRecognizer, "IBAN gb82 west 1234 5698 7654 32.", ["gb82 west 1234 5698 7654 32"]),
        (DeviceIdRecognizer, "pacemaker serial number SN-88213", ["SN-88213"]),
        (DeviceIdRecognizer, "Pacemaker S/N: PJN643674 interrogated", ["PJN643674"]),
        (DeviceIdRecognizer, "UDI: 00844588003288", ["00844588003288"]),
    ],
)
def test_recognizer_finds_ids(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    ("recognizer_cls", "text"),
    [
        (MedicalRecordNumberRecognizer, "Metformin 500 mg PO BID"),
        (UniqueIdRecognizer, "platelets 150,000/uL and WBC 12.5"),
        (UniqueIdRecognizer, "version 1.2345678 and 2019-02-12"),
        (UniqueIdRecognizer, "vitamin B12 and D3, HbA1c 7.2, COVID19, SpO2 95%"),
        (UniqueIdRecognizer, "PS #2 tab; room #12; COVID-19; SARS-CoV-2; bed #3"),
        (LabelledIdRecognizer, "number of episodes 3, ID negative"),
        (LabelledIdRecognizer, "ICD code: E11.9"),
        (HealthPlanNumberRecognizer, "plan to start insulin"),
        (AccountNumberRecognizer, "on account of 3 episodes"),
        (LicenseNumberRecognizer, "licensed practical nurse"),
        (VehicleIdRecognizer, "platelet count 52 x 10^9/L"),
        (DeviceIdRecognizer, "SNOMED concept"),
        (AnyCaseIbanRecognizer, "gb82west12345698765433 fails its check digits; ab12cdef34567890123 too"),
    ],
)
def test_recognizer_keeps_clinical_text(recognizer_cls, text):
    assert found(recognizer_cls, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MRN 00123456", [("00123456", "MEDICAL_RECORD_NUMBER")]),
        ("SSN 432-56-7891.", [("432-56-7891", "US_SSN")]),
        ("member ID: XYZ123456", [("XYZ123456", "HEALTH_PLAN_NUMBER")]),
        ("billing acct # 1298470766.", [("1298470766", "ACCOUNT_NUMBER")]),
        ("license no. RN5563538", [("RN5563538", "LICENSE_NUMBER")]),
    ],
)
def test_engine_finds_ids(deid, text, expected):
    assert typed(text, deid.detect(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MRN 00123456, SSN 432-56-7891.", "MRN [MRN], SSN [SSN]."),
        ("VIN 1HGCM82633A004352", "VIN [VEHICLE]"),
        ("UDI: 00844588003288", "UDI: [DEVICE]"),
    ],
)
def test_safe_harbor_id_placeholders(deid, text, expected):
    assert deid.redact(text) == expected
