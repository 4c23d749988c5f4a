"""The cheapest test that catches most breakage: every definition loads, with every asset described."""

from __future__ import annotations

import os

import dagster as dg

from clinical.settings import Settings

EXPECTED_ASSETS = {
    "raw_notes",
    "deidentified_notes",
    "annotations",
    "synthetic_notes",
    "sft_dataset",
    "base_model",
    "lora_adapter",
    "evaluation",
    "model_card",
    "merged_model",
    "trtllm_engine",
    "bento",
    "deployment",
    "drift_reference",
}


def test_definitions_load_and_validate(tmp_path) -> None:
    from clinical_assets.definitions import build_definitions

    defs = build_definitions(Settings.from_env({"CLINICAL_HOME": str(tmp_path)}))
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, f"{key} has no code version"
        assert node.description, f"{key} has no description"
        assert node.group_name in {"ingest", "privacy", "data", "training", "evaluation", "serving", "monitoring"}
    assert {j.name for j in defs.resolve_all_job_defs()} >= {"ingest_job", "training_job"}
    assert {s.name for s in defs.sensors} >= {
        "new_batch_sensor",
        "drift_sensor",
        "run_failure_alert_sensor",
        "consent_revocation_sensor",
    }


def test_module_level_defs_is_what_dagster_dev_loads() -> None:
    from clinical_assets import definitions

    assert isinstance(definitions.defs, dg.Definitions)


def test_settings_from_env(tmp_path) -> None:
    settings = Settings.from_env(
        {"CLINICAL_HOME": str(tmp_path), "CLINICAL_BRAT_DIRS": "/a:/b", "CLINICAL_BASE_MODEL": "tiny-random"}
    )
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.restricted_path.parent == tmp_path / "restricted"
    assert settings.brat_dirs == ("/a", "/b")
    assert settings.base_model == "tiny-random"


def test_dagster_cli_validates_the_code_location(tmp_path) -> None:
    """What `dagster dev` loads (pyproject [tool.dagster] / workspace.yaml) passes `dagster definitions validate`."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "CLINICAL_HOME": str(tmp_path / "data")}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-w", str(root / "workspace.yaml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All code locations passed validation" in result.stdout + result.stderr


def test_secrets_from_the_environment_reach_the_ui_only_as_variable_names(tmp_path, monkeypatch) -> None:
    from clinical_assets.definitions import build_resources

    secret = "a-hospital-secret-0123456789"
    monkeypatch.setenv("CLINICAL_HMAC_SECRET", secret)
    monkeypatch.setenv("CLINICAL_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook-token-xyz")
    resources = build_resources(Settings.from_env({"CLINICAL_HOME": str(tmp_path), **dict(os.environ)}))
    identity, alerting = resources["identity"], resources["alerting"]
    assert isinstance(identity.hmac_secret, dg.EnvVar) and isinstance(alerting.webhook_url, dg.EnvVar)
    assert secret not in repr(identity.hmac_secret) and "hook-token" not in repr(alerting.webhook_url)
    assert identity.process_config_and_initialize().secret() == secret


def test_a_secret_given_directly_is_kept_as_is(tmp_path, monkeypatch) -> None:
    from clinical_assets.definitions import build_resources

    monkeypatch.delenv("CLINICAL_HMAC_SECRET", raising=False)
    resources = build_resources(Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_HMAC_SECRET": "x" * 20}))
    assert resources["identity"].secret() == "x" * 20
