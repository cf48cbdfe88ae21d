"""The mailbox provider Protocol every provider (Maildir, IMAP, Graph, Gmail) implements.

A provider reads inbound and sent mail, posts drafts and internal notes into
the thread, finds them again by their stable draft id, and never sends
anything. Providers keep their sync cursors (delta links, history ids, UIDs)
in a ``SyncState`` that the wiring passes in (``store.mail_sync`` in
production, ``MemorySyncState`` in tests and the embedded default).

Errors form one tree under ``MailError``; ``retryable`` tells the caller
whether trying again later can help.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from agent.ports import MailboxPort

ENTRY_POINT_GROUP = "shipdraft.mailboxes"


class MailItem(BaseModel):
    """One message as the provider holds it: a stable key and the raw RFC 822 bytes.

    ``found_by_reply`` is set on a draft that ``fetch_draft`` found only because it replies to the
    inbound message (a mail client re-saved it without our draft id): by definition the agent edited it.
    """

    model_config = ConfigDict(frozen=True)

    provider_key: str
    raw: bytes
    found_by_reply: bool = False


# --------------------------------------------------------------------------- errors


class MailError(Exception):
    """Base of every mailbox provider error."""

    retryable = False


class MailConfigError(MailError):
    """The provider block of the mailbox YAML is wrong; the message names the setting."""


class MailAuthError(MailError):
    """The provider refused our credentials (token request failed, login rejected)."""


class MailUnavailableError(MailError):
    """The provider cannot be reached or answered 5xx: try again later."""

    retryable = True


class MailRateLimitedError(MailUnavailableError):
    """The provider asked us to slow down and retries ran out; ``retry_after`` in seconds if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MailNotFoundError(MailError):
    """The provider has no such message, draft or subscription."""


class SyncExpiredError(MailError):
    """A stored cursor (delta link, history id, UIDVALIDITY) is no longer valid: resync."""


class MailProtocolError(MailError):
    """The provider answered something we cannot use."""


# --------------------------------------------------------------------------- sync state


class SyncState(Protocol):
    """Where a provider keeps its cursors; one instance per mailbox."""

    async def get(self, *, key: str) -> str | None: ...

    async def put(self, *, key: str, value: str) -> None: ...

    async def known_keys(self, *, keys: Iterable[str]) -> set[str]:
        """The provider keys among ``keys`` that are already stored as inbound messages."""

    async def known_message_ids(self, *, message_ids: Iterable[str]) -> set[str]:
        """The Message-IDs among ``message_ids`` that are already stored as inbound messages."""

    async def provider_key_for(self, *, message_id: str) -> str | None:
        """The provider key under which the inbound message with this Message-ID was stored."""


class MemorySyncState:
    """A ``SyncState`` in memory: for tests and for providers whose cursor may be lost on restart."""

    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self.stored: dict[str, str] = {}  # provider key -> Message-ID of messages "stored" by the caller

    async def get(self, *, key: str) -> str | None:
        return self._values.get(key)

    async def put(self, *, key: str, value: str) -> None:
        self._values[key] = value

    async def known_keys(self, *, keys: Iterable[str]) -> set[str]:
        return {k for k in keys if k in self.stored}

    async def known_message_ids(self, *, message_ids: Iterable[str]) -> set[str]:
        have = set(self.stored.values())
        return {m for m in message_ids if m in have}

    async def provider_key_for(self, *, message_id: str) -> str | None:
        return next((k for k, m in self.stored.items() if m == message_id), None)

    def remember(self, *, provider_key: str, message_id: str) -> None:
        """Record a message as stored (what ``store.messages`` does in production)."""
        self.stored[provider_key] = message_id


# --------------------------------------------------------------------------- push


class PushKind(StrEnum):
    CHANGE = "change"  # something changed: sync now
    MISSED = "missed"  # the provider dropped notifications: resync with the cursor
    REAUTHORIZE = "reauthorization_required"
    REMOVED = "subscription_removed"


class PushEvent(BaseModel):
    """A verified notification, as recorded by the webhook and handed to the provider later."""

    model_config = ConfigDict(frozen=True)

    kind: PushKind
    subscription_id: str | None = None
    cursor: str | None = None  # Gmail's historyId, for information


class WatchInfo(BaseModel):
    """A push subscription the provider holds (Graph subscription, Gmail watch)."""

    model_config = ConfigDict(frozen=True)

    resource: str
    subscription_id: str
    expires_at: datetime


# --------------------------------------------------------------------------- the Protocols


class MailProvider(MailboxPort, Protocol):
    name: str

    async def fetch_new(self) -> list[MailItem]:
        """Inbound messages not yet acknowledged (never the provider's own drafts and notes)."""

    async def acknowledge(self, *, provider_key: str) -> None:
        """The message is safely stored; the provider need not offer it again."""

    async def fetch_sent(self) -> list[MailItem]:
        """Sent messages not seen before; a sent copy of one of our drafts carries ``X-Shipdraft-Draft-Id``."""

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> MailItem | None:
        """The draft as it is now in the mailbox (perhaps edited by the agent), if it is still a draft.

        ``in_reply_to`` (the inbound Message-ID) lets a provider whose draft id lives in a header
        (Maildir, IMAP) find a draft that a client re-saved without it; see ``agent.ports``.
        """

    async def delete_draft(self, *, draft_id: str) -> bool:
        """Remove our draft (to replace an untouched one); False if it was not there."""

    async def list_history(self, *, since: datetime, limit: int = 500) -> list[MailItem]:
        """Inbound and sent messages received since ``since`` (backfill for similar-thread retrieval)."""

    async def wait_for_changes(self, *, timeout: float) -> bool:
        """Block until the mailbox changed (IMAP IDLE) or ``timeout`` passed; True if a change was seen."""

    async def aclose(self) -> None: ...


@runtime_checkable
class PushProvider(Protocol):
    """A provider that can hold push subscriptions (Graph change notifications, Gmail watch)."""

    async def ensure_watch(self) -> list[WatchInfo]:
        """Create missing subscriptions and renew those close to expiry; cheap when nothing is due."""

    async def handle_push(self, *, event: PushEvent) -> None:
        """React to a recorded lifecycle notification (renew, recreate, resync)."""
