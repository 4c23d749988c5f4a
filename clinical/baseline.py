"""A dictionary baseline for entity extraction: what a lexicon lookup reaches without any model.

The lexicon is built from
- the entity texts of the TRAIN split (each phrase gets the type it carries most often there), and
- for medications, the name variants of `drug-named-entity-recognition` (DrugBank/NHS/Wikipedia
  names and brands, MIT), read straight from the package's bundled dictionary (importing the package
  itself reads and writes a cache in the home folder). Variants shorter than 4 characters, common
  English function words (COMMON_WORDS: the dictionary lists "more") and variants without a letter
  are left out (they match ordinary words, abbreviations and numbers).
Train phrases win over drug names when both hold a phrase.

Matching: notes are tokenized (letters and digits, inner `-`, `'`, `/`, `.` kept); at each token the
longest lexicon phrase (up to MAX_PHRASE_TOKENS tokens) starting there is taken, case-insensitive,
left to right without overlaps. Predicted texts are copied from the note, so the baseline never
hallucinates. An entity is marked negated when a NegEx-style trigger (NEGATION_TRIGGERS) occurs at
most NEGATION_WINDOW tokens before it in the same sentence.
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from clinical.schema import MEDICATION

MAX_PHRASE_TOKENS = 8
MIN_DRUG_CHARS = 4
NEGATION_WINDOW = 5
NEGATION_TRIGGERS = ("no", "not", "denies", "denied", "without", "negative for", "absence of", "free of", "ruled out")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['\-/.][A-Za-z0-9]+)*")
_SENTENCE_BREAK = re.compile(r"[.;!?\n]")
DRUG_PACKAGE = "drug_named_entity_recognition"
# English function words of 4+ letters; the bundled dictionary holds at least one ("more").
COMMON_WORDS = frozenset(
    "more most much many some such than then them they this that these those with within without from into onto "
    "upon over under after before about above below again also been being both each either every here just like "
    "only other same very well were what when where which while will would your".split()
)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(lower-cased token, start, end) of every token of `text`."""
    return [(m.group(0).lower(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def phrase_key(text: str) -> str:
    """The lexicon key of a phrase: its tokens, lower-cased, joined by single spaces."""
    return " ".join(t for t, _, _ in tokens(text))


@lru_cache(maxsize=1)
def drug_names() -> frozenset[str]:
    """Lexicon keys of the drug name variants bundled with drug-named-entity-recognition."""
    spec = importlib.util.find_spec(DRUG_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {DRUG_PACKAGE} package is not installed (pinned in pyproject.toml)")
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as handle:
        variants = pickle.load(handle)["drug_variant_to_canonical"]
    keys = set()
    plain = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")
    for variant in variants:
        # Most variants are plain lower-case words: their key is themselves (skips the tokenizer).
        key = variant if plain.fullmatch(variant) else phrase_key(variant)
        if len(key) >= MIN_DRUG_CHARS and key not in COMMON_WORDS and re.search("[a-z]", key):
            keys.add(key)
    return frozenset(keys)


@dataclass
class DictionaryBaseline:
    """A phrase → entity type lexicon and the longest-match tagger over it."""

    lexicon: dict[str, str]
    sources: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, train_records: Iterable[Mapping[str, Any]], use_drug_lexicon: bool = True) -> DictionaryBaseline:
        """Lexicon from the train split's entities (records with `entities`) plus the drug names.

        :param train_records: TRAIN split records only (never test or golden: that would leak labels).
        :param use_drug_lexicon: add drug-named-entity-recognition's variants as medications.
        """
        votes: dict[str, Counter] = {}
        for record in train_records:
            for entity in record.get("entities", []):
                key = phrase_key(str(entity.get("text", "")))
                if key and entity.get("type"):
                    votes.setdefault(key, Counter())[entity["type"]] += 1
        lexicon = {key: counter.most_common(1)[0][0] for key, counter in votes.items()}
        sources = {"train_phrases": len(lexicon), "drug_variants": 0}
        if use_drug_lexicon:
            for key in drug_names():
                if key not in lexicon:
                    lexicon[key] = MEDICATION
                    sources["drug_variants"] += 1
        return cls(lexicon=lexicon, sources=sources)

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Entities of one note: `{"type", "text", "negated"?}`, texts copied from the note."""
        toks = tokens(text)
        found: list[dict[str, Any]] = []
        i = 0
        while i < len(toks):
            for n in range(min(MAX_PHRASE_TOKENS, len(toks) - i), 0, -1):
                key = " ".join(t for t, _, _ in toks[i : i + n])
                etype = self.lexicon.get(key)
                if etype is None:
                    continue
                start, end = toks[i][1], toks[i + n - 1][2]
                entity: dict[str, Any] = {"type": etype, "text": text[start:end]}
                if _negated(text, toks, i):
                    entity["negated"] = True
                found.append(entity)
                i += n
                break
            else:
                i += 1
        return found

    def run(self, texts: Iterable[str]) -> list[tuple[list[dict[str, Any]], float]]:
        """(entities, seconds) per note."""
        out = []
        for text in texts:
            started = time.perf_counter()
            entities = self.extract(text)
            out.append((entities, time.perf_counter() - started))
        return out


_TRIGGER_KEYS = tuple(phrase_key(t).split() for t in NEGATION_TRIGGERS)


def _negated(text: str, toks: list[tuple[str, int, int]], index: int) -> bool:
    low = max(0, index - NEGATION_WINDOW)
    window = toks[low:index]
    # Only the tokens after the last sentence break before the entity count.
    for j in range(len(window) - 1, 0, -1):
        if _SENTENCE_BREAK.search(text[window[j - 1][2] : window[j][1]]):
            window = window[j:]
            break
    if window and _SENTENCE_BREAK.search(text[window[-1][2] : toks[index][1]]):
        return False
    words = [t for t, _, _ in window]
    for trigger in _TRIGGER_KEYS:
        for k in range(len(words) - len(trigger) + 1):
            if words[k : k + len(trigger)] == trigger:
                return True
    return False
