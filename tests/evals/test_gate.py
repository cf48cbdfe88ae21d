"""The CI gate: the template drafter on the committed core dataset keeps the committed thresholds.

0 unsupported claims, 0 leaks, no case failing to run, and reference F1, required-fact recall and
intent accuracy no lower than ``evals/thresholds.json``. On failure the message names the cases to look at, and the full
report (run.json, report.html) is left in the test's temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cases import load_dataset
from evals.metrics import gate_violations, load_thresholds
from evals.report_html import render_report
from evals.runner import run_dataset
from shipdraft.eval_cli import DEFAULT_DATASET, DEFAULT_THRESHOLDS


@pytest.mark.anyio
async def test_the_template_drafter_keeps_the_committed_thresholds(tmp_path: Path) -> None:
    thresholds = load_thresholds(path=DEFAULT_THRESHOLDS)
    dataset = load_dataset(path=DEFAULT_DATASET)
    assert (thresholds.dataset, thresholds.drafter) == (dataset.name, "template")

    report = await run_dataset(dataset=dataset)
    (tmp_path / "run.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    (tmp_path / "report.html").write_text(render_report(report=report, thresholds=thresholds), encoding="utf-8")

    violations = gate_violations(summary=report.summary, thresholds=thresholds)
    details = []
    for c in report.cases:
        problems = ([f"error {c.error}"] if c.error else []) + [f"leak {f.check.label()}" for f in c.leaks] \
            + [f"unsupported {u.text!r}: {u.reason}" for u in c.unsupported] \
            + [f"missing {f.check.label()}" for f in c.missing_facts] \
            + ([f"references expected {c.references_expected}, found {c.references_found}"]
               if c.reference_fp or c.reference_fn else [])
        if problems:
            details.append(f"{c.id}: {'; '.join(problems)}")
    assert not violations, "\n".join([*violations, f"report: {tmp_path / 'report.html'}", *details])
