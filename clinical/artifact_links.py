"""Links from an artifact to its adapter, evaluation, promotion decision and model card, for Dagster metadata.

They are found through the parents recorded in the warehouse `artifacts` table (clinical/lineage.py) and
rendered as a Markdown table whose rows link to the assets' pages in the Dagster UI: the webserver routes
an asset's page at `/assets/<key path, '/'-joined>` and an asset check at
`/assets/<key>?view=checks&checkDetail=<check>`. Only ids, sha256 digests and artifact-store paths are shown,
never note text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from clinical.lineage import decode_artifact
from clinical.warehouse import fetch_dicts

# Artifact kinds shown, in order, with the asset (and asset check) each one is materialized by.
ASSET_OF_KIND: dict[str, tuple[str, str | None]] = {
    "lora_adapter": ("lora_adapter", None),
    "evaluation": ("evaluation", None),
    "promotion_decision": ("evaluation", "promotion_gate"),
    "model_card": ("model_card", None),
    "merged_model": ("merged_model", None),
    "trtllm_bundle": ("trtllm_engine", None),
    "bento": ("bento", None),
    "deployment": ("deployment", None),
}
# Kinds listed even before they are recorded (a link to where they will appear).
ALWAYS_SHOWN = ("lora_adapter", "evaluation", "promotion_decision", "model_card")
SHORT_SHA = 16


def asset_url(asset_key: str | list[str], check: str | None = None, ui_prefix: str = "") -> str:
    """The Dagster UI page of an asset (or of one of its checks), relative to the webserver's root.

    `ui_prefix` is the webserver's `--path-prefix`, if it runs under one.
    """
    parts = [asset_key] if isinstance(asset_key, str) else list(asset_key)
    url = ui_prefix.rstrip("/") + "/assets/" + "/".join(quote(p, safe="") for p in parts)
    if check:
        url += "?" + urlencode({"view": "checks", "checkDetail": check})
    return url


def _by_id(con: Any, artifact_id: str) -> dict[str, Any] | None:
    rows = fetch_dicts(con, "SELECT * FROM artifacts WHERE artifact_id = ?", [artifact_id])
    return decode_artifact(rows[0]) if rows else None


def _latest_of_evaluation(con: Any, kind: str, evaluation_id: str) -> dict[str, Any] | None:
    rows = fetch_dicts(
        con,
        "SELECT * FROM artifacts WHERE kind = ? AND parents->>'evaluation' = ? "
        "ORDER BY created_at DESC, artifact_id DESC LIMIT 1",
        [kind, evaluation_id],
    )
    return decode_artifact(rows[0]) if rows else None


def _evaluation_of(con: Any, adapter_id: str) -> dict[str, Any] | None:
    """The adapter's evaluation: the latest one a model card was written for (it cleared the promotion gate),
    else the latest one."""
    rows = fetch_dicts(
        con,
        "SELECT * FROM artifacts e WHERE kind = 'evaluation' AND parents->>'adapter' = ? "
        "ORDER BY EXISTS (SELECT 1 FROM artifacts c WHERE c.kind = 'model_card' "
        "AND c.parents->>'evaluation' = e.artifact_id) DESC, created_at DESC, artifact_id DESC LIMIT 1",
        [adapter_id],
    )
    return decode_artifact(rows[0]) if rows else None


def _parent_ids(artifact: dict[str, Any]) -> list[str]:
    values = [v for value in artifact["parents"].values() for v in (value if isinstance(value, list) else [value])]
    return [v for v in values if isinstance(v, str)]


def related_artifacts(con: Any, artifact_id: str) -> dict[str, Any]:
    """The artifact and, by kind, its adapter, evaluation, promotion decision, model card and the serving
    artifacts between it and the adapter (merged model, engine bundle, Bento), as recorded in lineage.

    Ancestors come from the recorded parents (nearest first); an evaluation, decision or model card the
    artifact does not name is looked up by its parent: the adapter's evaluation (`_evaluation_of`), then that
    evaluation's latest promotion decision and model card. Kinds not recorded (yet) map to None.
    Raises LookupError when `artifact_id` is not in lineage.
    """
    artifact = _by_id(con, artifact_id)
    if artifact is None:
        raise LookupError(f"artifact {artifact_id!r} is not in lineage")
    found: dict[str, dict[str, Any]] = {artifact["kind"]: artifact}
    seen = {artifact_id}
    frontier = [artifact]
    while frontier:
        nxt: list[dict[str, Any]] = []
        for current in frontier:
            for parent_id in _parent_ids(current):
                if parent_id in seen:
                    continue
                seen.add(parent_id)
                parent = _by_id(con, parent_id)
                if parent is not None and parent["kind"] in ASSET_OF_KIND:
                    found.setdefault(parent["kind"], parent)
                    nxt.append(parent)
        frontier = nxt
    adapter = found.get("lora_adapter")
    if "evaluation" not in found and adapter is not None:
        evaluation = _evaluation_of(con, adapter["artifact_id"])
        if evaluation is not None:
            found["evaluation"] = evaluation
    evaluation = found.get("evaluation")
    if evaluation is not None:
        for kind in ("promotion_decision", "model_card"):
            if kind not in found:
                child = _latest_of_evaluation(con, kind, evaluation["artifact_id"])
                if child is not None:
                    found[kind] = child
    return {"artifact": artifact, **{kind: found.get(kind) for kind in ASSET_OF_KIND}}


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return f"`{_cell(value)}`" if value else "—"


def gate_line(decision: dict[str, Any] | None) -> str:
    """The promotion gate's decision in one line (passed/failed, profile and label)."""
    if decision is None:
        return "**Promotion gate:** not decided yet (the `promotion_gate` check runs after `evaluation`)"
    details = decision["details"]
    verdict = "passed" if details.get("passed") else "failed"
    profile = (details.get("thresholds") or {}).get("profile", "unknown")
    label = f" — {details['label']}" if details.get("label") else ""
    return f"**Promotion gate:** {verdict} (profile `{profile}`{label}), decision `{decision['artifact_id']}`"


def links_markdown(related: dict[str, Any], ui_prefix: str = "") -> str:
    """A Markdown block: a table of the linked artifacts (id, short sha256, path, Dagster asset page),
    the gate decision, and the lineage command that lists what is recorded later."""
    this = related["artifact"]
    lines = [
        "| artifact | id | sha256 | path | in Dagster |",
        "|---|---|---|---|---|",
    ]
    for kind, (asset, check) in ASSET_OF_KIND.items():
        artifact = related.get(kind)
        if artifact is None and kind not in ALWAYS_SHOWN:
            continue
        name = f"**{kind}** (this)" if artifact is not None and artifact["artifact_id"] == this["artifact_id"] else kind
        link = f"[{asset}{' › ' + check if check else ''}]({asset_url(asset, check, ui_prefix)})"
        if artifact is None:
            lines.append(f"| {name} | _not recorded yet_ | — | — | {link} |")
            continue
        paths = [p for p in (artifact["details"].get("markdown_path"), artifact["path"]) if p]
        digest = artifact["sha256"][:SHORT_SHA] if artifact["sha256"] else None
        lines.append(
            f"| {name} | {_code(artifact['artifact_id'])} | {_code(digest)} | "
            f"{', '.join(_code(p) for p in paths) or '—'} | {link} |"
        )
    adapter = related.get("lora_adapter")
    ref = adapter["artifact_id"] if adapter else this["artifact_id"]
    lines += [
        "",
        gate_line(related.get("promotion_decision")),
        "",
        f"`clinical lineage trace {ref}` lists every evaluation, model card and release recorded for it, "
        "later ones included.",
    ]
    return "\n".join(lines)


def artifact_links(con: Any, artifact_id: str, ui_prefix: str = "") -> str:
    """`links_markdown` of `related_artifacts`: the `links` metadata of an artifact's asset."""
    return links_markdown(related_artifacts(con, artifact_id), ui_prefix)
