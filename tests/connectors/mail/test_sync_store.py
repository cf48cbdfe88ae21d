"""store.mail_sync: provider cursors in sync_state, known messages from the messages table."""

from __future__ import annotations

import pytest

from store.db import open_pool
from store.errors import UnknownMailboxError
from store.mail_sync import MailSyncRepository
from store.mailboxes import MailboxRepository
from store.messages import MessageRepository

pytestmark = pytest.mark.anyio


async def test_cursors_and_known_messages(database_url: str) -> None:
    pool = await open_pool(url=database_url, max_size=2)
    try:
        await MailboxRepository(pool=pool).upsert(name="ops", address="ops@x.example", provider="graph", config={})
        state = MailSyncRepository(pool=pool).state(mailbox="ops")
        assert await state.get(key="graph:delta:inbox") is None
        await state.put(key="graph:delta:inbox", value="https://graph/delta?$deltatoken=1")
        await state.put(key="graph:delta:inbox", value="https://graph/delta?$deltatoken=2")
        assert await state.get(key="graph:delta:inbox") == "https://graph/delta?$deltatoken=2"

        await MessageRepository(pool=pool).insert_inbound(mailbox="ops", provider_key="AAk1=",
                                                          message_id="<a@c.example>", raw=b"x")
        assert await state.known_keys(keys=["AAk1=", "AAk2="]) == {"AAk1="}
        assert await state.known_keys(keys=[]) == set()
        assert await state.known_message_ids(message_ids=["<a@c.example>", "<b@c.example>"]) == {"<a@c.example>"}
        assert await state.provider_key_for(message_id="<a@c.example>") == "AAk1="
        assert await state.provider_key_for(message_id="<b@c.example>") is None

        with pytest.raises(UnknownMailboxError):
            await MailSyncRepository(pool=pool).state(mailbox="nope").put(key="k", value="v")
    finally:
        await pool.close()
