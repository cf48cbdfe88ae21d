"""The shared conformance suite: every connector, against its fixture, keeps the same promises.

Parametrized over connector + fixture: the SQL connector on PostgreSQL (the demo
database) and on MariaDB (a legacy-ERP schema with its own status codes and
naive local times), and the REST connector against an ERPNext-shaped order
system and an in-house TMS/WMS/directory API (respx). A new connector joins by
adding a ``Case``. Promises checked:

- the kinds it says it serves are the Protocols it implements;
- records speak the normalized vocabulary, datetimes are timezone-aware,
  every record carries a filled Source, and the owning customer;
- not found is ``None`` / ``[]``, never an exception;
- the directory says how it matched (exact contact or domain);
- failures arrive as the error tree (unreachable -> retryable, bad setup ->
  configuration naming the setting);
- the configured timeout is respected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
import yaml
from pydantic import BaseModel

from agent.models import Fulfillment, MatchMethod, Order, ReferenceKind, Shipment
from connectors.base import (
    KIND_PROTOCOLS,
    ConfigurationError,
    ConnectorError,
    ConnectorTimeoutError,
    Kind,
    RetryableError,
)
from connectors.mapping import vocabulary
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from shipdraft.demo import demo_dir
from tests.connectors.fixtures import (
    ERPNEXT_CONFIG,
    ERPNEXT_KNOWN,
    INHOUSE_CONFIG,
    INHOUSE_KNOWN,
    MARIADB_KNOWN,
    POSTGRES_KNOWN,
    Known,
    erpnext_routes,
    inhouse_routes,
    mariadb_config,
)

pytestmark = pytest.mark.anyio


@dataclass
class Subject:
    connector: Any
    known: Known
    serves: set[Kind]
    unreachable: Callable[[], Any]
    misconfigured: Callable[[], Any]
    slow: Callable[[float], Any]


CASES = ["sql-postgresql", "sql-mariadb", "rest-erpnext", "rest-inhouse"]


def _demo_sql() -> dict[str, Any]:
    return yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))["connectors"]["demo"]


def _postgres(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Subject:
    url = request.getfixturevalue("database_url")
    monkeypatch.setenv("TEST_PG_DOWN", "postgresql://nobody@127.0.0.1:1/none")
    ctx = {"database_url": url}
    slow_sql = ("SELECT 'X' AS order_no, 'C1' AS customer_id, 'open' AS status FROM (SELECT pg_sleep(3)) AS s "
                "WHERE %(order_no)s <> ''")
    return Subject(
        connector=SqlConnector(name="demo", config=_demo_sql(), context=ctx), known=POSTGRES_KNOWN,
        serves={Kind.DIRECTORY, Kind.ERP, Kind.TMS, Kind.WMS},
        unreachable=lambda: SqlConnector(name="down", config={**_demo_sql(), "dsn": "env:TEST_PG_DOWN",
                                                              "connect_timeout": 1}, context={}),
        misconfigured=lambda: SqlConnector(name="bad", config={"queries": {
            "order": "SELECT order_no FROM demo.no_such_table WHERE order_no = %(order_no)s"}}, context=ctx),
        slow=lambda timeout: SqlConnector(name="slow", config={"timeout": timeout, "queries": {"order": slow_sql}},
                                          context=ctx),
    )


def _mariadb(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Subject:
    request.getfixturevalue("mariadb_dsn")
    monkeypatch.setenv("TEST_MARIADB_DOWN", "mysql://root@127.0.0.1:1/none")
    slow_sql = ("SELECT 'X' AS order_no, 'C1' AS customer_id, 'open' AS status, SLEEP(3) AS z FROM DUAL "
                "WHERE %(order_no)s <> ''")
    return Subject(
        connector=SqlConnector(name="legacy", config=mariadb_config(dsn_env="TEST_MARIADB_DSN"), context={}),
        known=MARIADB_KNOWN, serves={Kind.DIRECTORY, Kind.ERP, Kind.TMS, Kind.WMS},
        unreachable=lambda: SqlConnector(name="down", config=mariadb_config(dsn_env="TEST_MARIADB_DOWN",
                                                                            connect_timeout=1), context={}),
        misconfigured=lambda: SqlConnector(name="bad", config={"dsn": "env:TEST_MARIADB_DSN", "queries": {
            "order": "SELECT order_no FROM no_such_table WHERE order_no = %(order_no)s"}}, context={}),
        slow=lambda timeout: SqlConnector(name="slow", config={"dsn": "env:TEST_MARIADB_DSN", "timeout": timeout,
                                                               "queries": {"order": slow_sql}}, context={}),
    )


def _rest(config: dict[str, Any], known: Known, serves: set[Kind], router: respx.MockRouter,
          monkeypatch: pytest.MonkeyPatch) -> Subject:
    async def too_slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(3)
        return httpx.Response(200, json={})

    router.route(host="down.nordkyst.example").mock(side_effect=httpx.ConnectError("connection refused"))
    router.route(host="slow.nordkyst.example").mock(side_effect=too_slow)

    def variant(**changes: Any) -> RestConnector:
        return RestConnector(name="variant", config={**config, **changes}, sleep=_no_sleep)

    def wrong_key() -> RestConnector:
        for var in ("TEST_ERPNEXT_SECRET", "TEST_INHOUSE_KEY"):
            monkeypatch.setenv(var, "not-the-key")
        return variant()

    return Subject(
        connector=RestConnector(name="rest", config=config), known=known, serves=serves,
        unreachable=lambda: variant(base_url="https://down.nordkyst.example/api", retries=1, backoff=0),
        misconfigured=wrong_key,
        slow=lambda timeout: variant(base_url="https://slow.nordkyst.example/api", timeout=timeout, retries=0),
    )


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture(params=CASES)
async def subject(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Subject]:
    if request.param == "sql-postgresql":
        made = _postgres(request, monkeypatch)
    elif request.param == "sql-mariadb":
        made = _mariadb(request, monkeypatch)
    else:
        request.getfixturevalue("rest_env")
        with respx.mock(assert_all_called=False) as router:
            if request.param == "rest-erpnext":
                erpnext_routes(router)
                made = _rest(ERPNEXT_CONFIG, ERPNEXT_KNOWN, {Kind.ERP}, router, monkeypatch)
            else:
                inhouse_routes(router)
                made = _rest(INHOUSE_CONFIG, INHOUSE_KNOWN, {Kind.DIRECTORY, Kind.TMS, Kind.WMS}, router,
                             monkeypatch)
            yield made
            await made.connector.aclose()
        return
    yield made
    await made.connector.aclose()


async def _probe(connector: Any, kind: Kind) -> Any:
    if kind == Kind.DIRECTORY:
        return await connector.customers_for_sender(address="probe@invalid.example")
    if kind == Kind.ERP:
        return await connector.get_order(order_no="NK1")
    if kind == Kind.TMS:
        return await connector.shipments_for_order(order_no="NK1")
    return await connector.fulfillment(order_no="NK1")


async def _records(s: Subject) -> list[Order | Shipment | Fulfillment]:
    c, k = s.connector, s.known
    found: list[Any] = []
    if Kind.ERP in s.serves:
        found += [await c.get_order(order_no=k.order_no), *await c.find_orders_by_po(customer_po=k.customer_po)]
    if Kind.TMS in s.serves:
        found += await c.shipments_for_order(order_no=k.order_no)
        found += await c.track(kind=ReferenceKind.CONTAINER_NUMBER, value=k.container)
    if Kind.WMS in s.serves:
        found.append(await c.fulfillment(order_no=k.order_no))
    assert all(r is not None for r in found)
    return found


def _datetimes(model: BaseModel) -> list[datetime]:
    out: list[datetime] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        for v in value if isinstance(value, tuple) else (value,):
            if isinstance(v, datetime):
                out.append(v)
            elif isinstance(v, BaseModel):
                out += _datetimes(v)
    return out


async def test_serves_the_kinds_it_implements(subject: Subject) -> None:
    served = {k for k in Kind if subject.connector.serves(k)}
    assert served == subject.serves
    for kind in served:
        assert isinstance(subject.connector, KIND_PROTOCOLS[kind])
        assert kind in type(subject.connector).kinds


async def test_records_are_normalized_and_sourced(subject: Subject) -> None:
    records = await _records(subject)
    assert records
    kinds = {Order: "order", Shipment: "shipment", Fulfillment: "fulfillment"}
    now = datetime.now(UTC)
    for record in records:
        assert record.status in vocabulary(kinds[type(record)]), record
        assert record.status != "unknown", record
        assert record.customer_id == subject.known.customer
        stamps = _datetimes(record)
        assert all(d.tzinfo is not None and d.utcoffset() is not None for d in stamps), record
        src = record.source
        assert src.system and src.record_id
        assert src.fetched_at.tzinfo is not None and abs(now - src.fetched_at) < timedelta(minutes=1)
    orders = [r for r in records if isinstance(r, Order)]
    assert all(isinstance(o.confirmed_date, date) for o in orders)
    assert any(o.lines for o in orders) or not orders
    shipments = [r for r in records if isinstance(r, Shipment)]
    assert all(any(d is not None for d in (s.eta, s.delivered_at)) for s in shipments)


async def test_other_customers_records_carry_their_owner(subject: Subject) -> None:
    c, k = subject.connector, subject.known
    if Kind.ERP in subject.serves:
        order = await c.get_order(order_no=k.other_customer_order)
        assert order is not None and order.customer_id not in ("", k.customer)
    if Kind.TMS in subject.serves:
        shipments = await c.shipments_for_order(order_no=k.other_customer_order)
        assert shipments and all(s.customer_id not in ("", k.customer) for s in shipments)


async def test_not_found_is_none_or_empty(subject: Subject) -> None:
    c, missing = subject.connector, subject.known.missing
    if Kind.ERP in subject.serves:
        assert await c.get_order(order_no=missing) is None
        assert await c.find_orders_by_po(customer_po="NOPO0000") == []
    if Kind.TMS in subject.serves:
        assert await c.shipments_for_order(order_no=missing) == []
        assert await c.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU0000000") == []
    if Kind.WMS in subject.serves:
        assert await c.fulfillment(order_no=missing) is None
    if Kind.DIRECTORY in subject.serves:
        assert await c.customers_for_sender(address="someone@unknown-shop.example") == []


async def test_directory_says_how_it_matched(subject: Subject) -> None:
    if Kind.DIRECTORY not in subject.serves:
        pytest.skip("this connector is not a customer directory")
    k = subject.known
    [exact] = await subject.connector.customers_for_sender(address=k.contact.upper())
    assert (exact.customer_id, exact.method) == (k.customer, MatchMethod.CONTACT)
    [domain] = await subject.connector.customers_for_sender(address=k.colleague)
    assert (domain.customer_id, domain.method) == (k.customer, MatchMethod.DOMAIN)


async def test_failures_arrive_as_the_error_tree(subject: Subject) -> None:
    kind = Kind.ERP if Kind.ERP in subject.serves else sorted(subject.serves)[0]
    down = subject.unreachable()
    try:
        with pytest.raises(RetryableError) as raised:
            await _probe(down, kind)
        assert isinstance(raised.value, ConnectorError) and raised.value.retryable
    finally:
        await down.aclose()
    bad = subject.misconfigured()
    try:
        with pytest.raises(ConfigurationError) as wrong:
            await _probe(bad, kind)
        assert wrong.value.setting.startswith("connectors.")
    finally:
        await bad.aclose()


async def test_configured_timeout_is_respected(subject: Subject) -> None:
    slow = subject.slow(0.3)
    try:
        kind = Kind.ERP if slow.serves(Kind.ERP) else sorted(subject.serves)[0]
        started = time.perf_counter()
        with pytest.raises(ConnectorTimeoutError):
            await _probe(slow, kind)
        assert time.perf_counter() - started < 1.5
    finally:
        await slow.aclose()
