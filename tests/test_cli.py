"""The stable command line: output shapes, one-line errors naming the line, quarantine, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from modeling_fixtures import tiny_base  # noqa: F401  (pytest fixture)

from clinical.cli import main

NOTES = [
    {"id": "n1", "text": "Patient: Lee, Lisa  MRN: 00123456\nSeen 02/12/2019. Metformin 500 mg PO BID."},
    {"id": "n2", "text": "Call 617-555-0199 about the HbA1c 7.2% result."},
]


def write_lines(path, lines: list) -> str:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else json.dumps(x).encode() for x in lines) + b"\n")
    return str(path)


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in open(path, encoding="utf-8")]


def test_deid_detect_writes_spans_with_offsets(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["deid", "detect", "--input", write_lines(tmp_path / "in.jsonl", NOTES), "--output", str(out)]) == 0
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["n1", "n2"]
    first = {NOTES[0]["text"][s["start"] : s["end"]]: s["type"] for s in rows[0]["spans"]}
    assert first["00123456"] == "MEDICAL_RECORD_NUMBER"
    assert "Lee, Lisa" in first and "02/12/2019" in first
    assert all(isinstance(s["score"], float) for r in rows for s in r["spans"])
    assert not (tmp_path / "out.jsonl.quarantine.jsonl").exists()


def test_deid_redact_keeps_clinical_text(tmp_path) -> None:
    out = tmp_path / "out.jsonl"
    main(["deid", "redact", "--input", write_lines(tmp_path / "in.jsonl", NOTES), "--output", str(out)])
    text = read_jsonl(out)[0]["text"]
    assert "Lisa" not in text and "00123456" not in text
    assert "Metformin 500 mg PO BID" in text and "[DATE 2019]" in text


def test_bad_lines_are_quarantined_with_one_line_errors(tmp_path, capsys) -> None:
    lines = [NOTES[0], b"{not json", {"id": "n3", "text": ""}, {"id": "n4", "text": 12}, b"\xff\xfe", NOTES[1]]
    out = tmp_path / "out.jsonl"
    code = main(["deid", "redact", "--input", write_lines(tmp_path / "in.jsonl", lines), "--output", str(out)])
    assert code == 1
    assert [r["id"] for r in read_jsonl(out)] == ["n1", "n2"]
    errors = capsys.readouterr().err.strip().splitlines()
    assert [e.split(": ", 1)[0].rsplit(":", 1)[1] for e in errors] == ["2", "3", "4", "5"]
    quarantine = read_jsonl(str(out) + ".quarantine.jsonl")
    assert [q["line"] for q in quarantine] == [2, 3, 4, 5]
    assert all(q["reason"] and "text" not in q for q in quarantine)


def test_missing_input_is_a_usage_error(tmp_path, capsys) -> None:
    code = main(["deid", "detect", "--input", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path / "o.jsonl")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.jsonl: no such file" in err


def test_drift_compare_prints_the_stable_shape(tmp_path, capsys) -> None:
    reference = [
        {"id": f"r{i}", "text": f"Patient on metformin {i} mg for diabetes, follow-up in clinic."} for i in range(30)
    ]
    batch = [{"id": f"b{i}", "text": f"Der Patient klagt über Kopfschmerzen seit {i} Tagen."} for i in range(30)]
    code = main(
        [
            "drift",
            "compare",
            "--reference",
            write_lines(tmp_path / "ref.jsonl", reference),
            "--batch",
            write_lines(tmp_path / "batch.jsonl", batch),
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"drifted", "score", "threshold", "statistics"}
    assert report["drifted"] is True and report["score"] > report["threshold"]


def test_extract_with_a_model_directory(tmp_path, tiny_base) -> None:  # noqa: F811
    out = tmp_path / "out.jsonl"
    code = main(
        [
            "extract",
            "--model",
            str(tiny_base.path),
            "--input",
            write_lines(tmp_path / "in.jsonl", NOTES[:1]),
            "--output",
            str(out),
            "--max-new-tokens",
            "4",
        ]
    )
    assert code == 0
    [row] = read_jsonl(out)
    assert row["id"] == "n1" and isinstance(row["entities"], list)


def test_extract_with_an_unknown_model_ref(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))
    code = main(
        ["extract", "--model", "no-such-bento:v1", "--input", write_lines(tmp_path / "i.jsonl", NOTES), "--output", "o"]
    )
    assert code == 2
    assert "neither a model/adapter directory nor a known Bento tag" in capsys.readouterr().err


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "clinical"), "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "deid" in result.stdout and "lineage" in result.stdout


@pytest.mark.parametrize("argv", [["lineage", "trace", "abc"], ["lineage", "impacted", "--patient-key", "pt_x"]])
def test_lineage_without_a_warehouse_is_a_usage_error(tmp_path, monkeypatch, capsys, argv) -> None:
    monkeypatch.setenv("CLINICAL_HOME", str(tmp_path))
    assert main(argv) == 2
    assert "no warehouse" in capsys.readouterr().err
