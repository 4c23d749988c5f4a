"""The TensorRT-LLM bundle: written everywhere, built only where TensorRT-LLM and a GPU exist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from clinical.ids import sha256_dir
from clinical.trtllm import (
    TrtllmOptions,
    build_trtllm_bundle,
    choose_quantization,
    llm_api_options,
    runtime_status,
)


@pytest.fixture()
def fake_model(tmp_path: Path) -> Path:
    model = tmp_path / "merged"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    (model / "model.safetensors").write_bytes(b"\0" * 64)
    (model / "tokenizer.json").write_text("{}")
    return model


@pytest.mark.parametrize(
    ("requested", "capability", "expected"),
    [
        ("auto", "9.0", "FP8"),  # H100 / H200
        ("auto", "9.1", "FP8"),
        ("auto", "8.0", "INT4_AWQ"),  # A100
        ("auto", "8.9", "INT4_AWQ"),  # L40S
        ("auto", "10.0", "INT4_AWQ"),
        ("auto", None, "INT4_AWQ"),  # no GPU visible
        ("FP8", "8.0", "FP8"),
        ("INT4_AWQ", "9.0", "INT4_AWQ"),
        ("NONE", "9.0", "NONE"),
    ],
)
def test_quantization_choice_by_compute_capability(requested, capability, expected):
    choice, reason = choose_quantization(requested, capability)
    assert choice == expected
    assert reason


def test_unknown_options_are_refused():
    with pytest.raises(ValueError, match="quantization"):
        TrtllmOptions(quantization="int3")
    with pytest.raises(ValueError, match="backend"):
        TrtllmOptions(backend="tensorrt")
    with pytest.raises(ValueError, match="fraction"):
        TrtllmOptions(kv_cache_free_gpu_memory_fraction=1.5)


def test_llm_api_options_follow_quantization():
    options = TrtllmOptions(max_batch_size=4, max_seq_len=1024)
    fp8 = llm_api_options(options, "FP8")
    assert fp8["kv_cache_config"] == {"free_gpu_memory_fraction": 0.85, "dtype": "fp8"}
    assert fp8["max_num_tokens"] == 4096
    assert "dtype" not in llm_api_options(options, "INT4_AWQ")["kv_cache_config"]


def test_runtime_status_without_importing_tensorrt_llm():
    status = runtime_status()
    assert set(status) >= {"tensorrt_llm_installed", "tensorrt_llm_version", "cuda_available", "gpu_name"}
    assert "tensorrt_llm" not in sys.modules or status["tensorrt_llm_installed"]


def test_bundle_is_written_and_not_pretended(fake_model: Path, tmp_path: Path):
    status = runtime_status()
    if status["tensorrt_llm_installed"] and status["cuda_available"]:
        pytest.skip("this host can build for real; see the gpu test")
    digest = sha256_dir(fake_model)
    result = build_trtllm_bundle(fake_model, tmp_path / "bundle", TrtllmOptions(), model_sha256=digest)

    assert result.built is False
    if not status["tensorrt_llm_installed"]:
        assert result.reason == "tensorrt_llm is not installed on this host; bundle written, engine not built"
    manifest = json.loads((result.bundle_dir / "manifest.json").read_text())
    assert manifest == result.manifest
    assert manifest["built"] is False
    assert manifest["model"] == {
        "path": str(fake_model.resolve()),
        "sha256": digest,
        "sha256_algorithm": "clinical.ids.sha256_dir",
    }
    assert manifest["quantization"]["resolved"] in {"FP8", "INT4_AWQ"}
    assert manifest["quantization"]["reason"].startswith("auto:")
    assert manifest["runtime_status"] == status
    options = yaml.safe_load((result.bundle_dir / "llm_api_options.yaml").read_text())
    assert options == json.loads((result.bundle_dir / "llm_api_options.json").read_text())
    assert options["max_batch_size"] == 8 and options["max_seq_len"] == 2048
    assert options["kv_cache_config"]["free_gpu_memory_fraction"] == 0.85
    assert not (result.bundle_dir / "smoke_output.json").exists()


def test_launcher_verifies_model_and_prints_serve_command(fake_model: Path, tmp_path: Path):
    result = build_trtllm_bundle(fake_model, tmp_path / "bundle")
    launcher = result.bundle_dir / "serve_trtllm.py"

    ok = subprocess.run([sys.executable, str(launcher), "--verify-only"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    command = subprocess.run(
        [sys.executable, str(launcher), "--print-command", "--port", "9001"], capture_output=True, text=True
    )
    assert command.returncode == 0, command.stderr
    assert command.stdout.split()[:2] == ["trtllm-serve", str(fake_model.resolve())]
    assert "--extra_llm_api_options" in command.stdout and "9001" in command.stdout

    (fake_model / "model.safetensors").write_bytes(b"\1" * 64)
    tampered = subprocess.run([sys.executable, str(launcher), "--verify-only"], capture_output=True, text=True)
    assert tampered.returncode == 2
    assert "mismatch" in tampered.stderr


def test_missing_model_folder_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        build_trtllm_bundle(tmp_path / "nope", tmp_path / "bundle")


@pytest.mark.gpu
@pytest.mark.slow
def test_real_build_on_gpu_host(fake_model: Path, tmp_path: Path):
    status = runtime_status()
    if not (status["tensorrt_llm_installed"] and status["cuda_available"]):
        pytest.skip("needs tensorrt_llm and a CUDA GPU")
    from clinical.modeling.base_model import resolve_base_model

    model = resolve_base_model("tiny-random", tmp_path / "cache").path
    result = build_trtllm_bundle(model, tmp_path / "bundle")
    assert result.built, result.reason
    smoke = json.loads((result.bundle_dir / "smoke_output.json").read_text())
    assert smoke["generated_tokens"] > 0
