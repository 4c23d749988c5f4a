"""Second blind evaluation corpus for clinical de-identification: synthetic ICU-style notes with gold PHI spans.

What it is
    A deterministic generator of made-up clinical notes in six styles (ICU nursing shift note, nursing
    event/incident note, respiratory therapy note, social work / case management note, physician ICU
    progress note, discharge summary), each with exact character-offset gold spans for the PHI it contains.
    It imitates the surrogate-filled ICU nursing notes of the PhysioNet "deid" gold standard: many
    clinician and relative names (titles, credentials, first names only, lower case, initials,
    hyphenated and apostrophe names, names that are ordinary English words), short date forms
    (2/12, 2-12, 02/12/09, Feb 12, 12-Feb, "the 12th", "2/12 @ 0700", ranges "2/10-2/12"), hospitals,
    facilities, towns, phone/fax/pager numbers and extensions, ages over 89, record numbers and
    discharge-summary addresses, next to many look-alike distractors that carry no gold (vitals,
    scores and fractions, drips and doses, labs with times, eponyms and devices, names used as
    ordinary words, drug brands, unit names, weekdays, bare years).

How it was written
    Blind: written without reading the detector, its tests, its documentation or the first blind
    corpus, from general knowledge of how hospital notes are written. It is meant as a held-out test
    of recall and precision, not as a tuning set.

Gold conventions
    NAME covers the name words only (never titles, credentials, relation words or a possessive 's;
    initials are NAME). DATE covers the date and an attached time ("2/12 @ 0700"); a range gives
    two DATE spans. AGE_90 covers the number only. LOCATION covers hospitals, facilities, clinics,
    churches, schools, employers and companies, towns and neighbourhoods; US states and countries are
    not gold. ADDRESS covers the street line (with any apartment); the town is LOCATION and the ZIP
    code is ZIP. Types: NAME, LOCATION, ADDRESS, ZIP, DATE, AGE_90, PHONE, EMAIL, SSN, MRN,
    HEALTH_PLAN, ACCOUNT, LICENSE, VEHICLE, DEVICE, URL, IP, ID.

Run
    python benchmarks/deid_blind_corpus_2.py --notes 300 --seed 7 --output blind2.jsonl

    Each line: {"id", "text", "spans": [{"start", "end", "type"}], "style"}; end is exclusive.

Caveat
    All PHI is invented and every note is synthetic; figures measured on this corpus are still
    synthetic figures and only approximate what real notes would give.
"""

# ruff: noqa: E501  (sentence frames are kept one per line so they read like notes)
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from faker import Faker

TYPES = (
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
)

Seg = tuple[str, str | None]

# ---------------------------------------------------------------------------------------------------
# Surrogate pools (all invented; real-world-looking US names of many origins)
# ---------------------------------------------------------------------------------------------------

# fmt: off
FIRST_NAMES = (
    # Hispanic
    "Jose", "Maria", "Guadalupe", "Luz", "Alejandro", "Yesenia", "Xiomara", "Jesus", "Marisol", "Rafael",
    # Vietnamese, Chinese, Korean
    "Thuy", "Anh", "Minh", "Huong", "Duc", "Wei", "Mei", "Xiaoling", "Jian", "Ji-hoon", "Soo-jin", "Min-jun",
    # Indian, Arabic, Nigerian
    "Priya", "Rajesh", "Sunita", "Arjun", "Lakshmi", "Fatima", "Omar", "Khalid", "Rania", "Chinedu",
    "Ngozi", "Oluwaseun", "Adaeze", "Emeka",
    # Haitian, Portuguese, Russian, Polish
    "Jean-Claude", "Marie-Ange", "Fabiola", "Wilner", "Joao", "Conceicao", "Fernanda", "Svetlana",
    "Dmitri", "Olga", "Tatiana", "Wojciech", "Grazyna", "Krzysztof",
    # Irish, Italian
    "Siobhan", "Declan", "Colm", "Maeve", "Giuseppe", "Carmela", "Salvatore", "Concetta",
    # names that are ordinary English words
    "Hope", "Faith", "Rose", "Mark", "Frank", "Grant", "Bill", "June", "Joy", "Dawn", "Hunter",
    "Summer", "Sterling", "Will", "May", "Art", "Guy", "Rich", "Pat", "Chase", "Iris", "Ivy", "Penny",
)

SURNAMES = (
    "Nguyen", "Tran", "Pham", "Le", "Hoang", "Vu", "Chen", "Wang", "Li", "Zhang", "Liu", "Kim", "Park", "Choi",
    "Jung", "Patel", "Shah", "Gupta", "Reddy", "Iyer", "Krishnamurthy", "Haddad", "Khoury", "Mansour", "Abdallah",
    "El-Sayed", "Okafor", "Adeyemi", "Nwosu", "Okonkwo", "Balogun", "Jean-Baptiste", "Pierre", "Toussaint",
    "Desrosiers", "Charles", "Ivanov", "Petrov", "Smirnova", "Volkov", "Kowalski", "Nowak", "Wisniewski",
    "Zielinski", "Silva", "Costa", "Medeiros", "Pacheco", "Furtado", "O'Connor", "O'Brien", "McCarthy",
    "Sullivan", "Murphy", "Kelly", "Fitzgerald", "D'Angelo", "DiMarco", "Russo", "Esposito", "Romano", "LaRosa",
    "Garcia", "Hernandez", "Rodriguez", "Gonzalez", "Ramirez", "Garcia-Lopez", "Smith-Jones", "Black", "White",
    "Brown", "Green", "Young", "King", "Hill", "Wood", "Stone", "Moody", "Fox", "Bell", "Love", "Banks", "Price",
    "Snow", "Day", "Bird", "Cook", "Baker", "Walker", "Small", "Strong", "Sweet", "Hope", "Frank", "Grant",
    "Rose", "Mark",
)

HOSPITALS = (
    "St. Elizabeth's Medical Center", "Mercy Hospital", "Good Samaritan Medical Center", "Holy Family Hospital",
    "Saint Vincent Hospital", "Lawrence General", "Carney Hospital", "Mount Auburn", "Newton-Wellesley",
    "Cape Cod Hospital", "Morton Hospital", "Sturdy Memorial", "Baystate", "Lahey", "Beverly Hospital",
    "South Shore Hospital", "Milford Regional", "Heywood Hospital", "Norwood Hospital", "Quincy Medical Center",
)
REHABS = (
    "Spaulding Rehab", "Braintree Rehab", "Whittier Rehab", "Youville Hospital", "Hebrew Rehab Center",
    "New England Sinai", "Kindred Hospital Park View", "HealthSouth Sewickley", "Radius Specialty Hospital",
)
NURSING_HOMES = (
    "Sunrise Manor", "Marina Bay Skilled Nursing", "Maplewood Nursing Center", "Golden Living Center",
    "Sacred Heart Nursing Home", "Brookhaven Assisted Living", "Willow Crest Manor", "Pine Knoll Nursing",
)
CLINICS = (
    "Codman Square Health Center", "Kenmore Family Practice", "Dimock Center", "Harbor Health Clinic",
    "Uphams Corner Health Center", "Fenway Community Health", "Riverside Cardiology Associates",
    "Eastside Pulmonary Clinic", "Bayview Renal Associates", "North Shore Neurology",
)
CHURCHES = (
    "St. Anthony's Church", "First Baptist Church", "Our Lady of Good Voyage", "Greater Love Tabernacle",
    "St. Leonard's Parish", "Haitian Evangelical Church of God", "Islamic Society of Greater Lowell",
    "Temple Beth Shalom",
)
SCHOOLS = (
    "Boston Latin", "Northeastern", "UMass Lowell", "Bunker Hill Community College", "Brockton High",
    "Madison Park High School", "Salem State",
)
EMPLOYERS = (
    "Stop & Shop", "Raytheon", "the MBTA", "Dunkin", "Market Basket", "Home Depot", "Verizon", "General Dynamics",
    "Gillette", "Boston Public Schools",
)
DME = ("Apria", "Lincare", "Northeast Medical Supply", "Bayside Home Care", "VNA of Cape Cod")
TOWNS = (
    "Quincy", "Dorchester", "Brockton", "Revere", "Chelsea", "Malden", "Framingham", "Worcester", "Lowell",
    "Lynn", "Jamaica Plain", "Roxbury", "Hyde Park", "Everett", "Taunton", "Fall River", "New Bedford", "Salem",
    "Natick", "Mattapan", "East Boston", "Somerville", "Waltham", "Attleboro", "Weymouth",
)
STATES = ("Florida", "NH", "Maine", "Rhode Island", "NY", "Georgia", "Texas")
COUNTRIES = ("Haiti", "Vietnam", "Portugal", "Cape Verde", "China", "Nigeria", "Lebanon", "Russia", "Poland")
STREETS = (
    "Maple St", "Washington St", "Dorchester Ave", "Hancock St", "Blue Hill Ave", "Centre St", "Elm St",
    "Pleasant St", "Adams St", "Quincy Shore Dr", "Main Street", "School St", "Prospect Ave", "Highland Rd",
    "Bowdoin St", "Columbia Road", "Broadway", "Summer St",
)
AREA_CODES = ("617", "781", "508", "978", "413", "857", "339", "774")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_LONG = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
)
RELATIONS = (
    "wife", "husband", "daughter", "son", "dtr", "niece", "nephew", "sister", "brother", "granddaughter",
    "grandson", "neice", "friend", "partner", "daughter-in-law", "cousin",
)

# Phrases that look like PHI to a careless detector but carry no gold; the frames below use them
# verbatim and the test checks they never fall inside a gold span.
DISTRACTORS = (
    "pain 7/10", "4/5 strength", "PS 10/5", "GCS 3T", "levo 0.08", "K 3.6", "Foley", "Swan-Ganz", "Dobhoff",
    "Parkinson's", "Glasgow", "Hickman", "Cheyne-Stokes", "will monitor", "may need", "hope to wean",
    "marked improvement", "frank blood", "rose to 101", "hospital bill", "fuel assistance grant",
    "sterling silver", "strength in her faith", "MICU", "CCU", "7 North", "Monday", "Coumadin", "Lasix", "since 2004", "until 2009", "Mg 1.8",
    "BP 142/80", "SBP 90-110s", "WBC 14.2 at 0400", "CPAP 5/5", "Sinemet 25/100", "Kayexalate", "Graves' disease",
    "Hoyer lift", "Pleur-evac", "Levophed",
)
# fmt: on


# Eponyms, drug brands and unit words the distractors use; a surrogate name never takes one of them, so a
# distractor never overlaps a gold NAME span. Names that are ordinary words (Hope, Frank, Rose ...) stay
# in the pools: the distractor phrases that use those words ("hope to wean", "frank blood") are longer.
_RESERVED = {
    "foley", "swan", "ganz", "dobhoff", "parkinson", "glasgow", "hickman", "cheyne", "stokes", "graves",
    "hoyer", "coumadin", "lasix", "sinemet", "kayexalate", "levophed", "monday", "north", "micu", "ccu",
}  # fmt: skip


def _ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")


# ---------------------------------------------------------------------------------------------------
# Per-note context
# ---------------------------------------------------------------------------------------------------


class Ctx:
    """The random state and the consistent cast of one note."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng = rng
        self.fake = fake
        self.female = rng.random() < 0.5
        self.pt_first = self.first()
        self.pt_last = self.last()
        self.md_first, self.md_last = self.first(), self.last()
        self.res_first, self.res_last = self.first(), self.last()
        self.rn_first, self.rn_last = self.first(), self.last()
        self.rt_first, self.rt_last = self.first(), self.last()
        self.sw_first, self.sw_last = self.first(), self.last()
        self.rel_first = self.first()
        self.rel_last = self.pt_last if rng.random() < 0.5 else self.last()
        self.base = dt.date(rng.randint(2003, 2016), rng.randint(1, 12), rng.randint(1, 28))
        self.year_style = rng.random()

    def first(self) -> str:
        while True:
            name = _ascii(self.fake.first_name()) if self.rng.random() < 0.5 else self.rng.choice(FIRST_NAMES)
            if name.lower() not in _RESERVED:
                return name

    def last(self) -> str:
        while True:
            name = _ascii(self.fake.last_name()) if self.rng.random() < 0.45 else self.rng.choice(SURNAMES)
            if name.lower() not in _RESERVED:
                return name

    def near_date(self) -> dt.date:
        return self.base + dt.timedelta(days=self.rng.randint(-12, 6))

    def choice(self, seq):
        return self.rng.choice(seq)


def _lc(ctx: Ctx, s: str) -> str:
    return s.lower() if ctx.rng.random() < 0.12 else s


# ---------------------------------------------------------------------------------------------------
# Slot renderers: each returns segments (text, gold type or None)
# ---------------------------------------------------------------------------------------------------


def s_pt(ctx: Ctx) -> list[Seg]:
    f, last = ctx.pt_first, ctx.pt_last
    title = ctx.choice(("Ms. ", "Mrs. ", "Ms ")) if ctx.female else ctx.choice(("Mr. ", "Mr "))
    return ctx.choice(
        (
            [(title, None), (last, "NAME")],
            [(f + " " + last, "NAME")],
            [(_lc(ctx, last), "NAME")],
            [(title, None), (f + " " + last, "NAME")],
            [(f, "NAME")],
        )
    )


def s_ptheader(ctx: Ctx) -> list[Seg]:
    f, last = ctx.pt_first, ctx.pt_last
    return ctx.choice(
        (
            [(last.upper() + ", " + f.upper(), "NAME")],
            [(last + ", " + f, "NAME")],
            [(f + " " + last, "NAME")],
            [(last + ", " + f + " " + ctx.choice("ABCDEJKLMRS") + ".", "NAME")],
        )
    )


def _clin(ctx: Ctx, first: str, last: str) -> list[Seg]:
    ini = first[0] + "."
    return ctx.choice(
        (
            [("Dr. ", None), (last, "NAME")],
            [("Dr ", None), (last, "NAME")],
            [("dr ", None), (last.lower(), "NAME")],
            [("DR. ", None), (last.upper(), "NAME")],
            [(first + " " + last, "NAME"), (", MD", None)],
            [(first + " " + last, "NAME"), (" MD", None)],
            [("Dr. ", None), (ini + " " + last, "NAME")],
            [("Dr. ", None), (first + " " + last, "NAME")],
            [(ini + " " + last, "NAME"), (", M.D.", None)],
            [(last, "NAME"), (" (attending)", None)],
            [(first + " " + last, "NAME"), (", NP", None)],
            [(first + " " + last, "NAME"), (" PA-C", None)],
        )
    )


def s_md(ctx: Ctx) -> list[Seg]:
    return _clin(ctx, ctx.md_first, ctx.md_last)


def s_md2(ctx: Ctx) -> list[Seg]:
    return _clin(ctx, ctx.first(), ctx.last())


def s_mdposs(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice(("Dr. ", "Dr ", "dr. ")), None), (ctx.md_last, "NAME"), ("'s", None)]


def s_res(ctx: Ctx) -> list[Seg]:
    f, last = ctx.res_first, ctx.res_last
    return ctx.choice(
        (
            [(f, "NAME")],
            [(_lc(ctx, f), "NAME")],
            [("Dr. ", None), (last, "NAME")],
            [("Dr. ", None), (f, "NAME")],
            [(f + " " + last, "NAME")],
        )
    )


def s_rn(ctx: Ctx) -> list[Seg]:
    f = ctx.rn_first if ctx.rng.random() < 0.5 else ctx.first()
    return ctx.choice(
        ([(f, "NAME")], [(f.lower(), "NAME")], [(f, "NAME"), (" RN", None)], [("RN ", None), (f, "NAME")])
    )


def s_rnsig(ctx: Ctx) -> list[Seg]:
    f, last = ctx.rn_first, ctx.rn_last
    return ctx.choice(
        (
            [("- ", None), (f, "NAME"), (" RN", None)],
            [(f + " " + last, "NAME"), (", RN", None)],
            [(f[0] + ". " + last, "NAME"), (" RN", None)],
            [("--", None), (f[0] + last[0], "NAME"), (" RN", None)],
            [(f + " " + last, "NAME"), (" RN BSN", None)],
            [("/", None), (f.lower(), "NAME")],
            [(last + ", " + f, "NAME"), (" R.N.", None)],
        )
    )


def s_rt(ctx: Ctx) -> list[Seg]:
    f = ctx.rt_first
    return ctx.choice(([(f, "NAME")], [(f.lower(), "NAME")], [(f + " " + ctx.rt_last, "NAME")]))


def s_rtsig(ctx: Ctx) -> list[Seg]:
    f, last = ctx.rt_first, ctx.rt_last
    return ctx.choice(
        (
            [(f + " " + last, "NAME"), (", RRT", None)],
            [(f[0] + ". " + last, "NAME"), (" RRT", None)],
            [("-- rt ", None), (f.lower(), "NAME")],
            [(f + " " + last, "NAME"), (" RCP", None)],
        )
    )


def s_swsig(ctx: Ctx) -> list[Seg]:
    f, last = ctx.sw_first, ctx.sw_last
    return ctx.choice(
        (
            [(f + " " + last, "NAME"), (", LICSW", None)],
            [(f + " " + last, "NAME"), (" MSW", None)],
            [(f[0] + ". " + last, "NAME"), (", LCSW", None)],
            [(f + " " + last, "NAME"), (", RN CM", None)],
        )
    )


def s_person(ctx: Ctx) -> list[Seg]:
    """Someone else by name only (PCA, interpreter, coordinator, chaplain)."""
    return ctx.choice(
        ([(ctx.first(), "NAME")], [(ctx.first() + " " + ctx.last(), "NAME")], [(ctx.first().lower(), "NAME")])
    )


def s_rel(ctx: Ctx) -> list[Seg]:
    rel = ctx.choice(RELATIONS)
    f, last = ctx.rel_first, ctx.rel_last
    return ctx.choice(
        (
            [(rel + " ", None), (f, "NAME")],
            [("pt's " + rel + " ", None), (f + " " + last, "NAME")],
            [(rel + " ", None), (f.lower(), "NAME")],
            [(rel + " ", None), (f.lower() + " " + last.lower(), "NAME"), (" (HCP)", None)],
            [(rel + " (", None), (f, "NAME"), (")", None)],
            [(f, "NAME"), (" (" + rel + ")", None)],
            [("Mrs. " if ctx.rng.random() < 0.5 else "Mr. ", None), (last, "NAME"), (" (" + rel + ")", None)],
            [("his " if not ctx.female else "her ", None), (rel, None)],
            [("the " + rel, None)],
            [(rel + " ", None), (f[0] + ".", "NAME")],
        )
    )


def s_relname(ctx: Ctx) -> list[Seg]:
    return ctx.choice(([(ctx.rel_first, "NAME")], [(ctx.rel_first.lower(), "NAME")]))


def s_relposs(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice(RELATIONS) + " ", None), (ctx.rel_first, "NAME"), ("'s", None)]


def s_relword(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice(RELATIONS), None)]


def s_clergy(ctx: Ctx) -> list[Seg]:
    return ctx.choice(
        (
            [("Father ", None), (ctx.last(), "NAME")],
            [("Pastor ", None), (ctx.first() + " " + ctx.last(), "NAME")],
            [("Rev. ", None), (ctx.last(), "NAME")],
            [("Imam ", None), (ctx.first(), "NAME")],
            [("chaplain ", None), (ctx.first().lower(), "NAME")],
        )
    )


def s_initials(ctx: Ctx) -> list[Seg]:
    a, b = ctx.md_first[0], ctx.md_last[0]
    return ctx.choice(([(a + b, "NAME")], [(a + "." + b + ".", "NAME")], [(a.lower() + b.lower(), "NAME")]))


# --- dates


def _fmt_date(ctx: Ctx, d: dt.date) -> str:
    m, day, y = d.month, d.day, d.year
    return ctx.choice(
        (
            f"{m}/{day}",
            f"{m}/{day}",
            f"{m}-{day}",
            f"{m:02d}/{day:02d}/{y % 100:02d}",
            f"{m}/{day}/{y}",
            f"{m}/{day}/{y % 100:02d}",
            f"{MONTHS[m - 1]} {day}",
            f"{day}-{MONTHS[m - 1]}",
            f"{MONTHS[m - 1]}. {day}",
            f"{MONTHS_LONG[m - 1]} {day}",
            f"{MONTHS_LONG[m - 1]} {day}, {y}",
        )
    )


def _time(ctx: Ctx) -> str:
    return ctx.choice((f"{ctx.rng.randint(0, 23):02d}{ctx.choice(('00', '15', '30', '45'))}", "0700", "1900"))


def s_date(ctx: Ctx) -> list[Seg]:
    return [(_fmt_date(ctx, ctx.near_date()), "DATE")]


def s_dlong(ctx: Ctx) -> list[Seg]:
    d = ctx.near_date()
    return [(ctx.choice((f"{d.month}/{d.day}/{d.year}", f"{d.month:02d}/{d.day:02d}/{d.year}", d.isoformat())), "DATE")]


def s_dob(ctx: Ctx) -> list[Seg]:
    d = dt.date(ctx.rng.randint(1915, 1960), ctx.rng.randint(1, 12), ctx.rng.randint(1, 28))
    return [(ctx.choice((f"{d.month}/{d.day}/{d.year}", f"{d.month:02d}/{d.day:02d}/{d.year}")), "DATE")]


def s_dtime(ctx: Ctx) -> list[Seg]:
    d = _fmt_date(ctx, ctx.near_date())
    t = _time(ctx)
    return [(ctx.choice((f"{d} at {t}", f"{d} @ {t}", f"{d} {t}", f"{d} @{t}", f"{d} at {t[:2]}:{t[2:]}")), "DATE")]


def s_dth(ctx: Ctx) -> list[Seg]:
    day = ctx.near_date().day
    suf = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return [("the ", None), (f"{day}{suf}", "DATE")]


def s_drange(ctx: Ctx) -> list[Seg]:
    a = ctx.near_date()
    b = a + dt.timedelta(days=ctx.rng.randint(1, 5))
    sep = ctx.choice(("-", " - ", " to ", "-"))
    return [(f"{a.month}/{a.day}", "DATE"), (sep, None), (f"{b.month}/{b.day}", "DATE")]


def s_appt(ctx: Ctx) -> list[Seg]:
    d = ctx.base + dt.timedelta(days=ctx.rng.randint(7, 40))
    t = ctx.choice(("10:30am", "2:15 PM", "9am", "1:00pm", "11:45 AM"))
    ds = ctx.choice((f"{d.month}/{d.day}", f"{MONTHS[d.month - 1]} {d.day}", f"{d.month}/{d.day}/{d.year}"))
    return [(f"{ds} at {t}", "DATE")]


# --- ages


def s_agesex(ctx: Ctx) -> list[Seg]:
    old = ctx.rng.random() < 0.4
    age = str(ctx.rng.randint(90, 104) if old else ctx.rng.randint(38, 89))
    typ = "AGE_90" if old else None
    sx = ctx.choice(("F", "female", "woman", "F")) if ctx.female else ctx.choice(("M", "male", "man", "M"))
    return ctx.choice(
        (
            [(age, typ), (" yo " + sx, None)],
            [(age, typ), (sx[0], None)],
            [(age, typ), (" y/o " + sx, None)],
            [(age, typ), ("-year-old " + sx, None)],
            [(age, typ), (" year old " + sx, None)],
            [(age, typ), ("yo" + sx[0], None)],
        )
    )


def s_age90(ctx: Ctx) -> list[Seg]:
    return [(str(ctx.rng.randint(90, 103)), "AGE_90")]


# --- places


def _place(pool: tuple[str, ...]) -> Callable[[Ctx], list[Seg]]:
    def render(ctx: Ctx) -> list[Seg]:
        return [(_lc(ctx, ctx.choice(pool)), "LOCATION")]

    return render


def s_state(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice(STATES), None)]


def s_country(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice(COUNTRIES), None)]


def _zip(ctx: Ctx) -> str:
    return f"0{ctx.rng.randint(1000, 2799)}"


def s_addr(ctx: Ctx) -> list[Seg]:
    street = f"{ctx.rng.randint(2, 1450)} {ctx.choice(STREETS)}"
    if ctx.rng.random() < 0.4:
        street += ctx.choice((", Apt 3B", " Apt. 2", ", #14", ", Unit 5", " 2nd floor"))
    town = ctx.choice(TOWNS)
    st = ctx.choice((", MA ", " MA ", ", Massachusetts "))
    return [(street, "ADDRESS"), (", ", None), (town, "LOCATION"), (st, None), (_zip(ctx), "ZIP")]


# --- numbers


def _digits(ctx: Ctx, n: int) -> str:
    return "".join(str(ctx.rng.randint(0, 9)) for _ in range(n))


def s_phone(ctx: Ctx) -> list[Seg]:
    a, b, c = ctx.choice(AREA_CODES), f"{ctx.rng.randint(200, 989)}", _digits(ctx, 4)
    return [
        (
            ctx.choice(
                (
                    f"({a}) {b}-{c}",
                    f"{a}-{b}-{c}",
                    f"{a}.{b}.{c}",
                    f"{a} {b} {c}",
                    f"{b}-{c}",
                    f"1-800-{b}-{c}",
                    f"{a}-{b}-{c} x{ctx.rng.randint(100, 9999)}",
                    f"({a}){b}-{c}",
                )
            ),
            "PHONE",
        )
    ]


def s_ext(ctx: Ctx) -> list[Seg]:
    return [
        (ctx.choice((f"x{ctx.rng.randint(2, 9)}-{_digits(ctx, 4)}", f"x{_digits(ctx, 5)}", _digits(ctx, 4))), "PHONE")
    ]


def s_pager(ctx: Ctx) -> list[Seg]:
    return [
        (ctx.choice((f"{ctx.rng.randint(1, 9)}-{_digits(ctx, 4)}", _digits(ctx, 5), f"#{_digits(ctx, 5)}")), "PHONE")
    ]


def s_mrn(ctx: Ctx) -> list[Seg]:
    return [
        (
            ctx.choice((_digits(ctx, 7), _digits(ctx, 8), f"{_digits(ctx, 3)}-{_digits(ctx, 2)}-{_digits(ctx, 2)}")),
            "MRN",
        )
    ]


def s_acct(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice((_digits(ctx, 10), f"{_digits(ctx, 6)}-{_digits(ctx, 2)}", f"A{_digits(ctx, 9)}")), "ACCOUNT")]


def s_plan(ctx: Ctx) -> list[Seg]:
    letters = "".join(ctx.choice("ABCDEFGHJKMNPRTUVWXY") for _ in range(3))
    mbi = f"{ctx.rng.randint(1, 9)}{letters[0]}{letters[1]}{_digits(ctx, 1)}-{letters[2]}{ctx.choice('ABCDEFGH')}{_digits(ctx, 1)}-{ctx.choice('KLMN')}{ctx.choice('RTUV')}{_digits(ctx, 2)}"
    return [(ctx.choice((_digits(ctx, 12), f"{letters}{_digits(ctx, 9)}", mbi, f"{_digits(ctx, 9)}A")), "HEALTH_PLAN")]


def s_ssn(ctx: Ctx) -> list[Seg]:
    return [(f"{ctx.rng.randint(1, 665):03d}-{_digits(ctx, 2)}-{_digits(ctx, 4)}", "SSN")]


def s_license(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice((f"S{_digits(ctx, 8)}", f"RN{_digits(ctx, 6)}", f"{_digits(ctx, 9)}")), "LICENSE")]


def s_vehicle(ctx: Ctx) -> list[Seg]:
    lt = "".join(ctx.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(2))
    return [
        (
            ctx.choice((f"{ctx.rng.randint(1, 9)}{lt} {_digits(ctx, 3)}", f"{_digits(ctx, 3)}-{lt}{_digits(ctx, 1)}")),
            "VEHICLE",
        )
    ]


def s_device(ctx: Ctx) -> list[Seg]:
    lt = "".join(ctx.choice("ABCDEFGHJKLMNPRSTVWXYZ") for _ in range(3))
    return [
        (ctx.choice((f"{lt}{_digits(ctx, 6)}{lt[0]}", f"{_digits(ctx, 8)}", f"{lt[:2]}-{_digits(ctx, 5)}")), "DEVICE")
    ]


def s_email(ctx: Ctx) -> list[Seg]:
    user = ctx.choice((ctx.rel_first.lower(), ctx.rel_first[0].lower() + ctx.rel_last.lower()))
    user = re.sub(r"[^a-z0-9]", "", user) or "famly"
    dom = ctx.choice(("gmail.com", "yahoo.com", "comcast.net", "hotmail.com", "verizon.net"))
    return [(f"{user}{ctx.rng.randint(1, 99)}@{dom}", "EMAIL")]


def s_url(ctx: Ctx) -> list[Seg]:
    return [
        (
            ctx.choice(
                (
                    "https://mychart.southshorehealth.org",
                    "www.patientgateway-ne.org/login",
                    "https://portal.mercyhospma.org/signup",
                    "myhealth.stvincentma.org",
                )
            ),
            "URL",
        )
    ]


def s_ip(ctx: Ctx) -> list[Seg]:
    return [(f"10.{ctx.rng.randint(1, 254)}.{ctx.rng.randint(1, 254)}.{ctx.rng.randint(1, 254)}", "IP")]


def s_sid(ctx: Ctx) -> list[Seg]:
    return [(ctx.choice((f"{_digits(ctx, 4)}-{_digits(ctx, 4)}", f"IR-{_digits(ctx, 6)}", _digits(ctx, 7))), "ID")]


# --- distractor filler


def s_vitals(ctx: Ctx) -> list[Seg]:
    return [
        (
            ctx.choice(
                (
                    "HR 88-104 ST, BP 142/80, RR 22, sats 95% on 4L NC",
                    "T 99.8 HR 72 NSR BP 108/62 RR 16 O2 sat 98%",
                    "VS: 100.4 / 118 / 94/50 / 28 / 91% on NRB",
                    "SBP 90-110s, MAP 60-70s, CVP 8-12",
                    "hr 60s sb, sbp 130-150s, afebrile",
                )
            ),
            None,
        )
    ]


SLOTS: dict[str, Callable[[Ctx], list[Seg]]] = {
    "pt": s_pt,
    "ptheader": s_ptheader,
    "md": s_md,
    "md2": s_md2,
    "mdposs": s_mdposs,
    "res": s_res,
    "rn": s_rn,
    "rnsig": s_rnsig,
    "rt": s_rt,
    "rtsig": s_rtsig,
    "swsig": s_swsig,
    "person": s_person,
    "rel": s_rel,
    "relname": s_relname,
    "relposs": s_relposs,
    "relword": s_relword,
    "clergy": s_clergy,
    "initials": s_initials,
    "date": s_date,
    "dlong": s_dlong,
    "dob": s_dob,
    "dtime": s_dtime,
    "dth": s_dth,
    "drange": s_drange,
    "appt": s_appt,
    "agesex": s_agesex,
    "age90": s_age90,
    "hosp": _place(HOSPITALS),
    "rehab": _place(REHABS),
    "nh": _place(NURSING_HOMES),
    "clinic": _place(CLINICS),
    "church": _place(CHURCHES),
    "school": _place(SCHOOLS),
    "employer": _place(EMPLOYERS),
    "dme": _place(DME),
    "town": _place(TOWNS),
    "state": s_state,
    "country": s_country,
    "addr": s_addr,
    "phone": s_phone,
    "ext": s_ext,
    "pager": s_pager,
    "mrn": s_mrn,
    "acct": s_acct,
    "plan": s_plan,
    "ssn": s_ssn,
    "license": s_license,
    "vehicle": s_vehicle,
    "device": s_device,
    "email": s_email,
    "url": s_url,
    "ip": s_ip,
    "sid": s_sid,
    "vitals": s_vitals,
}


# ---------------------------------------------------------------------------------------------------
# Sentence frames, by style and section. "{slot}" is filled by SLOTS; a leading "§Header§" is a
# section header whose case follows the note's header style. Each section is (probability, frames).
# ---------------------------------------------------------------------------------------------------

Section = tuple[float, tuple[str, ...]]

FRAMES: dict[str, tuple[Section, ...]] = {
    "icu_nursing": (
        (
            1.0,
            (
                "§NPN 7a-7p§ {pt} is a {agesex} admitted {date} from {hosp} with urosepsis.",
                "§Nursing Progress Note§ {dtime} - 1900. Pt is {agesex} POD#2 s/p ex-lap, transferred to MICU from 7 North on {date}.",
                "§MICU NSG NOTE§ {dtime}",
                "§RN shift note 7p-7a§ {date}: {agesex} w/ hx CHF, Parkinson's, admit from {nh} {dth} for resp failure.",
                "§CCU nursing 1900-0700§ pt {pt}, {agesex}, NSTEMI, cath {date} at {hosp} then transferred here.",
            ),
        ),
        (
            1.0,
            (
                "§Neuro:§ A&Ox3, MAE, follows commands, PERRL 3mm brisk. pain 7/10 L hip, medicated w/ dilaudid 0.5mg IV with fair effect. 4/5 strength BUE.",
                "§neuro-§ sedated on propofol 30mcg/kg/min, RASS -2, GCS 3T, pupils 2mm sluggish, no sz activity noted. will monitor",
                "§NEURO:§ lethargic but arousable to voice, oriented to self only, restless overnight, haldol 2mg IV x1 at 0400 w/ good effect.",
                "§Neuro:§ intermittent Cheyne-Stokes pattern while asleep, easily aroused. Glasgow 14.",
            ),
        ),
        (
            1.0,
            (
                "§CV:§ NSR 80s-90s no ectopy, SBP 90-110s on levo 0.08 mcg/kg/min, weaned to 0.04 by 0600. K 3.6 repleted w/ 40meq KCL, Mg 1.8 repleted.",
                "§cv-§ afib RVR 130s this am, lopressor 5mg IV x2 with HR down to 90s. dr aware. Coumadin on hold per team.",
                "§CV:§ Swan-Ganz R IJ, CVP 12 PAD 22 CI 2.1. Levophed off since {dtime}. {vitals}.",
                "§CV§ {vitals}; +pulses, trace edema BLE, Hickman R chest CDI, lytes repleted per sliding scale",
            ),
        ),
        (
            1.0,
            (
                "§Resp:§ on PS 10/5 FiO2 40%, RR 18-22, sats 96-99%, LS coarse bilat, sxn for mod amt thick tan. may need bronch per team.",
                "§RESP-§ extubated {dtime} to 4L NC, sats 94%, ABG 7.38/42/88, strong cough.",
                "§resp:§ RT {rt} in to see pt, CPAP 5/5 trial at 0800 tolerated well x2hrs. hope to wean further today.",
                "§Resp:§ L chest tube to Pleur-evac -20 sxn, no air leak, small amt serosang drainage.",
            ),
        ),
        (
            0.9,
            (
                "§GI/GU:§ abd soft NT/ND +BS, TF via Dobhoff at goal 60cc/hr, no residuals. Foley draining clear yellow 30-60cc/hr.",
                "§GI:§ BM x1 brown guaiac neg. §GU:§ Foley to gravity, uo 20-40/hr, Lasix 40 IV given at 1400 w/ marked improvement in uo.",
                "§gi§ npo, ogt to lcws draining bilious, frank blood noted x1 at 0300 - team aware, hct 24.1 (26 on {date}).",
            ),
        ),
        (
            0.8,
            (
                "§ID:§ Tmax 101.2 @ 0200, temp rose to 101.6 before tylenol, pan cultured, vanco/zosyn cont. WBC 14.2 at 0400.",
                "§ID§ afebrile. on day 5/7 cipro. c diff precautions maintained.",
                "§Skin:§ stage II sacral decub, duoderm intact, turned q2h w/ Hoyer lift. pt wearing sterling silver ring - taped.",
            ),
        ),
        (
            1.0,
            (
                "§Social:§ {rel} called x2 overnight, updated by RN, states will be in Monday. her # {phone}.",
                "§Social-§ {rel} at bedside most of shift, many questions re: POC, referred to {md}. family lives in {town}.",
                "§Family:§ {rel} in to visit from {town}, pt's other children live in {state}. Family mtg set for {dtime} w/ {md}.",
                "§SOCIAL:§ pt lives w/ {relword} in {town}, retired from {employer}. {relposs} cell {phone}.",
                "§social§ no family contact this shift. SW {person} aware, will f/u tomorrow.",
            ),
        ),
        (
            1.0,
            (
                "§Plan:§ wean levo as tolerated for MAP >65, f/u am labs, cont to update family, pt is full code.",
                "§A/P:§ resp failure improving. cont current POC, monitor I&O, OOB to chair w/ PT in AM if stable.",
                "§Plan-§ CT abd today, npo after mn, consent signed by {relname}. {mdposs} team to readdress GOC.",
            ),
        ),
        (1.0, ("{rnsig}", "{rnsig} {dtime}", "Signed: {rnsig}")),
    ),
    "nursing_event": (
        (
            1.0,
            (
                "§Nursing Event Note§ {dtime}",
                "§EVENT NOTE:§ Called to bedside by PCA {person} at 0315 on {date}.",
                "§Nursing note - fall§ {dtime}",
                "§RN event note§ ({dlong})",
            ),
        ),
        (
            1.0,
            (
                "Pt {pt} found sitting on floor next to bed at approx 0230. no LOC per pt, {vitals}, FS 112. Covering resident {res} notified and in to assess.",
                "At 1545 pt became acutely agitated, pulled out L IJ TLC. Pressure held x10 min, no bleeding. {md} aware, CXR ordered.",
                "Rapid response called {dtime} for SBP 70s; team ({res}, RT {rt}) at bedside. 1L NS bolus given w/ SBP up to 98/54.",
                "pt noted to have frank blood per rectum x2, approx 300cc, HR up to 120s. {md2} paged ({pager}) and at bedside within 5 min.",
                "pt {pt} c/o sudden onset CP 8/10 at 2200, EKG done, ST changes per {res}, SL NTG x1 w/ relief. CCU fellow aware.",
            ),
        ),
        (
            1.0,
            (
                "Safety report filed, #{sid}. Bed alarm on, low bed, mats at bedside.",
                "Alaris pump serial {device} alarming occlusion repeatedly, removed from service and sent to biomed. Pump lost connection to server {ip} x3 this shift.",
                "Incident report # {sid} completed. charge RN {rn} aware.",
                "Pt's belongings (wallet, cell phone, car keys, sterling silver chain) given to {rel} per pt request; car w/ plate {vehicle} in garage level 3.",
                "Restraints applied per protocol at 1600, order obtained from {res}.",
            ),
        ),
        (
            1.0,
            (
                "Family notified: {rel} by phone at {phone}, left message.",
                "{rel} notified at {dtime}, states she will come in. ph {phone}.",
                "Attempted to call {rel} at {phone} x2 without answer. will try again Monday.",
                "HCP {relname} updated by {res} at bedside.",
            ),
        ),
        (
            1.0,
            (
                "Post event: pt resting, pain 7/10, GCS 15, Foley intact, will monitor closely.",
                "VS after event BP 142/80, HR 90s. Coumadin held per team, fall precautions in place on 7 North.",
                "Pt transferred to CCU for closer monitoring; Hoyer lift used to return pt to bed.",
                "pt back to baseline at 0400, may need sitter tonight if agitation recurs",
            ),
        ),
        (1.0, ("{rnsig}", "-- {rnsig}", "{rnsig} / {rn}")),
    ),
    "respiratory_therapy": (
        (
            1.0,
            (
                "§Respiratory Care§ {dtime}",
                "§RT note§ {date}:",
                "§RESPIRATORY THERAPY NOTE§ {dlong}",
                "§Resp Care Note§",
            ),
        ),
        (
            1.0,
            (
                "Pt remains on AC 500x14 +5 FiO2 50%, RSBI 88 this am. SBT on PS 10/5 x 30 min tolerated, ABG 7.41/38/92.",
                "Trached {date} w/ 8.0 Shiley, cuff pressure 24, trach care done, inner cannula changed. Pt on 35% trach mask, will monitor for secretions overnight.",
                "MDIs given: albuterol 6 puffs q4h and atrovent. BS diminished bases. Peak pressures 32 / plateau 24, Mg 1.8 per MICU team.",
                "pt on bipap 12/5 40% overnight for Cheyne-Stokes / OSA, mask fit good, sats 93-96%. CPAP 5/5 at home per pt.",
                "pt {pt} extubated to 50% cool neb at 1030 after PS 10/5 x 1hr, strong cough, + leak test prior. no stridor.",
            ),
        ),
        (
            0.9,
            (
                "Pt transported to CT with RT {rt} and RN on portable vent, no events.",
                "Vent settings reviewed with {md}; plan to trial PS 10/5 in AM. may need trach if fails.",
                "Reviewed w/ {mdposs} team at rounds {date}. hope to wean to trach collar by Monday.",
                "ETT repositioned 22 @ lip per CXR {dtime}, confirmed by {res}.",
            ),
        ),
        (
            0.7,
            (
                "Home O2 arranged through {dme} (ph {phone}), pt on 2L at home since 2004.",
                "Pt's home bipap (serial {device}) brought in by {rel}, checked by biomed.",
                "Pt previously ventilated at {rehab} {drange}, weaned there per records.",
            ),
        ),
        (1.0, ("{rtsig}", "{rtsig} pager {pager}", "-{rtsig}")),
    ),
    "social_work": (
        (
            1.0,
            (
                "§Social Work Note§ {date}",
                "§SW Initial Assessment§ {dtime}",
                "§CASE MANAGEMENT NOTE§ {dlong}",
                "§sw f/u§",
            ),
        ),
        (
            1.0,
            (
                "Met with {rel} and {relword} in family room on 7 North. Pt is a {agesex} {country}-born, speaks Creole, has lived in {town} x 20 yrs.",
                "Pt is a {agesex} from {country} who lives alone in an apartment in {town}; {relword} lives nearby in {town}. Transferred from MICU to 7 North today.",
                "SW met w/ pt's {relword}s {person} and {person} at bedside; interpreter {person} (Vietnamese) present for meeting in CCU family room.",
                "Per {rel}, pt has been living at {nh} since {date}; prior to that lived w/ family in {state}. pt remains in MICU, may need trach/PEG.",
            ),
        ),
        (
            1.0,
            (
                "Pt's HCP is {rel}, cell {phone}, home {phone}.",
                "Emergency contact: {rel} {phone}. secondary: {rel} (works at {employer}).",
                "HCP form on chart naming {relname}; alt HCP {person}. Contact info {email}.",
            ),
        ),
        (
            0.9,
            (
                "Pt worked as a bus driver for {employer} until 2009. Grandson attends {school}. Pt active at {church}, {clergy} visited today; pt finds strength in her faith.",
                "Insurance: MassHealth #{plan}; pt also has Medicare {plan}. pt concerned about hospital bill, SW to apply for fuel assistance grant.",
                "Pt is a retired teacher from {school}. Family requests visit from {clergy} of {church}.",
                "Financial: income SSI, SW assisted w/ MassHealth application. acct {acct} flagged by financial counseling.",
            ),
        ),
        (
            1.0,
            (
                "Referral faxed to {rehab} (fax {phone}), intake coordinator {person} ph {phone} ext {ext}.",
                "Screening for rehab: {rehab} and {rehab}. Bed offer expected by {dth}.",
                "Plan: d/c to {nh} when medically cleared, pt/family agreeable. Contact {person} at {nh} {phone}.",
                "VNA referral to {dme}, start of care {date}. PCP {md} at {clinic} notified.",
            ),
        ),
        (1.0, ("SW will continue to follow. {swsig} pager {pager}", "{swsig} x{ext}", "{swsig}")),
    ),
    "physician_progress": (
        (
            1.0,
            (
                "§MICU Progress Note§ HD#5 {date}",
                "§ICU ATTENDING NOTE§ {dtime}",
                "§Resident progress note§ {date} - MICU team B",
                "§CCU Progress Note§",
            ),
        ),
        (
            1.0,
            (
                "{agesex} w/ hx CHF (EF 25%), AFib on Coumadin, Parkinson's, admitted {date} from {nh} w/ urosepsis.",
                "{agesex} with Graves' disease, COPD, transferred from {hosp} on {date} for hypoxic resp failure.",
                "pt is {agesex} w/ ESRD on HD (MWF at {clinic}), admitted {drange} with hyperK, given Kayexalate.",
            ),
        ),
        (
            1.0,
            (
                "§24h events:§ extubated at 1100, febrile to 101.4, cx sent. levo 0.08 weaned off at 0400.",
                "§Events:§ overnight SVT to 170s, broke w/ adenosine. K 3.6, Mg 1.8 repleted.",
                "§o/n:§ no acute events, Foley removed, pt OOB to chair.",
            ),
        ),
        (
            1.0,
            (
                "§Exam:§ {vitals}. gen: NAD. lungs: coarse BS bilat. CV: irreg irreg. ext: 1+ edema. neuro: GCS 3T, 4/5 strength RUE.",
                "§PE:§ {vitals}; Swan-Ganz in place, CI 2.4; abd benign; Hickman site clean.",
                "§Labs:§ Na 134 K 3.6 Cl 101 HCO3 22 BUN 40 Cr 1.8 (baseline 1.2 per records from {hosp}); WBC 14.2 at 0400, lactate 2.1.",
            ),
        ),
        (
            1.0,
            (
                "# Septic shock: source urine. cont levo 0.08 goal MAP >65, vanc/zosyn day 3, f/u BCx from {date}.",
                "# AFib: rate controlled, INR 2.8, hold Coumadin. # Parkinson's: cont Sinemet 25/100 TID.",
                "# resp failure: PS 10/5, RSBI 70, SBT in am. may need trach if not extubated by {date}.",
                "# ARF: Cr rose to 1.8 from 1.1, likely prerenal, Lasix on hold, renal following ({md2}).",
            ),
        ),
        (
            1.0,
            (
                "# Goals of care: discussed with {rel}, remains full code, family meeting {dth} w/ palliative ({md2}).",
                "# GOC: met w/ {rel} and {relword} {dtime}; DNR/DNI confirmed, MOLST on chart.",
                "# Dispo: MICU for now, screening for {rehab}. PCP {md2} at {clinic} ({phone}) updated.",
            ),
        ),
        (
            1.0,
            (
                "Seen and examined with resident {res}. Agree with plan as above. {md}",
                "I saw and examined the pt with {res} and agree w/ the findings and plan. {md}, pager {pager}",
                "{res} / {initials} for {md}",
                "Case d/w {md2} who will see today. - {res}",
            ),
        ),
    ),
    "discharge_summary": (
        (
            1.0,
            (
                "§Name:§ {ptheader}   §Unit No:§ {mrn}",
                "§PATIENT:§ {ptheader}  §MRN:§ {mrn}  §ACCT #:§ {acct}",
                "§Patient Name:§ {ptheader}\n§Medical Record #:§ {mrn}",
            ),
        ),
        (
            1.0,
            (
                "§Admission Date:§ {dlong}   §Discharge Date:§ {dlong}\n§Date of Birth:§ {dob}   §Sex:§ F",
                "§Admit:§ {date}  §D/C:§ {date}  §DOB:§ {dob}  §Age:§ {age90}",
                "§Date of Admission:§ {dlong}\n§Date of Discharge:§ {dlong}",
            ),
        ),
        (
            1.0,
            (
                "§Service:§ MEDICINE  §Attending:§ {md}\n§PCP:§ {md2} ({clinic}) {phone}",
                "§Attending Physician:§ {md}   §Dictating:§ {res}",
                "§Primary Care:§ {md2}, {clinic}, tel {phone} fax {phone}",
            ),
        ),
        (
            0.8,
            (
                "§Address:§ {addr}  §Home phone:§ {phone}",
                "§Patient address:§ {addr}. §Insurance:§ BCBS {plan}. §SSN:§ {ssn}",
                "§Emergency contact:§ {rel}, {addr}, {phone}",
            ),
        ),
        (
            1.0,
            (
                "§HISTORY OF PRESENT ILLNESS:§ {agesex} w/ hx CHF, AFib on Coumadin and Parkinson's who presented to {hosp} ED on {date} after a fall at home in {town}.",
                "§HPI:§ {agesex} resident of {nh} sent in {dtime} with fever, hypotension. In ED BP 78/40, lactate 4.2, started on Levophed.",
                "§History of Present Illness:§ pt is {agesex} brought in by {rel} on {date} with 3 days of dyspnea; seen at {clinic} {date} and started on azithro.",
            ),
        ),
        (
            1.0,
            (
                "§HOSPITAL COURSE:§ Pt was admitted to the MICU on {date}, intubated for hypoxia, extubated {date}. Transferred to 7 North {dth}. Course c/b AFib, rate controlled. K 3.6 at discharge.",
                "§Hospital Course:§ 1. Sepsis: UCx grew E coli, treated w/ ceftriaxone {drange}. 2. CHF: diuresed w/ Lasix, marked improvement. 3. Parkinson's: Sinemet 25/100 continued.",
                "§Brief hospital course:§ pt had a Medtronic pacemaker (serial {device}) interrogated by EP on {date}, normal function. Swan-Ganz removed {date}. Dobhoff placed for TF.",
            ),
        ),
        (
            1.0,
            (
                "§DISCHARGE MEDICATIONS:§\n1. Metoprolol 25 mg PO BID\n2. Lasix 40 mg PO daily\n3. Coumadin 2.5 mg PO qhs, goal INR 2-3\n4. Sinemet 25/100 1 tab TID",
                "§Discharge Meds:§ ASA 81 daily, Lipitor 40 daily, Lasix 20 daily, albuterol MDI q4h prn, Senna 8.6 mg bid",
                "§Medications on discharge:§ Coumadin 5mg (check INR Monday), KCl 20 meq daily, Levothyroxine 88 mcg",
            ),
        ),
        (
            1.0,
            (
                "§Discharge Disposition:§ Extended Care\n§Facility:§ {rehab} - {town}",
                "§DISPOSITION:§ home with services ({dme})",
                "§Discharge to:§ {nh}, {addr}, ph {phone}",
            ),
        ),
        (
            1.0,
            (
                "§Followup Instructions:§ {md2} at {clinic}, {addr}. Phone {phone}. Appt {appt}.",
                "§FOLLOW UP:§ Provider: {md2} ({clinic}) Phone: {phone} Date/Time: {appt}\nPCP {md} {phone} - call for appt within 1-2 weeks.",
                "§F/u:§ Cardiology, {md2}, {clinic}, {appt}; INR check at {clinic} Monday.",
            ),
        ),
        (
            0.6,
            (
                "Patient portal: {url}. Questions: {email}.",
                "Results will be posted to {url}; family may email {email}.",
                "Pt's daughter-in-law requests records be sent to {hosp} (fax {phone}).",
            ),
        ),
        (
            1.0,
            (
                "{md} {dtime}\nDictated by: {res}\n{initials} JOB#: {sid}",
                "§Electronically signed by:§ {md} on {dtime}",
                "{res} for {md}   D: {date}  T: {date}",
            ),
        ),
    ),
}

STYLES = tuple(FRAMES)


def frame_count() -> int:
    """The number of distinct sentence frames across all styles."""
    return len({f for sections in FRAMES.values() for _, frames in sections for f in frames})


FRAME_COUNT = frame_count()

_DISTRACTOR_WORDS = {w for phrase in DISTRACTORS for w in re.findall(r"[a-z]+", phrase.lower())}
_SLOT_RE = re.compile(r"(\{[a-z0-9]+\})")
_HEADER_RE = re.compile(r"§([^§]*)§")
_TITLE_TOKENS = {"dr", "md", "rn", "np", "mr", "mrs", "ms", "phd", "rrt", "lcsw", "licsw", "msw", "pa-c", "m.d."}


def _typo(ctx: Ctx, text: str, rate: float) -> str:
    """Swap or drop letters in a few plain lower-case words of a literal (never in PHI)."""
    if rate <= 0:
        return text

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        if w in _DISTRACTOR_WORDS or ctx.rng.random() >= rate:
            return w
        i = ctx.rng.randint(1, len(w) - 2)
        if ctx.rng.random() < 0.5:
            return w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        return w[:i] + w[i + 1 :]

    return re.sub(r"\b[a-z]{6,}\b", fix, text)


def _render(ctx: Ctx, template: str, header_case: str, typo_rate: float, drop_period: float) -> list[Seg]:
    def head(m: re.Match[str]) -> str:
        h = m.group(1)
        if header_case == "upper":
            return h.upper()
        if header_case == "lower":
            return h.lower()
        return h

    template = _HEADER_RE.sub(head, template)
    segs: list[Seg] = []
    for part in _SLOT_RE.split(template):
        if not part:
            continue
        if _SLOT_RE.fullmatch(part):
            segs.extend(SLOTS[part[1:-1]](ctx))
        else:
            segs.append((_typo(ctx, part, typo_rate), None))
    if segs and segs[-1][1] is None and segs[-1][0].endswith(".") and ctx.rng.random() < drop_period:
        segs[-1] = (segs[-1][0][:-1], None)
    return segs


def _note(index: int, seed: int, fake: Faker) -> dict:
    rng = random.Random(f"{seed}:{index}")
    fake.seed_instance(rng.randint(0, 2**31))
    ctx = Ctx(rng, fake)
    style = STYLES[index % len(STYLES)]
    casing = rng.choices(("normal", "lower", "caps_headers"), weights=(5, 2, 3))[0]
    header_case = {"normal": "asis", "lower": "lower", "caps_headers": "upper"}[casing]
    typo_rate = rng.choice((0.0, 0.0, 0.02, 0.05))
    drop_period = rng.choice((0.0, 0.3, 0.7))
    joiner_runon = rng.random() < 0.3

    segs: list[Seg] = []
    for prob, frames in FRAMES[style]:
        if rng.random() >= prob:
            continue
        piece = _render(ctx, rng.choice(frames), header_case, typo_rate, drop_period)
        if segs:
            segs.append((" " if joiner_runon and rng.random() < 0.5 else "\n", None))
        segs.extend(piece)

    text_parts: list[str] = []
    spans: list[dict] = []
    pos = 0
    for seg_text, typ in segs:
        if typ is not None:
            spans.append({"start": pos, "end": pos + len(seg_text), "type": typ})
        text_parts.append(seg_text)
        pos += len(seg_text)
    text = "".join(text_parts)
    if not text.isascii():
        text = _ascii(text)  # never expected: every pool is ASCII; guards the offsets below
        if len(text) != pos:
            raise ValueError("non-ASCII surrogate changed the note length")
    if casing == "lower":
        text = text.lower()
    return {"id": f"blind2-{seed}-{index:05d}", "text": text, "spans": spans, "style": style}


def generate(n: int, seed: int = 0) -> list[dict]:
    """Generate `n` notes deterministically from `seed`, rotating through the styles."""
    fake = Faker("en_US")
    return [_note(i, seed, fake) for i in range(n)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    records = generate(args.notes, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec) + "\n")
    print(f"wrote {len(records)} notes ({sum(len(r['spans']) for r in records)} gold spans) to {args.output}")


if __name__ == "__main__":
    main()
