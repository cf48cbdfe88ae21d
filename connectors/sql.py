"""Generic SQL connector: ERP, TMS, WMS and customer directory from named queries.

Works with PostgreSQL (psycopg 3) and MariaDB / MySQL (aiomysql). Configured in
the mailbox YAML::

    type: sql
    dsn: app                      # the application's own database, or env:VARIABLE holding a DSN:
                                  #   postgresql://user:pass@host/db   or   mysql://user:pass@host:3306/db
    system: demo-erp              # the name facts cite as their source (default: the connector name)
    link: "https://erp.example/orders/{record_id}"   # optional
    timeout: 10                   # seconds one query may take
    timezone: Europe/Oslo         # how naive DATETIME / timestamp values are read (default UTC)
    status_map:                   # optional: the database's codes -> the shared vocabulary
      order: {REL: confirmed, DLV: delivered}
    queries:
      customers_by_contact: SELECT customer_id FROM ... WHERE lower(email) = %(address)s
      customers_by_domain:  SELECT customer_id FROM ... WHERE email_domain = %(domain)s
      order:                SELECT order_no, customer_id, customer_po, status, ... %(order_no)s
      order_lines:          SELECT line_no, sku, description, qty_ordered, qty_shipped ... %(order_no)s
      order_deliveries:     SELECT delivery_id ... %(order_no)s              (optional)
      orders_by_po:         same columns as ``order`` ... %(customer_po)s
      shipments_for_order:  SELECT shipment_id, order_no, customer_id, carrier, mode, tracking_no, container_no,
                            status, origin, destination, eta, delivered_at, pod_signed_by, [pod_link,
                            delivery_window_start, delivery_window_end,]
                            last_event_time, last_event_location, last_event_code, last_event_description
                            ... %(order_no)s
      shipments_by_reference: same columns ... %(kind)s, %(value)s
      fulfillment:          SELECT order_no, customer_id, warehouse, status, picked_at, packed_at, shipped_at
                            ... %(order_no)s

Both drivers take the same ``%(name)s`` parameters, so one set of queries
serves either server. Columns are named after the normalized model fields, so
the mapping lives in the SQL aliases; statuses go through the status map and
naive datetimes are read in ``timezone``. A query that is not configured means
that kind is not served. Driver choice for MariaDB/MySQL: aiomysql (aio-libs,
maintained, built on the pure-Python PyMySQL, so no compiler is needed and its
``%(name)s`` parameter style matches psycopg's).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiomysql
import psycopg
import pymysql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.models import (
    CustomerMatch,
    DeliveryWindow,
    Fulfillment,
    MatchMethod,
    Order,
    OrderLine,
    ReferenceKind,
    Shipment,
    ShipmentEvent,
    Source,
)
from connectors.base import (
    ConfigurationError,
    ConnectorError,
    ConnectorTimeoutError,
    RetryableError,
    SystemError_,
)
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_datetime, to_float, to_text

QUERY_NAMES = (
    "customers_by_contact", "customers_by_domain", "order", "order_lines", "order_deliveries", "orders_by_po",
    "shipments_for_order", "shipments_by_reference", "fulfillment",
)
_KIND_QUERIES = {
    "directory": ("customers_by_contact",),
    "erp": ("order",),
    "tms": ("shipments_for_order",),
    "wms": ("fulfillment",),
}
_CHECK_PARAMS = {"address": "shipdraft-check@invalid.example", "domain": "invalid.example",
                 "order_no": "SHIPDRAFT-CHECK", "customer_po": "SHIPDRAFT-CHECK", "kind": "container_number",
                 "value": "SHIPDRAFT-CHECK"}
_MYSQL_SCHEMES = ("mysql", "mariadb", "mysql+aiomysql")
log = logging.getLogger(__name__)
_PG_SCHEMES = ("postgresql", "postgres")


class SqlConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "sql"
    dsn: str = "app"
    system: str | None = None
    link: str | None = None
    queries: dict[str, str] = Field(default_factory=dict)
    max_connections: int = Field(10, ge=1)
    connect_timeout: float = Field(5, gt=0)
    timeout: float = Field(10, gt=0)
    timezone: str = "UTC"
    status_map: dict[RecordKind, dict[str, str]] = Field(default_factory=dict)


class _Backend(Protocol):
    async def rows(self, *, sql: str, params: Mapping[str, Any], query: str) -> list[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


class SqlConnector:
    """One PostgreSQL or MariaDB/MySQL database answering any of the four kinds through named queries."""

    kinds = ("directory", "erp", "tms", "wms")

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any]) -> None:
        self.name = name
        try:
            cfg = SqlConfig.model_validate(dict(config))
        except ValidationError as exc:
            problems = "; ".join(f"connectors.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                 for e in exc.errors())
            raise ConfigurationError(problems, system=name, setting=f"connectors.{name}") from exc
        self.system = cfg.system or name
        self._link = cfg.link
        unknown = set(cfg.queries) - set(QUERY_NAMES)
        if unknown:
            raise ConfigurationError(f"connector {name}: unknown queries {sorted(unknown)}; "
                                     f"known are {list(QUERY_NAMES)}", system=name,
                                     setting=f"connectors.{name}.queries")
        self._queries: dict[str, str] = dict(cfg.queries)
        self._timeout = cfg.timeout
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = {kind: StatusMap(kind=kind, mapping=cfg.status_map.get(kind),
                                        setting=f"connectors.{name}.status_map") for kind in RecordKind}
        dsn = _resolve_dsn(name=name, dsn=cfg.dsn, context=context)
        scheme = urlsplit(dsn).scheme.lower() if "://" in dsn else "postgresql"
        common = {"name": name, "system": self.system, "max_size": cfg.max_connections,
                  "connect_timeout": cfg.connect_timeout}
        if scheme in _MYSQL_SCHEMES:
            self.dialect = "mysql"
            self._backend: _Backend = _MySql(dsn=dsn, **common)
        elif scheme in _PG_SCHEMES:
            self.dialect = "postgresql"
            self._backend = _Postgres(dsn=dsn, **common)
        else:
            raise ConfigurationError(f"connector {name}: the DSN scheme {scheme!r} is not supported; use "
                                     "postgresql:// or mysql:// (MariaDB too)", system=name,
                                     setting=f"connectors.{name}.dsn")

    def __repr__(self) -> str:
        return f"<SqlConnector {self.name} {self.dialect}>"

    def serves(self, kind: str) -> bool:
        return all(q in self._queries for q in _KIND_QUERIES[kind])

    async def aclose(self) -> None:
        await self._backend.aclose()

    async def check(self) -> str:
        """Run every configured query once with placeholder values: typos show up now, not in a draft."""
        for query in self._queries:
            await self._rows(query, _CHECK_PARAMS)
        return f"{len(self._queries)} queries ran ({self.dialect})"

    # ------------------------------------------------------------------ CustomerDirectory

    async def customers_for_sender(self, *, address: str) -> list[CustomerMatch]:
        address = address.strip().lower()
        asks = [(MatchMethod.CONTACT, "customers_by_contact", {"address": address})]
        if "customers_by_domain" in self._queries:
            asks.append((MatchMethod.DOMAIN, "customers_by_domain", {"domain": address.rpartition("@")[2]}))
        answers = await asyncio.gather(*(self._rows(q, p) for _, q, p in asks))
        matches: dict[str, CustomerMatch] = {}
        for (method, _, _), rows in zip(asks, answers, strict=True):
            for r in rows:
                customer = str(r["customer_id"])
                if customer not in matches:
                    matches[customer] = CustomerMatch(customer_id=customer, method=method, system=self.system)
        return list(matches.values())

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        rows = await self._rows("order", {"order_no": order_no})
        if not rows:
            return None
        key = {"order_no": rows[0]["order_no"]}
        lines, deliveries = await asyncio.gather(
            self._rows("order_lines", key) if "order_lines" in self._queries else _nothing(),
            self._rows("order_deliveries", key) if "order_deliveries" in self._queries else _nothing())
        return self._order(rows[0], lines, deliveries)

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        if "orders_by_po" not in self._queries:
            return []
        return [self._order(r, [], []) for r in await self._rows("orders_by_po", {"customer_po": customer_po})]

    # ------------------------------------------------------------------ ShipmentTracker

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        return [self._shipment(r) for r in await self._rows("shipments_for_order", {"order_no": order_no})]

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        if "shipments_by_reference" not in self._queries:
            return []
        rows = await self._rows("shipments_by_reference", {"kind": ReferenceKind(kind).value, "value": value})
        return [self._shipment(r) for r in rows]

    # ------------------------------------------------------------------ WarehouseSystem

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        rows = await self._rows("fulfillment", {"order_no": order_no})
        if not rows:
            return None
        r = rows[0]
        return Fulfillment(order_no=str(r["order_no"]), customer_id=str(r["customer_id"]),
                           warehouse=to_text(r.get("warehouse")),
                           status=self._status[RecordKind.FULFILLMENT](r["status"]),
                           picked_at=self._dt(r.get("picked_at")), packed_at=self._dt(r.get("packed_at")),
                           shipped_at=self._dt(r.get("shipped_at")), source=self._source(str(r["order_no"])))

    # ------------------------------------------------------------------ helpers

    async def _rows(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        sql = self._queries.get(query)
        if sql is None:
            raise ConfigurationError(f"connector {self.name}: queries.{query} is not configured", system=self.name,
                                     setting=f"connectors.{self.name}.queries.{query}")
        try:
            async with asyncio.timeout(self._timeout):
                return await self._backend.rows(sql=sql, params=params, query=query)
        except TimeoutError as exc:
            raise ConnectorTimeoutError(f"{self.system}: queries.{query} gave no answer within {self._timeout:g} s",
                                        system=self.name) from exc

    def _dt(self, value: Any) -> datetime | None:
        return to_datetime(value, tz=self._tz)

    def _source(self, record_id: str) -> Source:
        link = self._link.format(record_id=record_id) if self._link else None
        return Source(system=self.system, record_id=str(record_id), fetched_at=datetime.now(UTC), link=link)

    def _order(self, r: dict[str, Any], lines: list[dict[str, Any]], deliveries: list[dict[str, Any]]) -> Order:
        return Order(
            order_no=str(r["order_no"]), customer_id=str(r["customer_id"]), customer_po=to_text(r.get("customer_po")),
            status=self._status[RecordKind.ORDER](r["status"]),
            requested_date=to_date(r.get("requested_date"), tz=self._tz),
            confirmed_date=to_date(r.get("confirmed_date"), tz=self._tz),
            lines=tuple(OrderLine(line_no=int(x["line_no"]), sku=to_text(x.get("sku")),
                                  description=to_text(x.get("description")),
                                  qty_ordered=to_float(x.get("qty_ordered")),
                                  qty_shipped=to_float(x.get("qty_shipped")))
                        for x in lines),
            deliveries=tuple(str(next(iter(d.values()))) for d in deliveries if d),
            source=self._source(str(r["order_no"])),
        )

    def _shipment(self, r: dict[str, Any]) -> Shipment:
        event = None
        if r.get("last_event_time") is not None:
            event = ShipmentEvent(time=self._dt(r["last_event_time"]), location=to_text(r.get("last_event_location")),
                                  code=to_text(r.get("last_event_code")),
                                  description=to_text(r.get("last_event_description")))
        window = None
        start, end = self._dt(r.get("delivery_window_start")), self._dt(r.get("delivery_window_end"))
        if start is not None and end is not None:
            window = DeliveryWindow(start=start, end=end)
        return Shipment(
            shipment_id=str(r["shipment_id"]), order_no=to_text(r.get("order_no")), customer_id=str(r["customer_id"]),
            carrier=to_text(r.get("carrier")), mode=to_text(r.get("mode")), tracking_no=to_text(r.get("tracking_no")),
            container_no=to_text(r.get("container_no")), status=self._status[RecordKind.SHIPMENT](r["status"]),
            origin=to_text(r.get("origin")), destination=to_text(r.get("destination")), eta=self._dt(r.get("eta")),
            delivered_at=self._dt(r.get("delivered_at")), pod_signed_by=to_text(r.get("pod_signed_by")),
            pod_link=to_text(r.get("pod_link")), last_event=event, delivery_window=window,
            source=self._source(str(r["shipment_id"])),
        )


async def _nothing() -> list[dict[str, Any]]:
    return []


# --------------------------------------------------------------------------- PostgreSQL


class _Postgres:
    """psycopg 3 with an async pool; a cancelled query is cancelled on the server too."""

    def __init__(self, *, dsn: str, name: str, system: str, max_size: int, connect_timeout: float) -> None:
        self._dsn, self._name, self._system = dsn, name, system
        self._max_size, self._connect_timeout = max_size, connect_timeout
        self._pool: AsyncConnectionPool | None = None
        self._pool_lock = asyncio.Lock()

    async def rows(self, *, sql: str, params: Mapping[str, Any], query: str) -> list[dict[str, Any]]:
        try:
            pool = await self._open()
            async with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(sql, params)  # type: ignore[arg-type]  # configured SQL, bound parameters
                return list(await cur.fetchall())
        except ConnectorError:
            raise
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise RetryableError(f"{self._system} unreachable: {exc}", system=self._name) from exc
        except psycopg.ProgrammingError as exc:
            raise ConfigurationError(f"connector {self._name}: queries.{query} failed: {exc}", system=self._name,
                                     setting=f"connectors.{self._name}.queries.{query}") from exc
        except psycopg.Error as exc:
            raise SystemError_(f"{self._system} error: {exc}", system=self._name) from exc

    async def _open(self) -> AsyncConnectionPool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:  # concurrent first calls share one pool
            if self._pool is None:
                pool = AsyncConnectionPool(self._dsn, min_size=1, max_size=self._max_size, open=False,
                                           kwargs={"autocommit": True,
                                                   "connect_timeout": max(int(self._connect_timeout), 1)})
                try:
                    await pool.open(wait=True, timeout=self._connect_timeout)
                except PoolTimeout as exc:
                    await pool.close()
                    raise RetryableError(f"{self._system} unreachable: {exc}", system=self._name) from exc
                self._pool = pool
            return self._pool

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


# --------------------------------------------------------------------------- MariaDB / MySQL

_MYSQL_ACCESS = {1044, 1045, 1049, 1698}  # access denied, unknown database
_MYSQL_QUERY = {1054, 1064, 1146, 1142, 1143, 1305, 1582}  # unknown column, syntax, no such table, ...


class _MySql:
    """aiomysql pool. A query cancelled by the timeout is killed on the server (``KILL QUERY``) and its
    connection closed, never reused, like psycopg cancels a PostgreSQL query."""

    def __init__(self, *, dsn: str, name: str, system: str, max_size: int, connect_timeout: float) -> None:
        self._name, self._system, self._max_size = name, system, max_size
        self._connect = _mysql_params(dsn, connect_timeout=connect_timeout, name=name)
        self._pool: aiomysql.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._kills: set[asyncio.Task[None]] = set()

    async def rows(self, *, sql: str, params: Mapping[str, Any], query: str) -> list[dict[str, Any]]:
        try:
            pool = await self._open()
            conn = await pool.acquire()
            try:
                async with conn.cursor(aiomysql.DictCursor) as cur:
                    await cur.execute(sql, dict(params))
                    return list(await cur.fetchall())
            except asyncio.CancelledError:
                self._kill_query(conn.thread_id())
                conn.close()
                raise
            except BaseException:
                conn.close()  # unknown protocol state after an error: drop it
                raise
            finally:
                pool.release(conn)
        except pymysql.err.MySQLError as exc:
            raise self._error(exc, query=query) from exc
        except OSError as exc:
            raise RetryableError(f"{self._system} unreachable: {exc}", system=self._name) from exc

    def _kill_query(self, thread_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self._kill(thread_id))
        self._kills.add(task)
        task.add_done_callback(self._kills.discard)

    async def _kill(self, thread_id: int) -> None:
        try:
            conn = await aiomysql.connect(**self._connect)
            try:
                async with conn.cursor() as cur:
                    await cur.execute(f"KILL QUERY {int(thread_id)}")
            finally:
                conn.close()
        except (pymysql.err.MySQLError, OSError):  # best effort: the query may already be over
            log.info("could not kill a timed-out query", extra={"system": self._name})

    def _error(self, exc: pymysql.err.MySQLError, *, query: str) -> ConnectorError:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _MYSQL_ACCESS:
            return ConfigurationError(f"connector {self._name}: {exc.args[-1]}; check the DSN (connectors."
                                      f"{self._name}.dsn)", system=self._name, setting=f"connectors.{self._name}.dsn")
        if code in _MYSQL_QUERY or isinstance(exc, pymysql.err.ProgrammingError):
            return ConfigurationError(f"connector {self._name}: queries.{query} failed: {exc.args[-1]}",
                                      system=self._name, setting=f"connectors.{self._name}.queries.{query}")
        if isinstance(exc, pymysql.err.OperationalError):
            return RetryableError(f"{self._system} unreachable: {exc.args[-1]}", system=self._name)
        return SystemError_(f"{self._system} error: {exc.args[-1] if exc.args else exc}", system=self._name)

    async def _open(self) -> aiomysql.Pool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await aiomysql.create_pool(minsize=1, maxsize=self._max_size, autocommit=True,
                                                        **self._connect)
            return self._pool

    async def aclose(self) -> None:
        if self._kills:
            await asyncio.gather(*self._kills, return_exceptions=True)
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None


def _mysql_params(dsn: str, *, connect_timeout: float, name: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    params: dict[str, Any] = {
        "host": parts.hostname or "127.0.0.1", "port": parts.port or 3306,
        "user": unquote(parts.username) if parts.username else "root",
        "password": unquote(parts.password) if parts.password else "",
        "db": unquote(parts.path.lstrip("/")) or None, "charset": query.pop("charset", "utf8mb4"),
        "connect_timeout": connect_timeout,
    }
    if "unix_socket" in query:
        params["unix_socket"] = query.pop("unix_socket")
    if query:
        raise ConfigurationError(f"connector {name}: unsupported DSN options {sorted(query)} (charset, unix_socket)",
                                 system=name, setting=f"connectors.{name}.dsn")
    return params


def _resolve_dsn(*, name: str, dsn: str, context: Mapping[str, Any]) -> str:
    if dsn == "app":
        url = context.get("database_url")
        if not url:
            raise ConfigurationError(f"connector {name}: dsn 'app' needs the application database", system=name,
                                     setting=f"connectors.{name}.dsn")
        return str(url)
    if dsn.startswith("env:"):
        var = dsn.removeprefix("env:")
        value = os.environ.get(var)
        if not value:
            raise ConfigurationError(f"connector {name}: environment variable {var} (connectors.{name}.dsn) "
                                     "is not set", system=name, setting=f"connectors.{name}.dsn")
        return value
    raise ConfigurationError(f"connector {name}: dsn must be 'app' or 'env:VARIABLE' (never a literal "
                             "DSN with a password in YAML)", system=name, setting=f"connectors.{name}.dsn")
