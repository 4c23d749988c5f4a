"""Which inference backend the service runs, chosen once when a model is loaded, and the TensorRT-LLM one.

    choice = choose_backend(model_store_metadata(model_dir))
    choice.backend   # "tensorrt_llm", "pytorch-cuda" or "pytorch-cpu"
    choice.reason    # one line, e.g. "tensorrt_llm not installed" (ids and hashes only, never text)

Rule (`select_backend`): TensorRT-LLM where the model's TensorRT-LLM bundle is on this host (and
matches its recorded sha256 and the served model), `tensorrt_llm` is importable and a CUDA GPU is
visible; otherwise PyTorch (`clinical.modeling.extract.Extractor`), on CUDA when a GPU is visible,
else on CPU. `CLINICAL_SERVING_BACKEND` overrides: `auto` (default), `pytorch` (always PyTorch), or
`tensorrt_llm` (TensorRT-LLM or refuse to start with a one-line reason).

Where the bundle comes from: the `trtllm_engine` asset writes it (clinical.trtllm) and records its
folder sha256; the `bento` asset copies `{path, sha256, model_sha256, built}` into the BentoML model's
metadata (`trtllm_bundle`), so the model folder (whose hash the signed release manifest pins) names
its bundle. `CLINICAL_TRTLLM_BUNDLE=<folder>` points at a bundle copied to the serving host instead
(its recorded hash is then not known, but it must still be made for the served model).

GPU-ONLY: the TensorRT-LLM backend (`TrtllmExtractor`) needs NVIDIA's `tensorrt_llm` package and a
CUDA GPU. Neither exists where this project's tests run, so that class has never been executed here;
only the selection logic is tested (on CPU, every case), and the service there reports `pytorch-cpu`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinical.ids import sha256_dir
from clinical.parsing import parse_model_output
from clinical.trtllm import MANIFEST_FILE, OPTIONS_JSON

BACKEND_ENV = "CLINICAL_SERVING_BACKEND"
BUNDLE_ENV = "CLINICAL_TRTLLM_BUNDLE"
REQUESTS = ("auto", "pytorch", "tensorrt_llm")
TENSORRT_LLM = "tensorrt_llm"
PYTORCH_CUDA = "pytorch-cuda"
PYTORCH_CPU = "pytorch-cpu"
METADATA_KEY = "trtllm_bundle"
"""Key of the bundle record in the BentoML model's metadata (written by the bento asset)."""


class BackendUnavailableError(RuntimeError):
    """CLINICAL_SERVING_BACKEND=tensorrt_llm on a host that cannot run it: the service must not start."""


@dataclass(frozen=True)
class Runtime:
    """What this host offers: tensorrt_llm importable (found without importing it), a CUDA GPU visible."""

    tensorrt_llm_installed: bool
    cuda_available: bool
    tensorrt_llm_version: str | None = None


def detect_runtime() -> Runtime:
    """`importlib.util.find_spec("tensorrt_llm")` and `torch.cuda.is_available()` on this host."""
    installed = importlib.util.find_spec("tensorrt_llm") is not None
    version = None
    if installed:
        from clinical.trtllm import _distribution_version

        version = _distribution_version("tensorrt_llm", "tensorrt-llm")
    cuda = False
    if importlib.util.find_spec("torch") is not None:
        import torch

        cuda = bool(torch.cuda.is_available())
    return Runtime(installed, cuda, version)


@dataclass(frozen=True)
class TrtllmBundle:
    """A TensorRT-LLM bundle found on this host: its folder, folder sha256, the model it was made for,
    and whether its writer built and smoke-tested it (False where it was written on a CPU host)."""

    path: Path
    sha256: str
    model_sha256: str | None
    built: bool


@dataclass(frozen=True)
class BackendChoice:
    """backend: "tensorrt_llm", "pytorch-cuda" or "pytorch-cpu"; reason: one line why; bundle: the
    bundle the TensorRT-LLM backend loads (None for PyTorch)."""

    backend: str
    reason: str
    bundle: TrtllmBundle | None = None

    def describe(self) -> dict[str, Any]:
        """What /extract, /info and the startup log say about the backend (no paths, no text)."""
        info: dict[str, Any] = {"backend": self.backend, "backend_reason": self.reason}
        if self.bundle is not None:
            info["trtllm_bundle_sha256"] = self.bundle.sha256
        return info


def requested_backend(environ: Mapping[str, str] | None = None) -> str:
    """CLINICAL_SERVING_BACKEND: auto (default), pytorch or tensorrt_llm; ValueError otherwise."""
    env = os.environ if environ is None else environ
    value = (env.get(BACKEND_ENV) or "auto").strip().lower()
    if value not in REQUESTS:
        raise ValueError(f"{BACKEND_ENV} must be one of {', '.join(REQUESTS)}, got {value!r}")
    return value


def find_bundle(
    metadata: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> tuple[TrtllmBundle | None, str]:
    """The served model's TensorRT-LLM bundle, if it is usable on this host, and one line saying so.

    metadata: the BentoML model's metadata (clinical.serving.service.model_store_metadata); its
        `trtllm_bundle` record and `merged_sha256` / `source_sha256` (the served model's hashes).
    environ: CLINICAL_TRTLLM_BUNDLE overrides the recorded path (os.environ when None).
    Returns (bundle, note) with bundle None and note the reason when there is none or it does not fit.
    """
    env = os.environ if environ is None else environ
    record = metadata.get(METADATA_KEY)
    record = record if isinstance(record, Mapping) else {}
    if env.get(BUNDLE_ENV):
        path, expected, source = Path(env[BUNDLE_ENV]), None, BUNDLE_ENV
    elif record.get("path"):
        path, expected, source = Path(str(record["path"])), record.get("sha256"), "the model's metadata"
    else:
        return None, "no TensorRT-LLM bundle recorded for this model"
    if not (path / MANIFEST_FILE).is_file() or not (path / OPTIONS_JSON).is_file():
        return None, f"the TensorRT-LLM bundle named by {source} is not on this host"
    actual = sha256_dir(path)
    if expected and actual != expected:
        return None, f"TensorRT-LLM bundle {actual[:12]} does not match its recorded sha256 {str(expected)[:12]}"
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text())
        json.loads((path / OPTIONS_JSON).read_text())
    except (OSError, ValueError):
        return None, f"TensorRT-LLM bundle {actual[:12]} has an unreadable manifest or options file"
    made_for = (manifest.get("model") or {}).get("sha256") if isinstance(manifest, dict) else None
    served = {str(metadata[k]) for k in ("merged_sha256", "source_sha256") if metadata.get(k)}
    if made_for and served and made_for not in served:
        return None, f"TensorRT-LLM bundle {actual[:12]} was made for another model ({str(made_for)[:12]})"
    bundle = TrtllmBundle(path=path, sha256=actual, model_sha256=made_for, built=bool(manifest.get("built")))
    return bundle, f"TensorRT-LLM bundle {actual[:12]} from {source}"


def select_backend(requested: str, bundle: TrtllmBundle | None, bundle_note: str, runtime: Runtime) -> BackendChoice:
    """The backend to serve with, and why (see the module docstring for the rule).

    requested: CLINICAL_SERVING_BACKEND value (see requested_backend).
    bundle, bundle_note: from find_bundle.
    runtime: from detect_runtime.
    Raises BackendUnavailableError when tensorrt_llm is requested and cannot run here.
    """
    if requested not in REQUESTS:
        raise ValueError(f"{BACKEND_ENV} must be one of {', '.join(REQUESTS)}, got {requested!r}")
    pytorch = PYTORCH_CUDA if runtime.cuda_available else PYTORCH_CPU
    if requested == "pytorch":
        return BackendChoice(pytorch, f"{BACKEND_ENV}=pytorch")
    missing = []
    if bundle is None:
        missing.append(bundle_note)
    if not runtime.tensorrt_llm_installed:
        missing.append("tensorrt_llm not installed")
    if not runtime.cuda_available:
        missing.append("no CUDA GPU visible")
    if not missing and bundle is not None:
        version = f" {runtime.tensorrt_llm_version}" if runtime.tensorrt_llm_version else ""
        return BackendChoice(TENSORRT_LLM, f"{bundle_note}; tensorrt_llm{version} on CUDA", bundle)
    if requested == TENSORRT_LLM:
        raise BackendUnavailableError(f"{BACKEND_ENV}=tensorrt_llm but {'; '.join(missing)}: refusing to start")
    return BackendChoice(pytorch, "; ".join(missing))


def choose_backend(
    metadata: Mapping[str, Any], environ: Mapping[str, str] | None = None, runtime: Runtime | None = None
) -> BackendChoice:
    """select_backend for the served model on this host: CLINICAL_SERVING_BACKEND, the model's bundle
    (find_bundle) and the runtime (detect_runtime unless given)."""
    requested = requested_backend(environ)
    if requested == "pytorch":
        bundle, note = None, "not looked up"
    else:
        bundle, note = find_bundle(metadata, environ)
    return select_backend(requested, bundle, note, runtime if runtime is not None else detect_runtime())


class TrtllmExtractor:
    """GPU-ONLY, NEVER RUN IN THIS PROJECT'S TESTS: the Extractor interface (`extract`, `extract_batch`,
    `extract_many`, `model_info`) on the TensorRT-LLM LLM API. It needs NVIDIA's `tensorrt_llm` package
    and a CUDA GPU, which the CPU development and CI hosts do not have.

    Same prompt as the PyTorch Extractor (`prompt_messages` + the tokenizer's chat template), greedy
    decoding (temperature 0) with the same repetition penalty and token limit, and the same parsing
    (clinical.parsing). Not the same decoding constraint: the PyTorch path's constrained decoding is a
    transformers logits processor, which TensorRT-LLM does not run, so `model_info["decoding"]` says
    "greedy" and outputs may be invalid JSON (salvaged by the parser, counted as valid_json False).
    TensorRT-LLM batches in flight itself, so a batch of notes is one `generate()` call.
    """

    def __init__(self, llm: Any, tokenizer: Any, max_new_tokens: int, model_info: dict[str, Any]) -> None:
        self.llm = llm
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.model_info = {**model_info, "decoding": "greedy"}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_dir: str | Path, bundle: TrtllmBundle, max_new_tokens: int = 256) -> TrtllmExtractor:
        """Load the served model folder (Hugging Face checkpoint) with the bundle's LLM API options.

        model_dir: the model folder the release verified (the bundle was made for it: find_bundle).
        bundle: the bundle whose llm_api_options.json holds the `tensorrt_llm.LLM` keyword arguments.
        """
        import tensorrt_llm  # GPU hosts only; imported here so that nothing else needs it
        from tensorrt_llm.llmapi import KvCacheConfig
        from transformers import AutoTokenizer

        kwargs = json.loads((bundle.path / OPTIONS_JSON).read_text())
        if isinstance(kwargs.get("kv_cache_config"), dict):
            kwargs["kv_cache_config"] = KvCacheConfig(**kwargs["kv_cache_config"])
        llm = tensorrt_llm.LLM(model=str(model_dir), **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        info = {
            "ref": str(Path(model_dir).resolve()),
            "kind": "tensorrt_llm",
            "device": "cuda",
            "max_new_tokens": max_new_tokens,
            "trtllm_bundle_sha256": bundle.sha256,
            "tensorrt_llm_version": getattr(tensorrt_llm, "__version__", None),
        }
        return cls(llm, tokenizer, max_new_tokens, info)

    def _prompt(self, text: str) -> str:
        from clinical.modeling.extract import prompt_messages

        return self.tokenizer.apply_chat_template(prompt_messages(text), add_generation_prompt=True, tokenize=False)

    def extract_batch(self, texts: Sequence[str]) -> list[Any]:
        """ExtractionResults of the notes, in order, from one greedy generate() call."""
        from tensorrt_llm import SamplingParams

        from clinical.modeling.extract import REPETITION_PENALTY, ExtractionResult

        started = time.perf_counter()
        prompts = [self._prompt(text) for text in texts]
        sampling = SamplingParams(
            max_tokens=self.max_new_tokens, temperature=0.0, repetition_penalty=REPETITION_PENALTY
        )
        with self._lock:
            outputs = self.llm.generate(prompts, sampling)
        elapsed = time.perf_counter() - started
        results = []
        for output in outputs:
            completion = output.outputs[0]
            parsed = parse_model_output(completion.text)
            results.append(
                ExtractionResult(
                    entities=parsed.entities,
                    valid_json=parsed.valid_json,
                    raw_output=completion.text,
                    latency_s=elapsed,
                    salvaged=parsed.salvaged,
                    output_tokens=len(getattr(completion, "token_ids", None) or []),
                    prompt_tokens=len(getattr(output, "prompt_token_ids", None) or []),
                )
            )
        return results

    def extract(self, text: str) -> Any:
        return self.extract_batch([text])[0]

    def extract_many(self, texts: list[str]) -> list[Any]:
        return self.extract_batch(texts)


def bundle_metadata(bundle: Mapping[str, Any] | None, merged_artifact_id: str) -> dict[str, Any] | None:
    """The `trtllm_bundle` record the bento asset puts into the BentoML model's metadata: the latest
    `trtllm_bundle` lineage artifact when it was made from this merged model and its folder sha256 is
    recorded (bundles registered before the hash was recorded are skipped: the service would refuse them).

    bundle: the lineage artifact (path, sha256, parents, details.manifest / details.built), or None.
    merged_artifact_id: the artifact id of the merged model the Bento carries.
    """
    if not bundle or (bundle.get("parents") or {}).get("merged_model") != merged_artifact_id:
        return None
    if not bundle.get("sha256") or not bundle.get("path"):
        return None
    details = bundle.get("details") or {}
    manifest = details.get("manifest") or {}
    record: dict[str, Any] = {
        "path": str(bundle["path"]),
        "sha256": str(bundle["sha256"]),
        "built": bool(details.get("built")),
    }
    made_for = (manifest.get("model") or {}).get("sha256")
    if made_for:  # BentoML model metadata takes no None values
        record["model_sha256"] = str(made_for)
    return record
