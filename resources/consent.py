"""Where consent revocations arrive and where their reports go (see clinical/consent.py)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from clinical.consent import find_revocation_files


class ConsentRegistry(dg.ConfigurableResource):
    """The revocations folder the consent sensor watches, and the folder of revocation reports."""

    revocations_dir: str = Field(description="Folder of revocation CSV files (CLINICAL_REVOCATIONS_DIR).")
    reports_dir: str = Field(description="Folder the revocation reports (Markdown + JSON, no PHI) are written to.")

    def files(self) -> list[Path]:
        return find_revocation_files(self.revocations_dir)
