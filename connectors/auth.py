"""Authentication strategies for HTTP systems, as ``httpx.Auth`` classes.

Each strategy is a small ``httpx.Auth``: pass one to ``HttpSystem`` (or to any
``httpx.AsyncClient``) and every request carries the credential. Secrets are
``pydantic.SecretStr`` (never in a repr or a log line) and come from
environment variables named in the mailbox YAML, never from the YAML itself::

    auth: {type: api_key, header: DHL-API-Key, key: env:DHL_API_KEY}
    auth: {type: bearer, token: env:TMS_TOKEN}
    auth: {type: basic, username: shipdraft, password: env:WMS_PASSWORD}
    auth: {type: odoo, key: env:ODOO_API_KEY, database: prod}          # Odoo JSON-2: bearer + X-Odoo-Database
    auth: {type: erpnext, api_key: env:ERPNEXT_KEY, api_secret: env:ERPNEXT_SECRET}  # "token key:secret"
    auth: {type: oauth2_client_credentials, token_url: https://login.example/oauth2/token,
           client_id: env:ERP_CLIENT_ID, client_secret: env:ERP_CLIENT_SECRET, scope: api.read}

Every strategy carries ``setting``: the YAML keys and environment variables to
fix when the system answers 401/403, used in the ``ConfigurationError``
message. ``OAuth2ClientCredentials`` fetches a token on first use, caches it
until shortly before ``expires_in``, refreshes it once when a call is answered
401, and turns a refused token request into a ``ConfigurationError``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Annotated, Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError

from connectors.base import ConfigurationError, RateLimitedError, RetryableError, SystemError_

ENV_PREFIX = "env:"


class AuthStrategy(httpx.Auth):
    """Base of the strategies: a credential and the setting that names it."""

    setting: str = ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(setting={self.setting!r})"


class _StaticHeaders(AuthStrategy):
    """A strategy that sets fixed headers on every request."""

    def _headers(self) -> dict[str, str]:
        raise NotImplementedError

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._headers())
        yield request


class ApiKeyHeader(_StaticHeaders):
    """An API key in a header (``DHL-API-Key: ...``, ``X-API-Key: ...``), with an optional prefix."""

    def __init__(self, *, key: SecretStr, header: str = "X-API-Key", prefix: str = "", setting: str = "") -> None:
        self.header, self.prefix, self._key, self.setting = header, prefix, key, setting

    def _headers(self) -> dict[str, str]:
        return {self.header: f"{self.prefix}{self._key.get_secret_value()}"}


class BearerToken(_StaticHeaders):
    """A static bearer token: ``Authorization: Bearer <token>``."""

    def __init__(self, *, token: SecretStr, setting: str = "") -> None:
        self._token, self.setting = token, setting

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token.get_secret_value()}"}


class BasicAuth(_StaticHeaders):
    """HTTP basic authentication (RFC 7617)."""

    def __init__(self, *, username: str, password: SecretStr, setting: str = "") -> None:
        self.username, self._password, self.setting = username, password, setting

    def _headers(self) -> dict[str, str]:
        raw = f"{self.username}:{self._password.get_secret_value()}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode('ascii')}"}


class OdooApiKey(_StaticHeaders):
    """Odoo JSON-2 (Odoo 19+): ``Authorization: bearer <api key>`` and, optionally, ``X-Odoo-Database``."""

    def __init__(self, *, key: SecretStr, database: str | None = None, setting: str = "") -> None:
        self._key, self.database, self.setting = key, database, setting

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"bearer {self._key.get_secret_value()}"}
        if self.database:
            headers["X-Odoo-Database"] = self.database
        return headers


class ErpNextToken(_StaticHeaders):
    """ERPNext / Frappe token authentication: ``Authorization: token <api_key>:<api_secret>``."""

    def __init__(self, *, api_key: SecretStr, api_secret: SecretStr, setting: str = "") -> None:
        self._key, self._secret, self.setting = api_key, api_secret, setting

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self._key.get_secret_value()}:{self._secret.get_secret_value()}"}


class OAuth2ClientCredentials(AuthStrategy):
    """OAuth 2.0 client credentials grant (RFC 6749 4.4) with token caching and refresh.

    ``client_auth`` is ``post`` (client_id/client_secret in the form body) or
    ``basic`` (an ``Authorization: Basic`` header on the token request).
    """

    def __init__(self, *, token_url: str, client_id: str, client_secret: SecretStr, scope: str | None = None,
                 audience: str | None = None, client_auth: Literal["post", "basic"] = "post",
                 extra_params: Mapping[str, str] | None = None, refresh_margin: float = 30.0,
                 clock: Callable[[], float] = time.monotonic, setting: str = "", system: str = "") -> None:
        self.token_url, self.client_id, self.scope, self.audience = token_url, client_id, scope, audience
        self.client_auth, self.refresh_margin, self.setting, self.system = client_auth, refresh_margin, setting, system
        self._secret = client_secret
        self._extra = dict(extra_params or {})
        self._clock = clock
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("OAuth2ClientCredentials works with httpx.AsyncClient only")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = self._current()
        fresh = False
        if token is None:
            async with self._lock:  # concurrent first calls share one token request
                token = self._current()
                if token is None:
                    token = await self._fetch((yield self._token_request()))
                    fresh = True
        request.headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        response = yield request
        if response.status_code != 401 or fresh:
            return
        async with self._lock:  # the token was revoked or expired early: fetch a new one, retry once
            if self._token is token:
                self._token = None
            renewed = self._current()
            if renewed is None:
                renewed = await self._fetch((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {renewed.get_secret_value()}"
        yield request

    async def _fetch(self, response: httpx.Response) -> SecretStr:
        await response.aread()  # overriding async_auth_flow means reading token answers ourselves
        return self._accept(response)

    def _current(self) -> SecretStr | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials", **self._extra}
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        headers = {"Accept": "application/json"}
        if self.client_auth == "basic":
            raw = f"{self.client_id}:{self._secret.get_secret_value()}".encode()
            headers["Authorization"] = f"Basic {base64.b64encode(raw).decode('ascii')}"
        else:
            form["client_id"] = self.client_id
            form["client_secret"] = self._secret.get_secret_value()
        return httpx.Request("POST", self.token_url, data=form, headers=headers)

    def _accept(self, response: httpx.Response) -> SecretStr:
        status = response.status_code
        if status == 429:
            raise RateLimitedError(f"{self.system}: token endpoint rate limited", system=self.system,
                                   retry_after=_seconds(response.headers.get("Retry-After")))
        if status >= 500:
            raise RetryableError(f"{self.system}: token endpoint answered HTTP {status}", system=self.system)
        body = _json_or_empty(response)
        if status >= 400:
            code = str(body.get("error", "")) or f"HTTP {status}"
            detail = str(body.get("error_description", ""))[:160]
            raise ConfigurationError(
                f"{self.system}: the token endpoint refused the client credentials ({code}"
                f"{': ' + detail if detail else ''}); check {self.setting}", system=self.system, setting=self.setting)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise SystemError_(f"{self.system}: token endpoint answered without access_token", system=self.system)
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = SecretStr(token)
        self._expires_at = self._clock() + max(lifetime - self.refresh_margin, 0.0)
        self.tokens_fetched += 1
        return self._token


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- configuration


class _AuthConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ApiKeyConfig(_AuthConfig):
    type: Literal["api_key"]
    key: str
    header: str = "X-API-Key"
    prefix: str = ""


class BearerConfig(_AuthConfig):
    type: Literal["bearer"]
    token: str


class BasicConfig(_AuthConfig):
    type: Literal["basic"]
    username: str
    password: str


class OdooConfig(_AuthConfig):
    type: Literal["odoo"]
    key: str
    database: str | None = None


class ErpNextConfig(_AuthConfig):
    type: Literal["erpnext"]
    api_key: str
    api_secret: str


class OAuth2Config(_AuthConfig):
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(pattern=r"^https?://")
    client_id: str
    client_secret: str
    scope: str | None = None
    audience: str | None = None
    client_auth: Literal["post", "basic"] = "post"
    extra_params: dict[str, str] = Field(default_factory=dict)
    refresh_margin: float = 30.0


AuthConfig = Annotated[ApiKeyConfig | BearerConfig | BasicConfig | OdooConfig | ErpNextConfig | OAuth2Config,
                       Field(discriminator="type")]
_AUTH_ADAPTER: TypeAdapter[Any] = TypeAdapter(AuthConfig)
AUTH_TYPES = ("api_key", "bearer", "basic", "odoo", "erpnext", "oauth2_client_credentials")


def secret_from_env(ref: str, *, setting: str, environ: Mapping[str, str] | None = None) -> SecretStr:
    """The secret held by the environment variable that ``env:VARIABLE`` names; literals are refused."""
    if not ref.startswith(ENV_PREFIX):
        raise ConfigurationError(f"{setting} must name an environment variable (env:VARIABLE): secrets never "
                                 "go in the YAML", setting=setting)
    var = ref.removeprefix(ENV_PREFIX)
    value = (os.environ if environ is None else environ).get(var)
    if not value:
        raise ConfigurationError(f"{setting}: environment variable {var} is not set", setting=setting)
    return SecretStr(value)


def value_or_env(ref: str, *, setting: str, environ: Mapping[str, str] | None = None) -> str:
    """A non-secret value, literal or ``env:VARIABLE``."""
    if ref.startswith(ENV_PREFIX):
        return secret_from_env(ref, setting=setting, environ=environ).get_secret_value()
    return ref


def _where(setting: str, ref: str) -> str:
    return f"{setting} (environment variable {ref.removeprefix(ENV_PREFIX)})" if ref.startswith(ENV_PREFIX) \
        else setting


def auth_from_config(config: Mapping[str, Any] | None, *, connector: str, system: str = "",
                     environ: Mapping[str, str] | None = None) -> AuthStrategy | None:
    """The strategy an ``auth:`` mapping of the mailbox YAML describes (``None`` when there is none)."""
    if not config:
        return None
    base = f"connectors.{connector}.auth"
    try:
        cfg = _AUTH_ADAPTER.validate_python(dict(config))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'type'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigurationError(f"{base}: {problems} (types: {', '.join(AUTH_TYPES)})", setting=base) from exc

    def secret(field: str) -> SecretStr:
        return secret_from_env(getattr(cfg, field), setting=f"{base}.{field}", environ=environ)

    def plain(field: str) -> str:
        return value_or_env(getattr(cfg, field), setting=f"{base}.{field}", environ=environ)

    def hint(*fields: str) -> str:
        return ", ".join(_where(f"{base}.{f}", getattr(cfg, f)) for f in fields)

    if isinstance(cfg, ApiKeyConfig):
        return ApiKeyHeader(key=secret("key"), header=cfg.header, prefix=cfg.prefix, setting=hint("key"))
    if isinstance(cfg, BearerConfig):
        return BearerToken(token=secret("token"), setting=hint("token"))
    if isinstance(cfg, BasicConfig):
        return BasicAuth(username=plain("username"), password=secret("password"),
                         setting=hint("username", "password"))
    if isinstance(cfg, OdooConfig):
        return OdooApiKey(key=secret("key"), database=cfg.database, setting=hint("key"))
    if isinstance(cfg, ErpNextConfig):
        return ErpNextToken(api_key=secret("api_key"), api_secret=secret("api_secret"),
                            setting=hint("api_key", "api_secret"))
    return OAuth2ClientCredentials(
        token_url=cfg.token_url, client_id=plain("client_id"), client_secret=secret("client_secret"),
        scope=cfg.scope, audience=cfg.audience, client_auth=cfg.client_auth, extra_params=cfg.extra_params,
        refresh_margin=cfg.refresh_margin, setting=hint("client_id", "client_secret"), system=system or connector)
