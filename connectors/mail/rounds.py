"""One sync round of inbound mail: offer its items until each is acknowledged, then move the cursor.

The cursor of a round (a delta link, a history id, a last UID) is saved only
once every item of the round was acknowledged, i.e. stored by the caller. A
crash in between leaves the old cursor in place: the next start syncs the
same round again and the store drops what it already has. Nothing is lost,
nothing is drafted twice.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from connectors.mail.base import MailItem, SyncState


class PendingRound:
    def __init__(self, *, state: SyncState, cursor_key: str) -> None:
        self._state = state
        self._key = cursor_key
        self._items: dict[str, MailItem] = {}
        self._cursor: str | None = None

    @property
    def open(self) -> bool:
        return bool(self._items)

    def items(self) -> list[MailItem]:
        return list(self._items.values())

    async def cursor(self) -> str | None:
        return await self._state.get(key=self._key)

    async def start(self, *, items: list[MailItem], cursor: str | None) -> list[MailItem]:
        """Begin a round; with no items the cursor is saved at once."""
        self._items = {i.provider_key: i for i in items}
        self._cursor = cursor
        if not self._items:
            await self._commit()
        return self.items()

    async def acknowledge(self, *, provider_key: str) -> None:
        self._items.pop(provider_key, None)
        if not self._items:
            await self._commit()

    async def _commit(self) -> None:
        if self._cursor is not None:
            await self._state.put(key=self._key, value=self._cursor)
            self._cursor = None


class SentCursor:
    """The sent-items cursor, saved one pass late so a crash re-offers rather than loses sent mail."""

    def __init__(self, *, state: SyncState, cursor_key: str) -> None:
        self._state = state
        self._key = cursor_key
        self._next: str | None = None

    async def current(self) -> str | None:
        if self._next is not None:
            await self._state.put(key=self._key, value=self._next)
            self._next = None
        return await self._state.get(key=self._key)

    def advance(self, cursor: str | None) -> None:
        self._next = cursor


class ChangeSignal:
    """Wakes a waiting runner when a push notification for this mailbox was recorded in this process."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, *, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout=timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class BoundedMap(OrderedDict[str, str]):
    """A small least-recently-set cache (Message-ID -> provider id, ...) that forgets the oldest."""

    def __init__(self, *, size: int = 10_000) -> None:
        super().__init__()
        self._size = size

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self._size:
            self.popitem(last=False)
