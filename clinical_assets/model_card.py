"""model_card: the regulatory document of the evaluated adapter, in Markdown (shown in the UI) and JSON."""

import time
from datetime import UTC, datetime

import dagster as dg

from clinical import lineage
from clinical import model_card as card_logic
from clinical_assets.evaluation import evaluation
from clinical_assets.metadata import links_metadata
from clinical_assets.versioning import code_version
from resources import ArtifactStore, Warehouse

MODEL_CARD_CODE = code_version(card_logic)


@dg.asset(
    deps=[evaluation],
    group_name="evaluation",
    code_version=MODEL_CARD_CODE,
    kinds={"markdown", "json"},
    owners=["team:clinical-safety"],
)
def model_card(
    context: dg.AssetExecutionContext, artifacts: ArtifactStore, warehouse: Warehouse
) -> dg.MaterializeResult:
    """The model card (Mitchell et al. sections; intended use as a clinician-in-the-loop tool; training
    data lineage by hash; evaluation data; metrics with bootstrap intervals; subgroup tables; limitations;
    IRB / data-use fields as recorded in the adapter's lineage; the promotion gate's decision) as
    model_card.json and model_card.md in the artifact store, registered in lineage with the sha256 of
    the JSON. Downstream of the blocking
    promotion gate: it is written only for an evaluation the gate let through."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        evaluated = lineage.latest_artifact(con, "evaluation")
        if evaluated is None:
            raise dg.Failure("no evaluation has been recorded")
        adapter = lineage.find_artifact(con, evaluated["parents"]["adapter"])
        if adapter is None:
            raise dg.Failure(f"adapter {evaluated['parents']['adapter']} of the evaluation is not in lineage")
        base = lineage.find_artifact(con, adapter["parents"]["base_model"])
        decisions = [
            d
            for d in [lineage.latest_artifact(con, "promotion_decision")]
            if d and d["parents"].get("evaluation") == evaluated["artifact_id"]
        ]
        trace = lineage.trace(con, adapter["artifact_id"])
    card = card_logic.build_model_card(
        adapter=adapter,
        base=base,
        evaluation=evaluated,
        decision=decisions[0] if decisions else None,
        trace=trace,
        data_use_values=adapter["details"].get("data_use") or evaluated["details"].get("data_use"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    text = card_logic.card_json(card)
    digest = card_logic.card_sha256(card)
    markdown = card_logic.render_markdown(card)
    folder = artifacts.path("model_cards", evaluated["artifact_id"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_card.json").write_text(text, encoding="utf-8")  # sha256sum of the file = card sha256
    (folder / "model_card.md").write_text(markdown, encoding="utf-8")
    card_id = f"card_{digest[:32]}"
    parents = {
        "adapter": adapter["artifact_id"],
        "evaluation": evaluated["artifact_id"],
        "dataset_version": evaluated["parents"]["dataset_version"],
    }
    if decisions:
        parents["promotion_decision"] = decisions[0]["artifact_id"]
    warehouse.register_artifact(
        context.run.run_id,
        artifact_id=card_id,
        kind="model_card",
        path=str(folder / "model_card.json"),
        sha256=digest,
        parents=parents,
        details={
            "markdown_path": str(folder / "model_card.md"),
            "promotion_passed": card["promotion"].get("passed"),
            "thresholds_label": card["promotion"].get("label"),
            "data_use": card["data_use"],
        },
        code_version=MODEL_CARD_CODE,
    )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "model_card": dg.MetadataValue.md(markdown),
            "model_card_sha256": digest,
            "model_card_id": card_id,
            "json": dg.MetadataValue.path(str(folder / "model_card.json")),
            "markdown": dg.MetadataValue.path(str(folder / "model_card.md")),
            "adapter_sha256": adapter["sha256"],
            "evaluation_id": evaluated["artifact_id"],
            "dataset_version": evaluated["parents"]["dataset_version"],
            "promotion": card["promotion"].get("label") or "gate has not run",
            "links": links_metadata(warehouse, card_id),
        },
        data_version=dg.DataVersion(digest),
    )
