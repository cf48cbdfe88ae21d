"""A draft re-saved by a mail client without our draft id header is still found, and is the agent's work.

Thunderbird, Apple Mail, Outlook over IMAP and Roundcube keep no unknown
``X-`` header when the agent edits and saves a draft: they append their own
version and expunge ours. Maildir and IMAP then find it as the message in
Drafts that replies to the inbound message (``in_reply_to``); Graph and Gmail
keep their draft id through edits and pass the same tests with the argument
ignored.
"""

from __future__ import annotations

import email
import email.policy

import pytest

from agent.parsing import parse_email
from agent.supersede import Superseded, supersede
from connectors.mail.compose import DRAFT_HEADER, NOTE_HEADER, headers_of, is_resaved_draft, note_message
from tests.connectors.mail.harness import Harness, resaved_by_client
from tests.connectors.mail.test_conformance import _draft, _note
from tests.helpers import make_email

pytestmark = pytest.mark.anyio
EDIT = {"old": b"er sendt.", "new": b"er sendt, og kommer fredag."}


def _drops_header(harness: Harness) -> bool:
    return harness.kind in ("maildir", "imap")


async def test_draft_resaved_without_our_id_is_found_by_its_reply_and_kept(harness: Harness) -> None:
    await harness.deliver(make_email(message_id="<r1@c.example>"))
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    draft = _draft("d-resaved")
    location = await harness.provider.post_draft(inbound=inbound, draft=draft)
    await harness.provider.post_note(inbound=inbound, note=_note("d-resaved"))

    before = harness.calls()
    assert await harness.provider.find_draft(draft_id="d-resaved") == location
    by_id = harness.calls() - before
    before = harness.calls()
    assert await harness.provider.find_draft(draft_id="d-resaved", in_reply_to=inbound.message_id) == location
    assert harness.calls() - before <= by_id  # the id still there: the fallback costs nothing

    edited = await harness.agent_edits_dropping_header(location, **EDIT)
    if _drops_header(harness):
        assert await harness.provider.find_draft(draft_id="d-resaved") is None  # the id is gone ...
        assert await harness.provider.find_draft(draft_id="d-resaved", in_reply_to="<other@c.example>") is None
    # ... the draft is not: it replies to the inbound message
    assert await harness.provider.find_draft(draft_id="d-resaved", in_reply_to=inbound.message_id) == edited
    current = await harness.provider.fetch_draft(draft_id="d-resaved", in_reply_to=inbound.message_id)
    assert current is not None and current.provider_key == edited
    assert "kommer fredag" in parse_email(raw=current.raw).reply_text
    assert current.found_by_reply is _drops_header(harness)

    # found by its reply means edited: a newer customer message never replaces it
    assert await supersede(provider=harness.provider, draft_id="d-resaved", posted_body=draft.body,
                           in_reply_to=inbound.message_id) == Superseded.KEPT_EDITED
    assert await harness.drafts() == 1
    if _drops_header(harness):
        assert await harness.provider.delete_draft(draft_id="d-resaved") is False  # delete goes by the id only
        assert await harness.drafts() == 1

        await harness.agent_sends(edited)
        [sent] = await harness.provider.fetch_sent()
        reply = parse_email(raw=sent.raw)
        assert reply.in_reply_to == inbound.message_id and DRAFT_HEADER not in reply.headers
        assert await harness.provider.find_draft(draft_id="d-resaved", in_reply_to=inbound.message_id) is None
        assert await harness.provider.fetch_draft(draft_id="d-resaved", in_reply_to=inbound.message_id) is None


async def test_a_later_draft_of_the_thread_is_not_taken_for_an_earlier_one(harness: Harness) -> None:
    await harness.deliver(make_email(message_id="<t1@c.example>"))
    [first] = await harness.ingest()
    inbound1 = parse_email(raw=first.raw)
    location1 = await harness.provider.post_draft(inbound=inbound1, draft=_draft("d-t1"))
    await harness.deliver(make_email(message_id="<t2@c.example>", in_reply_to="<t1@c.example>",
                                     subject="Re: Status ordre NK204117"))
    [second] = await harness.ingest()
    inbound2 = parse_email(raw=second.raw)
    location2 = await harness.provider.post_draft(inbound=inbound2, draft=_draft("d-t2"))
    edited2 = await harness.agent_edits_dropping_header(location2, **EDIT)  # References name <t1@c.example> too

    # the agent throws the first draft away: the second one, which names <t1@c.example> in References, is no
    # stand-in for it
    await harness.agent_deletes(location1)
    assert await harness.provider.find_draft(draft_id="d-t1", in_reply_to=inbound1.message_id) is None
    assert await harness.provider.fetch_draft(draft_id="d-t1", in_reply_to=inbound1.message_id) is None
    assert await harness.provider.find_draft(draft_id="d-t2", in_reply_to=inbound2.message_id) == edited2


async def test_notes_and_other_drafts_in_the_drafts_folder_are_never_taken(harness: Harness) -> None:
    if not _drops_header(harness):
        pytest.skip("Graph and Gmail find drafts by an id that survives edits; nothing is matched by reply")
    await harness.deliver(make_email(message_id="<n1@c.example>"))
    [item] = await harness.ingest()
    inbound = parse_email(raw=item.raw)
    location = await harness.provider.post_draft(inbound=inbound, draft=_draft("d-n1"))
    note = note_message(inbound=inbound, note=_note("d-n1"), mailbox_address="ops@x.example", mailbox_name="Ops")
    await harness.put_in_drafts(note)  # a note filed into Drafts: carries X-Shipdraft-Note-For
    await harness.put_in_drafts(resaved_by_client(note, old=b"", new=b"", n=99))  # ... and without it: no recipient
    other = _draft("d-other")
    await harness.provider.post_draft(inbound=inbound, draft=other)  # another of our drafts (carries its own id)
    edited = await harness.agent_edits_dropping_header(location, **EDIT)
    assert await harness.provider.find_draft(draft_id="d-n1", in_reply_to=inbound.message_id) == edited
    await harness.agent_deletes(edited)

    assert await harness.provider.find_draft(draft_id="d-n1", in_reply_to=inbound.message_id) is None
    assert await harness.provider.fetch_draft(draft_id="d-n1", in_reply_to=inbound.message_id) is None


def test_resaved_draft_rules() -> None:
    def head(**fields: str) -> email.message.Message:
        msg = email.message.EmailMessage(policy=email.policy.compat32)
        for name, value in fields.items():
            msg[name.replace("_", "-")] = value
        return headers_of(msg.as_bytes())

    wanted = "<a@c.example>"
    assert is_resaved_draft(head(To="k@c.example", In_Reply_To=wanted), inbound_message_id=wanted)
    assert is_resaved_draft(head(To="k@c.example", In_Reply_To=wanted.upper()), inbound_message_id=wanted)
    assert is_resaved_draft(head(Cc="k@c.example", References=f"<x@c.example> {wanted}"), inbound_message_id=wanted)
    # a later message of the thread names ours only in References
    assert not is_resaved_draft(head(To="k@c.example", In_Reply_To="<b@c.example>",
                                     References=f"{wanted} <b@c.example>"), inbound_message_id=wanted)
    assert not is_resaved_draft(head(To="k@c.example", In_Reply_To=wanted, **{DRAFT_HEADER: "other"}),
                                inbound_message_id=wanted)
    assert not is_resaved_draft(head(To="k@c.example", In_Reply_To=wanted, **{NOTE_HEADER: "d"}),
                                inbound_message_id=wanted)
    assert not is_resaved_draft(head(In_Reply_To=wanted), inbound_message_id=wanted)  # no recipient: a note
    assert not is_resaved_draft(head(To="k@c.example", In_Reply_To=wanted), inbound_message_id="")
