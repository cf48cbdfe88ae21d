"""Answered threads for ``shipdraft eval replay``: implements ``evals.replay.ReplaySource``.

An answered thread is a row of ``past_threads`` (the customer's text and the
reply the team sent, redacted, as indexed for retrieval). When shipdraft
received that customer message itself, ``messages`` still holds the raw
original (same mailbox, same Message-ID), and ``drafts`` /
``acceptance_events`` what happened to the draft it posted then.
"""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool

from evals.replay import AnsweredThread
from store.errors import UnknownMailboxError

_QUERY = """
SELECT t.thread_key, t.subject, t.customer_text, t.reply_text, t.language, t.replied_at,
       m.raw, a.outcome AS production_outcome, a.similarity AS production_similarity
FROM past_threads t
LEFT JOIN messages m ON m.mailbox_id = t.mailbox_id AND m.message_id = t.thread_key
LEFT JOIN drafts d ON d.message_id = m.id
LEFT JOIN acceptance_events a ON a.draft_id = d.draft_id
WHERE t.mailbox_id = %(mailbox_id)s
  AND (%(since)s::timestamptz IS NULL OR t.replied_at >= %(since)s::timestamptz)
ORDER BY t.replied_at NULLS LAST, t.id
LIMIT %(limit)s
"""


class ReplayRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def answered_threads(self, *, mailbox: str, since: datetime | None, limit: int) -> list[AnsweredThread]:
        """Answered threads of ``mailbox`` (replied at or after ``since``), oldest first, at most ``limit``."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT id FROM mailboxes WHERE name = %s", (mailbox,))
            row = await cur.fetchone()
            if row is None:
                raise UnknownMailboxError(f"no mailbox named {mailbox!r} is configured")
            await cur.execute(_QUERY, {"mailbox_id": row["id"], "since": since, "limit": limit})
            rows = await cur.fetchall()
        return [AnsweredThread(thread_key=r["thread_key"], subject=r["subject"], customer_text=r["customer_text"],
                               reply_text=r["reply_text"], language=r["language"], replied_at=r["replied_at"],
                               raw=bytes(r["raw"]) if r["raw"] is not None else None,
                               production_outcome=r["production_outcome"],
                               production_similarity=r["production_similarity"])
                for r in rows]
