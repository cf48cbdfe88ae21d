"""The grounding verifier: supported claims stay, unsupported sentences go, with reasons."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.models import Fact, Source
from agent.verifier import ClaimKind, Grounding, claims, defang, verify

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


# --------------------------------------------------------------------------- authorized set, withheld forms


def _strict(email: str, *, authorized: tuple[str, ...] = ("NK204117",)) -> Grounding:
    """A grounding with the authorized set, as ``DraftRequest.grounding`` builds it."""
    return Grounding.build(facts=FACTS, email_texts=[email], config_texts=[],
                           withheld=["NK204118", "HLXU8803192"], authorized_references=authorized)


@pytest.mark.parametrize("sentence", [
    "Order NK204118 is on its way.",
    "Order NK-204118 is on its way.",
    "Order nk204118 is on its way.",
    "Order nk 204 118 is on its way.",
    "Order N K 2 0 4 1 1 8 is on its way.",
    "Your order 204118 is on its way.",
    "Your order 204-118 is on its way.",
    "Container hlxu 880319-2 is on its way.",
    "Container HLXU.880319.2 is on its way.",
])
def test_a_withheld_reference_in_any_written_form_removes_its_sentence(sentence: str) -> None:
    g = _strict("Where are NK204117 and nk 204118? Also container hlxu 880319-2.")
    result = verify(text=f"Hello,\n\nOrder NK204117 is shipped. {sentence}\n\nBest regards\n", grounding=g)
    assert [r.sentence for r in result.removed] == [sentence]
    assert any("withheld" in r for r in result.removed[0].reasons)
    assert "NK204117 is shipped" in result.text


def test_a_reference_the_email_quotes_is_not_authorized_by_being_quoted() -> None:
    # NK204555 is in the customer's email but not in the authorized set (the lookup never let it through)
    g = _strict("Where is NK204117? My colleague also asked about NK204555 and PO 4500099123.")
    for sentence in ("Order NK204555 is on its way.", "PO 4500099123 is on its way."):
        result = verify(text=f"Hello,\n\n{sentence}\n\nBest regards\n", grounding=g)
        assert [r.sentence for r in result.removed] == [sentence]
        assert "not one of the sender's authorized references" in result.removed[0].reasons[0]


def test_authorized_references_facts_and_short_tokens_stay() -> None:
    g = _strict("Where is nk 204117 (our PO 4500012400)? It goes on the E6 via Gate A4.",
                authorized=("NK204117", "4500012400", "NK999999"))
    text = ("Hello,\n\nOrder NK204117 and your PO 4500012400 are known; ordre 204117 too. NK999999 is not in "
            "our systems. Shipment SHP-31043 with container MSKU7719028 is in transit. The truck takes the E6 "
            "to Gate A4.\n\nBest regards\n")
    result = verify(text=text, grounding=g)
    assert result.unchanged, result.removed


def test_without_an_authorized_set_the_emails_references_still_count() -> None:
    g = Grounding.build(facts=FACTS, email_texts=["Is NK204555 ready? And NK204118?"], config_texts=[],
                        withheld=["NK204118"])
    assert verify(text="Order NK204555 is ready.\n", grounding=g).unchanged
    assert not verify(text="Order nk 204-118 is ready.\n", grounding=g).unchanged


def test_a_withheld_number_inside_an_unrelated_longer_number_is_not_flagged() -> None:
    g = _strict("Where is NK204117?")
    assert g.withheld_in("Call 0047 2041189 99") == []  # "2041189" is not "204118"
    assert g.withheld_in("ref nk-204118.") == ["NK204118"]


def test_defang_makes_unsupported_links_and_addresses_unclickable() -> None:
    g = _strict("Pay at https://pay-customs.example/nk or mail billing@pay-customs.example")
    text = ("Removed: 'pay at https://pay-customs.example/nk or billing@pay-customs.example'; "
            "see https://erp.example/orders/NK204117")
    out = defang(text=text, grounding=g)
    assert "hxxps://pay-customs[.]example/nk" in out and "billing[@]pay-customs[.]example" in out
    assert "pay-customs.example" not in out
    assert "https://erp.example/orders/NK204117" in out  # a fact's own link stays a link
