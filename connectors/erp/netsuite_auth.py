"""NetSuite token-based authentication (TBA): OAuth 1.0a request signing with HMAC-SHA256, as ``httpx.Auth``.

Every request carries ``Authorization: OAuth realm="<account>", oauth_consumer_key=..., oauth_token=...,
oauth_signature_method="HMAC-SHA256", oauth_timestamp=..., oauth_nonce=..., oauth_version="1.0",
oauth_signature=...``. The signature is RFC 5849 section 3.4: the base string is
``METHOD&enc(base URI)&enc(normalized parameters)`` where the parameters are the query parameters plus the
``oauth_*`` values (not ``realm``, not a JSON body), each percent-encoded per RFC 3986, sorted, joined with
``&``; the key is ``enc(consumer secret)&enc(token secret)``. Hand-written (about forty lines) instead of
adding ``oauthlib`` for one signing method; pinned by the RFC 5849 example in the tests.

YAML (secrets by environment variable name only)::

    auth: {type: netsuite_tba, consumer_key: env:NS_CONSUMER_KEY, consumer_secret: env:NS_CONSUMER_SECRET,
           token_id: env:NS_TOKEN_ID, token_secret: env:NS_TOKEN_SECRET}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from connectors.auth import ENV_PREFIX, AuthStrategy, secret_from_env
from connectors.base import ConfigurationError

_DIGESTS = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
SECRET_FIELDS = ("consumer_key", "consumer_secret", "token_id", "token_secret")


class NetSuiteTbaConfig(BaseModel):
    """``connectors.<name>.auth`` of ``type: netsuite_tba``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["netsuite_tba"]
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding as RFC 5849 3.6 asks: everything but unreserved characters."""
    return quote(value, safe="~")


def signature_base_string(method: str, url: httpx.URL, oauth: Mapping[str, str]) -> str:
    """RFC 5849 3.4.1: method, base string URI (no query, no default port) and the normalized parameters."""
    port = f":{url.port}" if url.port and url.port not in (80, 443) else ""
    base_uri = f"{url.scheme.lower()}://{url.host.lower()}{port}{url.raw_path.split(b'?')[0].decode()}"
    pairs = [(k, v) for k, v in url.params.multi_items()] + [(k, v) for k, v in oauth.items() if k != "realm"]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((percent_encode(k), percent_encode(v)) for k, v in pairs))
    return "&".join((method.upper(), percent_encode(base_uri), percent_encode(normalized)))


def sign(base_string: str, *, consumer_secret: str, token_secret: str, method: str = "HMAC-SHA256") -> str:
    """The base64 HMAC of the base string keyed by ``enc(consumer secret)&enc(token secret)`` (RFC 5849 3.4.2)."""
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), _DIGESTS[method]).digest()).decode("ascii")


class NetSuiteTba(AuthStrategy):
    """Signs every request with the account's integration record (consumer) and access token."""

    def __init__(self, *, realm: str, consumer_key: SecretStr, consumer_secret: SecretStr, token_id: SecretStr,
                 token_secret: SecretStr, setting: str = "", signature_method: str = "HMAC-SHA256",
                 clock: Callable[[], float] = time.time, nonce: Callable[[], str] | None = None) -> None:
        self.realm, self.setting, self.signature_method = realm, setting, signature_method
        self._consumer_key, self._consumer_secret = consumer_key, consumer_secret
        self._token_id, self._token_secret = token_id, token_secret
        self._clock = clock
        self._nonce = nonce or (lambda: secrets.token_hex(16))

    def authorization(self, method: str, url: httpx.URL) -> str:
        """The ``Authorization`` header value for one request."""
        oauth = {"oauth_consumer_key": self._consumer_key.get_secret_value(),
                 "oauth_token": self._token_id.get_secret_value(),
                 "oauth_signature_method": self.signature_method,
                 "oauth_timestamp": str(int(self._clock())), "oauth_nonce": self._nonce(), "oauth_version": "1.0"}
        oauth["oauth_signature"] = sign(signature_base_string(method, url, oauth),
                                        consumer_secret=self._consumer_secret.get_secret_value(),
                                        token_secret=self._token_secret.get_secret_value(),
                                        method=self.signature_method)
        fields = [f'realm="{self.realm}"'] + [f'{k}="{percent_encode(v)}"' for k, v in oauth.items()]
        return "OAuth " + ", ".join(fields)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization(request.method, request.url)
        yield request


def netsuite_tba_from_config(config: Mapping[str, Any], *, connector: str, realm: str,
                             environ: Mapping[str, str] | None = None) -> NetSuiteTba:
    """The TBA strategy from ``connectors.<connector>.auth``; every credential is ``env:VARIABLE``."""
    base = f"connectors.{connector}.auth"
    try:
        cfg = NetSuiteTbaConfig.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigurationError(f"{base}: {problems}", system=connector, setting=base) from exc
    values = {f: secret_from_env(getattr(cfg, f), setting=f"{base}.{f}", environ=environ) for f in SECRET_FIELDS}
    hint = ", ".join(f"{base}.{f} (environment variable {getattr(cfg, f).removeprefix(ENV_PREFIX)})"
                     for f in SECRET_FIELDS)
    return NetSuiteTba(realm=realm, setting=hint, **values)
