"""A synthetic nursing- and progress-note PHI corpus with gold spans of every identifier type.

    python -m clinical.deid.corpus --notes 500 --seed 0 --output /tmp/nursing.annotated.jsonl
    clinical deid eval --input /tmp/nursing.annotated.jsonl

Lines are `{"id", "text", "spans": [{"start", "end", "type"}], "style"}`, the format of
`clinical deid eval` (clinical.deid.evaluate). Every value is made up by Faker (en_US) and the
generator's own seeded choices; nothing comes from a real record. Styles: ICU nursing flowsheet
note with vitals, SBAR shift handoff, progress note with a care-team list and signature block,
phone-call / family-contact note, discharge summary header. Dates come in the forms notes use
(2/12, 02/12/2019, Feb 12, 12-Feb-2019, "on the 12th", 2019-02-12 14:30, February 12th).

It is written by the same project as the detector, so its figures are a regression check of the
formats listed here, not independent evidence of recall on real notes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from faker import Faker

CORPUS_VERSION = "0.1.0"
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

STYLES = ("flowsheet", "handoff", "progress", "phone_call", "discharge")

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

    def name(self, style: str = "full") -> str:
        fake = self.fake
        first, last = fake.first_name(), fake.last_name()
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
    note.add(f"A: stable overnight; {v.rng.choice(_MEDS)} given. Lactate 1.8, K 3.9.\n")
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
    note.add("Dictated by ").add(v.name(), "NAME").add(f", {v.rng.choice(_CREDENTIALS)}; license no. ")
    note.add(f"{v.rng.choice(('RN', 'MD', 'D'))}{v.rng.randrange(10**5, 10**7)}", "LICENSE").add("\n")


_WRITERS = {
    "flowsheet": _flowsheet,
    "handoff": _handoff,
    "progress": _progress,
    "phone_call": _phone_call,
    "discharge": _discharge,
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
