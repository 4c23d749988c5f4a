"""Serving benchmark: the real `clinical serve` against the same model called in-process, in one run.

    .venv/bin/python benchmarks/serving_bench.py [--model smollm2-135m-instruct] [--requests 8]
        [--concurrency 1,4,16] [--max-new-tokens 64] [--deidentify never|auto|always]

1. The model (a base-model spec or a model folder; default SmolLM2-135M-Instruct converted to
   safetensors) is saved to a fresh BentoML store, built into a Bento, and released: a manifest
   signed with a throw-away ed25519 key, promoted in a temporary registry.
2. In-process: `Extractor.extract` one note at a time (concurrency 1, the baseline), and the
   service's own batching (MicroBatcher + extract_batch) at each concurrency, with threads.
3. Service: `clinical serve` on localhost (verification, auth, middleware, monitor, metrics all on),
   the same notes over HTTP at each concurrency. The RSS of all the service's processes (BentoML's
   arbiter and the worker) is sampled every 0.2 s; the peak is reported.

Prints a table and one JSON line with every figure; `model_p50_s` is the Extractor's own time inside
the service (from the responses' `latency_s`), so client p50 minus model p50 is the HTTP, auth,
validation, monitor and metrics overhead. Budgets (DESIGN.md): RSS <= 2 GB, service
latency at concurrency 1 <= 1.15x in-process. Figures depend on the load of the machine: on a shared
2-core host run it when it is quiet. Notes are invented (no patient data).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

NOTES = [
    "Started metformin 500 mg PO BID for type 2 diabetes. HbA1c 8.1 %.",
    "Denies chest pain. Hemoglobin 11.2 g/dL. Continue aspirin 81 mg daily.",
    "Underwent laparoscopic appendectomy in 2019 without complications.",
    "Lisinopril 10 mg daily for hypertension; potassium 4.1 mmol/L, creatinine 0.9 mg/dL.",
    "Admitted with community-acquired pneumonia, started ceftriaxone 1 g IV daily and azithromycin.",
    "History of atrial fibrillation on apixaban 5 mg BID. TSH 2.3 mIU/L.",
    "Chest X-ray showed no effusion. Plan: colonoscopy next month, stop ibuprofen.",
    "Asthma exacerbation treated with albuterol nebulizer and prednisone 40 mg for five days.",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def figures(latencies: list[float], wall_s: float) -> dict[str, float]:
    return {
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "throughput_rps": round(len(latencies) / wall_s, 3),
        "requests": len(latencies),
    }


def run_concurrent(call, concurrency: int, requests: int) -> dict[str, float]:
    notes = [NOTES[i % len(NOTES)] for i in range(requests)]
    latencies: list[float] = []
    failures: list[str] = []

    def one(text: str) -> None:
        started = time.perf_counter()
        try:
            call(text)
        except Exception as exc:  # noqa: BLE001 - counted and reported (e.g. a 504 past the 300 s timeout)
            failures.append(type(exc).__name__ + (f" {exc.code}" if hasattr(exc, "code") else ""))
            return
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, notes))
    result = figures(latencies or [float("nan")], time.perf_counter() - started)
    result["failed"] = len(failures)
    if failures:
        result["failures"] = sorted(set(failures))
    print(f"  concurrency {concurrency}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def resolve_model(spec: str) -> Path:
    if Path(spec).is_dir():
        return Path(spec).resolve()
    from clinical.modeling.base_model import resolve_base_model
    from clinical.settings import Settings

    return Path(resolve_base_model(spec, Settings.from_env().artifacts_dir / "base_models").path)


def release_model(model_dir: Path, work: Path) -> tuple[Path, Path, str]:
    """A Bento of the model in a fresh store and a signed, promoted release: (BentoML home, CLINICAL_HOME, tag)."""
    from clinical.modeling.base_model import weights_sha256
    from clinical.serving import active, deploy, release
    from clinical.serving.bento import build_bento, save_model_to_store

    bentoml_home, clinical_home = work / "bentoml", work / "clinical"
    model_tag = save_model_to_store(model_dir, "clinical-extractor", {"adapter_version": "bench"}, None, bentoml_home)
    tag = build_bento(model_tag, bentoml_home).tag
    signing = deploy.resolve_signing_key(None, None, "development", clinical_home / "keys")
    stored = active.find_bento(bentoml_home, tag)
    hashes = {**active.bento_hashes(stored), "merged_model": weights_sha256(stored.model_path)}
    manifest = release.make_release_manifest(tag, hashes, {"benchmark": True}, None, {})
    signed = release.sign_manifest(manifest, signing.private_key)
    release.ReleaseRegistry(clinical_home / "releases").promote(signed, signing.private_key.public_key())
    return bentoml_home, clinical_home, tag


def in_process(model_dir: Path, args: argparse.Namespace) -> dict[str, dict]:
    from clinical.modeling.extract import Extractor
    from clinical.serving.batching import MicroBatcher, extract_batch

    print("in-process:", file=sys.stderr, flush=True)
    extractor = Extractor.load(model_dir, max_new_tokens=args.max_new_tokens)
    extractor.extract(NOTES[0])  # warm-up
    out = {"extractor_c1": run_concurrent(extractor.extract, 1, args.requests)}
    batcher = MicroBatcher(lambda texts: extract_batch(extractor, texts), max_batch_size=8, max_wait_s=0.005)
    try:
        for c in args.levels:
            out[f"batched_c{c}"] = run_concurrent(lambda t: batcher.submit(t).result(), c, max(args.requests, c))
    finally:
        batcher.close()
    return out  # the model is freed with this frame, before the service starts


def tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def service(bentoml_home: Path, clinical_home: Path, args: argparse.Namespace, work: Path) -> dict:
    token = secrets.token_urlsafe(32)
    token_file = work / "token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "CLINICAL_HOME": str(clinical_home),
        "BENTOML_HOME": str(bentoml_home),
        "CLINICAL_SERVICE_TOKEN_FILE": str(token_file),
        "CLINICAL_MAX_NEW_TOKENS": str(args.max_new_tokens),
        "CLINICAL_DEIDENTIFY_REQUESTS": args.deidentify,
    }
    for name in ("CLINICAL_SERVICE_TOKEN", "CLINICAL_RELEASE_PUBLIC_KEY", "CLINICAL_RELEASES_DIR", "CLINICAL_ENV"):
        env.pop(name, None)
    log = (work / "serve.log").open("w")
    clinical = Path(sys.executable).with_name("clinical")
    proc = subprocess.Popen(
        [str(clinical), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    peak = {"rss": 0}
    model_seconds: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], tree_rss(proc.pid))
            time.sleep(0.2)

    def post(text: str) -> dict:
        request = urllib.request.Request(
            f"{base}/extract",
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.loads(response.read())
        model_seconds.append(float(answer["latency_s"]))
        return answer

    try:
        started = time.perf_counter()
        while True:
            if proc.poll() is not None:
                raise SystemExit("service exited:\n" + (work / "serve.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        ready_s = time.perf_counter() - started
        print(f"service ready in {ready_s:.1f} s:", file=sys.stderr, flush=True)
        idle_rss = tree_rss(proc.pid)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        post(NOTES[0])  # warm-up
        out: dict = {"ready_s": round(ready_s, 1), "idle_rss_mb": round(idle_rss / 2**20)}
        for c in args.levels:
            model_seconds.clear()
            out[f"service_c{c}"] = run_concurrent(post, c, max(args.requests, c) if c > 1 else args.requests)
            # the Extractor's own time inside the service (generation + parsing), per request
            out[f"service_c{c}"]["model_p50_s"] = round(statistics.median(model_seconds), 3) if model_seconds else None
        stop.set()
        sampler.join()
        out["peak_rss_mb"] = round(max(peak["rss"], idle_rss) / 2**20)
        return out
    finally:
        stop.set()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="smollm2-135m-instruct", help="base-model spec or model folder")
    parser.add_argument("--requests", type=int, default=8, help="requests per level (at least the concurrency)")
    parser.add_argument("--concurrency", default="1,4,16")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--deidentify", choices=["never", "auto", "always"], default="auto")
    args = parser.parse_args()
    args.levels = [int(c) for c in args.concurrency.split(",")]

    work = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    try:
        model_dir = resolve_model(args.model)
        bentoml_home, clinical_home, tag = release_model(model_dir, work)
        local = in_process(model_dir, args)
        gc.collect()
        served = service(bentoml_home, clinical_home, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [("in-process Extractor.extract", 1, local["extractor_c1"])]
    rows += [(f"in-process batched (c={c})", c, local[f"batched_c{c}"]) for c in args.levels]
    rows += [(f"service /extract (c={c})", c, served[f"service_c{c}"]) for c in args.levels]
    print(f"{'what':34} {'conc':>4} {'p50 s':>8} {'p95 s':>8} {'req/s':>8}")
    for name, c, f in rows:
        print(f"{name:34} {c:>4} {f['p50_s']:>8.3f} {f['p95_s']:>8.3f} {f['throughput_rps']:>8.3f}")
    overhead = served["service_c1"]["p50_s"] / local["extractor_c1"]["p50_s"]
    summary = {
        "bento_tag": tag,
        "model": str(model_dir),
        "max_new_tokens": args.max_new_tokens,
        "deidentify": args.deidentify,
        "in_process": local,
        "service": served,
        "overhead_p50_c1": round(overhead, 3),
        "overhead_budget": 1.15,
        "peak_rss_mb": served["peak_rss_mb"],
        "rss_budget_mb": 2048,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(
        f"service overhead at concurrency 1: {overhead:.3f}x in-process (budget 1.15x); "
        f"service peak RSS {served['peak_rss_mb']} MB (budget 2048 MB); ready in {served['ready_s']} s"
    )
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
