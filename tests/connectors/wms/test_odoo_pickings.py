"""Odoo stock pickings as the WMS, over JSON-2 and XML-RPC, against copies of documented answers.

Shapes copied: JSON-2 ``POST /json/2/<model>/search_read`` with ``{"domain", "fields", "limit",
"order"}``, ``Authorization: bearer`` + ``X-Odoo-Database``, errors ``{"name", "message", "arguments",
"context", "debug"}``; XML-RPC ``/xmlrpc/2/common`` ``authenticate`` and ``/xmlrpc/2/object``
``execute_kw`` bodies with ``<fault>`` answers; ``stock.picking`` rows with many2one ``[id, "name"]``,
``false`` for empty fields, naive UTC datetimes, three-step routes (WH: Pick, WH: Pack, WH: Delivery).
"""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.wms.odoo_pickings import OdooPickingsWarehouse
from tests.connectors.wms.helpers import fixture, fixture_text, no_sleep

pytestmark = pytest.mark.anyio

ODOO = "https://nordkyst.odoo.com"
ODOO_ENV = {"TEST_ODOO_WMS_KEY": "0d00-wms-key-1b2c"}
JSON2_CONFIG: dict[str, Any] = {"type": "odoo_pickings", "system": "odoo", "base_url": ODOO, "database": "nordkyst",
                                "api_key": "env:TEST_ODOO_WMS_KEY"}
XMLRPC_CONFIG: dict[str, Any] = {**JSON2_CONFIG, "protocol": "xmlrpc", "login": "api@nordkyst.example"}
TABLES = {"stock.picking": "odoo/stock_picking.json", "sale.order": "odoo/sale_order.json"}
XML = {"Content-Type": "text/xml"}


def search_read(model: str, domain: list[Any], fields: list[str], limit: int) -> list[dict[str, Any]]:
    rows = [r for r in fixture(TABLES[model]) if all(r.get(f) == v for f, op, v in domain if op == "=")]
    return [{"id": r["id"], **{f: r.get(f, False) for f in fields}} for r in rows][:limit]


def odoo_routes(router: respx.MockRouter, calls: list[tuple[str, dict[str, Any]]] | None = None) -> None:
    """JSON-2 and XML-RPC endpoints of one Odoo database, credentials checked as Odoo does."""
    key = ODOO_ENV["TEST_ODOO_WMS_KEY"]

    def json2(request: httpx.Request, model: str) -> httpx.Response:
        if request.headers.get("Authorization") != f"bearer {key}":
            return httpx.Response(401, json=fixture("odoo/json2_error_unauthorized.json"))
        args = json.loads(request.content)
        if calls is not None:
            calls.append((model, args))
        return httpx.Response(200, json=search_read(model, args["domain"], args["fields"], args.get("limit", 80)))

    def common(request: httpx.Request) -> httpx.Response:
        (db, login, password, _), method = xmlrpc.client.loads(request.content)
        ok = method == "authenticate" and (db, login, password) == ("nordkyst", "api@nordkyst.example", key)
        return httpx.Response(200, headers=XML, text=fixture_text("odoo/xmlrpc_authenticate_ok.xml" if ok
                                                                  else "odoo/xmlrpc_authenticate_refused.xml"))

    def obj(request: httpx.Request) -> httpx.Response:
        (db, uid, password, model, method, args, kwargs), _ = xmlrpc.client.loads(request.content)
        if (db, uid, password) != ("nordkyst", 2, key) or method != "search_read":
            return httpx.Response(200, headers=XML, text=fixture_text("odoo/xmlrpc_fault_access.xml"))
        rows = search_read(model, args[0], kwargs["fields"], kwargs.get("limit", 80))
        return httpx.Response(200, headers=XML, text=xmlrpc.client.dumps((rows,), methodresponse=True))

    router.post(url__regex=rf"^{ODOO}/json/2/(?P<model>[a-z._]+)/search_read$").mock(side_effect=json2)
    router.post(f"{ODOO}/xmlrpc/2/common").mock(side_effect=common)
    router.post(f"{ODOO}/xmlrpc/2/object").mock(side_effect=obj)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ODOO_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(params=["json2", "xmlrpc"])
async def odoo(request: pytest.FixtureRequest, env: None) -> Any:
    config = JSON2_CONFIG if request.param == "json2" else XMLRPC_CONFIG
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router)
        warehouse = OdooPickingsWarehouse(name="odoo_wms", config=config, context={}, sleep=no_sleep)
        yield warehouse
        await warehouse.aclose()


async def test_json2_requests_carry_domain_fields_and_headers(env: None) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router, calls)
        warehouse = OdooPickingsWarehouse(name="odoo_wms", config=JSON2_CONFIG, context={})
        await warehouse.fulfillment(order_no="S00042")
        await warehouse.aclose()
        request = router.calls[0].request
    assert request.headers["Authorization"] == "bearer 0d00-wms-key-1b2c"
    assert request.headers["X-Odoo-Database"] == "nordkyst"
    by_model = dict(calls)
    assert by_model["stock.picking"]["domain"] == [["origin", "=", "S00042"]]
    assert {"state", "picking_type_code", "picking_type_id", "date_done"} <= set(by_model["stock.picking"]["fields"])
    assert by_model["stock.picking"]["order"] == "id"
    assert by_model["sale.order"] == {"domain": [["name", "=", "S00042"]], "fields": ["name", "partner_id"],
                                      "limit": 1}


async def test_three_step_route_packed(odoo: OdooPickingsWarehouse) -> None:
    done = await odoo.fulfillment(order_no="S00042")
    assert done is not None
    assert done.status == "packed"  # pick and pack done, delivery ready (assigned)
    assert done.customer_id == "7"  # the sale order's partner, not the delivery contact (15)
    assert done.picked_at == datetime(2026, 11, 17, 8, 12, 40, tzinfo=UTC)
    assert done.packed_at == datetime(2026, 11, 17, 10, 3, 5, tzinfo=UTC)
    assert done.shipped_at is None
    assert done.warehouse == "WH"
    assert done.source.record_id == "313"
    assert done.source.link == f"{ODOO}/odoo/action-stock.action_picking_tree_all/313"


async def test_done_delivery_is_shipped_and_cancelled_ones_ignored(odoo: OdooPickingsWarehouse) -> None:
    shipped = await odoo.fulfillment(order_no="S00043")
    assert shipped is not None
    assert shipped.status == "shipped"
    assert shipped.customer_id == "9"
    assert shipped.shipped_at == datetime(2026, 11, 15, 13, 45, tzinfo=UTC)


async def test_waiting_delivery_is_open_and_unknown_order_none(odoo: OdooPickingsWarehouse) -> None:
    waiting = await odoo.fulfillment(order_no="S00044")
    assert waiting is not None and waiting.status == "open"
    assert await odoo.fulfillment(order_no="S09999") is None


async def test_status_map_overrides_delivery_state(env: None) -> None:
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router)
        warehouse = OdooPickingsWarehouse(name="odoo_wms", config={**JSON2_CONFIG,
                                                                   "status_map": {"confirmed": "picking"}},
                                          context={})
        waiting = await warehouse.fulfillment(order_no="S00044")
        await warehouse.aclose()
    assert waiting is not None and waiting.status == "picking"


async def test_wrong_key_json2_names_the_setting(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ODOO_WMS_KEY", "wrong")
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router)
        warehouse = OdooPickingsWarehouse(name="odoo_wms", config=JSON2_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await warehouse.fulfillment(order_no="S00042")
        await warehouse.aclose()
    assert raised.value.setting.startswith("connectors.odoo_wms")
    assert "wrong" not in str(raised.value)


async def test_wrong_key_xmlrpc_refused_login(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_ODOO_WMS_KEY", "wrong")
    with respx.mock(assert_all_called=False) as router:
        odoo_routes(router)
        warehouse = OdooPickingsWarehouse(name="odoo_wms", config=XMLRPC_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await warehouse.fulfillment(order_no="S00042")
        await warehouse.aclose()
    assert raised.value.setting.startswith("connectors.odoo_wms")


async def test_access_error_json2_and_fault_xmlrpc(env: None) -> None:
    with respx.mock() as router:
        router.post(url__regex=rf"^{ODOO}/json/2/").mock(
            return_value=httpx.Response(403, json=fixture("odoo/json2_error_access.json")))
        router.post(f"{ODOO}/xmlrpc/2/common").mock(
            return_value=httpx.Response(200, headers=XML, text=fixture_text("odoo/xmlrpc_authenticate_ok.xml")))
        router.post(f"{ODOO}/xmlrpc/2/object").mock(return_value=httpx.Response(
            200, headers=XML, text=xmlrpc.client.dumps(xmlrpc.client.Fault(2, "ValueError: Invalid field 'origin'"),
                                                       methodresponse=True)))
        json2 = OdooPickingsWarehouse(name="odoo_wms", config=JSON2_CONFIG, context={})
        rpc = OdooPickingsWarehouse(name="odoo_wms", config=XMLRPC_CONFIG, context={})
        with pytest.raises(ConfigurationError) as denied:
            await json2.fulfillment(order_no="S00042")
        with pytest.raises(SystemError_) as fault:
            await rpc.fulfillment(order_no="S00042")
        await json2.aclose()
        await rpc.aclose()
    assert "not allowed to access 'Transfer'" in str(denied.value)
    assert "Invalid field 'origin'" in str(fault.value)


@pytest.mark.parametrize("change", [{"api_key": "literal"}, {"protocol": "jsonrpc"},
                                    {"protocol": "xmlrpc", "login": None}, {"status_map": {"done": "gone"}}])
async def test_bad_configuration_names_the_setting(env: None, change: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        OdooPickingsWarehouse(name="odoo_wms", config={**JSON2_CONFIG, **change}, context={})
    assert raised.value.setting.startswith("connectors.odoo_wms")
