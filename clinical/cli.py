"""`clinical`: the command line of the factory.

    clinical deid detect --input IN.jsonl --output OUT.jsonl
    clinical deid redact --input IN.jsonl --output OUT.jsonl
    clinical deid eval --input ANNOTATED.jsonl
    clinical extract --model REF --input IN.jsonl --output OUT.jsonl
    clinical drift compare --reference REF.jsonl --batch BATCH.jsonl
    clinical lineage trace REF [--format json|markdown|html]
    clinical lineage impacted (--patient-key K | --source-file F)
    clinical audit verify [--format text|json]
    clinical consent key | revoke (--patient-key K | --patient-ids FILE) --reason CODE --requested-by ID | status
    clinical retraining pause --reason TEXT | resume | status
    clinical release keygen --out DIR | sign | promote MANIFEST | rollback | status
    clinical serve [--host H] [--port P] [--public-key PEM] [--check]
    clinical demo

Input lines are `{"id": str, "text": str}`. A bad line is reported on stderr as one line naming the
file, the line and the problem, and written to OUT.quarantine.jsonl with the reason (never the
text); the good lines go on. The exit status is 0 when every line was good, 1 when some were
quarantined, 2 when the command could not run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from clinical.records import FieldSpec, ReadResult, RecordFileError, read_records, write_jsonl

INPUT_FIELDS = (FieldSpec("id"), FieldSpec("text", is_text=True))


class UsageError(Exception):
    """A one-line error for the user (exit status 2)."""


def read_input(path: str, output: str | None) -> ReadResult:
    """Read `{"id","text"}` lines; report and quarantine bad ones beside `output`."""
    try:
        result = read_records(path, INPUT_FIELDS)
    except RecordFileError as exc:
        raise UsageError(str(exc)) from None
    _report_rejected(path, output, result)
    return result


def _report_rejected(path: str, output: str | None, result: ReadResult) -> None:
    for rejected in result.rejected:
        print(f"{path}:{rejected.line}: {rejected.reason}", file=sys.stderr)
    if result.rejected and output:
        write_jsonl(
            f"{output}.quarantine.jsonl",
            [{"line": r.line, "reason": r.reason, "input": str(path)} for r in result.rejected],
        )


def _texts(result: ReadResult) -> list[tuple[str, str]]:
    return [(record["id"], record["text"]) for _line, record in result.records]


def cmd_deid_eval(args: argparse.Namespace) -> int:
    from clinical.deid import evaluate

    try:
        records = evaluate.read_annotated(args.input)
    except evaluate.AnnotatedFileError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(evaluate.evaluate_detector(records), sort_keys=True))
    return 0


def cmd_deid(args: argparse.Namespace) -> int:
    if args.action == "eval":
        return cmd_deid_eval(args)
    if not args.output:
        raise UsageError(f"deid {args.action} needs --output")
    from clinical.deid.engine import DeidPolicy, SurrogateSecretMissingError, get_deidentifier

    policy = getattr(args, "policy", "safe_harbor")
    try:
        deid_policy = DeidPolicy.for_name(policy)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    secret = os.environ.get("CLINICAL_DEID_SURROGATE_SECRET") if policy == "surrogate" else None
    fields = INPUT_FIELDS + ((FieldSpec("patient_key", required=False),) if policy == "surrogate" else ())
    try:
        result = read_records(args.input, fields)
    except RecordFileError as exc:
        raise UsageError(str(exc)) from None
    _report_rejected(args.input, args.output, result)
    try:
        deidentifier = get_deidentifier(deid_policy, secret)
    except SurrogateSecretMissingError as exc:
        raise UsageError(str(exc)) from None
    rows = []
    for _line, record in result.records:
        record_id, text = record["id"], record["text"]
        if args.action == "detect":
            spans = deidentifier.detect(text)
            rows.append(
                {
                    "id": record_id,
                    "spans": [{"start": s.start, "end": s.end, "type": s.type, "score": float(s.score)} for s in spans],
                }
            )
        else:
            # surrogate: consistency per "patient_key" when the line has one, else per note id.
            patient = record.get("patient_key") or record_id
            rows.append({"id": record_id, "text": deidentifier.redact(text, patient_key=patient)})
    write_jsonl(args.output, rows)
    return 1 if result.rejected else 0


def resolve_model_ref(ref: str) -> str:
    """A model or adapter directory as is; otherwise a Bento tag, resolved to its model's folder."""
    if Path(ref).is_dir():
        return ref
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    from clinical.settings import Settings

    os.environ.setdefault("BENTOML_HOME", str(Settings.from_env().bentoml_home))
    import bentoml

    try:
        bento = bentoml.get(ref)
    except Exception:  # noqa: BLE001 - bentoml raises several types for an unknown tag
        raise UsageError(f"--model {ref!r} is neither a model/adapter directory nor a known Bento tag") from None
    models = bento.info.models
    if not models:
        raise UsageError(f"Bento {ref} holds no model")
    return bentoml.models.get(models[0].tag).path


def cmd_extract(args: argparse.Namespace) -> int:
    from clinical.modeling.extract import Extractor

    model_dir = resolve_model_ref(args.model)
    result = read_input(args.input, args.output)
    constrained = None if args.decoding == "free" else args.decoding
    extractor = Extractor.load(model_dir, max_new_tokens=args.max_new_tokens, constrained=constrained)
    rows = []
    for record_id, text in _texts(result):
        extracted = extractor.extract(text)
        rows.append({"id": record_id, "entities": extracted.entities, "valid_json": extracted.valid_json})
    write_jsonl(args.output, rows)
    return 1 if result.rejected else 0


def cmd_drift(args: argparse.Namespace) -> int:
    from clinical import drift

    reference = read_input(args.reference, None)
    batch = read_input(args.batch, None)
    if not reference.records or not batch.records:
        raise UsageError("both --reference and --batch need at least one valid line")
    # The reference profile is cached by the content hash of the reference texts (and the drift code):
    # comparing many batches with one reference builds its profile once. Same profile either way.
    cache_dir = None if args.no_cache else (args.cache_dir or drift.default_cache_dir())
    profile, _cached = drift.cached_profile([t for _i, t in _texts(reference)], cache_dir)
    report = drift.compare(profile, [t for _i, t in _texts(batch)], drift.DriftConfig())
    print(json.dumps(report.as_dict(), sort_keys=True))
    return 1 if reference.rejected or batch.rejected else 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from clinical import lineage, warehouse
    from clinical.settings import Settings

    path = Settings.from_env().warehouse_path
    if not path.exists():
        raise UsageError(f"no warehouse at {path}: run the pipeline first (make demo)")
    with warehouse.connect(path, read_only=True) as con:
        if args.lineage_cmd == "trace":
            try:
                out = lineage.trace(con, args.ref)
            except LookupError as exc:
                raise UsageError(str(exc)) from None
            render = {"markdown": lineage.render_markdown, "html": lineage.render_html}.get(args.format)
            print(render(out) if render else json.dumps(out, indent=2, default=str))
        else:
            out = lineage.impacted(con, patient_key=args.patient_key, source_file=args.source_file)
            print(json.dumps(out, indent=2, default=str))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import dagster as dg

    from clinical.demo import prepare_demo_inputs, run_demo
    from clinical.settings import Settings

    settings = Settings.from_env()
    if not os.environ.get("DAGSTER_HOME"):
        raise UsageError("DAGSTER_HOME is not set: run `make demo`, or export DAGSTER_HOME=$PWD")
    inputs = prepare_demo_inputs(settings)
    print(f"[demo] landing batch: {inputs['landing']}")
    with dg.DagsterInstance.get() as instance:
        runs = run_demo(settings, instance)
    print(json.dumps(runs, indent=2))
    print(
        f"\n[demo] done. Results:\n"
        f"  warehouse (de-identified zone): {settings.warehouse_path}\n"
        f"  restricted zone (PHI, 0600):     {settings.restricted_path}\n"
        f"  artifacts (adapter, merged model, TensorRT-LLM bundle): {settings.artifacts_dir}\n"
        f"  Bentos: BENTOML_HOME={settings.bentoml_home} bentoml list\n"
        f"  lineage of the adapter: clinical lineage trace <adapter sha256>  or `make lineage`\n"
        f"  open the UI: make ui   (then http://127.0.0.1:3000)"
    )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from clinical import audit, warehouse
    from clinical.settings import Settings

    path = Settings.from_env().warehouse_path
    if not path.exists():
        raise UsageError(f"no warehouse at {path}: run the pipeline first (make demo)")
    try:
        anchor = audit.read_anchor(audit.anchor_path(path))
    except audit.AnchorError as exc:
        print(f"clinical: audit trail broken: {exc}", file=sys.stderr)
        return 1
    with warehouse.connect(path, read_only=True) as con:
        result = audit.verify(con, anchor)
    if args.format == "json":
        print(json.dumps(result.as_dict(), sort_keys=True))
    elif result.ok:
        noun = "event" if result.events == 1 else "events"
        print(f"audit trail intact: {result.events} {noun}, head seq {result.head_seq} sha256 {result.head_hash}")
    if not result.ok:
        print(f"clinical: audit trail broken at seq {result.bad_seq}: {result.reason}", file=sys.stderr)
    return 0 if result.ok else 1


def cmd_consent(args: argparse.Namespace) -> int:
    """Patient keys from raw ids (computed here, never printed back), revocation files, revocations in force."""
    import getpass

    from clinical import consent, warehouse
    from clinical.ids import DEV_HMAC_SECRET
    from clinical.settings import Settings

    settings = Settings.from_env()
    if args.consent_cmd == "status":
        path = settings.warehouse_path
        if not path.exists():
            raise UsageError(f"no warehouse at {path}: run the pipeline first (make demo)")
        with warehouse.connect(path, read_only=True) as con:
            print(json.dumps(consent.status(con), indent=2, default=str))
        return 0
    source = args.input if args.consent_cmd == "key" else args.patient_ids
    lines: list[str] = []
    if source == "-" and sys.stdin.isatty():
        lines = [getpass.getpass("patient id (not shown): ")]
    elif source == "-":
        lines = sys.stdin.read().splitlines()
    elif source:
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read patient ids from {source}: {type(exc).__name__}") from None
    if settings.hmac_secret == DEV_HMAC_SECRET and lines:
        print("clinical: warning: the development HMAC secret is in use (set CLINICAL_HMAC_SECRET)", file=sys.stderr)
    try:
        keys = consent.keys_for_patient_ids(settings.hmac_secret, lines, settings.environment)
        if args.consent_cmd == "key":
            print("\n".join(keys))
            return 0
        revocations_dir = settings.revocations_dir or settings.home / "revocations"
        written = consent.write_revocation_file(
            revocations_dir,
            patient_keys=[*(args.patient_key or []), *keys],
            note_ids=list(args.note_id or []),
            reason_code=args.reason,
            requested_by=args.requested_by,
            requested_at=args.requested_at,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps({"revocation_file": str(written), "patients": len(args.patient_key or []) + len(keys)}))
    return 0


def cmd_retraining(args: argparse.Namespace) -> int:
    from clinical.drift import DriftConfig
    from clinical.settings import Settings
    from resources.retraining import read_pause, remove_pause, write_pause

    settings = Settings.from_env()
    pause_file = settings.retraining_pause_file or settings.home / "control" / "retraining_paused.json"
    if args.retraining_cmd == "pause":
        if not args.reason.strip():
            raise UsageError("--reason must say why retraining is paused")
        record = write_pause(pause_file, args.reason, os.environ.get("USER") or "unknown")
        print(json.dumps({"paused": True, **record, "pause_file": str(pause_file)}, sort_keys=True))
    elif args.retraining_cmd == "resume":
        record = remove_pause(pause_file)
        print(json.dumps({"paused": False, "was_paused": record is not None, "pause_file": str(pause_file)}))
    else:
        record = read_pause(pause_file)
        status = {
            "paused": record is not None,
            **(record or {}),
            "pause_file": str(pause_file),
            "consecutive_batches": settings.drift_consecutive_batches,
            "min_interval_minutes": settings.retrain_min_interval_minutes,
            "threshold": settings.drift_threshold if settings.drift_threshold is not None else DriftConfig().threshold,
        }
        print(json.dumps(status, sort_keys=True))
    return 0


def _release_audit_hook(warehouse_path: Path) -> object:
    """Append release events to the warehouse's hash-chained audit trail (tag and manifest hash only)."""
    from clinical import audit, warehouse

    def hook(event_type: str, payload: dict[str, object]) -> None:
        warehouse.initialize(warehouse_path, warehouse.WAREHOUSE_SCHEMA)
        with warehouse.connect(warehouse_path) as con:
            audit.record(con, audit.anchor_path(warehouse_path), event_type, payload)

    return hook


def cmd_release(args: argparse.Namespace) -> int:
    from clinical.serving import release
    from clinical.settings import Settings

    settings = Settings.from_env()
    try:
        if args.release_cmd == "keygen":
            private_path, public_path = release.generate_keypair(args.out)
            public_key = release.load_public_key(public_path)
            print(
                json.dumps(
                    {
                        "private_key": str(private_path),
                        "public_key": str(public_path),
                        "key_fingerprint": release.public_key_fingerprint(public_key),
                    },
                    sort_keys=True,
                )
            )
            return 0
        if args.release_cmd == "sign":
            manifest = json.loads(Path(args.manifest).read_text())
            signed = release.sign_manifest(manifest, release.load_private_key(args.key))
            Path(args.output).write_text(json.dumps(signed, indent=2, sort_keys=True))
            print(json.dumps({"signed": args.output, "manifest_sha256": release.manifest_sha256(manifest)}))
            return 0
        from clinical.serving.deploy import default_public_key_path

        key_path = Path(args.public_key) if args.public_key else default_public_key_path(settings)
        public_key = release.load_public_key(key_path) if key_path else None
        registry = release.ReleaseRegistry(settings.releases_dir or settings.home / "releases")
        if args.release_cmd == "status":
            print(json.dumps(registry.status(public_key), indent=2, sort_keys=True))
            return 0
        if public_key is None:
            raise UsageError("no release public key: set CLINICAL_RELEASE_PUBLIC_KEY or pass --public-key")
        hook = _release_audit_hook(settings.warehouse_path)
        if args.release_cmd == "promote":
            try:
                signed = json.loads(Path(args.manifest).read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"{args.manifest}: not a readable JSON file ({type(exc).__name__})") from None
            out = registry.promote(signed, public_key, audit=hook)
        else:
            out = registry.rollback(public_key, audit=hook)
        print(json.dumps(out, sort_keys=True))
        return 0
    except release.ReleaseVerificationError as exc:
        print(f"clinical: release refused: {exc}", file=sys.stderr)
        return 1
    except (release.ReleaseError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Verify the active release (exit 1 when refused), then become `bentoml serve` for its Bento."""
    from clinical.serving import release
    from clinical.serving.serve import plan_serve
    from clinical.settings import Settings

    try:
        plan = plan_serve(Settings.from_env(), args.host, args.port, args.public_key)
    except release.ReleaseVerificationError as exc:
        print(f"clinical: serve refused: {exc}", file=sys.stderr)
        return 1
    except (release.ReleaseError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps({"verified": plan.release.describe(), "listening": f"http://{args.host}:{args.port}"}))
    if args.check:
        return 0
    sys.stdout.flush()
    os.execve(plan.argv[0], plan.argv, plan.env)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinical", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    deid = sub.add_parser("deid", help="de-identify notes with the pipeline's policy")
    deid.add_argument("action", choices=["detect", "redact", "eval"])
    deid.add_argument("--input", required=True, help="eval: annotated JSONL {id, text, spans: [{start, end, type}]}")
    deid.add_argument("--output", help="detect/redact: output JSONL (eval prints JSON to stdout)")
    deid.add_argument(
        "--policy",
        default="safe_harbor",
        choices=["safe_harbor", "surrogate"],
        help="redact: typed placeholders (safe_harbor, default) or per-patient surrogates (surrogate: expert "
        "determination, not Safe Harbor; input lines may carry patient_key; secret from "
        "CLINICAL_DEID_SURROGATE_SECRET)",
    )
    deid.set_defaults(func=cmd_deid)

    extract = sub.add_parser("extract", help="extract clinical entities with a model, adapter or Bento")
    extract.add_argument("--model", required=True, help="model directory, adapter directory or Bento tag")
    extract.add_argument("--input", required=True)
    extract.add_argument("--output", required=True)
    extract.add_argument("--max-new-tokens", type=int, default=256)
    extract.add_argument(
        "--decoding",
        choices=["json", "copy", "free"],
        default="copy",
        help="copy (default, as evaluation and the service decode): schema-valid JSON whose entity texts are "
        "whole-word spans of the note in note order; json: schema-valid JSON, any entity text; "
        "free: unconstrained greedy decoding",
    )
    extract.set_defaults(func=cmd_extract)

    drift = sub.add_parser("drift", help="drift statistics of a batch against a reference")
    drift_sub = drift.add_subparsers(dest="drift_cmd", required=True)
    compare = drift_sub.add_parser("compare")
    compare.add_argument("--reference", required=True)
    compare.add_argument("--batch", required=True)
    compare.add_argument(
        "--cache-dir",
        help="cache of reference profiles, keyed by the reference texts' content hash "
        "(default: CLINICAL_DRIFT_CACHE_DIR, else $CLINICAL_HOME/cache/drift)",
    )
    compare.add_argument("--no-cache", action="store_true", help="build the reference profile, read and write no cache")
    compare.set_defaults(func=cmd_drift)

    lin = sub.add_parser("lineage", help="trace artifacts to their sources, or sources to their models")
    lin_sub = lin.add_subparsers(dest="lineage_cmd", required=True)
    trace = lin_sub.add_parser("trace")
    trace.add_argument(
        "ref", help="artifact id, sha256 (or 8+ character prefix), path, dataset version, or latest:<kind>"
    )
    trace.add_argument("--format", choices=["json", "markdown", "html"], default="json")
    trace.set_defaults(func=cmd_lineage)
    impacted = lin_sub.add_parser("impacted")
    group = impacted.add_mutually_exclusive_group(required=True)
    group.add_argument("--patient-key")
    group.add_argument("--source-file")
    impacted.set_defaults(func=cmd_lineage)

    aud = sub.add_parser("audit", help="check the hash-chained audit trail of pipeline events")
    aud_sub = aud.add_subparsers(dest="audit_cmd", required=True)
    verify = aud_sub.add_parser("verify", help="exit 0 when intact, 1 naming the first bad event")
    verify.add_argument("--format", choices=["text", "json"], default="text")
    verify.set_defaults(func=cmd_audit)

    cons = sub.add_parser("consent", help="consent revocation: patient keys, revocation files, status")
    cons_sub = cons.add_subparsers(dest="consent_cmd", required=True)
    key = cons_sub.add_parser("key", help="patient keys of raw patient ids (one per line; computed locally)")
    key.add_argument("--input", default="-", help="file of raw patient ids, or - for stdin (a prompt on a terminal)")
    revoke = cons_sub.add_parser("revoke", help="write a revocation file into the revocations folder")
    revoke.add_argument("--patient-key", action="append", help="a patient key (pt_...); repeatable")
    revoke.add_argument("--note-id", action="append", help="a source record's note id (note_...); repeatable")
    revoke.add_argument("--patient-ids", help="file of raw patient ids (- for stdin), turned into keys locally")
    revoke.add_argument("--reason", required=True, help="reason code, e.g. patient_request")
    revoke.add_argument("--requested-by", required=True, help="staff id of whoever received the request")
    revoke.add_argument("--requested-at", help="ISO date or date-time of the request (default: now)")
    cons_sub.add_parser("status", help="revocations in force and the flagged datasets and models")
    cons.set_defaults(func=cmd_consent)

    retraining = sub.add_parser("retraining", help="pause, resume or show drift-triggered retraining")
    retraining_sub = retraining.add_subparsers(dest="retraining_cmd", required=True)
    pause = retraining_sub.add_parser("pause", help="the drift sensor keeps checking but requests no training_job")
    pause.add_argument("--reason", required=True, help="why (recorded with $USER; no PHI)")
    retraining_sub.add_parser("resume", help="remove the pause; held drifted batches are requested on the next tick")
    retraining_sub.add_parser("status", help="pause state and the retraining policy in force")
    retraining.set_defaults(func=cmd_retraining)

    rel = sub.add_parser("release", help="signed release manifests: keygen, sign, promote, rollback, status")
    rel_sub = rel.add_subparsers(dest="release_cmd", required=True)
    keygen = rel_sub.add_parser("keygen", help="new ed25519 signing key pair (private key 0600)")
    keygen.add_argument("--out", required=True, help="folder for release_signing.key and release_signing.pub")
    sign = rel_sub.add_parser("sign", help="sign a release manifest JSON with the private key")
    sign.add_argument("manifest")
    sign.add_argument("--key", required=True, help="private key PEM (mode 0600)")
    sign.add_argument("--output", required=True)
    promote = rel_sub.add_parser("promote", help="verify a signed manifest and make it the active release")
    promote.add_argument("manifest")
    rollback = rel_sub.add_parser("rollback", help="switch back to the previous verified release")
    rel_status = rel_sub.add_parser("status", help="the active release and the earlier ones")
    for p in (promote, rollback, rel_status):
        p.add_argument("--public-key", help="public key PEM (default: CLINICAL_RELEASE_PUBLIC_KEY)")
    rel.set_defaults(func=cmd_release)

    serve = sub.add_parser("serve", help="verify the active signed release, then serve it (follows promote/rollback)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--public-key", help="public key PEM (default: CLINICAL_RELEASE_PUBLIC_KEY)")
    serve.add_argument("--check", action="store_true", help="verify and print the release; serve nothing")
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="generate the demo batch and materialize the whole graph")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"clinical: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
