"""SAP S/4HANA adapter against copies of documented API_SALES_ORDER_SRV / API_OUTBOUND_DELIVERY_SRV answers.

Shapes copied: the OData V2 ``{"d": {...}}`` / ``{"d": {"results": [...]}}`` envelopes with
``__metadata``, ``/Date(ms)/`` dates, one-letter status codes, ``to_Item/to_ScheduleLine`` and
``to_SubsequentProcFlowDoc`` expansions (category ``J`` = outbound delivery, ``M`` = invoice), the
``A_OutbDeliveryHeader`` of ``API_OUTBOUND_DELIVERY_SRV;v=0002``, and the OData V2 error body
``{"error": {"code", "message": {"lang", "value"}, "innererror"}}``.
"""

from __future__ import annotations

import base64
import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.erp.sap_s4 import SapS4OrderSystem, odata_key, order_status
from tests.connectors.erp.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

SAP = "https://my-s4.nordkyst.example"
SO = f"{SAP}/sap/opu/odata/sap/API_SALES_ORDER_SRV"
DLV = f"{SAP}/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002"
SAP_ENV = {"TEST_SAP_PASSWORD": "s4p-pa55word"}
SAP_CONFIG: dict[str, Any] = {
    "type": "sap_s4", "system": "sap", "base_url": SAP, "sap_client": "100", "timezone": "Europe/Oslo",
    "auth": {"type": "basic", "username": "SHIPDRAFT_COMM", "password": "env:TEST_SAP_PASSWORD"},
    "link": SAP + "/ui#SalesOrder-manageV2&/SalesOrderManage('{record_id}')",
}
ORDERS = {"4711": "sap/sales_order_4711.json", "4712": "sap/sales_order_4712.json"}
DELIVERIES = {"80000815": "sap/outbound_delivery_80000815.json"}


def sap_routes(router: respx.MockRouter) -> None:
    """SAP Gateway as documented: basic auth and sap-client checked, 404 with the OData error body."""
    expected = "Basic " + base64.b64encode(f"SHIPDRAFT_COMM:{SAP_ENV['TEST_SAP_PASSWORD']}".encode()).decode()

    def guard(request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("Authorization") != expected:  # ICF answers 401 with an HTML logon page
            return httpx.Response(401, text="<html><body>Anmeldung fehlgeschlagen</body></html>",
                                  headers={"Content-Type": "text/html", "WWW-Authenticate": 'Basic realm="SAP"'})
        if request.headers.get("sap-client") != "100":
            return httpx.Response(400, json={"error": {"code": "/IWFND/CM_BEC/026",
                                                       "message": {"lang": "en", "value": "Wrong client"}}})
        return None

    def by_key(table: dict[str, str], key: str, request: httpx.Request) -> httpx.Response:
        refused = guard(request)
        if refused is not None:
            return refused
        if key in table:
            return httpx.Response(200, json=fixture(table[key]))
        return httpx.Response(404, json=fixture("sap/error_not_found.json"))

    def search(request: httpx.Request) -> httpx.Response:
        refused = guard(request)
        if refused is not None:
            return refused
        wanted = request.url.params["$filter"].removeprefix("PurchaseOrderByCustomer eq '")[:-1].replace("''", "'")
        rows = [fixture(f)["d"] for f in ORDERS.values()]
        return httpx.Response(200, json={"d": {"results": [r for r in rows
                                                           if r["PurchaseOrderByCustomer"] == wanted]}})

    router.get(url__regex=rf"^{SO}/A_SalesOrder\('(?P<key>(?:[^']|'')*)'\)").mock(
        side_effect=lambda request, key: by_key(ORDERS, key.replace("''", "'"), request))
    router.get(url__regex=rf"^{SO}/A_SalesOrder\?").mock(side_effect=search)
    router.get(url__regex=rf"^{DLV}/A_OutbDeliveryHeader\('(?P<key>[^']*)'\)").mock(
        side_effect=lambda request, key: by_key(DELIVERIES, key, request))


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SAP_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def sap() -> Any:
    with respx.mock(assert_all_called=False) as router:
        sap_routes(router)
        connector = SapS4OrderSystem(name="sap", config=SAP_CONFIG, context={}, sleep=no_sleep)
        yield connector, router
        await connector.aclose()


async def test_order_with_items_schedule_lines_and_delivery(sap: Any) -> None:
    connector, router = sap
    order = await connector.get_order(order_no="4711")
    assert order is not None
    assert (order.order_no, order.customer_id, order.customer_po) == ("4711", "10100001", "4500012345")
    assert order.status == "partially_shipped"  # delivery 80000815 goods-issued, item 20 still open
    assert order.requested_date == date(2026, 11, 20)  # /Date(1795132800000)/ = midnight UTC
    assert order.confirmed_date == date(2026, 11, 24)  # latest line with a confirmed quantity; 0-qty line ignored
    assert [(ln.line_no, ln.sku, ln.qty_ordered, ln.qty_shipped) for ln in order.lines] == [
        (10, "HM-SOFA-3S-GR", 60.0, 60.0), (20, "HM-CHAIR-LND", 80.0, 0.0)]
    assert order.deliveries == ("80000815",)  # the invoice (category M) is not a delivery
    assert order.source.system == "sap" and order.source.record_id == "4711"
    assert order.source.link == f"{SAP}/ui#SalesOrder-manageV2&/SalesOrderManage('4711')"
    assert abs(datetime.now(UTC) - order.source.fetched_at) < timedelta(minutes=1)
    first, delivery = [c.request for c in router.calls]
    assert str(first.url) == f"{SO}/A_SalesOrder('4711')?%24expand=to_Item%2Fto_ScheduleLine%2Cto_SubsequentProcFlowDoc"
    assert first.url.params["$expand"] == "to_Item/to_ScheduleLine,to_SubsequentProcFlowDoc"
    assert first.headers["sap-client"] == "100" and first.headers["Accept"] == "application/json"
    assert delivery.url.raw_path.decode() == (
        "/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryHeader('80000815')")


async def test_blocked_order_of_another_customer(sap: Any) -> None:
    connector, router = sap
    order = await connector.get_order(order_no="4712")
    assert order is not None
    assert (order.customer_id, order.status, order.confirmed_date, order.deliveries) == (
        "10100003", "on_hold", date(2026, 11, 27), ())
    assert len(router.calls) == 1  # no subsequent documents, no delivery call


async def test_not_found_is_none_and_po_search_filters(sap: Any) -> None:
    connector, router = sap
    assert await connector.get_order(order_no="9999") is None
    [order] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert order.order_no == "4712"
    assert await connector.find_orders_by_po(customer_po="NOPO0000") == []
    search = router.calls[1].request
    assert search.url.params["$filter"] == "PurchaseOrderByCustomer eq 'SK-7781'"
    assert search.url.params["$top"] == "20"
    assert search.url.params["$expand"] == "to_Item/to_ScheduleLine,to_SubsequentProcFlowDoc"


async def test_quotes_in_references_are_escaped_not_injected(sap: Any) -> None:
    connector, router = sap
    assert await connector.find_orders_by_po(customer_po="x' or SoldToParty ne '") == []
    sent = router.calls.last.request
    assert sent.url.params["$filter"] == "PurchaseOrderByCustomer eq 'x'' or SoldToParty ne '''"
    assert await connector.get_order(order_no="47'11") is None
    assert router.calls.last.request.url.raw_path.decode().startswith(
        "/sap/opu/odata/sap/API_SALES_ORDER_SRV/A_SalesOrder('47''11')")
    assert odata_key("a/b") == "('a%2Fb')"


async def test_wrong_password_names_the_setting(sap: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SAP_PASSWORD", "wrong")
    bad = SapS4OrderSystem(name="sap", config=SAP_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="4711")
    finally:
        await bad.aclose()
    assert "connectors.sap.auth.password" in raised.value.setting
    assert "wrong" not in str(raised.value)


@respx.mock
async def test_odata_error_body_becomes_the_message() -> None:
    respx.get(url__regex=rf"^{SO}/A_SalesOrder\?").respond(400, json=fixture("sap/error_bad_filter.json"))
    connector = SapS4OrderSystem(name="sap", config=SAP_CONFIG, context={})
    try:
        with pytest.raises(SystemError_, match="Invalid token detected at position 28"):
            await connector.find_orders_by_po(customer_po="4500012345")
    finally:
        await connector.aclose()


@respx.mock
async def test_deliveries_not_followed_uses_the_order_status() -> None:
    respx.get(url__regex=rf"^{SO}/A_SalesOrder\('4711'\)").respond(200, json=fixture(ORDERS["4711"]))
    connector = SapS4OrderSystem(name="sap", config={**SAP_CONFIG, "follow_deliveries": False}, context={})
    try:
        order = await connector.get_order(order_no="4711")
    finally:
        await connector.aclose()
    assert order is not None and order.status == "partially_shipped" and len(respx.calls) == 1


def _header(**fields: Any) -> dict[str, Any]:
    base = copy.deepcopy(fixture(ORDERS["4711"])["d"])
    base.update(fields)
    return base


@pytest.mark.parametrize(("fields", "deliveries", "expected"), [
    ({"OverallSDDocumentRejectionSts": "C"}, [], "cancelled"),
    ({"OverallSDProcessStatus": "C"}, None, "shipped"),
    ({"OverallDeliveryStatus": "C"}, [{"OverallGoodsMovementStatus": "C"}], "shipped"),
    ({"OverallDeliveryStatus": "C"}, [{"OverallGoodsMovementStatus": "A", "OverallPickingStatus": "C"}],
     "ready_for_pickup"),
    ({"OverallDeliveryStatus": "C"}, [{"OverallGoodsMovementStatus": "A", "OverallPickingStatus": "A"}],
     "confirmed"),
    ({"OverallDeliveryStatus": "C"}, None, "shipped"),
    ({"OverallDeliveryStatus": "A", "DeliveryBlockReason": "Z1"}, [], "on_hold"),
    ({"OverallDeliveryStatus": "A"}, [], "confirmed"),
])
def test_status_table(fields: dict[str, Any], deliveries: list[dict[str, Any]] | None, expected: str) -> None:
    header = _header(**fields)
    schedule = [s for i in header["to_Item"]["results"] for s in i["to_ScheduleLine"]["results"]]
    assert order_status(header, schedule=schedule, deliveries=deliveries) == expected


def test_unconfirmed_order_is_open() -> None:
    header = _header(OverallDeliveryStatus="A")
    assert order_status(header, schedule=[{"ConfdOrderQtyByMatlAvailCheck": "0"}], deliveries=[]) == "open"


def test_config_errors_name_the_setting() -> None:
    with pytest.raises(ConfigurationError) as raised:
        SapS4OrderSystem(name="sap", config={**SAP_CONFIG, "sap_client": "1000"}, context={})
    assert "connectors.sap.sap_client" in str(raised.value)
    with pytest.raises(ConfigurationError) as unknown:
        SapS4OrderSystem(name="sap", config={**SAP_CONFIG, "follow_delivery": True}, context={})
    assert "connectors.sap.follow_delivery" in str(unknown.value)
