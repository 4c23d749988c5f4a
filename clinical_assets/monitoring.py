"""drift_reference: the profile of the training text that new batches are compared with."""

import time

import dagster as dg

from clinical import drift, ids
from clinical.warehouse import fetch_dicts, insert_rows
from clinical_assets.dataset import sft_dataset
from clinical_assets.training import latest_dataset_version
from clinical_assets.versioning import code_version
from resources import Warehouse

DRIFT_CODE = code_version(drift)


def latest_reference(con) -> dict | None:
    rows = fetch_dicts(
        con,
        "SELECT reference_version, dataset_version, profile FROM drift_references ORDER BY created_at DESC LIMIT 1",
    )
    return rows[0] if rows else None


@dg.asset(
    deps=[sft_dataset],
    group_name="monitoring",
    code_version=DRIFT_CODE,
    kinds={"duckdb"},
    owners=["team:on-call"],
)
def drift_reference(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Token and length profile of the de-identified training text; the drift sensor compares every
    new de-identified batch with it."""
    started = time.perf_counter()
    with warehouse.connect(read_only=True) as con:
        version = latest_dataset_version(con)
        texts = [
            r["text"]
            for r in fetch_dicts(
                con, "SELECT text FROM sft_examples WHERE dataset_version = ? AND split = 'train'", [version]
            )
        ]
    profile = drift.build_profile(texts)
    reference_version = ids.content_hash(profile)
    with warehouse.connect() as con:
        con.execute("DELETE FROM drift_references WHERE reference_version = ?", [reference_version])
        insert_rows(
            con,
            "drift_references",
            [
                {
                    "reference_version": reference_version,
                    "dataset_version": version,
                    "profile": profile,
                    "run_id": context.run.run_id,
                }
            ],
        )
    return dg.MaterializeResult(
        metadata={
            "seconds": round(time.perf_counter() - started, 3),
            "reference_version": reference_version,
            "dataset_version": version,
            "texts": len(texts),
            "default_threshold": drift.DriftConfig().threshold,
        },
        data_version=dg.DataVersion(reference_version),
    )
