"""Backfill of the similar-thread index from a real Maildir into real PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from agent.embeddings import DeterministicEmbedder, EmbeddingUnavailableError
from agent.profile import MailboxProfile
from shipdraft.indexing import (
    HistoryFolder,
    IndexingError,
    MaildirHistory,
    TqdmProgress,
    backfill,
    history_provider_for,
    index_mailbox,
    since_datetime,
)
from shipdraft.wiring import Runtime
from store.db import open_pool
from store.mailboxes import MailboxRepository
from store.threads import PastThreadRepository
from tests.helpers import make_email

pytestmark = pytest.mark.anyio
PROFILE = MailboxProfile(name="ops", address="ops@nordkyst-logistikk.example")


class RecordingEmbedder(DeterministicEmbedder):
    """Deterministic vectors; remembers every call; can fail on a chosen call."""

    def __init__(self, *, fail_on_call: int | None = None) -> None:
        super().__init__()
        self.calls: list[int] = []
        self._fail_on = fail_on_call

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        if self._fail_on is not None and len(self.calls) == self._fail_on:
            raise EmbeddingUnavailableError("interrupted")
        return await super().embed(texts=texts)


class RecordingProgress:
    def __init__(self) -> None:
        self.total: int | None = None
        self.done = 0
        self.closed = False

    def start(self, *, total: int, description: str) -> None:
        self.total = total

    def advance(self, *, done: int) -> None:
        self.done += done

    def close(self) -> None:
        self.closed = True


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(url=database_url, max_size=4)
    await MailboxRepository(pool=pool).upsert(name="ops", address=PROFILE.address, provider="maildir", config={})
    yield pool
    await pool.close()


def _maildir(root: Path) -> Path:
    for folder in (root, root / ".Sent"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
    return root


def _thread(root: Path, n: int, *, body: str, reply: str | None, day: int = 10, **extra: str) -> str:
    """A customer message in the inbox and (optionally) the team's reply in .Sent; returns the Message-ID."""
    mid = f"<c{n}@customer.example>"
    raw = make_email(subject=f"Question {n}", body=body, message_id=mid, extra=extra)
    (root / "cur" / f"{n:04d}.customer:2,S").write_bytes(raw.replace(
        b"Mon, 23 Nov 2026", f"Mon, {day:02d} Nov 2026".encode()))
    if reply is not None:
        sent = make_email(sender=PROFILE.address, name="Ops", to="kari.nilsen@hansen-mobler.example",
                          subject=f"Re: Question {n}", body=f"{reply}\n\nOn Mon, Kari wrote:\n> {body}\n",
                          message_id=f"<r{n}@ops.example>", in_reply_to=mid)
        (root / ".Sent" / "cur" / f"{n:04d}.reply:2,S").write_bytes(sent.replace(
            b"Mon, 23 Nov 2026", f"Mon, {day:02d} Nov 2026".encode()))
    return mid


async def test_answered_threads_are_indexed_redacted_with_quotes_removed(pool: AsyncConnectionPool,
                                                                        tmp_path: Path, database_url: str) -> None:
    root = _maildir(tmp_path / "ops")
    _thread(root, 1, body="Where is container MSKU4417209? It was due in Oslo.", reply="It arrives Friday.")
    _thread(root, 2, body="Please send the POD for our delivery.", reply="Attached is the POD.")
    _thread(root, 3, body="Unanswered question about invoices.", reply=None)
    _thread(root, 4, body="Out of office until Monday.", reply="Noted.", **{"Auto-Submitted": "auto-replied"})
    orphan = make_email(sender=PROFILE.address, subject="Re: lost", body="Reply to a message we no longer have.",
                        message_id="<r9@ops.example>", in_reply_to="<gone@customer.example>")
    (root / ".Sent" / "cur" / "0009.reply:2,S").write_bytes(orphan)
    (root / "cur" / "shipdraft-note-x:2,S").write_bytes(make_email(body="internal note", message_id="<note@x>"))
    # a second, later reply to thread 1: the first reply is the one indexed
    later = make_email(sender=PROFILE.address, subject="Re: Question 1", body="Correction: it arrives Monday.",
                       message_id="<r1b@ops.example>", in_reply_to="<c1@customer.example>")
    (root / ".Sent" / "cur" / "0001.z-later:2,S").write_bytes(later.replace(b"Mon, 23 Nov 2026",
                                                                            b"Tue, 24 Nov 2026"))

    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    report = await backfill(profile=PROFILE, history=MaildirHistory(root=root), threads=repo)

    assert (report.replies, report.to_index, report.indexed, report.skipped) == (5, 3, 2, 1)
    assert report.missing_customer_message == 1
    with psycopg.connect(database_url) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT thread_key, customer_text, reply_text, intents, embedding IS NOT NULL FROM past_threads")}
    assert set(rows) == {"<c1@customer.example>", "<c2@customer.example>"}
    text, reply, intents, embedded = rows["<c1@customer.example>"]
    assert "MSKU4417209" not in text and "[container_number]" in text
    assert reply == "It arrives Friday." and "wrote" not in reply  # the first reply, quoted history removed
    assert "eta_request" in intents and embedded


async def test_embeddings_are_batched_and_progress_is_reported(pool: AsyncConnectionPool, tmp_path: Path) -> None:
    root = _maildir(tmp_path / "ops")
    for n in range(5):
        _thread(root, n, body=f"Status of delivery number {n} please?", reply=f"Delivered on day {n}.")
    embedder, progress = RecordingEmbedder(), RecordingProgress()
    repo = PastThreadRepository(pool=pool, embedder=embedder)
    report = await backfill(profile=PROFILE, history=MaildirHistory(root=root), threads=repo, batch_size=2,
                            progress=progress)
    assert report.indexed == 5
    assert embedder.calls == [2, 2, 1]
    assert (progress.total, progress.done, progress.closed) == (5, 5, True)


async def test_an_interrupted_bulk_backfill_resumes_without_embedding_twice(pool: AsyncConnectionPool,
                                                                           tmp_path: Path) -> None:
    root = _maildir(tmp_path / "ops")
    for n in range(6):
        _thread(root, n, body=f"When will shipment {n} arrive at the warehouse?", reply="Tomorrow.")
    history = MaildirHistory(root=root)
    failing = RecordingEmbedder(fail_on_call=2)
    with pytest.raises(EmbeddingUnavailableError):
        await backfill(profile=PROFILE, history=history, bulk_threshold=1, batch_size=2,
                       threads=PastThreadRepository(pool=pool, embedder=failing))
    repo = PastThreadRepository(pool=pool, embedder=RecordingEmbedder())
    assert await repo.count(mailbox="ops") == {"threads": 2, "embedded": 2}  # the first batch was committed
    assert await repo.has_vector_index(mailbox="ops")  # rebuilt even though the run failed

    again = RecordingEmbedder()
    report = await backfill(profile=PROFILE, history=history, batch_size=2, bulk_threshold=1,
                            threads=PastThreadRepository(pool=pool, embedder=again))
    assert (report.already_indexed, report.indexed) == (2, 4)
    assert sum(again.calls) == 4  # only what was missing was embedded
    assert report.vector_index_rebuilt and await repo.has_vector_index(mailbox="ops")
    assert await repo.count(mailbox="ops") == {"threads": 6, "embedded": 6}


async def test_since_limits_the_backfill_to_replies_from_that_day(pool: AsyncConnectionPool, tmp_path: Path) -> None:
    root = _maildir(tmp_path / "ops")
    _thread(root, 1, body="Old question about a pallet.", reply="Old answer.", day=2)
    _thread(root, 2, body="New question about a pallet.", reply="New answer.", day=20)
    repo = PastThreadRepository(pool=pool)
    report = await backfill(profile=PROFILE, history=MaildirHistory(root=root), threads=repo,
                            since=since_datetime(date(2026, 11, 10)))
    assert (report.replies, report.indexed) == (1, 1)
    [found] = await repo.similar(mailbox="ops", text="pallet question", limit=3)
    assert found.thread_id == "<c2@customer.example>"


async def test_maildir_history_lists_headers_and_refuses_keys_outside_the_maildir(tmp_path: Path) -> None:
    root = _maildir(tmp_path / "ops")
    mid = _thread(root, 1, body="Hello", reply="Hi")
    history = MaildirHistory(root=root)
    [sent] = [e async for e in history.list_history(folder=HistoryFolder.SENT, since=None)]
    assert sent.answers == mid and sent.date == datetime(2026, 11, 10, 8, 0, tzinfo=UTC)
    assert await history.count_history(folder=HistoryFolder.INBOX, since=None) == 1
    assert b"Hello" in await history.fetch_history(folder=HistoryFolder.INBOX, provider_key="cur/0001.customer:2,S")
    for bad in ("../../etc/passwd", "cur/../x", "tmp/x", "cur/.hidden"):
        with pytest.raises(IndexingError):
            await history.fetch_history(folder=HistoryFolder.INBOX, provider_key=bad)


def test_the_progress_bar_shows_count_rate_and_eta() -> None:
    stream = io.StringIO()
    bar = TqdmProgress(stream=stream)
    bar.start(total=10, description="indexing ops")
    bar.advance(done=4)
    bar.close()
    out = stream.getvalue()
    assert "indexing ops" in out and "4/10" in out and "thread/s" in out and "<" in out  # elapsed<remaining


async def test_index_command_backfills_the_configured_mailbox(runtime: Runtime) -> None:
    root = Path(runtime.provider.root)  # type: ignore[attr-defined]
    _thread(root, 1, body="Can you confirm the booking for next week?", reply="Booking confirmed.")
    assert isinstance(history_provider_for(provider=runtime.provider), MaildirHistory)
    with pytest.raises(IndexingError):
        await index_mailbox(runtime=runtime, mailbox="someone-else", since=None)
    report = await index_mailbox(runtime=runtime, mailbox=runtime.config.name, since=None,
                                 progress=RecordingProgress())
    assert report.indexed == 1
    assert (await runtime.threads.count(mailbox=runtime.config.name))["threads"] == 1
