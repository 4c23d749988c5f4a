# ruff: noqa: E501
"""Blind evaluation corpus #3 for the clinical de-identification detector.

What it is
----------
A deterministic generator of synthetic US hospital notes with exact gold PHI
spans. It deliberately covers note types *other* than the classic ICU nursing
progress note (ED triage, telephone encounters, PT/OT, nutrition, pharmacy,
chaplaincy, case management, radiology, operative notes, nursing hand-offs,
VNA referrals, clinic letters, pronouncement notes), plus one system-by-system
ICU shift note, so that a detector tuned on one kind of text is measured on a
broader spread of the writing it will meet.

The intended target of the detector is real ICU nursing text in the
MIMIC/PhysioNet "deid" style whose PHI was replaced by realistic surrogates, so
the notes here lean on the same hard cases: bare first names, lower-case names,
nicknames, initials and signatures, names that are also English words ("Hope",
"Rose", "Baker", "Young"), short dates ("2/12", "2-12", "Feb 12", "the 12th",
"2/12 @ 0700"), facility/town/neighbourhood names, pagers and extensions,
ages over 89 and record numbers -- surrounded by many look-alike distractors
that carry no gold: vitals ("BP 120/80"), scores and fractions ("GCS 15",
"4/5 strength", "pain 6/10"), drips and doses ("levo 0.05", "lasix 40 IV x1"),
ranges ("RR 12-20"), eponyms ("Foley", "Swan-Ganz", "Babinski"), unit names
("MICU", "CCU 7"), weekdays, bare years, drug brands, and English uses of
name-like words ("Tmax rose to 101", "hope to wean").

How it was written
------------------
Blind: from general knowledge of how US clinical notes read, without reading
the detector, its tests, its documentation, or the earlier blind corpora.
Nothing in this file was tuned against the detector's output.

Construction
------------
Every note is built from segments ``(text, type-or-None)`` appended in order,
so gold offsets are exact by construction. Sentence frames contain
``{PLACEHOLDER}`` fields that expand to surrogate PHI (typed segments) or to
distractors (untyped segments). Surrogates come from seeded ``Faker``
instances in ten Latin-script locales plus hand-made pools (nicknames,
word-names, New England towns and neighbourhoods, facility name patterns).
All randomness flows from one ``random.Random(seed)`` and Faker instances
seeded from it, so a given seed always yields the same bytes.

Gold conventions
----------------
* NAME: name words only -- never titles (Dr, Mr, Rev, Fr), credentials
  (RN, MD, PT, PharmD), relation words ("daughter") or a possessive "'s".
  A contiguous first+last name is one span; initials ("K.L.") are NAME.
* DATE: the date plus an attached time ("2/12 @ 0700" is one span); a range
  "2/10-2/12" is two spans; in "the 12th" only "12th" is gold. Bare years,
  weekdays and bare clock times are not gold.
* AGE_90: the number only, and only for ages over 89 ("92" in "92 yo").
* LOCATION: hospitals, facilities, clinics, nursing homes, rehabs, pharmacies,
  agencies, funeral homes, churches, schools, employers/companies, towns and
  neighbourhoods. A leading "the" is not included. US states are not gold.
* ADDRESS: the street line including any apartment/unit; the town is
  LOCATION and the ZIP is ZIP.
* PHONE: phone, fax and pager numbers; for extensions only the digits
  ("x" / "ext" stays outside).
* MRN, ACCOUNT, HEALTH_PLAN, SSN, LICENSE (DEA, state licence, driver's
  licence), DEVICE (implant/pump serials), VEHICLE (plates, VINs), EMAIL, URL,
  IP, ID (NPI, accession, case and badge numbers): the identifier only.
* Spans never overlap, are non-empty and carry no surrounding whitespace.

Running
-------
    python benchmarks/deid_blind_corpus_3.py --notes 600 --seed 7 --output out.jsonl

Each JSONL line is ``{"id", "text", "spans": [{"start", "end", "type"}],
"style"}`` with exclusive ``end``.

Caveat
------
The notes are synthetic. They imitate the surface of real notes but not their
full distribution, clinical coherence or error patterns; treat scores on this
corpus as a complementary signal, not a substitute for evaluation on real,
properly governed data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

PHI_TYPES = frozenset(
    {
        "NAME",
        "LOCATION",
        "ADDRESS",
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
    }
)

# A piece of a note: plain text, or (text, PHI type).
Piece = str | tuple[str, str]

# --------------------------------------------------------------------------
# Surrogate pools
# --------------------------------------------------------------------------

# (locale, weight) for Faker name draws.
NAME_LOCALES = (
    ("en_US", 40),
    ("en_GB", 8),
    ("en_IE", 8),
    ("es_MX", 10),
    ("it_IT", 7),
    ("pt_BR", 6),
    ("fr_FR", 5),
    ("de_DE", 5),
    ("pl_PL", 6),
    ("nl_NL", 5),
)

# Surnames that double as eponyms or distractor words in this corpus; kept out
# of the surrogate pool so that distractor checks stay unambiguous.
RESERVED_SURNAMES = frozenset(
    {"Foley", "Swan", "Ganz", "Babinski", "Parkinson", "Glasgow", "Hickman", "Allen", "Bair", "Hugger"}
)

WORD_FIRST_NAMES_F = (
    "Hope",
    "Rose",
    "Faith",
    "Grace",
    "Joy",
    "Daisy",
    "Iris",
    "June",
    "April",
    "May",
    "Summer",
    "Dawn",
    "Holly",
    "Ivy",
    "Pearl",
    "Ruby",
    "Sunny",
    "Penny",
    "Sandy",
    "Amber",
    "Crystal",
    "Destiny",
    "Star",
    "Violet",
)
WORD_FIRST_NAMES_M = (
    "Will",
    "Bill",
    "Mark",
    "Frank",
    "Art",
    "Rich",
    "Chase",
    "Hunter",
    "Buck",
    "Rusty",
    "Bud",
    "Sonny",
    "Rocky",
    "Lance",
    "Miles",
    "Grant",
    "Cash",
    "Duke",
    "Guy",
    "Chip",
)
WORD_SURNAMES = (
    "Baker",
    "Young",
    "Brown",
    "White",
    "Green",
    "Black",
    "Hill",
    "King",
    "Love",
    "Bell",
    "Wood",
    "Cook",
    "Long",
    "Price",
    "Hunt",
    "Bishop",
    "Park",
    "Rice",
    "Fox",
    "Wolf",
    "Hall",
    "Stone",
    "Lane",
    "Moody",
    "Sharp",
    "Swift",
    "Strong",
    "Small",
    "Little",
    "Short",
    "Bright",
    "Waters",
    "Rivers",
    "Banks",
    "Mason",
    "Fisher",
    "Miller",
    "Porter",
    "Day",
    "Knight",
    "Page",
    "Frost",
    "Snow",
    "Rush",
    "Church",
    "Hope",
    "Rose",
    "Gay",
    "Best",
    "Wise",
)
NICKNAMES_F = (
    "Liz",
    "Beth",
    "Jen",
    "Jenny",
    "Kate",
    "Katie",
    "Sue",
    "Deb",
    "Peggy",
    "Meg",
    "Kathy",
    "Patty",
    "Dottie",
    "Millie",
    "Fran",
    "Trish",
    "Kris",
    "Lupe",
    "Pat",
    "Sam",
    "Alex",
    "Chris",
)
NICKNAMES_M = (
    "Bob",
    "Bobby",
    "Mike",
    "Mikey",
    "Tom",
    "Tommy",
    "Jim",
    "Jimmy",
    "Billy",
    "Dave",
    "Steve",
    "Nick",
    "Tony",
    "Joe",
    "Joey",
    "Ed",
    "Teddy",
    "Rob",
    "Dan",
    "Danny",
    "Chuck",
    "Sully",
    "Mo",
    "Gus",
    "Hank",
    "Lou",
    "Vinny",
    "Sal",
    "Bubba",
    "Manny",
    "Chepe",
    "Beto",
    "Paco",
    "Pat",
    "Sam",
    "Alex",
    "Chris",
)
NICKNAMES = tuple(dict.fromkeys(NICKNAMES_F + NICKNAMES_M))

TOWNS = (
    "Quincy",
    "Revere",
    "Brockton",
    "Framingham",
    "Lowell",
    "Chelsea",
    "Somerville",
    "Malden",
    "Medford",
    "Everett",
    "Lynn",
    "Salem",
    "Peabody",
    "Woburn",
    "Waltham",
    "Newton",
    "Brookline",
    "Milton",
    "Dedham",
    "Norwood",
    "Braintree",
    "Weymouth",
    "Randolph",
    "Stoughton",
    "Taunton",
    "Fall River",
    "New Bedford",
    "Plymouth",
    "Marshfield",
    "Hingham",
    "Worcester",
    "Fitchburg",
    "Leominster",
    "Methuen",
    "Haverhill",
    "Lawrence",
    "Gloucester",
    "Beverly",
    "Danvers",
    "Saugus",
    "Winthrop",
    "Nahant",
    "Hull",
    "Scituate",
    "Cohasset",
    "Canton",
    "Sharon",
    "Natick",
    "Wellesley",
    "Needham",
    "Attleboro",
    "Nashua",
    "Pawtucket",
    "Cranston",
    "Manchester",
)
NEIGHBOURHOODS = (
    "Dorchester",
    "Jamaica Plain",
    "JP",
    "Southie",
    "Eastie",
    "Roxbury",
    "Mattapan",
    "Hyde Park",
    "Back Bay",
    "Allston",
    "Brighton",
    "Charlestown",
    "Roslindale",
    "West Roxbury",
    "Chinatown",
    "North End",
    "South End",
    "Mission Hill",
    "Fields Corner",
    "Savin Hill",
    "Codman Square",
    "Uphams Corner",
    "Wollaston",
    "Squantum",
    "Germantown",
    "Dot",
)
SAINTS = (
    "Mary",
    "Joseph",
    "Anthony",
    "Patrick",
    "Brendan",
    "Margaret",
    "Elizabeth",
    "Ann",
    "Theresa",
    "Francis",
    "Jude",
    "Michael",
    "Monica",
    "Agatha",
    "Gregory",
    "Columbkille",
    "Ambrose",
    "Clare",
    "Rita",
    "Vincent",
)
PLACE_WORDS = (
    "Oak",
    "Maple",
    "Cedar",
    "Willow",
    "Pine",
    "Harbor",
    "Bay",
    "River",
    "Hillside",
    "Meadow",
    "Brook",
    "Lake",
    "Sunrise",
    "Briarwood",
    "Fairview",
    "Hollis",
    "Crestview",
    "Greenbriar",
    "Kimwell",
    "Marina",
)
HOSPITAL_ACRONYMS = ("MGH", "BIDMC", "BMC", "NEBH", "CHA", "SSH", "BWH", "NWH", "MWMC", "LGH", "QMC", "CCH")
EMPLOYERS = (
    "GE",
    "Stop & Shop",
    "Raytheon",
    "MBTA",
    "Market Basket",
    "Dunkin'",
    "Verizon",
    "Gillette",
    "Polaroid",
    "Home Depot",
    "UPS",
    "Fidelity",
    "State Street",
    "Boston Edison",
    "Filene's",
    "Shaw's",
    "Costco",
    "Staples",
    "Walmart",
    "Wang Labs",
    "Digital Equipment",
    "Globe",
    "Hood Dairy",
    "Necco",
    "Bank of Boston",
    "Friendly's",
    "Star Market",
    "Sears",
)
SCHOOL_POOL = (
    "UMass Boston",
    "Northeastern",
    "Boston College",
    "Bunker Hill CC",
    "Salem State",
    "Boston Latin",
    "Suffolk",
    "Emerson",
    "Wentworth",
    "Bridgewater State",
    "Quincy College",
    "Mass Bay CC",
    "Catholic Memorial",
    "Fontbonne Academy",
)
STREET_WORDS = (
    "Elm",
    "Maple",
    "Washington",
    "Centre",
    "Adams",
    "Hancock",
    "Park",
    "Highland",
    "Pleasant",
    "Summer",
    "Winter",
    "Union",
    "Church",
    "School",
    "Water",
    "Bowdoin",
    "Dorchester",
    "Columbia",
    "Blue Hill",
    "Neponset",
    "Commonwealth",
    "Beacon",
    "Tremont",
    "Harvard",
    "Cottage",
    "Granite",
    "Hollis",
    "Fuller",
)
STREET_SUFFIXES = (
    "St",
    "St.",
    "Street",
    "Ave",
    "Ave.",
    "Avenue",
    "Rd",
    "Road",
    "Terrace",
    "Ter",
    "Way",
    "Pl",
    "Circle",
    "Ln",
    "Dr",
    "Blvd",
)
STATES = ("MA", "Mass", "Massachusetts", "NH", "RI", "ME", "CT", "FL", "NY")
AREA_CODES = ("617", "508", "781", "978", "413", "774", "857", "339", "401", "603", "351", "207")
EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "comcast.net",
    "verizon.net",
    "aol.com",
    "hotmail.com",
    "msn.com",
    "icloud.com",
)
MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_FULL = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Mon",
    "Tues",
    "Wed",
    "Thurs",
    "Fri",
    "Sat",
    "Sun",
)
UNITS = (
    "MICU",
    "CCU 7",
    "SICU",
    "T-SICU",
    "CSRU",
    "CCU",
    "6 West",
    "Step-down",
    "MICU B",
    "PACU",
    "4 North",
    "Rm 412",
    "bed 7",
)
FEMALE_RELATIONS = (
    "daughter",
    "wife",
    "sister",
    "niece",
    "granddaughter",
    "mother",
    "dtr",
    "daughter-in-law",
    "partner",
    "friend",
)
MALE_RELATIONS = (
    "son",
    "husband",
    "brother",
    "nephew",
    "grandson",
    "father",
    "son-in-law",
    "partner",
    "friend",
    "neighbor",
)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_PLACEHOLDER = re.compile(r"\{([A-Z][A-Za-z0-9_]*)\}")


def ordinal(n: int) -> str:
    """Return ``n`` with an English ordinal suffix: 1st, 2nd, 12th, 23rd."""
    if 11 <= n % 100 <= 13:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def ascii_fold(text: str) -> str:
    """Strip accents and non-letters so a name can go into an email or URL."""
    decomposed = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z]", "", decomposed).lower()


# --------------------------------------------------------------------------
# Notes and the segment builder
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Note:
    id: str
    text: str
    spans: tuple[Span, ...]
    style: str

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "spans": [{"start": s.start, "end": s.end, "type": s.type} for s in self.spans],
            "style": self.style,
        }


class NoteBuilder:
    """Accumulates pieces; typed pieces become gold spans at exact offsets."""

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._spans: list[Span] = []
        self._length = 0

    def add(self, pieces: list[Piece]) -> None:
        for piece in pieces:
            text, kind = (piece, None) if isinstance(piece, str) else piece
            if kind is not None:
                if kind not in PHI_TYPES or not text or text != text.strip():
                    raise ValueError(f"bad gold piece {piece!r}")
                self._spans.append(Span(self._length, self._length + len(text), kind))
            self._chunks.append(text)
            self._length += len(text)

    def build(self, note_id: str, style: str) -> Note:
        return Note(note_id, "".join(self._chunks), tuple(self._spans), style)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    female: bool


# --------------------------------------------------------------------------
# The writer: surrogates, distractors and template rendering for one note
# --------------------------------------------------------------------------


class NoteWriter:
    """Renders sentence frames for one note against a consistent persona.

    ``informal`` notes (nursing, phone, hand-off) lower-case some names, as
    clinicians typing quickly do.
    """

    def __init__(self, rng: random.Random, fakers: dict[str, Faker], informal: bool) -> None:
        self.rng = rng
        self._fakers = fakers
        self._locales = [loc for loc, _ in NAME_LOCALES]
        self._weights = [w for _, w in NAME_LOCALES]
        self.informal = informal
        self.builder = NoteBuilder()
        self.patient = self._person()
        self.age = rng.randint(90, 104) if rng.random() < 0.35 else rng.randint(38, 89)
        self.base_date = dt.date(2004, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 20))
        self.relative = self._person(same_last_as=self.patient if rng.random() < 0.6 else None)
        self.relation = rng.choice(FEMALE_RELATIONS if self.relative.female else MALE_RELATIONS)
        self.attending = self._last_name()
        self.nurse = self._first_name(rng.random() < 0.8)
        self._fillers: dict[str, Callable[[], list[Piece]]] = self._filler_table()

    # -- names ------------------------------------------------------------

    def _faker(self) -> Faker:
        return self._fakers[self.rng.choices(self._locales, self._weights)[0]]

    def _first_name(self, female: bool) -> str:
        roll = self.rng.random()
        if roll < 0.12:
            return self.rng.choice(WORD_FIRST_NAMES_F if female else WORD_FIRST_NAMES_M)
        if roll < 0.20:
            return self.rng.choice(NICKNAMES_F if female else NICKNAMES_M)
        faker = self._faker()
        return faker.first_name_female() if female else faker.first_name_male()

    def _last_name(self) -> str:
        if self.rng.random() < 0.12:
            return self.rng.choice(WORD_SURNAMES)
        while (name := self._faker().last_name()) in RESERVED_SURNAMES:
            continue
        return name

    def _person(self, same_last_as: Person | None = None) -> Person:
        female = self.rng.random() < 0.55
        last = same_last_as.last if same_last_as else self._last_name()
        return Person(self._first_name(female), last, female)

    def _cased(self, name: str) -> str:
        return name.lower() if self.informal and self.rng.random() < 0.22 else name

    def _initials(self) -> str:
        letters = [self.rng.choice("ABCDEFGHJKLMNPRSTW") for _ in range(self.rng.choice((2, 2, 3)))]
        form = self.rng.randrange(4)
        if form == 0:
            return ".".join(letters) + "."
        if form == 1:
            return "".join(letters)
        if form == 2:
            return "".join(letters).lower()
        return f"{letters[0]}. {letters[-1]}."

    def _full_name(self) -> str:
        first, last = self._first_name(self.rng.random() < 0.55), self._last_name()
        form = self.rng.randrange(6)
        if form == 0:
            return f"{first[0]}. {last}"
        if form == 1:
            return f"{first} {self.rng.choice('ABCDEFGHJKLMRSTW')}. {last}"
        return f"{first} {last}"

    def _any_name(self) -> str:
        form = self.rng.randrange(6)
        if form == 0:
            return self._initials()
        if form == 1:
            return self._full_name()
        if form == 2:
            return self._last_name()
        return self._cased(self._first_name(self.rng.random() < 0.6))

    def signature(self, credential: str) -> list[Piece]:
        first, last = self._first_name(self.rng.random() < 0.65), self._last_name()
        form = self.rng.randrange(7)
        if form == 0:
            return [(first, "NAME"), f" {credential}"]
        if form == 1:
            return ["- ", (f"{first[0]}. {last}".lower(), "NAME"), f" {credential}"]
        if form == 2:
            return [(self._initials(), "NAME")]
        if form == 3:
            return [(f"{first} {last}", "NAME"), f", {credential}"]
        if form == 4:
            return [(f"{first} {last[0]}.", "NAME"), f", {credential}"]
        if form == 5:
            return ["--", (first.lower(), "NAME"), f" ({credential})"]
        return [(f"{first} {last}", "NAME"), f" {credential}"]

    # -- dates and ages -----------------------------------------------------

    def _near_date(self, max_back: int = 6, max_forward: int = 3) -> dt.date:
        return self.base_date + dt.timedelta(days=self.rng.randint(-max_back, max_forward))

    def _format_date(self, day: dt.date, form: str) -> str:
        m, d, y = day.month, day.day, day.year
        return {
            "m/d": f"{m}/{d}",
            "m-d": f"{m}-{d}",
            "m/d/yy": f"{m}/{d}/{y % 100:02d}",
            "mm/dd/yyyy": f"{m:02d}/{d:02d}/{y}",
            "mon d": f"{MONTH_ABBR[m]} {d}",
            "month dth": f"{MONTH_FULL[m]} {ordinal(d)}",
            "d-mon": f"{d}-{MONTH_ABBR[m]}",
            "iso": day.isoformat(),
            "month d, y": f"{MONTH_FULL[m]} {d}, {y}",
            "m.d.yy": f"{m}.{d}.{y % 100:02d}",
        }[form]

    def _short_date(self, day: dt.date) -> str:
        form = self.rng.choices(
            ("m/d", "m-d", "m/d/yy", "mon d", "month dth", "d-mon", "mm/dd/yyyy", "m.d.yy"),
            (30, 10, 14, 12, 6, 4, 6, 3),
        )[0]
        return self._format_date(day, form)

    def _long_date(self, day: dt.date) -> str:
        return self._format_date(day, self.rng.choice(("month d, y", "mm/dd/yyyy", "iso", "m/d/yy")))

    def _clock(self) -> str:
        hour, minute = self.rng.randint(0, 23), self.rng.choice((0, 0, 15, 30, 45, 5, 20, 50))
        form = self.rng.randrange(5)
        if form == 0:
            return f"{hour:02d}{minute:02d}"
        if form == 1:
            return f"{hour:02d}:{minute:02d}"
        twelve = hour % 12 or 12
        suffix = "am" if hour < 12 else "pm"
        if form == 2:
            return f"{twelve}{suffix}" if minute == 0 else f"{twelve}:{minute:02d}{suffix}"
        if form == 3:
            return f"{twelve}:{minute:02d} {suffix.upper()}"
        return f"{hour:02d}{minute:02d}h"

    def _date_time(self) -> str:
        connector = self.rng.choice((" @ ", " at ", " ", " @", ", "))
        return f"{self._short_date(self._near_date())}{connector}{self._clock()}"

    def _date_range(self) -> list[Piece]:
        start = self._near_date(8, 0)
        end = start + dt.timedelta(days=self.rng.randint(1, 4))
        form = self.rng.choice(("m/d", "m/d", "mon d", "m-d"))
        joiner = self.rng.choice(("-", " - ", " to ", "--")) if form != "m-d" else " to "
        return [(self._format_date(start, form), "DATE"), joiner, (self._format_date(end, form), "DATE")]

    def _date_of_birth(self) -> str:
        year = self.base_date.year - self.age
        day = dt.date(year, self.rng.randint(1, 12), self.rng.randint(1, 28))
        return self._format_date(day, self.rng.choice(("mm/dd/yyyy", "m/d/yy", "month d, y")))

    def _age(self) -> list[Piece]:
        return [(str(self.age), "AGE_90")] if self.age > 89 else [str(self.age)]

    # -- places -----------------------------------------------------------

    def _town(self) -> str:
        return self._fakers["en_US"].city() if self.rng.random() < 0.35 else self.rng.choice(TOWNS)

    def _hospital(self) -> str:
        form = self.rng.randrange(6)
        if form == 0:
            return self.rng.choice(HOSPITAL_ACRONYMS)
        if form == 1:
            return f"St. {self.rng.choice(SAINTS)}'s Hospital"
        if form == 2:
            return f"{self._last_name()} Memorial"
        return f"{self._town()} {self.rng.choice(('General Hospital', 'Hospital', 'Medical Center', 'Community Hospital', 'Regional'))}"

    def _rehab(self) -> str:
        form = self.rng.randrange(5)
        if form == 0:
            return f"{self._town()} Rehab"
        if form == 1:
            return f"{self._last_name()} Rehabilitation Center"
        if form == 2:
            return f"{self.rng.choice(PLACE_WORDS)} {self.rng.choice(('Manor', 'Gardens', 'Pointe', 'House', 'Village', 'Commons'))}"
        if form == 3:
            return f"{self.rng.choice(PLACE_WORDS)} {self.rng.choice(('Nursing & Rehab', 'Skilled Nursing', 'Nursing Home', 'Health Care Center'))}"
        return f"{self._town()} Nursing and Rehabilitation Center"

    def _clinic(self) -> str:
        form = self.rng.randrange(4)
        place = self.rng.choice(NEIGHBOURHOODS) if form == 3 else self._town()
        if form == 2:
            return f"{self._last_name()} Internal Medicine"
        return f"{place} {self.rng.choice(('Family Health Center', 'Health Center', 'Cardiology Associates', 'Medical Associates', 'Primary Care', 'Pulmonary Clinic'))}"

    def _church(self) -> str:
        form = self.rng.randrange(5)
        if form == 0:
            return f"St. {self.rng.choice(SAINTS)} Church"
        if form == 1:
            return f"St. {self.rng.choice(SAINTS)}'s"
        if form == 2:
            return f"First Baptist Church of {self._town()}"
        if form == 3:
            return f"Temple {self.rng.choice(('Beth El', 'Israel', 'Emanuel', 'Sinai'))}"
        return f"{self._town()} {self.rng.choice(('Congregational Church', 'Assembly of God', 'Methodist Church', 'Kingdom Hall'))}"

    def _school(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(SCHOOL_POOL)
        return f"{self._town()} {self.rng.choice(('High School', 'Middle School', 'Community College', 'Elementary'))}"

    def _employer(self) -> str:
        return self._fakers["en_US"].company() if self.rng.random() < 0.3 else self.rng.choice(EMPLOYERS)

    def _agency(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return f"{self._town()} VNA"
        if form == 1:
            return f"VNA of {self._town()}"
        return f"{self._last_name()} Home Health"

    def _pharmacy(self) -> str:
        if self.rng.random() < 0.5:
            return self.rng.choice(("CVS", "Walgreens", "Rite Aid", "Brooks"))
        return f"{self._town()} Pharmacy"

    def _street(self) -> str:
        if self.rng.random() < 0.3:
            return self._fakers["en_US"].street_address()
        line = f"{self.rng.randint(2, 1999)} {self.rng.choice(STREET_WORDS)} {self.rng.choice(STREET_SUFFIXES)}"
        unit = self.rng.randrange(5)
        if unit == 0:
            line += f" apt {self.rng.randint(1, 40)}"
        elif unit == 1:
            line += f", #{self.rng.randint(1, 12)}{self.rng.choice('ABC')}"
        elif unit == 2:
            line += f" Apt. {self.rng.randint(101, 912)}"
        return line

    def _zip(self) -> str:
        code = f"0{self.rng.randint(1001, 2799)}"
        return code if self.rng.random() < 0.85 else f"{code}-{self.rng.randint(1000, 9999)}"

    # -- contact and identifiers --------------------------------------------

    def _phone(self) -> str:
        area, exchange, line = self.rng.choice(AREA_CODES), self.rng.randint(201, 989), self.rng.randint(0, 9999)
        form = self.rng.randrange(6)
        if form == 0:
            return f"({area}) {exchange}-{line:04d}"
        if form == 1:
            return f"{area}-{exchange}-{line:04d}"
        if form == 2:
            return f"{area}.{exchange}.{line:04d}"
        if form == 3:
            return f"{exchange}-{line:04d}"
        if form == 4:
            return f"{area} {exchange} {line:04d}"
        return f"1-{area}-{exchange}-{line:04d}"

    def _pager(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return f"{self.rng.randint(10000, 99999)}"
        if form == 1:
            return f"{self.rng.randint(1, 9)}-{self.rng.randint(1000, 9999)}"
        return self._phone()

    def _email(self) -> str:
        first, last = ascii_fold(self._first_name(True)) or "pat", ascii_fold(self._last_name()) or "lee"
        form = self.rng.randrange(3)
        if form == 0:
            return f"{first}.{last}@{self.rng.choice(EMAIL_DOMAINS)}"
        if form == 1:
            return f"{first[0]}{last}{self.rng.randint(1, 99)}@{self.rng.choice(EMAIL_DOMAINS)}"
        return f"{first[0]}{last}@{ascii_fold(self._town())}health.org"

    def _url(self) -> str:
        last = ascii_fold(self._last_name()) or "lee"
        form = self.rng.randrange(3)
        if form == 0:
            return f"www.caringbridge.org/visit/{ascii_fold(self.patient.first)}{ascii_fold(self.patient.last)}"
        if form == 1:
            return f"https://www.{last}familydental.com"
        return f"http://{ascii_fold(self._town())}vna.org/referrals"

    def _ip(self) -> str:
        prefix = self.rng.choice(("10.{}.{}", "192.168.{}", "172.16.{}"))
        octets = [self.rng.randint(0, 254) for _ in range(prefix.count("{}"))]
        return prefix.format(*octets) + f".{self.rng.randint(2, 254)}"

    def _digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def _letters(self, count: int) -> str:
        return "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(count))

    def _mrn(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return self._digits(7)
        if form == 1:
            return f"00{self._digits(6)}"
        return f"{self._digits(3)}-{self._digits(2)}-{self._digits(2)}"

    def _account(self) -> str:
        return self._digits(10) if self.rng.random() < 0.6 else f"V{self._digits(8)}"

    def _health_plan(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return f"{self.rng.randint(1, 9)}{self._letters(2)}{self._digits(1)}-{self._letters(2)}{self._digits(1)}-{self._letters(2)}{self._digits(2)}"
        if form == 1:
            return f"{self._letters(3)}{self._digits(9)}"
        return self._digits(12)

    def _ssn(self) -> str:
        return f"{self.rng.randint(100, 665)}-{self._digits(2).replace('00', '17')}-{self.rng.randint(1000, 9999)}"

    def _license(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return f"{self._letters(2)}{self._digits(7)}"
        if form == 1:
            return f"{self.rng.choice(('RN', 'MD', ''))}{self._digits(6)}"
        return f"S{self._digits(8)}"

    def _device(self) -> str:
        form = self.rng.randrange(3)
        if form == 0:
            return f"{self._letters(3)}{self._digits(6)}{self._letters(1)}"
        if form == 1:
            return f"{self._digits(4)}-{self._digits(2)}{self._letters(1)}{self._digits(1)}"
        return f"HM{self._digits(6)}"

    def _plate(self) -> str:
        return (
            f"{self._digits(1)}{self._letters(2)} {self._digits(3)}"
            if self.rng.random() < 0.6
            else f"{self._letters(3)}-{self._digits(4)}"
        )

    def _vin(self) -> str:
        return "".join(self.rng.choice(VIN_CHARS) for _ in range(17))

    def _npi(self) -> str:
        return f"1{self._digits(9)}"

    def _case_id(self) -> str:
        return f"{self._letters(2)}-{self._digits(5)}" if self.rng.random() < 0.5 else self._digits(8)

    # -- distractors (never gold) -------------------------------------------

    def _vitals(self) -> str:
        r = self.rng
        return f"T {r.uniform(36.1, 39.4):.1f} HR {r.randint(58, 128)} BP {r.randint(88, 172)}/{r.randint(48, 96)} RR {r.randint(12, 30)} SpO2 {r.randint(88, 100)}%"

    def _labs(self) -> str:
        r = self.rng
        options = [
            f"Na {r.randint(128, 146)}",
            f"K {r.uniform(3.0, 5.6):.1f}",
            f"Cr {r.uniform(0.6, 3.4):.1f}",
            f"Hct {r.uniform(21, 40):.1f}",
            f"WBC {r.uniform(3, 22):.1f}",
            f"lactate {r.uniform(0.8, 5):.1f}",
            f"INR {r.uniform(1, 3.2):.1f}",
            f"ABG 7.{r.randint(21, 48)}/{r.randint(30, 68)}/{r.randint(55, 140)}",
            f"glucose {r.randint(70, 320)}",
            f"Mg {r.uniform(1.4, 2.6):.1f}",
        ]
        return ", ".join(r.sample(options, r.randint(2, 4)))

    def _drip(self) -> str:
        r = self.rng
        return r.choice(
            (
                f"levo {r.choice(('0.03', '0.05', '0.08', '0.1'))} mcg/kg/min",
                f"propofol {r.choice((20, 30, 40))} mcg/kg/min",
                f"heparin gtt @ {r.choice((900, 1100, 1250))} u/hr",
                f"insulin gtt {r.randint(2, 9)} u/hr",
                f"fentanyl {r.choice((25, 50, 100))} mcg/hr",
                f"neo {r.choice((0.5, 1, 1.5))} mcg/kg/min",
            )
        )

    def _score(self) -> str:
        r = self.rng
        return r.choice(
            (
                "GCS 15",
                f"RASS {r.choice(('-2', '-1', '0', '+1'))}",
                f"CIWA {r.randint(2, 18)}",
                "pain 6/10",
                f"Braden {r.randint(10, 20)}",
                "4/5 strength",
                "2/4 pulses",
                f"Morse {r.choice((25, 45, 65))}",
            )
        )

    def _filler_table(self) -> dict[str, Callable[[], list[Piece]]]:
        p = self.patient
        rel = self.relative
        return {
            # persona
            "PT": lambda: [(f"{p.first} {p.last}", "NAME")],
            "PTF": lambda: [(self._cased(p.first), "NAME")],
            "PTL": lambda: [(p.last, "NAME")],
            "MR": lambda: [self.rng.choice(("Mrs.", "Ms.", "Ms")) if p.female else self.rng.choice(("Mr.", "Mr"))],
            "SEX": lambda: ["F" if p.female else "M"],
            "PRO": lambda: ["she" if p.female else "he"],
            "PROC": lambda: ["She" if p.female else "He"],
            "POS": lambda: ["her" if p.female else "his"],
            "REL": lambda: [self.relation],
            "RELN": lambda: [(self._cased(rel.first), "NAME")],
            "RELF": lambda: [(f"{rel.first} {rel.last}", "NAME")],
            "ATT": lambda: [(self.attending, "NAME")],
            "RN": lambda: [(self._cased(self.nurse), "NAME")],
            # other people
            "FIRST": lambda: [(self._cased(self._first_name(self.rng.random() < 0.6)), "NAME")],
            "LAST": lambda: [(self._last_name(), "NAME")],
            "FULL": lambda: [(self._full_name(), "NAME")],
            "NICK": lambda: [(self._cased(self.rng.choice(NICKNAMES)), "NAME")],
            "INIT": lambda: [(self._initials(), "NAME")],
            "WORDNAME": lambda: [(self.rng.choice(WORD_FIRST_NAMES_F + WORD_FIRST_NAMES_M), "NAME")],
            "ANYNAME": lambda: [(self._any_name(), "NAME")],
            # dates and ages
            "DATE": lambda: [(self._short_date(self._near_date()), "DATE")],
            "PASTDATE": lambda: [
                (self._short_date(self.base_date - dt.timedelta(days=self.rng.randint(20, 700))), "DATE")
            ],
            "DT": lambda: [(self._date_time(), "DATE")],
            "DLONG": lambda: [(self._long_date(self._near_date()), "DATE")],
            "DAYTH": lambda: ["the ", (ordinal(self._near_date(0, 10).day), "DATE")],
            "DRANGE": self._date_range,
            "DOB": lambda: [(self._date_of_birth(), "DATE")],
            "AGE": self._age,
            "AGE90": lambda: [(str(self.rng.randint(90, 106)), "AGE_90")],
            "YOUNGAGE": lambda: [str(self.rng.randint(19, 89))],
            "TIME": lambda: [self._clock()],
            "WEEKDAY": lambda: [self.rng.choice(WEEKDAYS)],
            "YEAR": lambda: [str(self.rng.randint(1962, 2019))],
            "HD": lambda: [str(self.rng.randint(2, 21))],
            "EVENT": lambda: self.render(self.rng.choice(EVENT_FRAMES)),
            # places
            "HOSP": lambda: [(self._hospital(), "LOCATION")],
            "REHAB": lambda: [(self._rehab(), "LOCATION")],
            "CLINIC": lambda: [(self._clinic(), "LOCATION")],
            "CHURCH": lambda: [(self._church(), "LOCATION")],
            "SCHOOL": lambda: [(self._school(), "LOCATION")],
            "EMPLOYER": lambda: [(self._employer(), "LOCATION")],
            "AGENCY": lambda: [(self._agency(), "LOCATION")],
            "PHARMACY": lambda: [(self._pharmacy(), "LOCATION")],
            "FUNERAL": lambda: [
                (
                    f"{self._last_name()} {self.rng.choice(('Funeral Home', '& Sons Funeral Home', 'Memorial Chapel'))}",
                    "LOCATION",
                )
            ],
            "TOWN": lambda: [(self._town(), "LOCATION")],
            "HOOD": lambda: [(self.rng.choice(NEIGHBOURHOODS), "LOCATION")],
            "STREET": lambda: [(self._street(), "ADDRESS")],
            "ZIP": lambda: [(self._zip(), "ZIP")],
            "STATE": lambda: [self.rng.choice(STATES)],
            "UNIT": lambda: [self.rng.choice(UNITS)],
            # contact and identifiers
            "PHONE": lambda: [(self._phone(), "PHONE")],
            "PAGER": lambda: [(self._pager(), "PHONE")],
            "EXT": lambda: [
                self.rng.choice(("x", "ext ", "ext. ", "x ")),
                (self._digits(self.rng.choice((4, 5))), "PHONE"),
            ],
            "EMAIL": lambda: [(self._email(), "EMAIL")],
            "URL": lambda: [(self._url(), "URL")],
            "IP": lambda: [(self._ip(), "IP")],
            "MRN": lambda: [(self._mrn(), "MRN")],
            "ACCT": lambda: [(self._account(), "ACCOUNT")],
            "PLAN": lambda: [(self._health_plan(), "HEALTH_PLAN")],
            "SSN": lambda: [(self._ssn(), "SSN")],
            "LIC": lambda: [(self._license(), "LICENSE")],
            "DEVICE": lambda: [(self._device(), "DEVICE")],
            "PLATE": lambda: [(self._plate(), "VEHICLE")],
            "VIN": lambda: [(self._vin(), "VEHICLE")],
            "NPI": lambda: [(self._npi(), "ID")],
            "CASEID": lambda: [(self._case_id(), "ID")],
            # distractors
            "VITALS": lambda: [self._vitals()],
            "LABS": lambda: [self._labs()],
            "DRIP": lambda: [self._drip()],
            "SCORE": lambda: [self._score()],
        }

    # -- rendering --------------------------------------------------------

    def render(self, template: str) -> list[Piece]:
        """Expand ``{KEY}`` placeholders; ``{SIG_X}`` is a signature with credential X."""
        pieces: list[Piece] = []
        for index, part in enumerate(_PLACEHOLDER.split(template)):
            if index % 2 == 0:
                if part:
                    pieces.append(part)
            elif part.startswith("SIG_"):
                pieces.extend(self.signature(part[4:].replace("_", " ")))
            else:
                pieces.extend(self._fillers[part]())
        return pieces

    def line(self, *templates: str) -> None:
        """Write one of ``templates`` (chosen at random) followed by a newline."""
        self.builder.add(self.render(self.rng.choice(templates)) + ["\n"])

    def some(self, templates: tuple[str, ...], low: int, high: int, joiner: str = " ") -> None:
        """Write ``low..high`` distinct templates joined by ``joiner`` on one line."""
        chosen = self.rng.sample(templates, self.rng.randint(low, min(high, len(templates))))
        pieces: list[Piece] = []
        for index, template in enumerate(chosen):
            if index:
                pieces.append(joiner)
            pieces.extend(self.render(template))
        self.builder.add(pieces + ["\n"])

    def blank(self) -> None:
        self.builder.add(["\n"])


# Shared narrative frames: hospital-course events mixing PHI with look-alikes.
EVENT_FRAMES = (
    "Overnight pt pulled at NGT at {TIME}, replaced, KUB ok; Dr {LAST} aware.",
    "Transfused 1 u PRBC {DT} for Hct 21.4, post Hct 25.",
    "Seen by ortho ({INIT}) on {DATE}, nonop mgmt.",
    "Bed alarm on, 1:1 sitter since {WEEKDAY}.",
    "Cards (Dr {LAST}) following; TTE {DATE} EF 30-35%.",
    "Pt's {REL} {RELN} asked for update, given by {RN} RN at {TIME}.",
    "Received Ativan 0.5 mg IV x1 at 2200 for agitation, CIWA 12.",
    "Was on Coumadin at home; last dose {DATE} per {PHARMACY}.",
    "PICC placed {DT} by IV team ({FIRST}), tip SVC/RA junction.",
    "BCx from {DATE} NGTD; UCx w/ E. coli.",
    "Outside records from {HOSP} faxed {DATE} ({PHONE}).",
    "Pt hopes to be home by Easter; {REL} will stay w/ pt in {TOWN}.",
    "Dr {ATT} and {ANYNAME} (renal) d/w family re HD, plan trial {DAYTH}.",
    "Weight 81.2 kg (82.0 yesterday). I/O +1.2 L. Lasix 40 IV x1 given.",
    "Swallow eval by SLP {FIRST} {DATE}: nectar thick liquids.",
    "Code status confirmed DNR/DNI w/ {REL} {RELF} on {DATE}.",
    "Hx of parkinsonism; Sinemet 25/100 TID resumed.",
    "Son-in-law {FIRST} called from {EMPLOYER}, will come tonight.",
    "Neighbor {WORDNAME} sat w/ pt this afternoon.",
    "Pt's older sister {WORDNAME} ({AGE90} y/o) lives at {REHAB}, updated by phone.",
    "Roommate is {YOUNGAGE} yo, curtain drawn for privacy.",
)


# --------------------------------------------------------------------------
# Note styles
# --------------------------------------------------------------------------


def ed_triage(w: NoteWriter) -> None:
    w.line("ED TRIAGE NOTE  {DT}", "Triage Note -- {DT}", "EMERGENCY DEPT TRIAGE   Arrived {DT}")
    w.line(
        "Arrival: BIBA from {REHAB}, {TOWN}.",
        "Arrival: walk-in w/ {REL} {RELN}.",
        "Arrival: Medic 12 from home in {HOOD}.",
        "Arrival: transfer from {HOSP} ED, accepted by Dr {ATT}.",
    )
    w.line(
        "CC: SOB x2 days",
        "CC: fall at home, ? head strike",
        "CC: AMS per NH staff",
        "CC: chest pain since {WEEKDAY}",
        "CC: fever, cough",
    )
    w.some(
        (
            "{AGE} yo {SEX} w/ hx CHF, afib on coumadin, COPD.",
            "Per EMS pt found on floor by {REL} {RELN} at {TIME}, last seen well {DT}.",
            "Sent in by PCP Dr {LAST} ({CLINIC}) after abnl labs drawn {DATE}.",
            "Recent admit to {HOSP} {DRANGE} for PNA.",
            "Lives at {REHAB} since {PASTDATE}; staff nurse {FIRST} reports pt more confused than baseline.",
            "Daughter states temp rose to 101.8 at home this am.",
        ),
        3,
        5,
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line("Triage VS: {VITALS}. {SCORE}. Pain 6/10.", "VS: {VITALS}  FSBG 212  {SCORE}")
    w.line(
        "Allergies: PCN (rash), sulfa.  Meds: see list from {PHARMACY} ({PHONE}).",
        "NKDA. Meds per list faxed from {REHAB} (fax {PHONE}).",
    )
    w.line("PMD: Dr. {FULL}, {CLINIC}, {PHONE}", "PCP {LAST}/{LAST} at {CLINIC}")
    w.line("Emergency contact: {REL} {RELF} {PHONE} (cell)", "Contact: {REL} {RELN} - {PHONE}; alt {FIRST} {PHONE}")
    w.line(
        "ESI 2. To {UNIT} for eval. Dr {ATT} aware @ {TIME}.",
        "ESI 3, to fast track. MD {LAST} aware.",
        "ESI 2 - placed in rm 14, {INIT} to see.",
    )
    w.line("MRN {MRN}  Acct {ACCT}", "Unit # {MRN}")
    w.line("{SIG_RN}", "{SIG_RN}, triage", "{SIG_RN}")


def phone_message(w: NoteWriter) -> None:
    w.line("TELEPHONE ENCOUNTER", "Phone Message", "PHONE NOTE", "*** TELEPHONE CALL ***")
    w.line("Date/time: {DT}   Taken by: {FIRST} (front desk)", "Rec'd {DT} by {INIT}", "{DT} -- call from {REL}")
    w.line(
        "Caller: {RELF} ({REL})  Callback # {PHONE}",
        "Caller: {RELN}, pt's {REL}. Best # {PHONE} or cell {PHONE}",
        "Caller: pt self, {PHONE}",
    )
    w.line("Re: {PT}   DOB {DOB}   MRN {MRN}", "Pt: {PTL}, {PTF}  (DOB {DOB})")
    w.some(
        (
            '{REL} states pt "not herself" since {WEEKDAY}, more sleepy, eating poorly.',
            "Asking if ok to give extra lasix 40 today, wt up 3 lbs since {DATE}.",
            "Pt was seen at {HOSP} ED on {DATE} and told to f/u here within 1 wk.",
            "Wants refill of metoprolol sent to {PHARMACY} in {TOWN}.",
            "BP at home 168/94, HR 88. Denies CP. No SOB at rest.",
            "Also asks for letter for employer ({EMPLOYER}) re: missed shifts {DRANGE}.",
            "VNA nurse {FIRST} from {AGENCY} called too, {PHONE} {EXT}.",
        ),
        3,
        5,
    )
    w.line(
        "Routed to Dr {ATT} / {NICK} (covering NP).",
        "Sent to {LAST}, MD and {INIT} for review.",
        "fwd to Dr {LAST}/Dr {LAST}",
    )
    w.line(
        "Per Dr {ATT}: ok to give lasix 40 po x1, recheck wt in am, appt {DAYTH} at 2:30.",
        "Per {NICK} NP: go to ED if worse, otherwise keep appt on {DATE}.",
        "Dr {ATT} reviewed - hope to avoid admit; labs on {DATE}.",
    )
    w.line(
        "Called back {DT}, left VM.",
        "Spoke w/ {RELN} {DT}, verbalized understanding.",
        "LM on machine at {PHONE} {DT}; will retry.",
    )
    w.line("{SIG_RN}", "{SIG_MA}", "{SIG_LPN}")


def therapy_note(w: NoteWriter) -> None:
    kind = w.rng.choice(("PHYSICAL THERAPY", "OCCUPATIONAL THERAPY", "PT", "OT"))
    credential = "PT" if kind.startswith("P") else "OT"
    w.builder.add([f"{kind} EVALUATION  "] + w.render(w.rng.choice(("{DATE}", "{DT}", "{DLONG}"))) + ["\n"])
    w.line("Pt: {PTL}, {PTF}   {UNIT}   MRN {MRN}", "Patient: {PT}, {AGE} y/o {SEX}")
    w.line("Referring: Dr {FULL}", "Referred by {ATT} for eval + tx", "Order from Dr {LAST}, rec'd {DATE}")
    w.line(
        "Dx: s/p fall, R hip ORIF {DATE}",
        "Dx: deconditioning after prolonged MICU stay {DRANGE}",
        "Dx: L CVA {DATE}, R hemiparesis",
    )
    w.some(
        (
            "PLOF: lived alone in 2nd fl apt in {HOOD}, 14 stairs w/ 1 rail.",
            "PLOF: ind w/ SPC, lives w/ {REL} {RELN} at {STREET}, {TOWN}.",
            "{REL} {RELN} checks in daily; {NICK} (neighbor) does groceries.",
            "Retired from {EMPLOYER} in {YEAR}; still drives, pt's son has car plate {PLATE}.",
            "Goes to adult day health at {CHURCH} 3x/wk.",
            "Was at {REHAB} {DRANGE} after last admit.",
        ),
        2,
        4,
    )
    w.line(
        "Cognition: A&Ox3, follows 2-step cmds. Neg Babinski. {SCORE}.", "Cog: A&Ox2 (not date), impulsive. Glasgow 14."
    )
    w.line(
        "Strength: RLE 4/5 strength, LLE 3+/5. Sensation intact. Pedal 2/4 pulses.",
        "MMT: BUE 4/5, hip flex 3-/5 R. Grip 18 kg.",
    )
    w.line(
        "Bed mobility min A x1; sit<>stand CGA w/ RW; amb 40 ft x2 w/ RW, HR 88 -> 112, SpO2 96% RA.",
        "Transfers mod A x2; unable to amb today, orthostatic BP 128/70 -> 104/62.",
    )
    w.line(
        "Goals (2 wks): amb 150 ft w/ RW mod I; stairs x14 w/ rail SBA.",
        "STG by {DATE}: toileting min A; LTG by {DATE}: ADLs mod I.",
    )
    w.line(
        "Plan: PT 5x/wk. Recommend d/c to {REHAB} vs home w/ {AGENCY}. Discussed w/ {NICK} (CM) and {REL} {RELN}.",
        "Plan: rec rehab - {REHAB} or {REHAB} per family pref. D/w Dr {ATT}/{FIRST} RN.",
        "Plan: home w/ services; DME (RW, tub bench) ordered, delivered to {STREET}.",
    )
    w.line(f"{{SIG_{credential}}}", f"- {{FULL}}, {'DPT' if credential == 'PT' else 'OTR/L'}  pager {{PAGER}}")


def nutrition_note(w: NoteWriter) -> None:
    w.line("Nutrition Assessment -- f/u", "NUTRITION NOTE", "Clinical Nutrition Consult", "nutrition f/u")
    w.line("{DT}", "Date: {DATE}", "Seen {DATE} in {UNIT}")
    w.line("Pt {PT}, {AGE} yo {SEX}, MRN {MRN}", "{MR} {PTL} ({AGE} y/o) referred by {INIT} RN for poor PO")
    w.line(
        "Ht 165 cm  Wt 72.4 kg  BMI 26.6  (wt 78 kg on {PASTDATE} at {CLINIC})",
        "Ht 5'2\"  Wt 51 kg (usual 58 kg per {REL} {RELN})  IBW 50 kg",
    )
    w.some(
        (
            "Diet hx per {REL} {RELN}: eats lunch at senior center at {CHURCH}, Meals on Wheels for dinner.",
            "Pt worked as cook at {EMPLOYER} for 30 yrs, lives in {TOWN}.",
            "PO intake <25% x5 days since {DATE}; refuses Ensure, likes Boost.",
            "Chewing difficulty, dentures at home per {RELN}.",
            "Hope to advance diet once SLP re-evals.",
        ),
        2,
        4,
    )
    w.line(
        "TF: Jevity 1.5 @ 55 ml/hr via Dobhoff (placed {DT}, KUB confirmed), FWF 150 q6h.",
        "TF: Nepro @ 40 ml/hr goal 60, held {DT} for residual 320.",
        "PN: started {DATE}, 1.5 L via PICC, lipids 250cc.",
    )
    w.line("Labs {DATE}: {LABS}.", "Labs ({DT}): {LABS}; trig 210.")
    w.line(
        "Meds: insulin gtt, lasix 40 IV x1, MVI, thiamine. Propofol off since {DATE}.",
        "Meds: {DRIP}; senna, colace, PPI.",
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line("Est needs: 1600-1800 kcal (25-28 kcal/kg), 85-100 g pro (1.2-1.4 g/kg), fluid per MD.")
    w.line(
        "Rec: advance TF by 10 ml q4h to goal; RD to f/u {DAYTH}. Pager {PAGER}.",
        "Rec: liberalize diet, add Magic Cup BID. Will f/u on {WEEKDAY}. RD x{PAGER}",
    )
    w.line("{SIG_RD_LDN}", "{SIG_MS_RD}", "{SIG_RD}")


def pharmacy_consult(w: NoteWriter) -> None:
    drug = w.rng.choice(("VANCOMYCIN", "AMINOGLYCOSIDE", "WARFARIN", "HEPARIN"))
    w.builder.add([f"PHARMACY CONSULT: {drug} DOSING\n"])
    w.line(
        "Requested by: Dr {LAST} (MICU Green) on {DT}", "Consult req'd {DT} by {FULL}, MD", "Req by {INIT}/{ATT} {DT}"
    )
    w.line("Pt {PT}, {AGE} yo {SEX}, wt 81 kg, CrCl ~45", "{PTL}, {PTF} - MRN {MRN} - {AGE}yo")
    w.some(
        (
            "SCr 1.4 today (baseline 0.9 on {PASTDATE} at {HOSP}).",
            "Trough 22.1 @ {TIME} on {DATE} (drawn late - 1 hr after dose).",
            "INR 3.8 on {DT}, was 2.1 on {DATE}. Received Zosyn + Flagyl.",
            "Home meds verified w/ {PHARMACY} in {TOWN}, pharmacist {FIRST} {PHONE}.",
            "Pt's {REL} {RELN} brought pill bottles, incl amiodarone filled {DATE}.",
            "Heparin gtt @ 1100 u/hr, PTT 92 at 0600.",
            "Levels {DRANGE} reviewed; ranges 15-20 goal.",
        ),
        3,
        5,
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line(
        "Rec: vanco 1250 mg IV q24h, next trough before 4th dose ({DT}).",
        "Rec: hold warfarin tonight, vit K 2.5 po, recheck INR {DATE}.",
        "Rec: decrease heparin to 950 u/hr; PTT 6 h after change.",
    )
    w.line("Discussed w/ Dr {LAST}/Dr {LAST} and {RN} RN.", "D/w {ANYNAME} (resident) and {ATT}; agree.")
    w.line("{FULL}, PharmD  {EXT}", "{SIG_PharmD}  pager {PAGER}", "{SIG_RPh}")


def chaplain_note(w: NoteWriter) -> None:
    w.line("Spiritual Care Note", "CHAPLAINCY", "Pastoral Care Visit", "spiritual care f/u")
    w.line("Visit {DT}, {UNIT}", "Referral from {RN} RN, visited {DATE}")
    w.some(
        (
            "Present at bedside: {REL} {RELN}, son {NICK}, granddaughter {FIRST} (student at {SCHOOL}).",
            "Pt is Catholic, parishioner at {CHURCH} in {TOWN}; Fr. {LAST} has been informed and will visit {WEEKDAY}.",
            "{REL} {RELN} shared that they were married at {CHURCH} in {YEAR}.",
            'Family hope for "a miracle"; chaplain listened and normalized feelings.',
            "Pt's brother {FIRST} flying in from {TOWN}, arr {DAYTH}.",
            "Pastor {FULL} ({CHURCH}) called on unit phone, cell {PHONE}.",
            "Pt worked 40 yrs at {EMPLOYER}; coworkers sent cards.",
        ),
        3,
        5,
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line(
        "Intervention: prayer, presence, Sacrament of the Sick offered.",
        "Provided reflective listening, rosary given, 'Amazing Grace' sung.",
        "Offered prayer; family declined, appreciated visit.",
    )
    w.line(
        "Plan: will follow; page {PAGER} for needs. Family meeting {DT} w/ Dr {ATT}.",
        "Plan: f/u {DAYTH}. Chaplain on call {PAGER}.",
    )
    w.line("{SIG_Chaplain}", "Rev. {FULL}, BCC", "Chaplain {FIRST} {EXT}", "{SIG_MDiv}")


def case_management(w: NoteWriter) -> None:
    w.line("CASE MANAGEMENT / DISCHARGE PLANNING", "CM NOTE", "Discharge Planning Assessment")
    w.line("{DATE}", "{DT}", "{DLONG}")
    w.line("Pt {PT}, {AGE} y/o, admitted {DATE} from home.", "{PTL} ({AGE}{SEX}) adm {DATE} via ED.")
    w.line(
        "Lives w/ {REL} {RELN} at {STREET}, {TOWN}, {STATE} {ZIP}.",
        "Home: {STREET}, {HOOD} {ZIP}; 3rd floor walk-up.",
        "Lives alone at {STREET} / {TOWN}; {REL} {RELF} nearby.",
    )
    w.line(
        "Insurance: MassHealth ID {PLAN}; Medicare # {PLAN}.",
        "Ins: BCBS PPO member ID {PLAN}; acct {ACCT}.",
        "Primary: Medicare {PLAN}, secondary Tufts {PLAN}.",
    )
    w.some(
        (
            "Referrals sent {DATE} to {REHAB} (liaison {FIRST} {PHONE}) and {REHAB}.",
            "Bed offer from {REHAB} for {DATE}; family toured {WEEKDAY}.",
            "Declined by {REHAB} 2/2 insurance.",
            "Prior services: {AGENCY} 2x/wk, homemaker through {CLINIC}.",
            "{REL} works at {EMPLOYER}, can only visit evenings.",
            "Pt's {REL} parks in garage, plate {PLATE}, validation given.",
            "Portal account set up for HCP, email {EMAIL}.",
            "HCP form on chart dated {PASTDATE}; MOLST done {DATE}.",
        ),
        3,
        5,
    )
    w.line("HCP: {REL} {RELF}, cell {PHONE}, work {PHONE} {EXT}", "HCP is {RELN} ({REL}) {PHONE}")
    w.line(
        "Plan: d/c to rehab when medically cleared, anticipate {DATE}. Ride via chair van {DT}.",
        "Plan: home w/ VNA ({AGENCY}), f/u PCP Dr {LAST} in 1 wk.",
    )
    w.line("{SIG_RN_CM}", "{SIG_LICSW}", "{FULL}, RN CM  {EXT}")


def radiology_report(w: NoteWriter) -> None:
    exam = w.rng.choice(
        (
            "CHEST (PORTABLE AP)",
            "CT HEAD W/O CONTRAST",
            "CT ABD/PELVIS W/ CONTRAST",
            "CTA CHEST",
            "RENAL U.S.",
            "MR L-SPINE W/O CONTRAST",
        )
    )
    w.builder.add([f"{exam}   "] + w.render(w.rng.choice(("{DT}", "{DLONG} {TIME}"))) + ["\n"])
    w.line("Accession: {CASEID}   MRN: {MRN}", "MRN {MRN}  Acc # {CASEID}")
    w.line(
        "CLINICAL INDICATION: {AGE}-year-old {SEX} with SOB, eval for effusion.",
        "HISTORY: {AGE} y/o s/p fall, on coumadin; ? bleed.",
        "REASON: abd pain, elevated lactate.",
    )
    w.line("REFERRING PHYSICIAN: {FULL}", "Ordered by: Dr. {LAST} ({PAGER})", "REF: {FULL}, MD / {FULL}, NP")
    w.line(
        "COMPARISON: {DLONG} and {DATE}. Outside CT from {HOSP} dated {DATE}.",
        "COMPARISON: Multiple prior studies, most recent {DT}.",
        "COMPARISON: None available. Outside films from {HOSP} requested.",
    )
    w.some(
        (
            "ET tube tip 4 cm above the carina.",
            "Right IJ Cordis in place; Swan-Ganz catheter tip in the right pulmonary artery.",
            "NG tube courses below the diaphragm.",
            "Left subclavian pacemaker/ICD (serial {DEVICE} per device clinic) with leads in RA and RV.",
            "Moderate left effusion, increased since {DATE}.",
            "No acute intracranial hemorrhage. Chronic small vessel ischemic change.",
            "Dobhoff tip in the stomach. Foley balloon in bladder.",
            "Heart size top normal. No pneumothorax.",
        ),
        3,
        5,
    )
    w.line(
        "IMPRESSION: Interval worsening L effusion vs atelectasis. Lines as above.",
        "IMPRESSION: No acute process.",
        "IMPRESSION: 1. No bleed. 2. Unchanged from {DATE}.",
    )
    w.line(
        "Findings discussed with Dr. {LAST} by Dr. {LAST} via telephone at {TIME} on {DATE}.",
        "Wet read called to {FULL} @ {TIME}; read-back confirmed.",
        "Results communicated to {ANYNAME} (covering) {DT}.",
    )
    w.line(
        "Images transmitted from workstation {IP}.",
        "DICTATED BY: {FULL}, MD   SIGNED: {FULL}, MD  {DLONG}",
        "Attending: {FULL}",
    )


def operative_note(w: NoteWriter) -> None:
    w.line("OPERATIVE NOTE", "BRIEF OP NOTE", "PROCEDURE NOTE")
    w.line("Date of surgery: {DLONG}", "Date: {DATE}  Start {TIME}  End {TIME}", "DOS {DATE}")
    w.line("Pt: {PT}  MRN {MRN}  Age {AGE}", "{PTL}, {PTF} / {AGE}{SEX}")
    w.line("Surgeon: {FULL}, MD", "Attending surgeon: Dr. {FULL}", "Surgeon: {LAST}")
    w.line("Assistant: {FULL}, PA-C; {FIRST} (PGY-3)", "Asst: Dr {LAST} (fellow)", "Assist: {INIT}")
    w.line(
        "Anesthesia: GETA - Dr. {LAST} / {FULL}, CRNA",
        "Anesthesia: MAC, {FULL} MD",
        "Anesthesiologist: {LAST}; CRNA {FIRST}",
    )
    w.line(
        "Preop dx: SBO.  Postop dx: same, adhesions.",
        "Preop dx: L hip fx. Procedure: L hip hemiarthroplasty.",
        "Procedure: R IJ tunneled HD catheter placement under US.",
    )
    w.some(
        (
            "Implant: {DEVICE} (lot 7731), sticker in chart.",
            "Pump serial {DEVICE} interrogated pre-op by rep {FIRST} ({PHONE}).",
            "Foley placed in OR. Bair Hugger on.",
            "EBL 150 mL. IVF 1.5 L LR. UOP 300 cc.",
            "Specimens: adhesions to path. Counts correct x2.",
            "Consent signed by {REL} {RELF} (HCP) {DT}.",
            "Complications: none. {DRIP} weaned off by close.",
        ),
        3,
        5,
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line("Dispo: to PACU then {UNIT}, stable.", "Pt extubated in OR, to PACU. Report to {RN} RN.")
    w.line(
        "Family ({REL} {RELN}) updated in waiting room at {TIME}, cell {PHONE}.",
        "Called {REL} {RELF} at {PHONE} after case.",
        "Spoke w/ family {DT}.",
    )
    w.line("{FULL}, MD", "{SIG_MD}", "{SIG_MD}  pager {PAGER}")


def handoff_note(w: NoteWriter) -> None:
    w.line("NSG TRANSFER NOTE  {UNIT} -> floor", "Nursing Transfer/Handoff", "RN TRANSFER NOTE", "nsg handoff")
    w.line("{DT}", "Transfer {DT}")
    w.line(
        "S: {AGE} yo {SEX} adm {DATE} w/ urosepsis, here since {DATE}.",
        "S: pt transferred from {HOSP} {DATE}, MICU course {DRANGE}.",
        "S: {PTL}, {AGE}yo, POD 3",
    )
    w.line(
        "B: PMH DM2, HTN, CKD, dementia. Lives at {REHAB}.",
        "B: hx CVA ({PASTDATE}), AF. From home in {TOWN} w/ {REL}.",
        "B: see H&P; PCP {LAST} at {CLINIC}.",
    )
    w.some(
        (
            "A: VS {VITALS}. {SCORE}.",
            "Neuro: A&Ox2-3, MAE, GCS 15 this am.",
            "Lines: 20g L FA PIV (placed {DATE}); PICC R basilic ({DATE}), CXR ok.",
            "Foley d/c'd {DT}, voiding qs.",
            "Off pressors since {DT}; last {DRIP}.",
            "Skin: stage 2 coccyx, mepilex on. Braden 14.",
            "Labs: {LABS}.",
            "Tmax rose to 101.2 overnight, cx sent.",
        ),
        4,
        6,
        "\n",
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line("R: cont abx, PT/OT, tele x24h. Family aware.", "R: monitor UOP, f/u K 3.4 recheck @ 1600.")
    w.line(
        "Family: {REL} {RELN} (HCP) {PHONE}, aware of transfer.",
        "Family: pt's {REL} {RELN} (HCP) - {PHONE}; {REL} updated by {RN} at {TIME}.",
    )
    w.line(
        "Report given to {FIRST} RN on 11 at {TIME}.",
        "Report called to {NICK} on 6W @ {TIME}",
        "Handoff to {ANYNAME}, {TIME}.",
    )
    w.line("{SIG_RN}", "{RN} RN", "{SIG_RN}")


def vna_referral(w: NoteWriter) -> None:
    w.line("HOME CARE / VNA REFERRAL", "Home Health Referral", "VNA REFERRAL FORM")
    w.line("Agency: {AGENCY}  fax {PHONE}", "To: {AGENCY} intake, ph {PHONE} fax {PHONE}")
    w.line("Patient: {PT}   DOB {DOB}   MRN {MRN}", "Name: {PTL}, {PTF}  DOB: {DOB}  Age: {AGE}")
    w.line("Address: {STREET}", "Home addr: {STREET}")
    w.line("{TOWN}, {STATE} {ZIP}", "{HOOD}, {STATE} {ZIP}")
    w.line("Home phone {PHONE}; alt contact {REL} {RELF} {PHONE}", "Ph: {PHONE}  Emerg contact: {RELF} ({REL}) {PHONE}")
    w.line("Insurance: Medicare {PLAN}; secondary {PLAN}", "Medicare ID {PLAN}   SSN {SSN}", "Payer: MassHealth {PLAN}")
    w.some(
        (
            "Start of care: {DATE}. Services: SN, PT, OT, HHA.",
            "SN for med mgmt, wound care (stage 2 sacrum), CHF teaching, wt daily.",
            "Pt d/c'd from {HOSP} {DATE}, rehab stay at {REHAB} {DRANGE}.",
            "Lives in 1st fl apt, key w/ neighbor {NICK} in apt 2.",
            "Dog in home. Parking on street; {REL} drives, VIN on file {VIN}.",
            "Pharmacy: {PHARMACY}, {TOWN}, {PHONE}.",
            "{REL} works days at {EMPLOYER}; best to visit after 3pm.",
        ),
        3,
        5,
    )
    w.line("Face-to-face encounter {DATE} by Dr {FULL} (NPI {NPI}).", "F2F on {DATE}; certifying MD {FULL}, NPI {NPI}.")
    w.line("PCP: Dr {LAST}, {CLINIC}, {PHONE}", "Follow-up: PCP {LAST} {DAYTH}; cardiology {DATE}.")
    w.line("Referral by {SIG_RN_CM}, {EXT}", "Completed by {FULL}, CM. Questions {EMAIL}")


def clinic_letter(w: NoteWriter) -> None:
    w.line("{CLINIC}")
    w.line("{STREET}")
    w.line("{TOWN}, {STATE} {ZIP}")
    w.line("Tel {PHONE}   Fax {PHONE}", "Phone: {PHONE}")
    w.blank()
    w.line("{DLONG}")
    w.blank()
    w.line("Dr. {FULL}")
    w.line("{CLINIC}", "{HOSP}")
    w.line("{STREET}")
    w.line("{TOWN}, {STATE} {ZIP}")
    w.blank()
    w.line("RE: {PT}   DOB: {DOB}   MRN: {MRN}", "Re: {PTL}, {PTF} (DOB {DOB})")
    w.blank()
    w.line("Dear Dr. {LAST},", "Dear {FIRST},", "Dear Dr {LAST}:")
    w.blank()
    w.some(
        (
            "Thank you for referring {MR} {PTL}, a {AGE}-year-old whom I saw in clinic on {DATE}.",
            "As you know, {PRO} was hospitalized at {HOSP} {DRANGE} with a CHF exacerbation.",
            "{PROC} is accompanied today by {POS} {REL}, {RELN}, who works at {EMPLOYER}.",
            "Examination: BP 120/80, HR 72, lungs clear, 2/4 pulses in the feet, no edema.",
            "Echo on {DATE} showed EF 35%. Labs from {DATE}: {LABS}.",
            "{PROC} previously saw Dr. {FULL} at {CLINIC} until {YEAR}.",
            "We hope to see {POS} improvement continue.",
        ),
        3,
        5,
    )
    w.line(
        "I will see {POS} again on {DATE}; please do not hesitate to call me at {PHONE}.",
        "Follow up in 3 months. My office can be reached at {PHONE} {EXT}.",
    )
    w.blank()
    w.line("Sincerely,", "Best regards,", "With kind regards,")
    w.blank()
    w.line("{FULL}, MD", "{FULL}, MD, FACC", "{FULL}, NP")
    w.line("{EMAIL} | {URL}", "{EMAIL}", "Lic. {LIC}")
    w.line("cc: {FULL}, MD; {AGENCY}", "cc: {REL} {RELF}")


def icu_shift_note(w: NoteWriter) -> None:
    w.line(
        "NPN 7p-7a",
        "Nursing Progress Note 0700-1900",
        "NPN {DT}",
        "nursing progress note 7a-7p {DATE}",
        "MICU NPN {DATE} 1900-0700",
    )
    w.line(
        "{AGE} yo {SEX} HD #{HD} adm {DATE} w/ sepsis, see FHPA for PMH.",
        "Pt {PTL} is a {AGE} yo {SEX} transferred from {HOSP} on {DATE}.",
        "Events: {EVENT}",
    )
    w.line(
        "Neuro: A&Ox3, MAE, follows cmds. {SCORE}. Neg Babinski.",
        "neuro: sedated on {DRIP}, RASS -2, pupils 3mm brisk.",
        "Neuro: intermittently confused, calling out for {RELN}.",
    )
    w.line(
        "CV: HR 88-104 ST, BP 120/80 - 140s/70s on {DRIP}. K 3.4 repleted.",
        "CV: NSR 70s, no ectopy. Swan-Ganz CO 4.2, CI 2.1. 2/4 pulses.",
        "CV: {VITALS}. Heparin gtt, PTT 68 @ {TIME}.",
    )
    w.line(
        "Resp: vent AC 500x14, PEEP 5, FiO2 40%. RR 12-20. Sx'd for thick tan.",
        "Resp: 4L NC, sats 92-96%. hope to wean O2 tomorrow.",
        "Resp: extubated {DT}, on 40% face tent.",
    )
    w.line("GI: TF @ goal, +BS, no BM since {DATE}.", "GI: NPO, OGT to LIS, lactulose held.")
    w.line(
        "GU: Foley draining clear yellow 40-60cc/hr. lasix 40 IV x1 w/ good response.",
        "GU: UOP marginal, NS 500cc bolus given at 0200.",
    )
    w.line(
        "Skin: stage 2 coccyx, barrier cream.",
        "Skin: intact, turned q2h.",
        "ID: Tmax rose to 101.4, cultures sent. On vanco/zosyn.",
    )
    w.line(
        "Access: L radial aline ({DATE}), R IJ TLC placed {DT}, 2 PIVs.",
        "Access: PICC ({DATE}), 18g R AC.",
        "Heme: Hct 26.1 -> 24.8, guaiac neg. INR 1.3.",
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.some(
        (
            "Social: {REL} {RELN} in to visit, updated by Dr {ATT}.",
            "{REL} {RELN} called at {TIME}, updated. Phone {PHONE}.",
            "Family mtg planned for {DAYTH} at 2pm w/ {ATT} and SW {FIRST}.",
            "pt's {REL} {RELN} (HCP) and {FIRST} (grandson) at bedside until 2300.",
            "{REL} wants pt to go to {REHAB} near home in {TOWN}.",
            "Pt was a teacher at {SCHOOL}; {REL} brought photos.",
            "Lives in {HOOD} w/ {REL}; cat being fed by neighbor {NICK}.",
            "Per {REL}, pt retired from {EMPLOYER} in {YEAR}.",
        ),
        2,
        4,
    )
    w.line(
        "Plan: cont current mgmt, wean FiO2 as tol. d/w {ANYNAME}/{ANYNAME}.",
        "Plan: ?extubate in am per Dr {ATT}. CXR {DATE}.",
        "plan: monitor lytes, labs {DT}",
    )
    w.line("{SIG_RN}", "{RN} RN", "{INIT}", "{SIG_RN}")


def death_note(w: NoteWriter) -> None:
    w.line("PRONOUNCEMENT OF DEATH", "Death Note", "EXPIRATION NOTE")
    w.line(
        "Called to bedside by {FIRST} RN at {TIME} on {DATE} to evaluate pt.",
        "Paged by {RN} RN ({UNIT}) re: pt unresponsive, {DT}.",
    )
    w.line(
        "Pt {PT}, {AGE} yo {SEX}, MRN {MRN}, DNR/DNI, CMO since {DATE}.",
        "{PTL}, {PTF} ({AGE}{SEX}), comfort measures since {DT}.",
    )
    w.some(EVENT_FRAMES, 1, 3)
    w.line(
        "Exam: no response to verbal or painful stimuli. Pupils fixed and dilated. No heart sounds x1 min. No breath sounds. No pulse."
    )
    w.line("Time of death: {DT}.", "Pronounced dead {DT}.")
    w.some(
        (
            "Family present at bedside: {REL} {RELN}, {FIRST} and {NICK}.",
            "Notified {REL} {RELF} by phone at {PHONE}.",
            "Attending Dr {ATT} notified at {TIME}.",
            "PCP Dr {LAST} ({CLINIC}) notified by voicemail {PHONE}.",
            "OPO notified, referral # {CASEID}; pt not a candidate.",
            "ME notified - case {CASEID}, declined jurisdiction.",
            "Autopsy offered and declined by {REL}.",
            "Funeral home: {FUNERAL}, {TOWN}, {PHONE}.",
            "Chaplain {FIRST} present; {CHURCH} notified.",
        ),
        4,
        6,
    )
    w.line("{FULL}, MD  pager {PAGER}", "{SIG_MD}", "{FULL}, MD (PGY-1)")


STYLES: dict[str, tuple[Callable[[NoteWriter], None], bool]] = {
    "ed_triage": (ed_triage, True),
    "phone_message": (phone_message, True),
    "therapy_note": (therapy_note, False),
    "nutrition_note": (nutrition_note, False),
    "pharmacy_consult": (pharmacy_consult, False),
    "chaplain_note": (chaplain_note, False),
    "case_management": (case_management, False),
    "radiology_report": (radiology_report, False),
    "operative_note": (operative_note, False),
    "handoff_note": (handoff_note, True),
    "vna_referral": (vna_referral, False),
    "clinic_letter": (clinic_letter, False),
    "icu_shift_note": (icu_shift_note, True),
    "death_note": (death_note, False),
}
"""Style name -> (writer function, informal?)."""


def make_fakers(seed: int) -> dict[str, Faker]:
    fakers = {}
    for offset, (locale, _) in enumerate(NAME_LOCALES):
        faker = Faker(locale)
        faker.seed_instance(seed * 1009 + offset)
        fakers[locale] = faker
    return fakers


def generate_notes(count: int, seed: int) -> list[Note]:
    """Generate ``count`` notes; styles cycle so every style is represented."""
    rng = random.Random(seed)
    fakers = make_fakers(seed)
    style_names = list(STYLES)
    notes = []
    for index in range(count):
        style = style_names[index % len(style_names)] if index < len(style_names) else rng.choice(style_names)
        write, informal = STYLES[style]
        writer = NoteWriter(rng, fakers, informal)
        write(writer)
        notes.append(writer.builder.build(f"blind3-{seed}-{index:04d}", style))
    return notes


def write_jsonl(notes: list[Note], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for note in notes:
            handle.write(json.dumps(note.to_json(), ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=600, help="number of notes to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--output", type=Path, required=True, help="output JSONL path")
    args = parser.parse_args(argv)
    write_jsonl(generate_notes(args.notes, args.seed), args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
