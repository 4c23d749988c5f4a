"""The `deployment` step: a signed release manifest for the latest Bento, and the promotion policy.

Signing key (ed25519 private key PEM, mode 0600):
- `CLINICAL_RELEASE_SIGNING_KEY` names it (a mounted secret file); required when CLINICAL_ENV=production.
- Elsewhere (the embedded demo, staging without a configured key) a key pair is generated once under
  `$CLINICAL_HOME/keys/` (private key 0600, folder 0700) and reused; its public key is recorded in
  lineage (artifact kind `release_signing_key`) so a reviewer can tell which key signed what.

Public key that `clinical serve` and `clinical release promote/rollback` verify with: `--public-key`,
else `CLINICAL_RELEASE_PUBLIC_KEY`, else (never in production) `$CLINICAL_HOME/keys/release_signing.pub`.

Promotion policy (`promotion_decision`): the deployment asset makes the new release active itself
only outside production and only when the promotion gate recorded in lineage passed. In production a
person promotes the signed manifest with `clinical release promote <manifest>` (the air-gapped path:
the manifest file is what travels to the serving hosts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clinical.serving import release
from clinical.settings import Settings

DEV_KEYS_DIRNAME = "keys"
NO_MODEL_CARD_NOTE = "no model_card artifact in lineage: the manifest's model_card_sha256 is null"


@dataclass(frozen=True)
class SigningKey:
    """The private key that signs releases, where its public half is, and whether it was just made."""

    private_key: Ed25519PrivateKey
    private_path: Path
    public_path: Path | None
    fingerprint: str
    source: str
    generated: bool

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey(fingerprint={self.fingerprint[:16]}..., source={self.source!r})"


def dev_keys_dir(settings: Settings) -> Path:
    return settings.home / DEV_KEYS_DIRNAME


def resolve_signing_key(
    signing_key: str | Path | None, public_key: str | Path | None, environment: str, keys_dir: str | Path
) -> SigningKey:
    """The release signing key as the module docstring says; ReleaseError naming the variable otherwise.

    signing_key: CLINICAL_RELEASE_SIGNING_KEY (None when unset).
    public_key: CLINICAL_RELEASE_PUBLIC_KEY (None when unset); must be the signing key's half when set.
    environment: CLINICAL_ENV; "production" never generates a key.
    keys_dir: where the development key pair lives (made once, private key 0600).
    """
    if signing_key is not None:
        key = release.load_private_key(signing_key)
        public = Path(public_key) if public_key is not None else None
        if public is not None:
            configured = release.public_key_fingerprint(release.load_public_key(public))
            if configured != release.public_key_fingerprint(key.public_key()):
                raise release.ReleaseError(
                    "CLINICAL_RELEASE_SIGNING_KEY and CLINICAL_RELEASE_PUBLIC_KEY are not one key pair"
                )
        return SigningKey(
            key,
            Path(signing_key),
            public,
            release.public_key_fingerprint(key.public_key()),
            "CLINICAL_RELEASE_SIGNING_KEY",
            False,
        )
    if environment == "production":
        raise release.ReleaseError(
            "CLINICAL_ENV=production needs CLINICAL_RELEASE_SIGNING_KEY (a 0600 ed25519 PEM file, "
            "`clinical release keygen --out DIR`); no key is generated in production"
        )
    folder = Path(keys_dir)
    private_path, public_path = folder / release.PRIVATE_KEY_NAME, folder / release.PUBLIC_KEY_NAME
    generated = False
    if not private_path.exists():
        private_path, public_path = release.generate_keypair(folder)
        generated = True
    key = release.load_private_key(private_path)
    return SigningKey(
        key,
        private_path,
        public_path,
        release.public_key_fingerprint(key.public_key()),
        f"development key under {folder}",
        generated,
    )


def training_privacy(con: Any, adapter_id: str) -> dict[str, Any]:
    """Whether the adapter's training data came from de-identified notes, and under which policies."""
    from clinical import lineage

    try:
        policies = lineage.trace(con, adapter_id).get("deidentification_policies") or []
    except LookupError:
        policies = []
    fingerprints = sorted({str(p.get("policy_fingerprint")) for p in policies if p.get("policy_fingerprint")})
    return {"trained_on_deidentified": bool(fingerprints), "deid_policies": fingerprints}


def default_public_key_path(settings: Settings) -> Path | None:
    """CLINICAL_RELEASE_PUBLIC_KEY, else (outside production) the development key's public half if it exists."""
    if settings.release_public_key is not None:
        return settings.release_public_key
    if settings.environment == "production":
        return None
    candidate = dev_keys_dir(settings) / release.PUBLIC_KEY_NAME
    return candidate if candidate.is_file() else None


def _number(value: Any) -> float | int | bool | None:
    return value if isinstance(value, bool | int | float) else None


def _dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def gate_decision(decision_details: dict[str, Any] | None) -> dict[str, Any] | None:
    """The compact promotion-gate decision from a `promotion_decision` artifact's details, if any."""
    if not isinstance(decision_details, dict) or "passed" not in decision_details:
        return None
    return {
        "passed": bool(decision_details["passed"]),
        **{k: decision_details[k] for k in ("split", "label") if isinstance(decision_details.get(k), str)},
        **(
            {"profile": decision_details["thresholds"]["profile"]}
            if isinstance(_dig(decision_details, "thresholds", "profile"), str)
            else {}
        ),
    }


_MODEL_SCORES = {
    "micro_f1_relaxed": ("micro_f1",),
    "micro_f1_exact": ("exact_micro_f1",),
    "json_validity": ("json_validity",),
    "hallucination_rate": ("hallucination_rate",),
}


def evaluation_summary(evaluation: dict[str, Any] | None, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scores the release rests on (numbers and ids only, never text).

    evaluation: the `evaluation` artifact (details: `splits.<split>.models.<model>.{micro_f1, ...}`).
    decision: the `promotion_decision` artifact of that evaluation, or None.
    """
    if evaluation is None:
        return {"evaluated": False}
    details = evaluation.get("details") or {}
    summary: dict[str, Any] = {"evaluated": True, "evaluation_id": evaluation["artifact_id"]}
    if isinstance(details.get("dataset_version"), str):
        summary["dataset_version"] = details["dataset_version"]
    splits: dict[str, Any] = {}
    for split, result in (details.get("splits") or {}).items():
        if not isinstance(result, dict):
            continue
        models = {}
        for name, scores in (result.get("models") or {}).items():
            picked = {key: _number(_dig(scores, *path)) for key, path in _MODEL_SCORES.items()}
            picked = {k: v for k, v in picked.items() if v is not None}
            if picked:
                models[str(name)] = picked
        splits[str(split)] = {"documents": _number(result.get("documents")), "models": models}
    if splits:
        summary["splits"] = splits
    gate = gate_decision((decision or {}).get("details"))
    if gate is not None:
        summary["gate"] = {**gate, "decision_id": decision["artifact_id"]}
    return summary


@dataclass(frozen=True)
class PromotionDecision:
    """promote: whether the deployment asset makes the release active; reason: one line why (not)."""

    promote: bool
    reason: str


def promotion_decision(environment: str, gate: dict[str, Any] | None, auto_promote: bool = True) -> PromotionDecision:
    """Auto-promote outside production when the gate passed; production always waits for a person."""
    if environment == "production":
        return PromotionDecision(False, "production: promote with `clinical release promote <manifest>`")
    if not auto_promote:
        return PromotionDecision(False, "auto-promotion disabled in the deployment config")
    if gate is None:
        return PromotionDecision(False, "no promotion gate decision recorded with the evaluation: not promoted")
    if not gate["passed"]:
        return PromotionDecision(False, "the promotion gate did not pass: not promoted")
    return PromotionDecision(True, f"{environment}: the promotion gate passed, promoted automatically")


def write_signed_manifest(signed: dict[str, Any], out_dir: str | Path) -> Path:
    """Write a signed manifest as `<out_dir>/<manifest sha256>.json` (the file `release promote` takes)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{release.manifest_sha256(signed['manifest'])}.json"
    path.write_text(json.dumps(signed, indent=2, sort_keys=True) + "\n")
    return path
