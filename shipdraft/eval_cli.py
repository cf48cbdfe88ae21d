"""``shipdraft eval run | compare | replay``: the offline evals from the command line.

- ``run``: a dataset (the committed core dataset by default) through the real
  pipeline with fixture connectors; writes ``run.json`` and a self-contained
  ``report.html``, prints the figures, and with ``--thresholds`` exits 1 when
  the CI gate fails.
- ``compare RUN_A RUN_B``: two run reports (``run.json`` or its folder), figure
  by figure and case by case.
- ``replay --mailbox NAME``: drafts for the mailbox's answered threads,
  compared with the replies that were sent.

``shipdraft.cli`` registers these with ``add_subcommands`` and hands the
parsed arguments to ``dispatch``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import evals
from evals import EvalError
from shipdraft.settings import Settings

COMMANDS = ("run", "compare", "replay")
EVALS_DIR = Path(evals.__file__).resolve().parent
DEFAULT_DATASET = EVALS_DIR / "datasets" / "core"
DEFAULT_THRESHOLDS = EVALS_DIR / "thresholds.json"


def add_subcommands(*, eval_sub: Any) -> None:
    """Add ``run``, ``compare`` and ``replay`` to the ``shipdraft eval`` sub-parsers."""
    run_p = eval_sub.add_parser("run", help="run an eval dataset through the pipeline with fixture connectors")
    run_p.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                       help="dataset folder or file (default: the committed core dataset)")
    run_p.add_argument("--prompt", help="LLM prompt version in prompts/llm/ (default: the mailbox's, draft-v1)")
    run_p.add_argument("--drafter", choices=["template", "llm"], default="template")
    run_p.add_argument("--scripted-only", action="store_true",
                       help="--drafter llm with no LLM configured: run the cases that carry a scripted answer")
    run_p.add_argument("--case", action="append", default=[], metavar="ID", help="run only this case (repeatable)")
    run_p.add_argument("--out", type=Path, help="folder for run.json and report.html (default: var/evals/<run id>)")
    run_p.add_argument("--thresholds", type=Path, nargs="?", const=DEFAULT_THRESHOLDS,
                       help=f"check the CI gate (default file: {DEFAULT_THRESHOLDS.relative_to(EVALS_DIR.parent)}); "
                            "exit 1 when it fails")
    cmp_p = eval_sub.add_parser("compare", help="compare two eval runs case by case")
    cmp_p.add_argument("run_a", type=Path, help="run.json (or its folder) of the baseline")
    cmp_p.add_argument("run_b", type=Path, help="run.json (or its folder) of the candidate")
    cmp_p.add_argument("--all", action="store_true", help="also list cases whose draft changed with equal figures")
    cmp_p.add_argument("--diff", action="store_true", help="show the draft text differences")
    cmp_p.add_argument("--json", type=Path, help="also write the comparison as JSON here")
    rep_p = eval_sub.add_parser("replay", help="draft for answered threads and compare with the replies sent")
    rep_p.add_argument("--mailbox", required=True, help="the configured mailbox's name")
    rep_p.add_argument("--since", type=date.fromisoformat,
                       help="only threads replied on or after this day (YYYY-MM-DD)")
    rep_p.add_argument("--limit", type=int, default=500, help="at most this many threads (default 500)")
    rep_p.add_argument("--drafter", choices=["template", "llm"], help="default: the mailbox's drafter")
    rep_p.add_argument("--json", type=Path, help="also write the replay report as JSON here")


def dispatch(*, args: argparse.Namespace, settings: Settings) -> int:
    """Run the ``shipdraft eval`` sub-command in ``args``; an ``EvalError`` is a clear message and exit 2."""
    try:
        if args.eval_command == "run":
            return asyncio.run(run_command(settings=settings, dataset=args.dataset, prompt=args.prompt,
                                           drafter=args.drafter, scripted_only=args.scripted_only,
                                           case_ids=args.case, out=args.out, thresholds=args.thresholds))
        if args.eval_command == "compare":
            return compare_command(run_a=args.run_a, run_b=args.run_b, show_all=args.all, diffs=args.diff,
                                   json_path=args.json)
        if args.eval_command == "replay":
            return asyncio.run(replay_command(settings=settings, mailbox=args.mailbox, since=args.since,
                                              limit=args.limit, drafter=args.drafter, json_path=args.json))
    except EvalError as exc:
        print(f"shipdraft: {exc}", file=sys.stderr)
        return 2
    raise ValueError(f"unknown eval command {args.eval_command!r}")


# --------------------------------------------------------------------------- run


async def run_command(*, settings: Settings, dataset: Path, prompt: str | None, drafter: str, scripted_only: bool,
                      case_ids: list[str], out: Path | None, thresholds: Path | None) -> int:
    from agent.llm import LangChainChatModel, LLMSettings
    from evals.cases import load_dataset
    from evals.metrics import gate_violations, load_thresholds
    from evals.report_html import failing_cases, render_report
    from evals.runner import DrafterKind, RunOptions, run_dataset
    from shipdraft.wiring import mailbox_config

    config = mailbox_config(settings=settings)
    gate = load_thresholds(path=thresholds) if thresholds else None
    data = load_dataset(path=dataset)
    chat_model = None
    if drafter == "llm" and config.llm is not None:
        chat_model = LangChainChatModel(settings=config.llm)  # a real model: the network, the API key
    options = RunOptions(drafter=DrafterKind(drafter), prompt=prompt or config.prompt, chat_model=chat_model,
                         llm_settings=config.llm or LLMSettings(), scripted_only=scripted_only,
                         case_ids=frozenset(case_ids), acceptance=settings.acceptance)
    report = await run_dataset(dataset=data, options=options)
    folder = out or settings.data_dir / "evals" / report.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    (folder / "report.html").write_text(render_report(report=report, thresholds=gate), encoding="utf-8")
    print(format_summary(report=report))
    for case in failing_cases(report):
        problems = [f"error: {case.error}"] if case.error else []
        problems += [f"leak {f.check.label()} in {'+'.join(f.found_in)}" for f in case.leaks]
        problems += [f"unsupported {u.kind} {u.text!r}" for u in case.unsupported]
        print(f"  ! {case.id}: {'; '.join(problems)}")
    print(f"report: {folder / 'report.html'}\njson:   {folder / 'run.json'}")
    if gate is not None:
        violations = gate_violations(summary=report.summary, thresholds=gate)
        for v in violations:
            print(f"GATE FAILED: {v}")
        if violations:
            return 1
        print(f"gate passed ({thresholds})")
    return 0


def format_summary(*, report: Any) -> str:
    s = report.summary
    lines = [
        f"dataset {report.dataset} ({s.cases} cases, sha256 {report.dataset_digest[:12]}), drafter {report.drafter}"
        + (f" ({report.model})" if report.model else "") + f", prompt {report.prompt_version}, "
        f"{report.duration_seconds:.1f} s",
        f"references      precision {s.reference_precision:.3f}  recall {s.reference_recall:.3f}  "
        f"F1 {s.reference_f1:.3f}  ({s.reference_tp} tp, {s.reference_fp} fp, {s.reference_fn} fn)",
        f"intents         accuracy {s.intent_accuracy:.3f} ({s.intent_cases} cases); language accuracy "
        f"{s.language_accuracy:.3f}",
        f"required facts  recall {s.required_fact_recall:.3f} ({s.required_found}/{s.required_facts})",
        f"grounding       {s.unsupported_claims} unsupported claims of {s.claims} (in {s.cases_with_unsupported} "
        f"cases); {s.leaks} leaks (in {s.cases_with_leaks} cases); {s.errors} errors; {s.fallbacks} fallbacks",
    ]
    if s.gold_cases:
        lines.append(f"gold replies    similarity mean {s.similarity_mean:.3f}, median {s.similarity_median:.3f} "
                     f"({s.gold_cases} cases)")
        lines.append(f"predicted        sent as is {s.predicted_sent_as_is:.1%}, as is or lightly edited "
                     f"{s.predicted_as_is_or_light:.1%}, at least edited {s.predicted_accepted:.1%}")
    lines.append(f"cost and speed  prompt tokens median {s.prompt_tokens_median:.0f}, p95 {s.prompt_tokens_p95:.0f} "
                 f"({report.tokenizer}); latency median {s.latency_ms_median:.1f} ms, p95 {s.latency_ms_p95:.1f} ms")
    if report.skipped:
        lines.append(f"not run: {len(report.skipped)} cases ({report.skipped_reason})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- compare


def compare_command(*, run_a: Path, run_b: Path, show_all: bool, diffs: bool, json_path: Path | None) -> int:
    from evals.compare import compare_runs, format_comparison, load_report

    comparison = compare_runs(a=load_report(path=run_a), b=load_report(path=run_b), with_diffs=diffs)
    print(format_comparison(comparison, show_all=show_all), end="")
    if json_path:
        json_path.write_text(comparison.model_dump_json(indent=1), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- replay


async def replay_command(*, settings: Settings, mailbox: str, since: date | None, limit: int, drafter: str | None,
                         json_path: Path | None) -> int:
    from agent.drafting import TemplateDrafter
    from evals import RunConfigurationError
    from evals.replay import format_replay, replay
    from shipdraft import demo
    from shipdraft.indexing import since_datetime
    from shipdraft.wiring import build_drafter, is_demo, open_runtime, resolve_database
    from store.replay import ReplayRepository

    database = resolve_database(settings=settings)
    async with open_runtime(settings=settings, database=database) as runtime:
        if mailbox != runtime.config.name:
            raise RunConfigurationError(f"--mailbox {mailbox}: this process is configured for mailbox "
                                        f"{runtime.config.name!r} (SHIPDRAFT_MAILBOX_CONFIG)")
        if is_demo(settings=settings):
            demo.load_business_data(url=database.url)
            await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
        deps = runtime.deps
        if drafter == "template":
            deps = replace(deps, drafter=TemplateDrafter())
        elif drafter == "llm":
            if runtime.config.llm is None:
                raise RunConfigurationError("--drafter llm: the mailbox YAML has no llm: block")
            deps = replace(deps, drafter=build_drafter(config=runtime.config.model_copy(update={"drafter": "llm"}),
                                                       pool=runtime.pool))

        def redact(text: str) -> str:  # exactly what indexing did to the stored reply
            return runtime.threads.prepare(mailbox=mailbox, thread_key="replay", subject="", customer_text="",
                                           reply_text=text, language=None, replied_at=None, intents=()).reply_text

        report = await replay(source=ReplayRepository(pool=runtime.pool), deps=deps, mailbox=mailbox,
                              created_at=datetime.now(UTC), redact=redact, since=since_datetime(since),
                              limit=limit, acceptance=settings.acceptance)
    print(format_replay(report), end="")
    if json_path:
        json_path.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    return 0
