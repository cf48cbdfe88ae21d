"""Replacing an older untouched draft, keeping an edited one; on every provider."""

from __future__ import annotations

import pytest

from agent.parsing import parse_email
from agent.supersede import Superseded, supersede
from tests.connectors.mail.harness import Harness
from tests.connectors.mail.test_conformance import _draft
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


async def test_untouched_older_draft_is_removed(harness: Harness) -> None:
    await harness.deliver(make_email(message_id="<old@c.example>"))
    [item] = await harness.ingest()
    draft = _draft("d-old")
    await harness.provider.post_draft(inbound=parse_email(raw=item.raw), draft=draft)
    assert await supersede(provider=harness.provider, draft_id="d-old", posted_body=draft.body,
                           enabled=False) == Superseded.DISABLED
    assert await supersede(provider=harness.provider, draft_id="d-old", posted_body=draft.body) == Superseded.REMOVED
    assert await harness.provider.find_draft(draft_id="d-old") is None
    assert await supersede(provider=harness.provider, draft_id="d-old", posted_body=draft.body) == Superseded.GONE


async def test_edited_draft_is_never_overwritten(harness: Harness) -> None:
    await harness.deliver(make_email(message_id="<e@c.example>"))
    [item] = await harness.ingest()
    draft = _draft("d-edit")
    location = await harness.provider.post_draft(inbound=parse_email(raw=item.raw), draft=draft)
    await harness.agent_edits(location, old=b"er sendt.", new=b"er sendt, og kommer fredag.")  # the agent typed
    assert await supersede(provider=harness.provider, draft_id="d-edit", posted_body=draft.body) == \
        Superseded.KEPT_EDITED
    assert await harness.provider.find_draft(draft_id="d-edit") is not None
    kept = await harness.provider.fetch_draft(draft_id="d-edit")
    assert kept is not None and "kommer fredag" in parse_email(raw=kept.raw).reply_text
    assert await harness.drafts() == 1
