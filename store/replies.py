"""Every reply the team sent from a mailbox, for first-response time (``store.metrics``).

``SentReplyRepository.record`` stores each sent message that answers
something (it carries In-Reply-To or References): the Message-IDs it points
at, when it was sent (its Date header) and the shipdraft draft id if the
client kept it. Acceptance (``store.drafts``) only knows the replies matched
to a draft; this knows them all, so a message that never got a draft still
has a first response on record. A message recorded twice (same provider key)
is stored once.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict

_MSGID = re.compile(r"<[^<>\s]+>")


class SentReply(BaseModel):
    """What first-response time needs of one sent message."""

    model_config = ConfigDict(frozen=True)

    provider_key: str
    message_id: str | None
    thread_refs: tuple[str, ...]
    sent_at: datetime | None
    draft_id: str | None


def sent_reply_of(*, provider_key: str, raw: bytes) -> SentReply:
    """The headers of a sent message that matter here, read cheaply (headers only, never raises)."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        refs = _MSGID.findall(f"{headers.get('In-Reply-To') or ''} {headers.get('References') or ''}")
        sent_at = _date(str(headers.get("Date") or ""))
        message_id = (_MSGID.findall(str(headers.get("Message-ID") or "")) or [None])[0]
        draft_id = str(headers.get("X-Shipdraft-Draft-Id") or "").strip() or None
    except Exception:  # an unreadable header block: nothing to link the message to
        return SentReply(provider_key=provider_key, message_id=None, thread_refs=(), sent_at=None, draft_id=None)
    return SentReply(provider_key=provider_key, message_id=message_id, thread_refs=tuple(dict.fromkeys(refs)),
                     sent_at=sent_at, draft_id=draft_id)


class SentReplyRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def record(self, *, mailbox: str, sent: list[tuple[str, bytes]]) -> int:
        """Store the replies among ``sent`` (provider key, raw message); return how many were new."""
        replies = [r for r in (sent_reply_of(provider_key=k, raw=raw) for k, raw in sent) if r.thread_refs]
        if not replies:
            return 0
        async with self._pool.connection() as conn, conn.cursor() as cur:
            new = 0
            for r in replies:
                await cur.execute(
                    "INSERT INTO sent_replies (mailbox_id, provider_key, message_id, thread_refs, sent_at, draft_id) "
                    "SELECT id, %s, %s, %s, coalesce(%s, now()), %s FROM mailboxes WHERE name = %s "
                    "ON CONFLICT (mailbox_id, provider_key) DO NOTHING",
                    (r.provider_key, r.message_id, list(r.thread_refs), r.sent_at, r.draft_id, mailbox),
                )
                new += cur.rowcount
        return new


def _date(value: str) -> datetime | None:
    """An RFC 5322 date; one without a zone ("-0000") is UTC."""
    if not value.strip():
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
