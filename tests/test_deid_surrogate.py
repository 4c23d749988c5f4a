"""The `surrogate` policy: consistent per-patient surrogates, interval-keeping date shifts, no
collision with the real values, no mapping stored; an expert-determination option, not Safe Harbor."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from clinical.deid import get_deidentifier
from clinical.deid.engine import POLICY_VERSIONS, DeidPolicy
from clinical.deid.surrogate import DATE_SHIFT_MAX_WEEKS, SurrogateGenerator

SECRET = "test-surrogate-secret-0123456789"


@pytest.fixture(scope="module")
def surrogate_deid():
    return get_deidentifier(DeidPolicy.for_name("surrogate"), SECRET)


@pytest.fixture(scope="module")
def gen():
    return SurrogateGenerator(SECRET)


NOTE_1 = (
    "Patient: SMITH, JOHN    MRN: 00123456    DOB: 02/12/1931\n"
    "Admitted 2019-03-04 14:30. John Smith denies pain; wife Mary at bedside. Call (617) 555-0123."
)
NOTE_2 = "Follow-up 03/18/2019 with Dr. Okafor. John Smith reports Mary visits daily."


def test_same_real_name_gets_the_same_surrogate_across_a_patients_notes(surrogate_deid, gen):
    out_1 = surrogate_deid.redact(NOTE_1, patient_key="pt_a")
    out_2 = surrogate_deid.redact(NOTE_2, patient_key="pt_a")
    fake_john = gen.surrogate("pt_a", "PERSON", "John")
    fake_smith = gen.surrogate("pt_a", "PERSON", "Smith")
    assert f"{fake_john} {fake_smith}" in out_1 and f"{fake_john} {fake_smith}" in out_2
    assert f"{fake_smith.upper()}, {fake_john.upper()}" in out_1  # ALL-CAPS keeps its shape
    for real in ("John", "Smith", "SMITH", "Mary", "00123456", "555-0123", "02/12/1931", "2019-03-04"):
        assert real not in out_1
    assert "Okafor" not in out_2
    assert surrogate_deid.redact(NOTE_1, patient_key="pt_a") == out_1  # deterministic


def test_other_patients_get_other_surrogates(surrogate_deid):
    assert surrogate_deid.redact(NOTE_1, patient_key="pt_a") != surrogate_deid.redact(NOTE_1, patient_key="pt_b")


@pytest.mark.parametrize("patient", ["pt_a", "pt_b", "pt_c", "pt_d"])
def test_date_shift_keeps_intervals_and_is_whole_weeks_in_range(gen, patient):
    shift = gen.date_shift_days(patient)
    assert -7 * DATE_SHIFT_MAX_WEEKS <= shift <= -7 and shift % 7 == 0
    first, second = "02/12/2019", "03/18/2019"
    a = dt.datetime.strptime(gen.shift_date(patient, first), "%m/%d/%Y").date()
    b = dt.datetime.strptime(gen.shift_date(patient, second), "%m/%d/%Y").date()
    assert (b - a).days == 34
    assert (a - dt.date(2019, 2, 12)).days == shift
    assert a.weekday() == dt.date(2019, 2, 12).weekday()


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("02/12/2019", r"\d{2}/\d{2}/\d{4}"),
        ("2/12", r"\d{1,2}/\d{1,2}"),
        ("2019-02-12 14:30", r"\d{4}-\d{2}-\d{2} 14:30"),
        ("Feb 12, 2019", r"[A-Z][a-z]{2} \d{1,2}, \d{4}"),
        ("12-Feb-2019", r"\d{1,2}-[A-Z][a-z]{2}-\d{4}"),
        ("February 12th", r"[A-Z][a-z]+ \d{1,2}(st|nd|rd|th)"),
        ("3/4/56", r"\d{1,2}/\d{1,2}/\d{2}"),
        ("November 2000", r"[A-Z][a-z]+ \d{4}"),
    ],
)
def test_dates_keep_their_format(gen, value, pattern):
    import re

    shifted = gen.shift_date("pt_a", value)
    assert re.fullmatch(pattern, shifted), shifted
    assert shifted != value


def test_unparseable_date_becomes_a_placeholder(gen):
    assert gen.shift_date("pt_a", "the 12th") == "[DATE]"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("PHONE_NUMBER", "(617) 555-0123"),
        ("MEDICAL_RECORD_NUMBER", "00123456"),
        ("US_SSN", "432-56-7891"),
        ("HEALTH_PLAN_NUMBER", "XYZ123456"),
        ("ZIP_CODE", "02115"),
        ("STREET_ADDRESS", "12 Main St"),
        ("LOCATION", "Springfield"),
        ("EMAIL_ADDRESS", "jane.doe@example.com"),
        ("IP_ADDRESS", "192.168.1.10"),
    ],
)
def test_surrogates_differ_from_the_real_value_and_keep_the_shape(gen, kind, value):
    fake = gen.surrogate("pt_a", kind, value)
    assert fake != value and fake == gen.surrogate("pt_a", kind, value)
    if kind in ("PHONE_NUMBER", "MEDICAL_RECORD_NUMBER", "US_SSN", "ZIP_CODE", "HEALTH_PLAN_NUMBER"):
        assert [c.isdigit() for c in fake] == [c.isdigit() for c in value]


def test_name_surrogates_never_collide_with_real_names(gen):
    real = ["John", "Mary", "Smith", "Garcia", "Lee", "Nguyen", "Okafor", "Kevin"]
    forbidden = frozenset(w.lower() for w in real)
    for patient in (f"pt_{i}" for i in range(40)):
        for word in real:
            fake = gen.surrogate(patient, "PERSON", word, forbidden)
            assert fake.lower() not in forbidden


def test_ages_over_89_stay_aggregated(surrogate_deid):
    assert surrogate_deid.redact("A 93-year-old woman.", patient_key="pt_a") == "A 90+-year-old woman."


def test_surrogate_needs_a_patient_key_and_a_real_secret(surrogate_deid):
    with pytest.raises(ValueError, match="patient key"):
        surrogate_deid.redact("Seen by John Smith.")
    with pytest.raises(ValueError, match="16 characters"):
        SurrogateGenerator("short")


def test_policy_name_version_and_fingerprint_differ_from_safe_harbor():
    surrogate, safe = DeidPolicy.for_name("surrogate"), DeidPolicy.for_name("safe_harbor")
    assert surrogate.version == POLICY_VERSIONS["surrogate"] and safe.version == POLICY_VERSIONS["safe_harbor"]
    assert surrogate.fingerprint() != safe.fingerprint()
    assert SECRET not in json.dumps(surrogate.as_dict())
    with pytest.raises(ValueError, match="unknown de-identification policy"):
        DeidPolicy.for_name("k_anonymity")


def test_secret_id_is_keyed_and_reveals_nothing(gen):
    assert len(gen.secret_id) == 16 and SECRET not in gen.secret_id
    assert gen.secret_id != SurrogateGenerator(SECRET + "x").secret_id


def test_cli_redact_with_the_surrogate_policy(tmp_path, monkeypatch):
    from clinical.cli import main

    monkeypatch.setenv("CLINICAL_DEID_SURROGATE_SECRET", SECRET)
    source = tmp_path / "in.jsonl"
    rows = [
        {"id": "n1", "text": "Seen by John Smith on 02/12/2019.", "patient_key": "pt_a"},
        {"id": "n2", "text": "John Smith called on 02/19/2019.", "patient_key": "pt_a"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert main(["deid", "redact", "--policy", "surrogate", "--input", str(source), "--output", str(out)]) == 0
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert all("John" not in t and "Smith" not in t for t in texts)
    name_1 = texts[0].removeprefix("Seen by ").split(" on ")[0]
    assert texts[1].startswith(name_1)
    d1 = dt.datetime.strptime(texts[0].rsplit(" ", 1)[1].rstrip("."), "%m/%d/%Y")
    d2 = dt.datetime.strptime(texts[1].rsplit(" ", 1)[1].rstrip("."), "%m/%d/%Y")
    assert (d2 - d1).days == 7


def test_surrogate_policy_refuses_to_run_without_a_secret(tmp_path, monkeypatch, capsys):
    from clinical.cli import main
    from clinical.deid.engine import SURROGATE_SECRET_VARIABLE, Deidentifier, SurrogateSecretMissingError
    from resources import DeidPolicyResource

    assert SURROGATE_SECRET_VARIABLE == "CLINICAL_DEID_SURROGATE_SECRET"
    with pytest.raises(SurrogateSecretMissingError, match="CLINICAL_DEID_SURROGATE_SECRET"):
        Deidentifier(DeidPolicy.for_name("surrogate"))
    with pytest.raises(SurrogateSecretMissingError, match="CLINICAL_DEID_SURROGATE_SECRET"):
        DeidPolicyResource(name="surrogate").deidentifier()
    assert DeidPolicyResource().deidentifier().policy.name == "safe_harbor"  # Safe Harbor needs no secret

    monkeypatch.delenv("CLINICAL_DEID_SURROGATE_SECRET", raising=False)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "n1", "text": "Seen by John Smith.", "patient_key": "pt_a"}) + "\n")
    code = main(["deid", "redact", "--policy", "surrogate", "--input", str(source), "--output", str(tmp_path / "o")])
    assert code != 0
    assert "CLINICAL_DEID_SURROGATE_SECRET" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or (tmp_path / "o").read_text() == ""


def test_settings_pass_the_surrogate_secret_to_the_resource_as_an_env_var(tmp_path, monkeypatch):
    import dagster as dg

    from clinical.settings import Settings
    from clinical_assets.definitions import build_resources

    monkeypatch.setenv("CLINICAL_DEID_SURROGATE_SECRET", SECRET)
    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path), "CLINICAL_DEID_SURROGATE_SECRET": SECRET})
    assert settings.deid_surrogate_secret == SECRET
    resource = build_resources(settings)["deid_policy"]
    # The resource config holds the variable's name (what the Dagster UI shows), not the secret.
    assert isinstance(resource.surrogate_secret, dg.EnvVar)
    assert resource.surrogate_secret.env_var_name == "CLINICAL_DEID_SURROGATE_SECRET"

    monkeypatch.delenv("CLINICAL_DEID_SURROGATE_SECRET")
    unset = Settings.from_env({"CLINICAL_HOME": str(tmp_path)})
    assert unset.deid_surrogate_secret is None
    assert build_resources(unset)["deid_policy"].surrogate_secret is None


def test_redact_reports_where_each_replacement_sits_in_the_output(surrogate_deid, deid):
    for deidentifier in (surrogate_deid, deid):
        spans = deidentifier.detect(NOTE_1)
        out, inserted = deidentifier.redact_with_offsets(NOTE_1, spans, patient_key="pt_a")
        assert out == deidentifier.redact(NOTE_1, spans, patient_key="pt_a")
        assert len(inserted) == len(spans) > 5
        kept = [NOTE_1[a.end : b.start] for a, b in zip(spans, spans[1:], strict=False)]
        assert [out[e:s] for (_, e), (s, _) in zip(inserted, inserted[1:], strict=False)] == kept
    placeholders = [out[s:e] for s, e in inserted]
    assert "[MRN]" in placeholders and all(p.startswith("[") and p.endswith("]") for p in placeholders)


def test_residual_scan_skips_exactly_the_inserted_surrogates(surrogate_deid):
    from clinical.deid import residual

    out, inserted = surrogate_deid.redact_with_offsets(NOTE_1, patient_key="pt_a")
    assert residual.scan(out) != []  # realistic surrogates look like PHI to the scan ...
    assert residual.scan(out, inserted) == []  # ... and are skipped when their offsets are given
    leaky = out + "\nVisitor badge 482913 issued; Dr. Okafor aware."
    kinds = {f.kind for f in residual.scan(leaky, inserted)}
    assert {"DIGIT_RUN", "NAME_AFTER_TITLE"} <= kinds  # text outside the inserted spans is still scanned
    with pytest.raises(ValueError, match="does not fit"):
        residual.scan(out, [(0, len(out) + 5)])


def test_surrogate_policy_runs_through_deidentified_notes_with_the_blocking_check(tmp_path):
    import dagster as dg

    from clinical import warehouse
    from clinical.demo_batch import write_demo_batch
    from clinical.settings import Settings
    from clinical_assets.definitions import build_resources
    from clinical_assets.deidentify import deidentified_notes, residual_phi_scan
    from clinical_assets.ingest import raw_notes
    from clinical_assets.partitions import landing_batches
    from resources import DeidPolicyResource

    settings = Settings.from_env({"CLINICAL_HOME": str(tmp_path / "home"), "CLINICAL_BRAT_DIRS": ""})
    write_demo_batch(settings.landing_dir, "sur_batch", count=4, seed=5, truth_dir=tmp_path / "truth")
    resources = {
        **build_resources(settings),
        "deid_policy": DeidPolicyResource(name="surrogate", surrogate_secret=SECRET),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(landing_batches.name, ["sur_batch"])
        result = dg.materialize(
            [raw_notes, deidentified_notes, residual_phi_scan],
            partition_key="sur_batch",
            instance=instance,
            resources=resources,
            raise_on_error=False,
        )
    (evaluation,) = result.get_asset_check_evaluations()
    with warehouse.connect(settings.warehouse_path, read_only=True) as con:
        policies = {p for (p,) in con.execute("SELECT DISTINCT policy FROM deidentified_notes").fetchall()}
        audit = con.execute(
            "SELECT count(*), count(output_start), min(output_end - output_start) FROM phi_span_audit"
        ).fetchone()
        texts = [t for (t,) in con.execute("SELECT text FROM deidentified_notes").fetchall()]
    assert policies == {f"surrogate@{POLICY_VERSIONS['surrogate']}"}
    assert audit[0] > 0 and audit[1] == audit[0] and audit[2] > 0  # every span has its output offsets
    assert not any("[NAME]" in t for t in texts)  # realistic surrogates, not placeholders
    assert evaluation.passed, {k: str(v.value) for k, v in evaluation.metadata.items()}
