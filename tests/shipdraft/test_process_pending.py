"""process_pending: pages of claimable ids, every slot kept busy, every message run to its end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.pipeline import Outcome, ProcessResult
from shipdraft import runner
from shipdraft.runner import ingest, process_pending
from shipdraft.wiring import Runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _deliver(runtime: Runtime, count: int) -> None:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    for n in range(count):
        (root / "new" / f"m{n}").write_bytes(make_email(message_id=f"<p{n}@hansen-mobler.example>",
                                                        body=f"Status ordre NK20411{7 + n % 5}?"))


async def test_a_backlog_longer_than_a_page_is_drafted_in_one_call(runtime: Runtime,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "PENDING_PAGE", 2)
    _deliver(runtime, 5)
    await ingest(runtime=runtime)
    lines: list[ProcessResult] = []
    results = await process_pending(runtime=runtime, on_result=lines.append)
    assert [r.outcome for r in results] == [Outcome.DRAFTED] * 5
    assert [r.message_pk for r in results] == sorted(r.message_pk for r in results)  # oldest first
    assert sorted(r.message_pk for r in lines) == [r.message_pk for r in results]
    assert await process_pending(runtime=runtime, on_result=lines.append) == []


async def test_one_message_raising_does_not_abandon_the_others(runtime: Runtime,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real = runner.process_message
    in_flight = most = 0
    broken: list[int] = []

    async def flaky(*, message_pk: int, **kwargs: Any) -> ProcessResult:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            await asyncio.sleep(0.01)
            if not broken:  # the first message hits a bug outside the pipeline's own error handling
                broken.append(message_pk)
                raise RuntimeError("unexpected")
            return await real(message_pk=message_pk, **kwargs)
        finally:
            in_flight -= 1

    monkeypatch.setattr(runner, "process_message", flaky)
    monkeypatch.setattr(runner, "PENDING_PAGE", 3)
    monkeypatch.setattr(runtime.settings, "concurrency", 2)
    _deliver(runtime, 6)
    await ingest(runtime=runtime)
    drafted: list[ProcessResult] = []
    with pytest.raises(RuntimeError, match="unexpected"):
        await process_pending(runtime=runtime, on_result=drafted.append)
    assert len(drafted) == 5 and broken[0] not in {r.message_pk for r in drafted}  # the others all finished
    assert most == 2  # the concurrency held across pages
    monkeypatch.setattr(runner, "process_message", real)
    assert [r.message_pk for r in await process_pending(runtime=runtime, on_result=drafted.append)] == broken
