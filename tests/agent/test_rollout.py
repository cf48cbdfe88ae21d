"""Rollouts: config forms, deterministic splits, selectors, and the render check of new prompt versions."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from pydantic import ValidationError

from agent.llm_drafter import PromptVersion, load_prompt
from agent.rollout import (
    MAX_TEMPLATE_CHARS,
    FixedPrompt,
    PromptCheckError,
    Rollout,
    RolloutSelector,
    UnknownPromptError,
    bucket_of,
    check_prompt,
    shipped_prompts,
)

pytestmark = pytest.mark.anyio
V1 = load_prompt(name="draft-v1")
V2 = PromptVersion(name="draft-v2", system=V1.system + "\nBe brief.", user=V1.user)


def keys(n: int, *, namespace: str = "ops") -> list[str]:
    """Draft-id-like message keys, as the pipeline derives them."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{i}")) for i in range(n)]


# --------------------------------------------------------------------------- config


def test_the_three_config_forms_are_one_model() -> None:
    assert Rollout.model_validate({"version": "draft-v2"}) == Rollout.fixed("draft-v2")
    split = [{"version": "draft-v2", "percent": 10}, {"version": "draft-v1", "percent": 90}]
    assert Rollout.model_validate(split) == Rollout.model_validate({"split": split})
    assert Rollout.model_validate({"split": split, "seed": "s"}).seed == "s"
    assert Rollout.model_validate(split).versions == ("draft-v2", "draft-v1")


@pytest.mark.parametrize("config", [
    [{"version": "a", "percent": 10}, {"version": "b", "percent": 80}],  # 90
    [{"version": "a", "percent": 60}, {"version": "b", "percent": 50}],  # 110
    [{"version": "a", "percent": 50}, {"version": "a", "percent": 50}],  # twice
    [{"version": "a", "percent": 0}, {"version": "b", "percent": 100}],  # an empty arm
    [{"version": "A B", "percent": 100}],  # not a version name
    [{"version": "../etc", "percent": 100}],
    [{"version": f"v{i}", "percent": 10} for i in range(9)] + [{"version": "x", "percent": 5}] * 2,  # 11 arms
    [],
    {"version": "a", "percent": 100, "extra": 1},
])
def test_bad_configs_are_refused(config: object) -> None:
    with pytest.raises(ValidationError):
        Rollout.model_validate(config)


# --------------------------------------------------------------------------- splits


def test_the_bucket_is_stable_across_processes() -> None:
    # SHA-256 of mailbox, seed and key: a change here would move live messages between arms
    assert bucket_of(mailbox="ops", seed="", message_key="6f1d3c1e-0000-4000-8000-000000000001") == 3608
    assert bucket_of(mailbox="ops", seed="s1", message_key="6f1d3c1e-0000-4000-8000-000000000001") == 5151


def test_a_message_always_gets_the_same_version() -> None:
    config = [{"version": "draft-v2", "percent": 30}, {"version": "draft-v1", "percent": 70}]
    first = [Rollout.model_validate(config).choose(mailbox="ops", message_key=k) for k in keys(200)]
    again = [Rollout.model_validate(config).choose(mailbox="ops", message_key=k) for k in keys(200)]
    assert first == again
    assert set(first) == {"draft-v1", "draft-v2"}


@pytest.mark.parametrize("percent", [1, 10, 50, 90])
def test_the_split_matches_the_percentages(percent: int) -> None:
    rollout = Rollout.model_validate([{"version": "new", "percent": percent},
                                      {"version": "old", "percent": 100 - percent}])
    n = 20_000
    got = Counter(rollout.choose(mailbox="ops", message_key=k) for k in keys(n))
    share = got["new"] / n
    # binomial standard deviation at n = 20000 is at most 0.35 %: allow four of them
    assert abs(share - percent / 100) < 0.015


def test_ramping_up_keeps_the_messages_that_had_the_new_version() -> None:
    small = Rollout.model_validate([{"version": "new", "percent": 10}, {"version": "old", "percent": 90}])
    large = Rollout.model_validate([{"version": "new", "percent": 50}, {"version": "old", "percent": 50}])
    ks = keys(5000)
    had_new = {k for k in ks if small.choose(mailbox="ops", message_key=k) == "new"}
    assert had_new and all(large.choose(mailbox="ops", message_key=k) == "new" for k in had_new)


def test_seed_and_mailbox_reshuffle_independently() -> None:
    base = [{"version": "a", "percent": 50}, {"version": "b", "percent": 50}]
    ks = keys(2000)
    plain = [Rollout.model_validate(base).choose(mailbox="ops", message_key=k) for k in ks]
    seeded = [Rollout.model_validate({"split": base, "seed": "2"}).choose(mailbox="ops", message_key=k) for k in ks]
    other = [Rollout.model_validate(base).choose(mailbox="support", message_key=k) for k in ks]
    agree_seed = sum(x == y for x, y in zip(plain, seeded, strict=True)) / len(ks)
    agree_box = sum(x == y for x, y in zip(plain, other, strict=True)) / len(ks)
    assert 0.4 < agree_seed < 0.6 and 0.4 < agree_box < 0.6  # independent coin flips agree half the time


def test_a_single_version_takes_everything() -> None:
    rollout = Rollout.fixed("draft-v2")
    assert {rollout.choose(mailbox="ops", message_key=k) for k in keys(500)} == {"draft-v2"}


# --------------------------------------------------------------------------- selectors


async def test_selectors_return_the_prompt_versions() -> None:
    assert await FixedPrompt(prompt=V1).select(mailbox="ops", message_key="k") is V1
    selector = RolloutSelector(rollout=Rollout.model_validate([{"version": "draft-v2", "percent": 50},
                                                               {"version": "draft-v1", "percent": 50}]),
                               prompts={"draft-v1": V1, "draft-v2": V2})
    chosen = {(await selector.select(mailbox="ops", message_key=k)).version for k in keys(100)}
    assert chosen == {V1.version, V2.version}


def test_a_selector_refuses_a_rollout_over_unknown_versions() -> None:
    with pytest.raises(UnknownPromptError, match="draft-v9"):
        RolloutSelector(rollout=Rollout.fixed("draft-v9"), prompts={"draft-v1": V1})


def test_shipped_versions_are_the_prompt_folders() -> None:
    shipped = shipped_prompts()
    assert "draft-v1" in shipped
    assert shipped["draft-v1"].version == V1.version


# --------------------------------------------------------------------------- checking new versions


def test_the_shipped_prompt_passes_and_its_sample_is_redacted() -> None:
    checked = check_prompt(prompt=V1)
    assert checked.warnings == ()
    (system_role, system), (user_role, user) = checked.sample_messages
    assert (system_role, user_role) == ("system", "human")
    assert "Example Logistics" in system and "Never promise: compensation or refunds" in system
    assert "F1 | order NK204117 | order.status | shipped | erp" in user
    assert "+47 912 34 567" not in user and "[PHONE_1]" in user  # rendered as for a hosted model
    assert "NK300001" not in user  # a withheld reference is a count, never its value


@pytest.mark.parametrize(("system", "user", "problem"), [
    ("{{ nope }}", "{{ text }}", "unknown variable 'nope'"),
    # only in a branch the full sample does not take: found all the same
    ("{% if not facts %}{{ factz }}{% endif %}", "{{ text }}", "unknown variable 'factz'"),
    ("{% if facts %}", "{{ text }}", "syntax error on line 1"),
    ("{{ facts[0].value }}", "{{ text }}", "fails to render the empty sample"),
    ("{{ text.__class__.__mro__ }}", "{{ text }}", "unsafe"),
    ("{{ ''.__class__.__base__.__subclasses__() }}", "{{ text }}", "unsafe"),
    ("{% for i in range(9) %}x{% endfor %}", "{{ text }}", "range() loops are not allowed"),
    ("{% set ns = namespace(a='') %}", "{{ text }}", "namespace() accumulators are not allowed"),
    ("{{ 'x' * 5 }}", "{{ text }}", "multiplication and powers are not allowed"),
    ("{{ 9 ** 9 }}", "{{ text }}", "multiplication and powers are not allowed"),
    ("{{ text | center(99999999) }}", "{{ text }}", "larger than 10000"),
    ("{% include 'secrets.j2' %}", "{{ text }}", "include, import and extends are not available"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ text }}", "RecursionError"),
    ("   ", "{{ text }}", "system template is empty"),
    ("{% if false %}x{% endif %}", "{{ text }}", "renders an empty message"),
    ("x" * (MAX_TEMPLATE_CHARS + 1), "{{ text }}", "the limit is 20000"),
])
def test_templates_that_cannot_be_trusted_are_refused(system: str, user: str, problem: str) -> None:
    with pytest.raises(PromptCheckError) as caught:
        check_prompt(prompt=PromptVersion(name="draft-x", system=system, user=user))
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(PromptCheckError, match="must match"):
        check_prompt(prompt=PromptVersion(name="Draft V2!", system=V1.system, user=V1.user))


def test_a_prompt_without_the_email_or_the_facts_passes_with_warnings() -> None:
    checked = check_prompt(prompt=PromptVersion(name="bare", system="You write replies for {{ company }}.",
                                                user="Intents: {{ intents | join(', ') }}"))
    assert checked.warnings == ("the prompt never shows the customer's email ({{ text }})",
                                "the prompt never shows the facts ({{ facts }})")
