"""base_model and lora_adapter: the registry's base weights and a real peft LoRA run on the train split."""

import json
import time

import dagster as dg
from pydantic import Field

from clinical.modeling import base_model as base_model_logic
from clinical.modeling import lora
from clinical.warehouse import fetch_dicts
from clinical_assets.dataset import sft_dataset
from clinical_assets.metadata import line_plot
from clinical_assets.versioning import code_version
from resources import ArtifactStore, BaseModelRegistry, Warehouse

BASE_MODEL_CODE = code_version(base_model_logic)
LORA_CODE = code_version(lora)


@dg.asset(group_name="training", code_version=BASE_MODEL_CODE, kinds={"pytorch", "safetensors"}, owners=["team:ml"])
def base_model(
    context: dg.AssetExecutionContext, base_models: BaseModelRegistry, warehouse: Warehouse
) -> dg.MaterializeResult:
    """The base model from the registry as a local Hugging Face directory (safetensors), with the
    sha256 of its weights, its licence and parameter count."""
    started = time.perf_counter()
    info = base_models.resolve()
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=f"base_{info.weights_sha256[:32]}",
        kind="base_model",
        path=str(info.path),
        sha256=info.weights_sha256,
        parents={},
        details=info.as_dict(),
        code_version=BASE_MODEL_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "name": info.name,
            "path": dg.MetadataValue.path(str(info.path)),
            "weights_sha256": info.weights_sha256,
            "parameters": info.n_params,
            "license": info.license,
            "source": dg.MetadataValue.json(info.as_dict().get("source", {})),
        },
        data_version=dg.DataVersion(info.weights_sha256),
    )


class LoraConfig(dg.Config):
    r: int = Field(default=16, description="LoRA rank.")
    alpha: int = Field(default=32, description="LoRA alpha (scaling = alpha / r).")
    dropout: float = Field(default=0.05, description="LoRA dropout.")
    target_modules: list[str] = Field(default=["q_proj", "k_proj", "v_proj", "o_proj"])
    learning_rate: float = Field(default=2e-4)
    max_steps: int = Field(default=30, description="Optimizer steps (the demo default is short).")
    batch_size: int = Field(default=4)
    grad_accum: int = Field(default=1)
    max_length: int = Field(default=512, description="Longest tokenized example; longer ones are truncated.")
    seed: int = Field(default=0, description="The same seed gives the same adapter on CPU.")


def latest_dataset_version(con) -> str:
    rows = fetch_dicts(con, "SELECT dataset_version FROM datasets ORDER BY created_at DESC LIMIT 1")
    if not rows:
        raise dg.Failure("sft_dataset has not been materialized")
    return rows[0]["dataset_version"]


def split_records(con, version: str, split: str) -> list[dict]:
    rows = fetch_dicts(
        con,
        "SELECT example_id, text, entities, messages FROM sft_examples WHERE dataset_version = ? AND split = ? "
        "ORDER BY example_id",
        [version, split],
    )
    return [{**r, "entities": json.loads(r["entities"]), "messages": json.loads(r["messages"])} for r in rows]


@dg.asset(
    deps=[sft_dataset, base_model],
    group_name="training",
    code_version=LORA_CODE,
    kinds={"pytorch", "peft"},
    owners=["team:ml"],
)
def lora_adapter(
    context: dg.AssetExecutionContext,
    config: LoraConfig,
    base_models: BaseModelRegistry,
    artifacts: ArtifactStore,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """A LoRA adapter trained with peft on the train split (loss on the assistant tokens only),
    saved with its config, training summary and sha256."""
    info = base_models.resolve()
    with warehouse.connect(read_only=True) as con:
        version = latest_dataset_version(con)
        train = split_records(con, version, "train")
        validation = split_records(con, version, "validation")
    training_config = lora.LoraTrainingConfig(
        r=config.r,
        alpha=config.alpha,
        dropout=config.dropout,
        target_modules=tuple(config.target_modules),
        learning_rate=config.learning_rate,
        max_steps=config.max_steps,
        batch_size=config.batch_size,
        grad_accum=config.grad_accum,
        max_length=config.max_length,
        seed=config.seed,
    )
    out_dir = artifacts.path("adapters", f"{version[:12]}-{context.run.run_id[:8]}")
    context.log.info(f"training LoRA on {len(train)} examples of dataset {version[:12]} for {config.max_steps} steps")

    def progress(step: int, total: int, loss: float) -> None:
        context.log.info(f"step {step}/{total} loss {loss:.4f}")

    result = lora.train_lora(
        info.path, train, out_dir, training_config, validation_records=validation or None, progress=progress
    )
    summary = result.as_dict()
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=f"adapter_{result.adapter_sha256[:32]}",
        kind="lora_adapter",
        path=str(result.adapter_dir),
        sha256=result.adapter_sha256,
        parents={"dataset_version": version, "base_model": f"base_{info.weights_sha256[:32]}"},
        details={"training": summary, "config": config.model_dump(), "examples": len(train)},
        code_version=LORA_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "adapter_sha256": result.adapter_sha256,
            "path": dg.MetadataValue.path(str(result.adapter_dir)),
            "dataset_version": version,
            "base_model_sha256": info.weights_sha256,
            "train_examples": len(train),
            "steps": result.steps,
            "final_loss": float(result.losses[-1][1]) if result.losses else float("nan"),
            "validation_loss": float(result.validation_loss) if result.validation_loss is not None else float("nan"),
            "tokens_per_second": round(float(result.tokens_per_s), 1),
            "peak_rss_mb": round(float(result.peak_rss_mb), 1),
            "seconds": round(float(result.seconds), 1),
            "loss_curve": line_plot({"train loss": result.losses}, "Training loss", "step", "loss"),
            "hyperparameters": dg.MetadataValue.json(config.model_dump()),
        },
        data_version=dg.DataVersion(result.adapter_sha256),
    )
