"""no_revoked_consent: an asset check per model-bearing asset, failing (WARN) while its newest version
was made from records whose consent was revoked. The consent sensor records the same result the moment
it flags an artifact; the check runs again with every materialization, so a retrained version clears it.
"""

import dagster as dg

from clinical import consent
from clinical_assets.dataset import sft_dataset
from clinical_assets.serving import bento, merged_model
from clinical_assets.training import lora_adapter
from resources import Warehouse

CHECK_NAME = "no_revoked_consent"
# asset → the kind of its versions in lineage (datasets by version, models by artifact)
CHECKED_ASSETS = {
    "sft_dataset": "dataset",
    "lora_adapter": "lora_adapter",
    "merged_model": "merged_model",
    "bento": "bento",
}


def check_result_fields(status: dict | None) -> tuple[bool, dict]:
    """(passed, metadata) of the check for `consent.latest_flag_status`'s answer (ids and hashes only)."""
    if status is None:
        return True, {"latest": "none yet"}
    metadata = {
        "latest": status["artifact_id"],
        "revocation_files": ", ".join(f[:16] for f in status["revocation_files"]) or "none",
    }
    if status["flags"]:
        metadata["consent_flag"] = dg.MetadataValue.md(
            "**TRAINED ON REVOKED DATA**: retrain (the consent sensor requested training_job) and replace this "
            "version; see `clinical consent status` and the revocation report"
        )
    return not status["flags"], metadata


def _consent_check(asset: dg.AssetsDefinition, kind: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=CHECK_NAME,
        description=f"Fails (WARN) while the newest {kind} was made from records whose consent was revoked.",
        blocking=False,
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(read_only=True) as con:
            status = consent.latest_flag_status(con, kind)
        passed, metadata = check_result_fields(status)
        return dg.AssetCheckResult(passed=passed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata)

    return _check


CONSENT_CHECKS = [
    _consent_check(asset, CHECKED_ASSETS[asset.key.to_user_string()])
    for asset in (sft_dataset, lora_adapter, merged_model, bento)
]
