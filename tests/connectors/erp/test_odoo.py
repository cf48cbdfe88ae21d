"""Odoo adapter over JSON-2 and XML-RPC against copies of documented answers.

Shapes copied: JSON-2 ``POST /json/2/<model>/search_read`` with named arguments and
``Authorization: bearer`` + ``X-Odoo-Database`` (answer: the list of records; errors
``{"name", "message", "arguments", "context", "debug"}`` with an HTTP status); XML-RPC
``/xmlrpc/2/common`` ``authenticate`` and ``/xmlrpc/2/object`` ``execute_kw`` ``<methodCall>`` /
``<methodResponse>`` bodies and ``<fault>`` answers; many2one ``[id, "name"]``, ``false`` for empty
fields, naive UTC datetimes, ``delivery_status`` pending/partial/full, section lines.
"""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import date
from typing import Any

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.erp.odoo import OdooOrderSystem
from tests.connectors.erp.helpers import fixture, fixture_text, no_sleep

pytestmark = pytest.mark.anyio

ODOO = "https://nordkyst.odoo.com"
ODOO_ENV = {"TEST_ODOO_KEY": "0d00-api-key-7f3a"}
JSON2_CONFIG: dict[str, Any] = {"type": "odoo", "system": "odoo", "base_url": ODOO, "database": "nordkyst",
                                "api_key": "env:TEST_ODOO_KEY", "timezone": "Europe/Oslo"}
XMLRPC_CONFIG: dict[str, Any] = {**JSON2_CONFIG, "protocol": "xmlrpc", "login": "api@nordkyst.example"}
TABLES = {"sale.order": "odoo/sale_order.json", "sale.order.line": "odoo/sale_order_line.json",
          "stock.picking": "odoo/stock_picking.json"}


def _matches(row: dict[str, Any], domain: list[Any]) -> bool:
    for field, op, value in domain:
        have = row.get(field)
        have = have[0] if isinstance(have, list) and len(have) == 2 and isinstance(have[1], str) else have
        if (op == "=" and have != value) or (op == "in" and have not in value):
            return False
    return True


def search_read(model: str, domain: list[Any], fields: list[str], limit: int) -> list[dict[str, Any]]:
    rows = [r for r in fixture(TABLES[model]) if _matches(r, domain)]
    return [{"id": r["id"], **{f: r.get(f, False) for f in fields}} for r in rows][:limit]


def odoo_routes(router: respx.MockRouter) -> None:
    """JSON-2 and XML-RPC endpoints of one Odoo database, credentials checked as Odoo does."""
    key = ODOO_ENV["TEST_ODOO_KEY"]

    def json2(request: httpx.Request, model: str) -> httpx.Response:
        if request.headers.get("Authorization") != f"bearer {key}":
            return httpx.Response(401, json=fixture("odoo/json2_error_unauthorized.json"))
        if request.headers.get("X-Odoo-Database") != "nordkyst":
            return httpx.Response(404, json={"name": "werkzeug.exceptions.NotFound", "message": "database not found"})
        args = json.loads(request.content)
        return httpx.Response(200, json=search_read(model, args["domain"], args["fields"], args.get("limit", 80)))

    def common(request: httpx.Request) -> httpx.Response:
        (db, login, password, _), method = xmlrpc.client.loads(request.content)
        ok = method == "authenticate" and (db, login, password) == ("nordkyst", "api@nordkyst.example", key)
        return httpx.Response(200, text=fixture_text("odoo/xmlrpc_authenticate_ok.xml" if ok
                                                     else "odoo/xmlrpc_authenticate_refused.xml"),
                              headers={"Content-Type": "text/xml"})

    def obj(request: httpx.Request) -> httpx.Response:
        (db, uid, password, model, method, args, kwargs), _ = xmlrpc.client.loads(request.content)
        if (db, uid, password) != ("nordkyst", 2, key):
            return httpx.Response(200, text=fixture_text("odoo/xmlrpc_fault_access.xml"),
                                  headers={"Content-Type": "text/xml"})
        assert method == "search_read"
        rows = search_read(model, args[0], kwargs["fields"], kwargs.get("limit", 80))
        return httpx.Response(200, text=xmlrpc.client.dumps((rows,), methodresponse=True),
                              headers={"Content-Type": "text/xml"})

    router.post(url__regex=rf"^{ODOO}/json/2/(?P<model>[a-z._]+)/search_read$").mock(side_effect=json2)
    router.post(f"{ODOO}/xmlrpc/2/common").mock(side_effect=common)
    router.post(f"{ODOO}/xmlrpc/2/object").mock(side_effect=obj)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ODOO_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["json2", "xmlrpc"])
async def odoo(request: pytest.FixtureRequest) -> Any:
    config = JSON2_CONFIG if request.param == "json2" else XMLRPC_CONFIG
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router)
        connector = OdooOrderSystem(name="odoo", config=config, context={}, sleep=no_sleep)
        yield connector, router, request.param
        await connector.aclose()


async def test_order_lines_and_pickings(odoo: Any) -> None:
    connector, router, protocol = odoo
    order = await connector.get_order(order_no="S00042")
    assert order is not None
    assert (order.order_no, order.customer_id, order.customer_po, order.status) == (
        "S00042", "7", "4500012345", "partially_shipped")
    assert order.confirmed_date == date(2026, 11, 24)  # 23:30 UTC is the 24th in Oslo
    assert [(ln.line_no, ln.sku, ln.qty_ordered, ln.qty_shipped) for ln in order.lines] == [
        (1, "HM-SOFA-3S-GR", 60.0, 60.0), (2, "HM-CHAIR-LND", 80.0, 0.0)]  # the section line is left out
    assert order.deliveries == ("WH/OUT/00017", "WH/OUT/00018")
    assert order.source.record_id == "42" and order.source.link == f"{ODOO}/odoo/sales/42"
    if protocol == "json2":
        first = router.calls[0].request
        assert first.url == f"{ODOO}/json/2/sale.order/search_read"
        assert first.headers["Authorization"] == "bearer 0d00-api-key-7f3a"
        assert first.headers["X-Odoo-Database"] == "nordkyst"
        body = json.loads(first.content)
        assert body["domain"] == [["name", "=", "S00042"]] and body["limit"] == 1
        assert {"name", "state", "partner_id", "client_order_ref", "commitment_date", "delivery_status"} <= set(
            body["fields"])
    else:
        auth, first = router.calls[0].request, router.calls[1].request
        assert auth.url == f"{ODOO}/xmlrpc/2/common" and first.url == f"{ODOO}/xmlrpc/2/object"
        params, method = xmlrpc.client.loads(first.content)
        assert method == "execute_kw"
        assert params[:6] == ("nordkyst", 2, "0d00-api-key-7f3a", "sale.order", "search_read",
                              [[["name", "=", "S00042"]]])
        assert params[6]["limit"] == 1 and "partner_id" in params[6]["fields"]
        await connector.get_order(order_no="S00042")
        assert sum(c.request.url.path == "/xmlrpc/2/common" for c in router.calls) == 1  # uid kept


async def test_other_customer_cancelled_and_false_values(odoo: Any) -> None:
    connector, _, _ = odoo
    [other] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert (other.order_no, other.customer_id, other.status, other.deliveries) == ("S00043", "9", "confirmed", ())
    assert other.confirmed_date == date(2026, 11, 23)  # no commitment_date (false): expected_date
    cancelled = await connector.get_order(order_no="S00044")
    assert cancelled is not None and (cancelled.status, cancelled.customer_po, cancelled.confirmed_date) == (
        "cancelled", None, None)
    assert await connector.get_order(order_no="S09999") is None
    assert await connector.find_orders_by_po(customer_po="NOPO0000") == []


async def test_wrong_key_is_a_configuration_error(odoo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, protocol = odoo
    monkeypatch.setenv("TEST_ODOO_KEY", "not-the-key")
    bad = OdooOrderSystem(name="odoo", config=JSON2_CONFIG if protocol == "json2" else XMLRPC_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="S00042")
    finally:
        await bad.aclose()
    assert raised.value.setting.startswith("connectors.odoo")
    assert "not-the-key" not in str(raised.value)


@respx.mock
async def test_json2_access_error_and_xmlrpc_faults() -> None:
    respx.post(f"{ODOO}/json/2/sale.order/search_read").respond(403, json=fixture("odoo/json2_error_access.json"))
    json2 = OdooOrderSystem(name="odoo", config=JSON2_CONFIG, context={})
    respx.post(f"{ODOO}/xmlrpc/2/common").respond(200, text=fixture_text("odoo/xmlrpc_authenticate_ok.xml"))
    respx.post(f"{ODOO}/xmlrpc/2/object").respond(200, text=fixture_text("odoo/xmlrpc_fault_field.xml"))
    xml = OdooOrderSystem(name="odoo", config=XMLRPC_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError, match="not allowed to access 'Sales Order'"):
            await json2.get_order(order_no="S00042")
        with pytest.raises(SystemError_, match=r"Invalid field 'delivery_status' on model 'sale\.order'"):
            await xml.get_order(order_no="S00042")
    finally:
        await json2.aclose()
        await xml.aclose()


@respx.mock
async def test_xmlrpc_retries_a_503_then_succeeds() -> None:
    respx.post(f"{ODOO}/xmlrpc/2/common").mock(side_effect=[
        httpx.Response(503, text="Service Unavailable"),
        httpx.Response(200, text=fixture_text("odoo/xmlrpc_authenticate_ok.xml"))])
    respx.post(f"{ODOO}/xmlrpc/2/object").respond(200, text=xmlrpc.client.dumps(([],), methodresponse=True))
    xml = OdooOrderSystem(name="odoo", config=XMLRPC_CONFIG, context={}, sleep=no_sleep)
    try:
        assert await xml.get_order(order_no="S00042") is None
    finally:
        await xml.aclose()
    assert len(respx.calls) == 3


def test_config_is_validated() -> None:
    with pytest.raises(ConfigurationError) as literal:
        OdooOrderSystem(name="odoo", config={**JSON2_CONFIG, "api_key": "0d00-literal"}, context={})
    assert "connectors.odoo.api_key" in str(literal.value)
    with pytest.raises(ConfigurationError) as login:
        OdooOrderSystem(name="odoo", config={**JSON2_CONFIG, "protocol": "xmlrpc"}, context={})
    assert login.value.setting == "connectors.odoo.login"
    with pytest.raises(ConfigurationError) as status:
        OdooOrderSystem(name="odoo", config={**JSON2_CONFIG, "status_map": {"sale": "sold"}}, context={})
    assert status.value.setting == "connectors.odoo.status_map.order"
