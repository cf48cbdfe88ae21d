"""Auth strategies: one example per strategy, on the request shapes the vendors document, plus OAuth2 refresh.

- API key header: DHL Shipment Tracking - Unified (``GET /track/shipments?trackingNumber=``, ``DHL-API-Key``).
- Bearer and basic: a generic TMS/WMS.
- Odoo JSON-2 (Odoo 19+): ``POST /json/2/sale.order/search_read``, ``Authorization: bearer <key>``,
  ``X-Odoo-Database``; the body holds named arguments (``domain``, ``fields``); the answer is the
  method's return value (a list of records).
- ERPNext / Frappe: ``Authorization: token <api_key>:<api_secret>`` on ``/api/resource/Sales Order/{name}``.
- OAuth 2.0 client credentials (RFC 6749 4.4): form-encoded token request, ``{"access_token",
  "token_type", "expires_in"}`` answer, ``{"error": "invalid_client"}`` refusals.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from pydantic import SecretStr

from connectors.auth import OAuth2ClientCredentials, auth_from_config
from connectors.base import ConfigurationError, RetryableError
from connectors.http import HttpSystem

pytestmark = pytest.mark.anyio
TOKEN_URL = "https://login.example.com/oauth2/token"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"DHL_KEY": "dhl-demo-key", "TMS_TOKEN": "tms-token", "WMS_PASSWORD": "p@ss:word", "ODOO_KEY": "odoo-key",
              "ERPNEXT_KEY": "abc123", "ERPNEXT_SECRET": "def456", "ERP_CLIENT_ID": "shipdraft-client",
              "ERP_CLIENT_SECRET": "client-secret-value"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


async def _one_call(base_url: str, auth: dict[str, Any], method: str, path: str, **kwargs: Any) -> httpx.Request:
    s = HttpSystem(name="x", config={"base_url": base_url, "auth": auth})
    try:
        await s.request_json(method, path, **kwargs)
    finally:
        await s.aclose()
    return respx.calls.last.request


@respx.mock
async def test_api_key_header_dhl(env: dict[str, str]) -> None:
    respx.get("https://api-eu.dhl.com/track/shipments", params={"trackingNumber": "00340434161094042557"}).respond(
        200, json={"shipments": [{"id": "00340434161094042557", "service": "parcel-de",
                                  "status": {"statusCode": "transit", "timestamp": "2026-11-20T09:13:00"}}]})
    sent = await _one_call("https://api-eu.dhl.com", {"type": "api_key", "header": "DHL-API-Key", "key": "env:DHL_KEY"},
                           "GET", "/track/shipments", params={"trackingNumber": "00340434161094042557"})
    assert sent.headers["DHL-API-Key"] == "dhl-demo-key" and "Authorization" not in sent.headers


@respx.mock
async def test_bearer_token(env: dict[str, str]) -> None:
    respx.get("https://tms.example.com/v1/shipments/SHP-1").respond(200, json={})
    sent = await _one_call("https://tms.example.com/v1", {"type": "bearer", "token": "env:TMS_TOKEN"}, "GET",
                           "/shipments/SHP-1")
    assert sent.headers["Authorization"] == "Bearer tms-token"


@respx.mock
async def test_basic_auth(env: dict[str, str]) -> None:
    respx.get("https://wms.example.com/api/orders/NK1").respond(200, json={})
    sent = await _one_call("https://wms.example.com/api", {"type": "basic", "username": "shipdraft",
                                                           "password": "env:WMS_PASSWORD"}, "GET", "/orders/NK1")
    scheme, encoded = sent.headers["Authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(encoded).decode() == "shipdraft:p@ss:word"


@respx.mock
async def test_odoo_json2_key_and_database(env: dict[str, str]) -> None:
    respx.post("https://acme.odoo.com/json/2/sale.order/search_read").respond(
        200, json=[{"id": 42, "name": "S00042", "state": "sale", "client_order_ref": "PO-1",
                    "partner_id": [7, "Hansen Møbler AS"], "commitment_date": False}])
    body = {"domain": [["name", "=", "S00042"]], "fields": ["name", "state", "client_order_ref", "partner_id"]}
    sent = await _one_call("https://acme.odoo.com", {"type": "odoo", "key": "env:ODOO_KEY", "database": "acme-prod"},
                           "POST", "/json/2/sale.order/search_read", json=body)
    assert sent.headers["Authorization"] == "bearer odoo-key" and sent.headers["X-Odoo-Database"] == "acme-prod"
    assert sent.headers["Content-Type"] == "application/json"


@respx.mock
async def test_erpnext_token(env: dict[str, str]) -> None:
    respx.get("https://erp.example.com/api/resource/Sales%20Order/SAL-ORD-2026-00417").respond(
        200, json={"data": {"name": "SAL-ORD-2026-00417"}})
    sent = await _one_call("https://erp.example.com", {"type": "erpnext", "api_key": "env:ERPNEXT_KEY",
                                                       "api_secret": "env:ERPNEXT_SECRET"},
                           "GET", "/api/resource/Sales Order/SAL-ORD-2026-00417")
    assert sent.headers["Authorization"] == "token abc123:def456"


def _token_answer(token: str, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
                          headers={"Cache-Control": "no-store"})


@respx.mock
async def test_oauth2_fetches_one_token_for_concurrent_calls_and_refreshes_before_expiry(env: dict[str, str]) -> None:
    token_route = respx.post(TOKEN_URL).mock(side_effect=[_token_answer("t1", 3600), _token_answer("t2", 3600)])
    api = respx.get(url__startswith="https://erp.example.com/api/orders/").respond(200, json={})
    clock = Clock()
    auth = OAuth2ClientCredentials(token_url=TOKEN_URL, client_id="shipdraft-client",
                                   client_secret=_secret("client-secret-value"), scope="api.read", clock=clock)
    async with httpx.AsyncClient(base_url="https://erp.example.com/api", auth=auth) as client:
        await asyncio.gather(*(client.get(f"/orders/NK{i}") for i in range(5)))
        assert token_route.call_count == 1 and api.call_count == 5
        form = parse_qs(token_route.calls.last.request.content.decode())
        assert form == {"grant_type": ["client_credentials"], "scope": ["api.read"],
                        "client_id": ["shipdraft-client"], "client_secret": ["client-secret-value"]}
        assert all(c.request.headers["Authorization"] == "Bearer t1" for c in api.calls)
        clock.now += 3600 - 29  # inside the refresh margin: a new token before the old one runs out
        await client.get("/orders/NK9")
    assert token_route.call_count == 2 and api.calls.last.request.headers["Authorization"] == "Bearer t2"


@respx.mock
async def test_oauth2_refreshes_once_when_a_token_is_refused(env: dict[str, str]) -> None:
    respx.post(TOKEN_URL).mock(side_effect=[_token_answer("old"), _token_answer("new")])
    api = respx.get("https://erp.example.com/api/orders/NK1").mock(side_effect=lambda request: httpx.Response(
        200 if request.headers["Authorization"] == "Bearer new" else 401, json={}))
    auth = OAuth2ClientCredentials(token_url=TOKEN_URL, client_id="c", client_secret=_secret("s"))
    async with httpx.AsyncClient(base_url="https://erp.example.com/api", auth=auth) as client:
        first = await client.get("/orders/NK1")  # a token just fetched and refused: no loop, the 401 stands
        response = await client.get("/orders/NK1")  # the cached token refused -> a new one -> one retry
    assert first.status_code == 401 and response.status_code == 200 and auth.tokens_fetched == 2
    assert [c.request.headers["Authorization"] for c in api.calls] == ["Bearer old", "Bearer old", "Bearer new"]


@respx.mock
async def test_oauth2_refused_credentials_name_the_settings(env: dict[str, str]) -> None:
    respx.post(TOKEN_URL).respond(401, json={"error": "invalid_client",
                                             "error_description": "Client authentication failed"},
                                  headers={"WWW-Authenticate": 'Basic realm="login"'})
    respx.get("https://erp.example.com/api/orders/NK1").respond(200, json={})
    config = {"type": "oauth2_client_credentials", "token_url": TOKEN_URL, "client_id": "env:ERP_CLIENT_ID",
              "client_secret": "env:ERP_CLIENT_SECRET", "client_auth": "basic"}
    s = HttpSystem(name="erp", config={"base_url": "https://erp.example.com/api", "auth": config})
    with pytest.raises(ConfigurationError) as raised:
        await s.get_json("/orders/NK1")
    await s.aclose()
    message = str(raised.value)
    assert "invalid_client" in message and "client-secret-value" not in message
    assert "connectors.erp.auth.client_secret (environment variable ERP_CLIENT_SECRET)" in message
    token_request = respx.calls[0].request
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert b"client_secret" not in token_request.content


@respx.mock
async def test_oauth2_token_endpoint_outage_is_retryable(env: dict[str, str]) -> None:
    respx.post(TOKEN_URL).respond(503)
    auth = OAuth2ClientCredentials(token_url=TOKEN_URL, client_id="c", client_secret=_secret("s"))
    async with httpx.AsyncClient(auth=auth) as client:
        with pytest.raises(RetryableError):
            await client.get("https://erp.example.com/api/orders/NK1")


def test_configuration_refuses_literal_secrets_and_names_missing_variables(env: dict[str, str],
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="must name an environment variable"):
        auth_from_config({"type": "api_key", "key": "literal-key"}, connector="dhl")
    monkeypatch.delenv("DHL_KEY")
    with pytest.raises(ConfigurationError, match=r"connectors\.dhl\.auth\.key: environment variable DHL_KEY"):
        auth_from_config({"type": "api_key", "key": "env:DHL_KEY"}, connector="dhl")
    with pytest.raises(ConfigurationError, match="oauth2_client_credentials"):
        auth_from_config({"type": "kerberos"}, connector="dhl")
    assert auth_from_config(None, connector="dhl") is None
    strategy = auth_from_config({"type": "erpnext", "api_key": "env:ERPNEXT_KEY", "api_secret": "env:ERPNEXT_SECRET"},
                                connector="erp")
    assert "def456" not in repr(strategy) and "ERPNEXT_SECRET" in repr(strategy)


def _secret(value: str) -> SecretStr:
    return SecretStr(value)
