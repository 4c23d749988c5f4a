"""Assembling training examples from the three labelled sources.

- de-identified notes with clinician labels (the labels were made on the raw note, so each entity is
  found again in the de-identified text; an entity the de-identification removed is counted as lost),
- annotated corpora (brat documents, Label Studio tasks), chunked to a length the model can take,
- approved synthetic notes.

A row marked `golden` (a clinician golden set, see docs/DATA.md) makes golden examples, which
sft.build_sft_dataset holds out of training; every example keeps the note's `note_type`.

Every example keeps `parents`: the ids of the records it came from (note ids, annotation ids,
synthetic ids), which is how an adapter's lineage reaches single source rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from clinical import sft


def relocate_entities(text: str, entities: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Find each entity's text in `text` (in order, case-sensitive) and set its offsets.

    Returns (entities found with new start/end, number not found).
    """
    found, lost, cursor = [], 0, 0
    for entity in sorted(entities, key=lambda e: e.get("start", 0)):
        position = text.find(entity["text"], cursor)
        if position < 0:
            position = text.find(entity["text"])
        if position < 0:
            lost += 1
            continue
        found.append({**entity, "start": position, "end": position + len(entity["text"])})
        cursor = position + len(entity["text"])
    found.sort(key=lambda e: (e["start"], e["end"]))
    return found, lost


def examples_from_document(
    text: str,
    entities: list[dict[str, Any]],
    source: str,
    patient_key: str,
    parents: list[str],
    max_chars: int,
    note_type: str | None = None,
    golden: bool = False,
) -> list[dict[str, Any]]:
    """One SFT example per chunk of the document."""
    out = []
    for chunk_text, chunk_entities, _span in sft.chunk_document(text, entities, max_chars=max_chars):
        if chunk_text.strip():
            out.append(sft.make_example(chunk_text, chunk_entities, source, patient_key, parents, note_type, golden))
    return out


def assemble_examples(
    labelled_notes: list[dict[str, Any]],
    corpus_documents: list[dict[str, Any]],
    synthetic_notes: list[dict[str, Any]],
    max_chars: int = 400,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """All examples before splitting, plus counts of what was used and lost.

    Args:
        labelled_notes: `{"note_id", "annotation_id", "patient_key", "text" (de-identified), "entities"}`.
        corpus_documents: `{"annotation_id", "patient_key", "text", "entities"}` (brat documents,
            Label Studio tasks).
        synthetic_notes: `{"synthetic_id", "patient_key", "text", "entities"}` (approved only).
        max_chars: longest chunk of text per example.
    Each row may also carry `note_type` and `golden` (labelled notes and corpus documents).
    """
    examples: list[dict[str, Any]] = []
    stats = {
        "labelled_notes": 0,
        "entities_lost_to_deidentification": 0,
        "corpus_documents": 0,
        "golden_documents": 0,
        "synthetic": 0,
    }
    for note in labelled_notes:
        entities, lost = relocate_entities(note["text"], note["entities"])
        stats["entities_lost_to_deidentification"] += lost
        stats["labelled_notes"] += 1
        examples += examples_from_document(
            note["text"],
            entities,
            "deid_note",
            note["patient_key"],
            [note["note_id"], note["annotation_id"]],
            max_chars,
            note.get("note_type"),
            bool(note.get("golden")),
        )
        stats["golden_documents"] += bool(note.get("golden"))
    for doc in corpus_documents:
        stats["corpus_documents"] += 1
        stats["golden_documents"] += bool(doc.get("golden"))
        examples += examples_from_document(
            doc["text"],
            doc["entities"],
            "annotation",
            doc["patient_key"],
            [doc["annotation_id"]],
            max_chars,
            doc.get("note_type"),
            bool(doc.get("golden")),
        )
    for note in synthetic_notes:
        stats["synthetic"] += 1
        examples += examples_from_document(
            note["text"],
            note["entities"],
            "synthetic",
            note["patient_key"],
            [note["synthetic_id"]],
            max_chars,
            note.get("note_type"),
        )
    return examples, stats


def cached_tokenizer_dir(spec: str, cache_dir: str | Path) -> Path | None:
    """Where the base model's tokenizer already is on disk, without building or converting anything.

    spec: the base-model spec (a local model directory, or smollm2-135m-instruct / tiny-random, which
    share the SmolLM2 tokenizer and keep it in the registry's cache once base_model has run).
    None when it is not there yet: the dataset card then uses the documented approximation.
    """
    from clinical.modeling.base_model import SMOLLM2_SPEC, TINY_RANDOM_SPEC, TOKENIZER_DIRNAME

    local = Path(spec).expanduser()
    candidates = [local] if spec.strip() and local.is_dir() else []
    if spec in (SMOLLM2_SPEC, TINY_RANDOM_SPEC):
        cache = Path(cache_dir)
        candidates += [cache / spec, cache / TOKENIZER_DIRNAME, cache / SMOLLM2_SPEC, cache / TINY_RANDOM_SPEC]
    return next((c for c in candidates if (c / "tokenizer_config.json").is_file()), None)


def model_token_counter(model_dir: str | Path) -> Callable[[str], int]:
    """Count tokens with the tokenizer saved in `model_dir` (no special tokens, no chat template)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    return count
