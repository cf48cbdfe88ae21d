"""The mailbox conformance suite: Maildir, IMAP (real Dovecot), Graph and Gmail (respx fakes) pass the same tests.

Ingest a new message, thread, post draft, post note, repost after a simulated
crash (no duplicate), detect sent, detect deleted, replace an untouched draft,
survive a provider outage.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import pytest

from agent.models import Draft, Note
from agent.parsing import parse_email
from connectors.mail.base import MailError
from connectors.mail.compose import DRAFT_HEADER, NOTE_HEADER
from tests.connectors.mail.harness import Harness
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _draft(draft_id: str, subject: str = "Re: Status ordre NK204117") -> Draft:
    return Draft(draft_id=draft_id, subject=subject, body="Hei Kari,\n\nOrdre NK204117 er sendt.\n\nHilsen\nOps",
                 language="no", drafter="template", template_version="reply.no@1")


def _note(draft_id: str) -> Note:
    return Note(draft_id=draft_id, subject="[shipdraft note] Status ordre NK204117",
                body="Facts: NK204117 shipped (ERP).")


async def _arrive(h: Harness, message_id: str) -> None:
    await h.deliver(make_email(message_id=message_id))


async def test_new_message_is_ingested_once_and_offered_until_acknowledged(harness: Harness) -> None:
    await _arrive(harness, "<m1@customer.example>")
    first = await harness.provider.fetch_new()
    assert [parse_email(raw=i.raw).message_id for i in first] == ["<m1@customer.example>"]
    again = await harness.provider.fetch_new()  # not acknowledged yet: offered again
    assert [i.provider_key for i in again] == [i.provider_key for i in first]
    await harness.ingest()
    assert await harness.provider.fetch_new() == []


async def test_draft_and_note_are_posted_into_the_thread_and_found_again(harness: Harness) -> None:
    await _arrive(harness, "<m2@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    assert await harness.provider.find_draft(draft_id="d-2") is None
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-2"))
    assert await harness.provider.find_note(draft_id="d-2") is None
    note_location = await harness.provider.post_note(inbound=inbound, note=_note("d-2"))
    assert await harness.provider.find_draft(draft_id="d-2") == location
    assert await harness.provider.find_note(draft_id="d-2") == note_location

    posted = await harness.provider.fetch_draft(draft_id="d-2")
    assert posted is not None
    draft_msg = email.message_from_bytes(posted.raw)
    assert draft_msg["In-Reply-To"] == "<m2@customer.example>"  # threads for every recipient
    assert "m2@customer.example" in (draft_msg["References"] or "")
    assert email.utils.parseaddr(draft_msg["To"])[1] == "kari.nilsen@hansen-mobler.example"
    assert "NK204117" in draft_msg.get_payload(decode=True).decode()
    # our note is never offered as inbound mail
    assert await harness.provider.fetch_new() == []


async def test_note_has_no_recipient_and_cannot_be_mistaken_for_the_draft(harness: Harness) -> None:
    await _arrive(harness, "<m3@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    note_location = await harness.provider.post_note(inbound=inbound, note=_note("d-3"))
    headers, is_draft = await harness.note_headers(note_location)
    assert not is_draft
    assert all(headers.get(h) is None for h in ("To", "Cc", "Bcc", "Resent-To"))
    assert headers[NOTE_HEADER] == "d-3" and headers.get(DRAFT_HEADER) is None
    assert headers["In-Reply-To"] in ("<m3@customer.example>", None) or harness.kind == "graph"
    assert await harness.provider.find_draft(draft_id="d-3") is None  # a note is not a draft
    assert await harness.drafts() == 0


async def test_repost_after_a_crash_finds_the_draft_instead_of_posting_another(harness: Harness) -> None:
    await _arrive(harness, "<m4@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-4"))
    await harness.restart()  # crashed before the note and before marking the message drafted
    existing = await harness.provider.find_draft(draft_id="d-4")
    assert existing == location
    note = await harness.provider.find_note(draft_id="d-4") or await harness.provider.post_note(
        inbound=inbound, note=_note("d-4"))
    assert note
    assert await harness.drafts() == 1


async def test_sent_reply_is_detected_and_the_draft_is_gone(harness: Harness) -> None:
    await _arrive(harness, "<m5@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-5"))
    await harness.agent_sends(location)
    sent = await harness.provider.fetch_sent()
    assert len(sent) == 1
    reply = parse_email(raw=sent[0].raw)
    # the observer matches by draft id when kept, else by In-Reply-To
    assert reply.headers.get(DRAFT_HEADER) == "d-5" or reply.in_reply_to == "<m5@customer.example>"
    assert await harness.provider.find_draft(draft_id="d-5") is None
    assert await harness.provider.fetch_sent() == []  # offered once


async def test_draft_deleted_without_reply_is_noticed(harness: Harness) -> None:
    await _arrive(harness, "<m6@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-6"))
    await harness.agent_deletes(location)
    assert await harness.provider.find_draft(draft_id="d-6") is None
    assert await harness.provider.fetch_sent() == []


async def test_untouched_draft_can_be_read_back_and_replaced(harness: Harness) -> None:
    await _arrive(harness, "<m7@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    await harness.provider.post_draft(inbound=inbound, draft=_draft("d-7"))
    current = await harness.provider.fetch_draft(draft_id="d-7")
    assert current is not None and "NK204117" in parse_email(raw=current.raw).reply_text
    assert await harness.provider.delete_draft(draft_id="d-7") is True
    assert await harness.provider.find_draft(draft_id="d-7") is None
    assert await harness.provider.delete_draft(draft_id="d-7") is False


async def test_provider_outage_is_survived_without_loss_or_duplicate(harness: Harness) -> None:
    await _arrive(harness, "<m8@customer.example>")
    async with harness.outage():
        try:
            during = await harness.provider.fetch_new()
        except MailError as exc:
            assert exc.retryable, exc
            during = []
        assert during == []
    after = await harness.ingest()
    assert [parse_email(raw=i.raw).message_id for i in after] == ["<m8@customer.example>"]
    inbound = parse_email(raw=after[0].raw)
    assert await harness.provider.post_draft(inbound=inbound, draft=_draft("d-8"))
    assert await harness.provider.fetch_new() == []


async def test_history_lists_inbound_and_sent_mail_but_not_our_notes(harness: Harness) -> None:
    await _arrive(harness, "<h1@customer.example>")
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-h"))
    await harness.provider.post_note(inbound=inbound, note=_note("d-h"))
    await harness.agent_sends(location)
    history = await harness.provider.list_history(since=datetime.now(UTC) - timedelta(days=1))
    parsed = [parse_email(raw=i.raw) for i in history]
    assert "<h1@customer.example>" in [p.message_id for p in parsed]
    assert any(p.in_reply_to == "<h1@customer.example>" for p in parsed)  # the sent reply
    assert not any(NOTE_HEADER in p.headers for p in parsed)
