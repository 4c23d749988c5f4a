"""sft_dataset: chat-format examples with the JSON target, split by patient, content-hashed."""

import json
import time

import dagster as dg
from pydantic import Field

from clinical import consent, dataset, intake, neardup, sft
from clinical.warehouse import fetch_dicts, insert_rows
from clinical_assets.annotations import annotations
from clinical_assets.deidentify import deidentified_notes
from clinical_assets.metadata import counts_table, md_table
from clinical_assets.synthetic import synthetic_notes
from clinical_assets.versioning import code_version
from resources import BaseModelRegistry, Warehouse


class DatasetConfig(dg.Config):
    max_chars: int = Field(
        default=400, description="Longest chunk of note text per example (its JSON target must fit max_length too)."
    )
    train_fraction: float = Field(default=0.8, description="Share of patients in the train split.")
    validation_fraction: float = Field(default=0.1, description="Share of patients in the validation split.")
    split_salt: str = Field(default="", description="Salt of the patient-level split hash.")
    near_duplicate_threshold: float = Field(
        default=neardup.THRESHOLD,
        description="Word-5-gram Jaccard at or above which two examples are near duplicates (MinHash LSH "
        "finds candidates, exact Jaccard confirms); 0 turns near-duplicate removal off.",
    )


# A residual-PHI finding is open while the note still has the text the scan flagged.
OPEN_RESIDUAL_FINDING = (
    "SELECT 1 FROM residual_phi_findings f WHERE f.note_id = d.note_id AND f.text_sha256 = d.text_sha256"
)


# Annotation kinds that carry their own text (documents, not labels of landing records).
CORPUS_KINDS = "'brat', 'labelstudio'"


def residual_phi_excluded(con) -> int:
    """How many de-identified notes sft_dataset leaves out for open residual-PHI findings."""
    sql = f"SELECT count(*) FROM deidentified_notes d WHERE EXISTS ({OPEN_RESIDUAL_FINDING})"
    return con.execute(sql).fetchone()[0]


def load_sources(con) -> tuple[list[dict], list[dict], list[dict], int]:
    """Read the labelled sources from the warehouse; also returns how many notes have no labels."""
    labelled = fetch_dicts(
        con,
        "SELECT d.note_id, a.annotation_id, d.patient_key, d.text, a.entities, d.note_type, "
        "coalesce(a.golden, false) AS golden FROM annotations a "
        "JOIN deidentified_notes d ON d.note_id = a.note_id WHERE a.kind = 'note_labels' "
        f"AND coalesce(a.is_primary, true) AND NOT EXISTS ({OPEN_RESIDUAL_FINDING}) ORDER BY d.note_id",
    )
    corpus = fetch_dicts(
        con,
        "SELECT annotation_id, patient_key, text, entities, note_type, coalesce(golden, false) AS golden "
        f"FROM annotations WHERE kind IN ({CORPUS_KINDS}) AND coalesce(is_primary, true) ORDER BY kind, doc_id",
    )
    synthetic = fetch_dicts(
        con,
        "SELECT synthetic_id, patient_key, text, entities, note_type FROM synthetic_notes "
        "WHERE review_status = 'approved' ORDER BY synthetic_id",
    )
    unlabelled = con.execute(
        "SELECT count(*) FROM deidentified_notes d WHERE NOT EXISTS "
        "(SELECT 1 FROM annotations a WHERE a.note_id = d.note_id)"
    ).fetchone()[0]
    labelled, corpus, synthetic = consent.drop_revoked(con, labelled, corpus, synthetic)  # consent revocations
    labelled = intake.drop_unapproved(labelled, intake.training_exclusions(con)[0])  # batch manifests (IRB / DUA)
    for row in labelled + corpus + synthetic:
        row["entities"] = json.loads(row["entities"])
    return labelled, corpus, synthetic, unlabelled


@dg.asset(
    deps=[deidentified_notes, annotations, synthetic_notes],
    group_name="data",
    code_version=code_version(dataset, sft, neardup, consent, intake),
    kinds={"duckdb"},
    owners=["team:ml"],
    tags={"zone": "deidentified"},
)
def sft_dataset(
    context: dg.AssetExecutionContext, config: DatasetConfig, warehouse: Warehouse, base_models: BaseModelRegistry
) -> dg.MaterializeResult:
    """Supervised fine-tuning examples (system, user = note text, assistant = JSON entities).

    Patient-level train/validation/test splits, a golden split of clinician golden sets that never
    reaches training, exact and near duplicates removed across the whole dataset (evaluation copies
    kept), a leakage check between splits, and a dataset card (Markdown here, JSON in the datasets
    table). The dataset version is the content hash of the examples and splits, so downstream
    assets go stale exactly when the data changes.
    """
    started = time.perf_counter()
    with warehouse.connect() as con:
        labelled, corpus, synthetic, unlabelled = load_sources(con)
        excluded_for_residual_phi = residual_phi_excluded(con)
        consent_exclusions = consent.excluded_counts(con)
        intake_summary = intake.training_exclusions(con)[1]
    examples, stats = dataset.assemble_examples(labelled, corpus, synthetic, max_chars=config.max_chars)
    fractions = (
        config.train_fraction,
        config.validation_fraction,
        1.0 - config.train_fraction - config.validation_fraction,
    )
    near = neardup.NearDupParams(threshold=config.near_duplicate_threshold) if config.near_duplicate_threshold else None
    count_tokens, counter = token_counter(base_models, context.log)
    records, report = sft.build_sft_dataset(
        examples,
        fractions=fractions,
        salt=config.split_salt,
        near_duplicates=near,
        count_tokens=count_tokens,
        token_counter=counter,
    )
    if not records:
        raise dg.Failure("no labelled examples: add annotations, label files or synthetic notes")
    version = sft.dataset_version(records)
    report = {**report, **stats, "unlabelled_notes_skipped": unlabelled, "dataset_version": version}
    report["notes_excluded_residual_phi"] = excluded_for_residual_phi
    report["consent_exclusions"] = consent_exclusions
    report["data_use"] = {**warehouse.data_use, "landing_protocols": intake.protocols_used(intake_summary)}
    report["data_use_exclusions"] = intake_summary
    with warehouse.connect() as con:
        con.execute("DELETE FROM sft_examples WHERE dataset_version = ?", [version])
        con.execute("DELETE FROM datasets WHERE dataset_version = ?", [version])
        insert_rows(
            con,
            "sft_examples",
            [
                {
                    "dataset_version": version,
                    "example_id": r["example_id"],
                    "split": r["split"],
                    "source": r["source"],
                    "patient_key": r["patient_key"],
                    "parents": r["parents"],
                    "text": r["text"],
                    "entities": r["entities"],
                    "messages": r["messages"],
                    "note_type": r["note_type"],
                }
                for r in records
            ],
        )
        insert_rows(con, "datasets", [{"dataset_version": version, "report": report, "run_id": context.run.run_id}])
    warehouse.audit(
        "dataset_created",
        {
            "dataset_version": version,
            "examples": len(records),
            "by_split": report.get("by_split", {}),
            "leakage": bool(report.get("leakage")),
            "code_version": context.assets_def.code_versions_by_key[context.asset_key],
            "run_id": context.run.run_id,
        },
    )
    if report.get("leakage"):
        raise dg.Failure("patient leakage between splits", metadata={"report": dg.MetadataValue.json(report)})
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "dataset_version": version,
            "examples": len(records),
            "dataset_card_md": dg.MetadataValue.md(sft.dataset_card_markdown(report)),
            "by_split": counts_table(report.get("by_split", {}), "split", "examples"),
            "by_source": counts_table(report.get("by_source", {}), "source", "examples"),
            "by_entity_type": counts_table(report.get("by_entity_type", {}), "entity type", "entities"),
            "golden_examples": report["by_split"]["golden"],
            "duplicates_removed": report["duplicates_removed"],
            "near_duplicates_removed": report["near_duplicates_removed"],
            "mean_example_tokens": report["token_length"]["example"]["mean"],
            "token_counter": report["token_length"]["counter"],
            "sources_used": md_table([{"what": k, "count": v} for k, v in stats.items()]),
            "unlabelled_notes_skipped": unlabelled,
            "notes_excluded_residual_phi": excluded_for_residual_phi,
            "records_excluded_consent_revoked": consent_exclusions["records_excluded"],
            "notes_excluded_data_use": intake_summary["notes_excluded"],
            "dataset_card": dg.MetadataValue.json(report),
        },
        data_version=dg.DataVersion(version),
    )


def token_counter(base_models: BaseModelRegistry, log) -> tuple:
    """The base model's tokenizer as a counting function when it is already on disk (cheap), else
    (None, "") for the documented approximation; converting the base model is base_model's job."""
    folder = dataset.cached_tokenizer_dir(base_models.spec, base_models.cache_dir)
    if folder is None:
        log.info("base-model tokenizer not cached yet; the dataset card approximates token counts")
        return None, ""
    try:
        return dataset.model_token_counter(folder), f"{folder.name} tokenizer (no chat-template tokens)"
    except Exception as exc:  # the card must not fail for want of a tokenizer; it says which counter it used
        log.warning(f"base-model tokenizer unreadable ({type(exc).__name__}); the card approximates token counts")
        return None, ""


def _checked_records(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> tuple[str, list, set]:
    """The examples of the dataset version just materialized, and the ids of golden annotations."""
    event = context.instance.get_latest_materialization_event(sft_dataset.key)
    version = None
    if event is not None and event.asset_materialization is not None:
        value = event.asset_materialization.metadata.get("dataset_version")
        version = getattr(value, "value", value)
    with warehouse.connect(read_only=True) as con:
        if version is None:
            rows = fetch_dicts(con, "SELECT dataset_version FROM datasets ORDER BY created_at DESC LIMIT 1")
            version = rows[0]["dataset_version"] if rows else ""
        records = fetch_dicts(
            con,
            "SELECT example_id, split, patient_key, parents, text FROM sft_examples WHERE dataset_version = ?",
            [version],
        )
        golden_ids = {
            r["annotation_id"] for r in fetch_dicts(con, "SELECT annotation_id FROM annotations WHERE golden")
        }
    for record in records:
        record["parents"] = json.loads(record["parents"])
    return version, records, golden_ids


@dg.asset_check(
    asset=sft_dataset,
    blocking=True,
    description="Blocking: no golden patient, text, near-duplicate text or golden annotation reaches the "
    "train, validation or test split of the dataset just built.",
)
def golden_set_held_out(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    version, records, golden_ids = _checked_records(context, warehouse)
    leaks = sft.golden_leaks(records, golden_ids)
    failing = {k: v for k, v in leaks.items() if k.endswith("_in_other_splits") and v}
    return dg.AssetCheckResult(
        passed=bool(records) and not failing,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "dataset_version": version,
            "golden_annotations": len(golden_ids),
            "result": md_table([{"check": k, "count": v} for k, v in leaks.items()]),
        },
    )


@dg.asset_check(
    asset=sft_dataset,
    blocking=True,
    description="Blocking: no patient, normalised text or near-duplicate pair is in two splits (golden included).",
)
def split_leakage(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
    version, records, _ = _checked_records(context, warehouse)
    report = sft.leakage_report(records)
    return dg.AssetCheckResult(
        passed=bool(records) and not report["leakage"],
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "dataset_version": version,
            "examples": len(records),
            "patients_in_two_splits": len(report["leaking_patient_keys"]),
            "texts_in_two_splits": report["leaking_texts"],
            "near_duplicate_pairs_across_splits": report["near_duplicate_pairs_across_splits"],
        },
    )
