"""NetSuite adapter and TBA signer against copies of documented REST answers.

Shapes copied: SuiteQL ``POST /services/rest/query/v1/suiteql?limit=`` with ``Prefer: transient`` and
``{"q": ...}``, answered ``{"links", "count", "hasMore", "items", "offset", "totalResults"}`` with lower-case
string columns; ``GET /services/rest/record/v1/salesOrder/{id}?expandSubResources=true`` with ``links``,
``tranId``, ``entity{id, refName}``, ``orderStatus{id, refName}``, ``shipDate`` ``YYYY-MM-DD`` and the
``item`` sub-list; errors ``{"type", "title", "status", "o:errorDetails": [...]}``; the OAuth 1.0 TBA
``Authorization: OAuth realm=...`` header (HMAC-SHA256), verified by the fake; and the RFC 5849 example.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.erp.netsuite import NetSuiteOrderSystem
from connectors.erp.netsuite_auth import NetSuiteTba, sign, signature_base_string
from tests.connectors.erp.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

NS = "https://1234567-sb1.suitetalk.api.netsuite.com"
NS_ENV = {"TEST_NS_CONSUMER_KEY": "ck-8f2a", "TEST_NS_CONSUMER_SECRET": "cs-s3cret",
          "TEST_NS_TOKEN_ID": "tok-41c9", "TEST_NS_TOKEN_SECRET": "ts-s3cret"}
NS_CONFIG: dict[str, Any] = {
    "type": "netsuite", "system": "netsuite", "account_id": "1234567_SB1", "timezone": "Europe/Oslo",
    "auth": {"type": "netsuite_tba", "consumer_key": "env:TEST_NS_CONSUMER_KEY",
             "consumer_secret": "env:TEST_NS_CONSUMER_SECRET", "token_id": "env:TEST_NS_TOKEN_ID",
             "token_secret": "env:TEST_NS_TOKEN_SECRET"},
}
RECORDS = {"4711": "netsuite/sales_order_4711.json", "4712": "netsuite/sales_order_4712.json",
           "4698": "netsuite/sales_order_4698.json"}
_FIELD = re.compile(r'(\w+)="([^"]*)"')
_ORDER_BY = re.compile(r"^SELECT id, tranid FROM transaction WHERE type = 'SalesOrd' AND (tranid|otherrefnum) = "
                       r"'((?:[^']|'')*)'$")
_FULFILLMENTS = re.compile(r"^SELECT DISTINCT t\.id, t\.tranid FROM transaction t INNER JOIN transactionline tl "
                           r"ON tl\.transaction = t\.id WHERE t\.type = 'ItemShip' AND tl\.createdfrom = (\d+)$")


def _signed(request: httpx.Request) -> bool:
    """What NetSuite checks: realm, consumer, token and the HMAC-SHA256 signature over this request."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return False
    fields = {k: unquote(v) for k, v in _FIELD.findall(header)}
    if (fields.get("realm"), fields.get("oauth_signature_method")) != ("1234567_SB1", "HMAC-SHA256"):
        return False
    if (fields.get("oauth_consumer_key"), fields.get("oauth_token")) != (NS_ENV["TEST_NS_CONSUMER_KEY"],
                                                                          NS_ENV["TEST_NS_TOKEN_ID"]):
        return False
    oauth = {k: v for k, v in fields.items() if k.startswith("oauth_") and k != "oauth_signature"}
    expected = sign(signature_base_string(request.method, request.url, oauth),
                    consumer_secret=NS_ENV["TEST_NS_CONSUMER_SECRET"], token_secret=NS_ENV["TEST_NS_TOKEN_SECRET"])
    return fields.get("oauth_signature") == expected


def _page(rows: list[dict[str, Any]], request: httpx.Request) -> dict[str, Any]:
    return {"links": [{"rel": "self", "href": str(request.url)}], "count": len(rows), "hasMore": False,
            "items": [{"links": [], **r} for r in rows], "offset": 0, "totalResults": len(rows)}


def netsuite_routes(router: respx.MockRouter) -> None:
    """SuiteQL and the salesOrder record, each checking the TBA signature."""
    tables = fixture("netsuite/transactions.json")

    def suiteql(request: httpx.Request) -> httpx.Response:
        if not _signed(request):
            return httpx.Response(401, json=fixture("netsuite/error_invalid_login.json"))
        query = httpx.Response(200, content=request.content).json()["q"]
        by_order = _ORDER_BY.match(query)
        if by_order:
            field, value = by_order.group(1), by_order.group(2).replace("''", "'")
            rows = [{"id": r["id"], "tranid": r["tranid"]} for r in tables["sales_orders"] if r[field] == value]
        elif (fulfilled := _FULFILLMENTS.match(query)) is not None:
            rows = [{"id": r["id"], "tranid": r["tranid"]} for r in tables["item_fulfillments"]
                    if r["createdfrom"] == fulfilled.group(1)]
        else:
            return httpx.Response(400, json=fixture("netsuite/error_invalid_query.json"))
        return httpx.Response(200, json=_page(rows[:int(request.url.params.get("limit", "1000"))], request))

    def record(request: httpx.Request, internal_id: str) -> httpx.Response:
        if not _signed(request):
            return httpx.Response(401, json=fixture("netsuite/error_invalid_login.json"))
        if internal_id not in RECORDS:
            return httpx.Response(404, json=fixture("netsuite/error_not_found.json"))
        return httpx.Response(200, json=fixture(RECORDS[internal_id]))

    router.post(f"{NS}/services/rest/query/v1/suiteql").mock(side_effect=suiteql)
    router.get(url__regex=rf"^{re.escape(NS)}/services/rest/record/v1/salesOrder/(?P<internal_id>\d+)").mock(
        side_effect=record)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in NS_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def ns() -> Any:
    with respx.mock(assert_all_called=False) as router:
        netsuite_routes(router)
        connector = NetSuiteOrderSystem(name="ns", config=NS_CONFIG, context={}, sleep=no_sleep)
        yield connector, router
        await connector.aclose()


def test_signer_matches_the_rfc_5849_example() -> None:
    """RFC 5849 section 1.2: the photos.example.net request and its published HMAC-SHA1 signature."""
    oauth = {"oauth_consumer_key": "dpf43f3p2l4k3l03", "oauth_token": "nnch734d00sl2jdk",
             "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131202", "oauth_nonce": "chapoH"}
    base = signature_base_string("GET", httpx.URL("http://photos.example.net/photos?file=vacation.jpg&size=original"),
                                 oauth)
    assert base.startswith("GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key")
    assert sign(base, consumer_secret="kd94hf93k423kf44", token_secret="pfkkdhi9sl3r4s00",
                method="HMAC-SHA1") == "MdpQcU8iPSUjWoN/UDMsK2sui9I="


def test_tba_header_is_complete_and_secret_free_repr() -> None:
    from pydantic import SecretStr
    tba = NetSuiteTba(realm="1234567_SB1", consumer_key=SecretStr("ck"), consumer_secret=SecretStr("cs-hidden"),
                      token_id=SecretStr("tk"), token_secret=SecretStr("ts-hidden"), setting="connectors.ns.auth",
                      clock=lambda: 1764000000.0, nonce=lambda: "n0nce")
    header = tba.authorization("GET", httpx.URL(f"{NS}/services/rest/record/v1/salesOrder/1?expandSubResources=true"))
    assert header.startswith('OAuth realm="1234567_SB1", oauth_consumer_key="ck", oauth_token="tk", '
                             'oauth_signature_method="HMAC-SHA256", oauth_timestamp="1764000000", '
                             'oauth_nonce="n0nce", oauth_version="1.0", oauth_signature="')
    assert "hidden" not in header and "hidden" not in repr(tba)


async def test_order_by_tranid_with_lines_and_fulfillment(ns: Any) -> None:
    connector, router = ns
    order = await connector.get_order(order_no="SO1234")
    assert order is not None
    assert (order.order_no, order.customer_id, order.customer_po) == ("SO1234", "1201", "4500012345")
    assert order.status == "partially_shipped"
    assert (order.requested_date, str(order.confirmed_date)) == (None, "2026-11-24")
    assert [(ln.line_no, ln.sku, ln.description, ln.qty_ordered, ln.qty_shipped) for ln in order.lines] == [
        (1, "HM-SOFA-3S-GR", "Sofa 3-seat, grey", 60.0, 60.0), (2, "HM-CHAIR-LND", "Chair London", 80.0, 0.0)]
    assert order.deliveries == ("IF881",)
    assert order.source.record_id == "SO1234"
    assert order.source.link == "https://1234567-sb1.app.netsuite.com/app/accounting/transactions/salesord.nl?id=4711"
    find, *rest = [c.request for c in router.calls]
    assert find.method == "POST" and find.url.path == "/services/rest/query/v1/suiteql"
    assert find.url.params["limit"] == "1" and find.headers["Prefer"] == "transient"
    assert find.headers["Content-Type"] == "application/json"
    assert httpx.Response(200, content=find.content).json() == {
        "q": "SELECT id, tranid FROM transaction WHERE type = 'SalesOrd' AND tranid = 'SO1234'"}
    [read] = [r for r in rest if r.method == "GET"]
    assert read.url.path == "/services/rest/record/v1/salesOrder/4711"
    assert read.url.params["expandSubResources"] == "true"
    assert read.headers["Authorization"].startswith('OAuth realm="1234567_SB1"')


async def test_pending_fulfillment_other_customer_by_po(ns: Any) -> None:
    connector, _ = ns
    [order] = await connector.find_orders_by_po(customer_po="SK-7781")
    assert (order.order_no, order.customer_id, order.status, order.deliveries) == ("SO1235", "1388", "confirmed", ())
    billed = await connector.get_order(order_no="SO1200")
    assert billed is not None and (billed.status, billed.deliveries) == ("shipped", ("IF850",))


async def test_not_found_and_quoting(ns: Any) -> None:
    connector, router = ns
    assert await connector.get_order(order_no="SO9999") is None
    assert await connector.find_orders_by_po(customer_po="O'Brien") == []
    body = httpx.Response(200, content=router.calls.last.request.content).json()
    assert body["q"].endswith("otherrefnum = 'O''Brien'")
    calls = router.calls.call_count
    assert await connector.get_order(order_no="SO1\x00' OR 1=1") is None  # never sent
    assert await connector.find_orders_by_po(customer_po="x" * 65) == []
    assert router.calls.call_count == calls


async def test_record_gone_after_query_is_none(ns: Any) -> None:
    connector, router = ns
    router.post(f"{NS}/services/rest/query/v1/suiteql").respond(
        200, json={"links": [], "count": 1, "hasMore": False, "items": [{"links": [], "id": "4799", "tranid": "SO9"}],
                   "offset": 0, "totalResults": 1})
    assert await connector.get_order(order_no="SO9") is None


async def test_status_map_overrides_and_validates(ns: Any) -> None:
    connector = NetSuiteOrderSystem(name="ns", config={**NS_CONFIG, "status_map": {"B": "open"}}, context={})
    try:
        [order] = await connector.find_orders_by_po(customer_po="SK-7781")
    finally:
        await connector.aclose()
    assert order.status == "open"
    with pytest.raises(ConfigurationError) as raised:
        NetSuiteOrderSystem(name="ns", config={**NS_CONFIG, "status_map": {"B": "fulfilled"}}, context={})
    assert raised.value.setting == "connectors.ns.status_map.order"


async def test_wrong_token_secret_is_a_configuration_error(ns: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_NS_TOKEN_SECRET", "wrong-secret")
    bad = NetSuiteOrderSystem(name="ns", config=NS_CONFIG, context={})
    try:
        with pytest.raises(ConfigurationError) as raised:
            await bad.get_order(order_no="SO1234")
    finally:
        await bad.aclose()
    assert "TEST_NS_TOKEN_SECRET" in raised.value.setting and raised.value.setting.startswith("connectors.ns.auth")
    assert "wrong-secret" not in str(raised.value)


@respx.mock
async def test_invalid_query_is_a_system_error() -> None:
    respx.post(f"{NS}/services/rest/query/v1/suiteql").respond(400, json=fixture("netsuite/error_invalid_query.json"))
    connector = NetSuiteOrderSystem(name="ns", config=NS_CONFIG, context={})
    try:
        with pytest.raises(SystemError_, match="HTTP 400"):
            await connector.get_order(order_no="SO1234")
    finally:
        await connector.aclose()


def test_config_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError) as raised:
        NetSuiteOrderSystem(name="ns", config={**NS_CONFIG, "account_id": "1234567-SB1.evil.example/"}, context={})
    assert "connectors.ns.account_id" in str(raised.value)
    with pytest.raises(ConfigurationError) as literal:
        NetSuiteOrderSystem(name="ns", config={**NS_CONFIG, "auth": {**NS_CONFIG["auth"], "token_secret": "plain"}},
                            context={})
    assert literal.value.setting == "connectors.ns.auth.token_secret"
    monkeypatch.delenv("TEST_NS_CONSUMER_KEY")
    with pytest.raises(ConfigurationError) as unset:
        NetSuiteOrderSystem(name="ns", config=NS_CONFIG, context={})
    assert unset.value.setting == "connectors.ns.auth.consumer_key"
    with pytest.raises(ConfigurationError) as extra:
        NetSuiteOrderSystem(name="ns", config={**NS_CONFIG, "auth": {**NS_CONFIG["auth"], "realm": "x"}}, context={})
    assert extra.value.setting == "connectors.ns.auth"
