"""Inbound messages and their processing state; implements ``agent.ports.MessageStore``.

States: received -> processing -> drafted | quarantined | skipped | failed.
A message in ``processing`` whose lease ran out (a crashed worker) and a
``failed`` one with attempts left can be claimed again; the claim is a single
conditional UPDATE, so two workers never hold the same message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from agent.models import Acceptance, AcceptanceOutcome, AnalysisResult
from agent.ports import OlderDraft, StoredMessage
from store.drafts import DraftRepository

_CLAIMABLE = (
    "(m.state = 'received' OR (m.state = 'failed' AND m.attempts < %(max_attempts)s)"
    " OR (m.state = 'processing' AND m.lease_until < now()))"
)


# The hot path writes each step in one statement: data-modifying CTEs put the state change and its audit row
# (and, for the analysis, the thread, references, facts and draft) in one round trip and one transaction.
# Asynchronous commit (no WAL flush before the commit returns) for the transactions a retry redoes without
# harm: if the operating system crashes before the WAL reaches the disk, the message is still claimed with its
# attempt counted (the claim commits synchronously), so the retry looks for the posted draft by its id before
# posting. Ingest and claim stay synchronous: a lost ingest would lose a message already acknowledged at the
# source, a lost claim would make a retry look like a first attempt. A crash of PostgreSQL alone loses nothing.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off"
_INSERT_INBOUND = (
    "WITH ins AS (INSERT INTO messages (mailbox_id, provider_key, message_id, raw, size) "
    "SELECT id, %(key)s, %(message_id)s, %(raw)s, %(size)s FROM mailboxes WHERE name = %(mailbox)s "
    "ON CONFLICT DO NOTHING RETURNING id, mailbox_id), "
    "audit AS (INSERT INTO audit_log (mailbox_id, message_id, action, detail) "
    "SELECT mailbox_id, id, 'message_received', %(detail)s FROM ins) "
    "SELECT id FROM ins"
)
_SAVE_ANALYSIS = (
    "WITH msg AS (SELECT mailbox_id FROM messages WHERE id = %(pk)s), "
    "thread AS (INSERT INTO threads (mailbox_id, subject, root_message_id) "
    "SELECT mailbox_id, %(subject)s, %(root)s FROM msg "
    "ON CONFLICT (mailbox_id, root_message_id) DO UPDATE SET subject = threads.subject RETURNING id), "
    "upd AS (UPDATE messages SET thread_id = (SELECT id FROM thread), from_address = %(from_address)s, "
    "subject = %(subject)s, in_reply_to = %(in_reply_to)s, reply_text = %(reply_text)s, "
    "quoted_text = %(quoted_text)s, language = %(language)s, intents = %(intents)s WHERE id = %(pk)s), "
    "refs AS (INSERT INTO message_references (message_id, kind, value, raw, source, validity) "
    "SELECT %(pk)s, r.kind, r.value, r.raw, r.source, r.validity FROM jsonb_to_recordset(%(references)s) "
    "AS r(kind text, value text, raw text, source text, validity text) ON CONFLICT DO NOTHING), "
    "fact_rows AS (INSERT INTO facts (message_id, fact_key, subject, name, value, source_system, record_id, link, "
    "fetched_at) SELECT %(pk)s, f.fact_key, f.subject, f.name, f.value, f.source_system, f.record_id, f.link, "
    "f.fetched_at FROM jsonb_to_recordset(%(facts)s) AS f(fact_key text, subject text, name text, value text, "
    "source_system text, record_id text, link text, fetched_at timestamptz)), "
    "draft AS (INSERT INTO drafts (draft_id, message_id, mailbox_id, subject, body, note, language, drafter, "
    "template_version, suggestions, model, confidence, prompt_tokens, completion_tokens, latency_ms, "
    "fallback_reason) SELECT %(draft_id)s, %(pk)s, mailbox_id, %(draft_subject)s, %(body)s, %(note)s, "
    "%(draft_language)s, %(drafter)s, %(template_version)s, %(suggestions)s, %(model)s, %(confidence)s, "
    "%(prompt_tokens)s, %(completion_tokens)s, %(latency_ms)s, %(fallback_reason)s FROM msg "
    "ON CONFLICT (draft_id) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, "
    "note = EXCLUDED.note, language = EXCLUDED.language, drafter = EXCLUDED.drafter, "
    "template_version = EXCLUDED.template_version, suggestions = EXCLUDED.suggestions, "
    "model = EXCLUDED.model, confidence = EXCLUDED.confidence, prompt_tokens = EXCLUDED.prompt_tokens, "
    "completion_tokens = EXCLUDED.completion_tokens, latency_ms = EXCLUDED.latency_ms, "
    "fallback_reason = EXCLUDED.fallback_reason WHERE drafts.status = 'pending') "
    "INSERT INTO audit_log (mailbox_id, message_id, action, detail) "
    "SELECT mailbox_id, %(pk)s, 'analyzed', %(detail)s FROM msg"
)
_MARK_DRAFTED = (
    "WITH posted AS (UPDATE drafts SET status = 'posted', location = %(location)s, "
    "note_location = %(note_location)s, posted_at = coalesce(posted_at, now()) "
    "WHERE draft_id = %(draft_id)s AND status = 'pending'), "
    "msg AS (UPDATE messages SET state = 'drafted', error = NULL, lease_until = NULL, processed_at = now() "
    "WHERE id = %(pk)s RETURNING mailbox_id) "
    "INSERT INTO audit_log (mailbox_id, message_id, action, detail) "
    "SELECT mailbox_id, %(pk)s, 'draft_posted', %(detail)s FROM msg"
)
_FINISH = (
    "WITH msg AS (UPDATE messages SET state = %(state)s, error = %(error)s, lease_until = NULL, "
    "processed_at = now() WHERE id = %(pk)s RETURNING mailbox_id) "
    "INSERT INTO audit_log (mailbox_id, message_id, action, detail) "
    "SELECT mailbox_id, %(pk)s, %(action)s, %(detail)s FROM msg"
)


class InboundItem(NamedTuple):
    """One message to store: the provider's key, its Message-ID and the raw RFC 822 bytes."""

    provider_key: str
    message_id: str
    raw: bytes


class MessageRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._drafts = DraftRepository(pool=pool)  # outcomes are recorded in one place

    # ------------------------------------------------------------------ ingest

    async def insert_inbound(self, *, mailbox: str, provider_key: str, message_id: str, raw: bytes) -> int | None:
        """Store a new inbound message; None if this mailbox already has it (by key or Message-ID)."""
        (pk,) = await self.insert_inbound_many(
            mailbox=mailbox, items=[InboundItem(provider_key=provider_key, message_id=message_id, raw=raw)])
        return pk

    async def insert_inbound_many(self, *, mailbox: str, items: Sequence[InboundItem]) -> list[int | None]:
        """``insert_inbound`` for many messages in one transaction and one round trip (one WAL flush).

        Returns one id per item, in order; None where the mailbox already had the message (by key or
        Message-ID, including an earlier item of the same batch).
        """
        if not items:
            return []
        params = [{"key": i.provider_key, "message_id": i.message_id, "raw": i.raw, "size": len(i.raw),
                   "mailbox": mailbox, "detail": Jsonb({"provider_key": i.provider_key})} for i in items]
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.executemany(_INSERT_INBOUND, params, returning=True)
            ids: list[int | None] = []
            while True:
                row = await cur.fetchone()
                ids.append(None if row is None else int(row["id"]))
                if not cur.nextset():
                    break
        return ids

    async def known_keys(self, *, mailbox: str) -> set[str]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT provider_key FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.name = %s",
                (mailbox,),
            )
            return {r["provider_key"] for r in await cur.fetchall()}

    async def pending_ids(self, *, mailbox: str, max_attempts: int, limit: int = 1000,
                          shard: tuple[int, int] = (0, 1), after: int = 0) -> list[int]:
        """Claimable message ids above ``after``, oldest first; ``shard=(k, n)`` keeps only ids with ``id % n == k``.

        Processes that draft side by side each take their own shard, so none tries to claim another's messages.
        """
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard {index} of {count} does not exist")
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                f"SELECT m.id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                f"WHERE b.name = %(mailbox)s AND {_CLAIMABLE} AND m.id %% %(count)s = %(index)s "
                f"AND m.id > %(after)s ORDER BY m.id LIMIT %(limit)s",
                {"mailbox": mailbox, "max_attempts": max_attempts, "limit": limit, "count": count, "index": index,
                 "after": after},
            )
            return [int(r["id"]) for r in await cur.fetchall()]

    # ------------------------------------------------------------------ MessageStore

    async def claim(self, *, message_pk: int, lease_seconds: int, max_attempts: int) -> StoredMessage | None:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                f"UPDATE messages m SET state = 'processing', attempts = m.attempts + 1, "
                f"lease_until = now() + make_interval(secs => %(lease)s) FROM mailboxes b "
                f"WHERE m.id = %(id)s AND b.id = m.mailbox_id AND {_CLAIMABLE} "
                f"RETURNING m.id, b.name AS mailbox, m.provider_key, m.raw, m.attempts",
                {"id": message_pk, "lease": lease_seconds, "max_attempts": max_attempts},
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return StoredMessage(id=row["id"], mailbox=row["mailbox"], provider_key=row["provider_key"],
                             raw=bytes(row["raw"]), attempts=row["attempts"])

    async def save_analysis(self, *, message_pk: int, result: AnalysisResult) -> None:
        """One round trip: a retry's earlier rows are deleted, then one statement writes everything else."""
        email, draft = result.email, result.draft
        root = (email.references[0] if email.references else None) or email.in_reply_to or email.message_id
        references = [{"kind": r.kind.value, "value": r.value, "raw": r.raw, "source": r.source.value,
                       "validity": r.validity.value} for r in result.references]
        facts = [{"fact_key": f.id, "subject": f.subject, "name": f.name, "value": f.value,
                  "source_system": f.source.system, "record_id": f.source.record_id, "link": f.source.link,
                  "fetched_at": f.source.fetched_at.isoformat()} for f in result.lookup.facts]
        params = {
            "pk": message_pk, "root": root, "from_address": email.from_address, "subject": email.subject,
            "in_reply_to": email.in_reply_to, "reply_text": email.reply_text, "quoted_text": email.quoted_text,
            "language": email.language, "intents": [i.value for i in result.intents],
            "references": Jsonb(references), "facts": Jsonb(facts),
            "draft_id": draft.draft_id, "draft_subject": draft.subject, "body": draft.body, "note": result.note.body,
            "draft_language": draft.language, "drafter": draft.drafter, "template_version": draft.template_version,
            "suggestions": Jsonb([s.model_dump() for s in draft.suggestions]), "model": draft.model,
            "confidence": draft.confidence, "prompt_tokens": draft.prompt_tokens,
            "completion_tokens": draft.completion_tokens, "latency_ms": draft.latency_ms,
            "fallback_reason": draft.fallback_reason,
            "detail": Jsonb({
                "references": [f"{r.kind.value}:{r.value}" for r in result.references],
                "facts": len(result.lookup.facts), "withheld": [w.reference for w in result.lookup.withheld],
                "failures": [f.system for f in result.lookup.failures], "drafter": draft.drafter,
                "template_version": draft.template_version,
            }),
        }
        async with self._pool.connection() as conn, conn.pipeline(), conn.cursor() as cur:
            await cur.execute(_ASYNC_COMMIT)
            await cur.execute("DELETE FROM message_references WHERE message_id = %s", (message_pk,))
            await cur.execute("DELETE FROM facts WHERE message_id = %s", (message_pk,))
            await cur.execute(_SAVE_ANALYSIS, params)

    async def mark_drafted(self, *, message_pk: int, draft_id: str, draft_location: str, note_location: str) -> None:
        async with self._pool.connection() as conn, conn.pipeline(), conn.cursor() as cur:
            await cur.execute(_ASYNC_COMMIT)
            await cur.execute(_MARK_DRAFTED, {
                "pk": message_pk, "draft_id": draft_id, "location": draft_location, "note_location": note_location,
                "detail": Jsonb({"draft_id": draft_id, "location": draft_location, "note": note_location}),
            })

    async def older_drafts(self, *, message_pk: int) -> list[OlderDraft]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT d.draft_id, d.body, m.message_id FROM drafts d JOIN messages m ON m.id = d.message_id "
                "JOIN messages me ON me.id = %(pk)s AND me.thread_id = m.thread_id "
                "WHERE m.id < me.id AND d.status = 'posted' "
                "ORDER BY d.posted_at",
                {"pk": message_pk},
            )
            return [OlderDraft(draft_id=str(r["draft_id"]), body=r["body"], inbound_message_id=r["message_id"])
                    for r in await cur.fetchall()]

    async def mark_superseded(self, *, draft_id: str) -> None:
        await self._drafts.record_outcome(draft_id=draft_id, sent_provider_key=None, sent_at=None,
                                          acceptance=Acceptance(outcome=AcceptanceOutcome.SUPERSEDED))

    async def quarantine(self, *, message_pk: int, reason: str) -> None:
        await self._finish(message_pk, "quarantined", reason)

    async def skip(self, *, message_pk: int, reason: str) -> None:
        await self._finish(message_pk, "skipped", reason)

    async def fail(self, *, message_pk: int, reason: str) -> None:
        await self._finish(message_pk, "failed", reason)

    # ------------------------------------------------------------------ reading

    async def list(self, *, mailbox: str | None = None, state: str | None = None, limit: int = 50,
                   offset: int = 0) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT m.id, b.name AS mailbox, m.message_id, m.from_address, m.subject, m.language, "
                "m.intents, m.state, m.error, m.attempts, m.received_at, m.processed_at, d.draft_id, "
                "d.status AS draft_status FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id "
                "LEFT JOIN drafts d ON d.message_id = m.id "
                "WHERE (%(mailbox)s::text IS NULL OR b.name = %(mailbox)s) "
                "AND (%(state)s::text IS NULL OR m.state = %(state)s) "
                "ORDER BY m.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                {"mailbox": mailbox, "state": state, "limit": limit, "offset": offset},
            )
            return list(await cur.fetchall())

    async def detail(self, *, message_pk: int) -> dict[str, Any] | None:
        """One message with its references, facts (with sources), draft and note."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT m.id, b.name AS mailbox, m.message_id, m.from_address, m.subject, m.language, "
                "m.intents, m.state, m.error, m.attempts, m.received_at, m.processed_at, m.reply_text, "
                "m.thread_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.id = %s",
                (message_pk,),
            )
            message = await cur.fetchone()
            if message is None:
                return None
            await cur.execute("SELECT kind, value, raw, source, validity FROM message_references "
                              "WHERE message_id = %s ORDER BY kind, value", (message_pk,))
            message["references"] = await cur.fetchall()
            await cur.execute("SELECT fact_key AS id, subject, name, value, source_system, record_id, link, "
                              "fetched_at FROM facts WHERE message_id = %s ORDER BY id", (message_pk,))
            message["facts"] = await cur.fetchall()
            await cur.execute("SELECT draft_id, subject, body, note, language, drafter, template_version, "
                              "status, location, note_location, created_at, posted_at, suggestions, model, "
                              "confidence, prompt_tokens, completion_tokens, latency_ms, fallback_reason FROM drafts "
                              "WHERE message_id = %s", (message_pk,))
            message["draft"] = await cur.fetchone()
            await cur.execute("SELECT outcome, similarity, edit_size, sent_at, recorded_at FROM acceptance_events "
                              "a JOIN drafts d USING (draft_id) WHERE d.message_id = %s", (message_pk,))
            message["acceptance"] = await cur.fetchone()
            return message

    async def count_by_state(self, *, mailbox: str) -> dict[str, int]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT m.state, count(*) AS n FROM messages m JOIN mailboxes b "
                              "ON b.id = m.mailbox_id WHERE b.name = %s GROUP BY m.state", (mailbox,))
            return {r["state"]: int(r["n"]) for r in await cur.fetchall()}

    # ------------------------------------------------------------------ helpers

    async def _finish(self, message_pk: int, state: str, reason: str) -> None:
        async with self._pool.connection() as conn, conn.pipeline(), conn.cursor() as cur:
            await cur.execute(_ASYNC_COMMIT)
            await cur.execute(_FINISH, {"pk": message_pk, "state": state, "error": reason,
                                        "action": f"message_{state}", "detail": Jsonb({"reason": reason})})
