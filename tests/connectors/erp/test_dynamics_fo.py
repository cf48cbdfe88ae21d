"""Finance & Operations adapter against copies of documented OData data-entity answers.

Shapes copied: ``/data/SalesOrderHeadersV2`` and ``/data/SalesOrderLines`` lists
``{"@odata.context", "value": [...]}`` with ``@odata.etag`` and ``dataAreaId``, the ``cross-company=true``
query option (without it only the default company is visible), ``SalesOrderStatus`` /
``SalesOrderLineStatus`` enum names (``Backorder``, ``Delivered``, ``Invoiced``, ``Canceled``),
``Edm.DateTimeOffset`` dates at ``T12:00:00Z`` with ``1900-01-01`` as blank, OData errors
``{"error": {"code", "message", "innererror"}}``, and the Entra client-credentials token request with the
environment's ``/.default`` scope.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.erp.dynamics_fo import FinanceOperationsOrderSystem
from tests.connectors.erp.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

TENANT = "7e3b1c2d-0000-4a5b-9c8d-1234567890ab"
FO = "https://contoso-prod.operations.dynamics.com"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.fo.sig"
FO_ENV = {"TEST_FO_CLIENT_ID": "9a8b7c6d-fo-client", "TEST_FO_CLIENT_SECRET": "fo-s3cret~value"}
FO_CONFIG: dict[str, Any] = {
    "type": "dynamics_fo", "system": "d365-fo", "base_url": FO, "company": "usmf", "timezone": "America/Chicago",
    "auth": {"type": "oauth2_client_credentials", "token_url": TOKEN_URL, "client_id": "env:TEST_FO_CLIENT_ID",
             "client_secret": "env:TEST_FO_CLIENT_SECRET", "scope": f"{FO}/.default"},
}
_CONDITION = re.compile(r"^(\w+) eq '((?:[^']|'')*)'$")
ENTITIES = {"SalesOrderHeadersV2": "fo/sales_order_headers.json", "SalesOrderLines": "fo/sales_order_lines.json"}


def _conditions(text: str) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for part in text.split(" and "):
        match = _CONDITION.match(part.strip())
        if match is None:
            return None
        found[match.group(1)] = match.group(2).replace("''", "'")
    return found


def fo_routes(router: respx.MockRouter) -> None:
    """Entra token endpoint + F&O OData: bearer checked, ``cross-company`` and ``$filter`` evaluated."""

    def token(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        if form.get("client_secret") != [FO_ENV["TEST_FO_CLIENT_SECRET"]]:
            return httpx.Response(401, json={"error": "invalid_client", "error_codes": [7000215],
                                             "error_description": "AADSTS7000215: Invalid client secret provided."})
        return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                         "access_token": ACCESS_TOKEN})

    def listing(request: httpx.Request, entity: str) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
            return httpx.Response(401)  # F&O answers an unauthorized call with an empty 401
        conditions = _conditions(request.url.params.get("$filter", ""))
        if conditions is None:
            return httpx.Response(400, json=fixture("fo/error_bad_property.json"))
        rows = fixture(ENTITIES[entity])["value"]
        if request.url.params.get("cross-company") != "true":
            rows = [r for r in rows if r["dataAreaId"] == "dat"]  # only the user's default company
        rows = [r for r in rows if all(str(r.get(k)) == v for k, v in conditions.items())]
        fields = request.url.params.get("$select")
        if fields:
            rows = [{k: v for k, v in r.items() if k in fields.split(",") or k.startswith("@")} for r in rows]
        top = request.url.params.get("$top")
        return httpx.Response(200, json={"@odata.context": f"{FO}/data/$metadata#{entity}",
                                         "value": rows[:int(top)] if top else rows})

    router.post(TOKEN_URL).mock(side_effect=token)
    router.get(url__regex=rf"^{re.escape(FO)}/data/(?P<entity>SalesOrderHeadersV2|SalesOrderLines)\?").mock(
        side_effect=listing)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FO_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def fo() -> Any:
    with respx.mock(assert_all_called=False) as router:
        fo_routes(router)
        connector = FinanceOperationsOrderSystem(name="fo", config=FO_CONFIG, context={}, sleep=no_sleep)
        yield connector, router
        await connector.aclose()


async def test_open_order_with_delivered_line_is_partially_shipped(fo: Any) -> None:
    connector, router = fo
    order = await connector.get_order(order_no="SO-000123")
    assert order is not None
    assert (order.order_no, order.customer_id, order.customer_po) == ("SO-000123", "US-001", "4500012345")
    assert order.status == "partially_shipped"
    assert str(order.requested_date) == "2026-11-20" and str(order.confirmed_date) == "2026-11-24"
    assert [(ln.line_no, ln.sku, ln.qty_ordered, ln.qty_shipped) for ln in order.lines] == [
        (1, "T0001", 60.0, 60.0), (2, "T0004", 80.0, None)]  # the canceled line is left out
    assert order.source.system == "d365-fo" and order.source.record_id == "SO-000123"
    assert order.source.link == f"{FO}/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='SO-000123')"
    token, headers, lines = [c.request for c in router.calls]
    assert parse_qs(token.content.decode())["scope"] == [f"{FO}/.default"]
    assert parse_qs(token.content.decode())["grant_type"] == ["client_credentials"]
    assert headers.url.path == "/data/SalesOrderHeadersV2" and lines.url.path == "/data/SalesOrderLines"
    assert headers.url.params["cross-company"] == "true" and lines.url.params["cross-company"] == "true"
    assert headers.url.params["$filter"] == "SalesOrderNumber eq 'SO-000123' and dataAreaId eq 'usmf'"
    assert headers.url.params["$select"] == ("SalesOrderNumber,dataAreaId,SalesOrderStatus,"
                                             "OrderingCustomerAccountNumber,CustomersOrderReference,"
                                             "RequestedShippingDate,ConfirmedShippingDate")
    assert headers.url.params["$top"] == "20"
    assert lines.url.params["$filter"] == "SalesOrderNumber eq 'SO-000123' and dataAreaId eq 'usmf'"
    assert "OrderedSalesQuantity" in lines.url.params["$select"]
    assert headers.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert headers.headers["Accept"] == "application/json"


async def test_blank_dates_other_customer_and_po(fo: Any) -> None:
    connector, _ = fo
    order = await connector.get_order(order_no="SO-000124")
    assert order is not None
    assert (order.customer_id, order.status, order.confirmed_date) == ("US-004", "open", None)
    assert str(order.requested_date) == "2026-12-01"
    [found] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert found.order_no == "SO-000124" and found.lines[0].sku == "D0001"


async def test_invoiced_order_is_shipped(fo: Any) -> None:
    connector, _ = fo
    order = await connector.get_order(order_no="SO-000098")
    assert order is not None
    assert (order.status, str(order.confirmed_date), order.lines[0].qty_shipped) == ("shipped", "2026-09-02", 5.0)


async def test_cross_company_without_company_reads_lines_from_the_orders_company(
        caplog: pytest.LogCaptureFixture) -> None:
    config = {k: v for k, v in FO_CONFIG.items() if k != "company"} | {"link": "https://x.example/?cmp={company}&id={record_id}"}
    with respx.mock(assert_all_called=False) as router:
        fo_routes(router)
        connector = FinanceOperationsOrderSystem(name="fo", config=config, context={}, sleep=no_sleep)
        try:
            with caplog.at_level(logging.WARNING, logger="connectors.erp.dynamics_fo"):
                order = await connector.get_order(order_no="SO-000123")
        finally:
            await connector.aclose()
        calls = [c.request for c in router.calls][1:]
    assert order is not None and order.customer_id == "US-001"  # the first company's order
    assert calls[0].url.params["$filter"] == "SalesOrderNumber eq 'SO-000123'"
    assert calls[1].url.params["$filter"] == "SalesOrderNumber eq 'SO-000123' and dataAreaId eq 'usmf'"
    assert order.source.link == "https://x.example/?cmp=usmf&id=SO-000123"
    assert "several companies" in caplog.text


async def test_not_found_and_escaping(fo: Any) -> None:
    connector, router = fo
    assert await connector.get_order(order_no="SO-999999") is None
    assert await connector.get_order(order_no="  ") is None
    assert await connector.find_orders_by_po(customer_po="O'Brien") == []
    assert router.calls.last.request.url.params["$filter"] == (
        "CustomersOrderReference eq 'O''Brien' and dataAreaId eq 'usmf'")


async def test_status_map_overrides_and_validates(fo: Any) -> None:
    connector = FinanceOperationsOrderSystem(name="fo", config={**FO_CONFIG, "status_map": {"Invoiced": "delivered"}},
                                             context={})
    try:
        order = await connector.get_order(order_no="SO-000098")
    finally:
        await connector.aclose()
    assert order is not None and order.status == "delivered"
    with pytest.raises(ConfigurationError) as raised:
        FinanceOperationsOrderSystem(name="fo", config={**FO_CONFIG, "status_map": {"Delivered": "sent"}}, context={})
    assert raised.value.setting == "connectors.fo.status_map.order"


async def test_refused_client_secret_is_a_configuration_error(fo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_FO_CLIENT_SECRET", "wrong")
    bad = FinanceOperationsOrderSystem(name="fo", config=FO_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="SO-000123")
    finally:
        await bad.aclose()
    assert "invalid_client" in str(raised.value) and "TEST_FO_CLIENT_SECRET" in raised.value.setting
    assert "wrong" not in str(raised.value)


@respx.mock
async def test_odata_error_message_is_kept() -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "t", "expires_in": 3599, "token_type": "Bearer"})
    respx.get(url__startswith=f"{FO}/data/").respond(400, json=fixture("fo/error_bad_property.json"))
    connector = FinanceOperationsOrderSystem(name="fo", config=FO_CONFIG, context={})
    try:
        with pytest.raises(SystemError_, match="Could not find a property named 'SalesOrderNumbr'"):
            await connector.get_order(order_no="SO-000123")
    finally:
        await connector.aclose()


@respx.mock
async def test_answer_without_value_list_is_a_system_error() -> None:
    respx.post(TOKEN_URL).respond(200, json={"access_token": "t", "expires_in": 3599, "token_type": "Bearer"})
    respx.get(url__startswith=f"{FO}/data/").respond(200, json={"@odata.context": "x"})
    connector = FinanceOperationsOrderSystem(name="fo", config=FO_CONFIG, context={})
    try:
        with pytest.raises(SystemError_, match="no value list"):
            await connector.get_order(order_no="SO-000123")
    finally:
        await connector.aclose()


def test_config_is_validated() -> None:
    with pytest.raises(ConfigurationError) as raised:
        FinanceOperationsOrderSystem(name="fo", config={**FO_CONFIG, "company": "us mf'"}, context={})
    assert "connectors.fo.company" in str(raised.value)
    with pytest.raises(ConfigurationError) as missing:
        FinanceOperationsOrderSystem(name="fo", config={k: v for k, v in FO_CONFIG.items() if k != "base_url"},
                                     context={})
    assert "connectors.fo.base_url" in str(missing.value)
    with pytest.raises(ConfigurationError) as zone:
        FinanceOperationsOrderSystem(name="fo", config={**FO_CONFIG, "timezone": "Mars/Olympus"}, context={})
    assert zone.value.setting == "connectors.fo.timezone"
