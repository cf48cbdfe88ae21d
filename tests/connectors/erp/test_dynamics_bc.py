"""Business Central adapter against copies of documented API v2.0 answers.

Shapes copied: ``{"@odata.context", "value": [...]}`` lists with ``@odata.etag``, ``salesOrders`` with
``$expand=salesOrderLines`` (``lineType`` Item/Comment, ``sequence``, ``shipmentDate``,
``shippedQuantity``), ``salesShipments`` with ``orderNumber`` and ``salesShipmentLines``, blank dates
``0001-01-01``, API status values ``Draft`` / ``In Review`` / ``Open``, OData errors
``{"error": {"code", "message"}}``, and the Entra client-credentials token request.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.erp.dynamics_bc import BusinessCentralOrderSystem
from tests.connectors.erp.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

TENANT = "7e3b1c2d-0000-4a5b-9c8d-1234567890ab"
COMPANY = "5a2c1e6f-9b7d-4e3a-8f1c-0d2e3f4a5b6c"
BC = "https://api.businesscentral.dynamics.com"
ROOT = f"{BC}/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
BC_ENV = {"TEST_BC_CLIENT_ID": "3c1d2e4f-bc-client", "TEST_BC_CLIENT_SECRET": "bc-s3cret~value"}
BC_CONFIG: dict[str, Any] = {
    "type": "dynamics_bc", "system": "business-central", "tenant_id": TENANT, "environment": "production",
    "company_id": COMPANY, "timezone": "Europe/Oslo",
    "auth": {"type": "oauth2_client_credentials", "token_url": TOKEN_URL, "client_id": "env:TEST_BC_CLIENT_ID",
             "client_secret": "env:TEST_BC_CLIENT_SECRET", "scope": "https://api.businesscentral.dynamics.com/.default"},
    "link": "https://businesscentral.dynamics.com/" + TENANT + "/production/?page=42&filter='No.' IS '{record_id}'",
}
ORDERS = {"S-ORD101001": "bc/sales_orders_101001.json", "S-ORD101007": "bc/sales_orders_101007.json"}
SHIPMENTS = {"S-ORD101001": "bc/sales_shipments_101001.json", "S-ORD100950": "bc/sales_shipments_posted_100950.json"}
_FILTER = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")


def bc_routes(router: respx.MockRouter) -> None:
    """Entra token endpoint + BC API v2.0: bearer token checked, $filter evaluated on the fixtures."""

    def token(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        if form.get("client_secret") != [BC_ENV["TEST_BC_CLIENT_SECRET"]]:
            return httpx.Response(401, json={"error": "invalid_client", "error_codes": [7000215],
                                             "error_description": "AADSTS7000215: Invalid client secret provided."})
        return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                         "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bc.sig"})

    def listing(request: httpx.Request, entity: str) -> httpx.Response:
        if request.headers.get("Authorization") != "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.bc.sig":
            return httpx.Response(401, json=fixture("bc/error_unauthorized.json"))
        match = _FILTER.match(request.url.params.get("$filter", ""))
        if match is None:
            return httpx.Response(400, json=fixture("bc/error_bad_filter.json"))
        field, value = match.group(1), match.group(2).replace("''", "'")
        files = ORDERS if entity == "salesOrders" else SHIPMENTS
        rows = [r for f in files.values() for r in fixture(f)["value"] if r.get(field) == value]
        return httpx.Response(200, json={"@odata.context": "...", "value": rows})

    router.post(TOKEN_URL).mock(side_effect=token)
    router.get(url__regex=rf"^{re.escape(ROOT)}/(?P<entity>salesOrders|salesShipments)\?").mock(side_effect=listing)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in BC_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def bc() -> Any:
    with respx.mock(assert_all_called=False) as router:
        bc_routes(router)
        connector = BusinessCentralOrderSystem(name="bc", config=BC_CONFIG, context={}, sleep=no_sleep)
        yield connector, router
        await connector.aclose()


async def test_open_order_with_lines_and_posted_shipment(bc: Any) -> None:
    connector, router = bc
    order = await connector.get_order(order_no="S-ORD101001")
    assert order is not None
    assert (order.order_no, order.customer_id, order.customer_po) == ("S-ORD101001", "C100", "4500012345")
    assert order.status == "partially_shipped"
    assert str(order.requested_date) == "2026-11-20" and str(order.confirmed_date) == "2026-11-24"
    assert [(ln.line_no, ln.sku, ln.qty_ordered, ln.qty_shipped) for ln in order.lines][:2] == [
        (10000, "HM-SOFA-3S-GR", 60.0, 60.0), (20000, "HM-CHAIR-LND", 80.0, 0.0)]
    assert order.deliveries == ("S-SHPT102033",)
    assert order.source.link is not None and order.source.link.endswith("IS 'S-ORD101001'")
    token, *calls = [c.request for c in router.calls]
    assert parse_qs(token.content.decode())["scope"] == ["https://api.businesscentral.dynamics.com/.default"]
    by_path = {c.url.path.rsplit("/", 1)[1]: c for c in calls}
    orders, shipments = by_path["salesOrders"], by_path["salesShipments"]
    assert orders.url.params["$filter"] == "number eq 'S-ORD101001'"
    assert orders.url.params["$expand"] == "salesOrderLines"
    assert shipments.url.params["$filter"] == "orderNumber eq 'S-ORD101001'"
    assert shipments.url.params["$expand"] == "salesShipmentLines"
    assert orders.url.path == f"/v2.0/{TENANT}/production/api/v2.0/companies({COMPANY})/salesOrders"
    assert orders.headers["Authorization"].startswith("Bearer ")


async def test_order_in_review_blank_date_other_customer(bc: Any) -> None:
    connector, _ = bc
    order = await connector.get_order(order_no="S-ORD101007")
    assert order is not None
    assert (order.customer_id, order.status, order.requested_date) == ("C300", "on_hold", None)
    [found] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert found.order_no == "S-ORD101007"


async def test_posted_and_deleted_order_comes_from_its_shipments(bc: Any) -> None:
    connector, _ = bc
    order = await connector.get_order(order_no="S-ORD100950")
    assert order is not None
    assert (order.status, order.customer_id, order.customer_po, str(order.confirmed_date)) == (
        "shipped", "C100", "4500011111", "2026-09-02")
    assert order.deliveries == ("S-SHPT101980",) and order.lines[0].qty_shipped == 5.0


async def test_not_found_and_escaping(bc: Any) -> None:
    connector, router = bc
    assert await connector.get_order(order_no="S-ORD999999") is None
    assert await connector.find_orders_by_po(customer_po="O'Brien") == []
    assert router.calls.last.request.url.params["$filter"] == "externalDocumentNumber eq 'O''Brien'"


async def test_status_map_overrides_and_validates(bc: Any) -> None:
    connector = BusinessCentralOrderSystem(name="bc", config={**BC_CONFIG, "status_map": {"In Review": "open"}},
                                           context={})
    try:
        order = await connector.get_order(order_no="S-ORD101007")
    finally:
        await connector.aclose()
    assert order is not None and order.status == "open"
    with pytest.raises(ConfigurationError) as raised:
        BusinessCentralOrderSystem(name="bc", config={**BC_CONFIG, "status_map": {"Open": "released"}}, context={})
    assert raised.value.setting == "connectors.bc.status_map.order"


async def test_refused_client_secret_is_a_configuration_error(bc: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_BC_CLIENT_SECRET", "wrong")
    bad = BusinessCentralOrderSystem(name="bc", config=BC_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="S-ORD101001")
    finally:
        await bad.aclose()
    assert "invalid_client" in str(raised.value) and "TEST_BC_CLIENT_SECRET" in raised.value.setting


@respx.mock
async def test_odata_error_message_is_kept() -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "t", "expires_in": 3599, "token_type": "Bearer"})
    respx.get(url__startswith=ROOT).respond(400, json=fixture("bc/error_bad_filter.json"))
    connector = BusinessCentralOrderSystem(name="bc", config=BC_CONFIG, context={})
    try:
        with pytest.raises(SystemError_, match="Could not find a property named 'numbr'"):
            await connector.find_orders_by_po(customer_po="4500012345")
    finally:
        await connector.aclose()


def test_config_is_validated() -> None:
    with pytest.raises(ConfigurationError) as raised:
        BusinessCentralOrderSystem(name="bc", config={**BC_CONFIG, "company_id": "CRONUS"}, context={})
    assert "connectors.bc.company_id" in str(raised.value)
    with pytest.raises(ConfigurationError) as missing:
        BusinessCentralOrderSystem(name="bc", config={k: v for k, v in BC_CONFIG.items() if k != "tenant_id"},
                                   context={})
    assert missing.value.setting == "connectors.bc.tenant_id"
