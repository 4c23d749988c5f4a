"""merged_model, trtllm_engine and bento: from the adapter to something a hospital can serve."""

import time

import dagster as dg

from clinical import lineage, trtllm
from clinical.modeling import merge
from clinical.serving import bento as bento_logic
from clinical_assets.evaluation import evaluation
from clinical_assets.model_card import model_card
from clinical_assets.versioning import code_version
from resources import ArtifactStore, BentoStore, Warehouse

MERGE_CODE = code_version(merge)
TRTLLM_CODE = code_version(trtllm)
BENTO_CODE = code_version(bento_logic)


@dg.asset(
    deps=[evaluation, model_card],
    group_name="serving",
    code_version=MERGE_CODE,
    kinds={"pytorch", "safetensors"},
    owners=["team:ml-platform"],
)
def merged_model(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, warehouse: Warehouse
) -> dg.MaterializeResult:
    """The adapter merged into the base weights (safetensors), with its sha256."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        adapter = lineage.latest_artifact(con, "lora_adapter")
    if adapter is None:
        raise dg.Failure("no lora_adapter has been trained")
    result = merge.merge_adapter(adapter["path"], artifacts.path("merged", adapter["sha256"][:16]))
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=f"merged_{result.sha256[:32]}",
        kind="merged_model",
        path=str(result.path),
        sha256=result.sha256,
        parents={"adapter": adapter["artifact_id"]},
        details={"base_sha256": result.base_sha256},
        code_version=MERGE_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "merged_sha256": result.sha256,
            "adapter_sha256": adapter["sha256"],
            "path": dg.MetadataValue.path(str(result.path)),
        },
        data_version=dg.DataVersion(result.sha256),
    )


@dg.asset(
    deps=[merged_model],
    group_name="serving",
    code_version=TRTLLM_CODE,
    kinds={"tensorrt"},
    owners=["team:ml-platform"],
)
def trtllm_engine(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, warehouse: Warehouse
) -> dg.MaterializeResult:
    """A TensorRT-LLM deployment bundle for the merged checkpoint. The engine itself is built and
    smoke-tested only on a host with TensorRT-LLM and a CUDA GPU; elsewhere the metadata says plainly
    that no engine was built, and why."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        merged = lineage.latest_artifact(con, "merged_model")
    if merged is None:
        raise dg.Failure("no merged_model has been built")
    result = trtllm.build_trtllm_bundle(
        merged["path"],
        artifacts.path("trtllm", merged["sha256"][:16]),
        trtllm.TrtllmOptions(),
        merged["sha256"],
    )
    if not result.built:
        context.log.warning(f"TensorRT-LLM engine not built: {result.reason}")
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=f"trtllm_{merged['sha256'][:24]}",
        kind="trtllm_bundle",
        path=str(result.bundle_dir),
        sha256=None,
        parents={"merged_model": merged["artifact_id"]},
        details={"built": result.built, "reason": result.reason, "manifest": result.manifest},
        code_version=TRTLLM_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "engine_built": result.built,
            "status": result.reason,
            "bundle": dg.MetadataValue.path(str(result.bundle_dir)),
            "merged_sha256": merged["sha256"],
            "manifest": dg.MetadataValue.json(result.manifest),
        }
    )


@dg.asset_check(asset=trtllm_engine, description="Warns when only the bundle exists and no engine was built.")
def trtllm_engine_built(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        bundle = lineage.latest_artifact(con, "trtllm_bundle")
    built = bool(bundle and bundle["details"].get("built"))
    return dg.AssetCheckResult(
        passed=built,
        severity=dg.AssetCheckSeverity.WARN,
        description=None if built else (bundle or {}).get("details", {}).get("reason", "no bundle"),
    )


@dg.asset(
    deps=[merged_model],
    group_name="serving",
    code_version=BENTO_CODE,
    kinds={"bentoml"},
    owners=["team:ml-platform"],
)
def bento(context: dg.AssetExecutionContext, bentoml_store: BentoStore, warehouse: Warehouse) -> dg.MaterializeResult:
    """A Bento (`bentoml build`) of the extraction service with the merged model in BentoML's model
    store; the tag carries the adapter version."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        merged = lineage.latest_artifact(con, "merged_model")
        adapter = lineage.find_artifact(con, merged["parents"]["adapter"]) if merged else None
    if merged is None or adapter is None:
        raise dg.Failure("no merged_model has been built")
    adapter_version = adapter["sha256"][:16]
    model_tag = bento_logic.save_model_to_store(
        merged["path"],
        name="clinical-extractor",
        labels={"adapter": adapter_version},
        metadata={"merged_sha256": merged["sha256"], "adapter_sha256": adapter["sha256"]},
        bentoml_home=bentoml_store.home,
    )
    result = bento_logic.build_bento(model_tag, bentoml_store.home, version=adapter_version)
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=f"bento_{result.tag}",
        kind="bento",
        path=str(result.path),
        sha256=None,
        parents={"merged_model": merged["artifact_id"]},
        details={"tag": str(result.tag), "model_tag": str(result.model_tag)},
        code_version=BENTO_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "bento_tag": str(result.tag),
            "model_tag": str(result.model_tag),
            "path": dg.MetadataValue.path(str(result.path)),
            "adapter_version": adapter_version,
            "serve": dg.MetadataValue.md(
                f"`CLINICAL_SERVICE_TOKEN_FILE=<0600 token file> BENTOML_HOME={bentoml_store.home} "
                f"bentoml serve {result.tag}` (the service refuses to start without a bearer token)"
            ),
        }
    )
