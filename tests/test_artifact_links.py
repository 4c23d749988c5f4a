"""The `links` metadata of the model assets: an artifact's adapter, evaluation, promotion decision and model
card found through recorded parents, with links to their Dagster asset pages (clinical/artifact_links.py)."""

import pytest

from clinical import artifact_links, lineage
from clinical_assets.metadata import links_metadata
from resources import Warehouse

ADAPTER_SHA = "a" * 64
CARD_SHA = "c" * 64
MERGED_SHA = "m" * 64
BENTO_SHA = "b" * 64


def _warehouse(tmp_path) -> Warehouse:
    return Warehouse(path=str(tmp_path / "warehouse.duckdb"), restricted_path=str(tmp_path / "restricted.duckdb"))


def _register(wh: Warehouse, artifact_id: str, kind: str, parents: dict, sha256=None, path=None, details=None):
    wh.register_artifact(
        "run0001",
        artifact_id=artifact_id,
        kind=kind,
        path=path,
        sha256=sha256,
        parents=parents,
        details=details or {},
        code_version="c1",
    )


def _decision(passed: bool, profile: str, label: str) -> dict:
    return {"passed": passed, "thresholds": {"profile": profile}, "label": label, "criteria": [], "notes": []}


def _seed(tmp_path) -> Warehouse:
    """An adapter whose first evaluation passed the demo gate (model card written) and whose later
    re-evaluation failed the production gate (no card), then its merged model, engine bundle, Bento and
    a deployment naming the first evaluation."""
    wh = _warehouse(tmp_path)
    _register(wh, "base_1", "base_model", {}, sha256="0" * 64)
    _register(wh, "adapter_1", "lora_adapter", {"base_model": "base_1"}, ADAPTER_SHA, "/store/adapters/x")
    _register(wh, "eval_1", "evaluation", {"adapter": "adapter_1"})
    _register(
        wh, "gate_1", "promotion_decision", {"evaluation": "eval_1", "adapter": "adapter_1"},
        details=_decision(True, "demo", "demo thresholds — not a clinical release"),
    )  # fmt: skip
    _register(
        wh, "card_1", "model_card", {"adapter": "adapter_1", "evaluation": "eval_1", "promotion_decision": "gate_1"},
        CARD_SHA, "/store/model_cards/eval_1/model_card.json",
        details={"markdown_path": "/store/model_cards/eval_1/model_card.md"},
    )  # fmt: skip
    _register(wh, "eval_2", "evaluation", {"adapter": "adapter_1"})
    _register(
        wh, "gate_2", "promotion_decision", {"evaluation": "eval_2", "adapter": "adapter_1"},
        details=_decision(False, "production", "production thresholds"),
    )  # fmt: skip
    _register(wh, "merged_1", "merged_model", {"adapter": "adapter_1"}, MERGED_SHA, "/store/merged/x")
    _register(wh, "trtllm_1", "trtllm_bundle", {"merged_model": "merged_1"}, None, "/store/trtllm/x")
    _register(
        wh, "bento_clinical-extractor:abc", "bento", {"merged_model": "merged_1"}, BENTO_SHA, "/bentoml/bentos/x",
        details={"tag": "clinical-extractor:abc"},
    )  # fmt: skip
    _register(
        wh, "deployment_1", "deployment",
        {"bento": "bento_clinical-extractor:abc", "merged_model": "merged_1", "adapter": "adapter_1",
         "evaluation": "eval_1", "promotion_decision": "gate_1", "model_card": "card_1", "signing_key": "key_1"},
        "d" * 64, "/store/releases/x.json",
    )  # fmt: skip
    return wh


def test_a_bento_links_the_evaluation_that_cleared_the_gate_and_its_model_card(tmp_path):
    wh = _seed(tmp_path)
    with wh.connect(read_only=True) as con:
        related = artifact_links.related_artifacts(con, "bento_clinical-extractor:abc")
        text = artifact_links.artifact_links(con, "bento_clinical-extractor:abc")
    ids = {kind: (a["artifact_id"] if a else None) for kind, a in related.items() if kind != "artifact"}
    assert ids == {
        "lora_adapter": "adapter_1",
        "evaluation": "eval_1",  # the later eval_2 failed the gate and has no model card
        "promotion_decision": "gate_1",
        "model_card": "card_1",
        "merged_model": "merged_1",
        "trtllm_bundle": None,  # a sibling, not in the Bento's lineage
        "bento": "bento_clinical-extractor:abc",
        "deployment": None,
    }
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert (
        rows["model_card"]
        == f"| model_card | `card_1` | `{CARD_SHA[:16]}` | `/store/model_cards/eval_1/model_card.md`, "
        "`/store/model_cards/eval_1/model_card.json` | [model_card](/assets/model_card) |"
    )
    assert rows["evaluation"] == "| evaluation | `eval_1` | — | — | [evaluation](/assets/evaluation) |"
    assert (
        "[evaluation › promotion_gate](/assets/evaluation?view=checks&checkDetail=promotion_gate)"
        in rows["promotion_decision"]
    )
    assert rows["**bento** (this)"].endswith("| [bento](/assets/bento) |") and BENTO_SHA[:16] in text
    assert f"`{MERGED_SHA[:16]}`" in rows["merged_model"] and "trtllm" not in text and "deployment" not in rows
    assert "**Promotion gate:** passed (profile `demo` — demo thresholds — not a clinical release)" in text
    assert "`clinical lineage trace adapter_1`" in text


def test_an_evaluation_shows_its_own_decision_and_a_deployment_the_ones_it_names(tmp_path):
    wh = _seed(tmp_path)
    with wh.connect(read_only=True) as con:
        failed = artifact_links.artifact_links(con, "eval_2")
        deployed = artifact_links.related_artifacts(con, "deployment_1")
        engine = artifact_links.related_artifacts(con, "trtllm_1")
    assert "**Promotion gate:** failed (profile `production`" in failed and "`gate_2`" in failed
    assert "| model_card | _not recorded yet_ | — | — | [model_card](/assets/model_card) |" in failed
    assert "**evaluation** (this)" in failed
    assert {k: deployed[k]["artifact_id"] for k in ("evaluation", "promotion_decision", "model_card", "bento")} == {
        "evaluation": "eval_1",
        "promotion_decision": "gate_1",
        "model_card": "card_1",
        "bento": "bento_clinical-extractor:abc",
    }
    assert engine["model_card"]["sha256"] == CARD_SHA and engine["merged_model"]["artifact_id"] == "merged_1"


def test_a_new_adapter_points_to_where_its_evaluation_and_model_card_will_appear(tmp_path):
    wh = _warehouse(tmp_path)
    _register(wh, "adapter_9", "lora_adapter", {}, ADAPTER_SHA, "/store/adapters/y")
    value = links_metadata(wh, "adapter_9")
    assert value.value.startswith("| artifact | id | sha256 | path | in Dagster |")
    assert f"| **lora_adapter** (this) | `adapter_9` | `{ADAPTER_SHA[:16]}` | `/store/adapters/y` |" in value.value
    for kind in ("evaluation", "model_card"):
        assert f"| {kind} | _not recorded yet_ | — | — | [{kind}](/assets/{kind}) |" in value.value
    assert "not decided yet" in value.value and "`clinical lineage trace adapter_9`" in value.value
    _register(wh, "eval_9", "evaluation", {"adapter": "adapter_9"})
    _register(wh, "card_9", "model_card", {"adapter": "adapter_9", "evaluation": "eval_9"}, CARD_SHA)
    with wh.connect(read_only=True) as con:
        later = lineage.trace(con, "adapter_9")["links"]
        now = artifact_links.artifact_links(con, "adapter_9")
    assert [link["artifact_id"] for link in later] == ["eval_9", "card_9"], "the trace the footer names lists them"
    assert "`eval_9`" in now and f"`{CARD_SHA[:16]}`" in now


def test_asset_urls_follow_the_webserver_routes_and_unknown_artifacts_are_an_error(tmp_path):
    assert artifact_links.asset_url("model_card") == "/assets/model_card"
    assert artifact_links.asset_url(["team a", "card"], ui_prefix="/dagster/") == "/dagster/assets/team%20a/card"
    assert (
        artifact_links.asset_url("evaluation", "promotion_gate")
        == "/assets/evaluation?view=checks&checkDetail=promotion_gate"
    )
    with _warehouse(tmp_path).connect() as con, pytest.raises(LookupError, match="not in lineage"):
        artifact_links.related_artifacts(con, "adapter_missing")
