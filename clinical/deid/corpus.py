"""A synthetic nursing- and progress-note PHI corpus with gold spans of every identifier type.

    python -m clinical.deid.corpus --notes 500 --seed 0 --output /tmp/nursing.annotated.jsonl
    clinical deid eval --input /tmp/nursing.annotated.jsonl

Lines are `{"id", "text", "spans": [{"start", "end", "type"}], "style"}`, the format of
`clinical deid eval` (clinical.deid.evaluate). Every value is made up by Faker (en_US), the
generator's own seeded choices and the name, town and facility lists below; nothing comes from a
real record. Styles: ICU nursing flowsheet note with vitals, SBAR shift handoff, progress note with
a care-team list and signature block, phone-call / family-contact note, discharge summary header,
and a free-text ICU nursing narrative in the style of PhysioNet's deidentified nursing notes
(system by system, terse shorthand: clinicians after Dr./Dr/attending/resident/fellow/RN, case
manager / SW / chaplain names, named relatives with in-law, parenthesised, coordinated and
lower-case forms, short dates 2/12, 2-12 and "2/12 1400", pager numbers #4-5321 and extensions
x2345, hospitals and rehabs with and without a suffix word, home towns).

About 30% of first names and surnames are ones that are also English words or months (June, Will,
Grace; Wood, Price, Young), and every style carries distractors without gold spans: the same
words in their English sense ("Will recheck lytes", "HR rose to 120s", "frank blood"), ranges and
scores shaped like short dates (HR 80-90s, 2-3L NC, pain 7/10, 4/5 strength, BP 110/60) and doses.
Dates come in the forms notes use (2/12, 2-12, 02/12/2019, Feb 12, 12-Feb-2019, "on the 12th",
2019-02-12 14:30, February 12th); a time is inside the DATE span only when attached to the date
("2/12 1400", "2/12 @ 1400"), not when joined by "at". Gold NAME spans hold only the name words
(never Dr., Rev., credentials or relation words); states and countries are never gold.

It is written by the same project as the detector, so its figures are a regression check of the
formats listed here, not independent evidence of recall on real notes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from faker import Faker

CORPUS_VERSION = "0.2.0"
"""Bump with any change of templates or value formats."""

GOLD_TYPES = (
    "NAME",
    "ADDRESS",
    "LOCATION",
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
)
"""Gold span types the generator writes (one per Safe-Harbor identifier found in note text)."""

STYLES = ("flowsheet", "handoff", "progress", "phone_call", "discharge", "icu_narrative")

_FACILITY_SUFFIXES = ("Hospital", "Medical Center", "Nursing Home", "Rehabilitation Center", "Clinic", "Hospice")
_RELATIONS = ("wife", "husband", "daughter", "son", "sister", "brother", "mother", "niece", "friend")
_CREDENTIALS = ("RN", "RN", "LPN", "MD", "NP", "PA-C", "RT")
_PROBLEMS = (
    "CHF exacerbation",
    "COPD exacerbation",
    "sepsis secondary to UTI",
    "NSTEMI",
    "DKA",
    "community-acquired pneumonia",
    "GI bleed",
    "hip fracture s/p ORIF",
    "Parkinson disease with falls",
    "Crohn's disease flare",
)
_MEDS = (
    "metoprolol 25 mg PO BID",
    "furosemide 40 mg IV BID",
    "heparin 5000 units SC q8h",
    "insulin glargine 20 units qHS",
    "acetaminophen 650 mg PO q6h PRN",
    "vancomycin 1 g IV q12h",
    "pantoprazole 40 mg IV daily",
    "carbidopa-levodopa 25/100 PO TID",
)


# fmt: off
# First names and surnames that are also ordinary English words or months. US name lists (the
# Census surname tables, the SSA baby-name lists) carry many of them: Wood, Young, Price, King and
# Brown are among the commonest surnames, June, Grace, Hope and Will among first names. Realistic
# surrogates (such as those in deidentified ICU nursing notes) draw from the same lists, so about
# WORD_NAME_SHARE of the corpus's first names and surnames come from these.
WORD_FIRST_NAMES = (
    "April", "June", "May", "Rose", "Hope", "Faith", "Joy", "Grace", "Dawn", "Summer", "Pearl", "Iris",
    "Ruby", "Amber", "Crystal", "Holly", "Ivy", "Will", "Bill", "Mark", "Grant", "Gene", "Ray", "Chase",
    "Dale", "Wade", "Frank", "Drew", "Jack", "Jay", "Glen", "Lance", "Rich", "Rusty", "Sky", "Destiny",
    "Heath", "Miles", "Penny", "Ginger", "Sandy", "Autumn", "Violet", "Robin", "Bud", "Guy", "Rocky",
)
WORD_SURNAMES = (
    "Wood", "Stone", "Lake", "Price", "Young", "White", "Long", "King", "Fox", "Rice", "Hale", "Hunter",
    "Bishop", "Brown", "Walker", "Black", "Green", "Rose", "Bell", "Hall", "Hill", "Ford", "Snow", "Frost",
    "Love", "Day", "May", "Moon", "Cook", "Baker", "Mason", "Carpenter", "Miller", "Fisher", "Marsh", "Banks",
    "Park", "Lane", "Field", "Best", "Strong", "Wise", "Sharp", "Small", "Short", "Little", "Gray", "Waters",
    "Church", "Page", "Booth", "Cross", "Pope", "Chase", "Knight", "Bush", "Reed",
)
WORD_NAME_SHARE = 0.3
"""Share of first names and of surnames drawn from the word-name lists (the rest come from Faker)."""

# Town names of the kind surrogate notes carry: ordinary US town names, some of them English words.
_TOWNS = (
    "Quincy", "Salem", "Milton", "Dover", "Newton", "Lowell", "Reading", "Chelsea", "Franklin", "Canton",
    "Sharon", "Orange", "Marshfield", "Brockton", "Revere", "Medford", "Concord", "Lexington", "Bedford",
    "Hanover", "Plymouth", "Framingham", "Natick", "Weymouth", "Braintree", "Malden", "Everett", "Woburn",
)
# Facility names written without a suffix word, as nurses write them (made-up and well-known names;
# a facility is not a patient identifier by itself, it becomes one next to the patient).
_BARE_FACILITIES = (
    "Newton-Wellesley", "St. Elizabeth's", "Hebrew Rehab", "Spaulding Rehab", "Mount Auburn", "Youville",
    "Kindred", "Whittier", "Lahey", "Caritas Norwood", "Radius", "Sherrill House",
)
_SAINTS = ("Elizabeth", "Vincent", "Luke", "Mary", "Joseph", "Anne", "Francis", "Margaret", "Jude", "Clare")
_FAMILY = (
    "wife", "husband", "daughter", "son", "sister", "brother", "dtr", "mother", "niece", "nephew",
    "brother-in-law", "sister-in-law", "son-in-law", "daughter-in-law", "grandson", "granddaughter", "friend",
    "partner", "HCP",
)
# fmt: on

# English-word uses of the name words, date-shaped ranges and scores, doses: none is PHI.
_DISTRACTORS = (
    "Will recheck lytes at 2200.",
    "Will cont to monitor.",
    "HR rose to 120s with turning, back to 90s at rest.",
    "Hope to extubate in am if SBT ok.",
    "Mark site q4h for hematoma.",
    "Long-term plan per team.",
    "Pt appears young for stated age.",
    "May need more diuresis today.",
    "Frank blood noted in NGT drainage, team aware.",
    "HR 80-90s NSR, no ectopy.",
    "On 2-3L NC, sats 94-97%.",
    "Pain 7/10 at start of shift, 3/10 after meds.",
    "4/5 strength BUE, 3/5 BLE.",
    "Percocet 1-2 tabs PO q4-6h PRN.",
    "BP 110/60-130/70.",
    "Drew blood cx x2 from PICC.",
    "Foley draining amber urine 30-50cc/hr.",
    "Small amount of brown liquid stool.",
    "Strong cough, thick white secretions.",
    "Black tarry stool x1, guaiac +.",
    "Call bell within reach.",
    "Walked in hall x2 with PT.",
    "Chase K with lytes at 1800.",
    "Best to keep NPO after MN.",
    "Sharp pain at incision, 6/10.",
    "Green sputum, cx sent.",
    "Rusty sputum noted with suctioning.",
    "Sips of ginger ale tolerated.",
    "Day 3 of 7 of abx.",
    "Sterile field maintained for line change.",
    "Crystal clear urine after flush.",
    "Pt of Catholic faith.",
    "Portable chest x-ray done.",
    "Dawn dose of lovenox held for procedure.",
    "K 3.4, repleted with KCl 40 mEq PO x1.",
    "Mg 1.7, 2 g IV given.",
    "Lasix 20-40 mg IV PRN for UOP <30cc/hr.",
    "Propofol 20-30 mcg/kg/min, RASS 0 to -1.",
    "Insulin SS 2-4 units q6h.",
    "GCS 14-15.",
    "Repositioned q2h, heels floated.",
)


class _Note:
    """Text built piece by piece; pieces with a type become gold spans."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[dict] = []
        self.length = 0

    def add(self, text: str, kind: str | None = None) -> _Note:
        if kind is not None and text:
            self.spans.append({"start": self.length, "end": self.length + len(text), "type": kind})
        self.parts.append(text)
        self.length += len(text)
        return self

    def text(self) -> str:
        return "".join(self.parts)


class _Values:
    """Seeded fake values for one note."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng = rng
        self.fake = fake
        self.base = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(0, 3650))

    def first_name(self) -> str:
        if self.rng.random() < WORD_NAME_SHARE:
            return self.rng.choice(WORD_FIRST_NAMES)
        return self.fake.first_name()

    def last_name(self) -> str:
        if self.rng.random() < WORD_NAME_SHARE:
            return self.rng.choice(WORD_SURNAMES)
        return self.fake.last_name()

    def name(self, style: str = "full") -> str:
        first, last = self.first_name(), self.last_name()
        if style == "first":
            return first
        if style == "last":
            return last
        if style == "caps":
            return f"{last.upper()}, {first.upper()}"
        if style == "initial":
            return f"{first[0]}. {last}"
        if style == "comma":
            return f"{last}, {first}"
        return f"{first} {last}"

    def date(self, offset_days: int = 0) -> str:
        day = self.base + dt.timedelta(days=offset_days)
        forms = (
            f"{day.month}/{day.day}",
            f"{day.month:02d}/{day.day:02d}/{day.year}",
            f"{day:%b} {day.day}",
            f"{day.day:02d}-{day:%b}-{day.year}",
            f"{day:%Y-%m-%d} {self.rng.randrange(0, 24):02d}:{self.rng.choice((0, 15, 30, 45)):02d}",
            f"{day:%B} {day.day}{_ordinal(day.day)}",
            f"{day:%B} {day.day}, {day.year}",
            f"{day.month}/{day.day}/{day.year % 100:02d}",
        )
        return self.rng.choice(forms)

    def phone(self) -> str:
        area, mid, last = self.rng.randrange(201, 989), self.rng.randrange(200, 999), self.rng.randrange(0, 10000)
        return self.rng.choice(
            (
                f"({area}) {mid}-{last:04d}",
                f"{area}-{mid}-{last:04d}",
                f"{area}.{mid}.{last:04d}",
                f"+1 {area} {mid} {last:04d}",
            )
        )

    def short_date(self, offset_days: int = 0, form: str | None = None) -> str:
        """2/12, 2-12 or 02/12, the forms of free-text nursing notes."""
        day = self.base + dt.timedelta(days=offset_days)
        form = form or self.rng.choice(("slash", "slash", "dash", "padded"))
        if form == "dash":
            return f"{day.month}-{day.day}"
        if form == "padded":
            return f"{day.month:02d}/{day.day:02d}"
        return f"{day.month}/{day.day}"

    def clock(self) -> str:
        return f"{self.rng.randrange(0, 24):02d}{self.rng.choice((0, 0, 15, 30, 45)):02d}"

    def pager(self) -> str:
        return self.rng.choice(
            (f"{self.rng.randrange(1, 10)}-{self.rng.randrange(1000, 10000)}", str(self.rng.randrange(1000, 100000)))
        )

    def extension(self) -> str:
        return f"x{self.rng.randrange(1000, 10000)}"

    def town(self) -> str:
        return self.rng.choice(_TOWNS) if self.rng.random() < 0.6 else self.fake.city()

    def place(self) -> str:
        """A hospital, rehab or nursing home as nurses name it, often without a suffix word."""
        form = self.rng.randrange(7)
        if form == 0:
            return self.rng.choice(_BARE_FACILITIES)
        if form == 1:
            return f"{self.fake.last_name()}-{self.rng.choice(_TOWNS)}"
        if form == 2:
            return f"St. {self.rng.choice(_SAINTS)}'s"
        if form == 3:
            return f"{self.rng.choice((self.last_name(), self.rng.choice(_TOWNS)))} Rehab"
        if form == 4:
            return f"{self.rng.choice(_TOWNS)} {self.rng.choice(('Hospital', 'Medical Center', 'Nursing Home'))}"
        if form == 5:
            return f"{self.last_name()} {self.rng.choice(('House', 'Manor', 'Nursing Home', 'Hospice'))}"
        return self.facility()

    def facility(self) -> str:
        return f"{self.fake.last_name()} {self.rng.choice(('General', 'Memorial', 'Community', 'Regional'))} " + (
            self.rng.choice(_FACILITY_SUFFIXES)
        )

    def mrn(self) -> str:
        return str(self.rng.randrange(10**6, 10**9)).zfill(self.rng.choice((7, 8, 9)))


def _ordinal(day: int) -> str:
    return "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _header(note: _Note, v: _Values, patient: str) -> None:
    note.add("Patient: ").add(patient, "NAME").add("    MRN: ").add(v.mrn(), "MRN").add("    DOB: ")
    note.add(v.date(-v.rng.randrange(20000, 34000)), "DATE").add("\n")


def _signature(note: _Note, v: _Values) -> None:
    credential = v.rng.choice(_CREDENTIALS)
    form = v.rng.randrange(4)
    if form == 0:
        note.add("Signed: ").add(v.name(), "NAME").add(f", {credential} ").add(v.date(), "DATE").add("\n")
    elif form == 1:
        note.add("-- ").add(v.name("initial"), "NAME").add(f", {credential}\n")
    elif form == 2:
        note.add("Electronically signed by ").add(v.name(), "NAME").add(f" {credential} on ").add(v.date(), "DATE")
        note.add("\n")
    else:
        note.add(v.name(), "NAME").add(f", {credential}  pager ").add(v.phone(), "PHONE").add("\n")


def _flowsheet(note: _Note, v: _Values) -> None:
    patient = v.name(v.rng.choice(("full", "caps", "comma")))
    _header(note, v, patient)
    note.add("ICU NURSING NOTE  ").add(v.date(), "DATE").add(" 0700-1900\n")
    note.add(f"VS: T 37.{v.rng.randrange(10)} HR {v.rng.randrange(60, 120)} BP {v.rng.randrange(90, 160)}/")
    note.add(f"{v.rng.randrange(50, 95)} RR {v.rng.randrange(12, 28)} SpO2 {v.rng.randrange(88, 100)}% on 2L NC\n")
    note.add(f"Neuro: A&Ox3, follows commands. CV: {v.rng.choice(_MEDS)}. Resp: coarse BS bilaterally.\n")
    note.add("GU: foley draining clear yellow urine. Skin: stage 2 sacral ulcer, dressing changed.\n")
    _distract(note, v)
    if v.rng.random() < 0.5:
        note.add("Pt is a ").add(str(v.rng.randrange(90, 104)), "AGE_90").add(" y/o ")
        note.add(v.rng.choice(("F", "M"))).add(f" admitted with {v.rng.choice(_PROBLEMS)}.\n")
    relation = v.rng.choice(_RELATIONS)
    note.add(f"Social: {relation} ").add(v.name("first"), "NAME").add(" at bedside, updated on plan of care; ")
    note.add("can be reached at ").add(v.phone(), "PHONE").add(".\n")
    if v.rng.random() < 0.4:
        note.add("Pacemaker S/N: ").add(f"PJN{v.rng.randrange(10**5, 10**7)}", "DEVICE").add(" interrogated ")
        note.add("on the ").add(f"{v.base.day}{_ordinal(v.base.day)}", "DATE").add(".\n")
    _signature(note, v)


def _handoff(note: _Note, v: _Values) -> None:
    patient = v.name()
    note.add("SHIFT HANDOFF (SBAR) ").add(v.date(), "DATE").add("\n")
    note.add("S: ").add(patient, "NAME").add(", ").add(str(v.rng.randrange(90, 100)), "AGE_90")
    note.add(f"yo, bed 12, {v.rng.choice(_PROBLEMS)}.\n")
    note.add("B: Admitted from ").add(v.facility(), "LOCATION").add(" on ").add(v.date(-3), "DATE").add(". PCP ")
    note.add("Dr. ").add(v.name("last"), "NAME").add(".\n")
    note.add(f"A: stable overnight; {v.rng.choice(_MEDS)} given. Lactate 1.8, K 3.9. ")
    _distract(note, v)
    note.add("R: f/u cultures, call ").add(v.name("first"), "NAME").add(" (").add(v.rng.choice(_RELATIONS))
    note.add(") at ").add(v.phone(), "PHONE").add(" with updates.\n")
    note.add("Care team: ")
    members = [v.name(v.rng.choice(("full", "initial", "last"))) for _ in range(v.rng.randrange(2, 5))]
    for i, member in enumerate(members):
        if i:
            note.add(", ")
        prefix = v.rng.choice(("Dr. ", "", ""))
        note.add(prefix).add(member, "NAME")
        if not prefix:
            note.add(f" {v.rng.choice(_CREDENTIALS)}")
    note.add("\nGiven to ").add(v.name(), "NAME").add(f", {v.rng.choice(_CREDENTIALS)}\n")


def _progress(note: _Note, v: _Values) -> None:
    patient = v.name(v.rng.choice(("full", "comma")))
    _header(note, v, patient)
    note.add("Progress note, hospital day 4 at ").add(v.facility(), "LOCATION").add(".\n")
    note.add("Seen on ").add(v.date(), "DATE").add(". Started on ").add(v.rng.choice(_MEDS))
    note.add(" on ").add(v.date(-2), "DATE").add(". Labs drawn ").add(v.date(-1), "DATE").add(": WBC 11.2, Hgb 9.8, ")
    note.add("Cr 1.4, HbA1c 7.9%.\n")
    _distract(note, v)
    note.add("Insurance: member ID ").add(f"{v.fake.bothify('???#########').upper()}", "HEALTH_PLAN").add(", ")
    note.add("billing acct # ").add(str(v.rng.randrange(10**7, 10**10)), "ACCOUNT").add(".\n")
    if v.rng.random() < 0.5:
        note.add("Patient portal: ").add(
            f"https://portal.{v.fake.domain_word()}health.org/u/{v.rng.randrange(10**5)}", "URL"
        )
        note.add(", e-mail ").add(v.fake.email(), "EMAIL").add(".\n")
    if v.rng.random() < 0.4:
        note.add("SSN on file: ").add(v.fake.ssn(), "SSN").add(". Specimen accession no. ")
        note.add(f"S{v.rng.randrange(10**5, 10**7)}", "ID").add(".\n")
    _signature(note, v)


def _phone_call(note: _Note, v: _Values) -> None:
    relation = v.rng.choice(_RELATIONS)
    note.add("Telephone encounter ").add(v.date(), "DATE").add("\n")
    note.add(f"Call from pt's {relation}, ").add(v.name(), "NAME").add(", ").add(v.phone(), "PHONE")
    note.add(". She reports pt fell at home at ").add(v.fake.street_address(), "ADDRESS").add(", ")
    note.add(v.fake.city(), "LOCATION").add(", ").add(v.fake.state_abbr()).add(" ").add(v.fake.zipcode(), "ZIP")
    note.add(".\n")
    note.add("Pt drove himself; car VIN ").add(
        v.fake.bothify("1HG??#####?######", letters="ABCDEFGHJKLMNPRSTUVWXYZ"), "VEHICLE"
    )
    note.add(", plate ").add(v.fake.bothify("#??###").upper(), "VEHICLE").add(".\n")
    note.add("Advised ED eval. Fax records to ").add(v.phone(), "PHONE").add(". Discussed with ")
    note.add("Dr. ").add(v.name(), "NAME").add(".\n")
    _distract(note, v, 1, 2)
    if v.rng.random() < 0.5:
        note.add("Remote monitoring device logged in from ").add(v.fake.ipv4_private(), "IP").add(".\n")
    _signature(note, v)


def _discharge(note: _Note, v: _Values) -> None:
    patient = v.name("caps")
    note.add("DISCHARGE SUMMARY\nNAME: ").add(patient, "NAME").add("\nMRN: ").add(v.mrn(), "MRN")
    note.add("\nADMITTED: ").add(v.date(-6), "DATE").add("   DISCHARGED: ").add(v.date(), "DATE").add("\n")
    note.add("ATTENDING: ").add(v.name(), "NAME").add(", MD\n")
    note.add(f"Diagnosis: {v.rng.choice(_PROBLEMS)}.\n")
    note.add("Discharged to ").add(v.facility(), "LOCATION").add(", ").add(v.fake.street_address(), "ADDRESS")
    note.add(", ").add(v.fake.city(), "LOCATION").add(", ").add(v.fake.state_abbr()).add(" ")
    note.add(v.fake.zipcode(), "ZIP").add(".\n")
    note.add("Follow-up with Dr. ").add(v.name("last"), "NAME").add(" on ").add(v.date(14), "DATE")
    note.add(", clinic phone ").add(v.phone(), "PHONE").add(".\n")
    note.add("Medications: ").add("; ".join(v.rng.sample(_MEDS, 3))).add(".\n")
    _distract(note, v, 1, 2)
    note.add("Dictated by ").add(v.name(), "NAME").add(f", {v.rng.choice(_CREDENTIALS)}; license no. ")
    note.add(f"{v.rng.choice(('RN', 'MD', 'D'))}{v.rng.randrange(10**5, 10**7)}", "LICENSE").add("\n")


_SLOT = re.compile(r"\{(\w+)\}")


def _fill(note: _Note, v: _Values, template: str) -> None:
    """Add `template` with each `{slot}` replaced by a fresh value; PHI slots become gold spans."""
    rng = v.rng

    def when() -> int:
        return rng.randrange(-6, 9)

    slots = {
        "first": (v.first_name, "NAME"),
        "last": (v.last_name, "NAME"),
        "full": (v.name, "NAME"),
        "lfirst": (lambda: v.first_name().lower(), "NAME"),
        "date": (lambda: v.short_date(when()), "DATE"),
        "dash": (lambda: v.short_date(when(), "dash"), "DATE"),
        "slash": (lambda: v.short_date(when(), "slash"), "DATE"),
        "dtime": (lambda: f"{v.short_date(when())}{rng.choice((' ', ' @ ', ' @'))}{v.clock()}", "DATE"),
        "phone": (v.phone, "PHONE"),
        "pager": (v.pager, "PHONE"),
        "ext": (v.extension, "PHONE"),
        "place": (v.place, "LOCATION"),
        "town": (v.town, "LOCATION"),
        "rel": (lambda: rng.choice(_FAMILY), None),
        "Rel": (lambda: _cap(rng.choice(_FAMILY)), None),
        "state": (v.fake.state_abbr, None),
        "clock": (v.clock, None),
    }
    at = 0
    for match in _SLOT.finditer(template):
        note.add(template[at : match.start()])
        make, kind = slots[match.group(1)]
        note.add(make(), kind)
        at = match.end()
    note.add(template[at:])


def _cap(word: str) -> str:
    return word if word.isupper() else word[0].upper() + word[1:]


def _distract(note: _Note, v: _Values, low: int = 1, high: int = 3) -> None:
    """Add `low`..`high` distractor sentences (no gold span) on one line."""
    note.add(" ".join(v.rng.sample(_DISTRACTORS, v.rng.randint(low, high)))).add("\n")


# ICU narrative: per section, clinical sentences (no PHI, many distractors) and PHI sentences
# (picked with the section's rate). Slots are those of `_fill`.
_ICU_OPENERS = (
    "Nursing Progress Note 0700-1900\n",
    "NPN 7a-7p\n",
    "MICU nursing note 1900-0700\n",
    "CCU NPN {date} 7p-7a\n",
    "Nursing note, {dtime}\n",
    "SICU nursing progress note {date}\n",
)
_ICU_ADMITS = (
    "Pt is a {age} yo {sex} admitted {date} from {place} with {problem}.",
    "{age} yo {sex} transferred from {place} on {slash} for {problem}.",
    "{age}yo {sex} w/ {problem}, came in via ED from {place}.",
    "Pt is a {age} y/o {sex} from {town}, {state}, admitted with {problem}.",
    "{age} yo {sex} w/ hx of {problem}, s/p fall at home in {town}.",
)
_ICU_SECTIONS = (
    (
        "Neuro",
        (
            "A&Ox3, MAE, follows commands.",
            "Sedated on propofol, RASS -1 to -2, opens eyes to voice.",
            "Pupils 3mm, brisk. Pain 4/10, dilaudid 0.5-1 mg IV given.",
            "Lethargic but arousable, oriented x1-2.",
        ),
        (
            "Neurology (Dr. {last}) following, EEG {date}.",
            "Head CT {dash} neg per Dr {last}.",
            "Dr. {last} aware of change in MS.",
            "Seen by neuro fellow {first}, no new recs.",
        ),
        0.5,
    ),
    (
        "CV",
        (
            "HR 80-90s SR, occ PVCs. SBP 100-120s.",
            "Afib 110-130s, dilt gtt at 10 mg/hr.",
            "MAP >65 on levophed 0.05-0.1 mcg/kg/min.",
            "Pulses +2 pedal, extremities warm.",
        ),
        (
            "Dr. {last} aware of HR 130s, lopressor 5 mg IV x1.",
            "Attending Dr. {first} {last} in to see pt.",
            "Cards fellow {first} aware, echo {slash}.",
            "Resident {first} notified of SBP 80s, 500cc NS bolus given.",
            "Paged Dr. {last} re: hypotension, pager #{pager}.",
            "Dr {last} (pager {pager}) aware.",
            "Cath planned for {dtime} per Dr. {last}.",
        ),
        0.6,
    ),
    (
        "Resp",
        (
            "LS coarse, diminished at bases. Suctioned for mod amt tan secretions.",
            "Vent: CPAP/PS 10/5, FiO2 40%, ABG 7.38/42/88.",
            "On 4L NC, sats 93-96%, RR 18-24.",
            "Extubated to 50% face tent, tolerating well.",
        ),
        (
            "RT {first} aware of plan for SBT.",
            "Trach planned for {dash} w/ Dr. {last}.",
            "Pulm fellow Dr. {last} called at {ext}.",
            "Intubated {dtime} by anesthesia.",
        ),
        0.4,
    ),
    (
        "GI",
        (
            "Abd soft, +BS. TF at 40cc/hr, goal 60, residuals <50cc.",
            "NPO except meds. Last BM prior to admit.",
            "Loose brown stool x2, rectal tube placed.",
            "Tolerating clears, nausea x1 relieved w/ zofran 4 mg IV.",
        ),
        ("Last BM {slash}.", "GI (Dr. {last}) to scope on {date}.", "PEG placed {dash}."),
        0.5,
    ),
    (
        "GU",
        (
            "Foley to gravity, UOP 30-60cc/hr clear yellow.",
            "Lasix 40 mg IV given w/ 1L response.",
            "Cr 1.8 up from 1.4, renal following.",
        ),
        ("Renal, Dr {last}, to see pt re: HD.", "Foley d/c'd {slash}, due to void by {clock}."),
        0.3,
    ),
    (
        "ID",
        (
            "Tmax 38.4, blood cx x2 sent.",
            "Afebrile. WBC 11.2 down from 14.",
            "Vanc/zosyn, vanc trough due at 0500.",
        ),
        (
            "Abx until {dash}.",
            "Cx from {slash} w/ GNR, ID (Dr. {last}) aware.",
            "Day 1 of abx = {date}; cont until {dash}.",
        ),
        0.5,
    ),
    (
        "Skin",
        (
            "Stage 2 on coccyx 2x3 cm, mepilex applied.",
            "Skin intact. Turned q2h.",
            "R IJ CVL site C/D/I, dsg changed.",
        ),
        ("Wound RN {first} {last} to see pt {date}.", "L radial A-line placed {slash}, site C/D/I."),
        0.3,
    ),
)
_ICU_SOCIAL = (
    "{Rel} {first} in to visit, updated on POC.",
    "Spoke w/ {rel} {first} by phone, updated.",
    "{Rel}, {first}, states pt was at baseline until {date}.",
    "Pt's HCP is {rel} {full}, cell {phone}.",
    "{Rel} ({first}) called x2, given update.",
    "Sons {first} and {first} visited this evening, very supportive.",
    "Daughters {first} and {first} at bedside.",
    "Brother-in-law {first} called for update, referred to HCP.",
    "Pt's {rel} {lfirst} visited this am.",
    "{rel} {lfirst} called, aware of plan.",
    "Dtr {first} {last} is HCP, home {phone}.",
    "Lives in {town} w/ {rel}.",
    "Pt lives alone in {town}, {rel} {first} nearby.",
    "Family meeting {date} at {clock} w/ {rel} {first} and Dr. {last}.",
    "Case manager {first} aware of dispo.",
    "CM {first} {last} aware, screening for {place}.",
    "SW {first} following, {ext}.",
    "Social work ({first}) following for coping.",
    "Chaplain {first} {last} in to see pt and family.",
    "Rev. {last} visited, pt received sacrament of the sick.",
    "Wife, {first}, states pt drinks 6 beers/day.",
    "Husband {first} would like call w/ any changes, cell {phone}.",
)
_ICU_PLAN = (
    "Bed available at {place} for {dash}.",
    "D/C planned for {dash} to {place}.",
    "Dispo: likely to {place} when stable.",
    "Screened by {place}, call back {dash}.",
    "Transfer to floor {date} if stable.",
    "Call the resident at {ext} w/ SBP <90.",
    "Covering MD: Dr. {last}, pager {pager}.",
    "Hold heparin until {dash}, restart per Dr {last}.",
    "Repeat lytes {dtime}.",
)
_ICU_SIGN = (
    "{first} {last}, RN\n",
    "Report given to {first} {last} RN.\n",
    "Handed off to oncoming RN {first}.\n",
    "-- {first} {last} RN {date}\n",
)


def _icu_narrative(note: _Note, v: _Values) -> None:
    rng = v.rng
    opener = rng.choice(_ICU_OPENERS)
    age = rng.randrange(90, 100) if rng.random() < 0.15 else rng.randrange(35, 90)
    admit = rng.choice(_ICU_ADMITS)
    before, after = admit.split("{age}", 1)
    _fill(note, v, opener)
    _fill(note, v, before)
    note.add(str(age), "AGE_90" if age >= 90 else None)
    after = after.replace("{sex}", rng.choice(("M", "F"))).replace("{problem}", rng.choice(_PROBLEMS))
    _fill(note, v, after)
    note.add("\n")
    if rng.random() < 0.5:
        _fill(note, v, "Events: " + rng.choice(_ICU_PLAN[:4] + _ICU_SOCIAL[12:14]) + "\n")
    for title, clinical, phi, rate in _ICU_SECTIONS:
        note.add(f"{title}: {rng.choice(clinical)}")
        if rng.random() < 0.45:
            note.add(" " + rng.choice(_DISTRACTORS))
        if rng.random() < rate:
            _fill(note, v, " " + rng.choice(phi))
        note.add("\n")
    social = rng.sample(_ICU_SOCIAL, rng.randint(1, 3))
    _fill(note, v, "Social: " + " ".join(social) + "\n")
    plan = rng.sample(_ICU_PLAN, rng.randint(1, 2))
    _fill(note, v, "Plan: " + " ".join(plan) + " " + rng.choice(_DISTRACTORS) + "\n")
    _fill(note, v, rng.choice(_ICU_SIGN))


_WRITERS = {
    "flowsheet": _flowsheet,
    "handoff": _handoff,
    "progress": _progress,
    "phone_call": _phone_call,
    "discharge": _discharge,
    "icu_narrative": _icu_narrative,
}


def generate(count: int, seed: int = 0) -> Iterator[dict]:
    """`count` annotated notes, deterministic for a seed; styles in turn.

    :param count: number of notes.
    :param seed: random seed (Faker and the generator's own choices).
    """
    fake = Faker("en_US")
    for i in range(count):
        rng = random.Random(f"{seed}:{i}")
        fake.seed_instance(rng.randrange(2**31))
        style = STYLES[i % len(STYLES)]
        note = _Note()
        _WRITERS[style](note, _Values(rng, fake))
        yield {"id": f"nursing-{seed}-{i:05d}", "text": note.text(), "spans": note.spans, "style": style}


def main(argv: Sequence[str] | None = None) -> int:
    """Write an annotated nursing-note corpus as JSONL."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    with open(args.output, "w", encoding="utf-8") as handle:
        for record in generate(args.notes, args.seed):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
