"""ERPNext adapter against copies of documented Frappe REST answers.

Shapes copied: ``GET /api/resource/Sales Order/{name}`` -> ``{"data": {...}}`` with the ``items`` child
table (``idx``, ``item_code``, ``qty``, ``delivered_qty``), list calls with JSON ``filters`` / ``fields``
and ``limit_page_length`` -> ``{"data": [...]}``, child-table filters
(``["Delivery Note Item","against_sales_order","=",...]``), ``Authorization: token key:secret``,
errors ``{"exc_type", "exception", "_server_messages"}`` (404 DoesNotExistError, 403 PermissionError).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest
import respx

from connectors.base import ConfigurationError
from connectors.erp.erpnext import ErpNextOrderSystem
from tests.connectors.erp.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

ERPNEXT = "https://erp.nordkyst.example"
ERPNEXT_ENV = {"TEST_ERPNEXT_KEY": "k3y-erpnext", "TEST_ERPNEXT_SECRET": "s3cret-erpnext-value"}
ERPNEXT_CONFIG: dict[str, Any] = {
    "type": "erpnext", "system": "erpnext", "base_url": ERPNEXT, "timezone": "Europe/Oslo",
    "auth": {"type": "erpnext", "api_key": "env:TEST_ERPNEXT_KEY", "api_secret": "env:TEST_ERPNEXT_SECRET"},
}


def erpnext_routes(router: respx.MockRouter) -> None:
    orders = {o["name"]: o for o in fixture("erpnext/sales_orders.json")}

    def denied(request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("Authorization") != "token k3y-erpnext:s3cret-erpnext-value":
            return httpx.Response(403, json=fixture("erpnext/error_permission.json"))
        return None

    def one(request: httpx.Request, name: str) -> httpx.Response:
        name = httpx.URL(f"/{name}").path[1:]
        refused = denied(request)  # Frappe authenticates before it looks the document up
        if refused is not None:
            return refused
        if name not in orders:
            return httpx.Response(404, json=fixture("erpnext/error_not_found.json"))
        return httpx.Response(200, json={"data": orders[name]})

    def listing(request: httpx.Request) -> httpx.Response:
        filters = json.loads(request.url.params["filters"])
        rows = [{"name": o["name"]} for o in orders.values() if all(o.get(f) == v for f, _, v in filters)]
        return denied(request) or httpx.Response(200, json={"data": rows})

    def notes(request: httpx.Request) -> httpx.Response:
        [[_, _, _, order], _] = json.loads(request.url.params["filters"])
        body = fixture("erpnext/delivery_notes.json") if order == "SAL-ORD-2026-00417" else {"data": []}
        return denied(request) or httpx.Response(200, json=body)

    router.get(url__regex=rf"^{ERPNEXT}/api/resource/Sales%20Order/(?P<name>[^?]+)$").mock(side_effect=one)
    router.get(url__regex=rf"^{ERPNEXT}/api/resource/Sales%20Order\?").mock(side_effect=listing)
    router.get(url__regex=rf"^{ERPNEXT}/api/resource/Delivery%20Note\?").mock(side_effect=notes)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ERPNEXT_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def erpnext() -> Any:
    with respx.mock(assert_all_called=False) as router:
        erpnext_routes(router)
        connector = ErpNextOrderSystem(name="erpnext", config=ERPNEXT_CONFIG, context={}, sleep=no_sleep)
        yield connector, router
        await connector.aclose()


async def test_sales_order_with_items_and_delivery_notes(erpnext: Any) -> None:
    connector, router = erpnext
    order = await connector.get_order(order_no="SAL-ORD-2026-00417")
    assert order is not None
    assert (order.customer_id, order.customer_po, order.status, order.confirmed_date) == (
        "C100", "4500012345", "partially_shipped", date(2026, 11, 24))
    assert [(ln.line_no, ln.sku, ln.qty_ordered, ln.qty_shipped) for ln in order.lines] == [
        (1, "HM-SOFA-3S-GR", 60.0, 60.0), (2, "HM-CHAIR-LND", 80.0, 0.0)]
    assert order.deliveries == ("MAT-DN-2026-00311",)
    assert order.source.link == f"{ERPNEXT}/app/sales-order/SAL-ORD-2026-00417"
    first, notes = (c.request for c in router.calls)
    assert first.url.raw_path == b"/api/resource/Sales%20Order/SAL-ORD-2026-00417"
    assert first.headers["Authorization"] == "token k3y-erpnext:s3cret-erpnext-value"
    assert json.loads(notes.url.params["filters"]) == [
        ["Delivery Note Item", "against_sales_order", "=", "SAL-ORD-2026-00417"], ["docstatus", "=", 1]]
    assert "lr_no" in json.loads(notes.url.params["fields"])


async def test_po_search_other_customer_and_not_found(erpnext: Any) -> None:
    connector, router = erpnext
    [order] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert (order.order_no, order.customer_id, order.status) == ("SAL-ORD-2026-00431", "C300", "on_hold")
    listing = router.calls[0].request
    assert json.loads(listing.url.params["filters"]) == [["po_no", "=", "SK-7781"]]
    assert listing.url.params["limit_page_length"] == "20"
    assert await connector.get_order(order_no="SAL-ORD-2026-99999") is None
    assert await connector.find_orders_by_po(customer_po="NOPO0000") == []


async def test_permission_error_names_the_auth_setting(erpnext: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ERPNEXT_SECRET", "wrong")
    bad = ErpNextOrderSystem(name="erpnext", config=ERPNEXT_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="SAL-ORD-2026-00417")
    finally:
        await bad.aclose()
    assert "TEST_ERPNEXT_SECRET" in raised.value.setting and "PermissionError" in str(raised.value)


@pytest.mark.parametrize(("fields", "expected"), [
    ({"docstatus": 2, "status": "Cancelled"}, "cancelled"),
    ({"docstatus": 0, "status": "Draft"}, "open"),
    ({"status": "To Bill", "delivery_status": "Fully Delivered", "per_delivered": 100}, "shipped"),
    ({"status": "To Deliver and Bill", "delivery_status": "Not Delivered", "per_delivered": 0}, "confirmed"),
    ({"status": "Closed", "delivery_status": "Not Delivered", "per_delivered": 0}, "cancelled"),
    ({"status": "Completed", "delivery_status": "Fully Delivered", "per_delivered": 100}, "shipped"),
])
def test_status_table(fields: dict[str, Any], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    connector = ErpNextOrderSystem(name="erpnext", config=ERPNEXT_CONFIG, context={})
    assert connector._status({"docstatus": 1, **fields}) == expected


def test_status_map_override_is_validated() -> None:
    connector = ErpNextOrderSystem(name="erpnext", config={**ERPNEXT_CONFIG, "status_map": {"On Hold": "open"}},
                                   context={})
    assert connector._status({"docstatus": 1, "status": "On Hold"}) == "open"
    with pytest.raises(ConfigurationError) as raised:
        ErpNextOrderSystem(name="erpnext", config={**ERPNEXT_CONFIG, "status_map": {"On Hold": "paused"}},
                           context={})
    assert raised.value.setting == "connectors.erpnext.status_map.order"
