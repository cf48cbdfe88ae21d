"""Run a dataset through the real pipeline with fixture connectors; one ``RunReport``.

For every case: the email is built as RFC 822 and parsed by
``agent.parsing.parse_email``, then ``agent.pipeline.analyze`` runs every
stage (references, intents, lookup with authorization, drafting, the note)
against the case's fixture systems, with no similar-thread index (facts never
come from past threads, and an offline run needs no database). Nothing is
posted. The drafter is the template drafter, or the LLM drafter (with the
template drafter as its fallback, as in production) on a real chat model or,
offline, on the case's ``scripted_llm_answer``.

Prompt tokens are those of the LLM prompt of the chosen version rendered for
the case exactly as it would be sent (PII redacted), counted with the cl100k
tokenizer: the figure that matters for cost even when the template drafter
writes the draft. Latency is the wall time of ``analyze`` (cases run one
after another, so it is not shared with other cases).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from agent.acceptance import AcceptanceThresholds, compare
from agent.drafting import Drafter, DraftRequest, TemplateDrafter
from agent.errors import ParseError
from agent.llm import ChatModel, LLMSettings, ScriptedChatModel
from agent.llm_drafter import LLMDrafter, PromptVersion, load_prompt, render_messages
from agent.models import AnalysisResult
from agent.parsing import parse_email
from agent.pipeline import PipelineDeps, analyze
from agent.profile import StyleGuide
from agent.redaction import Redactor
from agent.verifier import claims
from evals import RunConfigurationError
from evals.cases import Case, Dataset
from evals.fixture_connectors import CallLog, fixture_systems
from evals.metrics import (
    CaseResult,
    Summary,
    breakdown,
    check_facts,
    reference_counts,
    scored_references,
    summarize,
    unsupported_claims,
)

log = logging.getLogger(__name__)
REPORT_SCHEMA = 1


class DrafterKind(StrEnum):
    TEMPLATE = "template"
    LLM = "llm"


@dataclass(frozen=True, slots=True)
class TokenCounter:
    """A named tokenizer: ``count(text)`` is the number of tokens."""

    name: str
    count: Callable[[str], int]


def default_token_counter() -> TokenCounter:
    """The cl100k tokenizer of ``shipdraft eval drafting`` (offline data), or characters / 4 without it."""
    from shipdraft.drafting_eval import _tokenizer  # the one tokenizer helper of the project

    name, count = _tokenizer()
    return TokenCounter(name=name, count=count)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: which drafter, which prompt version, which model."""

    drafter: DrafterKind = DrafterKind.TEMPLATE
    prompt: str = "draft-v1"
    chat_model: ChatModel | None = None  # a real model for the LLM drafter; None: the cases' scripted answers
    llm_settings: LLMSettings = field(default_factory=LLMSettings)
    scripted_only: bool = False  # LLM drafter without a model: run only the cases that carry a scripted answer
    acceptance: AcceptanceThresholds = field(default_factory=AcceptanceThresholds)
    case_ids: frozenset[str] = frozenset()  # run only these (empty: all)


class RunReport(BaseModel):
    """One run of one dataset: what ran, the figures, and every case."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = REPORT_SCHEMA
    run_id: str
    created_at: datetime
    dataset: str
    dataset_version: str = ""
    dataset_digest: str = ""
    dataset_path: str = ""
    drafter: str
    prompt: str
    prompt_version: str = ""
    model: str | None = None
    tokenizer: str = ""
    acceptance: AcceptanceThresholds = Field(default_factory=AcceptanceThresholds)
    duration_seconds: float = 0.0
    skipped: tuple[str, ...] = ()
    skipped_reason: str = ""
    summary: Summary
    by_tag: dict[str, Summary] = Field(default_factory=dict)
    by_language: dict[str, Summary] = Field(default_factory=dict)
    cases: tuple[CaseResult, ...] = ()


def _selected(dataset: Dataset, options: RunOptions) -> tuple[list[Case], list[str], str]:
    cases = [c for c in dataset.cases if not options.case_ids or c.id in options.case_ids]
    if options.case_ids and len(cases) < len(options.case_ids):
        unknown = sorted(options.case_ids - {c.id for c in cases})
        raise RunConfigurationError(f"no such case in {dataset.name}: {', '.join(unknown)}")
    if options.drafter != DrafterKind.LLM or options.chat_model is not None:
        return cases, [], ""
    unscripted = [c.id for c in cases if c.scripted_llm_answer is None]
    if unscripted and not options.scripted_only:
        raise RunConfigurationError(
            f"--drafter llm needs a model: configure llm: in the mailbox YAML (SHIPDRAFT_MAILBOX_CONFIG) "
            f"for a real one, or run only the {len(cases) - len(unscripted)} of {len(cases)} cases that carry "
            f"a scripted_llm_answer (--scripted-only)")
    if len(unscripted) == len(cases):
        raise RunConfigurationError(f"--drafter llm without a model: no case of {dataset.name} carries a "
                                    "scripted_llm_answer; configure llm: in the mailbox YAML")
    return ([c for c in cases if c.scripted_llm_answer is not None], unscripted,
            "no LLM configured: cases without a scripted_llm_answer were not run" if unscripted else "")


async def run_dataset(*, dataset: Dataset, options: RunOptions | None = None,
                      tokens: TokenCounter | None = None) -> RunReport:
    """Run every (selected) case of ``dataset`` and measure it."""
    options = options or RunOptions()
    cases, skipped, skipped_reason = _selected(dataset, options)
    try:
        prompt = load_prompt(name=options.prompt)
    except (FileNotFoundError, NotADirectoryError, OSError) as exc:
        raise RunConfigurationError(f"unknown prompt version {options.prompt!r} (prompts/llm/<version>/)") from exc
    counter = tokens or default_token_counter()
    template = TemplateDrafter()
    if cases:  # warm up (lazy imports, compiled patterns, the language model) so the first case's latency is fair
        await run_case(dataset=dataset, case=cases[0], drafter=template, prompt=prompt, tokens=counter,
                       acceptance=options.acceptance)
    started = time.perf_counter()
    results = []
    for case in cases:
        drafter = _drafter(case=case, options=options, template=template, prompt=prompt, mailbox=dataset.profile.name)
        results.append(await run_case(dataset=dataset, case=case, drafter=drafter, prompt=prompt, tokens=counter,
                                      acceptance=options.acceptance))
    duration = time.perf_counter() - started
    model = None
    if options.drafter == DrafterKind.LLM:
        model = options.chat_model.name if options.chat_model is not None else ScriptedChatModel.name
    return RunReport(
        run_id=f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{dataset.name}-{options.drafter.value}-{uuid.uuid4().hex[:6]}",
        created_at=datetime.now(UTC), dataset=dataset.name, dataset_version=dataset.version,
        dataset_digest=dataset.digest, dataset_path=dataset.path, drafter=options.drafter.value,
        prompt=options.prompt, prompt_version=prompt.version, model=model, tokenizer=counter.name,
        acceptance=options.acceptance, duration_seconds=round(duration, 3), skipped=tuple(skipped),
        skipped_reason=skipped_reason, summary=summarize(results), by_tag=breakdown(results, by="tag"),
        by_language=breakdown(results, by="language"), cases=tuple(results),
    )


def _drafter(*, case: Case, options: RunOptions, template: TemplateDrafter, prompt: PromptVersion,
             mailbox: str) -> Drafter:
    if options.drafter == DrafterKind.TEMPLATE:
        return template
    model = options.chat_model or ScriptedChatModel(script=[case.scripted_llm_answer or {}])
    return LLMDrafter(model=model, settings=options.llm_settings, fallback=template, prompt=prompt,
                      mailbox=mailbox)


async def run_case(*, dataset: Dataset, case: Case, drafter: Drafter, prompt: PromptVersion,
                   tokens: TokenCounter, acceptance: AcceptanceThresholds) -> CaseResult:
    """One case through parse + analyze, measured against its expectations."""
    base = {"id": case.id, "description": case.description, "language": case.language, "tags": case.tags,
            "references_expected": tuple(sorted(f"{r.kind.value}:{r.value}" for r in case.expect.references)),
            "intents_expected": tuple(sorted(i.value for i in case.expect.intents)),
            "gold_reply": case.expect.gold_reply}
    calls = CallLog()
    deps = PipelineDeps(profile=dataset.profile,
                        systems=fixture_systems(state=case.business, names=dataset.system_names, log=calls),
                        drafter=drafter, index=None, lookup_timeout=dataset.timeout_for(case),
                        clock=lambda: dataset.clock)  # "now" is the dataset's today, not the wall clock
    try:
        email = parse_email(raw=dataset.raw_email(case))
    except ParseError as exc:
        return _failed(base, case, f"quarantined: {exc}")
    started = time.perf_counter()
    try:
        result = await analyze(email=email, draft_id=f"eval-{case.id}", deps=deps)
    except Exception as exc:  # a crash is a finding of the run, not the end of it
        log.exception("eval case failed", extra={"case": case.id})
        return _failed(base, case, f"{type(exc).__name__}: {exc}")
    latency_ms = (time.perf_counter() - started) * 1000
    return measure(base=base, case=case, result=result, style=dataset.profile.style, prompt=prompt, tokens=tokens,
                   acceptance=acceptance, latency_ms=latency_ms, lookup_calls=len(calls.calls))


def _failed(base: dict[str, object], case: Case, error: str) -> CaseResult:
    expected = len(case.expect.references)
    required = check_facts(checks=case.expect.must_include, draft="", note="")
    return CaseResult(**base, error=error, reference_fn=expected, required=required,  # type: ignore[arg-type]
                      intent_correct=False if case.expect.intents else None)


def measure(*, base: dict[str, object], case: Case, result: AnalysisResult, style: StyleGuide,
            prompt: PromptVersion, tokens: TokenCounter, acceptance: AcceptanceThresholds, latency_ms: float,
            lookup_calls: int) -> CaseResult:
    """The figures of one analyzed case."""
    request = DraftRequest(draft_id=result.draft.draft_id, email=result.email, references=result.references,
                           intents=result.intents, lookup=result.lookup, style=style,
                           similar=result.similar)
    found = scored_references(result.references)
    tp, fp, fn = reference_counts(expected=case.expect.references, found=found)
    predicted_intents = {i.value for i in result.intents}
    expected_intents = {i.value for i in case.expect.intents}
    draft_text = result.draft.body  # the subject is the customer's own with "Re:", not a statement of ours
    all_claims = claims(text=result.draft.body, grounding=request.grounding())
    gold = case.expect.gold_reply
    verdict = compare(drafted=result.draft.body, sent=gold, thresholds=acceptance) if gold else None
    messages = render_messages(prompt=prompt, request=request, redactor=Redactor(),
                               examples=[t.reply_text for t in result.similar])
    return CaseResult(
        **base,  # type: ignore[arg-type]
        detected_language=result.email.language,
        references_found=tuple(sorted(found)),
        reference_tp=tp, reference_fp=fp, reference_fn=fn,
        intents_found=tuple(sorted(predicted_intents)),
        intent_correct=(predicted_intents == expected_intents) if expected_intents else None,
        required=check_facts(checks=case.expect.must_include, draft=draft_text, note=result.note.body),
        forbidden=check_facts(checks=case.expect.must_not_include, draft=draft_text, note=result.note.body),
        unsupported=unsupported_claims(all_claims),
        claims=len(all_claims),
        gold_similarity=verdict.similarity if verdict else None,
        predicted_outcome=verdict.outcome.value if verdict else None,
        predicted_light_edit=verdict.light_edit if verdict else False,
        prompt_tokens=sum(tokens.count(content) for _, content in messages),
        model_prompt_tokens=result.draft.prompt_tokens,
        completion_tokens=result.draft.completion_tokens,
        latency_ms=round(latency_ms, 3),
        drafter=result.draft.drafter,
        template_version=result.draft.template_version,
        fallback_reason=result.draft.fallback_reason,
        withheld=tuple(w.reference for w in result.lookup.withheld),
        not_found=result.lookup.not_found,
        failures=tuple(f"{f.kind}:{f.category or 'error'}" for f in result.lookup.failures),
        lookup_calls=lookup_calls,
        email_subject=result.email.subject,
        email_text=result.email.reply_text,
        draft_subject=result.draft.subject,
        draft_body=result.draft.body,
        note_body=result.note.body,
    )
