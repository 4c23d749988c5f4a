"""Detection over many notes in worker processes (one spaCy pipeline per worker).

    from clinical.deid.parallel import detect_parallel
    run = detect_parallel(texts, workers=2)      # run.spans[i] are the spans of texts[i]
    run.notes_per_s, run.worker_peak_rss_mb      # throughput and memory per worker

Each worker loads the policy once in its initializer, then takes batches of notes; the parent keeps
no model. Results come back in input order. This is what the benchmark measures and what a large
backfill can use outside Dagster; inside the pipeline, batches are partitions and scale out with
Dagster's executors.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from clinical.deid.engine import DeidPolicy, PhiSpan

_WORKER_DEID = None
_WORKER_BARRIER = None


@dataclass
class ParallelRun:
    """Spans per note and the figures of one parallel run (timing excludes worker start-up)."""

    spans: list[list[PhiSpan]]
    seconds: float
    notes: int
    chars: int
    workers: int
    load_seconds: float
    worker_peak_rss_mb: dict[int, float] = field(default_factory=dict)

    @property
    def notes_per_s(self) -> float:
        return self.notes / self.seconds if self.seconds else 0.0

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds if self.seconds else 0.0


def _init_worker(policy_name: str, barrier) -> None:
    global _WORKER_DEID, _WORKER_BARRIER
    from clinical.deid.engine import get_deidentifier

    _WORKER_BARRIER = barrier
    _WORKER_DEID = get_deidentifier(DeidPolicy.for_name(policy_name))
    _WORKER_DEID.detect("Warm-up: seen by John Smith on 02/12/2019 at 12 Main St, Boston, MA 02115.")


def _ready(_: int) -> int:
    # Every worker blocks here until all have loaded: timing starts with all of them ready.
    _WORKER_BARRIER.wait(timeout=600)
    return os.getpid()


def _peak_rss_mb() -> float:
    # VmHWM is the high-water mark of this process's own memory since exec. getrusage's ru_maxrss
    # is not: Linux carries over the pre-exec peak, i.e. the forked copy of a large parent process.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _detect_batch(batch: Sequence[str]) -> tuple[list[list[PhiSpan]], int, float]:
    spans = _WORKER_DEID.detect_many(list(batch))
    return spans, os.getpid(), _peak_rss_mb()


def detect_parallel(
    texts: Sequence[str], workers: int = 2, batch_size: int = 32, policy_name: str = "safe_harbor"
) -> ParallelRun:
    """Detect PHI in `texts` with `workers` processes.

    :param texts: the notes.
    :param workers: worker processes (each holds one spaCy pipeline, about 0.5 GB).
    :param batch_size: notes per task.
    :param policy_name: a key of engine.POLICY_VERSIONS.
    """
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    batches = [list(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    barrier = context.Barrier(workers)
    with context.Pool(workers, initializer=_init_worker, initargs=(policy_name, barrier)) as pool:
        pool.map(_ready, range(workers), chunksize=1)
        load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        results = pool.map(_detect_batch, batches, chunksize=1)
        seconds = time.perf_counter() - started
    spans: list[list[PhiSpan]] = []
    rss: dict[int, float] = {}
    for batch_spans, pid, peak in results:
        spans += batch_spans
        rss[pid] = max(rss.get(pid, 0.0), round(peak, 1))
    return ParallelRun(
        spans=spans,
        seconds=seconds,
        notes=len(texts),
        chars=sum(len(t) for t in texts),
        workers=workers,
        load_seconds=load_seconds,
        worker_peak_rss_mb=rss,
    )
