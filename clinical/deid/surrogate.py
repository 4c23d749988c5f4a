"""The `surrogate` output policy: realistic, consistent stand-ins instead of placeholders.

This is an **expert-determination** option (45 CFR 164.514(b)(1)), not Safe Harbor: the output
looks like a real note, every date of a patient is shifted by the same number of days (intervals
kept), and the same real value always becomes the same fake value within one patient's notes.
An expert has to determine that the residual risk is very small for the intended use; Safe Harbor
output comes from the `safe_harbor` policy.

How a surrogate is chosen, with no mapping table anywhere:

- every choice is seeded by HMAC-SHA256(policy secret, patient key | identifier type | normalised
  real value). The patient key is already an HMAC of the patient id (clinical.ids.patient_key), the
  policy secret comes from the environment (`CLINICAL_DEID_SURROGATE_SECRET`). Nothing stores the
  real-to-fake mapping: it is recomputed, and cannot be recomputed without the secret.
- names map word by word ("John Smith", later "Smith", "SMITH, JOHN" stay consistent) onto Faker's
  en_US first- or last-name lists, keeping the case shape and initials; a surrogate never equals a
  real name word of the same note (a redraw takes the next candidate).
- dates shift by `date_shift_days` in [-DATE_SHIFT_MAX_WEEKS * 7, -7] days, a whole number of
  weeks (weekdays kept), and are written back in the format they came in (02/12/2019, 2019-02-12,
  Feb 12, 2019, 12-Feb-2019, 2/12, ...). A date that does not parse becomes "[DATE]".
- ages over 89 stay aggregated ("90+"), as under Safe Harbor.
- numbers and codes (phone, MRN, SSN, account, licence, device, ZIP ...) keep their shape:
  every digit and letter is replaced by a keyed one, separators kept, never equal to the original.
- addresses, cities, e-mails, URLs and IP addresses get Faker values (IP addresses from the
  documentation range 192.0.2.0/24, e-mails and URLs on example.org).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac

import regex as re

SURROGATE_VERSION = "0.1.0"
"""Bump with any change of how surrogates are chosen or written: it enters the policy's version."""


DATE_SHIFT_MAX_WEEKS = 52
"""Dates move back by 1 to 52 whole weeks (7 to 364 days), the same shift for all notes of a patient."""

_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]  # fmt: skip
_MONTH_RE = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?P<mdot>\.?)"
)
_TIME_RE = r"(?P<time>(?:T|,?\s+(?:at\s+)?)\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?)?"
_DATE_FORMATS: tuple[tuple[str, re.Pattern], ...] = (
    ("iso", re.compile(rf"(?P<y>\d{{4}})(?P<sep>[-/.])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_TIME_RE}", re.I)),
    (
        "mdy",
        re.compile(rf"(?P<m>\d{{1,2}})(?P<sep>[/-])(?P<d>\d{{1,2}})(?P=sep)(?P<y>\d{{2}}|\d{{4}}){_TIME_RE}", re.I),
    ),
    ("dmy_dots", re.compile(rf"(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<y>\d{{4}}){_TIME_RE}", re.I)),
    ("md", re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})")),
    (
        "month_d_y",
        re.compile(
            rf"{_MONTH_RE}\s+(?P<d>\d{{1,2}})(?P<suffix>st|nd|rd|th)?(?:(?P<ysep>,?\s+)(?P<y>\d{{4}}))?{_TIME_RE}",
            re.I,
        ),
    ),
    (
        "d_month_y",
        re.compile(
            rf"(?P<d>\d{{1,2}})(?P<suffix>st|nd|rd|th)?(?P<of>(?:\s+of)?)(?P<sep>[\s-]+){_MONTH_RE}"
            rf"(?:(?P<ysep>[\s,-]+)(?P<y>\d{{4}}|\d{{2}}))?{_TIME_RE}",
            re.I,
        ),
    ),
    ("month_y", re.compile(rf"{_MONTH_RE},?(?P<ysep>\s+)(?P<y>\d{{4}})", re.I)),
)
_NO_YEAR = 2000  # a leap year: "2/29" without a year still parses


class SurrogateGenerator:
    """Keyed, consistent surrogates for one policy secret.

    :param secret: the policy secret (at least 16 characters); never logged or stored.
    """

    def __init__(self, secret: str) -> None:
        if not isinstance(secret, str) or len(secret) < 16:
            raise ValueError("the surrogate policy secret must be a string of at least 16 characters")
        self._secret = secret.encode("utf-8")

    @property
    def secret_id(self) -> str:
        """A keyed id of the secret (first 16 hex of HMAC(secret, "secret-id")): which secret made an
        output can be told apart in lineage without revealing it."""
        return hmac.new(self._secret, b"secret-id", hashlib.sha256).hexdigest()[:16]

    def _seed(self, patient_key: str, kind: str, value: str) -> int:
        message = f"{patient_key}\x1f{kind}\x1f{value}".encode()
        return int.from_bytes(hmac.new(self._secret, message, hashlib.sha256).digest()[:8], "big")

    def date_shift_days(self, patient_key: str) -> int:
        """The patient's date shift: a whole number of weeks in [-DATE_SHIFT_MAX_WEEKS, -1], in days.

        :param patient_key: the patient's HMAC key.
        """
        return -7 * (1 + self._seed(patient_key, "DATE_SHIFT", "") % DATE_SHIFT_MAX_WEEKS)

    def surrogate(self, patient_key: str, kind: str, value: str, forbidden: frozenset[str] = frozenset()) -> str:
        """The surrogate of one detected value.

        :param patient_key: the patient's HMAC key (the scope of consistency).
        :param kind: the entity type of the span (a key of engine.PLACEHOLDERS).
        :param value: the real text of the span.
        :param forbidden: lower-case words the surrogate must not contain (real names of the note).
        """
        if kind == "PERSON":
            return self._name(patient_key, value, forbidden)
        if kind == "DATE":
            return self.shift_date(patient_key, value)
        if kind == "AGE_OVER_89":
            return "90+"
        if kind in ("STREET_ADDRESS", "LOCATION", "EMAIL_ADDRESS", "URL", "IP_ADDRESS"):
            return self._faker_value(patient_key, kind, value)
        return self._reshape(patient_key, kind, value)

    def shift_date(self, patient_key: str, value: str) -> str:
        """`value` moved by the patient's shift and written in its own format; "[DATE]" if it does not parse.

        :param patient_key: the patient's HMAC key.
        :param value: a date as the note writes it.
        """
        shift = dt.timedelta(days=self.date_shift_days(patient_key))
        text = value.strip()
        for name, pattern in _DATE_FORMATS:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            try:
                return value.replace(text, _render(name, match, _parse(name, match) + shift))
            except ValueError:
                break
        return "[DATE]"

    def _name(self, patient_key: str, value: str, forbidden: frozenset[str]) -> str:
        first, last = _name_lists()

        def replace(match: re.Match) -> str:
            word = match.group(0)
            if len(word) == 1 or (len(word) == 2 and word.endswith(".")):
                letters = "ABCDEFGHJKLMNPRSTW"
                pick = letters[self._seed(patient_key, "INITIAL", word[0].upper()) % len(letters)]
                if pick == word[0].upper():
                    pick = letters[(letters.index(pick) + 1) % len(letters)]
                return pick + word[1:]
            if word.rstrip(".") in _KEPT_IN_NAMES:
                return word
            key = word.lower()
            us_first, us_last = _name_keys()
            is_first = key in us_first or (key not in us_last and key in _first_name_keys())
            pool = first if is_first else last
            index = self._seed(patient_key, "PERSON", key) % len(pool)
            while pool[index].lower() == key or pool[index].lower() in forbidden:
                index = (index + 1) % len(pool)
            return _same_case(word, pool[index])

        return re.sub(r"\p{L}[\p{L}'’\-]*\.?", replace, value)

    def _faker_value(self, patient_key: str, kind: str, value: str) -> str:
        fake = _faker()
        seed = self._seed(patient_key, kind, " ".join(value.lower().split()))
        for attempt in range(8):
            fake.seed_instance(seed + attempt)
            if kind == "STREET_ADDRESS":
                out = fake.street_address()
            elif kind == "LOCATION":
                out = fake.city()
            elif kind == "EMAIL_ADDRESS":
                out = f"{fake.user_name()}@example.org"
            elif kind == "URL":
                out = f"https://www.example.org/{fake.slug()}"
            else:
                out = f"192.0.2.{fake.random_int(1, 254)}"
            if out.lower() != value.lower():
                return out
        return out

    def _reshape(self, patient_key: str, kind: str, value: str) -> str:
        seed = self._seed(patient_key, kind, value)
        for attempt in range(8):
            digest = hashlib.sha256(f"{seed}:{attempt}".encode()).digest() * 4
            out = []
            for i, char in enumerate(value):
                if char.isdigit():
                    out.append(str(digest[i % len(digest)] % 10))
                elif char.isalpha() and char.isascii():
                    letter = chr(ord("A") + digest[i % len(digest)] % 26)
                    out.append(letter if char.isupper() else letter.lower())
                else:
                    out.append(char)
            result = "".join(out)
            if result != value:
                return result
        return result


_KEPT_IN_NAMES = frozenset(
    "Dr Mr Mrs Ms Miss Mx Prof MD DO RN NP PA LPN CNA RT PhD MBBS DDS BSN MSN APRN PharmD Jr Sr II III IV".split()
)


def _same_case(original: str, surrogate: str) -> str:
    if original.isupper() and len(original) > 1:
        return surrogate.upper()
    if original.islower():
        return surrogate.lower()
    return surrogate


@functools.lru_cache(maxsize=1)
def _name_lists() -> tuple[tuple[str, ...], tuple[str, ...]]:
    from faker.providers.person.en_US import Provider

    first = sorted(set(Provider.first_names_male) | set(Provider.first_names_female))
    return tuple(first), tuple(sorted(set(Provider.last_names)))


@functools.lru_cache(maxsize=1)
def _name_keys() -> tuple[frozenset[str], frozenset[str]]:
    first, last = _name_lists()
    return frozenset(n.lower() for n in first), frozenset(n.lower() for n in last)


@functools.lru_cache(maxsize=1)
def _first_name_keys() -> frozenset[str]:
    from clinical.deid.lexicons import _faker_locale_names

    first, _ = _faker_locale_names()
    return frozenset(n.lower() for n in first)


@functools.lru_cache(maxsize=1)
def _faker():
    from faker import Faker

    return Faker("en_US")


def _month(match: re.Match) -> int:
    return next(i + 1 for i, m in enumerate(_MONTHS) if m.startswith(match.group("month").lower()[:3]))


def _year(match: re.Match) -> int:
    year = match.groupdict().get("y")
    if not year:
        return _NO_YEAR
    return int(year) + (2000 if int(year) < 50 else 1900) if len(year) == 2 else int(year)


def _parse(name: str, match: re.Match) -> dt.date:
    if name == "month_y":
        return dt.date(_year(match), _month(match), 15)
    month = _month(match) if name in ("month_d_y", "d_month_y") else int(match.group("m"))
    return dt.date(_year(match), month, int(match.group("d")))


def _render(name: str, match: re.Match, date: dt.date) -> str:
    groups = match.groupdict()
    time = groups.get("time") or ""

    def month_word() -> str:
        word = match.group("month")
        full = _MONTHS[date.month - 1]
        text = full if len(word) > 3 and word.lower() in _MONTHS else full[:3]
        return _same_case(word, text.title()) + (groups.get("mdot") or "")

    def year_text(default: bool = True) -> str:
        year = groups.get("y")
        if not year:
            return ""
        return f"{date.year % 100:02d}" if len(year) == 2 else str(date.year)

    padded = any(v and len(v) == 2 and v.startswith("0") for v in (groups.get("m"), groups.get("d")))

    def width(original: str, number: int) -> str:
        return f"{number:02d}" if padded and len(original) == 2 else str(number)

    if name == "iso":
        sep = groups["sep"]
        return f"{date.year}{sep}{width(groups['m'], date.month)}{sep}{width(groups['d'], date.day)}{time}"
    if name == "mdy":
        sep = groups["sep"]
        return f"{width(groups['m'], date.month)}{sep}{width(groups['d'], date.day)}{sep}{year_text()}{time}"
    if name == "dmy_dots":
        return f"{width(groups['d'], date.day)}.{width(groups['m'], date.month)}.{date.year}{time}"
    if name == "md":
        return f"{width(groups['m'], date.month)}/{width(groups['d'], date.day)}"
    suffix = _ordinal(date.day) if groups.get("suffix") else ""
    year = f"{groups['ysep']}{year_text()}" if groups.get("y") else ""
    if name == "month_d_y":
        return f"{month_word()} {width(groups['d'], date.day)}{suffix}{year}{time}"
    if name == "d_month_y":
        return f"{width(groups['d'], date.day)}{suffix}{groups['of']}{groups['sep']}{month_word()}{year}{time}"
    return f"{month_word()}{groups['ysep']}{date.year}"


def _ordinal(day: int) -> str:
    return "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
