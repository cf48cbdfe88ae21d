"""A new customer message in a thread replaces the older draft only if nobody touched it."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import os
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
        assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'acceptance_superseded'").fetchone() == (1,)


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


def _resave_without_our_id(runtime: Runtime, draft_id: str, *, add: str) -> Path:
    """The agent edits the draft in a client that keeps no X- header: its own file replaces ours."""
    old = _drafts(runtime)[draft_id]
    msg = email.message_from_bytes(old.read_bytes(), policy=email.policy.default)
    del msg["X-Shipdraft-Draft-Id"]
    del msg["Message-ID"]
    msg["Message-ID"] = "<resaved.1@client.example>"
    msg.set_content(msg.get_content() + add)
    new = old.parent / "1795460701.M9P9.client:2,DS"
    new.write_bytes(msg.as_bytes())
    old.unlink()
    return new


async def test_older_draft_resaved_without_our_id_is_kept_then_logged_as_edited(
        runtime: Runtime, database_url: str) -> None:
    old = await _first_then_again(runtime)
    resaved = _resave_without_our_id(runtime, old, add="\nJeg ringer deg i morgen.\n")
    _again(runtime)
    second = await one_pass(runtime=runtime)
    [result] = second.results
    assert result.replaced_drafts == () and second.observations == []  # neither replaced nor "discarded"
    assert resaved.exists() and "Jeg ringer deg i morgen." in resaved.read_text(encoding="utf-8")
    assert (await one_pass(runtime=runtime)).observations == []  # grace 0: a lost draft would be discarded now
    assert _outcomes(database_url)[old] == "posted"

    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    os.replace(resaved, root / ".Sent" / "cur" / "sent-1:2,S")  # the agent sends it
    observed = await one_pass(runtime=runtime)
    assert [(o.draft_id, o.outcome.value) for o in observed.observations] == [(old, "edited")]


async def test_retry_after_a_crash_reuses_the_draft_the_client_resaved(runtime: Runtime, database_url: str) -> None:
    old = await _first_then_again(runtime)
    resaved = _resave_without_our_id(runtime, old, add="\nJeg ringer deg i morgen.\n")
    with psycopg.connect(database_url) as conn:  # crashed after posting, before recording it
        conn.execute("UPDATE drafts SET status = 'pending', posted_at = NULL WHERE draft_id = %s", (old,))
        conn.execute("UPDATE messages SET state = 'processing', lease_until = now() - interval '1 minute' "
                     "WHERE message_id = '<first@hansen.example>'")
    [retry] = (await one_pass(runtime=runtime)).results
    assert retry.draft_id == old and retry.reused_draft
    assert retry.draft_location == str(resaved.relative_to(runtime.provider.root))  # type: ignore[attr-defined]
    assert len(list(resaved.parent.iterdir())) == 1  # no second draft
    assert _outcomes(database_url)[old] == "posted"


async def test_a_message_that_replies_to_nothing_never_replaces_a_draft(runtime: Runtime, database_url: str) -> None:
    """Delivered out of order: the customer's follow-up arrives before the message it answers.

    Both land in one thread (the follow-up names the first message as its root), but the first message
    replies to nothing, so it opens the conversation and cannot make the follow-up's draft stale.
    """
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    _again(runtime)  # the follow-up, In-Reply-To <first@hansen.example>, arrives first
    [follow_up] = (await one_pass(runtime=runtime)).results
    (root / "new" / "first").write_bytes(make_email(body="Når kommer ordre NK204125?", subject="Ordre NK204125",
                                                    message_id="<first@hansen.example>"))
    [first] = (await one_pass(runtime=runtime)).results
    assert first.replaced_drafts == ()
    assert {follow_up.draft_id, first.draft_id} <= set(_drafts(runtime))
    assert set(_outcomes(database_url).values()) == {"posted"}
    with psycopg.connect(database_url) as conn:  # the two are one thread all the same
        assert conn.execute("SELECT count(DISTINCT thread_id) FROM messages").fetchone() == (1,)
