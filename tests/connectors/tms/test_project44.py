"""project44 truckload visibility against copies of documented answers.

Shapes copied: OAuth 2.0 client credentials at ``/api/v4/oauth2/token``; ``TruckloadShipmentStatus``
(``shipment`` with ``identifiers``, ``attributes``, ``shipmentStops``; ``latestStatusUpdate`` with
``statusCode``/``statusReason``; ``statusUpdates``; ``latestStopStatuses`` with ``statusCode``
EN_ROUTE/ARRIVED/DEPARTED, ``arrivalCode`` and ``arrivalEstimate.estimatedArrivalWindow``; ``mapUrl``)
from ``/api/v4/tl/shipments/{id}/statuses`` and ``/api/v4/tl/shipments/statuses?shipmentIdentifier.type=
&shipmentIdentifier.value=``; error bodies ``{httpStatusCode, httpMessage, errorMessage, errors,
supportReferenceId}``.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from agent.models import ReferenceKind
from connectors.base import ConfigurationError, RetryableError
from connectors.tms.project44 import Project44Tracker
from tests.connectors.tms.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

P44 = "https://na12.api.project44.com"
P44_ENV = {"TEST_P44_CLIENT_ID": "shipdraft", "TEST_P44_SECRET": "p44-secret-77aa"}
P44_CONFIG: dict[str, Any] = {"type": "project44", "system": "project44", "client_id": "env:TEST_P44_CLIENT_ID",
                              "client_secret": "env:TEST_P44_SECRET"}
BY_ID = {"4711001": "project44/status_in_transit.json", "4711002": "project44/status_completed.json"}
BY_IDENTIFIER = {("ORDER", "NK204117"): "4711001", ("BILL_OF_LADING", "NKBOL204117"): "4711001",
                 ("ORDER", "NK204301"): "4711002"}
CET = timezone(timedelta(hours=1))


def p44_routes(router: respx.MockRouter) -> None:
    """Token endpoint and the truckload status endpoints, credentials checked."""
    token = fixture("project44/token.json")["access_token"]

    def grant(request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if (form.get("client_id"), form.get("client_secret")) != ("shipdraft", P44_ENV["TEST_P44_SECRET"]):
            return httpx.Response(401, json=fixture("project44/token_error.json"))
        return httpx.Response(200, json=fixture("project44/token.json"))

    def answer(request: httpx.Request, shipment_id: str | None) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return httpx.Response(401, json={"httpStatusCode": 401, "httpMessage": "Unauthorized",
                                             "errorMessage": "Full authentication is required."})
        if shipment_id not in BY_ID:
            return httpx.Response(404, json=fixture("project44/error_not_found.json"))
        return httpx.Response(200, json=fixture(BY_ID[shipment_id]))

    def by_identifier(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        key = (params.get("shipmentIdentifier.type"), params.get("shipmentIdentifier.value"))
        return answer(request, BY_IDENTIFIER.get(key))  # type: ignore[arg-type]

    router.post(f"{P44}/api/v4/oauth2/token").mock(side_effect=grant)
    router.get(f"{P44}/api/v4/tl/shipments/statuses").mock(side_effect=by_identifier)
    router.get(url__regex=rf"^{P44}/api/v4/tl/shipments/(?P<shipment_id>[^/]+)/statuses").mock(
        side_effect=lambda request, shipment_id: answer(request, shipment_id))


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in P44_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def p44(env: None) -> Any:
    with respx.mock(assert_all_called=False) as router:
        p44_routes(router)
        tracker = Project44Tracker(name="p44", config=P44_CONFIG, context={}, sleep=no_sleep)
        yield tracker, router
        await tracker.aclose()


async def test_order_lookup_uses_identifier_query_and_token(p44: Any) -> None:
    tracker, router = p44
    [shipment] = await tracker.shipments_for_order(order_no="NK204117")
    token_call, call = router.calls
    assert token_call.request.url.path == "/api/v4/oauth2/token"
    assert call.request.url.path == "/api/v4/tl/shipments/statuses"
    assert dict(call.request.url.params) == {"shipmentIdentifier.type": "ORDER",
                                             "shipmentIdentifier.value": "NK204117",
                                             "includeStatusHistory": "true"}
    assert call.request.headers["Authorization"] == "Bearer p44-access-token-5b1e"
    assert shipment.shipment_id == "4711001"


async def test_late_truck_is_delayed_with_stop_eta_window(p44: Any) -> None:
    tracker, _ = p44
    [shipment] = await tracker.track(kind=ReferenceKind.SHIPMENT_ID, value="4711001")
    assert shipment.status == "delayed"  # IN_TRANSIT, delivery stop arrivalCode LATE
    assert shipment.customer_id == "C100"
    assert (shipment.order_no, shipment.tracking_no, shipment.carrier) == ("NK204117", "NKBOL204117", "NKLT")
    assert shipment.eta == datetime(2026, 11, 19, 15, 0, tzinfo=CET)
    assert shipment.delivery_window is not None
    assert shipment.delivery_window.start == datetime(2026, 11, 19, 13, 30, tzinfo=CET)
    assert (shipment.origin, shipment.destination) == ("Drammen, NO", "Trondheim, NO")
    assert shipment.last_event is not None
    assert shipment.last_event.location == "Lillehammer, Innlandet, NO"
    assert shipment.last_event.time == datetime(2026, 11, 18, 14, 20, tzinfo=CET)
    assert shipment.source.link == "https://app.project44.com/map/4711001?token=map-share-1f3c"


async def test_completed_truck_is_delivered_at_arrival(p44: Any) -> None:
    tracker, _ = p44
    [shipment] = await tracker.shipments_for_order(order_no="NK204301")
    assert shipment.status == "delivered"
    assert shipment.customer_id == "C300"
    assert shipment.delivered_at == datetime(2026, 11, 16, 10, 5, tzinfo=CET)
    assert shipment.eta is None and shipment.delivery_window is None
    assert shipment.tracking_no == "PRO8812"


async def test_bill_of_lading_and_unknown_references(p44: Any) -> None:
    tracker, router = p44
    [shipment] = await tracker.track(kind=ReferenceKind.BILL_OF_LADING, value="NKBOL204117")
    assert shipment.shipment_id == "4711001"
    assert await tracker.track(kind=ReferenceKind.SHIPMENT_ID, value="999") == []
    assert await tracker.shipments_for_order(order_no="NK999999") == []
    calls = router.calls.call_count
    assert await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784") == []
    assert router.calls.call_count == calls


@pytest.mark.parametrize(("code", "reason", "stops", "expected"), [
    ("DISPATCHED", "PENDING_CARRIER", {}, "booked"),
    ("AT_STOP", None, {1: "ARRIVED", 2: "EN_ROUTE"}, "booked"),
    ("AT_STOP", None, {1: "DEPARTED", 2: "ARRIVED"}, "out_for_delivery"),
    ("IN_TRANSIT", "IDLE", {1: "DEPARTED", 2: "EN_ROUTE"}, "delayed"),
    ("COMPLETED", "CANCELED", {}, "exception"),
    ("COMPLETED", "TIMED_OUT", {}, "unknown"),
])
async def test_status_table(env: None, code: str, reason: str | None, stops: dict[int, str], expected: str) -> None:
    body = copy.deepcopy(fixture("project44/status_in_transit.json"))
    body["latestStatusUpdate"] = {"timestamp": "2026-11-18T14:20:00+01:00", "statusCode": code,
                                  **({"statusReason": {"code": reason}} if reason else {})}
    for stop in body["latestStopStatuses"]:
        stop["statusCode"] = stops.get(stop["stopNumber"], stop["statusCode"])
    with respx.mock() as router:
        router.get(f"{P44}/api/v4/tl/shipments/4711001/statuses").mock(return_value=httpx.Response(200, json=body))
        tracker = Project44Tracker(name="p44", config={**P44_CONFIG, "auth": {"type": "bearer",
                                                                              "token": "env:TEST_P44_SECRET"}},
                                   context={})
        [shipment] = await tracker.track(kind=ReferenceKind.SHIPMENT_ID, value="4711001")
        await tracker.aclose()
    assert shipment.status == expected


async def test_errors_keep_message_and_support_reference(env: None) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{P44}/api/v4/tl/shipments/500/statuses").mock(
            return_value=httpx.Response(500, json=fixture("project44/error_server.json")))
        p44_routes(router)
        tracker = Project44Tracker(name="p44", config={**P44_CONFIG, "retries": 0}, context={})
        with pytest.raises(RetryableError) as raised:
            await tracker.track(kind=ReferenceKind.SHIPMENT_ID, value="500")
        await tracker.aclose()
    assert "An unexpected error occurred" in str(raised.value)
    assert "1a2b3c4d-0000-4e0b-9a3f-0c6d1e2b3a44" in str(raised.value)


async def test_wrong_secret_names_the_setting(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_P44_SECRET", "wrong")
    with respx.mock(assert_all_called=False) as router:
        p44_routes(router)
        tracker = Project44Tracker(name="p44", config=P44_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await tracker.shipments_for_order(order_no="NK204117")
        await tracker.aclose()
    assert "connectors.p44.auth.client_secret" in raised.value.setting
    assert "invalid_client" in str(raised.value) and "wrong" not in str(raised.value)


async def test_missing_owner_attribute_leaves_owner_empty(env: None) -> None:
    body = copy.deepcopy(fixture("project44/status_in_transit.json"))
    body["shipment"]["attributes"] = [{"name": "department", "values": ["furniture"]}]
    with respx.mock() as router:
        router.get(f"{P44}/api/v4/tl/shipments/4711001/statuses").mock(return_value=httpx.Response(200, json=body))
        tracker = Project44Tracker(name="p44", config={**P44_CONFIG, "auth": {"type": "bearer",
                                                                              "token": "env:TEST_P44_SECRET"}},
                                   context={})
        [shipment] = await tracker.track(kind=ReferenceKind.SHIPMENT_ID, value="4711001")
        await tracker.aclose()
    assert shipment.customer_id == ""


@pytest.mark.parametrize("change", [{"client_secret": None}, {"client_secret": "plain"},
                                    {"status_map": {"IN_TRANSIT": "driving"}}, {"timezone": "Atlantis/Capital"}])
async def test_bad_configuration_names_the_setting(env: None, change: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Project44Tracker(name="p44", config={**P44_CONFIG, **change}, context={})
    assert raised.value.setting.startswith("connectors.p44")
