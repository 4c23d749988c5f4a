"""base_model and lora_adapter: the registry's base weights and a real peft LoRA run on the train split."""

import json
import time

import dagster as dg
from pydantic import Field

from clinical import intake
from clinical.ids import canonical_json, sha256_text
from clinical.modeling import base_model as base_model_logic
from clinical.modeling import lora
from clinical.warehouse import fetch_dicts
from clinical_assets.dataset import sft_dataset
from clinical_assets.metadata import line_plot, links_metadata, md_table
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
    """Every hyperparameter of the LoRA run (see clinical.modeling.lora.LoraTrainingConfig)."""

    r: int = Field(default=16, description="LoRA rank.")
    alpha: int = Field(default=32, description="LoRA alpha (scaling = alpha / r).")
    dropout: float = Field(default=0.05, description="LoRA dropout.")
    target_modules: list[str] = Field(
        default=["q_proj", "k_proj", "v_proj", "o_proj"], description="Linear layers that get adapters."
    )
    # The demo recipe (docs/EVALUATION.md, "Fine-tuning against prompting"): a hot, short cosine run that
    # fits a CPU demo; on a GPU raise max_steps (epochs over the whole train split) and lower the rate.
    learning_rate: float = Field(default=1e-3, description="Peak AdamW learning rate.")
    weight_decay: float = Field(default=0.0, description="AdamW weight decay.")
    lr_scheduler: str = Field(default="cosine", description="constant, linear or cosine (after warm-up).")
    warmup_steps: int = Field(default=3, description="Linear warm-up steps.")
    max_steps: int = Field(default=60, description="Optimizer steps, 0 = no cap (the demo default is short).")
    epochs: int = Field(default=1, description="Passes over the train split (max_steps caps them).")
    batch_size: int = Field(default=4, description="Examples per forward pass (per process).")
    grad_accum: int = Field(default=1, description="Forward passes per optimizer step.")
    max_length: int = Field(default=512, description="Longest tokenized example; longer ones are truncated.")
    batching: str = Field(
        default="bucket", description="bucket (similar lengths together), shuffle, or pad_max (plain baseline)."
    )
    seed: int = Field(default=0, description="The same seed gives the same adapter on CPU.")
    precision: str = Field(
        default="auto", description="auto (bf16 autocast where native: CUDA, AVX512_BF16 CPUs), bf16 or fp32."
    )
    gradient_checkpointing: bool = Field(default=False, description="Recompute activations (large base models).")
    checkpoint_every: int = Field(
        default=10, description="Save adapter + optimizer + scheduler + RNG state every N steps (0 = never)."
    )
    keep_checkpoints: int = Field(default=2, description="Newest checkpoints kept.")
    resume: bool = Field(
        default=True, description="Continue from the newest checkpoint of the same config, data and base model."
    )

    def training_config(self) -> lora.LoraTrainingConfig:
        return lora.LoraTrainingConfig(**{**self.model_dump(), "target_modules": tuple(self.target_modules)})


def adapter_dir_name(dataset_version: str, base_sha256: str, config: LoraConfig) -> str:
    """The run's output folder: the same data, base model, hyperparameters and training code give the
    same folder, so a re-executed (retried) run finds the checkpoints of the run that died."""
    settings = {k: v for k, v in config.model_dump().items() if k not in lora.NOT_FINGERPRINTED}
    key = sha256_text(canonical_json({"base": base_sha256, "config": settings, "code": LORA_CODE}))
    return f"{dataset_version[:12]}-{key[:12]}"


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
    """A LoRA adapter trained with peft on the train split (loss on the assistant tokens only, length
    bucketing, bf16 autocast where the hardware has it), saved with its config, training summary and
    sha256. Checkpoints every `checkpoint_every` steps; a re-executed run of the same config, data and
    base model resumes from the newest one. Runs on CPU here; on a CUDA GPU it trains in bf16 (not
    exercised on the CPU-only development machines). Multi-GPU: docs/TRAINING.md (accelerate + FSDP)."""
    info = base_models.resolve()
    with warehouse.connect(read_only=True) as con:
        version = latest_dataset_version(con)
        refused = intake.examples_refused(con, version)
        train = split_records(con, version, "train")
        validation = split_records(con, version, "validation")
    if refused:
        raise dg.Failure(
            f"dataset {version[:12]} holds {refused} train example(s) from landing batches no longer approved for "
            "model training (approval expired or purpose withdrawn): materialize sft_dataset again"
        )
    try:
        training_config = config.training_config()
    except ValueError as exc:
        raise dg.Failure(f"lora_adapter config: {exc}") from None
    out_dir = artifacts.path("adapters", adapter_dir_name(version, info.weights_sha256, config))
    checkpoint = lora.latest_checkpoint(out_dir) if config.resume else None
    context.log.info(
        f"training LoRA on {len(train)} examples of dataset {version[:12]} for {config.max_steps} steps"
        + (f"; resuming from {checkpoint.name}" if checkpoint else "")
    )

    def progress(step: int, total: int, loss: float) -> None:
        context.log.info(f"step {step}/{total} loss {loss:.4f}")

    result = lora.train_lora(
        info.path, train, out_dir, training_config, validation_records=validation or None, progress=progress
    )
    summary = result.as_dict()
    params = config.model_dump()
    adapter_id = f"adapter_{result.adapter_sha256[:32]}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=adapter_id,
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
            "hyperparameters": md_table(
                [{"parameter": k, "value": ", ".join(v) if isinstance(v, list) else str(v)} for k, v in params.items()]
            ),
            "resumed_from_step": result.resumed_from_step,
            "checkpoints": dg.MetadataValue.path(str(result.adapter_dir / lora.CHECKPOINTS_DIRNAME)),
            "padding_fraction": round(float(result.padding_fraction), 3),
            "bf16_autocast": result.bf16_autocast,
            "device": result.device,
            "fingerprint": result.fingerprint,
            "links": links_metadata(warehouse, adapter_id),
        },
        data_version=dg.DataVersion(result.adapter_sha256),
    )
