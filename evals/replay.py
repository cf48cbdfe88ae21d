"""Replay: draft again for answered threads of a real mailbox and compare with what the team sent.

For every answered thread (a customer message plus the reply an agent sent,
as the store keeps them for similar-thread retrieval) the pipeline drafts an
answer to the customer's message, with the mailbox's own systems and
drafter, and the draft is compared with the reply that was actually sent
(``agent.acceptance.compare``): the similarity and the outcome it predicts,
sent as is / edited / rewritten. When shipdraft drafted that thread in
production, the outcome recorded then is shown next to the prediction.

Three rules keep the comparison honest:

- the thread itself is never among the similar threads the drafter sees
  (it would be handing it the answer);
- stored replies are redacted (references, addresses, phone numbers, links
  become placeholders) before indexing, so the new draft goes through the
  same redaction (``redact``) before it is compared (the similarity is
  therefore close to, not equal to, the one recorded in production: a
  redacted signature, say, is no longer recognized as one);
- the original message is used when the store still has it (sender,
  quoted history, attachments: lookups and authorization work as in
  production); otherwise the stored (redacted) customer text stands in, with
  no sender, and the case is marked ``original_message: false``.

The business systems answer with today's state, not the state on the day of
the reply, so statuses and dates may differ from what the agent could write
then: a replay is a lower bound on acceptance, best compared between two
prompt or drafter versions on the same threads.
"""

from __future__ import annotations

import hashlib
import logging
import statistics
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from agent.acceptance import AcceptanceThresholds, compare
from agent.errors import ParseError
from agent.models import Email, SimilarThread
from agent.parsing import parse_email
from agent.pipeline import PipelineDeps, analyze
from agent.retrieval import ThreadIndex

log = logging.getLogger(__name__)


class AnsweredThread(BaseModel):
    """A customer message and the reply the team sent, as the store holds them."""

    model_config = ConfigDict(frozen=True)

    thread_key: str  # Message-ID of the customer's message
    subject: str
    customer_text: str
    reply_text: str
    language: str | None = None
    replied_at: datetime | None = None
    raw: bytes | None = None  # the original customer message, when the store has it
    production_outcome: str | None = None  # what happened to shipdraft's draft for it, if there was one
    production_similarity: float | None = None


class ReplaySource(Protocol):
    """Where answered threads come from; implemented by ``store.replay.ReplayRepository``."""

    async def answered_threads(self, *, mailbox: str, since: datetime | None, limit: int) -> list[AnsweredThread]: ...


class ReplayCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    thread_key: str
    subject: str
    language: str | None = None
    replied_at: datetime | None = None
    original_message: bool
    error: str | None = None
    similarity: float | None = None
    predicted_outcome: str | None = None
    predicted_light_edit: bool = False  # edited, at or above the light-edit threshold
    production_outcome: str | None = None
    production_similarity: float | None = None
    drafter: str = ""
    fallback_reason: str | None = None
    references: tuple[str, ...] = ()
    facts: int = 0
    withheld: int = 0
    failures: tuple[str, ...] = ()
    draft_body: str = ""
    sent_reply: str = ""


class ReplayReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    mailbox: str
    since: datetime | None = None
    created_at: datetime
    drafter: str
    acceptance: AcceptanceThresholds
    threads: int
    replayed: int
    errors: int
    with_original_message: int
    similarity_mean: float | None = None
    similarity_median: float | None = None
    predicted: dict[str, float]  # outcome -> share of replayed threads
    predicted_sent_as_is: float | None = None  # share of replayed threads whose draft matches what was sent
    predicted_as_is_or_light: float | None = None  # ... or is within a light edit of it
    production: dict[str, float]  # outcome -> share of the threads shipdraft drafted in production
    agreement: float | None = None  # share of those where the prediction matches the recorded outcome
    cases: tuple[ReplayCase, ...]


class ExcludingIndex:
    """A thread index that never returns one given thread (the one being replayed)."""

    def __init__(self, *, index: ThreadIndex, exclude: str) -> None:
        self._index = index
        self._exclude = exclude

    async def similar(self, *, mailbox: str, text: str, limit: int) -> list[SimilarThread]:
        found = await self._index.similar(mailbox=mailbox, text=text, limit=limit + 1)
        return [t for t in found if t.thread_id != self._exclude][:limit]


def thread_email(thread: AnsweredThread) -> tuple[Email, bool]:
    """The customer's message: parsed from the original when there is one, else the stored text."""
    if thread.raw:
        try:
            return parse_email(raw=thread.raw), True
        except ParseError as exc:
            log.warning("stored message unreadable; replaying the stored text",
                        extra={"thread_key": thread.thread_key, "reason": str(exc)})
    return Email(message_id=thread.thread_key, subject=thread.subject, from_address="",
                 reply_text=thread.customer_text, language=thread.language or "en"), False


async def replay(*, source: ReplaySource, deps: PipelineDeps, mailbox: str, created_at: datetime,
                 redact: Callable[[str], str], since: datetime | None = None, limit: int = 500,
                 acceptance: AcceptanceThresholds | None = None) -> ReplayReport:
    """Draft for each answered thread of ``mailbox`` and compare with the reply that was sent."""
    thresholds = acceptance or AcceptanceThresholds()
    threads = await source.answered_threads(mailbox=mailbox, since=since, limit=limit)
    cases = []
    for thread in threads:
        cases.append(await replay_thread(thread=thread, deps=deps, redact=redact, thresholds=thresholds))
    done = [c for c in cases if c.error is None]
    sims = [c.similarity for c in done if c.similarity is not None]
    in_production = [c for c in done if c.production_outcome]
    return ReplayReport(
        mailbox=mailbox, since=since, created_at=created_at, drafter=getattr(deps.drafter, "name", ""),
        acceptance=thresholds, threads=len(threads), replayed=len(done), errors=len(cases) - len(done),
        with_original_message=sum(c.original_message for c in done),
        similarity_mean=round(statistics.fmean(sims), 4) if sims else None,
        similarity_median=round(statistics.median(sims), 4) if sims else None,
        predicted=_shares([c.predicted_outcome for c in done]),
        predicted_sent_as_is=round(sum(c.predicted_outcome == "sent_as_is" for c in done) / len(done), 4)
        if done else None,
        predicted_as_is_or_light=round(
            sum(c.predicted_outcome == "sent_as_is" or c.predicted_light_edit for c in done) / len(done), 4)
        if done else None,
        production=_shares([c.production_outcome for c in in_production]),
        agreement=round(sum(c.predicted_outcome == c.production_outcome for c in in_production) / len(in_production),
                        4) if in_production else None,
        cases=tuple(cases),
    )


async def replay_thread(*, thread: AnsweredThread, deps: PipelineDeps, redact: Callable[[str], str],
                        thresholds: AcceptanceThresholds) -> ReplayCase:
    email, original = thread_email(thread)
    base = {"thread_key": thread.thread_key, "subject": thread.subject, "language": thread.language,
            "replied_at": thread.replied_at, "original_message": original,
            "production_outcome": thread.production_outcome, "production_similarity": thread.production_similarity,
            "sent_reply": thread.reply_text}
    own = replace(deps, index=ExcludingIndex(index=deps.index, exclude=thread.thread_key)) if deps.index else deps
    draft_id = "replay-" + hashlib.sha256(thread.thread_key.encode()).hexdigest()[:16]
    try:
        result = await analyze(email=email, draft_id=draft_id, deps=own)
    except Exception as exc:  # one thread failing is a finding, not the end of the replay
        log.exception("replay failed", extra={"thread_key": thread.thread_key})
        return ReplayCase(**base, error=f"{type(exc).__name__}: {exc}")
    verdict = compare(drafted=redact(result.draft.body), sent=thread.reply_text, thresholds=thresholds)
    return ReplayCase(
        **base, similarity=verdict.similarity, predicted_outcome=verdict.outcome.value,
        predicted_light_edit=verdict.light_edit,
        drafter=result.draft.drafter, fallback_reason=result.draft.fallback_reason,
        references=tuple(f"{r.kind.value}:{r.value}" for r in result.references), facts=len(result.lookup.facts),
        withheld=len(result.lookup.withheld), failures=tuple(f"{f.kind}:{f.category}" for f in result.lookup.failures),
        draft_body=result.draft.body,
    )


def _shares(outcomes: list[str | None]) -> dict[str, float]:
    known = [o for o in outcomes if o]
    if not known:
        return {}
    return {o: round(known.count(o) / len(known), 4) for o in sorted(set(known))}


def format_replay(report: ReplayReport) -> str:
    """A plain-text summary for the terminal."""
    lines = [f"replay of {report.mailbox}" + (f" since {report.since:%Y-%m-%d}" if report.since else "")
             + f": {report.threads} answered threads, {report.replayed} drafted ({report.with_original_message} from "
             f"the original message), {report.errors} failed; drafter {report.drafter}"]
    if report.similarity_mean is not None:
        lines.append(f"similarity to the sent reply: mean {report.similarity_mean:.3f}, median "
                     f"{report.similarity_median:.3f} (thresholds: as is {report.acceptance.as_is}, edited "
                     f"{report.acceptance.edited})")
    if report.predicted:
        lines.append("predicted: " + ", ".join(f"{k} {v:.1%}" for k, v in report.predicted.items()))
    if report.predicted_sent_as_is is not None and report.predicted_as_is_or_light is not None:
        lines.append(f"predicted acceptance: sent as is {report.predicted_sent_as_is:.1%}, as is or lightly edited "
                     f"{report.predicted_as_is_or_light:.1%} (light edit: similarity >= "
                     f"{report.acceptance.light_edit})")
    if report.production:
        lines.append("recorded in production: " + ", ".join(f"{k} {v:.1%}" for k, v in report.production.items())
                     + (f"; prediction agrees on {report.agreement:.1%}" if report.agreement is not None else ""))
    for case in report.cases:
        if case.error:
            lines.append(f"  FAILED {case.thread_key}: {case.error}")
    return "\n".join(lines) + "\n"
