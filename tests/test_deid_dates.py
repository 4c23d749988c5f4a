"""Dates and ages (Safe-Harbor identifier C): every element of a date but the year, in the formats
notes use, with times; ages over 89 become "90+"; scores, fractions and doses stay."""

from __future__ import annotations

import pytest
from deid_helpers import found

from clinical.deid.recognizers import AgeOver89Recognizer, ClinicalDateRecognizer


@pytest.mark.parametrize(
    ("recognizer_cls", "text", "expected"),
    [
        (ClinicalDateRecognizer, "seen 02/12/2019", ["02/12/2019"]),
        (ClinicalDateRecognizer, "seen on 2/12 for follow-up", ["2/12"]),
        (ClinicalDateRecognizer, "CT 2019-02-12 showed", ["2019-02-12"]),
        (ClinicalDateRecognizer, "admitted Feb 12, 2019", ["Feb 12, 2019"]),
        (ClinicalDateRecognizer, "returns Feb 12 for review", ["Feb 12"]),
        (ClinicalDateRecognizer, "biopsy 12-Feb-2019", ["12-Feb-2019"]),
        (ClinicalDateRecognizer, "returns February 12th", ["February 12th"]),
        (ClinicalDateRecognizer, "in November 2000 because", ["November 2000"]),
        (ClinicalDateRecognizer, "drawn 02/12/2019 14:30 fasting", ["02/12/2019 14:30"]),
        (ClinicalDateRecognizer, "at 2019-02-12T08:15:00", ["2019-02-12T08:15:00"]),
        (ClinicalDateRecognizer, "on 12 March 2018 at 9:05 pm", ["12 March 2018 at 9:05 pm"]),
        (ClinicalDateRecognizer, "DOB: 3/4/56", ["3/4/56"]),
        (ClinicalDateRecognizer, "dated 25.12.2019", ["25.12.2019"]),
        (ClinicalDateRecognizer, "pacemaker interrogated on the 12th.", ["12th"]),
        (ClinicalDateRecognizer, "ICU NURSING NOTE  2/23 0700-1900", ["2/23"]),
        (ClinicalDateRecognizer, "Labs drawn 5/19: WBC 11.2", ["5/19"]),
        (ClinicalDateRecognizer, "Signed: Lisa Rios, NP 10/28", ["10/28"]),
        (ClinicalDateRecognizer, "Telephone encounter 1/30", ["1/30"]),
        (ClinicalDateRecognizer, "CXR 2/12 clear; f/u 3/15 with PCP", ["2/12", "3/15"]),
        (ClinicalDateRecognizer, "admission 2/12-2/14", ["2/12", "2/14"]),
        # dash month-days (safe_harbor@0.7.0): after a date cue, before a time, and bare unless a range
        (ClinicalDateRecognizer, "she will call back 2-12.", ["2-12"]),
        (ClinicalDateRecognizer, "D/C planned for 4-10 to Milton Hospital", ["4-10"]),
        (ClinicalDateRecognizer, "PEG placed 1-28. Day 1 of abx = 1-5; cont until 1-14.", ["1-28", "1-5", "1-14"]),
        (ClinicalDateRecognizer, "Family meeting 6-1 at 1715; Repeat lytes 12-26 0715", ["6-1", "12-26"]),
        (ClinicalDateRecognizer, "Transfer to floor 11-11 if stable; Head CT 8-9 without bleed", ["11-11", "8-9"]),
        (ClinicalDateRecognizer, "Grant Clark RN 1-19", ["1-19"]),
        (ClinicalDateRecognizer, "NPN 10.24 @ 2010; family mtg 5.19@1245; bed avail 2.17.", ["10.24", "5.19", "2.17"]),
        (
            ClinicalDateRecognizer,
            "was at Pinecrest 4.19 at 18:00; last BM 3.20 1230; on 6.12 @1500",
            ["4.19", "3.20", "6.12"],
        ),
        (ClinicalDateRecognizer, "and Dr Branch on 6.24.\nlast bm 1-23 per family", ["6.24", "1-23"]),
        (AgeOver89Recognizer, "a 93-year-old man", ["93"]),
        (AgeOver89Recognizer, "92 year old woman", ["92"]),
        (AgeOver89Recognizer, "aged 95, lives alone", ["95"]),
        (AgeOver89Recognizer, "91 y/o F", ["91"]),
        (AgeOver89Recognizer, "S: Lisa, 96yo, bed 12", ["96"]),
        (AgeOver89Recognizer, "101 yo M", ["101"]),
        (AgeOver89Recognizer, "a woman in her 90s", ["90s"]),
        (AgeOver89Recognizer, "pt is a 92m from lebanon; HPI: 98F resident of\n104yow with", ["92", "98", "104"]),
        (AgeOver89Recognizer, "pt is 100F w/ ESRD; Pt is 96M POD#2; pt Sarah, 98F, NSTEMI", ["100", "96", "98"]),
        (AgeOver89Recognizer, "King, Filippo (100M), comfort; Brown, Whitney / 98F", ["100", "98"]),
        # "the 12th" after any "the", unless a noun makes it an ordinal ("the 5th rib")
        (ClinicalDateRecognizer, "transferred to 7 north the 29th. family meeting the 26th w/ pall", ["29th", "26th"]),
        (
            ClinicalDateRecognizer,
            "admitted from NWH on 6.5 w/ AMS; dobhoff placed by Dr Arnold on 2.28 placement ok; admitted Sat 2/21 w/",
            ["6.5", "2.28", "2/21"],
        ),
        # m.d.yy; "m-d to m-d"; after "last dose", "sent"; "2/27--3/2"
        (
            ClinicalDateRecognizer,
            "R hip ORIF 12.7.21; unchanged from 1.17.11; bld cx sent 5.14 pending",
            ["12.7.21", "1.17.11", "5.14"],
        ),
        (
            ClinicalDateRecognizer,
            "missed shifts 9-6 to 9-7; last dose 3/24 per CVS; MICU stay 2/27--3/2; seen on 8-14 and told",
            ["9-6", "9-7", "3/24", "2/27", "3/2", "8-14"],
        ),
    ],
)
def test_recognizer_finds_dates_and_ages(recognizer_cls, text, expected):
    assert found(recognizer_cls, text) == expected


@pytest.mark.parametrize(
    ("recognizer_cls", "text"),
    [
        (ClinicalDateRecognizer, "Strength 4/5 in all extremities"),
        (ClinicalDateRecognizer, "pain 7/10, BP 120/80"),
        (ClinicalDateRecognizer, "visual acuity 6/18 and 6/9"),
        (ClinicalDateRecognizer, "7/10 pain, rated 3/10; PS 10/5, PEEP 5/5"),
        (ClinicalDateRecognizer, "1/2 NS at 75/hr; +2/4 edema; 1/2 tab; 3/4 of meals"),
        (ClinicalDateRecognizer, "Apgar 8/9; strength 5/5 bilaterally"),
        (ClinicalDateRecognizer, "incisional pain 6/10 with relief to 2/10; TOF 4/4"),
        (ClinicalDateRecognizer, "diagnosed in 1995"),
        (ClinicalDateRecognizer, "may 5 mg be given"),
        (ClinicalDateRecognizer, "values 16/22/15"),
        (ClinicalDateRecognizer, "HbA1c 7.2%"),
        (ClinicalDateRecognizer, "fracture of the 5th rib; seen on the 2nd day"),
        (ClinicalDateRecognizer, "RR 12-20, HR 80-90s, on 2-3L NC, 1-2 tabs q4-6h, oriented x1-2"),
        (ClinicalDateRecognizer, "weaned from 4-2L; drinks 3-4 beers/day; for 2-3 days; 0.5-1 mg IV; PEEP 5-10"),
        (ClinicalDateRecognizer, "GCS 14-15, sats 93-96%, stage 1-2, grade 2-3 murmur, 3-4 to 6-8 times a day"),
        (ClinicalDateRecognizer, "K 3.6 at 0400, levo on 2.5, Mg 1.8 repleted, pH 7.35, until 2.5 mg given"),
        (ClinicalDateRecognizer, "K 3.6 at 0400; Mg 1.8 @ 0600; levo on 2.5 at 1400; insulin gtt at 4.5 at 0200"),
        (ClinicalDateRecognizer, "levo on 2.5.\nPlan: 1-2 per day; since 2-3 per hour"),
        (AgeOver89Recognizer, "a 74-year-old man"),
        (AgeOver89Recognizer, "HR 95 bpm"),
        (AgeOver89Recognizer, "SpO2 92% on room air"),
        (AgeOver89Recognizer, "T 98F, HR 80; Tmax: 99F; VS: 98F 80 120/70"),
        (AgeOver89Recognizer, "temp is 99F; Tmax was 100F; BP 120/80 (98F); afebrile (T 98F)"),
        (ClinicalDateRecognizer, "started on 1.5 w/ food; levo on 2.5 w/ good effect; admitted on levo at 0.5 for MAP"),
        (ClinicalDateRecognizer, "hypotension 2/2 sepsis; ARF 2/2 ATN; labs sent 2/2 hypovolemia; on 2-3 to 4-5 L NC"),
        (
            ClinicalDateRecognizer,
            "the 3rd floor; the 2nd dose; the 95th percentile; the 4th time; the 12th rib; the 1st one",
        ),
    ],
)
def test_recognizer_keeps_clinical_numbers(recognizer_cls, text):
    assert found(recognizer_cls, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DOB: 02/12/1931", "DOB: [DATE 1931]"),
        ("Admitted on Feb 12, 2019 at 14:30.", "Admitted on [DATE 2019]."),
        ("Biopsy 12-Feb-2019.", "Biopsy [DATE 2019]."),
        ("Seen on 2/12.", "Seen on [DATE]."),
        ("Seen 02/12/2019 by the team.", "Seen [DATE 2019] by the team."),
        ("A 93-year-old woman.", "A [AGE 90+]-year-old woman."),
        ("aged 101, lives alone", "aged [AGE 90+], lives alone"),
        ("A 67-year-old man.", "A 67-year-old man."),
        ("Diagnosed in 1995; strength 4/5.", "Diagnosed in 1995; strength 4/5."),
        ("EVENT NOTE: 4/17/2006 @2300: pt pulled out NGT", "EVENT NOTE: [DATE 2006]: pt pulled out NGT"),
        ("Cath planned for 12/5 0230 per team; K 3.6 at 0400.", "Cath planned for [DATE] per team; K 3.6 at 0400."),
        ("appt 5/22 at 2:15 pm. f/u 12/20 at 1:00pm; Jul 12 at 9am", "appt [DATE]. f/u [DATE]; [DATE]"),
        (
            "TRIAGE 4-23, 0700h\nSeen 18-Mar, 14:05; PICC 03/21/2012, 0345 by IV",
            "TRIAGE [DATE]\nSeen [DATE]; PICC [DATE 2012] by IV",
        ),
    ],
)
def test_safe_harbor_date_and_age_rules(deid, text, expected):
    assert deid.redact(text) == expected
