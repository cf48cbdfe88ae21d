"""Acceptance metrics endpoints: rates by dimension, edit sizes, suggestions, response times."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from store.metrics import Dimension, MetricsRepository


def metrics_router() -> APIRouter:
    router = APIRouter(prefix="/metrics", tags=["metrics"])

    def repo(request: Request) -> MetricsRepository:
        return MetricsRepository(pool=request.app.state.pool)

    @router.get("/acceptance")
    async def acceptance(request: Request, by: Dimension = Dimension.MAILBOX, mailbox: str | None = None,
                         since: datetime | None = None) -> list[dict[str, Any]]:
        """Outcome counts and acceptance rates (as is; as is + lightly edited) per ``by`` value."""
        return await repo(request).acceptance(by=by, mailbox=mailbox, since=since)

    @router.get("/edit-sizes")
    async def edit_sizes(request: Request, mailbox: str | None = None,
                         since: datetime | None = None) -> list[dict[str, Any]]:
        return await repo(request).edit_sizes(mailbox=mailbox, since=since)

    @router.get("/suggestions")
    async def suggestions(request: Request, mailbox: str | None = None,
                          since: datetime | None = None) -> list[dict[str, Any]]:
        """Per suggestion kind, the share that survives in the sent reply."""
        return await repo(request).suggestions(mailbox=mailbox, since=since)

    @router.get("/response-times")
    async def response_times(request: Request, mailbox: str | None = None,
                             since: datetime | None = None) -> list[dict[str, Any]]:
        return await repo(request).response_times(mailbox=mailbox, since=since)

    return router
