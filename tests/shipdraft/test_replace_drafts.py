"""A new customer message in a thread replaces the older draft only if nobody touched it."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from pathlib import Path

import psycopg
import pytest

from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _drafts(runtime: Runtime) -> dict[str, Path]:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    return {p.name.split(":")[0].removeprefix("shipdraft-draft-"): p for p in (root / ".Drafts" / "cur").iterdir()}


def _outcomes(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as conn:
        return dict(conn.execute("SELECT d.draft_id::text, d.status FROM drafts d").fetchall())


async def _first_then_again(runtime: Runtime) -> str:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    (root / "new" / "first").write_bytes(make_email(body="Når kommer ordre NK204125?", subject="Ordre NK204125",
                                                    message_id="<first@hansen.example>"))
    [first] = (await one_pass(runtime=runtime)).results
    return first.draft_id


def _again(runtime: Runtime) -> None:
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    (root / "new" / "again").write_bytes(make_email(body="Hallo? Har dere nytt om ordre NK204125?",
                                                    subject="Re: Ordre NK204125", message_id="<again@hansen.example>",
                                                    in_reply_to="<first@hansen.example>"))


async def test_untouched_older_draft_is_replaced(runtime: Runtime, database_url: str) -> None:
    old = await _first_then_again(runtime)
    _again(runtime)
    [second] = (await one_pass(runtime=runtime)).results
    assert second.replaced_drafts == (old,)
    drafts = _drafts(runtime)
    assert old not in drafts and second.draft_id in drafts  # one draft in the thread: the new one
    status = _outcomes(database_url)
    assert status[old] == "superseded" and status[second.draft_id] == "posted"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT outcome FROM acceptance_events WHERE draft_id = %s", (old,)).fetchone() == (
            "superseded",)
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'draft_superseded'").fetchone() == (1,)


async def test_edited_older_draft_is_kept(runtime: Runtime, database_url: str) -> None:
    old = await _first_then_again(runtime)
    path = _drafts(runtime)[old]
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    msg.set_content(msg.get_content() + "\nJeg ringer deg i morgen.\n")  # the agent started on it
    path.write_bytes(msg.as_bytes())
    _again(runtime)
    [second] = (await one_pass(runtime=runtime)).results
    drafts = _drafts(runtime)
    assert old in drafts and second.draft_id in drafts
    assert "Jeg ringer deg i morgen." in drafts[old].read_text(encoding="utf-8")
    assert _outcomes(database_url)[old] == "posted"  # still waiting for what the agent does with it


async def test_replacing_can_be_switched_off(runtime: Runtime, database_url: str) -> None:
    profile = runtime.deps.profile.model_copy(update={"replace_untouched_drafts": False})
    runtime = dataclasses.replace(runtime, deps=dataclasses.replace(runtime.deps, profile=profile))
    old = await _first_then_again(runtime)
    _again(runtime)
    [second] = (await one_pass(runtime=runtime)).results
    assert {old, second.draft_id} <= set(_drafts(runtime))
    assert _outcomes(database_url)[old] == "posted"
