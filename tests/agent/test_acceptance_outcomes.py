"""Acceptance outcomes, light edits and per-suggestion survival; observing a draft re-saved without its id."""

from __future__ import annotations

from datetime import datetime

import pytest

from agent.acceptance import AcceptanceThresholds, canonical_dates, compare, suggestion_outcomes
from agent.models import Acceptance, AcceptanceOutcome, Draft, Email, Note, Suggestion
from agent.observing import observe
from agent.ports import OpenDraft
from agent.supersede import Superseded, supersede
from tests.helpers import make_email

DRAFT = ("Hi Kari,\n\nThank you for your email.\n\nOrder NK204117 is shipped, with confirmed delivery date "
         "24 November 2026.\nShipment SHP-100117 is in transit. The expected arrival in Bergen is 3 December "
         "2026.\n\nWe will send you the requested documents as soon as we have them at hand.\n\nBest regards,\n"
         "Nordkyst Logistikk")
SUGGESTIONS = (
    Suggestion(text="Hi Kari,", kind="greeting"),
    Suggestion(text="Order NK204117 is shipped, with confirmed delivery date 24 November 2026.", kind="order_status"),
    Suggestion(text="Shipment SHP-100117 is in transit. The expected arrival in Bergen is 3 December 2026.",
               kind="shipment_status"),
    Suggestion(text="We will send you the requested documents as soon as we have them at hand.", kind="documents"),
    Suggestion(text="Best regards,", kind="closing"),
)


def test_outcome_ladder() -> None:
    assert compare(drafted=DRAFT, sent=DRAFT).outcome == "sent_as_is"
    light = compare(drafted=DRAFT, sent=DRAFT.replace("Thank you for your email.", "Thanks for writing."))
    assert light.outcome == "edited" and light.light_edit and light.edit_size and light.edit_size > 0
    heavy = compare(drafted=DRAFT, sent=DRAFT.split("Shipment SHP")[0] + "Call me tomorrow about the rest, "
                    "there is a lot to discuss regarding the invoices and the claims from last month.")
    assert heavy.outcome == "edited" and not heavy.light_edit
    rewritten = compare(drafted=DRAFT, sent="Hi Kari, order NK204117 is on its way, arriving early December. "
                        "I will call you about the paperwork. Regards, Ola")
    assert rewritten.outcome in ("rewritten", "replied_without_draft")
    unrelated = compare(drafted=DRAFT, sent="Lunch on Friday?")
    assert unrelated.outcome == "replied_without_draft"


def test_untouched_draft_means_the_reply_was_written_without_it() -> None:
    result = compare(drafted=DRAFT, sent=DRAFT, draft_left_untouched=True)
    assert result.outcome == "replied_without_draft" and result.suggestions == ()


def test_thresholds_are_configuration() -> None:
    strict = AcceptanceThresholds(as_is=1.0, light_edit=0.99, edited=0.98, rewritten=0.5)
    assert compare(drafted=DRAFT, sent=DRAFT + " ", thresholds=strict).outcome == "sent_as_is"
    assert compare(drafted=DRAFT, sent=DRAFT.replace("Kari", "Karianne"), thresholds=strict).outcome == "edited"


def test_thresholds_come_from_the_settings_and_must_make_sense() -> None:
    from pydantic import ValidationError

    from shipdraft.settings import Settings

    settings = Settings.model_validate({"acceptance": {"as_is": 0.99, "light_edit": 0.9}})
    assert settings.acceptance == AcceptanceThresholds(as_is=0.99, light_edit=0.9)  # the rest keep their defaults
    assert Settings().acceptance == AcceptanceThresholds()
    for bad in ({"as_is": 0.5}, {"edited": 0.9}, {"as_is": 1.5}, {"suggestion": 120}, {"as_si": 0.9}):
        with pytest.raises(ValidationError):
            Settings.model_validate({"acceptance": bad})


def test_quoted_history_signature_and_html_are_ignored() -> None:
    sent_html = "<html><body><p>" + DRAFT.replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p></body></html>"
    assert compare(drafted=DRAFT, sent=sent_html).outcome == "sent_as_is"
    quoted = DRAFT + "\n\nOn Mon, 23 Nov 2026 at 09:00, Kari Nilsen wrote:\n> Where is my order?\n> Kari"
    assert compare(drafted=DRAFT, sent=quoted).outcome == "sent_as_is"


def test_suggestions_survive_reformatting_and_date_formats() -> None:
    sent = DRAFT.replace("24 November 2026", "24.11.2026").replace("\nShipment", " Shipment").replace(
        "We will send you the requested documents as soon as we have them at hand.\n\n", "")
    outcomes = {o.kind: o for o in suggestion_outcomes(suggestions=SUGGESTIONS, sent=sent)}
    assert set(outcomes) == {"order_status", "shipment_status", "documents"}  # greeting/closing not scored
    assert outcomes["order_status"].survived and outcomes["shipment_status"].survived
    assert not outcomes["documents"].survived
    assert outcomes["documents"].index == 3


def test_dates_are_canonical_across_formats() -> None:
    assert canonical_dates("14.03.2026 / 14 March 2026 / 2026-03-14") == "2026-03-14 / 2026-03-14 / 2026-03-14"


# --------------------------------------------------------------------------- a draft re-saved without its id

INBOUND_ID = "<q1@hansen.example>"


class _Resaved:
    """The draft as a client re-saved it: only the reply to the inbound message finds it."""

    raw = make_email(sender="ops@nordkyst-logistikk.example", body=DRAFT + "\nI will call you.",
                     in_reply_to=INBOUND_ID)
    found_by_reply = True


class _ClientDroppedOurHeader:
    """A mailbox whose client re-saved draft d-1 without ``X-Shipdraft-Draft-Id``."""

    def __init__(self) -> None:
        self.lookups: list[tuple[str, str | None]] = []
        self.in_drafts = True

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        self.lookups.append((draft_id, in_reply_to))
        return "Drafts/7:12" if self.in_drafts and in_reply_to == INBOUND_ID else None

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> _Resaved | None:
        return _Resaved() if self.in_drafts and in_reply_to == INBOUND_ID else None

    async def delete_draft(self, *, draft_id: str) -> bool:
        raise AssertionError("a draft found by its reply is the agent's work: never deleted")

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str:
        raise AssertionError("not posting")

    async def find_note(self, *, draft_id: str) -> str | None:
        return None

    async def post_note(self, *, inbound: Email, note: Note) -> str:
        raise AssertionError("not posting")


class _Store:
    def __init__(self, *, missing_since: float | None) -> None:
        self.draft = OpenDraft(draft_id="d-1", body=DRAFT, inbound_message_id=INBOUND_ID, subject="Order",
                               customer_text="Where is my order?", language="en",
                               missing_since_seconds=missing_since, age_seconds=7200.0)
        self.outcomes: dict[str, Acceptance] = {}
        self.missing: list[bool] = []

    async def open_drafts(self, *, mailbox: str) -> list[OpenDraft]:
        return [] if self.draft.draft_id in self.outcomes else [self.draft]

    async def record_outcome(self, *, draft_id: str, acceptance: Acceptance, sent_provider_key: str | None,
                             sent_at: datetime | None) -> bool:
        return self.outcomes.setdefault(draft_id, acceptance) is acceptance

    async def mark_missing(self, *, draft_id: str, missing: bool) -> None:
        self.missing.append(missing)

    async def index_thread(self, *, mailbox: str, thread_key: str, subject: str, customer_text: str,
                           reply_text: str, language: str | None, replied_at: datetime | None) -> bool:
        return True


@pytest.mark.anyio
async def test_a_draft_resaved_without_its_id_is_not_discarded_and_sent_counts_as_edited() -> None:
    mailbox = _ClientDroppedOurHeader()
    store = _Store(missing_since=7200.0)  # marked missing earlier (before the fix, or a slow client)
    assert await observe(mailbox_name="ops", sent=[], mailbox=mailbox, store=store,
                         discard_grace_seconds=0) == []
    assert ("d-1", INBOUND_ID) in mailbox.lookups  # asked with the inbound Message-ID ...
    assert store.missing == [False] and store.outcomes == {}  # ... found: present again, not discarded

    mailbox.in_drafts = False  # the agent sends it; the client drops our header from the sent copy too
    sent = make_email(sender="ops@nordkyst-logistikk.example", subject="Re: Order", in_reply_to=INBOUND_ID,
                      body=DRAFT.replace("Thank you for your email.", "Thanks for writing."))
    [seen] = await observe(mailbox_name="ops", sent=[("Sent/7:3", sent)], mailbox=mailbox, store=store,
                           discard_grace_seconds=0)
    assert seen.draft_id == "d-1" and seen.outcome == AcceptanceOutcome.EDITED
    assert store.outcomes["d-1"].outcome == AcceptanceOutcome.EDITED


@pytest.mark.anyio
async def test_an_edited_draft_sent_while_still_in_drafts_is_not_taken_for_untouched() -> None:
    mailbox = _ClientDroppedOurHeader()  # the re-saved draft is still in Drafts when the sent copy is seen
    store = _Store(missing_since=None)
    [seen] = await observe(mailbox_name="ops", sent=[("Sent/7:4", make_email(
        sender="ops@nordkyst-logistikk.example", in_reply_to=INBOUND_ID, body=DRAFT))], mailbox=mailbox,
        store=store, discard_grace_seconds=0)
    assert seen.outcome == AcceptanceOutcome.SENT_AS_IS  # "untouched" asks by the draft id only
    assert mailbox.lookups == [("d-1", None)]


@pytest.mark.anyio
async def test_supersede_keeps_a_draft_found_by_its_reply() -> None:
    mailbox = _ClientDroppedOurHeader()
    assert await supersede(provider=mailbox, draft_id="d-1", posted_body=DRAFT + "\nI will call you.",
                           in_reply_to=INBOUND_ID) == Superseded.KEPT_EDITED
    assert await supersede(provider=mailbox, draft_id="d-1", posted_body=DRAFT) == Superseded.GONE
