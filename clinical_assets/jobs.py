import dagster as dg

from clinical_assets.deidentify import deidentified_notes
from clinical_assets.ingest import raw_notes
from clinical_assets.partitions import landing_batches

INGEST_SELECTION = dg.AssetSelection.assets(raw_notes, deidentified_notes)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=INGEST_SELECTION,
    partitions_def=landing_batches,
    description="Ingest one landing batch into the restricted zone and de-identify it.",
)

training_job = dg.define_asset_job(
    "training_job",
    selection=dg.AssetSelection.all() - INGEST_SELECTION,
    description="Rebuild the dataset from all de-identified batches, retrain, evaluate, and package.",
)
