"""Coalescer: concurrent callers share batches, each gets its own results, errors reach the right callers."""

from __future__ import annotations

import asyncio
import threading

import pytest

from agent.coalesce import Coalescer

pytestmark = pytest.mark.anyio


class Recorder:
    """A blocking batch function that remembers its batches and can be held until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_on: str | None = None

    def __call__(self, texts: list[str]) -> list[str]:
        self.gate.wait(5)
        self.batches.append(list(texts))
        if self.fail_on is not None and self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on}")
        return [t.upper() for t in texts]


async def test_a_lone_request_runs_at_once_and_gets_its_results() -> None:
    fn = Recorder()
    coalescer = Coalescer(fn=fn)
    assert await coalescer.run(texts=["a", "b"]) == ["A", "B"]
    assert fn.batches == [["a", "b"]]
    assert await coalescer.run(texts=[]) == []
    assert coalescer.batches == 1


async def test_requests_arriving_during_a_batch_share_the_next_one_in_order() -> None:
    fn = Recorder()
    fn.gate.clear()  # hold the first batch until every other request has queued
    coalescer = Coalescer(fn=fn)
    first = asyncio.create_task(coalescer.run(texts=["q0"]))
    await asyncio.sleep(0.05)
    others = [asyncio.create_task(coalescer.run(texts=[f"q{i}", f"r{i}"])) for i in range(1, 6)]
    await asyncio.sleep(0.05)
    fn.gate.set()
    assert await first == ["Q0"]
    assert [await t for t in others] == [[f"Q{i}", f"R{i}"] for i in range(1, 6)]
    assert fn.batches == [["q0"], [t for i in range(1, 6) for t in (f"q{i}", f"r{i}")]]


async def test_batches_respect_max_batch_but_never_split_a_request() -> None:
    fn = Recorder()
    fn.gate.clear()
    coalescer = Coalescer(fn=fn, max_batch=4)
    first = asyncio.create_task(coalescer.run(texts=["x"]))
    await asyncio.sleep(0.05)
    tasks = [asyncio.create_task(coalescer.run(texts=texts))
             for texts in (["a", "b", "c"], ["d", "e"], ["f", "g", "h", "i", "j", "k"], ["l"])]
    await asyncio.sleep(0.05)
    fn.gate.set()
    await first
    results = [await t for t in tasks]
    assert results == [["A", "B", "C"], ["D", "E"], ["F", "G", "H", "I", "J", "K"], ["L"]]
    assert fn.batches[1:] == [["a", "b", "c"], ["d", "e"], ["f", "g", "h", "i", "j", "k"], ["l"]]


async def test_an_error_reaches_only_the_callers_of_its_batch() -> None:
    fn = Recorder()
    fn.gate.clear()
    fn.fail_on = "bad"
    coalescer = Coalescer(fn=fn, max_batch=2)
    first = asyncio.create_task(coalescer.run(texts=["ok"]))
    await asyncio.sleep(0.05)
    doomed = [asyncio.create_task(coalescer.run(texts=[t])) for t in ("bad", "mate")]
    later = asyncio.create_task(coalescer.run(texts=["fine"]))
    await asyncio.sleep(0.05)
    fn.gate.set()
    assert await first == ["OK"]
    for task in doomed:
        with pytest.raises(ValueError, match="cannot encode bad"):
            await task
    assert await later == ["FINE"]
    assert await coalescer.run(texts=["again"]) == ["AGAIN"]


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    fn = Recorder()
    fn.gate.clear()
    coalescer = Coalescer(fn=fn)
    first = asyncio.create_task(coalescer.run(texts=["first"]))
    await asyncio.sleep(0.05)
    impatient = asyncio.create_task(coalescer.run(texts=["gone"]))
    patient = asyncio.create_task(coalescer.run(texts=["stay"]))
    await asyncio.sleep(0.05)
    impatient.cancel()
    fn.gate.set()
    assert await first == ["FIRST"]
    assert await patient == ["STAY"]
    assert impatient.cancelled()
    assert ["gone"] not in fn.batches and ["stay"] in fn.batches


def test_a_wrong_number_of_results_is_an_error_not_a_silent_misalignment() -> None:
    coalescer = Coalescer(fn=lambda texts: texts[:-1])
    with pytest.raises(RuntimeError, match="returned 1 results for 2 texts"):
        asyncio.run(coalescer.run(texts=["a", "b"]))


def test_one_instance_serves_successive_event_loops() -> None:
    fn = Recorder()
    coalescer = Coalescer(fn=fn)
    assert asyncio.run(coalescer.run(texts=["one"])) == ["ONE"]
    assert asyncio.run(coalescer.run(texts=["two"])) == ["TWO"]
    assert fn.batches == [["one"], ["two"]]


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalescer(fn=lambda texts: texts, max_batch=0)
