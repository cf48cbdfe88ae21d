"""Pagination strategies, one example each, driven by ``HttpSystem.paginate`` against respx routes.

Shapes: OData V4 ``{"value": [...], "@odata.nextLink": ...}`` with ``$skip``/``$top`` (Business Central,
Graph), OData V2 ``{"d": {"results": [...], "__next": ...}}`` (SAP), a ``nextPageToken``/``pageToken``
cursor (Google-style), page numbers, and the RFC 8288 ``Link`` header.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from connectors.base import ConfigurationError
from connectors.http import HttpSystem
from connectors.pagination import (
    Cursor,
    LinkHeader,
    NextLink,
    Offset,
    PageNumber,
    SinglePage,
    pagination_from_config,
)

pytestmark = pytest.mark.anyio
BASE = "https://api.example.com/v1"


@pytest.fixture
async def client():
    s = HttpSystem(name="x", config={"base_url": BASE, "cache_ttl": 0})
    yield s
    await s.aclose()


@respx.mock
async def test_page_number_stops_on_a_short_page(client: HttpSystem) -> None:
    pages = {"1": [1, 2], "2": [3]}
    route = respx.get(f"{BASE}/orders").mock(side_effect=lambda r: httpx.Response(
        200, json={"items": pages[r.url.params["page"]]}))
    got = [x async for x in client.paginate("/orders", params={"po": "P1"}, items="items",
                                            pagination=PageNumber(size=2))]
    assert got == [1, 2, 3] and route.call_count == 2
    assert dict(route.calls[0].request.url.params) == {"po": "P1", "pageSize": "2", "page": "1"}


@respx.mock
async def test_offset_with_odata_skip_and_top(client: HttpSystem) -> None:
    rows = [{"number": f"SO{i}"} for i in range(5)]
    route = respx.get(f"{BASE}/salesOrders").mock(side_effect=lambda r: httpx.Response(200, json={
        "@odata.context": "x", "value": rows[int(r.url.params["$skip"]):][:int(r.url.params["$top"])]}))
    got = [x["number"] async for x in client.paginate(
        "/salesOrders", items="value", pagination=Offset(offset_param="$skip", limit_param="$top", limit=2))]
    assert got == ["SO0", "SO1", "SO2", "SO3", "SO4"] and route.call_count == 3


@respx.mock
async def test_cursor_token(client: HttpSystem) -> None:
    route = respx.get(f"{BASE}/history").mock(side_effect=lambda r: httpx.Response(200, json=(
        {"history": [{"id": "1"}], "nextPageToken": "tok-2"} if "pageToken" not in r.url.params
        else {"history": [{"id": "2"}]})))
    got = [x["id"] async for x in client.paginate(
        "/history", items="history", pagination=Cursor(cursor_path="nextPageToken", cursor_param="pageToken"))]
    assert got == ["1", "2"] and route.calls[1].request.url.params["pageToken"] == "tok-2"


@respx.mock
async def test_next_link_odata_v4_absolute_and_v2_relative(client: HttpSystem) -> None:
    respx.get(f"{BASE}/v4/orders").mock(side_effect=lambda r: httpx.Response(200, json=(
        {"value": [1], "@odata.nextLink": f"{BASE}/v4/orders?$skiptoken=abc"} if "$skiptoken" not in r.url.params
        else {"value": [2]})))
    got = [x async for x in client.paginate("/v4/orders", items="value",
                                            pagination=NextLink(link_path='"@odata.nextLink"'))]
    assert got == [1, 2]
    respx.get(f"{BASE}/v2/A_SalesOrder").mock(side_effect=lambda r: httpx.Response(200, json=(
        {"d": {"results": [{"SalesOrder": "1"}], "__next": "A_SalesOrder?$skiptoken=2"}}
        if "$skiptoken" not in r.url.params else {"d": {"results": [{"SalesOrder": "2"}]}})))
    got = [x["SalesOrder"] async for x in client.paginate("/v2/A_SalesOrder", items="d.results",
                                                          pagination=NextLink(link_path="d.__next"))]
    assert got == ["1", "2"]


@respx.mock
async def test_link_header(client: HttpSystem) -> None:
    respx.get(f"{BASE}/picks").mock(side_effect=lambda r: httpx.Response(
        200, json=[{"n": r.url.params.get("page", "1")}],
        headers={"Link": f'<{BASE}/picks?page=2>; rel="next", <{BASE}/picks?page=2>; rel="last"'}
        if "page" not in r.url.params else {}))
    got = [x["n"] async for x in client.paginate("/picks", pagination=LinkHeader())]
    assert got == ["1", "2"]


@respx.mock
async def test_max_pages_bounds_a_runaway_api(client: HttpSystem) -> None:
    route = respx.get(f"{BASE}/loop").respond(200, json={"items": [1], "next": "token"})
    got = [x async for x in client.paginate("/loop", items="items", max_pages=3,
                                            pagination=Cursor(cursor_path="next", cursor_param="c"))]
    assert route.call_count == 2 and got == [1, 1]  # the same token twice ends it too


def test_strategies_from_configuration() -> None:
    assert isinstance(pagination_from_config(None, setting="p"), SinglePage)
    assert pagination_from_config({"type": "offset", "offset_param": "limit_start",
                                   "limit_param": "limit_page_length", "limit": 20}, setting="p") == \
        Offset(offset_param="limit_start", limit_param="limit_page_length", limit=20)
    with pytest.raises(ConfigurationError, match="type must be one of"):
        pagination_from_config({"type": "scroll"}, setting="connectors.x.endpoints.order.paginate")
    with pytest.raises(ConfigurationError, match="unexpected keyword"):
        pagination_from_config({"type": "page_number", "pages": 3}, setting="p")
    with pytest.raises(ConfigurationError, match="JMESPath"):
        pagination_from_config({"type": "next_link", "link_path": "links[?"}, setting="p")
