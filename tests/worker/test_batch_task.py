"""The Celery batch task drafts its messages concurrently in the worker's event loop (run in-process here)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from agent.drafting import DraftRequest
from agent.embeddings import EmbedderKind
from agent.models import Draft
from agent.pipeline import Outcome
from shipdraft.runner import ingest
from shipdraft.settings import Settings
from shipdraft.wiring import Database, Runtime, open_runtime
from tests.helpers import make_email
from worker import tasks
from worker.app import WorkerContext


class _GaugedDrafter:
    """Waits like an LLM call and records how many drafts were in flight at once."""

    def __init__(self, inner: object) -> None:
        self.name = "gauged"
        self._inner = inner
        self.in_flight = 0
        self.most = 0

    async def draft(self, *, request: DraftRequest) -> Draft:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.05)
            return await self._inner.draft(request=request)  # type: ignore[attr-defined, no-any-return]
        finally:
            self.in_flight -= 1


def test_a_batch_is_drafted_concurrently_and_only_once(settings: Settings, database_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    gauge: list[_GaugedDrafter] = []

    @asynccontextmanager
    async def opened() -> AsyncIterator[Runtime]:
        async with open_runtime(settings=settings.model_copy(update={"concurrency": 3, "embedder": EmbedderKind.NONE}),
                                database=Database(url=database_url, embedded=None)) as runtime:
            gauge.append(_GaugedDrafter(runtime.deps.drafter))
            yield dataclasses.replace(runtime, deps=dataclasses.replace(runtime.deps, drafter=gauge[0]))

    context = WorkerContext(opener=opened)
    monkeypatch.setattr(tasks, "context", context)
    try:
        runtime = context.runtime()
        root: Path = runtime.provider.root
        for i in range(5):
            (root / "new" / f"m{i}").write_bytes(make_email(message_id=f"<b{i}@hansen-mobler.example>",
                                                            body=f"Status ordre NK20411{7 + i}?"))
        assert context.run(ingest(runtime=runtime)) == (5, 0)
        pks = context.run(runtime.messages.pending_ids(mailbox="ops", max_attempts=5))

        results = tasks.process_messages_task(pks)
        assert [r["message_pk"] for r in results] == pks
        assert {r["outcome"] for r in results} == {Outcome.DRAFTED}
        assert gauge[0].most == 3  # never more than the configured concurrency, and not one at a time
        assert {r["outcome"] for r in tasks.process_messages_task(pks)} == {Outcome.NOT_CLAIMED}
        assert len(list((root / ".Drafts" / "cur").iterdir())) == 5
    finally:
        context.close()
