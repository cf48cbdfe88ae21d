"""``connectors check``: one line per configured system, every system called once, concurrently."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import respx
import yaml

from connectors.checks import check_connectors
from connectors.rest import RestConnector
from connectors.sql import SqlConnector
from shipdraft.demo import demo_dir
from tests.connectors.fixtures import INHOUSE_CONFIG, INHOUSE_URL, inhouse_routes

pytestmark = pytest.mark.anyio
REGISTRY: dict[str, Any] = {"sql": SqlConnector, "rest": RestConnector}


def _demo() -> dict[str, Any]:
    return yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))


async def test_the_demo_mailbox_checks_clean(database_url: str) -> None:
    config = _demo()
    [result] = await check_connectors(connectors=config["connectors"], systems=config["systems"],
                                      context={"database_url": database_url}, registry=REGISTRY)
    assert result.ok, result.line()
    assert result.line().startswith("ok   demo [sql: directory, erp, tms, wms] 8 queries ran (postgresql)")


@respx.mock
async def test_one_clear_line_per_system(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_INHOUSE_KEY", "inhouse-key-123")
    monkeypatch.setenv("TEST_WRONG_KEY", "not-the-key-0000")
    monkeypatch.delenv("TEST_MISSING_KEY", raising=False)
    inhouse_routes(respx.mock)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    respx.route(host="slow.nordkyst.example").mock(side_effect=hang)
    demo = _demo()["connectors"]["demo"]
    connectors = {
        "demo": demo,
        "tms": INHOUSE_CONFIG,
        "tms-wrong-key": {**INHOUSE_CONFIG, "auth": {"type": "api_key", "header": "X-Api-Key",
                                                      "key": "env:TEST_WRONG_KEY"}},
        "tms-no-key": {**INHOUSE_CONFIG, "auth": {"type": "api_key", "key": "env:TEST_MISSING_KEY"}},
        "tms-slow": {**INHOUSE_CONFIG, "base_url": "https://slow.nordkyst.example/v1", "timeout": 0.3,
                     "retries": 0},
        "sap": {"type": "sap_s4"},
        "erp-only": {"type": "sql", "dsn": "app", "queries": {"order": demo["queries"]["order"]}},
    }
    systems = {"directory": "tms", "erp": "demo", "tms": "tms-wrong-key", "wms": "erp-only"}
    started = time.perf_counter()
    results = await check_connectors(connectors=connectors, systems=systems, registry=REGISTRY,
                                     context={"database_url": database_url}, timeout=10)
    elapsed = time.perf_counter() - started
    lines = {r.connector: r.line() for r in results}
    assert [r.connector for r in results] == list(connectors)
    assert lines["demo"].startswith("ok   demo [sql: erp]")
    assert lines["tms"].startswith("ok   tms [rest: directory] answered a directory lookup")
    assert lines["tms-wrong-key"].startswith("FAIL tms-wrong-key [rest: tms] nordkyst-tms: HTTP 401")
    assert "check connectors.tms-wrong-key.auth.key (environment variable TEST_WRONG_KEY)" in lines["tms-wrong-key"]
    assert "environment variable TEST_MISSING_KEY is not set" in lines["tms-no-key"]
    assert lines["tms-no-key"].endswith(f"(configuration) - {results[3].elapsed_ms:.0f} ms")
    assert "nordkyst-tms: no answer within 0.3 s (timeout)" in lines["tms-slow"]
    assert "type 'sap_s4' is not registered (known: rest, sql)" in lines["sap"]
    assert "systems use it as wms, which its configuration does not serve" in lines["erp-only"]
    assert not any(r.ok for r in results if r.connector != "demo" and r.connector != "tms")
    assert all("not-the-key-0000" not in line and "inhouse-key-123" not in line for line in lines.values())
    assert elapsed < 4.0  # concurrently, and the slow system gives up after its own 0.3 s
    assert respx.calls.call_count >= 2 and all(c.request.url.host in ("api.nordkyst.example", "slow.nordkyst.example")
                                               for c in respx.calls)
    assert INHOUSE_URL.startswith("https://api.nordkyst.example")


async def test_systems_naming_a_missing_connector() -> None:
    [missing] = await check_connectors(connectors={}, systems={"directory": "crm"}, context={}, registry=REGISTRY)
    assert not missing.ok and "systems.directory names connector 'crm', which is not configured" in missing.line()
