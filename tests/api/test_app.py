"""The HTTP API over a real database: health, messages, one message with facts, draft and note."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from shipdraft.runner import one_pass
from shipdraft.wiring import Runtime
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings=runtime.settings, pool=runtime.pool)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_messages_with_references_facts_draft_and_note(client: httpx.AsyncClient, runtime: Runtime) -> None:
    (runtime.provider.root / "new" / "m1").write_bytes(make_email())  # type: ignore[attr-defined]
    (runtime.provider.root / "new" / "m2").write_bytes(b"\n\n")  # type: ignore[attr-defined]
    await one_pass(runtime=runtime)

    listed = (await client.get("/messages")).json()
    assert sorted(m["state"] for m in listed) == ["drafted", "quarantined"]
    drafted = next(m for m in listed if m["state"] == "drafted")
    assert drafted["draft_status"] == "posted"
    only_quarantined = (await client.get("/messages", params={"state": "quarantined"})).json()
    assert [m["error"] for m in only_quarantined] == ["empty message"]

    detail = (await client.get(f"/messages/{drafted['id']}")).json()
    assert detail["references"] == [{"kind": "order_number", "value": "NK204117", "raw": "NK204117",
                                     "source": "subject", "validity": "unchecked"}]
    statuses = [f for f in detail["facts"] if f["name"] == "order.status"]
    assert statuses and statuses[0]["source_system"] == "nordkyst-demo" and statuses[0]["record_id"] == "NK204117"
    assert detail["draft"]["drafter"] == "template"
    assert detail["draft"]["template_version"].startswith("reply.no@")
    assert "NK204117" in detail["draft"]["body"]
    assert "INTERNAL NOTE" in detail["draft"]["note"]


async def test_unknown_message_is_404_and_bad_paging_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.get("/messages/999999")).status_code == 404
    assert (await client.get("/messages", params={"limit": 0})).status_code == 422


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/health", "/messages", "/messages/{message_pk}"} <= set(spec["paths"])


async def test_token_is_required_when_configured(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"api_token": SecretStr("s3cret-token")})
    app = create_app(settings=settings, pool=runtime.pool)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/messages")).status_code == 401
        assert (await c.get("/messages", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await c.get("/messages", headers={"Authorization": "Bearer s3cret-token"})).status_code == 200
        assert (await c.get("/metrics/acceptance")).status_code == 401
        assert (await c.get("/health")).status_code == 200


async def test_without_a_token_only_loopback_clients_are_served(runtime: Runtime) -> None:
    app = create_app(settings=runtime.settings, pool=runtime.pool)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.get("/messages")
    assert response.status_code == 403 and "SHIPDRAFT_API_TOKEN" in response.text
