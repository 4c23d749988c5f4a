"""Presidio recognizers for the identifiers clinical notes carry, one class per identifier family.

Each pattern recognizer has class-level `PATTERNS` (regex, score) and `CONTEXT` (words that raise the
score when they occur just before a match) tables, as presidio's own recognizers do. Regexes run with
the `regex` module, so labelled identifiers use variable-length look-behinds: the label ("MRN:",
"DOB:") stays in the text and only the value is a span.

`ClinicalNerRecognizer` wraps spaCy's PERSON/LOCATION predictions and drops the ones that are
clinical words (drug names, eponyms such as "Parkinson disease", abbreviations such as "BID").

`SAFE_HARBOR_COVERAGE` maps each of the 18 HIPAA Safe-Harbor identifiers (45 CFR 164.514(b)(2)) to
the entity types that cover it; `SAFE_HARBOR_GAPS` says honestly what is not covered yet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import regex as re  # noqa: E402
from faker.providers.address.en import Provider as _FakerAddress  # noqa: E402
from faker.providers.address.en_US import Provider as _FakerUsAddress  # noqa: E402
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult  # noqa: E402
from presidio_analyzer.predefined_recognizers import (  # noqa: E402
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

RECOGNIZERS_VERSION = "0.7.0"
"""Bump with any change to a pattern or filter below: it enters the policy fingerprint."""

FAKER_COUNTRIES: tuple[str, ...] = tuple(_FakerAddress.countries)

CASE_SENSITIVE = re.DOTALL | re.MULTILINE
CASE_INSENSITIVE = re.DOTALL | re.MULTILINE | re.IGNORECASE

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUM = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:(?:1[89]|20)\d{2})"
_TIME = r"(?:(?:T|,?\s+(?:at\s+)?)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?)?)?"
# A number right after a month name is a dose, not a day, when a unit follows ("may 5 mg").
_NOT_UNIT = r"(?!\s*(?:mg|mcg|g|ml|units?|iu|%|mmol|meq)\b)"
# Words before and after an m/d ("7/10") that make it a score, a fraction or a setting, not a date.
_NOT_DATE_BEFORE = (
    r"pain|strength|power|motor|score|scale|gcs|grade|grades|rated?|rates|murmur|edema|oedema|pulses?|reflexes"
    r"|ratio|peep|ps|psv|cpap|bipap|ac|simv|imv|prvc|vent|settings?|fio2|i:e|ie|mmhg|bp|sbp|abp|nbp|map|cvp"
    r"|pap|pas|tv|vt|rr|hr|o2|sats?|spo2|x|qty|dose|doses|tabs?|takes?|mallampati|apgar|braden|morse|rass"
    r"|cam|nihss|mrc|sofa|apache|ciwa|cows|gravida|g|para|p|level|levels|up|down|leads?|approx|about|parts?"
    r"|fractions?|ett|size|french|fr|gauge|ga|scored|measur(?:ed|es)|vision|acuity|tonsils?|stage|class|tof"
)
# Labs and measures whose values look like a dotted month.day ("K 3.6", "Mg 1.8", "pH 7.35", "Cr 1.12").
_LAB_BEFORE = (
    r"k|na|cl|co2|hco3|bun|cr|creat|glucose|gluc|bg|fs|fsbs|ca|ica|mg|phos|po4|wbc|hgb|hb|hct|plt|inr|ptt|pt"
    r"|lactate|lac|ph|pco2|po2|temp|t|tmax|tc|trop|troponin|ck|bnp|alb|tbili|ast|alt|lfts?|ammonia|lipase"
    r"|digoxin|dig|vanco|trough|level|uop|uo|cvp|ci|co|svr|svo2|etco2|sbp|dbp|wt|weight|kg|lbs?|ht|ef"
)
# Drips and drugs whose rates look like a dotted month.day ("levo on 2.5 at 1400").
_DRIPS = (
    r"levo|levophed|norepi|neo|neosynephrine|phenylephrine|dopa|dopamine|dobut|dobutamine|vaso|vasopressin|epi"
    r"|propofol|prop|fent|fentanyl|versed|midaz|midazolam|insulin|heparin|hep|nitro|ntg|amio|amiodarone|dilt"
    r"|diltiazem|esmolol|lasix|precedex|dex|dexmed|dilaudid|morphine|mso4|cisatracurium|nimbex|milrinone"
    r"|nipride|labetalol|gtt|drip|mcg|mg|units?"
)
_SECONDARY_TO = r"(?!2/2[ ]+(?!(?i:at|on|to|and|or|thru|through|until|pending|with)\b|w/)\p{L})"
"""Not a date: "2/2" before a word is "secondary to" ("hypotension 2/2 sepsis"; "admitted 2/2 to 2/7" is one)."""

_NOT_AFTER_RANGE = r"(?![\d/%\w-]|[.,]\d|[ \t]*(?i:l|lpm|liters?|mg|mcg|ml|cc|units?|days?|hours?|hrs?|times)\b)"
"""What may not follow the second month-day of "9-6 to 9-7" ("2-3 to 4-5 L" is a flow range)."""

_NOT_DATE_AFTER = (
    r"ns|nss|normal|strength|power|tabs?|tablets?|pills?|caps?|of|pain|cm|mm|in|inch(?:es)?|ft|feet|liters?|l|ml"
    r"|cups?|cans?|bottles?|doses?|units?|mg|mcg|scale|score|grade|murmur|edema|pulses?|reflexes|positive|neg"
    r"|negative|systolic|diastolic|ratio|breaths?|beats?|bpm|sec|min|hrs?|hours?|days?|weeks?|months?|years?"
    r"|times|x|dose|strength|lumen|ways?|split|mallampati|bilat|bilaterally|extremities|limbs|vision|stage"
    r"|lobes?|fields?|quadrants?|ekg|leads?|spo2|sats?|fio2|peep|ps|cpap|vent|tv|rr|re|le|od|os|ou"
)
# A cheap look-ahead put before a label look-behind: the value needs a digit, so the costly look-behind
# runs only where one follows (same matches; 2-5x faster on prose).
_DIGIT_AHEAD = r"(?=[A-Z0-9-]*\d)"
# Trailing identifier characters for labelled ids: at least one digit somewhere in the value.
_ID_VALUE = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,19}\b"
# The label must end at a word boundary ("plate" is not "platelet").
_ID_LABEL_TAIL = r"(?:\b|(?<=[#.]))\s*(?:number|num|no\.?|#|id)?\s*(?:is\s+|[:#=.]\s*)?#?\s*"

US_STATES = (
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Florida",
    "Georgia",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
    "Puerto Rico",
)
_STATE_CODES = (
    r"(?:A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|PR|RI|S[CD]"
    r"|T[NX]|UT|V[TA]|W[AVIY]|AS|GU|MP|VI|FM|MH|PW|A[AEP])"
)
"""USPS codes of the states, DC, the territories (AS GU MP PR VI FM MH PW) and military mail (AA AE AP)."""


class ClinicalPatternRecognizer(PatternRecognizer):
    """Base class: a subclass sets ENTITY, PATTERNS, CONTEXT and FLAGS and needs no constructor.

    :param supported_language: language code of the notes the recognizer runs on.
    """

    ENTITY: str = ""
    PATTERNS: list[Pattern] = []
    CONTEXT: list[str] = []
    FLAGS: int = CASE_INSENSITIVE

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=supported_language,
            patterns=list(self.PATTERNS),
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
            version=RECOGNIZERS_VERSION,
        )

    def result(self, start: int, end: int, score: float, pattern_name: str, regex: str) -> RecognizerResult:
        """A result with the explanation and recognizer metadata presidio's own pattern loop gives its results
        (the context enhancer reads both), for recognizers whose `analyze` adds matches of its own."""
        explanation = self.build_regex_explanation(self.name, pattern_name, regex, score, None, self.global_regex_flags)
        metadata = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return RecognizerResult(self.supported_entities[0], start, end, score, explanation, metadata)


class CodeRecognizer(EntityRecognizer):
    """A recognizer whose logic is code (no patterns, nothing to load up front: word lists are built on
    first use by `lexicons`); subclasses set ENTITIES and implement analyze()."""

    ENTITIES: list[str] = []

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=list(self.ENTITIES),
            name=type(self).__name__,
            supported_language=supported_language,
            version=RECOGNIZERS_VERSION,
        )

    def load(self) -> None:
        """Nothing to load up front."""


class MedicalRecordNumberRecognizer(ClinicalPatternRecognizer):
    """Medical record numbers: labelled ("MRN: 00123456", "record # 4455") or a bare 7-10 digit run."""

    ENTITY = "MEDICAL_RECORD_NUMBER"
    PATTERNS = [
        Pattern(
            "MRN (labelled)",
            r"(?=[A-Z]{0,3}\d)(?<=\b(?:MRN|MR\s*#|MR\s+(?:number|no\.?)|med(?:ical)?\s+rec(?:ord)?s?(?:\s+(?:number|no\.?|num|#))?"
            r"|rec(?:ord)?\s*(?:number|no\.?|num|#)|chart\s*(?:number|no\.?|#)|patient\s+(?:id|number|no\.?)"
            r"|pt\s*(?:id|#)|hospital\s+(?:number|no\.?|id)|unit\s+(?:number|no\.?))"
            r"(?:\b|(?<=[#.]))\s*[:#=.]?\s*#?\s*)[A-Z]{0,3}\d[\d-]{3,14}\b",
            0.95,
        ),
    ]
    CONTEXT = ["mrn", "record", "chart"]


class UniqueIdRecognizer(ClinicalPatternRecognizer):
    """Other unique identifying numbers: a bare run of 7-19 digits (card, account or record numbers
    written without a label)."""

    ENTITY = "ID_NUMBER"
    PATTERNS = [
        # In notes a long bare digit run is nearly always an identifier, not a measurement.
        Pattern("id (bare 7-19 digits)", r"(?<![\w.,/-])\d{7,19}(?![\w/-]|[.,]\d)", 0.45),
        # "W135605720", "f708492919", "B22329426": a plan, member or account code with a letter prefix.
        Pattern("id (letters and digits)", r"(?<![\w.-])[A-Za-z]{1,3}\d{6,12}(?![\w-]|\.\w)", 0.5),
        # "IR-154495", "ir-820186": a letter prefix and a hyphen before five or more digits.
        Pattern("id (letters, hyphen, digits)", r"(?<![\w.-])[A-Za-z]{1,4}-\d{5,12}(?![\w-]|\.\w)", 0.5),
        # "MassHealth #1VF4-VD1-LU20", "#301075365A": a code after "#" with four or more digits.
        Pattern(
            "id (after #)",
            r"(?<=#[ ]?)(?=(?:[A-Za-z-]*\d){4})[A-Za-z0-9][A-Za-z0-9-]{3,24}(?![\w-]|\.\w)",
            0.5,
        ),
        Pattern("id (grouped card-like)", r"(?<![\w.-])\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?(?![\w.-])", 0.5),
    ]
    CONTEXT = ["id", "number", "no", "card", "account"]


class ClinicalDateRecognizer(ClinicalPatternRecognizer):
    """Dates as notes write them: 02/12/2019, 2019-02-12, Feb 12, 2019, 12-Feb-2019, February 12th,
    November 2000, 2/12 after "on"/"since"/..., each optionally with a time. A year alone is no match
    (Safe Harbor keeps years)."""

    ENTITY = "DATE"
    PATTERNS = [
        Pattern("date (ISO y-m-d)", rf"(?<![\d.])({_YEAR}[-/.](?:0?[1-9]|1[0-2])[-/.]{_DAY}){_TIME}(?![\d])", 0.95),
        Pattern("date (m/d/yyyy)", rf"(?<![\d/.])\d{{1,2}}[/-]\d{{1,2}}[/-]{_YEAR}{_TIME}(?![\d/])", 0.9),
        Pattern("date (dd.mm.yyyy)", rf"(?<![\d.])\d{{1,2}}\.\d{{1,2}}\.{_YEAR}{_TIME}(?![\d.])", 0.85),
        # "ORIF 12.7.21", "unchanged from 1.17.11": a dotted month.day.yy (no version or IP: one more dot or digit
        # on either side stops it).
        Pattern("date (m.d.yy)", rf"(?<![\d.])(?:{_MONTH_NUM})\.{_DAY}\.\d{{2}}(?![\d]|\.\d)", 0.6),
        # "missed shifts 9-6 to 9-7", "MICU course 11-26 to 11-27": two month-days joined by "to".
        Pattern(
            "date (m-d to m-d)",
            rf"(?<![\d/.,:+±~x\w-])(?<!\b(?:{_NOT_DATE_BEFORE})[ \t]*[:=]?[ \t]*)\b{_MONTH_NUM}-{_DAY}"
            rf"(?=[ ]to[ ]{_MONTH_NUM}-{_DAY}\b{_NOT_AFTER_RANGE})"
            rf"|(?<=(?<![\d/.,:+±~x\w-])(?<!\b(?:{_NOT_DATE_BEFORE})[ \t]*[:=]?[ \t]*)\b{_MONTH_NUM}-{_DAY}[ ]to[ ])"
            rf"{_MONTH_NUM}-{_DAY}\b{_NOT_AFTER_RANGE}",
            0.55,
        ),
        Pattern("date (m/d/yy)", rf"(?<![\d/.])\d{{1,2}}[/-]\d{{1,2}}[/-]\d{{2}}{_TIME}(?![\d/])", 0.6),
        Pattern(
            "date (month d, yyyy)",
            rf"\b{_MONTH}\.?\s+{_DAY}(?:st|nd|rd|th)?\b{_NOT_UNIT}(?:,?\s+{_YEAR}\b)?{_TIME}",
            0.8,
        ),
        Pattern(
            "date (d month yyyy)",
            rf"\b{_DAY}(?:st|nd|rd|th)?(?:[\s-]+of)?[\s-]+{_MONTH}\b\.?(?:[\s,-]+(?:{_YEAR}|\d{{2}}(?!:))\b)?{_TIME}",
            0.8,
        ),
        Pattern("date (month yyyy)", rf"\b{_MONTH}\.?,?\s+{_YEAR}\b", 0.8),
        # "2/12" alone is also a fraction or a score ("4/5 strength", "7/10 pain"): only after a cue word.
        Pattern(
            "date (m/d after cue)",
            rf"(?<=\b(?:on|since|from|until|till|dated?|admitted|discharged|seen|visit|dob|d\.o\.b\.|drawn|collected|sent"
            rf"|signed|encounter|note|handoff|started|stopped|due|scheduled|appt|last[ ]dose"
            rf"|(?-i:RN|MD|NP|LPN|PA-C|PA|RT|DO)"
            rf"|(?i:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day)?)"
            # "2/2 sepsis" is "secondary to", not a date
            rf"(?:[ ]\([A-Z]+\))?[:\s]+){_SECONDARY_TO}{_MONTH_NUM}/{_DAY}(?![\d/%])",
            0.6,
        ),
        # "2-12" is also a range ("HR 80-90s", "2-3L NC"): a month-day with a hyphen only after a date cue.
        Pattern(
            "date (m-d after cue)",
            rf"(?=\d)(?<=(?:\b(?:on|since|from|until|till|through|thru|by|for|dated?|admitted|adm|discharged|d/c'?d|seen"
            rf"|dob|due|scheduled|appt|back|starting|started|stopped|before|after|of|placed|inserted|removed|changed"
            rf"|done|performed|meeting|note|npn|bm|hearing|(?-i:RN|MD|NP|LPN|PA-C|PA|RT|DO))|=)[:\s]+){_MONTH_NUM}-{_DAY}"
            rf"(?![\d/%\w-]|[.,]\d|[ \t]*(?:{_NOT_DATE_AFTER}|more|less|q)\b|[ \t]*(?:or|and|to)[ \t]*\d"
            r"|[ \t]*per\b(?![ ](?:family|pt|patient|report|wife|husband|son|daughter)\b))",
            0.6,
        ),
        # A bare m-d with the guards of the bare m/d below and more: ranges are written with a hyphen far more
        # often than with a slash ("RR 12-20", "HR 80-90s", "2-3L", "x1-2", "q4-6h", "0.5-1 mg", "2-3 to 4").
        Pattern(
            "date (m-d)",
            rf"(?=\d{{1,2}}-\d)(?<![\d/.,:+±~x\w-])(?<!\b(?:{_NOT_DATE_BEFORE}|drinks|smokes|beers|cigs|ppd|over|about|around|approx"
            rf"|between|q|every|x|of|in|from)[ \t]*[:=]?[ \t]*(?:of[ \t]+|at[ \t]+|is[ \t]+)?)"
            rf"\b{_MONTH_NUM}-{_DAY}\b(?![\d/%\w-]|[.,]\d|[ \t]*(?:{_NOT_DATE_AFTER}|or|and|more|less|per|q|x)\b"
            r"|[ \t]*to[ \t]*\d|[ \t]*(?:beers?|drinks?|cigs?|ppd|packs?|glasses|servings?|meals?|voids?|stools?"
            r"|episodes?|people|persons?|staff|assist|mm|cm)\b)",
            0.45,
        ),
        # "NPN 10.24 @ 2010", "family mtg 5.19@1245", "bed possibly avail 2.17": a dotted month.day only
        # after a date cue (decimals are everywhere: "K 3.6", "levo on 2.5").
        Pattern(
            "date (m.d after cue)",
            rf"(?=\d)(?<=\b(?:npn|note|events|mtg|meeting|avail|available|until|till|since|dated?|seen|admitted|adm|sent"
            rf"|drawn|collected"
            rf"|discharged|d/c'?d|due|scheduled|appt|hearing|bm|flight|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)[:\s]+)"
            rf"{_MONTH_NUM}\.{_DAY}"
            rf"(?![\d%]|\.\d|[ \t]*(?:{_NOT_DATE_AFTER}|or|and|per|q)\b|[ \t]*to[ \t]*\d)",
            0.5,
        ),
        # "Dr Branch on 6.24.": a dotted month.day after "on" that ends the sentence (not a rate: "levo on 2.5").
        Pattern(
            "date (m.d after on, sentence end)",
            rf"(?=\d{{1,2}}\.\d)(?<=\b(?i:on)[ ])(?<!\b(?i:{_DRIPS})\b[^\n.;]{{0,12}}){_MONTH_NUM}\.{_DAY}"
            r"(?=[.;]?[ \t]*(?:\n|$)|[.;][ \t]+\p{Lu}|\.[ \t]+(?i:plan|pain|neuro|cv|resp|gi|gu|id|skin|heme)\b"
            r"|[ ]+(?i:placement|confirmed)\b)",
            0.5,
        ),
        # "admitted from NWH on 6.5 w/ altered mental status": a dotted month.day after "admitted ... on".
        Pattern(
            "date (m.d after admitted ... on)",
            rf"(?=\d{{1,2}}\.\d)(?<=\b(?i:admitted|adm|transferred|presented)\b[^\n.;]{{0,40}}[ ](?i:on)[ ])"
            rf"{_MONTH_NUM}\.{_DAY}(?=[ ]+(?:w/|(?:with|for|after)\b))",
            0.5,
        ),
        # "4.19 at 18:00", "10.30@0930", "6.12 @1500": a dotted month.day right before a time, unless a lab, a
        # vital sign or a setting names the number ("K 3.6 at 0400", "Mg 1.8 @ 0600").
        Pattern(
            "date (m.d before a time)",
            rf"(?=\d{{1,2}}\.\d)(?<![\d/.,:+±~x\w-])(?<!\b(?:{_NOT_DATE_BEFORE}|{_LAB_BEFORE})[ \t]*[:=]?[ \t]*)"
            rf"(?<!\b(?i:{_DRIPS})\b[^\n.;]{{0,12}})"
            rf"{_MONTH_NUM}\.{_DAY}(?=[ ]?(?:@[ ]?|at[ ])(?:[01]\d|2[0-3]):?[0-5]\d\b|[ ](?:[01]\d|2[0-3])[0-5]\d\b)",
            0.5,
        ),
        Pattern(
            "date (m-d before a time)",
            rf"(?<![\d/.,-])\b{_MONTH_NUM}-{_DAY}(?=[ ]+(?:@[ ]?|at[ ])?(?:[01]\d|2[0-3]):?[0-5]\d\b(?![.,]\d))",
            0.6,
        ),
        # A bare m/d counts unless the words around make it a fraction, a score or a setting ("pain 7/10",
        # "4/5 strength", "PS 10/5", "1/2 NS", "+2/4 edema").
        Pattern(
            "date (m/d)",
            rf"(?:(?<![\d/.,:+±~x-])|(?<=\b{_MONTH_NUM}/{_DAY}[ ]?-{{1,2}}[ ]?))"
            rf"(?<!\b(?:{_NOT_DATE_BEFORE})[ \t]*[:=]?[ \t]*(?:of[ \t]+|at[ \t]+|is[ \t]+)?)"
            r"(?<!\b(?:acuit(?:y|ies)|snellen|vision|visual)\b[^\n.]{0,60})"
            # "hypotension 2/2 sepsis": "2/2" before a word is "secondary to"
            rf"{_SECONDARY_TO}"
            rf"\b{_MONTH_NUM}/{_DAY}\b(?![\d/%]|[ \t]*(?:{_NOT_DATE_AFTER})\b|[.,]\d)"
            # "pain 6/10 with relief to 2/10": an x/10 after a pain or score word in the same sentence.
            r"(?<!\b(?i:pain|relief|rated|rates|scale|score|discomfort|ache|cramping|nausea)\b[^\n;.]{0,60}/10)",
            0.5,
        ),
        Pattern(
            "date (m/d before a time)",
            rf"(?<![\d/.,])\b{_MONTH_NUM}/{_DAY}"
            r"(?=[ ]*(?:@[ ]?|[ ]at[ ])?(?:[01]\d|2[0-3]):?[0-5]\d(?:-(?:[01]\d|2[0-3]):?[0-5]\d)?\b)",
            0.6,
        ),
        Pattern(
            "date (the 12th)",
            rf"(?<=\b(?i:the)\s+){_DAY}(?:st|nd|rd|th)\b(?!\s+(?:day|week|month|year|percentile|centile|cycle|dose"
            r"|rib|vertebra|cranial|intercostal|decade|time|times|floor|generation|degree|grade|attempt|trimester|toe"
            r"|finger|digit|nerve|ventricle|space|line|pregnancy|child|visit|session|round|course|hour|minute|position"
            r"|place|one|and|or|to|through|percent|ed|edition|birthday|anniversary|postoperative|post-op|hospital)\b)",
            0.6,
        ),
    ]
    CONTEXT = [
        "date",
        "dob",
        "birth",
        "born",
        "admitted",
        "admission",
        "discharged",
        "discharge",
        "visit",
        "encounter",
        "drawn",
        "collected",
        "signed",
        "handoff",
        "shift",
        "started",
        "stopped",
        "appointment",
        "appt",
        "scheduled",
        "seen",
        "since",
        "until",
    ]

    def invalidate_result(self, pattern_text: str) -> bool:
        """Reject all-numeric dates that no calendar has (neither leading number can be a month)."""
        head = re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-]", pattern_text)
        if head is None:
            return False
        first, second = int(head.group(1)), int(head.group(2))
        return not (1 <= first <= 31 and 1 <= second <= 31) or (first > 12 and second > 12)


class AgeOver89Recognizer(ClinicalPatternRecognizer):
    """Ages of 90 and over ("92-year-old", "aged 95", "91 y/o", "in her 90s"); the span is the number."""

    ENTITY = "AGE_OVER_89"
    _AGE = r"(?:9\d|1[01]\d|12\d)"
    PATTERNS = [
        Pattern(
            "age (n-year-old)",
            rf"(?<![\d.])\b{_AGE}(?=[\s-]*(?:years?|yrs?|y/o|y\.o\.|yo\b|y\b)(?:[\s-]*old)?)",
            0.85,
        ),
        Pattern("age (aged n)", rf"(?<=\b(?:age|aged|age:)\s*[:=]?\s*){_AGE}\b(?![.\d])", 0.85),
        # "is a 92m from", "HPI: 98F resident of", "104yow with", "pt is 96M", "pt Sarah, 98F": the age and sex
        # written together, after "a", "is", a label, a name and a comma or at a line start (a temperature "T 98F"
        # has its own word before it).
        Pattern(
            "age (n and sex)",
            rf"(?<=(?:\ban?[ ]|^[ \t]*|:[ ]?|\b(?i:is|was)[ ]|\p{{L}},[ ]|\p{{L}}[ ]\(|\p{{L}}[ ]/[ ]))"
            rf"(?<!\b(?i:t|temp|tmax|tc|temperature|vs|vitals)[:=]?[ ]?(?:(?i:is|was)[ ])?){_AGE}"
            r"(?=(?:[ ]?(?:yo|y/o|y\.o\.))?[ ]?(?:[mfwMFW]|male|female|woman|man)\b)",
            0.6,
        ),
        Pattern(
            "age (in her 90s)",
            r"(?<=\bin\s+(?:his|her|their|the)\s+(?:late\s+|early\s+|mid\s+)?)(?:9|1[0-2])0s\b",
            0.8,
        ),
    ]
    CONTEXT = ["age", "aged", "old"]


class ClinicalPhoneRecognizer(ClinicalPatternRecognizer):
    """US telephone and fax numbers ("(617) 555-0123", "617.555.0123 x12", "+1 617 555 0123"),
    international numbers written with a leading "+", and 10-digit runs next to "phone"/"fax"."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        Pattern(
            "phone (US)",
            r"(?:(?<![\w+/])|(?<=(?<!\w)x))(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"
            r"(?:\s*(?:x|ext\.?|extension)\s*\d{1,5})?(?!\d)",
            0.7,
        ),
        Pattern(
            "phone (international)",
            r"(?<![\w+])\+\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}(?!\d)",
            0.6,
        ),
        Pattern(
            "phone (after label)",
            r"(?<=\b(?:phone|tel|telephone|mobile|cell|fax|desk|pager|beeper|home|hm|work|(?-i:[Hh]|[Cc]|[Ww])(?=:))\b\.?"
            r"\s*[:#]?\s*(?:\|\s*)?)"
            r"\+?\(?\d[\d\s().-]{5,18}\d(?!\d)",
            0.85,
        ),
        Pattern("phone (trunk 0)", r"(?<![\w.+])0\d{2,4}(?:[ .-]\d{2,4}){2,3}(?![\w.])", 0.5),
        Pattern("phone (area in brackets)", r"(?<![\w+])\(\d{2,4}\)\s?\d{3,4}[\s.-]\d{3,4}(?!\d)", 0.6),
        Pattern(
            "phone (pager)",
            r"(?<=\b(?i:pager|beeper|pgr|bpr|pg)\b\.?[ ]*(?:(?i:no\.?|number|#)[ ]*)?[:#]?[ ]*)"
            r"(?:\d{3,6}|\d{1,2}-\d{4,5})(?![\w/]|[.,]\d)"
            # "Dr. Costa paged (15113)", "paged (7-5437)": the number in brackets after "paged".
            r"|(?<=\b(?i:paged)[ ]?\()(?:\d{4,5}|\d-\d{4})(?=\))"
            # "p# 78327", "(p78342)", "pagr 72554", "page at #75579": five digits after a pager mark.
            r"|(?<=(?<![\w.])(?i:p#?|pagr|page[ ]at[ ]\#|pg\#)[ ]?)\d{5}(?![\w/]|[.,]\d)",
            0.6,
        ),
        Pattern(
            "phone (extension)",
            r"(?<=\b(?i:ext|extension)\.?[ ]?#?[ ]?)\d(?:-?\d){3,5}\b|(?<=(?<![\w.])xx?)\d{5}\b(?![.,]\d)"
            # "at x2345", "call x2345": four digits only after a call cue ("NS bolus x1000" is a dose).
            r"|(?<=(?:\b(?i:at|call|page|paged|pager|reach|dial|phone|tel|extension)|[,;:(])[ ]*x)\d{4}\b(?![.,]\d)"
            # "x9-6102"; "Blood bank x2461" (not a round dose multiplier: "NS bolus x1000").
            # "LICSW xx4-1986": some notes double the x.
            r"|(?<=(?<![\w.])xx?)(?:\d-\d{4}|(?!\d\d00\b)\d{4})\b(?![.,]\d)"
            # "RN CM, x 92470", "PharmD  x 1507": "x", a space and the extension after a word
            r"|(?<=\p{L}[ ,]{1,3}x[ ])(?:\d-\d{4}|(?!\d\d00\b)\d{4,5})\b(?![.,]\d)"
            # "page 62191 for needs", "Chaplain on call 8-3805"
            r"|(?<=\b(?i:page|on[ ]call)[ ])(?:\d{5}|\d-\d{4})\b(?![.,/]\d)",
            0.6,
        ),
        Pattern("phone (local 7 digits)", r"(?<![\w.-])\d{3}[ ]\d{4}(?![\w-]|\.\d)", 0.3),
        Pattern("phone (local 7 digits, hyphen)", r"(?<![\w.\-/])\d{3}-\d{4}(?![\w\-/]|\.\d)", 0.45),
        # International groupings ("024 971 50 30", "01.84.17.61.18", "+46 (0)8 928 571 38"): one separator.
        Pattern(
            "phone (digit groups)",
            r"(?<![\w.+/-])(?!(?:\d{3}-\d{2}-\d{4}|\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{2,4})\b(?![-/.]\d))"
            r"(?:(?:\+\d{1,3}[ ]?)?\(0?\d{0,4}\)[ ]?\d{1,4}|(?:\+\d{1,3}[ ]?)?\d{2,4})"
            r"([ .-])\d{2,4}(?:\3\d{2,4}){1,3}(?![\w/]|[.,-]\d)",
            0.45,
        ),
        Pattern("phone (two groups)", r"(?<![\w.+/-])\d{2,4}[ ]\d{4,6}(?![\w./-])", 0.15),
        # "3660170548-Fax": a label may be hyphenated to the number.
        Pattern("phone (10 digits)", r"(?<![\w.-])\d{10}(?![\w.]|-[\d-])", 0.3),
        # "call", "reach" are spaCy stop words, so presidio's context enhancer never sees them: the cue
        # is part of the pattern. Any digit grouping of 6-15 digits within a few words after it.
        Pattern(
            "phone (after a call cue)",
            r"(?<=\b(?i:call(?:ed|ing|s)?|reach(?:ed)?|text(?:ed)?|ring|dial(?:ed)?|page[dr]?|beeper|contact(?:ed)?"
            r"|answering|registered|number|#)\b[^\n\d]{0,25})"
            r"(?<![\w.+/-])(?!\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b)\+?\(?\d[\d() .-]{5,17}\d"
            r"(?![\w/:]|[.,-]\d|\s*(?i:mg|mcg|ml|units?|%|am|pm|hrs?|min|times)\b)",
            0.6,
        ),
    ]
    CONTEXT = [
        "phone",
        "telephone",
        "tel",
        "fax",
        "cell",
        "mobile",
        "pager",
        "call",
        "contact",
        "beeper",
        "number",
        "reach",
        "text",
        "answering",
        "answer",
        "register",
        "dial",
        "page",
        "registered",
        "office",
    ]


class ZipCodeRecognizer(ClinicalPatternRecognizer):
    """US ZIP codes after a state ("MA 02115", "Texas 75201"), after "ZIP", or in ZIP+4 form."""

    ENTITY = "ZIP_CODE"
    FLAGS = CASE_SENSITIVE
    PATTERNS = [
        Pattern(
            "zip (after state)",
            rf"(?<=\b(?:{_STATE_CODES}|{'|'.join(US_STATES)})\.?,?\s{{1,2}})\d{{5}}(?:-\d{{4}})?\b",
            0.9,
        ),
        Pattern(
            "zip (labelled)",
            r"(?<=\b(?i:zip|postal)(?i:\s*code)?(?i:\s+is)?\s*[:#]?\s*)\d{3,5}(?:[- ]?(?:\d{2,4}|[A-Z]{2}))?\b",
            0.9,
        ),
        Pattern("zip (zip+4)", r"(?<![\w-])\d{5}-\d{4}(?![\w-])", 0.6),
        Pattern("zip (bare 5 digits)", r"(?<![\w.,/-])\d{5}(?![\w.,/-])", 0.05),
    ]
    CONTEXT = ["zip", "postal"]


_TOWN_WINDOW = 80
"""Characters before a postcode in which a lower-case town and its cue are looked for."""


class PlacePostcodeRecognizer(CodeRecognizer):
    """Non-US postcodes written after their town ("ARENDAL 4844", "Costamezzana 43015", "Quinta de São
    Tiago 3610-114", "ÖVERTURINGEN 840 24", "Mill Village B0J 2H0"): a postcode shape right after a
    place-shaped word that is no English and no clinical word (`is_unknown_proper_word`; upper-case
    words of five letters or more count too). The postcode is a ZIP_CODE, the town a LOCATION.
    "Room 4844", "Vanco 1000" stay: "Room" is English, "Vanco" clinical.

    :param supported_language: language code of the notes.
    """

    ENTITIES = ["ZIP_CODE", "LOCATION"]
    _PLACE = (
        r"(?P<place>\p{Lu}[\p{L}'’\-]+"
        r"(?:[ ](?:St\.|\p{Lu}[\p{L}'’\-]*|de|da|do|dos|del|la|le|nad|pod|an|am|im|sur|upon))*)"
    )
    _CODE = (
        r"(?P<code>\d{4,5}(?:-\d{3,4})?|\d{3}[ ]\d{2}|\d{2}-\d{3}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d"
        r"|[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2})"
    )
    _PATTERN = re.compile(
        rf"(?<![\p{{L}}\d])(?:{_PLACE})[ ]{{1,2}}(?:nan[ ])?{_CODE}"
        r"(?![\p{L}\d/]|[.,:]\d|\s*(?i:mg|mcg|g|ml|units?|iu|%|mmol|meq|kg|cm|mm|am|pm|hrs?|h|min|x)\b)"
    )

    _CODE_ONLY = re.compile(rf"(?<![\p{{L}}\d]){_CODE}")

    @staticmethod
    def _town_word(word: str, is_english_word) -> bool:
        if len(word) < 4:
            return False
        if word.isupper():
            return len(word) >= 5 and not is_clinical_term(word) and not is_english_word(word)
        return is_unknown_proper_word(word)

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """ZIP_CODE and LOCATION results for postcodes after a town-shaped word (offsets only)."""
        from clinical.deid.lexicons import is_english_word

        results = []
        found = [(m, m.start("place")) for m in self._PATTERN.finditer(text)]
        if _LOWER_STREET_HINT.search(text):
            # a lower-case town after "in", "from", "to", "near" ("in barra de carrasco 15000"), read capitalised;
            # the capitalised view is scanned only in a window before each postcode-shaped number (a scan of the
            # whole view tries every word as the start of a town).
            view = capitalised_view(text)
            seen: set[int] = set()
            for code in self._CODE_ONLY.finditer(view):
                lo, hi = max(0, code.start() - _TOWN_WINDOW), min(len(view), code.end() + 40)
                for m in self._PATTERN.finditer(view, lo, hi):
                    if m.start("code") != code.start() or m.start() in seen:
                        continue
                    seen.add(m.start())
                    if any(c.isupper() for c in text[m.start() : m.end()]):
                        continue
                    cues = list(_LOWER_TOWN_CUE.finditer(text, max(0, m.start() - 6), m.start("code")))
                    if cues and cues[-1].end() < m.start("code"):
                        found.append((m, cues[-1].end()))
        for m, place_start in found:
            words = re.findall(r"\p{L}[\p{L}'’\-]*", text[place_start : m.end("place")].title())
            if not any(self._town_word(w, is_english_word) for w in words):
                continue
            if "ZIP_CODE" in entities:
                results.append(RecognizerResult("ZIP_CODE", m.start("code"), m.end("code"), 0.6))
            if "LOCATION" in entities:
                results.append(RecognizerResult("LOCATION", place_start, m.end("place"), 0.5))
        return results


class StreetNameNumberRecognizer(CodeRecognizer):
    """A street written as its name and house number with no street word, as in many countries
    ("Eyrarodda 66", "Peter Zuidhove 188"): one or two capitalised words, the last a place-shaped word
    that is no English and no clinical word (`is_unknown_proper_word`, five letters or more), then a
    house number of one to four digits that no unit follows. "Vanco 1000", "Room 12", "Levo 0.05" stay.

    :param supported_language: language code of the notes.
    """

    ENTITIES = ["STREET_ADDRESS"]
    _PATTERN = re.compile(
        r"(?<![\p{L}\d'’\-])(?:\p{Lu}[\p{L}'’\-]+[ ])?(?P<street>\p{Lu}[\p{L}'’\-]{4,})[ ]\d{1,4}[a-zA-Z]?"
        r"(?![\p{L}\d/'’]|[.,:-]\d|\s*(?i:mg|mcg|g|ml|units?|iu|%|mmol|meq|kg|cm|mm|am|pm|hrs?|h|min|x|yo|y/o"
        r"|years?|yrs?|days?|weeks?|months?|times)\b)"
    )

    # A house number, the street's own number and its name ("9816 214 Pavlou Drandaki"), before a line end,
    # a comma or a sentence end; one of the words no English or clinical word, none clinical.
    _NUMBERS_NAME = re.compile(
        r"(?<![\p{L}\d.,/:'’\-])\d{1,6}[ ]\d{1,4}[ ](?P<name>\p{Lu}[\p{L}'’\-]+(?:[ ]\p{Lu}[\p{L}'’\-]+){0,2})"
        r"(?=[ \t]*(?:,|\n|$|[.;!?](?:\s|$)))"
    )

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """STREET_ADDRESS results for "Street-name 12" (offsets only), in lower-case text too ("brixiho 5\n")."""
        results = [
            RecognizerResult("STREET_ADDRESS", m.start(), m.end(), 0.5)
            for m in self._PATTERN.finditer(text)
            if is_unknown_proper_word(m.group("street"))
        ]
        for m in self._NUMBERS_NAME.finditer(text):
            words = m.group("name").split()
            if any(is_unknown_proper_word(w) for w in words) and not any(is_clinical_term(w) for w in words):
                results.append(RecognizerResult("STREET_ADDRESS", m.start(), m.end(), 0.5))
        for start, end in lower_case_streets(text, [self._PATTERN]):
            m = self._PATTERN.match(capitalised_view(text), start, end)
            if m and is_unknown_proper_word(m.group("street")):
                results.append(RecognizerResult("STREET_ADDRESS", start, end, 0.5))
        return results


# Address helpers for lower-case text ("9791 regina mountains\nandreaborough, vt 62139"): the street
# patterns that need capitals run on a capitalised view of the text (same offsets).
_VIEW_WORD_START = re.compile(r"(?<![\p{L}'’])\p{Ll}(\p{Ll}(?![\p{L}'’]))?")
_VIEW_CODE = re.compile(r"(?<![\p{L}\d])(?=[a-zA-Z]*\d)(?=\d*[a-zA-Z])[a-zA-Z\d]{2,7}(?![\p{L}\d])")
_LOWER_STREET_HINT = re.compile(r"\p{Ll}[ ]+\d|\d[ ]+\p{Ll}")
# A lower-case address ends a clause or a line, or a unit follows it.
_LOWER_STREET_END = re.compile(r"[ \t]*(?:,|\n|$|[.;!?](?:\s|$)|(?i:apt|apartment|suite|unit|#))")
# Street and unit words that are no place name (skipped when checking the words of a lower-case street).
_LOWER_STREET_WORDS = frozenset(
    "street st avenue ave road rd drive dr lane ln boulevard blvd court ct place pl terrace way apt apartment"
    " suite unit".split()
)
_LOWER_TOWN_CUE = re.compile(r"(?<![\p{L}])(?:in|from|to|near|at)[ ]+")
_LEADING_WORD = re.compile(r"(\p{L}+)[ ]+")
# Words of FUNCTION_WORDS that street names hold ("rúa de la paz", "9 north elm st", "via roma 5").
_STREET_PARTICLES = frozenset(
    "de la le el del da do das dos van von der den di du des al via north south east west street road avenue".split()
)


# The last text and its view (three recognizers and the block growth ask for the same note's view); one
# tuple, read and replaced whole, so threads never mix a text with another's view.
_view_cache: tuple[str, str] = ("", "")


def capitalised_view(text: str) -> str:
    """`text` with each word's first letter upper-cased, two-letter words and postcode-shaped words (letters
    and digits: "y7y3v4", "cr51") in capitals ("ec" -> "EC"), character for character (a letter whose upper
    case is longer stays as it is)."""

    def upper(match) -> str:
        out = match.group(0).upper()
        return out if len(out) == len(match.group(0)) else match.group(0)

    global _view_cache
    cached = _view_cache
    if cached[0] is text:
        return cached[1]
    view = _VIEW_CODE.sub(upper, _VIEW_WORD_START.sub(upper, text))
    _view_cache = (text, view)
    return view


def lower_case_streets(text: str, patterns) -> list[tuple[int, int]]:
    """(start, end) of the matches of capitalised street `patterns` on the capitalised view of `text` that
    lie in lower-case text, end a clause or line (or a unit follows), and hold no function or clinical
    word ("walked 2 laps in the hall" stays).

    :param text: the note.
    :param patterns: compiled patterns written for capitalised streets.
    """
    if not _LOWER_STREET_HINT.search(text):
        return []
    from clinical.deid.lexicons import FUNCTION_WORDS

    view = capitalised_view(text)
    stop = FUNCTION_WORDS - _STREET_PARTICLES
    out = []
    for pattern in patterns:
        for m in pattern.finditer(view):
            start, end = m.span()
            # a leading function word the capitalised view let in ("at brixiho 5") is no part of the street
            while (lead := _LEADING_WORD.match(text, start, end)) and lead.group(1) in stop:
                start = lead.end()
            chunk = text[start:end]
            if any(c.isupper() for c in chunk) or not _LOWER_STREET_END.match(text, end):
                continue
            # words only: the letter of a unit ("apt 36a") is no function word
            words = [w for w in re.findall(r"(?<![\p{L}\d])\p{L}+(?![\p{L}\d])", chunk) if w not in _LOWER_STREET_WORDS]
            if not words or any(w in stop or w == "x" or is_clinical_term(w) for w in words):
                continue  # "lasix 40 x 2" is a dose given twice
            out.append((start, end))
    return out


class AnyCaseIbanRecognizer(CodeRecognizer):
    """IBANs in any letter case ("gb42nawi04454264788619", typed or dictated in lower case), which
    presidio's IbanRecognizer (upper case only) misses; the ISO 13616 mod-97 check must hold.

    :param supported_language: language code of the notes.
    """

    ENTITIES = ["IBAN_CODE"]
    _PATTERN = re.compile(r"(?<![\w-])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,3})?(?![\w-])")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """IBAN_CODE results for IBAN-shaped strings whose check digits hold (offsets only)."""
        return [
            RecognizerResult("IBAN_CODE", m.start(), m.end(), 0.8)
            for m in self._PATTERN.finditer(text)
            if _iban_ok(m.group(0))
        ]


def _iban_ok(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


# Street suffixes of Faker's en_AU, en_NZ, en_BD and en_PH providers that name nothing clinical and are
# rare in prose (not "Artery", "Access", "Line", "End", "Approach").
_MORE_STREET_SUFFIXES = frozenset(
    """alleyway amble anchorage arcade boulevard brae broadway byway centre centreway circlet circus colonnade
    concourse copse corso courtyard crossway cruiseway dell driveway esplanade fairway firetrail footway
    foreshore frontage glade grange gully highroad interchange laneway lookout meander mohalla moor nook parade
    parklands pathway piazza promenade quadrangle quadrant quay quays ramble ridgeway riverway riviera
    roadside roadway ronde rosebowl siding sorok thoroughfare tollway towers trunkway vale villas walkway
    wynd ghat""".split()
)


# What follows "via" in notes when it is no street: transport and media ("via Med flight Feb 4", "via phone").
_TRANSPORT = frozenset(
    "med medflight flight ambulance helicopter transport car wheelchair stretcher phone telephone email fax mail"
    " interpreter ems als bls ed er".split()
)


class StreetAddressRecognizer(ClinicalPatternRecognizer):
    """Street addresses: house number + capitalised street name + suffix (St, Ave, Road, Blvd ...),
    optionally with an apartment or suite; units and post-office boxes on their own."""

    ENTITY = "STREET_ADDRESS"
    FLAGS = CASE_SENSITIVE
    # USPS street suffixes (the list Faker's en_US provider ships) and their common abbreviations.
    _SUFFIX = (
        r"(?i:st|ave|rd|blvd|ln|dr|ct|pl|ter|cir|hwy|pkwy|sq|trl|rte|close|str|"
        + "|".join(
            sorted({s.lower() for s in _FakerUsAddress.street_suffixes} | _MORE_STREET_SUFFIXES, key=len, reverse=True)
        )
        + ")"
    )
    _UNIT = (
        r"(?:(?:Apt|Apartment|Suite|Ste|Unit|Fl|Floor|Rm|Room|apt|suite|unit|#)\.?\s*#?[A-Za-z0-9-]{1,6}"
        r"|\d{1,2}(?:st|nd|rd|th)[ ](?i:floor|fl\.?))"
    )
    PATTERNS = [
        Pattern(
            "address (number street suffix)",
            rf"\b\d{{1,6}}[A-Za-z]?\s+(?:(?:[NSEW]\.?|North|South|East|West)\s+)?(?:[\p{{Lu}}0-9][\w'.-]*\s+){{0,3}}"
            rf"\p{{Lu}}[\w'.-]*\s+{_SUFFIX}\b\.?(?:,?\s+{_UNIT}\b)?",
            0.85,
        ),
        # "19 Broadway", "1404 broadway, taunton": a street that takes no suffix.
        Pattern("address (number Broadway)", rf"\b\d{{1,6}}[ ]+(?i:broadway)\b(?:,?\s+{_UNIT}\b)?", 0.7),
        Pattern(
            "address (European: street word + number)",
            r"(?:\b\d{1,6}[ ]+)?\b(?:(?:(?i:rue|rua|rúa|calle|via|viale|vicolo|avenida|avda\.|av\.|avenue|praça|piazza"
            r"|largo|camino|carrer|ulica|ul\.|paseo|passeig|rambla|travessa|chemin|boulevard|bd\.|quai|allée|strada|trg"
            # street words of Faker's es, pt_BR, ro, pl, id and es_MX providers ("Cuesta de ...", "Jalan ...")
            r"|acceso|alameda|callejón|cañada|cuesta|glorieta|pasaje|ronda|urbanización|estrada|rodovia|ladeira"
            r"|aleja|aleea|intrarea|bulevardul|drumul|soseaua|jalan|jl\.|jln\.?|gg\.|gang|lorong|retorno|peatonal|viaducto"
            r"|cerrada|privada|andador|calzada"
            r"|odos|οδός|λεωφόρος|λ\.)\s+|(?i:c/)\s*)"
            r"(?:(?i:de|do|da|dos|das|del|della|delle|dei|degli|des|du|la|le|les|d'|l'|z|na|pod|nad)\s*)*"
            r"\p{L}[\p{L}'’.-]*(?:\s+(?:\p{L}[\p{L}'’.-]*)){0,3}?"
            r"|\p{L}[\p{L}-]*(?i:straße|strasse|weg|gasse|platz|allee|gatan|vägen|väg|gata|vej|gade|veien|vegen|vei"
            r"|katu|tie|kuja|polku|laan|straat|plein|utca|vegur|stræde|stien|bakken|lane|street|road|avenue)"
            r"|\p{Lu}[\p{L}'’-]*(?:\s+\p{Lu}[\p{L}'’-]*){0,2}\s+(?i:tér|út|u\.|utca|tee|põik|terrasse|rkp\.|körút|sor"
            r"|sétány|náměstí|nám\.|ulice|trg|cesta|ulica|gatve|iela|prospekt|pr\.|str\.|st\.|straße|strasse|gasse"
            r"|allee|platz|weg|laan|straat|gatan|vägen|gata|vej|gade|veien|katu)"
            # Lower-case text: only street words that are no English word ("hegyalja út 98.").
            r"|(?:(?!(?:on|at|in|to|the|of|and|or|for|from|by|near|enter|is|are|was|lives)[ ])\p{Ll}[\p{L}'’-]*[ ])?"
            r"\p{Ll}[\p{L}'’-]*[ ](?:út|utca|körút|tér|sétány|náměstí|ulice|iela|gatve"
            r"|põik|straße|strasse|gasse|gatan|vägen|gade|allé|vej|straat|laan|gata|katu|ulica|aleja))"
            r"\s*,?\s*(?:(?i:no\.?|n[°º])[ ]?)?\d{1,5}(?:[a-zA-Z]?[-/]\d{1,4}(?![\d.,/-]))?[a-zA-Z]?\b\.?",
            0.7,
        ),
        Pattern(
            "address (number, abbreviated street word, words, number)",
            r"\b\d{1,6}[ ]+(?i:r|av|c/|ul|str)\.?[ ]+(?:\p{L}[\p{L}'’.\-]*[ ]+){1,4}\d{1,5}[a-zA-Z]?"
            r"(?![\p{L}\d/]|[.,/]\d)",
            0.6,
        ),
        Pattern(
            "address (number, street word, words)",
            r"\b\d{1,6}(?:[ ]\d{1,6})?,?[ ]+(?i:rue|rua|rúa|calle|via|viale|avenida|avda\.|paseo|ul\.|ulica|strada"
            r"|chemin|boulevard|avenue|allée|allé|impasse|odos)[ ]+[\p{L}'’.\-]+(?:[ ][\p{L}'’.\-]+){0,4}?"
            r"(?=[ \t]*(?:,|\n|$|[.;](?:[ ]|$)))",
            0.6,
        ),
        Pattern(
            "address (number, any-case words, street word)",
            r"(?<![\d.,/:])\b\d{1,6}[ ]+(?:\d{1,6}[ ]+)?(?:\p{L}[\p{L}'’.-]*[ ]+){1,3}"
            r"(?i:street|avenue|road|drive|lane|boulevard|court|place|terrace|way|circle|parkway|highway|square)\b"
            r"(?=[ ,]+(?i:apt|apartment|suite|unit|#)|[ \t]*(?:,|\n|$))",
            0.6,
        ),
        Pattern(
            "address (number, words, number)",
            r"(?<![\d.,/:])\b\d{1,6}[ ]+\p{Lu}[\p{L}'’.-]*[ ]+"
            # more capitalised words, or the particles of street names ("Jiřího z Poděbrad 1874")
            r"(?:(?:\p{Lu}[\p{L}'’.-]*|z|ze|u|v|na|nad|pod|de|da|do|del|di|van|von|der|den|la|le)[ ]+){0,2}"
            r"\d{1,5}[a-zA-Z]?\b"
            r"(?![.,/]\d|\s*(?i:mg|mcg|g|ml|units?|%|mmol|meq|kg|cm|mm)\b)"
            rf"(?:,?\s+{_UNIT}\b)?",
            0.6,
        ),
        Pattern(
            "address (street corner)",
            r"(?:\b(?i:the[ ]+))?\b(?i:corner[ ]of)[ ]+[\p{L}\d][\p{L}\d'’.-]*(?:[ ][\p{L}\d][\p{L}\d'’.-]*){0,4}"
            r"[ ]+(?:and|&)[ ]+"
            r"[\p{L}\d][\p{L}\d'’.-]*(?:[ ][\p{L}\d][\p{L}\d'’.-]*){0,4}",
            0.7,
        ),
        Pattern(
            "address (after a where-cue, with a number)",
            r"(?<=\b(?i:lives|living|resides|residing|located|relocated|moved|staying|address(?:[ ]is)?|sent|send"
            r"|ship(?:ped)?|mail(?:ed)?|meet(?:[ ]me|[ ]you)?|drops?[ ]you[ ]off)"
            r"(?:[ ]+(?i:at|on|in|to))?[ ]+)(?=[^\n.?!;]{0,40}\d)"
            r"(?!(?i:the|a|an|at|on|in|to|by|of|for|with|from|home|room|bed)\b"
            r"|\d+[ ]*(?i:am|pm|h|hrs?|hours?|days?|weeks?|wks?|months?|years?|mg|cm|mm|o'clock|%)(?![\p{L}])"
            r"|\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?(?![\d/.-]))"  # "sent 5/10 to rehab": a date
            r"[\p{Lu}\d](?:[\p{L}\d'’\-/]|\.(?=[\p{L}\d]))*"
            r"(?:[ ](?!(?i:with|and|for|since|who|which|that|until|after|before|when|where|but|or|the|a|an|is|was|at|on"
            r"|in|to|of|from|by|now|today|yesterday|tomorrow|last|next|this|alone|together)\b)"
            r"[\p{L}\d](?:[\p{L}\d'’\-/]|\.(?=[\p{L}\d]))*){0,6}",
            0.55,
        ),
        Pattern(
            "address (military)",
            r"\b(?i:(?:PSC|CMR|Unit)[ ]\d{3,5},?[ ]Box[ ]\d{3,5}|US[A-Z]{1,3}[ ]\p{L}[\p{L}'’-]+)"
            r"\s*,?\s*(?i:APO|FPO|DPO)[ ](?i:A[AEP])[ ]\d{5}\b",
            0.85,
        ),
        Pattern("address (unit)", r"\b(?:Apt|Apartment|Suite|Ste)\.?\s*#?\d+[A-Za-z]?\b", 0.6),
        Pattern("address (PO box)", r"\b(?:P\.?\s?O\.?\s*Box|(?:PSC|CMR|Unit)\s+\d+,?\s+Box)\s+\d+\b", 0.8),
    ]
    CONTEXT = ["address", "lives", "resides", "street", "home"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        """The patterns on the text, then the capitalised patterns on lower-case stretches (`lower_case_streets`)."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        if self.supported_entities[0] in entities:
            for start, end in lower_case_streets(text, self._lower_case_patterns()):
                if not self.invalidate_result(text[start:end]):
                    results.append(self.result(start, end, 0.6, "address (lower case)", "capitalised view"))
        return results

    @classmethod
    def _lower_case_patterns(cls) -> list:
        if "_LOWER" not in cls.__dict__:
            # (the European pattern takes lower-case street words itself)
            names = {"address (number street suffix)", "address (number, words, number)"}
            cls._LOWER = [re.compile(p.regex, CASE_SENSITIVE) for p in cls.PATTERNS if p.name in names]
        return cls._LOWER

    def invalidate_result(self, pattern_text: str) -> bool:
        """ "120 Potassium 4", "37.7 HR 99": numbers around clinical words are results, not an address, unless
        a unit follows ("5100 Quadra 104\n Suite 845")."""
        via = re.match(r"(?i:via)[ ]+(.+?)[ ]*,?[ ]*(\d[\d/-]*)", pattern_text)
        if via:
            # "via ALS 10/14", "via Med flight 8/17": in notes "via" is the English preposition; a street has no
            # abbreviation for a name and no date for a house number ("Via Garibaldi 12", "Via del Monte 3").
            words = re.findall(r"\p{L}+", via.group(1))
            date = re.match(r"(?:0?[1-9]|1[0-2])[/-](?:0?[1-9]|[12]\d|3[01])(?![\d])", via.group(2))
            transport = any(w.lower() in _TRANSPORT or re.fullmatch(_MONTH, w, re.IGNORECASE) for w in words)
            caps = any(w.isupper() and len(w) <= 5 for w in words)
            if date or caps or transport or is_clinical_term(words[0] if words else ""):
                return True
        abbreviated = re.match(r"\d+[ ]+(?i:r|av|c/|ul|str)\.?[ ]+(.+?)[ ]+\d+[a-zA-Z]?$", pattern_text)
        if abbreviated:
            # "5670 r josé a madeira 1", not "4 r leg 3": a word that is no English and no clinical word
            from clinical.deid.lexicons import is_english_word

            words = re.findall(r"\p{L}+", abbreviated.group(1))
            return not any(not is_english_word(w) and not is_clinical_term(w) for w in words)
        inner = re.fullmatch(r"\d+[A-Za-z]?[ ]+(.+?)[ ]+\d+[a-zA-Z]?(,?\s+.*)?", pattern_text, flags=re.DOTALL)
        if not inner or inner.group(2):
            return False
        return is_clinical_phrase(inner.group(1)) or inner.group(1).isupper()


_NOT_INITIALS = (
    r"(?!(?i:md|rn|np|pa|ct|ed|er|ems|or|icu|pt|ot|sw|cm|gi|gu|id|ir|us|mri|cxr|ekg|ecg|eeg|tte|tee|kub|pcp|hcp|vna"
    r"|cna|pca|rt|rrt|slp|mrn|cv|nc|ra|po|iv|ok|npo|bm|uo|hd|prn|dnr|dni|cmo|afb|abg|vbg|ms|ns|lr|na|nad|wnl|dob"
    r"|ssn|bp|hr|sat|tid|bid|qd|qid|hs|ac|pc|am|pm)\b)"
)
"""Two or three letters a note writes for what they mean, not as someone's initials ("by CT", a last line "NC")."""

_LOWER_CREDENTIAL = (
    r"(?i:rn|r\.n\.|md|m\.d\.|np|lpn|rt|pa(?:-c)?|bsn|rrt|sn|msw|lcsw|licsw|rcp|pharmd|dpt|rd|otr(?:/l)?)"
    r"(?![\p{L}\d\-])"
)
"""Credentials after a name in any case ("t. wang, lcsw", "c. hernandez, m.d.", "june king pa-c")."""


class LabelledNameRecognizer(ClinicalPatternRecognizer):
    """Names in the fields notes label: "Patient: Lee, Lisa", "Attending: Dr. Joseph", "Signed by Ann
    Ng, RN", and names after a title ("Dr. Levy", "Mrs. O'Neil"). The label itself is kept."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE
    _NAME_WORD = (
        r"(?!(?:Dr|Mr|Mrs|Ms|Miss|Prof|Rev|Fr|MD|DO|RN|NP|PA|PhD|MBBS|DDS|LPN|LVN|CNA|RT|RRT|BSN|MSN|APRN|FNP|CRNA"
        r"|DNP)\b)"
        # ALL-CAPS notes: the function words after a name are not part of it ("WIFE MARY IN TO VISIT").
        r"(?!(?:IN|TO|AT|ON|OF|RE|AND|OR|THE|IS|WAS|FOR|WITH|BY|AS|AN|IF|SO|NO|NOT|PT|ALSO|AWARE|HERE|WILL|HAS"
        r"|HAD|CALLED|VISITED|VISITING|UPDATED|AT|FROM|ABOUT|PER|RN|MD)\b)"
        r"(?!(?:Physician|Surgeon|Provider|Service|Team|Staff)\b)"
        rf"(?!(?i:{_MONTH})\.?[ ]?\d)"  # "Dr Ashley Dean June 12th": a month before a day is no name word
        r"\p{Lu}[\p{L}'’\-]+"
    )
    _NAME = rf"{_NAME_WORD}(?:,[ ]?{_NAME_WORD})?(?:[ ]\p{{Lu}}\.?(?![\p{{L}}']))?(?:[ ]{_NAME_WORD}){{0,2}}"
    # Any-case words after "my name is" / "named" (chat-like and dictated text drops capitals).
    _ANY_WORD = (
        r"(?!(?i:is|was|and|the|a|an|to|in|on|at|of|for|from|with|who|he|she|but|has|had|when|if|back|you|your"
        r"|me|this|that|it|please|asap|now|later|again|tomorrow|today|here|there)\b)\p{L}[\p{L}'’\-]+(?![\p{L}'’\-])"
    )
    _CREDENTIALS = (
        r"(?:MD|M\.D\.|DO|RN|R\.N\.|BSN|MSN|NP|APRN|FNP|ANP|ACNP|PA|PA-C|LPN|LVN|CNA|RT|RRT|PT|OT|SLP|PharmD|MSW|LCSW"
        r"|CRNA|DNP|PhD|MBBS|DDS|RD|CCRN|SN|LICSW|RCP|DPT|OTR/L|OTR|COTA|PTA|LDN|CCC-SLP)(?![\p{L}\d])"
    )
    _RELATIVE = (
        r"(?i:wife|husband|spouse|partner|son|daughter|mother|father|mom|dad|sister|brother|niece|nephew|aunt"
        r"|uncle|cousin|grandson|granddaughter|grandmother|grandfather|friend|neighbou?r|caregiver|guardian"
        r"|fianc[eé]e?|boyfriend|girlfriend|stepson|stepdaughter|son-in-law|daughter-in-law|sister-in-law"
        r"|brother-in-law|dtr|dau|hcp|proxy|poa|nok|significant[ ]other|s\.?o\.|gf|bf|grandchild|granddau"
        r"|stepmother|stepfather|roommate|landlord|pastor|chaplain|priest|rabbi|imam|deacon|reverend|minister"
        r"|interpreter|translator|visitor|neice"
        r"|kid|kids|child|baby|grandkid|twin|sons|daughters|sisters|brothers|children|grandchildren|grandsons"
        r"|granddaughters|nieces|nephews|parents|friends|cousins)"
    )
    _ROLE = (
        r"(?i:resident|fellow|intern|attending|rn|md|np|pa|sw|cm|rt|nurse|student|rd|slp|pt|ot|liaison|front[ ]desk"
        r"|rn[ ]cm|case[ ]manager|renal|cardiology|ortho|pharmacy|pharmd)"
    )
    # "Rev." and "Fr." only with their dot ("16 Fr Foley" is a catheter size).
    _TITLE = r"(?:(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Atty|Rev)\.?|Fr\.)"
    _LABEL = (
        r"(?i:patient(?:[ ]name)?|pt|name|attending|physician|provider|pcp|resident|surgeon|nurse|"
        r"referring(?:[ ]physician)?|(?:electronically[ ])?signed(?:[ ]by)?|dictated[ ]by|dictating|cc|"
        r"mother|father|wife|husband|spouse|son|daughter|guardian|contact|emergency[ ]contact|anesthesiologist"
        r"|anesthesia|asst|assist|assistant|caller|taken[ ]by|req(?:uested)?[ ]by|referral[ ]by)"
    )
    PATTERNS = [
        Pattern("name after a field label", rf"(?<=\b{_LABEL}[ \t]*[:\-][ \t]*(?:Dr\.?[ ])?){_NAME}", 0.85),
        Pattern("name after a title", rf"(?<=\b{_TITLE}[ ]?)(?:\p{{Lu}}\.[ ]?)?{_NAME}", 0.85),
        Pattern(
            "name after 'my name is' / 'named'",
            rf"(?<=\b(?i:(?:my|his|her|their|maiden|last|first|full)[ ]name[ ](?:is|was)|named|naming|call[ ]me"
            rf"|(?:is|was)[ ]called|goes[ ]by|dear|hi|hello|thank[ ]you|thanks)[ ,:]+){_ANY_WORD}(?:[ ]{_ANY_WORD})?"
            rf"(?![ ]\p{{L}})",
            0.6,
        ),
        Pattern(
            "name after 'my name is' (capitalised)",
            rf"(?<=\b(?i:(?:my|his|her|their|maiden|last|first|full)[ ]name[ ](?:is|was)|named|call[ ]me"
            rf"|(?:is|was)[ ]called|dear)[ ,:]+){_NAME}",
            0.7,
        ),
        Pattern("name after a relative", rf"(?<=\b{_RELATIVE}(?:'s)?[ ]?[,(]?[ ]?)(?:\p{{Lu}}\.[ ]?)?{_NAME}", 0.55),
        Pattern(
            "name after 'signed by' / 'given to'",
            rf"(?<=\b(?i:(?:(?:electronically[ ])?(?:co-?)?signed|dictated|transcribed|seen|examined|evaluated|reviewed"
            r"|authored|attested)[ ]by|(?:report[ ])?given[ ]to|discussed[ ]with|spoke[ ]with)"
            rf"[ ](?:Dr\.?[ ])?){_NAME}",
            0.6,
        ),
        Pattern(
            "name after a lower-case title",
            rf"(?=\p{{L}})(?<![\p{{L}}\d'’\-])"
            rf"(?<=\b(?:(?i:dr|mr|mrs|ms|mx|prof|atty|rev)\.[ ]?|(?i:dr|atty|rev)[ ]|(?:[Mm]rs?|[Mm]s)[ ]))"
            rf"(?:\p{{L}}\.[ ]?)?{_ANY_WORD}(?:[ ]\p{{L}}\.)?"
            rf"(?:[ ]{_NAME_WORD})?",
            0.6,
        ),
        Pattern(
            "name field, any case",
            rf"(?<=\b(?i:(?:patient|full|first|last|maiden)[ ])?(?i:name)[ \t]*:[ \t]*){_ANY_WORD}"
            rf"(?:,?[ ](?:\p{{L}}\.?|{_ANY_WORD})){{0,3}}(?=[ \t]*(?:\n|$|,|;)|[ ]{{2,}}|\t)",
            0.7,
        ),
        # "patient: stein, june  mrn: ...", "pt: paul  mrn": after "patient:" only words of the name lists.
        Pattern(
            "name after 'patient:', any case",
            rf"(?<=\b(?i:patient|pt)[ \t]*:[ \t]*){_ANY_WORD}(?:,?[ ](?:\p{{L}}\.?|{_ANY_WORD})){{0,2}}"
            rf"(?=[ \t]*(?:\n|$|,|;)|[ ]{{2,}}|\t)",
            0.6,
        ),
        Pattern("name before credentials", rf"{_NAME}(?=,?[ ]{_CREDENTIALS})", 0.75),
        # "call Summer (son) at ...": a name before a relative in brackets.
        Pattern("name before a relative in brackets", rf"{_NAME}(?=[ ]?\((?:{_RELATIVE}|{_ROLE})(?:/\w+)?\))", 0.7),
        # "tc from lily kelly (niece/hcp)", "glen (neighbor) in braintree".
        Pattern(
            "lower-case name before a relative in brackets",
            rf"(?<![\p{{L}}\d'’\-])\p{{Ll}}[\p{{Ll}}'’\-]+(?:[ ]\p{{Ll}}[\p{{Ll}}'’\-]+)?"
            rf"(?=[ ]?\((?:{_RELATIVE}|{_ROLE})(?:/\w+)?\))",
            0.55,
        ),
        # "--cc rn", "signed bh rn p# 83905", "sm rn" alone on its line: a nurse's initials.
        Pattern(
            "initials before a credential",
            r"(?=\p{Ll}{2,3}[ ](?i:rn|md|np|lpn|sn)\b)"
            r"(?<=(?:^[ \t]*(?:-{1,2}[ ]?)?|[ \t]-{1,2}[ ]?|\bsigned[ ]|\bto[ ]))"
            r"\p{Ll}{2,3}(?=[ ](?i:rn|md|np|lpn|sn)\b)",
            0.5,
        ),
        # "Walker began writing", "Rose called to check on pt", "selma is from": one or two name words before
        # what people do (checked by `_name_words_ok`: every word a listed name or of a name's shape).
        Pattern(
            "name before a person verb",
            r"(?<![\p{L}\d'’\-])\p{L}[\p{Ll}'’\-]+(?:[ ]\p{L}[\p{Ll}'’\-]+)?"
            r"(?=[ ](?:lives|lived|resides|is[ ]from|was[ ]from|was[ ]born|began|said|says|states|stated|reports"
            r"|reported|called|visited|phoned|spoke|asked|told|agreed|consented|declined|arrived)\b)",
            0.5,
        ),
        # "osh rn rebecca wells", "fellow regina", "case manager sarah aware" (a surname after it is taken by
        # the engine's `extend_lower_case_names`).
        Pattern(
            "lower-case name after a role",
            r"\b(?i:rn|np|md|sw|cm|pa|rt|wocn|resident|fellow|intern|attending|nurse|case[ ]manager"
            r"|social[ ]worker|lawyer|attorney|atty\.?|rev\.?|pharmacist|chaplain|priest|pastor|pca|tech|sitter"
            r"|coordinator|contact|naming|obtained[ ]from|(?:pt|patient)[ ]with)"
            r"(?![\p{L}\d'’\-])[ ](?P<name>(?:\p{Ll}\.[ ]?)?\p{Ll}[\p{Ll}'’\-]+(?:[ ]\p{Ll}[\p{Ll}'’\-]+)?)"
            r"(?![\p{L}\d'’\-])",
            0.55,
        ),
        # "- thuy rn", "douglas rn pgr 9-3909", "--jg rn".
        Pattern(
            "lower-case name before a credential",
            r"(?<![\p{L}\d'’\-])(?:\p{Ll}\.[ ]?)?\p{Ll}[\p{Ll}'’\-]+(?:,?[ ]\p{Ll}[\p{Ll}'’\-]+)?(?:[ ]\p{Ll}\.)?"
            rf"(?=,?[ ]{_LOWER_CREDENTIAL})",
            0.55,
        ),
        # "father lewis at bedside", "wife olive", "chaplain ford", "husband deepak price".
        Pattern(
            "lower-case name after a relative",
            rf"\b{_RELATIVE}(?![\p{{L}}'’\-])[ ]?[,(]?[ ]?(?P<name>(?:\p{{Ll}}\.[ ]?)?\p{{Ll}}[\p{{Ll}}'’\-]+"
            r"(?:[ ]\p{Ll}[\p{Ll}'’\-]+)?)(?![\p{L}\d'’\-])",
            0.55,
        ),
        # A signature line: "--jill tucker rn", "- Heidi page at #99529", "--kg rn".
        Pattern(
            "name on a signature line",
            r"(?<=^[ \t]*-{1,2}[ \t]?)\p{L}[\p{L}'’\-]*(?:[ ]\p{L}\.?(?=[ ]))?(?:[ ]\p{L}[\p{L}'’\-]+)?",
            0.55,
        ),
        # "... notified. -ellen rn", "--June (RN)", "--RN Stephanie": a name after a dash that ends the line.
        Pattern(
            "name in a dash signature",
            r"(?:^|(?<=[ \t]))-{1,2}[ ]?(?:RN[ ])?(?P<name>(?:\p{L}\.[ ]?)?\p{L}[\p{L}'’\-]*(?:[ ]\p{L}[\p{L}'’\-]+)?"
            r"(?:[ ]\p{L}\.)?)"
            r"(?=,?[ ]?(?:\(?(?i:rn|md|np|sn|lpn|rrt|rt|pt|ot)\)?(?:[ ](?i:bsn|ccrn))?)?[ \t]*(?:\n|$))",
            0.55,
        ),
        # "sister's name is karen", "wife's name is Ann".
        Pattern(
            "name after 'X's name is'",
            r"(?<=\b\p{L}+['’]s[ ]name[ ](?:is|was)[ ])\p{L}[\p{L}'’\-]+(?:[ ]\p{Lu}[\p{L}'’\-]+)?",
            0.6,
        ),
        # "S: June Waters, 96yo, bed 12" (handoffs), "Wade Fisher, 91 y/o".
        Pattern(
            "name before an age",
            rf"{_NAME}(?=(?:,[ ]?|[ ](?:is|was)[ ]an?[ ])\d{{1,3}}[ ]?-?(?i:yo|y/o|y\.o\.|year|yr)\b)",
            0.7,
        ),
        # "transfer note: young, lewis is a 67 yo man", "pt turner, 103 yo": the same in lower case.
        Pattern(
            "lower-case name before an age",
            r"(?<![\p{L}\d'’\-])\p{Ll}[\p{Ll}'’\-]+(?:,?[ ]\p{Ll}[\p{Ll}'’\-]+)?"
            r"(?=(?:,[ ]?|[ ](?:is|was)[ ]an?[ ])\d{1,3}[ ]?-?(?i:yo|y/o|y\.o\.|year|yr)\b)",
            0.55,
        ),
        # "Resident May notified", "oncoming RN Will", "SW Ivy following", "Cards fellow Sky aware".
        Pattern(
            "name after a role",
            rf"\b(?:(?-i:RN|LPN|NP|PA|MD|SW|CM|RT|RRT|CNA)|(?i:resident|fellow|intern|attending"
            rf"|nurse|case[ ]manager|social[ ]worker|charge[ ]nurse|nutritionist|dietitian|pharmacist|therapist|lawyer"
            rf"|attorney|hospitalist|intensivist|covering(?:[ ]MD)?|oncoming(?:[ ]RN)?|PCA|pca|tech|sitter|coordinator"
            rf"|liaison|[Cc]ontact|(?:pt|patient)[ ]with))(?![\p{{L}}]):?[ ]"
            rf"(?P<name>(?=\p{{Lu}}(?:\p{{Ll}}|\.))(?:\p{{Lu}}\.[ ]?)?{_NAME})",
            0.6,
        ),
        # "pt Mark c/o", "Pt Sterling Waller found", "pt christopher extubated": a name right after "pt" at the start
        # of a line (checked strictly: "pt denies", "pt pat found" stay; "Pt May be" is a verb).
        Pattern(
            "name after 'pt' at a line start",
            r"(?:^|(?<=\n))[ \t]*(?i:pt|patient)[ ](?!(?i:may|will|can|must|might|should|would|could)\b)"
            r"(?P<name>\p{L}[\p{Ll}'’\-]+(?:[ ]\p{L}[\p{Ll}'’\-]+)?)(?=[ ,])",
            0.5,
        ),
        # "-am rn", "--er rn" ending the line: initials in a dash signature, whatever word they spell.
        Pattern(
            "initials in a dash signature",
            r"(?:^|(?<=[ \t]))-{1,2}[ ]?(?P<name>\p{Ll}{2,3})(?=[ ](?i:rn|md|np|lpn|sn)[ \t]*(?:\n|$))",
            0.55,
        ),
        # "Seen by ortho (S.P.)", "seen by renal (HLR)": a consultant's initials in brackets after "by <service>".
        Pattern(
            "initials in brackets after a service",
            r"(?<=\b(?i:by)[ ]\p{L}+[ ]\()(?:(?:\p{L}\.[ ]?){1,3}|\p{L}{2,3})(?=\))",
            0.55,
        ),
        # A note that ends with its author's initials on their own line ("\nfsb", "\nB. A.", "\nNC  pager 548").
        Pattern(
            "initials ending the note",
            rf"(?<=\n)[ \t]*{_NOT_INITIALS}(?P<name>(?:\p{{L}}\.[ ]?){{1,3}}|\p{{L}}{{2,3}})[ \t]*"
            r"(?=\n*\Z|[ \t]+(?i:pager|pgr)\b)",
            0.5,
        ),
        # "placed in rm 14, A. M. to see", "Rec'd 9/8/16 by GR", "by E.W.": initials after "by" or before "to see".
        Pattern(
            "initials before 'to see' or after 'by'",
            r"(?<=,[ ])(?:(?:\p{L}\.[ ]?){1,3}|\p{L}{2,3})(?=[ ]to[ ]see\b)"
            rf"|(?<=\b(?i:by)[ ]){_NOT_INITIALS}(?:(?:\p{{Lu}}\.[ ]?){{1,3}}|\p{{Lu}}{{2,3}})"
            r"(?=[ \t]*(?:\n|$|,))",
            0.5,
        ),
        # "Brown, Whitney / 98F", "Torres, Georgia (56F)", "Brown (47M) adm": a name before an age and sex.
        Pattern(
            "name before an age and sex",
            rf"{_NAME}(?=[ ]?(?:/|\(|-)[ ]?\d{{1,3}}[ ]?(?:[MFmf]|yo[mf]?)\b)",
            0.6,
        ),
        # "partner M. by phone", "grandson k. (works at ...)", "brother S. and": an initial after a relative.
        Pattern(
            "initial after a relative",
            rf"\b{_RELATIVE}(?![\p{{L}}'’\-])[ ]?[,(]?[ ]?(?P<name>\p{{L}}\.)(?=[ ,;:)]|$)",
            0.5,
        ),
        # "consent signed by bill", "confirmed by Summer", "updated by duc at bedside".
        Pattern(
            "lower-case name after an action by",
            r"\b(?i:signed|confirmed|updated|verified|witnessed|notified|paged|reviewed|obtained|checked)[ ]by[ ]"
            r"(?P<name>(?:\p{L}\.[ ]?)?\p{L}[\p{Ll}'’\-]+(?:[ ]\p{L}[\p{Ll}'’\-]+)?)(?![\p{L}\d'’\-])",
            0.5,
        ),
        # "/douglas 1-30 1500", "Signed: /june": a name after a slash that signs the line.
        Pattern(
            "name in a slash signature",
            r"(?:^[ \t]*|(?i:signed):?[ ])/(?P<name>\p{L}[\p{Ll}'’\-]+(?:[ ]\p{L}[\p{Ll}'’\-]+)?)"
            r"(?=[ \t]*(?:\d|\n|$))",
            0.55,
        ),
        # "Julia / js for Dr. Small", "Chase / mw for dr white": the author, the transcriber's initials, "for".
        Pattern(
            "name before a transcriber's initials",
            r"(?<![\p{L}\d'’\-])\p{L}[\p{Ll}'’\-]+(?:[ ]\p{L}[\p{Ll}'’\-]+)?"
            r"(?=[ ]?/[ ]?(?:\p{L}{2,3}|(?:\p{L}\.){2,3})[ ]for\b)",
            0.55,
        ),
        Pattern("transcriber's initials", r"(?<=\S[ ]?/[ ]?)(?:\p{L}{2,3}|(?:\p{L}\.){2,3})(?=[ ]for\b)", 0.5),
        # "DW JOB#: 3778014", "K.D. JOB#: 9640-4481": the transcriber's initials before a dictation job number.
        Pattern(
            "initials before a job number",
            r"(?:^|(?<=[ \t]))(?:\p{L}\.?){2,3}(?=[ ]+(?i:job)[ ]?#)",
            0.55,
        ),
        Pattern(
            "initials before credentials",
            rf"\b(?:\p{{Lu}}\.[ ]?){{1,3}}(?:\p{{Lu}}[\p{{L}}'’\-]+)?(?=,?[ ]{_CREDENTIALS})",
            0.7,
        ),
    ]
    CONTEXT = ["patient", "name", "dr", "attending", "signed"]
    # After a title a capitalised word is a name even when it is also an English or clinical word ("Dr. Wood",
    # "Dr. Lake", "Mr. Long"): only label and function words are not ("Dr. Note", "Dr. At").
    _TITLE_WORD = re.compile(rf"(?=\p{{Lu}}\p{{Ll}})(?<=\b{_TITLE}[ ])\p{{Lu}}\p{{Ll}}[\p{{Ll}}'’\-]*(?![\p{{L}}\d])")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        """Each pattern's matches, filtered by how strong its cue is (`_invalid`), and a title-case word after a
        title that no pattern took ("Dr. Lake")."""
        results = []
        for pattern in self.patterns:
            if not pattern.compiled_regex:
                pattern.compiled_regex = re.compile(pattern.regex, flags=self.global_regex_flags)
                pattern.compiled_with_flags = self.global_regex_flags
            prefilter = _NAME_RULES.get(pattern.name, _WEAK_CUE).prefilter
            if prefilter is not None and prefilter.search(text) is None:
                continue  # the pattern's cue is nowhere in the note: skip a scan that tries every word
            named = "name" in pattern.compiled_regex.groupindex
            for m in pattern.compiled_regex.finditer(text):
                if named:
                    m = _NameGroup(m)  # the cue is matched, the name group is the span
                span = self._span(pattern.name, m) if m.end() > m.start() else None
                if span is not None:
                    results.append(self.result(*span, pattern.score, pattern.name, pattern.regex))
        covered = [(r.start, r.end) for r in results]
        for m in self._TITLE_WORD.finditer(text):
            if _title_name_word(m.group(0)) and not any(s <= m.start() < e for s, e in covered):
                results.append(self.result(m.start(), m.end(), 0.85, "word after a title", self._TITLE_WORD.pattern))
        return results

    def _span(self, pattern_name: str, m) -> tuple[int, int] | None:
        # The span a match gives under its pattern's rule (`_NAME_RULES`), or None.
        rule = _NAME_RULES.get(pattern_name, _WEAK_CUE)
        if rule.check == "cue only":
            return m.start(), m.end()
        if rule.check == "initials":
            return (m.start(), m.end()) if _initials_ok(m.group(0)) else None
        if rule.check in ("person", "strict person"):
            strict = rule.check == "strict person"
            trimmed = _person_words(m.group(0), from_end=rule.cue_after, strict=strict)
            return None if trimmed is None else (m.start() + trimmed[0], m.start() + trimmed[1])
        return None if self._invalid(m.group(0), rule.check == "strong cue") else (m.start(), m.end())

    @staticmethod
    def _invalid(value: str, strong: bool) -> bool:
        # "Mother: Breast cancer" is no name. After a weak cue (a relative, "signed by") a clinical or
        # function word counts only when every word is a title-case name of the lists ("sister June",
        # "brother-in-law Gene"); after a strong one, when some word is ("ATTENDING: June Lake, MD",
        # "A. Lake RT", "NAME: MAY, SKY").
        if not is_clinical_phrase(value):
            return False
        if not strong:
            return not _listed_title_case(value)
        from clinical.deid.lexicons import listed_name_words

        names = listed_name_words()
        return not (re.match(r"\p{Lu}\.", value) or any(w.lower() in names for w in re.findall(r"\p{L}{2,}", value)))


@dataclass(frozen=True)
class _NameRule:
    """How `LabelledNameRecognizer` checks what one of its patterns matched.

    :param check: "weak cue" (a clinical or function word only when every word is a title-case name of the
        lists: "sister June"), "strong cue" (a field label, a title, credentials, an age: a clinical or function
        word only when some word is a listed name), "person" (the longest run of words `_name_words_ok`
        accepts, any listed name word among them), "strict person" (the same, a lower-case word only when it is
        listed and no English word), "initials" (two or three letters that are no word a note uses there) or
        "cue only" (the cue alone decides: the initials before a dictation "JOB#").
    :param cue_after: the cue follows the name, so a "person" run is kept up to the end of the match.
    :param prefilter: a cheap search for the pattern's cue: no match, no scan of a pattern that tries every word.
    """

    check: str = "weak cue"
    cue_after: bool = False
    prefilter: re.Pattern | None = None


_WEAK_CUE = _NameRule()
_SLASH_INITIALS = re.compile(r"/[ ]?(?:\p{L}{2,3}|(?:\p{L}\.){2,3})[ ]for\b")
_NAME_RULES: dict[str, _NameRule] = {
    "name after a field label": _NameRule("strong cue"),
    "name after a title": _NameRule("strong cue"),
    "name field, any case": _NameRule("strong cue"),
    "name before credentials": _NameRule("strong cue"),
    "initials before credentials": _NameRule("strong cue"),
    "name before an age": _NameRule("strong cue"),
    "name before a relative in brackets": _NameRule("strong cue"),
    "name after a lower-case title": _NameRule("strong cue"),
    "name after 'patient:', any case": _NameRule("person"),
    "lower-case name before an age": _NameRule(
        "person", cue_after=True, prefilter=re.compile(r"\d[ ]?-?(?i:yo|y/o|y\.o\.|year|yr)\b")
    ),
    "name after 'pt' at a line start": _NameRule(
        "strict person", prefilter=re.compile(r"^[ \t]*(?:pt|patient)[ ]", re.IGNORECASE | re.MULTILINE)
    ),
    "name before a person verb": _NameRule(
        "strict person",
        cue_after=True,
        prefilter=re.compile(
            r"[ ](?:lives|lived|resides|is[ ]from|was[ ]from|was[ ]born|began|said|says|states|stated|reports"
            r"|reported|called|visited|phoned|spoke|asked|told|agreed|consented|declined|arrived)\b"
        ),
    ),
    "lower-case name after a role": _NameRule("person"),
    "lower-case name before a credential": _NameRule(
        "person", cue_after=True, prefilter=re.compile(rf"[ ]{_LOWER_CREDENTIAL}")
    ),
    "name on a signature line": _NameRule("person"),
    "name in a dash signature": _NameRule("person", prefilter=re.compile(r"(?:^|[ \t])-", re.MULTILINE)),
    "name after 'X's name is'": _NameRule("person"),
    "lower-case name after a relative": _NameRule("person"),
    "lower-case name before a relative in brackets": _NameRule(
        "person", cue_after=True, prefilter=re.compile(r"\((?i:[a-z]+)(?:[/ ]\w+)?\)")
    ),
    "lower-case name after an action by": _NameRule("person"),
    "name in a slash signature": _NameRule("person", prefilter=re.compile(r"(?:^|[ \t])/\p{L}", re.MULTILINE)),
    "name before a transcriber's initials": _NameRule("person", cue_after=True, prefilter=_SLASH_INITIALS),
    "initials before a credential": _NameRule("initials", prefilter=re.compile(r"[ ](?i:rn|md|np|lpn|sn)\b")),
    "transcriber's initials": _NameRule("initials", prefilter=_SLASH_INITIALS),
    "initials before a job number": _NameRule("cue only", prefilter=re.compile(r"(?i:job)[ ]?#")),
    "initials in brackets after a service": _NameRule("initials", prefilter=re.compile(r"(?i:by)[ ]\p{L}+[ ]\(")),
    "initials ending the note": _NameRule("initials"),
    "initials before 'to see' or after 'by'": _NameRule("initials"),
    "name before an age and sex": _NameRule("strong cue"),
    "initials in a dash signature": _NameRule("cue only", prefilter=re.compile(r"(?:^|[ \t])-", re.MULTILINE)),
}
"""Each `LabelledNameRecognizer` pattern's rule; a pattern not listed has a weak cue."""


class _NameGroup:
    """A regex match seen through its "name" group (start, end, group(0)): patterns that match their cue
    instead of looking behind for it at every position."""

    def __init__(self, match) -> None:
        self._match = match

    def start(self) -> int:
        return self._match.start("name")

    def end(self) -> int:
        return self._match.end("name")

    def group(self, index: int = 0) -> str:
        return self._match.group("name") if index == 0 else self._match.group(index)


def _person_words(value: str, from_end: bool, strict: bool = True) -> tuple[int, int] | None:
    # (start, end) in `value` of the longest run of words that `_name_words_ok` accepts, kept from the
    # start of `value` (a cue before it) or from its end (a cue after it); an initial ("j.") rides along.
    words = [(m.start(), m.end()) for m in re.finditer(r"\p{L}[\p{L}'’\-]*\.?", value)]
    for n in range(len(words), 0, -1):
        part = words[-n:] if from_end else words[:n]
        text = value[part[0][0] : part[-1][1]]
        names = [w for w in text.split() if not re.fullmatch(r"\p{L}\.", w)]
        if names and _name_words_ok(" ".join(names), strict):
            return part[0][0], part[-1][1]
    return None


def _initials_ok(value: str) -> bool:
    # A nurse's initials before a credential: any two or three letters that are no word a note uses there.
    from clinical.deid.lexicons import FUNCTION_WORDS

    return value not in FUNCTION_WORDS and value not in _NOT_A_PERSON_BEFORE_VERB


def _name_words_ok(value: str, strict: bool = True) -> bool:
    # Before "states", "called", "began": every word a word of the name lists that is no function word,
    # relative, role or clinical term ("Rose", "Walker", "selma"), or a word of a name's shape ("Ciset").
    # All-lower-case candidates need a listed name that is no English word ("selma", not "pharmacy").
    from clinical.deid.lexicons import FUNCTION_WORDS, is_english_word, listed_name_words, person_names

    words = value.replace(",", " ").split()
    names = listed_name_words()
    for word in words:
        key = word.lower()
        if key in FUNCTION_WORDS or key in _NOT_A_PERSON_BEFORE_VERB or is_clinical_term(key):
            return False
        if word.islower():
            # A listed name that is no English word ("selma", "jankowski"), a word of a name's shape ("thuy"), or
            # a surname of the lists next to another name word ("jill tucker").
            parts = key.split("-")
            if len(parts) > 1 and all(part in names for part in parts if part):
                continue  # "martinez-rose", "jean-pierre": every part a name of the lists
            listed = key in person_names() and not is_english_word(key)
            # After a strong cue (a role, a relative, a credential, a signature dash) any listed name word.
            lenient = not strict and key in names
            if not (listed or lenient or is_unknown_proper_word(word) or (len(words) > 1 and key in names)):
                return False
        elif not word[0].isupper() or not (key in names or is_unknown_proper_word(word)):
            return False
    return True


_NOT_A_PERSON_BEFORE_VERB = frozenset(
    """patient pt pts family resident fellow intern attending nurse rn md np pa team surgery pharmacy rehab
    nursing security radiology lab cardiology neurology case manager social worker sw cm rt pt ot speech
    chaplain interpreter everyone someone nobody he she they who which it this that there here then also osh
    night day icu micu sicu ccu csru ed er floor charge primary covering oncoming my your the aware notified paged
    called new call states said says visiting living passed deceased alive well home present made informed ok okay
    agrees agreed following followed saw seen wrote ordered gave given spoke came still now today tonight just already
    again page pager paging paged consulted consult beeper cell phone rrt lpn sn msw lcsw licsw rcp cna bsn
    pharmd dpt otr rd ldn cota pta""".split()
)

_NOT_A_FIRST_NAME = frozenset({"brady"})
"""Common first names that notes write as clinical shorthand ("brady" for bradycardia)."""

_NOT_NAME_AFTER_TITLE = frozenset(
    "note notes office visit visits order orders team service aware called paged notified updated".split()
)


def _title_name_word(word: str) -> bool:
    # A title-case word after "Dr."/"Mr."/"Rev." is a name unless it is a function or label word that no
    # name list holds ("Dr. Note", "Dr. At"); months and "May", "Will" are names there.
    from clinical.deid.lexicons import FUNCTION_WORDS, listed_name_words

    key = word.lower()
    if key in _NOT_NAME_AFTER_TITLE:
        return False
    return key not in FUNCTION_WORDS or key in listed_name_words()


def _listed_title_case(span_text: str) -> bool:
    # Every word title-case ("June", not "JUNE" or "june") and a word of some locale's name list.
    from clinical.deid.lexicons import listed_name_words

    words = re.findall(r"\p{L}[\p{L}'’\-]*", span_text)
    names = listed_name_words()
    return bool(words) and all(len(w) > 1 and w[0].isupper() and w[1:].islower() and w.lower() in names for w in words)


class ContextNameRecognizer(ClinicalPatternRecognizer):
    """Names after what notes do with people: "spoke with Anna", "paged Kowalski", "per Ortiz",
    "updated Jamie", "notified dr ramos", "accompanied by Lee Ann". Weaker cues than a field label or a
    title, so a candidate made only of ordinary English, clinical or function words ("called
    Pharmacy", "per Protocol") is dropped unless the name gazetteer lists one of its words."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE
    _NAME = LabelledNameRecognizer._NAME
    _ANY_WORD = LabelledNameRecognizer._ANY_WORD
    _CUE = (
        r"(?i:(?:spoke|spoken|talked|talking|met|meeting|discussed|d/w|conversation|call|phone[ ]call|conference"
        r"|consulted|checked|agreed|reviewed)[ ](?:with|w/|to)|(?:w/|with)[ ](?:dr\.?[ ])?(?=\p{Lu})"
        r"|called|paged|notified|updated|informed|contacted|texted|messaged|emailed|reached|told|asked|aware:?"
        r"|per|accompanied[ ]by|visited[ ]by|brought[ ]in[ ]by|picked[ ]up[ ]by|relieved[ ]by|covered[ ]by"
        r"|covering[ ]for|handed[ ]off[ ]to|report[ ]to|endorsed[ ]to|care[ ]of|attn:?|cc:?|signed:?)"
    )
    PATTERNS = [
        Pattern("name after an action cue", rf"(?<=\b{_CUE}[ ](?:(?i:dr|mr|mrs|ms)\.?[ ])?){_NAME}", 0.5),
        Pattern(
            "lower-case name after a relative or an action cue",
            # the value starts a word (tested first: the look-behind is costly)
            rf"(?<![\p{{L}}'’\-])(?<=\b(?:{LabelledNameRecognizer._RELATIVE}|{_CUE})(?:'s)?[ ]?[,(]?[ ]?)"
            r"\p{Ll}[\p{Ll}'’\-]{2,}"
            r"(?![\p{L}'’\-])",
            0.5,
        ),
        Pattern(
            "name before 's and a relative",
            rf"(?<![\p{{L}}'’\-])\p{{L}}[\p{{L}}\-]+(?=['’]s[ ]{LabelledNameRecognizer._RELATIVE}\b)",
            0.5,
        ),
        Pattern(
            "speaker label of a transcript",
            r"(?<=^[ \t]*)\p{L}[\p{L}'’\-]+(?=[ \t]*:[ \t]*[\"“])",
            0.5,
        ),
        Pattern(
            "name after a title without a dot, any case",
            rf"(?<=\b[Dd]r[ ])(?!(?i:and|or|to|in|on|at|of|for|with|is|was|aware|notified|paged|called|updated"
            rf"|here|note|order|orders|team|office|said|says|wants|will|would)\b){_ANY_WORD}"
            rf"(?:[ ]\p{{Lu}}[\p{{L}}'’\-]+)?",
            0.5,
        ),
    ]
    CONTEXT = ["spoke", "called", "paged", "notified", "updated"]

    def invalidate_result(self, pattern_text: str) -> bool:
        """A candidate made only of English, clinical or function words, none of them a listed name, is no
        name ("called Pharmacy", "per Report", "to Bed")."""
        from clinical.deid.lexicons import common_first_names, is_english_word, person_names

        words = re.findall(r"\p{L}[\p{L}'’\-]*", pattern_text)
        if not words or all(w.isupper() and len(w) <= 4 for w in words):
            return True
        names = person_names()
        common = common_first_names() - _NOT_A_FIRST_NAME
        # A common US first name that is also a clinical or function word is a name after a cue ("husband
        # ray", "called Bill", "wife April"); other clinical words are not ("per Protocol").
        if is_clinical_phrase(pattern_text) and not all(w.lower() in common for w in words):
            return True
        if pattern_text.islower():
            # "wife mary", "husband ray", "spoke with tomasz": a common US first name, or a listed name that
            # is no English word.
            return not all(w in common or (w in names and not is_english_word(w)) for w in words)
        # "called Pharmacy" is no name; "called Bill", "updated Mark" are (common US first names).
        return all(is_english_word(w) and w.lower() not in names and w.lower() not in common for w in words)


class ContextPlaceRecognizer(ClinicalPatternRecognizer):
    """Hospitals, facilities and towns after a transfer cue: "transferred from Beth Israel", "sent to
    Spaulding Rehab", "came from Lowell". Units and services ("transferred to MICU", "to Floor") are
    dropped as ContextNameRecognizer drops ordinary words: a candidate of English, clinical or function
    words only, none of them in the name gazetteer, is no place."""

    ENTITY = "LOCATION"
    FLAGS = CASE_SENSITIVE
    PATTERNS = [
        Pattern(
            "place after a transfer cue",
            r"(?<=\b(?i:transferred|transfer(?:red)?|tx'?d|sent|admitted|came|arrived|returned|discharged|d/c'?d"
            r"|brought|flown|med[ ]?flighted|ambulanced|accepted)[ ](?i:from|to|at|in)[ ](?:the[ ])?)"
            r"(?:St\.[ ]|Saint[ ])?\p{Lu}[\p{L}'’\-]+(?:[ ](?:of[ ])?\p{Lu}[\p{L}'’\-]+){0,3}",
            0.5,
        ),
    ]
    CONTEXT = ["transferred", "from", "hospital"]

    def invalidate_result(self, pattern_text: str) -> bool:
        """Units, services and ordinary words ("MICU", "Floor", "Medicine") are no place."""
        words = re.findall(r"\p{L}[\p{L}'’\-]*", pattern_text)
        if all(w.isupper() and len(w) <= 5 for w in words):
            return True
        if re.sub(r"^the\s+", "", pattern_text.lower().strip(" .,")) in _ALLOWED_PLACES:
            return True
        return ContextNameRecognizer.invalidate_result(self, pattern_text)


class NameShapeRecognizer(CodeRecognizer):
    """Capitalised words that are no English word, no clinical word and no allowed place: in notes such a
    word is nearly always a name ("Nishiyama", "Gelencsér") or a place smaller than a state. English
    words come from the WordNet lemma index the spaCy pipeline ships (`lexicons.english_words`); clinical
    words from `lexicons.clinical_vocabulary()` and CLINICAL_TERMS (nursing shorthand included). A word
    the note also writes in lower case, an eponym ("Foley catheter") and a word before a dose stay.

    :param supported_language: language code of the notes.
    """

    ENTITIES = ["PERSON"]
    _WORD = re.compile(r"(?<![\p{L}\d'’\-])\p{Lu}\p{Ll}[\p{Ll}'’]+(?:-\p{L}[\p{Ll}'’]+)?(?![\p{L}\d])")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """PERSON results for capitalised words that are neither English nor clinical (offsets only)."""
        results = []
        lower_words: set[str] | None = None
        doc = getattr(nlp_artifacts, "tokens", None)
        for m in self._WORD.finditer(text):
            word = m.group(0)
            if len(word) < 4 or not is_unknown_proper_word(word):
                continue
            # At the start of a sentence or line any word is capitalised: there spaCy's tagger must call
            # it a proper noun; inside a sentence the capital letter says so.
            opening = re.search(r"(?:^|[.!?:;\n>\"(]\s*)$", text[max(0, m.start() - 3) : m.start()]) is not None
            if opening and doc is not None and not self._proper_noun(doc, m.start(), m.end()):
                continue
            if lower_words is None:
                lower_words = {w for w in re.findall(r"(?<![\p{L}])\p{Ll}[\p{Ll}'’\-]+", text)}
            following = text[m.end() : m.end() + 80]
            if word.lower() in lower_words or _EPONYM_FOLLOWERS.match(following) or _DOSE_FOLLOWS.match(following):
                continue
            results.append(RecognizerResult("PERSON", m.start(), m.end(), 0.5))
        return results

    @staticmethod
    def _proper_noun(doc, start: int, end: int) -> bool:
        # spaCy's tagger tells "Histopathologic examination" (JJ) and "Although" (IN) from a name (NNP);
        # a word that opens a sentence as the subject of a verb ("Tomomi is", "Trivo lives") is one too.
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is None or any(t.tag_ in ("NNP", "NNPS") or t.ent_type_ in ("PERSON", "GPE") for t in span):
            return True
        following = doc[span.end] if span.end < len(doc) else None
        return following is not None and following.tag_ in ("VBZ", "VBD", "MD")


_MEDICAL_PREFIXES = (
    "trans",
    "endo",
    "histo",
    "pharmaco",
    "intra",
    "inter",
    "multi",
    "immuno",
    "haemo",
    "hemo",
    "micro",
    "neuro",
    "cardio",
    "gastro",
    "hepato",
    "nephro",
    "pneumo",
    "pulmo",
    "broncho",
    "thoraco",
    "myo",
    "peri",
    "para",
    "post",
    "pre",
    "sub",
    "supra",
    "hyper",
    "hypo",
    "anti",
    "electro",
    "echo",
    "angio",
    "osteo",
    "derm",
    "onco",
    "cyto",
    "patho",
    "radio",
    "retro",
    "mini",
)
_MEDICAL_ENDINGS = ("ic", "al", "ial", "ous", "gram", "graphy", "type", "oses", "ism", "ive", "ary", "ated", "ation")


def is_unknown_proper_word(word: str) -> bool:
    """True when a capitalised word is no English word, no clinical word, no function or common word,
    no drug by its suffix and no state or country: the shape of a name or a small place.

    :param word: one word.
    """
    from clinical.deid.lexicons import FUNCTION_WORDS, clinical_vocabulary, is_english_word
    from clinical.deid.residual import COMMON_WORDS

    lower = word.lower().replace("’", "'")
    key = re.sub(r"(?:'s|'re|'ll|'ve|'d|'m|n't)$", "", lower)
    parts = key.split("-")
    vocabulary = clinical_vocabulary()
    if any(p in vocabulary or p in FUNCTION_WORDS or p in _ALLOWED_PLACES for p in parts):
        return False
    if key.endswith(_MEDICAL_SUFFIXES) or (len(key) > 5 and key.endswith(DRUG_SUFFIXES)):
        return False
    if word in COMMON_WORDS or is_clinical_term(word):
        return False
    # Medical word formation ("Transesophageal", "Immunophenotype", "Petechial") is no name.
    if len(key) >= 8 and key.startswith(_MEDICAL_PREFIXES) and key.endswith(_MEDICAL_ENDINGS):
        return False
    return not any(is_english_word(p) for p in parts)


_FACILITY_WORD = re.compile(
    r"(?:Hospital|Cent(?:er|re)|Clinic|Infirmary|Hospice|Home|Facility|Rehab|House|Manor|Lodge|Senior[ ]Life"
    r"|VNA|NH)"
)


class FacilityLocationRecognizer(ClinicalPatternRecognizer):
    """Hospital and facility names ("Mercy General Hospital", "St. Mary's Medical Center", "Oak Grove
    Nursing Home") and cities written with their state ("Springfield, IL", "Austin, Texas"): places
    smaller than a state. spaCy calls facilities ORG, which the policy does not report."""

    ENTITY = "LOCATION"
    FLAGS = CASE_SENSITIVE
    _WORD = r"(?:St\.|Saint|\p{Lu}[\p{L}'’\-]+)"
    PATTERNS = [
        Pattern(
            "facility name",
            rf"\b{_WORD}(?:[ ](?:of[ ]|the[ ])?{_WORD}){{0,4}}"
            r"[ ](?:Hospital|Medical[ ]Cent(?:er|re)|Health[ ]Cent(?:er|re)"
            r"|Clinic|Infirmary|Hospice|Nursing[ ](?:Home|Facility)|Rehab(?:ilitation)?[ ](?:Center|Hospital|Facility)"
            r"|Care[ ]Cent(?:er|re)|Health[ ]System|Healthcare|Skilled[ ]Nursing[ ]Facility|Assisted[ ]Living"
            r"|Rehab|House|Manor|Lodge|Senior[ ]Life|VNA|NH)\b",
            0.6,
        ),
        # "likely to Adams-Marshfield", "from Newton-Wellesley": a hyphenated proper name after a place cue.
        Pattern(
            "hyphenated facility after a place cue",
            r"(?=\p{Lu}\p{Ll}+-\p{Lu})(?<=\b(?i:to|from|at|for|by|in)[ ])"
            r"\p{Lu}\p{Ll}+(?:-\p{Lu}\p{Ll}+)+(?![\p{L}\d-])",
            0.5,
        ),
        Pattern(
            "city before a state",
            r"\b\p{Lu}[\p{L}.'’\-]+(?:[ ]\p{Lu}[\p{L}.'’\-]+){0,2}"
            rf"(?=,[ ]?(?:{_STATE_CODES}|{'|'.join(US_STATES)})\b(?![\p{{L}}]))",
            0.6,
        ),
        Pattern(
            "facility (X General, X Memorial)",
            r"\b(?:St\.[ ]|Saint[ ])?\p{Lu}[\p{L}'’\-]+(?:[ ]\p{Lu}[\p{L}'’\-]+)?[ ](?:General|Memorial)\b"
            r"(?![ ](?:Surgery|Medicine|Pediatrics|Anesthesia|Appearance|Condition|Health|Practice|Practitioner))",
            0.5,
        ),
        Pattern(
            "place after a home cue",
            r"(?<=\b(?i:lives|living|resides|residing|resident[ ]of|native[ ]of|moved[ ](?:to|from)|born[ ]in"
            r"|grew[ ]up[ ]in|home[ ]in|house[ ]in|apartment[ ]in|is[ ]from|was[ ]from|comes[ ]from|visiting[ ]from"
            r"|called[ ]from|calling[ ]from|driving[ ](?:in[ ])?from|drove[ ](?:in[ ])?from|flew[ ](?:in[ ])?from"
            r"|flying[ ](?:in[ ])?from|lives[ ](?:near|outside(?:[ ]of)?)|works[ ]in|family[ ]in"
            r"|vacation(?:ing)?[ ]in|trip[ ]to)(?:[ ](?i:in|at|on))?[ ])"
            r"(?!(?:Home|Hospice|Rehab|Nursing|Assisted|Skilled|Medicine|Surgery|Floor|Unit|ICU|House)\b)"
            r"\p{Lu}[\p{L}'’.\-]+(?:[ ]\p{Lu}[\p{L}'’.\-]+){0,2}",
            0.5,
        ),
    ]
    CONTEXT = ["hospital", "transferred", "from", "lives", "in"]

    _PROPER = frozenset({"general", "memorial", "community", "regional", "university", "county", "st", "saint"})

    def invalidate_result(self, pattern_text: str) -> bool:
        """Clinical words before the facility word ("Heart Failure Clinic", "Ventricular Septum, LA") make
        no place, unless a word that names an institution is among them ("Day General Hospital")."""
        if re.sub(r"^the\s+", "", pattern_text.lower().strip(" .,")) in _ALLOWED_PLACES:
            return True  # states and countries stay under Safe Harbor ("moved from Ohio")
        if "-" in pattern_text and any(is_clinical_term(part) for part in pattern_text.split("-")):
            return True  # "Guillain-Barre", "Wolff-Parkinson-White"
        words = {w.lower() for w in re.findall(r"\p{L}+", pattern_text)}
        suffix = _FACILITY_WORD.search(pattern_text)
        head_text = pattern_text[: suffix.start()] if suffix and suffix.start() > 0 else pattern_text
        if suffix and suffix.group(0).isupper() and not re.search(r"\p{Ll}", head_text):
            return True  # "PT OT ED", "MICU ER": abbreviations, not "Cambridge VNA"
        if words & self._PROPER or not is_clinical_phrase(head_text):
            return False
        # "Cross Nursing Home", "Little House": a surname before the facility word ("Heart Failure Clinic" is none).
        from clinical.deid.lexicons import listed_name_words

        head = re.findall(r"\p{Lu}\p{Ll}+", pattern_text)[:1]
        surname = bool(head) and head[0].lower() in listed_name_words() and head[0].lower() not in CLINICAL_TERMS
        return not (suffix and surname)


class LabelledAddressRecognizer(ClinicalPatternRecognizer):
    """The value of an "Address:" field up to the end of the line, whatever its street suffix."""

    ENTITY = "STREET_ADDRESS"
    PATTERNS = [Pattern("address field", r"(?<=\b(?:home[ ])?address[ \t]*:[ \t]*)[^\s][^\n]{2,150}", 0.85)]
    CONTEXT = ["address"]


class HealthPlanNumberRecognizer(ClinicalPatternRecognizer):
    """Health-plan beneficiary numbers: labelled member/policy/Medicaid ids and Medicare MBIs."""

    ENTITY = "HEALTH_PLAN_NUMBER"
    PATTERNS = [
        Pattern(
            "health plan (labelled)",
            _DIGIT_AHEAD
            + r"(?<=\b(?:(?:member|subscriber|beneficiary|policy|insurance|insurer|health\s+plan|plan|group)"
            r"\s*(?:id|number|num|no\.?|#)|medicaid|medicare|masshealth|HICN|MBI)" + _ID_LABEL_TAIL + ")" + _ID_VALUE,
            0.9,
        ),
        Pattern(
            "health plan (Medicare MBI)",
            r"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9]\d-?"
            r"[AC-HJKMNP-RT-Y]{2}\d{2}\b",
            0.5,
        ),
    ]
    CONTEXT = ["insurance", "medicare", "medicaid", "member", "policy", "plan", "beneficiary"]


class AccountNumberRecognizer(ClinicalPatternRecognizer):
    """Account numbers next to a label ("account #", "acct no", "billing", "invoice")."""

    ENTITY = "ACCOUNT_NUMBER"
    PATTERNS = [
        Pattern(
            "account (labelled)",
            _DIGIT_AHEAD
            + r"(?<=\b(?:account|acct|a/c|billing|invoice|bank\s+account|routing|encounter|visit\s+id)"
            + _ID_LABEL_TAIL
            + ")"
            + _ID_VALUE,
            0.9,
        ),
    ]
    CONTEXT = ["account", "acct", "billing", "invoice", "bank"]


class LicenseNumberRecognizer(ClinicalPatternRecognizer):
    """Certificate and licence numbers next to a label (licence, certificate, DEA, NPI, passport),
    and DEA registration numbers by their shape."""

    ENTITY = "LICENSE_NUMBER"
    PATTERNS = [
        Pattern(
            "license (labelled)",
            _DIGIT_AHEAD
            + r"(?<=\b(?:(?:driver'?s?\s+)?licen[sc]e|lic\.?|certificate|cert\.?|DEA|NPI|registration|permit|passport)"
            + _ID_LABEL_TAIL
            + ")"
            + _ID_VALUE,
            0.85,
        ),
        Pattern("license (DEA shape)", r"\b[ABFGMPRX][A-Z]\d{7}\b", 0.5),
    ]
    CONTEXT = ["license", "licence", "certificate", "dea", "npi", "passport"]


class LabelledIdRecognizer(ClinicalPatternRecognizer):
    """Any other unique identifying number or code written after an id label: "ID: 7731-AX",
    "reference number is 55-1234", "case #A7731", "badge no. 4471". The value needs a digit and at
    least four characters, so "number 3" or "ID negative" stay."""

    ENTITY = "ID_NUMBER"
    PATTERNS = [
        Pattern(
            "id (after an id label)",
            r"(?=[A-Za-z0-9-]*\d)(?<=\b(?:id|identifier|number|no\.|num|ref(?:erence)?|case|badge|ticket|claim|order|specimen|accession"
            r"|requisition|confirmation|tracking|employee|student|voucher|job|dictation|transcription)"
            r"(?:\s*(?:number|no\.?|num|#|id)\s*[:#=]?|\s*(?:is\b|[:#=]))\s*#?\s*)"
            r"(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,24}\b",
            0.6,
        ),
        Pattern(
            "id (hash-numbered)",
            r"(?<=\b(?:case|badge|ticket|claim|order|specimen|accession|requisition|confirmation|tracking|employee"
            r"|student|voucher)\s*#\s*)[A-Za-z0-9-]{4,25}\b",
            0.6,
        ),
    ]
    CONTEXT = ["id", "identifier", "number", "reference"]


class VehicleIdRecognizer(ClinicalPatternRecognizer):
    """Vehicle identifiers: 17-character VINs and labelled licence plates."""

    ENTITY = "VEHICLE_ID"
    PATTERNS = [
        Pattern("vehicle (VIN)", r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b", 0.6),
        Pattern(
            "vehicle (plate)",
            r"(?=[A-Z0-9-]*\d)(?<=\b(?:licen[sc]e\s+plate|plate(?:\s*(?:number|no\.?|#))?|tag\s*(?:number|no\.?|#))(?:\b|(?<=[#.]))\s*[:#]?\s*)"
            r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{1,8}(?:[ ][A-Z0-9]{2,4}\b(?<=\d))?\b",
            0.85,
        ),
    ]
    CONTEXT = ["vin", "vehicle", "plate", "car"]


class DeviceIdRecognizer(ClinicalPatternRecognizer):
    """Device identifiers and serial numbers next to a label (serial, S/N, UDI, device id, IMEI)."""

    ENTITY = "DEVICE_ID"
    PATTERNS = [
        Pattern(
            "device (labelled)",
            r"(?=[A-Z0-9-]*\d)(?<=\b(?:serial|s/n|SN|UDI|IMEI|device\s*(?:id|identifier)|implant)"
            + _ID_LABEL_TAIL
            + r")"
            r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{3,29}\b",
            0.85,
        ),
    ]
    CONTEXT = ["serial", "device", "pacemaker", "implant", "udi"]


CLINICAL_TERMS: frozenset[str] = frozenset(
    """
    bid tid qid qd qod qhs qam qpm prn po iv im sc sq sl pr od os ou npo stat ac pc hs q1h q2h q3h q4h q6h
    q8h q12h q24h qday dob mrn ssn ekg ecg eeg emg cbc bmp cmp lft lfts hba1c a1c ldl hdl tsh inr pt ptt aptt
    ct cta mri mra pet us cxr kub icu picu nicu ed er or pacu copd chf cad htn dm t2dm ckd esrd aki uti gi gu
    ent bp hr rr spo2 o2 bmi bun wbc rbc hgb hct plt esr crp bnp ast alt alp ggt ldh ana anca psa cea afp
    hiv hcv hbv hpv ebv cmv rsv covid sars nsaid nsaids ssri ppi ace arb dvt pe mi cva tia afib gerd ibd ibs
    mg mcg ml kg mmol meq iu units tab tabs cap caps dr ms mr mrs pa np rn md do phd
    metformin insulin lisinopril losartan amlodipine atorvastatin simvastatin rosuvastatin pravastatin
    warfarin coumadin heparin enoxaparin lovenox apixaban eliquis rivaroxaban xarelto dabigatran pradaxa
    clopidogrel plavix aspirin tylenol acetaminophen paracetamol ibuprofen motrin advil naproxen aleve
    furosemide lasix hydrochlorothiazide hctz spironolactone metoprolol carvedilol atenolol propranolol
    digoxin amiodarone diltiazem verapamil nitroglycerin levothyroxine synthroid prednisone prednisolone
    methylprednisolone dexamethasone hydrocortisone omeprazole pantoprazole protonix esomeprazole nexium
    ranitidine famotidine pepcid ondansetron zofran metoclopramide reglan morphine oxycodone percocet
    hydrocodone vicodin norco fentanyl dilaudid hydromorphone tramadol gabapentin neurontin pregabalin lyrica
    sertraline zoloft fluoxetine prozac citalopram escitalopram lexapro paroxetine trazodone bupropion
    wellbutrin quetiapine seroquel olanzapine risperidone haloperidol haldol lorazepam ativan diazepam
    valium alprazolam xanax clonazepam klonopin zolpidem ambien albuterol ventolin proair fluticasone
    advair symbicort tiotropium spiriva montelukast singulair amoxicillin augmentin azithromycin zithromax
    doxycycline ciprofloxacin cipro levofloxacin levaquin ceftriaxone rocephin cefazolin cephalexin keflex
    vancomycin piperacillin zosyn meropenem metronidazole flagyl clindamycin bactrim nitrofurantoin macrobid
    fluconazole diflucan acyclovir valacyclovir valtrex oseltamivir tamiflu remdesivir paxlovid glipizide
    glyburide glimepiride januvia sitagliptin jardiance empagliflozin farxiga dapagliflozin ozempic
    semaglutide trulicity dulaglutide victoza liraglutide lantus humalog novolog levemir tresiba
    allopurinol colchicine methotrexate humira adalimumab remicade infliximab enbrel etanercept
    rituximab keytruda pembrolizumab tamoxifen letrozole anastrozole sinemet levodopa carbidopa donepezil
    aricept memantine namenda lithium depakote valproate keppra levetiracetam lamotrigine lamictal
    phenytoin dilantin tegretol carbamazepine topiramate topamax sumatriptan imitrex epinephrine
    norepinephrine levophed vasopressin dopamine dobutamine propofol midazolam versed ketamine potassium
    sodium calcium magnesium phosphate bicarbonate albumin creatinine bilirubin troponin lactate ferritin
    glucose hemoglobin platelets platelet lipase amylase
    parkinson parkinsons crohn crohns alzheimer alzheimers hodgkin hodgkins hashimoto raynaud sjogren kawasaki
    guillain barre wegener behcet kaposi burkitt marfan tourette asperger meniere hirschsprung romberg babinski
    doppler gram echo gait speech renal candida gadolinium salmonella tuberculin staphylococcus streptococcus
    pseudomonas klebsiella clostridium mycobacterium aspergillus escherichia enterococcus
    email e-mail phone telephone tel fax pager cell mobile address name patient date zip member account
    neuro neuros resp resps cardiac pulm lytes abx vanco vanc levo neo neosynephrine neosynepherine fent dilt
    tele foley foleys dobhoff picc piccs aline tlc cvl ganz ivf ivfs prbc prbcs ffp kphos naphos abd abdo
    extrem extrems tmax tmin afeb afebrile bili trop trops gtt gtts tfs tpn ppn ngt ogt ett trach sbt rsbi
    abg abgs vbg tte tee ptca cabg nstemi stemi cvvh cvvhd cvvhdf crrt kayexalate zosyn cefepime levaquin
    diflucan colace senna dulcolax miralax protonix fsbs riss ssi guaiac dispo pmh hpi oob hob bsc dnr dni
    cmo ivpb tyl oxy mso4 precedex nimbex vec perrla perl mae dopplerable dopp palp pleurx hemovac mepilex
    duoderm allevyn cont contd cont'd con't neb nebs atrovent combivent duoneb xopenex solumedrol medrol
    repleted replete repletion lopressor toprol hydral ntg pressors pressor levophed vaso dobut dopa milrinone
    braden morse glasgow ramsay steri-strips steristrips hem onc heme-onc ortho cards neurosurg nsurg
    swan-ganz ganz quinton yankauer bair hugger posey xeroform aquacel hickman hoyer kardex coags pyxis
    cordis swan flexiseal
    passy muir pleurevac sengstaken blakemore accucheck accuchecks accuchek tegaderm roho mediport portacath
    groshong broviac penrose cortrak omnicell alaris optifoam santyl silvadene kerlix telfa adaptic coban
    ace-wrap ted teds scds jp's mepitel aquaphor sarna eucerin criticaid baza calmoseptine desitin
    apgar amio lido dig carbo cis lovenox zocor lipitor norvasc coreg integ heme endo psych psychosocial lines
    drains labs meds
    vitals resp'y sats satting desat desats desatted sxn sxned sx'd suctioned suctioning hemodynamically
    hemodyn afib aflutter nsr brady tachy bradycardic tachycardic svt vtach vfib pvcs pacs pvc pac
    trendelenberg trendelenburg ivab ivp lactated ringers dextrose d5w d5ns d51/2ns ns lr prn's meds' vss
    rhonchorous rhonchi anasarca mottled mottling cyanotic diaphoretic
    tolerating tol'd tol'ing titrated titrating weaned weaning extubated intubated reintubated trached peg'd
    osh micu sicu ccu csru tsicu nicu picu pacu cvicu neuroicu ambu snf ltac ltach vna pcp rns mds cna pct
    rts slp nsg hospitalist intensivist housestaff nepro jevity osmolite glucerna peptamen vivonex nutren
    pulmocare twocal novasource isosource impact probalance respalor promod beneprotein
    """.split()
)
"""Lower-case words that are never a name or place in a note, whatever spaCy says: abbreviations,
drugs, labs, eponyms that name a disease on their own, organisms and form labels ("Email:")."""

DRUG_SUFFIXES: tuple[str, ...] = (
    "pril",
    "sartan",
    "olol",
    "statin",
    "mab",
    "nib",
    "azole",
    "cillin",
    "mycin",
    "floxacin",
    "prazole",
    "dipine",
    "tidine",
    "parin",
    "xaban",
    "gliptin",
    "glutide",
    "gliflozin",
    "formin",
    "azepam",
    "zolam",
    "oxetine",
    "triptan",
    "ciclovir",
    "cyclovir",
    "navir",
    "tegravir",
    "asone",
    "olone",
    "afil",
    "caine",
    "dronate",
    "lukast",
    "terol",
    "tropium",
    "semide",
    "thiazide",
    "profen",
    "oxacin",
    "cycline",
    "sporin",
    "tinib",
    "ximab",
    "zumab",
    "umab",
    "platin",
    "rubicin",
    "taxel",
    "vudine",
    "setron",
)

_EPONYM_FOLLOWERS = re.compile(
    r"^(?:[-–][A-Z]\w*)*(?:['’]s)?(?:\s+[a-z]+(?=\s+(?:test|sign|stain|staining|disease|syndrome)\b))?"
    r"\s*(?:disease|syndrome|sign|test|reflex|score|scale|criteria|classification|procedure"
    r"|operation|maneuver|manoeuvre|lymphoma|sarcoma|tumou?r|palsy|phenomenon|disorder|dementia|ulcer"
    r"|hernia|fracture|type|stage|grade|catheter|tube|shunt|nodes?|bod(?:y|ies)|cells?|duct|canal|space"
    r"|triad|law|equation|formula|index|thyroiditis|encephalopathy|chorea|anomaly|cysts?|glands?|fistula"
    r"|diverticulum|esophagus|tremor|ataxia|staging|incision|position|solution|stain|method|block"
    r"|regimen|protocol|ileitis|colitis|arteritis|lesions?|aneurysm|zone|virus|bacill\w*|agar|medium|stain(?:ing)?"
    r"|silver|positive|negative|ultrasound|ultrasonography|echocardiography|imaging|flow|exercises?|effect"
    r"|hypothesis|spots?|nodules?|fibers?|fibres?|bundle|membrane|artery|vein|ligament|muscle|nerve|hospital"
    r"|clinic|university|institute|medical|center|centre|foundation)\b",
    re.IGNORECASE,
)
_MEDICAL_SUFFIXES = (
    "itis",
    "osis",
    "emia",
    "aemia",
    "ectomy",
    "otomy",
    "ostomy",
    "oscopy",
    "ography",
    "ology",
    "pathy",
    "plasty",
    "thorax",
    "algia",
    "uria",
    "plegia",
    "paresis",
    "trophy",
    "plasia",
    "megaly",
    "rrhea",
    "rrhage",
    "genic",
    "cardia",
    "ptysis",
    "cele",
    "lysis",
    "sclerosis",
    "ataxia",
    "ataxias",
)
_DOSE_FOLLOWS = re.compile(r"\s*\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|units?|iu|%|mmol|meq)\b", re.IGNORECASE)
_ALLOWED_PLACES = frozenset(
    [s.lower() for s in US_STATES]
    + [c.lower() for c in FAKER_COUNTRIES]
    + ["usa", "u.s.a", "u.s", "us", "uk", "united states", "united states of america", "america", "england"]
)
"""Places Safe Harbor lets stay: states and countries (it removes subdivisions smaller than a state)."""


def is_clinical_phrase(span_text: str) -> bool:
    """True when every word of a span is a clinical or function word (`lexicons.clinical_vocabulary`):
    "Breast", "Chest Pain", "Negative" after a label are no names.

    :param span_text: the text of a candidate name.
    """
    from clinical.deid.lexicons import FUNCTION_WORDS, clinical_vocabulary

    vocabulary = clinical_vocabulary()
    words = [w.lower() for w in re.findall(r"\p{L}+", span_text)]
    return bool(words) and all(w in vocabulary or w in FUNCTION_WORDS for w in words)


def is_clinical_term(span_text: str) -> bool:
    """True when a span predicted as a name or place is a clinical word (drug, eponym, abbreviation).

    :param span_text: the text of the predicted span.
    """
    words = [w.strip(".,;:()'’").lower() for w in span_text.split()]
    words = [w[:-2] if w.endswith(("'s", "’s")) else w for w in words if w]
    if not words:
        return True
    return any(w in CLINICAL_TERMS or (len(w) > 5 and w.endswith(DRUG_SUFFIXES)) for w in words)


class ClinicalNerRecognizer(SpacyRecognizer):
    """spaCy PERSON and LOCATION predictions, minus clinical words.

    Drops a span that holds a digit, starts in lower case, is a clinical term (`is_clinical_term`),
    is followed by an eponym word ("Parkinson disease", "Crohn's disease") or a dose ("Lasix 40 mg"),
    is an upper-case abbreviation of at most four letters ("EF", "LA"), is a one-word common noun or
    adjective, and LOCATION spans that are US states or countries (Safe Harbor allows both).

    :param supported_language: language code of the notes.
    :param ner_strength: score given to spaCy predictions.
    """

    ENTITIES = ["PERSON", "LOCATION"]

    def __init__(self, supported_language: str = "en", ner_strength: float = 0.85) -> None:
        super().__init__(
            supported_language=supported_language,
            supported_entities=list(self.ENTITIES),
            ner_strength=ner_strength,
            name=type(self).__name__,
        )

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """Run spaCy's recognizer, then drop the predictions that are clinical words."""
        results = [self._trim(text, r) for r in super().analyze(text, entities, nlp_artifacts)]
        doc = getattr(nlp_artifacts, "tokens", None)
        words = _LowerCaseWords(text)
        return [r for r in results if self._keep(text, r, doc, words)]

    @staticmethod
    def _trim(text: str, result: RecognizerResult) -> RecognizerResult:
        # spaCy runs an abbreviation into the name next to it ("HCP Mei", "RT NOTE"): an all-caps word of at most
        # four letters at either end that no name list holds ("JOHN SMITH" and "M. Romero" keep both) leaves the span.
        from clinical.deid.lexicons import listed_name_words

        words = [m.span() for m in re.finditer(r"\S+", text[result.start : result.end])]
        names = listed_name_words()

        def abbreviation(span: tuple[int, int]) -> bool:
            word = text[result.start + span[0] : result.start + span[1]].strip(".,:;")
            return word.isupper() and 2 <= len(word) <= 4 and word.lower() not in names  # initials stay

        while len(words) > 1 and abbreviation(words[0]):
            words.pop(0)
        while len(words) > 1 and abbreviation(words[-1]):
            words.pop()
        # a word left alone that is an abbreviation ("RT NOTE" -> "NOTE") is dropped by `_keep`
        start, end = result.start + words[0][0], result.start + words[-1][1]
        if (start, end) == (result.start, result.end):
            return result
        return RecognizerResult(
            result.entity_type, start, end, result.score, result.analysis_explanation, result.recognition_metadata
        )

    @staticmethod
    def _keep(text: str, result: RecognizerResult, doc, words: _LowerCaseWords | None = None) -> bool:
        span = text[result.start : result.end]
        letters = span.replace(".", "").replace(" ", "")
        # spaCy's small model calls many lower-case clinical words and lab codes ("CD138") names.
        if not span or any(c.isdigit() for c in span) or not span[0].isupper():
            return False
        if letters.isupper() and len(letters) <= 4:
            return False
        if is_clinical_term(span):
            return False
        # Extend over a hyphenated compound ("Epstein-Barr virus") before looking at what follows.
        compound = re.match(r"(?:[-–][A-Z]\w*)*", text[result.end : result.end + 60])
        following = text[result.end + (compound.end() if compound else 0) : result.end + 60]
        preceding = text[max(0, result.start - 30) : result.start]
        if _EPONYM_FOLLOWERS.match(following) or _DOSE_FOLLOWS.match(following):
            return False
        if re.search(r"[A-Z]\w*[-–]$", preceding) and _EPONYM_FOLLOWERS.match(following):
            return False
        if result.entity_type == "LOCATION" and re.sub(r"^the\s+", "", span.lower().strip(" .,")) in _ALLOWED_PLACES:
            return False
        if " " not in span.strip():
            return _keep_single_word(text, span, result.start, doc, words)
        return True


class _LowerCaseWords:
    """Whether a note writes a word in lower case as a whole word (not inside a longer word or a
    hyphenated compound), answered from one pass over the note instead of one search per word."""

    _RUN = re.compile(r"[\w-]+")

    def __init__(self, text: str) -> None:
        self.text = text
        self._runs: frozenset[str] | None = None

    def __contains__(self, lower: str) -> bool:
        if self._RUN.fullmatch(lower) is None:
            return re.search(rf"(?<![\w-]){re.escape(lower)}(?![\w-])", self.text, flags=0) is not None
        if self._runs is None:
            self._runs = frozenset(self._RUN.findall(self.text))
        return lower in self._runs


def _keep_single_word(text: str, word: str, start: int, doc, words: _LowerCaseWords | None = None) -> bool:
    # A one-word "name" with a medical suffix, that the note also writes in lower case ("Gait ...
    # gait ataxia"), or that opens a sentence and is tagged as a common noun or adjective
    # ("Renal function ...") is a clinical word, not a name.
    lower = word.lower()
    if lower.endswith(_MEDICAL_SUFFIXES):
        return False
    if word != lower and lower in (words if words is not None else _LowerCaseWords(text)):
        return False
    if doc is not None and re.search(r"(?:^|[.!?:]\s+|\n\s*)$", text[max(0, start - 4) : start]):
        token_span = doc.char_span(start, start + len(word), alignment_mode="expand")
        if token_span is not None and len(token_span) == 1 and token_span[0].tag_ not in ("NNP", "NNPS"):
            return False
    return True


class NameLexiconRecognizer(CodeRecognizer):
    """Names from a gazetteer: words of Faker's first- and last-name lists of all locales
    (`lexicons.person_names`, clinical and common words removed).

    A title-case or upper-case word of the list is a name unless the note also writes it in lower
    case (then it is an ordinary word there) or an eponym word follows ("Smith fracture"). A
    lower-case word of the list counts only next to another listed word ("olga krylova") or in a
    comma list of them. A match takes in a following initial and capitalised surname that are not
    clinical words ("Juliusz A Kwiatkowski").

    :param supported_language: language code of the notes.
    """

    ENTITIES = ["PERSON"]
    _TOKEN = re.compile(r"(?<![\p{L}\d'’\-])\p{L}[\p{L}'’\-]*(?<!['’\-])(?![\p{L}\d])")
    _TAIL = re.compile(r"(?:[ ]\p{Lu}\.?)?[ ]\p{Lu}[\p{L}'’\-]+(?![\p{L}\d])")
    _JOIN = re.compile(r"(?:[ ]|,[ ]?|[ ]and[ ]|[ ]or[ ])")

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """PERSON results for the listed names in `text` (offsets only)."""
        from clinical.deid.lexicons import FUNCTION_WORDS, clinical_vocabulary, faker_last_names, person_names

        names = person_names()
        # "and"/"or" join names in lists; they are never names themselves.
        tokens = [m for m in self._TOKEN.finditer(text) if m.group(0).lower() not in ("and", "or")]
        keys = [_name_key(m.group(0)) for m in tokens]
        # A hyphenated name counts when each part is listed ("Anne-Lotte", "Smith-Jones").
        listed = [k in names or ("-" in k and all(p in names for p in k.split("-"))) for k in keys]
        lower_words: set[str] | None = None
        results = []
        for i, m in enumerate(tokens):
            if not listed[i]:
                continue
            word = m.group(0)
            if word[0].isupper():
                # Short upper-case words are mostly abbreviations (BAL, LAD, COX): only next to another name.
                short_caps = word.isupper() and len(word) <= 4
                if short_caps and not any(
                    0 <= j < len(tokens) and listed[j] and self._joined(text, tokens[min(i, j)], tokens[max(i, j)])
                    for j in (i - 1, i + 1)
                ):
                    continue
                if lower_words is None:
                    lower_words = {w for w in re.findall(r"(?<![\p{L}])\p{Ll}[\p{Ll}'’\-]+", text)}
                if keys[i] in lower_words or _EPONYM_FOLLOWERS.match(text[m.end() : m.end() + 80]):
                    continue
                score = 0.5
            else:
                neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(tokens) and listed[j]]
                joined = any(self._joined(text, tokens[min(i, j)], tokens[max(i, j)]) for j in neighbours)
                # Alone, a lower-case listed word counts when it is no word of English or medicine ("cormac",
                # "lempi"); it then takes in an unlisted surname or first name of the same kind and an initial
                # between ("olga krylova", "emidio p lombardo").
                if not joined and not (len(keys[i]) >= 4 and is_unknown_proper_word(keys[i])):
                    continue
                start, end = self._lower_case_name(text, m.start(), m.end())
                results.append(RecognizerResult("PERSON", start, end, 0.45))
                continue
            end = m.end()
            tail = self._TAIL.match(text, end)
            if tail:
                vocabulary = clinical_vocabulary()
                last = _name_key(tail.group(0).split()[-1])
                ordinary = is_clinical_phrase(tail.group(0)) or last in vocabulary or last in FUNCTION_WORDS
                # A surname of the lists after a first name, even when it is also a word ("Zoe Young").
                surname = word[0].isupper() and last in faker_last_names() and not is_clinical_term(last)
                if not ordinary or surname:
                    end = tail.end()
            results.append(RecognizerResult("PERSON", m.start(), end, score))
        return results

    def _joined(self, text: str, first, second) -> bool:
        return self._JOIN.fullmatch(text, first.end(), second.start()) is not None

    _LOWER_AFTER = re.compile(r"(?:[ ]\p{Ll}\.?)?[ ](\p{Ll}[\p{Ll}'’\-]*\p{Ll})(?![\p{L}\d'’\-])")
    _LOWER_BEFORE = re.compile(
        r"(?<![\p{L}\d'’\-])(\p{Ll}[\p{Ll}'’\-]*\p{Ll})(?:[ ]|,[ ]?|[ ]and[ ])(?:\p{Ll}\.?[ ])?$"
    )

    def _lower_case_name(self, text: str, start: int, end: int) -> tuple[int, int]:
        from clinical.deid.lexicons import FUNCTION_WORDS, person_names

        names = person_names()
        after = self._LOWER_AFTER.match(text, end)
        if after:
            key = _name_key(after.group(1))
            # After a middle initial any word but a function word is the surname ("codey m ross"); without
            # one, an unlisted word of no language's vocabulary (a listed one gets its own result).
            initial = after.start(1) - after.start() > 1
            if (initial and key not in FUNCTION_WORDS) or (
                key not in names and len(key) >= 4 and is_unknown_proper_word(key)
            ):
                end = after.end()
        before = self._LOWER_BEFORE.search(text, max(0, start - 40), start)
        key = _name_key(before.group(1)) if before else ""
        if before and key not in names and len(key) >= 4 and is_unknown_proper_word(key):
            start = before.start()
        return start, end


def _name_key(word: str) -> str:
    word = word.lower()
    return word[:-2] if word.endswith(("'s", "’s")) else word


PATTERN_RECOGNIZERS: tuple[type[ClinicalPatternRecognizer], ...] = (
    MedicalRecordNumberRecognizer,
    UniqueIdRecognizer,
    ClinicalDateRecognizer,
    AgeOver89Recognizer,
    ClinicalPhoneRecognizer,
    ZipCodeRecognizer,
    StreetAddressRecognizer,
    LabelledNameRecognizer,
    ContextNameRecognizer,
    ContextPlaceRecognizer,
    LabelledAddressRecognizer,
    FacilityLocationRecognizer,
    LabelledIdRecognizer,
    HealthPlanNumberRecognizer,
    AccountNumberRecognizer,
    LicenseNumberRecognizer,
    VehicleIdRecognizer,
    DeviceIdRecognizer,
)
"""Our own pattern recognizers, one per identifier family."""


class PrefilteredUrlRecognizer(UrlRecognizer):
    """presidio's `UrlRecognizer` with the same results, skipped on a note that has no "." before a top-level
    domain. Its four patterns each spell out ~1,000 domains and were the slowest recognizer of the policy
    (about a fifth of all recognizer time on case reports), although most notes hold no URL. Every match of
    theirs holds a letter, digit, "." or "-" and then "." and a domain of their list: a note without that
    can hold no match.

    :param supported_language: language code of the notes.
    """

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(supported_language=supported_language)
        self.name = type(self).__name__
        self._prefilter = re.compile(r"(?i)[a-z0-9.\-]" + _domain_alternation(self.patterns[1].regex))

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        """presidio's URL results, or none when the prefilter finds no "." before a listed domain."""
        if self._prefilter.search(text) is None:
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


def _domain_alternation(pattern: str) -> str:
    # The "[.](?:com|edu|...)" group of presidio's non-schema URL pattern, with its parentheses balanced.
    start = pattern.index("[.](?:")
    depth = 0
    for end in range(start + 3, len(pattern)):
        if pattern[end] == "(" and pattern[end - 1] != "\\":
            depth += 1
        elif pattern[end] == ")" and pattern[end - 1] != "\\":
            depth -= 1
            if depth == 0:
                return pattern[start : end + 1]
    raise ValueError("presidio's URL pattern has no '[.](?:...)' domain group")


PRESIDIO_RECOGNIZERS: tuple[type[EntityRecognizer], ...] = (
    EmailRecognizer,
    IpRecognizer,
    UsSsnRecognizer,
    CreditCardRecognizer,
    IbanRecognizer,
)
"""presidio's own recognizers for identifiers with a fixed shape (used as they are)."""


def build_recognizers(language: str = "en") -> list[EntityRecognizer]:
    """One instance of every recognizer the engine may use (the policy then picks entity types).

    :param language: language code of the notes.
    """
    recognizers: list[EntityRecognizer] = [cls(supported_language=language) for cls in PATTERN_RECOGNIZERS]
    recognizers += [cls(supported_language=language) for cls in PRESIDIO_RECOGNIZERS]
    recognizers.append(ClinicalNerRecognizer(supported_language=language))
    recognizers.append(NameLexiconRecognizer(supported_language=language))
    recognizers.append(NameShapeRecognizer(supported_language=language))
    recognizers.append(PlacePostcodeRecognizer(supported_language=language))
    recognizers.append(StreetNameNumberRecognizer(supported_language=language))
    recognizers.append(AnyCaseIbanRecognizer(supported_language=language))
    recognizers.append(PrefilteredUrlRecognizer(supported_language=language))
    from clinical.deid.places import PLACE_RECOGNIZERS

    recognizers += [cls(supported_language=language) for cls in PLACE_RECOGNIZERS]
    return recognizers


SAFE_HARBOR_COVERAGE: dict[str, tuple[str, ...]] = {
    "names": ("PERSON",),
    "geographic_subdivisions": ("STREET_ADDRESS", "ZIP_CODE", "LOCATION"),
    "dates_and_ages_over_89": ("DATE", "AGE_OVER_89"),
    "telephone_numbers": ("PHONE_NUMBER",),
    "fax_numbers": ("PHONE_NUMBER",),
    "email_addresses": ("EMAIL_ADDRESS",),
    "social_security_numbers": ("US_SSN",),
    "medical_record_numbers": ("MEDICAL_RECORD_NUMBER",),
    "health_plan_beneficiary_numbers": ("HEALTH_PLAN_NUMBER",),
    "account_numbers": ("ACCOUNT_NUMBER", "CREDIT_CARD", "IBAN_CODE"),
    "certificate_license_numbers": ("LICENSE_NUMBER",),
    "vehicle_identifiers": ("VEHICLE_ID",),
    "device_identifiers": ("DEVICE_ID",),
    "urls": ("URL",),
    "ip_addresses": ("IP_ADDRESS",),
    "biometric_identifiers": (),
    "full_face_photographs": (),
    "other_unique_identifiers": ("ID_NUMBER",),
}
"""Each of the 18 Safe-Harbor identifiers -> the entity types that cover it (empty: not covered)."""

SAFE_HARBOR_GAPS: dict[str, str] = {
    "names": "a lower-case name that is an English word or in no Faker locale list, after no label, title, role, "
    "relative or action cue, is missed; a name that is also an English word and in no list, alone at a sentence "
    "start and before no person verb, relies on spaCy; titles and credentials stay outside the name span; "
    "initials count only after a cue (a credential, a dash signature, JOB#, 'by', 'to see', a service in "
    "brackets, the note's last line)",
    "geographic_subdivisions": "a town in prose that is an English word only as spaCy finds it, after a home, "
    "transfer or place cue or in an address block; a facility, employer or church with no facility word and "
    "no cue ('the Sinai', 'Youville') is missed; some national address formats (H.No., Calle ... # 4-32) missed",
    "dates_and_ages_over_89": "a bare m/d or m-d right after a score, setting, vital-sign or lab word stays; a "
    "dotted m.d counts only after a date cue, before a time or after 'admitted ... on'; a dotted day.month.yy "
    "with the day first (25.12.19) is missed (the residual scan flags it); '2/2' before a word is read as "
    "'secondary to'",
    "biometric_identifiers": "not covered: not detectable in text by patterns",
    "full_face_photographs": "not covered: images are outside this text pipeline",
    "other_unique_identifiers": "partial: unlabelled codes with letters and fewer than six digits are missed; "
    "bare digit runs of 7+ only",
    "vehicle_identifiers": "partial: VINs and plates after a label only",
    "device_identifiers": "partial: serial numbers after a label only",
}
"""What is missing or partial per identifier (a later issue completes these)."""
