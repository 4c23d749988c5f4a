"""A demo landing batch: realistic notes with fake PHI, plus the truth needed to score the pipeline.

Every identifier is made up by Faker (seeded, so a batch is reproducible) and wrapped as a header
and signature around a synthetic clinical body (clinical.synthetic.sample_clinical_body). Beside
the batch go two truth files that the pipeline itself never reads:
- `<batch>.phi.jsonl`: `{"record_id", "spans": [{"start", "end", "type", "value"}]}`, the exact
  offsets of every PHI value inserted (types in PHI_TYPES), to score de-identification and find leaks;
- `<batch>.entities.jsonl`: `{"record_id", "entities": [...]}`, the clinical entities with offsets
  into the full note text, standing in for clinician annotations.
Several notes share a patient (fewer patients than notes), so patient-level splits matter.
The batch comes with its data-use manifest (`<batch>.manifest.json`, clinical/intake.py) under the
demo protocol DEMO_PROTOCOL: made-up data need no IRB, and the manifest says so.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from faker import Faker

from clinical import intake
from clinical.synthetic import NOTE_TYPES, sample_clinical_body, sample_patient_facts

RECORD_FIELDS = ("record_id", "patient_id", "note_type", "note_date", "text")
PHI_TYPES = ("NAME", "DATE", "MRN", "ADDRESS", "CITY", "ZIP", "PHONE", "EMAIL", "SSN")
FORMATS = ("jsonl", "csv")
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%B %d, %Y")
FIRST_VISIT = date(2021, 1, 1)
LAST_VISIT = date(2024, 12, 31)
DEMO_PROTOCOL = "DEMO-SYNTHETIC-0001"
DEMO_APPROVING_BODY = "none: synthetic demo data (Faker), no human subjects"
DEMO_STEWARD = "demo-data-steward"
DEMO_APPROVAL_EXPIRES = "2099-12-31"  # fixed, so the manifest (and the sensor's fingerprint) is reproducible


@dataclass(frozen=True)
class DemoBatch:
    """Paths written by write_demo_batch and the number of notes `n`."""

    path: Path
    phi_path: Path
    labels_path: Path
    n: int
    manifest_path: Path | None = None


class _Writer:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def phi(self, phi_type: str, value: str) -> None:
        start = self.length
        self.add(value)
        self.spans.append({"start": start, "end": self.length, "type": phi_type, "value": value})

    def text(self) -> str:
        return "".join(self.parts)


def _fake_patient(fake: Faker, rng: random.Random, used_mrns: set[str]) -> dict[str, Any]:
    facts = sample_patient_facts(rng)
    mrn = fake.numerify("########")
    while mrn in used_mrns:
        mrn = fake.numerify("########")
    used_mrns.add(mrn)
    first = fake.first_name_male() if facts.sex == "male" else fake.first_name_female()
    last = fake.last_name()
    return {
        "facts": facts,
        "first": first,
        "last": last,
        "mrn": mrn,
        "dob": LAST_VISIT - timedelta(days=round(365.25 * facts.age) + rng.randrange(365)),
        "street": fake.street_address(),
        "city": fake.city(),
        "state": fake.state_abbr(include_territories=False),
        "zip": fake.zipcode(),
        "phone": fake.phone_number(),
        "email": f"{first}.{last}@{fake.free_email_domain()}".lower(),
        "ssn": fake.ssn(),
        "attending": fake.last_name(),
    }


def _note(fake: Faker, rng: random.Random, patient: dict[str, Any], note_type: str, visit: date):
    w = _Writer()
    fmt = rng.choice(DATE_FORMATS)
    w.add(f"{note_type.upper()}\nPatient: ")
    if rng.random() < 0.5:
        w.phi("NAME", patient["last"])
        w.add(", ")
        w.phi("NAME", patient["first"])
    else:
        w.phi("NAME", f"{patient['first']} {patient['last']}")
    w.add("    MRN: ")
    w.phi("MRN", patient["mrn"])
    w.add("    DOB: ")
    w.phi("DATE", patient["dob"].strftime(fmt))
    w.add("\nAddress: ")
    w.phi("ADDRESS", patient["street"])
    w.add(", ")
    w.phi("CITY", patient["city"])
    w.add(f", {patient['state']} ")
    w.phi("ZIP", patient["zip"])
    w.add("\nPhone: ")
    w.phi("PHONE", patient["phone"])
    if rng.random() < 0.5:
        w.add("    Email: ")
        w.phi("EMAIL", patient["email"])
    if rng.random() < 0.3:
        w.add("\nSSN: ")
        w.phi("SSN", patient["ssn"])
    w.add("\nDate of admission: " if note_type == "discharge summary" else "\nDate of service: ")
    w.phi("DATE", visit.strftime(fmt))
    w.add("\nAttending: Dr. ")
    w.phi("NAME", patient["attending"])
    w.add("\n\n")
    w.phi("NAME", patient["first"])
    w.add(" was seen today with a family member present.\n\n")

    dob = patient["dob"]
    age = visit.year - dob.year - ((visit.month, visit.day) < (dob.month, dob.day))
    facts = replace(patient["facts"], age=age)
    body, entities = sample_clinical_body(rng, facts, note_type)
    offset = w.length
    w.add(body)
    w.add("\nElectronically signed by Dr. ")
    w.phi("NAME", f"{fake.first_name()} {patient['attending']}")
    w.add(", MD on ")
    w.phi("DATE", (visit + timedelta(days=rng.randint(0, 3))).strftime(fmt))
    w.add(".\n")
    shifted = [{**e, "start": e["start"] + offset, "end": e["end"] + offset} for e in entities]
    return w.text(), w.spans, shifted


def write_demo_batch(
    landing_dir: str | Path,
    batch_name: str,
    count: int = 24,
    seed: int = 0,
    fmt: str = "jsonl",
    patients: int | None = None,
    truth_dir: str | Path | None = None,
    manifest: bool = True,
) -> DemoBatch:
    """Write `count` fake notes to `landing_dir/<batch_name>.<fmt>` and their truth files.

    seed: drives Faker and the clinical bodies (same seed, same batch); fmt: "jsonl" or "csv"
    (same columns, RECORD_FIELDS); patients: number of distinct patients (default count // 3,
    at least 1, at most count); truth_dir: where the .phi.jsonl and .entities.jsonl go
    (default `landing_dir.parent / "truth"`); manifest: also write the batch's data-use manifest
    (DEMO_PROTOCOL, purposes model_training and evaluation).
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    landing_dir = Path(landing_dir)
    truth_dir = Path(truth_dir) if truth_dir is not None else landing_dir.parent / "truth"
    n_patients = min(count, max(1, patients if patients is not None else count // 3))

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    used_mrns: set[str] = set()
    people = [_fake_patient(fake, rng, used_mrns) for _ in range(n_patients)]
    owners = [i % n_patients for i in range(count)]
    rng.shuffle(owners)

    records, phi_rows, label_rows = [], [], []
    for i, owner in enumerate(owners):
        patient = people[owner]
        note_type = rng.choice(NOTE_TYPES)
        visit = FIRST_VISIT + timedelta(days=rng.randrange((LAST_VISIT - FIRST_VISIT).days))
        text, spans, entities = _note(fake, rng, patient, note_type, visit)
        record_id = f"{batch_name}-{i:04d}"
        records.append(
            {
                "record_id": record_id,
                "patient_id": patient["mrn"],
                "note_type": note_type,
                "note_date": visit.isoformat(),
                "text": text,
            }
        )
        phi_rows.append({"record_id": record_id, "spans": spans})
        label_rows.append({"record_id": record_id, "entities": entities})

    landing_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = landing_dir / f"{batch_name}.{fmt}"
    if fmt == "csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=RECORD_FIELDS)
            writer.writeheader()
            writer.writerows(records)
    else:
        _write_jsonl(path, records)
    phi_path = truth_dir / f"{batch_name}.phi.jsonl"
    labels_path = truth_dir / f"{batch_name}.entities.jsonl"
    _write_jsonl(phi_path, phi_rows)
    _write_jsonl(labels_path, label_rows)
    manifest_path = write_demo_manifest(path) if manifest else None
    return DemoBatch(path=path, phi_path=phi_path, labels_path=labels_path, n=count, manifest_path=manifest_path)


def write_demo_manifest(landing_file: str | Path) -> Path:
    """The data-use manifest of a demo batch (DEMO_PROTOCOL; purposes model_training and evaluation)."""
    return intake.write_manifest(landing_file, DEMO_PROTOCOL, DEMO_APPROVING_BODY, DEMO_APPROVAL_EXPIRES, DEMO_STEWARD)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
