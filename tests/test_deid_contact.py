"""Telephone and fax numbers, e-mail addresses, URLs and IP addresses (Safe-Harbor identifiers D,
E, F, N, O): US and international formats; vital signs and lab values stay."""

from __future__ import annotations

import pytest
from deid_helpers import found, typed

from clinical.deid.recognizers import ClinicalPhoneRecognizer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call (617) 555-0123", ["(617) 555-0123"]),
        ("fax 617.555.0199", ["617.555.0199"]),
        ("cell 617-555-0123 x12", ["617-555-0123 x12"]),
        ("+1 617 555 0123", ["+1 617 555 0123"]),
        ("Phone: 6175550123", ["6175550123"]),
        ("reach me on +44 20 7946 0958", ["+44 20 7946 0958"]),
        ("messages to 024 971 50 30 please", ["024 971 50 30"]),
        ("call me on 01.84.17.61.18?", ["01.84.17.61.18"]),
        ("+46 (0)8 928 571 38 fax", ["+46 (0)8 928 571 38"]),
        ("Pager: 4471 2290", ["4471 2290"]),
        ("Can someone call me on 450 0840? Thanks", ["450 0840"]),
        ("call wife at 9472 7916 with updates", ["9472 7916"]),
        ("They're not answering at 99 668472", ["99 668472"]),
        ("call him back if status changes, # 555-8812.", ["555-8812"]),
        ("Pager #3345 for Dr. Tran. Beeper 1234.", ["3345", "1234"]),
        ("call ext 4-1234 or x51234", ["4-1234", "51234"]),
        ("Pager #4-5321 for Dr. Lake; call the resident at x2345", ["4-5321", "2345"]),
        ("SW James following, x9309.", ["9309"]),
        ("signed lauren p# 78327; (p78342); pagr 72554; page at #75579", ["78327", "78342", "72554", "75579"]),
        ("Blood bank x9-6102 called; Blood bank x2461 notified", ["9-6102", "2461"]),
        # a doubled x; the number in brackets after "paged"
        ("Jen Li, LICSW xx4-1986\nM. Tran, LCSW xx10913", ["4-1986", "10913"]),
        ("DR. COSTA paged (16431) and at bedside; vu paged (7-5437)", ["16431", "7-5437"]),
        ("RN CM, x 92470; PharmD  x 1507; page 62191 for needs; on call 8-3805.", ["92470", "1507", "62191", "8-3805"]),
        ("Will f/u on Mon. RD x339-927-9564\n", ["339-927-9564"]),
        (
            "home 8575772505, work 617 989 4391\nH: 7742032005, hm 4014586061",
            ["8575772505", "617 989 4391", "7742032005", "4014586061"],
        ),
    ],
)
def test_phone_recognizer_finds(text, expected):
    assert found(ClinicalPhoneRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "BP 120/80, HR 88, 2019-02-12",
        "SSN 432-56-7891",
        "Strength 5 5 5 5 in all four limbs",
        "platelets 150,000/uL and WBC 12.5",
        "called at 1430, paged 2/12 re: K 3.2",
        "call if SBP < 90 or HR > 120, reach 1000 ml goal",
        "NS bolus x1000, then x2 doses",
        "lasix x2 given, paged (2nd time) and xx at 0400",
        "NS 500 at home 2x; home O2 2L; work 40 hrs/wk",
        "NS bolus x 1000; lasix 40 x 2; repeat x 2 doses; wbc x 1000",
    ],
)
def test_phone_recognizer_keeps_clinical_numbers(text):
    assert found(ClinicalPhoneRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Call (617) 555-0123 or fax 617.555.0199.",
            [("(617) 555-0123", "PHONE_NUMBER"), ("617.555.0199", "PHONE_NUMBER")],
        ),
        ("Email jane.doe@example.com.", [("jane.doe@example.com", "EMAIL_ADDRESS")]),
        ("Portal https://portal.mercyhealth.org/u/81579 today", [("https://portal.mercyhealth.org/u/81579", "URL")]),
        ("IP 192.168.1.10 logged.", [("192.168.1.10", "IP_ADDRESS")]),
        ("Device logged in from 10.2.33.4 overnight.", [("10.2.33.4", "IP_ADDRESS")]),
        (
            "Office 212 555 0148,2125550148-Fax",
            [("212 555 0148", "PHONE_NUMBER"), ("2125550148", "PHONE_NUMBER")],
        ),
    ],
)
def test_engine_finds_contact_identifiers(deid, text, expected):
    assert typed(text, deid.detect(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call (617) 555-0123.", "Call [PHONE]."),
        ("Email jane.doe@example.com.", "Email [EMAIL]."),
        ("IP 192.168.1.10 logged.", "IP [IP] logged."),
    ],
)
def test_safe_harbor_contact_placeholders(deid, text, expected):
    assert deid.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Portal https://portal.mercyhealth.org/u/81579 today; see www.example.com and 'http://x.io/a'",
        "seen by Dr.Smith; e.g. p.o. meds; Fig.2 shows; approx.the same; mychart.example.org/login",
        "BP 120/80, no url here. K 3.6, Mg 1.8 repleted.",
    ],
)
def test_prefiltered_url_recognizer_gives_presidios_results(text):
    from presidio_analyzer.predefined_recognizers import UrlRecognizer

    from clinical.deid.recognizers import PrefilteredUrlRecognizer

    ours = [(r.start, r.end, r.score) for r in PrefilteredUrlRecognizer().analyze(text, ["URL"])]
    assert ours == [(r.start, r.end, r.score) for r in UrlRecognizer().analyze(text, ["URL"])]
    assert ("http" in text) <= bool(ours)
