"""Where raw batches land and where clinician annotations are imported from."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from clinical.landing import find_landing_files


class LandingZone(dg.ConfigurableResource):
    """Folders the pipeline reads its inputs from."""

    landing_dir: str = Field(description="Folder watched for new batches (*.jsonl, *.csv).")
    annotations_dir: str = Field(
        description="Folder of annotation label files (*.entities.jsonl) and Label Studio exports (*.json); "
        "those in its golden/ subfolder are golden sets, held out of training."
    )
    brat_dirs: list[str] = Field(default_factory=list, description="Folders of brat standoff corpora.")
    review_dir: str = Field(
        default="", description="Folder of reviewers' decision files on synthetic notes (docs/SYNTHETIC.md)."
    )

    def batches(self) -> dict[str, Path]:
        return find_landing_files(self.landing_dir)

    def batch_file(self, batch: str) -> Path:
        files = self.batches()
        if batch not in files:
            raise FileNotFoundError(f"no landing file for batch {batch!r} in {self.landing_dir}")
        return files[batch]
