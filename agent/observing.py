"""Observe what the agent did with each draft and record the outcome.

A sent reply is matched to its draft by the ``X-Shipdraft-Draft-Id`` header
when the client kept it, otherwise by ``In-Reply-To`` pointing at the inbound
message. A reply sent while the draft still sits untouched in Drafts (still
carrying its draft id) was written without it. A draft that vanished from the
mailbox with no reply for longer than the grace period counts as discarded
(the grace period covers the moment between a draft leaving Drafts and its
copy reaching Sent); one left open longer than the expiry counts as expired.

"Vanished" asks the mailbox with the inbound Message-ID as well: many IMAP
clients re-save an edited draft without our draft id header, and that draft
is still there, being worked on, not discarded.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict

from agent.acceptance import AcceptanceThresholds, compare
from agent.errors import ParseError
from agent.models import Acceptance, AcceptanceOutcome
from agent.parsing import parse_email
from agent.ports import AcceptanceStore, MailboxPort, OpenDraft

log = logging.getLogger(__name__)


class Observation(BaseModel):
    model_config = ConfigDict(frozen=True)

    draft_id: str
    outcome: AcceptanceOutcome
    similarity: float | None = None


async def observe(
    *,
    mailbox_name: str,
    sent: list[tuple[str, bytes]],
    mailbox: MailboxPort,
    store: AcceptanceStore,
    thresholds: AcceptanceThresholds | None = None,
    discard_grace_seconds: float = 3600.0,
    expire_after_seconds: float = 14 * 86400.0,
) -> list[Observation]:
    """Match newly seen sent messages to open drafts; detect discarded drafts."""
    drafts = await store.open_drafts(mailbox=mailbox_name)
    by_id = {d.draft_id: d for d in drafts}
    by_inbound = {d.inbound_message_id: d for d in drafts}
    done: list[Observation] = []
    for provider_key, raw in sent:
        try:
            reply = parse_email(raw=raw)
        except ParseError as exc:
            log.warning("unreadable sent message skipped", extra={"key": provider_key, "reason": str(exc)})
            continue
        draft = by_id.get(reply.headers.get("X-Shipdraft-Draft-Id", "").strip()) or by_inbound.get(
            reply.in_reply_to or "")
        if draft is None:
            continue
        carries_draft_id = bool(reply.headers.get("X-Shipdraft-Draft-Id"))
        # by the draft id only: a draft found as a reply (re-saved without the id) was edited, not untouched
        untouched = not carries_draft_id and await mailbox.find_draft(draft_id=draft.draft_id) is not None
        result = compare(drafted=draft.body, sent=reply.reply_text, thresholds=thresholds,
                         suggestions=draft.suggestions, draft_left_untouched=untouched)
        seconds = (_aware(reply.date) - _aware(draft.posted_at)).total_seconds() \
            if reply.date and draft.posted_at else None
        sender = reply.headers.get("Sender") or reply.from_address
        result = result.model_copy(update={"seconds_to_send": seconds, "sent_by": sender or None})
        if await store.record_outcome(draft_id=draft.draft_id, acceptance=result, sent_provider_key=provider_key,
                                      sent_at=reply.date):
            done.append(Observation(draft_id=draft.draft_id, outcome=result.outcome, similarity=result.similarity))
            await store.index_thread(mailbox=mailbox_name, thread_key=draft.inbound_message_id,
                                     subject=draft.subject, customer_text=draft.customer_text,
                                     reply_text=reply.reply_text, language=draft.language, replied_at=reply.date)
        by_id.pop(draft.draft_id, None)
        by_inbound.pop(draft.inbound_message_id, None)
    for draft in by_id.values():
        if draft.age_seconds >= expire_after_seconds:
            expired = Acceptance(outcome=AcceptanceOutcome.EXPIRED)
            if await store.record_outcome(draft_id=draft.draft_id, acceptance=expired, sent_provider_key=None,
                                          sent_at=None):
                done.append(Observation(draft_id=draft.draft_id, outcome=AcceptanceOutcome.EXPIRED))
            continue
        done.extend(await _check_discarded(draft, mailbox=mailbox, store=store, grace=discard_grace_seconds))
    return done


def _aware(value: datetime) -> datetime:
    """A Date header without a zone ("-0000") is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _check_discarded(draft: OpenDraft, *, mailbox: MailboxPort, store: AcceptanceStore,
                           grace: float) -> list[Observation]:
    present = await mailbox.find_draft(draft_id=draft.draft_id, in_reply_to=draft.inbound_message_id) is not None
    if present:
        if draft.missing_since_seconds is not None:
            await store.mark_missing(draft_id=draft.draft_id, missing=False)
        return []
    if draft.missing_since_seconds is None:
        await store.mark_missing(draft_id=draft.draft_id, missing=True)
        if grace > 0:
            return []
    elif draft.missing_since_seconds < grace:
        return []
    outcome = Acceptance(outcome=AcceptanceOutcome.DISCARDED)
    if await store.record_outcome(draft_id=draft.draft_id, acceptance=outcome, sent_provider_key=None,
                                  sent_at=None):
        return [Observation(draft_id=draft.draft_id, outcome=AcceptanceOutcome.DISCARDED)]
    return []
