"""Fixtures for the mailbox provider tests: one Dovecot per session, one harness per provider.

A harness wraps a provider and the "other side" of the mailbox: the customer
whose mail arrives, the agent who sends or deletes the draft in the mail
client, and the provider going down. The conformance suite only talks to
harnesses, so every provider passes the same tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import respx

from connectors.mail.base import MemorySyncState
from tests.conftest import require_service
from tests.connectors.mail.dovecot import Dovecot, start_dovecot
from tests.connectors.mail.harness import GmailHarness, GraphHarness, Harness, ImapHarness, MaildirHarness


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not (shutil.which("dovecot") or os.path.exists("/usr/sbin/dovecot")):
        require_service("dovecot", "install the Debian package dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="shipdraft-dovecot-"))  # /tmp: traversable by the mail user
    server = start_dovecot(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mock_router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture(params=["maildir", "imap", "graph", "gmail"])
async def harness(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    kind = request.param
    state = MemorySyncState()
    h: Harness
    if kind == "maildir":
        h = MaildirHarness(root=tmp_path / "ops", state=state)
    elif kind == "imap":
        server: Dovecot = request.getfixturevalue("dovecot")
        h = ImapHarness(server=server, user=server.add_user(f"u{uuid.uuid4().hex[:10]}"), state=state)
    elif kind == "graph":
        h = GraphHarness(router=request.getfixturevalue("mock_router"), state=state)
    else:
        h = GmailHarness(router=request.getfixturevalue("mock_router"), state=state)
    await h.start()
    try:
        yield h
    finally:
        with contextlib.suppress(Exception):
            await h.close()
    # every Graph request carried the token and ImmutableId; every Gmail request matched the discovery document
    assert getattr(getattr(h, "fake", None), "violations", []) == []
