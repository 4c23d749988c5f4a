"""Consent revocation, IRB / data-use fields in lineage, and the compliance outputs (issue 8)."""

import pytest

from clinical.settings import Settings


def test_irb_fields_come_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "CLINICAL_HOME": str(tmp_path),
            "CLINICAL_IRB_PROTOCOL": "IRB-2026-0042",
            "CLINICAL_IRB_BODY": "Example University IRB",
            "CLINICAL_DUA_ID": "DUA-17",
            "CLINICAL_DUA_EXPIRES": "2027-06-30",
        }
    )
    assert settings.data_use() == {
        "irb_protocol_id": "IRB-2026-0042",
        "irb_body": "Example University IRB",
        "dua_id": "DUA-17",
        "dua_expires": "2027-06-30",
    }
    assert settings.revocations_dir == tmp_path / "revocations"
    unset = Settings.from_env({"CLINICAL_HOME": str(tmp_path)}).data_use()
    assert set(unset.values()) == {None}


def test_a_malformed_expiry_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="CLINICAL_DUA_EXPIRES must be an ISO date"):
        Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_DUA_EXPIRES": "next June"})
