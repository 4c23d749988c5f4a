"""Backend selection at service start: TensorRT-LLM where bundle + runtime + CUDA exist, else PyTorch.

The TensorRT-LLM backend itself is GPU-only and never runs here; these tests cover the selection rule
for every case, the bundle checks on a real bundle written by clinical.trtllm (its CPU path), and
the record the bento asset puts into the model's metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clinical.serving.backends import (
    BACKEND_ENV,
    BUNDLE_ENV,
    METADATA_KEY,
    BackendUnavailableError,
    Runtime,
    TrtllmBundle,
    bundle_metadata,
    choose_backend,
    detect_runtime,
    find_bundle,
    requested_backend,
    select_backend,
)
from clinical.trtllm import build_trtllm_bundle

NO_RUNTIME = Runtime(tensorrt_llm_installed=False, cuda_available=False)
CPU_WITH_TRTLLM = Runtime(tensorrt_llm_installed=True, cuda_available=False, tensorrt_llm_version="1.0.0")
CUDA_ONLY = Runtime(tensorrt_llm_installed=False, cuda_available=True)
FULL = Runtime(tensorrt_llm_installed=True, cuda_available=True, tensorrt_llm_version="1.0.0")
BUNDLE = TrtllmBundle(path=Path("/bundles/x"), sha256="b" * 64, model_sha256="m" * 64, built=True)
NO_BUNDLE_NOTE = "no TensorRT-LLM bundle recorded for this model"


# --- the rule ------------------------------------------------------------------------------------


def test_no_bundle_serves_pytorch_and_says_why():
    choice = select_backend("auto", None, NO_BUNDLE_NOTE, NO_RUNTIME)
    assert choice.backend == "pytorch-cpu"
    assert choice.reason == f"{NO_BUNDLE_NOTE}; tensorrt_llm not installed; no CUDA GPU visible"
    assert choice.bundle is None
    on_gpu = select_backend("auto", None, NO_BUNDLE_NOTE, FULL)
    assert (on_gpu.backend, on_gpu.reason) == ("pytorch-cuda", NO_BUNDLE_NOTE)


def test_bundle_without_runtime_serves_pytorch():
    choice = select_backend("auto", BUNDLE, "bundle found", NO_RUNTIME)
    assert (choice.backend, choice.reason) == ("pytorch-cpu", "tensorrt_llm not installed; no CUDA GPU visible")
    on_gpu = select_backend("auto", BUNDLE, "bundle found", CUDA_ONLY)
    assert (on_gpu.backend, on_gpu.reason) == ("pytorch-cuda", "tensorrt_llm not installed")


def test_runtime_without_cuda_serves_pytorch_cpu():
    choice = select_backend("auto", BUNDLE, "bundle found", CPU_WITH_TRTLLM)
    assert (choice.backend, choice.reason) == ("pytorch-cpu", "no CUDA GPU visible")


def test_bundle_runtime_and_cuda_serve_tensorrt_llm():
    choice = select_backend("auto", BUNDLE, "TensorRT-LLM bundle bbbb from the model's metadata", FULL)
    assert choice.backend == "tensorrt_llm"
    assert choice.bundle is BUNDLE
    assert choice.reason.endswith("; tensorrt_llm 1.0.0 on CUDA")
    assert choice.describe() == {
        "backend": "tensorrt_llm",
        "backend_reason": choice.reason,
        "trtllm_bundle_sha256": "b" * 64,
    }
    assert select_backend("tensorrt_llm", BUNDLE, "found", FULL).backend == "tensorrt_llm"


def test_forced_pytorch_ignores_a_usable_bundle():
    assert select_backend("pytorch", BUNDLE, "found", FULL).backend == "pytorch-cuda"
    choice = select_backend("pytorch", BUNDLE, "found", NO_RUNTIME)
    assert (choice.backend, choice.reason) == ("pytorch-cpu", f"{BACKEND_ENV}=pytorch")


@pytest.mark.parametrize(
    ("bundle", "runtime", "missing"),
    [
        (None, FULL, NO_BUNDLE_NOTE),
        (BUNDLE, NO_RUNTIME, "tensorrt_llm not installed; no CUDA GPU visible"),
        (BUNDLE, CPU_WITH_TRTLLM, "no CUDA GPU visible"),
        (BUNDLE, CUDA_ONLY, "tensorrt_llm not installed"),
    ],
)
def test_forced_tensorrt_llm_that_cannot_run_refuses_to_start(bundle, runtime, missing):
    with pytest.raises(BackendUnavailableError) as caught:
        select_backend("tensorrt_llm", bundle, NO_BUNDLE_NOTE, runtime)
    message = str(caught.value)
    assert message == f"{BACKEND_ENV}=tensorrt_llm but {missing}: refusing to start"
    assert "\n" not in message


def test_requested_backend_from_env():
    assert requested_backend({}) == "auto"
    assert requested_backend({BACKEND_ENV: " PyTorch "}) == "pytorch"
    assert requested_backend({BACKEND_ENV: "tensorrt_llm"}) == "tensorrt_llm"
    with pytest.raises(ValueError, match=BACKEND_ENV):
        requested_backend({BACKEND_ENV: "trt"})
    with pytest.raises(ValueError, match=BACKEND_ENV):
        select_backend("onnx", None, NO_BUNDLE_NOTE, NO_RUNTIME)


# --- the bundle on this host ------------------------------------------------------------------------


@pytest.fixture()
def bundle_and_metadata(tmp_path: Path) -> tuple[Path, dict]:
    """A real bundle (clinical.trtllm, CPU path) of a small model folder, and the model metadata the
    bento asset would write for it."""
    from clinical.ids import sha256_dir

    model = tmp_path / "merged"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    (model / "model.safetensors").write_bytes(b"\0" * 64)
    model_sha = sha256_dir(model)
    result = build_trtllm_bundle(model, tmp_path / "bundle", model_sha256=model_sha)
    artifact = {
        "path": str(result.bundle_dir),
        "sha256": sha256_dir(result.bundle_dir),
        "parents": {"merged_model": "merged_1"},
        "details": {"built": result.built, "reason": result.reason, "manifest": result.manifest},
    }
    record = bundle_metadata(artifact, "merged_1")
    return result.bundle_dir, {"merged_sha256": model_sha, "source_sha256": model_sha, METADATA_KEY: record}


def test_bento_records_the_bundle_of_its_own_merged_model_only(bundle_and_metadata):
    bundle_dir, metadata = bundle_and_metadata
    record = metadata[METADATA_KEY]
    assert record["path"] == str(bundle_dir)
    assert record["model_sha256"] == metadata["merged_sha256"]
    assert record["built"] is False  # written on a host without tensorrt_llm
    assert None not in record.values()  # BentoML model metadata takes no None
    artifact = {"path": str(bundle_dir), "sha256": record["sha256"], "parents": {"merged_model": "merged_1"}}
    assert bundle_metadata(artifact, "merged_2") is None
    assert bundle_metadata({**artifact, "sha256": None}, "merged_1") is None
    assert bundle_metadata(None, "merged_1") is None


def test_recorded_bundle_is_found_and_checked(bundle_and_metadata):
    bundle_dir, metadata = bundle_and_metadata
    bundle, note = find_bundle(metadata, {})
    assert bundle is not None and bundle.path == bundle_dir
    assert bundle.sha256 == metadata[METADATA_KEY]["sha256"]
    assert note.startswith(f"TensorRT-LLM bundle {bundle.sha256[:12]} from the model's metadata")

    assert find_bundle({}, {}) == (None, NO_BUNDLE_NOTE)
    other_model = {**metadata, "merged_sha256": "f" * 64, "source_sha256": "e" * 64}
    missing, note = find_bundle(other_model, {})
    assert missing is None and "made for another model" in note


def test_tampered_or_absent_bundle_is_not_used(bundle_and_metadata, tmp_path: Path):
    bundle_dir, metadata = bundle_and_metadata
    options = bundle_dir / "llm_api_options.json"
    options.write_text(options.read_text().replace('"max_batch_size": 8', '"max_batch_size": 512'))
    bundle, note = find_bundle(metadata, {})
    assert bundle is None and "does not match its recorded sha256" in note
    elsewhere = {**metadata, METADATA_KEY: {**metadata[METADATA_KEY], "path": str(tmp_path / "gone")}}
    bundle, note = find_bundle(elsewhere, {})
    assert bundle is None and note == "the TensorRT-LLM bundle named by the model's metadata is not on this host"


def test_bundle_folder_from_the_environment(bundle_and_metadata):
    bundle_dir, metadata = bundle_and_metadata
    without_record = {k: v for k, v in metadata.items() if k != METADATA_KEY}
    bundle, note = find_bundle(without_record, {BUNDLE_ENV: str(bundle_dir)})
    assert bundle is not None and note.endswith(f"from {BUNDLE_ENV}")


def test_this_host_chooses_pytorch_with_its_reason(bundle_and_metadata):
    """End to end on the real runtime of this (CPU) host: bundle present, tensorrt_llm absent."""
    runtime = detect_runtime()
    if runtime.tensorrt_llm_installed and runtime.cuda_available:
        pytest.skip("this host can run TensorRT-LLM")
    _, metadata = bundle_and_metadata
    choice = choose_backend(metadata, {})
    assert choice.backend == ("pytorch-cuda" if runtime.cuda_available else "pytorch-cpu")
    assert choice.reason  # e.g. "tensorrt_llm not installed; no CUDA GPU visible"
    if not runtime.tensorrt_llm_installed:
        assert "tensorrt_llm not installed" in choice.reason
    assert choose_backend(metadata, {BACKEND_ENV: "pytorch"}).reason == f"{BACKEND_ENV}=pytorch"
    with pytest.raises(BackendUnavailableError, match="refusing to start"):
        choose_backend(metadata, {BACKEND_ENV: "tensorrt_llm"})


def test_bundle_record_survives_the_bentoml_model_store(bundle_and_metadata, tmp_path: Path):
    """The record the bento asset writes goes through BentoML's metadata validation (a real
    `bentoml.models.create` in a child process) and the service reads it back from model.yaml."""
    from clinical.serving.bento import save_model_to_store
    from clinical.serving.service import model_store_metadata

    bundle_dir, metadata = bundle_and_metadata
    model_dir = tmp_path / "merged"
    tag = save_model_to_store(
        model_dir,
        "clinical-extractor",
        {"adapter_version": "v1"},
        {"merged_sha256": metadata["merged_sha256"], METADATA_KEY: metadata[METADATA_KEY]},
        bentoml_home=tmp_path / "bentoml",
    )
    name, version = tag.split(":")
    stored = model_store_metadata(tmp_path / "bentoml" / "models" / name / version)
    assert stored[METADATA_KEY] == metadata[METADATA_KEY]
    bundle, _ = find_bundle(stored, {})
    assert bundle is not None and bundle.path == bundle_dir
