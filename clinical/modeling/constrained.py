"""Constrained decoding: the model can only write schema-valid target JSON.

The grammar is the compact form that clinical.schema.target_json teaches the model:

    {"entities":[]}
    {"entities":[{"type":"T","text":"S"(,"K":V)*}(,{...})*]}

T is one of the four entity types; S is a free string of note text; the optional keys K follow the
canonical order of schema.OPTIONAL_FIELDS, each at most once (`negated` takes true/false, the others a
string). In copy mode S must also be a substring of the note (matched on bytes, case-sensitively),
and, `ordered` (the default), a whole-word span of the note after the previous entity's span: it
starts at a word start (or on the blank just before one), ends at a word end, and begins at or after
the end of the previous entity's text. The targets list entities in note order and cut no word (in
the demo dataset 15 of 4,098 entities overlap the one before, 3 end inside a word), so the reply
reads through the note once. That rules out, by construction, the loops small models fall into
("lesion", "lesion", ...) and the fragments they copy when they run out of entities ("he p", "e."),
so copy decoding needs no repetition penalty (which also penalised the `},{` that opens every further
entity, so lists ended early).

Speed: the vocabulary is decoded to bytes once per tokenizer (TokenTable). Inside a string the
allowed set is a precomputed boolean mask ("safe" tokens: no quote, backslash or control byte) plus a
precomputed mask of tokens that close the string and begin a valid continuation; between strings the
few structural continuations are looked up by prefix in a dict (a few hundred lookups). No step scans
the vocabulary in Python. Copy mode looks up the note's continuations the same way.

The model still chooses: among the allowed tokens the highest-scoring one wins, so the list closes
when the model prefers `}]}` over `},{`. Near the token limit the processor stops opening new
entities and closes the current one, so the output is complete JSON even when the budget runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from transformers import LogitsProcessor

from clinical.schema import ENTITY_TYPES, OPTIONAL_FIELDS

MODES = ("json", "copy")
# Field 0 is "text"; the optional fields follow in canonical order.
FIELDS: tuple[str, ...] = ("text", *OPTIONAL_FIELDS)
BOOLEAN_FIELDS = frozenset(k for k, kind in OPTIONAL_FIELDS.items() if kind is bool)
DONE = ("done", -1)
_UNSAFE = frozenset(range(32)) | {ord('"'), ord("\\")}


def _entity_open(etype: str) -> bytes:
    return b'{"type":"' + etype.encode() + b'","text":"'


def _start_table() -> list[tuple[bytes, tuple[str, int]]]:
    table = [(b'{"entities":[]}', DONE)]
    table += [(b'{"entities":[' + _entity_open(t), ("free", 0)) for t in ENTITY_TYPES]
    return table


def _after_table(index: int) -> list[tuple[bytes, tuple[str, int]]]:
    """Continuations after field FIELDS[index] of an entity is complete."""
    table = [(b"}]}", DONE)]
    table += [(b"}," + _entity_open(t), ("free", 0)) for t in ENTITY_TYPES]
    for j in range(index + 1, len(FIELDS)):
        key = FIELDS[j].encode()
        if FIELDS[j] in BOOLEAN_FIELDS:
            table += [(b',"' + key + b'":' + value, ("after", j)) for value in (b"true", b"false")]
        else:
            table.append((b',"' + key + b'":"', ("free", j)))
    return table


AFTER_TABLES = [_after_table(i) for i in range(len(FIELDS))]
START_TABLE = _start_table()
# Longest structural literal: near the token limit there must be room to finish one and close.
MAX_LITERAL = max(len(c) for table in [START_TABLE, *AFTER_TABLES] for c, _ in table)


def token_bytes(tokenizer) -> list[bytes | None]:
    """The bytes each token id writes (None for special tokens), for byte-level BPE and others."""
    special = set(tokenizer.all_special_ids)
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    decoder = _byte_decoder()
    out: list[bytes | None] = []
    for token_id, piece in enumerate(pieces):
        if token_id in special or piece is None:
            out.append(None)
        elif all(ch in decoder for ch in piece):
            out.append(bytes(decoder[ch] for ch in piece))
        else:  # not byte-level (e.g. sentencepiece): decode the single token
            out.append(tokenizer.decode([token_id]).encode("utf-8"))
    return out


def _byte_decoder() -> dict[str, int]:
    # GPT-2's reversible byte <-> printable-unicode map, used by byte-level BPE vocabularies.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


class TokenTable:
    """Per-tokenizer precomputation shared by all notes: token bytes, the safe-string mask and the
    string-closing masks per field."""

    def __init__(self, tokenizer, vocab_size: int | None = None):
        self.tokens = token_bytes(tokenizer)
        self.vocab_size = max(vocab_size or 0, len(self.tokens))
        self.by_bytes: dict[bytes, list[int]] = {}
        for token_id, piece in enumerate(self.tokens):
            if piece:
                self.by_bytes.setdefault(piece, []).append(token_id)
        self.max_token_len = max((len(p) for p in self.by_bytes), default=1)
        safe = [False] * self.vocab_size
        quoted: list[tuple[int, bytes, bytes]] = []
        for token_id, piece in enumerate(self.tokens):
            if not piece:
                continue
            if not _UNSAFE.intersection(piece):
                safe[token_id] = True
            else:
                head, quote, tail = piece.partition(b'"')
                if quote and not _UNSAFE.intersection(head):
                    quoted.append((token_id, head, tail))
        self.safe = torch.tensor(safe, dtype=torch.bool)
        # Tokens that end a string and begin a valid continuation, keyed by which continuations
        # (those after field i, or only the final `}]}`) and by what the bytes before the quote may
        # be: "any" safe bytes, "nonblank" (the entity text must not stay empty) or "empty" (copy
        # mode, where every text byte comes from the note).
        rules = ("any", "nonblank", "empty")
        self.closers = [{r: self._closer_mask(quoted, AFTER_TABLES[i], r) for r in rules} for i in range(len(FIELDS))]
        self.closers_done = {r: self._closer_mask(quoted, [(b"}]}", DONE)], r) for r in rules}
        # The same without the continuations that open another entity (ordered copy mode, note used up).
        self.closers_no_open = [
            {r: self._closer_mask(quoted, [c for c in AFTER_TABLES[i] if c[1] != ("free", 0)], r) for r in rules}
            for i in range(len(FIELDS))
        ]

    def _closer_mask(self, quoted, table, head_rule: str) -> torch.Tensor:
        mask = [False] * self.vocab_size
        for token_id, head, tail in quoted:
            if (head_rule == "nonblank" and not head.strip()) or (head_rule == "empty" and head):
                continue
            if any(c.startswith(tail) for c, _ in table):
                mask[token_id] = True
        return torch.tensor(mask, dtype=torch.bool)

    def prefix_ids(self, rest: bytes) -> list[int]:
        """Token ids whose bytes are a non-empty prefix of `rest`."""
        ids: list[int] = []
        for k in range(1, min(len(rest), self.max_token_len) + 1):
            ids.extend(self.by_bytes.get(rest[:k], ()))
        return ids


@dataclass
class _RowState:
    mode: str = "struct"  # struct | free | done | broken
    table: list = field(default_factory=lambda: START_TABLE)
    pending: bytes = b""
    field_index: int = 0
    content: bytes = b""
    cursor: int = 0  # ordered copy mode: the next entity's text starts at or after this note byte


class EntityJsonLogitsProcessor(LogitsProcessor):
    """A transformers logits processor (callable on (input_ids, scores)) for the target grammar.

    table: the tokenizer's TokenTable; eos_token_ids: allowed once the JSON is complete (and only
    then); max_new_tokens: the generation budget, used to close the JSON before it runs out;
    mode: "json" (any safe string) or "copy" (entity text copied from `note`); note: the note text,
    or one note per row for a batch (left-padded rows: every row starts generating at the same column);
    ordered: in copy mode, entity texts are whole-word spans in note order, none overlapping the one
    before (module docstring).
    """

    def __init__(
        self,
        table: TokenTable,
        eos_token_ids: Sequence[int],
        max_new_tokens: int,
        mode: str = "json",
        note: str | Sequence[str] | None = None,
        ordered: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"constrained mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "copy" and not note:
            raise ValueError("copy mode needs the note text")
        self.table = table
        self.eos = list(eos_token_ids)
        self.max_new_tokens = max_new_tokens
        self.mode = mode
        self.ordered = ordered and mode == "copy"
        self._spans: dict[bytes, _NoteSpans] = {}
        notes = [note] if isinstance(note, str) or note is None else list(note)
        self.notes = [(n or "").encode("utf-8") for n in notes]
        self.prompt_len: int | None = None
        self.rows: list[_RowState] = []
        self.consumed = 0

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.prompt_len is None:
            self.prompt_len = self.consumed = input_ids.shape[1]
            self.rows = [_RowState() for _ in range(input_ids.shape[0])]
        for position in range(self.consumed, input_ids.shape[1]):
            for row, state in enumerate(self.rows):
                self._advance(state, self.table.tokens[int(input_ids[row, position])] or b"", self._note(row))
        self.consumed = input_ids.shape[1]
        left = self.max_new_tokens - (input_ids.shape[1] - self.prompt_len)
        allowed = torch.zeros_like(scores, dtype=torch.bool)
        for row, state in enumerate(self.rows):
            mask = self._allowed(state, left, self._note(row))
            if mask is None:
                allowed[row] = True
            else:
                allowed[row, : mask.shape[0]] = mask[: scores.shape[1]].to(scores.device)
        return scores.masked_fill(~allowed, float("-inf"))

    def _note(self, row: int) -> bytes:
        return self.notes[row] if len(self.notes) > 1 else self.notes[0]

    # state machine ------------------------------------------------------------------------------
    def _advance(self, state: _RowState, piece: bytes, note: bytes = b"") -> None:
        if state.mode == "free":
            head, quote, tail = piece.partition(b'"')
            state.content += head
            if not quote:
                return
            if self.ordered and state.field_index == 0:
                # The entity's text is done: the next one starts at or after where this one ends.
                state.cursor = self._spans_of(note).cursor_after(state.content, state.cursor)
            state.mode, state.table, state.pending = "struct", AFTER_TABLES[state.field_index], b""
            piece = tail
        if state.mode != "struct":
            if state.mode == "done" and piece:
                state.mode = "broken"  # only EOS is allowed after the JSON; anything else stops constraining
            return
        pending = state.pending + piece
        # A token may complete a literal and run on into the next part (checked first), or stop inside one.
        matches = [(c, nxt) for c, nxt in state.table if pending.startswith(c)]
        matches += [(c, nxt) for c, nxt in state.table if c.startswith(pending) and c != pending]
        if not matches:
            state.mode = "broken"
            return
        literal, (kind, index) = matches[0]
        if len(pending) < len(literal):
            state.pending = pending
            return
        rest = pending[len(literal) :]
        if kind == "done":
            state.mode = "done" if not rest else "broken"
        elif kind == "after":
            state.table, state.pending, state.field_index = AFTER_TABLES[index], b"", index
            if rest:
                self._advance(state, rest, note)
        else:
            state.mode, state.field_index, state.content, state.pending = "free", index, b"", b""
            if rest:
                self._advance(state, rest, note)

    def _allowed(self, state: _RowState, left: int, note: bytes) -> torch.Tensor | None:
        t = self.table
        if state.mode == "broken":
            return None
        mask = torch.zeros(t.vocab_size, dtype=torch.bool)
        if state.mode == "done":
            mask[self.eos] = True
            return mask
        closing = left <= MAX_LITERAL + 6
        if state.mode == "free":
            copy = self.mode == "copy" and state.field_index == 0
            blank = not state.content.strip()
            if left <= 5:  # close now: `"` then `}]}` fit in the budget that is left
                return t.closers_done["empty" if copy else "any"].clone()
            rule = "empty" if copy else ("nonblank" if blank and state.field_index == 0 else "any")
            closers = t.closers_done[rule] if closing else t.closers[state.field_index][rule]
            spans = self._spans_of(note) if self.ordered else None
            # Where the entity text being copied can sit in the note (computed once per step).
            found = spans.occurrences(state.content, state.cursor) if spans and copy else []
            if spans and not closing:
                cursor = spans.cursor_after(state.content, state.cursor, found) if copy else state.cursor
                if not spans.has_start(cursor):  # no note text left for another entity
                    closers = t.closers_no_open[state.field_index][rule]
            if copy:
                if spans:
                    ids, can_close = spans.extensions(state.content, found, t)
                else:
                    ids, can_close = self._copy_ids(state.content, note), True
                mask[ids] = True
                if not blank and (can_close or not ids):
                    mask |= closers
                return mask
            return t.safe | closers
        options = [(c, nxt) for c, nxt in state.table if c.startswith(state.pending)]
        if self.ordered and not self._spans_of(note).has_start(state.cursor):
            options = [(c, nxt) for c, nxt in options if nxt != ("free", 0)]  # no note text left to copy
        if closing:
            finishing = [(c, nxt) for c, nxt in options if nxt == DONE]
            options = finishing or options
        for literal, _ in options:
            mask[t.prefix_ids(literal[len(state.pending) :])] = True
        return mask

    def _spans_of(self, note: bytes) -> _NoteSpans:
        if note not in self._spans:
            self._spans[note] = _NoteSpans(note)
        return self._spans[note]

    def _copy_ids(self, content: bytes, note: bytes) -> list[int]:
        """Tokens that extend `content` to a longer substring of the note (no quote/backslash/control)."""
        ids: set[int] = set()
        t = self.table
        start = note.find(content)
        while start >= 0:
            ids.update(_continuation_ids(t, note, start + len(content)))
            start = note.find(content, start + 1)
        return sorted(ids)


def _continuation_ids(table: TokenTable, note: bytes, end: int) -> list[int]:
    """Tokens that write the note's next bytes from byte `end` on, up to a quote/backslash/control byte."""
    rest = note[end : end + table.max_token_len]
    cut = next((i for i, b in enumerate(rest) if b in _UNSAFE), len(rest))
    return table.prefix_ids(rest[:cut])


def _is_word(byte: int) -> bool:
    return byte >= 0x80 or chr(byte).isalnum()


class _NoteSpans:
    """Where whole-word entity texts may start and end in one note (bytes), for ordered copy mode.

    A text may start at a word start or on one blank (space or tab) right before one (byte-level BPE
    tokens carry their leading space), and may end where no word continues (the next byte, if any, is
    not a letter or digit, or the text's last byte is not one).
    """

    def __init__(self, note: bytes):
        self.note = note
        n = len(note)
        word = [_is_word(b) for b in note]
        word_start = [word[p] and (p == 0 or not word[p - 1]) for p in range(n)]
        self.start_ok = [word_start[p] or (note[p] in b" \t" and p + 1 < n and word_start[p + 1]) for p in range(n)]
        self.end_ok = [e == n or e == 0 or not (word[e - 1] and word[e]) for e in range(n + 1)]
        # next_start[p]: the first allowed start at or after p (n when none).
        self.next_start = [n] * (n + 1)
        for p in range(n - 1, -1, -1):
            self.next_start[p] = p if self.start_ok[p] else self.next_start[p + 1]

    def has_start(self, cursor: int) -> bool:
        return cursor < len(self.note) and self.next_start[cursor] < len(self.note)

    def occurrences(self, content: bytes, cursor: int) -> list[int]:
        """Allowed starts at or after `cursor` where the note continues with `content`."""
        out: list[int] = []
        n = len(self.note)
        p = self.next_start[min(cursor, n)]
        if not content:
            while p < n:
                out.append(p)
                p = self.next_start[p + 1]
            return out
        p = self.note.find(content, cursor)
        while p >= 0:
            if self.start_ok[p]:
                out.append(p)
            p = self.note.find(content, p + 1)
        return out

    def cursor_after(self, content: bytes, cursor: int, found: list[int] | None = None) -> int:
        """Where the next entity may start once `content` is an entity's whole text: the end of its
        first occurrence that ends at a word end (else its first occurrence; else `cursor`).
        found: occurrences(content, cursor), when the caller has them already."""
        found = self.occurrences(content, cursor) if found is None else found
        ends = [p + len(content) for p in found if self.end_ok[p + len(content)]]
        return (ends or [p + len(content) for p in found] or [cursor])[0]

    def extensions(self, content: bytes, found: list[int], table: TokenTable) -> tuple[list[int], bool]:
        """(tokens that extend `content` along one of its occurrences `found`, whether `content` may end
        here)."""
        ids: set[int] = set()
        can_close = False
        for p in found:
            end = p + len(content)
            can_close = can_close or self.end_ok[end]
            ids.update(_continuation_ids(table, self.note, end))
        return sorted(ids), can_close
