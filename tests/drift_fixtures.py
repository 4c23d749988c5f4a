"""Synthetic word-salad notes for the drift tests: a clinical vocabulary and an unrelated one."""

from __future__ import annotations

import random

CLINICAL_WORDS = (
    "patient presented with fever cough and dyspnea the chest radiograph showed bilateral infiltrates "
    "laboratory tests revealed leukocytosis and elevated crp she was treated with ceftriaxone and "
    "azithromycin blood cultures were negative the biopsy confirmed adenocarcinoma of the colon"
).split()
OTHER_WORDS = (
    "the quarterly revenue of the company grew while investors bought shares in the new fund and the "
    "board approved a dividend for stock holders after the merger with a software startup"
).split()


def fake_notes(words: list[str], n: int, seed: int, length: tuple[int, int] = (40, 80)) -> list[str]:
    """`n` notes of `length` words drawn from `words`, reproducible by `seed`."""
    rng = random.Random(seed)
    return [" ".join(rng.choices(words, k=rng.randint(*length))) for _ in range(n)]


def register_served_model(
    con, name: str, predicted_per_note: dict[str, float] | None, deployed: bool = True, extra_evaluation: bool = False
) -> tuple[str, str]:
    """Lineage of one served model in a warehouse: adapter -> merged model -> Bento -> evaluation (with the
    tuned model's `predicted_per_note` on the test split, or without it, as evaluations before it had)
    -> deployment. Returns (model tag, Bento tag), what the service writes as model_version and release."""
    from clinical import lineage

    model_tag, bento_tag = f"clinical-extractor:{name}", f"clinical_extraction:{name}"

    def record(artifact_id, kind, parents, details):
        lineage.record_artifact(
            con, artifact_id=artifact_id, kind=kind, path=None, sha256=None, parents=parents, details=details,
            code_version="test", run_id="run",
        )  # fmt: skip

    def evaluation(artifact_id, rates):
        tuned = {"micro_f1": 0.5, **({"predicted_per_note": rates} if rates is not None else {})}
        models = {"tuned": tuned, "dictionary": {"micro_f1": 0.4}}
        record(
            artifact_id,
            "evaluation",
            {"adapter": f"adapter_{name}"},
            {"splits": {"test": {"documents": 30, "models": models}}},
        )

    record(f"adapter_{name}", "lora_adapter", {"dataset_version": "d"}, {})
    record(f"merged_{name}", "merged_model", {"adapter": f"adapter_{name}"}, {})
    record(
        f"bento_{bento_tag}", "bento", {"merged_model": f"merged_{name}"}, {"tag": bento_tag, "model_tag": model_tag}
    )
    evaluation(f"eval_{name}", predicted_per_note)
    if extra_evaluation:  # a later evaluation of the same adapter that the deployment does not name
        evaluation(f"eval_{name}_later", {"condition": 1.0, "medication": 1.0, "lab_value": 1.0, "procedure": 1.0})
    if deployed:
        record(f"deployment_{name}", "deployment",
               {"bento": f"bento_{bento_tag}", "adapter": f"adapter_{name}", "evaluation": f"eval_{name}"},
               {"bento_tag": bento_tag})  # fmt: skip
    return model_tag, bento_tag
