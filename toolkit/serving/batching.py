"""Concurrent requests to one signature merged into one call, as TensorFlow Serving's batching merges them.

A request waits at most `timeout_s` after the first one of a batch arrived,
or until `max_batch` rows are waiting; the rows of every request that fits
are then concatenated into one call of the signature, and each request gets
its own rows of the outputs back. Only requests whose inputs can be
concatenated (the same dtypes and the same shape past the rows) are merged;
a request of more rows than `max_batch` is called alone. If the merged call
fails (one request's rows are refused by the graph's checks, say), each
request is called alone, so that each gets its own answer or its own error,
its rows numbered as it sent them.

One batch is called at a time per signature: requests that arrive during a
call wait for the next batch, which is then larger. That is where batching
gains: one call of many rows costs far less than many calls of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

Arrays = Mapping[str, np.ndarray]


@dataclass
class _Waiting:
    inputs: Arrays
    rows: int
    key: tuple
    arrived: float
    answer: asyncio.Future = field(repr=False)


class Batcher:
    """Merges concurrent calls of one function of batched arrays into calls of up to `max_batch` rows.

    Args:
        call: The signature: arrays of one batch in, arrays with one row per input row out. It
            blocks, so it runs in a worker thread.
        max_batch: The most rows of one merged call.
        timeout_s: The longest a request waits for others to join its batch.
        on_call: Told the rows of each call made, for metrics.
    """

    def __init__(
        self,
        call: Callable[[Arrays], dict[str, np.ndarray]],
        max_batch: int,
        timeout_s: float,
        on_call: Callable[[int], None] | None = None,
    ):
        self.call = call
        self.max_batch = max_batch
        self.timeout_s = timeout_s
        self.on_call = on_call or (lambda rows: None)
        self._waiting: list[_Waiting] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None

    async def submit(self, inputs: Arrays, rows: int) -> dict[str, np.ndarray]:
        """The outputs of `inputs` (a batch of `rows` rows), called alone or merged with others.

        Raises:
            Whatever `call` raises for these inputs called alone.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._worker is None or self._worker.done():
            self._loop, self._arrived, self._waiting = loop, asyncio.Event(), []
            self._worker = loop.create_task(self._work())
        key = tuple(sorted((name, array.dtype.str, array.shape[1:]) for name, array in inputs.items()))
        waiting = _Waiting(inputs, rows, key, loop.time(), loop.create_future())
        self._waiting.append(waiting)
        self._arrived.set()
        return await waiting.answer

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._waiting = [waiting for waiting in self._waiting if not waiting.answer.done()]
            if not self._waiting:
                self._arrived.clear()
                await self._arrived.wait()
                continue
            first = self._waiting[0]
            deadline = first.arrived + self.timeout_s
            while self._rows_waiting(first.key) < self.max_batch and loop.time() < deadline:
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), deadline - loop.time())
                except TimeoutError:
                    break
            await self._run(self._take(first.key))

    def _rows_waiting(self, key: tuple) -> int:
        return sum(waiting.rows for waiting in self._waiting if waiting.key == key and not waiting.answer.done())

    def _take(self, key: tuple) -> list[_Waiting]:
        """The oldest waiting requests of `key` whose rows fit in one call (the first always)."""
        batch, rows = [], 0
        for waiting in self._waiting:
            if waiting.key != key or waiting.answer.done():
                continue
            if batch and rows + waiting.rows > self.max_batch:
                break
            batch.append(waiting)
            rows += waiting.rows
        taken = {id(waiting) for waiting in batch}
        self._waiting = [waiting for waiting in self._waiting if id(waiting) not in taken]
        return batch

    async def _run(self, batch: list[_Waiting]) -> None:
        if len(batch) > 1:
            merged = {name: np.concatenate([waiting.inputs[name] for waiting in batch]) for name in batch[0].inputs}
            rows = sum(waiting.rows for waiting in batch)
            try:
                outputs = await self._called(merged, rows)
            except Exception:
                outputs = None  # one request's rows refused, say: each is called alone for its own answer
            if outputs is not None and all(np.ndim(array) and len(array) == rows for array in outputs.values()):
                start = 0
                for waiting in batch:
                    answer = {name: array[start : start + waiting.rows] for name, array in outputs.items()}
                    start += waiting.rows
                    if not waiting.answer.done():
                        waiting.answer.set_result(answer)
                return
        for waiting in batch:
            try:
                answer = await self._called(waiting.inputs, waiting.rows)
            except Exception as error:
                if not waiting.answer.done():
                    waiting.answer.set_exception(error)
            else:
                if not waiting.answer.done():
                    waiting.answer.set_result(answer)

    async def _called(self, inputs: Arrays, rows: int) -> dict[str, np.ndarray]:
        self.on_call(rows)
        return await asyncio.to_thread(self.call, inputs)
