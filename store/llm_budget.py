"""The per-mailbox daily LLM token budget; implements ``agent.llm_drafter.TokenBudget``."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool


class TokenBudgetRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def remaining(self, *, mailbox: str, limit: int) -> int:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT coalesce(sum(u.tokens), 0) AS used FROM llm_usage u JOIN mailboxes b ON b.id = u.mailbox_id "
                "WHERE b.name = %s AND u.day = current_date",
                (mailbox,),
            )
            row = await cur.fetchone()
        return limit - int(row["used"] if row else 0)

    async def spend(self, *, mailbox: str, tokens: int) -> None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO llm_usage (mailbox_id, day, tokens) SELECT id, current_date, %s FROM mailboxes "
                "WHERE name = %s ON CONFLICT (mailbox_id, day) DO UPDATE SET tokens = llm_usage.tokens + "
                "EXCLUDED.tokens",
                (tokens, mailbox),
            )
