"""Mailbox sync state: provider cursors and recorded push notifications.

- ``MailboxSyncState`` implements ``connectors.mail.base.SyncState`` for one
  mailbox on the ``sync_state`` table (delta links, history ids, UIDs,
  subscriptions as JSON) and answers "do we already have this message?" from
  ``messages``, so a full resync never fetches or drafts a message twice.
- ``MailSyncRepository.record_notification`` is what the webhooks call: one
  row per notification, unique per (mailbox, source, key), so a replayed
  notification is refused; the runner or a worker reads the pending ones and
  marks them handled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from psycopg_pool import AsyncConnectionPool

from connectors.mail.base import PushEvent, PushKind
from store.errors import UnknownMailboxError


class MailboxSyncState:
    """``SyncState`` for one mailbox, in PostgreSQL."""

    def __init__(self, *, pool: AsyncConnectionPool, mailbox: str) -> None:
        self._pool = pool
        self.mailbox = mailbox

    async def get(self, *, key: str) -> str | None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT s.value FROM sync_state s JOIN mailboxes b ON b.id = s.mailbox_id "
                "WHERE b.name = %s AND s.key = %s",
                (self.mailbox, key),
            )
            row = await cur.fetchone()
        return None if row is None or row["value"] == "" else str(row["value"])

    async def put(self, *, key: str, value: str) -> None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO sync_state (mailbox_id, key, value) SELECT id, %s, %s FROM mailboxes WHERE name = %s "
                "ON CONFLICT (mailbox_id, key) DO UPDATE SET value = EXCLUDED.value RETURNING mailbox_id",
                (key, value, self.mailbox),
            )
            if await cur.fetchone() is None:
                raise UnknownMailboxError(f"no mailbox named {self.mailbox!r}")

    async def known_keys(self, *, keys: Iterable[str]) -> set[str]:
        wanted = list(keys)
        if not wanted:
            return set()
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT m.provider_key FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "WHERE b.name = %s AND m.provider_key = ANY(%s)",
                (self.mailbox, wanted),
            )
            return {r["provider_key"] for r in await cur.fetchall()}

    async def known_message_ids(self, *, message_ids: Iterable[str]) -> set[str]:
        wanted = list(message_ids)
        if not wanted:
            return set()
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT m.message_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "WHERE b.name = %s AND m.message_id = ANY(%s)",
                (self.mailbox, wanted),
            )
            return {r["message_id"] for r in await cur.fetchall()}

    async def provider_key_for(self, *, message_id: str) -> str | None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT m.provider_key FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "WHERE b.name = %s AND m.message_id = %s",
                (self.mailbox, message_id),
            )
            row = await cur.fetchone()
        return None if row is None else str(row["provider_key"])


class MailSyncRepository:
    """Recorded push notifications, for every mailbox."""

    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    def state(self, *, mailbox: str) -> MailboxSyncState:
        return MailboxSyncState(pool=self._pool, mailbox=mailbox)

    async def record_notification(self, *, mailbox: str, source: str, key: str, event: PushEvent) -> bool:
        """Record one verified notification; False if it was recorded before (a replay) or the mailbox is unknown."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO mail_notifications (mailbox_id, source, dedup_key, kind, subscription_id, cursor) "
                "SELECT id, %s, %s, %s, %s, %s FROM mailboxes WHERE name = %s "
                "ON CONFLICT (mailbox_id, source, dedup_key) DO NOTHING RETURNING id",
                (source, key, event.kind.value, event.subscription_id, event.cursor, mailbox),
            )
            return await cur.fetchone() is not None

    async def pending_notifications(self, *, mailbox: str, limit: int = 100) -> list[tuple[int, PushEvent]]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT n.id, n.kind, n.subscription_id, n.cursor FROM mail_notifications n "
                "JOIN mailboxes b ON b.id = n.mailbox_id WHERE b.name = %s AND n.handled_at IS NULL "
                "ORDER BY n.id LIMIT %s",
                (mailbox, limit),
            )
            return [(int(r["id"]), PushEvent(kind=PushKind(r["kind"]), subscription_id=r["subscription_id"],
                                              cursor=r["cursor"])) for r in await cur.fetchall()]

    async def mark_handled(self, *, ids: Iterable[int]) -> None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("UPDATE mail_notifications SET handled_at = now() WHERE id = ANY(%s)", (list(ids),))

    async def prune(self, *, older_than: timedelta) -> int:
        """Forget handled notifications older than ``older_than`` (replays that old are refused by expiry)."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "DELETE FROM mail_notifications WHERE handled_at IS NOT NULL AND received_at < now() - %s",
                (older_than,),
            )
            return cur.rowcount
