"""Celery tasks. Each one is a thin wrapper around a pipeline function."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from agent.pipeline import process_message
from worker.app import PROCESS_MESSAGE, context


@shared_task(name=PROCESS_MESSAGE)
def process_message_task(message_pk: int) -> dict[str, Any]:
    """Draft for one stored message; safe to run twice (the pipeline is idempotent)."""
    runtime = context.runtime()
    result = context.run(process_message(message_pk=message_pk, store=runtime.messages, mailbox=runtime.provider,
                                         deps=runtime.deps))
    return result.model_dump(mode="json")
