"""The one place that orders the stages.

parse -> extract references -> classify intents -> look up (with sender
authorization) -> retrieve similar threads -> draft -> note -> post.

``process_message`` is the idempotent unit of work used by the embedded
runner, the Celery task and the benchmark alike: it claims the message, and
a retry after a crash finds the draft it already posted by its stable draft
id instead of posting a second one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from agent.drafting import Drafter, DraftRequest
from agent.errors import ParseError
from agent.intents import IntentClassifier, RuleIntentClassifier
from agent.lookup import BusinessSystems, lookup
from agent.models import AnalysisResult, Email
from agent.notes import build_note
from agent.parsing import DEFAULT_MAX_BYTES, parse_email
from agent.ports import MailboxPort, MessageStore
from agent.profile import MailboxProfile
from agent.references import extract_references
from agent.retrieval import ThreadIndex, similar_threads
from agent.supersede import Superseded, supersede

log = logging.getLogger(__name__)
DRAFT_NAMESPACE = uuid.UUID("6f1d3c1e-5b7a-4f1e-9a51-2f0c8e4d7b10")


class Outcome(StrEnum):
    DRAFTED = "drafted"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"
    FAILED = "failed"
    NOT_CLAIMED = "not_claimed"


class ProcessResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_pk: int
    outcome: Outcome
    reason: str = ""
    subject: str = ""
    sender: str = ""
    references: tuple[str, ...] = ()
    facts: int = 0
    withheld: int = 0
    draft_id: str = ""
    draft_location: str = ""
    reused_draft: bool = False
    replaced_drafts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PipelineDeps:
    profile: MailboxProfile
    systems: BusinessSystems
    drafter: Drafter
    index: ThreadIndex | None = None
    similar_limit: int = 3
    classifier: IntentClassifier = field(default_factory=RuleIntentClassifier)
    lookup_timeout: float = 10.0
    max_message_bytes: int = DEFAULT_MAX_BYTES
    lease_seconds: int = 300
    max_attempts: int = 5
    clock: Callable[[], datetime] = field(default=lambda: _utc_now())  # "now": when a promised date has passed


def _utc_now() -> datetime:
    return datetime.now(UTC)


def draft_id_for(*, mailbox: str, provider_key: str) -> str:
    """The stable draft id of one inbound message: the same on every retry."""
    return str(uuid.uuid5(DRAFT_NAMESPACE, f"{mailbox}\x00{provider_key}"))


def skip_reason(*, email: Email, profile: MailboxProfile) -> str | None:
    """Why a parsed message must not be drafted for (our own notes, auto-replies, ...)."""
    if email.headers.get("X-Shipdraft-Draft-Id") or email.headers.get("X-Shipdraft-Note-For"):
        return "written by shipdraft"
    if email.from_address == profile.address.lower():
        return "sent by the mailbox itself"
    auto = email.headers.get("Auto-Submitted", "no").strip().lower()
    if auto and auto != "no":
        return f"automatic message (Auto-Submitted: {auto})"
    if email.headers.get("Precedence", "").strip().lower() in ("bulk", "junk", "list"):
        return "bulk or list mail"
    return None


async def analyze(*, email: Email, draft_id: str, deps: PipelineDeps) -> AnalysisResult:
    """Everything from a parsed email to a draft and its note; posts nothing."""
    now = deps.clock()
    references = extract_references(email=email, rules=deps.profile.references)
    intents = deps.classifier.classify(email=email)
    found = await lookup(sender=email.from_address, references=references, systems=deps.systems,
                         policy=deps.profile.authorization, timeout=deps.lookup_timeout)
    similar = await similar_threads(index=deps.index, mailbox=deps.profile.name, email=email,
                                   limit=deps.similar_limit)
    draft = await deps.drafter.draft(request=DraftRequest(draft_id=draft_id, email=email, references=references,
                                                          intents=intents, lookup=found, style=deps.profile.style,
                                                          similar=similar, now=now))
    note = build_note(email=email, references=references, intents=intents, lookup=found, similar=similar,
                      draft=draft, now=now)
    return AnalysisResult(email=email, references=references, intents=intents, lookup=found,
                          similar=similar, draft=draft, note=note)


async def replace_older_drafts(
    *, message_pk: int, email: Email, store: MessageStore, mailbox: MailboxPort, deps: PipelineDeps
) -> list[str]:
    """The customer wrote again: remove the thread's older drafts that nobody touched.

    An edited older draft is the agent's work and stays; a draft already gone is left to
    acceptance logging (sent or discarded). Failing here never undoes the new draft: the
    older one stays in the mailbox and is logged. Returns the draft ids removed.

    A message that replies to nothing (no In-Reply-To, no References) opens its thread, so
    it has no older drafts to replace and the store is not asked.
    """
    replaced: list[str] = []
    if not deps.profile.replace_untouched_drafts or not (email.in_reply_to or email.references):
        return replaced
    for older in await store.older_drafts(message_pk=message_pk):
        try:
            outcome = await supersede(provider=mailbox, draft_id=older.draft_id, posted_body=older.body,
                                      in_reply_to=older.inbound_message_id)
        except Exception:
            log.warning("older draft not replaced", exc_info=True,
                        extra={"message_pk": message_pk, "draft_id": older.draft_id})
            continue
        if outcome == Superseded.REMOVED:
            await store.mark_superseded(draft_id=older.draft_id)
            replaced.append(older.draft_id)
    return replaced


async def process_message(
    *, message_pk: int, store: MessageStore, mailbox: MailboxPort, deps: PipelineDeps
) -> ProcessResult:
    """Claim, analyze, post and record one inbound message, at most one draft ever."""
    stored = await store.claim(message_pk=message_pk, lease_seconds=deps.lease_seconds,
                               max_attempts=deps.max_attempts)
    if stored is None:
        return ProcessResult(message_pk=message_pk, outcome=Outcome.NOT_CLAIMED)
    try:
        email = parse_email(raw=stored.raw, max_bytes=deps.max_message_bytes)
    except ParseError as exc:
        await store.quarantine(message_pk=message_pk, reason=str(exc))
        return ProcessResult(message_pk=message_pk, outcome=Outcome.QUARANTINED, reason=str(exc))
    base = {"message_pk": message_pk, "subject": email.subject, "sender": email.from_address}
    reason = skip_reason(email=email, profile=deps.profile)
    if reason:
        await store.skip(message_pk=message_pk, reason=reason)
        return ProcessResult(**base, outcome=Outcome.SKIPPED, reason=reason)

    draft_id = draft_id_for(mailbox=stored.mailbox, provider_key=stored.provider_key)
    try:
        result = await analyze(email=email, draft_id=draft_id, deps=deps)
        await store.save_analysis(message_pk=message_pk, result=result)
        # Only a retry can find something already posted: the claim counts attempts, and a first attempt
        # has posted nothing yet, so it asks the mailbox nothing (and never takes a draft the agent
        # started on its own for ours). A retry finds the draft by its id, or re-saved by the agent's
        # client without it, and the note by its id.
        retry = stored.attempts > 1
        existing = await mailbox.find_draft(draft_id=draft_id, in_reply_to=email.message_id) if retry else None
        location = existing or await mailbox.post_draft(inbound=email, draft=result.draft)
        note_location = (await mailbox.find_note(draft_id=draft_id) if retry else None) or await mailbox.post_note(
            inbound=email, note=result.note)
        await store.mark_drafted(message_pk=message_pk, draft_id=draft_id, draft_location=location,
                                 note_location=note_location)
    except Exception as exc:  # a worker never dies on one message: record it, retry later
        log.exception("processing failed", extra={"message_pk": message_pk})
        reason = f"{type(exc).__name__}: {exc}"
        await store.fail(message_pk=message_pk, reason=reason)
        return ProcessResult(**base, outcome=Outcome.FAILED, reason=reason, draft_id=draft_id)
    replaced: list[str] = []
    try:  # the new draft is posted and recorded whatever happens to the older ones
        replaced = await replace_older_drafts(message_pk=message_pk, email=email, store=store, mailbox=mailbox,
                                              deps=deps)
    except Exception:
        log.warning("older drafts of the thread not replaced", exc_info=True, extra={"message_pk": message_pk})
    return ProcessResult(
        **base,
        outcome=Outcome.DRAFTED,
        references=tuple(f"{r.kind.value}:{r.value}" for r in result.references),
        facts=len(result.lookup.facts),
        withheld=len(result.lookup.withheld),
        draft_id=draft_id,
        draft_location=location,
        reused_draft=existing is not None,
        replaced_drafts=tuple(replaced),
    )
