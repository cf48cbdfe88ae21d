"""The shared conformance suite, run against the TMS vendor adapters (respx fakes of documented APIs).

The promises are the test functions of ``tests/connectors/test_conformance.py``, imported here so pytest
runs them again with this module's ``subject`` fixture: one ``Case`` per adapter that can look shipments
up by order (UPS by shipper reference, project44 by ``ORDER`` identifier). DHL Unified tracks by number
only (``shipments_for_order`` is always ``[]``), so it keeps the same promises through ``track``: the
``test_dhl_*`` functions below.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from agent.models import ReferenceKind
from connectors.base import KIND_PROTOCOLS, ConfigurationError, ConnectorTimeoutError, Kind, RetryableError
from connectors.mapping import vocabulary
from connectors.tms.dhl import DhlTracker
from connectors.tms.project44 import Project44Tracker
from connectors.tms.ups import UpsTracker
from tests.connectors.fixtures import Known
from tests.connectors.test_conformance import (  # noqa: F401  (collected here with this module's subject)
    MALFORMED,
    NO_CACHE,
    Subject,
    check_5xx_then_success,
    check_401_names_the_setting,
    check_429_retry_after_is_waited_out,
    check_429_retry_after_too_long_is_rate_limited,
    check_malformed_body,
    check_partial_data,
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
from tests.connectors.tms import test_dhl as dhl
from tests.connectors.tms import test_project44 as p44
from tests.connectors.tms import test_ups as ups

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Case:
    """One vendor adapter: its class, configuration, fake, credentials and what it knows."""

    factory: Callable[..., Any]
    config: dict[str, Any]
    routes: Callable[[respx.MockRouter], None]
    env: dict[str, str]
    known: Known


def _known(order_no: str, other: str) -> Known:
    return Known(contact="", colleague="", customer="C100", order_no=order_no, customer_po="", container="",
                 other_customer_order=other, missing="NK999999")


CASES: dict[str, Case] = {
    "ups": Case(UpsTracker, ups.UPS_CONFIG, ups.ups_routes, ups.UPS_ENV, _known("NK204117", "NK204301")),
    "project44": Case(Project44Tracker, p44.P44_CONFIG, p44.p44_routes, p44.P44_ENV, _known("NK204117", "NK204301")),
}


async def _no_sleep(seconds: float) -> None:
    return None


async def _too_slow(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(3)
    return httpx.Response(200, json={})


def _failing_hosts(router: respx.MockRouter) -> None:
    router.route(host="down.nordkyst.example").mock(side_effect=httpx.ConnectError("connection refused"))
    router.route(host="slow.nordkyst.example").mock(side_effect=_too_slow)


@pytest.fixture(params=sorted(CASES))
async def subject(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Subject]:
    case = CASES[request.param]
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)

    def variant(**changes: Any) -> Any:
        return case.factory(name="variant", config={**case.config, **changes}, context={}, sleep=_no_sleep)

    def wrong_secret() -> Any:
        for key in case.env:
            monkeypatch.setenv(key, "not-the-secret")
        return variant()

    with respx.mock(assert_all_called=False) as router:
        _failing_hosts(router)
        case.routes(router)
        made = Subject(
            connector=case.factory(name="tms", config=case.config, context={}), known=case.known, serves={Kind.TMS},
            unreachable=lambda: variant(base_url="https://down.nordkyst.example", retries=1, backoff=0),
            misconfigured=wrong_secret,
            slow=lambda timeout: variant(base_url="https://slow.nordkyst.example", timeout=timeout, retries=0),
            faulty=lambda transport, sleep: case.factory(name="faulty", config={**case.config, **NO_CACHE}, context={},
                                                         transport=transport, sleep=sleep),
            secrets=tuple(case.env.values()))
        yield made
        await made.connector.aclose()


# --------------------------------------------------------------------------- DHL: the same promises through track()

DHL_MINE, DHL_OTHERS = "7777777770", "00340434161094042557"


@pytest.fixture
async def dhl_router(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[respx.MockRouter]:
    for key, value in dhl.DHL_ENV.items():
        monkeypatch.setenv(key, value)
    with respx.mock(assert_all_called=False) as router:
        _failing_hosts(router)
        dhl.dhl_routes(router)
        yield router


def _dhl(**changes: Any) -> DhlTracker:
    return DhlTracker(name="dhl", config={**dhl.DHL_CONFIG, **changes}, context={}, sleep=_no_sleep)


async def test_dhl_serves_the_kinds_it_implements(dhl_router: respx.MockRouter) -> None:
    tracker = _dhl()
    assert {k for k in Kind if tracker.serves(k)} == {Kind.TMS}
    assert isinstance(tracker, KIND_PROTOCOLS[Kind.TMS])
    await tracker.aclose()


async def test_dhl_records_are_normalized_sourced_and_owned(dhl_router: respx.MockRouter) -> None:
    tracker = _dhl()
    mine = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_MINE)
    others = await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_OTHERS)
    await tracker.aclose()
    assert mine and others
    assert all(s.customer_id == "C100" for s in mine)
    assert all(s.customer_id not in ("", "C100") for s in others)
    now = datetime.now(UTC)
    for shipment in [*mine, *others]:
        assert shipment.status in vocabulary("shipment") and shipment.status != "unknown"
        stamps = [d for d in (shipment.eta, shipment.delivered_at) if d is not None]
        assert stamps and all(d.utcoffset() is not None for d in stamps)
        assert shipment.last_event is None or shipment.last_event.time.utcoffset() is not None
        assert shipment.source.system and shipment.source.record_id
        assert abs(now - shipment.source.fetched_at) < timedelta(minutes=1)


async def test_dhl_not_found_is_empty(dhl_router: respx.MockRouter) -> None:
    tracker = _dhl()
    assert await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value="1234567890") == []
    assert await tracker.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU0000000") == []
    assert await tracker.shipments_for_order(order_no="NK999999") == []
    await tracker.aclose()


async def test_dhl_failures_arrive_as_the_error_tree(dhl_router: respx.MockRouter,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    down = _dhl(base_url="https://down.nordkyst.example", retries=1, backoff=0)
    with pytest.raises(RetryableError) as raised:
        await down.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_MINE)
    assert raised.value.retryable
    await down.aclose()
    monkeypatch.setenv("TEST_DHL_KEY", "not-the-secret")
    bad = _dhl()
    with pytest.raises(ConfigurationError) as wrong:
        await bad.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_MINE)
    assert wrong.value.setting.startswith("connectors.")
    await bad.aclose()


async def test_dhl_configured_timeout_is_respected(dhl_router: respx.MockRouter) -> None:
    slow = _dhl(base_url="https://slow.nordkyst.example", timeout=0.3, retries=0)
    started = time.perf_counter()
    with pytest.raises(ConnectorTimeoutError):
        await slow.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_MINE)
    assert time.perf_counter() - started < 1.5
    await slow.aclose()


@pytest.fixture
def dhl_subject(dhl_router: respx.MockRouter) -> Subject:
    """DHL for the HTTP fault promises: the known lookup is ``track`` of a tracking number."""

    async def track_mine(tracker: Any) -> list[Any]:
        return await tracker.track(kind=ReferenceKind.TRACKING_NUMBER, value=DHL_MINE)

    return Subject(connector=None, known=_known("", ""), serves={Kind.TMS},  # the fields below are what is used
                   unreachable=_dhl, misconfigured=_dhl, slow=_dhl, lookup=track_mine,
                   secrets=tuple(dhl.DHL_ENV.values()),
                   faulty=lambda transport, sleep: DhlTracker(name="faulty", config={**dhl.DHL_CONFIG, **NO_CACHE},
                                                              context={}, transport=transport, sleep=sleep))


async def test_dhl_429_retry_after_is_waited_out(dhl_subject: Subject) -> None:
    await check_429_retry_after_is_waited_out(dhl_subject)


async def test_dhl_429_retry_after_too_long_is_rate_limited(dhl_subject: Subject) -> None:
    await check_429_retry_after_too_long_is_rate_limited(dhl_subject)


async def test_dhl_5xx_then_success(dhl_subject: Subject) -> None:
    await check_5xx_then_success(dhl_subject)


async def test_dhl_401_names_the_setting(dhl_subject: Subject) -> None:
    await check_401_names_the_setting(dhl_subject)


@pytest.mark.parametrize("body", sorted(MALFORMED))
async def test_dhl_malformed_body(dhl_subject: Subject, body: str) -> None:
    await check_malformed_body(dhl_subject, body)


@pytest.mark.parametrize("drop", [True, False], ids=["absent", "null"])
async def test_dhl_partial_data(dhl_subject: Subject, drop: bool) -> None:
    await check_partial_data(dhl_subject, drop)
