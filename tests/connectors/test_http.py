"""HttpSystem: retries honouring Retry-After, error mapping, timeouts, breaker, cache, concurrency, secrets.

Every test talks to respx routes (no network). Backoff sleeps go through a
recording ``sleep`` and expiry through a fake clock, so nothing waits for real
except the timeout test (0.2 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from connectors.base import (
    CircuitOpenError,
    ConfigurationError,
    ConnectorTimeoutError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
    SystemError_,
)
from connectors.breaker import BreakerState
from connectors.http import HttpSystem, parse_retry_after

pytestmark = pytest.mark.anyio
BASE = "https://tms.example.com/api"
SECRET = "tms-secret-token-value"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    def __init__(self, clock: Clock | None = None) -> None:
        self.waits: list[float] = []
        self.clock = clock

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.clock:
            self.clock.now += seconds


def system(*, sleeps: Sleeps | None = None, clock: Clock | None = None, **options: Any) -> HttpSystem:
    config = {"base_url": BASE, "auth": {"type": "bearer", "token": "env:TEST_TMS_TOKEN"}, "backoff": 0.1,
              "backoff_max": 1.0, **options}
    return HttpSystem(name="tms", config=config, sleep=sleeps or Sleeps(), clock=clock)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TMS_TOKEN", SECRET)


@pytest.fixture
def router() -> Any:
    with respx.mock(base_url=BASE, assert_all_called=False) as r:
        yield r


async def test_json_with_auth_and_accept_headers(router: respx.MockRouter) -> None:
    route = router.get("/shipments/SHP-1").respond(200, json={"id": "SHP-1"})
    s = system()
    assert await s.get_json("/shipments/SHP-1") == {"id": "SHP-1"}
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == f"Bearer {SECRET}" and sent.headers["Accept"] == "application/json"
    await s.aclose()


async def test_429_waits_what_retry_after_says(router: respx.MockRouter) -> None:
    route = router.get("/track").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}, json={"title": "Too Many Requests"}),
        httpx.Response(200, json={"ok": True}),
    ])
    sleeps = Sleeps()
    s = system(sleeps=sleeps)
    assert await s.get_json("/track", params={"n": "1"}) == {"ok": True}
    assert route.call_count == 2 and sleeps.waits == [2.0]
    await s.aclose()


async def test_503_with_an_http_date_retry_after(router: respx.MockRouter) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    route = router.get("/track").mock(side_effect=[httpx.Response(503, headers={"Retry-After": when}),
                                                   httpx.Response(200, json=[1])])
    sleeps = Sleeps()
    s = system(sleeps=sleeps)
    assert await s.get_json("/track") == [1]
    assert route.call_count == 2 and 1.0 < sleeps.waits[0] <= 3.0
    await s.aclose()


async def test_a_retry_after_longer_than_allowed_fails_at_once(router: respx.MockRouter) -> None:
    route = router.get("/track").respond(429, headers={"Retry-After": "120"})
    sleeps = Sleeps()
    s = system(sleeps=sleeps, max_retry_after=10)
    with pytest.raises(RateLimitedError) as raised:
        await s.get_json("/track")
    assert raised.value.retry_after == 120 and route.call_count == 1 and sleeps.waits == []
    await s.aclose()


async def test_5xx_is_retried_with_bounded_backoff_then_retryable(router: respx.MockRouter) -> None:
    route = router.get("/track").respond(502, text="<html>bad gateway</html>")
    sleeps = Sleeps()
    s = system(sleeps=sleeps, retries=3)
    with pytest.raises(RetryableError, match="HTTP 502"):
        await s.get_json("/track")
    assert route.call_count == 4 and len(sleeps.waits) == 3 and all(0 <= w <= 1.0 for w in sleeps.waits)
    await s.aclose()


async def test_401_is_a_configuration_error_naming_the_setting(router: respx.MockRouter) -> None:
    route = router.get("/track").respond(401, json={"title": "Unauthorized", "status": 401,
                                                    "detail": "Invalid or expired token"},
                                         headers={"Content-Type": "application/problem+json"})
    s = system()
    with pytest.raises(ConfigurationError) as raised:
        await s.get_json("/track")
    message = str(raised.value)
    assert "connectors.tms.auth.token (environment variable TEST_TMS_TOKEN)" in message
    assert "Invalid or expired token" in message and SECRET not in message
    assert route.call_count == 1
    await s.aclose()


async def test_404_is_not_found_and_cached(router: respx.MockRouter) -> None:
    route = router.get("/orders/NK1").respond(404, json={"detail": "no such order"})
    s = system()
    with pytest.raises(NotFoundError):
        await s.get_json("/orders/NK1")
    assert await s.get_json_or_none("/orders/NK1") is None
    assert route.call_count == 1
    await s.aclose()


async def test_a_body_that_is_not_json_is_a_system_error(router: respx.MockRouter) -> None:
    router.get("/orders/NK1").respond(200, text="<html>login page</html>", headers={"Content-Type": "text/html"})
    s = system()
    with pytest.raises(SystemError_, match="not JSON"):
        await s.get_json("/orders/NK1")
    await s.aclose()


async def test_the_per_call_timeout_is_respected(router: respx.MockRouter) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(2)
        return httpx.Response(200, json={})

    router.get("/slow").mock(side_effect=slow)
    s = system(timeout=0.2, retries=0)
    started = time.perf_counter()
    with pytest.raises(ConnectorTimeoutError, match=r"within 0\.2 s"):
        await s.get_json("/slow")
    assert time.perf_counter() - started < 1.0  # 0.2 s and scheduling, never the handler's 2 s
    await s.aclose()


async def test_connection_failure_is_retryable(router: respx.MockRouter) -> None:
    route = router.get("/track").mock(side_effect=httpx.ConnectError("refused"))
    s = system(retries=1)
    with pytest.raises(RetryableError, match="unreachable"):
        await s.get_json("/track")
    assert route.call_count == 2
    await s.aclose()


async def test_circuit_opens_then_lets_one_trial_through(router: respx.MockRouter) -> None:
    route = router.get("/track").mock(side_effect=[httpx.Response(500), httpx.Response(500),
                                                   httpx.Response(200, json={"ok": 1})])
    clock = Clock()
    s = system(clock=clock, retries=0, breaker_failures=2, breaker_reset=30, cache_ttl=0)
    for _ in range(2):
        with pytest.raises(RetryableError):
            await s.get_json("/track")
    assert s.breaker.state == BreakerState.OPEN
    with pytest.raises(CircuitOpenError, match="unavailable"):
        await s.get_json("/track")
    assert route.call_count == 2  # the open circuit did not call the system
    clock.now += 31
    assert await s.get_json("/track") == {"ok": 1}
    assert s.breaker.state == BreakerState.CLOSED and route.call_count == 3
    await s.aclose()


async def test_not_found_does_not_open_the_circuit(router: respx.MockRouter) -> None:
    router.get(url__regex=r"/orders/.*").respond(404)
    s = system(breaker_failures=1, cache_ttl=0)
    for n in range(3):
        assert await s.get_json_or_none(f"/orders/NK{n}") is None
    assert s.breaker.state == BreakerState.CLOSED
    await s.aclose()


async def test_cache_per_reference_with_single_flight_and_expiry(router: respx.MockRouter) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json={"ref": request.url.params["ref"]})

    route = router.get("/track").mock(side_effect=answer)
    clock = Clock()
    s = system(clock=clock, cache_ttl=60)
    first = await asyncio.gather(*(s.get_json("/track", params={"ref": "A"}) for _ in range(5)))
    assert first == [{"ref": "A"}] * 5 and route.call_count == 1  # five callers, one request
    await s.get_json("/track", params={"ref": "B"})
    assert route.call_count == 2  # another reference is another entry
    clock.now += 61
    await s.get_json("/track", params={"ref": "A"})
    assert route.call_count == 3  # expired
    await s.aclose()


async def test_concurrency_limit_per_system(router: respx.MockRouter) -> None:
    in_flight = {"now": 0, "max": 0}

    async def answer(request: httpx.Request) -> httpx.Response:
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        await asyncio.sleep(0.02)
        in_flight["now"] -= 1
        return httpx.Response(200, json={})

    router.get("/track").mock(side_effect=answer)
    s = system(concurrency=2)
    await asyncio.gather(*(s.get_json("/track", params={"ref": str(i)}) for i in range(8)))
    assert in_flight["max"] == 2
    await s.aclose()


async def test_secrets_stay_out_of_reprs_and_logs(router: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    router.get("/track").respond(200, json={})
    s = system()
    caplog.set_level(logging.DEBUG, logger="connectors")
    await s.get_json("/track", params={"ref": "MSKU4417209"})
    records = [f"{r.getMessage()} {r.__dict__}" for r in caplog.records]
    assert any("/api/track" in r for r in records)
    assert all(SECRET not in r and "MSKU4417209" not in r for r in records)
    assert SECRET not in repr(s) and SECRET not in repr(s.auth)
    await s.aclose()


async def test_next_links_to_another_host_are_refused(router: respx.MockRouter) -> None:
    router.get("/list").respond(200, json={"items": [1], "next": "https://evil.example/steal"})
    s = system()
    from connectors.pagination import NextLink

    with pytest.raises(SystemError_, match="another host"):
        _ = [x async for x in s.paginate("/list", items="items", pagination=NextLink(link_path="next"))]
    await s.aclose()


async def test_configuration_problems_name_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match=r"connectors\.tms\.base_url"):
        HttpSystem(name="tms", config={"base_url": "ftp://x"})
    with pytest.raises(ConfigurationError, match=r"connectors\.tms\.timeout"):
        HttpSystem(name="tms", config={"base_url": BASE, "timeout": -1})
    monkeypatch.delenv("TEST_TMS_TOKEN")
    with pytest.raises(ConfigurationError, match="TEST_TMS_TOKEN is not set"):
        system()


def test_retry_after_parsing() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after("120", now=now) == 120
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:30 GMT", now=now) == 30
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon", now=now) is None and parse_retry_after(None, now=now) is None
