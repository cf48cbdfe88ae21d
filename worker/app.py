"""The Celery application, configured from ``Settings`` (Redis or RabbitMQ broker).

``create_celery`` builds a new app per settings (no module-level app), so a
process that talks to one broker never reuses another's connections. Each
worker process keeps one event loop and one opened runtime (database pool,
mailbox provider, connectors) for all the tasks it runs; both are created on
the first task and closed when the process shuts down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any, TypeVar

from celery import Celery
from celery.signals import worker_process_shutdown

from shipdraft.settings import Settings

T = TypeVar("T")
PROCESS_MESSAGE = "shipdraft.process_message"
PROCESS_MESSAGES = "shipdraft.process_messages"  # a batch, drafted concurrently in the worker's event loop


def create_celery(*, settings: Settings) -> Celery:
    """A Celery app for these settings, with shipdraft's tasks registered."""
    app = Celery("shipdraft", include=["worker.tasks"])
    app.conf.update(
        broker_url=settings.broker_url.get_secret_value(),
        result_backend=settings.result_backend.get_secret_value() if settings.result_backend else None,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a worker that dies mid-task leaves the message for another
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        result_expires=3600,
    )
    return app


class WorkerContext:
    """The per-process event loop and runtime of a worker (or of a helper process of the inline runner).

    ``opener`` makes the runtime's context manager; by default ``open_runtime`` with this process's settings.
    """

    def __init__(self, *, opener: Callable[[], AbstractAsyncContextManager[Any]] | None = None) -> None:
        self._opener = opener
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stack: AsyncExitStack | None = None
        self._runtime: Any = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    def runtime(self) -> Any:
        if self._runtime is None:
            from shipdraft.wiring import open_runtime

            opened = self._opener() if self._opener is not None else open_runtime(settings=Settings())
            stack = AsyncExitStack()
            self._runtime = self.run(stack.enter_async_context(opened))
            self._stack = stack
        return self._runtime

    def close(self) -> None:
        if self._stack is not None:
            self.run(self._stack.aclose())
            self._stack = None
            self._runtime = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None


context = WorkerContext()


@worker_process_shutdown.connect
def _close_runtime(**_: Any) -> None:
    context.close()
