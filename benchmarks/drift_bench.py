"""Detection power of the drift detector (clinical.drift, the sensor's and the CLI's logic), measured.

    .venv/bin/python benchmarks/drift_bench.py [--trials 50] [--shifted-trials 10] [--seed 7]

Data: the MACCROBAT case reports of ../shared/data/maccrobat_dev, cut into ~400-character chunks
like the training data (clinical.sft.chunk_document). The reports are split by document (never by
chunk) into three disjoint sets:
- reference (60%): the profile is built from their chunks, as drift_reference builds it from sft_dataset;
- calibration (20%): stationary batches that the default threshold was chosen on (printed, not reported);
- report (20%): stationary batches the false-alarm rate is reported on (same distribution, documents
  the profile and the calibration never saw).
Each batch holds 40 notes. Shifted batches (detection rate reported):
- `synthetic-<type>`: synthetic notes of one note type from clinical.synthetic (another specialty and
  style: templated EHR notes with section titles and medication lists);
- `german`, `spanish`: clinical-style notes written for this benchmark (below);
- `template`: the report documents' own chunks re-cut into a structured EHR template
  (headers, bullet fields, abbreviations) - the same content, a changed note template;
- `pii-sentences`: non-clinical presidio-research sentences (../shared/data/presidio_synth).
It also times `clinical drift compare` on a 40-note batch in fresh processes (imports and model load
included), cold (reference profile built) and warm (reference profile read from its cache), wall and CPU
seconds: the machine is shared, so CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clinical import drift  # noqa: E402
from clinical.sft import chunk_document  # noqa: E402
from clinical.synthetic import NOTE_TYPES, sample_clinical_body  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BATCH = 40

GERMAN = [
    "Der 67-jährige Patient stellte sich mit seit drei Tagen bestehender Dyspnoe und Fieber vor.",
    "Im Röntgen-Thorax zeigte sich ein Infiltrat im rechten Unterlappen.",
    "Laborchemisch fanden sich eine Leukozytose von 14,2 G/l und ein CRP von 87 mg/l.",
    "Es wurde eine kalkulierte antibiotische Therapie mit Ceftriaxon und Clarithromycin begonnen.",
    "Anamnestisch bestehen ein arterieller Hypertonus und ein Diabetes mellitus Typ 2.",
    "Die Patientin klagte über epigastrische Schmerzen und Übelkeit ohne Erbrechen.",
    "Sonographisch ergab sich kein Hinweis auf eine Cholezystolithiasis.",
    "Unter der Therapie kam es zu einer raschen Besserung des Allgemeinzustandes.",
    "Die Entlassung erfolgte am fünften stationären Tag in gutem Allgemeinzustand.",
    "Wir empfehlen eine Kontrolle der Nierenwerte beim Hausarzt in einer Woche.",
    "Die Computertomographie des Abdomens zeigte eine Raumforderung im Pankreaskopf.",
    "Histologisch wurde ein Adenokarzinom gesichert.",
    "Bei Aufnahme war der Patient wach, orientiert und kardiopulmonal kompensiert.",
    "Die Medikation mit Metoprolol und Ramipril wurde unverändert fortgeführt.",
    "Eine Echokardiographie zeigte eine leichtgradig eingeschränkte linksventrikuläre Funktion.",
    "Der Verlauf war komplikationslos, die Wunde reizlos.",
]
SPANISH = [
    "Paciente varón de 54 años que acude a urgencias por dolor torácico opresivo de dos horas de evolución.",
    "En la radiografía de tórax se observa un infiltrado en el lóbulo inferior derecho.",
    "La analítica muestra leucocitosis de 15.300 y una proteína C reactiva de 120 mg/l.",
    "Se inicia tratamiento antibiótico empírico con ceftriaxona y azitromicina.",
    "Como antecedentes presenta hipertensión arterial y diabetes mellitus tipo 2.",
    "La paciente refiere dolor abdominal en hipocondrio derecho acompañado de náuseas.",
    "La ecografía abdominal no muestra signos de colecistitis aguda.",
    "Durante el ingreso presenta buena evolución clínica con desaparición de la fiebre.",
    "Se decide el alta hospitalaria al quinto día con seguimiento en consultas externas.",
    "Se recomienda control de la función renal por su médico de atención primaria.",
    "La tomografía computarizada evidencia una masa en la cabeza del páncreas.",
    "El estudio histológico confirma un adenocarcinoma.",
    "A la exploración física el paciente está consciente, orientado y hemodinámicamente estable.",
    "Se mantiene el tratamiento habitual con metoprolol y enalapril.",
    "El ecocardiograma muestra una función ventricular izquierda levemente deprimida.",
    "La herida quirúrgica evoluciona favorablemente sin signos de infección.",
]
TEMPLATE_HEADERS = ("CHIEF COMPLAINT", "HPI", "PMH", "MEDS", "ROS", "EXAM", "A/P")


def maccrobat_documents() -> list[str]:
    paths = sorted((DATA / "maccrobat_dev").glob("*.txt"))
    if len(paths) < 20:
        raise SystemExit(f"need the MACCROBAT reports under {DATA / 'maccrobat_dev'} (found {len(paths)})")
    return [p.read_text(encoding="utf-8") for p in paths]


def chunks(documents: list[str]) -> list[str]:
    return [c[0] for doc in documents for c in chunk_document(doc, [], max_chars=400)]


def foreign_notes(sentences: list[str], n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.sample(sentences, rng.randint(3, 5))) for _ in range(n)]


def template_notes(source_chunks: list[str], n: int, rng: random.Random) -> list[str]:
    out = []
    for text in rng.sample(source_chunks, n):
        sentences = [s.strip() for s in text.replace("\n", " ").split(". ") if s.strip()]
        parts = []
        for i, sentence in enumerate(sentences):
            header = TEMPLATE_HEADERS[i % len(TEMPLATE_HEADERS)]
            parts.append(f"{header}:\n- {sentence.rstrip('.')}.")
        parts.append("Pt seen & examined. D/w attending. F/u 2 wks. -- e-signed")
        out.append("\n".join(parts))
    return out


def synthetic_notes(note_type: str, n: int, rng: random.Random) -> list[str]:
    return [sample_clinical_body(rng, note_type=note_type)[0] for _ in range(n)]


def pii_sentences(n: int, rng: random.Random) -> list[str] | None:
    path = DATA / "presidio_synth" / "synth_dataset_v2.json"
    if not path.is_file():
        return None
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [r["full_text"] for r in rng.sample(rows, n)]


def cli_seconds(reference: list[str], batch: list[str], runs: int = 1) -> list[tuple[str, float, float, dict]]:
    """`clinical drift compare` in fresh processes (imports and model load included): (case, wall s, CPU s,
    output) for a cold run (reference profile built: empty cache) and a warm run (reference profile read
    from the cache, as when many batches are checked against one reference), `runs` times each."""
    import resource

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, batch_path = Path(tmp) / "ref.jsonl", Path(tmp) / "batch.jsonl"
        ref_path.write_text("".join(json.dumps({"id": f"r{i}", "text": t}) + "\n" for i, t in enumerate(reference)))
        batch_path.write_text("".join(json.dumps({"id": f"b{i}", "text": t}) + "\n" for i, t in enumerate(batch)))
        command = [str(ROOT / ".venv" / "bin" / "clinical"), "drift", "compare", "--reference", str(ref_path),
                   "--batch", str(batch_path), "--cache-dir", str(Path(tmp) / "cache")]  # fmt: skip
        for _ in range(runs):
            for case in ("cold", "warm"):
                if case == "cold":
                    shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                done = subprocess.run(
                    command, capture_output=True, text=True, check=True,
                    env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"},
                )  # fmt: skip
                wall = time.perf_counter() - started
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                out.append((case, wall, cpu, json.loads(done.stdout)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="stationary batches per set (calibration, report)")
    parser.add_argument("--shifted-trials", type=int, default=10, help="batches per shifted kind")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-cli", action="store_true", help="skip timing the CLI")
    parser.add_argument("--cli-runs", type=int, default=3, help="fresh CLI processes per case (cold, warm)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    docs = maccrobat_documents()
    rng.shuffle(docs)
    n_ref, n_cal = int(len(docs) * 0.6), int(len(docs) * 0.2)
    ref_docs, cal_docs, rep_docs = docs[:n_ref], docs[n_ref : n_ref + n_cal], docs[n_ref + n_cal :]
    ref_chunks, cal_chunks, rep_chunks = chunks(ref_docs), chunks(cal_docs), chunks(rep_docs)
    print(
        f"documents: reference {len(ref_docs)} ({len(ref_chunks)} chunks), calibration {len(cal_docs)} "
        f"({len(cal_chunks)} chunks), report {len(rep_docs)} ({len(rep_chunks)} chunks); batch {BATCH} notes"
    )
    started = time.perf_counter()
    profile = drift.build_profile(ref_chunks)
    print(f"profile built in {time.perf_counter() - started:.1f} s (embedding model load included)")
    config = drift.DriftConfig()

    def z_table(batches: list[list[str]]) -> tuple[np.ndarray, list[drift.DriftReport]]:
        reports = [drift.compare(profile, b, config) for b in batches]
        return np.array([r.score for r in reports]), reports

    cal_scores, cal_reports = z_table([rng.sample(cal_chunks, BATCH) for _ in range(args.trials)])
    print(f"\ncalibration (stationary, {args.trials} batches): max z-score quantiles")
    for q in (0.5, 0.9, 0.95, 0.99, 1.0):
        print(f"  q{q:.2f} = {np.quantile(cal_scores, q):.2f}")
    for name in drift.DECISION_STATISTICS:
        zs = [r.statistics["z_scores"].get(name) for r in cal_reports if name in r.statistics["z_scores"]]
        if zs:
            print(f"  {name:14s} z: median {np.median(zs):.2f}  max {np.max(zs):.2f}")
    print(f"  false alarms at threshold {config.threshold}: {(cal_scores > config.threshold).mean():.1%}")

    rep_scores, _ = z_table([rng.sample(rep_chunks, BATCH) for _ in range(args.trials)])
    print(f"\nREPORT stationary ({args.trials} batches of held-out documents), threshold {config.threshold}:")
    print(
        f"  false-alarm rate {(rep_scores > config.threshold).mean():.1%} "
        f"({int((rep_scores > config.threshold).sum())}/{len(rep_scores)}); "
        f"max z median {np.median(rep_scores):.2f}, max {rep_scores.max():.2f}"
    )

    shifted: dict[str, list[list[str]]] = {}
    for note_type in NOTE_TYPES:
        shifted[f"synthetic-{note_type.replace(' ', '-')}"] = [
            synthetic_notes(note_type, BATCH, rng) for _ in range(args.shifted_trials)
        ]
    shifted["german"] = [foreign_notes(GERMAN, BATCH, rng) for _ in range(args.shifted_trials)]
    shifted["spanish"] = [foreign_notes(SPANISH, BATCH, rng) for _ in range(args.shifted_trials)]
    shifted["template"] = [template_notes(rep_chunks, BATCH, rng) for _ in range(args.shifted_trials)]
    pii = [pii_sentences(BATCH, rng) for _ in range(args.shifted_trials)]
    if all(p is not None for p in pii):
        shifted["pii-sentences"] = pii
    print(
        f"\nREPORT shifted ({args.shifted_trials} batches each): detection rate, median (smallest) score = max z, "
        "deciding statistics"
    )
    for kind, batches in shifted.items():
        scores, reports = z_table(batches)
        deciding = {r.statistics["decision_statistic"] for r in reports}
        smallest = {
            name: min(r.statistics["z_scores"][name] for r in reports)
            for name in drift.DECISION_STATISTICS
            if all(name in r.statistics["z_scores"] for r in reports)
        }
        print(
            f"  {kind:32s} {(scores > config.threshold).mean():6.0%}  z {np.median(scores):8.1f} "
            f"(smallest {scores.min():.1f})  "
            f"{', '.join(sorted(deciding))}; smallest z: " + ", ".join(f"{k} {v:.1f}" for k, v in smallest.items())
        )

    if not args.no_cli:
        load = os.getloadavg()[0]
        for label, reference in (
            (f"reference {len(ref_chunks)} notes", ref_chunks),
            (f"reference {BATCH} notes", rng.sample(ref_chunks, BATCH)),
        ):
            runs = cli_seconds(reference, rng.sample(rep_chunks, BATCH), runs=args.cli_runs)
            for case in ("cold", "warm"):
                walls = [w for c, w, _, _ in runs if c == case]
                cpus = [u for c, _, u, _ in runs if c == case]
                outputs = {json.dumps(o, sort_keys=True) for c, _, _, o in runs}
                print(
                    f"`clinical drift compare`, {label}, batch {BATCH} notes, {case} "
                    f"({'profile built' if case == 'cold' else 'profile from the cache'}): wall "
                    f"{min(walls):.1f}-{max(walls):.1f} s, CPU {min(cpus):.1f}-{max(cpus):.1f} s "
                    f"over {len(walls)} runs; "
                    f"cold and warm output identical: {len(outputs) == 1}"
                )
        print(f"(load average at the start of the CLI timing: {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
