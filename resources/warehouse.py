"""The two DuckDB zones as one resource (see clinical/warehouse.py)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from clinical import audit as audit_trail
from clinical import lineage, warehouse


class Warehouse(dg.ConfigurableResource):
    """DuckDB files: the de-identified warehouse and the restricted raw-note store (0600)."""

    path: str = Field(description="DuckDB file of the de-identified zone.")
    restricted_path: str = Field(description="DuckDB file of the restricted zone (raw notes with PHI).")
    irb_protocol_id: str | None = Field(default=None, description="IRB protocol id (CLINICAL_IRB_PROTOCOL).")
    irb_body: str | None = Field(default=None, description="Approving body (CLINICAL_IRB_BODY).")
    dua_id: str | None = Field(default=None, description="Data use agreement id (CLINICAL_DUA_ID).")
    dua_expires: str | None = Field(default=None, description="Approval expiry, ISO date (CLINICAL_DUA_EXPIRES).")

    @property
    def data_use(self) -> dict[str, str | None]:
        """The IRB / data-use fields in force, as recorded in dataset reports and adapter lineage."""
        return {
            "irb_protocol_id": self.irb_protocol_id,
            "irb_body": self.irb_body,
            "dua_id": self.dua_id,
            "dua_expires": self.dua_expires,
        }

    @contextmanager
    def connect(self, read_only: bool = False) -> Any:
        """Connection to the de-identified zone, tables created on first use."""
        if not read_only or not Path(self.path).exists():
            warehouse.initialize(self.path, warehouse.WAREHOUSE_SCHEMA)
        with warehouse.connect(self.path, read_only=read_only) as con:
            yield con

    @contextmanager
    def connect_restricted(self, read_only: bool = False) -> Any:
        """Connection to the restricted zone. Only raw_notes and deidentified_notes may call this."""
        folder = Path(self.restricted_path).parent
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        warehouse.initialize(self.restricted_path, warehouse.RESTRICTED_SCHEMA, restricted=True)
        with warehouse.connect(self.restricted_path, read_only=read_only) as con:
            yield con

    def register_artifact(self, run_id: str, **fields: Any) -> None:
        """Record an artifact and its parents in the lineage registry (see clinical.lineage.record_artifact).

        An artifact made from a dataset (an adapter, an evaluation) also records the data-use fields in force
        and the landing batches' protocols the dataset recorded (`landing_protocols`, clinical/intake.py).
        """
        with self.connect() as con:
            version = fields.get("parents", {}).get("dataset_version")
            if version and "data_use" not in fields.get("details", {}):
                recorded = lineage.dataset_data_use(con, version)
                data_use = {**self.data_use, "landing_protocols": recorded.get("landing_protocols")}
                fields = {**fields, "details": {**fields.get("details", {}), "data_use": data_use}}
            lineage.record_artifact(con, run_id=run_id, **fields)
            audit_trail.record(con, self.audit_anchor_path, "artifact_registered", _artifact_event(run_id, fields))

    @property
    def audit_anchor_path(self) -> Path:
        """The head anchor of the audit trail, beside the warehouse file."""
        return audit_trail.anchor_path(self.path)

    def audit(self, event_type: str, payload: dict[str, Any]) -> None:
        """Append an event to the hash-chained audit trail (ids, hashes, counts and run ids only, never PHI)."""
        with self.connect() as con:
            audit_trail.record(con, self.audit_anchor_path, event_type, payload)


def _artifact_event(run_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "artifact_id": fields.get("artifact_id"),
        "kind": fields.get("kind"),
        "sha256": fields.get("sha256"),
        "parents": fields.get("parents", {}),
        "code_version": fields.get("code_version"),
        "run_id": run_id,
    }
