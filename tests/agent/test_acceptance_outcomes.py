"""Acceptance outcomes, light edits and per-suggestion survival."""

from __future__ import annotations

import pytest

from agent.acceptance import AcceptanceThresholds, canonical_dates, compare, suggestion_outcomes
from agent.models import Suggestion

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
