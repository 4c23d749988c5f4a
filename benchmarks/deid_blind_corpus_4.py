"""Blind evaluation corpus no. 4 for the clinical de-identification detector.

What it is
----------
A deterministic generator of synthetic ICU notes with exact gold PHI spans.
The notes imitate the notes of a US teaching hospital (the style of the
PhysioNet "deid" nursing notes and of MIMIC notes) after their PHI has been
replaced by realistic surrogates: terse, abbreviated, often lower case, with
typos, many clinician and family names, short date forms, hospitals, rehabs
and nursing homes, towns, phone and pager numbers, ages over 89 and record
numbers.  Ten note types are produced (see ``STYLES``): ICU nursing progress
notes with system-by-system lines, respiratory therapy notes, physician ICU
progress notes, consult notes, nursing admission notes, family meeting notes,
discharge summaries, transfer/accept notes, event (rapid response) notes and
addenda.

How it was written
------------------
Blind: the author did not read, run or import the detector, its tests, its
documentation or the earlier blind corpora.  All surrogates come from the
hand-written lists in this module (first names and surnames of many origins,
including uncommon, hyphenated and apostrophe names and names that are also
English words; towns and neighbourhoods; hospitals, rehabs, nursing homes,
clinics and home-care agencies; streets, employers, churches and schools).
The Faker library and any installed name or address data set were not used,
on purpose: the detector's name lexicon comes from Faker and real notes'
names do not.  Only the Python standard library is used.

Many look-alike distractors carry no gold: vitals, scores and fractions,
drips and doses, lab values with times, eponyms and devices, unit names,
weekdays, bare years, drug brands, and clinical words that are also names
("temp rose to 101", "hope to extubate", "will", "may", "grant", "mark",
"bill").

Gold conventions
----------------
Each note is built from segments ``(text, type-or-None)`` so offsets are exact
by construction.  Spans are end-exclusive, never overlap, are non-empty and
satisfy ``text[start:end] == text[start:end].strip()``.

* NAME: the name words only.  Titles (Dr, Mr, Mrs, Ms), credentials (RN, MD,
  NP, RRT, PA), relation words and a possessive 's are outside the span.
  Initials ("K.L.", "tom s.") are NAME.  A first name plus surname written
  together is one span.
* DATE: the date plus an attached time ("2/12 @ 0700" is one span); a range
  "2/10-2/12" is two spans; in "the 12th" only "12th" is gold.  Bare years,
  weekdays and bare clock times are not gold.
* AGE_90: the number only, only for ages over 89 ("92" in "92 yo F").
* LOCATION: hospitals, facilities, clinics, nursing homes, home-care agencies,
  churches, schools, employers, towns and neighbourhoods.  A leading "the" is
  outside the span.  US states and countries are not gold.
* ADDRESS: the street line, apartment included; the town is LOCATION and the
  ZIP code is ZIP.
* PHONE: phone and pager numbers; for an extension only its digits are gold
  (a separate PHONE span).
* MRN, HEALTH_PLAN, ACCOUNT, LICENSE, DEVICE, VEHICLE, EMAIL, ID: the number or
  address only, never its label.

Allowed types: NAME, LOCATION, ADDRESS, ZIP, DATE, AGE_90, PHONE, EMAIL, SSN,
MRN, HEALTH_PLAN, ACCOUNT, LICENSE, VEHICLE, DEVICE, URL, IP, ID.

How to run
----------
    python benchmarks/deid_blind_corpus_4.py --notes 600 --seed 7 --output out.jsonl

Each output line is ``{"id", "text", "spans": [{"start", "end", "type"}],
"style"}``.  The same seed gives the same bytes.

Caveat
------
The notes are synthetic.  They follow the author's knowledge of real ICU notes
but are not real notes; scores on them measure the detector on this
distribution only, and the gold reflects the conventions above.
"""
# ruff: noqa: E501

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from collections.abc import Sequence
from pathlib import Path

ALLOWED_TYPES = frozenset(
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

STYLES = (
    "nursing_progress",
    "resp_therapy",
    "physician_progress",
    "consult",
    "nursing_admission",
    "family_meeting",
    "discharge_summary",
    "transfer_accept",
    "event_note",
    "addendum",
)
STYLE_WEIGHTS = (26, 10, 14, 8, 8, 7, 8, 7, 6, 6)

Segment = tuple[str, str | None]

# ---------------------------------------------------------------------------
# Surrogate pools (hand-written, not from Faker or any data set)
# ---------------------------------------------------------------------------

FEMALE_FIRST = """
Mary Patricia Joy Hope Rose Summer Faith Grace June May Dawn Ivy April Sunny
Bridget Siobhan Maeve Colleen Nuala Aoife Kathleen Noreen Maureen Deirdre Niamh
Roisin Ciara Aisling Giuseppina Carmela Rosaria Antonella Concetta Graziella
Filomena Teresa Assunta Fatima Conceicao Ludovina Albertina Idalina Manuela
Djenane Marie-Claude Nadege Guerline Fabienne Wideline Mireille Marjorie Thuy
Lan Huong Ngoc Linh Mai Xiuying Mei Ling Jing Yan Min-ji Seo-yeon Ji-woo Eun-ji
Priya Lakshmi Anjali Deepa Sunita Kavya Ngozi Chiamaka Adaeze Folake Yetunde
Abena Akosua Efua Ama Agnieszka Malgorzata Krystyna Bozena Jadwiga Svetlana
Olga Tatiana Lyudmila Natalya Eleni Despina Katerina Vasiliki Paraskevi Fatma
Layla Amira Rania Noor Yasmin Guadalupe Xiomara Yesenia Marisol Lourdes
Altagracia Dulce Rivka Miriam Esther Shoshana Batya Devorah Anahit Lusine
Siranush Armine Tamar Jen Jennifer Kim Kelly Sue Susan Linda Barbara Donna
Cheryl Debbie Karen Nancy Peggy Lisa Jill Beth Meg Kate Liz Amy Heather Tracy
Stacy Missy Trish Becky Dot Gert Bev Tammy Colette Yvonne Jocelyn Mildred Eunice
Agnes Gladys Hortense Pearl Opal Ruby Iris Violet Hazel Lily Carmen Paz Ines
Beatriz Constance Prudence Felicity Charity Honor Autumn Star Candy Kitty
""".split()

MALE_FIRST = """
Mike Tom Dan Bill Will Mark Grant Frank Guy Art Rich Hunter Sean Padraig Declan
Cormac Eamon Fergus Liam Kevin Brendan Dermot Salvatore Vincenzo Carmine Rocco
Gennaro Pasquale Domenic Angelo Enzo Joao Manuel Armando Jose Aurelio Gilberto
Adelino Amilcar Ildo Edmilson Nelson Jean-Baptiste Wesner Fritznel Jean-Robert
Yves Ludovic Dieudonne Minh Tuan Hung Quang Bao Duc Thanh Wei Jian Hao Zhiwei
Guoqiang Min-jun Seung-ho Jae-won Dong-hyun Rajesh Arjun Vikram Sanjay Prakash
Ramesh Anil Chukwuemeka Oluwaseun Emeka Babatunde Tunde Obinna Ikenna Kwame Kofi
Kwabena Yaw Kojo Nana Tadeusz Zbigniew Krzysztof Wojciech Stanislaw Jerzy Dmitri
Sergei Vladimir Yuri Aleksandr Igor Boris Konstantinos Dimitrios Spiros Stavros
Panagiotis Vasilis Mohammed Ahmad Khalid Omar Youssef Tariq Hassan Jesus Luis
Carlos Alejandro Wilfredo Hector Efrain Moshe Yitzhak Mordechai Shlomo Avi Eli
Menachem Hagop Garabed Vartan Aram Sarkis Krikor John Bob Jim Joe Steve Dave
Chris Matt Pete Rick Ed Al Walt Earl Lloyd Chester Ernie Gus Butch Skip Sonny
Buddy Chip Clay Dale Glenn Lance Miles Chase Heath Wade Reed Forrest Rusty Red
Duke Bud Sandy Jerry Dick Ray Lou Vinnie Sal Rocky Fitz Mac Dutch Hank Rollie
Cornelius Thaddeus Ezekiel Obadiah Lucius Ambrose Alphonse Delroy Winston Cleon
""".split()

SURNAMES = (
    """
O'Connell O'Brien Sullivan Murphy McCarthy Fitzgerald Donovan Kavanagh Mulcahy
Flaherty Callahan Dunleavy Geraghty Coughlin Moriarty Hennessey McGonagle
Keohane Driscoll O'Toole D'Amico DeLuca Ferraro Bellavia Scarpelli Iannuzzi
Mastroianni Giordano Palumbo Ruggiero Cirillo DiMaggio LoPresti Capobianco
Santangelo Carbone Pugliese D'Agostino Medeiros Furtado Pacheco Raposo Cabral
Tavares Goncalves Andrade Fontes Barros Lopes Monteiro Semedo Varela Fortes
DaRosa Jean-Louis Pierre Desir Joseph Charles Fleurimond Louissaint Dorvil
Celestin Toussaint Exantus Bellegarde Theodore Jean-Pierre Nguyen Tran Pham Le
Hoang Huynh Vo Dang Bui Do Nguyen-Tran Truong Lam Duong Chen Wang Li Zhang Liu
Huang Zhou Wu Xu Sun Ma Zhu Guo Lin Cheung Wong Chan Leung Tsang Kim Park Choi
Jung Kang Cho Yoon Jang Lim Han Shin Patel Shah Desai Iyer Venkataraman Reddy
Chaudhary Mehta Banerjee Srinivasan Krishnamurthy Kapoor Nair Menon Ghosh Okafor
Adeyemi Okonkwo Nwosu Obi Eze Adebayo Oyelaran Chukwu Ogunleye Balogun Mensah
Owusu Asante Boateng Osei Agyeman Appiah Darko Ofori Amponsah Kowalski Nowak
Wisniewski Wojcik Kaminski Lewandowski Zielinski Szymanski Grabowski Jablonski
Przybylski Ivanov Petrova Smirnov Kuznetsova Volkov Sokolov Popov Lebedev
Morozova Fedorov Rabinovich Papadopoulos Georgiou Konstantinidis Nikolaidis
Pappas Karras Stavrou Demos Kallas Manolakis Haddad Khoury Nasser Mansour Saleh
Abboud Farah Hamdan El-Sayed Al-Masri Aziz Rodriguez Gonzalez Hernandez
Martinez Rivera Santiago Colon Ortiz Vargas Figueroa Delgado Acevedo Pena Ramos
Goldberg Rosenblum Katz Shapiro Weinstein Feldman Levine Horowitz Birnbaum
Abramowitz Gottlieb Kaplan Avakian Karagozian Hovsepian Manoogian Boyajian
Kalustian Tashjian Arakelian Mardirosian Baker Hill Young Love Grant Rose
Summer Bell Gray Long Wood Fox Bird Moody Strong Price Rice Street Waters Brooks
Marsh Frost Snow King Little Small Sharp Best Good Hunt Church Cook Mason Fisher
Carpenter Walker Miller Short Wise Noble Golden Lane Wolf Hale Bishop Pope
Knight Parsons Penny Smith Johnson Brown Davis Wilson Thompson Clark Lewis
Harris Jackson Quackenbush Ashworth Whitcomb Higginbotham Pettengill Thibodeau
Boudreau LeBlanc Cormier Gagnon Ouellette Arsenault Fortin Beaulieu
""".split()
    + ["St. Fleur", "De la Cruz", "Der Bedrosian", "Van Buren"]
)

TOWNS = """
Dorchester|Roxbury|Mattapan|Jamaica Plain|JP|Brighton|Allston|Charlestown|
Southie|South Boston|Eastie|East Boston|Hyde Park|Roslindale|West Roxbury|
Chelsea|Revere|Everett|Malden|Medford|Somerville|Cambridge|Quincy|Braintree|
Weymouth|Brockton|Randolph|Milton|Dedham|Needham|Newton|Waltham|Framingham|
Lowell|Lawrence|Lynn|Salem|Peabody|Saugus|Woburn|Burlington|Worcester|
Fall River|New Bedford|Taunton|Plymouth|Marshfield|Hingham|Hyannis|Falmouth|
Chatham|Nantucket|Edgartown|Springfield|Pittsfield|Fitchburg|Leominster|
Gloucester|Beverly|Haverhill|Methuen|Nashua|Manchester|Portsmouth|Providence|
Pawtucket|Cranston|Woonsocket|Hartford|Bangor|Fort Lauderdale|Boca Raton|
Port St. Lucie|San Juan|Port-au-Prince|Praia|Ponce|Chinatown|Mission Hill|
Fields Corner|Uphams Corner|Codman Square|Egleston Square|Brookline Village
""".replace("\n", "").split("|")

# A leading "the " is written in the note but kept outside the gold span.
FACILITIES = """
BWH|MGH|NEBH|BIDMC|BMC|the Brigham|Mass General|Beth Israel|the Sinai|
Hebrew SeniorLife|Hebrew Rehab|Youville|Mass Eye|Mass Eye and Ear|
Kindred Park View|Spaulding|Spaulding Cambridge|Braintree Rehab|Whittier Rehab|
Radius|Newton-Wellesley|NWH|the Carney|St. Elizabeth's|St. E's|Caritas Norwood|
Faulkner|Lahey|Mount Auburn|Winchester Hospital|Melrose-Wakefield|
South Shore Hospital|Quincy Medical Center|Good Samaritan|Cape Cod Hospital|
Tufts|NEMC|Children's|Dana-Farber|DFCI|Joslin|the VA|West Roxbury VA|
Sancta Maria|Marian Manor|Kindred Hospital|Vibra|Brookhaven|Goddard House|
Fuller Village|Golden Living Center|Life Care Center of Nashoba Valley|
Harbor Health|Codman Square Health Center|Fenway Health|
East Boston Neighborhood Health|VNA of Boston|Partners Home Care|Hallmark VNA|
Neponset Health Center|Mattapan CHC|Hale Hospital|Jordan Hospital|Emerson|
Leonard Morse|Saints Memorial|Anna Jaques|St. Vincent's|UMass Memorial|
Baystate|Rhode Island Hospital|Miriam Hospital|Catholic Memorial Home|
Don Orione|German Center|Armenian Nursing Home|Benjamin Healthcare|
Sherrill House|Jewish Memorial|Bay Cove|the Pine Street Inn|Rosie's Place
""".replace("\n", "").split("|")

OUTSIDE_HOSPITALS = [
    f
    for f in FACILITIES
    if not any(w in f for w in ("VNA", "Home Care", "Health", "CHC", "Inn", "Place", "Rehab", "House"))
]
POST_ACUTE = """
Hebrew Rehab|Hebrew SeniorLife|Youville|Kindred Park View|Spaulding|
Spaulding Cambridge|Braintree Rehab|Whittier Rehab|Radius|Sancta Maria|
Marian Manor|Kindred Hospital|Vibra|Brookhaven|Goddard House|Fuller Village|
Golden Living Center|Life Care Center of Nashoba Valley|Catholic Memorial Home|
Don Orione|German Center|Armenian Nursing Home|Benjamin Healthcare|
Sherrill House|Jewish Memorial|the Pine Street Inn
""".replace("\n", "").split("|")
CLINICS = """
Harbor Health|Codman Square Health Center|Fenway Health|
East Boston Neighborhood Health|Neponset Health Center|Mattapan CHC|
Joslin|Dana-Farber|Mass Eye and Ear|Bay Cove|Whittier Street Health Center|
Uphams Corner Health Center|Brigham Circle Medical Associates|
Healthcare Associates|Dimock Center|South Cove Community Health
""".replace("\n", "").split("|")
HOME_CARE = [
    "VNA of Boston",
    "Partners Home Care",
    "Hallmark VNA",
    "Caregroup Home Care",
    "Old Colony Elder Services",
    "Ethos",
    "Springwell",
]
STREET_NAMES = """
Oak|Adams|Blue Hill|Dot|Geneva|Centre|Washington|Hancock|Bowdoin|Columbia|
Talbot|Norfolk|Gallivan|River|Mystic|Broadway|Tremont|Harvard|Beacon|Commonwealth|
Summer|Winter|Elm|Maple|Chestnut|Pleasant|Highland|School|Cedar|Walnut|Quincy|
Hyde Park|Cummins|Morton|Savin Hill|Neponset|Granite|Faneuil|Bennington|Meridian
""".replace("\n", "").split("|")
STREET_SUFFIXES = ["St", "St.", "Street", "Ave", "Ave.", "Avenue", "Rd", "Road", "Way", "Terrace", "Ct"]
EMPLOYERS = [
    "Stop & Shop",
    "Dunkin Donuts",
    "the MBTA",
    "Verizon",
    "Raytheon",
    "Market Basket",
    "Gillette",
    "Boston Public Schools",
    "Fidelity",
    "State Street",
    "Shaw's",
    "Legal Sea Foods",
    "Boston Edison",
    "NSTAR",
    "Home Depot",
    "the Globe",
    "Polaroid",
    "Filene's",
    "Jordan Marsh",
    "Harvard",
    "Northeastern",
]
CHURCHES = [
    "St. Brendan's",
    "Our Lady of Lourdes",
    "St. Ambrose",
    "Temple Israel",
    "Haitian Baptist Church",
    "Morning Star Baptist",
    "St. Peter's",
    "Holy Trinity Greek Orthodox",
    "the Islamic Society of Boston",
    "St. Stephen's Armenian Church",
    "Congregation Mishkan Tefila",
    "St. Mark's",
    "Twelfth Baptist",
]
SCHOOLS = [
    "Boston Latin",
    "UMass Boston",
    "Bunker Hill CC",
    "Madison Park",
    "BC High",
    "Quincy College",
    "Roxbury Community College",
]
COUNTRIES = [
    "Haiti",
    "Vietnam",
    "Cape Verde",
    "Ireland",
    "Italy",
    "Portugal",
    "the Azores",
    "Greece",
    "Poland",
    "Russia",
    "Lebanon",
    "the DR",
    "Puerto Rico",
    "China",
    "Korea",
    "India",
    "Nigeria",
    "Ghana",
    "Armenia",
]
STATES = ["MA", "NH", "RI", "ME", "Florida", "NY", "CT"]
AREA_CODES = ["617", "781", "508", "978", "857", "774", "413", "603", "401"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_LONG = [
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
WEEKDAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "mon",
    "tues",
    "wed",
    "thurs",
    "fri",
    "sat",
    "sun",
]
TYPOS = {
    "patient": "pateint",
    "family": "famliy",
    "received": "recieved",
    "continue": "contiue",
    "tolerating": "tolerting",
    "secretions": "secreations",
    "aware": "awre",
    "daughter": "dauhgter",
    "breathing": "breathign",
    "overnight": "overnite",
    "with": "wiht",
    "states": "sates",
}

_SLOT = re.compile(r"\{(\w+)\}")
_TIMES = ["0700", "0730", "0400", "1900", "2200", "0200", "1530", "11:45", "16:20", "0930", "noon"]


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_TITLE_LIKE = frozenset({"DR", "MR", "MS", "MD", "RN", "NP", "PA"})


def _initials(first: str, last: str) -> str:
    """Bare initials ("KL"), dotted ("K.L.") when they would spell a title or credential."""
    bare = f"{first[0]}{last[0]}".upper()
    return f"{bare[0]}.{bare[1]}." if bare in _TITLE_LIKE else bare


class Case:
    """One synthetic patient with staff, family, places and dates.

    Templates are rendered with ``render``: every ``{slot}`` calls the method
    ``slot_<name>``, which returns segments ``(text, type-or-None)``.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.sex = rng.choice("MF")
        self.first = self._first(self.sex)
        self.last = self._surname()
        self.age = rng.choice([rng.randint(90, 104), rng.randint(19, 89), rng.randint(45, 88)])
        self.title = "Mr." if self.sex == "M" else rng.choice(["Mrs.", "Ms.", "Mrs", "Ms"])
        self.family = self._family()
        self.hcp = rng.choice(self.family)
        self.attending = (self._first(), self._surname())
        self.resident = (self._first(), self._surname())
        self.fellow = (self._first(), self._surname())
        self.pcp = (self._first(), self._surname())
        self.consultant = (self._first(), self._surname())
        self.nurses = [(self._first("F" if rng.random() < 0.8 else "M"), self._surname()) for _ in range(3)]
        self.np = (self._first(), self._surname())
        self.rrt = (self._first(), self._surname())
        self.sw = (self._first("F"), self._surname())
        self.hosp = rng.choice(["BWH", "MGH", "the Brigham", "BIDMC", "BMC", "NEMC", "Tufts", "Mass General"])
        self.osh = rng.choice(OUTSIDE_HOSPITALS)
        self.post_acute = rng.sample(POST_ACUTE, 2)
        self.clinic = rng.choice(CLINICS)
        self.town, self.other_town = rng.sample(TOWNS, 2)
        self.country = rng.choice(COUNTRIES)
        year = rng.randint(2003, 2012)
        self.admit = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 360))
        self.today = self.admit + dt.timedelta(days=rng.randint(1, 12))
        self.casual = rng.random() < 0.5

    # -- pools ----------------------------------------------------------
    def _first(self, sex: str | None = None) -> str:
        pool = {"F": FEMALE_FIRST, "M": MALE_FIRST}.get(sex or self.rng.choice("FM"))
        return self.rng.choice(pool)

    def _surname(self) -> str:
        return self.rng.choice(SURNAMES)

    def _family(self) -> list[tuple[str, str]]:
        rng = self.rng
        spouse = ("wife", self._first("F")) if self.sex == "M" else ("husband", self._first("M"))
        members = [spouse] if rng.random() < 0.7 else []
        for _ in range(rng.randint(1, 3)):
            sex = rng.choice("FM")
            rel = rng.choice(["daughter", "dtr", "dau"] if sex == "F" else ["son", "son"])
            members.append((rel, self._first(sex)))
        if rng.random() < 0.5:
            sex = rng.choice("FM")
            rel = rng.choice(["sister", "niece", "granddaughter"] if sex == "F" else ["brother", "nephew", "grandson"])
            members.append((rel, self._first(sex)))
        return members

    # -- rendering ------------------------------------------------------
    def render(self, template: str) -> list[Segment]:
        segments: list[Segment] = []
        pos = 0
        for match in _SLOT.finditer(template):
            if match.start() > pos:
                segments.append((template[pos : match.start()], None))
            segments.extend(getattr(self, f"slot_{match.group(1)}")())
            pos = match.end()
        if pos < len(template):
            segments.append((template[pos:], None))
        return segments

    def pick(self, options: Sequence[str]) -> str:
        return self.rng.choice(options)

    def _cased(self, name: str) -> str:
        return name.lower() if self.casual and self.rng.random() < 0.5 else name

    def _dr(self, person: tuple[str, str]) -> list[Segment]:
        first, last = person
        form = self.rng.randrange(6)
        if form == 0:
            return [("Dr. ", None), (last, "NAME")]
        if form == 1:
            return [("dr ", None), (self._cased(last), "NAME")]
        if form == 2:
            return [("Dr ", None), (last, "NAME")]
        if form == 3:
            return [("Dr. ", None), (f"{first} {last}", "NAME")]
        if form == 4:
            return [("Dr. ", None), (f"{first[0]}. {last}", "NAME")]
        return [(self._cased(last), "NAME")]

    def _full(self, person: tuple[str, str]) -> list[Segment]:
        return [(f"{person[0]} {person[1]}", "NAME")]

    def _phone_text(self) -> str:
        rng = self.rng
        area, mid, end = rng.choice(AREA_CODES), rng.randint(200, 989), rng.randint(0, 9999)
        form = rng.randrange(6)
        if form == 0:
            return f"({area}) {mid}-{end:04d}"
        if form == 1:
            return f"{area}-{mid}-{end:04d}"
        if form == 2:
            return f"{area}.{mid}.{end:04d}"
        if form == 3:
            return f"{area}{mid}{end:04d}"
        if form == 4:
            return f"{mid}-{end:04d}"
        return f"{area} {mid} {end:04d}"

    def _date_text(self, day: dt.date, with_year: bool | None = None) -> str:
        rng = self.rng
        m, d, y = day.month, day.day, day.year
        if with_year is None:
            with_year = rng.random() < 0.3
        if with_year:
            return rng.choice(
                [
                    f"{m}/{d}/{y % 100:02d}",
                    f"{m}/{d}/{y}",
                    f"{m:02d}/{d:02d}/{y}",
                    f"{m}-{d}-{y % 100:02d}",
                    f"{MONTHS[m - 1]} {d}, {y}",
                    f"{MONTHS_LONG[m - 1]} {d} {y}",
                    f"{y}-{m:02d}-{d:02d}",
                    f"{d}-{MONTHS[m - 1]}-{y}",
                ]
            )
        return rng.choice(
            [
                f"{m}/{d}",
                f"{m}/{d}",
                f"{m:02d}/{d:02d}",
                f"{m}-{d}",
                f"{MONTHS[m - 1]} {d}",
                f"{MONTHS[m - 1].lower()} {d}",
                f"{d}-{MONTHS[m - 1]}",
                f"{MONTHS[m - 1]} {_ordinal(d)}",
                f"{MONTHS_LONG[m - 1]} {d}",
                f"{m}.{d}",
            ]
        )

    def _with_time(self, day: dt.date) -> str:
        date = self._date_text(day, with_year=False)
        sep = self.pick([" @ ", " @", " ", " at "])
        return f"{date}{sep}{self.pick(_TIMES)}"

    # -- people -----------------------------------------------------------
    def slot_pt(self) -> list[Segment]:
        form = self.rng.randrange(5)
        if form == 0:
            return [(f"{self.title} ", None), (self.last, "NAME")]
        if form == 1:
            return [(self.first, "NAME")]
        if form == 2:
            return [(f"{self.first} {self.last}", "NAME")]
        if form == 3:
            return [(f"{self.title.lower().rstrip('.')} ", None), (self.last.lower(), "NAME")]
        return [("pt", None)]

    def slot_ptfull(self) -> list[Segment]:
        return [(f"{self.first} {self.last}", "NAME")]

    def slot_ptheader(self) -> list[Segment]:
        return [(f"{self.last.upper()}, {self.first.upper()}", "NAME")]

    def slot_pts(self) -> list[Segment]:
        """Possessive patient name: the 's stays outside the span."""
        return [(f"{self.title} ", None), (self.last, "NAME"), ("'s", None)]

    def slot_fam(self) -> list[Segment]:
        rel, name = self.rng.choice(self.family)
        if self.rng.random() < 0.3:
            return [(f"pt's {rel} ", None), (self._cased(name), "NAME")]
        return [(f"{rel} ", None), (self._cased(name), "NAME")]

    def slot_fam2(self) -> list[Segment]:
        rel, name = self.rng.choice(self.family)
        return [
            (f"{rel} ", None),
            (name, "NAME"),
            (" " + self.pick(["(HCP)", "(cell)", "at home", "from out of state", "by phone"]), None),
        ]

    def slot_famlist(self) -> list[Segment]:
        segments: list[Segment] = []
        for index, (rel, name) in enumerate(self.family):
            if index:
                segments.append((", " if index < len(self.family) - 1 else " and ", None))
            segments.extend([(f"{rel} ", None), (name, "NAME")])
        return segments

    def slot_hcp(self) -> list[Segment]:
        rel, name = self.hcp
        form = self.rng.randrange(4)
        if form == 0:
            return [(f"HCP ({rel} ", None), (name, "NAME"), (")", None)]
        if form == 1:
            return [(f"pt's {rel} ", None), (name, "NAME"), (" (HCP)", None)]
        if form == 2:
            return [(f"{rel}/HCP ", None), (name, "NAME")]
        return [("HCP: ", None), (f"{name} {self.last}", "NAME"), (f" ({rel})", None)]

    def slot_famcall(self) -> list[Segment]:
        rel, name = self.rng.choice(self.family)
        return [
            (f"{rel} ", None),
            (name, "NAME"),
            (" " + self.pick(["cell", "home #", "can be reached at", "-", "c:"]) + " ", None),
            (self._phone_text(), "PHONE"),
        ]

    def slot_att(self) -> list[Segment]:
        return self._dr(self.attending)

    def slot_attfull(self) -> list[Segment]:
        return self._full(self.attending)

    def slot_res(self) -> list[Segment]:
        first, last = self.resident
        form = self.rng.randrange(4)
        if form == 0:
            return [("resident ", None), (self._cased(first), "NAME")]
        if form == 1:
            return [("Dr. ", None), (last, "NAME")]
        if form == 2:
            return [("covering ", None), (self._cased(f"{first} {last}"), "NAME")]
        return [("MD ", None), (first, "NAME")]

    def slot_resfull(self) -> list[Segment]:
        return self._full(self.resident)

    def slot_fellow(self) -> list[Segment]:
        return self._dr(self.fellow)

    def slot_fellowfull(self) -> list[Segment]:
        return self._full(self.fellow)

    def slot_pcp(self) -> list[Segment]:
        return self._dr(self.pcp)

    def slot_pcpfull(self) -> list[Segment]:
        return self._full(self.pcp)

    def slot_oshdoc(self) -> list[Segment]:
        return self._dr((self._first(), self._surname()))

    def slot_cons(self) -> list[Segment]:
        return self._dr(self.consultant)

    def slot_rn(self) -> list[Segment]:
        first, last = self.rng.choice(self.nurses)
        form = self.rng.randrange(4)
        if form == 0:
            return [("RN ", None), (first, "NAME")]
        if form == 1:
            return [(self._cased(first), "NAME"), (" RN", None)]
        if form == 2:
            return [("rn ", None), (f"{first.lower()} {last[0].lower()}.", "NAME")]
        return [("nurse ", None), (f"{first} {last}", "NAME")]

    def slot_np(self) -> list[Segment]:
        first, last = self.np
        return self.rng.choice(
            [
                [("NP ", None), (first, "NAME")],
                [("np ", None), (self._cased(last), "NAME")],
                [(f"{first} {last}", "NAME"), (", NP", None)],
                [("covering np ", None), (self._cased(first), "NAME")],
            ]
        )

    def slot_rrt(self) -> list[Segment]:
        first, last = self.rrt
        return self.rng.choice(
            [
                [("RT ", None), (first, "NAME")],
                [(first, "NAME"), (" from RT", None)],
                [("rrt ", None), (self._cased(last), "NAME")],
            ]
        )

    def slot_sw(self) -> list[Segment]:
        first, last = self.sw
        return self.rng.choice(
            [
                [("SW ", None), (first, "NAME")],
                [("social worker ", None), (f"{first} {last}", "NAME")],
                [(first, "NAME"), (" (SW)", None)],
            ]
        )

    def slot_other(self) -> list[Segment]:
        """A clinician who appears once, often by first name or initials."""
        first, last = self._first(), self._surname()
        return self.rng.choice(
            [
                [("chaplain ", None), (first, "NAME")],
                [(self._cased(first), "NAME"), (" from pharmacy", None)],
                [("PT ", None), (f"{first} {last}", "NAME")],
                [("interpreter ", None), (first, "NAME")],
                [("case mgr ", None), (first, "NAME")],
                [("Dr. ", None), (last, "NAME"), (" (renal)", None)],
                [("nutrition (", None), (first, "NAME"), (")", None)],
                [("CRN ", None), (_initials(first, last), "NAME")],
            ]
        )

    def slot_sig(self) -> list[Segment]:
        first, last = self.rng.choice(self.nurses)
        return self.rng.choice(
            [
                [(first, "NAME"), (" RN", None)],
                [("-", None), (first.lower(), "NAME")],
                [(f"{first[0]}.{last[0]}.", "NAME"), (" RN", None)],
                [(f"{first} {last}", "NAME"), (", RN", None)],
                [(f"{first} {last[0]}.", "NAME"), (" RN BSN", None)],
                [("--", None), (first, "NAME")],
            ]
        )

    def slot_rtsig(self) -> list[Segment]:
        first, last = self.rrt
        return self.rng.choice(
            [
                [(f"{first.lower()} {last[0].lower()}.", "NAME"), (" rrt", None)],
                [(f"{first} {last}", "NAME"), (", RRT", None)],
                [(first, "NAME"), (" RRT", None)],
                [(_initials(first, last), "NAME"), (" RT", None)],
            ]
        )

    # -- dates -------------------------------------------------------------
    def slot_date(self) -> list[Segment]:
        return [(self._date_text(self.today), "DATE")]

    def slot_dt(self) -> list[Segment]:
        return [(self._with_time(self.today), "DATE")]

    def slot_adate(self) -> list[Segment]:
        return [(self._date_text(self.admit), "DATE")]

    def slot_adatefull(self) -> list[Segment]:
        return [(self._date_text(self.admit, with_year=True), "DATE")]

    def slot_datefull(self) -> list[Segment]:
        return [(self._date_text(self.today, with_year=True), "DATE")]

    def slot_pastdate(self) -> list[Segment]:
        return [(self._date_text(self.admit - dt.timedelta(days=self.rng.randint(1, 400))), "DATE")]

    def slot_prevday(self) -> list[Segment]:
        return [(self._with_time(self.today - dt.timedelta(days=1)), "DATE")]

    def slot_futdate(self) -> list[Segment]:
        return [(self._date_text(self.today + dt.timedelta(days=self.rng.randint(3, 40))), "DATE")]

    def slot_futdt(self) -> list[Segment]:
        day = self.today + dt.timedelta(days=self.rng.randint(3, 40))
        return [
            (f"{self._date_text(day, with_year=True)} {self.pick(['10:30 AM', '2:15 PM', '9:00', '1:40 PM'])}", "DATE")
        ]

    def slot_dob(self) -> list[Segment]:
        born = dt.date(self.today.year - self.age, self.rng.randint(1, 12), self.rng.randint(1, 28))
        return [
            (
                self.pick(
                    [
                        f"{born.month}/{born.day}/{born.year}",
                        f"{born.month:02d}/{born.day:02d}/{born.year}",
                        f"{born.year}-{born.month:02d}-{born.day:02d}",
                    ]
                ),
                "DATE",
            )
        ]

    def slot_range(self) -> list[Segment]:
        start = self.admit - dt.timedelta(days=self.rng.randint(2, 30))
        end = start + dt.timedelta(days=self.rng.randint(1, 6))
        return [(f"{start.month}/{start.day}", "DATE"), ("-", None), (f"{end.month}/{end.day}", "DATE")]

    def slot_nth(self) -> list[Segment]:
        return [("the ", None), (_ordinal(self.admit.day), "DATE")]

    def slot_weekday(self) -> list[Segment]:
        return [(self.pick(WEEKDAYS), None)]

    def slot_year(self) -> list[Segment]:
        return [(str(self.rng.randint(1975, self.admit.year - 1)), None)]

    # -- ages and numbers ------------------------------------------------------
    def slot_age(self) -> list[Segment]:
        gold = "AGE_90" if self.age > 89 else None
        word = self.pick(
            {"M": ["M", "m", "male", "man", "gentleman"], "F": ["F", "f", "female", "woman", "lady"]}[self.sex]
        )
        joiner = self.pick([" yo ", "yo ", " y/o ", " year old ", " yr old ", "", " "])
        if not joiner and len(word) > 1:
            joiner = " "
        return [(str(self.age), gold), (joiner + word, None)]

    def slot_phone(self) -> list[Segment]:
        return [(self._phone_text(), "PHONE")]

    def slot_ext(self) -> list[Segment]:
        segments: list[Segment] = [(self._phone_text(), "PHONE")]
        segments.append((self.pick([" x", " ext ", " ext. ", " x "]), None))
        segments.append((str(self.rng.randint(1000, 99999)), "PHONE"))
        return segments

    def slot_pager(self) -> list[Segment]:
        number = self.pick(
            [
                f"{self.rng.randint(1, 9)}-{self.rng.randint(1000, 9999)}",
                str(self.rng.randint(10000, 99999)),
                f"#{self.rng.randint(1000, 9999)}",
            ]
        )
        if number.startswith("#"):
            return [("#", None), (number[1:], "PHONE")]
        return [(number, "PHONE")]

    def slot_mrn(self) -> list[Segment]:
        return [
            (
                self.pick(
                    [
                        str(self.rng.randint(1000000, 9999999)),
                        f"{self.rng.randint(100, 999)}-{self.rng.randint(10, 99)}-{self.rng.randint(10, 99)}",
                        f"00{self.rng.randint(100000, 999999)}",
                    ]
                ),
                "MRN",
            )
        ]

    def slot_jobid(self) -> list[Segment]:
        return [(str(self.rng.randint(10000, 99999)), "ID")]

    def slot_plan(self) -> list[Segment]:
        return [
            (
                self.pick(
                    [
                        f"XDP{self.rng.randint(100000000, 999999999)}",
                        f"{self.rng.randint(100000000000, 999999999999)}",
                        f"W{self.rng.randint(1000000, 9999999)}-01",
                    ]
                ),
                "HEALTH_PLAN",
            )
        ]

    def slot_acct(self) -> list[Segment]:
        return [(str(self.rng.randint(10000000, 99999999)), "ACCOUNT")]

    def slot_ssn(self) -> list[Segment]:
        return [(f"{self.rng.randint(100, 899)}-{self.rng.randint(10, 99)}-{self.rng.randint(1000, 9999)}", "SSN")]

    def slot_serial(self) -> list[Segment]:
        return [
            (
                f"{self.pick(['PJN', 'BVR', 'ZXK', 'AAF'])}{self.rng.randint(100000, 999999)}{self.pick(['H', 'S', ''])}",
                "DEVICE",
            )
        ]

    def slot_plate(self) -> list[Segment]:
        return [
            (f"{self.rng.randint(1, 9)}{self.pick(['AB', 'XK', 'TR', 'LP'])}{self.rng.randint(100, 999)}", "VEHICLE")
        ]

    def slot_dea(self) -> list[Segment]:
        return [(f"{self.pick(['AB', 'BK', 'FM'])}{self.rng.randint(1000000, 9999999)}", "LICENSE")]

    def slot_email(self) -> list[Segment]:
        first, last = self.rng.choice(self.family)[1], self.last
        user = re.sub(r"[^a-z]", "", f"{first[0]}{last}".lower())
        return [
            (
                f"{user}{self.rng.randint(1, 99)}@{self.pick(['comcast.net', 'gmail.com', 'aol.com', 'verizon.net', 'yahoo.com'])}",
                "EMAIL",
            )
        ]

    # -- places ----------------------------------------------------------------
    @staticmethod
    def _place(name: str) -> list[Segment]:
        if name.startswith("the "):
            return [("the ", None), (name[4:], "LOCATION")]
        return [(name, "LOCATION")]

    def slot_hosp(self) -> list[Segment]:
        return self._place(self.hosp)

    def slot_osh(self) -> list[Segment]:
        return self._place(self.osh)

    def slot_rehab(self) -> list[Segment]:
        return self._place(self.post_acute[0])

    def slot_rehab2(self) -> list[Segment]:
        return self._place(self.post_acute[1])

    def slot_clinic(self) -> list[Segment]:
        return self._place(self.clinic)

    def slot_homecare(self) -> list[Segment]:
        return self._place(self.pick(HOME_CARE))

    def slot_town(self) -> list[Segment]:
        return [(self.town, "LOCATION")]

    def slot_town2(self) -> list[Segment]:
        return [(self.other_town, "LOCATION")]

    def slot_employer(self) -> list[Segment]:
        return self._place(self.pick(EMPLOYERS))

    def slot_church(self) -> list[Segment]:
        return self._place(self.pick(CHURCHES))

    def slot_school(self) -> list[Segment]:
        return self._place(self.pick(SCHOOLS))

    def slot_country(self) -> list[Segment]:
        return [(self.country, None)]

    def slot_state(self) -> list[Segment]:
        return [(self.pick(STATES), None)]

    def slot_addr(self) -> list[Segment]:
        street = f"{self.rng.randint(2, 1450)} {self.pick(STREET_NAMES)} {self.pick(STREET_SUFFIXES)}"
        if self.rng.random() < 0.4:
            street += self.pick([" apt 3", " Apt. 2B", " #2", " unit 14", " 3rd fl"])
        zip_code = f"0{self.rng.randint(1001, 2791)}"
        return [(street, "ADDRESS"), (", ", None), (self.town, "LOCATION"), (", MA ", None), (zip_code, "ZIP")]


# ---------------------------------------------------------------------------
# Distractor phrase banks (no gold)
# ---------------------------------------------------------------------------

NEURO = [
    "A&Ox3, GCS 15, MAE, follows commands. PERRL 3mm brisk.",
    "sedated on propofol 30mcg/kg/min, RASS -2, opens eyes to voice. 4/5 strength x4.",
    "lethargic but arousable, oriented x1-2. + Babinski on L. hx Parkinson's, sinemet given.",
    "pt agitated overnoc, pulling at lines, haldol 2mg IV x1 with good effect.",
    "alert, appropriate, c/o pain 7/10 at incision, dilaudid 0.5mg IV q3h prn.",
    "GCS 10 (E3V2M5), Glasgow unchanged from prior. no sz activity.",
]
CV = [
    "HR 88 NSR no ectopy, BP 120/80, MAPs 65-70. levo 0.05 mcg/kg/min, weaning as tol.",
    "afib 110s-130s, dilt 10mg IV x2, now on dilt gtt 10mg/hr. BP 98-110/50s.",
    "SBP 140-160s, hydral 10mg IV given. 2/4 pulses DP/PT bilat. Swan-Ganz: CVP 12, PAP 45/22, CI 2.1.",
    "HR 60s SB, occ PVCs. heparin gtt at 1000 units/hr, PTT 62 at 0400.",
    "s/p cath, R groin site with Cordis, no hematoma, +pedal pulses. lasix 40 IV x1 with good effect.",
]
RESP = [
    "on AC 500 x 14, FiO2 40%, PEEP 5. LS coarse, sxn for mod thick tan secretions. RR 12-20.",
    "3L NC, sats 94-97%. LS diminished at bases. IS encouraged.",
    "extubated at 1000 to 50% face tent, then 4L NC. strong cough. hope to keep off vent.",
    "CPAP 5/5 overnight, RSBI 82, ABG 7.38/42/98. plan SBT in am.",
    "trach, 28% trach mask, sxn q2-3h for thin white secretions.",
]
GI = [
    "abd soft NT/ND, +BS. TF Jevity 1.2 at goal 60cc/hr via Dobhoff. no stool this shift.",
    "NPO after MN for procedure. protonix IV. lg soft brown guiac neg stool x1.",
    "OGT to LWS, 200cc bilious out. KUB done.",
    "tol clears, advance diet as tol. colace/senna.",
]
GU = [
    "Foley draining clear yellow urine 30-60cc/hr. BUN/Cr 42/1.8, up from 1.5.",
    "foley d/c'd at 0600, due to void by 1400. K 3.6 at 0400, repleted with 40 meq KCL.",
    "UOP marginal 20-30cc/hr, NS 500cc bolus x1 with minimal response. Quinton in R IJ for CVVH.",
    "u/o adequate. Mg 1.7, 2 gm mag sulfate given.",
]
SKIN = [
    "coccyx stage II, duoderm intact. skin mark on L hip from old IV site. Hickman site c/d/i.",
    "intact, turned q2h. R arm edema 2+, elevated.",
    "sacral redness, blanchable. waffle mattress. Baker's cyst L knee noted on US.",
]
ID_LINES = [
    "Tmax 101.2, temp rose to 101 at 2000, pan cultured. on vanco/zosyn day 3.",
    "afebrile. WBC 14.2 from 17. cipro/flagyl.",
    "T 100.4 po. BCx pending x2. c.diff neg x1.",
]
PLAN = [
    "cont to monitor, wean levo as tol, follow lytes, support pt and family.",
    "SBT in am, may need trach if fails. will update family.",
    "cont current plan, call HO with any changes. OOB to chair in am.",
    "f/u cx data, cont abx, hope to transfer to floor tomorrow.",
]

TIMELINE = [
    "{dt}: HR 140s, BP 80s/40s, paged {res}, NS 500cc bolus x1 given.",
    "{dt} - {famcall}, updated re: plan.",
    "{dt}: d/w {att}, will hold lasix; K 3.6 at 0400 repleted.",
    "{dt} {rn} at bedside, pt pulled Dobhoff, replaced by {res}.",
    "{dt}: {hcp} in, met with {sw}.",
    "{dt} cxr read by {other}: no ptx.",
    "{dt}: temp rose to 101, bcx x2 sent, {np} aware.",
    "{dt} pt to CT w/ {rn} and {rrt}, tolerated well.",
    "{dt}: levo 0.05 restarted for MAPs 50s per {att}.",
    "{dt} {fam} called from {town2}, will visit {weekday}.",
    "{dt}: ABG 7.31/49/71, FiO2 incr to 60% by {rrt}.",
    "{dt} {other} in to see pt, recs in chart.",
]


def _timeline(case: Case, low: int, high: int) -> list[str]:
    return case.rng.sample(TIMELINE, case.rng.randint(low, high))


def _nursing_progress(case: Case) -> list[str]:
    header = case.pick(
        [
            "NURSING PROGRESS NOTE 7P-7A",
            "Nursing Progress Note 0700-1900",
            "MICU NPN {date}",
            "npn 7a-7p",
            "CCU NURSING NOTE {dt}",
            "MICU 7 North RN note",
        ]
    )
    lines = [header]
    if case.rng.random() < 0.5:
        lines.append(
            case.pick(
                [
                    "{pt} had a quiet night.",
                    "{pt} restless early in shift, settled after 0200.",
                    "uneventful shift for {pt}.",
                    "{pts} family ({famlist}) in today.",
                ]
            )
        )
    if case.rng.random() < 0.6:
        diagnosis = case.pick(["urosepsis", "resp failure", "GIB", "CHF exac", "PNA", "DKA"])
        lines.append(
            f"{{age}} adm {{adate}} from {{osh}} w/ {diagnosis}"
            + case.pick([". Full code.", ", DNR/DNI per {hcp}.", ". pt of {pcp}."])
        )
    lines += [
        "Neuro: "
        + case.pick(NEURO)
        + case.pick(
            [
                "",
                " d/w {att}, no new orders.",
                " d/w team/{att} re: sedation holiday.",
                " {fam} at bedside helps reorient.",
                " per {res} ok to hold sedation.",
            ]
        ),
        "CV: "
        + case.pick(CV)
        + case.pick(["", " {att} aware.", " d/w {res} re: low MAPs at {dt}.", " paged {np}, ok to hold lopressor."]),
        "Resp: "
        + case.pick(RESP)
        + case.pick(["", " seen by {rrt}.", " {rrt} aware.", " CXR {dt} shows worsening L effusion."]),
        "GI: "
        + case.pick(GI)
        + case.pick(["", " Dobhoff placed {dt} by {res}.", " GI ({cons}) to see re: EGD {futdate}."]),
        "GU: " + case.pick(GU) + case.pick(["", " renal ({cons}) following.", " {rn} aware."]),
        "Skin: " + case.pick(SKIN) + case.pick(["", " {other} to see pt today."]),
        "ID: " + case.pick(ID_LINES),
        "Social: "
        + case.pick(
            [
                "{famlist} in to visit this evening. {hcp} called x2, updated by RN.",
                "{fam} called at {dt}, updated on plan. {famcall}.",
                "no family in today. {hcp} aware of transfer. lives in {town} w/ {fam}.",
                "{famlist} at bedside most of day, very supportive. {fam2} will be in {weekday}.",
            ]
        ),
        "Plan: " + case.pick(PLAN),
    ]
    if case.rng.random() < 0.6:
        lines[-1:-1] = ["Events:", *_timeline(case, 1, 3)]
    return [*lines, "{sig}"]


def _resp_therapy(case: Case) -> list[str]:
    return [
        case.pick(["Resp Care Note", "RESPIRATORY CARE", "resp care:", "RT NOTE {date}"]),
        "pt remains intubated on "
        + case.pick(["AC 500x14 / +5 / 40%", "PSV 10/5 40%", "CMV 450 x 16, PEEP 8, FiO2 50%"])
        + ". RR 12-20, Vt 450-520.",
        "BS coarse bilat, sxn for "
        + case.pick(["mod amts thick tan", "sm amts thin white", "copious yellow"])
        + " secretions. MDI albuterol/atrovent q4h given.",
        "ABG {dt}: 7.36/44/88. " + case.pick(["RSBI 85.", "NIF -24, RSBI 102.", "RSBI 65, placed on SBT for 30 min."]),
        "ETT 7.5, 23 @ lip, retaped and rotated. cuff leak present.",
        case.pick(
            [
                "d/w {att} re: wean plan.",
                "plan d/w {res}, hope to extubate in am.",
                "{rn} aware of changes.",
                "{rn} aware; will cont current settings.",
            ]
        ),
        case.pick(
            [
                "{famlist} in, asked about breathing tube.",
                "pt's {hcp} updated by team.",
                "pt transferred from {osh} {prevday} on vent.",
            ]
        ),
        "Vent changes:",
        *_timeline(case, 2, 4),
        "{rtsig}",
    ]


def _physician_progress(case: Case) -> list[str]:
    return [
        case.pick(
            [
                "MICU Attending Progress Note",
                "MICU RESIDENT PROGRESS NOTE",
                "ICU Progress Note - {date}",
                "micu team b note {date}",
            ]
        ),
        "HD#"
        + str(case.rng.randint(2, 20))
        + ". {age} w/ h/o CAD s/p CABG {year}, DM2, CKD, adm {adatefull} w/ "
        + case.pick(["septic shock", "hypoxemic resp failure", "upper GIB", "decompensated CHF"])
        + ".",
        "24 hr events: "
        + case.pick(
            [
                "temp rose to 101 overnight, pan cx'd. levo weaned to off at {dt}.",
                "extubated {prevday}, doing well on 4L NC.",
                "transfused 2u PRBC for Hct 22, appropriate bump.",
            ]
        ),
        *_timeline(case, 1, 2),
        "Exam: T 99.8 BP 112/64 HR 92 RR 18 O2 sat 96% 3L. Gen: NAD. CV: RRR no m/r/g. Lungs: crackles at bases. Ext: 1+ edema.",
        "Labs: WBC 12.1 Hct 29.4 Plt 188. Na 134 K 4.1 Cr 1.6. INR 1.4 on coumadin.",
        "A/P:",
        "1. "
        + case.pick(
            [
                "sepsis: cont vanco/zosyn (day 4/14), f/u cx. d/w ID ({cons}).",
                "resp failure: SBT in am. may need trach, will discuss w/ family.",
                "GIB: PPI bid, EGD by {cons} {date} showed DU, clipped.",
            ]
        ),
        "2. "
        + case.pick(
            [
                "AF: rate controlled on lopressor 25 tid. hold coumadin, heparin gtt at 1000 units/hr.",
                "ARF: likely ATN, renal following, lasix 40 IV x1 today.",
                "DM: RISS, lantus 20u qhs.",
            ]
        ),
        "3. FEN: TF at goal via Dobhoff, replete lytes.",
        "Code: "
        + case.pick(["FULL (confirmed with {hcp})", "DNR/DNI, d/w {hcp} {date}", "full for now, family mtg {futdate}"]),
        "Dispo: "
        + case.pick(
            [
                "screening for {rehab} vs {rehab2}.",
                "likely back to {rehab} when stable, CM {other} aware.",
                "callout to floor (Farr 2) when bed avail.",
            ]
        ),
        case.pick(
            [
                "I saw and examined the pt with {res} and agree with the note above. Critical care time 40 min, please bill accordingly.",
                "Seen and discussed with attending {att}.",
                "d/w {pcp} (PCP at {clinic}) by phone {phone}.",
            ]
        ),
        case.pick(["{attfull}, MD", "{resfull} MD PGY-2 pgr {pager}", "-- {resfull}, MD"]),
    ]


def _consult(case: Case) -> list[str]:
    service = case.pick(
        ["CARDIOLOGY CONSULT", "Renal Consult Note", "ID consult", "Geriatrics consult", "Palliative Care Consult"]
    )
    return [
        service,
        "Requested by: {att}  Reason: " + case.pick(["new AF w/ RVR", "ARF", "+BCx GPC", "goals of care", "delirium"]),
        "HPI: {age} with hx Parkinson's, HTN, AS, from {rehab} ({town}), pt of {pcp} at {clinic}. Adm {adatefull} to {hosp} after fall at home. Prior adm {osh} {range} for CHF.",
        "Social: "
        + case.pick(
            [
                "widowed, lives with {fam} in {town}. retired from {employer}.",
                "born in {country}, came to {town} in {year}. {famlist} involved.",
                "lived at {addr}. attends {church}.",
            ]
        ),
        "Exam: BP 120/80, HR 88, JVP 10cm, 3/6 SEM at RUSB, 2/4 pulses, no Babinski.",
        "Data: EKG {date} AF 120s. TTE {pastdate}: EF 35%, mod AS. Cr 2.1 (baseline 1.3 on {pastdate}).",
        "Recs: "
        + case.pick(
            [
                "dilt gtt, may transition to po. heparin gtt, no bolus. will discuss anticoag w/ family.",
                "hold ACEi, renally dose abx, Quinton if needs CVVH.",
                "cont vanco, TEE to r/o endocarditis, ID will follow.",
            ]
        ),
        "Seen with fellow {fellow} and d/w attending {cons}. Please page with questions: pgr {pager}.",
        "{fellowfull}, MD " + case.pick(["Cardiology Fellow", "renal fellow", "ID fellow", "geri fellow"]),
    ]


def _nursing_admission(case: Case) -> list[str]:
    return [
        case.pick(["NURSING ADMISSION NOTE", "Admission Note", "admit note {dt}"]),
        "{age} adm to MICU from ED at 2200 {nth} after presenting to {osh} with "
        + case.pick(["SOB", "hematemesis", "AMS", "fever/rigors"])
        + ". transferred by ambulance.",
        "PMH: CHF, AF on coumadin, COPD, DM2, s/p L TKR {year}, hx Baker's cyst.",
        "All: PCN (rash), sulfa.",
        "Social: lives at {addr} with {fam}. "
        + case.pick(
            [
                "Pt emigrated from {country}, speaks Kriolu, interpreter {other} used.",
                "retired {employer} worker, church is {church}.",
                "worked at {employer} x 30 yrs.",
            ]
        ),
        "Emergency contact: {famcall}. {hcp}.",
        "PCP: {pcp} at {clinic} {phone}. "
        + case.pick(["Gets VNA from {homecare}.", "", "ins: MassHealth # {plan}.", "SSN {ssn} on face sheet."]),
        "Neuro: " + case.pick(NEURO),
        "CV: " + case.pick(CV),
        "Resp: " + case.pick(RESP),
        "GI/GU: " + case.pick(GI) + " " + case.pick(GU),
        "Skin: " + case.pick(SKIN),
        "wt loss since last summer, looks young for age.",
        "belongings: glasses, dentures (upper), wedding band given to {fam}.",
        "{sig}",
    ]


def _family_meeting(case: Case) -> list[str]:
    return [
        case.pick(["FAMILY MEETING NOTE", "Family Meeting {date}", "family mtg note"])
        + case.pick(["", " re: {ptfull}"]),
        "Present: {attfull} (MICU attg), {res}, {rn}, {sw}, {famlist}"
        + case.pick(["", ", {fam} on speaker phone from {town2}"])
        + ".",
        "Pt is a {age} with "
        + case.pick(["metastatic NSCLC", "end stage COPD", "severe dementia", "ESRD on HD"])
        + ", intubated since {adate}.",
        "Discussed: poor prognosis, likely will not be able to wean from vent. Family hopes pt will wake up but understands. They may want to wait until {fam} arrives from {country} on {futdate}.",
        '{hcp} states pt "would never want to live on machines"; HCP did not grant permission for trach/PEG.',
        case.pick(
            [
                "Decision: CMO after {fam} visits. Chaplain from {church} called.",
                "Decision: DNR/DNI, cont current care, revisit {weekday}.",
                "Plan to meet again {futdate} at 2pm.",
            ]
        ),
        "Time spent 60 min, >50% counseling. "
        + case.pick(["{att} present for entire mtg.", "d/w {pcp} who knows pt well."]),
        case.pick(["{resfull}, MD", "-{attfull}"]),
    ]


def _discharge_summary(case: Case) -> list[str]:
    return [
        "Name: {ptheader}    Unit No: {mrn}",
        "Admission Date: {adatefull}    Discharge Date: {datefull}",
        "Date of Birth: {dob}    Sex: " + case.sex,
        "Service: MEDICINE",
        "Attending: {attfull}, M.D.",
        "Chief Complaint: " + case.pick(["dyspnea", "fever", "melena", "fall"]),
        "History of Present Illness: {age} with h/o CHF, AF, presented to {osh} on {pastdate} with SOB, transferred to {hosp} MICU. Intubated {adate}, extubated "
        + case.pick(["{date}", "the next day", "{nth}"])
        + ".",
        "Social History: lives in {town} with {fam}; "
        + case.pick(["former smoker quit {year}", "retired from {employer}", "attended {school}"])
        + ". No EtOH.",
        "Hospital Course: temp rose to 101 on HD3, treated with vanco/zosyn. Swan-Ganz placed, CI 2.0, diuresed with lasix gtt. Cards ({cons}) followed. Pacemaker interrogated, device serial {serial}.",
        "Discharge Medications: lasix 40 po daily, coumadin 2mg, lopressor 25 bid.",
        "Discharge Disposition: Extended Care",
        "Facility: " + case.pick(["{rehab} - {town2}", "{rehab}", "Home with service - {homecare}"]),
        "Followup Instructions:",
        "Provider: {pcpfull}, MD Phone: {ext} Date/Time: {futdt}",
        "Provider: "
        + case.pick(["{cons} (Cardiology) {phone}", "{clinic} {phone}", "Dr. {resfull}"])
        + " Date/Time: {futdate}",
        case.pick(["Contact {famcall} for questions.", "Family email: {email}", "Acct #: {acct}"]),
        "Completed by: {resfull} MD {datefull}",
        "JOB#: {jobid}",
    ]


def _transfer_accept(case: Case) -> list[str]:
    return [
        case.pick(["MICU ACCEPT NOTE", "Transfer Note", "CCU admission/accept note {dt}"]),
        "Pt is a {age} transferred from {osh} in {town2}, {state} for "
        + case.pick(["ERCP", "higher level of care", "cath", "CVVH"])
        + ". Accepted by {att} after d/w OSH attending {oshdoc}.",
        "PCP: {pcp} at {clinic} (ph {phone}).",
        "At OSH: admitted {range} w/ "
        + case.pick(["cholangitis", "NSTEMI", "ARF"])
        + ", got lasix 40 IV x1, levo 0.05, NS 500cc. Cordis R femoral.",
        "On arrival: BP 120/80 HR 88 RR 22 sats 95% on 4L. GCS 15.",
        "Family: {famlist}. {hcp}, {famcall}.",
        "Records from {osh} faxed, MRN there {mrn}.",
        "A/P: admit to MICU (Farr 2), "
        + case.pick(
            ["ERCP w/ GI ({cons}) in am.", "cards aware, cath {futdate}.", "renal aware for CVVH, Quinton in am."]
        ),
        case.pick(["-{resfull} MD", "{resfull}, PGY3, pager {pager}"]),
    ]


def _event_note(case: Case) -> list[str]:
    return [
        case.pick(["EVENT NOTE", "Rapid Response Note", "MICU event note {dt}", "code blue note"]),
        "Called to bedside at 0315 {date} by {rn} for HR 140s, BP 80s/40s.",
        "Pt "
        + case.pick(["diaphoretic, mottled", "unresponsive, GCS 6", "in resp distress, RR 35"])
        + ". EKG: AF w/ RVR. ABG 7.21/58/62.",
        "Interventions: NS 500cc bolus x2, levo started at 0.05, dilt 10mg IV. "
        + case.pick(["intubated by anesthesia ({other}).", "BiPAP 12/5.", "Swan-Ganz placed R IJ."]),
        *_timeline(case, 3, 5),
        "{att} notified and came in. {famcall} called, "
        + case.pick(["coming in from {town}.", "will call back.", "agreed w/ plan."]),
        case.pick(
            [
                "Pt was in MVC on way to clinic earlier, car (plate {plate}) towed - per police.",
                "Pacer {serial} interrogated by EP, no malfunction.",
                "Pt later stable, MAPs >65.",
            ]
        ),
        ("{resfull}, MD " + case.pick(["(night float)", "PGY-2", ""])).rstrip(),
    ]


def _addendum(case: Case) -> list[str]:
    return [
        case.pick(["Addendum {dt}:", "ADDENDUM", "addendum to note above ({date})"]),
        "{age} w/ "
        + case.pick(["COPD flare", "sepsis", "SAH", "cirrhosis/GIB"])
        + ", MICU day "
        + str(case.rng.randint(2, 15))
        + ", came from {osh}.",
        *_timeline(case, 4, 6),
        case.pick(
            [
                "spoke with {fam} by phone ({phone}), updated on pt's status.",
                "{famcall}, left message.",
                "{hcp} called, aware of plan.",
            ]
        ),
        case.pick(["{fam} will come in tomorrow to sign consent. ", "family may visit after 5pm. ", ""])
        + "{att} aware.",
        case.pick(
            [
                "Rx written, DEA # {dea}.",
                "temp rose to 101 again at 2200, cx sent.",
                "d/w {np}, will give lasix 40 IV x1 at 0400.",
                "pt going to {rehab} {futdate}, {homecare} to follow at home after.",
            ]
        ),
        case.pick(["{sig}", "{resfull} MD", "{rtsig}"]),
    ]


NOTE_BUILDERS = {
    "nursing_progress": _nursing_progress,
    "resp_therapy": _resp_therapy,
    "physician_progress": _physician_progress,
    "consult": _consult,
    "nursing_admission": _nursing_admission,
    "family_meeting": _family_meeting,
    "discharge_summary": _discharge_summary,
    "transfer_accept": _transfer_accept,
    "event_note": _event_note,
    "addendum": _addendum,
}


_TYPO_WORDS = re.compile(r"\b(" + "|".join(TYPOS) + r")\b")


def _typo(text: str, rng: random.Random) -> str:
    """Misspell about half of the listed words in a non-gold segment."""
    return _TYPO_WORDS.sub(lambda m: TYPOS[m.group(1)] if rng.random() < 0.5 else m.group(1), text)


def assemble(segments: Sequence[Segment]) -> tuple[str, list[dict[str, object]]]:
    """Join segments into text and gold spans, checking every span."""
    parts: list[str] = []
    spans: list[dict[str, object]] = []
    offset = 0
    for text, kind in segments:
        if kind is not None:
            if kind not in ALLOWED_TYPES or not text or text != text.strip():
                raise ValueError(f"bad gold segment {text!r} ({kind})")
            spans.append({"start": offset, "end": offset + len(text), "type": kind})
        parts.append(text)
        offset += len(text)
    return "".join(parts), spans


def generate_note(seed: int, index: int) -> dict[str, object]:
    rng = random.Random(seed * 1_000_003 + index)
    style = rng.choices(STYLES, weights=STYLE_WEIGHTS)[0]
    case = Case(rng)
    lower = rng.random() < 0.3
    typos = rng.random() < 0.35
    segments: list[Segment] = []
    for number, template in enumerate(NOTE_BUILDERS[style](case)):
        if number:
            segments.append(("\n", None))
        for text, kind in case.render(template):
            if kind is None:
                text = _typo(text, rng) if typos else text
            segments.append((text.lower() if lower else text, kind))
    text, spans = assemble(segments)
    return {"id": f"blind4-{seed}-{index:04d}", "text": text, "spans": spans, "style": style}


def generate_corpus(n_notes: int, seed: int) -> list[dict[str, object]]:
    return [generate_note(seed, index) for index in range(n_notes)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=600, help="number of notes")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--output", type=Path, required=True, help="JSONL output path")
    args = parser.parse_args(argv)
    with args.output.open("w", encoding="utf-8") as handle:
        for note in generate_corpus(args.notes, args.seed):
            handle.write(json.dumps(note, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
