"""API access control: a bearer token, or loopback-only when no token is configured.

Every endpoint that shows customer email, drafts or metrics depends on
``require_token``. Webhooks authenticate their callers themselves (Graph
clientState, Pub/Sub OIDC JWT) and do not use it.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import HTTPException, Request

from shipdraft.settings import Settings


def token_checker(*, settings: Settings):
    expected = settings.api_token.get_secret_value().encode() if settings.api_token else None

    async def require_token(request: Request) -> None:
        if expected is None:
            host = request.client.host if request.client else ""
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host in ("testclient", "localhost")
            if not loopback:
                raise HTTPException(status_code=403, detail="set SHIPDRAFT_API_TOKEN to allow remote API access")
            return
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), expected):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    return require_token
