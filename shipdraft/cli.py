"""The ``shipdraft`` command: run, api, worker, migrate, index, inspect, eval, metrics, connectors."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from agent.errors import AgentError
from shipdraft import eval_cli
from shipdraft.config import ConfigError
from shipdraft.logs import configure_logging
from shipdraft.settings import Settings
from store.errors import StoreError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shipdraft", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", help="ingest mail, draft replies, watch for more (Ctrl-C stops)")
    run_p.add_argument("--once", action="store_true", help="one pass, then exit")
    sub.add_parser("api", help="serve the HTTP API (FastAPI)")
    worker_p = sub.add_parser("worker", help="run a Celery worker")
    worker_p.add_argument("--concurrency", type=int, default=2)
    sub.add_parser("migrate", help="apply database migrations")
    index_p = sub.add_parser("index", help="import a mailbox's answered threads into the similar-thread index")
    index_p.add_argument("--mailbox", required=True, help="the mailbox name of the mailbox YAML")
    index_p.add_argument("--since", type=date.fromisoformat, default=None,
                         help="only replies sent on or after this day (YYYY-MM-DD)")
    index_p.add_argument("--batch-size", type=int, default=64, help="threads embedded and committed together")
    inspect_p = sub.add_parser("inspect", help="show what the agent sees in emails, without posting")
    inspect_p.add_argument("paths", nargs="+", type=Path)
    inspect_p.add_argument("--json", action="store_true", help="one JSON object per line")
    eval_p = sub.add_parser("eval", help="offline evaluations")
    eval_sub = eval_p.add_subparsers(dest="eval_command", required=True)
    und_p = eval_sub.add_parser("understanding",
                                help="references, intents, language, new text on the labelled set")
    und_p.add_argument("--dir", type=Path, default=None, help="a directory with labels.yaml and emails/")
    und_p.add_argument("--json", action="store_true")
    und_p.add_argument("--verbose", action="store_true", help="list every miss")
    drafting_p = eval_sub.add_parser("drafting", help="prompt tokens, template grounding, verifier catch rate")
    drafting_p.add_argument("paths", nargs="*", type=Path, help="emails (default: the demo inbox)")
    drafting_p.add_argument("--json", type=Path, help="also write the report as JSON here")
    eval_cli.add_subcommands(eval_sub=eval_sub)
    metrics_p = sub.add_parser("metrics", help="acceptance metrics")
    metrics_p.add_argument("--by", choices=["mailbox", "intent", "language", "drafter", "prompt", "week"],
                           default="mailbox")
    metrics_p.add_argument("--mailbox")
    metrics_p.add_argument("--json", action="store_true", help="machine-readable output")
    conn_p = sub.add_parser("connectors", help="business-system connectors")
    conn_p.add_argument("action", choices=["list", "check"])
    args = parser.parse_args(argv)

    try:
        settings = Settings()
    except ValueError as exc:
        print(f"shipdraft: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(level=settings.log_level)
    try:
        if args.command == "run":
            return asyncio.run(_run(settings=settings, once=args.once))
        if args.command == "api":
            return _api(settings=settings)
        if args.command == "worker":
            return _worker(settings=settings, concurrency=args.concurrency)
        if args.command == "migrate":
            return _migrate(settings=settings)
        if args.command == "index":
            return asyncio.run(_index(settings=settings, mailbox=args.mailbox, since=args.since,
                                      batch_size=args.batch_size))
        if args.command == "inspect":
            return _inspect(settings=settings, paths=args.paths, as_json=args.json)
        if args.command == "eval" and args.eval_command == "understanding":
            return _eval_understanding(directory=args.dir, as_json=args.json, verbose=args.verbose)
        if args.command == "eval" and args.eval_command == "drafting":
            return asyncio.run(_eval_drafting(settings=settings, paths=args.paths, json_path=args.json))
        if args.command == "eval" and args.eval_command in eval_cli.COMMANDS:
            return eval_cli.dispatch(args=args, settings=settings)
        if args.command == "metrics":
            return asyncio.run(_metrics(settings=settings, by=args.by, mailbox=args.mailbox, as_json=args.json))
        if args.command == "connectors" and args.action == "check":
            return asyncio.run(_connectors_check(settings=settings))
        if args.command == "connectors":
            return _connectors_list()
    except (ConfigError, StoreError, AgentError) as exc:
        print(f"shipdraft: {exc}", file=sys.stderr)
        return 2
    return 0


async def _run(*, settings: Settings, once: bool) -> int:
    from shipdraft import demo
    from shipdraft.runner import format_observation, format_result, one_pass, run
    from shipdraft.wiring import is_demo, open_runtime, resolve_database

    started = time.monotonic()
    database = resolve_database(settings=settings)
    where = f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}" if database.embedded else "SHIPDRAFT_DATABASE_URL"
    async with open_runtime(settings=settings, database=database) as runtime:
        if is_demo(settings=settings):
            demo.load_business_data(url=database.url)
            root = Path(getattr(runtime.provider, "root", settings.data_dir))
            delivered = demo.seed_maildir(root=root)
            print(f"shipdraft: demo mailbox {runtime.config.address} at {root}"
                  + (f" ({delivered} demo emails delivered)" if delivered else ""), flush=True)
            await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
        embedder = runtime.threads.embedder
        print(f"shipdraft: database: {where}; drafter: {runtime.config.drafter}; "
              f"similar threads: {embedder.name if embedder else 'full-text search only'}; "
              f"executor: {settings.executor.value}"
              + (f" ({settings.processes} processes)" if runtime.helpers is not None else ""), flush=True)

        def on_result(result: object) -> None:
            print(format_result(result), flush=True)  # type: ignore[arg-type]

        if once:
            summary = await one_pass(runtime=runtime, on_result=on_result)
            for obs in summary.observations:
                print(format_observation(obs))
            print(f"shipdraft: one pass done in {time.monotonic() - started:.1f} s")
            return 0

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        def on_idle() -> None:
            counts = asyncio.ensure_future(runtime.messages.count_by_state(mailbox=runtime.config.name))
            counts.add_done_callback(lambda f: print(
                f"shipdraft: up to date after {time.monotonic() - started:.1f} s "
                f"({', '.join(f'{k} {v}' for k, v in sorted(f.result().items())) or 'no messages'}); "
                f"watching {runtime.config.name} for new mail, Ctrl-C stops", flush=True))

        await run(runtime=runtime, stop=stop, on_result=on_result,
                  on_observation=lambda o: print(format_observation(o), flush=True), on_idle=on_idle)
    print("shipdraft: stopped cleanly")
    return 0


async def _index(*, settings: Settings, mailbox: str, since: date | None, batch_size: int) -> int:
    from shipdraft.indexing import IndexingError, index_mailbox
    from shipdraft.wiring import open_runtime

    if batch_size < 1:
        print("shipdraft: --batch-size must be at least 1", file=sys.stderr)
        return 2
    async with open_runtime(settings=settings) as runtime:
        try:
            report = await index_mailbox(runtime=runtime, mailbox=mailbox, since=since, batch_size=batch_size)
        except IndexingError as exc:
            print(f"shipdraft: {exc}", file=sys.stderr)
            return 2
        counts = await runtime.threads.count(mailbox=mailbox)
    print(f"shipdraft: {report.summary()}")
    print(f"shipdraft: {counts.get('threads', 0)} threads in the index of {mailbox}, "
          f"{counts.get('embedded', 0)} with an embedding")
    return 0


def _eval_understanding(*, directory: Path | None, as_json: bool, verbose: bool) -> int:
    from shipdraft.understanding_eval import DEFAULT_DIR, as_dict, evaluate, format_report

    report = evaluate(directory=directory or DEFAULT_DIR)
    print(json.dumps(as_dict(report), ensure_ascii=False) if as_json else format_report(report, verbose=verbose))
    return 0 if report.passed else 1


async def _eval_drafting(*, settings: Settings, paths: list[Path], json_path: Path | None) -> int:
    from shipdraft import demo
    from shipdraft.drafting_eval import evaluate_drafting
    from shipdraft.wiring import is_demo, open_runtime, resolve_database

    database = resolve_database(settings=settings)
    async with open_runtime(settings=settings, database=database) as runtime:
        if is_demo(settings=settings):
            demo.load_business_data(url=database.url)
            await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
        files = paths or sorted((demo.demo_dir() / "inbox").glob("*.eml"))
        report = await evaluate_drafting(runtime=runtime, paths=files)
    print(f"cases: {report.cases}")
    print(f"LLM prompt tokens ({report.tokenizer}): median {report.prompt_tokens_median:.0f}, "
          f"p95 {report.prompt_tokens_p95:.0f} (target median <= 2500)")
    print(f"template drafts passing the verifier unchanged: {report.template_pass_unchanged:.1%} (target 100%)")
    for failure in report.template_failures:
        print(f"  FAIL {failure}")
    print(f"scripted malicious claims caught: {report.malicious_caught}/{report.malicious_total} "
          f"= {report.catch_rate:.1%}")
    for miss in report.missed:
        print(f"  MISSED {miss}")
    if json_path:
        json_path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return 0


async def _metrics(*, settings: Settings, by: str, mailbox: str | None, as_json: bool) -> int:
    from shipdraft.wiring import resolve_database
    from store.db import open_pool
    from store.metrics import Dimension, MetricsRepository

    database = resolve_database(settings=settings)
    pool = await open_pool(url=database.url, max_size=2)
    try:
        repo = MetricsRepository(pool=pool)
        report = {
            "acceptance": await repo.acceptance(by=Dimension(by), mailbox=mailbox),
            "edit_sizes": await repo.edit_sizes(mailbox=mailbox),
            "suggestions": await repo.suggestions(mailbox=mailbox),
            "response_times": await repo.response_times(mailbox=mailbox),
        }
    finally:
        await pool.close()
    if as_json:
        print(json.dumps(report, default=str, indent=2))
        return 0
    print(f"{by:<28} {'drafts':>6} {'as is':>6} {'light':>6} {'edited':>6} {'rewr.':>6} {'own':>5} "
          f"{'disc.':>5} {'exp.':>5} {'as is %':>8} {'+light %':>8}")
    for r in report["acceptance"]:
        print(f"{str(r['key'])[:28]:<28} {r['drafts']:>6} {r['sent_as_is']:>6} {r['light_edit']:>6} "
              f"{r['edited']:>6} {r['rewritten']:>6} {r['replied_without_draft']:>5} {r['discarded']:>5} "
              f"{r['expired']:>5} {r['rate_as_is']:>8.1%} {r['rate_as_is_or_light']:>8.1%}")
    print("\nedit size (characters): " + ", ".join(f"{r['bucket']}: {r['drafts']}" for r in report["edit_sizes"]))
    print("suggestions surviving by kind: " + ", ".join(
        f"{r['kind']} {r['rate']:.0%} ({r['suggestions']})" for r in report["suggestions"]))
    for r in report["response_times"]:
        print(f"first response {r['kind']}: {r['replies']} answered messages, median {r['p50_s'] or 0:.0f} s, "
              f"p90 {r['p90_s'] or 0:.0f} s")
    return 0


def _api(*, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings=settings), host=settings.api_host, port=settings.api_port)
    return 0


def _worker(*, settings: Settings, concurrency: int) -> int:
    from worker.app import create_celery

    app = create_celery(settings=settings)
    app.worker_main(["worker", "--loglevel", settings.log_level, "--concurrency", str(concurrency),
                     "--without-gossip", "--without-mingle"])
    return 0


def _migrate(*, settings: Settings) -> int:
    from shipdraft.wiring import resolve_database
    from store.migrate import migrate

    database = resolve_database(settings=settings)
    applied = migrate(url=database.url)
    print(f"shipdraft: applied {', '.join(applied)}" if applied else "shipdraft: database is up to date")
    return 0


def _inspect(*, settings: Settings, paths: list[Path], as_json: bool) -> int:
    from shipdraft.inspect import format_human, inspect_file
    from shipdraft.wiring import mailbox_config

    rules = mailbox_config(settings=settings).references
    failed = False
    for path in paths:
        record = inspect_file(path=path, rules=rules)
        failed = failed or "error" in record
        print(json.dumps(record, ensure_ascii=False) if as_json else format_human(record), flush=True)
    return 1 if failed else 0


def _connectors_list() -> int:
    from connectors.checks import registry_lines

    for line in registry_lines():
        print(line)
    return 0


async def _connectors_check(*, settings: Settings) -> int:
    """Validate the mailbox's connector configuration and call each system once."""
    from connectors.checks import check_connectors
    from shipdraft import demo
    from shipdraft.wiring import is_demo, mailbox_config, resolve_database

    config = mailbox_config(settings=settings)
    database = resolve_database(settings=settings)
    if is_demo(settings=settings):
        demo.load_business_data(url=database.url)
    results = await check_connectors(connectors=config.connectors, systems=config.systems,
                                     context={"database_url": database.url}, timeout=settings.lookup_timeout)
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
