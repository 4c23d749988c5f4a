"""Word lists the name recognizer uses: person names (gazetteer) and clinical vocabulary (never a name).

Both are built once per process from installed packages, never downloaded:

- `person_names()`: the first and last names of every Faker locale (about 55,000 words in ~80
  locales), minus `clinical_vocabulary()`, minus English function words and the title-case words
  that notes use as ordinary words (`clinical.deid.residual.COMMON_WORDS`).
- `clinical_vocabulary()`: the words the ICD-10-CM tabular list (simple-icd-10-cm) writes in lower
  case, the one-word drug-name variants of drug-named-entity-recognition (generic and brand names)
  and the engine's own CLINICAL_TERMS (abbreviations, eponyms used alone such as Parkinson, Crohn).
  The package part is generated once into `clinical_vocabulary.txt` beside this module
  (`python -m clinical.deid.lexicons`), so neither package is needed at run time.

Nothing here sees note text; the lists hold no PHI.
"""

from __future__ import annotations

import bz2
import functools
import importlib
import importlib.util
import pickle
import pkgutil
import re
from pathlib import Path

LEXICONS_VERSION = "0.3.0"
"""Bump with any change to how the lists below are built: it enters the recognizers' version."""

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

FUNCTION_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves yes ok okay per via de la le el del da do das dos van von der den di du des al
    mon tue wed thu fri sat sun monday tuesday wednesday thursday friday saturday sunday january february
    march april may june july august september october november december today tomorrow yesterday
    am pm hospital clinic unit floor room bed ward home street road avenue north south east west
    plan history assessment impression note notes report summary family social medical past present
    daughter son wife husband mother father sister brother friend nurse doctor team care called re aware
    """.split()
)
"""Lower-case words that are never taken for a name whatever a locale's name list holds."""


def _faker_locale_names() -> tuple[set[str], set[str]]:
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attribute in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            first |= _values(getattr(provider, attribute, ()))
        last |= _values(getattr(provider, "last_names", ()))
    return first, last


def _values(value) -> set[str]:
    if isinstance(value, dict):
        return {str(k) for k in value}
    if isinstance(value, (list, tuple, set, frozenset)):
        return {str(v) for v in value}
    return set()


def _package_dir(name: str) -> Path:
    # The data files only: importing these packages parses everything (10+ s on a busy machine).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed (pinned in pyproject.toml)")
    return Path(next(iter(spec.submodule_search_locations)))


CLINICAL_VOCABULARY_FILE = Path(__file__).parent / "clinical_vocabulary.txt"
"""`build_clinical_vocabulary()` written once (`python -m clinical.deid.lexicons`): the service and
every worker read this file (0.05 s) instead of parsing ICD-10-CM and the drug dictionary (2-10 s),
and the Bento needs neither package. tests/test_deid_names.py checks it matches the packages."""


@functools.lru_cache(maxsize=1)
def clinical_vocabulary() -> frozenset[str]:
    """Lower-case words that are clinical words (see `build_clinical_vocabulary`) plus the engine's
    CLINICAL_TERMS, from CLINICAL_VOCABULARY_FILE."""
    from clinical.deid.recognizers import CLINICAL_TERMS

    words = CLINICAL_VOCABULARY_FILE.read_text(encoding="utf-8").split()
    return frozenset(words) | CLINICAL_TERMS


def build_clinical_vocabulary() -> frozenset[str]:
    """The words ICD-10-CM (simple-icd-10-cm) writes in lower case somewhere in its descriptions and
    notes ("breast", "pain", "fracture") and the one-word drug-name variants of
    drug-named-entity-recognition ("lasix", "metformin"). Eponyms that ICD-10-CM only writes
    capitalised ("Smith's fracture") stay out: they are surnames too, and an eponym is told by what
    follows it."""
    words: set[str] = set()
    for xml in (_package_dir("simple_icd_10_cm") / "data").glob("icd10c-tabular-*.xml"):
        text = " ".join(re.findall(r"<(?:desc|note)>([^<]*)<", xml.read_text(encoding="utf-8")))
        words.update(w for w in _WORD.findall(text) if w.islower())
    with bz2.open(_package_dir("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2", "rb") as handle:
        drugs = pickle.load(handle)["drug_variant_to_canonical"]  # noqa: S301 - a pinned package's own data file
    words.update(v.lower() for v in drugs if _WORD.fullmatch(v))
    return frozenset(w for w in words if len(w) > 1)


def write_clinical_vocabulary(path: Path = CLINICAL_VOCABULARY_FILE) -> int:
    """Write `build_clinical_vocabulary()` to `path`, one word a line, sorted; returns the word count.

    :param path: output file.
    """
    words = sorted(build_clinical_vocabulary())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(words) + "\n", encoding="utf-8")
    return len(words)


if __name__ == "__main__":
    print(f"{write_clinical_vocabulary()} words -> {CLINICAL_VOCABULARY_FILE}")


@functools.lru_cache(maxsize=1)
def person_names() -> frozenset[str]:
    """Lower-case first and last names of every Faker locale that are not clinical or common words."""
    from clinical.deid.recognizers import _ALLOWED_PLACES
    from clinical.deid.residual import COMMON_WORDS

    first, last = _faker_locale_names()
    places = {w for place in _ALLOWED_PLACES for w in place.split()}
    excluded = clinical_vocabulary() | FUNCTION_WORDS | places | {w.lower() for w in COMMON_WORDS}
    names = {w.lower() for n in first | last for w in _WORD.findall(n)}
    return frozenset(n for n in names if len(n) > 2 and n not in excluded)


_ENGLISH_EXTRA = frozenset(
    """
    i me my we us our you your he him his she her it its they them their this that these those who whom whose
    what which there here where when why how not no yes ok okay mr mrs ms dr st jr sr pt pts re vs etc
    """.split()
)


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Lower-case English words: the WordNet lemma index (nouns, verbs, adjectives, adverbs; ~83,000)
    that the installed spaCy pipeline ships for its lemmatizer, plus FUNCTION_WORDS. Used to tell a
    capitalised word that is an ordinary word ("Discipline", "Tales") from one that is not ("Nishiyama").
    Never downloads anything."""
    from spacy.lookups import Lookups

    from clinical.deid.engine import resolve_spacy_model

    spec = importlib.util.find_spec(resolve_spacy_model("auto"))
    root = Path(next(iter(spec.submodule_search_locations)))
    from spacy.lang.en.stop_words import STOP_WORDS

    words: set[str] = set(FUNCTION_WORDS | _ENGLISH_EXTRA | {w.lower() for w in STOP_WORDS})
    for lookups_dir in root.glob("*/lemmatizer/lookups"):
        lookups = Lookups().from_disk(lookups_dir)
        if "lemma_index" in lookups.tables:
            for pos_words in lookups.get_table("lemma_index").values():
                words.update(w.lower() for w in pos_words if "_" not in w)
        if "lemma_exc" in lookups.tables:
            for forms in lookups.get_table("lemma_exc").values():
                words.update(w.lower() for w in forms if "_" not in w)
    return frozenset(words)


_INFLECTIONS = (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""))


def is_english_word(word: str) -> bool:
    """True when `word` (any case) or a regular inflection of it ("tales" -> "tale") is an English word.

    :param word: one word.
    """
    words = english_words()
    lower = word.lower().strip("'’")
    if lower.endswith(("'s", "’s")):
        lower = lower[:-2]
    if lower in words:
        return True
    return any(
        lower.endswith(suffix) and len(lower) - len(suffix) >= 3 and lower[: len(lower) - len(suffix)] + stem in words
        for suffix, stem in _INFLECTIONS
    )


@functools.lru_cache(maxsize=1)
def common_first_names() -> frozenset[str]:
    """Lower-case first names of Faker's en_US provider ("mary", "john"): common enough that, after a
    relative or an action cue, the lower-case word is a name even though it is also an English word."""
    from faker.providers.person.en_US import Provider

    return frozenset(
        n.lower()
        for attribute in ("first_names", "first_names_male", "first_names_female")
        for n in _values(getattr(Provider, attribute, ()))
    )


@functools.lru_cache(maxsize=1)
def listed_name_words() -> frozenset[str]:
    """Lower-case words of the first and last names of every Faker locale, common words included ("june",
    "hope", "wood", "stone", "gene"): after a title, a relative or a field label a title-case word of this
    list is a name even when it is also an English, clinical or function word ("sister June", "Dr. Wood")."""
    first, last = _faker_locale_names()
    return frozenset(w.lower() for n in first | last for w in _WORD.findall(n) if len(w) > 1)


@functools.lru_cache(maxsize=1)
def faker_last_names() -> frozenset[str]:
    """Lower-case last names of every Faker locale, common words included ("young", "hill", "brown"):
    a word of this list right after a first name is a surname there ("Zoe Young")."""
    _, last = _faker_locale_names()
    return frozenset(w.lower() for n in last for w in _WORD.findall(n) if len(w) > 1)


def warm_lexicons() -> None:
    """Build every word list now (~0.5 s once per process) rather than inside the first note that needs it:
    the engine calls this when it loads, so no note's timing or latency carries the cost."""
    clinical_vocabulary()
    person_names()
    listed_name_words()
    common_first_names()
    faker_last_names()
    english_words()
