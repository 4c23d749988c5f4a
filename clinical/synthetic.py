"""Synthetic labelled clinical notes, written from structured facts so the labels are exact.

Two generations live here:

- `sample_patient_facts` / `sample_clinical_body` (the first, small tables) write the note bodies of
  the demo landing batch (clinical.demo_batch): they stand in for a hospital's own notes.
- `generate_synthetic_notes` (GENERATOR_VERSION) writes the `synthetic_notes` asset from richer facts
  built on real vocabularies: conditions with ICD-10-CM codes and their official descriptions
  (`simple-icd-10-cm`, every code checked to be a valid billable code), drugs checked against the
  lexicon of `drug-named-entity-recognition` (generic and brand names) with doses, routes and
  frequencies per drug class, procedures, and lab tests with units, reference ranges and H/L flags.
  Rare-disease profiles and edge cases (negations, abbreviations, misspellings, lists, tables,
  copy-forward text) are drawn on purpose; each record lists the edge cases it contains.
  A `GeneratorProfile` sets the mix (condition and drug frequencies, entity-type mix, negation rate,
  note lengths); `profile_from_statistics` builds one from differentially private statistics of the
  real data (clinical.privacy), so no real text ever reaches the generator.

A patient is a small set of facts; each note renders some of them into text, recording every
entity's offsets as it writes. Nothing here is PHI: no names, dates, places or identifiers, and ages
stay under 90 (Safe Harbor). The same seed (and profile) always gives the same notes; bump
GENERATOR_VERSION when the output changes. No paraphrasing model is used (templates only).
"""

from __future__ import annotations

import bisect
import bz2
import importlib.util
import math
import pickle
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from clinical.ids import content_hash, sha256_text
from clinical.schema import CONDITION, LAB_VALUE, MEDICATION, PROCEDURE

GENERATOR_VERSION = "synthetic-0.2.0"
NOTE_TYPES = ("progress note", "discharge summary", "consult note")

# (name, ICD-10-CM code, common abbreviation or None, medications usually given for it)
CONDITIONS: tuple[tuple[str, str, str | None, tuple[str, ...]], ...] = (
    ("type 2 diabetes mellitus", "E11.9", "T2DM", ("metformin", "insulin glargine", "empagliflozin")),
    ("essential hypertension", "I10", "HTN", ("lisinopril", "amlodipine", "hydrochlorothiazide")),
    ("chronic obstructive pulmonary disease", "J44.9", "COPD", ("albuterol", "tiotropium")),
    ("chronic kidney disease stage 3", "N18.30", "CKD 3", ("furosemide",)),
    ("atrial fibrillation", "I48.91", "AFib", ("apixaban", "metoprolol succinate")),
    ("heart failure", "I50.9", "CHF", ("furosemide", "carvedilol", "spironolactone")),
    ("coronary artery disease", "I25.10", "CAD", ("aspirin", "atorvastatin", "clopidogrel")),
    ("hyperlipidemia", "E78.5", "HLD", ("atorvastatin", "rosuvastatin")),
    ("asthma", "J45.909", None, ("albuterol", "fluticasone")),
    ("gastroesophageal reflux disease", "K21.9", "GERD", ("omeprazole", "pantoprazole")),
    ("hypothyroidism", "E03.9", None, ("levothyroxine",)),
    ("major depressive disorder", "F32.9", "MDD", ("sertraline",)),
    ("generalized anxiety disorder", "F41.1", "GAD", ("sertraline",)),
    ("osteoarthritis of knee", "M17.9", "OA", ("acetaminophen",)),
    ("obstructive sleep apnea", "G47.33", "OSA", ()),
    ("iron deficiency anemia", "D50.9", None, ("ferrous sulfate",)),
    ("community-acquired pneumonia", "J18.9", "CAP", ("ceftriaxone", "azithromycin")),
    ("urinary tract infection", "N39.0", "UTI", ("nitrofurantoin",)),
    ("cellulitis of lower limb", "L03.119", None, ("cephalexin", "vancomycin")),
    ("deep vein thrombosis", "I82.409", "DVT", ("apixaban", "enoxaparin")),
    ("gout", "M10.9", None, ("allopurinol",)),
    ("migraine", "G43.909", None, ("sumatriptan",)),
    ("benign prostatic hyperplasia", "N40.0", "BPH", ("tamsulosin",)),
    ("obesity", "E66.9", None, ()),
    ("peripheral neuropathy", "G62.9", None, ("gabapentin",)),
)

# name -> (dose, route, frequency)
MEDICATIONS: dict[str, tuple[str, str, str]] = {
    "metformin": ("500 mg", "PO", "BID"),
    "insulin glargine": ("20 units", "SC", "at bedtime"),
    "empagliflozin": ("10 mg", "PO", "daily"),
    "lisinopril": ("10 mg", "PO", "daily"),
    "amlodipine": ("5 mg", "PO", "daily"),
    "hydrochlorothiazide": ("25 mg", "PO", "daily"),
    "albuterol": ("2 puffs", "inhaled", "q4h PRN"),
    "tiotropium": ("18 mcg", "inhaled", "daily"),
    "furosemide": ("40 mg", "PO", "BID"),
    "apixaban": ("5 mg", "PO", "BID"),
    "metoprolol succinate": ("50 mg", "PO", "daily"),
    "carvedilol": ("12.5 mg", "PO", "BID"),
    "spironolactone": ("25 mg", "PO", "daily"),
    "aspirin": ("81 mg", "PO", "daily"),
    "atorvastatin": ("40 mg", "PO", "nightly"),
    "rosuvastatin": ("20 mg", "PO", "daily"),
    "clopidogrel": ("75 mg", "PO", "daily"),
    "fluticasone": ("110 mcg", "inhaled", "BID"),
    "omeprazole": ("20 mg", "PO", "daily"),
    "pantoprazole": ("40 mg", "PO", "daily"),
    "levothyroxine": ("75 mcg", "PO", "daily"),
    "sertraline": ("50 mg", "PO", "daily"),
    "acetaminophen": ("650 mg", "PO", "q6h PRN"),
    "ferrous sulfate": ("325 mg", "PO", "daily"),
    "ceftriaxone": ("1 g", "IV", "q24h"),
    "vancomycin": ("1 g", "IV", "q12h"),
    "azithromycin": ("500 mg", "PO", "daily"),
    "nitrofurantoin": ("100 mg", "PO", "BID"),
    "cephalexin": ("500 mg", "PO", "QID"),
    "enoxaparin": ("40 mg", "SC", "daily"),
    "allopurinol": ("100 mg", "PO", "daily"),
    "sumatriptan": ("50 mg", "PO", "PRN"),
    "tamsulosin": ("0.4 mg", "PO", "daily"),
    "gabapentin": ("300 mg", "PO", "TID"),
}

PROCEDURES: tuple[str, ...] = (
    "laparoscopic cholecystectomy",
    "appendectomy",
    "total knee arthroplasty",
    "cardiac catheterization",
    "percutaneous coronary intervention",
    "colonoscopy",
    "upper endoscopy",
    "coronary artery bypass grafting",
    "transthoracic echocardiogram",
    "CT of the abdomen and pelvis",
    "MRI of the lumbar spine",
    "hemodialysis catheter placement",
    "cataract surgery",
    "thyroidectomy",
    "lumbar puncture",
)

# (study, finding it rules out, ICD-10-CM code of the finding)
IMAGING: tuple[tuple[str, str, str], ...] = (
    ("Chest X-ray", "pneumonia", "J18.9"),
    ("CT chest", "pulmonary embolism", "I26.99"),
    ("Abdominal ultrasound", "cholelithiasis", "K80.20"),
    ("EKG", "acute ischemia", "I24.9"),
)

# (name as written, unit, low, high, decimals): ranges straddle normal so some results are abnormal.
LABS: tuple[tuple[str, str, float, float, int], ...] = (
    ("Hgb", "g/dL", 8.5, 16.5, 1),
    ("WBC", "K/uL", 3.5, 15.0, 1),
    ("platelets", "K/uL", 120, 420, 0),
    ("sodium", "mmol/L", 128, 146, 0),
    ("potassium", "mmol/L", 3.1, 5.6, 1),
    ("creatinine", "mg/dL", 0.6, 2.8, 1),
    ("BUN", "mg/dL", 7, 45, 0),
    ("glucose", "mg/dL", 70, 280, 0),
    ("HbA1c", "%", 5.2, 10.5, 1),
    ("TSH", "mIU/L", 0.3, 6.5, 2),
    ("LDL", "mg/dL", 60, 190, 0),
    ("troponin I", "ng/mL", 0.0, 0.09, 2),
)

# Findings a note may rule out: (phrase, ICD-10-CM code).
NEGATABLE: tuple[tuple[str, str], ...] = (
    ("chest pain", "R07.9"),
    ("shortness of breath", "R06.02"),
    ("fever", "R50.9"),
    ("nausea", "R11.0"),
    ("abdominal pain", "R10.9"),
    ("headache", "R51.9"),
    ("dysuria", "R30.0"),
    ("lower extremity edema", "R60.0"),
)
NEGATION_CUES = ("Pt denies ", "No ", "Negative for ")

SECTION_TITLES = {
    "progress note": ("Subjective", "Current medications", "Labs", "Assessment and plan"),
    "discharge summary": ("Hospital course", "Discharge medications", "Labs at discharge", "Follow-up"),
    "consult note": ("Reason for consult", "Home medications", "Pertinent labs", "Recommendations"),
}


@dataclass(frozen=True)
class PatientFacts:
    """What is true of one synthetic patient; notes render a subset of it."""

    age: int
    sex: str
    conditions: tuple[tuple[str, str, str | None, tuple[str, ...]], ...]
    medications: tuple[str, ...]
    procedures: tuple[str, ...]


def sample_patient_facts(rng: random.Random) -> PatientFacts:
    """Draw one patient's facts from the tables with `rng`."""
    conditions = tuple(rng.sample(CONDITIONS, rng.randint(2, 4)))
    indicated = sorted({m for c in conditions for m in c[3]})
    medications = rng.sample(indicated, min(len(indicated), rng.randint(2, 4)))
    if len(medications) < 2:
        medications += rng.sample(sorted(set(MEDICATIONS) - set(medications)), 2 - len(medications))
    return PatientFacts(
        age=rng.randint(24, 88),
        sex=rng.choice(("male", "female")),
        conditions=conditions,
        medications=tuple(medications),
        procedures=tuple(rng.sample(PROCEDURES, rng.randint(0, 2))),
    )


class _NoteWriter:
    """Appends text and records entity offsets as it goes, so offsets are exact by construction."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def entity(self, etype: str, text: str, **attributes: Any) -> None:
        start = self.length
        self.add(text)
        entity = {"type": etype, "text": text, "start": start, "end": self.length}
        entity.update({k: v for k, v in attributes.items() if v is not None})
        self.entities.append(entity)

    def condition(self, rng: random.Random, condition) -> None:
        name, icd10, abbreviation, _ = condition
        use_abbreviation = abbreviation is not None and rng.random() < 0.4
        self.entity(CONDITION, abbreviation if use_abbreviation else name, icd10=icd10)

    def listing(self, items, write_item) -> None:
        for i, item in enumerate(items):
            if i:
                self.add(" and " if i == len(items) - 1 else ", ")
            write_item(item)

    def text(self) -> str:
        return "".join(self.parts)


def sample_clinical_body(
    rng: random.Random, facts: PatientFacts | None = None, note_type: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Write one note body (no header, no PHI) and its entities with exact offsets.

    rng: the random source (the only one used); facts: the patient to describe (drawn from rng
    when None); note_type: one of NOTE_TYPES (drawn when None), which picks the section titles.
    """
    facts = facts or sample_patient_facts(rng)
    note_type = note_type or rng.choice(NOTE_TYPES)
    titles = SECTION_TITLES[note_type]
    w = _NoteWriter()

    w.add(f"{titles[0]}: {facts.age}-year-old {facts.sex} with a hx of ")
    w.listing(facts.conditions, lambda c: w.condition(rng, c))
    if facts.procedures:
        w.add(", s/p ")
        w.listing(facts.procedures, lambda p: w.entity(PROCEDURE, p))
    w.add(". ")
    negated = rng.sample(NEGATABLE, rng.randint(1, 2))
    cue = rng.choice(NEGATION_CUES)
    w.add(cue)
    w.listing(negated, lambda f: w.entity(CONDITION, f[0], icd10=f[1], negated=True))
    w.add(".\n\n")

    w.add(f"{titles[1]}:\n")
    for name in facts.medications:
        dose, route, frequency = MEDICATIONS[name]
        w.add("- ")
        w.entity(MEDICATION, name, dose=dose, route=route, frequency=frequency)
        w.add(f" {dose} {route} {frequency}\n")

    w.add(f"\n{titles[2]}: ")
    labs = rng.sample(LABS, rng.randint(2, 4))
    w.listing(labs, lambda lab: _write_lab(w, rng, lab))
    w.add(". ")
    study, finding, icd10 = rng.choice(IMAGING)
    w.entity(PROCEDURE, study)
    w.add(": no evidence of ")
    w.entity(CONDITION, finding, icd10=icd10, negated=True)
    w.add(".\n\n")

    w.add(f"{titles[3]}:\n")
    for i, condition in enumerate(facts.conditions[:2], start=1):
        w.add(f"{i}. ")
        w.condition(rng, condition)
        related = [m for m in facts.medications if m in condition[3]]
        if related:
            w.add(": continue ")
            w.entity(MEDICATION, related[0])
            w.add(".\n")
        else:
            w.add(": monitor, f/u in clinic.\n")
    return w.text(), w.entities


def _write_lab(w: _NoteWriter, rng: random.Random, lab) -> None:
    name, unit, low, high, decimals = lab
    value = f"{rng.uniform(low, high):.{decimals}f}"
    separator = rng.choice((" ", ": "))
    spaced_unit = unit if unit == "%" else f" {unit}"
    w.entity(LAB_VALUE, f"{name}{separator}{value}{spaced_unit}", value=value, unit=unit, test=name)


def synthetic_patient_key(seed: int, index: int) -> str:
    """Key of the `index`-th synthetic patient of `seed`: never collides with real `pt_` keys."""
    return "syn_pt_" + sha256_text(f"{GENERATOR_VERSION}\x1f{seed}\x1f{index}")[:24]


# ------------------------------------------------------------------------------------------------
# Generator v2: real vocabularies, each loaded once per process.


class VocabularyError(ValueError):
    """A curated table names an ICD-10-CM code or a drug that the real vocabulary does not know."""


@lru_cache(maxsize=1)
def _icd10_cm() -> Any:
    import simple_icd_10_cm  # the full April 2026 tabular list: ~2.5 s, loaded on first use only

    return simple_icd_10_cm


@cache
def icd10_description(code: str) -> str:
    """The official ICD-10-CM description of a valid billable (leaf) code; VocabularyError otherwise."""
    cm = _icd10_cm()
    if not cm.is_valid_item(code):
        raise VocabularyError(f"ICD-10-CM code {code!r} does not exist")
    if not cm.is_leaf(code):
        raise VocabularyError(f"ICD-10-CM code {code!r} is a category with subcodes, not a billable code")
    return cm.get_description(code)


@dataclass(frozen=True)
class DrugLexicon:
    """The drug dictionary of `drug-named-entity-recognition`: generic names and every name variant."""

    generics: frozenset[str]
    variant_to_generics: Mapping[str, tuple[str, ...]]

    def generic_of(self, name: str) -> str | None:
        """The generic a name (generic, brand or variant, any case) stands for, when exactly one."""
        generics = self.variant_to_generics.get(name.lower(), ())
        return generics[0] if len(generics) == 1 else None


@lru_cache(maxsize=1)
def drug_lexicon() -> DrugLexicon:
    """Load the package's bundled dictionary directly (0.7 s), without importing its module, which also
    reads a cache in the home folder and can reach for the network."""
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise VocabularyError("drug-named-entity-recognition is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as handle:
        data = pickle.load(handle)  # the file the package itself ships and unpickles
    return DrugLexicon(
        generics=frozenset(data["drug_canonical_to_data"]),
        variant_to_generics={k: tuple(v) for k, v in data["drug_variant_to_canonical"].items()},
    )


@dataclass(frozen=True)
class DrugClass:
    """Drugs given the same way: routes and frequencies of the class, doses per drug."""

    routes: tuple[str, ...]
    frequencies: tuple[str, ...]
    doses: Mapping[str, tuple[str, ...]]


def _dc(routes: str, frequencies: str, **doses: str) -> DrugClass:
    return DrugClass(
        tuple(routes.split("|")),
        tuple(frequencies.split("|")),
        {name.replace("_", " "): tuple(d.split("|")) for name, d in doses.items()},
    )


# Curated: usual adult doses; every drug name is checked against the lexicon (validate_vocabularies).
DRUG_CLASSES: dict[str, DrugClass] = {
    "biguanide": _dc("PO", "BID|twice daily with meals", metformin="500 mg|850 mg|1000 mg"),
    "sulfonylurea": _dc("PO", "daily|BID", glipizide="5 mg|10 mg", glimepiride="1 mg|2 mg|4 mg"),
    "dpp4_inhibitor": _dc("PO", "daily", sitagliptin="50 mg|100 mg"),
    "sglt2_inhibitor": _dc("PO", "daily|every morning", empagliflozin="10 mg|25 mg", dapagliflozin="5 mg|10 mg"),
    "glp1_agonist": _dc("SC", "weekly|once weekly", semaglutide="0.25 mg|0.5 mg|1 mg", dulaglutide="0.75 mg|1.5 mg"),
    "basal_insulin": _dc("SC", "at bedtime|nightly|daily", insulin_glargine="10 units|20 units|32 units"),
    "ace_inhibitor": _dc("PO", "daily", lisinopril="5 mg|10 mg|20 mg|40 mg", enalapril="5 mg|10 mg"),
    "arb": _dc("PO", "daily", losartan="25 mg|50 mg|100 mg", valsartan="80 mg|160 mg"),
    "calcium_channel_blocker": _dc("PO", "daily", amlodipine="2.5 mg|5 mg|10 mg", nifedipine="30 mg|60 mg"),
    "thiazide": _dc("PO", "daily|every morning", hydrochlorothiazide="12.5 mg|25 mg", chlorthalidone="12.5 mg|25 mg"),
    "loop_diuretic": _dc(
        "PO|IV", "daily|BID", furosemide="20 mg|40 mg|80 mg", torsemide="10 mg|20 mg", bumetanide="1 mg|2 mg"
    ),
    "mineralocorticoid_antagonist": _dc("PO", "daily", spironolactone="12.5 mg|25 mg"),
    "beta_blocker": _dc(
        "PO", "daily|BID", metoprolol="25 mg|50 mg", carvedilol="3.125 mg|6.25 mg|12.5 mg", atenolol="25 mg|50 mg"
    ),
    "anticoagulant": _dc("PO", "BID|twice daily", apixaban="2.5 mg|5 mg", rivaroxaban="15 mg", dabigatran="150 mg"),
    "low_molecular_weight_heparin": _dc("SC", "daily|q12h", enoxaparin="40 mg|1 mg/kg"),
    "antiplatelet": _dc("PO", "daily", aspirin="81 mg|325 mg", clopidogrel="75 mg"),
    "statin": _dc(
        "PO",
        "nightly|daily at bedtime|daily",
        atorvastatin="10 mg|20 mg|40 mg|80 mg",
        rosuvastatin="5 mg|10 mg|20 mg",
        simvastatin="20 mg|40 mg",
        pravastatin="20 mg|40 mg",
    ),
    "short_acting_beta_agonist": _dc("inhaled", "q4h PRN|q6h as needed", albuterol="2 puffs|2.5 mg nebulized"),
    "long_acting_antimuscarinic": _dc("inhaled", "daily", tiotropium="18 mcg|2.5 mcg"),
    "inhaled_corticosteroid": _dc("inhaled", "BID|twice daily", fluticasone="110 mcg|220 mcg", budesonide="180 mcg"),
    "leukotriene_antagonist": _dc("PO", "nightly|at bedtime", montelukast="10 mg"),
    "proton_pump_inhibitor": _dc("PO", "daily|BID before meals", omeprazole="20 mg|40 mg", pantoprazole="40 mg"),
    "h2_blocker": _dc("PO", "BID|at bedtime", famotidine="20 mg"),
    "thyroid_hormone": _dc("PO", "daily|every morning", levothyroxine="25 mcg|50 mcg|75 mcg|100 mcg|125 mcg"),
    "ssri": _dc("PO", "daily", sertraline="50 mg|100 mg", escitalopram="10 mg|20 mg", fluoxetine="20 mg|40 mg"),
    "analgesic": _dc("PO", "q6h PRN|every 6 hours as needed", acetaminophen="500 mg|650 mg|1 g"),
    "nsaid": _dc("PO", "q8h PRN|BID with food", ibuprofen="400 mg|600 mg", naproxen="250 mg|500 mg"),
    "iron_supplement": _dc("PO", "daily|every other day", ferrous_sulfate="325 mg"),
    "third_generation_cephalosporin": _dc("IV", "q24h|daily", ceftriaxone="1 g|2 g"),
    "macrolide": _dc("PO|IV", "daily", azithromycin="250 mg|500 mg"),
    "glycopeptide": _dc("IV", "q12h", vancomycin="1 g|1.25 g|15 mg/kg"),
    "urinary_antibiotic": _dc("PO", "BID|q12h", nitrofurantoin="100 mg"),
    "first_generation_cephalosporin": _dc("PO", "QID|q6h", cephalexin="500 mg"),
    "fluoroquinolone": _dc("PO", "daily", levofloxacin="500 mg|750 mg"),
    "xanthine_oxidase_inhibitor": _dc("PO", "daily", allopurinol="100 mg|300 mg", febuxostat="40 mg"),
    "antigout": _dc("PO", "daily|BID", colchicine="0.6 mg"),
    "triptan": _dc("PO", "PRN|as needed at onset", sumatriptan="50 mg|100 mg"),
    "alpha_blocker": _dc("PO", "daily at bedtime|nightly", tamsulosin="0.4 mg"),
    "gabapentinoid": _dc("PO", "TID|three times daily", gabapentin="100 mg|300 mg|600 mg", pregabalin="75 mg"),
    "corticosteroid": _dc("PO", "daily|every morning", prednisone="5 mg|10 mg|20 mg|40 mg"),
    # rare-disease therapies
    "cftr_modulator": _dc("PO", "q12h|BID", ivacaftor="150 mg"),
    "mucolytic": _dc("inhaled", "daily", dornase_alfa="2.5 mg"),
    "inhaled_aminoglycoside": _dc("inhaled", "BID", tobramycin="300 mg"),
    "enzyme_replacement": _dc(
        "IV",
        "every 2 weeks|every other week",
        imiglucerase="60 units/kg",
        agalsidase_beta="1 mg/kg",
        alglucosidase_alfa="20 mg/kg",
    ),
    "copper_chelator": _dc("PO", "BID|twice daily", penicillamine="250 mg|500 mg", trientine="250 mg|500 mg"),
    "antisickling": _dc("PO", "daily", hydroxyurea="500 mg|1000 mg|15 mg/kg"),
    "pah_cofactor": _dc("PO", "daily", sapropterin="10 mg/kg|20 mg/kg"),
    "glutamate_inhibitor": _dc("PO", "BID|q12h", riluzole="50 mg"),
    "cholinesterase_inhibitor": _dc("PO", "q6h|TID", pyridostigmine="30 mg|60 mg"),
    "antimalarial": _dc("PO", "daily|BID", hydroxychloroquine="200 mg|400 mg"),
    "bradykinin_antagonist": _dc("SC", "PRN for attacks", icatibant="30 mg"),
    "dmd_corticosteroid": _dc("PO", "daily", deflazacort="0.9 mg/kg|36 mg"),
    "somatostatin_analog": _dc("SC", "TID", octreotide="100 mcg|50 mcg"),
    "endothelin_antagonist": _dc("PO", "BID", bosentan="62.5 mg|125 mg"),
    "pde5_inhibitor": _dc("PO", "TID|three times daily", sildenafil="20 mg"),
    "complement_inhibitor": _dc("IV", "every 2 weeks", eculizumab="900 mg|1200 mg"),
}

# Brand names written in place of the generic now and then; each is checked to map to its generic.
BRAND_NAMES: dict[str, str] = {
    "metformin": "Glucophage",
    "furosemide": "Lasix",
    "apixaban": "Eliquis",
    "atorvastatin": "Lipitor",
    "lisinopril": "Zestril",
    "omeprazole": "Prilosec",
    "sertraline": "Zoloft",
    "albuterol": "Ventolin",
    "tiotropium": "Spiriva",
    "clopidogrel": "Plavix",
    "empagliflozin": "Jardiance",
    "insulin glargine": "Lantus",
    "gabapentin": "Neurontin",
    "tamsulosin": "Flomax",
    "semaglutide": "Ozempic",
    "amlodipine": "Norvasc",
    "losartan": "Cozaar",
    "acetaminophen": "Tylenol",
    "pantoprazole": "Protonix",
    "ivacaftor": "Kalydeco",
    "imiglucerase": "Cerezyme",
    "sapropterin": "Kuvan",
    "riluzole": "Rilutek",
    "pyridostigmine": "Mestinon",
    "hydroxychloroquine": "Plaquenil",
    "eculizumab": "Soliris",
}


@dataclass(frozen=True)
class LabTest:
    """A lab test: names as written, unit, reference range and the usual range of draws."""

    names: tuple[str, ...]
    unit: str
    ref_low: float
    ref_high: float
    low: float
    high: float
    decimals: int


LAB_TESTS: dict[str, LabTest] = {
    "hemoglobin": LabTest(("Hgb", "hemoglobin"), "g/dL", 12.0, 16.0, 9.5, 16.5, 1),
    "wbc": LabTest(("WBC",), "K/uL", 4.0, 11.0, 3.5, 15.0, 1),
    "platelets": LabTest(("Plt", "platelets"), "K/uL", 150, 400, 120, 420, 0),
    "sodium": LabTest(("Na", "sodium"), "mmol/L", 135, 145, 128, 146, 0),
    "potassium": LabTest(("K", "potassium"), "mmol/L", 3.5, 5.0, 3.1, 5.6, 1),
    "creatinine": LabTest(("Cr", "creatinine"), "mg/dL", 0.6, 1.2, 0.6, 2.0, 1),
    "bun": LabTest(("BUN",), "mg/dL", 7, 20, 7, 35, 0),
    "glucose": LabTest(("glucose", "BG"), "mg/dL", 70, 99, 70, 220, 0),
    "hba1c": LabTest(("HbA1c", "A1c"), "%", 4.0, 5.6, 5.2, 9.5, 1),
    "tsh": LabTest(("TSH",), "mIU/L", 0.4, 4.0, 0.3, 6.5, 2),
    "ldl": LabTest(("LDL",), "mg/dL", 0, 100, 60, 190, 0),
    "troponin": LabTest(("troponin I", "TnI"), "ng/mL", 0.0, 0.04, 0.0, 0.09, 2),
    "bnp": LabTest(("BNP",), "pg/mL", 0, 100, 20, 900, 0),
    "ferritin": LabTest(("ferritin",), "ng/mL", 20, 250, 8, 300, 0),
    "uric_acid": LabTest(("uric acid",), "mg/dL", 3.5, 7.2, 3.5, 9.5, 1),
    "alt": LabTest(("ALT",), "U/L", 7, 56, 10, 120, 0),
    "ck": LabTest(("CK", "creatine kinase"), "U/L", 30, 200, 40, 400, 0),
    "sweat_chloride": LabTest(("sweat chloride",), "mmol/L", 0, 29, 10, 40, 0),
    "ceruloplasmin": LabTest(("ceruloplasmin",), "mg/dL", 20, 35, 18, 40, 0),
    "phenylalanine": LabTest(("phenylalanine", "Phe"), "umol/L", 35, 120, 40, 150, 0),
    "reticulocytes": LabTest(("reticulocytes", "retic"), "%", 0.5, 2.5, 0.5, 3.0, 1),
    "igf1": LabTest(("IGF-1",), "ng/mL", 100, 300, 90, 320, 0),
    "ldh": LabTest(("LDH",), "U/L", 140, 280, 120, 300, 0),
}
ROUTINE_LABS = ("hemoglobin", "wbc", "platelets", "sodium", "potassium", "creatinine", "bun", "glucose")


@dataclass(frozen=True)
class ConditionProfile:
    """A condition: name, ICD-10-CM code, abbreviation, drug classes, labs it shifts, procedures."""

    name: str
    icd10: str
    abbreviation: str | None = None
    drug_classes: tuple[str, ...] = ()
    labs: tuple[tuple[str, float, float], ...] = ()  # (lab test key, low, high) drawn for this condition
    procedures: tuple[str, ...] = ()
    rare: bool = False


def _cp(name, icd10, abbreviation=None, classes="", labs=(), procedures=(), rare=False) -> ConditionProfile:
    return ConditionProfile(
        name, icd10, abbreviation, tuple(c for c in classes.split() if c), tuple(labs), tuple(procedures), rare
    )


CONDITION_PROFILES: tuple[ConditionProfile, ...] = (
    _cp(
        "type 2 diabetes mellitus",
        "E11.9",
        "T2DM",
        "biguanide sglt2_inhibitor sulfonylurea glp1_agonist basal_insulin dpp4_inhibitor",
        [("hba1c", 7.2, 10.5), ("glucose", 140, 280)],
    ),
    _cp("essential hypertension", "I10", "HTN", "ace_inhibitor arb calcium_channel_blocker thiazide"),
    _cp(
        "chronic obstructive pulmonary disease",
        "J44.9",
        "COPD",
        "short_acting_beta_agonist long_acting_antimuscarinic inhaled_corticosteroid",
        procedures=["pulmonary function testing"],
    ),
    _cp(
        "chronic kidney disease stage 3",
        "N18.30",
        "CKD 3",
        "loop_diuretic",
        [("creatinine", 1.5, 2.8), ("bun", 25, 45)],
        ["renal ultrasound"],
    ),
    _cp(
        "atrial fibrillation",
        "I48.91",
        "AFib",
        "anticoagulant beta_blocker",
        procedures=["transthoracic echocardiogram"],
    ),
    _cp(
        "heart failure",
        "I50.9",
        "CHF",
        "loop_diuretic beta_blocker mineralocorticoid_antagonist",
        [("bnp", 400, 2400)],
        ["transthoracic echocardiogram"],
    ),
    _cp(
        "coronary artery disease",
        "I25.10",
        "CAD",
        "antiplatelet statin",
        procedures=["cardiac catheterization", "percutaneous coronary intervention", "coronary artery bypass grafting"],
    ),
    _cp("hyperlipidemia", "E78.5", "HLD", "statin", [("ldl", 130, 190)]),
    _cp("asthma", "J45.909", None, "short_acting_beta_agonist inhaled_corticosteroid leukotriene_antagonist"),
    _cp(
        "gastroesophageal reflux disease",
        "K21.9",
        "GERD",
        "proton_pump_inhibitor h2_blocker",
        procedures=["upper endoscopy"],
    ),
    _cp("hypothyroidism", "E03.9", None, "thyroid_hormone", [("tsh", 5.5, 12.0)]),
    _cp("major depressive disorder", "F32.9", "MDD", "ssri"),
    _cp("generalized anxiety disorder", "F41.1", "GAD", "ssri"),
    _cp("osteoarthritis of knee", "M17.9", "OA", "analgesic nsaid", procedures=["total knee arthroplasty"]),
    _cp("obstructive sleep apnea", "G47.33", "OSA", procedures=["polysomnography"]),
    _cp(
        "iron deficiency anemia",
        "D50.9",
        "IDA",
        "iron_supplement",
        [("hemoglobin", 7.5, 10.9), ("ferritin", 3, 15)],
        ["colonoscopy"],
    ),
    _cp(
        "community-acquired pneumonia",
        "J18.9",
        "CAP",
        "third_generation_cephalosporin macrolide",
        [("wbc", 11.5, 19.0)],
        ["chest X-ray"],
    ),
    _cp("urinary tract infection", "N39.0", "UTI", "urinary_antibiotic fluoroquinolone", procedures=["urine culture"]),
    _cp("cellulitis of right lower limb", "L03.115", None, "first_generation_cephalosporin glycopeptide"),
    _cp(
        "deep vein thrombosis",
        "I82.409",
        "DVT",
        "anticoagulant low_molecular_weight_heparin",
        procedures=["venous duplex ultrasound"],
    ),
    _cp("gout", "M10.9", None, "xanthine_oxidase_inhibitor antigout", [("uric_acid", 7.5, 11.0)], ["arthrocentesis"]),
    _cp("migraine", "G43.909", None, "triptan", procedures=["MRI of the brain"]),
    _cp("benign prostatic hyperplasia", "N40.0", "BPH", "alpha_blocker"),
    _cp("obesity", "E66.9", None, "glp1_agonist"),
    _cp("peripheral neuropathy", "G62.9", None, "gabapentinoid", procedures=["electromyography"]),
    # rare-disease profiles
    _cp(
        "cystic fibrosis",
        "E84.0",
        "CF",
        "cftr_modulator mucolytic inhaled_aminoglycoside",
        [("sweat_chloride", 65, 110)],
        ["sweat chloride test", "pulmonary function testing"],
        True,
    ),
    _cp(
        "Gaucher disease",
        "E75.22",
        None,
        "enzyme_replacement",
        [("platelets", 60, 120), ("hemoglobin", 9.0, 11.5)],
        ["bone marrow biopsy", "MRI of the femurs"],
        True,
    ),
    _cp(
        "Wilson's disease",
        "E83.01",
        None,
        "copper_chelator",
        [("ceruloplasmin", 4, 15), ("alt", 80, 260)],
        ["slit-lamp examination", "liver biopsy"],
        True,
    ),
    _cp(
        "sickle cell disease",
        "D57.1",
        "SCD",
        "antisickling",
        [("hemoglobin", 6.5, 9.5), ("reticulocytes", 5.0, 15.0)],
        ["red cell exchange transfusion"],
        True,
    ),
    _cp("phenylketonuria", "E70.0", "PKU", "pah_cofactor", [("phenylalanine", 600, 1500)], ["genetic testing"], True),
    _cp(
        "amyotrophic lateral sclerosis",
        "G12.21",
        "ALS",
        "glutamate_inhibitor",
        [("ck", 200, 600)],
        ["electromyography", "percutaneous endoscopic gastrostomy"],
        True,
    ),
    _cp(
        "myasthenia gravis",
        "G70.00",
        "MG",
        "cholinesterase_inhibitor corticosteroid",
        procedures=["single-fiber electromyography", "thymectomy"],
        rare=True,
    ),
    _cp(
        "systemic lupus erythematosus",
        "M32.9",
        "SLE",
        "antimalarial corticosteroid",
        procedures=["renal biopsy"],
        rare=True,
    ),
    _cp(
        "Marfan syndrome",
        "Q87.40",
        None,
        "arb beta_blocker",
        procedures=["transthoracic echocardiogram", "slit-lamp examination"],
        rare=True,
    ),
    _cp("Fabry disease", "E75.21", None, "enzyme_replacement", [("creatinine", 1.3, 2.4)], ["genetic testing"], True),
    _cp(
        "hereditary angioedema",
        "D84.1",
        "HAE",
        "bradykinin_antagonist",
        procedures=["C1 esterase inhibitor assay"],
        rare=True,
    ),
    _cp(
        "Duchenne muscular dystrophy",
        "G71.01",
        "DMD",
        "dmd_corticosteroid",
        [("ck", 5000, 30000)],
        ["muscle biopsy", "genetic testing"],
        True,
    ),
    _cp("acromegaly", "E22.0", None, "somatostatin_analog", [("igf1", 400, 900)], ["MRI of the pituitary"], True),
    _cp(
        "pulmonary arterial hypertension",
        "I27.0",
        "PAH",
        "endothelin_antagonist pde5_inhibitor",
        procedures=["right heart catheterization"],
        rare=True,
    ),
    _cp(
        "paroxysmal nocturnal hemoglobinuria",
        "D59.5",
        "PNH",
        "complement_inhibitor",
        [("ldh", 600, 2500), ("hemoglobin", 7.0, 10.0)],
        ["flow cytometry"],
        True,
    ),
    _cp("Pompe disease", "E74.02", None, "enzyme_replacement", [("ck", 300, 2000)], ["muscle biopsy"], True),
)

GENERAL_PROCEDURES: tuple[str, ...] = (
    "laparoscopic cholecystectomy",
    "appendectomy",
    "colonoscopy",
    "upper endoscopy",
    "cataract surgery",
    "thyroidectomy",
    "lumbar puncture",
    "CT of the abdomen and pelvis",
    "MRI of the lumbar spine",
    "hernia repair",
    "tonsillectomy",
    "carpal tunnel release",
)

# (study, finding it rules out, ICD-10-CM code of the finding)
STUDIES: tuple[tuple[str, str, str], ...] = (
    ("chest X-ray", "pneumonia", "J18.9"),
    ("chest radiograph", "pleural effusion", "J90"),
    ("CT chest", "pulmonary embolism", "I26.99"),
    ("CT chest", "pneumothorax", "J93.9"),
    ("abdominal ultrasound", "cholelithiasis", "K80.20"),
    ("renal ultrasound", "hydronephrosis", "N13.30"),
    ("EKG", "acute ischemia", "I24.9"),
    ("CT abdomen", "appendicitis", "K35.80"),
    ("abdominal X-ray", "ileus", "K56.7"),
)

# Findings a note may rule out: (phrase, abbreviation or None, ICD-10-CM code).
FINDINGS: tuple[tuple[str, str | None, str], ...] = (
    ("chest pain", "CP", "R07.9"),
    ("shortness of breath", "SOB", "R06.02"),
    ("fever", None, "R50.9"),
    ("chills", None, "R68.83"),
    ("nausea", None, "R11.0"),
    ("abdominal pain", None, "R10.9"),
    ("headache", "HA", "R51.9"),
    ("dysuria", None, "R30.0"),
    ("lower extremity edema", "LE edema", "R60.0"),
    ("palpitations", None, "R00.2"),
    ("syncope", None, "R55"),
    ("cough", None, "R05.9"),
    ("hematuria", None, "R31.9"),
    ("melena", None, "K92.1"),
    ("weight loss", None, "R63.4"),
    ("night sweats", None, "R61"),
    ("rash", None, "R21"),
    ("diarrhea", None, "R19.7"),
    ("dizziness", None, "R42"),
)


def validate_vocabularies() -> dict[str, int]:
    """Check every curated code and drug against the real vocabularies; return how many of each.

    Raises VocabularyError naming the first unknown code, drug or brand.
    """
    codes = {p.icd10 for p in CONDITION_PROFILES} | {c for *_, c in FINDINGS} | {c for *_, c in STUDIES}
    for code in sorted(codes):
        icd10_description(code)
    lexicon = drug_lexicon()
    drugs = sorted({d for cls in DRUG_CLASSES.values() for d in cls.doses})
    for drug in drugs:
        if drug not in lexicon.generics:
            raise VocabularyError(f"drug {drug!r} is not a generic name of the drug lexicon")
    for generic, brand in sorted(BRAND_NAMES.items()):
        if lexicon.generic_of(brand) != generic:
            raise VocabularyError(f"brand {brand!r} does not map to {generic!r} in the drug lexicon")
    for profile in CONDITION_PROFILES:
        for cls in profile.drug_classes:
            if cls not in DRUG_CLASSES:
                raise VocabularyError(f"{profile.name}: unknown drug class {cls!r}")
        for lab, *_ in profile.labs:
            if lab not in LAB_TESTS:
                raise VocabularyError(f"{profile.name}: unknown lab test {lab!r}")
    return {"icd10_codes": len(codes), "drugs": len(drugs), "brands": len(BRAND_NAMES), "labs": len(LAB_TESTS)}


ALL_DRUGS: tuple[str, ...] = tuple(sorted({d for cls in DRUG_CLASSES.values() for d in cls.doses}))
CLASS_OF_DRUG: dict[str, str] = {d: name for name, cls in DRUG_CLASSES.items() for d in cls.doses}


# ------------------------------------------------------------------------------------------------
# The generator's profile: what to draw how often. Defaults, or built from DP statistics of real data.

LENGTH_BINS: tuple[int, ...] = (0, 600, 900, 1200, 1600, 2200, 3000)  # left edges (characters)
LENGTH_MAX = 4000  # right edge of the last bin
DEFAULT_TYPE_MIX: dict[str, float] = {CONDITION: 0.42, MEDICATION: 0.28, PROCEDURE: 0.10, LAB_VALUE: 0.20}
DEFAULT_NEGATION_RATE = 0.2
DEFAULT_LENGTH_WEIGHTS: tuple[float, ...] = (0.05, 0.2, 0.3, 0.25, 0.12, 0.06, 0.02)
RARE_WEIGHT = 0.1  # a rare-disease profile is drawn this much as often as a common condition by default
PRIOR_DOCUMENTS = 20.0  # how many documents' worth of weight the defaults keep against real statistics


@dataclass(frozen=True)
class GeneratorProfile:
    """Sampling weights of the generator. `source` says where they came from (defaults or a DP release)."""

    condition_weights: Mapping[str, float]  # ICD-10-CM code of a CONDITION_PROFILES entry -> weight
    drug_weights: Mapping[str, float]  # generic name -> weight (within its class)
    type_mix: Mapping[str, float]  # entity type -> share of entities
    negation_rate: float  # share of condition mentions that are negated
    length_weights: tuple[float, ...]  # one per LENGTH_BINS bin
    source: str = "defaults"

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition_weights": dict(sorted(self.condition_weights.items())),
            "drug_weights": dict(sorted(self.drug_weights.items())),
            "type_mix": dict(sorted(self.type_mix.items())),
            "negation_rate": self.negation_rate,
            "length_weights": list(self.length_weights),
            "source": self.source,
        }

    def fingerprint(self) -> str:
        return content_hash({k: _rounded(v) for k, v in self.as_dict().items()})[:16]


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def default_profile() -> GeneratorProfile:
    return GeneratorProfile(
        condition_weights={p.icd10: RARE_WEIGHT if p.rare else 1.0 for p in CONDITION_PROFILES},
        drug_weights=dict.fromkeys(ALL_DRUGS, 1.0),
        type_mix=dict(DEFAULT_TYPE_MIX),
        negation_rate=DEFAULT_NEGATION_RATE,
        length_weights=DEFAULT_LENGTH_WEIGHTS,
    )


def length_bin(length: int) -> str:
    """The label of the LENGTH_BINS bin a note length falls in (lengths past LENGTH_MAX go to the last)."""
    index = max(0, bisect.bisect_right(LENGTH_BINS, length) - 1)
    high = LENGTH_BINS[index + 1] if index + 1 < len(LENGTH_BINS) else LENGTH_MAX
    return f"{LENGTH_BINS[index]}-{high}"


LENGTH_BIN_LABELS: tuple[str, ...] = tuple(length_bin(edge) for edge in LENGTH_BINS)


@lru_cache(maxsize=1)
def _condition_names() -> dict[str, str]:
    """Lower-case surface forms (name, abbreviation, official description) -> ICD-10-CM code."""
    names: dict[str, str] = {}
    for p in CONDITION_PROFILES:
        for form in (p.name, p.abbreviation, icd10_description(p.icd10)):
            if form:
                names.setdefault(form.lower(), p.icd10)
    return names


def match_condition(text: str) -> str | None:
    """The ICD-10-CM code of a CONDITION_PROFILES entry a condition mention names, if any."""
    return _condition_names().get(text.strip().lower())


def match_drug(text: str) -> str | None:
    """The generic (of ALL_DRUGS) a medication mention names through the drug lexicon, if any."""
    generic = drug_lexicon().generic_of(text.strip())
    return generic if generic in CLASS_OF_DRUG else None


def document_features(text: str | None, entities: list[dict[str, Any]] | None) -> dict[str, dict[str, float]]:
    """What one real document contributes to the statistics that condition the generator.

    Every returned vector has L1 norm <= 1, so one document (or one patient, averaging its documents)
    moves each released histogram by at most 1 (clinical.privacy relies on that sensitivity).
    `length`: one-hot note-length bin; `types`: share of each entity type; `negation`: shares of
    negated / affirmed condition mentions; `conditions` / `drugs`: 1/k over the k distinct table
    conditions / drugs the document mentions. Vectors without data are empty.
    """
    features: dict[str, dict[str, float]] = {"length": {}, "types": {}, "negation": {}, "conditions": {}, "drugs": {}}
    if text:
        features["length"] = {length_bin(len(text)): 1.0}
    entities = [e for e in entities or [] if isinstance(e, dict) and e.get("type") in DEFAULT_TYPE_MIX]
    if entities:
        total = len(entities)
        for etype in DEFAULT_TYPE_MIX:
            share = sum(1 for e in entities if e["type"] == etype) / total
            if share:
                features["types"][etype] = share
        conditions = [e for e in entities if e["type"] == CONDITION]
        if conditions:
            negated = sum(1 for e in conditions if e.get("negated")) / len(conditions)
            features["negation"] = {k: v for k, v in (("negated", negated), ("affirmed", 1 - negated)) if v}
        codes = sorted({c for e in conditions if (c := match_condition(str(e.get("text", ""))))})
        features["conditions"] = {c: 1 / len(codes) for c in codes}
        drugs = sorted({g for e in entities if e["type"] == MEDICATION and (g := match_drug(str(e.get("text", ""))))})
        features["drugs"] = {g: 1 / len(drugs) for g in drugs}
    return features


STATISTIC_BINS: dict[str, tuple[str, ...]] = {
    "length": LENGTH_BIN_LABELS,
    "types": tuple(DEFAULT_TYPE_MIX),
    "negation": ("negated", "affirmed"),
    "conditions": tuple(p.icd10 for p in CONDITION_PROFILES),
    "drugs": ALL_DRUGS,
}


def noise_threshold(scale: float, bins: int) -> float:
    """Noisy counts at or below scale * ln(bins) are dropped: pure noise passes it in a bin with probability
    1 / (2 * bins), so about half a spurious bin per histogram, while counts well above the noise stay."""
    return scale * math.log(max(bins, 2))


def _blend(
    prior: Mapping[str, float], noisy: Mapping[str, float], prior_mass: float, threshold: float = 0.0
) -> dict[str, float]:
    """Normalized mix of the prior shares and the noisy counts above `threshold`, the prior counting `prior_mass`."""
    prior_total = sum(prior.values()) or 1.0
    counts = {k: v if (v := float(noisy.get(k, 0.0))) > threshold else 0.0 for k in prior}
    data_mass = sum(counts.values())
    return {k: (prior_mass * prior[k] / prior_total + counts[k]) / (prior_mass + data_mass) for k in prior}


def profile_from_statistics(
    statistics: Mapping[str, Mapping[str, float]], source: str, noise_scales: Mapping[str, float] | None = None
) -> GeneratorProfile:
    """A profile from released (noised) histograms (see STATISTIC_BINS): the defaults weighted as
    PRIOR_DOCUMENTS documents, plus the noisy counts above the noise threshold of each histogram
    (`noise_scales`: the Laplace scale per histogram; none given: every positive count is kept).
    Post-processing only: it reads nothing but the released statistics (and public scales), so the DP
    guarantee carries over to everything generated."""
    scales = noise_scales or {}

    def tau(name: str) -> float:
        return noise_threshold(scales[name], len(STATISTIC_BINS[name])) if name in scales else 0.0

    base = default_profile()
    lengths = _blend(
        dict(zip(LENGTH_BIN_LABELS, base.length_weights, strict=True)),
        statistics["length"],
        PRIOR_DOCUMENTS,
        tau("length"),
    )
    negation = _blend(
        {"negated": base.negation_rate, "affirmed": 1 - base.negation_rate},
        statistics["negation"],
        PRIOR_DOCUMENTS,
        tau("negation"),
    )
    conditions = _blend(base.condition_weights, statistics["conditions"], PRIOR_DOCUMENTS, tau("conditions"))
    drugs = _blend(base.drug_weights, statistics["drugs"], PRIOR_DOCUMENTS, tau("drugs"))
    type_mix = _blend(base.type_mix, statistics["types"], PRIOR_DOCUMENTS, tau("types"))
    return GeneratorProfile(
        condition_weights={k: v * len(conditions) for k, v in conditions.items()},
        drug_weights={k: v * len(drugs) for k, v in drugs.items()},
        type_mix=type_mix,
        negation_rate=negation["negated"],
        length_weights=tuple(lengths[label] for label in LENGTH_BIN_LABELS),
        source=source,
    )


# ------------------------------------------------------------------------------------------------
# Facts and notes.


@dataclass(frozen=True)
class PatientRecord:
    """One synthetic patient for generator v2: conditions (profiles), medications with regimens, history."""

    age: int
    sex: str
    conditions: tuple[ConditionProfile, ...]
    medications: tuple[tuple[str, str, str, str], ...]  # (generic, dose, route, frequency)
    procedures: tuple[str, ...]


def _weighted_sample(rng: random.Random, items: list[Any], weights: list[float], k: int) -> list[Any]:
    """Up to k distinct items drawn with probability proportional to weight (deterministic given rng);
    zero-weight items are never drawn, except one when every weight is zero."""
    items, weights, chosen = list(items), [max(w, 0.0) for w in weights], []
    while items and len(chosen) < k:
        if sum(weights) <= 0:  # only zero weights left: stop, unless nothing was drawn yet
            if chosen:
                break
            weights = [1.0] * len(items)
        index = rng.choices(range(len(items)), weights=weights)[0]
        chosen.append(items.pop(index))
        weights.pop(index)
    return chosen


def _scaled(rng: random.Random, base: int, profile: GeneratorProfile, etype: str) -> int:
    """`base` scaled by how much more (or less) often the profile's type mix has `etype` than the default."""
    factor = min(2.0, max(0.5, profile.type_mix.get(etype, 0.0) / DEFAULT_TYPE_MIX[etype]))
    value = base * factor
    return int(value) + (rng.random() < value - int(value))


def sample_patient_record(rng: random.Random, profile: GeneratorProfile) -> PatientRecord:
    """Draw one patient: 2-4 conditions by the profile's weights, 1-2 drugs per treated condition."""
    n_conditions = max(1, min(5, _scaled(rng, rng.randint(2, 4), profile, CONDITION)))
    conditions = _weighted_sample(
        rng,
        list(CONDITION_PROFILES),
        [profile.condition_weights.get(p.icd10, 0.0) for p in CONDITION_PROFILES],
        n_conditions,
    )
    medications: list[tuple[str, str, str, str]] = []
    budget = max(1, _scaled(rng, rng.randint(2, 5), profile, MEDICATION))
    for condition in conditions:
        for cls_name in rng.sample(condition.drug_classes, min(len(condition.drug_classes), rng.randint(1, 2))):
            if len(medications) >= budget:
                break
            cls = DRUG_CLASSES[cls_name]
            members = [d for d in cls.doses if d not in {m[0] for m in medications}]
            if not members:
                continue
            generic = _weighted_sample(rng, members, [profile.drug_weights.get(d, 0.0) for d in members], 1)[0]
            medications.append(
                (generic, rng.choice(cls.doses[generic]), rng.choice(cls.routes), rng.choice(cls.frequencies))
            )
    procedure_pool = sorted({p for c in conditions for p in c.procedures}) + list(GENERAL_PROCEDURES)
    n_procedures = min(3, _scaled(rng, rng.randint(0, 2), profile, PROCEDURE))
    procedures = tuple(dict.fromkeys(rng.sample(procedure_pool, n_procedures)))
    return PatientRecord(
        age=rng.randint(1 if any(c.rare for c in conditions) else 18, 89),
        sex=rng.choice(("male", "female")),
        conditions=tuple(conditions),
        medications=tuple(medications),
        procedures=procedures,
    )


def misspell(word: str, rng: random.Random) -> str:
    """A plausible typo of `word` (dropped, doubled or swapped letter past the first two); never `word`."""
    positions = [i for i in range(2, len(word) - 1) if word[i].isalpha() and word[i + 1].isalpha()]
    if not positions:
        return word + word[-1]
    i = rng.choice(positions)
    op = rng.choice(("drop", "double", "swap"))
    if op == "swap" and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


class _Writer(_NoteWriter):
    """A note writer that also remembers which edge cases it wrote and can copy earlier text forward."""

    def __init__(self) -> None:
        super().__init__()
        self.edge_cases: set[str] = set()

    def copy(self, text: str, entities: list[dict[str, Any]]) -> None:
        """Append `text` verbatim (copy-forward) with its entities, offsets shifted."""
        start = self.length
        self.add(text)
        self.entities += [{**e, "start": e["start"] + start, "end": e["end"] + start} for e in entities]


NOTE_HEADERS = {
    "progress note": ("PROGRESS NOTE", "Interval history"),
    "discharge summary": ("DISCHARGE SUMMARY", "Hospital course"),
    "consult note": ("CONSULTATION", "History of present illness"),
}
NEGATION_PREFIXES = ("Denies ", "No ", "Negative for ", "Patient reports no ", "Without ")
PLAN_PHRASES = ("continue", "resume", "start", "continue home")


def _condition_mention(w: _Writer, rng: random.Random, condition: ConditionProfile, allow_typo: bool = True) -> None:
    roll = rng.random()
    if condition.abbreviation and roll < 0.35:
        text = condition.abbreviation
        w.edge_cases.add("abbreviation")
    elif allow_typo and roll < 0.45 and len(condition.name) > 5:
        text = misspell(condition.name, rng)
        w.edge_cases.add("misspelling")
    else:
        text = condition.name
    if condition.rare:
        w.edge_cases.add("rare_disease")
    w.entity(CONDITION, text, icd10=condition.icd10)


def _drug_mention(w: _Writer, rng: random.Random, generic: str, allow_typo: bool = True, **attributes: Any) -> None:
    roll = rng.random()
    if generic in BRAND_NAMES and roll < 0.2:
        text = BRAND_NAMES[generic]
        w.edge_cases.add("brand_name")
    elif allow_typo and roll < 0.28 and len(generic) > 6:
        text = misspell(generic, rng)
        w.edge_cases.add("misspelling")
    else:
        text = generic
    w.entity(MEDICATION, text, generic=generic, drug_class=CLASS_OF_DRUG[generic], **attributes)


def _negated_findings(w: _Writer, rng: random.Random, count: int) -> None:
    if count <= 0:
        return
    w.add(" ")
    findings = rng.sample(FINDINGS, min(count, len(FINDINGS)))
    w.edge_cases.add("negation")
    style = rng.random()
    if style < 0.6:
        w.add(rng.choice(NEGATION_PREFIXES))

        def finding(f: tuple[str, str | None, str]) -> None:
            use_abbreviation = f[1] is not None and rng.random() < 0.3
            if use_abbreviation:
                w.edge_cases.add("abbreviation")
            w.entity(CONDITION, f[1] if use_abbreviation else f[0], icd10=f[2], negated=True)

        w.listing(findings, finding)
        w.add(".")
    else:
        w.add("ROS: ")
        for i, f in enumerate(findings):
            if i:
                w.add("; ")
            w.entity(CONDITION, f[0], icd10=f[2], negated=True)
            w.add(rng.choice((" - denies", " (-)", ": none", " absent")))
        w.add(".")


def _lab_value(rng: random.Random, key: str, condition_labs: Mapping[str, tuple[float, float]]) -> tuple[str, str, str]:
    test = LAB_TESTS[key]
    low, high = condition_labs.get(key, (test.low, test.high))
    value = f"{rng.uniform(low, high):.{test.decimals}f}"
    flag = "H" if float(value) > test.ref_high else "L" if float(value) < test.ref_low else ""
    return rng.choice(test.names), value, flag


def _labs_section(w: _Writer, rng: random.Random, record: PatientRecord, profile: GeneratorProfile) -> None:
    condition_labs = {key: (low, high) for c in record.conditions for key, low, high in c.labs}
    n_labs = max(1, _scaled(rng, rng.randint(2, 4), profile, LAB_VALUE))
    keys = list(dict.fromkeys(list(condition_labs) + rng.sample(ROUTINE_LABS, len(ROUTINE_LABS))))[: max(n_labs, 1)]
    if rng.random() < 0.35:
        w.edge_cases.add("table")
        w.add("Labs:\n| test | result | flag | reference |\n|---|---|---|---|\n")
        for key in keys:
            test = LAB_TESTS[key]
            name, value, flag = _lab_value(rng, key, condition_labs)
            unit = test.unit if test.unit == "%" else f" {test.unit}"
            w.add(f"| {name} | ")
            w.entity(LAB_VALUE, f"{value}{unit}", value=value, unit=test.unit, test=name)
            w.add(f" | {flag or '-'} | {test.ref_low:g}-{test.ref_high:g} |\n")
        w.add("\n")
        return
    w.add(rng.choice(("Labs: ", "Pertinent labs: ", "Results: ")))
    for i, key in enumerate(keys):
        if i:
            w.add(", ")
        test = LAB_TESTS[key]
        name, value, flag = _lab_value(rng, key, condition_labs)
        unit = test.unit if test.unit == "%" else f" {test.unit}"
        w.entity(
            LAB_VALUE, f"{name}{rng.choice((' ', ': ', ' of '))}{value}{unit}", value=value, unit=test.unit, test=name
        )
        if flag:
            w.add(f" ({flag})")
    w.add(".\n\n")


def _history(w: _Writer, rng: random.Random, record: PatientRecord, profile: GeneratorProfile) -> None:
    sex = rng.choice({"male": ("M", "man", "male"), "female": ("F", "woman", "female")}[record.sex])
    w.add(f"{record.age} y/o {sex} with PMH significant for ")
    w.listing(record.conditions, lambda c: _condition_mention(w, rng, c))
    if record.procedures:
        w.add(rng.choice((". Surgical/procedural history: ", "; prior ", ". PSH: ")))
        w.listing(record.procedures, lambda p: w.entity(PROCEDURE, p))
    w.add(".")
    mentions = len(record.conditions)
    rate = min(0.8, max(0.0, profile.negation_rate))
    expected = min(6.0, rate / (1 - rate) * mentions)
    _negated_findings(w, rng, int(expected) + (rng.random() < expected - int(expected)))
    w.add("\n\n")


def _problem_list(w: _Writer, rng: random.Random, record: PatientRecord) -> None:
    w.edge_cases.add("list")
    w.add(rng.choice(("Problem list:\n", "Active problems:\n")))
    for i, condition in enumerate(record.conditions, start=1):
        w.add(f"{i}. ")
        w.entity(CONDITION, icd10_description(condition.icd10), icd10=condition.icd10)
        w.add(f" ({condition.icd10})\n")
        w.edge_cases.add("icd_description")
    w.add("\n")


def _medications(w: _Writer, rng: random.Random, record: PatientRecord, title: str) -> None:
    if not record.medications:
        w.add(f"{title}: none.\n\n")
        return
    if rng.random() < 0.7:
        w.edge_cases.add("list")
        bullet = rng.choice(("- ", "* ", "• "))
        w.add(f"{title}:\n")
        for generic, dose, route, frequency in record.medications:
            w.add(bullet)
            _drug_mention(w, rng, generic, dose=dose, route=route, frequency=frequency)
            w.add(f" {dose} {route} {frequency}\n")
        w.add("\n")
        return
    w.add(f"{title}: ")
    for i, (generic, dose, route, frequency) in enumerate(record.medications):
        if i:
            w.add("; ")
        _drug_mention(w, rng, generic, dose=dose, route=route, frequency=frequency)
        w.add(f" {dose} {route} {frequency}")
    w.add(".\n\n")


def _studies(w: _Writer, rng: random.Random) -> None:
    study, finding, icd10 = rng.choice(STUDIES)
    w.edge_cases.add("negation")
    w.add("Imaging: ")
    w.entity(PROCEDURE, study)
    w.add(rng.choice((" without ", " negative for ", " showed no ")))
    w.entity(CONDITION, finding, icd10=icd10, negated=True)
    w.add(".\n\n")


def _plan(w: _Writer, rng: random.Random, record: PatientRecord) -> None:
    w.add(rng.choice(("Assessment and plan:\n", "A/P:\n", "Plan:\n")))
    by_condition = {
        c.icd10: [m for m in record.medications if CLASS_OF_DRUG[m[0]] in c.drug_classes] for c in record.conditions
    }
    for condition in record.conditions:
        w.add("# ")
        _condition_mention(w, rng, condition, allow_typo=False)
        drugs = by_condition[condition.icd10]
        if drugs:
            generic, dose, route, frequency = drugs[0]
            w.add(f": {rng.choice(PLAN_PHRASES)} ")
            _drug_mention(w, rng, generic, allow_typo=False)
            w.add(f" {dose} {frequency}.\n")
        elif condition.procedures and rng.random() < 0.5:
            w.add(": refer for ")
            w.entity(PROCEDURE, rng.choice(condition.procedures))
            w.add(".\n")
        else:
            w.add(rng.choice((": stable, recheck at next visit.\n", ": no change today.\n", ": monitor.\n")))


MAX_FILLERS = 2  # boilerplate sections added at most, when the note is shorter than its target length
FILLER_SECTIONS: tuple[str, ...] = (
    "Social history: former smoker, quit many years ago; drinks alcohol rarely; lives with family.\n\n",
    "Family history: noncontributory per patient.\n\n",
    "Physical exam: alert and oriented, in no acute distress. Heart regular rate and rhythm. Lungs clear to "
    "auscultation bilaterally. Abdomen soft, nontender.\n\n",
    "Functional status: independent in activities of daily living; walks with a cane outdoors.\n\n",
    "Counseling: discussed diet, exercise, medication adherence and warning signs; questions answered.\n\n",
    "Disposition: home with outpatient follow-up; return precautions reviewed.\n\n",
)


def write_note(
    rng: random.Random,
    record: PatientRecord,
    note_type: str,
    profile: GeneratorProfile,
    prior: tuple[str, list[dict[str, Any]]] | None = None,
) -> tuple[str, list[dict[str, Any]], list[str], tuple[str, list[dict[str, Any]]]]:
    """Write one note; returns (text, entities, edge cases, history segment for copy-forward).

    `prior` is the history segment of this patient's previous note: it is copied forward verbatim
    (as clinicians' notes often are) about half the time.
    """
    header, history_title = NOTE_HEADERS[note_type]
    w = _Writer()
    w.add(f"{header}\n\n{history_title}: ")
    segment_start, first_entity = w.length, len(w.entities)
    if prior is not None and rng.random() < 0.5:
        w.edge_cases.add("copy_forward")
        w.copy(*prior)
    else:
        _history(w, rng, record, profile)
    history = (
        w.text()[segment_start:],
        [
            {**e, "start": e["start"] - segment_start, "end": e["end"] - segment_start}
            for e in w.entities[first_entity:]
        ],
    )
    if rng.random() < 0.6:
        _problem_list(w, rng, record)
    _medications(w, rng, record, rng.choice(("Medications", "Current medications", "Home meds")))
    _labs_section(w, rng, record, profile)
    if rng.random() < 0.6:
        _studies(w, rng)
    target = _target_length(rng, profile)
    for filler in rng.sample(FILLER_SECTIONS, MAX_FILLERS):
        if w.length >= target:
            break
        w.add(filler)
    _plan(w, rng, record)
    return w.text(), w.entities, sorted(w.edge_cases), history


def _target_length(rng: random.Random, profile: GeneratorProfile) -> int:
    index = rng.choices(range(len(LENGTH_BINS)), weights=profile.length_weights)[0]
    high = LENGTH_BINS[index + 1] if index + 1 < len(LENGTH_BINS) else LENGTH_MAX
    return rng.randint(LENGTH_BINS[index], high)


def generate_synthetic_notes(count: int, seed: int, profile: GeneratorProfile | None = None) -> list[dict[str, Any]]:
    """Generate `count` labelled notes from `seed` (and `profile`, the defaults when None).

    Each patient gets 1 to 3 notes. Returns dicts with synthetic_id (content hash), patient_key,
    note_type, text, entities (exact offsets into text), edge_cases, generator_version, seed,
    profile (fingerprint of the profile used) and `synthetic: True`.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    profile = profile or default_profile()
    fingerprint = profile.fingerprint()
    rng = random.Random(seed)
    notes: list[dict[str, Any]] = []
    patient_index = 0
    while len(notes) < count:
        record = sample_patient_record(rng, profile)
        key = synthetic_patient_key(seed, patient_index)
        patient_index += 1
        prior = None
        for _ in range(min(rng.randint(1, 3), count - len(notes))):
            note_type = rng.choice(NOTE_TYPES)
            text, entities, edge_cases, prior = write_note(rng, record, note_type, profile, prior)
            note = {
                "patient_key": key,
                "note_type": note_type,
                "text": text,
                "entities": entities,
                "edge_cases": edge_cases,
                "generator_version": GENERATOR_VERSION,
                "seed": seed,
                "profile": fingerprint,
                "synthetic": True,
            }
            notes.append({"synthetic_id": "syn_" + content_hash(note)[:32], **note})
    return notes


EDGE_CASES: tuple[str, ...] = (
    "abbreviation",
    "brand_name",
    "copy_forward",
    "icd_description",
    "list",
    "misspelling",
    "negation",
    "rare_disease",
    "table",
)
