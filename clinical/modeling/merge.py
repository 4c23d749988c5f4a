"""Fold a LoRA adapter into its base weights, giving a plain model directory for serving/export."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import torch

from clinical.ids import sha256_file
from clinical.modeling.base_model import weights_sha256

MERGE_INFO_FILENAME = "merge_info.json"


@dataclass(frozen=True)
class MergeResult:
    """path: merged model directory; sha256: hash of its safetensors weights (base_model.weights_sha256);
    base_sha256: the same hash of the base model the adapter was trained on."""

    path: Path
    sha256: str
    base_sha256: str


def merge_adapter(adapter_dir: str | Path, out_dir: str | Path) -> MergeResult:
    """Merge the adapter in `adapter_dir` into its base model and save the result to `out_dir`.

    adapter_dir: peft adapter directory; its adapter_config.json names the base model directory.
    out_dir: directory to create with safetensors weights, config and tokenizer; an existing one is
        replaced once the new one is complete.
    The merge runs in fp32 on CPU so the merged weights match the adapter's outputs.
    """
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    adapter_dir = Path(adapter_dir).resolve()
    out_dir = Path(out_dir)
    base_path = Path(json.loads((adapter_dir / "adapter_config.json").read_text())["base_model_name_or_path"])
    base = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
    merged = PeftModel.from_pretrained(base, adapter_dir).merge_and_unload()
    tokenizer_dir = adapter_dir if (adapter_dir / "tokenizer_config.json").is_file() else base_path
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        base_sha256 = weights_sha256(base_path)
        info = {
            "adapter_dir": str(adapter_dir),
            "adapter_sha256": sha256_file(adapter_dir / "adapter_model.safetensors"),
            "base_model_path": str(base_path),
            "base_sha256": base_sha256,
        }
        (tmp / MERGE_INFO_FILENAME).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.rename(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return MergeResult(path=out_dir.resolve(), sha256=weights_sha256(out_dir), base_sha256=base_sha256)
