"""The figures of an eval run, per case and in aggregate, and the CI gate.

Per case:

- **references**: the extracted references (kind, normalized value) against
  the expected ones; references found only in quoted history are not scored;
- **intents**: right when the predicted set equals the expected set;
- **required facts**: each ``must_include`` check found in the draft, by
  meaning (a date in any format or language, a status in any phrase of the
  shared vocabulary, a reference with or without its prefix);
- **unsupported claims**: the claims of the *final* draft that the grounding
  verifier cannot support from the facts, the email or the configuration;
- **leaks**: ``must_not_include`` checks found in the draft body (or, for
  ``where: everywhere``, in the internal note as well);
- **similarity to gold**: ``agent.acceptance.compare`` of the draft with the
  gold reply, and the outcome it predicts (sent as is / edited / rewritten)
  under the acceptance thresholds; ``predicted_light_edit`` when an edited
  draft reaches the light-edit threshold.

Predicted acceptance is read off the gold cases as production reads it off
sent replies: the share predicted sent as is, the share sent as is or lightly
edited (the headline acceptance rate of ``shipdraft metrics``), and the share
at least edited.

Aggregates are micro-averaged (sums over cases) unless named a median or a
percentile. ``Thresholds`` and ``gate_violations`` are the CI gate.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.models import Reference, ReferenceSource
from agent.verifier import Claim, Grounding
from agent.vocabulary import STATUS_CLAIMS, STATUS_TEXT
from evals import EvalError
from evals.cases import ExpectedReference, FactCheck, FactKind, Scope

_NORM = re.compile(r"[\s.\-/]")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --------------------------------------------------------------------------- per case


class FactResult(_Model):
    check: FactCheck
    found: bool
    found_in: tuple[str, ...] = ()  # "draft", "note"


class ClaimResult(_Model):
    kind: str
    text: str
    reason: str


class CaseResult(_Model):
    """Everything measured for one case, and what the pipeline produced."""

    id: str
    description: str = ""
    language: str = "unknown"
    tags: tuple[str, ...] = ()
    error: str | None = None
    detected_language: str | None = None
    references_expected: tuple[str, ...] = ()
    references_found: tuple[str, ...] = ()
    reference_tp: int = 0
    reference_fp: int = 0
    reference_fn: int = 0
    intents_expected: tuple[str, ...] = ()
    intents_found: tuple[str, ...] = ()
    intent_correct: bool | None = None
    required: tuple[FactResult, ...] = ()
    forbidden: tuple[FactResult, ...] = ()
    unsupported: tuple[ClaimResult, ...] = ()
    claims: int = 0
    gold_similarity: float | None = None
    predicted_outcome: str | None = None
    predicted_light_edit: bool = False  # edited, at or above the light-edit threshold
    prompt_tokens: int = 0
    model_prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    drafter: str = ""
    template_version: str = ""
    fallback_reason: str | None = None
    withheld: tuple[str, ...] = ()
    not_found: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    lookup_calls: int = 0
    email_subject: str = ""
    email_text: str = ""  # the customer's new text as the pipeline read it
    draft_subject: str = ""
    draft_body: str = ""
    note_body: str = ""
    gold_reply: str | None = None

    @property
    def leaks(self) -> tuple[FactResult, ...]:
        return tuple(f for f in self.forbidden if f.found)

    @property
    def missing_facts(self) -> tuple[FactResult, ...]:
        return tuple(f for f in self.required if not f.found)


# --------------------------------------------------------------------------- scoring helpers


def prf(*, tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1; an empty side counts as perfect (nothing to find, nothing wrongly found)."""
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def scored_references(references: Iterable[Reference]) -> set[str]:
    """``kind:value`` of the references that count: everything except what only quoted history holds."""
    return {f"{r.kind.value}:{r.value}" for r in references if r.source != ReferenceSource.QUOTED}


def reference_counts(*, expected: Iterable[ExpectedReference], found: set[str]) -> tuple[int, int, int]:
    want = {f"{r.kind.value}:{r.value}" for r in expected}
    return len(want & found), len(found - want), len(want - found)


@lru_cache(maxsize=512)
def _grounding_of(text: str) -> Grounding:
    return Grounding.build(facts=(), email_texts=(text,), config_texts=())


@lru_cache(maxsize=64)
def _status_pattern(code: str) -> re.Pattern[str]:
    phrases = {p.lower() for p in STATUS_CLAIMS.get(code, ())}
    phrases |= {lang[code].lower() for lang in STATUS_TEXT.values() if code in lang}
    phrases.add(code.replace("_", " "))
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def fact_in_text(*, check: FactCheck, text: str) -> bool:
    """Whether ``text`` states the fact of ``check``, in whatever format or language."""
    if not text:
        return False
    if check.kind == FactKind.TEXT:
        lowered = text.lower()
        return any(v.lower() in lowered for v in (check.value, *check.any_of))
    if check.kind == FactKind.STATUS:
        return any(_status_pattern(code).search(text) for code in (check.value, *check.any_of))
    g = _grounding_of(text)
    if check.kind == FactKind.DATE:
        for value in (check.value, *check.any_of):
            wanted = date.fromisoformat(value)
            if wanted in g.dates:
                return True
            same_day = {(d.month, d.day) for d in g.dates}
            if (wanted.month, wanted.day) in g.month_days and (wanted.month, wanted.day) not in same_day:
                return True  # written without a year ("3 December")
        return False
    if check.kind == FactKind.REFERENCE:
        for value in (check.value, *check.any_of):
            ref = _NORM.sub("", value).upper()
            tail = re.search(r"\d{5,}$", ref)
            if ref in g.references or (tail and tail.group(0) in g.references):
                return True
        return False
    if check.kind == FactKind.NUMBER:
        return any(_number(v) in g.numbers for v in (check.value, *check.any_of))
    return False


def _number(value: str) -> str:
    number = float(value.replace(",", "."))
    return str(int(number)) if number.is_integer() else str(number)


def check_facts(*, checks: Sequence[FactCheck], draft: str, note: str) -> tuple[FactResult, ...]:
    """Each check looked up in the draft, and in the note when its scope is ``everywhere``."""
    out = []
    for check in checks:
        where = [("draft", draft)] + ([("note", note)] if check.where == Scope.EVERYWHERE else [])
        found_in = tuple(name for name, text in where if fact_in_text(check=check, text=text))
        out.append(FactResult(check=check, found=bool(found_in), found_in=found_in))
    return tuple(out)


def unsupported_claims(claims: Iterable[Claim]) -> tuple[ClaimResult, ...]:
    return tuple(ClaimResult(kind=c.kind.value, text=c.text, reason=c.reason) for c in claims if not c.supported)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


# --------------------------------------------------------------------------- aggregates


class Summary(_Model):
    """The figures of a set of cases (a whole run, one tag, one language)."""

    cases: int = 0
    errors: int = 0
    reference_tp: int = 0
    reference_fp: int = 0
    reference_fn: int = 0
    reference_precision: float = 1.0
    reference_recall: float = 1.0
    reference_f1: float = 1.0
    intent_cases: int = 0
    intent_accuracy: float = 1.0
    language_accuracy: float = 1.0
    required_facts: int = 0
    required_found: int = 0
    required_fact_recall: float = 1.0
    claims: int = 0
    unsupported_claims: int = 0
    cases_with_unsupported: int = 0
    leaks: int = 0
    cases_with_leaks: int = 0
    gold_cases: int = 0
    similarity_mean: float | None = None
    similarity_median: float | None = None
    predicted_sent_as_is: float | None = Field(default=None, description="share of gold cases at or above as_is")
    predicted_as_is_or_light: float | None = Field(
        default=None, description="share of gold cases at or above the light-edit threshold (as is + lightly edited)")
    predicted_accepted: float | None = Field(default=None, description="share at or above the edited threshold")
    prompt_tokens_median: float = 0.0
    prompt_tokens_p95: float = 0.0
    prompt_tokens_total: int = 0
    completion_tokens_total: int = 0
    latency_ms_median: float = 0.0
    latency_ms_p95: float = 0.0
    latency_ms_max: float = 0.0
    fallbacks: int = 0


def summarize(results: Sequence[CaseResult]) -> Summary:
    """Micro-averaged figures over ``results``."""
    tp = sum(r.reference_tp for r in results)
    fp = sum(r.reference_fp for r in results)
    fn = sum(r.reference_fn for r in results)
    precision, recall, f1 = prf(tp=tp, fp=fp, fn=fn)
    intent_scored = [r for r in results if r.intent_correct is not None]
    lang_scored = [r for r in results if r.language != "unknown" and r.error is None]
    required = [f for r in results for f in r.required]
    gold = [r for r in results if r.gold_similarity is not None]
    sims = [r.gold_similarity for r in gold if r.gold_similarity is not None]
    ok = [r for r in results if r.error is None]
    tokens = [float(r.prompt_tokens) for r in ok]
    latency = [r.latency_ms for r in ok]
    return Summary(
        cases=len(results),
        errors=sum(r.error is not None for r in results),
        reference_tp=tp, reference_fp=fp, reference_fn=fn,
        reference_precision=round(precision, 4), reference_recall=round(recall, 4), reference_f1=round(f1, 4),
        intent_cases=len(intent_scored),
        intent_accuracy=round(sum(bool(r.intent_correct) for r in intent_scored) / len(intent_scored), 4)
        if intent_scored else 1.0,
        language_accuracy=round(sum(r.detected_language == r.language for r in lang_scored) / len(lang_scored), 4)
        if lang_scored else 1.0,
        required_facts=len(required),
        required_found=sum(f.found for f in required),
        required_fact_recall=round(sum(f.found for f in required) / len(required), 4) if required else 1.0,
        claims=sum(r.claims for r in results),
        unsupported_claims=sum(len(r.unsupported) for r in results),
        cases_with_unsupported=sum(bool(r.unsupported) for r in results),
        leaks=sum(len(r.leaks) for r in results),
        cases_with_leaks=sum(bool(r.leaks) for r in results),
        gold_cases=len(gold),
        similarity_mean=round(statistics.fmean(sims), 4) if sims else None,
        similarity_median=round(statistics.median(sims), 4) if sims else None,
        predicted_sent_as_is=round(sum(r.predicted_outcome == "sent_as_is" for r in gold) / len(gold), 4)
        if gold else None,
        predicted_as_is_or_light=round(
            sum(r.predicted_outcome == "sent_as_is" or r.predicted_light_edit for r in gold) / len(gold), 4)
        if gold else None,
        predicted_accepted=round(sum(r.predicted_outcome in ("sent_as_is", "edited") for r in gold) / len(gold), 4)
        if gold else None,
        prompt_tokens_median=statistics.median(tokens) if tokens else 0.0,
        prompt_tokens_p95=percentile(tokens, 95),
        prompt_tokens_total=sum(r.prompt_tokens for r in ok),
        completion_tokens_total=sum(r.completion_tokens for r in ok),
        latency_ms_median=round(statistics.median(latency), 2) if latency else 0.0,
        latency_ms_p95=round(percentile(latency, 95), 2),
        latency_ms_max=round(max(latency), 2) if latency else 0.0,
        fallbacks=sum(r.fallback_reason is not None for r in results),
    )


def breakdown(results: Sequence[CaseResult], *, by: str) -> dict[str, Summary]:
    """Summaries per tag (``by="tag"``) or per expected language (``by="language"``), sorted by key."""
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        for key in (r.tags if by == "tag" else (r.language,)):
            groups.setdefault(key, []).append(r)
    return {key: summarize(groups[key]) for key in sorted(groups)}


# --------------------------------------------------------------------------- the gate


class Thresholds(BaseModel):
    """What a run must keep (``evals/thresholds.json``): the CI gate of the template drafter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dataset: str = ""
    drafter: str = "template"
    min_cases: int = 0
    max_errors: int = 0
    max_unsupported_claims: int = 0
    max_leaks: int = 0
    min_reference_f1: float = 0.0
    min_required_fact_recall: float = 0.0
    min_intent_accuracy: float = 0.0
    measured: dict[str, float] = Field(default_factory=dict, description="the figures when the thresholds were set")
    note: str = ""


def load_thresholds(*, path: Path) -> Thresholds:
    try:
        return Thresholds.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise EvalError(f"cannot read thresholds {path}: {exc}") from exc


def gate_violations(*, summary: Summary, thresholds: Thresholds) -> list[str]:
    """Every threshold the summary misses, as a sentence; empty when the gate passes."""
    out = []
    if summary.cases < thresholds.min_cases:
        out.append(f"{summary.cases} cases, fewer than {thresholds.min_cases}")
    if summary.errors > thresholds.max_errors:
        out.append(f"{summary.errors} cases failed to run (max {thresholds.max_errors})")
    if summary.unsupported_claims > thresholds.max_unsupported_claims:
        out.append(f"{summary.unsupported_claims} unsupported claims (max {thresholds.max_unsupported_claims})")
    if summary.leaks > thresholds.max_leaks:
        out.append(f"{summary.leaks} leaks (max {thresholds.max_leaks})")
    if summary.reference_f1 < thresholds.min_reference_f1:
        out.append(f"reference F1 {summary.reference_f1:.4f} below {thresholds.min_reference_f1:.4f}")
    if summary.required_fact_recall < thresholds.min_required_fact_recall:
        out.append(f"required-fact recall {summary.required_fact_recall:.4f} below "
                   f"{thresholds.min_required_fact_recall:.4f}")
    if summary.intent_accuracy < thresholds.min_intent_accuracy:
        out.append(f"intent accuracy {summary.intent_accuracy:.4f} below {thresholds.min_intent_accuracy:.4f}")
    return out
