"""The serving monitor store: records without text, concurrent appends, windows and summaries."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime

from clinical.serving import monitor

NOTE = "Patient Zebulon Quuxley MRN 99812 was given metformin"
T0 = datetime(2026, 11, 27, 23, 59, 35, tzinfo=UTC).timestamp()


def test_record_holds_statistics_and_never_text(tmp_path) -> None:
    entities = [
        {"type": "medication", "text": "metformin"},
        {"type": "condition", "text": "Zebulon syndrome"},
        {"type": "made-up", "text": "x"},
    ]
    record = monitor.record_request(
        text_chars=len(NOTE),
        latency_ms=123.4567,
        status=200,
        entities=entities,
        valid_json=True,
        release="rel-2026-11-27",
        model_version="clinical_extractor:abc123",
        directory=tmp_path,
        now=T0,
    )
    assert record["entity_counts"] == {"condition": 1, "medication": 1, "other": 1}
    assert record["n_entities"] == 3 and record["text_chars"] == len(NOTE) and record["latency_ms"] == 123.457
    [path] = list(tmp_path.iterdir())
    assert path.name == "requests-2026-11-27.jsonl"
    stored = path.read_text()
    assert "metformin" not in stored and "Zebulon" not in stored
    assert json.loads(stored) == record


def test_free_text_in_identifier_fields_is_not_stored(tmp_path) -> None:
    record = monitor.record_request(
        text_chars=10,
        latency_ms=1,
        status=500,
        error_class="ValueError: Patient Zebulon Quuxley",
        release="ok.release-1",
        model_version="model with spaces",
        directory=tmp_path,
        now=T0,
    )
    assert record["error_class"] == "invalid" and record["model_version"] == "invalid"
    assert record["release"] == "ok.release-1" and record["valid_json"] is None
    assert "Zebulon" not in "".join(p.read_text() for p in tmp_path.iterdir())


def test_unwritable_store_returns_none_and_does_not_raise(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert monitor.record_request(text_chars=1, latency_ms=1, status=200, directory=blocker / "sub") is None


def _append_many(args) -> None:
    directory, worker = args
    for i in range(200):
        monitor.record_request(
            text_chars=i, latency_ms=worker, status=200, entities=[{"type": "procedure"}] * 3, directory=directory
        )


def test_concurrent_processes_append_whole_lines(tmp_path) -> None:
    # "spawn", not "fork": a test worker may hold threads (Dagster, gRPC, torch) whose locks a forked child
    # inherits held; one such child hung the whole suite in a rehearsal of CI.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_append_many, [(str(tmp_path), w) for w in range(4)])
    log = monitor.read_requests(tmp_path)
    assert len(log.records) == 800 and log.skipped == 0


def test_read_window_skips_bad_lines_and_other_days(tmp_path) -> None:
    for k in range(5):
        monitor.record_request(text_chars=100, latency_ms=10 * k, status=200, directory=tmp_path, now=T0 + 10 * k)
    # crosses midnight: the last two land in the next day's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests-2026-11-27.jsonl", "requests-2026-11-28.jsonl"]
    with (tmp_path / "requests-2026-11-27.jsonl").open("a") as fh:
        fh.write('{"half a line\n[1, 2]\n')
    monitor.record_request(text_chars=1, latency_ms=1, status=200, directory=tmp_path, now=T0 - 86400 * 3)
    log = monitor.read_requests(tmp_path, since=T0 + 5, until=T0 + 35)
    assert [r["ts"] for r in log.records] == [T0 + 10, T0 + 20, T0 + 30]
    assert log.skipped == 2 and log.files == 2
    assert monitor.read_requests(tmp_path / "missing").records == []


def test_summary_rates(tmp_path) -> None:
    def rec(status, valid, entities, error=None, latency=10.0):
        return monitor.build_record(
            text_chars=50, latency_ms=latency, status=status, entities=entities, valid_json=valid, error_class=error
        )

    records = [
        rec(200, True, [{"type": "medication"}] * 3 + [{"type": "condition"}]),
        rec(200, False, []),
        rec(200, True, [{"type": "condition"}] * 4, latency=100.0),
        rec(500, None, [], "RuntimeError"),
        rec(413, None, [], "InvalidArgument"),
    ]
    summary = monitor.summarize(records)
    assert summary["requests"] == 5 and summary["successful"] == 3
    assert summary["error_rate"] == 0.2 and summary["client_error_rate"] == 0.2
    assert summary["invalid_json_rate"] == 1 / 3
    assert summary["entity_counts"] == {"condition": 5, "medication": 3}
    assert summary["entity_type_rates"] == {"condition": 5 / 8, "medication": 3 / 8}
    assert summary["latency_ms_p50"] == 10.0 and summary["latency_ms_p95"] == 100.0
    assert summary["error_classes"] == {"RuntimeError": 1, "InvalidArgument": 1}
    assert monitor.summarize([])["requests"] == 0


def test_window_and_default_dir(tmp_path) -> None:
    monitor.record_request(text_chars=1, latency_ms=1, status=200, directory=tmp_path, now=T0 - 3600)
    monitor.record_request(text_chars=1, latency_ms=1, status=500, directory=tmp_path, now=T0 - 60)
    log, summary = monitor.window(tmp_path, minutes=30, now=T0)
    assert len(log.records) == 1 and summary["error_rate"] == 1.0
    assert monitor.default_monitor_dir({"CLINICAL_HOME": "/h"}) == monitor.Path("/h/monitoring/requests")
    assert monitor.default_monitor_dir({"CLINICAL_SERVING_MONITOR_DIR": "/m"}) == monitor.Path("/m")


def test_summary_by_model_version() -> None:
    def rec(model, entities, status=200):
        return monitor.build_record(
            text_chars=50, latency_ms=1, status=status, entities=entities, valid_json=True, model_version=model,
            release=model and "rel-" + model.split(":")[-1],
        )  # fmt: skip

    summary = monitor.summarize(
        [
            rec("m:1", [{"type": "condition"}] * 3),
            rec("m:1", [{"type": "medication"}]),
            rec("m:2", [{"type": "procedure"}] * 2),
            rec("m:2", None, status=500),
            rec(None, [{"type": "lab_value"}]),
        ]
    )
    assert summary["by_model"] == {
        "m:1": {"requests": 2, "successful": 2, "releases": ["rel-1"],
                "entity_counts": {"condition": 3, "medication": 1},
                "entities_per_request": {"condition": 1.5, "medication": 0.5}},
        "m:2": {"requests": 2, "successful": 1, "releases": ["rel-2"], "entity_counts": {"procedure": 2},
                "entities_per_request": {"procedure": 2.0}},
        "unknown": {"requests": 1, "successful": 1, "releases": [], "entity_counts": {"lab_value": 1},
                    "entities_per_request": {"lab_value": 1.0}},
    }  # fmt: skip


def test_reference_rates_are_the_served_models_own_evaluation(tmp_path) -> None:
    from drift_fixtures import register_served_model

    from clinical import warehouse

    path = tmp_path / "w.duckdb"
    warehouse.initialize(path, warehouse.WAREHOUSE_SCHEMA)
    biased = {"condition": 6.0, "lab_value": 0.0, "medication": 2.0, "procedure": 0.0}
    gold = {"condition": 0.4, "lab_value": 0.2, "medication": 0.25, "procedure": 0.15}
    with warehouse.connect(path) as con:
        model_a, release_a = register_served_model(con, "a", biased, extra_evaluation=True)
        model_b, release_b = register_served_model(con, "b", None)
        model_c, _ = register_served_model(con, "c", {"condition": 2.0}, deployed=False)
        # Through the release's deployment: the evaluation it names, not the adapter's later one.
        found = monitor.evaluated_entity_rates(con, model_a, release_a)
        assert found["evaluation_id"] == "eval_a" and found["predicted_per_note"] == biased
        assert found["split"] == "test" and found["documents"] == 30
        reference = monitor.entity_reference(con, model_a, release_a, gold)
        assert reference.source == "evaluation" and reference.rates == biased and reference.per_note
        assert "eval_a" in reference.label and "test split" in reference.label
        # Without a release (plain `bentoml serve`): model tag -> Bento -> merged model -> adapter.
        assert monitor.evaluated_entity_rates(con, model_c, None)["evaluation_id"] == "eval_c"
        # No predicted rates recorded (an evaluation from before they were), or a model lineage does not
        # know: gold rates, and the label says why.
        for model, release in ((model_b, release_b), ("clinical-extractor:elsewhere", None), (None, None)):
            assert monitor.evaluated_entity_rates(con, model, release) is None
            fallback = monitor.entity_reference(con, model, release, gold)
            assert fallback.source == "gold" and fallback.rates == gold and not fallback.per_note
            assert "no predicted entity rates recorded for model" in fallback.label
