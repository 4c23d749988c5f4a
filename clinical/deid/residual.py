"""A second, independent residual-PHI scan of de-identified text.

The presidio policy (spaCy NER plus labelled-field recognizers) decides what to redact; this scan
decides whether anything that still looks like PHI is left. It shares no detector with the policy:
high-recall regexes over the redacted text (with every placeholder masked out) and a name-list
lookup in Faker's en_US first and last names. It is meant to over-report: a finding blocks the
batch for review rather than passing a leak on.

    from clinical.deid.residual import scan
    findings = scan(redacted_text)       # [ResidualFinding(start, end, kind)], never the text
    summary = summarize(findings)        # {"DIGIT_RUN": 2, "NAME_LIST": 1}

Nothing here logs, returns or raises with note text: findings are offsets and kinds.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import regex as re

RESIDUAL_SCANNER_VERSION = "0.2.0"
"""Bump with any change to a pattern or list below; recorded with every finding."""

PLACEHOLDER = re.compile(r"\[(?:[A-Z][A-Z_]*)(?:[ ][^\]\n]{1,12})?\]")
"""A typed placeholder as the policy writes it: "[NAME]", "[DATE 2019]", "[ZIP 021]", "[AGE 90+]"."""

_MASK = "\u2588"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_UNIT_AFTER = r"(?!\s*(?:mg|mcg|g|ml|units?|iu|%|mmol|meq|kg|cm|mm|hours?|days?|weeks?|h)\b)"
_TITLES = r"(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Sr|Sister|Nurse|Rev)"
_FIELD_LABELS = (
    r"(?:patient(?:[ ]name)?|pt|name|attending|physician|provider|pcp|resident|surgeon|nurse|referring"
    r"|signed(?:[ ]by)?|dictated[ ]by|cc|mother|father|wife|husband|spouse|son|daughter|guardian"
    r"|(?:emergency[ ])?contact|next[ ]of[ ]kin)"
)
_ID_LABELS = (
    r"(?:mrn|ssn|dob|d\.o\.b\.|date[ ]of[ ]birth|phone|tel|fax|cell|mobile|pager|e-?mail|address|zip"
    r"|acct|account(?:[ ]number)?|member[ ]id|policy(?:[ ]number)?|medicaid|medicare|mbi|license|licence"
    r"|vin|serial|s/n|udi|ip)"
)

PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("EMAIL", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (
        "URL",
        re.compile(
            r"(?i)\b(?:https?://|www\.)\S+|(?<![@\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|io|info|biz)\b"
        ),
    ),
    ("IP_ADDRESS", re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])|\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b")),
    ("SSN", re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")),
    (
        "PHONE",
        re.compile(
            r"(?<![\w])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\d)"
            r"|(?<![\w.-])\d{3}-\d{4}(?![\w.-])"
        ),
    ),
    ("DIGIT_RUN", re.compile(r"(?<![\d.,])\d{5,}(?![\d]|[.,]\d)")),
    (
        "DATE",
        re.compile(
            r"(?i)(?<![\d/.])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?![\d/]|\.\d)"
            rf"|\b{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b{_UNIT_AFTER}"
            rf"|\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s+of)?[\s-]+{_MONTH}\b"
            r"|(?<=\b(?:on|since|from|until|dated?|admitted|discharged|seen|dob)[:\s]+)(?:0?[1-9]|1[0-2])/"
            r"(?:0?[1-9]|[12]\d|3[01])(?![\d/%])"
            r"|\bon\s+the\s+\d{1,2}(?:st|nd|rd|th)\b"
        ),
    ),
    (
        "AGE_OVER_89",
        re.compile(
            r"(?i)(?<![\d.])\b(?:9\d|1[0-2]\d)(?=[\s-]*(?:years?|yrs?|y/o|y\.o\.|yo\b))|\baged?\s*:?\s*(?:9\d|1[0-2]\d)\b"
        ),
    ),
    ("NAME_AFTER_TITLE", re.compile(rf"(?<=\b{_TITLES}\.?[ \t]+)[A-Z][a-zA-Z'\-]+")),
    ("NAME_AFTER_LABEL", re.compile(rf"(?<=\b(?i:{_FIELD_LABELS})[ \t]*:[ \t]*)(?!{_TITLES}\b)[A-Z][a-zA-Z'\-]+")),
    ("LABELLED_VALUE", re.compile(rf"(?<=\b(?i:{_ID_LABELS})[ \t]*[:#][ \t]*)[A-Za-z0-9(+][^\s,;]*")),
)
"""(kind, regex) rows; each runs on the text with placeholders masked."""

# Title-case words in Faker's name lists that notes also use as ordinary English or clinical words.
COMMON_WORDS: frozenset[str] = frozenset(
    """
    May Mark Will Grace Hope Faith Joy Love Long Young Small Strong Sharp Black White Green Brown Gray Grey
    Rose Case Chase Page Lane Hill Price Cook Baker Major Frank Guy Bell Wells Knight Hunter Mason Carter
    Ray Reed Dale Holt Hale Bond Glass Stone Wood Woods Field Fields Banks Bush Little Rich Day Best Hall
    Park Parks Marsh Moss Rice Sweet Wall Walls Ward Waters Webb West Fox Bird Crane Cross Dean Drew
    Early Ford Frost Gay Golden Goodman Gross Hart Hayes House Jack Judge Key King Lamb Land Lord Low
    Mann Miles Mills Moon Nash Noble North Page Pierce Poole Pope Power Powers Rivers Rock Ross Rowe
    Savage Shepherd Short Snow Steel Summer Summers Swift Trail Vance Wade Walker Walsh Weaver Wise
    Wolf Worth Christian Patience Destiny Harmony Heaven Justice Liberty Precious Serenity Trinity
    Summer Autumn April June August Dawn Eve Sage Sky Skye Storm Brooke Brook Max Don Sterling Pat
    Norm Bill Art Gene Sue Chance Hunter Cash Miller Fisher Potter Taylor Turner Cooper Butler Porter
    Carpenter Mercy Amber Crystal Jade Ruby Pearl Ivy Iris Daisy Lily Holly Olive Violet Hazel Jasmine
    Dominique Unique Alpha Royal Neil Chest Head Bed Bay Cole Colon Ulna Jean Gale Gail Kidney Lung Arch
    """.split()
)

_EPONYM_FOLLOWS = re.compile(
    r"(?:['’]s)?(?:[-–][A-Z]\w*)*[ \t-]+(?i:disease|syndrome|sign|palsy|disorder|phenomenon|tumou?r|lymphoma"
    r"|sarcoma|test|score|scale|criteria|classification|reflex|procedure|operation|fracture|ulcer|anomaly"
    r"|type|catheter|tube|nodes?|body|bodies|cells?|duct|stain|staining|virus|hernia|block|law|maneuver"
    r"|manoeuvre|hospital|clinic|university|institute|medical|center|centre|county|street|avenue|road)\b"
)
_ALLOWED_PLACES = frozenset(
    """
    Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia Hawaii Idaho
    Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan Minnesota
    Mississippi Missouri Montana Nebraska Nevada Ohio Oklahoma Oregon Pennsylvania Tennessee Texas Utah
    Vermont Virginia Washington Wisconsin Wyoming Carolina Dakota Jersey America England Jordan Chad
    Israel Kenya India China Georgia Jamaica
    """.split()
)
_TOKEN = re.compile(r"(?<![\w'’])[A-Z][a-z'’\-]{2,}(?![\w'’])|(?<![\w'’])[A-Z]{4,}(?![\w'’])")


@dataclass(frozen=True)
class ResidualFinding:
    """One candidate identifier left in a redacted note: offsets and kind, never the text.

    :param start: offset of the first character in the redacted text.
    :param end: offset one past the last character.
    :param kind: what it looks like (a kind of PATTERNS, or "NAME_LIST").
    """

    start: int
    end: int
    kind: str


@functools.lru_cache(maxsize=1)
def name_words() -> frozenset[str]:
    """Faker's en_US first and last names, minus common English words, places Safe Harbor allows
    and the clinical words of the policy's own list."""
    from faker.providers.person.en_US import Provider

    from clinical.deid.recognizers import CLINICAL_TERMS

    names = set(Provider.first_names_male) | set(Provider.first_names_female) | set(Provider.last_names)
    names |= set(getattr(Provider, "first_names_nonbinary", ()))
    return frozenset(
        n for n in names if n not in COMMON_WORDS and n not in _ALLOWED_PLACES and n.lower() not in CLINICAL_TERMS
    )


def mask_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with each (start, end) range replaced by block characters (offsets kept).

    :param text: a de-identified note.
    :param spans: ranges inside `text`; a range outside it is a ValueError (offsets of another text).
    """
    chars = None
    for start, end in spans:
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"inserted span {start}-{end} does not fit a text of length {len(text)}")
        if chars is None:
            chars = list(text)
        chars[start:end] = _MASK * (end - start)
    return text if chars is None else "".join(chars)


def mask_placeholders(text: str) -> str:
    """`text` with every placeholder replaced by a block character of the same length (offsets kept)."""
    return PLACEHOLDER.sub(lambda m: _MASK * len(m.group(0)), text)


def scan(text: str, inserted: Iterable[tuple[int, int]] = ()) -> list[ResidualFinding]:
    """Candidate PHI left in a redacted note, sorted by offset, overlaps of the same kind merged.

    :param text: one de-identified note (placeholders as the policy writes them).
    :param inserted: (start, end) offsets, in `text`, of the replacements the policy wrote (the span
        audit's output offsets). They are masked like placeholders, so realistic surrogates are not
        findings; every character outside them is scanned as before.
    """
    if not isinstance(text, str):
        raise TypeError(f"note text must be str, got {type(text).__name__}")
    masked = mask_spans(mask_placeholders(text), inserted)
    findings = [
        ResidualFinding(m.start(), m.end(), kind)
        for kind, pattern in PATTERNS
        for m in pattern.finditer(masked)
        if m.end() > m.start() and _MASK not in m.group(0)
    ]
    findings += _name_list_findings(masked)
    return _merge(findings)


def _name_list_findings(masked: str) -> list[ResidualFinding]:
    names = name_words()
    lower_words = None
    out = []
    for m in _TOKEN.finditer(masked):
        word = m.group(0)
        candidate = word.title() if word.isupper() else word
        candidate = candidate.rstrip("'’")
        if candidate.endswith(("'s", "’s")):
            candidate = candidate[:-2]
        if candidate not in names or _EPONYM_FOLLOWS.match(masked, m.end()):
            continue
        if lower_words is None:
            lower_words = {w.lower() for w in re.findall(r"\b[a-z][a-z'\-]+\b", masked)}
        # A word the note also writes in lower case is an ordinary word there ("Grant ... grant").
        if candidate.lower() in lower_words:
            continue
        out.append(ResidualFinding(m.start(), m.end(), "NAME_LIST"))
    return out


def _merge(findings: Iterable[ResidualFinding]) -> list[ResidualFinding]:
    merged: list[ResidualFinding] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end, f.kind)):
        if merged and f.start < merged[-1].end and f.kind == merged[-1].kind:
            last = merged[-1]
            merged[-1] = ResidualFinding(last.start, max(last.end, f.end), last.kind)
        else:
            merged.append(f)
    return merged


def summarize(findings: Iterable[ResidualFinding]) -> dict[str, int]:
    """Counts of findings by kind (what metadata and the findings table hold)."""
    return dict(sorted(Counter(f.kind for f in findings).items()))


def scan_notes(notes: Iterable[dict]) -> list[dict]:
    """Findings rows for a batch: one per note and kind, `{"note_id", "text_sha256", "phi_type",
    "findings"}` (a count); notes without findings give no row. No text leaves this function.

    :param notes: dicts with "note_id", "text_sha256", the de-identified "text" and optionally
        "inserted": the (start, end) output offsets of the policy's replacements (see `scan`).
    """
    rows = []
    for note in notes:
        for kind, count in summarize(scan(note["text"], note.get("inserted") or ())).items():
            rows.append(
                {"note_id": note["note_id"], "text_sha256": note["text_sha256"], "phi_type": kind, "findings": count}
            )
    return rows
