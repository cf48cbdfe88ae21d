"""Backfill of the similar-thread index from a mailbox's history (``shipdraft index --mailbox NAME``).

An answered thread is a customer message plus the first reply the team sent
to it (matched by ``In-Reply-To``, else the last ``References`` entry). The
backfill

1. lists the Sent folder (headers only, since ``--since``) and keeps the first
   reply to each customer message;
2. drops the customer messages already indexed: a rerun after an interruption
   resumes where the last committed batch ended, and never embeds twice;
3. lists the inbox (headers only, from ``lookback_days`` before ``--since``)
   to find those customer messages: the total is known before the slow part,
   so the progress bar shows rate and ETA;
4. per batch: fetches and parses both messages, prepares the thread (quoted
   history removed, redacted, intents, language, date), embeds the batch in
   one call and commits it in one transaction;
5. for a large import drops the mailbox's HNSW index first and builds it
   afterwards (pgvector builds 7 to 20 times faster than it inserts);
   every run ends by building a missing index (an interrupted bulk run left
   it dropped), refreshing the planner statistics and embedding threads that
   were stored without a vector.

Providers implement ``HistoryProvider`` (headers-only listing, one fetch per
message); ``MaildirHistory`` is the Maildir implementation. New replies are
indexed as they are observed (``agent.observing``), not by this module.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TextIO, runtime_checkable

from pydantic import BaseModel, ConfigDict

from agent.errors import ParseError
from agent.parsing import parse_email
from agent.pipeline import skip_reason
from agent.profile import MailboxProfile
from agent.retrieval import PastThread
from store.threads import PastThreadRepository

log = logging.getLogger(__name__)

_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)
_OWN_PREFIX = "shipdraft-"


class IndexingError(Exception):
    """The backfill cannot run (unknown mailbox, a provider without history)."""


# ---------------------------------------------------------------------------------------------- provider protocol


class HistoryFolder(StrEnum):
    INBOX = "inbox"
    SENT = "sent"


class HistoryEntry(BaseModel):
    """One message of the history, headers only."""

    model_config = ConfigDict(frozen=True)

    provider_key: str
    message_id: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    date: datetime | None = None

    @property
    def answers(self) -> str | None:
        """The Message-ID this message replies to."""
        return self.in_reply_to or (self.references[-1] if self.references else None)


@runtime_checkable
class HistoryProvider(Protocol):
    """What a mailbox provider offers for a backfill (Maildir here; IMAP, Graph and Gmail implement it too).

    ``since`` filters by the message date; None means everything. ``count_history``
    may return None when the provider cannot count cheaply.
    """

    async def count_history(self, *, folder: HistoryFolder, since: datetime | None) -> int | None: ...

    def list_history(self, *, folder: HistoryFolder, since: datetime | None) -> AsyncIterator[HistoryEntry]: ...

    async def fetch_history(self, *, folder: HistoryFolder, provider_key: str) -> bytes: ...


class MaildirHistory:
    """History of a Maildir++ folder: inbox ``cur``/``new``, replies in ``.Sent``; shipdraft's own files skipped."""

    def __init__(self, *, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, folder: HistoryFolder) -> Path:
        return self.root if folder == HistoryFolder.INBOX else self.root / ".Sent"

    def _paths(self, folder: HistoryFolder) -> Iterator[Path]:
        base = self._folder(folder)
        for sub in ("cur", "new"):
            try:
                with os.scandir(base / sub) as entries:
                    names = sorted(e.name for e in entries if e.is_file() and not e.name.startswith("."))
            except FileNotFoundError:
                continue
            for name in names:
                if not name.startswith(_OWN_PREFIX):
                    yield base / sub / name

    async def count_history(self, *, folder: HistoryFolder, since: datetime | None) -> int | None:
        return None if since is not None else sum(1 for _ in self._paths(folder))

    async def list_history(self, *, folder: HistoryFolder, since: datetime | None) -> AsyncIterator[HistoryEntry]:
        for path in self._paths(folder):
            try:
                with path.open("rb") as fh:
                    headers = _HEADERS.parse(fh)
                stamp = path.stat().st_mtime
            except OSError:  # moved by a client meanwhile
                continue
            sent = _date(headers.get("Date")) or datetime.fromtimestamp(stamp, tz=UTC)
            if since is not None and sent < since:
                continue
            message_id = str(headers.get("Message-ID") or "").strip()
            if not message_id:
                continue
            yield HistoryEntry(provider_key=f"{path.parent.name}/{path.name}", message_id=message_id,
                               in_reply_to=str(headers.get("In-Reply-To") or "").strip() or None,
                               references=tuple(str(headers.get("References") or "").split()), date=sent)

    async def fetch_history(self, *, folder: HistoryFolder, provider_key: str) -> bytes:
        sub, _, name = provider_key.partition("/")
        if sub not in ("cur", "new") or not name or "/" in name or name.startswith("."):
            raise IndexingError(f"not a history key of this Maildir: {provider_key!r}")
        return (self._folder(folder) / sub / name).read_bytes()


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def history_provider_for(*, provider: Any) -> HistoryProvider:
    """The provider itself when it implements ``HistoryProvider``; a Maildir's history otherwise."""
    if isinstance(provider, HistoryProvider):
        return provider
    root = getattr(provider, "root", None)
    if root is not None and (Path(root) / ".Sent").is_dir():
        return MaildirHistory(root=Path(root))
    raise IndexingError(f"the mailbox provider {type(provider).__name__} cannot list its history yet")


# ---------------------------------------------------------------------------------------------- progress


class Progress(Protocol):
    def start(self, *, total: int, description: str) -> None: ...

    def advance(self, *, done: int) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    def start(self, *, total: int, description: str) -> None:
        return None

    def advance(self, *, done: int) -> None:
        return None

    def close(self) -> None:
        return None


class TqdmProgress:
    """A tqdm bar on stderr: done/total, rate (threads/s) and ETA."""

    def __init__(self, *, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._bar: Any = None

    def start(self, *, total: int, description: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=description, unit="thread", file=self._stream, smoothing=0.1,
                         dynamic_ncols=True)

    def advance(self, *, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ---------------------------------------------------------------------------------------------- backfill


class BackfillReport(BaseModel):
    mailbox: str
    replies: int = 0
    already_indexed: int = 0
    to_index: int = 0
    indexed: int = 0
    skipped: int = 0
    missing_customer_message: int = 0
    embedded_afterwards: int = 0
    vector_index_rebuilt: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.indexed / self.seconds if self.seconds else 0.0
        return (f"{self.mailbox}: {self.indexed} threads indexed ({rate:.1f}/s), {self.already_indexed} already "
                f"indexed, {self.skipped} skipped, {self.missing_customer_message} replies without their customer "
                f"message" + (", vector index rebuilt" if self.vector_index_rebuilt else ""))


async def backfill(
    *,
    profile: MailboxProfile,
    history: HistoryProvider,
    threads: PastThreadRepository,
    since: datetime | None = None,
    batch_size: int = 64,
    lookback_days: int = 30,
    bulk_threshold: int = 5000,
    progress: Progress | None = None,
) -> BackfillReport:
    """Index every answered thread of the mailbox's history not indexed yet (see the module docstring)."""
    started = time.monotonic()
    mailbox = profile.name
    progress = progress or NoProgress()
    report = BackfillReport(mailbox=mailbox)

    replies: dict[str, HistoryEntry] = {}  # customer Message-ID -> the first reply to it
    async for entry in history.list_history(folder=HistoryFolder.SENT, since=since):
        report.replies += 1
        answered = entry.answers
        if not answered:
            continue
        first = replies.get(answered)
        if first is None or (entry.date and first.date and entry.date < first.date):
            replies[answered] = entry

    keys = list(replies)
    for start in range(0, len(keys), 1000):
        for key in await threads.existing_keys(mailbox=mailbox, keys=keys[start:start + 1000]):
            replies.pop(key)
            report.already_indexed += 1

    pairs: list[tuple[HistoryEntry, HistoryEntry]] = []
    inbox_since = since - timedelta(days=lookback_days) if since is not None else None
    async for entry in history.list_history(folder=HistoryFolder.INBOX, since=inbox_since):
        reply = replies.pop(entry.message_id, None)
        if reply is not None:
            pairs.append((entry, reply))
    report.missing_customer_message = len(replies)
    report.to_index = len(pairs)

    existing = (await threads.count(mailbox=mailbox)).get("threads", 0)
    bulk = len(pairs) >= bulk_threshold and len(pairs) >= existing // 10
    if bulk:
        await threads.drop_vector_index(mailbox=mailbox)
    progress.start(total=len(pairs), description=f"indexing {mailbox}")
    try:
        for start in range(0, len(pairs), batch_size):
            batch = pairs[start:start + batch_size]
            prepared = [t for t in [await _prepare(pair, history=history, threads=threads, profile=profile)
                                    for pair in batch] if t is not None]
            report.skipped += len(batch) - len(prepared)
            report.indexed += await threads.add_many(mailbox=mailbox, threads=prepared)
            progress.advance(done=len(batch))
    finally:
        progress.close()
        report.vector_index_rebuilt = await threads.build_vector_index(mailbox=mailbox)
    if report.indexed:
        await threads.analyze(mailbox=mailbox)
    report.embedded_afterwards = await threads.embed_missing(mailbox=mailbox, batch_size=batch_size)
    report.seconds = time.monotonic() - started
    log.info("backfill done", extra=report.model_dump())
    return report


async def _prepare(pair: tuple[HistoryEntry, HistoryEntry], *, history: HistoryProvider,
                   threads: PastThreadRepository, profile: MailboxProfile) -> PastThread | None:
    customer_entry, reply_entry = pair
    try:
        customer = parse_email(raw=await history.fetch_history(folder=HistoryFolder.INBOX,
                                                               provider_key=customer_entry.provider_key))
        reply = parse_email(raw=await history.fetch_history(folder=HistoryFolder.SENT,
                                                            provider_key=reply_entry.provider_key))
    except (OSError, ParseError, IndexingError) as exc:
        log.warning("history message skipped", extra={"key": customer_entry.provider_key, "reason": str(exc)})
        return None
    reason = skip_reason(email=customer, profile=profile)
    if reason or not customer.reply_text.strip() or not reply.reply_text.strip():
        return None
    return threads.prepare(mailbox=profile.name, thread_key=customer_entry.message_id, subject=customer.subject,
                           customer_text=customer.reply_text, reply_text=reply.reply_text,
                           language=customer.language, replied_at=reply.date or reply_entry.date)


def since_datetime(day: date | None) -> datetime | None:
    """``--since DATE``: midnight UTC of that day."""
    return datetime.combine(day, dtime.min, tzinfo=UTC) if day is not None else None


async def index_mailbox(*, runtime: Any, mailbox: str, since: date | None, batch_size: int = 64,
                        progress: Progress | None = None) -> BackfillReport:
    """``shipdraft index``: backfill the configured mailbox named ``mailbox`` through ``runtime`` (wiring)."""
    if mailbox != runtime.config.name:
        raise IndexingError(f"mailbox {mailbox!r} is not configured here (the mailbox YAML names "
                            f"{runtime.config.name!r})")
    if runtime.threads.embedder is None:
        log.warning("no embedder configured: threads are indexed for full-text search only")
    return await backfill(profile=runtime.config.profile(), history=history_provider_for(provider=runtime.provider),
                          threads=runtime.threads, since=since_datetime(since), batch_size=batch_size,
                          progress=progress or TqdmProgress())
