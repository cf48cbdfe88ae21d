"""Replay on a real mailbox history: embedded PostgreSQL, the demo Maildir, a reply the agent really sent."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agent.models import SimilarThread
from evals.replay import AnsweredThread, ExcludingIndex, format_replay, replay, thread_email
from shipdraft import demo
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from store.errors import UnknownMailboxError
from store.replay import ReplayRepository
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


async def _answered_by_the_agent(runtime: Runtime) -> str:
    """Kari asks about NK204117, shipdraft drafts, the agent edits the draft and sends it: one answered thread."""
    root: Path = runtime.provider.root  # type: ignore[attr-defined]
    (root / "new" / "kari").write_bytes(make_email(body="Hei, når kommer ordre NK204117?", subject="Ordre NK204117",
                                                   message_id="<kari-1@hansen-mobler.example>"))
    [result] = (await one_pass(runtime=runtime)).results
    draft_path = next(p for p in (root / ".Drafts" / "cur").iterdir() if result.draft_id in p.name)
    msg = email.message_from_bytes(draft_path.read_bytes(), policy=email.policy.default)
    # an edit clearly above "sent as is" whatever the draft's length (a passed date makes the draft longer)
    msg.set_content(msg.get_content() + "\nVi ringer deg i morgen tidlig når vi har snakket med transportøren "
                    "og lageret om saken.\n")
    (root / ".Sent" / "cur" / "sent-1:2,S").write_bytes(msg.as_bytes())
    draft_path.unlink()
    [observation] = (await one_pass(runtime=runtime)).observations
    return observation.outcome.value


def _redact(runtime: Runtime):  # type: ignore[no-untyped-def]
    def redact(text: str) -> str:
        return runtime.threads.prepare(mailbox=runtime.config.name, thread_key="r", subject="", customer_text="",
                                       reply_text=text, language=None, replied_at=None, intents=()).reply_text
    return redact


async def test_replay_compares_new_drafts_with_what_was_sent(runtime: Runtime) -> None:
    outcome = await _answered_by_the_agent(runtime)
    indexed = await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
    report = await replay(source=ReplayRepository(pool=runtime.pool), deps=runtime.deps, mailbox=runtime.config.name,
                          created_at=datetime.now(UTC), redact=_redact(runtime))
    assert report.threads == indexed + 1 and report.errors == 0 and report.replayed == report.threads
    kari = next(c for c in report.cases if c.thread_key == "<kari-1@hansen-mobler.example>")
    assert kari.original_message and kari.production_outcome == outcome == "edited"
    assert "order_number:NK204117" in kari.references and kari.facts > 0  # the sender was authorized again
    # the same draft as in production, so the same verdict as the one recorded then (the similarity itself
    # differs a little: both sides are compared redacted, as the reply was stored)
    assert kari.predicted_outcome == "edited" and kari.similarity and kari.production_similarity
    assert "[order_number]" in kari.sent_reply  # the stored reply is redacted, and so was the draft compared to it
    history = [c for c in report.cases if c is not kari]
    assert history and not any(c.original_message for c in history)  # history threads: stored text only
    assert report.with_original_message == 1 and report.production == {"edited": 1.0}
    assert report.agreement == 1.0 and sum(report.predicted.values()) == pytest.approx(1.0)
    # predicted acceptance: as is, and as is or lightly edited (an edit at or above the light-edit threshold)
    light = [c for c in report.cases if c.predicted_light_edit]
    assert all(c.predicted_outcome == "edited" and c.similarity is not None
               and c.similarity >= report.acceptance.light_edit for c in light)
    assert report.predicted_sent_as_is == pytest.approx(report.predicted.get("sent_as_is", 0.0))
    assert report.predicted_as_is_or_light == pytest.approx(report.predicted_sent_as_is + len(light) / report.replayed,
                                                            abs=1e-4)
    text = format_replay(report)
    assert f"{report.threads} answered threads" in text and "recorded in production: edited 100.0%" in text
    assert "predicted acceptance: sent as is" in text


async def test_since_and_limit_and_an_unknown_mailbox(runtime: Runtime) -> None:
    await demo.index_history(mailbox=runtime.config.name, threads=runtime.threads)
    repo = ReplayRepository(pool=runtime.pool)
    everything = await repo.answered_threads(mailbox=runtime.config.name, since=None, limit=1000)
    dates = sorted(t.replied_at for t in everything if t.replied_at)
    middle = dates[len(dates) // 2]
    later = await repo.answered_threads(mailbox=runtime.config.name, since=middle, limit=1000)
    assert 0 < len(later) < len(everything) and all(t.replied_at and t.replied_at >= middle for t in later)
    assert len(await repo.answered_threads(mailbox=runtime.config.name, since=None, limit=2)) == 2
    assert all(t.raw is None and t.production_outcome is None for t in everything)
    with pytest.raises(UnknownMailboxError):
        await repo.answered_threads(mailbox="nobody", since=None, limit=10)
    assert date(2000, 1, 1) < middle.date()


class _Index:
    def __init__(self) -> None:
        self.limits: list[int] = []

    async def similar(self, *, mailbox: str, text: str, limit: int) -> list[SimilarThread]:
        self.limits.append(limit)
        return [SimilarThread(thread_id=f"<t{i}>", subject="s", customer_text="c", reply_text="r", score=1.0 / (i + 1))
                for i in range(limit)]


async def test_the_replayed_thread_is_never_its_own_example() -> None:
    inner = _Index()
    found = await ExcludingIndex(index=inner, exclude="<t0>").similar(mailbox="ops", text="x", limit=3)
    assert [t.thread_id for t in found] == ["<t1>", "<t2>", "<t3>"] and inner.limits == [4]


def test_a_thread_without_its_original_message_replays_the_stored_text() -> None:
    thread = AnsweredThread(thread_key="<a@b>", subject="Ordre", customer_text="Når kommer [order_number]?",
                            reply_text="Hei", language="no", raw=b"   ")
    parsed, original = thread_email(thread)
    assert not original and parsed.reply_text == thread.customer_text and parsed.from_address == ""
    with_raw = thread.model_copy(update={"raw": make_email(body="Hei, når kommer NK204117?")})
    parsed, original = thread_email(with_raw)
    assert original and parsed.from_address == "kari.nilsen@hansen-mobler.example"
