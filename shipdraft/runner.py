"""The main job: ingest new mail, draft for every message, observe sent replies, repeat.

One pass: every new message in the mailbox is stored (then acknowledged to
the provider), every claimable message is processed — inline, at most
``concurrency`` at once in each of ``processes`` processes, or handed to
Celery workers — and sent replies are matched to drafts. ``run`` repeats
passes until its stop event is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from pydantic import BaseModel

from agent.observing import Observation, observe
from agent.parsing import message_id_of
from agent.pipeline import Outcome, ProcessResult, process_message
from connectors.mail.base import PushProvider
from shipdraft.settings import Executor
from shipdraft.wiring import Runtime
from store.mail_sync import MailSyncRepository
from store.messages import InboundItem
from store.replies import SentReplyRepository
from worker.app import PROCESS_MESSAGES

log = logging.getLogger(__name__)
INGEST_BATCH = 200  # messages per ingest transaction
INGEST_BATCH_BYTES = 32 * 1024 * 1024  # and at most this much raw mail
PENDING_PAGE = 1000  # claimable ids read at once by process_pending


class PassSummary(BaseModel):
    ingested: int = 0
    duplicates: int = 0
    results: list[ProcessResult] = []
    enqueued: int = 0
    observations: list[Observation] = []


async def ingest(*, runtime: Runtime) -> tuple[int, int]:
    """Store every new provider message, then acknowledge it at the source; return (stored, duplicates).

    Messages are stored in batches (one transaction each, ``INGEST_BATCH`` messages or ``INGEST_BATCH_BYTES``
    at most) and acknowledged only after their batch committed, so a crash never loses one.
    """
    stored = duplicates = 0
    batch: list[InboundItem] = []
    size = 0

    async def flush() -> None:
        nonlocal stored, duplicates, size
        ids = await runtime.messages.insert_inbound_many(mailbox=runtime.config.name, items=batch)
        for item, pk in zip(batch, ids, strict=True):
            if pk is None:
                duplicates += 1
                log.info("duplicate message ignored", extra={"provider_key": item.provider_key})
            else:
                stored += 1
            await runtime.provider.acknowledge(provider_key=item.provider_key)
        batch.clear()
        size = 0

    for fetched in await runtime.provider.fetch_new():
        batch.append(InboundItem(provider_key=fetched.provider_key, message_id=message_id_of(raw=fetched.raw),
                                 raw=fetched.raw))
        size += len(fetched.raw)
        if len(batch) >= INGEST_BATCH or size >= INGEST_BATCH_BYTES:
            await flush()
    if batch:
        await flush()
    return stored, duplicates


async def process_pending(*, runtime: Runtime, on_result: Callable[[ProcessResult], None],
                          shard: tuple[int, int] = (0, 1)) -> list[ProcessResult]:
    """Process the claimable messages of the mailbox (of one ``shard``), ``concurrency`` at a time.

    Ids are read in pages of ``PENDING_PAGE``, oldest first; the next page is read as soon as the last
    message of the current one has started, so a backlog longer than a page never waits for a page's
    slowest message. Each message is tried once per call (keyset paging: a message that fails now is
    retried by a later pass). Every message is run to its end even when another raised; then the first
    exception is raised.
    """
    gate = asyncio.Semaphore(runtime.settings.concurrency)
    started: list[asyncio.Task[ProcessResult]] = []

    async def one(pk: int) -> ProcessResult:
        try:
            result = await process_message(message_pk=pk, store=runtime.messages, mailbox=runtime.provider,
                                           deps=runtime.deps)
        finally:
            gate.release()
        if result.outcome != Outcome.NOT_CLAIMED:
            on_result(result)
        return result

    after = 0
    try:
        while True:
            ids = await runtime.messages.pending_ids(mailbox=runtime.config.name,
                                                     max_attempts=runtime.settings.max_attempts,
                                                     shard=shard, after=after, limit=PENDING_PAGE)
            if not ids:
                break
            after = ids[-1]
            for pk in ids:
                await gate.acquire()
                started.append(asyncio.create_task(one(pk)))
    finally:
        unfinished = [task for task in started if not task.done()]
        if unfinished:
            await asyncio.wait(unfinished)
    for task in started:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error
    return [task.result() for task in started if not task.cancelled()]


async def draft_pending(*, runtime: Runtime, on_result: Callable[[ProcessResult], None]) -> list[ProcessResult]:
    """The inline executor: this process drafts, and so do its helper processes when ``processes`` > 1."""
    if runtime.helpers is not None:
        return await runtime.helpers.process_pending(runtime=runtime, on_result=on_result)
    return await process_pending(runtime=runtime, on_result=on_result)


async def enqueue_pending(*, runtime: Runtime) -> int:
    """Hand claimable messages to Celery workers (after the ingest transaction committed).

    Messages go in batches of ``concurrency``, one task each, which a worker drafts concurrently. A message
    enqueued twice (by two passes) is harmless: the second task finds it claimed or done.
    """
    assert runtime.celery is not None, "executor=celery needs runtime.celery"
    ids = await runtime.messages.pending_ids(mailbox=runtime.config.name, max_attempts=runtime.settings.max_attempts)
    size = runtime.settings.concurrency
    for start in range(0, len(ids), size):
        runtime.celery.send_task(PROCESS_MESSAGES, args=[ids[start:start + size]])
    return len(ids)


async def handle_push(*, runtime: Runtime) -> None:
    """Keep push subscriptions alive and act on recorded lifecycle notifications (Graph, Gmail)."""
    provider = runtime.provider
    if not isinstance(provider, PushProvider):
        return
    await provider.ensure_watch()
    sync = MailSyncRepository(pool=runtime.pool)
    pending = await sync.pending_notifications(mailbox=runtime.config.name)
    for _, event in pending:
        await provider.handle_push(event=event)
    if pending:
        await sync.mark_handled(ids=[pk for pk, _ in pending])


async def one_pass(*, runtime: Runtime, on_result: Callable[[ProcessResult], None] = lambda r: None) -> PassSummary:
    await handle_push(runtime=runtime)
    stored, duplicates = await ingest(runtime=runtime)
    summary = PassSummary(ingested=stored, duplicates=duplicates)
    if runtime.settings.executor == Executor.CELERY:
        summary.enqueued = await enqueue_pending(runtime=runtime)
    else:
        summary.results = await draft_pending(runtime=runtime, on_result=on_result)
    sent = [(i.provider_key, i.raw) for i in await runtime.provider.fetch_sent()]
    # every reply, drafted or not, for first-response time (store.metrics)
    await SentReplyRepository(pool=runtime.pool).record(mailbox=runtime.config.name, sent=sent)
    summary.observations = await observe(
        mailbox_name=runtime.config.name, sent=sent, mailbox=runtime.provider,
        store=runtime.drafts, discard_grace_seconds=runtime.settings.discard_grace_seconds,
        expire_after_seconds=runtime.settings.draft_expiry_days * 86400, thresholds=runtime.settings.acceptance,
    )
    return summary


async def run(
    *,
    runtime: Runtime,
    stop: asyncio.Event,
    on_result: Callable[[ProcessResult], None],
    on_observation: Callable[[Observation], None],
    on_idle: Callable[[], None] = lambda: None,
) -> None:
    """Repeat passes until ``stop`` is set; a failing pass is logged and retried next time."""
    idle_reported = False
    while not stop.is_set():
        try:
            summary = await one_pass(runtime=runtime, on_result=on_result)
        except Exception:  # a pass that fails (database restart, disk full) must not end the job
            log.exception("pass failed; retrying after the poll interval")
        else:
            for obs in summary.observations:
                on_observation(obs)
            busy = bool(summary.results or summary.observations or summary.ingested)
            if not busy and not idle_reported:
                on_idle()
                idle_reported = True
            elif busy:
                idle_reported = False
        await _wait(runtime=runtime, stop=stop)


async def _wait(*, runtime: Runtime, stop: asyncio.Event) -> None:
    """Until the provider reports a change (IMAP IDLE, ...), the poll interval passes, or we are stopped."""
    change = asyncio.ensure_future(runtime.provider.wait_for_changes(timeout=runtime.settings.poll_interval))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({change, stopped}, timeout=runtime.settings.poll_interval + 5,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (change, stopped):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await change


def format_result(result: ProcessResult) -> str:
    """One line per email for the console."""
    head = f"{result.outcome.value:<11} #{result.message_pk:<4} {result.sender} {result.subject[:60]!r}"
    if result.outcome == Outcome.DRAFTED:
        refs = ",".join(r.split(":", 1)[1] for r in result.references) or "none"
        withheld = f" withheld={result.withheld}" if result.withheld else ""
        again = " (existing draft reused)" if result.reused_draft else ""
        if result.replaced_drafts:
            again += f" (replaced {len(result.replaced_drafts)} untouched older draft(s) of the thread)"
        return f"{head} refs={refs} facts={result.facts}{withheld} -> {result.draft_location}{again}"
    return f"{head}: {result.reason}"


def format_observation(obs: Observation) -> str:
    sim = f" similarity {obs.similarity:.2f}" if obs.similarity is not None else ""
    return f"{'observed':<11} draft {obs.draft_id}: {obs.outcome.value}{sim}"
