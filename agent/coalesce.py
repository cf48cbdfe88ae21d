"""Concurrent calls to a blocking batch function, coalesced into shared batches.

The local embedding model costs about 8 ms of CPU for one short query and
about 5 ms per text in batches of 16 (``docs/benchmarks.md``). When many
emails are in flight, their retrieval queries arrive at the same moment;
``Coalescer`` runs one batch at a time in a worker thread and every request
that arrives while a batch runs joins the next one. An idle caller is never
made to wait for a timer: the first request starts a batch at once.

State is kept per event loop, so one instance can serve successive
``asyncio.run`` calls (a Celery task runs its own loop). A caller that is
cancelled while waiting just stops waiting; its texts may still be encoded.
An exception of the batch function goes to every caller of that batch, and
the next batch runs as usual.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _LoopState(Generic[T]):
    pending: list[tuple[list[str], asyncio.Future[list[T]]]] = field(default_factory=list)
    draining: bool = False
    task: asyncio.Task[None] | None = None  # the running drain (a reference keeps it from being collected)


class Coalescer(Generic[T]):
    """``await coalescer.run(texts=...)`` returns ``fn(texts)`` (one result per text), batched with its neighbours."""

    def __init__(self, *, fn: Callable[[list[str]], Sequence[T]], max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._fn = fn
        self._max_batch = max_batch
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState[T]] = (
            weakref.WeakKeyDictionary())
        self.batches = 0  # batches run so far (all loops): for tests and benchmarks

    async def run(self, *, texts: Sequence[str]) -> list[T]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        future: asyncio.Future[list[T]] = loop.create_future()
        state.pending.append((list(texts), future))
        if not state.draining:
            state.draining = True
            state.task = loop.create_task(self._drain(state), name="coalescer-drain")
        return await future

    def _take(self, state: _LoopState[T]) -> list[tuple[list[str], asyncio.Future[list[T]]]]:
        """Whole requests, oldest first, up to ``max_batch`` texts (at least one request)."""
        batch, size = [], 0
        while state.pending:
            texts, future = state.pending[0]
            if batch and size + len(texts) > self._max_batch:
                break
            state.pending.pop(0)
            if future.done():  # its caller was cancelled while it waited
                continue
            batch.append((texts, future))
            size += len(texts)
        return batch

    async def _drain(self, state: _LoopState[T]) -> None:
        try:
            while state.pending:
                batch = self._take(state)
                if not batch:
                    continue
                flat = [t for texts, _ in batch for t in texts]
                try:
                    results = list(await asyncio.to_thread(self._fn, flat))
                    if len(results) != len(flat):
                        raise RuntimeError(f"batch function returned {len(results)} results for {len(flat)} texts")
                except asyncio.CancelledError:
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
                except Exception as exc:  # every caller of this batch gets the error; the next batch runs
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                finally:
                    self.batches += 1
                start = 0
                for texts, future in batch:
                    if not future.done():
                        future.set_result(results[start:start + len(texts)])
                    start += len(texts)
        finally:
            state.draining = False
            state.task = None
            for _, future in state.pending:  # only left when the drain itself was cancelled
                if not future.done():
                    future.cancel()
            state.pending.clear()
