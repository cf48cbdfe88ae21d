"""IMAP provider specifics against the real Dovecot: UIDVALIDITY changes, IDLE, special-use folders."""

from __future__ import annotations

import asyncio
import time

import aioimaplib
import pytest
from pydantic import SecretStr

from agent.parsing import parse_email
from connectors.mail.base import MemorySyncState
from connectors.mail.imap import ImapMailbox
from tests.connectors.mail.dovecot import Dovecot
from tests.connectors.mail.harness import ImapHarness
from tests.connectors.mail.test_conformance import _draft
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


@pytest.fixture
async def imap(dovecot: Dovecot) -> ImapHarness:
    h = ImapHarness(server=dovecot, user=dovecot.add_user(), state=MemorySyncState())
    await h.start()
    yield h
    await h.close()


async def test_uidvalidity_change_resyncs_without_reprocessing_known_messages(imap: ImapHarness) -> None:
    await imap.deliver(make_email(message_id="<old@c.example>"))
    assert len(await imap.ingest()) == 1
    await imap.deliver(make_email(message_id="<new@c.example>"))
    cursor = await imap.state.get(key="imap:inbox")
    validity, last = cursor.split(":")
    await imap.state.put(key="imap:inbox", value=f"{int(validity) - 1}:{last}")  # the server renumbered
    await imap.restart()
    items = await imap.ingest()
    assert [parse_email(raw=i.raw).message_id for i in items] == ["<new@c.example>"]
    assert items[0].provider_key.startswith(f"{validity}:")
    assert await imap.provider.fetch_new() == []


async def test_special_use_folders_are_found_by_flag(imap: ImapHarness) -> None:
    assert await imap.provider._folder("drafts") == "Drafts"
    assert await imap.provider._folder("sent") == "Sent"


async def test_special_use_flags_win_over_folder_names() -> None:
    """A localized server: the folders are found by their RFC 6154 flags, not by the English names."""
    box = ImapMailbox(name="ops", address="ops@x.example", host="127.0.0.1", port=1, username="u",
                      password=SecretStr("p"), security="none")
    lines = [b'(\\HasNoChildren) "/" INBOX', b'(\\HasNoChildren \\Drafts) "/" "Entw&APw-rfe"',
             b'(\\HasNoChildren \\Sent) "/" "Gesendete Elemente"', b'(\\HasNoChildren) "/" Drafts',
             b"LIST completed"]

    async def listed(command: str, *args: object, **kw: object) -> aioimaplib.Response:
        assert command == "list"
        return aioimaplib.Response("OK", lines)

    box._ok = listed  # type: ignore[method-assign]
    assert await box._folder("drafts") == "Entw&APw-rfe"  # modified UTF-7, passed back to the server as is
    assert await box._folder("sent") == "Gesendete Elemente"


async def test_draft_is_appended_to_drafts_with_the_draft_flag(imap: ImapHarness) -> None:
    await imap.deliver(make_email(message_id="<flag@c.example>"))
    [item] = await imap.ingest()
    location = await imap.provider.post_draft(inbound=parse_email(raw=item.raw), draft=_draft("d-flag"))
    folder, ids = location.split("/", 1)
    assert folder == "Drafts"
    async with imap.client() as c:
        await c.select(folder)
        fetched = await c.uid("fetch", ids.split(":")[1], "(FLAGS)")
    assert b"\\Draft" in fetched.lines[0]


async def test_idle_wakes_up_on_new_mail_within_a_second(imap: ImapHarness) -> None:
    waiter = asyncio.create_task(imap.provider.wait_for_changes(timeout=10))
    await asyncio.sleep(0.3)  # IDLE is running
    started = time.monotonic()
    await imap.deliver(make_email(message_id="<push@c.example>"))
    assert await waiter is True
    assert time.monotonic() - started < 1.0
    assert [parse_email(raw=i.raw).message_id for i in await imap.ingest()] == ["<push@c.example>"]


async def test_idle_times_out_quietly_and_reconnects_after_a_drop(imap: ImapHarness) -> None:
    assert await imap.provider.wait_for_changes(timeout=0.3) is False
    async with imap.outage():
        assert await imap.provider.wait_for_changes(timeout=0.3) is True  # lost: poll now, reconnect later
    waiter = asyncio.create_task(imap.provider.wait_for_changes(timeout=10))
    await asyncio.sleep(0.3)
    await imap.deliver(make_email(message_id="<again@c.example>"))
    assert await waiter is True


async def test_polling_fallback_when_idle_is_off(imap: ImapHarness) -> None:
    imap.provider.use_idle = False
    started = time.monotonic()
    assert await imap.provider.wait_for_changes(timeout=0.2) is False
    assert time.monotonic() - started >= 0.2
