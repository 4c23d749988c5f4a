"""merged_model, trtllm_engine, bento and deployment: from the adapter to a signed, servable release."""

import time

import dagster as dg
from pydantic import Field

from clinical import ids, lineage, trtllm
from clinical.modeling import merge
from clinical.serving import active, backends, deploy, release
from clinical.serving import bento as bento_logic
from clinical_assets.evaluation import evaluation
from clinical_assets.metadata import links_metadata, md_table
from clinical_assets.model_card import model_card
from clinical_assets.versioning import code_version
from resources import ArtifactStore, BentoStore, Warehouse
from resources.releases import ReleaseSigning

MERGE_CODE = code_version(merge)
TRTLLM_CODE = code_version(trtllm)
BENTO_CODE = code_version(bento_logic, active, backends)
DEPLOY_CODE = code_version(deploy, release, active)


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
    merged_id = f"merged_{result.sha256[:32]}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=merged_id,
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
            "links": links_metadata(warehouse, merged_id),
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
    bundle_id = f"trtllm_{merged['sha256'][:24]}"
    # The folder hash: the bento asset records it with the model; the service checks it before using the bundle.
    bundle_sha256 = ids.sha256_dir(result.bundle_dir)
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=bundle_id,
        kind="trtllm_bundle",
        path=str(result.bundle_dir),
        sha256=bundle_sha256,
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
            "bundle_sha256": bundle_sha256,
            "merged_sha256": merged["sha256"],
            "manifest": dg.MetadataValue.json(result.manifest),
            "links": links_metadata(warehouse, bundle_id),
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
    deps=[merged_model, trtllm_engine],
    group_name="serving",
    code_version=BENTO_CODE,
    kinds={"bentoml"},
    owners=["team:ml-platform"],
)
def bento(context: dg.AssetExecutionContext, bentoml_store: BentoStore, warehouse: Warehouse) -> dg.MaterializeResult:
    """A Bento (`bentoml build`) of the extraction service with the merged model in BentoML's model
    store; the tag carries the adapter version. The model's metadata names the merged model's
    TensorRT-LLM bundle (path and sha256), from which the service chooses its backend at start
    (TensorRT-LLM only on a GPU host with tensorrt_llm; PyTorch otherwise)."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        merged = lineage.latest_artifact(con, "merged_model")
        adapter = lineage.find_artifact(con, merged["parents"]["adapter"]) if merged else None
        privacy = deploy.training_privacy(con, adapter["artifact_id"]) if adapter else {}
        bundle = lineage.latest_artifact(con, "trtllm_bundle")
    if merged is None or adapter is None:
        raise dg.Failure("no merged_model has been built")
    bundle_record = backends.bundle_metadata(bundle, merged["artifact_id"])
    adapter_version = adapter["sha256"][:16]
    model_tag = bento_logic.save_model_to_store(
        merged["path"],
        name="clinical-extractor",
        labels={"adapter": adapter_version},
        # trained_on_deidentified: the service de-identifies requests for such a model (auto mode).
        metadata={
            "merged_sha256": merged["sha256"],
            "adapter_sha256": adapter["sha256"],
            **privacy,
            **({backends.METADATA_KEY: bundle_record} if bundle_record else {}),
        },
        bentoml_home=bentoml_store.home,
    )
    result = bento_logic.build_bento(model_tag, bentoml_store.home, version=adapter_version)
    stored = active.find_bento(bentoml_store.home, result.tag)
    hashes = active.bento_hashes(stored)
    bento_id = f"bento_{result.tag}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=bento_id,
        kind="bento",
        path=str(result.path),
        sha256=hashes["bento"],
        parents={"merged_model": merged["artifact_id"]},
        details={
            "tag": str(result.tag),
            "model_tag": str(result.model_tag),
            "model_dir_sha256": hashes["bento_model"],
            "trained_on_deidentified": bool(privacy.get("trained_on_deidentified")),
            "trtllm_bundle_sha256": (bundle_record or {}).get("sha256"),
        },
        code_version=BENTO_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "bento_tag": str(result.tag),
            "model_tag": str(result.model_tag),
            "path": dg.MetadataValue.path(str(result.path)),
            "adapter_version": adapter_version,
            "bento_sha256": hashes["bento"],
            "model_dir_sha256": hashes["bento_model"],
            "deidentify_requests": bool(privacy.get("trained_on_deidentified")),
            "trtllm_bundle_sha256": (bundle_record or {}).get("sha256")
            or "none recorded for this merged model: the service serves with PyTorch",
            "backend_at_start": "TensorRT-LLM where this bundle, tensorrt_llm and a CUDA GPU are present "
            "(GPU-only); else PyTorch on CUDA or CPU (CLINICAL_SERVING_BACKEND overrides)",
            "links": links_metadata(warehouse, bento_id),
            "serve": dg.MetadataValue.md(
                f"`CLINICAL_SERVICE_TOKEN_FILE=<0600 token file> BENTOML_HOME={bentoml_store.home} "
                f"bentoml serve {result.tag}` (the service refuses to start without a bearer token)"
            ),
        }
    )


class DeploymentConfig(dg.Config):
    auto_promote: bool = Field(
        default=True,
        description="Outside production, make the release active when the promotion gate passed. "
        "Production never auto-promotes: a person runs `clinical release promote <manifest>`.",
    )


@dg.asset(
    deps=[bento],
    group_name="serving",
    code_version=DEPLOY_CODE,
    kinds={"bentoml"},
    owners=["team:ml-platform"],
)
def deployment(
    context: dg.AssetExecutionContext,
    config: DeploymentConfig,
    bentoml_store: BentoStore,
    artifacts: ArtifactStore,
    release_signing: ReleaseSigning,
    warehouse: Warehouse,
) -> dg.MaterializeResult:
    """An ed25519-signed release manifest for the latest Bento: its tag, the base, adapter, merged,
    Bento and model-folder sha256, the evaluation summary and the model card's sha256. Outside
    production it becomes the active release when the promotion gate passed; in production a person
    promotes it with `clinical release promote`. `clinical serve` verifies it before serving."""
    started = time.perf_counter()
    notes: list[str] = []
    with warehouse.connect(read_only=True) as con:
        bento_artifact = lineage.latest_artifact(con, "bento")
        if bento_artifact is None:
            raise dg.Failure("no bento has been built")
        merged = lineage.find_artifact(con, bento_artifact["parents"]["merged_model"])
        adapter = lineage.find_artifact(con, merged["parents"]["adapter"]) if merged else None
        if merged is None or adapter is None:
            raise dg.Failure(f"the lineage of {bento_artifact['artifact_id']} does not reach its adapter")
        evaluation_artifact = lineage.latest_artifact(con, "evaluation")
        if evaluation_artifact is not None and evaluation_artifact["parents"].get("adapter") != adapter["artifact_id"]:
            evaluation_artifact = None
        decision = lineage.latest_artifact(con, "promotion_decision")
        if decision is not None and (
            evaluation_artifact is None or decision["parents"].get("evaluation") != evaluation_artifact["artifact_id"]
        ):
            decision = None
        card = lineage.latest_artifact(con, "model_card")
        if card is not None and (
            evaluation_artifact is None or card["parents"].get("evaluation") != evaluation_artifact["artifact_id"]
        ):
            card = None
        privacy = deploy.training_privacy(con, adapter["artifact_id"])
    if evaluation_artifact is None:
        notes.append("no evaluation of this adapter in lineage")
    card_sha256 = card["sha256"] if card and card.get("sha256") else None
    if card_sha256 is None:
        notes.append(deploy.NO_MODEL_CARD_NOTE)
    try:
        stored = active.find_bento(bentoml_store.home, bento_artifact["details"]["tag"])
        signing = release_signing.signing()
    except release.ReleaseError as exc:
        raise dg.Failure(str(exc)) from None
    hashes = {
        "base": merged["details"].get("base_sha256") or adapter["details"].get("base_sha256"),
        "adapter": adapter["sha256"],
        "merged_model": merged["sha256"],
        **active.bento_hashes(stored),
    }
    hashes = {k: v for k, v in hashes.items() if v}
    summary = deploy.evaluation_summary(evaluation_artifact, decision)
    lineage_ids = {
        "bento": bento_artifact["artifact_id"],
        "merged_model": merged["artifact_id"],
        "adapter": adapter["artifact_id"],
        **({"evaluation": evaluation_artifact["artifact_id"]} if evaluation_artifact else {}),
        **({"promotion_decision": decision["artifact_id"]} if decision else {}),
        **({"model_card": card["artifact_id"]} if card else {}),
    }
    manifest = release.make_release_manifest(
        stored.tag,
        hashes,
        summary,
        card_sha256,
        lineage_ids,
        serving={"deidentify_requests": privacy["trained_on_deidentified"], "deid_policies": privacy["deid_policies"]},
        notes=notes,
    )
    signed = release.sign_manifest(manifest, signing.private_key)
    digest = release.manifest_sha256(manifest)
    manifest_path = deploy.write_signed_manifest(signed, artifacts.path("releases"))
    key_id = f"release_key_{signing.fingerprint[:16]}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=key_id,
        kind="release_signing_key",
        path=str(signing.public_path) if signing.public_path else None,
        sha256=signing.fingerprint,
        parents={},
        details={"algorithm": release.ALGORITHM, "source": signing.source, "fingerprint": signing.fingerprint},
        code_version=DEPLOY_CODE,
    )
    decision = deploy.promotion_decision(release_signing.environment, summary.get("gate"), config.auto_promote)
    deployment_id = f"deployment_{digest[:32]}"
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=deployment_id,
        kind="deployment",
        path=str(manifest_path),
        sha256=digest,
        parents={**lineage_ids, "signing_key": key_id},
        details={
            "bento_tag": stored.tag,
            "key_fingerprint": signing.fingerprint,
            "auto_promoted": decision.promote,
            "promotion": decision.reason,
            "notes": notes,
        },
        code_version=DEPLOY_CODE,
    )
    if decision.promote:
        pointer = release_signing.registry().promote(signed, signing.private_key.public_key(), audit=warehouse.audit)
        context.log.info(f"release {digest[:16]} ({stored.tag}) is active: {decision.reason}")
    else:
        pointer = release_signing.registry().read_active()
        context.log.info(f"release {digest[:16]} signed, not promoted: {decision.reason}")
    active_digest = (pointer or {}).get("manifest_sha256")
    gate = summary.get("gate") or {}
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "bento_tag": stored.tag,
            "manifest_sha256": digest,
            "manifest": dg.MetadataValue.path(str(manifest_path)),
            "key_fingerprint": signing.fingerprint,
            "key_source": signing.source,
            "key_generated_now": signing.generated,
            "gate_passed": gate.get("passed", "not recorded"),
            "promoted": decision.promote,
            "promotion": decision.reason,
            "active_release": active_digest or "none",
            "is_active": active_digest == digest,
            "model_card_sha256": card_sha256 or "none",
            "links": links_metadata(warehouse, deployment_id),
            "deidentify_requests": privacy["trained_on_deidentified"],
            "hashes": md_table([{"artifact": k, "sha256": v} for k, v in hashes.items()]),
            "evaluation_summary": dg.MetadataValue.json(summary),
            "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in notes) or "_none_"),
            "next": dg.MetadataValue.md(
                "`clinical serve --port 3000` serves the active release"
                if active_digest == digest
                else f"`clinical release promote {manifest_path}`, then `clinical serve --port 3000`"
            ),
        }
    )
