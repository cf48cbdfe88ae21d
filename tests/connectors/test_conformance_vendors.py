"""The shared conformance suite, run against the ERP vendor adapters (respx fakes of documented APIs).

The promises are the test functions of ``tests/connectors/test_conformance.py``, imported here so
pytest runs them again with this module's ``subject`` fixture: one ``Case`` per adapter.
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
from connectors.erp.dynamics_bc import BusinessCentralOrderSystem
from connectors.erp.erpnext import ErpNextOrderSystem
from connectors.erp.odoo import OdooOrderSystem
from connectors.erp.sap_s4 import SapS4OrderSystem
from tests.connectors.erp import test_dynamics_bc as bc
from tests.connectors.erp import test_erpnext as erpnext
from tests.connectors.erp import test_odoo as odoo
from tests.connectors.erp import test_sap_s4 as sap
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
    test_other_customers_records_carry_their_owner,
    test_partial_data,
    test_records_are_normalized_and_sourced,
    test_serves_the_kinds_it_implements,
)

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Case:
    """One vendor adapter: its class, configuration, fake, credentials and what it knows."""

    factory: Callable[..., Any]
    config: dict[str, Any]
    routes: Callable[[respx.MockRouter], None]
    env: dict[str, str]
    known: Known


def _known(customer: str, order_no: str, other: str, missing: str) -> Known:
    return Known(contact="", colleague="", customer=customer, order_no=order_no, customer_po="4500012345",
                 container="", other_customer_order=other, missing=missing)


CASES: dict[str, Case] = {
    "sap_s4": Case(SapS4OrderSystem, sap.SAP_CONFIG, sap.sap_routes, sap.SAP_ENV,
                   _known("10100001", "4711", "4712", "9999")),
    "dynamics_bc": Case(BusinessCentralOrderSystem, bc.BC_CONFIG, bc.bc_routes, bc.BC_ENV,
                        _known("C100", "S-ORD101001", "S-ORD101007", "S-ORD999999")),
    "odoo-json2": Case(OdooOrderSystem, odoo.JSON2_CONFIG, odoo.odoo_routes, odoo.ODOO_ENV,
                       _known("7", "S00042", "S00043", "S09999")),
    "odoo-xmlrpc": Case(OdooOrderSystem, odoo.XMLRPC_CONFIG, odoo.odoo_routes, odoo.ODOO_ENV,
                        _known("7", "S00042", "S00043", "S09999")),
    "erpnext": Case(ErpNextOrderSystem, erpnext.ERPNEXT_CONFIG, erpnext.erpnext_routes, erpnext.ERPNEXT_ENV,
                    _known("C100", "SAL-ORD-2026-00417", "SAL-ORD-2026-00431", "SAL-ORD-2026-99999")),
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
            connector=case.factory(name="erp", config=case.config, context={}), known=case.known, serves={Kind.ERP},
            unreachable=lambda: variant(base_url="https://down.nordkyst.example", retries=1, backoff=0),
            misconfigured=wrong_secret,
            slow=lambda timeout: variant(base_url="https://slow.nordkyst.example", timeout=timeout, retries=0),
            faulty=lambda transport, sleep: case.factory(name="faulty", config={**case.config, **NO_CACHE}, context={},
                                                         transport=transport, sleep=sleep),
            secrets=tuple(case.env.values()))
        yield made
        await made.connector.aclose()
