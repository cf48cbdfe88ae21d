"""Microsoft Graph provider specifics: request shapes, delta expiry, throttling, subscriptions, auth."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from agent.models import Note
from agent.parsing import parse_email
from connectors.mail.base import MailConfigError, MailRateLimitedError, MemorySyncState, PushEvent, PushKind
from connectors.mail.graph import CONVERSATION_INDEX, MESSAGE_FLAGS, PROP_DRAFT_ID, GraphMailbox
from connectors.mail.http import ProviderHttp, retry_after_seconds
from connectors.mail.oauth import MicrosoftClientCredentials
from tests.connectors.mail import fake_graph
from tests.connectors.mail.test_conformance import _draft
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _box(state: MemorySyncState | None = None, **kw: object) -> GraphMailbox:
    token = MicrosoftClientCredentials(tenant_id=fake_graph.TENANT, client_id="app-id",
                                       client_secret=SecretStr("s3cret-value"))
    return GraphMailbox(name="ops", address="ops@x.example", token=token, state=state or MemorySyncState(),
                        **kw)  # type: ignore[arg-type]


async def _ingest(box: GraphMailbox, state: MemorySyncState) -> list:
    items = await box.fetch_new()
    for i in items:
        state.remember(provider_key=i.provider_key, message_id=parse_email(raw=i.raw).message_id)
        await box.acknowledge(provider_key=i.provider_key)
    return items


async def test_reply_draft_is_one_createreply_with_body_categories_and_draft_id(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state, sleep=Sleeps())
    await box.fetch_new()
    parent = fake.deliver(make_email(message_id="<eta@c.example>", subject="ETA for NK204117?",
                                     body="When will order NK204117 arrive? What is the ETA?"))
    [item] = await _ingest(box, state)
    before = box.http.calls
    location = await box.post_draft(inbound=parse_email(raw=item.raw), draft=_draft("d-g1"))
    assert box.http.calls - before == 1  # createReply carries everything
    draft = fake.messages[location]
    sent_body = draft.created_json["message"]
    assert "comment" not in draft.created_json  # body and comment together are a 400
    assert sent_body["body"]["contentType"] == "html" and "<p>Hei Kari,</p>" in sent_body["body"]["content"]
    assert sent_body["categories"][0] == "AI draft" and "AI: ETA request" in sent_body["categories"]
    assert {"id": PROP_DRAFT_ID, "value": "d-g1"} in sent_body["singleValueExtendedProperties"]
    assert draft.is_draft and draft.in_reply_to == parent.internet_message_id
    assert fake.violations == []


async def test_reply_all_by_mailbox_setting(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state, reply_all=True)
    await box.fetch_new()
    fake.deliver(make_email(message_id="<all@c.example>"))
    [item] = await _ingest(box, state)
    await box.post_draft(inbound=parse_email(raw=item.raw), draft=_draft("d-all"))
    assert any(c.request.url.path.endswith("/createReplyAll") for c in mock_router.calls)


async def test_note_is_a_recipientless_non_draft_in_the_customers_conversation(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    parent = fake.deliver(make_email(message_id="<n@c.example>"))
    [item] = await _ingest(box, state)
    location = await box.post_note(inbound=parse_email(raw=item.raw),
                                   note=Note(draft_id="d-n", subject="[shipdraft note] x", body="facts"))
    created = fake.messages[location].created_json
    props = {p["id"]: p["value"] for p in created["singleValueExtendedProperties"]}
    assert props[MESSAGE_FLAGS] == "1"
    child = base64.b64decode(props[CONVERSATION_INDEX])
    assert child[:22] == base64.b64decode(parent.conversation_index)[:22] and len(child) == 27
    assert created["categories"] == ["AI note"]
    assert not {"toRecipients", "ccRecipients", "bccRecipients"} & set(created)
    assert not fake.messages[location].is_draft


async def test_expired_delta_token_resyncs_without_refetching_known_messages(mock_router: respx.MockRouter,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    fake.deliver(make_email(message_id="<k1@c.example>"))
    fake.deliver(make_email(message_id="<k2@c.example>"))
    fake.deliver(make_email(message_id="<k3@c.example>"))  # three messages: two delta pages of two
    assert len(await _ingest(box, state)) == 3
    fake.expired_tokens.add((await state.get(key="graph:delta:inbox") or "").rsplit("=", 1)[1])
    fake.deliver(make_email(message_id="<k4@c.example>"))
    raw_fetches = len([c for c in mock_router.calls if c.request.url.path.endswith("/$value")])
    with caplog.at_level(logging.WARNING):
        items = await _ingest(box, state)
    assert [parse_email(raw=i.raw).message_id for i in items] == ["<k4@c.example>"]
    assert len([c for c in mock_router.calls if c.request.url.path.endswith("/$value")]) == raw_fetches + 1
    assert "full resync" in caplog.text


async def test_429_retry_after_is_honoured(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    sleeps = Sleeps()
    box = _box(sleep=sleeps)
    fake.throttle_next = 1
    await box.fetch_new()
    assert sleeps.calls == [2.0]



async def test_at_most_four_concurrent_requests_per_mailbox() -> None:
    gate = asyncio.Event()
    inflight = {"now": 0, "peak": 0}

    async def slow(request: httpx.Request) -> httpx.Response:
        inflight["now"] += 1
        inflight["peak"] = max(inflight["peak"], inflight["now"])
        await gate.wait()
        inflight["now"] -= 1
        return httpx.Response(200, content=b"From: a@b\r\n\r\nx")

    async def token() -> str:
        return "eyJ.t"

    http = ProviderHttp(token=token, invalidate_token=lambda: None, max_concurrency=4,
                        client=httpx.AsyncClient(transport=httpx.MockTransport(slow)))
    tasks = [asyncio.create_task(http.request("GET", f"{fake_graph.BASE}/messages/m{i}/$value")) for i in range(10)]
    await asyncio.sleep(0.05)
    assert inflight["now"] == 4
    gate.set()
    await asyncio.gather(*tasks)
    assert inflight["peak"] == 4 and http.calls == 10
    await http.aclose()


async def test_throttling_that_does_not_end_is_reported_as_rate_limited(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    box = _box(sleep=Sleeps())
    fake.throttle_next = 100
    with pytest.raises(MailRateLimitedError) as info:
        await box.fetch_new()
    assert info.value.retry_after == 2.0 and info.value.retryable


async def test_sent_copy_is_recognised_by_its_immutable_id(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    await box.fetch_sent()
    fake.deliver(make_email(message_id="<s@c.example>"))
    [item] = await _ingest(box, state)
    location = await box.post_draft(inbound=parse_email(raw=item.raw), draft=_draft("d-s"))
    fake_graph.agent_sends(fake, location)
    [sent] = await box.fetch_sent()
    assert sent.provider_key == location
    assert parse_email(raw=sent.raw).headers["X-Shipdraft-Draft-Id"] == "d-s"


async def test_subscriptions_are_created_renewed_before_expiry_and_recreated(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    now = {"t": datetime(2026, 11, 23, 9, 0, tzinfo=UTC)}
    box = _box(notification_url="https://hooks.example/webhooks/graph/ops",
               lifecycle_url="https://hooks.example/webhooks/graph/ops/lifecycle",
               client_state=SecretStr("cs-0123456789abcdef"), clock=lambda: now["t"])
    watches = await box.ensure_watch()
    assert sorted(w.resource for w in watches) == ["/users/ops@x.example/mailFolders('inbox')/messages",
                                                   "/users/ops@x.example/mailFolders('sentitems')/messages"]
    sub = next(iter(fake.subscriptions.values()))
    assert sub["clientState"] == "cs-0123456789abcdef" and sub["changeType"] == "created"
    assert sub["lifecycleNotificationUrl"].endswith("/lifecycle")
    calls = len(mock_router.calls)
    await box.ensure_watch()
    assert len(mock_router.calls) == calls  # nothing due
    now["t"] += timedelta(minutes=4200) - timedelta(hours=6)  # inside the renewal window
    await box.ensure_watch()
    patches = [c for c in mock_router.calls if c.request.method == "PATCH"]
    assert len(patches) == 2
    # now (Nov 26 01:00) + 4200 minutes
    assert json.loads(patches[0].request.content)["expirationDateTime"] == "2026-11-28T23:00:00Z"
    removed = watches[0].subscription_id
    del fake.subscriptions[removed]
    await box.handle_push(event=PushEvent(kind=PushKind.REMOVED, subscription_id=removed))
    assert len(fake.subscriptions) == 2 and removed not in fake.subscriptions
    reauth = next(iter(fake.subscriptions))
    await box.handle_push(event=PushEvent(kind=PushKind.REAUTHORIZE, subscription_id=reauth))
    assert mock_router.calls.last.request.method == "PATCH"
    assert await box.wait_for_changes(timeout=0.01) is True  # lifecycle events wake the runner


async def test_missed_notifications_resync_with_the_stored_delta_link(mock_router: respx.MockRouter) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    fake.deliver(make_email(message_id="<seen@c.example>"))
    assert len(await _ingest(box, state)) == 1
    link = await state.get(key="graph:delta:inbox")
    fake.deliver(make_email(message_id="<missed@c.example>"))  # its change notification never arrived
    await box.handle_push(event=PushEvent(kind=PushKind.MISSED, subscription_id="7f105c7d"))
    assert await box.wait_for_changes(timeout=0.01) is True  # the runner wakes up and syncs now
    before = len(mock_router.calls)
    items = await _ingest(box, state)
    assert [parse_email(raw=i.raw).message_id for i in items] == ["<missed@c.example>"]
    delta = mock_router.calls[before].request
    assert str(delta.url) == link  # from the stored deltaLink, not a full resync
    assert fake.violations == []


def test_certificate_auth_signs_a_client_assertion_with_the_thumbprint() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"certificate-der")
    thumb = digest.finalize().hex()
    creds = MicrosoftClientCredentials(tenant_id=fake_graph.TENANT, client_id="app-id",
                                       certificate_key=SecretStr(pem), certificate_thumbprint=thumb)
    assertion = creds.client_assertion()
    header = jwt.get_unverified_header(assertion)
    assert base64.urlsafe_b64decode(header["x5t#S256"] + "=") == bytes.fromhex(thumb)
    claims = jwt.decode(assertion, key.public_key(), algorithms=["PS256"], audience=creds.token_url)
    assert claims["iss"] == claims["sub"] == "app-id"
    assert "BEGIN" not in repr(creds)


async def test_token_request_and_secret_never_leak(mock_router: respx.MockRouter,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_graph.FakeGraph(mock_router)
    box = _box()
    with caplog.at_level(logging.DEBUG):
        await box.fetch_new()
    assert fake.tokens_issued == 1
    form = mock_router.calls[0].request.content.decode()
    assert "grant_type=client_credentials" in form and "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in form
    assert "s3cret-value" not in caplog.text and "s3cret-value" not in repr(box)


def test_config_refuses_literal_secrets_and_reads_named_variables(tmp_path: object) -> None:
    cfg = {"type": "graph", "tenant_id": fake_graph.TENANT, "client_id": "app-id", "client_secret": "literal!"}
    with pytest.raises(MailConfigError, match="env:NAME"):
        GraphMailbox.from_config(name="ops", config=cfg, address="ops@x.example", display_name="", base_dir=tmp_path,
                                 environ={})
    cfg["client_secret"] = "env:GRAPH_SECRET"
    with pytest.raises(MailConfigError, match="GRAPH_SECRET is not set"):
        GraphMailbox.from_config(name="ops", config=cfg, address="ops@x.example", display_name="", base_dir=tmp_path,
                                 environ={})
    box = GraphMailbox.from_config(name="ops", config=cfg, address="ops@x.example", display_name="",
                                   base_dir=tmp_path, environ={"GRAPH_SECRET": "x"})
    assert box.user == "ops@x.example"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Mon, 23 Nov 2026 09:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
