"""Verify the OIDC token Google Pub/Sub sends with every push (``Authorization: Bearer``).

Checks (PyJWT + cryptography): RS256 signature against Google's published
keys (JWKS, fetched over httpx and cached; refetched once when a token names
an unknown key id), ``iss`` is Google, ``aud`` is the audience configured on
the push subscription, ``exp``/``iat`` are present and current, and the token
was issued to the push service account (``email`` with ``email_verified``).
Anything else is rejected with a reason that names the failed check, never
the token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from connectors.mail.base import MailError

GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


class TokenRejectedError(MailError):
    """The push token is missing, forged, expired or meant for someone else."""


class GoogleOidcVerifier:
    """Verifies Google-signed OIDC ID tokens; one instance per process (it caches the keys)."""

    def __init__(self, *, jwks_url: str = GOOGLE_JWKS_URL, client: httpx.AsyncClient | None = None,
                 cache_seconds: float = 3600.0, min_refetch_seconds: float = 60.0, leeway: float = 30.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.jwks_url = jwks_url
        self._client = client
        self._cache_seconds = cache_seconds
        self._min_refetch = min_refetch_seconds
        self._leeway = leeway
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def verify(self, *, token: str, audience: str, email: str) -> dict[str, Any]:
        """The token's claims if every check passes; ``TokenRejectedError`` otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenRejectedError("malformed token") from exc
        if header.get("alg") != "RS256":
            raise TokenRejectedError(f"algorithm {header.get('alg')!r} not accepted")
        key = await self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(token, key=key, algorithms=["RS256"], audience=audience, issuer=list(GOOGLE_ISSUERS),
                                leeway=self._leeway, options={"require": ["exp", "iat", "iss", "aud"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejectedError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenRejectedError("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenRejectedError("wrong issuer") from exc
        except jwt.PyJWTError as exc:
            raise TokenRejectedError(f"invalid token: {type(exc).__name__}") from exc
        if claims.get("email") != email or claims.get("email_verified") is not True:
            raise TokenRejectedError("token not issued to the push service account")
        return claims

    async def _key(self, kid: str) -> Any:
        async with self._lock:
            now = self._clock()
            stale = now - self._fetched_at > self._cache_seconds
            unknown = kid not in self._keys and now - self._fetched_at > self._min_refetch
            if stale or unknown:
                await self._refresh()
            if kid not in self._keys:
                raise TokenRejectedError("unknown signing key")
            return self._keys[kid]

    async def _refresh(self) -> None:
        client = self._client or httpx.AsyncClient(timeout=10)
        try:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            keyset = jwt.PyJWKSet.from_dict(response.json())
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            if not self._keys:
                raise TokenRejectedError("signing keys unavailable") from exc
            return  # keep the keys we have
        finally:
            if self._client is None:
                await client.aclose()
        self._keys = {k.key_id: k.key for k in keyset.keys if k.key_id}
        self._fetched_at = self._clock()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
