"""Response models of the HTTP API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
