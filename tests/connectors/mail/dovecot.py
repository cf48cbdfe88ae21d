"""A throwaway Dovecot IMAP server for tests: own config, free port, passwd-file, maildir, uid=mail.

Started once per test session in a temporary directory (``dovecot -c <config>``)
and stopped with ``dovecot -c <config> stop``. Each test gets its own user, so
tests never see each other's mail. A tiny TCP proxy in front of the server lets
a test cut the connection (a provider outage) without restarting Dovecot.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "secret-pass"

_CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


USERS = 200  # written before the start: Dovecot re-reads a passwd-file by mtime, in whole seconds


@dataclass
class Dovecot:
    root: Path
    port: int
    config: Path
    _next: Iterator[int] = field(default_factory=lambda: iter(range(USERS)))

    def add_user(self, name: str = "") -> str:
        """A mail user nobody used yet (password ``PASSWORD``); ``name`` is ignored."""
        return f"user{next(self._next):03d}"

    def stop(self) -> None:
        subprocess.run(["dovecot", "-c", str(self.config), "stop"], check=False, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def start_dovecot(root: Path) -> Dovecot:
    """Write a config under ``root`` and start Dovecot on a free local port."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        raise FileNotFoundError("dovecot")
    user, group = "mail", "mail"
    uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
    for sub in ("run", "state", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chown(root / "home", uid, gid)
    os.chmod(root, 0o755)
    (root / "passwd").write_text("".join(f"user{i:03d}:{{PLAIN}}{PASSWORD}::::::\n" for i in range(USERS)))
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(_CONFIG.format(root=root, port=port, user=user, group=group))
    with (root / "start.log").open("wb") as out:  # the daemon inherits no pipe we would wait on
        subprocess.run([binary, "-c", str(config)], check=True, stdin=subprocess.DEVNULL, stdout=out,
                       stderr=subprocess.STDOUT, timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return Dovecot(root=root, port=port, config=config)
        time.sleep(0.05)
    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
    raise RuntimeError(f"dovecot did not listen on {port}: {log[-2000:]}")


class CuttableProxy:
    """A local TCP proxy to a server; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, *, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for w in list(self._writers):
            w.close()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        with contextlib.suppress(asyncio.CancelledError):  # the test loop is closing
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@contextlib.contextmanager
def running(root: Path) -> Iterator[Dovecot]:
    server = start_dovecot(root)
    try:
        yield server
    finally:
        server.stop()
