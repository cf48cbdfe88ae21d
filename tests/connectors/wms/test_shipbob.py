"""ShipBob (API 2025-07) against copies of documented answers.

Shapes copied: ``GET /2025-07/order?ReferenceIds=`` with a personal access token
(``Authorization: Bearer``); the order list with ``reference_id``, ``status``, ``channel{id, name}``
and ``shipments[]`` (``status``, ``status_details``, ``location``, ``estimated_fulfillment_date_status``,
``actual_fulfillment_date`` with fractional seconds and offsets, ``tracking``); an empty list for no
match; ASP.NET ProblemDetails errors (401, 400 validation).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.base import ConfigurationError, SystemError_
from connectors.wms.shipbob import ShipBobWarehouse
from tests.connectors.wms.helpers import fixture, no_sleep

pytestmark = pytest.mark.anyio

SHIPBOB = "https://api.shipbob.com"
SHIPBOB_ENV = {"TEST_SHIPBOB_PAT": "shipbob-pat-21c9"}
SHIPBOB_CONFIG: dict[str, Any] = {"type": "shipbob", "system": "shipbob",
                                  "auth": {"type": "bearer", "token": "env:TEST_SHIPBOB_PAT"},
                                  "customers_by_channel": {"173416": "C100", "Svea Kok Store": "C300"}}
ORDERS = {"NK204117": "shipbob/orders_nk204117.json", "NK204301": "shipbob/orders_nk204301.json"}


def shipbob_routes(router: respx.MockRouter) -> None:
    """``/2025-07/order`` as ShipBob answers it: token checked, filter by reference id."""

    def orders(request: httpx.Request) -> httpx.Response:
        problem = {"Content-Type": "application/problem+json"}
        if request.headers.get("Authorization") != f"Bearer {SHIPBOB_ENV['TEST_SHIPBOB_PAT']}":
            return httpx.Response(401, json=fixture("shipbob/problem_unauthorized.json"), headers=problem)
        reference = request.url.params.get("ReferenceIds", "")
        return httpx.Response(200, json=fixture(ORDERS[reference]) if reference in ORDERS else [])

    router.get(f"{SHIPBOB}/2025-07/order").mock(side_effect=orders)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in SHIPBOB_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
async def shipbob(env: None) -> Any:
    with respx.mock(assert_all_called=False) as router:
        shipbob_routes(router)
        warehouse = ShipBobWarehouse(name="shipbob", config=SHIPBOB_CONFIG, context={}, sleep=no_sleep)
        yield warehouse, router
        await warehouse.aclose()


async def test_request_filters_by_reference_id_with_token(shipbob: Any) -> None:
    warehouse, router = shipbob
    await warehouse.fulfillment(order_no=" NK204117 ")
    request = router.calls.last.request
    assert request.url.path == "/2025-07/order"
    assert dict(request.url.params) == {"ReferenceIds": "NK204117", "Limit": "5"}
    assert request.headers["Authorization"] == "Bearer shipbob-pat-21c9"


async def test_shipped_order_ignores_cancelled_shipment(shipbob: Any) -> None:
    warehouse, _ = shipbob
    done = await warehouse.fulfillment(order_no="NK204117")
    assert done is not None
    assert done.status == "shipped"
    assert done.customer_id == "C100"
    assert done.warehouse == "Cicero (IL)"
    assert done.shipped_at == datetime(2026, 11, 16, 8, 39, 12, tzinfo=UTC)
    assert done.source.record_id == "190283741"
    assert done.source.link == "https://web.shipbob.com/app/merchant/#/orders/190283741"


async def test_partly_labelled_order_is_its_least_advanced_shipment(shipbob: Any) -> None:
    warehouse, _ = shipbob
    pending = await warehouse.fulfillment(order_no="NK204301")
    assert pending is not None
    assert pending.status == "open"  # one shipment packed (label printed), one still processing
    assert pending.customer_id == "C300"  # matched by channel name
    assert pending.shipped_at is None


async def test_status_map_reads_status_details(env: None) -> None:
    with respx.mock() as router:
        shipbob_routes(router)
        config = {**SHIPBOB_CONFIG, "status_map": {"Processing/Picked": "picked"}}
        warehouse = ShipBobWarehouse(name="shipbob", config=config, context={})
        pending = await warehouse.fulfillment(order_no="NK204301")
        await warehouse.aclose()
    assert pending is not None and pending.status == "picked"


async def test_unknown_order_is_none(shipbob: Any) -> None:
    warehouse, _ = shipbob
    assert await warehouse.fulfillment(order_no="NK999999") is None
    assert await warehouse.fulfillment(order_no="  ") is None


async def test_unmapped_channel_has_no_owner_unless_account_default(env: None) -> None:
    with respx.mock() as router:
        shipbob_routes(router)
        bare = ShipBobWarehouse(name="shipbob", config={**SHIPBOB_CONFIG, "customers_by_channel": {}}, context={})
        single = ShipBobWarehouse(name="shipbob", config={**SHIPBOB_CONFIG, "customers_by_channel": {},
                                                          "customer_id": "C100"}, context={})
        unowned, owned = await bare.fulfillment(order_no="NK204117"), await single.fulfillment(order_no="NK204117")
        await bare.aclose()
        await single.aclose()
    assert unowned is not None and unowned.customer_id == ""
    assert owned is not None and owned.customer_id == "C100"


async def test_wrong_token_names_the_setting(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SHIPBOB_PAT", "expired")
    with respx.mock() as router:
        shipbob_routes(router)
        warehouse = ShipBobWarehouse(name="shipbob", config=SHIPBOB_CONFIG, context={})
        with pytest.raises(ConfigurationError) as raised:
            await warehouse.fulfillment(order_no="NK204117")
        await warehouse.aclose()
    assert raised.value.setting.startswith("connectors.shipbob.auth.token")
    assert "TEST_SHIPBOB_PAT" in str(raised.value) and "expired" not in str(raised.value)


async def test_validation_problem_is_a_system_error_with_title(env: None) -> None:
    with respx.mock() as router:
        router.get(f"{SHIPBOB}/2025-07/order").mock(return_value=httpx.Response(
            400, json=fixture("shipbob/problem_validation.json"), headers={"Content-Type": "application/problem+json"}))
        warehouse = ShipBobWarehouse(name="shipbob", config=SHIPBOB_CONFIG, context={})
        with pytest.raises(SystemError_) as raised:
            await warehouse.fulfillment(order_no="NK204117")
        await warehouse.aclose()
    assert "One or more validation errors occurred." in str(raised.value)


@pytest.mark.parametrize("change", [{"auth": None}, {"api_version": "latest"},
                                    {"status_map": {"Completed": "gone"}}])
async def test_bad_configuration_names_the_setting(env: None, change: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ShipBobWarehouse(name="shipbob", config={**SHIPBOB_CONFIG, **change}, context={})
    assert raised.value.setting.startswith("connectors.shipbob")
