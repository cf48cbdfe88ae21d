"""Golden tests: the full template reply in every language for one rich case.

A change to a template shows up here as a diff a reviewer reads. Regenerate
deliberately with ``SHIPDRAFT_UPDATE_GOLDEN=1 pytest tests/agent/test_templates_golden.py``.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from agent.drafting import TEMPLATE_LANGUAGES, DraftRequest, TemplateDrafter, format_date
from agent.lookup import facts_from_records
from agent.models import Draft, Fulfillment, Intent, LookupFailure, LookupResult, OrderLine, Withheld
from agent.profile import StyleGuide
from tests.agent.builders import make_email, order, ref, shipment, source

pytestmark = pytest.mark.anyio
GOLDEN = Path(__file__).parent / "golden"


async def golden_draft(*, request: DraftRequest, golden: str) -> Draft:
    """The template draft for ``request``, whose body must equal ``GOLDEN/golden`` (rewritten on request)."""
    draft = await TemplateDrafter().draft(request=request)
    path = GOLDEN / golden
    if os.environ.get("SHIPDRAFT_UPDATE_GOLDEN") == "1":
        path.write_text(draft.body, encoding="utf-8")
    assert draft.body == path.read_text(encoding="utf-8")
    return draft


def rich_request(lang: str) -> DraftRequest:
    orders = (order(), order("NK204131", status="on_hold", confirmed=None, customer_po=None))
    shipments = (shipment(), shipment("SHP-100118", container_no="CMAU5521840", eta=None),
                 shipment("SHP-100119", order_no="NK204131", status="delivered", container_no=None,
                          delivered_at=shipment().eta, pod_signed_by="Per Olsen"))
    fulfillments = [Fulfillment(order_no="NK204131", customer_id="C100", status="packed",
                                source=source("wms", "NK204131"))]
    lookup = LookupResult(
        customer_ids=("C100",), orders=orders, shipments=shipments, fulfillments=tuple(fulfillments),
        facts=facts_from_records(orders=orders, shipments=shipments, fulfillments=fulfillments),
        not_found=("NK999999",), withheld=(Withheld(reference="NK204118", reason="another customer"),),
        failures=(LookupFailure(system="wms", kind="wms", reference="NK204117", error="timeout"),),
    )
    email = make_email(subject="Ordre NK204117, NK204131, NK999999, NK204118", reply_text="...",
                       language=lang)
    return DraftRequest(draft_id="golden", email=email,
                        references=tuple(ref(r) for r in ("NK204117", "NK204131", "NK999999", "NK204118")),
                        intents=(Intent.ETA_REQUEST, Intent.DAMAGE_OR_CLAIM, Intent.DOCUMENTS_REQUEST),
                        lookup=lookup, style=StyleGuide(signature="Nordkyst Logistikk – Kundeservice"))


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_template_reply_matches_golden(lang: str) -> None:
    draft = await golden_draft(request=rich_request(lang), golden=f"reply.{lang}.txt")
    assert draft.notes == ()  # the verifier found nothing to remove
    assert "NK204118" not in draft.body
    assert [s.kind for s in draft.suggestions][:2] == ["greeting", "thanks"]
    assert draft.suggestions[-1].kind == "closing"


def sparse_request(lang: str) -> DraftRequest:
    """The other end: a company address, no reference, no facts, several requests at once."""
    email = make_email(subject="Booking og endring", reply_text="...", language=lang,
                       from_address="post@hansen-mobler.example", from_name="Hansen Møbler")
    lookup = LookupResult(customer_ids=("C100",), facts=())
    return DraftRequest(draft_id="golden-sparse", email=email, references=(),
                        intents=(Intent.COMPLAINT, Intent.BOOKING_REQUEST, Intent.DELIVERY_CHANGE,
                                 Intent.CANCELLATION),
                        lookup=lookup, style=StyleGuide(signature="Nordkyst Logistikk – Kundeservice"))


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_sparse_template_reply_matches_golden(lang: str) -> None:
    draft = await golden_draft(request=sparse_request(lang), golden=f"sparse.{lang}.txt")
    assert draft.notes == ()
    assert [s.kind for s in draft.suggestions] == ["greeting", "thanks", "complaint", "delivery_change",
                                                   "cancellation", "booking", "request_reference", "closing"]


NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)  # the demo's "today": the dates below are behind it


def stale_request(lang: str, *, now: datetime | None = NOW) -> DraftRequest:
    """Promised dates that have passed: a confirmed order with nothing shipped, and an overdue ETA."""
    waiting = order("NK204131", status="confirmed", confirmed=date(2026, 12, 3), customer_po=None)
    waiting = waiting.model_copy(update={"lines": (OrderLine(line_no=1, sku="CHAIR", description="Chair",
                                                             qty_ordered=30, qty_shipped=0),)})
    moving = order(confirmed=date(2026, 12, 1))
    orders = (waiting, moving)
    shipments = (shipment(eta=datetime(2026, 12, 4, 14, 0, tzinfo=UTC)),)
    lookup = LookupResult(customer_ids=("C100",), orders=orders, shipments=shipments,
                          facts=facts_from_records(orders=orders, shipments=shipments, fulfillments=[]))
    email = make_email(subject="NK204131 og NK204117", reply_text="...", language=lang)
    return DraftRequest(draft_id="golden-stale", email=email, references=(ref("NK204131"), ref("NK204117")),
                        intents=(Intent.ETA_REQUEST,), lookup=lookup,
                        style=StyleGuide(signature="Nordkyst Logistikk – Kundeservice"), now=now)


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_passed_dates_are_never_written_as_ahead(lang: str) -> None:
    draft = await golden_draft(request=stale_request(lang), golden=f"stale.{lang}.txt")
    assert draft.notes == ()  # the verifier accepts every sentence
    confirmed = format_date(date(2026, 12, 3), lang)
    order_text = next(s.text for s in draft.suggestions if s.kind == "order_status" and "NK204131" in s.text)
    assert f"{confirmed}" in order_text and PAST[lang] in order_text  # "was", not "is"
    eta_text = next(s.text for s in draft.suggestions if s.kind == "shipment_status")
    assert PAST[lang] in eta_text and format_date(date(2026, 12, 4), lang) in eta_text


async def test_without_a_clock_the_dates_read_as_before() -> None:
    draft = await TemplateDrafter().draft(request=stale_request("no", now=None))
    assert "med bekreftet leveringsdato 03.12.2026" in draft.body
    assert " var " not in draft.body


PAST = {"en": " was ", "no": " var ", "sv": " var ", "da": " var ", "de": " war "}
BOOKINGS = {
    "en": "Could you collect 4 pallets at our warehouse in Leeds on 11 December? Delivery to Bergen.",
    "no": "Kan dere hente 4 paller hos oss i Drammen 3. desember? Det skal til Umeå.",
    "sv": "Kan ni hämta 4 pallar hos oss i Göteborg den 7 december och köra dem till Hamburg?",
    "da": "Kan I hente 6 paller hos os i Aarhus den 4. december og køre dem til Tromsø?",
    "de": "Können Sie am 9. Dezember 6 Paletten bei uns in Kassel abholen und nach Aarhus bringen?",
}


def booking_request(lang: str) -> DraftRequest:
    email = make_email(subject="Transport", reply_text=BOOKINGS[lang], language=lang)
    return DraftRequest(draft_id="golden-booking", email=email, references=(), intents=(Intent.BOOKING_REQUEST,),
                        lookup=LookupResult(customer_ids=("C100",)),
                        style=StyleGuide(signature="Nordkyst Logistikk – Kundeservice"), now=NOW)


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_booking_reply_repeats_what_was_asked(lang: str) -> None:
    draft = await golden_draft(request=booking_request(lang), golden=f"booking.{lang}.txt")
    assert draft.notes == ()  # the pickup date and the pallets are the customer's own: the verifier accepts them
    booking = next(s.text for s in draft.suggestions if s.kind == "booking")
    day = {"en": "11 December", "no": "3. desember", "sv": "7 december", "da": "4. december", "de": "9. Dezember"}
    assert day[lang] in booking
    assert ("6" if lang in ("da", "de") else "4") in booking
    assert "request_reference" not in [s.kind for s in draft.suggestions]  # a booking needs no order number
