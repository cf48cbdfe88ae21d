"""Prompt versions created through the API, per-mailbox rollouts and per-message assignments.

Shipped versions (``prompts/llm/<name>/``) and stored versions share one name
space: a stored version can take neither the name nor the content of a
shipped one, and a stored version never changes once created (the database
refuses UPDATE and DELETE on ``prompt_versions``). Rollouts are append-only;
the newest row of a mailbox is in force. ``StoredPromptSelector`` is the
production ``agent.rollout.PromptSelector``: it reads the rollout in force,
picks the arm deterministically and records the assignment, so a retry gets
the version it got the first time and acceptance can be counted per arm.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict

from agent.llm_drafter import PromptVersion
from agent.rollout import Rollout, UnknownPromptError, shipped_prompts
from store import audit
from store.errors import StoreError, UnknownMailboxError

log = logging.getLogger(__name__)


class DuplicatePromptError(StoreError):
    """A prompt version with that name or that exact content exists already."""

    def __init__(self, message: str, *, existing: str) -> None:
        super().__init__(message)
        self.existing = existing


class PromptInfo(BaseModel):
    """A prompt version, shipped (``file``) or created through the API (``api``)."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    source: Literal["file", "api"]
    system: str
    user: str
    author: str | None = None
    message: str | None = None
    parent: str | None = None
    created_at: datetime | None = None

    def prompt(self) -> PromptVersion:
        return PromptVersion(name=self.name, system=self.system, user=self.user)


class RolloutRecord(BaseModel):
    """A rollout as set for a mailbox; ``id`` is None for the mailbox default (no rollout set)."""

    model_config = ConfigDict(frozen=True)

    id: int | None
    mailbox: str
    rollout: Rollout
    author: str | None = None
    message: str = ""
    created_at: datetime | None = None


def content_hash(*, system: str, user: str) -> str:
    """The full SHA-256 of a version's templates; its first 12 digits are the ``PromptVersion.version`` suffix."""
    return hashlib.sha256(f"{system}\x00{user}".encode()).hexdigest()


def _file_info(prompt: PromptVersion) -> PromptInfo:
    return PromptInfo(name=prompt.name, version=prompt.version, source="file", system=prompt.system, user=prompt.user)


def _row_info(row: dict[str, Any]) -> PromptInfo:
    return PromptInfo(name=row["name"], version=row["version"], source="api", system=row["system_template"],
                      user=row["user_template"], author=row["author"], message=row["message"],
                      parent=row["parent"], created_at=row["created_at"])


_COLUMNS = "name, version, system_template, user_template, author, message, parent, created_at"


class PromptRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    # ------------------------------------------------------------------ versions

    async def list(self) -> list[PromptInfo]:
        """Shipped versions by name, then stored ones oldest first."""
        shipped = [_file_info(p) for p in shipped_prompts().values()]
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(f"SELECT {_COLUMNS} FROM prompt_versions ORDER BY created_at, id")
            rows = await cur.fetchall()
        names = {p.name for p in shipped}
        return shipped + [_row_info(r) for r in rows if r["name"] not in names]

    async def get(self, *, name: str) -> PromptInfo | None:
        """A version by name; a shipped version wins over a stored one of the same name."""
        shipped = shipped_prompts().get(name)
        if shipped is not None:
            return _file_info(shipped)
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(f"SELECT {_COLUMNS} FROM prompt_versions WHERE name = %s", (name,))
            row = await cur.fetchone()
        return _row_info(row) if row else None

    async def resolve(self, *, name: str) -> PromptVersion:
        info = await self.get(name=name)
        if info is None:
            raise UnknownPromptError(f"no prompt version named {name!r}")
        return info.prompt()

    async def create(self, *, prompt: PromptVersion, author: str, message: str, parent: str | None) -> PromptInfo:
        """Store a new immutable version; the caller has run ``agent.rollout.check_prompt`` on it."""
        digest = content_hash(system=prompt.system, user=prompt.user)
        shipped = shipped_prompts()
        if prompt.name in shipped:
            raise DuplicatePromptError(f"{prompt.name!r} is a shipped prompt version", existing=prompt.name)
        same = next((p for p in shipped.values()
                     if content_hash(system=p.system, user=p.user) == digest), None)
        if same is not None:
            raise DuplicatePromptError(f"the shipped version {same.name!r} has exactly this content",
                                       existing=same.name)
        if parent is not None and parent not in shipped and await self.get(name=parent) is None:
            raise UnknownPromptError(f"parent version {parent!r} does not exist")
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT name FROM prompt_versions WHERE name = %s OR content_hash = %s",
                              (prompt.name, digest))
            clash = await cur.fetchone()
            if clash is not None:
                raise DuplicatePromptError(self._clash_message(clash["name"], prompt.name), existing=clash["name"])
            try:
                await cur.execute(
                    f"INSERT INTO prompt_versions (name, version, content_hash, system_template, user_template, "
                    f"author, message, parent) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                    (prompt.name, prompt.version, digest, prompt.system, prompt.user, author, message, parent),
                )
            except psycopg.errors.UniqueViolation as exc:  # a concurrent create of the same name or content
                raise DuplicatePromptError(f"prompt version {prompt.name!r} or its content was just created",
                                           existing=prompt.name) from exc
            row = await cur.fetchone()
            assert row is not None
            await audit.record(cur, action="prompt_version_created",
                               detail={"version": prompt.version, "author": author, "parent": parent})
        return _row_info(row)

    @staticmethod
    def _clash_message(existing: str, wanted: str) -> str:
        if existing == wanted:
            return f"prompt version {wanted!r} exists already (versions are immutable: pick a new name)"
        return f"prompt version {existing!r} has exactly this content"

    # ------------------------------------------------------------------ rollouts

    async def default_prompt(self, *, mailbox: str) -> str:
        """The version the mailbox YAML names (``prompt``), used while no rollout is set."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT coalesce(config->>'prompt', 'draft-v1') AS prompt FROM mailboxes "
                              "WHERE name = %s", (mailbox,))
            row = await cur.fetchone()
        if row is None:
            raise UnknownMailboxError(f"no mailbox named {mailbox!r}")
        return str(row["prompt"])

    async def current_rollout(self, *, mailbox: str) -> RolloutRecord | None:
        history = await self.rollout_history(mailbox=mailbox, limit=1)
        return history[0] if history else None

    async def rollout_history(self, *, mailbox: str, limit: int = 50) -> list[RolloutRecord]:
        """The rollouts of a mailbox, newest (the one in force) first."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT r.id, r.config, r.author, r.message, r.created_at FROM prompt_rollouts r "
                "JOIN mailboxes b ON b.id = r.mailbox_id WHERE b.name = %s ORDER BY r.id DESC LIMIT %s",
                (mailbox, limit),
            )
            rows = await cur.fetchall()
        return [RolloutRecord(id=r["id"], mailbox=mailbox, rollout=Rollout.model_validate(r["config"]),
                              author=r["author"], message=r["message"], created_at=r["created_at"]) for r in rows]

    async def set_rollout(self, *, mailbox: str, rollout: Rollout, author: str, message: str) -> RolloutRecord:
        """Put a rollout in force for a mailbox; every version it names must exist."""
        for name in rollout.versions:
            await self.resolve(name=name)
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO prompt_rollouts (mailbox_id, config, author, message) "
                "SELECT id, %s, %s, %s FROM mailboxes WHERE name = %s RETURNING id, mailbox_id, created_at",
                (Jsonb(rollout.model_dump(mode="json")), author, message, mailbox),
            )
            row = await cur.fetchone()
            if row is None:
                raise UnknownMailboxError(f"no mailbox named {mailbox!r}")
            await audit.record(cur, action="prompt_rollout_set", mailbox_id=row["mailbox_id"],
                               detail={"rollout": rollout.model_dump(mode="json"), "author": author,
                                       "rollout_id": row["id"]})
        return RolloutRecord(id=row["id"], mailbox=mailbox, rollout=rollout, author=author, message=message,
                             created_at=row["created_at"])

    # ------------------------------------------------------------------ assignments

    async def assignment(self, *, mailbox: str, message_key: str) -> str | None:
        """The version id (name@hash) this message was given, if it was given one."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT a.version FROM prompt_assignments a JOIN mailboxes b ON b.id = a.mailbox_id "
                "WHERE b.name = %s AND a.message_key = %s", (mailbox, message_key),
            )
            row = await cur.fetchone()
        return row["version"] if row else None

    async def assign(self, *, mailbox: str, message_key: str, version: str, rollout_id: int | None) -> str:
        """Record the version a message gets; the first assignment wins and is returned."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO prompt_assignments (mailbox_id, message_key, version, rollout_id) "
                "SELECT id, %s, %s, %s FROM mailboxes WHERE name = %s "
                "ON CONFLICT (mailbox_id, message_key) DO NOTHING RETURNING version",
                (message_key, version, rollout_id, mailbox),
            )
            if await cur.fetchone() is not None:
                return version
        existing = await self.assignment(mailbox=mailbox, message_key=message_key)
        if existing is None:
            raise UnknownMailboxError(f"no mailbox named {mailbox!r}")
        return existing

    # ------------------------------------------------------------------ preview input

    async def stored_message(self, *, message_pk: int) -> tuple[str, bytes] | None:
        """(mailbox, raw RFC 822 bytes) of a stored inbound message, for a preview."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT b.name AS mailbox, m.raw FROM messages m JOIN mailboxes b "
                              "ON b.id = m.mailbox_id WHERE m.id = %s", (message_pk,))
            row = await cur.fetchone()
        return (row["mailbox"], bytes(row["raw"])) if row else None


class StoredPromptSelector:
    """The rollout in force for the mailbox, sticky per message; the default version when anything fails.

    ``default`` is the version the mailbox YAML names; it drafts while no
    rollout is set, and whenever the database cannot answer or a rollout
    names a version that is gone (logged as a warning: visible, not fatal).
    """

    def __init__(self, *, pool: AsyncConnectionPool, default: PromptVersion) -> None:
        self._repo = PromptRepository(pool=pool)
        self._default = default

    async def select(self, *, mailbox: str, message_key: str) -> PromptVersion:
        try:
            return await self._select(mailbox=mailbox, message_key=message_key)
        except (StoreError, UnknownPromptError, psycopg.Error) as exc:
            log.warning("prompt rollout unavailable, drafting with the default version",
                        extra={"mailbox": mailbox, "default": self._default.version, "error": str(exc)})
            return self._default

    async def _select(self, *, mailbox: str, message_key: str) -> PromptVersion:
        earlier = await self._repo.assignment(mailbox=mailbox, message_key=message_key)
        if earlier is not None:
            return await self._version(earlier)
        record = await self._repo.current_rollout(mailbox=mailbox)
        if record is None:
            chosen, rollout_id = self._default, None
        else:
            name = record.rollout.choose(mailbox=mailbox, message_key=message_key)
            chosen, rollout_id = await self._repo.resolve(name=name), record.id
        kept = await self._repo.assign(mailbox=mailbox, message_key=message_key, version=chosen.version,
                                       rollout_id=rollout_id)
        return chosen if kept == chosen.version else await self._version(kept)

    async def _version(self, version_id: str) -> PromptVersion:
        name = version_id.split("@", 1)[0]
        if name == self._default.name:
            prompt = self._default
        else:
            prompt = await self._repo.resolve(name=name)
        if prompt.version != version_id:  # a shipped version's files changed since the assignment
            log.warning("assigned prompt version changed since; drafting with its current content",
                        extra={"assigned": version_id, "current": prompt.version})
        return prompt
