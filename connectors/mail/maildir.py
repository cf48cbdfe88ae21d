"""Maildir mailbox: the embedded default.

Layout (Maildir++ as Dovecot and Courier use it): inbound mail arrives in
``new/``; once stored it is moved to ``cur/`` (the usual "seen by a client"
step, no flag set). Drafts go to ``.Drafts/cur`` with the ``D`` flag, named
``shipdraft-draft-<draft id>``; the internal note goes next to the customer's
message in ``cur/`` with the ``S`` flag, named ``shipdraft-note-<draft id>``,
and has no recipients. Replies the agent sends are read from ``.Sent``.
Every file is written to ``tmp/`` first and renamed into place, so a crash
never leaves half a message, and a retry finds the draft by its name (or,
if a client re-saved it under another name, by its header). A client that
re-saved it without our header leaves only the threading: given the inbound
Message-ID (``in_reply_to``), the newest message in ``.Drafts`` that replies
to it and is not a note is the draft, edited (``compose.is_resaved_draft``).

Those header lookups read each file's header block once: a Maildir message
file never changes (only the flags after ``:2,`` in its name do), so the few
headers they need are cached per file key; finding a draft in a folder of
thousands costs a directory listing, not thousands of parses.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import os
import socket
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.models import Draft, Email, Note
from connectors.mail.base import MailConfigError, MailItem, SyncState
from connectors.mail.compose import (
    DRAFT_HEADER,
    NOTE_HEADER,
    RECIPIENT_HEADERS,
    draft_message,
    is_resaved_draft,
    note_message,
)

_OWN_PREFIX = "shipdraft-"
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)
_CACHED_HEADERS = (DRAFT_HEADER, NOTE_HEADER, "In-Reply-To", "References", *RECIPIENT_HEADERS)


class _Headers(dict[str, str]):
    """The few headers the lookups need, by their canonical names (``get`` like a ``Message``)."""


class MaildirMailbox:
    """A Maildir++ folder tree on local disk."""

    def __init__(self, *, name: str, path: str | Path, address: str, display_name: str = "") -> None:
        self.name = name
        self.root = Path(path)
        self.address = address
        self.display_name = display_name or name
        self._seen_sent: set[str] = set()
        self._acked: set[str] = set()
        self._headers: dict[tuple[Path, str], _Headers] = {}  # (folder, file key) -> cached headers
        for folder in (self.root, self.root / ".Drafts", self.root / ".Sent"):
            for sub in ("tmp", "new", "cur"):
                (folder / sub).mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_config(cls, *, name: str, config: Mapping[str, Any], address: str, display_name: str,
                    base_dir: Path, state: SyncState | None = None,
                    environ: Mapping[str, str] | None = None) -> MaildirMailbox:
        """From the mailbox YAML's ``provider`` block; a relative ``path`` is taken from ``base_dir``.

        ``state`` and ``environ`` are accepted like every provider's; a Maildir needs neither.
        """
        if not config.get("path"):
            raise MailConfigError(f"mailbox {name}: provider.path (the Maildir folder) is required")
        path = Path(config["path"])
        return cls(name=name, path=path if path.is_absolute() else base_dir / path, address=address,
                   display_name=display_name)

    # ------------------------------------------------------------------ inbound

    async def fetch_new(self) -> list[MailItem]:
        """Messages in ``new/`` and ``cur/`` that were not acknowledged (stored) yet."""
        items = []
        for sub in ("new", "cur"):
            for path in self._files(self.root / sub):
                key = _key(path.name)
                if key in self._acked or key.startswith(_OWN_PREFIX):
                    continue
                try:
                    items.append(MailItem(provider_key=key, raw=path.read_bytes()))
                except FileNotFoundError:  # a client moved it meanwhile; the next pass finds it
                    continue
        return items

    async def acknowledge(self, *, provider_key: str) -> None:
        self._acked.add(provider_key)
        src = self.root / "new" / provider_key
        if src.exists():
            os.replace(src, self.root / "cur" / f"{provider_key}:2,")

    # ------------------------------------------------------------------ drafts and notes

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        """Our draft by file name or header; else, with ``in_reply_to``, the draft a client re-saved."""
        found = self._find_draft(draft_id, in_reply_to)
        return found[0] if found else None

    def _find_draft(self, draft_id: str, in_reply_to: str | None) -> tuple[str, bool] | None:
        """(location, found by reply) of our draft."""
        drafts = self.root / ".Drafts"
        location = self._find(drafts, f"{_OWN_PREFIX}draft-{draft_id}", DRAFT_HEADER, draft_id, flags="D")
        if location is not None:
            return location, False
        if in_reply_to:
            location = self._find_reply(drafts, in_reply_to)
            if location is not None:
                return location, True
        return None

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str:
        data = draft_message(inbound=inbound, draft=draft, mailbox_address=self.address,
                             mailbox_name=self.display_name)
        return self._deliver(self.root / ".Drafts", f"{_OWN_PREFIX}draft-{draft.draft_id}", "D", data)

    async def find_note(self, *, draft_id: str) -> str | None:
        return self._find(self.root, f"{_OWN_PREFIX}note-{draft_id}", NOTE_HEADER, draft_id, flags="S")

    async def post_note(self, *, inbound: Email, note: Note) -> str:
        data = note_message(inbound=inbound, note=note, mailbox_address=self.address,
                            mailbox_name=self.display_name)
        return self._deliver(self.root, f"{_OWN_PREFIX}note-{note.draft_id}", "S", data)

    # ------------------------------------------------------------------ sent

    async def fetch_sent(self) -> list[MailItem]:
        items = []
        for sub in ("new", "cur"):
            for path in self._files(self.root / ".Sent" / sub):
                key = _key(path.name)
                if key in self._seen_sent:
                    continue
                try:
                    items.append(MailItem(provider_key=key, raw=path.read_bytes()))
                except FileNotFoundError:
                    continue
                self._seen_sent.add(key)
        return items

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> MailItem | None:
        found = self._find_draft(draft_id, in_reply_to)
        if found is None:
            return None
        location, by_reply = found
        try:
            return MailItem(provider_key=location, raw=(self.root / location).read_bytes(), found_by_reply=by_reply)
        except FileNotFoundError:
            return None

    async def delete_draft(self, *, draft_id: str) -> bool:
        location = await self.find_draft(draft_id=draft_id)
        if location is None:
            return False
        (self.root / location).unlink(missing_ok=True)
        return True

    async def list_history(self, *, since: datetime, limit: int = 500) -> list[MailItem]:
        """Inbound (not our notes) and sent messages whose file changed since ``since``."""
        items = []
        cutoff = since.timestamp()
        for folder in (self.root, self.root / ".Sent"):
            for sub in ("cur", "new"):
                for path in self._files(folder / sub):
                    if _key(path.name).startswith(_OWN_PREFIX) or len(items) >= limit:
                        continue
                    try:
                        if path.stat().st_mtime >= cutoff:
                            items.append(MailItem(provider_key=_key(path.name), raw=path.read_bytes()))
                    except FileNotFoundError:
                        continue
        return items

    async def wait_for_changes(self, *, timeout: float) -> bool:
        """A Maildir is polled: sleep for ``timeout``."""
        await asyncio.sleep(timeout)
        return False

    async def aclose(self) -> None:
        return None

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _files(folder: Path) -> Iterator[Path]:
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.is_file() and not e.name.startswith("."))
        except FileNotFoundError:
            return iter(())
        return (folder / n for n in names)

    def _find(self, folder: Path, name: str, header: str, value: str, *, flags: str) -> str | None:
        written = folder / "cur" / f"{name}:2,{flags}"
        if written.exists():  # as we wrote it: no listing needed
            return str(written.relative_to(self.root))
        paths = [p for sub in ("cur", "new") for p in self._files(folder / sub)]
        for path in paths:
            if _key(path.name) == name:  # flags changed by a client
                return str(path.relative_to(self.root))
        self._prune(folder, present={_key(p.name) for p in paths})
        for path in paths:  # re-saved by a client under another name
            headers = self._headers_of(folder, path)
            if headers is not None and headers.get(header, "").strip() == value:
                return str(path.relative_to(self.root))
        return None

    def _prune(self, folder: Path, *, present: set[str]) -> None:
        """Forget cached headers of files gone from ``folder`` once they outnumber the files there."""
        cached = [k for k in self._headers if k[0] == folder]
        if len(cached) > 2 * len(present) + 1000:
            for k in cached:
                if k[1] not in present:
                    del self._headers[k]

    def _find_reply(self, folder: Path, in_reply_to: str) -> str | None:
        """The newest message in ``folder`` that is our draft to ``in_reply_to`` re-saved by a client."""
        newest: tuple[float, str] | None = None
        for path in [p for sub in ("cur", "new") for p in self._files(folder / sub)]:
            headers = self._headers_of(folder, path)
            if headers is None or not is_resaved_draft(headers, inbound_message_id=in_reply_to):  # type: ignore[arg-type]
                continue
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if newest is None or mtime >= newest[0]:
                newest = (mtime, str(path.relative_to(self.root)))
        return newest[1] if newest else None

    def _headers_of(self, folder: Path, path: Path) -> _Headers | None:
        """The cached lookup headers of one message file; None when it vanished meanwhile."""
        key = (folder, _key(path.name))
        cached = self._headers.get(key)
        if cached is None:
            try:
                with path.open("rb") as fh:
                    parsed = _HEADERS.parse(fh)
            except FileNotFoundError:
                return None
            cached = _Headers({h: str(parsed[h]) for h in _CACHED_HEADERS if parsed[h] is not None})
            self._headers[key] = cached
        return cached

    def _deliver(self, folder: Path, name: str, flags: str, data: bytes) -> str:
        tmp = folder / "tmp" / f"{name}.{time.time_ns()}.{socket.gethostname()}"
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        target = folder / "cur" / f"{name}:2,{flags}"
        os.replace(tmp, target)
        return str(target.relative_to(self.root))


def _key(filename: str) -> str:
    return filename.split(":", 1)[0]
