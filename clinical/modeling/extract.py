"""Entity extraction with a base, merged or adapter model: prompt, greedy decoding, parsing.

extractor = Extractor.load("adapters/run1")
result = extractor.extract(note_text)   # ExtractionResult(entities, valid_json, raw_output, latency_s)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from clinical.ids import sha256_file
from clinical.modeling.base_model import weights_sha256
from clinical.parsing import parse_model_output
from clinical.schema import SchemaError, chat_messages

# Small models fall into "lesion", "lesion", ... loops under plain greedy decoding (see
# ENVIRONMENT.md, LoRA probe); 1.15 broke those loops without hurting the JSON syntax.
REPETITION_PENALTY = 1.15
# Ordered copy decoding (clinical.modeling.constrained) cannot loop, so it runs without a penalty: the
# penalty also hit every token the note and the earlier entities had used (the `},{"type":"` that opens
# the next entity among them), so adapters stopped after two or three entities (docs/EVALUATION.md).
COPY_REPETITION_PENALTY = 1.0


def repetition_penalty(constrained: str | None) -> float:
    """The repetition penalty of a decoding mode: none for copy decoding, REPETITION_PENALTY otherwise."""
    return COPY_REPETITION_PENALTY if constrained == "copy" else REPETITION_PENALTY


CONSTRAINT_MODES = ("json", "copy")
# Every generate() path (extract(), the service's batched one, evaluation) decodes the same way:
# schema-valid JSON whose entity texts are copied from the note. None = plain greedy decoding.
DEFAULT_CONSTRAINT: str | None = "copy"
DEFAULT_MAX_BATCH_TOKENS = 8192
"""Prompt tokens in one batched generate() call (padded length x rows): bounds the KV cache of a batch."""


def decoding_name(constrained: str | None) -> str:
    """model_info["decoding"]: "greedy" or "greedy+constrained-json" / "greedy+constrained-copy"."""
    return f"greedy+constrained-{constrained}" if constrained else "greedy"


@dataclass
class ExtractionResult:
    """entities: schema-valid entities; valid_json: the reply was complete target JSON;
    raw_output: the generated reply (contains note-derived text: do not log it);
    latency_s: wall time of prompt + generation + parsing; salvaged: entities recovered from
    invalid JSON; output_tokens: generated tokens; prompt_tokens: tokens of the prompt (few-shot
    examples included)."""

    entities: list[dict[str, Any]]
    valid_json: bool
    raw_output: str
    latency_s: float
    salvaged: int = 0
    output_tokens: int = 0
    prompt_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prompt_messages(text: str, examples: Sequence[dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """The chat prompt for one note: system prompt, then each few-shot example as a user turn (its
    text) and an assistant turn (its entities as the compact target JSON), then the note.

    examples: `{"text": str, "entities": list}` dicts; raises ValueError naming the example index if
        one is malformed (the message never contains the example's text).
    """
    if not examples:
        return chat_messages(text)
    shots: list[dict[str, str]] = []
    for i, example in enumerate(examples):
        if not isinstance(example, dict) or not isinstance(example.get("text"), str) or not example["text"].strip():
            raise ValueError(f"few-shot example {i}: needs a non-empty string 'text'")
        if not isinstance(example.get("entities"), list):
            raise ValueError(f"few-shot example {i}: 'entities' must be a list")
        try:
            shot = chat_messages(example["text"], example["entities"])
        except SchemaError as exc:
            raise ValueError(f"few-shot example {i}: {exc}") from None
        shots.extend(shot[1:])
    messages = chat_messages(text)
    return [messages[0], *shots, *messages[1:]]


class Extractor:
    """A loaded model ready to extract entities; one generate() at a time (guarded by a lock)."""

    def __init__(
        self,
        model,
        tokenizer,
        max_new_tokens: int,
        device: str,
        model_info: dict[str, Any],
        constrained: str | None = DEFAULT_CONSTRAINT,
    ):
        """Use Extractor.load; model and tokenizer are a loaded transformers model and tokenizer;
        constrained: see load."""
        if constrained not in (None, *CONSTRAINT_MODES):
            raise ValueError(f"constrained must be None or one of {', '.join(CONSTRAINT_MODES)}, got {constrained!r}")
        self.constrained = constrained
        self._token_table = None
        self.model = model
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.repetition_penalty = repetition_penalty(constrained)
        self.model_info = {
            **model_info,
            "decoding": decoding_name(constrained),
            "repetition_penalty": self.repetition_penalty,
        }
        self._lock = threading.Lock()
        eos = {tokenizer.eos_token_id}
        configured = getattr(model.generation_config, "eos_token_id", None)
        eos.update(configured if isinstance(configured, list) else [configured])
        self._eos_token_ids = sorted(t for t in eos if t is not None)
        self._pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self._eos_token_ids)

    @classmethod
    def load(
        cls,
        ref: str | Path,
        max_new_tokens: int = 256,
        device: str | None = None,
        constrained: str | None = DEFAULT_CONSTRAINT,
    ) -> Extractor:
        """Load a model for extraction.

        ref: a model directory (config.json: base or merged weights) or a peft adapter directory
            (adapter_config.json; its base is loaded from base_model_name_or_path and the adapter is
            merged in memory for faster decoding).
        max_new_tokens: generation limit per note.
        device: "cuda", "cpu", ...; default CUDA (bf16 where supported) if available, else CPU fp32.
        constrained: "json" = the output is schema-valid JSON by construction (clinical.modeling.constrained),
            "copy" = the same with entity text restricted to substrings of the note, None = free greedy
            decoding (to measure raw validity). model_info["decoding"] records which mode ran.
        """
        from transformers import AutoModelForCausalLM, AutoTokenizer

        ref = Path(ref).resolve()
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        use_bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if use_bf16 else torch.float32

        if (ref / "adapter_config.json").is_file():
            from peft import PeftModel

            base_path = Path(json.loads((ref / "adapter_config.json").read_text())["base_model_name_or_path"])
            base = AutoModelForCausalLM.from_pretrained(base_path, dtype=dtype)
            model = PeftModel.from_pretrained(base, ref).merge_and_unload()
            tokenizer_dir = ref if (ref / "tokenizer_config.json").is_file() else base_path
            info = {
                "kind": "adapter",
                "adapter_sha256": sha256_file(ref / "adapter_model.safetensors"),
                "base_model_path": str(base_path),
                "base_sha256": weights_sha256(base_path),
            }
        elif (ref / "config.json").is_file():
            model = AutoModelForCausalLM.from_pretrained(ref, dtype=dtype)
            tokenizer_dir = ref
            merge_info = ref / "merge_info.json"
            info = {"kind": "merged" if merge_info.is_file() else "model", "weights_sha256": weights_sha256(ref)}
            if merge_info.is_file():
                info["base_sha256"] = json.loads(merge_info.read_text()).get("base_sha256")
            else:
                info["base_sha256"] = info["weights_sha256"]
        else:
            raise FileNotFoundError(f"{ref} has neither adapter_config.json nor config.json")

        tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
        model.to(device).eval()
        model_info = {
            "ref": str(ref),
            **info,
            "device": device,
            "dtype": str(dtype).removeprefix("torch."),
            "max_new_tokens": max_new_tokens,
        }
        return cls(model, tokenizer, max_new_tokens, device, model_info, constrained=constrained)

    def extract(self, text: str, examples: Sequence[dict[str, Any]] | None = None) -> ExtractionResult:
        """Entities of one note; text is the (de-identified) note.

        examples: optional few-shot demonstrations, each `{"text": str, "entities": list}`; they are
            placed after the system prompt as alternating user/assistant turns (see prompt_messages).
        """
        start = time.perf_counter()
        prompt = self.prompt_ids(text, examples)
        input_ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=torch.ones_like(input_ids),
                generation_config=self._generation_config(),
                logits_processor=self.logits_processor([text]),
            )
        new_tokens = output[0, len(prompt) :].tolist()
        return self._result(new_tokens, time.perf_counter() - start, len(prompt))

    def _generation_config(self):
        """Greedy decoding with the repetition penalty and this model's eos/pad ids (every generate() path)."""
        from transformers import GenerationConfig

        return GenerationConfig(
            do_sample=False,
            max_new_tokens=self.max_new_tokens,
            repetition_penalty=self.repetition_penalty,
            eos_token_id=self._eos_token_ids,
            pad_token_id=self._pad_token_id,
        )

    def _result(self, new_tokens: list[int], latency_s: float, prompt_tokens: int) -> ExtractionResult:
        """Decode and parse the generated ids of one note."""
        raw = self.tokenizer.decode(new_tokens, skip_special_tokens=True)
        parsed = parse_model_output(raw)
        return ExtractionResult(
            entities=parsed.entities,
            valid_json=parsed.valid_json,
            raw_output=raw,
            latency_s=latency_s,
            salvaged=parsed.salvaged,
            output_tokens=len(new_tokens),
            prompt_tokens=prompt_tokens,
        )

    def logits_processor(self, texts: Sequence[str]):
        """The LogitsProcessorList for one generate() over `texts` (one row each, left-padded when
        several): the constrained-decoding processor, or an empty list when unconstrained. Batched
        callers (clinical.serving.batching) pass it to generate() so they decode as extract() does."""
        from transformers import LogitsProcessorList

        from clinical.modeling.constrained import EntityJsonLogitsProcessor

        processors = LogitsProcessorList()
        if self.constrained:
            processors.append(
                EntityJsonLogitsProcessor(
                    self._table(), self._eos_token_ids, self.max_new_tokens, mode=self.constrained, note=list(texts)
                )
            )
        return processors

    def _table(self):
        """The tokenizer's precomputed token masks for constrained decoding (built on first use)."""
        if self._token_table is None:
            from clinical.modeling.constrained import TokenTable

            vocab = self.model.get_output_embeddings().weight.shape[0]
            self._token_table = TokenTable(self.tokenizer, vocab_size=vocab)
        return self._token_table

    def prompt_ids(self, text: str, examples: Sequence[dict[str, Any]] | None = None) -> list[int]:
        """Token ids of the chat prompt for one note (see prompt_messages), generation prompt included."""
        return self.tokenizer.apply_chat_template(
            prompt_messages(text, examples), add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]

    def extract_many(
        self,
        texts: Sequence[str],
        examples: Sequence[dict[str, Any]] | None = None,
        max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS,
    ) -> list[ExtractionResult]:
        """Entities of each note, in input order, with as few generate() calls as the token budget allows.

        Notes are sorted by prompt length and left-padded into one greedy generate() per group, so that
        padded length x rows stays within `max_batch_tokens`; greedy decoding of a left-padded batch
        gives the same tokens as one note at a time (tested). One note (or a group of one) goes through
        `extract` unchanged. The same few-shot `examples` (see extract) precede every note.
        latency_s of a batched result is the wall time of its whole generate() call (what a caller
        waits); the amortized cost per note is the total time over the number of notes.
        """
        texts = list(texts)
        if len(texts) <= 1:
            return [self.extract(text, examples) for text in texts]
        prompts = [self.prompt_ids(text, examples) for text in texts]
        order = sorted(range(len(texts)), key=lambda i: (len(prompts[i]), i))
        groups: list[list[int]] = []
        for index in order:
            if groups and len(prompts[index]) * (len(groups[-1]) + 1) <= max_batch_tokens:
                groups[-1].append(index)  # sorted, so the new prompt is the longest of its group
            else:
                groups.append([index])
        results: list[ExtractionResult | None] = [None] * len(texts)
        for group in groups:
            if len(group) == 1:
                results[group[0]] = self.extract(texts[group[0]], examples)
                continue
            batch = self._generate_padded([prompts[i] for i in group], [texts[i] for i in group])
            for index, result in zip(group, batch, strict=True):
                results[index] = result
        return [r for r in results if r is not None]

    def _generate_padded(self, prompts: list[list[int]], texts: list[str]) -> list[ExtractionResult]:
        """One greedy generate() over left-padded prompts; the results in the same order."""
        start = time.perf_counter()
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self._pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        with self._lock, torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                generation_config=self._generation_config(),
                logits_processor=self.logits_processor(texts),
            )
        elapsed = time.perf_counter() - start
        eos = set(self._eos_token_ids)
        results = []
        for row, ids in enumerate(prompts):
            new = output[row, width:].tolist()
            # Rows that finished early are padded (with pad or eos ids) up to the longest row.
            for cut, token in enumerate(new):
                if token in eos:
                    new = new[: cut + 1]
                    break
            results.append(self._result(new, elapsed, len(ids)))
        return results
