"""The ``shipdraft`` command as a user runs it: real processes, real database, demo Maildir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from shipdraft.demo import demo_dir
from tests.helpers import make_email


def _shipdraft(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "shipdraft.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def test_inspect_json_lines_with_a_broken_input(tmp_path: Path) -> None:
    body_only = tmp_path / "body.txt"
    body_only.write_text("Hei, når kommer container MSKU 441720 9 for ordre 204117?\n", encoding="utf-8")
    missing = tmp_path / "missing.eml"
    email_file = sorted((demo_dir() / "inbox").glob("*.eml"))[0]
    done = _shipdraft("inspect", str(email_file), str(missing), str(body_only), "--json")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["path"] for r in records] == [str(email_file), str(missing), str(body_only)]
    assert records[0]["references"] and {"from", "subject", "language", "reply_text", "quoted_text", "signature",
                                          "attachments", "references", "intents"} <= set(records[0])
    assert records[1]["error"].startswith("cannot read")
    kinds = {(r["kind"], r["value"], r["validity"]) for r in records[2]["references"]}
    assert ("container_number", "MSKU4417209", "valid") in kinds
    assert ("order_number", "NK204117", "unchecked") in kinds
    assert records[2]["language"] == "no"


def test_inspect_for_people(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(make_email())
    done = _shipdraft("inspect", str(path))
    assert done.returncode == 0
    assert "order_number      NK204117" in done.stdout


def test_connectors_list_shows_the_registered_sql_connector() -> None:
    done = _shipdraft("connectors", "list")
    assert done.returncode == 0
    assert "sql" in done.stdout and "erp" in done.stdout


def test_migrate_twice(database_url: str, tmp_path: Path) -> None:
    env = {"SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path)}
    done = _shipdraft("migrate", env=env)
    assert done.returncode == 0 and "up to date" in done.stdout


def test_run_once_twice_drafts_every_demo_email_once(database_url: str, tmp_path: Path) -> None:
    env = {"SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path)}
    first = _shipdraft("run", "--once", env=env)
    assert first.returncode == 0, first.stderr
    inbox = len(list((demo_dir() / "inbox").glob("*.eml")))
    assert sum(line.startswith("drafted ") for line in first.stdout.splitlines()) == inbox
    assert f"({inbox} demo emails delivered)" in first.stdout
    assert "refs=NK204117 facts=" in first.stdout and "-> .Drafts/cur/shipdraft-draft-" in first.stdout
    # a customer who wrote again in a thread: the older, untouched draft there was replaced
    replaced = first.stdout.count("untouched older draft(s) of the thread)")
    assert replaced >= 1
    second = _shipdraft("run", "--once", env=env)
    assert second.returncode == 0
    assert "drafted " not in second.stdout
    assert len(list((tmp_path / "maildir" / "ops" / ".Drafts" / "cur").iterdir())) == inbox - replaced


def test_run_watches_for_new_mail_and_stops_cleanly_on_ctrl_c(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path),
           "SHIPDRAFT_POLL_INTERVAL": "0.2", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "shipdraft.cli", "run"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []

    def wait_for(text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            if text in line:
                return
        pytest.fail(f"{text!r} not printed; got:\n{''.join(lines)}")

    try:
        wait_for("watching ops for new mail")
        (tmp_path / "maildir" / "ops" / "new" / "late").write_bytes(make_email(subject="Late one NK204131"))
        wait_for("Late one NK204131")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped cleanly" in out
    assert "Traceback" not in err


def test_connectors_check_one_line_per_system(database_url: str, tmp_path: Path) -> None:
    env = {"SHIPDRAFT_DATABASE_URL": database_url, "SHIPDRAFT_DATA_DIR": str(tmp_path)}
    ok = _shipdraft("connectors", "check", env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("ok   demo [sql: directory, erp, tms, wms]")
    config = yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))
    config["connectors"]["demo"]["dsn"] = "env:SHIPDRAFT_TEST_MISSING_DSN"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    broken = _shipdraft("connectors", "check", env={**env, "SHIPDRAFT_MAILBOX_CONFIG": str(path)})
    assert broken.returncode == 1
    assert "FAIL demo" in broken.stdout and "SHIPDRAFT_TEST_MISSING_DSN" in broken.stdout
