"""Micro-batching: order, error isolation per batch, no added wait for a lone call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tl.batching import MicroBatcher


def test_results_come_back_to_their_callers_in_batches():
    release = threading.Event()

    def square_all(items):
        release.wait(5)  # hold the first batch so that the others queue up behind it
        return [i * i for i in items]

    batcher = MicroBatcher(square_all, max_batch=8)
    with ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(batcher, i) for i in range(20)]
        time.sleep(0.2)
        release.set()
        assert [f.result(5) for f in futures] == [i * i for i in range(20)]
    assert sum(batcher.batch_sizes) == 20 and max(batcher.batch_sizes) == 8


def test_an_error_reaches_the_callers_of_its_batch_and_the_batcher_goes_on():
    def fail_on_negative(items):
        if any(i < 0 for i in items):
            raise ValueError("negative")
        return items

    batcher = MicroBatcher(fail_on_negative)
    with pytest.raises(ValueError, match="negative"):
        batcher(-1)
    assert batcher(3) == 3


def test_a_wrong_number_of_results_is_an_error():
    batcher = MicroBatcher(lambda items: [])
    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        batcher(1)


def test_max_batch_is_validated():
    with pytest.raises(ValueError, match="Received: 0"):
        MicroBatcher(lambda items: items, max_batch=0)
