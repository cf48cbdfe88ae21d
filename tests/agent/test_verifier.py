"""The grounding verifier: supported claims stay, unsupported sentences go, with reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.models import Fact, Source
from agent.verifier import ClaimKind, Grounding, claims, verify

SRC = Source(system="erp", record_id="NK204117", fetched_at=datetime(2026, 11, 23, tzinfo=UTC),
             link="https://erp.example/orders/NK204117")


def _fact(i: int, subject: str, name: str, value: str) -> Fact:
    return Fact(id=f"F{i}", subject=subject, name=name, value=value, source=SRC)


FACTS = [
    _fact(1, "NK204117", "order.status", "shipped"),
    _fact(2, "NK204117", "order.confirmed_date", "2026-03-13"),  # a Friday
    _fact(3, "SHP-31043", "shipment.status", "in_transit"),
    _fact(4, "SHP-31043", "shipment.eta", "2026-03-14T08:00:00+00:00"),
    _fact(5, "SHP-31043", "shipment.container_no", "MSKU7719028"),
    _fact(6, "NK204117", "order.line1.shipped", "18/20 Pallets"),
]


@pytest.fixture
def grounding() -> Grounding:
    return Grounding.build(
        facts=FACTS,
        email_texts=["Where is order NK204117? We also need 3 pallets for NK204118 and container HLXU8803192."],
        config_texts=["Nordkyst Logistikk – Kundeservice\nops@nordkyst-logistikk.example\n+47 55 12 34 56"],
        withheld=["NK204118", "HLXU8803192"],
    )


@pytest.mark.parametrize("sentence", [
    "The ETA is 14.03.2026.",
    "The ETA is 14 March 2026.",
    "Die Ankunft ist am 14. März.",
    "ETA: March 14, 2026 at 08:00.",
    "ETA 03/14/2026.",
    "ETA 2026-03-14.",
    "It was confirmed for Friday.",
    "Forventet ankomst fredag 13.03.2026.",
    "Shipment SHP-31043 with container MSKU 771902 8 is in transit.",
    "18 of 20 pallets have left.",
    "Order NK204117 has been shipped.",
    "Call us on +47 55 12 34 56 or write to ops@nordkyst-logistikk.example.",
    "See https://erp.example/orders/NK204117 for details.",
    "You asked about 3 pallets.",
])
def test_supported_claims_pass(grounding: Grounding, sentence: str) -> None:
    result = verify(text=f"Hello,\n\n{sentence}\n\nBest regards\n", grounding=grounding)
    assert result.unchanged, result.removed
    assert result.claims >= 1


@pytest.mark.parametrize(("sentence", "reason"), [
    ("The ETA is 15.03.2026.", "date 15.03.2026 matches no fact"),
    ("It arrives on Monday.", "no fact date falls on that weekday"),
    ("The container was delivered yesterday.", "status 'delivered'"),
    ("Your order NK204999 is also on its way.", "reference NK204999"),
    ("Order NK204118 is ready as well.", "NK204118 is withheld"),
    ("Container HLXU 880319 2 arrives tomorrow.", "withheld"),
    ("Call +47 99 88 77 66 for updates.", "phone +47 99 88 77 66"),
    ("Track it at https://evil.example/track.", "url https://evil.example/track."),
    ("We will refund 500 EUR.", "number 500"),
    ("Delivery at 17:30.", "time 17:30"),
])
def test_unsupported_claims_remove_their_sentence(grounding: Grounding, sentence: str, reason: str) -> None:
    kept = "Shipment SHP-31043 is in transit."
    result = verify(text=f"Hello,\n\n{kept} {sentence}\n\nBest regards\n", grounding=grounding)
    assert [r.sentence for r in result.removed] == [sentence]
    assert any(reason in r for r in result.removed[0].reasons), result.removed[0].reasons
    assert kept in result.text and sentence not in result.text
    assert result.unsupported >= 1


def test_claim_kinds_are_recognized(grounding: Grounding) -> None:
    found = claims(text="Order NK204117 ships 14 March, 08:00, 3 pallets, https://x.example/a, a@b.example",
                   grounding=grounding)
    assert {c.kind for c in found} >= {ClaimKind.REFERENCE, ClaimKind.DATE, ClaimKind.TIME, ClaimKind.NUMBER,
                                       ClaimKind.URL, ClaimKind.EMAIL}


def test_text_without_claims_is_untouched(grounding: Grounding) -> None:
    text = "Hi Kari,\n\nThank you for your email. We are looking into it.\n\nBest regards\nNordkyst\n"
    result = verify(text=text, grounding=grounding)
    assert result.text == text and result.claims == 0


@pytest.fixture
def sent_on_friday() -> Grounding:
    """The email was sent on Friday 13 March 2026; the facts hold 13 March (confirmed) and 14 March (ETA)."""
    return Grounding.build(facts=FACTS, email_texts=["Where is NK204117?"], config_texts=[],
                           today=datetime(2026, 3, 13, tzinfo=UTC).date())


@pytest.mark.parametrize(("sentence", "supported"), [
    ("It arrives tomorrow.", True),
    ("It was confirmed for today.", True),
    ("Den kommer i morgen.", True),
    ("Den kommer imorgon.", True),
    ("Sie kommt morgen an.", True),
    ("It arrives the day after tomorrow.", False),
    ("Sie kommt übermorgen.", False),
    ("It left yesterday.", False),
    ("Den ble sendt i går.", False),
])
def test_relative_dates_count_from_the_email_date(sent_on_friday: Grounding, sentence: str, supported: bool) -> None:
    result = verify(text=f"Hello,\n\n{sentence}\n", grounding=sent_on_friday)
    assert result.unchanged is supported, result.removed


@pytest.mark.parametrize("sentence", ["Guten Morgen, Ihre Sendung ist unterwegs.", "God morgen, Kari.",
                                      "Hei og god morgen.", "Good morning, Kari."])
def test_good_morning_is_not_a_date(grounding: Grounding, sentence: str) -> None:
    """Without an email date every relative date is unsupported, so these pass only if none is seen."""
    result = verify(text=f"{sentence}\n", grounding=grounding)
    assert result.unchanged, result.removed
    assert not verify(text="Sie kommt morgen an.\n", grounding=grounding).unchanged


def test_relative_date_without_an_email_date_is_unsupported(grounding: Grounding) -> None:
    result = verify(text="Hello,\n\nIt arrives tomorrow.\n", grounding=grounding)
    assert [r.sentence for r in result.removed] == ["It arrives tomorrow."]
    assert "no date to count from" in result.removed[0].reasons[0]


def test_left_over_pii_placeholder_is_unsupported(grounding: Grounding) -> None:
    result = verify(text="Hello,\n\nShipment SHP-31043 is in transit. Call us on [PHONE_3].\n", grounding=grounding)
    assert [r.sentence for r in result.removed] == ["Call us on [PHONE_3]."]
    assert "PII placeholder" in result.removed[0].reasons[0]


@pytest.mark.parametrize("sentence", [
    "Order NK204117 er sendt.", "Ordern NK204117 är skickad.", "Der Auftrag NK204117 ist versandt.",
    "Forsendelsen SHP-31043 er undervejs.", "Sendungen SHP-31043 är under transport.",
])
def test_status_words_in_every_language_match_the_fact(grounding: Grounding, sentence: str) -> None:
    assert verify(text=f"Hei,\n\n{sentence}\n", grounding=grounding).unchanged


@pytest.mark.parametrize("sentence", [
    "Ordre NK204117 er levert.", "Ordern NK204117 är levererad.", "Der Auftrag NK204117 wurde zugestellt.",
    "Forsendelsen SHP-31043 er forsinket.", "Die Sendung ist im Zoll angehalten.",
])
def test_wrong_status_words_in_every_language_are_removed(grounding: Grounding, sentence: str) -> None:
    result = verify(text=f"Hei,\n\n{sentence}\n", grounding=grounding)
    assert [r.sentence for r in result.removed] == [sentence]
