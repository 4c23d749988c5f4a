"""The base-model registry: tiny random model, local directories, bad specs."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from modeling_fixtures import tiny_base  # noqa: F401  (pytest fixture)

from clinical.modeling.base_model import (
    TOKENIZER_DIRNAME,
    BaseModelError,
    resolve_base_model,
    weights_sha256,
)


def test_tiny_random_is_a_complete_hf_dir(tiny_base):  # noqa: F811
    from transformers import AutoTokenizer

    assert tiny_base.name == "tiny-random"
    for name in ("config.json", "model.safetensors", "tokenizer_config.json", "base_model.json"):
        assert (tiny_base.path / name).is_file()
    tokenizer = AutoTokenizer.from_pretrained(tiny_base.path)
    assert len(tokenizer) == 49152
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "x"}], add_generation_prompt=True, tokenize=False
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    assert 1_000_000 < tiny_base.n_params < 10_000_000
    assert tiny_base.weights_sha256 == weights_sha256(tiny_base.path)
    assert json.loads(json.dumps(tiny_base.as_dict()))["path"] == str(tiny_base.path)


def test_tiny_random_is_deterministic_fast_and_cached(tiny_base, tmp_path):  # noqa: F811
    shutil.copytree(tiny_base.path.parent / TOKENIZER_DIRNAME, tmp_path / TOKENIZER_DIRNAME)
    start = time.perf_counter()
    again = resolve_base_model("tiny-random", tmp_path)
    assert time.perf_counter() - start < 10
    assert again.path != tiny_base.path
    assert again.weights_sha256 == tiny_base.weights_sha256
    assert resolve_base_model("tiny-random", tmp_path) == again
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_local_directory_is_used_in_place(tiny_base, tmp_path):  # noqa: F811
    info = resolve_base_model(str(tiny_base.path), tmp_path)
    assert info.path == tiny_base.path
    assert info.source == str(tiny_base.path)
    assert info.weights_sha256 == tiny_base.weights_sha256
    assert info.n_params == tiny_base.n_params
    assert resolve_base_model(str(tiny_base.path), tmp_path).weights_sha256 == info.weights_sha256


@pytest.mark.parametrize("spec", ["no-such-model", "llama-3.3-70b", ""])
def test_unknown_spec_names_it(spec, tmp_path):
    with pytest.raises(BaseModelError, match=repr(spec).replace(".", r"\.")):
        resolve_base_model(spec, tmp_path / "cache")


def test_local_directory_without_config_is_rejected(tmp_path):
    (tmp_path / "model").mkdir()
    with pytest.raises(BaseModelError, match="config.json"):
        resolve_base_model(str(tmp_path / "model"), tmp_path / "cache")
