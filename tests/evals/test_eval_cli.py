"""``shipdraft eval run | compare | replay`` as ``shipdraft.cli`` wires them (``add_subcommands`` + ``dispatch``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from shipdraft import eval_cli
from shipdraft.settings import Settings
from tests.evals.conftest import standard_cases, write_dataset


def shipdraft_eval(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="shipdraft")
    sub = parser.add_subparsers(dest="command", required=True)
    eval_sub = sub.add_parser("eval").add_subparsers(dest="eval_command", required=True)
    eval_cli.add_subcommands(eval_sub=eval_sub)
    return eval_cli.dispatch(args=parser.parse_args(["eval", *argv]), settings=settings)


@pytest.fixture
def offline(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


def test_run_writes_json_and_html_and_the_gate_decides_the_exit_code(
        tmp_path: Path, offline: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = write_dataset(tmp_path / "mini", standard_cases())
    assert shipdraft_eval(["run", "--dataset", str(dataset), "--out", str(tmp_path / "a")], offline) == 0
    out = capsys.readouterr().out
    assert "dataset mini (3 cases" in out and "0 leaks" in out and "references      precision 1.000" in out
    run = json.loads((tmp_path / "a" / "run.json").read_text(encoding="utf-8"))
    assert run["summary"]["cases"] == 3 and run["drafter"] == "template"
    assert (tmp_path / "a" / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    strict = tmp_path / "strict.json"
    strict.write_text(json.dumps({"dataset": "mini", "min_cases": 150, "min_reference_f1": 0.9}), encoding="utf-8")
    assert shipdraft_eval(["run", "--dataset", str(dataset), "--out", str(tmp_path / "b"),
                           "--thresholds", str(strict)], offline) == 1
    assert "GATE FAILED: 3 cases, fewer than 150" in capsys.readouterr().out

    assert shipdraft_eval(["compare", str(tmp_path / "a"), str(tmp_path / "b" / "run.json"), "--json",
                           str(tmp_path / "cmp.json")], offline) == 0
    assert "0 cases changed (0 regressions, 0 improvements), 3 unchanged" in capsys.readouterr().out
    assert json.loads((tmp_path / "cmp.json").read_text(encoding="utf-8"))["unchanged"] == 3


def test_the_default_run_goes_under_the_data_dir(tmp_path: Path, offline: Settings) -> None:
    dataset = write_dataset(tmp_path / "mini", standard_cases())
    assert shipdraft_eval(["run", "--dataset", str(dataset), "--case", "no-ref"], offline) == 0
    [folder] = (offline.data_dir / "evals").iterdir()
    assert json.loads((folder / "run.json").read_text(encoding="utf-8"))["summary"]["cases"] == 1


def test_errors_are_messages_and_exit_2(tmp_path: Path, offline: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    dataset = write_dataset(tmp_path / "mini", standard_cases())
    assert shipdraft_eval(["run", "--dataset", str(dataset), "--drafter", "llm"], offline) == 2
    assert "--drafter llm needs a model" in capsys.readouterr().err
    assert shipdraft_eval(["run", "--dataset", str(tmp_path / "nowhere")], offline) == 2
    assert "does not exist" in capsys.readouterr().err
    assert shipdraft_eval(["compare", str(tmp_path / "x.json"), str(tmp_path / "y.json")], offline) == 2
    assert "cannot read run report" in capsys.readouterr().err
    assert shipdraft_eval(["run", "--dataset", str(dataset), "--drafter", "llm", "--scripted-only",
                           "--out", str(tmp_path / "llm")], offline) == 0
    assert "not run: 2 cases" in capsys.readouterr().out


@pytest.mark.anyio
async def test_replay_on_the_demo_mailbox(settings: Settings, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "replay.json"
    code = await eval_cli.replay_command(settings=settings, mailbox="ops", since=None, limit=5, drafter="template",
                                         json_path=out)
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["threads"] == 5 and report["replayed"] == 5 and report["drafter"] == "template"
    assert "replay of ops: 5 answered threads" in capsys.readouterr().out
    from evals import RunConfigurationError

    with pytest.raises(RunConfigurationError, match="configured for mailbox 'ops'"):
        await eval_cli.replay_command(settings=settings, mailbox="sales", since=None, limit=5, drafter=None,
                                      json_path=None)
