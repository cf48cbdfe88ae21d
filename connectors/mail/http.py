"""The HTTP client the Graph and Gmail providers share.

Every request carries a fresh bearer token, runs under a per-mailbox
concurrency limit (Graph allows 4 concurrent requests per app and mailbox),
and retries 429 and 503 answers after the ``Retry-After`` the service asked
for (seconds or an HTTP date), or 5xx and connection errors with a short
exponential backoff. A provider can name other answers that mean "slow
down" (Gmail's 403 ``userRateLimitExceeded``/``rateLimitExceeded``); they are
retried like a 429. What remains is mapped onto the ``MailError`` tree.
Tokens never appear in logs or error messages.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.mail.base import (
    MailAuthError,
    MailError,
    MailNotFoundError,
    MailProtocolError,
    MailRateLimitedError,
    MailUnavailableError,
)

log = logging.getLogger(__name__)

TokenSource = Callable[[], Awaitable[str]]
Classifier = Callable[[httpx.Response], MailError | None]
ThrottleCheck = Callable[[httpx.Response], bool]


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ProviderHttp:
    """An ``httpx.AsyncClient`` with auth, a concurrency limit, retries and error mapping."""

    def __init__(
        self,
        *,
        token: TokenSource,
        invalidate_token: Callable[[], None],
        headers: Mapping[str, str] | None = None,
        max_concurrency: int = 4,
        max_retries: int = 4,
        max_retry_after: float = 120.0,
        backoff: float = 0.5,
        timeout: float = 30.0,
        classify: Classifier | None = None,
        throttled: ThrottleCheck | None = None,
        client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._token = token
        self._invalidate = invalidate_token
        self._gate = asyncio.Semaphore(max_concurrency)
        self._retries = max_retries
        self._max_retry_after = max_retry_after
        self._backoff = backoff
        self._classify = classify
        self._throttled = throttled
        self._sleep = sleep
        self._client = client or httpx.AsyncClient(timeout=timeout, headers=dict(headers or {}))
        self.calls = 0  # requests sent, retries included (for the per-email call budget)
        self.in_flight_peak = 0
        self._in_flight = 0

    async def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, content: bytes | None = None,
                      headers: Mapping[str, str] | None = None, expect_json: bool = True) -> httpx.Response:
        """Send with retries; return the 2xx response or raise a ``MailError``."""
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._send(method, url, params=params, json=json, content=content,
                                            headers=headers)
            except httpx.TransportError as exc:
                if attempt <= self._retries:
                    await self._sleep(self._backoff * 2 ** (attempt - 1))
                    continue
                raise MailUnavailableError(f"{method} {_path(url)}: {type(exc).__name__}") from exc
            if response.is_success:
                return response
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self._invalidate()
                continue
            throttled = response.status_code == 429 or (
                self._throttled is not None and self._throttled(response))
            if throttled or response.status_code >= 500:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if attempt <= self._retries and (wait is None or wait <= self._max_retry_after):
                    delay = wait if wait is not None else self._backoff * 2 ** (attempt - 1)
                    log.info("provider asked to retry", extra={"status": response.status_code, "delay": delay,
                                                               "path": _path(url)})
                    await self._sleep(delay)
                    continue
                if throttled:
                    raise MailRateLimitedError(
                        f"{method} {_path(url)}: {response.status_code} {_error_code(response)}", retry_after=wait)
                raise MailUnavailableError(f"{method} {_path(url)}: {response.status_code} {_error_code(response)}")
            raise self._error(method, url, response)

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        token = await self._token()
        headers = {"Authorization": f"Bearer {token}", **(kw.pop("headers") or {})}
        async with self._gate:
            self.calls += 1
            self._in_flight += 1
            self.in_flight_peak = max(self.in_flight_peak, self._in_flight)
            try:
                return await self._client.request(method, url, headers=headers, **kw)
            finally:
                self._in_flight -= 1

    def _error(self, method: str, url: str, response: httpx.Response) -> MailError:
        if self._classify is not None:
            special = self._classify(response)
            if special is not None:
                return special
        text = f"{method} {_path(url)}: {response.status_code} {_error_code(response)}"
        if response.status_code == 404:
            return MailNotFoundError(text)
        if response.status_code in (401, 403):
            return MailAuthError(text)
        return MailProtocolError(text)

    async def aclose(self) -> None:
        await self._client.aclose()


def error_code(response: httpx.Response) -> str:
    """The service's error code from a JSON error body (Graph ``error.code``, Google ``error.status``)."""
    return _error_code(response)


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("code") if isinstance(err.get("code"), str) else err.get("status") or err.get("code", ""))
    if isinstance(err, str):
        return err
    return ""


def _path(url: str) -> str:
    """The URL without its query string (which may carry tokens) for messages."""
    return httpx.URL(url).path
