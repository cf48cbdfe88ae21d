"""What the pipeline needs from the outside world: storage and the mailbox.

``store/`` implements ``MessageStore`` and the mail connectors implement
``MailboxPort``; the domain sees only these Protocols.

Finding a posted draft: by its stable draft id first. Where that id lives in
a header (Maildir, IMAP), many mail clients drop it when the agent edits and
re-saves the draft, so ``find_draft`` and ``fetch_draft`` take the inbound
message's Message-ID as ``in_reply_to``: when the id is gone, a message in
Drafts that replies to that inbound message (and is not a shipdraft note) is
the draft, edited by the agent. Graph (extended property) and Gmail (draft
id) keep their id through edits and ignore it.
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
    attempts: int  # claims so far, this one included: 1 means nothing was posted for it before


class OlderDraft(BaseModel):
    """A posted draft of an earlier customer message in the same thread, still waiting for its outcome."""

    model_config = ConfigDict(frozen=True)

    draft_id: str
    body: str
    inbound_message_id: str | None = None  # the Message-ID the draft answers: finds it when its id header is gone


class MessageStore(Protocol):
    async def claim(self, *, message_pk: int, lease_seconds: int, max_attempts: int) -> StoredMessage | None:
        """Move a message to ``processing`` if nobody else holds it; None when not claimable."""

    async def save_analysis(self, *, message_pk: int, result: AnalysisResult) -> None:
        """Record references, facts, the draft and the note (idempotent per draft id)."""

    async def mark_drafted(self, *, message_pk: int, draft_id: str, draft_location: str,
                           note_location: str) -> None: ...

    async def older_drafts(self, *, message_pk: int) -> list[OlderDraft]:
        """Posted drafts of earlier messages in this message's thread that have no outcome yet."""

    async def mark_superseded(self, *, draft_id: str) -> None:
        """Record that the draft was removed because a newer customer message replaced it."""

    async def quarantine(self, *, message_pk: int, reason: str) -> None: ...

    async def skip(self, *, message_pk: int, reason: str) -> None: ...

    async def fail(self, *, message_pk: int, reason: str) -> None: ...


class RawMessage(Protocol):
    """A message as a provider holds it."""

    @property
    def raw(self) -> bytes: ...

    @property
    def found_by_reply(self) -> bool:
        """True when the draft id was gone and the draft was found as the reply to the inbound message:
        a client re-saved it, so the agent edited it."""


class DraftLifecyclePort(Protocol):
    """Reading and removing a posted draft (to replace an untouched one)."""

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> RawMessage | None:
        """The draft as the mailbox holds it now (the agent may have edited it); None when gone.

        ``in_reply_to``: the Message-ID of the inbound message the draft answers. When no message
        carries the draft id any more, a provider that keeps the id in a header returns the message in
        Drafts that replies to it (``found_by_reply``); providers whose id survives edits ignore it.
        """

    async def delete_draft(self, *, draft_id: str) -> bool:
        """Remove the draft carrying this draft id; False when it was already gone.

        Only by the draft id: a draft found by ``in_reply_to`` is the agent's work and is never deleted.
        """


class MailboxPort(DraftLifecyclePort, Protocol):
    """Where drafts and notes go. Posting never sends anything."""

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        """Location of the draft carrying this draft id, if it was already posted.

        With ``in_reply_to`` (the inbound Message-ID) and no message carrying the id, the location of a
        message in Drafts that replies to that inbound message and is not a shipdraft note (see
        ``fetch_draft``). Costs a provider call only when the id lookup missed.
        """

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
