"""UPS Tracking API against copies of documented answers.

Shapes copied (UPS-API/api-documentation Tracking.yaml): ``/api/track/v1/details/{inquiryNumber}`` and
``/api/track/v1/reference/details/{referenceNumber}`` with ``locale`` / ``refNumType``, the required
``transId`` and ``transactionSrc`` headers, OAuth 2.0 client credentials (basic client auth) at
``/security/v1/oauth/token`` with UPS's token answer (``expires_in`` as a string);
``trackResponse.shipment[].package[]`` with ``currentStatus.type``, ``deliveryDate`` (YYYYMMDD, SDD/RDD/
DEL), ``deliveryTime`` (HHMMSS, EDW/EOD/DEL), ``activity`` (most recent first, gmtDate/gmtTime/
gmtOffset), ``referenceNumber``; warnings TW0001; errors ``{"response": {"errors": [{code, message}]}}``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx

from agent.models import ReferenceKind
from connectors.base import ConfigurationError, RetryableError
from connectors.tms.ups import UpsTracker
from tests.connectors.tms.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

UPS = "https://onlinetools.ups.com"
UPS_ENV = {"TEST_UPS_CLIENT_ID": "shipdraft-client", "TEST_UPS_SECRET": "ups-secret-8c1d"}
UPS_CONFIG: dict[str, Any] = {
    "type": "ups", "system": "ups", "client_id": "env:TEST_UPS_CLIENT_ID", "client_secret": "env:TEST_UPS_SECRET",
    "transaction_src": "shipdraft-test", "timezone": "Europe/Oslo",
    "owner": {"reference": "SHIPMENT", "pattern": r"^(C\d+)-"},
}
TOKEN = fixture("ups/token.json")["access_token"]
DETAILS = {"1Z023E2X0214323462": "ups/details_in_transit.json"}
REFERENCES = {"NK204117": "ups/reference_nk204117.json", "NK204301": "ups/reference_nk204301.json"}
CET = timezone(timedelta(hours=1))


def ups_routes(router: respx.MockRouter) -> None:
    """The token endpoint and both tracking endpoints, credentials and required headers checked."""
    basic = "Basic " + base64.b64encode(
        f"{UPS_ENV['TEST_UPS_CLIENT_ID']}:{UPS_ENV['TEST_UPS_SECRET']}".encode()).decode()

    def token(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != basic or b"grant_type=client_credentials" not in request.content:
            return httpx.Response(401, json=fixture("ups/token_invalid_client.json"))
        return httpx.Response(200, json=fixture("ups/token.json"))

    def checked(request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            invalid = {"code": "250002", "message": "Invalid Authentication Information."}
            return httpx.Response(401, json={"response": {"errors": [invalid]}})
        if not request.headers.get("transId") or not request.headers.get("transactionSrc"):
            return httpx.Response(400, json={"response": {"errors": [{"code": "TV1001",
                                                                       "message": "Missing transId"}]}})
        return None

    def details(request: httpx.Request, number: str) -> httpx.Response:
        if (refused := checked(request)) is not None:
            return refused
        if len(number) < 7:
            return httpx.Response(400, json=fixture("ups/error_invalid_number.json"))
        if number not in DETAILS:
            return httpx.Response(404, json=fixture("ups/error_not_found.json"))
        return httpx.Response(200, json=fixture(DETAILS[number]))

    def reference(request: httpx.Request, number: str) -> httpx.Response:
        if (refused := checked(request)) is not None:
            return refused
        return httpx.Response(200, json=fixture(REFERENCES.get(number, "ups/reference_not_found.json")))

    router.post(f"{UPS}/security/v1/oauth/token").mock(side_effect=token)
    router.get(url__regex=rf"^{UPS}/api/track/v1/details/(?P<number>[^/?]+)").mock(side_effect=details)
    router.get(url__regex=rf"^{UPS}/api/track/v1/reference/details/(?P<number>[^/?]+)").mock(side_effect=reference)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in UPS_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def ups(env: None) -> Any:
    with respx.mock(assert_all_called=False) as router:
        ups_routes(router)
        tracker = UpsTracker(name="ups", config=UPS_CONFIG, context={}, sleep=no_sleep)
        yield tracker, router
        await tracker.aclose()


async def test_requests_carry_token_and_transaction_headers(ups: Any) -> None:
    tracker, router = ups
    await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")
    await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z999AA10123456784")
    token_call, first, second = router.calls
    assert token_call.request.url.path == "/security/v1/oauth/token"
    assert first.request.url.path == "/api/track/v1/details/1Z023E2X0214323462"
    assert dict(first.request.url.params) == {"locale": "en_US"}
    assert first.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert first.request.headers["transactionSrc"] == "shipdraft-test"
    assert len(first.request.headers["transId"]) == 32
    assert first.request.headers["transId"] != second.request.headers["transId"]  # unique per request
    assert second.request.headers["Authorization"] == f"Bearer {TOKEN}"  # the token is reused


async def test_in_transit_package_is_normalized(ups: Any) -> None:
    tracker, _ = ups
    [package] = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")
    assert package.status == "in_transit"
    assert package.customer_id == "C100"
    assert package.carrier == "UPS UPS Worldwide Express" and package.mode == "parcel"
    assert package.delivery_window is not None
    assert package.delivery_window.start == datetime(2026, 11, 19, 12, 0, tzinfo=CET)
    assert package.eta == datetime(2026, 11, 19, 16, 0, tzinfo=CET)
    assert (package.origin, package.destination) == ("Koeln, DE", "Oslo, NO")
    assert package.last_event is not None
    assert package.last_event.time == datetime(2026, 11, 18, 5, 42, tzinfo=UTC)
    assert package.last_event.time.utcoffset() == timedelta(hours=1)
    assert (package.last_event.location, package.last_event.code) == ("Oslo, NO", "AR")
    assert package.source.link == "https://www.ups.com/track?loc=en_US&tracknum=1Z023E2X0214323462"


async def test_order_reference_lookup_finds_rescheduled_package(ups: Any) -> None:
    tracker, router = ups
    [package] = await tracker.shipments_for_order(order_no="NK204117")
    request = router.calls.last.request
    assert request.url.path == "/api/track/v1/reference/details/NK204117"
    assert dict(request.url.params) == {"locale": "en_US", "refNumType": "SmallPackage"}
    assert package.status == "delayed"  # in transit with a rescheduled delivery date
    assert package.order_no == "NK204117"
    assert package.eta == datetime(2026, 11, 20, 23, 59, tzinfo=CET)
    assert package.last_event is not None
    assert package.last_event.time == datetime(2026, 11, 18, 6, 42, tzinfo=CET)  # local date/time


async def test_delivered_package_of_other_customer(ups: Any) -> None:
    tracker, _ = ups
    [package] = await tracker.shipments_for_order(order_no="NK204301")
    assert package.status == "delivered"
    assert package.customer_id == "C300"
    assert package.delivered_at == datetime(2026, 11, 16, 11, 5, tzinfo=CET)
    assert package.pod_signed_by == "LIND"
    assert package.eta is None
    assert package.last_event is not None and package.last_event.description == "DELIVERED"


async def test_not_found_answers_are_empty(ups: Any) -> None:
    tracker, router = ups
    assert await tracker.shipments_for_order(order_no="NK999999") == []  # 200 with warning TW0001
    assert await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z0000000000000000") == []  # 404
    assert await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z1") == []  # 400 TV1002
    calls = router.calls.call_count
    assert await tracker.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU4417209") == []
    assert router.calls.call_count == calls  # not a UPS number kind: no call


async def test_wrong_client_secret_names_the_settings(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_UPS_SECRET", "wrong")
    with respx.mock(assert_all_called=False) as router:
        ups_routes(router)
        tracker = UpsTracker(name="ups", config=UPS_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")
        await tracker.aclose()
    assert "connectors.ups.auth.client_secret" in raised.value.setting
    assert "TEST_UPS_SECRET" in str(raised.value) and "wrong" not in str(raised.value)


async def test_blocked_merchant_and_server_errors_keep_ups_codes(env: None) -> None:
    with respx.mock() as router:
        router.post(f"{UPS}/security/v1/oauth/token").mock(
            return_value=httpx.Response(200, json=fixture("ups/token.json")))
        router.get(f"{UPS}/api/track/v1/details/1Z023E2X0214323462").mock(side_effect=[
            httpx.Response(403, json=fixture("ups/error_blocked_merchant.json")),
            httpx.Response(500, json=fixture("ups/error_server.json")),
        ])
        tracker = UpsTracker(name="ups", config={**UPS_CONFIG, "retries": 0, "cache_ttl": 0}, context={})
        with pytest.raises(ConfigurationError) as blocked:
            await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")
        with pytest.raises(RetryableError) as down:
            await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")
        await tracker.aclose()
    assert "TV1003 Blocked Merchant" in str(blocked.value)
    assert "TS0001 Internal server error" in str(down.value)


async def test_explicit_auth_block_is_wrapped_with_transaction_headers(env: None) -> None:
    with respx.mock() as router:
        route = router.get(f"{UPS}/api/track/v1/details/1Z023E2X0214323462").mock(
            return_value=httpx.Response(200, json=fixture("ups/details_in_transit.json")))
        config = {**UPS_CONFIG, "auth": {"type": "bearer", "token": "env:TEST_UPS_SECRET"}}
        tracker = UpsTracker(name="ups", config=config, context={})
        assert len(await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1Z023E2X0214323462")) == 1
        await tracker.aclose()
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer ups-secret-8c1d"
    assert request.headers["transactionSrc"] == "shipdraft-test" and request.headers["transId"]


@pytest.mark.parametrize("change", [{"client_secret": None}, {"client_secret": "literal-secret"},
                                    {"locale": "english"}, {"timezone": "Nowhere/City"},
                                    {"status_map": {"I": "rolling"}}])
async def test_bad_configuration_names_the_setting(env: None, change: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        UpsTracker(name="ups", config={**UPS_CONFIG, **change}, context={})
    assert raised.value.setting.startswith("connectors.ups")
