"""Helper processes that draft beside the runner, so one mailbox can use more than one CPU core.

One Python process drafts on one core at most: parsing, SQL, drafting and the mailbox all run on its
event-loop thread. With ``processes = N`` (``SHIPDRAFT_PROCESSES``), the inline runner keeps N - 1 helper
processes, each with its own event loop and runtime (database pool, mailbox provider, connectors,
embedder) opened with the same settings against the same database. Every pass splits the claimable
messages by id into N shards: the runner drafts shard 0 itself and helper k drafts shard k. Ingest and
the observation of sent replies stay in the runner. The per-message claim remains the guard against
drafting twice, so even a shard run by two processes drafts each message once.

Each result streams back over a queue as it happens, so the console still prints one line per email.
A helper that dies (killed, out of memory) breaks the pool: the pass fails with ``HelperProcessError``,
the messages that helper had claimed become claimable again when their lease ends, and the next pass
starts fresh helpers. Helpers ignore SIGINT: Ctrl-C stops the runner, which lets the running pass
finish and then shuts the helpers down, closing their runtimes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from multiprocessing.util import Finalize
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from agent.pipeline import ProcessResult
from shipdraft.settings import Settings
from worker.app import WorkerContext

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from shipdraft.wiring import Runtime

# Applied to each helper's runtime after it is opened (module-level, so it can be sent to a spawned process):
# the benchmark wraps connectors and drafter in simulated latencies this way.
Customize = Callable[["Runtime"], AbstractAsyncContextManager["Runtime"]]
_POLL_SECONDS = 0.02  # how often the runner looks for helper results while its own shard runs


class HelperProcessError(RuntimeError):
    """A helper process failed its shard of a pass, or died."""


class DraftingProcesses:
    """``processes - 1`` helper processes, started on first use; ``process_pending`` runs one pass over all."""

    def __init__(self, *, settings: Settings, database_url: str, processes: int,
                 customize: Customize | None = None) -> None:
        if processes < 2:
            raise ValueError("DraftingProcesses needs at least 2 processes (the runner and one helper)")
        # the helpers open the database the runner resolved (never a second embedded server) and start no helpers
        self._settings = settings.model_copy(update={"database_url": SecretStr(database_url), "processes": 1})
        self._customize = customize
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")  # no forked copies of pools, sockets and threads
        self._executor: ProcessPoolExecutor | None = None
        self._queue: Any = None
        self._passes = 0  # numbers each pass, so a result left over from an interrupted pass is never taken

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._queue = self._context.Queue()
            self._executor = ProcessPoolExecutor(max_workers=self.processes - 1, mp_context=self._context,
                                                 initializer=_start_helper,
                                                 initargs=(self._settings, self._customize, self._queue))
        return self._executor

    async def process_pending(self, *, runtime: Runtime,
                              on_result: Callable[[ProcessResult], None]) -> list[ProcessResult]:
        """Shard 0 in this process, the others in the helpers; every result reaches ``on_result`` once."""
        from shipdraft.runner import process_pending

        count = self.processes
        executor = self._pool()
        results_queue = self._queue
        self._passes += 1
        this_pass = self._passes
        helpers = {k: asyncio.wrap_future(executor.submit(_run_shard, this_pass, k, count))
                   for k in range(1, count)}
        remote: list[ProcessResult] = []
        finished: set[int] = set()

        def collect(item: tuple[int, int, str | None]) -> None:
            pass_no, shard, payload = item
            if pass_no != this_pass:  # from a pass that was cancelled while its helpers ran on
                return
            if payload is None:  # the helper's last word for this pass: every result of its shard came before
                finished.add(shard)
                return
            result = ProcessResult.model_validate_json(payload)
            remote.append(result)
            on_result(result)

        async def pump() -> None:
            while True:
                try:
                    while True:
                        collect(results_queue.get_nowait())
                except queue.Empty:
                    pass
                # a shard is complete when its helper said so, or when its task failed without saying it
                if all(k in finished or (f.done() and (f.cancelled() or f.exception() is not None))
                       for k, f in helpers.items()):
                    return
                await asyncio.sleep(_POLL_SECONDS)

        local = asyncio.ensure_future(process_pending(runtime=runtime, on_result=on_result, shard=(0, count)))
        outcome = await asyncio.gather(local, pump(), *helpers.values(), return_exceptions=True)
        own = outcome[0]
        failures = [(k, exc) for (k, _), exc in zip(helpers.items(), outcome[2:], strict=True)
                    if isinstance(exc, BaseException)]
        for item in outcome[:2]:
            if isinstance(item, BaseException):
                raise item
        if failures:
            if any(isinstance(exc, BrokenProcessPool) for _, exc in failures):
                self._discard()
            shards = ", ".join(f"{k} ({type(exc).__name__}: {exc})" for k, exc in failures)
            raise HelperProcessError(f"helper shard(s) {shards} of the pass failed; their messages are "
                                     "retried by a later pass") from failures[0][1]
        assert isinstance(own, list)
        return [*own, *remote]

    def _discard(self) -> None:
        """Forget a broken pool; the next pass starts new helpers."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None
        self._queue = None

    def close(self) -> None:
        """Stop the helpers (they close their runtimes); waits for a running pass of theirs to end."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._executor = None
        self._queue = None


# ---------------------------------------------------------------------------------------- inside a helper process

_helper: WorkerContext | None = None
_results: Any = None


def _start_helper(settings: Settings, customize: Customize | None, results: Any) -> None:
    """Initializer of a helper process: its own event loop and runtime, opened lazily by the first shard."""
    global _helper, _results
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    from shipdraft.logs import configure_logging

    configure_logging(level=settings.log_level)
    _helper = WorkerContext(opener=lambda: _open(settings=settings, customize=customize))
    _results = results
    Finalize(_helper, _helper.close, exitpriority=10)  # runs when the pool shuts the process down


@asynccontextmanager
async def _open(*, settings: Settings, customize: Customize | None) -> AsyncIterator[Runtime]:
    from shipdraft.wiring import open_runtime

    async with open_runtime(settings=settings) as runtime:
        if customize is None:
            yield runtime
        else:
            async with customize(runtime) as custom:
                yield custom


def _run_shard(pass_no: int, shard: int, count: int) -> None:
    """One pass over shard ``shard`` of ``count``; each result goes to the runner's queue, then a final marker."""
    from shipdraft.runner import process_pending

    assert _helper is not None and _results is not None, "not started by DraftingProcesses"
    helper, results = _helper, _results

    def send(result: ProcessResult) -> None:
        results.put((pass_no, shard, result.model_dump_json()))

    try:
        helper.run(process_pending(runtime=helper.runtime(), on_result=send, shard=(shard, count)))
    finally:
        results.put((pass_no, shard, None))
