"""Facility and town names as ICU notes write them, in any case (Safe-Harbor identifier B,
`clinical.deid.places`): facilities, saints and churches, places after transfer cues, and the town
after a place and "in"; clinical phrases ("cardiac rehab", "ST elevation", "son in law") stay."""

from __future__ import annotations

import pytest
from deid_helpers import found, leaked

from clinical.deid.places import (
    PLACE_RECOGNIZERS,
    AffiliationPlaceRecognizer,
    AnyCaseFacilityRecognizer,
    SaintPlaceRecognizer,
    TownAfterPlaceRecognizer,
    TransferPlaceRecognizer,
)


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (AnyCaseFacilityRecognizer, "at hebrew rehab in hyde park", ["hebrew rehab"]),
        (
            AnyCaseFacilityRecognizer,
            "through VNA of Cape Cod (ph 617); F/u at Riverside Cardiology",
            ["VNA of Cape Cod", "Riverside Cardiology"],
        ),
        (AnyCaseFacilityRecognizer, "arranged through Northeast Medical Supply (ph 978)", ["Northeast Medical Supply"]),
        (
            AnyCaseFacilityRecognizer,
            "HD (MWF at Fenway Community Health) 3x/week",
            ["Fenway Community Health"],
        ),
        (TransferPlaceRecognizer, "Pt is a 53 y/o M admitted from SSH on 6/27", ["SSH"]),
        (TransferPlaceRecognizer, "admitted from mount auburn on 10/10@0915", ["mount auburn"]),
        (
            TownAfterPlaceRecognizer,
            "lives in stoughton, unable to visit; pcp is dr. j. simpson in winchester.",
            ["stoughton", "winchester"],
        ),
        (AnyCaseFacilityRecognizer, "at braintree rehab in marshfield", ["braintree rehab"]),
        (AnyCaseFacilityRecognizer, "from cape cod hospital in hingham via", ["cape cod hospital"]),
        (AnyCaseFacilityRecognizer, "screening for rehab at spaulding rehab.", ["spaulding rehab"]),
        (AnyCaseFacilityRecognizer, "transferred from Harbor Point Hospital in Nantucket", ["Harbor Point Hospital"]),
        (AnyCaseFacilityRecognizer, "recent adm to pine hill nursing home 3/29", ["pine hill nursing home"]),
        (AnyCaseFacilityRecognizer, "d/c'd from hope house 1.25 for pna", ["hope house"]),
        (AnyCaseFacilityRecognizer, "at elm court in weymouth", ["elm court"]),
        (AnyCaseFacilityRecognizer, "was seen at south shore hospital 4/11", ["south shore hospital"]),
        (AnyCaseFacilityRecognizer, "adm to st. ignatius medical center 3/26", ["st. ignatius medical center"]),
        (AnyCaseFacilityRecognizer, "from Brigham and Women's Hospital", ["Brigham and Women's Hospital"]),
        (AnyCaseFacilityRecognizer, "at Atrium at Wells Crossing in Lynn", ["Atrium at Wells Crossing"]),
        (AnyCaseFacilityRecognizer, "at pinecrest general hospital in hartford", ["pinecrest general hospital"]),
        (SaintPlaceRecognizer, "from st. elizabeth's in dorchester", ["st. elizabeth's"]),
        (SaintPlaceRecognizer, "pt's priest from st. brendan's in revere", ["st. brendan's"]),
        (SaintPlaceRecognizer, "from holy family in dover", ["holy family"]),
        (SaintPlaceRecognizer, "priest from Holy Trinity in Framingham", ["Holy Trinity"]),
        (SaintPlaceRecognizer, "pastor from Our Lady of Lourdes in Chelsea", ["Our Lady of Lourdes"]),
        (SaintPlaceRecognizer, "priest from sacred heart in brockton", ["sacred heart"]),
        (TransferPlaceRecognizer, "transferred from mount auburn via ambulance", ["mount auburn"]),
        (TransferPlaceRecognizer, "pt recently d/c'd from spaulding saturday", ["spaulding"]),
        (TransferPlaceRecognizer, "recent adm to sunrise of milton 7/26", ["sunrise of milton"]),
        (TransferPlaceRecognizer, "transferred from sturdy memorial in franklin", ["sturdy memorial"]),
        (TransferPlaceRecognizer, "old records from NWH faxed", ["NWH"]),
        (TransferPlaceRecognizer, "on 6/12@0315 at children's in mattapan", ["children's"]),
        (TransferPlaceRecognizer, "screening for rehab at the Pavilion.", ["Pavilion"]),
        (TownAfterPlaceRecognizer, "at hebrew rehab in hyde park", ["hyde park"]),
        (TownAfterPlaceRecognizer, "at braintree rehab in marshfield.", ["marshfield"]),
        (TownAfterPlaceRecognizer, "from st. elizabeth's in dorchester via", ["dorchester"]),
        (TownAfterPlaceRecognizer, "probate court in manchester.", ["manchester"]),
        (TownAfterPlaceRecognizer, "transferred from MGH in Milton via", ["Milton"]),
        (TownAfterPlaceRecognizer, "lives w/ wife in framingham. recent adm", ["framingham"]),
        (TownAfterPlaceRecognizer, "tc from glen (neighbor) in braintree (401", ["braintree"]),
        (TownAfterPlaceRecognizer, "at Atrium at Wells Crossing in Jamaica Plain.", ["Jamaica Plain"]),
        (TownAfterPlaceRecognizer, "lives w/ daughter in Burlington Recent adm", ["Burlington"]),
        # A run of facility words is one facility word; family, community, square... between name and facility.
        (
            AnyCaseFacilityRecognizer,
            "d/c to Maplewood Nursing Center; at Harbor Health Clinic, 827; at Kenmore Family Practice notified",
            ["Maplewood Nursing Center", "Harbor Health Clinic", "Kenmore Family Practice"],
        ),
        (
            AnyCaseFacilityRecognizer,
            "PCP: DR. GUPTA (North Shore Neurology) 1-800; (Dimock Center); inr at codman square health center",
            ["North Shore Neurology", "Dimock Center", "codman square health center"],
        ),
        (
            AnyCaseFacilityRecognizer,
            "Rev. Avila of First Baptist Church; Imam Crystal of Temple Beth Shalom; of Greater Love Tabernacle",
            ["First Baptist Church", "Temple Beth Shalom", "Greater Love Tabernacle"],
        ),
        (
            AffiliationPlaceRecognizer,
            "retired from Stop & Shop. works at the MBTA; worked as a driver for Boston Public Schools; attends Tufts.",
            ["Stop & Shop", "MBTA", "Boston Public Schools", "Tufts"],
        ),
        (AffiliationPlaceRecognizer, "grandson (works at raytheon); retired from verizon", ["raytheon", "verizon"]),
        (
            AffiliationPlaceRecognizer,
            "employer (Market Basket) re:; worked 40 yrs at Star Market; list from Rite Aid.\nPharmacy: CVS,",
            ["Market Basket", "Star Market", "Rite Aid", "CVS"],
        ),
        (
            AnyCaseFacilityRecognizer,
            "PCP (Franco Internal Medicine); home w/ Lowe Home Health; at Dedham Primary Care; at Fall River Pharmacy.",
            ["Franco Internal Medicine", "Lowe Home Health", "Dedham Primary Care", "Fall River Pharmacy"],
        ),
        (
            AnyCaseFacilityRecognizer,
            "Referrals sent to Winthrop Nursing and Rehabilitation Center (liaison)",
            ["Winthrop Nursing and Rehabilitation Center"],
        ),
        # a title-case name before a title-case weak facility word; churches; "VNA of" one or two words
        (
            AnyCaseFacilityRecognizer,
            "PCP (Revere Cardiology Associates); per Medford Pharmacy; Temple Sinai notified; VNA of Medford called",
            ["Revere Cardiology Associates", "Medford Pharmacy", "Temple Sinai", "VNA of Medford"],
        ),
        (AnyCaseFacilityRecognizer, "Chaplain present; Dedham Assembly of God notified.", ["Dedham Assembly of God"]),
        (
            TransferPlaceRecognizer,
            "Recent admit to BMC 1/4; Outside CT from SSH dated 11/22; hospitalized at MWMC 5-26",
            ["BMC", "SSH", "MWMC"],
        ),
        (
            AffiliationPlaceRecognizer,
            "his mother, who works at Reed, Parker and Thomas. Echo",
            ["Reed, Parker and Thomas"],
        ),
        # schools, "living", "senior" between name and facility word; no verb before the name
        (
            AnyCaseFacilityRecognizer,
            "d/c to Golden Living Center; teacher from bunker hill community college; attends brockton high school",
            ["Golden Living Center", "bunker hill community college", "brockton high school"],
        ),
        (SaintPlaceRecognizer, "Imam Colm of Our Lady of Good Voyage.", ["Our Lady of Good Voyage"]),
        (
            TransferPlaceRecognizer,
            "screening for new england sinai; referral to lincare; ventilated at Sinai Park 9/14; services (apria)",
            ["new england sinai", "lincare", "Sinai Park", "apria"],
        ),
        (
            TownAfterPlaceRecognizer,
            "has lived in brockton x 20 yrs; Facility: Spaulding Rehab - Waltham\n",
            ["brockton", "Waltham"],
        ),
        (
            TownAfterPlaceRecognizer,
            "in to visit from somerville, kids; has lived in new bedford x 20 yrs; lives nearby in quincy.",
            ["somerville", "new bedford", "quincy"],
        ),
        (
            TownAfterPlaceRecognizer,
            "pcp is sterling np in waltham. update given. from medford, will visit tomorrow.",
            ["waltham", "medford"],
        ),
        (TransferPlaceRecognizer, "will eventually go to kimwell. \n", ["kimwell"]),
    ],
)
def test_place_recognizers_find_places(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "screening for cardiac rehab, acute rehab or pulmonary rehab",
        "d/c to rehab vs home; back to the hospital if worse",
        "inpatient rehab recommended by PT",
        "group home staff, methadone clinic, sober house",
        "probate court date 3/12",
        "feeling general malaise",
        "on the eleventh hospital day; visited hospital twice",
        "admitted to the neurotrauma intensive care unit",
        "pt was at the general surgery clinic",
        "ST elevation in V2-V4, st depression in lateral leads",
        "son in law at bedside, daughter in waiting room",
        "transferred from MICU to floor; pt was at baseline",
        "HR 80 at rest, 5 at bedtime",
        "family in room, wife in tears",
        "moved from new york to florida; court in Massachusetts",
        "heart failure center; the center; cancer center; pulmonary associates; medical supply; VNA of the patient",
        "attends church weekly; his church; at the temple; the family practice; private practice; primary care clinic",
        "works with PT daily; attends dialysis MWF; employed by the hospital; works at home; works at night",
        "referral to cardiology; presented to the ED; screening for infection; referred to HCP; services (PT, OT)",
        "in a stable state; public health nurse; high school diploma; MGH - pt transferred",
        "called pharmacy; the pharmacy; primary care; home health aide; internal medicine consult; per Cards; per CXR",
        "281 platelets per microliter; per protocol; per Protocol; per Dr Smith",
        "the Probate Court; Pulmonary Associates; Heart Failure Center; admit to ICU; records from OSH. Call Pharmacy",
    ],
)
def test_place_recognizers_keep_clinical_text(text):
    assert [(cls.__name__, found(cls, text)) for cls in PLACE_RECOGNIZERS if found(cls, text)] == []


def test_place_recognizers_are_registered_and_documented():
    from clinical.deid.recognizers import build_recognizers

    names = {type(r).__name__ for r in build_recognizers()}
    assert {cls.__name__ for cls in PLACE_RECOGNIZERS} <= names
    assert all(cls.__doc__ for cls in PLACE_RECOGNIZERS)


def test_engine_redacts_lower_case_places(deid):
    text = (
        "pt transferred from mount auburn via ambulance. pt's priest from st. brendan's in revere called. "
        "dispo: screening for rehab at braintree rehab in marshfield. lives w/ wife in framingham. "
        "hx cardiac rehab, ST elevation resolved."
    )
    spans = deid.detect(text)
    assert leaked(text, spans, ["mount auburn", "st. brendan's", "revere", "braintree rehab", "marshfield"]) == []
    assert leaked(text, spans, ["framingham"]) == []
    for kept in ("cardiac rehab", "ST elevation", "screening for rehab"):
        start = text.index(kept)
        assert not [s for s in spans if s.start < start + len(kept) and start < s.end], kept
