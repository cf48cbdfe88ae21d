"""The HTML report: one self-contained file, charts inline, untrusted text escaped, the gate verdict on top."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from evals.cases import load_dataset
from evals.metrics import Thresholds
from evals.report_html import bar_chart, histogram, render_report
from evals.runner import TokenCounter, run_dataset
from tests.evals.conftest import case, standard_cases, write_dataset

ATTACK = '<script>alert("owned")</script><img src="https://evil.example/x.png">'


@pytest.mark.anyio
async def test_the_report_is_self_contained_and_escapes_what_cases_contain(tmp_path: Path) -> None:
    hostile = case("hostile", subject=f"ETA NK204117 {ATTACK}", body=f"Hi,\n\nWhen will NK204117 arrive? {ATTACK}\n")
    data = load_dataset(path=write_dataset(tmp_path / "d", [hostile, *standard_cases()]))
    report = await run_dataset(dataset=data, tokens=TokenCounter(name="chars", count=len))
    html = render_report(report=report, thresholds=Thresholds(min_reference_f1=0.5))

    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert '<script>alert("owned")' not in html and "&lt;script&gt;alert" in html
    assert not re.search(r"""<(script|img|link|iframe)[^>]*\s(src|href)\s*=""", html, re.IGNORECASE)
    assert "cdn" not in html.lower() and "@import" not in html
    assert html.count("<svg") >= 5
    for svg in re.findall(r"<svg.*?</svg>", html, re.DOTALL):  # every chart is well-formed XML
        ElementTree.fromstring(svg)
    assert "CI gate" in html and "<b>passed</b>" in html
    assert all(c.id in html for c in report.cases)


def test_a_failed_gate_lists_its_reasons() -> None:
    from evals.metrics import Summary
    from evals.runner import RunReport

    report = RunReport(run_id="r", created_at="2026-11-23T08:00:00Z", dataset="d", drafter="template",
                       prompt="draft-v1", summary=Summary(cases=1, leaks=2))
    html = render_report(report=report, thresholds=Thresholds())
    assert "<b>failed</b>" in html and "2 leaks (max 0)" in html


def test_charts_scale_and_label_their_values() -> None:
    bars = str(bar_chart(items=[("F1", 0.5), ("none", None)], title="t"))
    assert 'width="160.0"' in bars and "50.0%" in bars and "n/a" in bars
    hist = str(histogram(values=[0.05, 0.55, 0.56, 2.0], edges=[0.0, 0.5, 1.0], title="sim",
                         markers=[(0.97, "as is")]))
    counts = re.findall(r"<title>[^<]*: (\d+)</title>", hist)
    assert counts == ["1", "3"] and "as is" in hist
