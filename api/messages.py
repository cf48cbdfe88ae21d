"""Messages with their state, references, facts (with sources), draft and note."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from api.schemas import MessageDetail, MessageSummary


def messages_router() -> APIRouter:
    router = APIRouter(tags=["messages"])

    @router.get("/messages", response_model=list[MessageSummary])
    async def list_messages(
        request: Request,
        mailbox: str | None = None,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        rows = await request.app.state.messages.list(mailbox=mailbox, state=state, limit=limit, offset=offset)
        return [{**r, "draft_id": str(r["draft_id"]) if r["draft_id"] else None} for r in rows]

    @router.get("/messages/{message_pk}", response_model=MessageDetail)
    async def get_message(request: Request, message_pk: int) -> dict[str, Any]:
        detail = await request.app.state.messages.detail(message_pk=message_pk)
        if detail is None:
            raise HTTPException(status_code=404, detail=f"no message {message_pk}")
        if detail["draft"]:
            detail["draft"]["draft_id"] = str(detail["draft"]["draft_id"])
        return detail

    return router
