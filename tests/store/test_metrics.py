"""First-response time on real PostgreSQL: every answered inbound message, with and without a draft.

Messages are stored through ``MessageRepository`` and replies through ``SentReplyRepository`` exactly
as the runner does; states, threads and drafts are set with SQL to build each situation directly.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from psycopg_pool import AsyncConnectionPool

from store.db import open_pool
from store.mailboxes import MailboxRepository
from store.messages import MessageRepository
from store.metrics import MetricsRepository
from store.replies import SentReplyRepository, sent_reply_of

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # long before the rows are stored (received_at is now())


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(url=database_url, max_size=2)
    for name in ("ops", "booking"):
        await MailboxRepository(pool=pool).upsert(name=name, address=f"{name}@example.test", provider="maildir",
                                                  config={})
    yield pool
    await pool.close()


def _mail(*, message_id: str, at: datetime | None, refs: tuple[str, ...] = (), date: str | None = None,
          draft_id: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "someone@example.test"
    msg["Subject"] = "Status"
    msg["Message-ID"] = message_id
    if date is not None:
        msg["Date"] = date
    elif at is not None:
        msg["Date"] = format_datetime(at)
    if refs:
        msg["In-Reply-To"] = refs[-1]
        msg["References"] = " ".join(refs)
    if draft_id:
        msg["X-Shipdraft-Draft-Id"] = draft_id
    msg.set_content("Hello")
    return msg.as_bytes()


async def _inbound(pool: AsyncConnectionPool, key: str, *, minutes: float, state: str = "drafted",
                   mailbox: str = "ops", root: str | None = None) -> int:
    pk = await MessageRepository(pool=pool).insert_inbound(
        mailbox=mailbox, provider_key=key, message_id=f"<{key}@cust.example>",
        raw=_mail(message_id=f"<{key}@cust.example>", at=T0 + timedelta(minutes=minutes)))
    assert pk is not None
    async with pool.connection() as conn:
        await conn.execute("UPDATE messages SET state = %s WHERE id = %s", (state, pk))
        if root:
            await conn.execute(
                "WITH t AS (INSERT INTO threads (mailbox_id, root_message_id) SELECT mailbox_id, %s FROM messages "
                "WHERE id = %s ON CONFLICT (mailbox_id, root_message_id) DO UPDATE SET subject = threads.subject "
                "RETURNING id) UPDATE messages SET thread_id = (SELECT id FROM t) WHERE id = %s", (root, pk, pk))
    return pk


async def _draft(pool: AsyncConnectionPool, pk: int, *, posted_minutes: float) -> str:
    draft_id = str(uuid.uuid4())
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO drafts (draft_id, message_id, mailbox_id, subject, body, note, language, drafter, "
            "template_version, status, posted_at) SELECT %s, id, mailbox_id, 'Re: Status', 'b', 'n', 'en', "
            "'template', 'reply@x', 'posted', %s FROM messages WHERE id = %s",
            (draft_id, T0 + timedelta(minutes=posted_minutes), pk))
    return draft_id


async def _reply(pool: AsyncConnectionPool, key: str, *, minutes: float, to: tuple[str, ...],
                 mailbox: str = "ops") -> int:
    raw = _mail(message_id=f"<{key}@ops.example>", at=T0 + timedelta(minutes=minutes),
                refs=tuple(f"<{r}@cust.example>" for r in to))
    return await SentReplyRepository(pool=pool).record(mailbox=mailbox, sent=[(key, raw)])


def _by_kind(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {r["kind"]: r for r in rows}


async def test_every_answered_message_counts_grouped_by_a_draft_being_there(pool: AsyncConnectionPool) -> None:
    drafted = await _inbound(pool, "drafted", minutes=0)
    await _draft(pool, drafted, posted_minutes=1)
    await _reply(pool, "r-drafted", minutes=10, to=("drafted",))
    for key, state, answer in (("skipped", "skipped", 5), ("quarantined", "quarantined", 15),
                               ("failed", "failed", 30)):
        await _inbound(pool, key, minutes=0, state=state)
        await _reply(pool, f"r-{key}", minutes=answer, to=(key,))
    # answered before shipdraft had drafted it (it arrived before shipdraft ran): there was no draft yet
    early = await _inbound(pool, "early", minutes=0)
    await _draft(pool, early, posted_minutes=60)
    await _reply(pool, "r-early", minutes=20, to=("early",))
    await _inbound(pool, "unanswered", minutes=0, state="skipped")  # no reply: not counted

    rows = _by_kind(await MetricsRepository(pool=pool).response_times())
    assert set(rows) == {"with draft", "without draft"}
    assert rows["with draft"]["replies"] == 1 and rows["with draft"]["p50_s"] == pytest.approx(600)
    without = rows["without draft"]
    assert without["replies"] == 4  # skipped, quarantined, failed, answered before its draft
    assert without["p50_s"] == pytest.approx((15 + 20) / 2 * 60)
    assert without["draft_to_send_p50_s"] is None


async def test_each_message_is_timed_to_the_first_reply_of_its_thread(pool: AsyncConnectionPool) -> None:
    root = "<first@cust.example>"
    await _inbound(pool, "first", minutes=0, root=root, state="skipped")
    await _reply(pool, "r1", minutes=2, to=("first",))
    await _reply(pool, "r1-again", minutes=3, to=("first",))  # a second reply is not a first response
    # the customer writes again; the agent answers the thread's first message, 10 minutes later
    await _inbound(pool, "second", minutes=5, root=root, state="skipped")
    await _reply(pool, "r2", minutes=15, to=("first",))
    [row] = await MetricsRepository(pool=pool).response_times()
    assert row["kind"] == "without draft" and row["replies"] == 2
    assert row["p50_s"] == pytest.approx((120 + 600) / 2)


async def test_a_reply_sent_from_the_draft_counts_with_draft_despite_a_slow_clock(pool: AsyncConnectionPool) -> None:
    pk = await _inbound(pool, "skew", minutes=0)
    draft_id = await _draft(pool, pk, posted_minutes=15)
    await _reply(pool, "r-skew", minutes=9, to=("skew",))  # the sender's clock is 6 minutes behind ours
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO acceptance_events (draft_id, outcome, sent_provider_key, sent_at, "
                           "seconds_to_send) VALUES (%s, 'sent_as_is', 'r-skew', %s, 5)",
                           (draft_id, T0 + timedelta(minutes=9)))
    [row] = await MetricsRepository(pool=pool).response_times()
    assert (row["kind"], row["replies"], row["draft_to_send_p50_s"]) == ("with draft", 1, 5)


async def test_filters_and_recording_once(pool: AsyncConnectionPool) -> None:
    await _inbound(pool, "a", minutes=0, state="skipped")
    await _inbound(pool, "b", minutes=0, state="skipped", mailbox="booking")
    assert await _reply(pool, "ra", minutes=4, to=("a",)) == 1
    assert await _reply(pool, "ra", minutes=4, to=("a",)) == 0  # the same sent message seen again
    await _reply(pool, "rb", minutes=40, to=("b",), mailbox="booking")
    new_mail = _mail(message_id="<new@ops.example>", at=T0)  # not a reply: nothing to time
    assert await SentReplyRepository(pool=pool).record(mailbox="ops", sent=[("n", new_mail)]) == 0
    repo = MetricsRepository(pool=pool)
    [ops] = await repo.response_times(mailbox="ops")
    assert ops["replies"] == 1 and ops["p50_s"] == pytest.approx(240)
    assert await repo.response_times(mailbox="nobody") == []
    [late] = await repo.response_times(since=T0 + timedelta(minutes=30))
    assert late["replies"] == 1 and late["p50_s"] == pytest.approx(2400)


@pytest.mark.parametrize(("date", "expected"), [
    ("Mon, 05 Jan 2026 09:00:00 +0100", T0),
    ("Mon, 05 Jan 2026 09:00:00 +0100 (CET)", T0),
    ("5 Jan 2026 08:00:00 -0000", T0),
    ("not a date", None),
    (None, None),
])
async def test_message_header_date(pool: AsyncConnectionPool, date: str | None, expected: datetime | None) -> None:
    raw = _mail(message_id="<d@x>", at=None, date=date) + b"\nDate: Tue, 06 Jan 2026 08:00:00 +0000\n"  # body line
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT message_header_date(%s) AS d", (raw,))
        row = await cur.fetchone()
    assert row is not None and row["d"] == expected


def test_sent_reply_headers() -> None:
    raw = _mail(message_id="<m@ops.example>", at=T0, refs=("<a@c>", "<b@c>"), draft_id="d-1")
    reply = sent_reply_of(provider_key="k", raw=raw)
    assert set(reply.thread_refs) == {"<a@c>", "<b@c>"} and reply.message_id == "<m@ops.example>"
    assert reply.sent_at == T0 and reply.draft_id == "d-1"
    assert sent_reply_of(provider_key="k", raw=b"\xff\xfe garbage").thread_refs == ()
