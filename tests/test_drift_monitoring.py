"""drift_reference (profile with embeddings, gold entity-type rates, calibration) and the batch_drift
WARN check on deidentified_notes, run in process by Dagster on a seeded warehouse."""

import json

import dagster as dg
import pytest
from drift_fixtures import CLINICAL_WORDS, OTHER_WORDS, fake_notes

from clinical import drift, warehouse
from clinical_assets.monitoring import batch_drift_result, drift_reference
from resources import RetrainingPolicy, Warehouse

NOTE_FIELDS = {
    "patient_key": "pt",
    "raw_text_sha256": "x",
    "source_path": "p",
    "source_sha256": "s",
    "policy": "t",
    "policy_fingerprint": "f",
    "phi_spans": 0,
}


def seed(path, batches: dict[str, list[str]]) -> None:
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    train = fake_notes(CLINICAL_WORDS, 40, seed=0)
    with warehouse.connect(path) as con:
        warehouse.insert_rows(con, "datasets", [{"dataset_version": "ds1", "report": {}}])
        warehouse.insert_rows(
            con,
            "sft_examples",
            [
                {"dataset_version": "ds1", "example_id": f"e{i:03d}", "split": "train", "source": "deid_note",
                 "patient_key": "pt_x", "parents": [f"note{i // 4}"], "text": text,
                 "entities": [{"type": "condition", "text": "fever"}] * 3 + [{"type": "medication", "text": "x"}],
                 "messages": []}
                for i, text in enumerate(train)
            ],
        )  # fmt: skip
        for batch, texts in batches.items():
            warehouse.insert_rows(
                con,
                "deidentified_notes",
                [
                    dict(NOTE_FIELDS, note_id=f"{batch}-{i}", batch=batch, text=t, text_sha256=f"{i}", row_number=i)
                    for i, t in enumerate(texts)
                ],
            )  # fmt: skip


@pytest.mark.slow  # embeds ~90 notes with MiniLM: ~15 s on an idle 2-core machine
def test_reference_then_batch_checks_warn_on_drift_without_text(tmp_path) -> None:
    same, other = fake_notes(CLINICAL_WORDS, 25, seed=5), fake_notes(OTHER_WORDS, 25, seed=6)
    batches = {"same": same, "other": other, "empty": []}
    seed(tmp_path / "w.duckdb", batches)
    resources = {
        "warehouse": Warehouse(path=str(tmp_path / "w.duckdb"), restricted_path=str(tmp_path / "r.duckdb")),
        "retraining_policy": RetrainingPolicy(pause_file=str(tmp_path / "paused.json")),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize([drift_reference], resources=resources, instance=instance)
        [mat] = result.asset_materializations_for_node("drift_reference")
        meta = mat.metadata
        assert meta["texts"].value == 40 and meta["calibration_held_out"].value is True
        assert meta["fit_texts"].value + meta["calibration_texts"].value == 40
        assert meta["embeddings_kept"].value == meta["fit_texts"].value
        assert "condition | 0.750" in meta["entity_type_rates"].value
        with warehouse.connect(tmp_path / "w.duckdb", read_only=True) as con:
            [row] = warehouse.fetch_dicts(con, "SELECT profile FROM drift_references")
        profile = json.loads(row["profile"])
        assert profile["entity_source"] == "gold entities of the sft_dataset train split"
        assert "embedding_mmd" in profile["calibration"] and not any(t in row["profile"] for t in same)

    evaluations = {b: batch_drift_result(resources["warehouse"], resources["retraining_policy"], b) for b in batches}
    assert evaluations["same"].passed and not evaluations["other"].passed
    assert evaluations["empty"].passed and evaluations["empty"].metadata["batch_size"].value == 0
    warned = evaluations["other"]
    assert warned.severity == dg.AssetCheckSeverity.WARN
    meta = warned.metadata
    assert (
        meta["drifted"].value is True and meta["score"].value > meta["threshold"].value == drift.DriftConfig().threshold
    )
    assert "embedding_mmd" in meta["decision_statistics"].value
    assert meta["length_histogram"].value.startswith("![note length](data:image/png;base64,")
    assert meta["top_shifted_tokens"].value.startswith("![top shifted tokens](data:image/png;base64,")
    assert not any(word in str(meta) for word in ("quarterly", "dividend", "investors"))


def test_drift_reference_shows_the_deployed_models_evaluated_rates(tmp_path) -> None:
    from drift_fixtures import register_served_model

    from clinical_assets.monitoring import deployed_model_rates

    path = tmp_path / "w.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    gold = {"condition": 0.75, "medication": 0.25}
    with warehouse.connect(path) as con:
        assert "none deployed yet" in deployed_model_rates(con, gold)["deployed_model"]
        register_served_model(con, "old", None)
        assert "no predicted entity rates recorded" in deployed_model_rates(con, gold)["deployed_model"]
        register_served_model(con, "new", {"condition": 3.0, "lab_value": 0.0, "medication": 1.0, "procedure": 0.0})
        meta = deployed_model_rates(con, gold)
    assert meta["deployed_model"] == "clinical_extraction:new (evaluation eval_new, test split, 30 notes)"
    table = meta["deployed_model_entity_rates"].value
    assert "| type | gold share | model per note | model share |" in table
    assert "| condition | 0.750 | 3.000 | 0.750 |" in table and "| lab_value | 0.000 | 0.000 | 0.000 |" in table
