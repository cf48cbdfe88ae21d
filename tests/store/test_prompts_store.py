"""Stored prompt versions, rollouts and assignments on PostgreSQL, and acceptance per version end to end.

The end-to-end test drafts demo emails through the real pipeline with a
scripted chat model and the stored rollout choosing the prompt per message,
records outcomes, and reads the per-version acceptance back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from agent.drafting import TemplateDrafter
from agent.llm import LLMError, LLMSettings, ProviderKind, ScriptedChatModel
from agent.llm_drafter import LLMDrafter, PromptVersion, load_prompt
from agent.models import Acceptance, AcceptanceOutcome, SuggestionOutcome
from agent.rollout import Rollout, UnknownPromptError
from agent.stats import Verdict
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from store.drafts import DraftRepository
from store.errors import UnknownMailboxError
from store.feedback import FeedbackRepository, Rating
from store.prompts import DuplicatePromptError, PromptRepository, StoredPromptSelector, content_hash
from store.version_stats import BaselineError, VersionStatsRepository
from tests.helpers import make_email

pytestmark = pytest.mark.anyio
V1 = load_prompt(name="draft-v1")
V2 = PromptVersion(name="draft-v2", system=V1.system + "\n8. Keep it under 80 words.", user=V1.user)
V3 = PromptVersion(name="draft-v3", system=V1.system + "\n8. Be warm.", user=V1.user)
GOOD = json.dumps({"reply_text": "Hei Kari,\n\nTakk for henvendelsen. Vi sjekker saken og kommer tilbake til deg "
                                 "så snart vi vet mer.\n\nMed vennlig hilsen\nNordkyst Logistikk – Kundeservice",
                   "suggestions": [{"text": "Vi sjekker saken og kommer tilbake til deg så snart vi vet mer.",
                                    "fact_ids": [], "kind": "request_info"}],
                   "note_points": [], "confidence": 0.8, "language": "no"})


async def create(repo: PromptRepository, prompt: PromptVersion = V2, **kw: str | None) -> None:
    args: dict[str, str | None] = {"author": "lead@nordkyst.example", "message": "shorter", "parent": "draft-v1"}
    await repo.create(prompt=prompt, **{**args, **kw})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- versions


async def test_a_created_version_is_listed_with_its_provenance(runtime: Runtime) -> None:
    repo = PromptRepository(pool=runtime.pool)
    await create(repo)
    got = await repo.get(name="draft-v2")
    assert got is not None and got.source == "api" and got.version == V2.version
    assert (got.author, got.message, got.parent) == ("lead@nordkyst.example", "shorter", "draft-v1")
    assert got.prompt() == V2 and got.created_at is not None
    listed = await repo.list()
    assert [(p.name, p.source) for p in listed][:1] == [("draft-v1", "file")]
    assert ("draft-v2", "api") in [(p.name, p.source) for p in listed]
    assert content_hash(system=V2.system, user=V2.user)[:12] == V2.version.split("@")[1]
    assert await repo.get(name="draft-v9") is None
    with pytest.raises(UnknownPromptError):
        await repo.resolve(name="draft-v9")


async def test_versions_are_immutable_in_the_database_itself(runtime: Runtime) -> None:
    await create(PromptRepository(pool=runtime.pool))
    async with runtime.pool.connection() as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"):
            await conn.execute("UPDATE prompt_versions SET system_template = 'x' WHERE name = 'draft-v2'")
    async with runtime.pool.connection() as conn:
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="immutable"):
            await conn.execute("DELETE FROM prompt_versions WHERE name = 'draft-v2'")
    assert (await PromptRepository(pool=runtime.pool).resolve(name="draft-v2")) == V2


async def test_a_name_or_content_cannot_be_used_twice(runtime: Runtime) -> None:
    repo = PromptRepository(pool=runtime.pool)
    await create(repo)
    with pytest.raises(DuplicatePromptError, match="exists already") as same_name:
        await create(repo, PromptVersion(name="draft-v2", system="other", user="other"))
    assert same_name.value.existing == "draft-v2"
    with pytest.raises(DuplicatePromptError, match="exactly this content") as same_content:
        await create(repo, PromptVersion(name="draft-v2b", system=V2.system, user=V2.user))
    assert same_content.value.existing == "draft-v2"
    with pytest.raises(DuplicatePromptError, match="shipped"):
        await create(repo, PromptVersion(name="draft-v1", system="x", user="y"))
    with pytest.raises(DuplicatePromptError, match="draft-v1"):
        await create(repo, PromptVersion(name="copy-of-v1", system=V1.system, user=V1.user))
    with pytest.raises(UnknownPromptError, match="parent"):
        await create(repo, V3, parent="draft-v0")


# --------------------------------------------------------------------------- rollouts


async def test_rollouts_are_set_per_mailbox_and_kept_as_history(runtime: Runtime) -> None:
    repo = PromptRepository(pool=runtime.pool)
    await create(repo)
    assert await repo.default_prompt(mailbox="ops") == "draft-v1"
    assert await repo.current_rollout(mailbox="ops") is None
    first = await repo.set_rollout(mailbox="ops", rollout=Rollout.model_validate(
        [{"version": "draft-v2", "percent": 10}, {"version": "draft-v1", "percent": 90}]), author="lead", message="")
    second = await repo.set_rollout(mailbox="ops", rollout=Rollout.fixed("draft-v2"), author="lead",
                                    message="all in")
    current = await repo.current_rollout(mailbox="ops")
    assert current is not None and current.id == second.id and current.rollout.versions == ("draft-v2",)
    assert [r.id for r in await repo.rollout_history(mailbox="ops")] == [second.id, first.id]
    with pytest.raises(UnknownPromptError):
        await repo.set_rollout(mailbox="ops", rollout=Rollout.fixed("draft-v7"), author="lead", message="")
    with pytest.raises(UnknownMailboxError):
        await repo.set_rollout(mailbox="nobody", rollout=Rollout.fixed("draft-v1"), author="lead", message="")
    with pytest.raises(UnknownMailboxError):
        await repo.default_prompt(mailbox="nobody")
    async with runtime.pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) AS n FROM audit_log WHERE action = 'prompt_rollout_set'")
        assert (await cur.fetchone())["n"] == 2  # type: ignore[index]


async def test_the_selector_is_deterministic_sticky_and_falls_back(runtime: Runtime,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    repo = PromptRepository(pool=runtime.pool)
    await create(repo)
    selector = StoredPromptSelector(pool=runtime.pool, default=V1)
    assert await selector.select(mailbox="ops", message_key="before-any-rollout") == V1  # the YAML default
    split = Rollout.model_validate([{"version": "draft-v2", "percent": 50}, {"version": "draft-v1", "percent": 50}])
    await repo.set_rollout(mailbox="ops", rollout=split, author="lead", message="")
    keys = [f"key-{i}" for i in range(40)]
    chosen = {k: (await selector.select(mailbox="ops", message_key=k)).version for k in keys}
    assert set(chosen.values()) == {V1.version, V2.version}
    assert all(chosen[k] == {"draft-v1": V1, "draft-v2": V2}[split.choose(mailbox="ops", message_key=k)].version
               for k in keys)
    assert await repo.assignment(mailbox="ops", message_key="key-0") == chosen["key-0"]
    # the rollout changes: messages already assigned (a retry) keep their version, new ones follow the rollout
    await repo.set_rollout(mailbox="ops", rollout=Rollout.fixed("draft-v1"), author="lead", message="")
    assert {k: (await selector.select(mailbox="ops", message_key=k)).version for k in keys} == chosen
    assert (await selector.select(mailbox="ops", message_key="after")).version == V1.version
    assert await selector.select(mailbox="before", message_key="x") == V1
    # an unknown mailbox (or a database that cannot answer) drafts with the default, and says so
    with caplog.at_level(logging.WARNING, logger="store.prompts"):
        assert await selector.select(mailbox="nobody", message_key="k") == V1
    assert "prompt rollout unavailable" in caplog.text


# --------------------------------------------------------------------------- acceptance per version


async def test_acceptance_per_version_end_to_end(runtime: Runtime) -> None:
    repo = PromptRepository(pool=runtime.pool)
    await create(repo)
    await repo.set_rollout(mailbox="ops", rollout=Rollout.model_validate(
        [{"version": "draft-v2", "percent": 50}, {"version": "draft-v1", "percent": 50}]), author="lead", message="")
    model = ScriptedChatModel(script=[LLMError("down", kind="server_error"), GOOD])  # the first call fails
    # the LLM drafter as shipdraft.wiring.build_drafter makes it: the stored rollout picks the prompt per message
    drafter = LLMDrafter(model=model, settings=LLMSettings(provider=ProviderKind.COMPATIBLE),
                         fallback=TemplateDrafter(), prompt=V1, mailbox="ops",
                         selector=StoredPromptSelector(pool=runtime.pool, default=V1))
    rt = dataclasses.replace(runtime, deps=dataclasses.replace(runtime.deps, drafter=drafter))
    for i in range(12):
        (runtime.provider.root / "new" / f"m{i}").write_bytes(  # type: ignore[attr-defined]
            make_email(subject=f"Status ordre NK204117 ({i})", message_id=f"<m{i}@test.example>"))
    await one_pass(runtime=rt)

    async with runtime.pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT d.draft_id::text AS draft_id, d.template_version, d.fallback_reason, a.version "
                          "FROM drafts d JOIN prompt_assignments a ON a.message_key = d.draft_id::text")
        drafts = await cur.fetchall()
    assert len(drafts) == 12
    assert all(d["template_version"] == d["version"] for d in drafts if d["fallback_reason"] is None)
    fell_back = [d for d in drafts if d["fallback_reason"]]
    assert len(fell_back) == 1 and fell_back[0]["template_version"].startswith("reply.")  # the template wrote it
    arms = {v: [d["draft_id"] for d in drafts if d["version"] == v] for v in (V1.version, V2.version)}
    assert all(arms.values())

    # v2's drafts are sent as is (their suggestion survives); v1's are discarded, except one superseded
    outcomes = DraftRepository(pool=runtime.pool)
    survived = (SuggestionOutcome(index=0, kind="request_info", survived=True, score=100.0),)
    for draft_id in arms[V2.version]:
        await outcomes.record_outcome(draft_id=draft_id, acceptance=Acceptance(
            outcome=AcceptanceOutcome.SENT_AS_IS, similarity=1.0, edit_size=0, suggestions=survived),
            sent_provider_key=None, sent_at=None)
    superseded, *discarded = arms[V1.version]
    await outcomes.record_outcome(draft_id=superseded, acceptance=Acceptance(outcome=AcceptanceOutcome.SUPERSEDED),
                                  sent_provider_key=None, sent_at=None)
    for draft_id in discarded[:-1]:  # the last one stays pending
        await outcomes.record_outcome(draft_id=draft_id, acceptance=Acceptance(outcome=AcceptanceOutcome.DISCARDED),
                                      sent_provider_key=None, sent_at=None)
    await FeedbackRepository(pool=runtime.pool).give(draft_id=arms[V2.version][0], rating=Rating.UP, reason="",
                                                     author="kari")

    stats = await VersionStatsRepository(pool=runtime.pool).for_mailbox(mailbox="ops", baseline="draft-v1")
    by = {v.version: v for v in stats.versions}
    assert set(by) == {V1.version, V2.version}  # the fallback draft counts for the version that was tried
    assert sum(v.fallbacks for v in stats.versions) == 1
    v1, v2 = by[V1.version], by[V2.version]
    assert (v2.drafts, v2.pending, v2.superseded) == (len(arms[V2.version]), 0, 0)
    assert v2.sent_as_is.successes == v2.sent_as_is.total == len(arms[V2.version]) and v2.sent_as_is.rate == 1.0
    assert v2.sent_as_is.low is not None and v2.sent_as_is.low < 1.0  # a few drafts never prove 100 %
    assert v2.suggestions.successes == v2.suggestions.total == len(arms[V2.version])
    assert (v2.thumbs_up, v2.thumbs_down) == (1, 0)
    assert (v1.drafts, v1.pending, v1.superseded) == (len(arms[V1.version]), 1, 1)
    assert v1.sent_as_is.total == len(arms[V1.version]) - 2 and v1.sent_as_is.successes == 0
    assert v1.outcomes == {"superseded": 1, "discarded": len(arms[V1.version]) - 2}
    (comparison,) = stats.comparisons
    assert (comparison.version, comparison.baseline) == (V2.version, V1.version)
    assert comparison.sent_as_is is not None and comparison.sent_as_is.estimate == 1.0
    assert comparison.sent_as_is.verdict == Verdict.HIGHER

    # a window before any draft is empty; an unknown or ambiguous baseline is refused
    later = datetime.now(UTC) + timedelta(hours=1)
    assert (await VersionStatsRepository(pool=runtime.pool).for_mailbox(mailbox="ops", since=later)).versions == []
    with pytest.raises(BaselineError):
        await VersionStatsRepository(pool=runtime.pool).for_mailbox(mailbox="ops", baseline="draft-v0")
