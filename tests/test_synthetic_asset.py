"""synthetic_notes in Dagster: the privacy guard, the review folder, the auto-approval rule, DP lineage, the check."""

import json

import dagster as dg
import pytest

from clinical import audit, privacy, warehouse
from clinical.settings import Settings
from clinical_assets.definitions import build_resources
from clinical_assets.synthetic import synthetic_notes, synthetic_review_status


def _run(resources, **config):
    config = {"count": 8, "seed": 2, "condition_on_real_data": False, **config}
    result = dg.materialize(
        [synthetic_notes, synthetic_review_status],
        resources=resources,
        run_config={"ops": {"synthetic_notes": {"config": config}}},
    )
    metadata = result.asset_materializations_for_node("synthetic_notes")[0].metadata
    (check,) = result.get_asset_check_evaluations()
    return {k: v.value for k, v in metadata.items()}, check


def _rows(settings):
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        return {
            r["synthetic_id"]: r
            for r in warehouse.fetch_dicts(con, "SELECT * FROM synthetic_notes ORDER BY synthetic_id")
        }


def _events(settings, event_type):
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        return [json.loads(e.payload) for e in audit.events(con) if e.event_type == event_type]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    home = tmp_path_factory.mktemp("synthetic_home")
    settings = Settings.from_env({"CLINICAL_HOME": str(home), "CLINICAL_BRAT_DIRS": ""})
    return settings, build_resources(settings)


def test_review_loop_guard_rule_and_check(env):
    settings, resources = env
    metadata, check = _run(resources)
    assert metadata["pending"] == 8 and metadata["approved"] == 0 and metadata["review_rule"] == "none"
    assert metadata["pending_records"].count("| syn_") == 8 and "| E11.9 |" in metadata["profile_top_conditions"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN and check.metadata["pending"].value == 8
    first = _rows(settings)
    assert all(r["review_status"] == "pending" and r["generator_version"] for r in first.values())
    copied, approved, rejected, *_ = sorted(first)

    # a real de-identified note that repeats 10 tokens of one synthetic note
    words = privacy.tokenize(first[copied]["text"])[20:30]
    with warehouse.connect(settings.warehouse_path) as con:
        con.execute(
            "INSERT INTO deidentified_notes VALUES ('n1', 'b1', 'pt_1', 'progress note', ?, 'h', 'r', 'f.jsonl', "
            "'s', 1, 'safe_harbor@1', 'fp', 0, 'run')",
            ["Seen today. " + " ".join(words) + " Follow up."],
        )
    settings.review_dir.mkdir(parents=True, exist_ok=True)
    decisions = [
        {"synthetic_id": approved, "decision": "approved", "reviewer": "dr.lee", "timestamp": "2026-11-27T10:00:00Z"},
        {
            "synthetic_id": rejected,
            "decision": "rejected",
            "reviewer": "dr.lee",
            "reason": "implausible regimen",
            "timestamp": "2026-11-27T10:01:00Z",
        },
        {"synthetic_id": copied, "decision": "approved", "reviewer": "dr.lee", "timestamp": "2026-11-27T10:02:00Z"},
    ]
    (settings.review_dir / "2026-11-27.jsonl").write_text(
        "\n".join(json.dumps(d) for d in decisions) + '\n{"synthetic_id": "oops"\n'
    )
    metadata, check = _run(resources)
    rows = _rows(settings)
    assert set(rows) == set(first), "same seed, same profile: same records"
    assert rows[copied]["review_status"] == "rejected" and rows[copied]["review_rule"] == "privacy_guard"
    assert rows[copied]["privacy_longest_run"] >= 10 and "consecutive tokens" in rows[copied]["review_reason"]
    assert (rows[approved]["review_status"], rows[approved]["reviewer"]) == ("approved", "dr.lee")
    assert (rows[rejected]["review_status"], rows[rejected]["review_reason"]) == ("rejected", "implausible regimen")
    assert (metadata["approved"], metadata["rejected"], metadata["pending"]) == (1, 2, 5)
    assert metadata["privacy_guard_rejected"] == 1 and metadata["privacy_max_shared_run_tokens"] >= 10
    assert metadata["real_texts_indexed"] == 1
    assert "2026-11-27.jsonl | 4 |" in metadata["refused_decision_lines"]
    assert not any(" ".join(words) in str(v) for v in metadata.values()), "no real text in metadata"
    assert check.metadata["rejected"].value == 2 and check.severity == dg.AssetCheckSeverity.WARN
    audited = _events(settings, "review_decision")
    assert sorted((e["synthetic_id"], e["decision"], e["line"]) for e in audited) == sorted(
        [(approved, "approved", 1), (rejected, "rejected", 2), (copied, "approved", 3)]
    )

    # the named rule approves the rest; decisions are not audited twice; only approved rows reach training
    metadata, check = _run(resources, auto_approve="all_pass_privacy_guard")
    assert (metadata["approved"], metadata["rejected"], metadata["pending"]) == (6, 2, 0)
    assert check.passed and len(_events(settings, "review_decision")) == 3
    rows = _rows(settings)
    assert {r["review_rule"] for r in rows.values()} == {"privacy_guard", "reviewer", "all_pass_privacy_guard"}
    summary = _events(settings, "synthetic_review")[-1]
    assert summary["auto_approve"] == "all_pass_privacy_guard" and summary["status_counts"]["approved"] == 6
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        artifact = warehouse.fetch_dicts(
            con, "SELECT details FROM artifacts WHERE kind = 'synthetic_notes' ORDER BY created_at DESC LIMIT 1"
        )[0]
        training = con.execute("SELECT count(*) FROM synthetic_notes WHERE review_status = 'approved'").fetchone()[0]
    details = json.loads(artifact["details"])
    assert details["auto_approve"] == "all_pass_privacy_guard" and details["seed"] == 2 and training == 6


def test_dp_statistics_condition_the_generator_with_epsilon_in_lineage(env):
    settings, resources = env
    metadata, _ = _run(resources, condition_on_real_data=True, epsilon=0.5, dp_seed=5)
    assert metadata["dp_epsilon"] == 0.5 and metadata["profile_source"].startswith("dp:dp_")
    assert "seeded:5" in metadata["dp_release"] and "| 0.100 |" in metadata["dp_queries"]  # 0.5 over 5 statistics
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        releases = warehouse.fetch_dicts(con, "SELECT release_id, epsilon FROM dp_releases")
        details = json.loads(
            warehouse.fetch_dicts(
                con, "SELECT details FROM artifacts WHERE kind = 'synthetic_notes' ORDER BY created_at DESC LIMIT 1"
            )[0]["details"]
        )
    assert [r["epsilon"] for r in releases] == [0.5]
    assert details["dp"]["epsilon"] == 0.5 and details["dp"]["release_id"] == releases[0]["release_id"]
    assert details["dp"]["reused"] is False and details["profile_source"] == "dp:" + releases[0]["release_id"]
    again, _ = _run(resources, condition_on_real_data=True, epsilon=0.5, dp_seed=5)
    assert again["profile_source"] == metadata["profile_source"] and "| True |" in again["dp_release"]
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dp_releases").fetchone()[0] == 1, "reuse spends no budget"


def test_unknown_rule_fails_with_a_clear_message(env):
    _, resources = env
    with pytest.raises(Exception, match="unknown auto-approval rule 'everything'"):
        _run(resources, auto_approve="everything")
