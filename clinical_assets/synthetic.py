"""synthetic_notes: seeded, labelled synthetic clinical notes generated from structured facts."""

import time
from collections import Counter

import dagster as dg
from pydantic import Field

from clinical import ids, synthetic
from clinical.warehouse import insert_rows
from clinical_assets.metadata import counts_table
from clinical_assets.versioning import code_version
from resources import Warehouse

AUTO_APPROVAL_RULE = "auto-approve: walking-skeleton generator output (reviewer loop not yet in place)"


class SyntheticConfig(dg.Config):
    count: int = Field(default=40, description="How many notes to generate.")
    seed: int = Field(default=13, description="Generator seed; the same seed gives the same notes.")


@dg.asset(
    group_name="data",
    code_version=code_version(synthetic),
    kinds={"python", "duckdb"},
    owners=["team:clinical-annotation"],
    tags={"zone": "deidentified", "synthetic": "true"},
)
def synthetic_notes(
    context: dg.AssetExecutionContext, config: SyntheticConfig, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Labelled synthetic notes (conditions with ICD-10-CM codes, medications with dose/route/frequency,
    procedures, lab values), marked synthetic, with generator version and seed kept on every record."""
    started = time.perf_counter()
    notes = synthetic.generate_synthetic_notes(config.count, config.seed)
    rows = [
        {
            "synthetic_id": n["synthetic_id"],
            "patient_key": n["patient_key"],
            "note_type": n.get("note_type"),
            "text": n["text"],
            "entities": n["entities"],
            "generator_version": n["generator_version"],
            "seed": n["seed"],
            "review_status": "approved",
            "review_rule": AUTO_APPROVAL_RULE,
            "run_id": context.run.run_id,
        }
        for n in notes
    ]
    with warehouse.connect() as con:
        con.execute("DELETE FROM synthetic_notes")
        insert_rows(con, "synthetic_notes", rows)
    by_type = Counter(e["type"] for n in notes for e in n["entities"])
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "notes": len(rows),
            "generator_version": synthetic.GENERATOR_VERSION,
            "seed": config.seed,
            "review_rule": AUTO_APPROVAL_RULE,
            "entities_by_type": counts_table(dict(by_type), "entity type", "entities"),
        },
        data_version=dg.DataVersion(ids.content_hash([r["synthetic_id"] for r in rows])),
    )
