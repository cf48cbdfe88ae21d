"""The generic SQL connector against the real servers: the demo database on PostgreSQL, a legacy ERP on MariaDB."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import yaml

from agent.models import CustomerMatch, MatchMethod, ReferenceKind
from connectors.base import (
    ConfigurationError,
    ConnectorTimeoutError,
    CustomerDirectory,
    OrderSystem,
    RetryableError,
    ShipmentTracker,
    WarehouseSystem,
)
from connectors.sql import SqlConnector
from shipdraft.demo import demo_dir
from tests.connectors.fixtures import mariadb_config

pytestmark = pytest.mark.anyio


def _demo_config() -> dict:
    return yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))["connectors"]["demo"]


@pytest.fixture
async def sql(database_url: str):
    connector = SqlConnector(name="demo", config=_demo_config(), context={"database_url": database_url})
    yield connector
    await connector.aclose()


async def test_implements_every_kind(sql: SqlConnector) -> None:
    for protocol in (CustomerDirectory, OrderSystem, ShipmentTracker, WarehouseSystem):
        assert isinstance(sql, protocol)
    assert all(sql.serves(kind) for kind in ("directory", "erp", "tms", "wms"))


async def test_customer_by_contact_then_by_domain(sql: SqlConnector) -> None:
    contact = CustomerMatch(customer_id="C100", method=MatchMethod.CONTACT, system="nordkyst-demo")
    assert await sql.customers_for_sender(address="Kari.Nilsen@hansen-mobler.example") == [contact]
    domain = CustomerMatch(customer_id="C100", method=MatchMethod.DOMAIN, system="nordkyst-demo")
    assert await sql.customers_for_sender(address="new.colleague@hansen-mobler.example") == [domain]
    assert await sql.customers_for_sender(address="someone@unknown-shop.example") == []


async def test_order_with_lines_shipments_and_fulfillment(sql: SqlConnector) -> None:
    order = await sql.get_order(order_no="NK204117")
    assert order is not None and order.customer_id == "C100"
    assert order.lines and order.source.system == "nordkyst-demo" and order.source.record_id == "NK204117"
    assert order.source.fetched_at.tzinfo is not None
    shipments = await sql.shipments_for_order(order_no="NK204117")
    assert shipments and all(s.order_no == "NK204117" and s.customer_id == "C100" for s in shipments)
    assert any(s.last_event is not None for s in shipments)
    fulfillment = await sql.fulfillment(order_no="NK204117")
    assert fulfillment is not None and fulfillment.customer_id == "C100"
    assert await sql.get_order(order_no="NK999999") is None


async def test_track_by_container(sql: SqlConnector) -> None:
    [shipment] = await sql.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU4417209")
    assert shipment.container_no and shipment.container_no.replace(" ", "") == "MSKU4417209"
    assert await sql.track(kind=ReferenceKind.CONTAINER_NUMBER, value="MSKU0000000") == []


async def test_configuration_errors_name_the_setting(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="unknown queries"):
        SqlConnector(name="x", config={"queries": {"orderz": "SELECT 1"}}, context={"database_url": database_url})
    monkeypatch.delenv("NO_SUCH_DSN", raising=False)
    with pytest.raises(ConfigurationError, match="NO_SUCH_DSN"):
        SqlConnector(name="x", config={"dsn": "env:NO_SUCH_DSN"}, context={})
    with pytest.raises(ConfigurationError, match="never a literal"):
        SqlConnector(name="x", config={"dsn": "postgresql://u:secret@h/db"}, context={})
    broken = SqlConnector(name="x", config={"queries": {"order": "SELECT nope FROM nowhere WHERE %(order_no)s = ''"}},
                          context={"database_url": database_url})
    with pytest.raises(ConfigurationError, match=r"queries\.order failed"):
        await broken.get_order(order_no="NK1")
    await broken.aclose()


async def test_unreachable_database_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOWN_DSN", "postgresql://nobody@127.0.0.1:1/none")
    down = SqlConnector(name="down", config={"dsn": "env:DOWN_DSN", "connect_timeout": 1,
                                             "queries": {"order": "SELECT 1 WHERE %(order_no)s = ''"}}, context={})
    with pytest.raises(RetryableError, match="unreachable"):
        await down.get_order(order_no="NK1")
    await down.aclose()


async def test_check_runs_every_named_query(sql: SqlConnector, database_url: str) -> None:
    assert await sql.check() == "8 queries ran (postgresql)"
    typo = SqlConnector(name="typo", config={"queries": {
        "order": "SELECT order_no FROM demo.orders WHERE order_no = %(order_no)s",
        "fulfillment": "SELECT order_no FROM demo.fulfilments WHERE order_no = %(order_no)s"}},
        context={"database_url": database_url})
    with pytest.raises(ConfigurationError, match=r"queries\.fulfillment failed") as raised:
        await typo.check()
    assert raised.value.setting == "connectors.typo.queries.fulfillment"
    await typo.aclose()


async def test_a_slow_query_is_cancelled_at_the_timeout_and_the_pool_stays_usable(database_url: str) -> None:
    queries = {"order": "SELECT order_no, customer_id, status FROM demo.orders, (SELECT pg_sleep(%(delay)s)) s "
                        "WHERE order_no = %(order_no)s"}
    slow = SqlConnector(name="slow", config={"timeout": 0.3, "max_connections": 1, "queries": queries},
                        context={"database_url": database_url})
    with pytest.raises(ConnectorTimeoutError, match=r"within 0\.3 s"):
        await slow._rows("order", {"order_no": "NK204117", "delay": 5})
    [row] = await slow._rows("order", {"order_no": "NK204117", "delay": 0})  # the one connection was freed
    assert row["customer_id"] == "C100"
    await slow.aclose()


async def test_configuration_keys_and_dsn_schemes_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=r"connectors\.x\.querys"):
        SqlConnector(name="x", config={"querys": {}}, context={"database_url": "postgresql:///x"})
    monkeypatch.setenv("ORACLE_DSN", "oracle://scott@db/orcl")
    with pytest.raises(ConfigurationError, match="postgresql:// or mysql://"):
        SqlConnector(name="x", config={"dsn": "env:ORACLE_DSN"}, context={})
    with pytest.raises(ConfigurationError, match="not a order status"):
        SqlConnector(name="x", config={"status_map": {"order": {"REL": "released"}}},
                     context={"database_url": "postgresql:///x"})


# --------------------------------------------------------------------------- MariaDB


@pytest.fixture
async def legacy(mariadb_dsn: str):
    connector = SqlConnector(name="legacy", config=mariadb_config(dsn_env="TEST_MARIADB_DSN"), context={})
    yield connector
    await connector.aclose()


async def test_mariadb_order_with_mapped_status_lines_and_deliveries(legacy: SqlConnector) -> None:
    assert legacy.dialect == "mysql" and all(legacy.serves(k) for k in ("directory", "erp", "tms", "wms"))
    order = await legacy.get_order(order_no="NK204117")
    assert order is not None
    assert (order.status, order.customer_po, order.confirmed_date) == ("shipped", "4500012345", date(2026, 11, 24))
    assert [(x.line_no, x.qty_ordered, x.qty_shipped) for x in order.lines] == [(1, 60.0, 60.0), (2, 80.0, 80.0)]
    assert order.deliveries == ("SHP-31001",) and order.source.system == "legacy-erp"
    [by_po] = await legacy.find_orders_by_po(customer_po="4500012345")
    assert by_po.order_no == "NK204117"


async def test_mariadb_naive_datetimes_are_read_in_the_configured_zone(legacy: SqlConnector) -> None:
    [shipment] = await legacy.shipments_for_order(order_no="NK204117")
    assert shipment.status == "delayed"
    assert shipment.eta == datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 08:00 in Oslo (CET)
    assert shipment.last_event is not None and shipment.last_event.code == "TSD"
    assert shipment.last_event.time == datetime(2026, 11, 19, 5, 40, tzinfo=UTC)
    fulfillment = await legacy.fulfillment(order_no="NK204117")
    assert fulfillment is not None and fulfillment.status == "shipped"
    assert fulfillment.shipped_at is not None and fulfillment.shipped_at.utcoffset() is not None
    [tracked] = await legacy.track(kind=ReferenceKind.SHIPMENT_ID, value="SHP31001")
    assert tracked.container_no == "MSKU4417209"


async def test_mariadb_check_and_errors(legacy: SqlConnector, mariadb_dsn: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert await legacy.check() == "9 queries ran (mysql)"
    monkeypatch.setenv("WRONG_PASSWORD_DSN", mariadb_dsn.replace("root@", "root:wrong-password@"))
    denied = SqlConnector(name="denied", config=mariadb_config(dsn_env="WRONG_PASSWORD_DSN"), context={})
    with pytest.raises(ConfigurationError, match=r"check the DSN \(connectors\.denied\.dsn\)") as raised:
        await denied.get_order(order_no="NK204117")
    assert "wrong-password" not in str(raised.value)
    await denied.aclose()
    broken = SqlConnector(name="broken", config={"dsn": "env:TEST_MARIADB_DSN", "queries": {
        "order": "SELECT order_no FROM orderz WHERE order_no = %(order_no)s"}}, context={})
    with pytest.raises(ConfigurationError, match=r"queries\.order failed"):
        await broken.get_order(order_no="NK1")
    await broken.aclose()


async def test_mariadb_slow_query_times_out_and_the_connection_is_dropped(mariadb_dsn: str) -> None:
    slow = SqlConnector(name="slow", config={"dsn": "env:TEST_MARIADB_DSN", "timeout": 0.3, "max_connections": 1,
                                             "queries": {"order": "SELECT order_no, customer_id, status, "
                                                                  "SLEEP(%(delay)s) AS z FROM orders "
                                                                  "WHERE order_no = %(order_no)s"}}, context={})
    with pytest.raises(ConnectorTimeoutError):
        await slow._rows("order", {"order_no": "NK204117", "delay": 5})
    [row] = await slow._rows("order", {"order_no": "NK204117", "delay": 0})
    assert row["customer_id"] == "C100"
    await slow.aclose()
