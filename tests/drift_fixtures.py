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
