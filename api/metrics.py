"""Acceptance metrics over HTTP: rates by dimension, edit sizes, per-suggestion survival, response times.

- ``GET /metrics/acceptance?by=mailbox|intent|language|drafter|prompt|week``: outcome counts and the
  two acceptance rates (sent as is; sent as is or lightly edited) per value of ``by``.
- ``GET /metrics/edit-sizes``: the distribution of edit sizes of the drafts that were sent.
- ``GET /metrics/suggestions``: per suggestion kind, the share that survived in the sent reply.
- ``GET /metrics/response-times``: first-response time of every inbound message that got a reply, grouped
  by whether a draft was in the mailbox when the reply was sent, and draft-to-send time.

Every endpoint takes ``mailbox`` and ``since`` filters; ``shipdraft metrics`` prints the same figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.schemas import AcceptanceRow, EditSizeBucket, ResponseTimeRow, SuggestionKindRow
from store.metrics import Dimension, MetricsRepository


def _repo(request: Request) -> MetricsRepository:
    return MetricsRepository(pool=request.app.state.pool)


Repo = Annotated[MetricsRepository, Depends(_repo)]
Mailbox = Annotated[str | None, Query(max_length=64, description="only this mailbox")]
Since = Annotated[datetime | None, Query(description="only outcomes recorded (response times: first replies "
                                                      "sent) at or after this time")]


def metrics_router() -> APIRouter:
    """The metrics endpoints."""
    router = APIRouter(prefix="/metrics", tags=["metrics"])

    @router.get("/acceptance", response_model=list[AcceptanceRow])
    async def acceptance(repo: Repo, by: Dimension = Dimension.MAILBOX, mailbox: Mailbox = None,
                         since: Since = None) -> list[AcceptanceRow]:
        """Outcome counts and acceptance rates (as is; as is + lightly edited) per ``by`` value."""
        rows = await repo.acceptance(by=by, mailbox=mailbox, since=since)
        return [AcceptanceRow.model_validate(r) for r in rows]

    @router.get("/edit-sizes", response_model=list[EditSizeBucket])
    async def edit_sizes(repo: Repo, mailbox: Mailbox = None, since: Since = None) -> list[EditSizeBucket]:
        """How many characters agents changed in the drafts they sent, in buckets."""
        return [EditSizeBucket.model_validate(r) for r in await repo.edit_sizes(mailbox=mailbox, since=since)]

    @router.get("/suggestions", response_model=list[SuggestionKindRow])
    async def suggestions(repo: Repo, mailbox: Mailbox = None, since: Since = None) -> list[SuggestionKindRow]:
        """Per suggestion kind, the share that survives in the sent reply."""
        return [SuggestionKindRow.model_validate(r) for r in await repo.suggestions(mailbox=mailbox, since=since)]

    @router.get("/response-times", response_model=list[ResponseTimeRow])
    async def response_times(repo: Repo, mailbox: Mailbox = None, since: Since = None) -> list[ResponseTimeRow]:
        """First-response time per answered inbound message, with and without a draft, and draft-to-send time."""
        rows = await repo.response_times(mailbox=mailbox, since=since)
        return [ResponseTimeRow.model_validate(r) for r in rows]

    return router
