"""Micro-batching: concurrent single-item calls become one batched call, with no added wait.

A request that finds the worker idle runs at once, alone. Requests that arrive while a batch is running
queue up and all go together in the next batch. So one user sees batch-of-one latency, and many users
share forward passes. Errors stay with the batch that raised them.
"""

from __future__ import annotations

import collections
import queue
import threading
from concurrent.futures import Future
from typing import Callable, Generic, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class MicroBatcher(Generic[Item, Result]):
    """Call `fn(items) -> results` (same length, same order) on whatever is queued, one batch at a time."""

    def __init__(self, fn: Callable[[Sequence[Item]], Sequence[Result]], max_batch: int = 16, name: str = "batcher"):
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1. Received: {max_batch}")
        self._fn = fn
        self._max_batch = max_batch
        self._queue: queue.Queue[tuple[Item, Future]] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name=name, daemon=True)
        self._worker.start()
        self.batch_sizes: collections.deque[int] = collections.deque(maxlen=10_000)  # recent batch sizes

    def __call__(self, item: Item) -> Result:
        """Run `item` in the next batch and return its result (or raise its batch's error)."""
        future: Future = Future()
        self._queue.put((item, future))
        return future.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.batch_sizes.append(len(batch))
            try:
                results = self._fn([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"batched function returned {len(results)} results for {len(batch)} items")
            except BaseException as e:  # noqa: BLE001 - handed to every waiting caller
                for _, future in batch:
                    future.set_exception(e)
                continue
            for (_, future), result in zip(batch, results):
                future.set_result(result)
