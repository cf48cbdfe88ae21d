"""agent.acceptance: how what was sent compares with what was drafted."""

from __future__ import annotations

import pytest

from agent.acceptance import AcceptanceThresholds, comparable_text, compare
from agent.models import AcceptanceOutcome

DRAFT = (
    "Hei Kari,\n\n"
    "Takk for e-posten din.\n\n"
    "Ordre NK204117 (deres innkjøpsordre 4500012400) er sendt, med bekreftet leveringsdato 24.11.2026.\n"
    "Sending SHP-100117, container MSKU7719028 med Maersk, er underveis, sist registrert i Hamburg "
    "21.11.2026. Forventet ankomst til Bergen er 03.12.2026.\n\n"
    "Med vennlig hilsen\n"
    "Nordkyst Logistikk – Kundeservice\n"
)
THRESHOLDS = AcceptanceThresholds()


def test_identical_is_sent_as_is() -> None:
    result = compare(drafted=DRAFT, sent=DRAFT)
    assert result.outcome == AcceptanceOutcome.SENT_AS_IS
    assert result.similarity == 1.0
    assert result.edit_size == 0


def test_whitespace_and_case_only_changes_are_sent_as_is() -> None:
    sent = DRAFT.replace("\n\n", "\n").replace("  ", " ").upper() + "\n\n\n"
    result = compare(drafted=DRAFT, sent=sent)
    assert result.outcome == AcceptanceOutcome.SENT_AS_IS
    assert result.edit_size == 0


def test_small_edit_is_edited() -> None:
    sent = DRAFT.replace("Forventet ankomst til Bergen er 03.12.2026.",
                         "Vi jobber med å få containeren raskere fram, forventet ankomst er nå 01.12.2026.")
    result = compare(drafted=DRAFT, sent=sent)
    assert result.outcome == AcceptanceOutcome.EDITED
    assert result.similarity is not None
    assert THRESHOLDS.edited <= result.similarity < THRESHOLDS.as_is
    assert result.edit_size is not None and result.edit_size > 0


def test_one_character_is_still_an_edit_size() -> None:
    result = compare(drafted=DRAFT, sent=DRAFT.replace("03.12.2026", "04.12.2026"))
    assert result.outcome == AcceptanceOutcome.SENT_AS_IS  # above the as-is threshold ...
    assert result.edit_size == 1  # ... but the change is counted


def test_unrelated_text_is_rewritten() -> None:
    sent = "Hello, I'll call you tomorrow morning to discuss the new pricing for 2027. Regards, Per"
    result = compare(drafted=DRAFT, sent=sent)
    assert result.outcome == AcceptanceOutcome.REWRITTEN
    assert result.similarity is not None and result.similarity < THRESHOLDS.edited
    assert result.edit_size is not None and result.edit_size > 50


def test_quoted_history_in_the_sent_text_is_ignored() -> None:
    sent = (
        DRAFT
        + "\nDen man. 23. nov. 2026 kl. 09:00 skrev Kari Nilsen <kari.nilsen@hansen-mobler.example>:\n"
        + "> Hei, når kommer ordre NK204117? Vi har planlagt en kampanje fra 1. desember og trenger\n"
        + "> varene på lageret i god tid. Kan dere også sende pakklisten og fakturakopien?\n"
    )
    result = compare(drafted=DRAFT, sent=sent)
    assert result.outcome == AcceptanceOutcome.SENT_AS_IS
    assert result.edit_size == 0


def test_outlook_history_in_the_sent_text_is_ignored() -> None:
    sent = (
        DRAFT
        + "\nFrom: Kari Nilsen <kari.nilsen@hansen-mobler.example>\nSent: Monday, November 23, 2026 9:00 AM\n"
        + "To: ops@nordkyst-logistikk.example\nSubject: Ordre NK204117\n\nHei, når kommer ordre NK204117?\n"
    )
    assert compare(drafted=DRAFT, sent=sent).outcome == AcceptanceOutcome.SENT_AS_IS


def test_an_appended_mail_client_signature_is_ignored() -> None:
    sent = DRAFT + "\n-- \nPer Hansen\nSenior kundebehandler\nTlf. +47 55 00 00 00\n"
    result = compare(drafted=DRAFT, sent=sent)
    assert result.outcome == AcceptanceOutcome.SENT_AS_IS
    assert result.edit_size == 0


def test_comparable_text() -> None:
    text = "Hi  Kari,\n\nYour order\tis shipped.\n\n-- \nPer\n\nOn Mon, 23 Nov 2026, Kari <k@x.example> wrote:\n> old"
    assert comparable_text(text) == "hi kari, your order is shipped."


@pytest.mark.parametrize(("as_is", "edited", "outcome"), [
    (0.5, 0.1, AcceptanceOutcome.SENT_AS_IS),
    (0.99, 0.1, AcceptanceOutcome.EDITED),
    (0.999, 0.99, AcceptanceOutcome.REWRITTEN),
])
def test_custom_thresholds(as_is: float, edited: float, outcome: AcceptanceOutcome) -> None:
    sent = DRAFT.replace("Forventet ankomst til Bergen er 03.12.2026.", "Ny ETA kommer i morgen.")
    thresholds = AcceptanceThresholds(as_is=as_is, light_edit=as_is, edited=edited, rewritten=0.05)
    result = compare(drafted=DRAFT, sent=sent, thresholds=thresholds)
    assert result.outcome == outcome
