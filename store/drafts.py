"""Posted drafts and their acceptance outcome."""

from __future__ import annotations

from datetime import datetime

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from agent.models import Acceptance
from agent.ports import OpenDraft
from store import audit
from store.threads import PastThreadRepository


class DraftRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._threads = PastThreadRepository(pool=pool)

    async def open_drafts(self, *, mailbox: str) -> list[OpenDraft]:
        """Posted drafts still waiting for an outcome, with the inbound message they answer."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT d.draft_id::text AS draft_id, d.body, m.message_id AS inbound_message_id, "
                "coalesce(m.subject, '') AS subject, coalesce(m.reply_text, '') AS customer_text, m.language, "
                "extract(epoch FROM now() - d.missing_since)::float AS missing_since_seconds, "
                "extract(epoch FROM now() - coalesce(d.posted_at, d.created_at))::float AS age_seconds, "
                "d.posted_at, d.suggestions "
                "FROM drafts d JOIN messages m ON m.id = d.message_id JOIN mailboxes b ON b.id = d.mailbox_id "
                "WHERE b.name = %s AND d.status = 'posted' ORDER BY d.posted_at",
                (mailbox,),
            )
            return [OpenDraft(**r) for r in await cur.fetchall()]

    async def index_thread(self, *, mailbox: str, thread_key: str, subject: str, customer_text: str,
                           reply_text: str, language: str | None, replied_at: datetime | None) -> bool:
        """An answered thread becomes a style example for later drafts."""
        return await self._threads.add(mailbox=mailbox, thread_key=thread_key, subject=subject,
                                       customer_text=customer_text, reply_text=reply_text, language=language,
                                       replied_at=replied_at)

    async def record_outcome(self, *, draft_id: str, acceptance: Acceptance, sent_provider_key: str | None,
                             sent_at: datetime | None) -> bool:
        """Record the final outcome of a draft once; False if it already had one."""
        status = {"discarded": "discarded", "superseded": "superseded", "expired": "expired"}.get(
            acceptance.outcome.value, "sent")
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO acceptance_events (draft_id, outcome, similarity, edit_size, sent_provider_key, "
                "sent_at, light_edit, suggestions, seconds_to_send, sent_by) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (draft_id) DO NOTHING RETURNING id",
                (draft_id, acceptance.outcome.value, acceptance.similarity, acceptance.edit_size,
                 sent_provider_key, sent_at, acceptance.light_edit,
                 Jsonb([x.model_dump() for x in acceptance.suggestions]), acceptance.seconds_to_send,
                 acceptance.sent_by),
            )
            if await cur.fetchone() is None:
                return False
            await cur.execute(
                "UPDATE drafts SET status = %s WHERE draft_id = %s RETURNING mailbox_id, message_id",
                (status, draft_id),
            )
            row = await cur.fetchone()
            await audit.record(cur, action=f"acceptance_{acceptance.outcome.value}",
                               mailbox_id=row["mailbox_id"] if row else None,
                               message_id=row["message_id"] if row else None,
                               detail={"draft_id": draft_id, "similarity": acceptance.similarity,
                                       "edit_size": acceptance.edit_size, "sent": sent_provider_key})
            return True

    async def mark_missing(self, *, draft_id: str, missing: bool) -> None:
        """Remember since when a posted draft is gone from the mailbox (or that it is back)."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "UPDATE drafts SET missing_since = CASE WHEN %s THEN coalesce(missing_since, now()) END "
                "WHERE draft_id = %s",
                (missing, draft_id),
            )

    async def outcomes(self, *, mailbox: str) -> dict[str, int]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT a.outcome, count(*) AS n FROM acceptance_events a JOIN drafts d USING (draft_id) "
                "JOIN mailboxes b ON b.id = d.mailbox_id WHERE b.name = %s GROUP BY a.outcome",
                (mailbox,),
            )
            return {r["outcome"]: int(r["n"]) for r in await cur.fetchall()}
