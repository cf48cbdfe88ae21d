"""Explicit feedback over HTTP: thumbs up or down with a reason, per draft and per suggestion.

- ``POST /drafts/{draft_id}/feedback`` ``{rating: up|down, reason, suggestion_index?, author}``:
  201 for a new rating, 200 when it replaces the same person's earlier rating of the same target;
  404 for an unknown draft, 422 for a suggestion index the draft does not have or a thumbs down
  without a reason (a "no" nobody can act on is noise).
- ``GET /drafts/{draft_id}/feedback``: the ratings of one draft and its suggestions.
- ``GET /feedback``: recent ratings, filtered by mailbox, rating and prompt version, for evaluators.

Until the API has authentication, the caller states ``author`` (the agent's address, say);
the router trusts nothing else in the body and validates all of it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from store.feedback import Feedback, FeedbackRepository, Rating, SuggestionIndexError, UnknownDraftError

MAX_REASON_CHARS = 2000
MAX_SUGGESTION_INDEX = 199


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: Rating
    reason: str = Field(default="", max_length=MAX_REASON_CHARS)
    suggestion_index: int | None = Field(default=None, ge=0, le=MAX_SUGGESTION_INDEX,
                                         description="omit to rate the whole draft")
    author: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _down_needs_a_reason(self) -> FeedbackIn:
        if self.rating == Rating.DOWN and not self.reason:
            raise ValueError("a thumbs down needs a reason")
        return self


def _repo(request: Request) -> FeedbackRepository:
    return FeedbackRepository(pool=request.app.state.pool)


Repo = Annotated[FeedbackRepository, Depends(_repo)]


def create_feedback_router() -> APIRouter:
    """The feedback endpoints."""
    router = APIRouter(tags=["feedback"])

    @router.post("/drafts/{draft_id}/feedback", response_model=Feedback, status_code=201)
    async def give_feedback(draft_id: uuid.UUID, body: FeedbackIn, repo: Repo, response: Response) -> Feedback:
        try:
            saved, created = await repo.give(draft_id=str(draft_id), rating=body.rating, reason=body.reason,
                                             author=body.author, suggestion_index=body.suggestion_index)
        except UnknownDraftError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        except SuggestionIndexError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        if not created:
            response.status_code = 200
        return saved

    @router.get("/drafts/{draft_id}/feedback", response_model=list[Feedback])
    async def draft_feedback(draft_id: uuid.UUID, repo: Repo) -> list[Feedback]:
        try:
            return await repo.for_draft(draft_id=str(draft_id))
        except UnknownDraftError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc

    @router.get("/feedback", response_model=list[Feedback])
    async def search_feedback(
        repo: Repo,
        mailbox: Annotated[str | None, Query(max_length=64)] = None,
        rating: Rating | None = None,
        version: Annotated[str | None, Query(max_length=80, description="prompt version id or name")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[Feedback]:
        return await repo.search(mailbox=mailbox, rating=rating, version=version, limit=limit, offset=offset)

    return router
