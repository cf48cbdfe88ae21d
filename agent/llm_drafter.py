"""The LLM drafter: prompt, structured output, grounding check, fallback to the template drafter.

The model sees the customer's new text (PII redacted for hosted providers),
a little quoted context, the facts with ids and sources, what was withheld
(a count, never the content) or unavailable, at most two past replies as
style examples, and the mailbox style guide. It has no tools. Its reply is
checked by the grounding verifier; unsupported sentences are removed, and
when too little is left, when the budget is spent or when the model fails
in any way, the template drafter answers and the draft says why.

Whatever the model wrote goes into the internal note only defanged: a removed
sentence or a model remark keeps its words, but a link or an email address
that no fact supports is made unclickable ("hxxps://pay-evil[.]example"), so
a link planted in the customer's email never becomes a link in our note.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Protocol

from jinja2 import StrictUndefined, Template
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from agent.drafting import Drafter, DraftRequest, reply_subject
from agent.errors import TemplateError
from agent.llm import ChatModel, LLMError, LLMSettings
from agent.models import Draft, Suggestion
from agent.redaction import Redactor
from agent.verifier import Grounding, Removal, defang, verify

if TYPE_CHECKING:
    from agent.rollout import PromptSelector

log = logging.getLogger(__name__)
LANGUAGE_NAMES = {"en": "English", "no": "Norwegian (bokmål)", "sv": "Swedish", "da": "Danish", "de": "German",
                  "nl": "Dutch", "fi": "Finnish", "fr": "French", "es": "Spanish", "it": "Italian",
                  "pt": "Portuguese", "pl": "Polish"}
GREETINGS = {"en": ("Hi", "Best regards"), "no": ("Hei", "Med vennlig hilsen"), "sv": ("Hej", "Med vänliga hälsningar"),
             "da": ("Hej", "Med venlig hilsen"), "de": ("Hallo", "Mit freundlichen Grüßen")}
MAX_TEXT_CHARS = 2500
MAX_QUOTED_CHARS = 600
MAX_EXAMPLE_CHARS = 500


class LLMSuggestion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str
    fact_ids: list[str] = Field(default_factory=list)
    kind: str = "sentence"


class LLMDraftOutput(BaseModel):
    """The structured answer the model must give."""

    model_config = ConfigDict(extra="ignore")

    reply_text: str = Field(min_length=1)
    suggestions: list[LLMSuggestion] = Field(default_factory=list)
    note_points: list[str] = Field(default_factory=list)
    confidence: float = Field(ge=0, le=1)
    language: str


class TokenBudget(Protocol):
    """Tokens a mailbox may still spend today; implemented in store/."""

    async def remaining(self, *, mailbox: str, limit: int) -> int: ...

    async def spend(self, *, mailbox: str, tokens: int) -> None: ...


@dataclass(frozen=True, slots=True)
class PromptVersion:
    name: str
    system: str
    user: str

    @property
    def version(self) -> str:
        digest = hashlib.sha256(f"{self.system}\x00{self.user}".encode()).hexdigest()[:12]
        return f"{self.name}@{digest}"


def load_prompt(*, name: str) -> PromptVersion:
    """A prompt version shipped in ``prompts/llm/<name>/``."""
    folder = files("prompts").joinpath("llm", name)
    return PromptVersion(name=name, system=folder.joinpath("system.j2").read_text(encoding="utf-8"),
                         user=folder.joinpath("user.j2").read_text(encoding="utf-8"))


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    """Compile a prompt template once per content (it is rendered for every LLM draft)."""
    return _ENV.from_string(source)


def render_messages(*, prompt: PromptVersion, request: DraftRequest, redactor: Redactor | None,
                    examples: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The exact (role, content) messages sent to the model."""
    email, lk, style = request.email, request.lookup, request.style
    lang = email.language if email.language in LANGUAGE_NAMES else style.default_language
    hello, bye = GREETINGS.get(lang, GREETINGS["en"])
    hello, bye = style.greetings.get(lang, hello), style.sign_offs.get(lang, bye)

    def clean(text: str, limit: int) -> str:
        text = text[:limit]
        return redactor.redact(text) if redactor else text

    context = {
        "company": style.company, "language_name": LANGUAGE_NAMES.get(lang, lang), "tone": style.tone,
        "greeting": hello, "sign_off": bye, "never_promise": list(style.never_promise), "signature": style.signature,
        "facts": [{"id": f.id, "subject": f.subject, "name": f.name, "value": clean(f.value, 300),
                   "source": f.source.system} for f in lk.facts],
        "not_found": list(lk.not_found), "withheld": len(lk.withheld),
        "failed": sorted({f"{f.system} ({f.kind})" for f in lk.failures}),
        "intents": [i.value for i in request.intents],
        "examples": [clean(e, MAX_EXAMPLE_CHARS) for e in examples[:2]],
        "sender": clean(email.from_address, 200), "subject": clean(email.subject, 300),
        "text": clean(email.reply_text, MAX_TEXT_CHARS), "quoted": clean(email.quoted_text, MAX_QUOTED_CHARS),
    }
    try:
        return [("system", _compiled(prompt.system).render(**context)),
                ("human", _compiled(prompt.user).render(**context))]
    except JinjaTemplateError as exc:
        raise TemplateError(f"prompt {prompt.name} failed to render: {exc}") from exc


def removal_notes(*, removed: Sequence[Removal], grounding: Grounding, prefix: str) -> tuple[str, ...]:
    """One note line per removed sentence, with unsupported links and addresses defanged."""
    return tuple(defang(text=f"{prefix}: {r.sentence!r} ({'; '.join(r.reasons)})", grounding=grounding)
                 for r in removed)


class LLMDrafter:
    """Drafts with a chat model; the template drafter answers whenever the model cannot be trusted."""

    name = "llm"

    def __init__(self, *, model: ChatModel, settings: LLMSettings, fallback: Drafter, prompt: PromptVersion,
                 mailbox: str, budget: TokenBudget | None = None, min_kept_ratio: float = 0.6,
                 selector: PromptSelector | None = None) -> None:
        self._selector = selector  # chooses the version per message (rollout); None: always ``prompt``
        self._model = model
        self._settings = settings
        self._fallback = fallback
        self._prompt = prompt
        self._mailbox = mailbox
        self._budget = budget
        self._min_kept_ratio = min_kept_ratio

    async def draft(self, *, request: DraftRequest) -> Draft:
        # chosen first, so a message over budget still counts for the version it was assigned
        prompt = (await self._selector.select(mailbox=self._mailbox, message_key=request.draft_id)
                  if self._selector is not None else self._prompt)
        if self._budget is not None:
            left = await self._budget.remaining(mailbox=self._mailbox, limit=self._settings.daily_token_budget)
            if left <= 0:
                return await self._fall_back(request, "the daily LLM token budget of this mailbox is spent")
        redactor = Redactor(keep=frozenset()) if self._settings.is_hosted else None
        examples = [t.reply_text for t in request.similar]
        messages = render_messages(prompt=prompt, request=request, redactor=redactor, examples=examples)
        try:
            reply = await self._model.generate(messages=messages, schema=LLMDraftOutput)
        except LLMError as exc:
            log.warning("LLM drafter failed", extra={"kind": exc.kind, "mailbox": self._mailbox})
            return await self._fall_back(request, f"the LLM failed ({exc.kind}): {exc.reason}")
        if self._budget is not None:
            await self._budget.spend(mailbox=self._mailbox,
                                     tokens=reply.usage.prompt_tokens + reply.usage.completion_tokens)
        out: LLMDraftOutput = reply.parsed
        text = redactor.restore(out.reply_text) if redactor else out.reply_text
        grounding = request.grounding()
        checked = verify(text=text, grounding=grounding)
        total = checked.kept_content + len(checked.removed)
        usage = {"prompt_tokens": reply.usage.prompt_tokens, "completion_tokens": reply.usage.completion_tokens,
                 "latency_ms": reply.usage.latency_ms}
        removed_notes = removal_notes(removed=checked.removed, grounding=grounding,
                                      prefix="removed unsupported sentence")
        if checked.kept_content == 0 or (total and checked.kept_content / total < self._min_kept_ratio):
            return await self._fall_back(request, f"the LLM draft had {len(checked.removed)} unsupported "
                                                  f"sentence(s) of {total}", notes=removed_notes, usage=usage)
        known = {f.id for f in request.lookup.facts}
        suggestions = []
        for s in out.suggestions:
            s_text = redactor.restore(s.text) if redactor else s.text
            # a suggestion is kept only when its own claims are grounded and no removed sentence is in it:
            # the model may put into a suggestion what it left out of the reply
            if any(r.sentence in s_text for r in checked.removed) or \
                    not verify(text=s_text, grounding=grounding).unchanged:
                continue
            suggestions.append(Suggestion(text=s_text, fact_ids=tuple(i for i in s.fact_ids if i in known),
                                          kind=s.kind[:40]))
        note_points = [defang(text=redactor.restore(p) if redactor else p, grounding=grounding)
                       for p in out.note_points[:5]]
        confidence_note = (f"low model confidence ({out.confidence:.2f})",) if out.confidence < 0.5 else ()
        return Draft(
            draft_id=request.draft_id, subject=reply_subject(request.email.subject), body=checked.text,
            language=out.language if out.language in LANGUAGE_NAMES else request.email.language,
            drafter=self.name, template_version=prompt.version,
            fact_ids=tuple(sorted({i for s in suggestions for i in s.fact_ids})), suggestions=tuple(suggestions),
            notes=(*removed_notes, *confidence_note, *(f"model: {p}" for p in note_points)),
            confidence=out.confidence, model=self._model.name, **usage,
        )

    async def _fall_back(self, request: DraftRequest, reason: str, *, notes: tuple[str, ...] = (),
                         usage: dict[str, int] | None = None) -> Draft:
        """The template drafter's draft, with the reason first among its notes."""
        draft = await self._fallback.draft(request=request)
        # when the model did answer (and was not trusted), its name and usage stay on the draft
        spent = {"model": self._model.name, **usage} if usage else {}
        return draft.model_copy(update={
            "notes": (f"template drafter used instead of the LLM: {reason}", *notes, *draft.notes),
            "fallback_reason": reason, **spent,
        })
