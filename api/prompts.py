"""Prompt versions, previews, per-mailbox rollouts and acceptance per version, over HTTP.

- ``GET /prompts``, ``GET /prompts/{name}``: shipped (``prompts/llm/``) and stored versions.
- ``POST /prompts``: create an immutable version (author, message, parent). It must render in the
  drafter's sandbox with StrictUndefined against sample requests (422 with the problems otherwise);
  a name or content that exists already is 409.
- ``GET /prompts/{base}/diff/{head}``: unified diff of the system and user templates.
- ``POST /prompts/{name}/preview`` (a stored message id) and ``POST /prompts/{name}/preview/upload``
  (a raw RFC 822 body, size-capped while it streams in): the exact messages the model would get,
  after the real parse, reference, lookup (with sender authorization) and retrieval stages of the
  mailbox, PII-redacted as they would be for a hosted model; with an LLM configured for the
  mailbox, also the draft and its note. Nothing is stored or posted.
- ``GET|PUT /mailboxes/{mailbox}/rollout``, ``GET /mailboxes/{mailbox}/rollout/history``.
- ``GET /mailboxes/{mailbox}/prompt-stats``: acceptance per version side by side, Wilson intervals,
  and Newcombe intervals of the difference against a baseline.

A preview needs the mailbox's pipeline (connectors, retrieval) and optionally its chat model: the
``preview_targets`` dependency returns them, by default from ``app.state.preview_targets``; tests
override it with a target whose model is a ``ScriptedChatModel``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agent.drafting import DraftRequest, TemplateDrafter
from agent.errors import ParseError, TemplateError
from agent.llm import ChatModel, ChatReply, LangChainChatModel, LLMError, LLMSettings
from agent.llm_drafter import LLMDrafter, PromptVersion, TokenBudget, render_messages
from agent.models import Draft
from agent.parsing import parse_email
from agent.pipeline import PipelineDeps, analyze
from agent.prompt_diff import TemplateDiff, diff_prompts
from agent.redaction import Redactor
from agent.rollout import (
    MAX_ARMS,
    MAX_TEMPLATE_CHARS,
    NAME_PATTERN,
    PromptCheckError,
    Rollout,
    RolloutArm,
    UnknownPromptError,
    check_prompt,
)
from agent.stats import DEFAULT_CONFIDENCE
from shipdraft.config import MailboxConfig
from store.errors import UnknownMailboxError
from store.prompts import DuplicatePromptError, PromptInfo, PromptRepository, RolloutRecord
from store.version_stats import BaselineError, MailboxVersionStats, VersionStatsRepository

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAILBOX_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"

VersionName = Annotated[str, Path(pattern=NAME_PATTERN, description="prompt version name")]
MailboxName = Annotated[str, Path(pattern=MAILBOX_PATTERN)]


# --------------------------------------------------------------------------- preview dependency


@dataclass(frozen=True, slots=True)
class PreviewTarget:
    """What a preview of one mailbox runs: its pipeline stages and, if it drafts with an LLM, the model."""

    deps: PipelineDeps
    llm: LLMSettings | None = None
    model: ChatModel | None = None
    budget: TokenBudget | None = None  # a preview spends the mailbox's daily LLM budget like a draft


def preview_target(*, config: MailboxConfig, deps: PipelineDeps, budget: TokenBudget | None) -> PreviewTarget:
    """The preview target of a configured mailbox: its chat model when it drafts with an LLM.

    A model that cannot be built (its API key variable is unset, say) leaves the
    target without one: previews still show the messages, and the log says why.
    """
    if config.drafter != "llm" or config.llm is None:
        return PreviewTarget(deps=deps)
    try:
        model: ChatModel = LangChainChatModel(settings=config.llm)
    except LLMError as exc:
        log.warning("previews of this mailbox will not draft", extra={"mailbox": config.name, "reason": exc.reason})
        return PreviewTarget(deps=deps, llm=config.llm)
    return PreviewTarget(deps=deps, llm=config.llm, model=model, budget=budget)


def preview_targets(request: Request) -> Mapping[str, PreviewTarget]:
    """The mailboxes this process can preview (``app.state.preview_targets``); override in tests."""
    return getattr(request.app.state, "preview_targets", None) or {}


def _prompts(request: Request) -> PromptRepository:
    return PromptRepository(pool=request.app.state.pool)


def _stats(request: Request) -> VersionStatsRepository:
    return VersionStatsRepository(pool=request.app.state.pool)


Prompts = Annotated[PromptRepository, Depends(_prompts)]
Targets = Annotated[Mapping[str, PreviewTarget], Depends(preview_targets)]


# --------------------------------------------------------------------------- schemas


class PromptSummaryOut(BaseModel):
    name: str
    version: str = Field(description="name@content hash: what drafts record as template_version")
    source: Literal["file", "api"]
    author: str | None
    message: str | None
    parent: str | None
    created_at: datetime | None


class PromptOut(PromptSummaryOut):
    system: str
    user: str


class PromptCreated(PromptOut):
    warnings: list[str]


class PromptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="new, never used before; e.g. draft-v2")
    system: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    user: str = Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)
    author: str = Field(min_length=1, max_length=200)
    message: str = Field(min_length=1, max_length=2000, description="what changed and why")
    parent: str | None = Field(default=None, pattern=NAME_PATTERN, description="the version this one derives from")


class DiffOut(BaseModel):
    base: str
    head: str
    identical: bool
    system: TemplateDiff
    user: TemplateDiff


class PreviewStored(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message_id: int = Field(ge=1, description="id of a stored inbound message (GET /messages)")
    draft: bool = Field(default=True, description="also ask the LLM for a draft when the mailbox has one")


class MessageOut(BaseModel):
    role: str
    content: str


class SuggestionPreview(BaseModel):
    text: str
    fact_ids: list[str]
    kind: str


class DraftPreview(BaseModel):
    subject: str
    body: str
    language: str
    drafter: str
    template_version: str
    suggestions: list[SuggestionPreview]
    notes: list[str]
    confidence: float | None
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    fallback_reason: str | None


class PreviewOut(BaseModel):
    version: str
    mailbox: str
    redacted: bool = Field(description="PII was replaced by placeholders, as for a hosted model")
    messages: list[MessageOut] = Field(description="exactly what the model gets, in order")
    references: list[str]
    facts: int
    withheld: int
    unavailable: list[str]
    llm: str | None = Field(description="the mailbox's chat model, when it has one")
    draft: DraftPreview | None = Field(description="the LLM draft (None without an LLM or with draft=false)")
    note: str | None = Field(description="the internal note that would go with the draft")


class RolloutIn(BaseModel):
    """One version (``version``) or a split (``split``: versions with percentages summing to 100)."""

    model_config = ConfigDict(extra="forbid")

    version: str | None = Field(default=None, pattern=NAME_PATTERN)
    split: list[RolloutArm] | None = Field(default=None, min_length=1, max_length=MAX_ARMS)
    seed: str = Field(default="", max_length=64)
    author: str = Field(min_length=1, max_length=200)
    message: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _one_of(self) -> RolloutIn:
        if (self.version is None) == (self.split is None):
            raise ValueError("give either version or split")
        try:
            self.rollout()
        except ValidationError as exc:
            raise ValueError("; ".join(e["msg"] for e in exc.errors())) from exc
        return self

    def rollout(self) -> Rollout:
        if self.version is not None:
            return Rollout(arms=(RolloutArm(version=self.version, percent=100),), seed=self.seed)
        return Rollout(arms=tuple(self.split or ()), seed=self.seed)


class ArmOut(BaseModel):
    version: str
    percent: int
    version_id: str | None = Field(description="name@hash it resolves to now; None if the version is gone")


class RolloutOut(BaseModel):
    mailbox: str
    source: Literal["rollout", "default"] = Field(description="default: no rollout set, the mailbox YAML's prompt")
    id: int | None
    arms: list[ArmOut]
    seed: str
    author: str | None
    message: str
    created_at: datetime | None


# --------------------------------------------------------------------------- helpers


def _summary(info: PromptInfo) -> dict[str, object]:
    return info.model_dump(exclude={"system", "user"})


class _RecordingModel:
    """Passes calls to the real model and keeps the messages it was sent."""

    def __init__(self, model: ChatModel) -> None:
        self.name = model.name
        self._model = model
        self.sent: list[tuple[str, str]] | None = None

    async def generate(self, *, messages: Sequence[tuple[str, str]], schema: type[BaseModel]) -> ChatReply:
        self.sent = list(messages)
        return await self._model.generate(messages=messages, schema=schema)


class _PreviewDrafter:
    """Stands in for the mailbox's drafter inside ``analyze``: renders, and drafts only if asked to."""

    name = "preview"

    def __init__(self, *, prompt: PromptVersion, target: PreviewTarget, mailbox: str, with_llm: bool) -> None:
        self._prompt, self._target, self._mailbox = prompt, target, mailbox
        self._with_llm = with_llm and target.model is not None and target.llm is not None
        self.redacted = target.llm is not None and target.llm.is_hosted
        self.messages: list[tuple[str, str]] = []
        self.llm_draft: Draft | None = None

    async def draft(self, *, request: DraftRequest) -> Draft:
        redactor = Redactor(keep=frozenset()) if self.redacted else None
        self.messages = render_messages(prompt=self._prompt, request=request, redactor=redactor,
                                        examples=[t.reply_text for t in request.similar])
        if not self._with_llm:
            return await TemplateDrafter().draft(request=request)  # only for the note; not shown as the draft
        assert self._target.model is not None and self._target.llm is not None
        recorder = _RecordingModel(self._target.model)
        drafter = LLMDrafter(model=recorder, settings=self._target.llm, fallback=TemplateDrafter(),
                             prompt=self._prompt, mailbox=self._mailbox, budget=self._target.budget)
        self.llm_draft = await drafter.draft(request=request)
        if recorder.sent is not None:
            self.messages = recorder.sent
        return self.llm_draft


async def _preview(*, prompt: PromptVersion, target: PreviewTarget, mailbox: str, raw: bytes,
                   with_llm: bool) -> PreviewOut:
    try:
        email = parse_email(raw=raw, max_bytes=target.deps.max_message_bytes)
    except ParseError as exc:
        raise HTTPException(status_code=422, detail=f"the email cannot be parsed: {exc}") from exc
    drafter = _PreviewDrafter(prompt=prompt, target=target, mailbox=mailbox, with_llm=with_llm)
    deps = dataclasses.replace(target.deps, drafter=drafter)
    try:
        result = await analyze(email=email, draft_id=str(uuid.uuid4()), deps=deps)
    except TemplateError as exc:
        raise HTTPException(status_code=422, detail=f"the prompt does not render for this email: {exc}") from exc
    except LLMError as exc:  # the drafter handles these; kept as a guard
        raise HTTPException(status_code=502, detail=f"the LLM failed ({exc.kind}): {exc.reason}") from exc
    d = drafter.llm_draft
    return PreviewOut(
        version=prompt.version, mailbox=mailbox, redacted=drafter.redacted,
        messages=[MessageOut(role=role, content=content) for role, content in drafter.messages],
        references=[f"{r.kind.value}:{r.value}" for r in result.references], facts=len(result.lookup.facts),
        withheld=len(result.lookup.withheld),
        unavailable=sorted({f"{f.system} ({f.kind})" for f in result.lookup.failures}),
        llm=target.model.name if target.model is not None else None,
        draft=DraftPreview(
            subject=d.subject, body=d.body, language=d.language, drafter=d.drafter,
            template_version=d.template_version,
            suggestions=[SuggestionPreview(text=s.text, fact_ids=list(s.fact_ids), kind=s.kind)
                         for s in d.suggestions],
            notes=list(d.notes), confidence=d.confidence, model=d.model, prompt_tokens=d.prompt_tokens,
            completion_tokens=d.completion_tokens, fallback_reason=d.fallback_reason,
        ) if d is not None else None,
        note=result.note.body if d is not None else None,
    )


async def _read_capped(request: Request, *, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413, detail=f"the email is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status_code=413, detail=f"the email is larger than {limit} bytes")
    if not body.strip():
        raise HTTPException(status_code=422, detail="the body must be a raw RFC 822 email")
    return bytes(body)


async def _version(prompts: PromptRepository, name: str) -> PromptVersion:
    info = await prompts.get(name=name)
    if info is None:
        raise HTTPException(status_code=404, detail=f"no prompt version named {name!r}")
    return info.prompt()


def _target(targets: Mapping[str, PreviewTarget], mailbox: str) -> PreviewTarget:
    target = targets.get(mailbox)
    if target is None:
        raise HTTPException(status_code=409, detail=f"mailbox {mailbox!r} cannot be previewed by this API process "
                                                    f"(its pipeline is not configured here)")
    return target


async def _rollout_out(prompts: PromptRepository, *, mailbox: str, record: RolloutRecord | None) -> RolloutOut:
    if record is None:
        try:
            default = await prompts.default_prompt(mailbox=mailbox)
        except UnknownMailboxError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        record = RolloutRecord(id=None, mailbox=mailbox, rollout=Rollout.fixed(default))
    arms = []
    for arm in record.rollout.arms:
        info = await prompts.get(name=arm.version)
        arms.append(ArmOut(version=arm.version, percent=arm.percent, version_id=info.version if info else None))
    return RolloutOut(mailbox=mailbox, source="default" if record.id is None else "rollout", id=record.id,
                      arms=arms, seed=record.rollout.seed, author=record.author, message=record.message,
                      created_at=record.created_at)


# --------------------------------------------------------------------------- the router


def create_prompts_router() -> APIRouter:
    """The prompt, preview, rollout and per-version acceptance endpoints."""
    router = APIRouter(tags=["prompts"])

    @router.get("/prompts", response_model=list[PromptSummaryOut])
    async def list_prompts(prompts: Prompts) -> list[dict[str, object]]:
        return [_summary(p) for p in await prompts.list()]

    @router.get("/prompts/{name}", response_model=PromptOut)
    async def get_prompt(name: VersionName, prompts: Prompts) -> PromptInfo:
        info = await prompts.get(name=name)
        if info is None:
            raise HTTPException(status_code=404, detail=f"no prompt version named {name!r}")
        return info

    @router.post("/prompts", response_model=PromptCreated, status_code=201)
    async def create_prompt(body: PromptCreate, prompts: Prompts) -> PromptCreated:
        candidate = PromptVersion(name=body.name, system=body.system, user=body.user)
        try:  # in a worker thread: rendering user templates must never stall the event loop
            checked = await anyio.to_thread.run_sync(functools.partial(check_prompt, prompt=candidate))
        except PromptCheckError as exc:
            raise HTTPException(status_code=422, detail={"message": "the prompt does not render",
                                                         "problems": exc.problems}) from exc
        try:
            info = await prompts.create(prompt=candidate, author=body.author, message=body.message,
                                        parent=body.parent)
        except DuplicatePromptError as exc:
            raise HTTPException(status_code=409, detail={"message": str(exc), "existing": exc.existing}) from exc
        except UnknownPromptError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        log.info("prompt version created", extra={"version": info.version, "author": body.author})
        return PromptCreated(**info.model_dump(), warnings=list(checked.warnings))

    @router.get("/prompts/{base}/diff/{head}", response_model=DiffOut)
    async def diff(base: VersionName, head: VersionName, prompts: Prompts,
                   context: Annotated[int, Query(ge=0, le=50)] = 3) -> DiffOut:
        d = diff_prompts(base=await _version(prompts, base), head=await _version(prompts, head), context=context)
        return DiffOut(base=d.base, head=d.head, identical=d.identical, system=d.system, user=d.user)

    @router.post("/prompts/{name}/preview", response_model=PreviewOut)
    async def preview_stored(name: VersionName, body: PreviewStored, prompts: Prompts,
                             targets: Targets) -> PreviewOut:
        prompt = await _version(prompts, name)
        stored = await prompts.stored_message(message_pk=body.message_id)
        if stored is None:
            raise HTTPException(status_code=404, detail=f"no message {body.message_id}")
        mailbox, raw = stored
        return await _preview(prompt=prompt, target=_target(targets, mailbox), mailbox=mailbox, raw=raw,
                              with_llm=body.draft)

    @router.post("/prompts/{name}/preview/upload", response_model=PreviewOut,
                 openapi_extra={"requestBody": {"required": True,
                                                "content": {"message/rfc822": {"schema": {"type": "string",
                                                                                          "format": "binary"}}}}})
    async def preview_upload(name: VersionName, request: Request, prompts: Prompts, targets: Targets,
                             mailbox: Annotated[str, Query(pattern=MAILBOX_PATTERN)],
                             draft: bool = True) -> PreviewOut:
        """Preview against an uploaded email: the raw RFC 822 message is the request body."""
        prompt = await _version(prompts, name)
        target = _target(targets, mailbox)
        raw = await _read_capped(request, limit=min(target.deps.max_message_bytes, MAX_UPLOAD_BYTES))
        return await _preview(prompt=prompt, target=target, mailbox=mailbox, raw=raw, with_llm=draft)

    @router.get("/mailboxes/{mailbox}/rollout", response_model=RolloutOut)
    async def get_rollout(mailbox: MailboxName, prompts: Prompts) -> RolloutOut:
        return await _rollout_out(prompts, mailbox=mailbox, record=await prompts.current_rollout(mailbox=mailbox))

    @router.put("/mailboxes/{mailbox}/rollout", response_model=RolloutOut)
    async def set_rollout(mailbox: MailboxName, body: RolloutIn, prompts: Prompts) -> RolloutOut:
        try:
            record = await prompts.set_rollout(mailbox=mailbox, rollout=body.rollout(), author=body.author,
                                               message=body.message)
        except UnknownPromptError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        except UnknownMailboxError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        log.info("prompt rollout set", extra={"mailbox": mailbox, "rollout_id": record.id, "author": body.author})
        return await _rollout_out(prompts, mailbox=mailbox, record=record)

    @router.get("/mailboxes/{mailbox}/rollout/history", response_model=list[RolloutOut])
    async def rollout_history(mailbox: MailboxName, prompts: Prompts,
                              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RolloutOut]:
        return [await _rollout_out(prompts, mailbox=mailbox, record=r)
                for r in await prompts.rollout_history(mailbox=mailbox, limit=limit)]

    @router.get("/mailboxes/{mailbox}/prompt-stats", response_model=MailboxVersionStats)
    async def prompt_stats(
        mailbox: MailboxName, prompts: Prompts, stats: Annotated[VersionStatsRepository, Depends(_stats)],
        since: datetime | None = None, until: datetime | None = None,
        baseline: Annotated[str | None, Query(max_length=80, description="version id or name")] = None,
        confidence: Annotated[float, Query(ge=0.5, le=0.999)] = DEFAULT_CONFIDENCE,
    ) -> MailboxVersionStats:
        """Acceptance per version, side by side, each rate with its confidence interval."""
        try:
            await prompts.default_prompt(mailbox=mailbox)
        except UnknownMailboxError as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from exc
        try:
            return await stats.for_mailbox(mailbox=mailbox, since=since, until=until, baseline=baseline,
                                           confidence=confidence)
        except BaselineError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc

    return router
