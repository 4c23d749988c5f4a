"""Synthetic labelled clinical notes, written from structured facts so the labels are exact.

A patient is a small set of facts (age, sex, conditions with ICD-10-CM codes, medications with
dose/route/frequency, past procedures); each note renders some of those facts, a few labs and a
few negated findings into text, recording every entity's offsets as it writes. Nothing here is
PHI: no names, dates, places or identifiers, and ages stay under 90 (Safe Harbor).
The same `seed` always gives the same notes; bump GENERATOR_VERSION when the output changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from clinical.ids import content_hash, sha256_text
from clinical.schema import CONDITION, LAB_VALUE, MEDICATION, PROCEDURE

GENERATOR_VERSION = "synthetic-0.1.0"
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


def generate_synthetic_notes(count: int, seed: int) -> list[dict[str, Any]]:
    """Generate `count` labelled notes from `seed`; each patient gets 1 to 3 notes.

    Returns dicts with synthetic_id (content hash), patient_key, note_type, text, entities
    (offsets into text), generator_version, seed and `synthetic: True`.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    rng = random.Random(seed)
    notes: list[dict[str, Any]] = []
    patient_index = 0
    while len(notes) < count:
        facts = sample_patient_facts(rng)
        key = synthetic_patient_key(seed, patient_index)
        patient_index += 1
        for _ in range(min(rng.randint(1, 3), count - len(notes))):
            note_type = rng.choice(NOTE_TYPES)
            text, entities = sample_clinical_body(rng, facts, note_type)
            note = {
                "patient_key": key,
                "note_type": note_type,
                "text": text,
                "entities": entities,
                "generator_version": GENERATOR_VERSION,
                "seed": seed,
                "synthetic": True,
            }
            notes.append({"synthetic_id": "syn_" + content_hash(note)[:32], **note})
    return notes
