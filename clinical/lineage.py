"""Record-level lineage over the warehouse: artifacts, datasets, examples and source rows.

Each artifact (base model, adapter, evaluation, merged model, engine bundle, Bento) is a row of
`artifacts` with its parents by id. Datasets list their examples; examples list the records they
came from; de-identified notes keep their source file, sha256 and line number. `trace` walks that
chain down to source rows; nothing it returns contains note text or raw identifiers.
"""

from __future__ import annotations

import json
from typing import Any

from clinical.warehouse import fetch_dicts, insert_rows


def record_artifact(
    con: Any,
    *,
    artifact_id: str,
    kind: str,
    path: str | None,
    sha256: str | None,
    parents: dict[str, Any],
    details: dict[str, Any],
    code_version: str | None,
    run_id: str | None,
) -> None:
    """Register (or replace) an artifact and its parents."""
    con.execute("DELETE FROM artifacts WHERE artifact_id = ?", [artifact_id])
    insert_rows(
        con,
        "artifacts",
        [
            {
                "artifact_id": artifact_id,
                "kind": kind,
                "path": path,
                "sha256": sha256,
                "parents": parents,
                "details": details,
                "code_version": code_version,
                "run_id": run_id,
            }
        ],
    )


def latest_artifact(con: Any, kind: str) -> dict[str, Any] | None:
    rows = fetch_dicts(
        con, "SELECT * FROM artifacts WHERE kind = ? ORDER BY created_at DESC, artifact_id LIMIT 1", [kind]
    )
    return _decode(rows[0]) if rows else None


def find_artifact(con: Any, ref: str) -> dict[str, Any] | None:
    """An artifact by id, sha256 (or a prefix of 8+ characters), path, or `latest:<kind>`."""
    if ref.startswith("latest:"):
        return latest_artifact(con, ref.removeprefix("latest:"))
    rows = fetch_dicts(
        con,
        "SELECT * FROM artifacts WHERE artifact_id = ? OR sha256 = ? OR path = ? "
        "OR (length(?) >= 8 AND (starts_with(sha256, ?) OR starts_with(artifact_id, ?))) "
        "ORDER BY created_at DESC LIMIT 1",
        [ref, ref, ref.rstrip("/"), ref, ref, ref],
    )
    return _decode(rows[0]) if rows else None


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "parents": json.loads(row["parents"]), "details": json.loads(row["details"])}


def dataset_sources(con: Any, dataset_version: str, splits: tuple[str, ...] = ("train",)) -> dict[str, Any]:
    """What a dataset's examples (in `splits`) were made from, down to source file rows."""
    marks = ", ".join("?" for _ in splits)
    examples = fetch_dicts(
        con,
        f"SELECT example_id, source, parents FROM sft_examples WHERE dataset_version = ? AND split IN ({marks})",
        [dataset_version, *splits],
    )
    parent_ids = sorted({p for e in examples for p in json.loads(e["parents"])})
    note_rows = fetch_dicts(
        con,
        "SELECT note_id, patient_key, source_path, source_sha256, row_number FROM deidentified_notes "
        "WHERE list_contains(?, note_id) ORDER BY source_path, row_number",
        [parent_ids],
    )
    annotation_rows = fetch_dicts(
        con,
        "SELECT annotation_id, kind, doc_id, source_files, annotator, guideline_version FROM annotations "
        "WHERE list_contains(?, annotation_id) ORDER BY annotation_id",
        [parent_ids],
    )
    synthetic_rows = fetch_dicts(
        con,
        "SELECT generator_version, seed, count(*) AS notes FROM synthetic_notes "
        "WHERE list_contains(?, synthetic_id) GROUP BY generator_version, seed",
        [parent_ids],
    )
    files: dict[tuple[str, str], int] = {}
    for row in note_rows:
        key = (row["source_path"], row["source_sha256"])
        files[key] = files.get(key, 0) + 1
    return {
        "dataset_version": dataset_version,
        "splits": list(splits),
        "examples": len(examples),
        "source_files": [{"path": p, "sha256": s, "rows_used": n} for (p, s), n in sorted(files.items())],
        "source_rows": note_rows,
        "annotations": [{**a, "source_files": json.loads(a["source_files"])} for a in annotation_rows],
        "synthetic": synthetic_rows,
        "patients": len({r["patient_key"] for r in note_rows}),
    }


def trace(con: Any, ref: str) -> dict[str, Any]:
    """The chain from an artifact (or a dataset version) down to its source rows.

    Raises LookupError when `ref` names nothing known.
    """
    artifact = find_artifact(con, ref)
    if artifact is None:
        datasets = fetch_dicts(con, "SELECT dataset_version FROM datasets WHERE starts_with(dataset_version, ?)", [ref])
        if not datasets or len(ref) < 8:
            raise LookupError(f"no artifact or dataset version matches {ref!r}")
        return {"dataset": dataset_sources(con, datasets[0]["dataset_version"])}
    chain = [artifact]
    seen = {artifact["artifact_id"]}
    frontier = [artifact]
    while frontier:
        current = frontier.pop()
        for value in current["parents"].values():
            for parent_id in value if isinstance(value, list) else [value]:
                if not isinstance(parent_id, str) or parent_id in seen:
                    continue
                parent = find_artifact(con, parent_id)
                if parent is not None:
                    seen.add(parent_id)
                    chain.append(parent)
                    frontier.append(parent)
    versions = [a["parents"]["dataset_version"] for a in chain if "dataset_version" in a["parents"]]
    out: dict[str, Any] = {"artifact": artifact, "chain": chain}
    if versions:
        out["dataset"] = dataset_sources(con, versions[0])
        deid = fetch_dicts(
            con,
            "SELECT DISTINCT policy, policy_fingerprint FROM deidentified_notes WHERE list_contains(?, note_id)",
            [[r["note_id"] for r in out["dataset"]["source_rows"]]],
        )
        out["deidentification_policies"] = deid
    return out


def descendants(con: Any, artifact_ids: set[str]) -> list[dict[str, Any]]:
    """Every artifact whose parents (transitively) include one of `artifact_ids`, or the datasets named."""
    rows = [_decode(r) for r in fetch_dicts(con, "SELECT * FROM artifacts ORDER BY created_at")]
    reached = set(artifact_ids)
    out: list[dict[str, Any]] = []
    changed = True
    while changed:
        changed = False
        for row in rows:
            if row["artifact_id"] in reached:
                continue
            values = [v for value in row["parents"].values() for v in (value if isinstance(value, list) else [value])]
            if any(v in reached for v in values):
                reached.add(row["artifact_id"])
                out.append(row)
                changed = True
    return out


def impacted(con: Any, patient_key: str | None = None, source_file: str | None = None) -> dict[str, Any]:
    """Datasets and artifacts holding records derived from one patient or one source file.

    `source_file` matches a source path or its sha256.
    """
    if (patient_key is None) == (source_file is None):
        raise ValueError("give exactly one of patient_key or source_file")
    if patient_key is not None:
        notes = fetch_dicts(con, "SELECT note_id FROM deidentified_notes WHERE patient_key = ?", [patient_key])
        annotations = fetch_dicts(con, "SELECT annotation_id FROM annotations WHERE patient_key = ?", [patient_key])
    else:
        notes = fetch_dicts(
            con,
            "SELECT note_id FROM deidentified_notes WHERE source_path = ? OR source_sha256 = ?",
            [source_file] * 2,
        )
        annotations = fetch_dicts(
            con,
            "SELECT annotation_id FROM annotations WHERE EXISTS (SELECT 1 FROM "
            "(SELECT unnest(from_json(source_files, '[\"json\"]')) AS f) "
            "WHERE f->>'path' = ? OR f->>'sha256' = ?)",
            [source_file] * 2,
        )
    record_ids = [r["note_id"] for r in notes] + [r["annotation_id"] for r in annotations]
    examples = fetch_dicts(
        con,
        "SELECT dataset_version, split, count(*) AS examples FROM sft_examples "
        "WHERE len(list_intersect(from_json(parents, '[\"varchar\"]'), ?)) > 0 "
        "GROUP BY dataset_version, split ORDER BY dataset_version, split",
        [record_ids],
    )
    versions = sorted({e["dataset_version"] for e in examples})
    trained = {
        r["artifact_id"]
        for r in fetch_dicts(con, "SELECT artifact_id, parents FROM artifacts")
        if json.loads(r["parents"]).get("dataset_version") in versions
        and _split_used(examples, json.loads(r["parents"])["dataset_version"])
    }
    reached = [
        _decode(r)
        for r in fetch_dicts(con, "SELECT * FROM artifacts WHERE list_contains(?, artifact_id)", [sorted(trained)])
    ]
    reached += descendants(con, trained)
    return {
        "query": {"patient_key": patient_key, "source_file": source_file},
        "records": len(record_ids),
        "datasets": examples,
        "artifacts": [
            {
                "artifact_id": a["artifact_id"],
                "kind": a["kind"],
                "sha256": a["sha256"],
                "path": a["path"],
                "run_id": a["run_id"],
            }
            for a in reached
        ],
    }


def _split_used(examples: list[dict[str, Any]], version: str) -> bool:
    """Whether the records reach a split that trains models (train or validation) in `version`."""
    return any(e["dataset_version"] == version and e["split"] in ("train", "validation") for e in examples)


def report_items(trace: dict[str, Any]) -> list[tuple[int, str, str]]:
    """The trace as (depth, what, detail) lines, shared by the Markdown and HTML renderings."""
    items: list[tuple[int, str, str]] = []
    for a in trace.get("chain", []):
        digest = f" sha256 {a['sha256']}" if a["sha256"] else ""
        items.append((0, a["kind"], f"{a['artifact_id']}{digest} code {a['code_version']} run {a['run_id']}"))
    dataset = trace.get("dataset")
    if dataset:
        detail = f"{dataset['dataset_version']} ({dataset['examples']} examples, {dataset['patients']} patients)"
        items.append((0, "dataset", detail))
        for f in dataset["source_files"]:
            items.append((1, "source file", f"{f['path']} sha256 {f['sha256']} rows used: {f['rows_used']}"))
        for a in dataset["annotations"]:
            items.append((1, "annotation", f"{a['annotation_id']} ({a['kind']}, {a['guideline_version']})"))
        for s in dataset["synthetic"]:
            items.append((1, "synthetic", f"generator {s['generator_version']} seed {s['seed']}: {s['notes']} notes"))
    for policy in trace.get("deidentification_policies", []):
        items.append((0, "de-identification", f"{policy['policy']} fingerprint {policy['policy_fingerprint']}"))
    return items


def render_markdown(trace: dict[str, Any]) -> str:
    return "\n".join(f"{'  ' * depth}- **{what}** `{detail}`" for depth, what, detail in report_items(trace))


def render_html(trace: dict[str, Any]) -> str:
    """A standalone HTML page of the trace (for an auditor's file); every value is escaped."""
    from html import escape

    rows = "\n".join(
        f'<tr><td style="padding-left:{1 + 2 * depth}em">{escape(what)}</td><td><code>{escape(detail)}</code></td></tr>'
        for depth, what, detail in report_items(trace)
    )
    title = escape(f"Lineage of {trace.get('artifact', {}).get('artifact_id', 'dataset')}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
        f"<h1>{title}</h1><table>{rows}</table></body></html>\n"
    )
