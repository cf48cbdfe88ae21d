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
- the configured timeout is respected;
- over HTTP (a fault-injecting transport in front of the same fake): 429 with a short ``Retry-After``
  is waited out and answered, a long one is ``RateLimitedError``; 5xx then success is answered; 401
  is ``ConfigurationError`` naming the setting, without the secret (no log record at DEBUG holds a
  secret either); a malformed body (not JSON,
  truncated, HTML, the wrong shape) is a clear error or "not found", never an unhandled exception;
- partial data (dates missing or null, SQL columns NULL) still gives the record, normalized.

The SQL connector has no HTTP: its 401 is a wrong password or table (``misconfigured`` above), and
the HTTP fault promises skip it with that reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import xmlrpc.client
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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
    RateLimitedError,
    RetryableError,
)
from connectors.mapping import vocabulary
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from shipdraft.demo import demo_dir
from tests.connectors.fixtures import (
    ERPNEXT_CONFIG,
    ERPNEXT_ENV,
    ERPNEXT_KNOWN,
    INHOUSE_CONFIG,
    INHOUSE_ENV,
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
    # HTTP connectors: the same connector with this transport in front of the fake, this sleep, no cache
    faulty: Callable[[httpx.AsyncBaseTransport, Sleep], Any] | None = None
    # SQL connectors: the same connector whose queries leave every optional column NULL
    partial: Callable[[], Any] | None = None
    # the lookups that must find the known records (default: one per kind served, by ``known.order_no``)
    lookup: Callable[[Any], Awaitable[list[Any]]] | None = None
    secrets: tuple[str, ...] = field(default_factory=tuple)


Sleep = Callable[[float], Awaitable[None]]
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
        partial=lambda: SqlConnector(name="partial", config=sql_partial(_demo_sql()), context=ctx),
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
        partial=lambda: SqlConnector(name="partial", config=sql_partial(mariadb_config(dsn_env="TEST_MARIADB_DSN")),
                                     context={}),
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
        faulty=lambda transport, sleep: RestConnector(name="faulty", config={**config, **NO_CACHE},
                                                      transport=transport, sleep=sleep),
        secrets=(*ERPNEXT_ENV.values(), *INHOUSE_ENV.values()),
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



# --------------------------------------------------------------------------- faults over HTTP, partial data

# every call reaches the transport; two retries (the default) whatever the case's own configuration says
NO_CACHE: dict[str, Any] = {"cache_ttl": 0, "breaker_failures": 0, "retries": 2}
Fault = Callable[[httpx.Request], httpx.Response]


class FaultTransport(httpx.AsyncBaseTransport):
    """In front of the fake (respx): answers data requests with ``faults`` first, then lets them through.

    Token requests (``.../token``) always pass, so a fault hits the API, not the login. ``repeat`` answers
    every data request with the one fault; ``mutate`` rewrites the JSON bodies that come back.
    """

    def __init__(self, *faults: Fault, repeat: bool = False, mutate: Callable[[Any], Any] | None = None) -> None:
        self._faults, self._repeat, self._mutate = list(faults), repeat, mutate
        self._inner = httpx.AsyncHTTPTransport()  # respx patches what is underneath
        self.injected = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._faults and not request.url.path.endswith("/token"):
            fault = self._faults[0] if self._repeat else self._faults.pop(0)
            self.injected += 1
            return fault(request)
        response = await self._inner.handle_async_request(request)
        kind = response.headers.get("Content-Type", "")
        if self._mutate is None or not ("json" in kind or "xml" in kind):
            return response
        await response.aread()
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
        if "json" in kind:
            content = json.dumps(self._mutate(json.loads(response.content))).encode()
        else:  # XML-RPC (Odoo): the same change inside the <methodResponse>
            try:
                (value,), _ = xmlrpc.client.loads(response.content, use_builtin_types=True)
            except xmlrpc.client.Fault:
                return httpx.Response(response.status_code, headers=headers, content=response.content)
            content = xmlrpc.client.dumps((self._mutate(value),), methodresponse=True, allow_none=True).encode()
        return httpx.Response(response.status_code, headers=headers, content=content)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Sleeps:
    """A ``sleep=`` that records what the connector waited and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


_DATEISH = re.compile(r"^(/Date\(-?\d+([+-]\d{4})?\)/|\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?)$")
_COMPACT = re.compile(r"^\d{6}(\d{2})?$")  # UPS: date "20261123", time "101500" under keys named date / time
_DATE_KEY = re.compile(r"(^|_)(date|time)$|(Date|Time)$", re.IGNORECASE)


class DropDates:
    """Partial data: every date or timestamp in a JSON body removed (``drop``) or set to null."""

    def __init__(self, *, drop: bool) -> None:
        self.drop, self.removed = drop, 0

    def __call__(self, body: Any) -> Any:
        if isinstance(body, list):
            return [self(x) for x in body]
        if not isinstance(body, dict):
            return body
        out: dict[str, Any] = {}
        for key, value in body.items():
            if isinstance(value, str) and (_DATEISH.match(value) or (_COMPACT.match(value) and _DATE_KEY.search(key))):
                self.removed += 1
                if not self.drop:
                    out[key] = None
            else:
                out[key] = self(value)
        return out


def sql_partial(config: dict[str, Any]) -> dict[str, Any]:
    """The SQL configuration whose order, shipments and fulfillment carry only their key, owner and status."""
    q = dict(config["queries"])
    keep = {"order": "q.order_no, q.customer_id, q.status, NULL AS confirmed_date",
            "shipments_for_order": "q.shipment_id, q.order_no, q.customer_id, q.status, NULL AS eta",
            "fulfillment": "q.order_no, q.customer_id, q.status, NULL AS shipped_at"}
    for name, columns in keep.items():
        q[name] = f"SELECT {columns} FROM ({q[name]}) AS q"
    for name in ("order_lines", "order_deliveries"):
        q.pop(name, None)
    return {**config, "queries": q}


async def known_records(s: Subject, connector: Any) -> list[Any]:
    """The records of the subject's known order, one lookup per kind served (or the subject's own lookup)."""
    if s.lookup is not None:
        return list(await s.lookup(connector))
    found: list[Any] = []
    if Kind.ERP in s.serves:
        found.append(await connector.get_order(order_no=s.known.order_no))
    if Kind.TMS in s.serves:
        found += await connector.shipments_for_order(order_no=s.known.order_no)
    if Kind.WMS in s.serves:
        found.append(await connector.fulfillment(order_no=s.known.order_no))
    return found


def _http(s: Subject) -> Callable[[httpx.AsyncBaseTransport, Sleep], Any]:
    if s.faulty is None:
        pytest.skip("SQL has no HTTP status or body (wrong password or table: test_failures_arrive_as_the_error_tree)")
    return s.faulty


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


@contextmanager
def no_secret_logged(s: Subject) -> Iterator[None]:
    """Every log record of the ``connectors`` loggers, at DEBUG, must hold none of the subject's secrets."""
    logger, captured = logging.getLogger("connectors"), _Captured()
    level = logger.level
    logger.addHandler(captured)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(captured)
        logger.setLevel(level)
    leaked = [line for line in captured.lines for secret in s.secrets if secret in line]
    assert not leaked, leaked


async def _found(s: Subject, transport: FaultTransport) -> tuple[list[Any], Sleeps]:
    sleeps = Sleeps()
    connector = _http(s)(transport, sleeps)
    try:
        with no_secret_logged(s):
            records = await known_records(s, connector)
    finally:
        await connector.aclose()
    assert records and all(r is not None for r in records), records
    assert all(getattr(r, "customer_id", s.known.customer) == s.known.customer for r in records)
    return records, sleeps


async def _fails(s: Subject, transport: FaultTransport) -> tuple[BaseException | None, list[Any], Sleeps]:
    """Runs the known lookup; a ``ConnectorError`` is returned, anything else not from the tree propagates."""
    sleeps = Sleeps()
    connector = _http(s)(transport, sleeps)
    try:
        with no_secret_logged(s):
            return None, await known_records(s, connector), sleeps
    except ConnectorError as exc:
        return exc, [], sleeps
    finally:
        await connector.aclose()


def _json(status: int, body: Any, **headers: str) -> Fault:
    return lambda request: httpx.Response(status, json=body, headers=headers)


async def check_429_retry_after_is_waited_out(s: Subject) -> None:
    transport = FaultTransport(_json(429, {"title": "Too Many Requests"}, **{"Retry-After": "2"}))
    _, sleeps = await _found(s, transport)
    assert transport.injected == 1 and sleeps.waits == [2.0]


async def check_429_retry_after_too_long_is_rate_limited(s: Subject) -> None:
    transport = FaultTransport(_json(429, {"title": "Too Many Requests"}, **{"Retry-After": "3600"}), repeat=True)
    error, _, sleeps = await _fails(s, transport)
    assert isinstance(error, RateLimitedError) and error.retry_after == 3600, error
    assert sleeps.waits == [] and transport.injected >= 1  # not retried: asked to wait longer than allowed


async def check_5xx_then_success(s: Subject) -> None:
    transport = FaultTransport(_json(503, {"error": "unavailable"}),
                               lambda request: httpx.Response(500, text="<html>Internal Server Error</html>"))
    _, sleeps = await _found(s, transport)
    assert transport.injected == 2 and len(sleeps.waits) == 2


async def check_401_names_the_setting(s: Subject) -> None:
    transport = FaultTransport(_json(401, {"error": "invalid_token", "message": "Unauthorized"},
                                     **{"WWW-Authenticate": 'Bearer error="invalid_token"'}), repeat=True)
    error, _, sleeps = await _fails(s, transport)
    assert isinstance(error, ConfigurationError), error
    assert error.setting.startswith("connectors.") and "401" in str(error)
    assert not any(secret in f"{error} {error.setting}" for secret in s.secrets)
    assert sleeps.waits == []  # a 401 is not retried (an OAuth token is refreshed once, without waiting)


MALFORMED: dict[str, Fault] = {
    "html": lambda request: httpx.Response(200, text="<html><body>Login</body></html>",
                                           headers={"Content-Type": "text/html"}),
    "truncated-json": lambda request: httpx.Response(200, content=b'{"d": {"results": [{"Sales',
                                                     headers={"Content-Type": "application/json"}),
    "wrong-shape": _json(200, {"unexpected": {"shape": [1, 2, 3]}, "value": "not a list", "data": 7}),
    "list": _json(200, [1, "two", None]),
    "null": _json(200, None),
}


async def check_malformed_body(s: Subject, body: str) -> None:
    transport = FaultTransport(MALFORMED[body], repeat=True)
    error, records, _ = await _fails(s, transport)
    if body in ("html", "truncated-json"):
        assert error is not None and error.category.value == "system", error  # "answer is not JSON"
    elif error is None:
        assert all(r is None for r in records), records  # the wrong shape read as "no such record" at worst
    assert transport.injected >= 1


async def check_partial_data(s: Subject, drop: bool) -> None:
    if s.partial is not None:
        connector = s.partial()
        try:
            records = await known_records(s, connector)
        finally:
            await connector.aclose()
    else:
        mutate = DropDates(drop=drop)
        records, _ = await _found(s, FaultTransport(mutate=mutate))
        assert mutate.removed > 0
    kinds = {Order: "order", Shipment: "shipment", Fulfillment: "fulfillment"}
    assert records and all(r is not None for r in records), records
    for record in records:
        assert record.status in vocabulary(kinds[type(record)]), record
        assert record.customer_id == s.known.customer
        assert all(d.utcoffset() is not None for d in _datetimes(record)), record
        assert record.source.system and record.source.record_id


async def test_429_retry_after_is_waited_out(subject: Subject) -> None:
    await check_429_retry_after_is_waited_out(subject)


async def test_429_retry_after_too_long_is_rate_limited(subject: Subject) -> None:
    await check_429_retry_after_too_long_is_rate_limited(subject)


async def test_5xx_then_success(subject: Subject) -> None:
    await check_5xx_then_success(subject)


async def test_401_names_the_setting(subject: Subject) -> None:
    await check_401_names_the_setting(subject)


@pytest.mark.parametrize("body", sorted(MALFORMED))
async def test_malformed_body(subject: Subject, body: str) -> None:
    await check_malformed_body(subject, body)


@pytest.mark.parametrize("drop", [True, False], ids=["absent", "null"])
async def test_partial_data(subject: Subject, drop: bool) -> None:
    await check_partial_data(subject, drop)
