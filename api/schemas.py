"""Response models of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Health(BaseModel):
    status: str
    database: str


class MessageSummary(BaseModel):
    id: int
    mailbox: str
    message_id: str
    from_address: str | None
    subject: str | None
    language: str | None
    intents: list[str] | None
    state: str
    error: str | None
    attempts: int
    received_at: datetime
    processed_at: datetime | None
    draft_id: str | None
    draft_status: str | None


class ReferenceOut(BaseModel):
    kind: str
    value: str
    raw: str
    source: str
    validity: str


class FactOut(BaseModel):
    id: str
    subject: str
    name: str
    value: str
    source_system: str
    record_id: str
    link: str | None
    fetched_at: datetime


class SuggestionOut(BaseModel):
    text: str
    fact_ids: list[str]
    kind: str


class DraftOut(BaseModel):
    draft_id: str
    subject: str
    body: str
    note: str
    language: str
    drafter: str
    template_version: str
    status: str
    location: str | None
    note_location: str | None
    created_at: datetime
    posted_at: datetime | None
    suggestions: list[SuggestionOut]
    model: str | None
    confidence: float | None
    prompt_tokens: int
    completion_tokens: int
    latency_ms: int
    fallback_reason: str | None


class AcceptanceOut(BaseModel):
    outcome: str
    similarity: float | None
    edit_size: int | None
    sent_at: datetime | None
    recorded_at: datetime


class MessageDetail(BaseModel):
    id: int
    mailbox: str
    message_id: str
    from_address: str | None
    subject: str | None
    language: str | None
    intents: list[str] | None
    state: str
    error: str | None
    attempts: int
    received_at: datetime
    processed_at: datetime | None
    reply_text: str | None
    thread_id: int | None
    references: list[ReferenceOut]
    facts: list[FactOut]
    draft: DraftOut | None
    acceptance: AcceptanceOut | None


# --------------------------------------------------------------------------- acceptance metrics


class AcceptanceRow(BaseModel):
    """Outcome counts of one value of the breakdown dimension; superseded drafts are left out."""

    key: str | None = Field(description="the mailbox, intent, language, drafter, prompt version or ISO week")
    drafts: int = Field(description="drafts with an outcome other than superseded")
    sent_as_is: int
    light_edit: int = Field(description="edited, at or above the light-edit threshold")
    edited: int = Field(description="edited below the light-edit threshold")
    rewritten: int
    replied_without_draft: int
    discarded: int
    expired: int
    rate_as_is: float
    rate_as_is_or_light: float


class EditSizeBucket(BaseModel):
    """How many sent drafts changed by this many characters (Levenshtein distance of the agent-written text)."""

    bucket: str = Field(description="0, 1-20, 21-100, 101-300 or >300 characters")
    drafts: int


class SuggestionKindRow(BaseModel):
    """Per suggestion kind, how many suggestions survived in the reply that was sent."""

    kind: str
    suggestions: int
    survived: int
    rate: float


class ResponseTimeRow(BaseModel):
    """First-response time of the inbound messages that got a reply, with or without a draft.

    Every inbound message counts, whatever shipdraft did with it (drafted, skipped, quarantined,
    failed, stored after it was answered): the time from its receipt to the first reply sent in its
    thread, grouped by whether a shipdraft draft for it was in the mailbox when that reply was sent.
    """

    kind: str = Field(description="'with draft' (a draft was there when the first reply was sent) or 'without draft'")
    replies: int = Field(description="inbound messages answered (each counted once, at its first reply)")
    p50_s: float | None = Field(description="median seconds from receipt to the first reply")
    p90_s: float | None = Field(description="90th percentile seconds from receipt to the first reply")
    draft_to_send_p50_s: float | None = Field(description="median seconds from the draft being posted to the send")
