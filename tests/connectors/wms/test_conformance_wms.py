"""The shared conformance suite, run against the WMS vendor adapters (respx fakes of documented APIs).

The promises are the test functions of ``tests/connectors/test_conformance.py``, imported here so pytest
runs them again with this module's ``subject`` fixture: one ``Case`` per adapter (and Odoo protocol).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx

from connectors.base import Kind
from connectors.wms.odoo_pickings import OdooPickingsWarehouse
from connectors.wms.shipbob import ShipBobWarehouse
from tests.connectors.fixtures import Known
from tests.connectors.test_conformance import (  # noqa: F401  (collected here with this module's subject)
    NO_CACHE,
    Subject,
    test_5xx_then_success,
    test_401_names_the_setting,
    test_429_retry_after_is_waited_out,
    test_429_retry_after_too_long_is_rate_limited,
    test_configured_timeout_is_respected,
    test_failures_arrive_as_the_error_tree,
    test_malformed_body,
    test_not_found_is_none_or_empty,
    test_partial_data,
    test_records_are_normalized_and_sourced,
    test_serves_the_kinds_it_implements,
)
from tests.connectors.wms import test_odoo_pickings as odoo
from tests.connectors.wms import test_shipbob as shipbob

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Case:
    """One vendor adapter: its class, configuration, fake, credentials and what it knows."""

    factory: Callable[..., Any]
    config: dict[str, Any]
    routes: Callable[[respx.MockRouter], None]
    env: dict[str, str]
    known: Known


def _known(customer: str, order_no: str, missing: str) -> Known:
    return Known(contact="", colleague="", customer=customer, order_no=order_no, customer_po="", container="",
                 missing=missing)


CASES: dict[str, Case] = {
    "shipbob": Case(ShipBobWarehouse, shipbob.SHIPBOB_CONFIG, shipbob.shipbob_routes, shipbob.SHIPBOB_ENV,
                    _known("C100", "NK204117", "NK999999")),
    "odoo_pickings-json2": Case(OdooPickingsWarehouse, odoo.JSON2_CONFIG, odoo.odoo_routes, odoo.ODOO_ENV,
                                _known("7", "S00042", "S09999")),
    "odoo_pickings-xmlrpc": Case(OdooPickingsWarehouse, odoo.XMLRPC_CONFIG, odoo.odoo_routes, odoo.ODOO_ENV,
                                 _known("7", "S00042", "S09999")),
}


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture(params=sorted(CASES))
async def subject(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Subject]:
    case = CASES[request.param]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)

    async def too_slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3)
        return httpx.Response(200, json={})

    def variant(**changes: Any) -> Any:
        return case.factory(name="variant", config={**case.config, **changes}, context={}, sleep=_no_sleep)

    def wrong_secret() -> Any:
        for key in case.env:
            monkeypatch.setenv(key, "not-the-secret")
        return variant()

    with respx.mock(assert_all_called=False) as router:
        router.route(host="down.nordkyst.example").mock(side_effect=httpx.ConnectError("connection refused"))
        router.route(host="slow.nordkyst.example").mock(side_effect=too_slow)
        case.routes(router)
        made = Subject(
            connector=case.factory(name="wms", config=case.config, context={}), known=case.known, serves={Kind.WMS},
            unreachable=lambda: variant(base_url="https://down.nordkyst.example", retries=1, backoff=0),
            misconfigured=wrong_secret,
            slow=lambda timeout: variant(base_url="https://slow.nordkyst.example", timeout=timeout, retries=0),
            faulty=lambda transport, sleep: case.factory(name="faulty", config={**case.config, **NO_CACHE}, context={},
                                                         transport=transport, sleep=sleep),
            secrets=tuple(case.env.values()))
        yield made
        await made.connector.aclose()
