"""The declarative REST connector beyond the conformance suite: configuration checks, POST bodies,
200-means-not-found answers, links, encoding, and records that must never lose their owner.

Vendor shapes used here:
- Odoo JSON-2 ``POST /json/2/sale.order/search_read`` with named arguments ``domain``/``fields``;
  the answer is the list of records; many2one values are ``[id, "name"]``; empty fields are ``false``.
- UPS Tracking API ``GET /api/track/v1/details/{inquiryNumber}?locale=en_US`` with ``transId`` and
  ``transactionSrc`` headers: ``trackResponse.shipment[].package[]`` with ``currentStatus``,
  ``deliveryDate[{type, date: YYYYMMDD}]``, ``activity[{date, time: HHMMSS, location}]``,
  ``referenceNumber[]``; an unknown number is a 200 with warning ``TW0001``.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
import respx

from agent.models import ReferenceKind
from connectors.base import ConfigurationError, SystemError_
from connectors.rest import RestConnector

pytestmark = pytest.mark.anyio

ODOO = "https://nordkyst.odoo.com"
UPS = "https://onlinetools.ups.com"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ODOO_KEY", "odoo-api-key")
    monkeypatch.setenv("TEST_UPS_TOKEN", "ups-bearer")


def _odoo(**changes: Any) -> dict[str, Any]:
    return {
        "type": "rest", "system": "odoo", "base_url": ODOO, "auth": {"type": "odoo", "key": "env:TEST_ODOO_KEY",
                                                                     "database": "nordkyst"},
        "link": ODOO + "/odoo/sales/{record_id}",
        "status_map": {"order": {"draft": "open", "sent": "open", "sale": "confirmed", "cancel": "cancelled"}},
        "endpoints": {"order": {
            "method": "POST", "path": "/json/2/sale.order/search_read",
            "body": {"domain": [["name", "=", "{order_no}"]],
                     "fields": ["name", "state", "partner_id", "client_order_ref", "commitment_date",
                                "picking_ids"]},
            "fields": {"order_no": "name", "customer_id": "partner_id[0]", "status": "state",
                       "customer_po": "client_order_ref", "confirmed_date": "commitment_date",
                       "deliveries": "picking_ids", "record_id": "to_string(id)"}}},
        **changes,
    }


@respx.mock
async def test_odoo_search_read_post_body_and_false_values() -> None:
    route = respx.post(f"{ODOO}/json/2/sale.order/search_read").respond(200, json=[{
        "id": 42, "name": "S00042", "state": "sale", "partner_id": [7, "Hansen Møbler AS"],
        "client_order_ref": "4500012345", "commitment_date": False, "picking_ids": [101, 102]}])
    odoo = RestConnector(name="odoo", config=_odoo())
    order = await odoo.get_order(order_no="S00042")
    await odoo.get_order(order_no="S00042")
    await odoo.aclose()
    assert order is not None
    assert (order.customer_id, order.status, order.confirmed_date, order.deliveries) == ("7", "confirmed", None,
                                                                                         ("101", "102"))
    assert order.source.record_id == "42" and order.source.link == f"{ODOO}/odoo/sales/42"
    sent = route.calls[0].request
    assert sent.headers["Authorization"] == "bearer odoo-api-key" and sent.headers["X-Odoo-Database"] == "nordkyst"
    assert json.loads(sent.content)["domain"] == [["name", "=", "S00042"]]
    assert route.call_count == 2  # POST answers are not cached unless an endpoint says so


def _ups() -> dict[str, Any]:
    package = "trackResponse.shipment[0].package[]"
    return {
        "type": "rest", "system": "ups", "base_url": UPS, "timezone": "Europe/Oslo",
        "auth": {"type": "bearer", "token": "env:TEST_UPS_TOKEN"},
        "headers": {"transId": "shipdraft-1", "transactionSrc": "shipdraft"},
        "status_map": {"shipment": {"M": "booked", "I": "in_transit", "X": "exception", "D": "delivered",
                                    "O": "out_for_delivery"}},
        "endpoints": {"track": {
            "path": "/api/track/v1/details/{value}", "params": {"locale": "en_US"}, "record": package,
            "not_found_if": "trackResponse.shipment[0].warnings[?code=='TW0001'] | [0]",
            "fields": {
                "shipment_id": "trackingNumber", "tracking_no": "trackingNumber", "status": "currentStatus.type",
                "customer_id": "referenceNumber[?type=='SHIPPER_REFERENCE'].number | [0]",
                "delivered_at": "join('', [deliveryDate[?type=='DEL'].date | [0], activity[0].time])",
                "eta": "deliveryDate[?type=='SDD'].date | [0]",
                "last_event_time": "join('', [activity[0].date, activity[0].time])",
                "last_event_location": "activity[0].location.address.city",
                "last_event_description": "activity[0].status.description"}}},
    }


def _ups_package(**changes: Any) -> dict[str, Any]:
    return {"trackResponse": {"shipment": [{"inquiryNumber": "1Z999AA10123456784", "package": [{
        "trackingNumber": "1Z999AA10123456784",
        "currentStatus": {"type": "D", "code": "011", "description": "Delivered",
                          "simplifiedTextDescription": "Delivered", "statusCode": "011"},
        "deliveryDate": [{"type": "DEL", "date": "20261118"}],
        "deliveryTime": {"type": "DEL", "endTime": "104200"},
        "activity": [{"date": "20261118", "time": "104200", "status": {"type": "D", "description": "DELIVERED"},
                      "location": {"address": {"city": "STAVANGER", "countryCode": "NO"}}}],
        "referenceNumber": [{"type": "SHIPPER_REFERENCE", "number": "C100"}], **changes}]}]}}


@respx.mock
async def test_ups_compact_dates_filters_and_headers() -> None:
    route = respx.get(f"{UPS}/api/track/v1/details/1Z999AA10123456784").respond(200, json=_ups_package())
    ups = RestConnector(name="ups", config=_ups())
    [shipment] = await ups.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784")
    await ups.aclose()
    assert (shipment.customer_id, shipment.status) == ("C100", "delivered")
    assert shipment.delivered_at == datetime(2026, 11, 18, 9, 42, tzinfo=UTC)  # 10:42 in Oslo
    assert shipment.last_event is not None and shipment.last_event.location == "STAVANGER"
    sent = route.calls.last.request
    assert sent.url.params["locale"] == "en_US" and sent.headers["transId"] == "shipdraft-1"


@respx.mock
async def test_a_200_that_means_not_found() -> None:
    respx.get(f"{UPS}/api/track/v1/details/1Z0000000000000000").respond(200, json={"trackResponse": {"shipment": [{
        "inquiryNumber": "1Z0000000000000000", "package": [],
        "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}]}]}})
    ups = RestConnector(name="ups", config=_ups())
    assert await ups.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z0000000000000000") == []
    await ups.aclose()


@respx.mock
async def test_a_record_without_its_owner_is_refused_not_guessed() -> None:
    respx.get(f"{UPS}/api/track/v1/details/1Z999AA10123456784").respond(
        200, json=_ups_package(referenceNumber=[]))
    ups = RestConnector(name="ups", config=_ups())
    with pytest.raises(SystemError_, match="without customer_id"):
        await ups.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784")
    await ups.aclose()


@respx.mock
async def test_an_answer_that_does_not_fit_the_paths_is_a_system_error() -> None:
    package = _ups_package()
    del package["trackResponse"]["shipment"][0]["package"][0]["activity"]
    respx.get(f"{UPS}/api/track/v1/details/1Z999AA10123456784").respond(200, json=package)
    ups = RestConnector(name="ups", config=_ups())
    with pytest.raises(SystemError_, match="does not fit the answer"):
        await ups.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784")
    await ups.aclose()


@respx.mock
async def test_path_placeholders_are_encoded() -> None:
    route = respx.get(url__regex=rf"^{UPS}/api/track/v1/details/.*").respond(200, json={"trackResponse": {}})
    ups = RestConnector(name="ups", config=_ups())
    assert await ups.track(kind=ReferenceKind.TRACKING_NUMBER, value="../../admin?x=1") == []
    await ups.aclose()
    assert route.calls.last.request.url.raw_path == b"/api/track/v1/details/..%2F..%2Fadmin%3Fx%3D1?locale=en_US"


@pytest.mark.parametrize(("change", "message"), [
    ({"endpoints": {"orders": {"path": "/x", "fields": {}}}}, r"endpoints\.orders"),
    ({"endpoints": {"order": {"path": "/o/{order}", "fields": {"order_no": "a", "customer_id": "b", "status": "c"}}}},
     r"placeholder \{order\} is not allowed here; use \{order_no\}"),
    ({"endpoints": {"order": {"path": "/o/{order_no}", "fields": {"order_no": "a", "status": "c"}}}},
     r"fields \['customer_id'\] are required"),
    ({"endpoints": {"order": {"path": "/o/{order_no}", "fields": {"order_no": "a", "customer_id": "b", "status": "c",
                                                                  "colour": "d"}}}}, r"unknown fields \['colour'\]"),
    ({"endpoints": {"order": {"path": "/o/{order_no}", "fields": {"order_no": "a[", "customer_id": "b",
                                                                  "status": "c"}}}}, "not a valid JMESPath"),
    ({"endpoints": {}}, "configure at least one"),
    ({"timezone": "Europe/Bergen"}, "unknown time zone"),
    ({"status_map": {"order": {"sale": "sold"}}}, "not a order status"),
    ({"base_url": "nordkyst.odoo.com"}, r"connectors\.odoo\.base_url must be an http"),
    ({"retry": 3}, r"connectors\.odoo\.retry: Extra inputs"),
])
def test_configuration_errors_name_the_setting(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RestConnector(name="odoo", config=_odoo(**change))


@respx.mock
async def test_an_unconfigured_call_is_not_served() -> None:
    odoo = RestConnector(name="odoo", config=_odoo())
    assert odoo.serves("erp") and not odoo.serves("tms") and not odoo.serves("directory")
    assert await odoo.find_orders_by_po(customer_po="4500012345") == []
    assert await odoo.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU4417209") == []
    with pytest.raises(ConfigurationError, match=r"endpoints\.fulfillment is not configured"):
        await odoo.fulfillment(order_no="S00042")
    await odoo.aclose()


@respx.mock
async def test_unmapped_statuses_become_unknown_and_dates_parse() -> None:
    respx.post(f"{ODOO}/json/2/sale.order/search_read").mock(return_value=httpx.Response(200, json=[{
        "id": 1, "name": "S1", "state": "waiting_for_approval", "partner_id": [7, "X"], "client_order_ref": False,
        "commitment_date": "2026-11-24 12:00:00", "picking_ids": []}]))
    odoo = RestConnector(name="odoo", config=_odoo())
    order = await odoo.get_order(order_no="S1")
    await odoo.aclose()
    assert order is not None and order.status == "unknown" and order.confirmed_date == date(2026, 11, 24)
    assert order.customer_po is None
