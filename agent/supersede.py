"""Replacing an older draft when the customer writes again: never the agent's edits, only an untouched one.

When a new customer message arrives in a thread whose older shipdraft draft
is still waiting, the older draft answers a question that has moved on.
``supersede`` removes it only if the agent has not touched it (its text is
still what shipdraft wrote, compared the way acceptance compares sent
replies); an edited draft is the agent's work and is left alone. A draft
found only as the reply to the inbound message (``in_reply_to``: a mail
client re-saved it without our draft id header) was edited by definition and
is kept too. Whether to replace at all is a mailbox setting
(``replace_untouched_drafts``).
"""

from __future__ import annotations

import logging
from enum import StrEnum

from agent.acceptance import comparable_text
from agent.errors import ParseError
from agent.parsing import parse_email
from agent.ports import DraftLifecyclePort

log = logging.getLogger(__name__)


class Superseded(StrEnum):
    REMOVED = "removed"  # untouched: deleted, the caller posts the new draft
    KEPT_EDITED = "kept_edited"  # the agent edited it: left alone, the caller posts nothing over it
    GONE = "gone"  # no longer a draft (sent or discarded)
    DISABLED = "disabled"  # the mailbox does not replace drafts


async def supersede(
    *, provider: DraftLifecyclePort, draft_id: str, posted_body: str, enabled: bool = True,
    in_reply_to: str | None = None,
) -> Superseded:
    """Remove the older draft ``draft_id`` if it is exactly as posted; report what happened.

    ``in_reply_to`` is the Message-ID of the inbound message the older draft answers, so a draft that a
    client re-saved without our id is still recognised (and kept) instead of taken for gone.
    """
    if not enabled:
        return Superseded.DISABLED
    current = await provider.fetch_draft(draft_id=draft_id, in_reply_to=in_reply_to)
    if current is None:
        return Superseded.GONE
    if current.found_by_reply:
        log.info("older draft was re-saved by the agent's client; kept", extra={"draft_id": draft_id})
        return Superseded.KEPT_EDITED
    try:
        text = parse_email(raw=current.raw, strict=False).reply_text
    except ParseError:
        return Superseded.KEPT_EDITED  # unreadable: never risk the agent's work
    if comparable_text(text) != comparable_text(posted_body):
        log.info("older draft was edited; kept", extra={"draft_id": draft_id})
        return Superseded.KEPT_EDITED
    return Superseded.REMOVED if await provider.delete_draft(draft_id=draft_id) else Superseded.GONE
