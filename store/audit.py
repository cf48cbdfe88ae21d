"""The audit log: one row for every action the agent takes, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncCursor
from psycopg.types.json import Jsonb


async def record(
    cur: AsyncCursor[Any], *, action: str, mailbox_id: int | None = None, message_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    await cur.execute(
        "INSERT INTO audit_log (mailbox_id, message_id, action, detail) VALUES (%s, %s, %s, %s)",
        (mailbox_id, message_id, action, Jsonb(detail or {})),
    )
