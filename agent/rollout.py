"""Which prompt version drafts a message: one version, or a deterministic percentage split per mailbox.

A rollout is ``{"version": "draft-v2"}`` or a split such as
``[{"version": "draft-v2", "percent": 10}, {"version": "draft-v1", "percent": 90}]``
whose percentages sum to 100. A message's arm is a pure function of the
mailbox, the rollout's seed and the message key (the stable draft id of the
inbound message): a retry, a second worker or a replay always lands on the
same version, and raising the first arm from 10 % to 50 % keeps the messages
that already had it.

``PromptSelector`` is what the LLM drafter asks for a version; it is async
because the production selector (``store.prompts.StoredPromptSelector``)
reads the mailbox's current rollout from PostgreSQL, so a rollout changed
through the API takes effect on the next message without a restart.
``FixedPrompt`` and ``RolloutSelector`` are the in-memory selectors for
tests, evals and mailboxes without a stored rollout.

A version ops leads create through the API must pass ``check_prompt``
first: it renders both templates in the drafter's sandboxed jinja2
environment with StrictUndefined against sample requests (one with every
kind of data, one with none), finds variables used only in branches the
samples did not take, and refuses constructs that have no place in a
prompt and could stall the renderer (``range``, ``**``, ``*``, huge
numbers, includes).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any, Protocol

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.drafting import DraftRequest
from agent.errors import AgentError, TemplateError
from agent.llm_drafter import PromptVersion, load_prompt, render_messages
from agent.models import Email, Fact, Intent, LookupFailure, LookupResult, SimilarThread, Source, Withheld
from agent.profile import StyleGuide
from agent.redaction import Redactor

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
MAX_TEMPLATE_CHARS = 20_000
MAX_RENDERED_CHARS = 100_000
MAX_ARMS = 10
_BUCKETS = 10_000  # a split is decided per 0.01 %
_MAX_INT_LITERAL = 10_000
_NAME = re.compile(NAME_PATTERN)


class UnknownPromptError(AgentError):
    """No prompt version of that name exists (shipped or stored)."""


class PromptCheckError(AgentError):
    """A prompt version cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --------------------------------------------------------------------------- shipped versions


def shipped_prompts() -> dict[str, PromptVersion]:
    """The file-based versions in ``prompts/llm/<name>/{system,user}.j2``, by name."""
    folder = files("prompts").joinpath("llm")
    names = sorted(p.name for p in folder.iterdir()
                   if p.is_dir() and _NAME.match(p.name) and p.joinpath("system.j2").is_file()
                   and p.joinpath("user.j2").is_file())
    return {name: load_prompt(name=name) for name in names}


# --------------------------------------------------------------------------- rollout config


class RolloutArm(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(pattern=NAME_PATTERN, description="prompt version name (shipped or created via the API)")
    percent: int = Field(ge=1, le=100)


class Rollout(BaseModel):
    """One version for every message, or a split by percentage (summing to 100)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    arms: tuple[RolloutArm, ...] = Field(min_length=1, max_length=MAX_ARMS)
    seed: str = Field(default="", max_length=64, description="changes which messages fall into which arm")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list):  # [{version, percent}, ...]
            return {"arms": data}
        if isinstance(data, dict) and "version" in data:  # {version}: 100 %
            rest = {k: v for k, v in data.items() if k != "version"}
            return {"arms": [{"version": data["version"], "percent": 100}], **rest}
        if isinstance(data, dict) and "split" in data:
            rest = {k: v for k, v in data.items() if k != "split"}
            return {"arms": data["split"], **rest}
        return data

    @model_validator(mode="after")
    def _sums_to_100(self) -> Rollout:
        total = sum(a.percent for a in self.arms)
        if total != 100:
            raise ValueError(f"the percentages of a split must sum to 100, not {total}")
        names = [a.version for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError("a version may appear only once in a split")
        return self

    @classmethod
    def fixed(cls, version: str) -> Rollout:
        return cls(arms=(RolloutArm(version=version, percent=100),))

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(a.version for a in self.arms)

    def choose(self, *, mailbox: str, message_key: str) -> str:
        """The version name this message gets: the same every time it is asked."""
        bucket = bucket_of(mailbox=mailbox, seed=self.seed, message_key=message_key)
        edge = 0
        for arm in self.arms:
            edge += arm.percent * (_BUCKETS // 100)
            if bucket < edge:
                return arm.version
        return self.arms[-1].version  # unreachable: the percentages sum to 100


def bucket_of(*, mailbox: str, seed: str, message_key: str) -> int:
    """A uniform, stable bucket in [0, 10000) for one message (SHA-256, not Python's salted hash)."""
    digest = hashlib.sha256(f"{mailbox}\x00{seed}\x00{message_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % _BUCKETS


# --------------------------------------------------------------------------- selectors


class PromptSelector(Protocol):
    """Which prompt version drafts this message; ``message_key`` is the stable draft id."""

    async def select(self, *, mailbox: str, message_key: str) -> PromptVersion: ...


class FixedPrompt:
    """Every message gets the same version (the mailbox YAML's ``prompt``)."""

    def __init__(self, *, prompt: PromptVersion) -> None:
        self._prompt = prompt

    async def select(self, *, mailbox: str, message_key: str) -> PromptVersion:
        return self._prompt


class RolloutSelector:
    """A rollout over versions held in memory."""

    def __init__(self, *, rollout: Rollout, prompts: Mapping[str, PromptVersion]) -> None:
        missing = [v for v in rollout.versions if v not in prompts]
        if missing:
            raise UnknownPromptError(f"the rollout names unknown prompt versions: {', '.join(missing)}")
        self._rollout = rollout
        self._prompts = dict(prompts)

    async def select(self, *, mailbox: str, message_key: str) -> PromptVersion:
        return self._prompts[self._rollout.choose(mailbox=mailbox, message_key=message_key)]


# --------------------------------------------------------------------------- checking a new version

_PARSER = SandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)  # parsing only; rendering is the drafter's
_REFUSED_CALLS = {"range": "range() loops", "namespace": "namespace() accumulators"}
_EXPECTED = {"text": "the customer's email ({{ text }})", "facts": "the facts ({{ facts }})"}


class PromptCheck(BaseModel):
    """A prompt version that renders; ``warnings`` are worth reading but do not block it."""

    model_config = ConfigDict(frozen=True)

    warnings: tuple[str, ...] = ()
    sample_messages: tuple[tuple[str, str], ...] = ()


def sample_requests() -> tuple[DraftRequest, DraftRequest]:
    """A request with every kind of data a prompt can show, and one with none of it."""
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    src = Source(system="erp", record_id="NK204117", fetched_at=at)
    facts = (Fact(id="F1", subject="order NK204117", name="order.status", value="shipped", source=src),
             Fact(id="F2", subject="order NK204117", name="order.confirmed_date", value="2026-11-24", source=src))
    style = StyleGuide(company="Example Logistics", signature="Example Logistics\nCustomer service",
                       greetings={"en": "Hello"}, sign_offs={"en": "Kind regards"})
    rich = DraftRequest(
        draft_id="00000000-0000-0000-0000-000000000001",
        email=Email(message_id="<sample@example.invalid>", subject="Order NK204117", from_address="kari@example.com",
                    reply_text="Hi, when will order NK204117 and NK999999 arrive? Call me on +47 912 34 567.",
                    quoted_text="> Earlier message", language="en"),
        references=(), intents=(Intent.ETA_REQUEST, Intent.STATUS_REQUEST),
        lookup=LookupResult(customer_ids=("C100",), facts=facts, not_found=("NK999999",),
                            withheld=(Withheld(reference="NK300001", reason="another customer"),),
                            failures=(LookupFailure(system="tms", kind="tms", reference="NK204117",
                                                    error="timeout"),)),
        style=style,
        similar=(SimilarThread(thread_id="t1", subject="ETA", customer_text="When?", reply_text="Hello, it ships "
                               "on Monday. Kind regards", score=0.9),),
    )
    empty = DraftRequest(
        draft_id="00000000-0000-0000-0000-000000000002",
        email=Email(message_id="<empty@example.invalid>", subject="", from_address="someone@example.com",
                    reply_text="", language="xx"),
        references=(), intents=(), lookup=LookupResult(customer_ids=()),
        style=StyleGuide(never_promise=()),
    )
    return rich, empty


def _static_problems(*, part: str, source: str) -> list[str]:
    try:
        tree = _PARSER.parse(source)
    except TemplateSyntaxError as exc:
        return [f"{part} template: syntax error on line {exc.lineno}: {exc.message}"]
    problems: list[str] = []
    for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
        problems.append(f"{part} template line {node.lineno}: include, import and extends are not available")
    for node in tree.find_all((nodes.Pow, nodes.Mul)):
        problems.append(f"{part} template line {node.lineno}: multiplication and powers are not allowed")
    for node in tree.find_all(nodes.Call):
        if isinstance(node.node, nodes.Name) and node.node.name in _REFUSED_CALLS:
            problems.append(f"{part} template line {node.lineno}: {_REFUSED_CALLS[node.node.name]} are not allowed")
    for node in tree.find_all(nodes.Const):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool) \
                and abs(node.value) > _MAX_INT_LITERAL:
            problems.append(f"{part} template line {node.lineno}: the number {node.value} is larger than "
                            f"{_MAX_INT_LITERAL}")
    return problems


def _render(prompt: PromptVersion, request: DraftRequest, *, hosted: bool) -> list[tuple[str, str]]:
    return render_messages(prompt=prompt, request=request, redactor=Redactor() if hosted else None,
                           examples=[t.reply_text for t in request.similar])


def check_prompt(*, prompt: PromptVersion) -> PromptCheck:
    """Raise ``PromptCheckError`` unless both templates render for every sample request.

    Rendering uses ``agent.llm_drafter.render_messages`` itself, so a version
    that passes renders exactly as it will in production.
    """
    problems: list[str] = []
    if not _NAME.match(prompt.name):
        problems.append(f"name {prompt.name!r} must match {NAME_PATTERN}")
    for part, source in (("system", prompt.system), ("user", prompt.user)):
        if len(source) > MAX_TEMPLATE_CHARS:
            problems.append(f"{part} template is {len(source)} characters; the limit is {MAX_TEMPLATE_CHARS}")
        elif not source.strip():
            problems.append(f"{part} template is empty")
        else:
            problems.extend(_static_problems(part=part, source=source))
    if problems:
        raise PromptCheckError(problems)

    used = meta.find_undeclared_variables(_PARSER.parse(prompt.system)) | meta.find_undeclared_variables(
        _PARSER.parse(prompt.user))
    probe = "".join(f"{{% if {name} is not defined %}}{name}\n{{% endif %}}" for name in sorted(used))
    rich, empty = sample_requests()
    unknown = render_messages(prompt=PromptVersion(name="probe", system=probe or " ", user=" "), request=rich,
                              redactor=None)[0][1].split()
    if unknown:
        raise PromptCheckError([f"unknown variable {name!r} (StrictUndefined)" for name in unknown])

    sample: list[tuple[str, str]] = []
    for label, request in (("the full sample", rich), ("the empty sample", empty)):
        for hosted in (True, False):
            try:
                messages = _render(prompt, request, hosted=hosted)
            except TemplateError as exc:
                raise PromptCheckError([f"fails to render {label}: {exc}"]) from exc
            except Exception as exc:  # recursion, arithmetic on text, ...: report, never crash the caller
                raise PromptCheckError([f"fails to render {label}: {type(exc).__name__}: {exc}"]) from exc
            size = sum(len(content) for _, content in messages)
            if size > MAX_RENDERED_CHARS:
                raise PromptCheckError([f"renders {size} characters for {label}; the limit is {MAX_RENDERED_CHARS}"])
            if not all(content.strip() for _, content in messages):
                raise PromptCheckError([f"renders an empty message for {label}"])
            if hosted and request is rich:
                sample = messages
    warnings = tuple(f"the prompt never shows {what}" for name, what in _EXPECTED.items() if name not in used)
    return PromptCheck(warnings=warnings, sample_messages=tuple(sample))
