"""Explicit feedback: thumbs up or down with a reason, on a whole draft or on one of its suggestions.

One rating per person per target: rating the same draft (or the same
suggestion) again replaces the earlier rating, so counts are people, not
clicks. A suggestion is addressed by its index in the draft's
``suggestions``; an index the draft does not have is refused.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict

from store import audit
from store.errors import StoreError


class UnknownDraftError(StoreError):
    """No draft has that id."""


class SuggestionIndexError(StoreError):
    """The draft has no suggestion at that index."""


class Rating(StrEnum):
    UP = "up"
    DOWN = "down"


class Feedback(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    draft_id: str
    mailbox: str
    version: str  # the prompt version the message was assigned, else the draft's template version
    suggestion_index: int | None
    suggestion_kind: str | None
    suggestion_text: str | None
    rating: Rating
    reason: str
    author: str
    created_at: datetime
    updated_at: datetime


_SELECT = (
    "SELECT f.id, f.draft_id::text AS draft_id, b.name AS mailbox, "
    "coalesce(pa.version, d.template_version) AS version, f.suggestion_index, "
    "d.suggestions -> f.suggestion_index ->> 'kind' AS suggestion_kind, "
    "d.suggestions -> f.suggestion_index ->> 'text' AS suggestion_text, f.rating, f.reason, f.author, "
    "f.created_at, f.updated_at FROM draft_feedback f JOIN drafts d ON d.draft_id = f.draft_id "
    "JOIN mailboxes b ON b.id = d.mailbox_id "
    "LEFT JOIN prompt_assignments pa ON pa.mailbox_id = d.mailbox_id AND pa.message_key = d.draft_id::text "
)


def _feedback(row: dict[str, Any]) -> Feedback:
    return Feedback.model_validate(row)


class FeedbackRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def give(self, *, draft_id: str, rating: Rating, reason: str, author: str,
                   suggestion_index: int | None = None) -> tuple[Feedback, bool]:
        """Record (or replace) one person's rating; True when it is new."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT mailbox_id, message_id, jsonb_array_length(suggestions) AS n "
                              "FROM drafts WHERE draft_id = %s", (draft_id,))
            draft = await cur.fetchone()
            if draft is None:
                raise UnknownDraftError(f"no draft {draft_id}")
            if suggestion_index is not None and suggestion_index >= draft["n"]:
                raise SuggestionIndexError(f"draft {draft_id} has {draft['n']} suggestion(s); "
                                           f"there is no suggestion {suggestion_index}")
            await cur.execute(
                "INSERT INTO draft_feedback (draft_id, suggestion_index, rating, reason, author) "
                "VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (draft_id, (coalesce(suggestion_index, -1)), author) DO UPDATE SET "
                "rating = EXCLUDED.rating, reason = EXCLUDED.reason, updated_at = now() "
                "RETURNING id, (xmax = 0) AS created",
                (draft_id, suggestion_index, rating.value, reason, author),
            )
            row = await cur.fetchone()
            assert row is not None
            await audit.record(cur, action=f"feedback_{rating.value}", mailbox_id=draft["mailbox_id"],
                               message_id=draft["message_id"],
                               detail={"draft_id": draft_id, "suggestion_index": suggestion_index,
                                       "feedback_id": row["id"]})
            await cur.execute(_SELECT + "WHERE f.id = %s", (row["id"],))
            saved = await cur.fetchone()
        assert saved is not None
        return _feedback(saved), bool(row["created"])

    async def for_draft(self, *, draft_id: str) -> list[Feedback]:
        """Every rating of a draft and its suggestions; UnknownDraftError when there is no such draft."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM drafts WHERE draft_id = %s", (draft_id,))
            if await cur.fetchone() is None:
                raise UnknownDraftError(f"no draft {draft_id}")
            await cur.execute(_SELECT + "WHERE f.draft_id = %s ORDER BY f.suggestion_index NULLS FIRST, f.id",
                              (draft_id,))
            return [_feedback(r) for r in await cur.fetchall()]

    async def search(self, *, mailbox: str | None = None, rating: Rating | None = None,
                     version: str | None = None, limit: int = 50, offset: int = 0) -> list[Feedback]:
        """Recent ratings, newest first; ``version`` matches a version id or a version name."""
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                _SELECT + "WHERE (%(mailbox)s::text IS NULL OR b.name = %(mailbox)s) "
                "AND (%(rating)s::text IS NULL OR f.rating = %(rating)s) "
                "AND (%(version)s::text IS NULL OR coalesce(pa.version, d.template_version) = %(version)s "
                "     OR split_part(coalesce(pa.version, d.template_version), '@', 1) = %(version)s) "
                "ORDER BY f.updated_at DESC, f.id DESC LIMIT %(limit)s OFFSET %(offset)s",
                {"mailbox": mailbox, "rating": rating.value if rating else None, "version": version,
                 "limit": limit, "offset": offset},
            )
            return [_feedback(r) for r in await cur.fetchall()]
