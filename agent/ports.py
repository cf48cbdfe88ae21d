"""What the pipeline needs from the outside world: storage and the mailbox.

``store/`` implements ``MessageStore`` and the mail connectors implement
``MailboxPort``; the domain sees only these Protocols.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from agent.models import Acceptance, AnalysisResult, Draft, Email, Note, Suggestion


class StoredMessage(BaseModel):
    """An inbound message as stored: the raw bytes are the source of truth."""

    model_config = ConfigDict(frozen=True)

    id: int
    mailbox: str
    provider_key: str
    raw: bytes
    attempts: int


class MessageStore(Protocol):
    async def claim(self, *, message_pk: int, lease_seconds: int, max_attempts: int) -> StoredMessage | None:
        """Move a message to ``processing`` if nobody else holds it; None when not claimable."""

    async def save_analysis(self, *, message_pk: int, result: AnalysisResult) -> None:
        """Record references, facts, the draft and the note (idempotent per draft id)."""

    async def mark_drafted(self, *, message_pk: int, draft_id: str, draft_location: str,
                           note_location: str) -> None: ...

    async def quarantine(self, *, message_pk: int, reason: str) -> None: ...

    async def skip(self, *, message_pk: int, reason: str) -> None: ...

    async def fail(self, *, message_pk: int, reason: str) -> None: ...


class MailboxPort(Protocol):
    """Where drafts and notes go. Posting never sends anything."""

    async def find_draft(self, *, draft_id: str) -> str | None:
        """Location of the draft carrying this draft id, if it was already posted."""

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str: ...

    async def find_note(self, *, draft_id: str) -> str | None: ...

    async def post_note(self, *, inbound: Email, note: Note) -> str: ...


class OpenDraft(BaseModel):
    """A posted draft still waiting for its outcome."""

    model_config = ConfigDict(frozen=True)

    draft_id: str
    body: str
    inbound_message_id: str
    subject: str
    customer_text: str
    language: str | None
    missing_since_seconds: float | None
    age_seconds: float = 0.0
    posted_at: datetime | None = None
    suggestions: tuple[Suggestion, ...] = ()


class AcceptanceStore(Protocol):
    async def open_drafts(self, *, mailbox: str) -> list[OpenDraft]: ...

    async def record_outcome(self, *, draft_id: str, acceptance: Acceptance, sent_provider_key: str | None,
                             sent_at: datetime | None) -> bool: ...

    async def mark_missing(self, *, draft_id: str, missing: bool) -> None: ...

    async def index_thread(self, *, mailbox: str, thread_key: str, subject: str, customer_text: str,
                           reply_text: str, language: str | None, replied_at: datetime | None) -> bool: ...
