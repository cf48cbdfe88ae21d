"""Gmail provider specifics: discovery-checked requests, threading, labels, stale history, watch, auth."""

from __future__ import annotations

import email
import json
import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from agent.models import Note
from agent.parsing import parse_email
from connectors.mail.base import MailAuthError, MailConfigError, MailRateLimitedError, MemorySyncState
from connectors.mail.gmail import GmailMailbox
from connectors.mail.oauth import GoogleRefreshToken, GoogleServiceAccount
from tests.connectors.mail import fake_gmail
from tests.connectors.mail.test_conformance import _draft
from tests.helpers import make_email

pytestmark = pytest.mark.anyio


def _box(state: MemorySyncState, **kw: object) -> GmailMailbox:
    token = GoogleRefreshToken(client_id="cid.apps.googleusercontent.com", client_secret=SecretStr("s"),
                               refresh_token=SecretStr("1//refresh"))
    return GmailMailbox(name="ops", address="ops@x.example", token=token, state=state, **kw)  # type: ignore[arg-type]


async def _ingest(box: GmailMailbox, state: MemorySyncState) -> list:
    items = await box.fetch_new()
    for i in items:
        state.remember(provider_key=i.provider_key, message_id=parse_email(raw=i.raw).message_id)
        await box.acknowledge(provider_key=i.provider_key)
    return items


def test_the_fake_checks_requests_against_the_discovery_document() -> None:
    doc = fake_gmail.discovery()
    assert doc["name"] == "gmail" and doc["version"] == "v1"
    with respx.mock(assert_all_called=False) as router:
        fake = fake_gmail.FakeGmail(router)
        import httpx

        httpx.get(f"{fake_gmail.BASE}/history", params={"startHistoryId": "1", "sinceForever": "1"},
                  headers={"Authorization": "Bearer ya29.a0AfB_fake"})
        httpx.post(f"{fake_gmail.BASE}/drafts", json={"message": {"raw": "", "threadLd": "x"}},
                   headers={"Authorization": "Bearer ya29.a0AfB_fake"})
    assert "gmail.users.history.list: unknown query parameter sinceForever" in fake.violations
    assert "gmail.users.drafts.create.message: unknown body field threadLd" in fake.violations


async def test_draft_threads_and_is_labelled_note_is_inserted_not_sent(mock_router: respx.MockRouter) -> None:
    fake = fake_gmail.FakeGmail(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    parent = fake.deliver(make_email(message_id="<eta@c.example>", subject="ETA for NK204117?",
                                     body="What is the ETA of order NK204117?"))
    [item] = await _ingest(box, state)
    inbound = parse_email(raw=item.raw)
    location = await box.post_draft(inbound=inbound, draft=_draft("d-1", subject="Re: ETA for NK204117?"))
    draft_msg = fake.messages[fake.drafts[location]]
    assert draft_msg.thread_id == parent.thread_id
    headers = email.message_from_bytes(draft_msg.raw)
    assert headers["In-Reply-To"] == "<eta@c.example>" and headers["References"].endswith("<eta@c.example>")
    assert headers["Subject"] == "Re: ETA for NK204117?"
    assert {fake.labels[x] for x in draft_msg.labels} == {"DRAFT", "AI draft", "AI: ETA request"}

    note_location = await box.post_note(inbound=inbound, note=Note(draft_id="d-1", subject="[note]", body="f"))
    note = fake.messages[note_location]
    assert note.thread_id == parent.thread_id and [fake.labels[x] for x in note.labels] == ["AI note"]
    insert = next(c for c in mock_router.calls if c.request.method == "POST" and c.request.url.path.endswith(
        "/messages"))
    assert parse_qs(insert.request.url.query.decode()) == {"internalDateSource": ["dateHeader"]}
    assert fake.violations == []


async def test_stale_history_id_falls_back_to_a_full_sync_without_refetching(mock_router: respx.MockRouter,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    fake = fake_gmail.FakeGmail(mock_router)
    state = MemorySyncState()
    box = _box(state)
    await box.fetch_new()
    fake.deliver(make_email(message_id="<a@c.example>"))
    fake.deliver(make_email(message_id="<b@c.example>"))
    fake.deliver(make_email(message_id="<c@c.example>"))  # history comes in pages of two
    assert len(await _ingest(box, state)) == 3
    fake.expire_history()
    fake.deliver(make_email(message_id="<d@c.example>"))
    with caplog.at_level(logging.WARNING):
        items = await _ingest(box, state)
    assert [parse_email(raw=i.raw).message_id for i in items] == ["<d@c.example>"]
    assert fake.calls.count("gmail.users.messages.get") == 4  # the three known ones were not fetched again
    assert "full sync" in caplog.text
    assert fake.violations == []


async def test_watch_is_created_and_renewed_daily(mock_router: respx.MockRouter) -> None:
    fake = fake_gmail.FakeGmail(mock_router)
    now = {"t": datetime(2026, 11, 23, 9, 0, tzinfo=UTC)}
    box = _box(MemorySyncState(), topic="projects/nordkyst/topics/gmail-ops", clock=lambda: now["t"])
    [watch] = await box.ensure_watch()
    assert fake.watch_calls == [{"topicName": "projects/nordkyst/topics/gmail-ops", "labelIds": ["INBOX", "SENT"],
                                 "labelFilterBehavior": "include"}]
    assert watch.expires_at == datetime.fromtimestamp(1796065200, tz=UTC)
    now["t"] += timedelta(hours=23)
    await box.ensure_watch()
    assert len(fake.watch_calls) == 1
    now["t"] += timedelta(hours=2)
    await box.ensure_watch()
    assert len(fake.watch_calls) == 2
    assert fake.violations == []


async def test_service_account_uses_domain_wide_delegation(mock_router: respx.MockRouter) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    key_json = json.dumps({"type": "service_account", "client_email": "shipdraft@proj.iam.gserviceaccount.com",
                           "private_key": pem, "token_uri": fake_gmail.TOKEN_URL})
    fake = fake_gmail.FakeGmail(mock_router)
    creds = GoogleServiceAccount(key_json=SecretStr(key_json), subject="ops@x.example")
    box = GmailMailbox(name="ops", address="ops@x.example", token=creds, state=MemorySyncState())
    await box.fetch_new()
    form = parse_qs(mock_router.calls[0].request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], key.public_key(), algorithms=["RS256"], audience=fake_gmail.TOKEN_URL)
    assert claims["sub"] == "ops@x.example" and claims["iss"] == "shipdraft@proj.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/gmail.modify"
    assert "PRIVATE KEY" not in repr(creds) and fake.violations == []


def test_config_needs_named_secrets(tmp_path: object) -> None:
    with pytest.raises(MailConfigError, match="service_account_key"):
        GmailMailbox.from_config(name="ops", config={"type": "gmail"}, address="ops@x.example", display_name="",
                                 base_dir=tmp_path, environ={})
    box = GmailMailbox.from_config(name="ops", config={"type": "gmail", "auth": "oauth", "client_id": "c",
                                                       "client_secret": "env:GS", "refresh_token": "env:GR"},
                                   address="ops@x.example", display_name="", base_dir=tmp_path,
                                   environ={"GS": "s", "GR": "r"})
    assert box.user == "ops@x.example"



class _Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def test_403_user_rate_limit_is_retried_with_backoff_not_taken_as_forbidden(
        mock_router: respx.MockRouter) -> None:
    fake = fake_gmail.FakeGmail(mock_router)
    sleeps = _Sleeps()
    box = _box(MemorySyncState(), sleep=sleeps)
    fake.throttle_next = 2
    await box.fetch_new()  # profile: two 403 userRateLimitExceeded, then 200
    assert sleeps.calls == [0.5, 1.0] and box.http.calls == 3
    fake.throttle_next = 100
    with pytest.raises(MailRateLimitedError) as info:
        await box.fetch_new()
    assert info.value.retryable
    assert fake.violations == []


async def test_a_real_403_is_an_auth_error(mock_router: respx.MockRouter) -> None:
    fake = fake_gmail.FakeGmail(mock_router)
    fake.fail_next.append(fake_gmail.google_error(
        403, "insufficientPermissions", "Request had insufficient authentication scopes.", "PERMISSION_DENIED"))
    sleeps = _Sleeps()
    box = _box(MemorySyncState(), sleep=sleeps)
    with pytest.raises(MailAuthError):
        await box.fetch_new()
    assert sleeps.calls == [] and box.http.calls == 1  # not retried
