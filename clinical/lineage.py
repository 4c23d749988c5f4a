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

# Artifacts that describe or govern a model rather than hold its weights; `trace` lists them as links.
LINK_KINDS = ("evaluation", "model_card", "promotion_decision", "release", "deployment")


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
    return decode_artifact(rows[0]) if rows else None


def find_artifact(con: Any, ref: str) -> dict[str, Any] | None:
    """An artifact by id, sha256 (or a prefix of 8+ characters), path, Bento tag, or `latest:<kind>`."""
    if ref.startswith("latest:"):
        return latest_artifact(con, ref.removeprefix("latest:"))
    rows = fetch_dicts(
        con,
        "SELECT * FROM artifacts WHERE artifact_id = ? OR sha256 = ? OR path = ? "
        "OR (kind = 'bento' AND details->>'tag' = ?) "
        "OR (length(?) >= 8 AND (starts_with(sha256, ?) OR starts_with(artifact_id, ?))) "
        "ORDER BY created_at DESC LIMIT 1",
        [ref, ref, ref.rstrip("/"), ref, ref, ref, ref],
    )
    return decode_artifact(rows[0]) if rows else None


def decode_artifact(row: dict[str, Any]) -> dict[str, Any]:
    """An artifacts row with its JSON `parents` and `details` decoded."""
    return {**row, "parents": json.loads(row["parents"]), "details": json.loads(row["details"])}


def query_artifacts(con: Any, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """The artifacts rows a query over the artifacts table returns, decoded (see decode_artifact)."""
    return [decode_artifact(r) for r in fetch_dicts(con, sql, params)]


def dataset_data_use(con: Any, dataset_version: str) -> dict[str, Any]:
    """The data-use fields a dataset recorded in its report (deployment fields and landing_protocols)."""
    rows = fetch_dicts(con, "SELECT report FROM datasets WHERE dataset_version = ?", [dataset_version])
    return (json.loads(rows[0]["report"]).get("data_use") or {}) if rows else {}


def source_manifests(con: Any, paths: list[str]) -> dict[str, dict[str, Any]]:
    """The data-use manifest recorded for each landing file path (landing_sources; clinical/intake.py)."""
    rows = fetch_dicts(
        con,
        "SELECT path, protocol_id, dua_id, approval_expires, manifest_sha256 FROM landing_sources "
        "WHERE list_contains(?, path) AND manifest_sha256 IS NOT NULL",
        [sorted(set(paths))],
    )
    return {r.pop("path"): r for r in rows}


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
    report_rows = fetch_dicts(con, "SELECT report FROM datasets WHERE dataset_version = ?", [dataset_version])
    report = json.loads(report_rows[0]["report"]) if report_rows else {}
    files: dict[tuple[str, str], int] = {}
    for row in note_rows:
        key = (row["source_path"], row["source_sha256"])
        files[key] = files.get(key, 0) + 1
    manifests = source_manifests(con, [p for p, _ in files])
    return {
        "dataset_version": dataset_version,
        "splits": list(splits),
        "examples": len(examples),
        "source_files": [
            {"path": p, "sha256": s, "rows_used": n, "manifest": manifests.get(p)}
            for (p, s), n in sorted(files.items())
        ],
        "source_rows": note_rows,
        "annotations": [{**a, "source_files": json.loads(a["source_files"])} for a in annotation_rows],
        "synthetic": synthetic_rows,
        "patients": len({r["patient_key"] for r in note_rows}),
        "data_use": report.get("data_use") or {},
        "consent_exclusions": report.get("consent_exclusions") or {},
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
        version = datasets[0]["dataset_version"]
        return {"dataset": dataset_sources(con, version), "flags": artifact_flags(con, [version])}
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
    out: dict[str, Any] = {"artifact": artifact, "chain": chain, "links": links(con, chain)}
    flagged = [a["artifact_id"] for a in chain] + [link["artifact_id"] for link in out["links"]] + versions[:1]
    out["flags"] = artifact_flags(con, flagged)
    out["data_use"] = next((a["details"]["data_use"] for a in chain if a["details"].get("data_use")), {})
    if versions:
        out["dataset"] = dataset_sources(con, versions[0])
        deid = fetch_dicts(
            con,
            "SELECT DISTINCT policy, policy_fingerprint FROM deidentified_notes WHERE list_contains(?, note_id)",
            [[r["note_id"] for r in out["dataset"]["source_rows"]]],
        )
        out["deidentification_policies"] = deid
    return out


def _parent_ids(artifact: dict[str, Any]) -> list[str]:
    values = [v for value in artifact["parents"].values() for v in (value if isinstance(value, list) else [value])]
    return [v for v in values if isinstance(v, str)]


def table_exists(con: Any, table: str) -> bool:
    """Whether `table` exists (a warehouse made before a table was added lacks it when opened read-only)."""
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()
    return bool(row[0])


def links(con: Any, chain: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evaluations, model cards, promotion decisions, releases and deployments of the artifacts in `chain`.

    They are the artifacts of those kinds whose parents name an artifact of the chain (the base model
    excepted: it is shared by every adapter), or, transitively, another such link (a model card made
    from an evaluation).
    """
    roots = {a["artifact_id"] for a in chain if a["kind"] != "base_model"}
    in_chain = {a["artifact_id"] for a in chain}
    candidates = [
        decode_artifact(r)
        for r in fetch_dicts(
            con,
            "SELECT * FROM artifacts WHERE list_contains(?, kind) ORDER BY created_at, artifact_id",
            [list(LINK_KINDS)],
        )
    ]
    found: dict[str, dict[str, Any]] = {}
    changed = True
    while changed:
        changed = False
        for row in candidates:
            if row["artifact_id"] in found or row["artifact_id"] in in_chain:
                continue
            if any(p in roots for p in _parent_ids(row)):
                found[row["artifact_id"]] = row
                roots.add(row["artifact_id"])
                changed = True
    return [
        {k: row[k] for k in ("artifact_id", "kind", "path", "sha256", "run_id", "created_at")}
        for row in sorted(found.values(), key=lambda r: (str(r["created_at"]), r["artifact_id"]))
    ]


def artifact_flags(con: Any, artifact_ids: list[str]) -> list[dict[str, Any]]:
    """Flags (e.g. trained_on_revoked_data) on the given artifacts or dataset versions."""
    if not artifact_ids or not table_exists(con, "artifact_flags"):
        return []
    return fetch_dicts(
        con,
        "SELECT artifact_id, kind, flag, revocation_file_sha256, records, CAST(flagged_at AS VARCHAR) AS flagged_at "
        "FROM artifact_flags WHERE list_contains(?, artifact_id) ORDER BY flagged_at, artifact_id",
        [sorted(set(artifact_ids))],
    )


def descendants(con: Any, artifact_ids: set[str]) -> list[dict[str, Any]]:
    """Every artifact whose parents (transitively) include one of `artifact_ids`, or the datasets named."""
    rows = [decode_artifact(r) for r in fetch_dicts(con, "SELECT * FROM artifacts ORDER BY created_at")]
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
        record_ids = _patient_records(con, [patient_key])
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
    return _impact_of(con, record_ids, {"patient_key": patient_key, "source_file": source_file})


def impacted_records(con: Any, patient_keys: list[str] = (), note_ids: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Like `impacted`, for several patients and single source records (note ids) at once (consent revocation)."""
    record_ids = _patient_records(con, list(patient_keys)) + list(note_ids)
    return _impact_of(con, record_ids, {"patient_keys": len(patient_keys), "note_ids": len(note_ids)})


def _patient_records(con: Any, patient_keys: list[str]) -> list[str]:
    if not patient_keys:
        return []
    notes = fetch_dicts(
        con, "SELECT note_id FROM deidentified_notes WHERE list_contains(?, patient_key)", [patient_keys]
    )
    annotations = fetch_dicts(
        con, "SELECT annotation_id FROM annotations WHERE list_contains(?, patient_key)", [patient_keys]
    )
    return [r["note_id"] for r in notes] + [r["annotation_id"] for r in annotations]


def _impact_of(con: Any, record_ids: list[str], query: dict[str, Any]) -> dict[str, Any]:
    """Dataset splits and artifacts whose examples came from `record_ids`."""
    record_ids = sorted(set(record_ids))
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
        decode_artifact(r)
        for r in fetch_dicts(con, "SELECT * FROM artifacts WHERE list_contains(?, artifact_id)", [sorted(trained)])
    ]
    reached += descendants(con, trained)
    return {
        "query": query,
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
    for flag in trace.get("flags", []):
        what = "FLAG " + flag["flag"].replace("_", " ")
        items.append(
            (0, what, f"{flag['kind']} {flag['artifact_id']} revocation file {flag['revocation_file_sha256']}")
        )
    for a in trace.get("chain", []):
        digest = f" sha256 {a['sha256']}" if a["sha256"] else ""
        items.append((0, a["kind"], f"{a['artifact_id']}{digest} code {a['code_version']} run {a['run_id']}"))
    for link in trace.get("links", []):
        where = f" {link['path']}" if link["path"] else ""
        digest = f" sha256 {link['sha256']}" if link["sha256"] else ""
        items.append((0, f"link: {link['kind']}", f"{link['artifact_id']}{where}{digest} run {link['run_id']}"))
    data_use = trace.get("data_use") or (trace.get("dataset") or {}).get("data_use") or {}
    shown = {k: v for k, v in data_use.items() if v}
    items.append((0, "data use", ", ".join(f"{k} {v}" for k, v in shown.items()) if shown else "not recorded"))
    dataset = trace.get("dataset")
    if dataset:
        detail = f"{dataset['dataset_version']} ({dataset['examples']} examples, {dataset['patients']} patients)"
        items.append((0, "dataset", detail))
        for f in dataset["source_files"]:
            items.append((1, "source file", f"{f['path']} sha256 {f['sha256']} rows used: {f['rows_used']}"))
            manifest = f.get("manifest")
            if manifest:
                basis = (
                    f"protocol {manifest['protocol_id']}" if manifest["protocol_id"] else f"DUA {manifest['dua_id']}"
                )
                detail = f"{basis} approval expires {manifest['approval_expires']} sha256 {manifest['manifest_sha256']}"
                items.append((2, "data-use manifest", detail))
        for a in dataset["annotations"]:
            items.append((1, "annotation", f"{a['annotation_id']} ({a['kind']}, {a['guideline_version']})"))
        for s in dataset["synthetic"]:
            items.append((1, "synthetic", f"generator {s['generator_version']} seed {s['seed']}: {s['notes']} notes"))
        excluded = dataset.get("consent_exclusions") or {}
        if excluded.get("revoked_patients") or excluded.get("revoked_records"):
            detail = (
                f"{excluded.get('records_excluded', 0)} records left out for "
                f"{excluded.get('revoked_patients', 0)} revoked patients and {excluded.get('revoked_records', 0)} "
                "revoked records"
            )
            items.append((1, "consent revocations applied", detail))
        elif excluded:
            items.append((1, "consent revocations applied", "none were in force"))
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
