"""Micro-batching of concurrent requests and batched generation on the tiny model."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from modeling_fixtures import NOTES, tiny_base  # noqa: F401 - session fixture

from clinical.serving.batching import MicroBatcher, extract_batch


def test_concurrent_items_share_batches_and_keep_their_order():
    gate = threading.Event()
    calls: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        calls.append(list(items))
        gate.wait(5)  # the first batch blocks until every other item is queued
        return [i * 10 for i in items]

    batcher = MicroBatcher(run, max_batch_size=4, max_wait_s=0.0)
    try:
        first = batcher.submit(0)
        while not calls:
            time.sleep(0.001)
        rest = [batcher.submit(i) for i in range(1, 9)]
        gate.set()
        assert first.result(5) == 0
        assert [f.result(5) for f in rest] == [i * 10 for i in range(1, 9)]
    finally:
        batcher.close()
    # Item 0 ran alone; the 8 queued while it ran went in full batches of 4.
    assert calls == [[0], [1, 2, 3, 4], [5, 6, 7, 8]]
    assert batcher.stats.sizes == {1: 1, 4: 2} and batcher.stats.items == 9


def test_a_failing_batch_fails_its_callers_only():
    def run(items: list[str]) -> list[str]:
        if "bad" in items:
            raise ValueError("model failed")
        return [s.upper() for s in items]

    batcher = MicroBatcher(run, max_batch_size=1)
    try:
        bad = batcher.submit("bad")
        with pytest.raises(ValueError, match="model failed"):
            bad.result(5)
        assert batcher.submit("ok").result(5) == "OK"
        assert batcher.alive()
    finally:
        batcher.close()
    assert not batcher.alive()
    with pytest.raises(RuntimeError, match="closed"):
        batcher.submit("late")


def test_wrong_result_count_is_an_error_not_a_hang():
    batcher = MicroBatcher(lambda items: [], max_batch_size=2)
    try:
        with pytest.raises(RuntimeError, match="returned 0 results for 1"):
            batcher.submit("x").result(5)
    finally:
        batcher.close()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="max_batch_size"):
        MicroBatcher(lambda items: items, max_batch_size=0)


def test_batched_generation_matches_one_at_a_time(tiny_base):  # noqa: F811 - pytest fixture
    from clinical.modeling.extract import Extractor

    extractor = Extractor.load(tiny_base.path, max_new_tokens=12)
    texts = [text for text, _ in NOTES]
    single = [extractor.extract(t) for t in texts]
    batched = extract_batch(extractor, texts)
    assert [r.raw_output for r in batched] == [r.raw_output for r in single]
    assert [r.output_tokens for r in batched] == [r.output_tokens for r in single]
    assert [r.prompt_tokens for r in batched] == [r.prompt_tokens for r in single]
    # A token budget too small for two prompts splits the batch and still gives the same answers.
    small = extract_batch(extractor, texts, max_batch_tokens=1)
    assert [r.raw_output for r in small] == [r.raw_output for r in single]


def test_batching_raises_throughput_on_the_tiny_model(tiny_base):  # noqa: F811 - pytest fixture
    from clinical.modeling.extract import Extractor

    extractor = Extractor.load(tiny_base.path, max_new_tokens=24)
    texts = [text for text, _ in NOTES] * 2
    batcher = MicroBatcher(lambda items: extract_batch(extractor, items), max_batch_size=8)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda t: batcher.submit(t).result(60), texts))
    finally:
        batcher.close()
    assert len(results) == len(texts)
    assert batcher.stats.batches < len(texts), batcher.stats
