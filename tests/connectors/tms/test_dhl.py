"""DHL Shipment Tracking – Unified against copies of documented answers.

Shapes copied: ``GET /track/shipments?trackingNumber=`` with the ``DHL-API-Key`` header and optional
query options; ``{"shipments": [...]}`` with ``status.statusCode`` pre-transit/transit/delivered/
failure/unknown, ``estimatedTimeOfDelivery``, ``estimatedDeliveryTimeFrame``, ``details.references``,
``details.proofOfDelivery`` (timestamp without offset), ``events``; problem+json errors (404, 401, 429).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from agent.models import ReferenceKind
from connectors.base import ConfigurationError, RateLimitedError
from connectors.tms.dhl import DhlTracker
from tests.connectors.tms.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

DHL = "https://api-eu.dhl.com"
DHL_ENV = {"TEST_DHL_KEY": "dhl-key-3f9a"}
DHL_CONFIG: dict[str, Any] = {
    "type": "dhl", "system": "dhl", "timezone": "Europe/Berlin", "language": "en",
    "auth": {"type": "api_key", "header": "DHL-API-Key", "key": "env:TEST_DHL_KEY"},
    "owner": {"reference": "customer-reference", "pattern": r"^(C\d+)-"},
}
NUMBERS = {"7777777770": "dhl/express_transit.json", "00340434161094042557": "dhl/parcel_delivered.json"}
CET = timezone(timedelta(hours=1))


def dhl_routes(router: respx.MockRouter) -> None:
    """``/track/shipments`` as DHL answers it: key checked, known numbers, problem+json otherwise."""

    def track(request: httpx.Request) -> httpx.Response:
        problem = {"Content-Type": "application/problem+json"}
        if request.headers.get("DHL-API-Key") != DHL_ENV["TEST_DHL_KEY"]:
            return httpx.Response(401, json=fixture("dhl/problem_unauthorized.json"), headers=problem)
        number = request.url.params.get("trackingNumber", "")
        if number not in NUMBERS:
            return httpx.Response(404, json=fixture("dhl/problem_not_found.json"), headers=problem)
        return httpx.Response(200, json=fixture(NUMBERS[number]))

    router.get(f"{DHL}/track/shipments").mock(side_effect=track)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in DHL_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def dhl(env: None) -> Any:
    with respx.mock(assert_all_called=False) as router:
        dhl_routes(router)
        tracker = DhlTracker(name="dhl", config=DHL_CONFIG, context={}, sleep=no_sleep)
        yield tracker, router
        await tracker.aclose()


async def test_request_carries_key_header_and_query_options(dhl: Any) -> None:
    tracker, router = dhl
    await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value=" 7777777770 ")
    request = router.calls.last.request
    assert request.url.path == "/track/shipments"
    assert dict(request.url.params) == {"trackingNumber": "7777777770", "language": "en"}
    assert request.headers["DHL-API-Key"] == "dhl-key-3f9a"
    assert request.headers["Accept"] == "application/json"


async def test_in_transit_shipment_is_normalized(dhl: Any) -> None:
    tracker, _ = dhl
    [shipment] = await tracker.track(kind=ReferenceKind.AIR_WAYBILL, value="7777777770")
    assert shipment.status == "in_transit"
    assert shipment.customer_id == "C100"
    assert shipment.order_no == "NK204117"
    assert shipment.carrier == "DHL EXPRESS WORLDWIDE" and shipment.mode == "express"
    assert shipment.eta == datetime(2026, 11, 19, 17, 0, tzinfo=CET)
    assert shipment.delivery_window is not None
    assert shipment.delivery_window.start == datetime(2026, 11, 19, 9, 0, tzinfo=CET)
    assert (shipment.origin, shipment.destination) == ("Leipzig - Germany, DE", "Oslo - Norway, NO")
    assert shipment.last_event is not None
    assert shipment.last_event.time == datetime(2026, 11, 18, 5, 42, tzinfo=UTC)
    assert shipment.last_event.description == "Processed at OSLO - NORWAY"
    assert shipment.delivered_at is None
    assert shipment.source.record_id == "7777777770"
    assert shipment.source.link is not None and shipment.source.link.endswith("tracking-id=7777777770")


async def test_delivered_parcel_reads_naive_times_in_configured_zone(dhl: Any) -> None:
    tracker, _ = dhl
    [shipment] = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="00340434161094042557")
    assert shipment.status == "delivered"
    assert shipment.customer_id == "C300"
    assert shipment.delivered_at == datetime(2026, 11, 16, 11, 5, tzinfo=CET)
    assert shipment.pod_signed_by == "Ola Berg"
    assert shipment.pod_link == "https://webpod.dhl.com/pod?token=510f1359603a768a57af49cf10083f90&language=en"
    assert shipment.eta is None
    assert shipment.source.link == ("https://www.dhl.com/global-en/home/tracking.html"
                                    "?tracking-id=00340434161094042557&submit=1")


async def test_not_found_problem_is_empty(dhl: Any) -> None:
    tracker, _ = dhl
    assert await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1234567890") == []


async def test_untracked_kinds_and_orders_make_no_call(dhl: Any) -> None:
    tracker, router = dhl
    assert await tracker.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU4417209") == []
    assert await tracker.shipments_for_order(order_no="NK204117") == []
    assert router.calls.call_count == 0


async def test_container_numbers_are_tracked_when_configured(env: None) -> None:
    with respx.mock() as router:
        route = router.get(f"{DHL}/track/shipments").mock(
            return_value=httpx.Response(200, json=fixture("dhl/express_transit.json")))
        tracker = DhlTracker(name="dgf", config={**DHL_CONFIG, "service": "dgf",
                                                 "track_kinds": ["container_number"]}, context={})
        found = await tracker.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU4417209")
        await tracker.aclose()
    assert [s.shipment_id for s in found] == ["7777777770"]
    assert dict(route.calls.last.request.url.params) == {"trackingNumber": "MSKU4417209", "service": "dgf",
                                                         "language": "en"}


async def test_without_owner_rule_shipments_have_no_owner(env: None) -> None:
    with respx.mock() as router:
        dhl_routes(router)
        config = {k: v for k, v in DHL_CONFIG.items() if k != "owner"}
        tracker = DhlTracker(name="dhl", config=config, context={})
        [shipment] = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
        await tracker.aclose()
    assert shipment.customer_id == ""


async def test_owner_map_translates_account_numbers(env: None) -> None:
    with respx.mock() as router:
        dhl_routes(router)
        owner = {"reference": "customer-order-number", "map": {"NK204117": "C100"}}
        tracker = DhlTracker(name="dhl", config={**DHL_CONFIG, "owner": owner}, context={})
        [shipment] = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
        await tracker.aclose()
    assert shipment.customer_id == "C100"


async def test_status_map_overrides_detailed_status(env: None) -> None:
    with respx.mock() as router:
        dhl_routes(router)
        config = {**DHL_CONFIG, "status_map": {"PROCESSED AT LOCAL DISTRIBUTION CENTER": "at_port"}}
        tracker = DhlTracker(name="dhl", config=config, context={})
        [shipment] = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
        await tracker.aclose()
    assert shipment.status == "at_port"


async def test_wrong_key_names_the_setting(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DHL_KEY", "wrong")
    with respx.mock() as router:
        dhl_routes(router)
        tracker = DhlTracker(name="dhl", config=DHL_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
        await tracker.aclose()
    assert raised.value.setting.startswith("connectors.dhl.auth.key")
    assert "TEST_DHL_KEY" in str(raised.value) and "wrong" not in str(raised.value)
    assert "Unauthorized for given resource" in str(raised.value)


async def test_quota_exhausted_is_rate_limited(env: None) -> None:
    with respx.mock() as router:
        router.get(f"{DHL}/track/shipments").mock(return_value=httpx.Response(
            429, json=fixture("dhl/problem_rate_limited.json"), headers={"Retry-After": "3600",
                                                                        "Content-Type": "application/problem+json"}))
        tracker = DhlTracker(name="dhl", config=DHL_CONFIG, context={}, sleep=no_sleep)
        with pytest.raises(RateLimitedError) as raised:
            await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="7777777770")
        await tracker.aclose()
    assert raised.value.retry_after == 3600


@pytest.mark.parametrize("change", [{"auth": None}, {"timezone": "Mars/Olympus"}, {"language": "english"},
                                    {"owner": {"reference": "customer-reference", "pattern": "("}},
                                    {"status_map": {"transit": "moving"}}])
async def test_bad_configuration_names_the_setting(env: None, change: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        DhlTracker(name="dhl", config={**DHL_CONFIG, **change}, context={})
    assert raised.value.setting.startswith("connectors.dhl")
