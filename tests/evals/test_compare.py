"""Comparing two runs: figures side by side, each changed case as regressions and improvements."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import ReportError
from evals.cases import FactCheck
from evals.compare import compare_case, compare_runs, format_comparison, load_report
from evals.metrics import CaseResult, FactResult, summarize
from evals.runner import RunReport

DATE = FactCheck.model_validate({"kind": "date", "value": "2026-11-26"})
LEAK = FactCheck.model_validate({"kind": "reference", "value": "NK204999"})


def result(case_id: str, **values: object) -> CaseResult:
    base: dict[str, object] = {"references_expected": ("order_number:NK204117",),
                               "references_found": ("order_number:NK204117",), "reference_tp": 1,
                               "intents_found": ("eta_request",), "intent_correct": True,
                               "required": (FactResult(check=DATE, found=True),), "gold_similarity": 0.6,
                               "predicted_outcome": "edited", "draft_body": "Hi,\nIt arrives on 26 November.\n"}
    return CaseResult(id=case_id, **{**base, **values})  # type: ignore[arg-type]


def report(run_id: str, cases: list[CaseResult], digest: str = "abc") -> RunReport:
    return RunReport(run_id=run_id, created_at="2026-11-23T08:00:00Z", dataset="core", dataset_digest=digest,
                     drafter="template", prompt="draft-v1", prompt_version="draft-v1@1", summary=summarize(cases),
                     cases=tuple(cases))


def test_a_case_that_got_worse_and_one_that_got_better() -> None:
    a = report("A", [result("same"), result("worse"), result("better", references_found=(), reference_tp=0,
                                                                 reference_fn=1, intent_correct=False,
                                                                 intents_found=("other",)), result("gone")])
    b = report("B", [result("same"),
                     result("worse", required=(FactResult(check=DATE, found=False),),
                            forbidden=(FactResult(check=LEAK, found=True, found_in=("draft",)),), gold_similarity=0.4,
                            predicted_outcome="rewritten", draft_body="Hi,\nNK204999 is yours.\n"),
                     result("better"), result("new")])
    comparison = compare_runs(a=a, b=b, with_diffs=True)
    assert comparison.unchanged == 1 and comparison.only_in_a == ("gone",) and comparison.only_in_b == ("new",)
    worse, better = comparison.changed
    assert worse.id == "worse" and worse.regressions == 3 and worse.improvements == 0
    assert {c.what for c in worse.changes} == {"required fact", "leak", "similarity", "predicted outcome"}
    assert "+NK204999 is yours." in worse.draft_diff
    assert better.id == "better" and better.improvements == 2 and better.regressions == 0
    leaks = next(f for f in comparison.figures if f.name == "leaks")
    assert (leaks.a, leaks.b, leaks.direction) == (0.0, 1.0, "regression")
    text = format_comparison(comparison)
    assert "worse  (-3 / +0)" in text and "- leak: new leak: reference:NK204999" in text
    assert "only in A (1): gone" in text and "2 cases changed (3 regressions, 2 improvements), 1 unchanged" in text


def test_a_draft_change_with_equal_figures_is_neutral() -> None:
    diff = compare_case(a=result("x"), b=result("x", draft_body="Hello,\nIt arrives on 26 November.\n"))
    assert [(c.what, c.direction) for c in diff.changes] == [("draft", "neutral")]
    assert compare_case(a=result("x"), b=result("x")).changes == ()


def test_different_datasets_are_flagged(tmp_path: Path) -> None:
    a, b = report("A", [result("x")], digest="aaa"), report("B", [result("x")], digest="bbb")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "run.json").write_text(a.model_dump_json(), encoding="utf-8")
    (tmp_path / "b.json").write_text(b.model_dump_json(), encoding="utf-8")
    comparison = compare_runs(a=load_report(path=tmp_path / "a"), b=load_report(path=tmp_path / "b.json"))
    assert not comparison.same_dataset and "different datasets" in format_comparison(comparison)


def test_unreadable_reports_say_why(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot read"):
        load_report(path=tmp_path / "nope.json")
    (tmp_path / "x.json").write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(ReportError, match="not a shipdraft eval run report"):
        load_report(path=tmp_path / "x.json")
