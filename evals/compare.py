"""Two runs side by side: what changed in the figures and, case by case, what got better or worse.

``compare_runs`` lines the cases of run A and run B up by id and reports,
for each case that changed: references found or lost, the intent verdict,
required facts found or missing, unsupported claims, leaks, errors, a
similarity move of at least ``epsilon``, the drafter falling back, and
whether the draft text changed at all. Each change is a regression or an
improvement (B against A); a changed draft with equal figures is neither.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from evals import ReportError
from evals.metrics import CaseResult, Summary
from evals.runner import RunReport

SUMMARY_FIELDS = (
    "cases", "errors", "reference_precision", "reference_recall", "reference_f1", "intent_accuracy",
    "language_accuracy", "required_fact_recall", "unsupported_claims", "leaks", "similarity_mean",
    "predicted_sent_as_is", "predicted_as_is_or_light", "predicted_accepted", "prompt_tokens_median",
    "prompt_tokens_p95", "latency_ms_median", "latency_ms_p95", "fallbacks",
)
# figures where a higher value is worse; "cases" is neither better nor worse
_LOWER_IS_BETTER = {"errors", "unsupported_claims", "leaks", "prompt_tokens_median", "prompt_tokens_p95",
                    "latency_ms_median", "latency_ms_p95", "fallbacks"}
_NEUTRAL = {"cases"}
_COUNTS = {"cases", "errors", "unsupported_claims", "leaks", "fallbacks"}
_MAX_LISTED = 20


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Change(_Model):
    what: str
    detail: str
    direction: str  # "regression", "improvement" or "neutral"


class CaseDiff(_Model):
    id: str
    changes: tuple[Change, ...]
    similarity_a: float | None = None
    similarity_b: float | None = None
    draft_diff: str = ""

    @property
    def regressions(self) -> int:
        return sum(c.direction == "regression" for c in self.changes)

    @property
    def improvements(self) -> int:
        return sum(c.direction == "improvement" for c in self.changes)


class FigureDelta(_Model):
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else round(self.b - self.a, 4)

    @property
    def direction(self) -> str:
        d = self.delta
        if not d or self.name in _NEUTRAL:
            return "neutral"
        better = d < 0 if self.name in _LOWER_IS_BETTER else d > 0
        return "improvement" if better else "regression"


class RunRef(_Model):
    run_id: str
    dataset: str
    dataset_digest: str
    drafter: str
    prompt_version: str
    model: str | None = None


class Comparison(_Model):
    a: RunRef
    b: RunRef
    same_dataset: bool
    figures: tuple[FigureDelta, ...]
    changed: tuple[CaseDiff, ...]
    unchanged: int
    only_in_a: tuple[str, ...] = ()
    only_in_b: tuple[str, ...] = ()

    @property
    def regressions(self) -> int:
        return sum(d.regressions for d in self.changed)

    @property
    def improvements(self) -> int:
        return sum(d.improvements for d in self.changed)


def load_report(*, path: Path) -> RunReport:
    """A run report from its JSON file, or from a run folder holding ``run.json``."""
    file = path / "run.json" if path.is_dir() else path
    try:
        return RunReport.model_validate_json(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot read run report {file}: {exc}") from exc
    except ValidationError as exc:
        raise ReportError(f"{file} is not a shipdraft eval run report: {exc.errors()[0]['msg']}") from exc


def _ref(report: RunReport) -> RunRef:
    return RunRef(run_id=report.run_id, dataset=report.dataset, dataset_digest=report.dataset_digest,
                  drafter=report.drafter, prompt_version=report.prompt_version, model=report.model)


def _figure(summary: Summary, name: str) -> float | None:
    value = getattr(summary, name)
    return None if value is None else float(value)


def compare_runs(*, a: RunReport, b: RunReport, epsilon: float = 0.01, with_diffs: bool = False) -> Comparison:
    """Figures and cases of ``b`` against ``a``."""
    cases_a = {c.id: c for c in a.cases}
    cases_b = {c.id: c for c in b.cases}
    changed = []
    unchanged = 0
    for case_id in sorted(cases_a.keys() & cases_b.keys()):
        diff = compare_case(a=cases_a[case_id], b=cases_b[case_id], epsilon=epsilon, with_diff=with_diffs)
        if diff.changes:
            changed.append(diff)
        else:
            unchanged += 1
    return Comparison(
        a=_ref(a), b=_ref(b), same_dataset=a.dataset_digest == b.dataset_digest,
        figures=tuple(FigureDelta(name=n, a=_figure(a.summary, n), b=_figure(b.summary, n)) for n in SUMMARY_FIELDS),
        changed=tuple(sorted(changed, key=lambda d: (-d.regressions, d.id))), unchanged=unchanged,
        only_in_a=tuple(sorted(cases_a.keys() - cases_b.keys())),
        only_in_b=tuple(sorted(cases_b.keys() - cases_a.keys())),
    )


def compare_case(*, a: CaseResult, b: CaseResult, epsilon: float = 0.01, with_diff: bool = False) -> CaseDiff:
    """What differs between two results of the same case."""
    changes: list[Change] = []

    def add(what: str, detail: str, worse: bool | None) -> None:
        direction = "neutral" if worse is None else "regression" if worse else "improvement"
        changes.append(Change(what=what, detail=detail, direction=direction))

    if (a.error is None) != (b.error is None):
        add("error", f"now fails: {b.error}" if b.error else "runs again", b.error is not None)
    lost = set(a.references_found) - set(b.references_found)
    gained = set(b.references_found) - set(a.references_found)
    expected = set(a.references_expected)
    for ref in sorted(lost):
        add("reference", f"no longer found: {ref}", ref in expected)
    for ref in sorted(gained):
        add("reference", f"now found: {ref}", ref not in expected)
    if a.intent_correct != b.intent_correct and b.intent_correct is not None:
        add("intents", f"{', '.join(a.intents_found)} -> {', '.join(b.intents_found)}", not b.intent_correct)
    found_a = {f.check.label() for f in a.required if f.found}
    found_b = {f.check.label() for f in b.required if f.found}
    for label in sorted(found_a - found_b):
        add("required fact", f"now missing: {label}", True)
    for label in sorted(found_b - found_a):
        add("required fact", f"now stated: {label}", False)
    if len(a.unsupported) != len(b.unsupported):
        add("unsupported claims", f"{len(a.unsupported)} -> {len(b.unsupported)}",
            len(b.unsupported) > len(a.unsupported))
    leaks_a = {f.check.label() for f in a.leaks}
    leaks_b = {f.check.label() for f in b.leaks}
    for label in sorted(leaks_b - leaks_a):
        add("leak", f"new leak: {label}", True)
    for label in sorted(leaks_a - leaks_b):
        add("leak", f"leak gone: {label}", False)
    if a.gold_similarity is not None and b.gold_similarity is not None \
            and abs(b.gold_similarity - a.gold_similarity) >= epsilon:
        add("similarity", f"{a.gold_similarity:.3f} -> {b.gold_similarity:.3f}", b.gold_similarity < a.gold_similarity)
    if a.predicted_outcome != b.predicted_outcome and b.predicted_outcome:
        add("predicted outcome", f"{a.predicted_outcome} -> {b.predicted_outcome}", None)
    if (a.fallback_reason is None) != (b.fallback_reason is None):
        add("fallback", f"template fallback: {b.fallback_reason}" if b.fallback_reason else "no fallback any more",
            b.fallback_reason is not None)
    draft_changed = a.draft_body != b.draft_body
    if draft_changed and not changes:
        add("draft", "the text changed, the figures did not", None)
    diff = ""
    if with_diff and draft_changed:
        diff = "".join(difflib.unified_diff(a.draft_body.splitlines(keepends=True),
                                            b.draft_body.splitlines(keepends=True), fromfile=f"A/{a.id}",
                                            tofile=f"B/{b.id}"))
    return CaseDiff(id=a.id, changes=tuple(changes), similarity_a=a.gold_similarity, similarity_b=b.gold_similarity,
                    draft_diff=diff)


def format_comparison(comparison: Comparison, *, show_all: bool = False) -> str:
    """A plain-text report for the terminal."""
    a, b = comparison.a, comparison.b
    lines = [f"A: {a.run_id}  ({a.drafter}, {a.prompt_version}{', ' + a.model if a.model else ''})",
             f"B: {b.run_id}  ({b.drafter}, {b.prompt_version}{', ' + b.model if b.model else ''})"]
    if not comparison.same_dataset:
        lines.append(f"warning: the runs used different datasets ({a.dataset} {a.dataset_digest[:12]} vs "
                     f"{b.dataset} {b.dataset_digest[:12]}); only cases with the same id are compared")
    lines += ["", f"{'figure':<24}{'A':>12}{'B':>12}{'B - A':>12}"]
    for f in comparison.figures:
        mark = {"regression": "  worse", "improvement": "  better", "neutral": ""}[f.direction]
        lines.append(f"{f.name:<24}{_fmt(f.name, f.a):>12}{_fmt(f.name, f.b):>12}"
                     f"{_fmt(f.name, f.delta, signed=True):>12}{mark}")
    lines += ["", f"{len(comparison.changed)} cases changed ({comparison.regressions} regressions, "
              f"{comparison.improvements} improvements), {comparison.unchanged} unchanged"]
    for name, ids in (("A", comparison.only_in_a), ("B", comparison.only_in_b)):
        if ids:
            more = f" ... ({len(ids) - _MAX_LISTED} more)" if len(ids) > _MAX_LISTED else ""
            lines.append(f"only in {name} ({len(ids)}): {', '.join(ids[:_MAX_LISTED])}{more}")
    for diff in comparison.changed:
        if not show_all and not diff.regressions and not diff.improvements:
            continue
        lines.append("")
        lines.append(f"{diff.id}  (-{diff.regressions} / +{diff.improvements})")
        for c in diff.changes:
            sign = {"regression": "-", "improvement": "+", "neutral": "~"}[c.direction]
            lines.append(f"  {sign} {c.what}: {c.detail}")
        if diff.draft_diff:
            lines += [f"    {line}" for line in diff.draft_diff.rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def _fmt(name: str, value: float | None, *, signed: bool = False) -> str:
    if value is None:
        return "–"
    sign = "+" if signed else ""
    if name in _COUNTS:
        return f"{value:{sign}.0f}"
    if name.startswith(("latency", "prompt_tokens")):
        return f"{value:{sign}.1f}"
    return f"{value:{sign}.4f}"
