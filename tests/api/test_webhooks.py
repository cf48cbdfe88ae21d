"""Webhook endpoints: Graph handshake, clientState, lifecycle; Gmail Pub/Sub OIDC; replays; the real recorder."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import SecretStr

from api.webhooks import GmailHook, GraphHook, create_webhook_router
from connectors.mail.base import PushEvent, PushKind
from connectors.mail.jwt_verify import GOOGLE_JWKS_URL, GoogleOidcVerifier
from store.db import open_pool
from store.mail_sync import MailSyncRepository
from store.mailboxes import MailboxRepository

pytestmark = pytest.mark.anyio
CLIENT_STATE = "cs-7d1f0f0b2b6e4c7a"
AUDIENCE = "https://shipdraft.example.com/webhooks/gmail/gops"
PUSH_SA = "gmail-push@nordkyst.iam.gserviceaccount.com"


class MemoryRecorder:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str, str], PushEvent] = {}

    async def record_notification(self, *, mailbox: str, source: str, key: str, event: PushEvent) -> bool:
        if (mailbox, source, key) in self.seen:
            return False
        self.seen[(mailbox, source, key)] = event
        return True


class Keys:
    def __init__(self) -> None:
        self.good = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.evil = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.good.public_key()))
        return {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}

    def token(self, *, key: Any = None, **overrides: Any) -> str:
        now = int(time.time())
        claims = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": PUSH_SA, "email_verified": True,
                  "sub": "112233445566778899", "azp": "112233445566778899", "iat": now, "exp": now + 3600}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.good, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def google(keys: Keys) -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.get(GOOGLE_JWKS_URL).mock(return_value=httpx.Response(200, json=keys.jwks()))
        yield router


def _app(recorder: Any, notified: list[tuple[str, PushEvent]]) -> FastAPI:
    async def notify(mailbox: str, event: PushEvent) -> None:
        notified.append((mailbox, event))

    app = FastAPI()
    app.include_router(create_webhook_router(
        recorder=recorder, graph={"ops": GraphHook(client_state=SecretStr(CLIENT_STATE))},
        gmail={"gops": GmailHook(audience=AUDIENCE, service_account_email=PUSH_SA, mailbox_address="ops@x.example")},
        verifier=GoogleOidcVerifier(), notify=notify))
    return app


@pytest.fixture
async def client(google: respx.MockRouter) -> AsyncIterator[tuple[httpx.AsyncClient, MemoryRecorder, list]]:
    recorder, notified = MemoryRecorder(), []
    transport = httpx.ASGITransport(app=_app(recorder, notified))
    async with httpx.AsyncClient(transport=transport, base_url="https://shipdraft.example.com") as c:
        yield c, recorder, notified


def _graph_change(client_state: str = CLIENT_STATE, message_id: str = "AAMkAGUAAAACAAA=") -> dict[str, Any]:
    return {"value": [{
        "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
        "subscriptionExpirationDateTime": "2026-11-26T11:23:11.4536124+00:00",
        "changeType": "created", "resource": f"Users/ops@x.example/Messages/{message_id}",
        "resourceData": {"@odata.type": "#Microsoft.Graph.Message",
                         "@odata.id": f"Users/ops@x.example/Messages/{message_id}",
                         "@odata.etag": 'W/"CQAAABYAAACQ2fKdhq8oSKEDSVrdi3lRAAAMOQJX"', "id": message_id},
        "clientState": client_state, "tenantId": "11111111-2222-3333-4444-555555555555"}]}


def _lifecycle(event: str) -> dict[str, Any]:
    return {"value": [{"subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                       "subscriptionExpirationDateTime": "2026-11-26T11:23:11.4536124+00:00",
                       "tenantId": "11111111-2222-3333-4444-555555555555", "clientState": CLIENT_STATE,
                       "lifecycleEvent": event}]}


def _push(message_id: str = "2070443601311540", address: str = "ops@x.example") -> dict[str, Any]:
    data = base64.b64encode(json.dumps({"emailAddress": address, "historyId": "9876543210"}).encode()).decode()
    return {"message": {"data": data, "messageId": message_id, "message_id": message_id,
                        "publishTime": "2026-11-23T09:00:00.123Z", "publish_time": "2026-11-23T09:00:00.123Z"},
            "subscription": "projects/nordkyst/subscriptions/gmail-push"}


async def test_graph_validation_handshake_echoes_the_token_as_plain_text(client: Any) -> None:
    c, recorder, _ = client
    for path in ("/webhooks/graph/ops", "/webhooks/graph/ops/lifecycle"):
        r = await c.post(path, params={"validationToken": "Validation: Testing client application reachability"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.text == "Validation: Testing client application reachability"
    assert recorder.seen == {}


async def test_graph_notification_is_recorded_and_enqueued_within_the_time_limit(client: Any) -> None:
    c, recorder, notified = client
    started = time.monotonic()
    r = await c.post("/webhooks/graph/ops", json=_graph_change())
    assert r.status_code == 202 and time.monotonic() - started < 3.0
    assert [e.kind for e in recorder.seen.values()] == [PushKind.CHANGE]
    sub = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
    assert notified == [("ops", PushEvent(kind=PushKind.CHANGE, subscription_id=sub))]


async def test_forged_graph_notification_is_rejected_and_logged(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    c, recorder, notified = client
    with caplog.at_level(logging.WARNING):
        r = await c.post("/webhooks/graph/ops", json=_graph_change(client_state="guess"))
    assert r.status_code == 403 and recorder.seen == {} and notified == []
    assert "wrong clientState" in caplog.text and CLIENT_STATE not in caplog.text
    assert (await c.post("/webhooks/graph/other", json=_graph_change())).status_code == 404
    assert (await c.post("/webhooks/graph/ops", content=b"not json")).status_code == 400


async def test_replayed_notifications_are_rejected(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    c, _, notified = client
    assert (await c.post("/webhooks/graph/ops", json=_graph_change())).status_code == 202
    with caplog.at_level(logging.WARNING):
        assert (await c.post("/webhooks/graph/ops", json=_graph_change())).status_code == 409
    assert "replay" in caplog.text and len(notified) == 1


async def test_lifecycle_events_are_recorded_with_their_kind(client: Any) -> None:
    c, _, notified = client
    for event, kind in (("reauthorizationRequired", PushKind.REAUTHORIZE), ("subscriptionRemoved", PushKind.REMOVED),
                        ("missed", PushKind.MISSED)):
        r = await c.post("/webhooks/graph/ops/lifecycle", json=_lifecycle(event))
        assert r.status_code == 202
        assert notified[-1][1].kind == kind
    bad = _lifecycle("missed")
    bad["value"][0]["clientState"] = "nope"
    assert (await c.post("/webhooks/graph/ops/lifecycle", json=bad)).status_code == 403


async def test_gmail_push_with_a_valid_pubsub_token_is_recorded(client: Any, keys: Keys) -> None:
    c, _, notified = client
    r = await c.post("/webhooks/gmail/gops", json=_push(), headers={"Authorization": f"Bearer {keys.token()}"})
    assert r.status_code == 204
    assert notified == [("gops", PushEvent(kind=PushKind.CHANGE, cursor="9876543210"))]
    again = await c.post("/webhooks/gmail/gops", json=_push(), headers={"Authorization": f"Bearer {keys.token()}"})
    assert again.status_code == 409 and len(notified) == 1


@pytest.mark.parametrize("overrides, status", [
    ({}, 401),  # no token at all
    ({"aud": "https://elsewhere.example/"}, 403),
    ({"iss": "https://evil.example"}, 403),
    ({"email": "someone@evil.iam.gserviceaccount.com"}, 403),
    ({"email_verified": False}, 403),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 4200}, 403),
    ({"exp": None}, 403),
    ({"_key": "evil"}, 403),
])
async def test_gmail_push_with_a_bad_token_is_rejected(client: Any, keys: Keys, overrides: dict[str, Any],
                                                       status: int, caplog: pytest.LogCaptureFixture) -> None:
    c, recorder, notified = client
    headers = {}
    if overrides:
        key = keys.evil if overrides.pop("_key", None) == "evil" else None
        headers["Authorization"] = f"Bearer {keys.token(key=key, **overrides)}"
    with caplog.at_level(logging.WARNING):
        r = await c.post("/webhooks/gmail/gops", json=_push(), headers=headers)
    assert r.status_code == status and recorder.seen == {} and notified == []
    assert "rejected" in caplog.text


async def test_gmail_push_about_another_mailbox_is_rejected(client: Any, keys: Keys) -> None:
    c, recorder, _ = client
    r = await c.post("/webhooks/gmail/gops", json=_push(address="ceo@x.example"),
                     headers={"Authorization": f"Bearer {keys.token()}"})
    assert r.status_code == 403 and recorder.seen == {}


async def test_the_store_records_each_notification_once(database_url: str, google: respx.MockRouter,
                                                        keys: Keys) -> None:
    pool = await open_pool(url=database_url, max_size=2)
    try:
        await MailboxRepository(pool=pool).upsert(name="ops", address="ops@x.example", provider="graph", config={})
        repo = MailSyncRepository(pool=pool)
        notified: list = []
        transport = httpx.ASGITransport(app=_app(repo, notified))
        async with httpx.AsyncClient(transport=transport, base_url="https://shipdraft.example.com") as c:
            assert (await c.post("/webhooks/graph/ops", json=_graph_change())).status_code == 202
            assert (await c.post("/webhooks/graph/ops", json=_graph_change())).status_code == 409
            assert (await c.post("/webhooks/graph/ops/lifecycle", json=_lifecycle("missed"))).status_code == 202
        pending = await repo.pending_notifications(mailbox="ops")
        assert [e.kind for _, e in pending] == [PushKind.CHANGE, PushKind.MISSED]
        await repo.mark_handled(ids=[i for i, _ in pending])
        assert await repo.pending_notifications(mailbox="ops") == []
    finally:
        await pool.close()
