"""The shared HTTP machinery every HTTP connector is built on: ``HttpSystem``.

One ``HttpSystem`` is one configured system (``connectors.<name>`` in the
mailbox YAML). It owns an ``httpx.AsyncClient`` and wraps every call in, from
the outside in:

1. a TTL cache per reference (GET by default; "not found" is cached too), with
   single-flight: concurrent identical calls make one request;
2. a circuit breaker: after ``breaker_failures`` failed calls in a row the
   system is not called for ``breaker_reset`` seconds (``CircuitOpenError``);
3. retries with exponential backoff and full jitter for retryable errors,
   waiting what ``Retry-After`` says on 429/503 (up to ``max_retry_after``;
   longer asks fail at once with ``RateLimitedError``). The loop is hand-written
   (a dozen lines): tenacity's iterator cost 0.3-0.7 ms per call in
   ``bench/lookup.py``, more than the rest of this wrapper together;
4. a concurrency limit per system (``concurrency`` requests in flight);
5. a per-attempt timeout (``timeout`` seconds for the whole request and body).

Answers become data or the connector error tree (``connectors.base``): 2xx
JSON is returned; 401/403 raise ``ConfigurationError`` naming the auth setting
and environment variables to fix; 404 ``NotFoundError``; 429 and 503
``RateLimitedError``/``RetryableError``; other 5xx, timeouts and connection
failures ``RetryableError``/``ConnectorTimeoutError``; anything else
``SystemError_``. Secrets never appear in reprs, errors or logs (paths are
logged without query strings).

For an adapter author::

    class DhlTracker(HttpSystem):
        kinds = ("tms",)
        default_base_url = "https://api-eu.dhl.com"

        async def track(self, *, kind, value):
            body = await self.get_json_or_none("/track/shipments", params={"trackingNumber": value})
            return [] if body is None else [self._shipment(s) for s in body["shipments"]]

    # YAML: {type: dhl, auth: {type: api_key, header: DHL-API-Key, key: env:DHL_API_KEY}, timeout: 5}

Tests use respx (it patches httpx's transport) or pass ``transport=`` (an
``httpx.MockTransport``); ``sleep=`` and ``clock=`` make backoff and expiry
instant and deterministic.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.auth import AuthStrategy, auth_from_config
from connectors.base import (
    CircuitOpenError,
    ConfigurationError,
    ConnectorError,
    ConnectorTimeoutError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
    SystemError_,
)
from connectors.breaker import CircuitBreaker
from connectors.cache import TtlCache
from connectors.pagination import Pagination, SinglePage, compile_path

log = logging.getLogger(__name__)
_NOT_FOUND = object()  # cached marker for a 404


class HttpOptions(BaseModel):
    """The HTTP settings of one configured system (keys of ``connectors.<name>`` in the YAML)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    base_url: str = ""
    timeout: float = Field(10.0, gt=0, description="seconds one attempt may take, body included")
    connect_timeout: float = Field(5.0, gt=0)
    retries: int = Field(2, ge=0, le=10, description="extra attempts for retryable errors")
    backoff: float = Field(0.25, ge=0, description="backoff base in seconds: a random wait up to base * 2^n")
    backoff_max: float = Field(4.0, ge=0)
    max_retry_after: float = Field(10.0, ge=0, description="longest Retry-After honoured; longer fails at once")
    concurrency: int = Field(16, ge=1, description="requests in flight to this system")
    cache_ttl: float = Field(60.0, ge=0, description="seconds a GET answer is reused; 0 disables the cache")
    cache_size: int = Field(2048, ge=1)
    breaker_failures: int = Field(5, ge=0, description="failed calls in a row that open the circuit; 0 disables")
    breaker_reset: float = Field(30.0, gt=0, description="seconds before a trial call after the circuit opened")
    headers: dict[str, str] = Field(default_factory=dict)
    verify_tls: bool = True


def parse_options(model: type[HttpOptions], config: Mapping[str, Any], *, name: str) -> HttpOptions:
    """Validate a connector's configuration; problems become one ``ConfigurationError`` naming the keys."""
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(f"connectors.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigurationError(problems, system=name, setting=f"connectors.{name}") from exc


class HttpSystem:
    """Base class (or component) for connectors that talk JSON over HTTP."""

    kinds: ClassVar[tuple[str, ...]] = ()
    options_model: ClassVar[type[HttpOptions]] = HttpOptions
    default_base_url: ClassVar[str] = ""

    def __init__(
        self,
        *,
        name: str,
        config: Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.system = str(config.get("system") or name)
        self.options = parse_options(self.options_model, config, name=name)
        base_url = self.options.base_url or self.default_base_url
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"connectors.{name}.base_url must be an http(s) URL (got {base_url!r})",
                                     system=name, setting=f"connectors.{name}.base_url")
        self.base_url = base_url
        self._origin = (parts.scheme, parts.netloc)
        self.auth: AuthStrategy | None = auth_from_config(config.get("auth"), connector=name, system=self.system)
        self._clock = clock or time.monotonic
        self._sleep = sleep or asyncio.sleep
        self._client = httpx.AsyncClient(
            base_url=base_url, auth=self.auth, transport=transport, verify=self.options.verify_tls,
            timeout=httpx.Timeout(self.options.timeout, connect=self.options.connect_timeout),
            headers={"Accept": "application/json", "User-Agent": "shipdraft", **self.options.headers},
            follow_redirects=False,
        )
        self._limit = asyncio.Semaphore(self.options.concurrency)
        self.breaker = CircuitBreaker(system=name, failure_threshold=self.options.breaker_failures,
                                      reset_timeout=self.options.breaker_reset, clock=self._clock)
        self.cache: TtlCache[Any] = TtlCache(ttl=self.options.cache_ttl, maxsize=self.options.cache_size,
                                             timer=self._clock, system=name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.base_url}>"

    def serves(self, kind: str) -> bool:
        return kind in self.kinds

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------ public calls

    async def get_json(self, path: str, *, params: Mapping[str, Any] | None = None,
                       headers: Mapping[str, str] | None = None, cache: bool = True) -> Any:
        """GET ``path`` (relative to ``base_url``) and return the parsed JSON; errors per the module doc."""
        return await self.request_json("GET", path, params=params, headers=headers, cache=cache)

    async def get_json_or_none(self, path: str, *, params: Mapping[str, Any] | None = None,
                               headers: Mapping[str, str] | None = None, cache: bool = True) -> Any:
        """Like ``get_json`` but a 404 gives ``None`` (the Protocols' "not found")."""
        try:
            return await self.get_json(path, params=params, headers=headers, cache=cache)
        except NotFoundError:
            return None

    async def post_json(self, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
                        headers: Mapping[str, str] | None = None, cache: bool = False) -> Any:
        """POST a JSON body; ``cache=True`` for read-only POSTs (Odoo ``search_read``, GraphQL queries)."""
        return await self.request_json("POST", path, params=params, json=json, headers=headers, cache=cache)

    async def request_json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                           json: Any = None, headers: Mapping[str, str] | None = None, cache: bool = False) -> Any:
        if not (cache and self.cache.enabled):
            return (await self._call(method, path, params=params, json=json, headers=headers))[1]
        key = (method, path, _freeze(params), _freeze(json), _freeze(headers))
        value = await self.cache.get_or_load(key, lambda: self._cacheable(method, path, params, json, headers))
        if value is _NOT_FOUND:
            raise NotFoundError(f"{self.system}: not found", system=self.name)
        return value

    async def paginate(self, path: str, *, params: Mapping[str, Any] | None = None,
                       items: str | Callable[[Any], Any] = "@", pagination: Pagination | None = None,
                       max_pages: int = 20, headers: Mapping[str, str] | None = None) -> AsyncIterator[Any]:
        """Every item of a list endpoint, page after page (``items`` is a JMESPath or a function of the body)."""
        strategy = pagination or SinglePage()
        pick = compile_path(items, setting="items").search if isinstance(items, str) else items
        page = strategy.first(url=path, params=params or {})
        for _ in range(max_pages):
            response, body = await self._call("GET", page.url, params=page.params, json=None, headers=headers)
            found = pick(body)
            found = [] if found is None else found if isinstance(found, list) else [found]
            for item in found:
                yield item
            following = strategy.next(page=page, body=body, response=response, item_count=len(found))
            if following is None:
                return
            page = following
        log.warning("pagination stopped at max_pages", extra={"system": self.name, "max_pages": max_pages})

    # ------------------------------------------------------------------ machinery

    async def _cacheable(self, method: str, path: str, params: Any, json: Any, headers: Any) -> Any:
        try:
            return (await self._call(method, path, params=params, json=json, headers=headers))[1]
        except NotFoundError:
            return _NOT_FOUND

    async def _call(self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any,
                    headers: Mapping[str, str] | None) -> tuple[httpx.Response, Any]:
        self._check_origin(url)
        self.breaker.before_call()
        try:
            result = await self._with_retries(method, url, params=params, json=json, headers=headers)
        except ConnectorError as exc:
            self.breaker.record_failure(exc)
            raise
        except BaseException:
            self.breaker.record_abandoned()
            raise
        self.breaker.record_success()
        return result

    async def send(self, method: str, url: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                   content: bytes | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One raw attempt on this system's client: its auth, transport, concurrency limit and timeout.

        Transport failures become the error tree; the status and body are the caller's (for wire formats
        other than JSON, e.g. Odoo XML-RPC: map statuses with ``error_for_response``, retry with
        ``should_retry`` / ``retry_wait``).
        """
        async with self._limit:
            try:
                async with asyncio.timeout(self.options.timeout):
                    return await self._client.request(method, url, params=dict(params) if params else None,
                                                      json=json, content=content, headers=headers)
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise ConnectorTimeoutError(f"{self.system}: no answer within {self.options.timeout:g} s",
                                            system=self.name) from exc
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise ConfigurationError(f"{self.system}: invalid URL ({exc}): check connectors.{self.name}.base_url",
                                         system=self.name, setting=f"connectors.{self.name}.base_url") from exc
            except httpx.TransportError as exc:
                raise RetryableError(f"{self.system} unreachable ({type(exc).__name__})", system=self.name) from exc

    async def _with_retries(self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any,
                            headers: Mapping[str, str] | None) -> tuple[httpx.Response, Any]:
        attempt = 0
        while True:
            try:
                return await self._attempt(method, url, params=params, json=json, headers=headers)
            except RetryableError as error:
                attempt += 1
                if attempt > self.options.retries or not self.should_retry(error):
                    raise
                wait = self.retry_wait(error, attempt=attempt)
                log.info("retrying", extra={"system": self.name, "attempt": attempt,
                                            "error": type(error).__name__, "wait": round(wait, 3)})
                await self._sleep(wait)

    async def _attempt(self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any,
                       headers: Mapping[str, str] | None) -> tuple[httpx.Response, Any]:
        started = time.perf_counter()
        response = await self.send(method, url, params=params, json=json, headers=headers)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("http call", extra={"system": self.name, "method": method, "path": response.request.url.path,
                                          "status": response.status_code,
                                          "ms": round((time.perf_counter() - started) * 1000, 1)})
        return response, self._decode(response)

    def _decode(self, response: httpx.Response) -> Any:
        if response.is_success:
            if response.status_code == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError as exc:
                kind = response.headers.get("Content-Type", "no content type")
                raise SystemError_(f"{self.system}: HTTP {response.status_code} answer is not JSON ({kind})",
                                   system=self.name) from exc
        raise error_for_response(response, system=self.system, name=self.name,
                                 auth_setting=self.auth.setting if self.auth else "", clock=time.time)

    def retry_wait(self, error: RetryableError, *, attempt: int) -> float:
        """``Retry-After`` when the system said (capped), else full-jitter exponential backoff."""
        if error.retry_after is not None:
            return min(float(error.retry_after), self.options.max_retry_after)
        return random.uniform(0, min(self.options.backoff_max, self.options.backoff * 2 ** (attempt - 1)))

    def should_retry(self, error: RetryableError) -> bool:
        """Whether a retryable error may be retried: not an open circuit, nor a too long ``Retry-After``."""
        if isinstance(error, CircuitOpenError):
            return False
        return error.retry_after is None or error.retry_after <= self.options.max_retry_after

    def _check_origin(self, url: str) -> None:
        """Absolute URLs (next links) must stay on the configured host: credentials go with them."""
        if "://" not in url:
            return
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            raise SystemError_(f"{self.system}: refused to follow a link to another host ({parts.netloc})",
                               system=self.name)


def error_for_response(response: httpx.Response, *, system: str, name: str, auth_setting: str = "",
                       clock: Callable[[], float] = time.time) -> ConnectorError:
    """The connector error for a non-2xx answer (adapters with vendor quirks can call it too)."""
    status = response.status_code
    detail = response_detail(response)
    suffix = f": {detail}" if detail else ""
    if status in (401, 403):
        fix = auth_setting or f"connectors.{name}.auth"
        return ConfigurationError(f"{system}: HTTP {status} {response.reason_phrase}{suffix}; check {fix}",
                                  system=name, setting=fix)
    if status == 404:
        return NotFoundError(f"{system}: not found{suffix}", system=name)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now=clock())
    if status == 429 or (status == 503 and retry_after is not None):
        return RateLimitedError(f"{system}: rate limited (HTTP {status})"
                                + (f", retry after {retry_after:g} s" if retry_after is not None else ""),
                                system=name, retry_after=retry_after)
    if status in (408, 425) or status >= 500:
        return RetryableError(f"{system}: HTTP {status} {response.reason_phrase}{suffix}", system=name)
    if 300 <= status < 400:
        return ConfigurationError(f"{system}: redirected (HTTP {status}) to {response.headers.get('Location', '?')}; "
                                  f"check connectors.{name}.base_url", system=name,
                                  setting=f"connectors.{name}.base_url")
    return SystemError_(f"{system}: HTTP {status} {response.reason_phrase}{suffix}", system=name)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.fromtimestamp(now, tz=UTC)).total_seconds(), 0.0)


_DETAIL_KEYS = ("detail", "title", "message", "error_description", "error", "exc_type", "statusText")


def response_detail(response: httpx.Response, *, limit: int = 200) -> str:
    """A short human reason from a JSON error body (``detail``, ``title``, ``message``, ...), else ''."""
    if "json" not in response.headers.get("Content-Type", ""):
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # {"error": {"message": ...}} (OData, Graph)
        body = body["error"]
    if not isinstance(body, dict):
        return ""
    for key in _DETAIL_KEYS:
        value = body.get(key)
        if isinstance(value, dict):
            value = value.get("value") or value.get("message")
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())[:limit]
    return ""


def _freeze(value: Any) -> Hashable:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return jsonlib.dumps(value, sort_keys=True, default=str)
    return jsonlib.dumps(value, default=str)
