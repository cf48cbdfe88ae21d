"""The per-mailbox daily token budget in PostgreSQL."""

from __future__ import annotations

import pytest

from shipdraft.wiring import Runtime
from store.llm_budget import TokenBudgetRepository

pytestmark = pytest.mark.anyio


async def test_spend_reduces_what_is_left_today(runtime: Runtime) -> None:
    budget = TokenBudgetRepository(pool=runtime.pool)
    assert await budget.remaining(mailbox="ops", limit=1000) == 1000
    await budget.spend(mailbox="ops", tokens=700)
    await budget.spend(mailbox="ops", tokens=400)
    assert await budget.remaining(mailbox="ops", limit=1000) == -100
    assert await budget.remaining(mailbox="other", limit=1000) == 1000
