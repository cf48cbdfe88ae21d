"""Mailbox configuration rows."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from store.errors import UnknownMailboxError


class MailboxRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def upsert(self, *, name: str, address: str, provider: str, config: dict[str, Any]) -> int:
        """Create or update a mailbox from its YAML configuration; return its id."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO mailboxes (name, address, provider, config) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, provider = EXCLUDED.provider, "
                "config = EXCLUDED.config, updated_at = now() RETURNING id",
                (name, address, provider, Jsonb(config)),
            )
            row = await cur.fetchone()
            assert row is not None
            return int(row["id"])

    async def id_of(self, *, name: str) -> int:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT id FROM mailboxes WHERE name = %s", (name,))
            row = await cur.fetchone()
        if row is None:
            raise UnknownMailboxError(f"no mailbox named {name!r}")
        return int(row["id"])

    async def names(self) -> list[str]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT name FROM mailboxes ORDER BY name")
            return [r["name"] for r in await cur.fetchall()]
