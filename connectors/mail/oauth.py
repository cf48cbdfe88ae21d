"""OAuth 2.0 access tokens for the Graph and Gmail providers, over httpx.

- ``MicrosoftClientCredentials``: app-only auth for Graph (client credentials
  grant) with a client secret or a certificate (a JWT client assertion signed
  with the certificate's private key, ``x5t#S256`` header).
- ``GoogleServiceAccount``: a service account with domain-wide delegation
  (RFC 7523 JWT bearer grant, ``sub`` = the mailbox).
- ``GoogleRefreshToken``: OAuth for a single mailbox (refresh token grant).

Each caches its token until shortly before expiry and can be told that a
token was rejected. Secrets come from environment variables named in the
mailbox YAML (``env:NAME``), are held as ``SecretStr`` and never logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
from pydantic import SecretStr

from connectors.mail.base import MailAuthError, MailConfigError, MailUnavailableError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GMAIL_SCOPE = "https://www.googleapis.com/auth/gmail.modify"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
_EARLY = 120.0  # renew this many seconds before expiry


def resolve_secret(value: Any, *, setting: str, environ: Mapping[str, str] | None = None) -> SecretStr:
    """A secret named as ``env:VARIABLE`` in the YAML; literal secrets are refused."""
    env = os.environ if environ is None else environ
    if not isinstance(value, str) or not value.startswith("env:"):
        raise MailConfigError(f"{setting} must name an environment variable (env:NAME), never hold the secret")
    name = value.removeprefix("env:")
    if not env.get(name):
        raise MailConfigError(f"{setting}: environment variable {name} is not set")
    return SecretStr(env[name])


class _CachedToken:
    def __init__(self, *, client: httpx.AsyncClient | None, clock: Any = time.monotonic) -> None:
        self._client = client
        self._clock = clock
        self._token: SecretStr | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.requests = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(…)"

    def invalidate(self) -> None:
        self._token = None

    async def __call__(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._expires - _EARLY:
                token, lifetime = await self._fetch()
                self._token, self._expires = SecretStr(token), self._clock() + lifetime
            return self._token.get_secret_value()

    async def _fetch(self) -> tuple[str, float]:
        raise NotImplementedError

    async def _post_form(self, url: str, data: dict[str, str]) -> tuple[str, float]:
        self.requests += 1
        client = self._client or httpx.AsyncClient(timeout=30)
        try:
            response = await client.post(url, data=data, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise MailUnavailableError(f"token endpoint unreachable: {type(exc).__name__}") from exc
        finally:
            if self._client is None:
                await client.aclose()
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 500:
            raise MailUnavailableError(f"token endpoint answered {response.status_code}")
        if not response.is_success or "access_token" not in body:
            code = body.get("error", "") if isinstance(body, dict) else ""
            raise MailAuthError(f"token request refused: {response.status_code} {code}".strip())
        return str(body["access_token"]), float(body.get("expires_in", 3600))


class MicrosoftClientCredentials(_CachedToken):
    """App-only token for Microsoft Graph: client secret or certificate."""

    def __init__(self, *, tenant_id: str, client_id: str, client_secret: SecretStr | None = None,
                 certificate_key: SecretStr | None = None, certificate_thumbprint: str | None = None,
                 authority: str = "https://login.microsoftonline.com", scope: str = GRAPH_SCOPE,
                 client: httpx.AsyncClient | None = None) -> None:
        super().__init__(client=client)
        if (client_secret is None) == (certificate_key is None):
            raise MailConfigError("Graph auth needs exactly one of client_secret or certificate_key")
        if certificate_key is not None and not certificate_thumbprint:
            raise MailConfigError("Graph certificate auth needs certificate_thumbprint (SHA-256, hex)")
        self.tenant_id, self.client_id, self.scope = tenant_id, client_id, scope
        self.token_url = f"{authority.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self._secret = client_secret
        self._key = certificate_key
        self._thumbprint = certificate_thumbprint

    async def _fetch(self) -> tuple[str, float]:
        data = {"client_id": self.client_id, "scope": self.scope, "grant_type": "client_credentials"}
        if self._secret is not None:
            data["client_secret"] = self._secret.get_secret_value()
        else:
            data["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            data["client_assertion"] = self.client_assertion()
        return await self._post_form(self.token_url, data)

    def client_assertion(self, *, now: float | None = None) -> str:
        """The signed JWT that proves possession of the certificate's private key."""
        assert self._key is not None and self._thumbprint is not None
        issued = int(now if now is not None else time.time())
        x5t = base64.urlsafe_b64encode(bytes.fromhex(self._thumbprint.replace(":", ""))).rstrip(b"=").decode()
        claims = {"aud": self.token_url, "iss": self.client_id, "sub": self.client_id, "jti": str(uuid.uuid4()),
                  "nbf": issued, "iat": issued, "exp": issued + 600}
        return jwt.encode(claims, self._key.get_secret_value(), algorithm="PS256",
                          headers={"x5t#S256": x5t, "typ": "JWT"})


class GoogleServiceAccount(_CachedToken):
    """A service account acting for one mailbox through domain-wide delegation."""

    def __init__(self, *, key_json: SecretStr, subject: str, scope: str = GMAIL_SCOPE,
                 client: httpx.AsyncClient | None = None) -> None:
        super().__init__(client=client)
        try:
            key = json.loads(key_json.get_secret_value())
            self.client_email = str(key["client_email"])
            self._private_key = SecretStr(str(key["private_key"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise MailConfigError("service account key: expected the JSON key file (client_email, "
                                  "private_key)") from exc
        self.token_uri = str(key.get("token_uri") or GOOGLE_TOKEN_URI)
        self.subject, self.scope = subject, scope

    def assertion(self, *, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.client_email, "sub": self.subject, "scope": self.scope, "aud": self.token_uri,
                  "iat": issued, "exp": issued + 3600}
        return jwt.encode(claims, self._private_key.get_secret_value(), algorithm="RS256")

    async def _fetch(self) -> tuple[str, float]:
        return await self._post_form(self.token_uri, {
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self.assertion()})


class GoogleRefreshToken(_CachedToken):
    """OAuth for a single mailbox that granted offline access."""

    def __init__(self, *, client_id: str, client_secret: SecretStr, refresh_token: SecretStr,
                 token_uri: str = GOOGLE_TOKEN_URI, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(client=client)
        self.client_id, self.token_uri = client_id, token_uri
        self._secret, self._refresh = client_secret, refresh_token

    async def _fetch(self) -> tuple[str, float]:
        return await self._post_form(self.token_uri, {
            "grant_type": "refresh_token", "client_id": self.client_id,
            "client_secret": self._secret.get_secret_value(), "refresh_token": self._refresh.get_secret_value()})
