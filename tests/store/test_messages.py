"""MessageRepository's hot path on real PostgreSQL: batched ingest, one-statement writes, audit rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from psycopg_pool import AsyncConnectionPool

from agent.models import (
    AnalysisResult,
    Draft,
    Email,
    Fact,
    Intent,
    LookupResult,
    Note,
    Reference,
    ReferenceKind,
    ReferenceSource,
    Source,
    Validity,
)
from store.db import open_pool
from store.mailboxes import MailboxRepository
from store.messages import InboundItem, MessageRepository

pytestmark = pytest.mark.anyio
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(url=database_url, max_size=2)
    await MailboxRepository(pool=pool).upsert(name="ops", address="ops@example.test", provider="maildir", config={})
    yield pool
    await pool.close()


def _item(key: str, message_id: str | None = None) -> InboundItem:
    mid = message_id or f"<{key}@cust.example>"
    return InboundItem(provider_key=key, message_id=mid, raw=f"Message-ID: {mid}\r\n\r\nhello {key}\r\n".encode())


async def _rows(pool: AsyncConnectionPool, query: str, *params: object) -> list[dict[str, object]]:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute(query, params)  # type: ignore[arg-type]  # the test's own literal queries
        return list(await cur.fetchall())


async def test_a_batch_is_stored_in_order_and_duplicates_are_none(pool: AsyncConnectionPool) -> None:
    repo = MessageRepository(pool=pool)
    first = await repo.insert_inbound(mailbox="ops", provider_key="k0", message_id="<k0@cust.example>",
                                      raw=b"Message-ID: <k0@cust.example>\r\n\r\nhi\r\n")
    assert first is not None
    ids = await repo.insert_inbound_many(mailbox="ops", items=[
        _item("k1"), _item("k0"),  # already stored (same key)
        _item("k2"), _item("k3", "<k2@cust.example>"),  # same Message-ID as the item before it
        _item("k4", "<k0@cust.example>"),  # same Message-ID as a stored message
        _item("k5"),
    ])
    assert [i is not None for i in ids] == [True, False, True, False, False, True]
    assert ids[0] < ids[2] < ids[5]  # type: ignore[operator]
    stored = await _rows(pool, "SELECT provider_key, size, state FROM messages ORDER BY id")
    assert [(r["provider_key"], r["state"]) for r in stored] == [(k, "received") for k in ("k0", "k1", "k2", "k5")]
    audit = await _rows(pool, "SELECT message_id, action, detail FROM audit_log ORDER BY id")
    assert [(r["message_id"], r["action"]) for r in audit] == [
        (pk, "message_received") for pk in (first, ids[0], ids[2], ids[5])]
    assert audit[1]["detail"] == {"provider_key": "k1"}
    assert await repo.insert_inbound_many(mailbox="ops", items=[]) == []
    assert await repo.insert_inbound_many(mailbox="nobody", items=[_item("k9")]) == [None]  # unknown mailbox


def _result(*, facts: tuple[Fact, ...], references: tuple[Reference, ...], body: str) -> AnalysisResult:
    email = Email(message_id="<m1@cust.example>", from_address="anna@cust.example", subject="Status NK204117",
                  reply_text="Where is NK204117?", quoted_text="", language="en", date=AT,
                  in_reply_to="<d0@shipdraft>", references=("<root@cust.example>", "<d0@shipdraft>"))
    draft = Draft(draft_id="8a4f9a43-7f47-4b62-9d84-1d1fbcd9c001", subject="Re: Status NK204117", body=body,
                  language="en", drafter="template", template_version="reply@abc")
    return AnalysisResult(email=email, references=references, intents=(Intent.STATUS_REQUEST,),
                          lookup=LookupResult(customer_ids=("C1",), facts=facts), similar=(), draft=draft,
                          note=Note(draft_id=draft.draft_id, subject="Note", body="note"))


def _fact(key: str, value: str) -> Fact:
    return Fact(id=key, subject="order NK204117", name=key.rpartition(".")[2], value=value,
                source=Source(system="erp", record_id="NK204117", fetched_at=AT, link=None))


REF = Reference(kind=ReferenceKind.ORDER_NUMBER, value="NK204117", raw="NK204117", source=ReferenceSource.NEW_TEXT,
                validity=Validity.VALID, span=(9, 17))


async def test_an_analysis_is_written_whole_and_a_retry_replaces_it(pool: AsyncConnectionPool) -> None:
    repo = MessageRepository(pool=pool)
    (pk,) = await repo.insert_inbound_many(mailbox="ops", items=[_item("m1", "<m1@cust.example>")])
    assert pk is not None
    stored = await repo.claim(message_pk=pk, lease_seconds=60, max_attempts=3)
    assert stored is not None and stored.attempts == 1
    await repo.save_analysis(message_pk=pk, result=_result(
        facts=(_fact("order.NK204117.status", "in transit"), _fact("order.NK204117.eta", "2026-12-04")),
        references=(REF, REF), body="first"))  # a reference twice is stored once

    message = (await _rows(pool, "SELECT m.subject, m.from_address, m.intents, m.language, t.root_message_id "
                                 "FROM messages m JOIN threads t ON t.id = m.thread_id WHERE m.id = %s", pk))[0]
    assert message == {"subject": "Status NK204117", "from_address": "anna@cust.example",
                       "intents": ["status_request"], "language": "en", "root_message_id": "<root@cust.example>"}
    facts = await _rows(pool, "SELECT fact_key, value, source_system, record_id, fetched_at FROM facts "
                              "WHERE message_id = %s ORDER BY fact_key", pk)
    assert [(f["fact_key"], f["value"], f["fetched_at"]) for f in facts] == [
        ("order.NK204117.eta", "2026-12-04", AT), ("order.NK204117.status", "in transit", AT)]
    assert await _rows(pool, "SELECT kind, value FROM message_references WHERE message_id = %s", pk) == [
        {"kind": "order_number", "value": "NK204117"}]

    # a retry (the first attempt failed after saving) replaces facts, references and the pending draft
    await repo.fail(message_pk=pk, reason="MailboxError: timeout")
    assert (await repo.claim(message_pk=pk, lease_seconds=60, max_attempts=3)).attempts == 2  # type: ignore[union-attr]
    await repo.save_analysis(message_pk=pk, result=_result(facts=(_fact("order.NK204117.status", "delivered"),),
                                                           references=(), body="second"))
    assert await _rows(pool, "SELECT fact_key, value FROM facts WHERE message_id = %s", pk) == [
        {"fact_key": "order.NK204117.status", "value": "delivered"}]
    assert await _rows(pool, "SELECT 1 FROM message_references WHERE message_id = %s", pk) == []
    assert await _rows(pool, "SELECT body, status FROM drafts WHERE message_id = %s", pk) == [
        {"body": "second", "status": "pending"}]
    assert len(await _rows(pool, "SELECT 1 FROM threads")) == 1  # the same thread, not a second one

    await repo.mark_drafted(message_pk=pk, draft_id="8a4f9a43-7f47-4b62-9d84-1d1fbcd9c001",
                            draft_location=".Drafts/cur/x", note_location="cur/y")
    state = (await _rows(pool, "SELECT m.state, m.error, m.lease_until, d.status, d.location FROM messages m "
                               "JOIN drafts d ON d.message_id = m.id WHERE m.id = %s", pk))[0]
    assert state == {"state": "drafted", "error": None, "lease_until": None, "status": "posted",
                     "location": ".Drafts/cur/x"}
    # a posted draft is never overwritten by a late save of the same analysis
    await repo.save_analysis(message_pk=pk, result=_result(facts=(), references=(), body="late"))
    assert (await _rows(pool, "SELECT body FROM drafts WHERE message_id = %s", pk))[0]["body"] == "second"
    actions = [r["action"] for r in await _rows(pool, "SELECT action FROM audit_log WHERE message_id = %s "
                                                      "ORDER BY id", pk)]
    assert actions == ["message_received", "analyzed", "message_failed", "analyzed", "draft_posted", "analyzed"]
    detail = (await _rows(pool, "SELECT detail FROM audit_log WHERE message_id = %s AND action = 'analyzed' "
                                "ORDER BY id LIMIT 1", pk))[0]["detail"]
    assert detail["references"] == ["order_number:NK204117", "order_number:NK204117"] and detail["facts"] == 2


async def test_quarantine_and_skip_record_state_reason_and_audit(pool: AsyncConnectionPool) -> None:
    repo = MessageRepository(pool=pool)
    bad, auto = await repo.insert_inbound_many(mailbox="ops", items=[_item("q1"), _item("q2")])
    assert bad is not None and auto is not None
    await repo.quarantine(message_pk=bad, reason="ParseError: no headers")
    await repo.skip(message_pk=auto, reason="auto-reply")
    rows = await _rows(pool, "SELECT id, state, error FROM messages ORDER BY id")
    assert [(r["state"], r["error"]) for r in rows] == [("quarantined", "ParseError: no headers"),
                                                       ("skipped", "auto-reply")]
    audit = await _rows(pool, "SELECT message_id, action, detail FROM audit_log WHERE action <> "
                              "'message_received' ORDER BY id")
    assert [(r["message_id"], r["action"], r["detail"]) for r in audit] == [
        (bad, "message_quarantined", {"reason": "ParseError: no headers"}),
        (auto, "message_skipped", {"reason": "auto-reply"})]
