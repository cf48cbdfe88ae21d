"""A TTL cache per configured system, keyed by reference, with single-flight loading.

``get_or_load(key, load)`` returns a fresh cached value or calls ``load`` once,
however many callers ask for the same key at the same moment (the others wait
for that one call). Errors are never cached; a connector that wants to cache
"not found" stores its own sentinel value. Storage is ``cachetools.TTLCache``
(bounded size, per-entry expiry on a monotonic clock). ``ttl <= 0`` disables it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from cachetools import TTLCache

from connectors.base import RetryableError

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values by key for ``ttl`` seconds, at most ``maxsize`` of them."""

    def __init__(self, *, ttl: float, maxsize: int = 2048, timer: Callable[[], float] = time.monotonic,
                 system: str = "") -> None:
        self.ttl = ttl
        self._system = system
        self._store: TTLCache[Hashable, Any] | None = TTLCache(maxsize=maxsize, ttl=ttl, timer=timer) \
            if ttl > 0 else None
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}

    @property
    def enabled(self) -> bool:
        return self._store is not None

    def __len__(self) -> int:
        return 0 if self._store is None else len(self._store)

    def clear(self) -> None:
        if self._store is not None:
            self._store.clear()

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        if self._store is None:
            return await load()
        try:
            return self._store[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        waiting = self._inflight.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)  # type: ignore[no-any-return]
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_consume)
        self._inflight[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            # our caller gave up (its own timeout); the others get an error, not our cancellation
            future.set_exception(RetryableError(f"{self._system}: the shared call was cancelled",
                                                system=self._system))
            raise
        except BaseException as exc:
            future.set_exception(exc)
            raise
        else:
            self._store[key] = value
            future.set_result(value)
            return value
        finally:
            self._inflight.pop(key, None)


def _consume(future: asyncio.Future[Any]) -> None:
    """Mark the exception as retrieved when nobody else was waiting for it."""
    if not future.cancelled():
        future.exception()
