"""synthetic_notes: seeded, labelled synthetic notes from structured facts, privacy-guarded and reviewed."""

import time
from collections import Counter

import dagster as dg
from pydantic import Field

from clinical import ids, privacy, review, synthetic
from clinical.warehouse import fetch_dicts, insert_rows
from clinical_assets.annotations import annotations
from clinical_assets.deidentify import deidentified_notes
from clinical_assets.metadata import bar_plot, counts_table, md_table
from clinical_assets.versioning import code_version
from resources import LandingZone, Warehouse

REFUSED_SHOWN = 50
REASON_IN_AUDIT = 200


class SyntheticConfig(dg.Config):
    count: int = Field(default=40, description="How many notes to generate.")
    seed: int = Field(default=13, description="Generator seed; the same seed (and profile) gives the same notes.")
    auto_approve: str = Field(
        default="none",
        description="Named auto-approval rule for records no reviewer decided: "
        + "; ".join(f"'{k}': {v}" for k, v in review.AUTO_APPROVAL_RULES.items())
        + ". Recorded in lineage and the audit trail.",
    )
    ngram: int = Field(
        default=privacy.DEFAULT_NGRAM,
        description="Privacy guard: a note sharing a run of this many tokens with a real note is rejected.",
    )
    epsilon: float = Field(
        default=1.0, description="Differential-privacy budget of the real-data statistics that condition the generator."
    )
    dp_seed: int | None = Field(
        default=None,
        description="Seed of the DP noise. Leave unset in production (OS entropy): a known seed lets anyone "
        "remove the noise. A seeded release is marked 'seeded:<seed>'.",
    )
    condition_on_real_data: bool = Field(
        default=True, description="Condition the generator on DP statistics of the real data (else: defaults)."
    )


@dg.asset(
    deps=[deidentified_notes, annotations],
    group_name="data",
    code_version=code_version(synthetic, privacy, review),
    kinds={"python", "duckdb"},
    owners=["team:clinical-annotation"],
    tags={"zone": "deidentified", "synthetic": "true"},
)
def synthetic_notes(
    context: dg.AssetExecutionContext, config: SyntheticConfig, warehouse: Warehouse, landing_zone: LandingZone
) -> dg.MaterializeResult:
    """Labelled synthetic notes (ICD-10-CM conditions, lexicon drugs with dose/route/frequency, procedures,
    lab values; rare diseases and edge cases) generated from structured facts, conditioned on
    differentially private statistics of the real data, checked by the n-gram privacy guard and reviewed:
    records stay pending until a reviewer's decision file or the named auto-approval rule approves them.
    Every record keeps generator version, seed and review state; only approved ones reach sft_dataset."""
    started = time.perf_counter()
    rule = review.check_rule(config.auto_approve)
    run_id = context.run.run_id
    with warehouse.connect() as con:
        documents = privacy.load_real_documents(con)
        fingerprint = privacy.documents_fingerprint(documents)
        release, reused = None, False
        if config.condition_on_real_data and documents:
            spec = privacy.statistics_spec(synthetic.STATISTIC_BINS)
            noise = privacy.noise_mode(config.dp_seed)
            release = privacy.find_release(con, fingerprint, config.epsilon, spec, noise)
            reused = release is not None
            if release is None:
                features = [(d.patient_key, synthetic.document_features(d.text, d.entities)) for d in documents]
                release = privacy.release_statistics(
                    features, synthetic.STATISTIC_BINS, config.epsilon, fingerprint, config.dp_seed
                )
                privacy.store_release(con, release, run_id)
    profile = (
        synthetic.profile_from_statistics(
            release.statistics,
            source=f"dp:{release.release_id}",
            noise_scales={q["statistic"]: q["laplace_scale"] for q in release.queries},
        )
        if release is not None
        else synthetic.default_profile()
    )
    notes = synthetic.generate_synthetic_notes(config.count, config.seed, profile)
    index = privacy.NgramIndex.build((d.text for d in documents if d.text), n=config.ngram)
    guard = privacy.ngram_guard(notes, index)
    decisions = review.read_review_folder(landing_zone.review_dir or None)
    for error in decisions.errors[:REFUSED_SHOWN]:
        context.log.warning(f"review decision refused: {error}")
    outcomes = review.review_outcomes(
        [n["synthetic_id"] for n in notes],
        {i: g.reason for i, g in guard.items() if not g.passed},
        decisions.decisions,
        rule,
    )
    rows = [
        {
            "synthetic_id": n["synthetic_id"],
            "patient_key": n["patient_key"],
            "note_type": n["note_type"],
            "text": n["text"],
            "entities": n["entities"],
            "generator_version": n["generator_version"],
            "seed": n["seed"],
            "review_status": outcomes[n["synthetic_id"]].status,
            "review_rule": outcomes[n["synthetic_id"]].rule,
            "reviewer": outcomes[n["synthetic_id"]].reviewer,
            "review_reason": outcomes[n["synthetic_id"]].reason,
            "reviewed_at": outcomes[n["synthetic_id"]].decided_at,
            "edge_cases": n["edge_cases"],
            "privacy_longest_run": guard[n["synthetic_id"]].longest_run,
            "profile": n["profile"],
            "run_id": run_id,
        }
        for n in notes
    ]
    current = {r["synthetic_id"] for r in rows}
    with warehouse.connect() as con:
        con.execute("DELETE FROM synthetic_notes")
        insert_rows(con, "synthetic_notes", rows)
        recorded = {
            (r["file_sha256"], r["line"])
            for r in fetch_dicts(con, "SELECT file_sha256, line FROM synthetic_review_decisions")
        }
        new_decisions = [d for d in decisions.all() if (d.file_sha256, d.line) not in recorded]
        insert_rows(
            con,
            "synthetic_review_decisions",
            [
                {
                    "file_sha256": d.file_sha256,
                    "line": d.line,
                    "file": d.file,
                    "synthetic_id": d.synthetic_id,
                    "decision": d.decision,
                    "reviewer": d.reviewer,
                    "reason": d.reason,
                    "decided_at": d.timestamp,
                    "run_id": run_id,
                }
                for d in new_decisions
            ],
        )
    for d in new_decisions:
        warehouse.audit(
            "review_decision",
            {
                "synthetic_id": d.synthetic_id,
                "decision": d.decision,
                "reviewer": d.reviewer,
                "reason": d.reason[:REASON_IN_AUDIT],
                "decided_at": d.timestamp,
                "decision_file": d.file,
                "decision_file_sha256": d.file_sha256,
                "line": d.line,
                "applies_to_current_records": d.synthetic_id in current,
                "run_id": run_id,
            },
        )
    status = Counter(r["review_status"] for r in rows)
    by_rule = Counter(r["review_rule"] or "pending" for r in rows)
    data_version = ids.content_hash([[r["synthetic_id"], r["review_status"]] for r in rows])
    guard_rejected = sum(1 for g in guard.values() if not g.passed)
    longest = max((g.longest_run for g in guard.values()), default=0)
    dp = (
        {
            "release_id": release.release_id,
            "epsilon": release.epsilon,
            "mechanism": release.mechanism,
            "sensitivity_l1": release.sensitivity,
            "privacy_unit": "patient",
            "noise": release.noise,
            "reused": reused,
        }
        if release is not None
        else None
    )
    summary = {
        "generator_version": synthetic.GENERATOR_VERSION,
        "seed": config.seed,
        "count": len(rows),
        "auto_approve": rule,
        "auto_approve_rule": review.AUTO_APPROVAL_RULES[rule],
        "status_counts": dict(sorted(status.items())),
        "rule_counts": dict(sorted(by_rule.items())),
        "privacy_guard": {"ngram": config.ngram, "rejected": guard_rejected, "max_shared_run_tokens": longest},
        "real_texts_indexed": index.texts,
        "real_documents_fingerprint": fingerprint,
        "profile": profile.fingerprint(),
        "profile_source": profile.source,
        "dp": dp,
        "review_files": decisions.files,
        "refused_decision_lines": len(decisions.errors),
    }
    warehouse.register_artifact(
        run_id,
        artifact_id="synthetic_" + data_version[:24],
        kind="synthetic_notes",
        path=None,
        sha256=data_version,
        parents={
            "dp_release": release.release_id if release is not None else None,
            "real_documents": fingerprint,
            "review_files": [f["sha256"] for f in decisions.files],
        },
        details=summary,
        code_version=context.assets_def.code_versions_by_key[context.asset_key],
    )
    warehouse.audit(
        "synthetic_review",
        {
            "artifact_id": "synthetic_" + data_version[:24],
            "auto_approve": rule,
            "status_counts": summary["status_counts"],
            "rule_counts": summary["rule_counts"],
            "privacy_guard_rejected": guard_rejected,
            "epsilon": release.epsilon if release is not None else None,
            "run_id": run_id,
        },
    )
    if status.get("pending"):
        context.log.info(f"{status['pending']} synthetic record(s) pending review: add decision files or a rule")
    by_type = Counter(e["type"] for n in notes for e in n["entities"])
    edge_cases = Counter(c for n in notes for c in n["edge_cases"])
    metadata = {
        "seconds": round(time.perf_counter() - started, 3),
        "notes": len(rows),
        "generator_version": synthetic.GENERATOR_VERSION,
        "seed": config.seed,
        "review_rule": rule,
        "approved": status.get("approved", 0),
        "pending": status.get("pending", 0),
        "rejected": status.get("rejected", 0),
        "review_status": md_table([{"decided by": k, "records": v} for k, v in sorted(by_rule.items())]),
        "privacy_guard_ngram": config.ngram,
        "privacy_guard_rejected": guard_rejected,
        "privacy_max_shared_run_tokens": longest,
        "real_texts_indexed": index.texts,
        "dp_epsilon": release.epsilon if release is not None else 0.0,
        "dp_release": md_table([dp] if dp else []),
        "dp_queries": md_table(release.queries if release is not None else []),
        "profile_source": profile.source,
        "entities_by_type": counts_table(dict(by_type), "entity type", "entities"),
        "edge_cases": counts_table(dict(edge_cases), "edge case", "notes"),
        "edge_case_plot": bar_plot({"notes": {k: float(v) for k, v in edge_cases.items()}}, "Edge cases", "notes"),
        "pending_records": md_table(
            [
                {
                    "synthetic_id": r["synthetic_id"],
                    "note_type": r["note_type"],
                    "edge_cases": ", ".join(r["edge_cases"]),
                }
                for r in rows
                if r["review_status"] == "pending"
            ][:REFUSED_SHOWN]
        ),
        "profile_top_conditions": md_table(_top_conditions(profile)),
        "review_files": md_table(decisions.files),
        "refused_decision_lines": md_table(
            [{"file": e.file, "line": e.line, "reason": e.reason} for e in decisions.errors[:REFUSED_SHOWN]]
        ),
    }
    return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(data_version))


def _top_conditions(profile: synthetic.GeneratorProfile, top: int = 10) -> list[dict]:
    total = sum(profile.condition_weights.values()) or 1.0
    names = {p.icd10: p.name for p in synthetic.CONDITION_PROFILES}
    ranked = sorted(profile.condition_weights.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return [{"icd10": code, "condition": names[code], "share": weight / total} for code, weight in ranked]


@dg.asset_check(
    asset=synthetic_notes,
    description="How many synthetic records are approved, pending review or rejected (WARN while any is "
    "pending); ERROR if an approved record breaks the privacy guard.",
)
def synthetic_review_status(warehouse: Warehouse) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        counts = dict(con.execute("SELECT review_status, count(*) FROM synthetic_notes GROUP BY 1").fetchall())
        breaches = con.execute(
            "SELECT count(*) FROM synthetic_notes WHERE review_status = 'approved' AND privacy_longest_run > 0"
        ).fetchone()[0]
    pending, rejected, approved = (counts.get(k, 0) for k in ("pending", "rejected", "approved"))
    severity = dg.AssetCheckSeverity.ERROR if breaches else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        passed=pending == 0 and breaches == 0,
        severity=severity,
        metadata={
            "approved": approved,
            "pending": pending,
            "rejected": rejected,
            "approved_breaking_privacy_guard": breaches,
        },
    )
