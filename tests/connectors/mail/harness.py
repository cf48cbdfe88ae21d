"""Per-provider harnesses for the mailbox conformance suite (see conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import email.utils
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aioimaplib
import respx
from pydantic import SecretStr

from agent.parsing import message_id_of
from connectors.mail.base import MailItem, MemorySyncState
from connectors.mail.gmail import GmailMailbox
from connectors.mail.graph import MESSAGE_FLAGS, GraphMailbox
from connectors.mail.imap import ImapMailbox
from connectors.mail.maildir import MaildirMailbox
from connectors.mail.oauth import GoogleRefreshToken, MicrosoftClientCredentials
from tests.connectors.mail import fake_gmail, fake_graph
from tests.connectors.mail.dovecot import PASSWORD, CuttableProxy, Dovecot

ADDRESS = "ops@x.example"


async def no_sleep(seconds: float) -> None:
    return None


class Harness:
    kind = ""
    provider: Any
    state: MemorySyncState

    async def start(self) -> None:
        """Build the provider and let it record its baseline (mail before this moment is old)."""
        self.provider = self.make_provider()
        await self.provider.fetch_new()
        await self.provider.fetch_sent()

    def make_provider(self) -> Any:
        raise NotImplementedError

    async def restart(self) -> None:
        """A crash: a new provider instance on the same mailbox and the same stored state."""
        with contextlib.suppress(Exception):
            await self.provider.aclose()
        self.provider = self.make_provider()

    async def ingest(self) -> list[MailItem]:
        """What the runner does: fetch, store (remember), acknowledge."""
        items = await self.provider.fetch_new()
        for item in items:
            self.state.remember(provider_key=item.provider_key, message_id=message_id_of(raw=item.raw))
            await self.provider.acknowledge(provider_key=item.provider_key)
        return items

    async def deliver(self, raw: bytes) -> None:
        raise NotImplementedError

    async def agent_sends(self, location: str) -> None:
        raise NotImplementedError

    async def agent_deletes(self, location: str) -> None:
        raise NotImplementedError

    async def agent_edits(self, location: str, *, old: bytes, new: bytes) -> None:
        """The agent changes the draft's text in the mail client and saves it (still a draft)."""
        raise NotImplementedError

    async def agent_edits_dropping_header(self, location: str, *, old: bytes, new: bytes) -> str:
        """The agent edits and saves the draft in a client that keeps no unknown ``X-`` header.

        Thunderbird, Apple Mail, Outlook over IMAP and Roundcube save a new message (new Message-ID,
        new Date, only the headers they know: threading kept, ``X-Shipdraft-Draft-Id`` gone) and remove
        ours. Returns the draft's new location. Graph and Gmail keep their draft id through any edit, so
        there this is an ordinary edit.
        """
        await self.agent_edits(location, old=old, new=new)
        return location

    async def note_headers(self, location: str) -> tuple[email.message.Message, bool]:
        """The note as stored, and whether the mailbox holds it as a draft."""
        raise NotImplementedError

    async def drafts(self) -> int:
        """How many drafts the mailbox holds."""
        raise NotImplementedError

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        raise NotImplementedError
        yield

    def calls(self) -> int:
        return 0

    async def close(self) -> None:
        await self.provider.aclose()


def resaved_by_client(raw: bytes, *, old: bytes, new: bytes, n: int) -> bytes:
    """``raw`` with the agent's edit, as a client re-saves a draft: known headers only, new Message-ID and Date."""
    msg = email.message_from_bytes(raw.replace(old, new), policy=email.policy.default)
    for name in list(msg.keys()):
        if name.lower().startswith("x-"):
            del msg[name]
    del msg["Message-ID"]
    del msg["Date"]
    msg["Message-ID"] = f"<{n}.resaved@client.example>"
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["User-Agent"] = "Mozilla Thunderbird"
    return msg.as_bytes()


class MaildirHarness(Harness):
    kind = "maildir"

    def __init__(self, *, root: Path, state: MemorySyncState) -> None:
        self.root, self.state = root, state
        self._n = 0

    def make_provider(self) -> MaildirMailbox:
        return MaildirMailbox(name="ops", path=self.root, address=ADDRESS, display_name="Ops")

    async def deliver(self, raw: bytes) -> None:
        self._n += 1
        tmp = self.root / "tmp" / f"17954604{self._n:02d}.M1P1.mx"
        tmp.write_bytes(raw)
        os.replace(tmp, self.root / "new" / tmp.name)

    async def agent_sends(self, location: str) -> None:
        src = self.root / location
        os.replace(src, self.root / ".Sent" / "cur" / f"sent-{src.name.split(':')[0]}:2,S")

    async def agent_deletes(self, location: str) -> None:
        (self.root / location).unlink()

    async def agent_edits(self, location: str, *, old: bytes, new: bytes) -> None:
        path = self.root / location
        path.write_bytes(path.read_bytes().replace(old, new))

    async def agent_edits_dropping_header(self, location: str, *, old: bytes, new: bytes) -> str:
        """The client writes the edited draft under its own file name and removes ours."""
        self._n += 1
        path = self.root / location
        target = self.root / ".Drafts" / "cur" / f"17954605{self._n:02d}.M2P2.client:2,DS"
        target.write_bytes(resaved_by_client(path.read_bytes(), old=old, new=new, n=self._n))
        path.unlink()
        return str(target.relative_to(self.root))

    async def put_in_drafts(self, raw: bytes) -> None:
        """Someone files a message into Drafts (only Maildir and IMAP keep drafts as plain messages)."""
        self._n += 1
        (self.root / ".Drafts" / "cur" / f"17954606{self._n:02d}.M3P3.client:2,S").write_bytes(raw)

    async def note_headers(self, location: str) -> tuple[email.message.Message, bool]:
        path = self.root / location
        return email.message_from_bytes(path.read_bytes()), "D" in path.name.rsplit(",", 1)[-1]

    async def drafts(self) -> int:
        return len(list((self.root / ".Drafts" / "cur").iterdir()))

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        away = self.root.with_name("ops-unmounted")
        os.replace(self.root, away)
        try:
            yield
        finally:
            os.replace(away, self.root)


class ImapHarness(Harness):
    kind = "imap"

    def __init__(self, *, server: Dovecot, user: str, state: MemorySyncState) -> None:
        self.server, self.user, self.state = server, user, state
        self.proxy = CuttableProxy(target_port=server.port)
        self.resaves = 0

    async def start(self) -> None:
        await self.proxy.start()
        await super().start()

    def make_provider(self) -> ImapMailbox:
        return ImapMailbox(name="ops", address=ADDRESS, display_name="Ops", host="127.0.0.1", port=self.proxy.port,
                           username=self.user, password=SecretStr(PASSWORD), security="none", state=self.state,
                           timeout=5)

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[aioimaplib.IMAP4]:
        c = aioimaplib.IMAP4(host="127.0.0.1", port=self.server.port, timeout=5)
        await c.wait_hello_from_server()
        await c.login(self.user, PASSWORD)
        try:
            yield c
        finally:
            await c.logout()

    async def deliver(self, raw: bytes) -> None:
        async with self.client() as c:
            await c.append(raw, mailbox="INBOX")

    async def _take_draft(self, c: aioimaplib.IMAP4, location: str) -> bytes:
        folder, ids = location.split("/", 1)
        uid = ids.split(":")[1]
        await c.select(folder)
        fetched = await c.uid("fetch", uid, "(BODY.PEEK[])")
        raw = bytes(next(x for x in fetched.lines if isinstance(x, bytearray)))
        await c.uid("store", uid, "+FLAGS", r"(\Deleted)")
        await c.uid("expunge", uid)
        return raw

    async def agent_sends(self, location: str) -> None:
        async with self.client() as c:
            raw = await self._take_draft(c, location)
            await c.append(raw, mailbox="Sent", flags=r"(\Seen)")

    async def agent_deletes(self, location: str) -> None:
        async with self.client() as c:
            await self._take_draft(c, location)

    async def agent_edits(self, location: str, *, old: bytes, new: bytes) -> None:
        """What IMAP clients do on "save draft": append the new version, expunge the old one."""
        async with self.client() as c:
            raw = await self._take_draft(c, location)
            await c.append(raw.replace(old, new), mailbox=location.split("/", 1)[0], flags=r"(\Draft \Seen)")

    async def agent_edits_dropping_header(self, location: str, *, old: bytes, new: bytes) -> str:
        """APPEND of the client's own version of the draft, then the old one expunged."""
        folder = location.split("/", 1)[0]
        async with self.client() as c:
            raw = await self._take_draft(c, location)
            self.resaves += 1
            response = await c.append(resaved_by_client(raw, old=old, new=new, n=self.resaves), mailbox=folder,
                                      flags=r"(\Draft \Seen)")
        uid = next(m for line in response.lines if isinstance(line, bytes)
                   for m in [re.search(rb"APPENDUID (\d+) (\d+)", line)] if m)
        return f"{folder}/{int(uid.group(1))}:{int(uid.group(2))}"

    async def put_in_drafts(self, raw: bytes) -> None:
        async with self.client() as c:
            await c.append(raw, mailbox="Drafts", flags=r"(\Seen)")

    async def note_headers(self, location: str) -> tuple[email.message.Message, bool]:
        folder, ids = location.split("/", 1)
        async with self.client() as c:
            await c.select(folder)
            fetched = await c.uid("fetch", ids.split(":")[1], "(FLAGS BODY.PEEK[])")
        raw = bytes(next(x for x in fetched.lines if isinstance(x, bytearray)))
        return email.message_from_bytes(raw), b"\\Draft" in fetched.lines[0]

    async def drafts(self) -> int:
        async with self.client() as c:
            await c.select("Drafts")
            found = await c.uid_search("ALL")
        return len(found.lines[0].split())

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        await self.proxy.cut()
        await asyncio.sleep(0.1)  # let the client see the connection drop, as it would in a real outage
        try:
            yield
        finally:
            await self.proxy.restore()

    def calls(self) -> int:
        return int(self.provider.commands)

    async def close(self) -> None:
        await self.provider.aclose()
        await self.proxy.cut()


class GraphHarness(Harness):
    kind = "graph"

    def __init__(self, *, router: respx.MockRouter, state: MemorySyncState) -> None:
        self.fake = fake_graph.FakeGraph(router)
        self.state = state

    def make_provider(self) -> GraphMailbox:
        token = MicrosoftClientCredentials(tenant_id=fake_graph.TENANT, client_id="app-id",
                                           client_secret=SecretStr("s3cret"))
        return GraphMailbox(name="ops", address=ADDRESS, display_name="Ops", token=token, state=self.state,
                            sleep=no_sleep)

    async def deliver(self, raw: bytes) -> None:
        self.fake.deliver(raw)

    async def agent_sends(self, location: str) -> None:
        fake_graph.agent_sends(self.fake, location)

    async def agent_deletes(self, location: str) -> None:
        fake_graph.agent_deletes(self.fake, location)

    async def agent_edits(self, location: str, *, old: bytes, new: bytes) -> None:
        msg = self.fake.messages[location]  # Outlook saves the draft in place: same id, new body
        msg.body = msg.body.replace(old.decode(), new.decode())

    async def note_headers(self, location: str) -> tuple[email.message.Message, bool]:
        msg = self.fake.messages[location]
        created = msg.created_json
        assert not any(k in created for k in ("toRecipients", "ccRecipients", "bccRecipients")), created
        flags = {p["id"]: p["value"] for p in created["singleValueExtendedProperties"]}[MESSAGE_FLAGS]
        assert int(flags) & 8 == 0  # PR_MESSAGE_FLAGS without MSGFLAG_UNSENT: not a draft
        return email.message_from_bytes(msg.mime()), msg.is_draft

    async def drafts(self) -> int:
        return len([m for m in self.fake.messages.values() if m.is_draft and m.folder == "drafts"])

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        self.fake.down = True
        try:
            yield
        finally:
            self.fake.down = False

    def calls(self) -> int:
        return int(self.provider.http.calls)


class GmailHarness(Harness):
    kind = "gmail"

    def __init__(self, *, router: respx.MockRouter, state: MemorySyncState) -> None:
        self.fake = fake_gmail.FakeGmail(router)
        self.state = state

    def make_provider(self) -> GmailMailbox:
        token = GoogleRefreshToken(client_id="cid.apps.googleusercontent.com", client_secret=SecretStr("s"),
                                   refresh_token=SecretStr("1//refresh"))
        return GmailMailbox(name="ops", address=ADDRESS, display_name="Ops", token=token, state=self.state,
                            sleep=no_sleep)

    async def deliver(self, raw: bytes) -> None:
        self.fake.deliver(raw)

    async def agent_sends(self, location: str) -> None:
        self.fake.agent_sends(location)

    async def agent_deletes(self, location: str) -> None:
        self.fake.agent_deletes(location)

    async def agent_edits(self, location: str, *, old: bytes, new: bytes) -> None:
        self.fake.agent_edits(location, old=old, new=new)

    async def note_headers(self, location: str) -> tuple[email.message.Message, bool]:
        msg = self.fake.messages[location]
        assert "messages.insert" in " ".join(self.fake.calls).replace("gmail.users.", "")
        return email.message_from_bytes(msg.raw), "DRAFT" in msg.labels

    async def drafts(self) -> int:
        return len(self.fake.drafts)

    @contextlib.asynccontextmanager
    async def outage(self) -> AsyncIterator[None]:
        self.fake.down = True
        try:
            yield
        finally:
            self.fake.down = False

    def calls(self) -> int:
        return int(self.provider.http.calls)
