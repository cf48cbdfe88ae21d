"""Understanding benchmark: messages per second for parse + extract + intent on one core.

The corpus is real-world and written mail together: every message in CPython's
own test_email data directory (shipped with the interpreter: odd MIME, broken
headers, every charset), the demo inbox, and the labelled understanding set
(evals/understanding/emails: quoted history, forwards, HTML tables, PDF, CSV
and XLSX attachments). Each message is parsed, its references extracted and
its intents classified, exactly as the pipeline does. The language model and
the regexes are warmed up first; the figure is CPU time of this one process
(so it holds on a busy machine), wall time is printed too.

Run ``python bench/parse.py`` (``--rounds N``, default 3). Target: >= 300/s.
The exit code is 0 whether the target is met or not; a miss prints FAIL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.errors import ParseError  # noqa: E402
from agent.intents import RuleIntentClassifier  # noqa: E402
from agent.language import detect_language  # noqa: E402
from agent.parsing import parse_email  # noqa: E402
from agent.references import extract_references  # noqa: E402
from shipdraft.config import demo_config_path, load_mailbox_config  # noqa: E402

TARGET = 300.0


def corpus() -> dict[str, list[bytes]]:
    import test  # CPython's test package; absent on some distributions

    sets: dict[str, list[bytes]] = {}
    data = Path(test.__file__).parent / "test_email" / "data"
    sets["cpython test_email"] = [p.read_bytes() for p in sorted(data.iterdir()) if p.is_file()]
    sets["demo inbox"] = [p.read_bytes() for p in sorted((ROOT / "shipdraft" / "demo" / "inbox").glob("*.eml"))]
    sets["understanding eval"] = [p.read_bytes()
                                  for p in sorted((ROOT / "evals" / "understanding" / "emails").glob("*.eml"))]
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    rules = load_mailbox_config(path=demo_config_path()).references
    classifier = RuleIntentClassifier()
    detect_language(text="warm up the language model once")
    sets = corpus()
    messages = [raw for raws in sets.values() for raw in raws]
    errors = 0

    def one_pass() -> int:
        failed = 0
        for raw in messages:
            try:
                email = parse_email(raw=raw, strict=False)
            except ParseError:
                failed += 1
                continue
            extract_references(email=email, rules=rules)
            classifier.classify(email=email)
        return failed

    errors = one_pass()  # warm-up (regex compilation, lazy imports of pypdf/openpyxl)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(args.rounds):
        one_pass()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = len(messages) * args.rounds
    rate = n / cpu
    print(f"corpus: {', '.join(f'{k} {len(v)}' for k, v in sets.items())} = {len(messages)} messages "
          f"({sum(map(len, messages)) / 1024:.0f} KiB), {errors} with a ParseError")
    print(f"parse + extract + intent, one core, {args.rounds} rounds: {rate:.0f} messages/s CPU "
          f"({1000 * cpu / n:.2f} ms each), {n / wall:.0f} messages/s wall")
    print(f"target >= {TARGET:.0f}/s: {'PASS' if rate >= TARGET else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
