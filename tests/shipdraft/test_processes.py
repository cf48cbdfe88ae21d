"""The inline runner with helper processes: real spawned processes, the real pipeline, the test's PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import multiprocessing
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psutil
import psycopg
import pytest

from agent.drafting import DraftRequest
from agent.embeddings import EmbedderKind
from agent.models import Draft
from agent.pipeline import Outcome, ProcessResult
from shipdraft import demo
from shipdraft.processes import DraftingProcesses, HelperProcessError
from shipdraft.runner import ingest, one_pass
from shipdraft.settings import Settings
from shipdraft.wiring import Database, Runtime, open_runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _settings(settings: Settings, processes: int) -> Settings:
    # the deterministic embedder keeps each helper's start-up short; the local model is tested elsewhere
    return settings.model_copy(update={"processes": processes, "embedder": EmbedderKind.DETERMINISTIC})


def _helpers() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)
            if "multiprocessing" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())}


def _count(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()  # type: ignore[arg-type]  # the tests' own literal queries
    assert row is not None
    return int(row[0])


async def test_helpers_draft_their_shards_once_and_stop_with_the_runtime(settings: Settings,
                                                                          database_url: str) -> None:
    before = _helpers()
    async with open_runtime(settings=_settings(settings, 2),
                            database=Database(url=database_url, embedded=None)) as runtime:
        assert isinstance(runtime.helpers, DraftingProcesses) and runtime.helpers.processes == 2
        delivered = demo.seed_maildir(root=runtime.provider.root)  # type: ignore[attr-defined]
        seen: list[ProcessResult] = []
        first = await one_pass(runtime=runtime, on_result=seen.append)
        assert _helpers() - before, "a helper process was started"

        drafted = [r for r in first.results if r.outcome == Outcome.DRAFTED]
        assert len(drafted) == delivered == len({r.message_pk for r in first.results})
        assert sorted(r.message_pk for r in seen) == sorted(r.message_pk for r in first.results)  # each line once
        assert {r.message_pk % 2 for r in drafted} == {0, 1}  # shard 1 exists only in the helper
        assert _count(database_url, "SELECT count(*) FROM drafts") == delivered
        assert _count(database_url, "SELECT count(DISTINCT message_id) FROM drafts") == delivered

        second = await one_pass(runtime=runtime)  # nothing left: the helpers find nothing either
        assert second.results == []
        assert _count(database_url, "SELECT count(*) FROM audit_log WHERE action = 'draft_posted'") == delivered
    assert not (_helpers() - before), "closing the runtime stops its helpers"


class _CrashingDrafter:
    """Kills its process (as the kernel's OOM killer would) the first time it drafts "crash" in a helper."""

    def __init__(self, *, inner: object, marker: Path) -> None:
        self.name = "crashing"
        self._inner = inner
        self._marker = marker

    async def draft(self, *, request: DraftRequest) -> Draft:
        if (multiprocessing.parent_process() is not None and "crash" in request.email.subject
                and not self._marker.exists()):
            self._marker.touch()
            os._exit(137)
        return await self._inner.draft(request=request)  # type: ignore[attr-defined, no-any-return]


@asynccontextmanager
async def crash_once(runtime: Runtime, *, marker: str) -> AsyncIterator[Runtime]:
    drafter = _CrashingDrafter(inner=runtime.deps.drafter, marker=Path(marker))
    yield dataclasses.replace(runtime, deps=dataclasses.replace(runtime.deps, drafter=drafter))


async def test_a_helper_that_dies_fails_the_pass_and_loses_nothing(settings: Settings, database_url: str,
                                                                    tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    async with open_runtime(settings=_settings(settings, 2),
                            database=Database(url=database_url, embedded=None)) as base:
        helpers = DraftingProcesses(settings=base.settings, database_url=database_url, processes=2,
                                    customize=functools.partial(crash_once, marker=str(marker)))
        runtime = dataclasses.replace(base, helpers=helpers)
        root: Path = runtime.provider.root  # type: ignore[attr-defined]
        for n in range(6):  # consecutive ids: both shards get "crash" messages
            (root / "new" / f"m{n}").write_bytes(make_email(message_id=f"<m{n}@hansen-mobler.example>",
                                                            subject=f"crash test {n}: status NK204117"))
        try:
            with pytest.raises(HelperProcessError, match="BrokenProcessPool"):
                await one_pass(runtime=runtime)
            assert marker.exists()
            # the runner's own shard was drafted; the dead helper's claimed message waits for its lease to end
            assert _count(database_url, "SELECT count(*) FROM messages WHERE state = 'processing'") >= 1
            with psycopg.connect(database_url) as conn:  # let the lease run out instead of waiting for it
                conn.execute("UPDATE messages SET lease_until = now() - interval '1 second' "
                             "WHERE state = 'processing'")
            again = await one_pass(runtime=runtime)  # new helpers, started by this pass
            assert again.results and all(r.outcome == Outcome.DRAFTED for r in again.results)
        finally:
            helpers.close()
        assert _count(database_url, "SELECT count(*) FROM messages WHERE state = 'drafted'") == 6
        assert _count(database_url, "SELECT count(*) FROM drafts") == 6
        assert len(list((root / ".Drafts" / "cur").iterdir())) == 6  # nothing drafted twice, nothing lost


async def test_one_process_needs_no_helpers(runtime: Runtime, settings: Settings) -> None:
    assert runtime.helpers is None and settings.processes == 1
    with pytest.raises(ValueError, match="at least 2"):
        DraftingProcesses(settings=settings, database_url="postgresql://unused", processes=1)


async def test_ingest_stays_in_the_runner(settings: Settings, database_url: str) -> None:
    async with open_runtime(settings=_settings(settings, 2),
                            database=Database(url=database_url, embedded=None)) as runtime:
        (runtime.provider.root / "new" / "one").write_bytes(make_email())  # type: ignore[attr-defined]
        assert await ingest(runtime=runtime) == (1, 0)
        assert runtime.helpers is not None and runtime.helpers._executor is None  # started by drafting only


async def test_a_helper_that_cannot_open_its_runtime_fails_the_pass_with_the_reason(
        runtime: Runtime, settings: Settings) -> None:
    # the helper is pointed at a port where nothing listens; the runner's own shard is drafted regardless
    helpers = DraftingProcesses(settings=_settings(settings, 2), database_url="postgresql://x@127.0.0.1:9/none",
                                processes=2)
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    for n in range(4):
        (root / "new" / f"m{n}").write_bytes(make_email(message_id=f"<r{n}@hansen-mobler.example>"))
    await ingest(runtime=runtime)
    seen: list[ProcessResult] = []
    try:
        with pytest.raises(HelperProcessError, match=r"127\.0\.0\.1") as failed:
            await helpers.process_pending(runtime=dataclasses.replace(runtime, helpers=helpers),
                                          on_result=seen.append)
    finally:
        helpers.close()
    assert "shard(s) 1" in str(failed.value)
    assert seen and {r.message_pk % 2 for r in seen} == {0}  # shard 0 was drafted; shard 1 waits for a pass


class _SlowDrafter:
    def __init__(self, *, inner: object) -> None:
        self.name = "slow"
        self._inner = inner

    async def draft(self, *, request: DraftRequest) -> Draft:
        await asyncio.sleep(1.0)
        return await self._inner.draft(request=request)  # type: ignore[attr-defined, no-any-return]


@asynccontextmanager
async def slow_drafts(runtime: Runtime) -> AsyncIterator[Runtime]:
    drafter = _SlowDrafter(inner=runtime.deps.drafter)
    yield dataclasses.replace(runtime, deps=dataclasses.replace(runtime.deps, drafter=drafter))


async def test_a_cancelled_pass_leaves_nothing_for_the_next_one(runtime: Runtime, settings: Settings,
                                                                database_url: str) -> None:
    helpers = DraftingProcesses(settings=_settings(settings, 2), database_url=database_url, processes=2,
                                customize=slow_drafts)
    rt = dataclasses.replace(runtime, helpers=helpers)
    root: Path = runtime.provider.root  # type: ignore[attr-defined]

    def deliver(names: range) -> None:
        for n in names:
            (root / "new" / f"m{n}").write_bytes(make_email(message_id=f"<c{n}@hansen-mobler.example>"))

    try:
        deliver(range(4))
        await ingest(runtime=rt)
        first = asyncio.ensure_future(helpers.process_pending(runtime=rt, on_result=lambda r: None))
        for _ in range(1000):  # until the helper has claimed a message of its shard
            if _count(database_url, "SELECT count(*) FROM messages WHERE state = 'processing' AND id % 2 = 1"):
                break
            await asyncio.sleep(0.02)
        first.cancel()  # the helper's pass goes on; its results must not be taken for the next pass
        with pytest.raises(asyncio.CancelledError):
            await first
        deliver(range(4, 8))
        await ingest(runtime=rt)
        second = await helpers.process_pending(runtime=rt, on_result=lambda r: None)
    finally:
        helpers.close()
    with psycopg.connect(database_url) as conn:
        newer = {r[0] for r in conn.execute("SELECT id FROM messages WHERE provider_key LIKE 'm%' "
                                           "ORDER BY id OFFSET 4").fetchall()}
    assert {r.message_pk for r in second if r.outcome == Outcome.DRAFTED} <= newer, second
    assert {r.message_pk for r in second if r.outcome == Outcome.DRAFTED} >= {pk for pk in newer if pk % 2 == 1}
    assert _count(database_url, "SELECT count(*) FROM drafts") == _count(
        database_url, "SELECT count(DISTINCT message_id) FROM drafts")
