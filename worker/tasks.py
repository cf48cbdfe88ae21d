"""Celery tasks. Each one is a thin wrapper around a pipeline function."""

from __future__ import annotations

import asyncio
from typing import Any

from celery import shared_task

from agent.pipeline import ProcessResult, process_message
from worker.app import PROCESS_MESSAGE, PROCESS_MESSAGES, context


@shared_task(name=PROCESS_MESSAGE)
def process_message_task(message_pk: int) -> dict[str, Any]:
    """Draft for one stored message; safe to run twice (the pipeline is idempotent)."""
    runtime = context.runtime()
    result = context.run(process_message(message_pk=message_pk, store=runtime.messages, mailbox=runtime.provider,
                                         deps=runtime.deps))
    return result.model_dump(mode="json")


@shared_task(name=PROCESS_MESSAGES)
def process_messages_task(message_pks: list[int]) -> list[dict[str, Any]]:
    """Draft for a batch of stored messages, ``concurrency`` at once, in this worker process's event loop.

    While one message waits for an LLM or a business system, the others go on: a worker process is not
    held by one slow call. Safe to run twice, like ``process_message``.
    """
    runtime = context.runtime()

    async def batch() -> list[ProcessResult]:
        gate = asyncio.Semaphore(runtime.settings.concurrency)

        async def one(pk: int) -> ProcessResult:
            async with gate:
                return await process_message(message_pk=pk, store=runtime.messages, mailbox=runtime.provider,
                                             deps=runtime.deps)

        return list(await asyncio.gather(*(one(pk) for pk in message_pks)))

    return [r.model_dump(mode="json") for r in context.run(batch())]
