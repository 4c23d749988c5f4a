"""Blind synthetic evaluation corpus of ICU nursing progress notes with gold PHI spans.

    .venv/bin/python benchmarks/deid_blind_corpus.py --notes 200 --seed 7 --output blind.jsonl [--part dev|heldout|all]

What it is: a deterministic generator of MIMIC-II / PhysioNet-"deid"-style nursing progress notes
("NPN 7a-7p", system-by-system Neuro/CV/Resp/GI/GU/ID/Skin/Endo/Heme/Social/Dispo/Plan, event notes,
transfer notes, family-contact notes, signature lines), with heavy abbreviations, lower-case and
ALL-CAPS styles, typos and run-on lines. Every PHI value is a made-up surrogate (Faker en_US names mixed
with hand-written lists of US first names and surnames of many origins, many of them ordinary English
words; hospitals, towns, phone numbers, pagers, MRNs, addresses ...), and gold spans are recorded as the
text is built, so offsets are exact by construction. Notes also carry distractors that are not PHI:
vitals and ranges (HR 80-90s, BP 110/60), scores and fractions (pain 7/10, PS 10/5, 2/2 = "secondary
to"), drips and doses, eponyms and devices (Foley, Swan-Ganz, Dobhoff, Parkinson's), drug brands, unit
names (MICU, 7 North), weekday names alone, bare years, states and countries, ages under 90, and English
words that are also names (will, may, hope, mark, frank, grant, rose, bill).

Written blind: this file was written by a helper session under the rule "written without reading the
detector or its failures" - its author did not open the detector's recognizers, engine, lexicons,
corpus, residual or surrogate modules, its tests or its documentation, and never ran it. The templates
come from general knowledge of how ICU nursing notes are written and where PHI sits in them.

Gold rules: NAME covers only the name words (no titles, credentials, relation words or possessive 's);
DATE covers the date and an attached time ("2/12 @ 0700"), not a weekday before it nor words such as
"on the"/"early"/"last"; a bare year is not gold (Safe Harbor keeps years); AGE_90 covers only the
number of an age >= 90 ("91" in "91 yo"); hospitals, facilities and towns/cities are LOCATION (US states
and countries are not gold); pagers and extensions are PHONE (digits only). Each record holds
`id`, `text`, `spans` ([{start, end, type}], end exclusive), `template` (the note's header template
family), `templates` (every family used, in order) and `part`.

Dev / held-out rule: the 40 template families are numbered 1..40; families whose number % 3 == 0 are
"heldout", the rest "dev". Each note draws ALL its templates from one part, so a note is entirely dev
or entirely heldout (about 35% of notes are heldout; `--part dev|heldout` makes every note
that part). Tune on dev only; report on heldout.

The figures measured on this corpus are still synthetic: it is a blind check against over-fitting to
the project's own corpora, not a substitute for real annotated notes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path

from faker import Faker

TYPES = {
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

# ---------------------------------------------------------------- surrogate lists (all made up)

FIRST_F = (
    "Mary Patricia Linda Barbara Elizabeth Jennifer Susan Margaret Dorothy Lisa Nancy Karen Betty Helen Sandra "
    "Donna Carol Ruth Sharon Michelle Laura Sarah Kimberly Deborah Jessica Shirley Cynthia Angela Melissa Brenda "
    "Amy Anna Rebecca Virginia Kathleen Pamela Martha Debra Amanda Stephanie Carolyn Christine Marie Janet "
    "Catherine Frances Ann Joyce Diane Alice Julie Heather Teresa Doris Gloria Evelyn Jean Cheryl Mildred "
    "Katherine Joan Judith Rose Janice Kelly Nicole Judy Christina Kathy Theresa Beverly Denise Tammy Irene "
    "Jane Lori Rachel Marilyn Andrea Kathryn Louise Sara Anne Jacqueline Wanda Bonnie Julia Ruby Lois Tina "
    "Phyllis Norma Paula Diana Annie Lillian Emily Robin Peggy Crystal Gladys Rita Dawn Connie Florence Tracy "
    "Edna Tiffany Carmen Rosa Cindy Grace Wendy Victoria Edith Kim Sherry Sylvia Josephine Thelma Shannon "
    "Sheila Ethel Ellen Elaine Marjorie Carrie Charlotte Monica Esther Pauline Emma Juanita Anita Rhonda "
    "Hazel Amber Eva Debbie April Leslie Clara Lucille Jamie Joanne Eleanor Valerie Danielle Megan Alicia "
    "Suzanne Michele Gail Bertha Darlene Veronica Jill Erin Geraldine Lauren Cathy Joann Lorraine Lynn Sally "
    "Regina Erica Beatrice Dolores Bernice Audrey Yvonne Annette June May Hope Faith Joy Ivy Holly Iris Violet "
    "Pearl Summer Autumn Daisy Lily Olive Ginger Misty Brandy Destiny Mercedes Kate Katie Meg Jen Liz Sue Pat "
    "Chris Bridget Siobhan Niamh Maureen Colleen Carmela Concetta Angela Krystyna Jadwiga Agnieszka Halina "
    "Maria Guadalupe Yolanda Esperanza Consuelo Xiomara Marisol Luz Mercedes Huong Linh Lan Hoa Phuong Thuy "
    "Mei Jing Hui Xiaoli Yan Priya Sunita Lakshmi Kavita Anjali Deepa Fabiola Marie-Claire Guerline Nadege "
    "Ngozi Chiamaka Folake Adaeze Funmilayo Aisha Fatima Shanice Keisha Latoya Tamika"
).split()

FIRST_M = (
    "James John Robert Michael William David Richard Charles Joseph Thomas Christopher Daniel Paul Mark "
    "Donald George Kenneth Steven Edward Brian Ronald Anthony Kevin Jason Matthew Gary Timothy Jose Larry "
    "Jeffrey Frank Scott Eric Stephen Andrew Raymond Gregory Joshua Jerry Dennis Walter Patrick Peter Harold "
    "Douglas Henry Carl Arthur Ryan Roger Joe Juan Jack Albert Jonathan Justin Terry Gerald Keith Samuel "
    "Willie Ralph Lawrence Nicholas Roy Benjamin Bruce Brandon Adam Harry Fred Wayne Billy Steve Louis Jeremy "
    "Aaron Randy Howard Eugene Carlos Russell Bobby Victor Martin Ernest Phillip Todd Jesse Craig Alan Shawn "
    "Clarence Sean Philip Chris Johnny Earl Jimmy Antonio Danny Bryan Tony Luis Mike Stanley Leonard Nathan "
    "Dale Manuel Rodney Curtis Norman Allen Marvin Vincent Glenn Jeffery Travis Jeff Chad Jacob Lee Melvin "
    "Alfred Kyle Francis Bradley Jesus Herbert Frederick Ray Joel Edwin Don Eddie Ricky Troy Randall Barry "
    "Alexander Bernard Mario Leroy Francisco Marcus Micheal Theodore Clifford Miguel Oscar Jay Jim Tom Calvin "
    "Alex Jon Ronnie Bill Lloyd Tommy Leon Derek Warren Darrell Jerome Floyd Leo Alvin Tim Wesley Gordon Dean "
    "Greg Jorge Dustin Pedro Derrick Dan Lewis Zachary Corey Herman Maurice Vernon Roberto Clyde Glen Hector "
    "Shane Ricardo Sam Rick Lester Brent Ramon Charlie Tyler Gilbert Gene Will Grant Rich Chase Hunter Cliff "
    "Wade Lance Drew Guy Art Bud Rusty Sterling Clay Colm Declan Padraig Seamus Giuseppe Vincenzo Salvatore "
    "Rocco Carmine Stanislaw Wojciech Tadeusz Zbigniew Alejandro Rafael Ignacio Minh Tuan Duc Thanh Hung "
    "Wei Ming Jian Xiaoming Rajesh Anil Deepak Arjun Sanjay Vikram Jean-Baptiste Jean-Pierre Wilner "
    "Dieudonne Fritz Emeka Chinedu Oluwaseun Adebayo Tunde Obinna DeShawn Tyrone Malik"
).split()

SURNAMES = (
    "Smith Johnson Williams Jones Brown Davis Miller Wilson Moore Taylor Anderson Thomas Jackson White Harris "
    "Martin Thompson Garcia Martinez Robinson Clark Rodriguez Lewis Lee Walker Hall Allen Young Hernandez King "
    "Wright Lopez Hill Scott Green Adams Baker Gonzalez Nelson Carter Mitchell Perez Roberts Turner Phillips "
    "Campbell Parker Evans Edwards Collins Stewart Sanchez Morris Rogers Reed Cook Morgan Bell Murphy Bailey "
    "Rivera Cooper Richardson Cox Howard Ward Torres Peterson Gray Ramirez James Watson Brooks Kelly Sanders "
    "Price Bennett Wood Barnes Ross Henderson Coleman Jenkins Perry Powell Long Patterson Hughes Flores "
    "Washington Butler Simmons Foster Gonzales Bryant Alexander Russell Griffin Diaz Hayes Myers Ford Hamilton "
    "Graham Sullivan Wallace Woods Cole West Jordan Owens Reynolds Fisher Ellis Harrison Gibson McDonald Cruz "
    "Marshall Ortiz Gomez Murray Freeman Wells Webb Simpson Stevens Tucker Porter Hunter Hicks Crawford Henry "
    "Boyd Mason Morales Kennedy Warren Dixon Ramos Reyes Burns Gordon Shaw Holmes Rice Robertson Hunt Black "
    "Daniels Palmer Mills Nichols Grant Knight Ferguson Rose Stone Hawkins Dunn Perkins Hudson Spencer Gardner "
    "Stephens Payne Pierce Berry Matthews Arnold Wagner Willis Ray Watkins Olson Carroll Duncan Snyder Hart "
    "Cunningham Bradley Lane Andrews Ruiz Harper Fox Riley Armstrong Carpenter Weaver Greene Lawrence Elliott "
    "Chavez Sims Austin Peters Kelley Franklin Lawson Fields Rivers Banks Marsh Bush Moss Frost Snow Winter "
    "Summers March May August Church Hope Love Sharp Swift Strong Small Little Page Cash Cross Wolf Crane Finch "
    "Crow Lamb Bean Story Good Best Hale Moody Bright Street Case Power Rush Chambers Hardy Sweet Gross Stern "
    "English French Holland Child Bishop Parsons Shepherd Cooke Walls Brook Branch Field Ivory Golden Silver "
    "Dean Judge Major Sargent Marshal Chancellor Queen Baron Sexton Abbott Friend Noble Moon Day Knight "
    "O'Brien O'Connor O'Neil Fitzgerald McCarthy Donovan Flaherty Keane Doherty Callahan Gallagher Brennan "
    "Russo Esposito Romano Colombo Ricci Marino DeLuca Ferraro Gallo Bruno Caruso Santoro Mancini Lombardi "
    "Kowalski Nowak Wisniewski Lewandowski Zielinski Kaminski Szymanski Wozniak Dabrowski Jankowski "
    "Nguyen Tran Le Pham Hoang Phan Vu Dang Bui Do Huynh Ngo Chen Wang Zhang Liu Huang Lin Wong Chan Leung "
    "Zhou Wu Xu Patel Shah Singh Reddy Gupta Iyer Desai Chaudhary Mehta Rao Pierre Joseph Toussaint Desir "
    "Etienne Dorvil Celestin Jean-Louis Charles Louis Baptiste Okafor Adeyemi Okonkwo Eze Obi Balogun Nwosu "
    "Adeleke Oyelaran Cohen Levine Goldberg Katz Friedman Papadopoulos Costa Silva Pereira Medeiros Souza"
).split()

TOWNS = (
    "Quincy|Brockton|Lowell|Lynn|Worcester|Framingham|Dorchester|Revere|Chelsea|Malden|Medford|Somerville|"
    "Cambridge|Newton|Braintree|Weymouth|Plymouth|Salem|Peabody|Haverhill|Fall River|New Bedford|Springfield|"
    "Nashua|Providence|Hartford|Manchester|Portland|Reading|Sharon|Canton|Dover|Hull|Milton|Needham|Beverly|"
    "Florence|Orange|Athol|Marshfield|Franklin|Lincoln|Concord|Wayne|Mattapan|Roxbury|Jamaica Plain|Hyde Park|"
    "Brighton|Everett|Waltham|Woburn|Saugus|Randolph|Stoughton|Taunton|Attleboro|Lawrence|Methuen|Gloucester|"
    "Marblehead|Hingham|Duxbury|Falmouth|Hyannis|Chatham|Nantucket|Pittsfield|Fitchburg|Leominster|Natick|"
    "Wellesley|Dedham|Norwood|Walpole|Foxboro|Mansfield|Burlington|Billerica|Chelmsford|Andover|Winchester"
).split("|")
STATES = ["Florida", "NH", "Maine", "RI", "CT", "Vermont", "NY", "Arizona", "California", "Texas", "NJ", "Ohio"]
COUNTRIES = ["Haiti", "Vietnam", "Ireland", "Italy", "Poland", "Nigeria", "Puerto Rico", "China", "India", "Greece"]

HOSPITALS = [
    "Mass General",
    "MGH",
    "the Brigham",
    "Brigham and Women's",
    "Beth Israel",
    "BI",
    "Mount Auburn",
    "Lahey",
    "Lahey Clinic",
    "Newton-Wellesley",
    "Faulkner",
    "Caritas Carney",
    "Carney Hospital",
    "St. Elizabeth's",
    "St. Anne's",
    "Good Samaritan",
    "Holy Family",
    "South Shore Hospital",
    "Cape Cod Hospital",
    "Merrimack Valley Hospital",
    "Quincy Medical Center",
    "Melrose-Wakefield",
    "Lawrence General",
    "Emerson",
    "Milford Regional",
    "Sturdy Memorial",
    "Norwood Hospital",
    "Winchester Hospital",
    "Greenfield Regional",
    "St. Ignatius Medical Center",
    "Pinecrest General",
    "Harbor Point Hospital",
    "NWH",
    "SSH",
    "CCH",
    "MVH",
    "QMC",
    "the VA",
    "Brockton VA",
    "Children's",
]
REHABS = [
    "Spaulding",
    "Spaulding Rehab",
    "Hebrew Rehab",
    "HRC",
    "Youville",
    "Kindred",
    "Radius",
    "Whittier Rehab",
    "Braintree Rehab",
    "Lemuel Shattuck",
    "Oakridge Rehabilitation Center",
    "Pine Hill Nursing Home",
    "Harborview Manor",
    "St. Joseph's Manor",
    "Sunrise of Milton",
    "Marina Bay Skilled Nursing",
    "the Pavilion",
    "Elm Court",
    "Maple Crest House",
    "Atrium at Wells Crossing",
    "Kimwell",
    "Hope House",
    "Rose Garden Rehab",
]
CHURCHES = ["St. Mary's", "St. Brendan's", "Sacred Heart", "St. Anthony's", "Holy Trinity", "Our Lady of Lourdes"]
STREETS = (
    "Elm St|Main St|Washington St|Adams St|Hancock St|Pleasant St|Centre St|Maple Ave|Park Ave|Summer St|"
    "Winter St|Chestnut Hill Ave|Dorchester Ave|Blue Hill Ave|Columbia Rd|Beacon St|Commonwealth Ave|Broadway|"
    "Oak Ln|Cedar Rd|Spring St|School St|High St|Water St|Union Ave|River Rd|Prospect St|Walnut St"
).split("|")
AREA = ["617", "508", "781", "978", "603", "401", "413", "774", "857", "339", "207", "860"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
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
]
MON3 = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"]
UNITS = ["MICU", "CCU", "SICU", "CSRU", "TSICU", "7 North", "Farr 2", "Finard 4", "the floor", "the step-down unit"]

Piece = str | tuple[str, str]


def _ascii(s: str) -> bool:
    return s.isascii() and len(s.lower()) == len(s)


# ---------------------------------------------------------------- note context


class Ctx:
    """One note's cast (people, places, dates) and style; helpers return lists of pieces."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng = rng
        self.fake = fake
        self.style = rng.choices(["plain", "lower", "caps", "typo"], weights=[4, 2, 2, 2])[0]
        self.pt_sex = rng.choice("MF")
        self.pt = self.person(self.pt_sex)
        self.docs = [self.person() for _ in range(rng.randint(2, 4))]
        self.nurses = [self.person("F" if rng.random() < 0.8 else "M") for _ in range(3)]
        self.family = [self.relative() for _ in range(rng.randint(2, 4))]
        self.osh = rng.choice(HOSPITALS)
        self.rehab = rng.choice(REHABS)
        self.town = self.city()
        y = rng.randint(2001, 2011)
        self.admit = dt.date(y, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        self.today = self.admit + dt.timedelta(days=rng.randint(0, 9))
        self.old_age = rng.randint(90, 104)
        self.young_age = rng.randint(24, 89)

    # ---- names
    def first(self, sex: str | None = None) -> str:
        sex = sex or self.rng.choice("MF")
        for _ in range(20):
            if self.rng.random() < 0.35:
                n = self.fake.first_name_female() if sex == "F" else self.fake.first_name_male()
            else:
                n = self.rng.choice(FIRST_F if sex == "F" else FIRST_M)
            if _ascii(n) and " " not in n:
                return n
        return "Ann"

    def last(self) -> str:
        for _ in range(20):
            n = self.fake.last_name() if self.rng.random() < 0.35 else self.rng.choice(SURNAMES)
            if _ascii(n) and " " not in n:
                if self.rng.random() < 0.06:
                    other = self.rng.choice(SURNAMES)
                    if other != n:
                        n = f"{n}-{other}"
                return n
        return "Smith"

    def person(self, sex: str | None = None) -> dict:
        sex = sex or self.rng.choice("MF")
        return {"first": self.first(sex), "last": self.last(), "sex": sex}

    def relative(self) -> dict:
        p = self.person()
        rels = {
            "F": ["daughter", "dtr", "wife", "sister", "niece", "granddaughter", "daughter-in-law", "mother", "friend"],
            "M": ["son", "husband", "brother", "nephew", "grandson", "son-in-law", "father", "neighbor", "friend"],
        }[p["sex"]]
        p["rel"] = self.rng.choice(rels)
        if p["rel"] in ("wife", "husband", "son", "daughter", "dtr", "brother", "sister") and self.rng.random() < 0.6:
            p["last"] = self.pt["last"]
        return p

    def case(self, s: str) -> str:
        return s.lower() if self.rng.random() < 0.12 else s

    def doc(self, d: dict | None = None, role: str | None = None) -> list[Piece]:
        d = d or self.rng.choice(self.docs)
        f, la = d["first"], d["last"]
        r = self.rng.random
        if role == "resident":
            forms = [
                ("resident ", f),
                ("resident ", f"{f} {la}"),
                ("Dr. ", la),
                ("intern ", f),
                ("", f, " (resident)"),
                ("covering resident ", la),
            ]
        elif role == "fellow":  # the caller already wrote the role ("ID fellow ...")
            forms = [("Dr. ", la), ("Dr ", la), ("dr ", la.lower()), ("", f), ("", f"{f} {la}"), ("Dr. ", f"{f} {la}")]
        else:
            forms = [
                ("Dr. ", la),
                ("Dr ", la),
                ("dr ", la.lower()),
                ("Dr. ", f"{f} {la}"),
                ("", f"{f} {la}", " MD"),
                ("", f"{f} {la}", ", MD"),
                ("", la, " MD"),
                ("Dr. ", f"{f[0]}. {la}"),
                ("DR. ", la.upper()),
                ("Dr.", la),
                ("NP ", f"{f} {la}"),
                ("", f, " NP"),
                ("fellow ", f),
                ("Dr. ", la, "'s team"),
            ]
        fm = self.rng.choice(forms)
        name = fm[1] if r() > 0.08 else fm[1].lower()
        out: list[Piece] = []
        if fm[0]:
            out.append(fm[0])
        out.append((name, "NAME"))
        if len(fm) > 2:
            out.append(fm[2])
        return out

    def nurse(self, n: dict | None = None, bare: bool = False) -> list[Piece]:
        """A nurse (or other staff member); bare: name words only, the caller wrote the role."""
        n = n or self.rng.choice(self.nurses)
        f, la = n["first"], n["last"]
        ini = f"{f[0]}{la[0]}".lower()
        if ini in ("rn", "md", "np", "dr", "sn", "ms", "mr", "pa", "ot", "pt"):
            ini = f"{f[0]}{f[-1]}{la[0]}".lower()
        if bare:
            name = self.rng.choice([f, f, f"{f} {la}", f"{f[0]}. {la}", f.lower(), la])
            return [(name, "NAME")]
        forms = [
            ("", f),
            ("RN ", f),
            ("", f"{f} {la}", ", RN"),
            ("", f"{f} {la}", " RN"),
            ("", f"{f[0]}. {la}", ", RN"),
            ("", f.lower(), " rn"),
            ("", ini, " rn"),
            ("", f"{f} {la[0]}", ". RN"),
            ("", f, " (RN)"),
            ("", f"{f} {la}", " RN BSN"),
        ]
        fm = self.rng.choice(forms)
        out: list[Piece] = [fm[0]] if fm[0] else []
        out.append((fm[1], "NAME"))
        if len(fm) > 2:
            out.append(fm[2])
        return out

    def fam(self, p: dict | None = None, with_rel: bool = True) -> list[Piece]:
        p = p or self.rng.choice(self.family)
        f, la, rel = p["first"], p["last"], p["rel"]
        pos = "pt's " if self.rng.random() < 0.4 else ""
        if not with_rel:
            return [(self.rng.choice([f, f"{f} {la}", f]), "NAME")]
        k = self.rng.randrange(9)
        if k == 0:
            return [f"{pos}{rel} ", (f, "NAME")]
        if k == 1:
            return [f"{rel} ", (f"{f} {la}", "NAME")]
        if k == 2:
            return [(f, "NAME"), f" ({rel})"]
        if k == 3:
            return [f"{rel}, ", (f, "NAME"), ","]
        if k == 4:
            return [f"{rel} ", (f.lower(), "NAME")]
        if k == 5:
            return [f"{pos}{rel} ", (f"{f} {la}", "NAME"), " (HCP)"]
        if k == 6:
            return [(f"{f} {la}", "NAME"), f" ({rel}/HCP)"]
        if k == 7:
            return [f"{rel} ", (f"{f[0]}. {la}", "NAME")]
        return [f"{rel} ", (la if self.rng.random() < 0.3 else f, "NAME")]

    def ptname(self) -> list[Piece]:
        f, la = self.pt["first"], self.pt["last"]
        k = self.rng.randrange(6)
        if k == 0:
            return [("Mr. " if self.pt_sex == "M" else "Mrs. "), (la, "NAME")]
        if k == 1:
            return [(f"{la.upper()}, {f.upper()}", "NAME")]
        if k == 2:
            return [(f"{f} {la}", "NAME")]
        if k == 3:
            return [("mr " if self.pt_sex == "M" else "ms "), (la.lower(), "NAME")]
        if k == 4:
            return [(f, "NAME")]
        return [(f"{la}, {f}", "NAME")]

    # ---- places
    def city(self) -> str:
        return self.rng.choice(TOWNS)

    def hosp(self, which: str = "any") -> list[Piece]:
        if which == "rehab":
            h = self.rehab
        elif which == "osh":
            h = self.osh
        else:
            h = self.rng.choice(HOSPITALS + REHABS)
        if h.startswith("the ") and self.rng.random() < 0.7:
            return ["the ", (h[4:], "LOCATION")]
        return [(h, "LOCATION")]

    # ---- dates
    def day(self, offset: int = 0, base: dt.date | None = None) -> dt.date:
        return (base or self.today) + dt.timedelta(days=offset)

    def date(self, d: dt.date | None = None, time: bool | None = None, short_only: bool = False) -> list[Piece]:
        d = d or self.today
        r = self.rng
        m, dd, y = d.month, d.day, d.year
        forms = [
            f"{m}/{dd}",
            f"{m}/{dd}",
            f"{m}/{dd}",
            f"{m}-{dd}",
            f"{m:02d}/{dd:02d}",
            f"{m}/{dd}/{y % 100:02d}",
            f"{m}/{dd}/{y}",
            f"{m}.{dd}",
        ]
        if not short_only:
            forms += [
                f"{MON3[m - 1]} {dd}",
                f"{MONTHS[m - 1]} {dd}{_ord(dd)}",
                f"{MON3[m - 1]}. {dd}",
                f"{dd}-{MON3[m - 1]}",
            ]
        s = r.choice(forms)
        if time is None:
            time = r.random() < 0.2
        if time:
            hh, mm = r.randint(0, 23), r.choice([0, 0, 15, 30, 45, 10, 20])
            tforms = [f" @ {hh:02d}{mm:02d}", f" at {hh:02d}:{mm:02d}", f" @{hh:02d}{mm:02d}"]
            if not any(ch.isalpha() for ch in s):
                tforms += [f" {hh:02d}{mm:02d}", f"@{hh:02d}{mm:02d}"]
            s += r.choice(tforms)
        lead = r.random()
        if lead < 0.08:
            return [f"{WEEKDAYS[d.weekday()]} ", (s, "DATE")]
        if lead < 0.12:
            return [f"{WEEKDAYS[d.weekday()][:3]} ", (s, "DATE")]
        return [(s, "DATE")]

    def nth(self, d: dt.date) -> list[Piece]:
        return [(f"{d.day}{_ord(d.day)}", "DATE")]

    # ---- numbers
    def phone(self) -> list[Piece]:
        r = self.rng
        a, b, c = r.choice(AREA), r.randint(200, 989), r.randint(0, 9999)
        forms = [
            f"({a}) {b}-{c:04d}",
            f"{a}-{b}-{c:04d}",
            f"{a}.{b}.{c:04d}",
            f"{a} {b} {c:04d}",
            f"{b}-{c:04d}",
            f"{a}{b}{c:04d}",
            f"({a}){b}-{c:04d}",
            f"1-{a}-{b}-{c:04d}",
        ]
        return [(r.choice(forms), "PHONE")]

    def pager(self) -> list[Piece]:
        r = self.rng
        k = r.randrange(7)
        n5 = f"{r.randint(10000, 99999)}"
        if k == 0:
            return ["pager ", (n5, "PHONE")]
        if k == 1:
            return ["beeper #", (f"{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")]
        if k == 2:
            return ["p# ", (n5, "PHONE")]
        if k == 3:
            return ["pgr ", (f"{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")]
        if k == 4:
            return ["(p", (n5, "PHONE"), ")"]
        if k == 5:
            return ["page at #", (n5, "PHONE")]
        return ["pager #", (f"{r.randint(100, 999)}-{r.randint(1000, 9999)}", "PHONE")]

    def ext(self) -> list[Piece]:
        r = self.rng
        k = r.randrange(4)
        if k == 0:
            return ["x", (f"{r.randint(1000, 9999)}", "PHONE")]
        if k == 1:
            return ["ext ", (f"{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")]
        if k == 2:
            return ["x", (f"{r.randint(1, 9)}-{r.randint(1000, 9999)}", "PHONE")]
        return ["ext. ", (f"{r.randint(10000, 99999)}", "PHONE")]

    def mrn(self) -> list[Piece]:
        r = self.rng
        n = f"{r.randint(0, 9999999):07d}"
        lab = r.choice(["MRN ", "MRN: ", "MR# ", "unit # ", "Unit No: ", "med rec # ", "mrn#"])
        return [lab, (n, "MRN")]

    def age90(self) -> list[Piece]:
        a = str(self.old_age)
        k = self.rng.randrange(7)
        return [
            [(a, "AGE_90"), " yo"],
            [(a, "AGE_90"), "yo"],
            [(a, "AGE_90"), " y/o"],
            [(a, "AGE_90"), " year old"],
            [(a, "AGE_90"), "-year-old"],
            [(a, "AGE_90"), " YO"],
            [(a, "AGE_90"), "y.o."],
        ][k]

    def age(self) -> list[Piece]:
        if self.rng.random() < 0.45:
            return self.age90()
        return [f"{self.young_age} {self.rng.choice(['yo', 'y/o', 'year old', 'yo'])}"]

    def sexword(self) -> str:
        if self.pt_sex == "F":
            return self.pick("female", "woman", "F", "lady", "female")
        return self.pick("male", "man", "M", "gentleman", "male")

    def hdr(self, s: str) -> str:
        if self.style == "caps":
            return s.upper()
        return s if self.rng.random() < 0.6 else self.rng.choice([s.upper(), s.lower(), s.capitalize()])

    def pick(self, *opts: str) -> str:
        return self.rng.choice(opts)


def _ord(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


# ---------------------------------------------------------------- templates
# Each family: (number, slot, function). slot: head (opening), body (sections), tail (plan / signature).

Template = tuple[int, str, Callable[[Ctx], list[Piece]]]
TEMPLATES: list[Template] = []


def template(num: int, slot: str):
    def deco(fn: Callable[[Ctx], list[Piece]]) -> Callable[[Ctx], list[Piece]]:
        TEMPLATES.append((num, slot, fn))
        return fn

    return deco


@template(1, "head")
def t01_npn_header(c: Ctx) -> list[Piece]:
    shift = c.pick("7a-7p", "7p-7a", "0700-1900", "1900-0700", "7a-3p", "3-11")
    k = c.rng.randrange(3)
    if k == 0:
        return [f"{c.hdr('NPN')} {shift}\n"]
    if k == 1:
        return [f"{c.hdr('Nursing Progress Note')} ", *c.date(c.today, time=False, short_only=True), f" {shift}\n"]
    return [
        f"{c.hdr('NPN')} ",
        *c.date(short_only=True),
        f" {shift}: ",
        c.pick("uneventful shift.\n", "see flowsheet for details\n"),
    ]


@template(2, "body")
def t02_neuro(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('Neuro')}: "]
    out.append(
        c.pick(
            "A&Ox3, MAE, follows commands. ",
            "lightly sedated on propofol 30mcg/kg/min, opens eyes to voice, does not follow commands consistently. ",
            "pt alert, oriented to self only, hx of Parkinson's, tremor noted bilat UE. ",
            "GCS 10 (E3V2M5), PERRL 3mm brisk. ",
            "Glasgow coma score 9, R pupil sluggish, L brisk. ",
            "intermittently agitated, pulling at lines, ativan 1mg IV x2 w/ good effect. ",
        )
    )
    if c.rng.random() < 0.6:
        out += [
            "Neuro ",
            c.pick("consult", "resident", "fellow"),
            " ",
            *c.doc(role="fellow"),
            " ",
            c.pick("in to see pt", "aware", "saw pt, will f/u head CT"),
            ". ",
        ]
    out.append(
        c.pick(
            "Pain 7/10 at times, medicated w/ fentanyl.",
            "denies pain.",
            "pain 3/10 after morphine 2mg.",
            "will reassess in AM.",
        )
    )
    return out + ["\n"]


@template(3, "head")
def t03_admit(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('MICU NURSING ADMIT NOTE')}\n", "Pt is a "]
    out += c.age()
    out += [" ", c.sexword(), " admitted from "]
    out += c.hosp("osh")
    out += [" on "]
    out += c.date(c.admit)
    out += [
        " w/ ",
        c.pick("hypotension 2/2 sepsis", "resp distress", "GI bleed", "CHF exacerbation", "altered mental status"),
        ". ",
    ]
    if c.rng.random() < 0.5:
        out += [
            "Transferred by ",
            c.pick("Med Flight", "ambulance", "Boston MedFlight"),
            ". PMH: ",
            c.pick(
                "CAD s/p CABG in 2003", "COPD on 2-3L home O2", "DM2, HTN, Alzheimer's", "afib on coumadin, CHF EF 20%"
            ),
            ".\n",
        ]
    else:
        out += ["PCP is ", *c.doc(), " in ", (c.town, "LOCATION"), ".\n"]
    return out


@template(4, "body")
def t04_cv(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('CV')}: "]
    out.append(c.pick("HR 80-90s NSR, ", "HR 100-110s afib, ", "HR 60s SB no ectopy, ", "hr 70-80s ST w/ occ PVCs, "))
    out.append(c.pick("BP 110/60, ", "SBP 90-100s, ", "BP 140-160/70-80s, ", "MAP >65 on levophed 0.08mcg/kg/min, "))
    out.append(c.pick("K 3.8 repleted w/ 40meq KCL. ", "mag 1.6 repleted w/ 2gm. ", "lasix 40mg IV w/ good response. "))
    if c.rng.random() < 0.7:
        out += [
            *c.doc(),
            c.pick(" aware", " notified", " made aware of low BP"),
            c.pick(". ", " "),
            c.pick("no new orders.", "will cont to monitor.", "bolus 500cc NS given."),
        ]
    return out + ["\n"]


@template(5, "body")
def t05_resp(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('Resp')}: "]
    out.append(
        c.pick(
            "remains on PS 10/5 FiO2 40%, RR 12-20, TV 450-500. ",
            "2-3L NC sats 94-97%. ",
            "AC 500 x 14 PEEP 5 FiO2 50%, ABG 7.32/48/88. ",
            "LS coarse bilat, diminished at bases, sxn for thick tan secretions. ",
            "face mask 50% sats 92-95, pt tiring. ",
        )
    )
    if c.rng.random() < 0.6:
        out += [
            "RT ",
            *c.nurse(c.person(), bare=True),
            c.pick(" aware.", " in to assess.", " changed trach ties."),
            " ",
        ]
    if c.rng.random() < 0.4:
        out += ["Plan to SBT ", c.pick("in AM", "tomorrow", "Monday"), ". "]
    return out + ["\n"]


@template(6, "body")
def t06_gigu_lower(c: Ctx) -> list[Piece]:
    out: list[Piece] = ["gi/gu: "]
    out.append(c.pick("abd soft nt/nd +bs ", "abd distended firm hypoactive bs ", "no bm this shift "))
    out.append(c.pick("tf's via dobhoff @ goal 60cc/hr ", "npo except meds ", "tolerating clears "))
    if c.rng.random() < 0.6:
        out += [
            "dobhoff placed by ",
            *c.doc(),
            " on ",
            *c.date(c.day(-1), short_only=True),
            " placement confirmed by cxr ",
        ]
    out.append(
        c.pick(
            "foley draining clear yellow urine uo 30-50cc/hr ",
            "foley patent, uo 20-30cc/hr, frank hematuria earlier now clearing ",
            "uo marginal 15-20cc/hr ",
        )
    )
    out.append(c.pick("will cont to monitor", "renal aware", "bun/cr 45/2.1 up from 38/1.8"))
    return out + ["\n"]


@template(7, "body")
def t07_id(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('ID')}: tmax ", c.pick("101.2", "100.4", "99.8", "102.3"), ", "]
    out.append(c.pick("on vanco/zosyn. ", "abx changed to meropenem. ", "cont levofloxacin day 5/7. "))
    out += ["bld cx sent ", *c.date(c.day(-1), short_only=True), c.pick(" pending. ", ", urine cx ", " x2. ")]
    if c.rng.random() < 0.5:
        out += ["sputum from ", *c.date(c.day(-2), short_only=True), " +GNR. "]
    if c.rng.random() < 0.6:
        out += [
            "per ID fellow ",
            *c.doc(role="fellow"),
            c.pick(", d/c vanco.", " will follow.", " - check vanc trough before 4th dose."),
        ]
    return out + ["\n"]


@template(8, "body")
def t08_skin(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('Skin')}: "]
    out.append(
        c.pick(
            "coccyx stage II, duoderm intact. ", "intact, turned q2h. ", "ecchymosis bilat arms, skin tears R forearm. "
        )
    )
    if c.rng.random() < 0.7:
        out += [
            c.pick("wound care RN ", "WOCN ", "wound nurse "),
            *c.nurse(c.person("F"), bare=True),
            c.pick(" saw pt and rec'd ", " consulted, rec "),
            "aloe vesta and waffle mattress. ",
        ]
    out.append(
        c.pick("Mark on R heel noted, will monitor.", "will cont to turn.", "hope to get pt OOB to chair tomorrow.")
    )
    return out + ["\n"]


@template(9, "body")
def t09_social(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('SOCIAL')}: "]
    p = c.rng.choice(c.family)
    out += c.fam(p)
    out += [
        c.pick(" called x2 for update", " called this evening", " phoned in"),
        ", ",
        c.pick("updated by RN", "update given"),
        ". ",
    ]
    if c.rng.random() < 0.7:
        out += [c.pick("Can be reached at ", "Her # is ", "phone ", "cell: ", "best # "), *c.phone()]
        out.append(c.pick(". ", " "))
    if c.rng.random() < 0.5:
        out += [
            c.pick("Lives in ", "from "),
            (c.city(), "LOCATION"),
            ", ",
            c.pick("will visit tomorrow.", "unable to visit until weekend.", "no car."),
        ]
    elif c.rng.random() < 0.5:
        out += ["flying in from ", c.rng.choice(STATES + COUNTRIES), " ", c.pick("Friday", "tonight", "Sunday"), "."]
    return out + ["\n"]


@template(10, "body")
def t10_family_meeting(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("Family meeting"), " held ", c.pick("today", "this afternoon", "@ 1400"), " w/ "]
    out += c.doc()
    out += [", SW ", *c.nurse(c.person(), bare=True), ", "]
    fam = c.family[:3]
    for i, p in enumerate(fam):
        if i:
            out.append(" and " if i == len(fam) - 1 else ", ")
        out += c.fam(p)
    out += [
        ". ",
        c.pick("Family aware of poor prognosis", "Pt made DNR/DNI", "family wants full code for now, will readdress"),
        ". ",
    ]
    if c.rng.random() < 0.5:
        out += ["Will meet again ", *c.date(c.day(2)), ". "]
    else:
        out += [
            "family will grant permission for trach/PEG if no improvement by ",
            c.pick("Friday", "the weekend", "next week"),
            ". ",
        ]
    return out + ["\n"]


@template(11, "body")
def t11_dispo(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('Dispo')}: "]
    out += ["screening for rehab at ", *c.hosp("rehab")]
    if c.rng.random() < 0.5:
        out += [" in ", (c.city(), "LOCATION")]
    out += [". Case manager ", *c.nurse(c.person(), bare=True), c.pick(" following", " aware", " faxed screen")]
    out += [", bed possibly avail ", *c.date(c.day(c.rng.randint(1, 5))), ". "]
    if c.rng.random() < 0.4:
        out += ["Call back ", *c.phone(), " ", *c.ext(), ". "]
    return out + ["\n"]


@template(12, "body")
def t12_event(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("EVENT NOTE"), ": "]
    if c.rng.random() < 0.5:
        out += [*c.date(time=True), ": "]
    else:
        out += ["@ ", c.pick("0300", "2330", "0415", "1545"), " "]
    out.append(
        c.pick(
            "pt became hypotensive to SBP 70s, ",
            "pt pulled out NGT, ",
            "pt found on floor next to bed, ",
            "pt desat to 80s on 4L NC, ",
            "pt w/ run of VT 12 beats, ",
        )
    )
    out += [*c.doc(role="resident"), " paged at "]
    out += c.pager()
    out += [c.pick(" and came to bedside", ", called back", ", in to see pt"), ". "]
    if c.rng.random() < 0.5:
        out += ["Attending ", *c.doc(), " aware. "]
    out.append(
        c.pick(
            "Fluid bolus 1L NS given w/ SBP up to 90-100s.",
            "CXR done.",
            "no injury noted, bed alarm on.",
            "stat lytes sent.",
        )
    )
    return out + ["\n"]


@template(13, "tail")
def t13_signature(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("", "- ", "--", "\n")]
    out += c.nurse()
    if c.rng.random() < 0.3:
        out += [" ", *c.pager()]
    return out + ["\n"]


@template(14, "body")
def t14_heme(c: Ctx) -> list[Piece]:
    out: list[Piece] = [
        f"{c.hdr('Heme')}: HCT ",
        c.pick("27.3", "24.1", "30.2"),
        " from ",
        c.pick("30", "29.5", "33"),
        ", ",
    ]
    out.append(c.pick("1 unit PRBC ", "2u PRBC ", "FFP x2 "))
    out += ["ordered per ", *c.doc(), ". "]
    out += ["Blood bank ", *c.ext(), c.pick(" called", " notified"), ", "]
    out.append(c.pick("type & cross sent. ", "pt has antibodies, may take a while. "))
    out += [
        f"{c.hdr('Endo')}: ",
        c.pick("RISS, BS 140-180s.", "insulin gtt @ 3u/hr per protocol.", "FS 90-110s, no coverage needed."),
    ]
    return out + ["\n"]


@template(15, "tail")
def t15_report(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("Report given to ", "report to ", "Report called to ", "handed off to ")]
    out += c.nurse()
    if c.rng.random() < 0.5:
        out += [" on ", c.rng.choice(UNITS)]
    out += [" at ", c.pick("1900", "0700", "1930", "7pm"), ". "]
    if c.rng.random() < 0.5:
        out += ["-", *c.nurse()]
    return out + ["\n"]


@template(16, "head")
def t16_transfer_in(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("Transfer"), c.pick(" note", " in", " from OSH"), ": "]
    out += ["pt transferred from "]
    out += c.hosp("osh")
    if c.rng.random() < 0.6:
        out += [" in ", (c.city(), "LOCATION")]
    out += [" via ", c.pick("Med flight", "ambulance", "ALS"), " ", *c.date(c.admit, time=True), ". "]
    out += ["Report from OSH RN ", *c.nurse(c.person(), bare=True), " ", *c.phone(), ". "]
    out.append(c.pick("Arrived on levophed and propofol. ", "Arrived intubated, sedated. ", "A&Ox2 on arrival. "))
    return out + ["\n"]


@template(17, "body")
def t17_history(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("pt is a ", "Pt is ", "briefly, pt is a ")]
    out += c.age()
    out += [
        " ",
        c.sexword(),
        " w/ hx ",
        c.pick(
            "CHF, Parkinson's, afib",
            "COPD, DM2, CRI",
            "dementia, HTN, hypothyroid",
            "ESRD on HD MWF",
            "CAD s/p MI in 1998",
        ),
    ]
    out += [", lives w/ ", c.pick("wife", "husband", "daughter", "son", "family"), " in "]
    out += [(c.town, "LOCATION"), ". "]
    if c.rng.random() < 0.5:
        out += ["Recent adm to ", *c.hosp(), " ", *c.date(c.day(-30)), c.pick(" for PNA", " for fall", " w/ UTI"), ". "]
    if c.rng.random() < 0.4:
        out += [
            "Originally from ",
            c.rng.choice(COUNTRIES),
            ", ",
            c.pick("speaks Creole", "Spanish speaking", "speaks Vietnamese", "understands English"),
            ". ",
        ]
    return out + ["\n"]


@template(18, "body")
def t18_contact_block(c: Ctx) -> list[Piece]:
    p = c.rng.choice(c.family)
    r = c.rng
    out: list[Piece] = [c.hdr("Contact"), ": ", p["rel"], " ", (f"{p['first']} {p['last']}", "NAME"), "\n"]
    out += [(f"{r.randint(1, 999)} {r.choice(STREETS)}", "ADDRESS")]
    if r.random() < 0.3:
        out += [", Apt ", (f"{r.randint(1, 40)}{r.choice('ABC')}", "ADDRESS")]
    out += [
        ", ",
        (c.town, "LOCATION"),
        ", ",
        r.choice(["MA", "Mass", "NH", "RI"]),
        " ",
        (f"0{r.randint(1000, 2799)}", "ZIP"),
        "\n",
    ]
    out += [c.pick("home ", "H: ", "hm "), *c.phone(), c.pick("  cell ", " / C: ", ", work "), *c.phone(), "\n"]
    if r.random() < 0.3:
        u = p["first"].lower() + r.choice([".", "", "_"]) + p["last"].lower().replace("'", "") + str(r.randint(1, 99))
        out += ["email ", (f"{u}@{r.choice(['gmail.com', 'yahoo.com', 'comcast.net', 'aol.com'])}", "EMAIL"), "\n"]
    return out


@template(19, "body")
def t19_casemgmt(c: Ctx) -> list[Piece]:
    r = c.rng
    out: list[Piece] = [c.hdr("CM/SW"), ": "]
    p = c.rng.choice(c.family)
    out += ["HCP is ", p["rel"], " ", (p["first"], "NAME"), ". "]
    out += [
        c.pick("Insurance: ", "ins "),
        c.pick("MassHealth # ", "Medicare # ", "BCBS id ", "Tufts HP # "),
        (f"{r.choice('ABCDEFGHJKW')}{r.randint(10000000, 999999999)}", "HEALTH_PLAN"),
        ". ",
    ]
    if r.random() < 0.3:
        out += [
            "SSN ",
            (f"{r.randint(1, 665):03d}-{r.randint(1, 99):02d}-{r.randint(1, 9999):04d}", "SSN"),
            " given to billing. ",
        ]
    if r.random() < 0.4:
        out += ["acct # ", (f"{r.randint(10000000, 99999999)}", "ACCOUNT"), ". "]
    out.append(
        c.pick(
            "wife worried about the hospital bill, SW to f/u.",
            "will grant request for interpreter.",
            "frank discussion re: finances.",
        )
    )
    return out + ["\n"]


@template(20, "body")
def t20_drips(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('Drips')}: "]
    out.append(
        c.pick(
            "propofol 40mcg/kg/min, fentanyl 100mcg/hr, ",
            "heparin gtt @ 900u/hr, PTT 68 at 1800, ",
            "levophed 0.1, vaso 0.04u/min, ",
            "insulin 4u/hr, ",
        )
    )
    out.append(c.pick("D5 1/2NS @ 75cc/hr. ", "NS @ 100/hr. ", "no MIVF. "))
    if c.rng.random() < 0.5:
        out += [
            "per pharmacist ",
            *c.nurse(c.person(), bare=True),
            c.pick(" dose adjusted.", " ok to give w/ TF."),
            " ",
        ]
    out.append(c.pick("Tylenol 650 q6h prn.", "haldol 2mg x1 for agitation.", "coumadin held.", "zosyn 3.375 q6."))
    return out + ["\n"]


@template(21, "head")
def t21_caps_header(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("NURSING NOTE 1900-0700\n", "MICU NPN 7P-7A\n", "CCU NURSING PROGRESS NOTE\n")]
    out += ["PT: ", *c.ptname(), "  ", *c.mrn(), "\n"]
    out += ["ADM: ", *c.date(c.admit, time=False, short_only=True), "  ATTENDING: ", *c.doc(), "\n"]
    return out


@template(22, "body")
def t22_code(c: Ctx) -> list[Piece]:
    p = c.rng.choice(c.family)
    out: list[Piece] = [c.hdr("Code status"), ": ", c.pick("DNR/DNI", "full code", "DNR, ok to intubate", "CMO")]
    paren = c.rng.random() < 0.5
    out += [" confirmed with HCP (" if paren else " per discussion w/ ", p["rel"], " ", (p["first"], "NAME")]
    out += [")" if paren else "", " and ", *c.doc(), " on ", *c.date(c.day(-1)), ". "]
    if c.rng.random() < 0.5:
        out += [p["rel"], "'s name is ", (p["first"], "NAME"), c.pick(", she", ", he", ", "), " may call tonight. "]
    return out + ["\n"]


@template(23, "body")
def t23_pain(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("Pain/sedation"), ": "]
    out.append(c.pick("pain 7/10 abd, ", "c/o pain 8/10 back, ", "CPOT 2, ", "RASS -2, "))
    out += [*c.doc(), c.pick(" increased fentanyl to 150mcg/hr", " ordered dilaudid 0.5mg q3h prn", " aware")]
    out.append(c.pick(", w/ relief. ", ". pain now 3/10. ", ". "))
    out.append(c.pick("4/5 strength BUE, 3/5 BLE.", "MAE, grips equal.", "will reassess."))
    return out + ["\n"]


@template(24, "body")
def t24_procedure(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("R IJ Cordis", "L subclavian TLC", "Swan-Ganz", "R fem HD line", "PICC"), " placed by "]
    out += c.doc()
    if c.rng.random() < 0.5:
        out += [" and ", *c.doc(role="resident")]
    out += [" ", *c.date(time=True), ". "]
    out.append(c.pick("CXR confirmed placement. ", "tip in SVC per CXR. ", "PA 40/20, wedge 18, CO 4.2. "))
    out.append(c.pick("Hickman from 2004 d/c'd.", "Old A-line d/c'd, tip to micro.", "site c/d/i."))
    return out + ["\n"]


@template(25, "body")
def t25_phone_log(c: Ctx) -> list[Piece]:
    p = c.rng.choice(c.family)
    out: list[Piece] = [c.pick("Rec'd call from ", "Phone call from ", "Spoke w/ ", "tc from ")]
    out += c.fam(p)
    out += [" in ", (c.city(), "LOCATION"), " (", *c.phone(), ")"]
    out += [
        " at ",
        c.pick("2200", "2145", "1630", "0930"),
        c.pick(", updated on pt's condition. ", ", questions answered. "),
    ]
    if c.rng.random() < 0.4:
        out += ["will call again ", c.pick("Tuesday", "Monday", "in AM", "tomorrow"), ". "]
    return out + ["\n"]


@template(26, "body")
def t26_recent(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("pt recently d/c'd from ", "Pt was at ", "was seen at ")]
    out += c.hosp()
    out += [
        " ",
        *c.date(c.day(-20), short_only=True),
        c.pick(" after ", " for "),
        c.pick("NSTEMI", "PNA", "hip fx", "CHF"),
    ]
    out += [". Seen in clinic by ", *c.doc(), " on the ", *c.nth(c.day(-6)), ". "]
    if c.rng.random() < 0.5:
        out += ["last BM ", *c.date(c.day(-2), short_only=True), c.pick(" per pt.", " per family.")]
    return out + ["\n"]


@template(27, "tail")
def t27_addendum(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.pick("------ addendum: ", "Addendum ", "ADDENDUM: ")]
    if c.rng.random() < 0.5:
        out += [*c.date(time=True), " "]
    out.append(c.pick("K 3.2, repleted. ", "pt to go for CT tonight. ", "BP dropped after versed, resolved. "))
    out += [*c.doc(), " notified. --", *c.nurse()]
    return out + ["\n"]


@template(28, "body")
def t28_runon(c: Ctx) -> list[Piece]:
    p = c.rng.choice(c.family)
    out: list[Piece] = [
        c.pick("pt agitated overnight pulling at lines ", "restless most of shift ", "pt slept in naps "),
        c.pick("ativan 1mg given w/ good effect ", "haldol 2mg iv x1 ", "redirectable "),
    ]
    out += [p["rel"], " ", (p["first"].lower() if c.rng.random() < 0.5 else p["first"], "NAME"), " at bedside until "]
    out += [
        c.pick("2300", "midnight", "0100"),
        " very anxious ",
        c.pick("may need sw consult ", "will need support "),
        "called ",
    ]
    out += c.doc()
    out += [" re: ", c.pick("restraints ", "sleep aid "), "order obtained rose to 101 at 0400 cx sent\n"]
    return out


@template(29, "tail")
def t29_plan(c: Ctx) -> list[Piece]:
    out: list[Piece] = [f"{c.hdr('PLAN')}: ", c.pick("cont to monitor, ", "wean vent as tol, ", "diurese, ")]
    out += ["f/u cx, ", c.pick("? extubate ", "? transfer to floor "), c.pick("Tuesday", "Wednesday", "tomorrow"), ", "]
    out += ["family mtg ", *c.date(c.day(1), time=True), ", "]
    out.append(c.pick("emotional support to pt/family.", "will grant family open visiting.", "ct to be read."))
    return out + ["\n"]


@template(30, "body")
def t30_device(c: Ctx) -> list[Piece]:
    r = c.rng
    serial = f"{r.choice(['PJN', 'ADD', 'SVR', 'BXY'])}{r.randint(100000, 999999)}{r.choice(['H', 'R', 'S', ''])}"
    out: list[Piece] = [
        c.pick("pt has ", "Pt w/ "),
        c.pick("Medtronic PPM", "St. Jude ICD", "Boston Sci AICD"),
        " serial # ",
        (serial, "DEVICE"),
        ". ",
    ]
    out += [
        "cardiology fellow ",
        *c.doc(role="fellow"),
        " interrogated device, ",
        c.pick("no events.", "paced 98%.", "2 shocks on "),
    ]
    if out[-1] == "2 shocks on ":
        out += [*c.date(c.day(-3), short_only=True), "."]
    return out + ["\n"]


@template(31, "head")
def t31_so_header(c: Ctx) -> list[Piece]:
    unit = c.pick("Micu", "Sicu", "Ccu", "MICU", "CCU")
    out: list[Piece] = [f"{unit} {c.pick('Nursing Progress Note', 'NPN', 'nursing note')}\n"]
    out += ["S/O: ", c.pick("Events: ", "Events overnight: "), *c.date(short_only=True), " "]
    out.append(c.pick("uneventful night.\n", "see event note.\n", "pt remains intubated.\n"))
    return out


@template(32, "body")
def t32_spiritual(c: Ctx) -> list[Piece]:
    p = c.person("M")
    out: list[Piece] = [
        c.pick("Father ", "Fr. ", "Rev. ", "chaplain "),
        (p["last"] if c.rng.random() < 0.7 else p["first"], "NAME"),
    ]
    out += [c.pick(" in to see pt", " visited", " gave pt anointing of the sick"), ". "]
    out += [
        "pt's ",
        c.pick("priest", "pastor"),
        " from ",
        (c.rng.choice(CHURCHES), "LOCATION"),
        " in ",
        (c.city(), "LOCATION"),
    ]
    out += [c.pick(" called.", " will visit.", " aware.")]
    return out + ["\n"]


@template(33, "head")
def t33_transfer_out(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("Transfer note"), ": ", *c.ptname(), " is a "]
    out += c.age()
    out += [" ", c.sexword(), " admitted ", *c.date(c.admit)]
    out += [" to be transferred to ", c.rng.choice(UNITS), c.pick(" today", " when bed avail"), ". "]
    if c.rng.random() < 0.5:
        out += ["will eventually go to ", *c.hosp("rehab"), ". "]
    return out + ["\n"]


@template(34, "body")
def t34_id_line(c: Ctx) -> list[Piece]:
    out: list[Piece] = ["ID: "]
    out += c.age()
    out += [
        " ",
        c.pt_sex,
        " | Allergies: ",
        c.pick("PCN", "sulfa", "NKDA", "codeine"),
        " | Code: ",
        c.pick("Full", "DNR/DNI"),
    ]
    out += [" | PCP: ", *c.doc(), " ", *c.phone(), "\n"]
    return out


@template(35, "tail")
def t35_signoff(c: Ctx) -> list[Piece]:
    out: list[Piece] = [
        "Per ",
        *c.doc(),
        c.pick(" ok to ", " will "),
        c.pick("advance diet", "d/c foley in AM", "hold TF at MN"),
        ". ",
    ]
    out += ["signed ", *c.nurse(), " ", *c.pager()]
    return out + ["\n"]


@template(36, "body")
def t36_visitors(c: Ctx) -> list[Piece]:
    out: list[Piece] = [c.hdr("Visitors"), ": "]
    fam = c.family[: c.rng.randint(1, len(c.family))]
    for i, p in enumerate(fam):
        if i:
            out.append(", ")
        out += [p["rel"], " ", (p["first"], "NAME")]
    out += [c.pick(", pt's neighbor", ", friends from church"), c.pick(" in this evening. ", " visited. ")]
    out.append(c.pick("Hope to have pt OOB in AM. ", "they will bring in pt's glasses. ", "may bring in music. "))
    return out + ["\n"]


@template(37, "body")
def t37_legal(c: Ctx) -> list[Piece]:
    p = c.person()
    out: list[Piece] = [c.hdr("Ethics/legal"), ": guardianship in process, ", c.pick("court date ", "hearing ")]
    out += c.date(c.day(c.rng.randint(5, 30)))
    out += [". Lawyer ", c.pick("Atty. ", "attorney "), (p["last"], "NAME"), " ", *c.phone()]
    out += [". ", c.pick("Probate court in ", "court in "), (c.city(), "LOCATION"), ".\n"]
    return out


@template(38, "body")
def t38_rounds(c: Ctx) -> list[Piece]:
    out: list[Piece] = ["Seen on rounds by ", *c.doc()]
    others = [d for d in c.docs if d["last"] != c.docs[0]["last"]]
    if others:
        out += [", ", *c.doc(others[0])]
    out += [c.pick(" and team", " and the MICU team", ""), ". "]
    out.append(c.pick("Plan to cont current mgmt. ", "Will consult renal. ", "may extubate in AM if ABG ok. "))
    if c.rng.random() < 0.4:
        out += ["Pt's old records from ", *c.hosp(), " faxed (fax ", *c.phone(), "). "]
    return out + ["\n"]


@template(39, "tail")
def t39_short_sig(c: Ctx) -> list[Piece]:
    n1, n2 = c.nurses[0], c.nurses[1]
    out: list[Piece] = [
        (f"{n1['first'][0]}. {n1['last']}", "NAME"),
        ", RN / ",
        (f"{n2['first']} {n2['last'][0]}", "NAME"),
        ". SN (student)\n",
    ]
    return out


@template(40, "body")
def t40_followup(c: Ctx) -> list[Piece]:
    out: list[Piece] = ["f/u appt w/ ", *c.doc(), " on ", *c.date(c.day(c.rng.randint(10, 40)), time=True)]
    out += [" at ", *c.hosp(), " in ", (c.city(), "LOCATION"), ", call ", *c.phone(), " to confirm"]
    out.append(c.pick(".", ". will bill Medicare.", " - Friday clinic."))
    return out + ["\n"]


TEMPLATES.sort()


def part_of(num: int) -> str:
    return "heldout" if num % 3 == 0 else "dev"


# ---------------------------------------------------------------- assembly


def _typo(c: Ctx, s: str) -> str:
    words = s.split(" ")
    out = []
    for w in words:
        if len(w) >= 5 and w.isalpha() and c.rng.random() < 0.05:
            i = c.rng.randrange(len(w) - 1)
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :] if c.rng.random() < 0.6 else w[:i] + w[i + 1 :]
        out.append(w)
    s = " ".join(out)
    if c.rng.random() < 0.5:
        s = s.replace(". ", " ")
    return s


def _render(c: Ctx, pieces: list[Piece], text: list[str], spans: list[dict], pos: int) -> int:
    for p in pieces:
        if isinstance(p, tuple):
            s, typ = p
            assert typ in TYPES, typ
            if c.style == "lower":
                s = s.lower()
            spans.append({"start": pos, "end": pos + len(s), "type": typ})
        else:
            s = p
            if c.style == "typo":
                s = _typo(c, s)
            if c.style == "lower":
                s = s.lower()
        text.append(s)
        pos += len(s)
    return pos


def make_note(idx: int, seed: int, fake: Faker, part: str | None = None) -> dict:
    rng = random.Random(seed * 1_000_003 + idx)
    fake.seed_instance(seed * 7919 + idx)
    c = Ctx(rng, fake)
    part = part or ("heldout" if rng.random() < 0.35 else "dev")
    pool = [t for t in TEMPLATES if part_of(t[0]) == part]
    heads = [t for t in pool if t[1] == "head"]
    bodies = [t for t in pool if t[1] == "body"]
    tails = [t for t in pool if t[1] == "tail"]
    chosen = [rng.choice(heads)]
    chosen += rng.sample(bodies, k=min(len(bodies), rng.randint(3, 7)))
    chosen += rng.sample(tails, k=rng.choice([1, 1, 2]))
    text: list[str] = []
    spans: list[dict] = []
    pos = 0
    sep = rng.choice(["", "", "\n", " "])
    for i, (_, _, fn) in enumerate(chosen):
        if i and sep:
            pos = _render(c, [sep], text, spans, pos)
        pos = _render(c, fn(c), text, spans, pos)
    full = "".join(text)
    return {
        "id": f"blind-{seed}-{idx:05d}",
        "text": full,
        "spans": spans,
        "template": chosen[0][0],
        "templates": [t[0] for t in chosen],
        "part": part,
    }


def generate(n: int, seed: int, part: str = "all") -> list[dict]:
    """n notes, deterministic in (n, seed, part); part 'dev'/'heldout' forces every note into that part."""
    fake = Faker("en_US")
    forced = None if part == "all" else part
    return [make_note(i, seed, fake, forced) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=200)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--part", choices=["dev", "heldout", "all"], default="all")
    a = ap.parse_args(argv)
    notes = generate(a.notes, a.seed, a.part)
    a.output.parent.mkdir(parents=True, exist_ok=True)
    with a.output.open("w") as fh:
        for note in notes:
            fh.write(json.dumps(note) + "\n")
    n_spans = sum(len(x["spans"]) for x in notes)
    print(f"wrote {len(notes)} notes, {n_spans} gold spans -> {a.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
