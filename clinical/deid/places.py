"""Recognizers for facility and town names as ICU notes write them, in any case (see docs/DEID.md, row B).

Notes write places in lower case as often as in title case ("transferred from mount auburn", "at hebrew
rehab in hyde park", "pt's priest from st. brendan's in revere"). Each recognizer here first finds an
anchor with one cheap regex pass (a facility word, a saint or church name, a transfer cue, " in "), then
looks at the few words around it, so no pattern runs a look-behind at every position of a note.

A word qualifies as part of a place name when it is no function word, no clinical term and, when it is
a clinical word (`lexicons.clinical_vocabulary`), a listed name word ("hope", "hill") or a place word
("harbor", "point", "mount"): "cardiac rehab", "acute rehab", "the hospital" stay.

`PLACE_RECOGNIZERS` is registered by `clinical.deid.recognizers.build_recognizers`.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import RecognizerResult

from clinical.deid.recognizers import _ALLOWED_PLACES, CLINICAL_TERMS, CodeRecognizer, is_clinical_term

PLACE_WORDS = frozenset(
    """
    harbor harbour point mount mt saint st holy lady cape bay valley lake river hill hills oak oaks crossing
    park north south east west new fall falls plain plains heights beach village springs spring brook
    glen wood woods pine pines maple elm cedar birch willow crest view ridge meadow meadows field fields
    grove garden gardens green haven rock stone shore island port mill mills forest lakes bridge riverside
    bayside bayview eastside westside northeast northwest southeast southwest golden lakeside hillside seaside
    """.split()
)
"""Words that name places although some are clinical words ("harbor", "point", "crossing")."""

GENERIC_WORDS = frozenset(
    """
    group foster halfway boarding rest day care outpatient inpatient local outside another other same old
    private state city county community probate district superior juvenile housing land teaching affiliated
    nearby previous prior receiving referring transferring skilled assisted senior long term short free walk
    urgent primary sleep pain wound dialysis methadone suboxone detox addiction psych psychiatric mental
    behavioral sober recovery acute subacute cardiac pulmonary stroke physical occupational speech her his
    their our my your its full open safe traffic night weekend court clinic hospital rehab house home manor
    center centre hospice nursing facility general memorial regional medical health unit floor service
    team baseline bedside bed chair icu transfer transport vascular surgical surgery medicine oncology
    infusion anticoagulation coumadin diabetes heart renal kidney liver lung eye dental family law
    covid memory dementia respite hearing office follow patient patients pt today yesterday department
    division section intensive surgical medical neurosurgical neurological trauma burn
    intermediate coronary neonatal pediatric emergency critical visited visit attended
    presented returned entered first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth
    next previous last same each every this that attends attended attend works worked retired volunteers
    volunteered goes went graduated teaches taught
    """.split()
)
"""Ordinary words before a facility word that make no name ("group home", "methadone clinic")."""

_STRONG_FACILITY = (
    r"hospital|medical[ ]cent(?:er|re)|health[ ]cent(?:er|re)|care[ ]cent(?:er|re)|nursing[ ]home"
    r"|skilled[ ]nursing(?:[ ]facility)?|nursing[ ]facility|rehab(?:ilitation)?(?:[ ](?:center|hospital|facility))?"
    r"|manor|hospice|clinic|vna|senior[ ]life|assisted[ ]living|home[ ]care|tabernacle|church|parish|temple"
    r"|synagogue|mosque|chapel|cathedral|ministries|assembly[ ]of[ ]god"
)
# Weak facility words name a place only after a word that names something ("Fenway Community Health",
# "kenmore family practice", "Pine Knoll Nursing"; not "public health", "private practice").
_WEAK_FACILITY = (
    r"house|court|general|memorial|regional|crossing|health|practice|nursing|cent(?:er|re)|associates|partners"
    r"|supply|cardiology|neurology|renal|pulmonary|oncology|nephrology|urology|orthopedics|dermatology|pediatrics"
    r"|college|university|academy|schools?|state|pharmacy|commons|internal[ ]medicine|primary[ ]care|home[ ]health"
    r"|funeral[ ]home"
)
# A run of facility words is one facility word ("Maplewood Nursing Center", "Harbor Health Clinic", "Dedham
# Nursing and Rehabilitation Center").
_FACILITY = re.compile(
    rf"\b(?:{_STRONG_FACILITY}|{_WEAK_FACILITY})(?:[ ](?:and[ ])?(?:{_STRONG_FACILITY}|{_WEAK_FACILITY}))*\b",
    re.IGNORECASE,
)
_STRONG_WORD = re.compile(rf"\b(?:{_STRONG_FACILITY})\b", re.IGNORECASE)
_PASS_THROUGH = frozenset(
    """
    general memorial regional community university county medical family health care nursing renal dialysis
    heart kidney eye dental specialty square primary urgent living senior life public high
    """.split()
)
"""Words between a facility's name and its facility word that the name passes over ("pinecrest general
hospital", "Kenmore Family Practice", "Codman Square Health Center"); alone they name nothing."""
_CHURCH_WORDS = frozenset(
    """
    baptist methodist lutheran presbyterian episcopal catholic evangelical pentecostal congregational orthodox
    apostolic adventist unitarian islamic jewish haitian korean greek african ame zion bethel calvary grace faith
    love greater first united christ trinity
    """.split()
)
"""Words that name a church before a church word ("First Baptist Church", "Greater Love Tabernacle")."""
_SENTENCE_START = re.compile(r"(?:^|[.!?]\s*|\n\s*)$")
_CHURCH = re.compile(r"(?i:tabernacle|church|parish|temple|synagogue|mosque|chapel|cathedral|ministries|assembly)")
# The word before a position: after a space, a bracket, a slash, a quote or a line break ("(Dimock Center)").
_PREVIOUS_WORD = re.compile(r"(?<![^\s(/\[\"])(?P<word>[\p{L}][\p{L}'’.\-]*)[ ]$")

_SAINT = re.compile(
    r"\b(?:(?:saint|st\.)[ ]?(?P<name>\p{L}[\p{L}\-]+)(?:['’]s)?|st[ ](?P<poss>\p{L}[\p{L}\-]+['’]s)"
    r"|holy[ ](?:family|trinity|cross|name|spirit|ghost|rosary|redeemer|innocents)"
    r"|our[ ]lady[ ]of[ ](?:the[ ])?\p{L}[\p{L}'’\-]+(?:[ ](?-i:\p{Lu})[\p{L}'’\-]+)?|sacred[ ]heart|good[ ]samaritan"
    r"|good[ ]shepherd)\b(?!-)",
    re.IGNORECASE,
)

_TRANSFER_CUE = re.compile(
    r"\b(?:transferred|transfer|tx'?d|d/c'?d|discharged|records|came|sent|admitted|adm|readmitted|arrived)[ ]from[ ]"
    r"|\b(?:adm(?:itted|ission)?|admit|"
    r"readmitted|sent|transferred|discharged|d/c'?d)[ ]to[ ]|\b(?:was|were|is|been|seen|rehab|stay|stayed|stays)"
    r"[ ]at[ ]|\bhospitali[sz]ed[ ]at[ ]|(?<=\d)[ ]at[ ](?=\p{L})"
    # "screening for new england sinai", "referral faxed to lincare", "previously ventilated at X", "arranged
    # through apria", "home with services (apria)", "resident of X", "presented to X"
    r"|\b(?:screening[ ]for|faxed[ ]to|ventilated[ ]at|referral[ ]to|arranged[ ]through|services[ ]\(|resident[ ]of"
    r"|eventually[ ]go[ ]to|will[ ]go[ ]to|(?:films|records|ct|mri|imaging|images|studies)[ ]from"
    r"|presented[ ]to)[ ]?",
    re.IGNORECASE,
)
_WORD_AT = re.compile(r"\p{L}[\p{L}'’\-]*")
_JOINT = re.compile(r"[ ](?:(?i:of|and)[ ](?=\p{L}))?")

_UNIT_AFTER = re.compile(
    r"[ ](?:care|unit|units|service|ward|floor|team|department|dept|division|icu|day|days|stay|course|admission"
    r"|bed|beds|records|policy|staff|visit|protocol|acquired|onset|based)\b",
    re.IGNORECASE,
)
"""A word after a candidate that makes it a unit, a service or a phrase ("intensive care unit", "hospital
day", "hospital acquired")."""
_TOWN_CUE = re.compile(
    r"\b(?:court|church|parish|temple|synagogue|mosque|congregation)[ ]in[ ]"
    r"|\b(?:lives?|living|resides?|residing)[ ](?:w/|with)[ ](?:his[ ]|her[ ]|their[ ])?\p{L}+[ ]in[ ]"
    # "lives in stoughton", "pcp is dr. j. simpson in winchester", a sentence that starts "from medford, ..."
    r"|\b(?:lives?|lived|living|resides?|residing|works?|working|home|apartment|apt|nearby)[ ]in[ ]"
    r"|\b(?:visit|visiting|drove|driving|came|comes)[ ](?:in[ ])?from[ ]"
    r"|\bdr\.?[ ](?:\p{L}\.[ ]?)?\p{L}[\p{L}'’\-]*[ ]in[ ]|\bpcp[ ](?:is[ ])?[^\n,;.]{1,40}?[ ]in[ ]"
    # "from medford, will visit", "can be reached at ... from lincoln, unable to visit"
    r"|\bfrom[ ](?=\p{L}+(?:[ ]\p{L}+)?,[ ](?:will|unable|no[ ]car|can|would|plans?)\b)"
    r"|(?:^|(?<=[.;:][ ]))from[ ](?=\p{L}+[,.])"
    r"|\b(?:son|daughter|dtr|wife|husband|sister|brother|niece|nephew|mother|father|friend|neighbor|family"
    r"|cousin|aunt|uncle|grandson|granddaughter|grandmother|grandfather|hcp)(?:-in-law)?\)?"
    r"(?:[ ,]+(?!in\b)\p{L}[\p{L}'’\-]*){0,3}[ ,]*[ ]in[ ]",
    re.IGNORECASE,
)
_TOWN_SECOND = frozenset(
    "park plain plains river falls hills heights bay harbor point beach center village springs lake bedford".split()
)
_TOWN_FIRST = frozenset("new east west north south fall hyde jamaica great little old mount mt port".split())
_TOWN_FOLLOW = re.compile(r"(?:$|[ ]*[,.;:()\n/\-]|[ ]+\d|[ ]+(?P<next>\p{L}+))")
_NOT_TOWN = frozenset(
    """
    law laws person waiting attendance agreement tears distress town house hospital room bed icu unit chair
    rehab hospice clinic court church touch contact charge place front person process progress
    """.split()
)


def _lexicons():
    from clinical.deid.lexicons import FUNCTION_WORDS, clinical_vocabulary, listed_name_words

    return FUNCTION_WORDS, clinical_vocabulary(), listed_name_words()


def _key(word: str) -> str:
    lower = word.lower().replace("’", "'").strip(".'-")
    return lower[:-2] if lower.endswith("'s") else lower


_COMPASS = frozenset({"north", "south", "east", "west"})


def _possessive(word: str) -> bool:
    return word.lower().replace("’", "'").endswith("'s")


def qualifies(word: str) -> bool:
    """True when a word may be part of a place name: no function word, no clinical term, no generic word
    ("group", "cardiac"), and a clinical word only when it is a listed name word, a place word or a
    possessive ("Children's", "Women's").

    :param word: one word.
    """
    function_words, vocabulary, names = _lexicons()
    key = _key(word)
    if key in _COMPASS:
        return True
    if len(key) < 2 or key in function_words or key in GENERIC_WORDS or key in CLINICAL_TERMS:
        return False
    if _possessive(word) and len(key) > 2:
        return not is_clinical_term(word)
    if word.isupper() and len(key) <= 4 and key in vocabulary:
        return False
    if key in vocabulary and key not in names and key not in PLACE_WORDS:
        return False
    return not is_clinical_term(word)


def is_named(word: str) -> bool:
    """True when a qualifying word names something: a listed name word, a place word or no English word.

    :param word: one word.
    """
    from clinical.deid.lexicons import is_english_word

    _, _, names = _lexicons()
    key = _key(word)
    if _possessive(word):
        return True
    return key in names or key in PLACE_WORDS or any(not is_english_word(p) for p in key.split("-") if p)


def saint_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of saints and religious institutions in any case ("st. elizabeth's", "holy family")."""
    spans = []
    for m in _SAINT.finditer(text):
        name = m.group("name") or m.group("poss")
        if name is not None:
            # "ST elevation", "st. 2": the saint's name is no clinical or function word.
            key = _key(name)
            function_words, vocabulary, names = _lexicons()
            if key in function_words or (key in vocabulary and key not in names) or key in CLINICAL_TERMS:
                continue
        spans.append(m.span())
    return spans


def facility_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of facility names in any case: the qualifying words before a facility word, and the
    facility word ("hebrew rehab", "Harbor Point Hospital", "pine hill nursing home")."""
    saints = {end: start for start, end in saint_spans(text)}
    spans = []
    for m in _FACILITY.finditer(text):
        if _UNIT_AFTER.match(text, m.end()):
            continue
        strong = _STRONG_WORD.search(m.group(0)) is not None
        church = _CHURCH.search(m.group(0)) is not None
        start = m.start()
        words: list[str] = []
        passed: list[str] = []
        pos = name_start = start
        while len(words) + len(passed) < 5:
            if pos - 1 in saints and text[pos - 1] == " ":
                pos = name_start = saints[pos - 1]
                words.append("st")
                break
            prev = _PREVIOUS_WORD.search(text, max(0, pos - 40), pos)
            if prev is None:
                break
            word = prev.group("word")
            if word.lower() in ("and", "of") and words:
                before = _PREVIOUS_WORD.search(text, max(0, prev.start() - 40), prev.start())
                if before is None or not qualifies(before.group("word")):
                    break
                if word.lower() == "of" and _key(before.group("word")) in _lexicons()[2]:
                    break  # "Dr. Avila of First Baptist Church": a person of the place
                pos = name_start = before.start()
                words.append(before.group("word"))
                continue
            if word == "at" and words and all(_shape(w) == "title" for w in words):
                # "Atrium at Wells Crossing": a title-case word joined by "at" to a title-case name.
                before = _PREVIOUS_WORD.search(text, max(0, prev.start() - 40), prev.start())
                named = before.group("word") if before is not None else ""
                if _shape(named) != "title" or _key(named) in _lexicons()[0] or is_clinical_term(named):
                    break
                if _key(named) in _lexicons()[2]:
                    break  # "Dr. Vu at Harbor Health Clinic": a person at the place
                pos = name_start = before.start()
                words.append(named)
                break
            if word.lower() in _PASS_THROUGH:
                passed.append(word)  # "pinecrest general hospital", "Kenmore Family Practice"
                pos = prev.start()
                continue
            # "First Baptist Church", "Greater Love Tabernacle": English words that name a church.
            if not (qualifies(word) or (church and word.lower() in _CHURCH_WORDS)):
                break
            words.append(word)
            pos = name_start = prev.start()
        if not words:
            tail = (_NAMED_AFTER if church else _OF_PLACE).match(text, m.end()) if strong else None
            end = _place_tail_end(tail) if tail is not None else None
            if end is not None:
                spans.append((m.start(), end))  # "VNA of Cape Cod", "Temple Beth Shalom"; not "VNA of the patient"
            continue
        # A weak facility word needs a word that names something, or a title-case name before a title-case
        # facility word ("Revere Cardiology Associates", "Medford Pharmacy"); "feeling general", "sober house",
        # "probate court", "attends church" stay.
        titled = (
            all(_shape(w) == "title" for w in words)
            and all(_shape(w) == "title" for w in m.group(0).split())
            and _SENTENCE_START.search(text, max(0, name_start - 4), name_start) is None  # "Call Pharmacy"
        )
        if (not strong or church) and not (
            titled or any(w == "st" or is_named(w) or w.lower() in _CHURCH_WORDS for w in words)
        ):
            continue
        if (text[name_start:start].strip()).lower() in _ALLOWED_PLACES:
            continue
        end = m.end()
        tail = _OF_PLACE.match(text, end)
        if tail is not None and all(qualifies(w) for w in tail.group("place").split()):
            end = tail.end()  # "VNA of Cape Cod", "Sunrise of Milton"
        spans.append((name_start, end))
    return spans


def _place_tail_end(tail) -> int | None:
    # The end of the one or two place words after "VNA of" / "Temple" that qualify and name something or are
    # title case ("VNA of Medford called" ends after "Medford"), or None.
    place = tail.group("place").split()
    for n in (len(place), 1):
        words = place[:n]
        if all(qualifies(w) for w in words) and (
            any(is_named(w) for w in words) or all(_shape(w) == "title" for w in words)
        ):
            return tail.start("place") + len(" ".join(words))
    return None


_NAMED_AFTER = re.compile(r"[ ](?P<place>\p{Lu}[\p{L}'’\-]*(?:[ ]\p{Lu}[\p{L}'’\-]*)?)(?![\p{L}])")
_OF_PLACE = re.compile(r"[ ](?i:of)[ ](?P<place>\p{L}[\p{L}'’\-]*(?:[ ]\p{L}[\p{L}'’\-]*)?)(?![\p{L}])")


def _shape(word: str) -> str:
    return "upper" if word.isupper() and len(word) > 1 else "lower" if word.islower() else "title"


def _run_after(text: str, pos: int) -> tuple[int, int] | None:
    """The run of qualifying words at `pos` (after a transfer cue): "mount auburn", "sunrise of milton"."""
    if text[pos : pos + 4].lower() == "the ":
        pos += 4
    words: list[str] = []
    end = cursor = pos
    while len(words) < 4:
        m = _WORD_AT.match(text, cursor)
        if m is None or not qualifies(m.group(0)) or (words and _shape(m.group(0)) != _shape(words[0])):
            break  # "NWH faxed", "Pavilion today": a place keeps its case
        words.append(m.group(0))
        end = m.end()
        joint = _JOINT.match(text, end)
        if joint is None:
            break
        cursor = joint.end()
    if not words or _UNIT_AFTER.match(text, end):
        return None
    following = _WORD_AT.match(text, end + 1) if text[end : end + 1] == " " else None
    if following is not None and following.group(0).lower() in GENERIC_WORDS:
        return None  # "the neurotrauma intensive care unit"
    all_caps = all(w.isupper() and 2 <= len(w) <= 4 for w in words)
    # A title-case word inside a sentence after the cue is a name too ("at the Pavilion", "at Kindred").
    titled = any(w[0].isupper() and w[1:].islower() and w.lower() not in _lexicons()[1] for w in words)
    if not (all_caps or titled or any(is_named(w) for w in words)):
        return None
    return pos, end


_NAMED_GENERAL = re.compile(r"(?:the[ ])?(\p{L}[\p{L}'’\-]+)[ ](?:general|memorial|regional)\b", re.IGNORECASE)


def transfer_place_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of a place right after a transfer cue in any case ("transferred from mount auburn",
    "d/c'd from spaulding", "records from NWH", "from sturdy memorial"): its words qualify and one names
    something."""
    spans = []
    for m in _TRANSFER_CUE.finditer(text):
        general = _NAMED_GENERAL.match(text, m.end())
        if general is not None and not _UNIT_AFTER.match(text, general.end()):
            key = _key(general.group(1))
            if key not in _lexicons()[0] and key not in GENERIC_WORDS and not is_clinical_term(general.group(1)):
                spans.append((general.start(1), general.end()))
                continue
        span = _run_after(text, m.end())
        if span is not None:
            spans.append(span)
    return spans


def town_after(text: str, pos: int) -> tuple[int, int] | None:
    """The town of 1-2 words at `pos` (after "<place> in "), or None: no function, clinical or generic
    word, no state or country."""
    function_words, vocabulary, names = _lexicons()
    first = re.match(r"\p{L}[\p{L}'’\-]*", text[pos : pos + 40])
    if first is None:
        return None
    w1 = first.group(0)
    end1 = pos + len(w1)
    second = re.match(r"[ ](\p{L}[\p{L}'’\-]*)", text[end1 : end1 + 40])
    if second is not None:
        w2 = second.group(1)
        pair = f"{w1} {w2}".lower()
        same_case = w1.islower() == w2.islower()
        if same_case and (w2.lower() in _TOWN_SECOND or w1.lower() in _TOWN_FIRST) and w2.lower() not in function_words:
            if pair in _ALLOWED_PLACES:
                return None
            return pos, end1 + 1 + len(w2)
    key = w1.lower()
    if len(key) < 3 or key in function_words or key in _ALLOWED_PLACES or key in _NOT_TOWN or key in GENERIC_WORDS:
        return None
    if w1.isupper() or key in CLINICAL_TERMS or (key in vocabulary and key not in names):
        return None
    follow = _TOWN_FOLLOW.match(text, end1)
    if follow is None:
        return None
    nxt = follow.group("next")
    if nxt is None or nxt.lower() in function_words or nxt.lower() in _FOLLOWERS:
        return pos, end1
    if not (w1[0].isupper() and w1[1:].islower() and nxt[0].isupper()):
        return None  # "in Burlington Recent adm" is a town; "in bed rest" is none
    return pos, end1


_FOLLOWERS = frozenset("called call aware awa wil visit visited via who came come is was ca x".split())


def _result(start: int, end: int, score: float = 0.6) -> RecognizerResult:
    return RecognizerResult("LOCATION", start, end, score)


_AFFILIATION_CUE = re.compile(
    r"\b(?:(?:works?|worked|working|employed|retired|volunteers?|volunteered)"
    r"(?:[ ](?:as[ ])?(?:an?[ ])?[\p{L}\d]+){0,3}?[ ](?:at|for|from|by|with)"
    r"|(?:student|teacher|professor|employee)[ ](?:at|of)|attends|attended|graduated[ ]from"
    r"|(?:pharmacy|employer)[ ]?:|(?:list|meds|refills?)[ ]from"
    r")[ ](?:(?i:the)[ ])?|\bemployer[ ]\(",
    re.IGNORECASE,
)
# "Stop & Shop", "Boston Public Schools", "Reed, Parker and Thomas" (a firm's partners).
_TITLE_RUN = re.compile(
    r"(?:\p{Lu}[\p{L}'’\-]*|&)"
    r"(?:(?:,[ ](?=\p{Lu}[\p{L}'’\-]*[ ]and[ ])|[ ](?:(?:of|and|&)[ ])?)(?:\p{Lu}[\p{L}'’\-]*))*(?![\p{L}])"
)


def affiliation_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of employers and schools after a work or school cue ("retired from Stop & Shop", "works
    at the MBTA", "bus driver for Boston Public Schools", "attends Northeastern"): a run of title-case or
    all-caps words with no clinical term ("works with PT"); in lower case, qualifying words of which one
    names something and starts with no English word ("retired from verizon")."""
    from clinical.deid.lexicons import is_english_word

    spans = []
    for m in _AFFILIATION_CUE.finditer(text):
        run = _TITLE_RUN.match(text, m.end())
        if run is not None:
            # no clinical term ("works with PT"), no function word at either end
            words = run.group(0).replace("&", " ").split()
            function_words = _lexicons()[0]
            if words and _key(words[0]) not in function_words and _key(words[-1]) not in function_words:
                if not any(is_clinical_term(w) for w in words):
                    spans.append(run.span())
            continue
        span = _run_after(text, m.end())
        if span is not None and not is_english_word(text[span[0] : span[1]].split()[0]):
            spans.append(span)  # "retired from verizon"; not "attends church weekly"
    return spans


class AnyCaseFacilityRecognizer(CodeRecognizer):
    """Facility names in any case: a facility word (hospital, medical center, rehab, nursing home, manor,
    hospice, clinic, VNA, senior life; and house, court, General, Memorial, Regional after a word that
    names something) with the qualifying words before it ("hebrew rehab", "Harbor Point Hospital",
    "pine hill nursing home", "St. Ignatius Medical Center"). "cardiac rehab", "the hospital", "group
    home", "probate court" stay."""

    ENTITIES = ["LOCATION"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """LOCATION results for facility names."""
        return [_result(s, e) for s, e in facility_spans(text)]


class SaintPlaceRecognizer(CodeRecognizer):
    """Saints and religious institutions in any case ("st. elizabeth's", "Saint Brendan's", "holy family",
    "Our Lady of Lourdes", "sacred heart", "Good Samaritan"); "ST elevation" and "st. 2" stay."""

    ENTITIES = ["LOCATION"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """LOCATION results for saints and religious institutions."""
        return [_result(s, e) for s, e in saint_spans(text)]


class TransferPlaceRecognizer(CodeRecognizer):
    """A place right after a transfer or stay cue in any case ("transferred from mount auburn", "d/c'd from
    spaulding", "records from NWH", "rehab at kimwell", "adm to sunrise of milton"): qualifying words of
    which one names something (a listed name, a place word, no English word) or an abbreviation that is
    no clinical one ("transferred from MICU", "was at baseline" stay)."""

    ENTITIES = ["LOCATION"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """LOCATION results for places after transfer cues."""
        return [_result(s, e, 0.5) for s, e in transfer_place_spans(text)]


class TownAfterPlaceRecognizer(CodeRecognizer):
    """The town after a place and "in": after a facility, saint or transferred-from place ("rehab in
    marshfield", "st. brendan's in revere", "MGH in Lincoln"), a court, church or parish ("court in
    framingham"), or a relative ("lives w/ wife in natick", "son deshawn in peabody"). The town is one or
    two words ("hyde park", "Jamaica Plain"), no function, clinical or generic word, no US state or
    country (Safe Harbor keeps those)."""

    ENTITIES = ["LOCATION"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """LOCATION results for towns after places."""
        starts = {m.end() for m in _TOWN_CUE.finditer(text)}
        if " in " in text or " - " in text:
            ends = {e for _, e in facility_spans(text) + saint_spans(text) + transfer_place_spans(text)}
            # "rehab in marshfield", "Facility: spaulding rehab - waltham"
            starts |= {e + 4 for e in ends if text[e : e + 4] == " in "}
            starts |= {e + 3 for e in ends if text[e : e + 3] == " - "}
        results = []
        for pos in sorted(starts):
            span = town_after(text, pos)
            if span is not None:
                results.append(_result(*span, 0.55))
        return results


class AffiliationPlaceRecognizer(CodeRecognizer):
    """Employers and schools after a work or school cue ("retired from Stop & Shop", "works at the MBTA",
    "bus driver for Boston Public Schools", "attends Northeastern", "retired from verizon"); "works with PT"
    and "attends dialysis" stay."""

    ENTITIES = ["LOCATION"]

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        """LOCATION results for employers and schools."""
        return [_result(s, e, 0.5) for s, e in affiliation_spans(text)]


PLACE_RECOGNIZERS: tuple[type, ...] = (
    AnyCaseFacilityRecognizer,
    AffiliationPlaceRecognizer,
    SaintPlaceRecognizer,
    TransferPlaceRecognizer,
    TownAfterPlaceRecognizer,
)
"""Place recognizers of this module, in the order the engine registers them."""
