"""The model card of a LoRA adapter: a regulatory artifact in JSON and Markdown.

Sections after Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019): model details,
intended use, factors, metrics, evaluation data, training data, quantitative analyses, ethical
considerations, caveats and recommendations; plus the promotion gate's decision and the IRB /
data-use fields. Everything comes from the lineage registry and the evaluation summary: ids, hashes,
counts and scores, never note text or identifiers. The JSON is canonical (sorted keys, compact), so
its sha256 identifies the card.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clinical.ids import sha256_text

CARD_SCHEMA = "clinical-model-card/1"
NOT_RECORDED = "not recorded"
DATA_USE_FIELDS = {
    "irb_protocol_id": "IRB protocol id",
    "irb_body": "approving body",
    "dua_id": "data use agreement",
    "dua_expires": "data use agreement expires",
    "landing_protocols": "landing batches' protocols / agreements (manifests)",
}
MODEL_LABELS = {
    "tuned": "tuned (LoRA adapter)",
    "base_zero_shot": "base, zero-shot prompt",
    "base_few_shot": "base, few-shot prompt",
    "dictionary": "dictionary baseline",
}

INTENDED_USE = {
    "primary_use": (
        "Augmented extraction of medications, conditions, procedures and lab values from de-identified "
        "clinical notes, as a suggestion list that a clinician or trained abstractor reviews, corrects "
        "and accepts before any use (clinician-in-the-loop)."
    ),
    "primary_users": ["clinical data abstractors", "clinicians reviewing suggestions", "clinical researchers"],
    "out_of_scope": [
        "autonomous clinical decisions, diagnosis, triage or treatment without clinician review",
        "notes that were not de-identified by the pipeline's policy",
        "languages other than English, and note types or specialties absent from the evaluation data",
        "inferring or re-identifying patients, or any use outside the recorded IRB protocol / data use agreement",
        "use after the data use agreement expires",
    ],
}
ETHICAL_CONSIDERATIONS = [
    "Trained on de-identified notes only; raw notes with PHI stay in the restricted zone and never reach "
    "training, metadata, lineage or this card. Patients are referred to by keyed hashes.",
    "Missed entities (false negatives) can hide medications or conditions from a reviewer; the tool must "
    "never be the only source for medication reconciliation or problem lists.",
    "Recall differs across subgroups; the fairness gap and its interval are reported below, and subgroups "
    "with little support are shown but cannot be judged.",
    "Age and sex subgroups are read from the note text with documented patterns; notes that state neither "
    "are 'unknown', and other protected attributes are not measured.",
]
CAVEATS = [
    "Scores come from a small number of notes; the bootstrap intervals show how uncertain they are.",
    "The relaxed match counts overlapping spans of the same type as correct; exact scores are stricter.",
    "Latency was measured on the evaluation host (see metrics); serving hardware differs.",
    "TensorRT-LLM engines are built only on GPU hosts with TensorRT-LLM installed; elsewhere the serving "
    "bundle holds the merged safetensors checkpoint.",
]


def data_use(values: Mapping[str, Any] | None) -> dict[str, str]:
    """The IRB / data-use fields with "not recorded" for each one that is unset.

    :param values: e.g. clinical.settings.Settings.data_use() (irb_protocol_id, irb_body, dua_id,
        dua_expires); unknown keys are ignored.
    """
    values = values or {}
    return {key: str(values.get(key)) if values.get(key) else NOT_RECORDED for key in DATA_USE_FIELDS}


def _manifest_basis(manifest: Mapping[str, Any] | None) -> str:
    """A landing file's protocol (or agreement) and approval expiry from its manifest (clinical/intake.py)."""
    if not manifest:
        return NOT_RECORDED
    basis = manifest.get("protocol_id") or f"DUA {manifest.get('dua_id')}"
    return f"{basis} (expires {manifest.get('approval_expires')})"


def _model_rows(split: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, scores in split.get("models", {}).items():
        ci = scores.get("micro_f1_ci") or [None, None]
        rows.append(
            {
                "model": MODEL_LABELS.get(name, name),
                "relaxed micro F1": scores["micro_f1"],
                "95% CI": _ci_text(ci),
                "exact micro F1": scores.get("exact_micro_f1"),
                "JSON validity": scores.get("json_validity"),
                "hallucination rate": scores.get("hallucination_rate"),
                "negation accuracy": scores.get("negation_accuracy"),
                "mean latency s": scores.get("latency_mean_s"),
            }
        )
    return rows


def _ci_text(ci: list[float | None] | None) -> str:
    if not ci or ci[0] is None:
        return "n/a"
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def build_model_card(
    *,
    adapter: dict[str, Any],
    base: dict[str, Any] | None,
    evaluation: dict[str, Any],
    decision: dict[str, Any] | None,
    trace: dict[str, Any],
    data_use_values: Mapping[str, Any] | None,
    created_at: str,
) -> dict[str, Any]:
    """The card as a JSON-ready dict.

    :param adapter: the lora_adapter artifact (clinical.lineage.find_artifact shape).
    :param base: its base_model artifact, or None if unknown.
    :param evaluation: the evaluation artifact (its details hold the evaluation summary).
    :param decision: the promotion_decision artifact of that evaluation, or None if the gate has not run.
    :param trace: clinical.lineage.trace of the adapter (dataset sources, de-identification policies).
    :param data_use_values: the IRB / data-use settings (see data_use).
    :param created_at: ISO timestamp of the card.
    """
    summary = evaluation["details"]
    dataset = trace.get("dataset", {})
    training = adapter["details"].get("training", {})
    base_details = (base or {}).get("details", {})
    gate = (decision or {}).get("details")
    splits = summary.get("splits", {})
    return {
        "schema": CARD_SCHEMA,
        "created_at": created_at,
        "model_details": {
            "name": "clinical entity extractor (LoRA adapter)",
            "task": "extraction of medication, condition, procedure and lab_value entities as JSON",
            "adapter_artifact_id": adapter["artifact_id"],
            "adapter_sha256": adapter["sha256"],
            "adapter_code_version": adapter.get("code_version"),
            "adapter_run_id": adapter.get("run_id"),
            "base_model": {
                "artifact_id": (base or {}).get("artifact_id"),
                "name": base_details.get("name"),
                "weights_sha256": (base or {}).get("sha256"),
                "license": base_details.get("license"),
                "parameters": base_details.get("n_params"),
                "source": base_details.get("source"),
                "source_sha256": base_details.get("source_sha256"),
            },
            "hyperparameters": adapter["details"].get("config", {}),
            "training": {
                k: training.get(k) for k in ("steps", "seconds", "tokens_per_s", "validation_loss") if k in training
            },
        },
        "intended_use": INTENDED_USE,
        "factors": {
            "subgroup_dimensions": ["age_band", "sex", "note_type", "source"],
            "derivation": "age band and sex from documented patterns in the de-identified text "
            "(clinical.subgroups); note type and source from the dataset",
            "fairness_gap": "largest minus smallest recall among known subgroups with enough gold entities",
        },
        "metrics": {
            "definitions": "relaxed / exact entity match, micro-averaged P/R/F1 per entity type; JSON validity; "
            "hallucination rate (predicted text absent from the note); negation accuracy on matched pairs; "
            "latency per note",
            "bootstrap": summary.get("bootstrap", {}),
            "by_split": {
                name: {"documents": s.get("documents"), "models": s.get("models", {})} for name, s in splits.items()
            },
        },
        "evaluation_data": {
            "dataset_version": summary.get("dataset_version"),
            "splits": {
                name: {
                    "documents": s.get("documents"),
                    "sources": s.get("sources", {}),
                    "example_ids_sha256": s.get("example_ids_sha256"),
                }
                for name, s in splits.items()
            },
            "not_evaluated": summary.get("skipped", {}),
            "evaluation_artifact_id": evaluation["artifact_id"],
        },
        "training_data": {
            "dataset_version": dataset.get("dataset_version"),
            "examples": dataset.get("examples"),
            "patients": dataset.get("patients"),
            "source_files": dataset.get("source_files", []),
            "annotations": [
                {k: a.get(k) for k in ("annotation_id", "kind", "guideline_version")}
                for a in dataset.get("annotations", [])
            ],
            "synthetic": dataset.get("synthetic", []),
            "deidentification": trace.get("deidentification_policies", []),
        },
        "quantitative_analyses": {
            name: {model: fairness for model, fairness in s.get("fairness", {}).items()} for name, s in splits.items()
        },
        "ethical_considerations": ETHICAL_CONSIDERATIONS,
        "caveats": CAVEATS,
        "data_use": data_use(data_use_values),
        "promotion": (
            {"decision_artifact_id": decision["artifact_id"], **gate}
            if gate
            else {"passed": None, "note": "the promotion gate has not judged this evaluation"}
        ),
        "links": {
            "adapter": adapter["artifact_id"],
            "evaluation": evaluation["artifact_id"],
            "dataset_version": summary.get("dataset_version"),
            "promotion_decision": (decision or {}).get("artifact_id"),
        },
    }


def card_json(card: dict[str, Any]) -> str:
    """Canonical JSON of the card (sorted keys, compact, UTF-8): what the sha256 is taken of."""
    return json.dumps(card, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def card_sha256(card: dict[str, Any]) -> str:
    return sha256_text(card_json(card))


def _table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["_none_"]
    cols = list(rows[0])

    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return "" if value is None else str(value).replace("|", "\\|")

    return [
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
        *("| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows),
    ]


def render_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown (the Dagster UI shows it as the model_card asset's metadata)."""
    details = card["model_details"]
    promotion = card["promotion"]
    lines = [f"# Model card: {details['name']}", ""]
    if promotion.get("label"):
        lines += [f"> **Promotion gate: {'passed' if promotion['passed'] else 'blocked'} — {promotion['label']}**", ""]
    lines += ["## Model details", *_table([
        {"field": "adapter sha256", "value": details["adapter_sha256"]},
        {"field": "adapter artifact", "value": details["adapter_artifact_id"]},
        {"field": "base model", "value": details["base_model"].get("name")},
        {"field": "base weights sha256", "value": details["base_model"].get("weights_sha256")},
        {"field": "base licence", "value": details["base_model"].get("license")},
        {"field": "parameters", "value": details["base_model"].get("parameters")},
        {"field": "base source", "value": details["base_model"].get("source")},
        {"field": "base source sha256", "value": details["base_model"].get("source_sha256")},
        {"field": "hyperparameters", "value": json.dumps(details["hyperparameters"], sort_keys=True)},
        {"field": "code version / run", "value": f"{details['adapter_code_version']} / {details['adapter_run_id']}"},
    ]), ""]  # fmt: skip
    use = card["intended_use"]
    lines += ["## Intended use", use["primary_use"], "", "Primary users: " + ", ".join(use["primary_users"]) + ".", ""]
    lines += ["Out of scope:", *(f"- {item}" for item in use["out_of_scope"]), ""]
    factors = card["factors"]
    lines += [
        "## Factors",
        f"Subgroups: {', '.join(factors['subgroup_dimensions'])} ({factors['derivation']}).",
        f"Fairness gap: {factors['fairness_gap']}.",
        "",
    ]
    boot = card["metrics"].get("bootstrap", {})
    lines += [
        "## Metrics",
        card["metrics"]["definitions"] + ".",
        f"Intervals: {int(boot.get('confidence', 0.95) * 100)}% bootstrap percentile intervals over notes, "
        f"{boot.get('resamples', '?')} resamples, seed {boot.get('seed', '?')}.",
        "",
    ]
    for split, result in card["metrics"]["by_split"].items():
        lines += [f"### {split} ({result['documents']} notes)", *_table(_model_rows(result)), ""]
    evaluation = card["evaluation_data"]
    lines += ["## Evaluation data", f"Dataset version `{evaluation['dataset_version']}`.", ""]
    lines += _table(
        [
            {
                "split": name,
                "notes": s["documents"],
                "sources": ", ".join(f"{k}: {v}" for k, v in sorted(s["sources"].items())),
                "example ids sha256": s["example_ids_sha256"],
            }
            for name, s in evaluation["splits"].items()
        ]
    )
    lines.append("")
    for what, why in evaluation["not_evaluated"].items():
        lines.append(f"- not evaluated: {what}: {why}")
    training = card["training_data"]
    files, policies, gen = training["source_files"], training["deidentification"], training["synthetic"]
    lines += [
        "",
        "## Training data (lineage by hash)",
        f"Dataset version `{training['dataset_version']}`: {training['examples']} train examples from "
        f"{training['patients']} patients (keyed hashes).",
        "",
        *_table(
            [
                {
                    "source file": f["path"],
                    "sha256": f["sha256"],
                    "rows used": f["rows_used"],
                    "data-use basis": _manifest_basis(f.get("manifest")),
                }
                for f in files
            ]
        ),
        "",
        *_table([{"de-identification policy": p["policy"], "fingerprint": p["policy_fingerprint"]} for p in policies]),
        "",
        *_table([{"synthetic generator": g["generator_version"], "seed": g["seed"], "notes": g["notes"]} for g in gen]),
        "",
        f"Annotation sets: {len(training['annotations'])} "
        f"(guidelines: {', '.join(sorted({str(a['guideline_version']) for a in training['annotations']})) or 'none'}).",
        "",
    ]  # fmt: skip
    lines += ["## Quantitative analyses"]
    for split, by_model in card["quantitative_analyses"].items():
        tuned = by_model.get("tuned")
        if not tuned:
            continue
        lines += [f"### Recall by subgroup, tuned model, {split}"]
        rows = []
        for dim, groups in tuned["subgroups"].items():
            for g in groups:
                rows.append(
                    {
                        "dimension": dim,
                        "group": g["group"],
                        "notes": g["documents"],
                        "gold entities": g["support"],
                        "recall": g["recall"],
                        "95% CI": _ci_text(g["ci"]),
                        "in gap": "yes" if g["in_gap"] else "no",
                    }
                )
        lines += _table(rows)
        gap = tuned.get("max_fairness_gap")
        lines += [
            "",
            f"Fairness gap: {gap['value']:.3f} {_ci_text(gap['ci'])} ({gap['dimension']})"
            if gap
            else f"Fairness gap: not measurable (no dimension with two known groups of >= {tuned['min_support']} "
            "gold entities).",
            "",
        ]
    lines += ["## Ethical considerations", *(f"- {item}" for item in card["ethical_considerations"]), ""]
    lines += ["## Caveats and recommendations", *(f"- {item}" for item in card["caveats"]), ""]
    lines += [
        "## IRB and data use",
        *_table([{"field": label, "value": card["data_use"][key]} for key, label in DATA_USE_FIELDS.items()]),
        "",
    ]
    lines += ["## Promotion gate"]
    if promotion.get("criteria"):
        lines += [
            f"Profile `{promotion['thresholds']['profile']}` — {promotion['label']}; split: {promotion['split']}.",
            "",
            *_table(promotion["criteria"]),
            "",
            *(f"- {note}" for note in promotion.get("notes", [])),
        ]
    else:
        lines.append(promotion.get("note", ""))
    links = card["links"]
    lines += ["", "## Links", *(f"- {k}: `{v}`" for k, v in links.items())]
    return "\n".join(lines) + "\n"
