"""IMAP mailbox provider: any IMAP4rev1 server (Dovecot, Exchange IMAP, Gmail IMAP, ...).

Client: aioimaplib (asyncio-native, maintained): an IDLE that waits for up to
29 minutes is a cancellable coroutine, not a parked thread per mailbox.

- Inbound: ``UID FETCH`` of everything above the last UID seen in INBOX. The
  cursor is ``UIDVALIDITY:UID``; when UIDVALIDITY changes the cached UIDs mean
  nothing any more, so the provider resyncs: it searches INBOX since the
  baseline date, reads only the Message-IDs, and fetches the messages the
  store does not have yet. The first start only records the cursor.
- Draft: ``APPEND`` to the ``\\Drafts`` special-use folder with the ``\\Draft``
  flag (the folder is found by SPECIAL-USE, RFC 6154); found again with
  ``UID SEARCH HEADER X-Shipdraft-Draft-Id`` (only when this mailbox once
  started posting it: "posting X" is written to the sync state first).
  Clients that drop unknown headers on "save draft" (Thunderbird, Apple
  Mail, Outlook over IMAP, Roundcube) append the edited version without it
  and expunge ours; given the inbound Message-ID (``in_reply_to``), a miss
  of the id costs one ``UID SEARCH`` for a draft that replies to that message
  and is not a note, and one ``UID FETCH`` to check what the server found
  (``compose.is_resaved_draft``). A hit of the id costs nothing more.
- Internal note: ``APPEND`` to INBOX (flag ``\\Seen``) of a message with no
  recipient headers, threaded by ``In-Reply-To``/``References``.
- Sent: new messages in the ``\\Sent`` special-use folder.
- Push: ``wait_for_changes`` runs IDLE on a second connection (re-issued before
  29 minutes, RFC 2177), reconnects after errors, and falls back to plain
  polling when the server has no IDLE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import aioimaplib
from pydantic import BaseModel, ConfigDict, SecretStr

from agent.models import Draft, Email, Note
from connectors.mail.base import (
    MailAuthError,
    MailConfigError,
    MailItem,
    MailProtocolError,
    MailUnavailableError,
    MemorySyncState,
    SyncState,
)
from connectors.mail.compose import (
    DRAFT_HEADER,
    NOTE_HEADER,
    RECIPIENT_HEADERS,
    draft_message,
    header_value,
    headers_of,
    is_resaved_draft,
    note_message,
)
from connectors.mail.oauth import resolve_secret
from connectors.mail.rounds import PendingRound

log = logging.getLogger(__name__)
IDLE_MAX = 29 * 60
_FETCH = re.compile(rb"UID (\d+)")
_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')
_APPENDUID = re.compile(rb"APPENDUID (\d+) (\d+)")
_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]")
_NETWORK_ERRORS = (OSError, asyncio.TimeoutError, aioimaplib.AioImapException)
_REPLY_FIELDS = f"BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO REFERENCES {' '.join(RECIPIENT_HEADERS).upper()} " \
    f"{DRAFT_HEADER.upper()} {NOTE_HEADER.upper()})]"
_REPLY_CANDIDATES = 10  # newest candidates checked; usually there is one reply draft per inbound message
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class ImapSettings(BaseModel):
    """The ``provider`` block of an IMAP mailbox (the password only as ``env:NAME``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = "imap"
    host: str
    port: int | None = None
    security: Literal["ssl", "none"] = "ssl"
    username: str
    password: str
    drafts_folder: str | None = None
    sent_folder: str | None = None
    idle: bool = True
    timeout: float = 30.0


def _imap_date(when: datetime) -> str:
    return f"{when.day}-{_MONTHS[when.month - 1]}-{when.year}"


def _quote(value: str) -> str:
    if any(c in value for c in '\r\n"\\'):
        raise ValueError("unsafe IMAP string")
    return f'"{value}"'


class ImapMailbox:
    """A mailbox on an IMAP server."""

    def __init__(self, *, name: str, address: str, display_name: str = "", host: str, port: int,
                 username: str, password: SecretStr, security: str = "ssl", state: SyncState | None = None,
                 drafts_folder: str | None = None, sent_folder: str | None = None, idle: bool = True,
                 timeout: float = 30.0) -> None:
        self.name = name
        self.address = address
        self.display_name = display_name or name
        self.host, self.port, self.username = host, port, username
        self._password = password
        self.security = security
        self.state: SyncState = state or MemorySyncState()
        self.timeout = timeout
        self.use_idle = idle
        self._folders: dict[str, str] = {}
        if drafts_folder:
            self._folders["drafts"] = drafts_folder
        if sent_folder:
            self._folders["sent"] = sent_folder
        self._client: aioimaplib.IMAP4 | None = None
        self._idler: aioimaplib.IMAP4 | None = None
        self._selected: str | None = None
        self._lost = False
        self._idle_lost = False
        self._lock = asyncio.Lock()
        self._inbox = PendingRound(state=self.state, cursor_key="imap:inbox")
        self._sent_seen: set[str] = set()
        self.commands = 0  # IMAP commands sent (for the per-email budget)

    def __repr__(self) -> str:
        return f"ImapMailbox(name={self.name!r}, host={self.host!r}, user={self.username!r})"

    @classmethod
    def from_config(cls, *, name: str, config: Mapping[str, Any], address: str, display_name: str,
                    base_dir: Path, state: SyncState | None = None,
                    environ: Mapping[str, str] | None = None) -> ImapMailbox:
        try:
            cfg = ImapSettings.model_validate(dict(config))
        except ValueError as exc:
            raise MailConfigError(f"mailbox {name}: provider (imap): {exc}") from exc
        return cls(name=name, address=address, display_name=display_name, host=cfg.host,
                   port=cfg.port or (993 if cfg.security == "ssl" else 143), username=cfg.username,
                   password=resolve_secret(cfg.password, setting="provider.password", environ=environ),
                   security=cfg.security, state=state, drafts_folder=cfg.drafts_folder,
                   sent_folder=cfg.sent_folder, idle=cfg.idle, timeout=cfg.timeout)

    # ------------------------------------------------------------------ connection

    async def _connect(self, *, on_lost: Any = None) -> aioimaplib.IMAP4:
        try:
            if self.security == "ssl":
                client = aioimaplib.IMAP4_SSL(host=self.host, port=self.port, timeout=self.timeout,
                                              ssl_context=ssl.create_default_context(), conn_lost_cb=on_lost)
            else:
                client = aioimaplib.IMAP4(host=self.host, port=self.port, timeout=self.timeout, conn_lost_cb=on_lost)
            await client.wait_hello_from_server()
            response = await client.login(self.username, self._password.get_secret_value())
        except _NETWORK_ERRORS as exc:
            raise MailUnavailableError(f"IMAP {self.host}:{self.port} unreachable: {type(exc).__name__}") from exc
        if response.result != "OK":
            raise MailAuthError(f"IMAP login refused for {self.username}")
        return client

    def _on_lost(self, exc: Exception | None) -> None:
        self._lost = True

    def _on_idle_lost(self, exc: Exception | None) -> None:
        self._idle_lost = True

    async def _run(self, command: str, *args: Any, **kw: Any) -> aioimaplib.Response:
        """One command on the shared connection; a broken connection is dropped and reported as unavailable."""
        if self._client is not None and (self._lost or self._client.get_state() == "LOGOUT"):
            await self._drop()  # the server hung up since the last command
        if self._client is None:
            self._lost = False
            self._client = await self._connect(on_lost=self._on_lost)
            self._selected = None
        self.commands += 1
        try:
            response = await getattr(self._client, command)(*args, **kw)
        except _NETWORK_ERRORS as exc:
            await self._drop()
            raise MailUnavailableError(f"IMAP {command} failed: {type(exc).__name__}") from exc
        if response.result == "BYE" or self._client.get_state() == "LOGOUT":
            await self._drop()
            raise MailUnavailableError(f"IMAP server closed the connection during {command}")
        return response

    async def _ok(self, command: str, *args: Any, **kw: Any) -> aioimaplib.Response:
        response = await self._run(command, *args, **kw)
        if response.result != "OK":
            raise MailProtocolError(f"IMAP {command} answered {response.result}: {_text(response)[:200]}")
        return response

    async def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None and not self._lost:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.logout(), timeout=1)

    async def _select(self, folder: str) -> tuple[int, int]:
        """Select ``folder``; return (UIDVALIDITY, UIDNEXT)."""
        response = await self._ok("select", _quote(folder))
        self._selected = folder
        codes = {m.group(1).decode(): int(m.group(2)) for line in response.lines if isinstance(line, bytes)
                 for m in [_CODE.search(line)] if m}
        if "UIDVALIDITY" not in codes:
            raise MailProtocolError(f"SELECT {folder}: no UIDVALIDITY")
        return codes["UIDVALIDITY"], codes.get("UIDNEXT", 0)

    async def _folder(self, use: str) -> str:
        """The folder with SPECIAL-USE ``\\Drafts`` / ``\\Sent`` (or the configured name)."""
        if use not in self._folders:
            response = await self._ok("list", '""', '"*"')
            for line in response.lines:
                m = _LIST.match(line) if isinstance(line, bytes) else None
                if m is None:
                    continue
                flags = m.group("flags").decode().lower().split()
                name = m.group("name").decode().strip('"')
                for special in ("drafts", "sent"):
                    if f"\\{special}" in flags:
                        self._folders.setdefault(special, name)
            fallback = {"drafts": "Drafts", "sent": "Sent"}
            for special, name in fallback.items():
                self._folders.setdefault(special, name)
        return self._folders[use]

    async def _fetch(self, uid_set: str, *, parts: str = "BODY.PEEK[]") -> dict[int, bytes]:
        response = await self._ok("uid", "fetch", uid_set, f"(UID {parts})")
        out: dict[int, bytes] = {}
        lines = response.lines
        for i, line in enumerate(lines):
            if isinstance(line, bytes) and b"FETCH" in line:
                m = _FETCH.search(line)
                if m and i + 1 < len(lines) and isinstance(lines[i + 1], bytearray):
                    out[int(m.group(1))] = bytes(lines[i + 1])
        return out

    async def _search(self, *criteria: str) -> list[int]:
        response = await self._ok("uid_search", *criteria, charset=None)
        uids: list[int] = []
        for line in response.lines[:-1]:
            if isinstance(line, bytes):
                uids.extend(int(x) for x in line.split() if x.isdigit())
        return uids

    # ------------------------------------------------------------------ inbound

    async def fetch_new(self) -> list[MailItem]:
        async with self._lock:
            if self._inbox.open:
                return self._inbox.items()
            validity, uidnext = await self._select("INBOX")
            cursor = await self._inbox.cursor()
            if cursor is None:  # first start: remember where the mailbox is
                await self.state.put(key="imap:since", value=datetime.now(UTC).isoformat())
                return await self._inbox.start(items=[], cursor=f"{validity}:{max(uidnext - 1, 0)}")
            saved_validity, last = (int(x) for x in cursor.split(":"))
            if saved_validity != validity:
                log.warning("UIDVALIDITY changed; resync", extra={"mailbox": self.name})
                found = await self._resync(validity)
            else:
                found = {uid: raw for uid, raw in (await self._fetch(f"{last + 1}:*")).items() if uid > last}
            top = max([*found, 0 if saved_validity != validity else last, uidnext - 1])
            items = [MailItem(provider_key=f"{validity}:{uid}", raw=raw) for uid, raw in sorted(found.items())
                     if not header_value(raw, NOTE_HEADER) and not header_value(raw, DRAFT_HEADER)]
            return await self._inbox.start(items=items, cursor=f"{validity}:{top}")

    async def _resync(self, validity: int) -> dict[int, bytes]:
        since = datetime.fromisoformat(await self.state.get(key="imap:since") or datetime.now(UTC).isoformat())
        uids = await self._search("SINCE", _imap_date(since))
        if not uids:
            return {}
        heads = await self._fetch(",".join(map(str, uids)), parts="BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
        ids = {uid: header_value(raw, "Message-ID") for uid, raw in heads.items()}
        known = await self.state.known_message_ids(message_ids=[m for m in ids.values() if m])
        wanted = [uid for uid, mid in ids.items() if mid not in known]
        return await self._fetch(",".join(map(str, wanted))) if wanted else {}

    async def acknowledge(self, *, provider_key: str) -> None:
        await self._inbox.acknowledge(provider_key=provider_key)

    # ------------------------------------------------------------------ drafts and notes

    async def _find_header(self, folder: str, header: str, value: str) -> str | None:
        validity, _ = await self._select(folder)
        uids = await self._search("UNDELETED", "HEADER", header, _quote(value))
        return f"{folder}/{validity}:{uids[-1]}" if uids else None

    async def _append(self, folder: str, data: bytes, flags: str) -> str:
        response = await self._ok("append", data, mailbox=_quote(folder), flags=flags)
        m = next((m for line in response.lines if isinstance(line, bytes) for m in [_APPENDUID.search(line)] if m),
                 None)
        return f"{folder}/{int(m.group(1))}:{int(m.group(2))}" if m else f"{folder}/appended"

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        """Our draft by its header, else (``in_reply_to``) as a client re-saved it; no command at all when
        this mailbox never tried to post it."""
        if not await self.state.get(key=f"imap:posting:draft:{draft_id}"):
            return None
        async with self._lock:
            found = await self._locate_draft(draft_id, in_reply_to, full=False)
            return found[0] if found else None

    async def _locate_draft(self, draft_id: str, in_reply_to: str | None, *,
                            full: bool) -> tuple[str, bool, bytes | None] | None:
        """(location, found by reply, raw if already fetched) of our draft; the caller holds the lock."""
        folder = await self._folder("drafts")
        validity, _ = await self._select(folder)
        uids = await self._search("UNDELETED", "HEADER", DRAFT_HEADER, _quote(draft_id))
        if uids:
            return f"{folder}/{validity}:{uids[-1]}", False, None
        if not in_reply_to:
            return None
        found = await self._find_reply(in_reply_to, full=full)
        return (f"{folder}/{validity}:{found[0]}", True, found[1]) if found else None

    async def _find_reply(self, in_reply_to: str, *, full: bool) -> tuple[int, bytes] | None:
        """The newest message in the selected folder that is our draft to ``in_reply_to`` re-saved by a client.

        The server narrows it down (``UID SEARCH``), ``is_resaved_draft`` decides on the headers.
        """
        try:
            wanted = _quote(in_reply_to.strip())
        except ValueError:
            log.warning("Message-ID not searchable; re-saved draft not looked for", extra={"mailbox": self.name})
            return None
        uids = await self._search(
            "UNDELETED", "NOT", "HEADER", DRAFT_HEADER, '""', "NOT", "HEADER", NOTE_HEADER, '""',
            "OR", "OR", "HEADER", "To", '""', "HEADER", "Cc", '""', "HEADER", "Bcc", '""',
            "OR", "HEADER", "In-Reply-To", wanted, f'(NOT HEADER In-Reply-To "" HEADER References {wanted})')
        if not uids:
            return None
        newest = ",".join(map(str, sorted(uids)[-_REPLY_CANDIDATES:]))
        fetched = await self._fetch(newest, parts="BODY.PEEK[]" if full else _REPLY_FIELDS)
        return next(((uid, fetched[uid]) for uid in sorted(fetched, reverse=True)
                     if is_resaved_draft(headers_of(fetched[uid]), inbound_message_id=in_reply_to)), None)

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str:
        data = draft_message(inbound=inbound, draft=draft, mailbox_address=self.address,
                             mailbox_name=self.display_name)
        await self.state.put(key=f"imap:posting:draft:{draft.draft_id}", value="1")
        async with self._lock:
            return await self._append(await self._folder("drafts"), data, r"(\Draft \Seen)")

    async def find_note(self, *, draft_id: str) -> str | None:
        if not await self.state.get(key=f"imap:posting:note:{draft_id}"):
            return None
        async with self._lock:
            return await self._find_header("INBOX", NOTE_HEADER, draft_id)

    async def post_note(self, *, inbound: Email, note: Note) -> str:
        data = note_message(inbound=inbound, note=note, mailbox_address=self.address,
                            mailbox_name=self.display_name)
        await self.state.put(key=f"imap:posting:note:{note.draft_id}", value="1")
        async with self._lock:
            return await self._append("INBOX", data, r"(\Seen)")

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> MailItem | None:
        if not await self.state.get(key=f"imap:posting:draft:{draft_id}"):
            return None
        async with self._lock:
            found = await self._locate_draft(draft_id, in_reply_to, full=True)
            if found is None:
                return None
            location, by_reply, raw = found
            if raw is None:
                uid = int(location.rsplit(":", 1)[1])
                raw = (await self._fetch(str(uid))).get(uid)
            return MailItem(provider_key=location, raw=raw, found_by_reply=by_reply) if raw is not None else None

    async def delete_draft(self, *, draft_id: str) -> bool:
        if not await self.state.get(key=f"imap:posting:draft:{draft_id}"):
            return False
        async with self._lock:
            location = await self._find_header(await self._folder("drafts"), DRAFT_HEADER, draft_id)
            if location is None:
                return False
            uid = location.rsplit(":", 1)[1]
            await self._ok("uid", "store", uid, "+FLAGS.SILENT", r"(\Deleted)")
            await self._ok("uid", "expunge", uid)
            return True

    # ------------------------------------------------------------------ sent and history

    async def fetch_sent(self) -> list[MailItem]:
        async with self._lock:
            validity, uidnext = await self._select(await self._folder("sent"))
            cursor = await self.state.get(key="imap:sent")
            if cursor is None or int(cursor.split(":")[0]) != validity:
                # first start (or a new UIDVALIDITY): what is there now is old
                await self.state.put(key="imap:sent", value=f"{validity}:{max(uidnext - 1, 0)}")
                return []
            last = int(cursor.split(":")[1])
            found = {uid: raw for uid, raw in (await self._fetch(f"{last + 1}:*")).items() if uid > last}
            # saved now: observing is idempotent, and the next pass starts after these
            await self.state.put(key="imap:sent", value=f"{validity}:{max([last, *found])}")
            return [MailItem(provider_key=f"{validity}:{uid}", raw=raw) for uid, raw in sorted(found.items())]

    async def list_history(self, *, since: datetime, limit: int = 500) -> list[MailItem]:
        items: list[MailItem] = []
        async with self._lock:
            for folder in ("INBOX", await self._folder("sent")):
                validity, _ = await self._select(folder)
                uids = (await self._search("SINCE", _imap_date(since)))[-limit:]
                if uids:
                    for uid, raw in sorted((await self._fetch(",".join(map(str, uids)))).items()):
                        if not header_value(raw, NOTE_HEADER) and len(items) < limit:
                            items.append(MailItem(provider_key=f"{folder}/{validity}:{uid}", raw=raw))
        return items

    # ------------------------------------------------------------------ IDLE

    async def wait_for_changes(self, *, timeout: float) -> bool:
        """IDLE on INBOX on a second connection; plain sleep when IDLE is off, missing or failing."""
        if not self.use_idle:
            await asyncio.sleep(timeout)
            return False
        try:
            if self._idler is not None and self._idle_lost:
                raise MailUnavailableError("IDLE connection lost")
            if self._idler is None:
                self._idle_lost = False
                self._idler = await self._connect(on_lost=self._on_idle_lost)
                if not self._idler.has_capability("IDLE"):
                    self.use_idle = False
                    await asyncio.sleep(timeout)
                    return False
                await asyncio.wait_for(self._idler.select("INBOX"), timeout=self.timeout)
            idle = await asyncio.wait_for(self._idler.idle_start(timeout=min(timeout, IDLE_MAX)),
                                          timeout=self.timeout)
            try:
                pushed = await self._idler.wait_server_push(timeout=min(timeout, IDLE_MAX))
            except TimeoutError:
                pushed = None
            finally:
                self._idler.idle_done()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(idle, timeout=5)
            return pushed is not None and any(
                isinstance(line, bytes) and (line.endswith(b"EXISTS") or line.endswith(b"RECENT"))
                for line in (pushed if isinstance(pushed, list) else [pushed]))
        except (*_NETWORK_ERRORS, MailUnavailableError, MailAuthError) as exc:
            log.warning("IMAP IDLE failed; reconnecting on the next wait", extra={"mailbox": self.name,
                                                                                "error": type(exc).__name__})
            idler, self._idler = self._idler, None
            if idler is not None and not self._idle_lost:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(idler.logout(), timeout=1)
            await asyncio.sleep(min(timeout, 1.0))
            return True  # something may have happened while we were not listening: poll

    async def aclose(self) -> None:
        await self._drop()
        idler, self._idler = self._idler, None
        if idler is not None and not self._idle_lost:
            with contextlib.suppress(Exception):
                if idler.has_pending_idle():
                    idler.idle_done()
                await asyncio.wait_for(idler.logout(), timeout=1)


def _text(response: aioimaplib.Response) -> str:
    return " ".join(line.decode(errors="replace") for line in response.lines if isinstance(line, bytes))
