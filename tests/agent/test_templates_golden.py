"""Golden tests: the full template reply in every language for one rich case.

A change to a template shows up here as a diff a reviewer reads. Regenerate
deliberately with ``SHIPDRAFT_UPDATE_GOLDEN=1 pytest tests/agent/test_templates_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.drafting import TEMPLATE_LANGUAGES, DraftRequest, TemplateDrafter
from agent.lookup import facts_from_records
from agent.models import Fulfillment, Intent, LookupFailure, LookupResult, Withheld
from agent.profile import StyleGuide
from tests.agent.builders import make_email, order, ref, shipment, source

pytestmark = pytest.mark.anyio
GOLDEN = Path(__file__).parent / "golden"


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
    draft = await TemplateDrafter().draft(request=rich_request(lang))
    path = GOLDEN / f"reply.{lang}.txt"
    if os.environ.get("SHIPDRAFT_UPDATE_GOLDEN") == "1":
        path.write_text(draft.body, encoding="utf-8")
    assert draft.body == path.read_text(encoding="utf-8")
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
    draft = await TemplateDrafter().draft(request=sparse_request(lang))
    path = GOLDEN / f"sparse.{lang}.txt"
    if os.environ.get("SHIPDRAFT_UPDATE_GOLDEN") == "1":
        path.write_text(draft.body, encoding="utf-8")
    assert draft.body == path.read_text(encoding="utf-8")
    assert draft.notes == ()
    assert [s.kind for s in draft.suggestions] == ["greeting", "thanks", "complaint", "delivery_change",
                                                   "cancellation", "booking", "request_reference", "closing"]
