"""Gmail API mailbox provider: Google Workspace shared mailboxes (or one Gmail account).

Auth: a service account with domain-wide delegation (``sub`` = the mailbox) or
OAuth with a refresh token for a single mailbox (``connectors.mail.oauth``).

- Inbound and sent mail: ``history.list`` from the stored ``historyId``
  (``messageAdded``, label INBOX resp. SENT); a stale id (404) falls back to a
  full sync (``messages.list`` since the mailbox's baseline), skipping what the
  store already has. The first start only records the current ``historyId``:
  mail that was there before is history, not new work.
- Draft: ``drafts.create`` with the RFC 822 draft (``In-Reply-To``,
  ``References`` and the reply subject) and the inbound ``threadId`` so it
  threads for every recipient; then the "AI draft" and intent labels with
  ``messages.modify``. The draft resource id is remembered: it survives the
  agent's edits, unlike the draft's message id. "Posting draft X" is written
  to the sync state before ``drafts.create``, so a draft never attempted
  costs no lookup, and a crash in between is repaired by a search on the
  draft's Message-ID. A draft seen present is trusted for ``presence_ttl``.
- Internal note: ``messages.insert`` into the thread with the "AI note" label,
  no recipient headers and no INBOX label: inserted, never sent, shown in the
  customer's conversation, and a message (not a draft) that no client offers
  to send.
- Push: ``users.watch`` on a Pub/Sub topic, renewed daily by ``ensure_watch``;
  the webhook (``api.webhooks``) verifies Pub/Sub's OIDC token and records the
  notification; the next pass reads the history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from agent.models import Draft, Email, Note
from connectors.mail.base import (
    MailConfigError,
    MailItem,
    MailNotFoundError,
    MemorySyncState,
    PushEvent,
    SyncState,
    WatchInfo,
)
from connectors.mail.compose import b64url, draft_message, from_b64url, header_value, note_message
from connectors.mail.http import ProviderHttp
from connectors.mail.labels import DRAFT_LABEL, NOTE_LABEL, intent_labels
from connectors.mail.oauth import GoogleRefreshToken, GoogleServiceAccount, resolve_secret
from connectors.mail.rounds import BoundedMap, ChangeSignal, PendingRound, SentCursor

log = logging.getLogger(__name__)
GMAIL_URL = "https://gmail.googleapis.com/gmail/v1"
# 403 reasons that mean "slow down", not "forbidden" (Gmail API guide "Resolve errors": retry with backoff)
_THROTTLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


def gmail_throttled(response: httpx.Response) -> bool:
    """Whether a 403 answer is Gmail's per-user or per-project rate limit rather than a refusal."""
    if response.status_code != 403:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    err = body.get("error") if isinstance(body, dict) else None
    errors = err.get("errors") if isinstance(err, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("reason") in _THROTTLE_REASONS for e in errors)


class TokenProvider(Protocol):
    async def __call__(self) -> str: ...

    def invalidate(self) -> None: ...


class GmailSettings(BaseModel):
    """The ``provider`` block of a Gmail mailbox (secrets only as ``env:NAME``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = "gmail"
    auth: Literal["service_account", "oauth"] = "service_account"
    user: str | None = None
    service_account_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    topic: str | None = None
    push_audience: str | None = None  # read by the webhook wiring (api.webhooks.GmailHook)
    push_service_account: str | None = None
    watch_renew_hours: float = 24.0
    draft_label: str = DRAFT_LABEL
    note_label: str = NOTE_LABEL
    base_url: str = GMAIL_URL
    page_size: int = 100


class GmailMailbox:
    """One Gmail / Google Workspace mailbox through the Gmail API."""

    def __init__(
        self,
        *,
        name: str,
        address: str,
        display_name: str = "",
        token: TokenProvider,
        user: str | None = None,
        state: SyncState | None = None,
        topic: str | None = None,
        watch_renew: timedelta = timedelta(hours=24),
        draft_label: str = DRAFT_LABEL,
        note_label: str = NOTE_LABEL,
        base_url: str = GMAIL_URL,
        page_size: int = 100,
        presence_ttl: float = 60.0,
        client: httpx.AsyncClient | None = None,
        sleep: Any = asyncio.sleep,
        clock: Any = None,
    ) -> None:
        self.name = name
        self.address = address
        self.display_name = display_name or name
        self.user = user or address
        self.state: SyncState = state or MemorySyncState()
        self.topic = topic
        self.watch_renew = watch_renew
        self.draft_label, self.note_label = draft_label, note_label
        self.base = f"{base_url.rstrip('/')}/users/{self.user}"
        self.page_size = page_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self.http = ProviderHttp(token=token, invalidate_token=token.invalidate, max_concurrency=4,
                                 throttled=gmail_throttled, client=client, sleep=sleep)
        self._inbox = PendingRound(state=self.state, cursor_key="gmail:history:inbox")
        self._sent = SentCursor(state=self.state, cursor_key="gmail:history:sent")
        self._threads = BoundedMap()  # inbound Message-ID -> threadId
        self._labels: dict[str, str] | None = None  # label name -> id
        self._present: dict[str, tuple[str, float]] = {}  # draft id -> (location, until): found present lately
        self.presence_ttl = presence_ttl
        self.signal = ChangeSignal()

    def __repr__(self) -> str:
        return f"GmailMailbox(name={self.name!r}, user={self.user!r})"

    @classmethod
    def from_config(cls, *, name: str, config: Mapping[str, Any], address: str, display_name: str,
                    base_dir: Path, state: SyncState | None = None,
                    environ: Mapping[str, str] | None = None) -> GmailMailbox:
        try:
            cfg = GmailSettings.model_validate(dict(config))
        except ValueError as exc:
            raise MailConfigError(f"mailbox {name}: provider (gmail): {exc}") from exc
        user = cfg.user or address
        token: TokenProvider
        if cfg.auth == "service_account":
            token = GoogleServiceAccount(key_json=resolve_secret(cfg.service_account_key,
                                                                 setting="provider.service_account_key",
                                                                 environ=environ), subject=user)
        else:
            if not cfg.client_id:
                raise MailConfigError(f"mailbox {name}: provider.client_id is required with auth: oauth")
            token = GoogleRefreshToken(
                client_id=cfg.client_id,
                client_secret=resolve_secret(cfg.client_secret, setting="provider.client_secret", environ=environ),
                refresh_token=resolve_secret(cfg.refresh_token, setting="provider.refresh_token", environ=environ))
        return cls(name=name, address=address, display_name=display_name, token=token, user=user, state=state,
                   topic=cfg.topic, watch_renew=timedelta(hours=cfg.watch_renew_hours),
                   draft_label=cfg.draft_label, note_label=cfg.note_label, base_url=cfg.base_url,
                   page_size=cfg.page_size)

    # ------------------------------------------------------------------ inbound

    async def fetch_new(self) -> list[MailItem]:
        if self._inbox.open:
            return self._inbox.items()
        cursor = await self._inbox.cursor()
        if cursor is None:  # first start: remember where the mailbox is, take nothing old
            await self._baseline()
            return await self._inbox.start(items=[], cursor=await self._profile_history_id())
        entries, new_cursor = await self._history_or_full_sync(start=cursor, label="INBOX")
        note = (await self._label_ids([self.note_label], create=False)).get(self.note_label)
        entries = [e for e in entries if "DRAFT" not in e.get("labelIds", ()) and note not in e.get("labelIds", ())]
        known = await self.state.known_keys(keys=[e["id"] for e in entries])
        items = []
        for e in entries:
            if e["id"] in known:
                continue
            raw = await self._raw(e["id"], thread_id=e.get("threadId"))
            items.append(MailItem(provider_key=e["id"], raw=raw))
        return await self._inbox.start(items=items, cursor=new_cursor)

    async def acknowledge(self, *, provider_key: str) -> None:
        await self._inbox.acknowledge(provider_key=provider_key)

    async def _baseline(self) -> datetime:
        saved = await self.state.get(key="gmail:since")
        if saved:
            return datetime.fromisoformat(saved)
        now = self._clock()
        await self.state.put(key="gmail:since", value=now.isoformat())
        return now

    async def _profile_history_id(self) -> str:
        return str((await self.http.request("GET", f"{self.base}/profile")).json()["historyId"])

    async def _history_or_full_sync(self, *, start: str, label: str) -> tuple[list[dict[str, Any]], str]:
        try:
            return await self._history(start=start, label=label)
        except MailNotFoundError:
            log.warning("history id too old; full sync", extra={"mailbox": self.name, "label": label})
        cursor = await self._profile_history_id()  # first, so nothing between the two calls is missed
        since = int((await self._baseline()).timestamp())
        entries = await self._list(q=f"after:{since}", label_ids=[label], limit=None)
        return entries, cursor

    async def _history(self, *, start: str, label: str) -> tuple[list[dict[str, Any]], str]:
        params: dict[str, Any] = {"startHistoryId": start, "historyTypes": "messageAdded", "labelId": label,
                                  "maxResults": 500}
        entries: dict[str, dict[str, Any]] = {}
        while True:
            body = (await self.http.request("GET", f"{self.base}/history", params=params)).json()
            for record in body.get("history", []):
                for added in record.get("messagesAdded", []):
                    message = added.get("message", {})
                    if label in message.get("labelIds", [label]) and "id" in message:
                        entries.setdefault(message["id"], message)
            if body.get("nextPageToken"):
                params = {**params, "pageToken": body["nextPageToken"]}
                continue
            return list(entries.values()), str(body.get("historyId", start))

    async def _list(self, *, q: str, label_ids: list[str] | None = None, limit: int | None = 500,
                    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"q": q, "maxResults": self.page_size}
        if label_ids:
            params["labelIds"] = label_ids
        out: list[dict[str, Any]] = []
        while True:
            body = (await self.http.request("GET", f"{self.base}/messages", params=params)).json()
            out.extend(body.get("messages", []))
            if not body.get("nextPageToken") or (limit is not None and len(out) >= limit):
                return out if limit is None else out[:limit]
            params = {**params, "pageToken": body["nextPageToken"]}

    async def _raw(self, message_id: str, *, thread_id: str | None = None) -> bytes:
        body = (await self.http.request("GET", f"{self.base}/messages/{message_id}", params={"format": "raw"})).json()
        raw = from_b64url(body["raw"])
        mid = header_value(raw, "Message-ID")
        if mid:
            self._threads[mid] = str(body.get("threadId") or thread_id or "")
        return raw

    # ------------------------------------------------------------------ labels

    async def _label_ids(self, names: list[str], *, create: bool = True) -> dict[str, str]:
        if self._labels is None:
            body = (await self.http.request("GET", f"{self.base}/labels")).json()
            self._labels = {lb["name"]: lb["id"] for lb in body.get("labels", [])}
        for name in names:
            if name not in self._labels and create:
                made = (await self.http.request("POST", f"{self.base}/labels", json={
                    "name": name, "labelListVisibility": "labelShow", "messageListVisibility": "show"})).json()
                self._labels[name] = made["id"]
        return {n: self._labels[n] for n in names if n in self._labels}

    # ------------------------------------------------------------------ drafts and notes

    async def _thread_of(self, inbound: Email) -> str:
        if self._threads.get(inbound.message_id):
            return self._threads[inbound.message_id]
        found = await self._list(q=f"rfc822msgid:{inbound.message_id.strip('<>')}", limit=1)
        if not found:
            raise MailNotFoundError(f"inbound message {inbound.message_id} is not in the mailbox")
        self._threads[inbound.message_id] = found[0]["threadId"]
        return str(found[0]["threadId"])

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        """Our draft if it is still a draft; no request at all when we never tried to post it.

        ``in_reply_to`` is ignored: Gmail keeps the draft id when the agent edits the draft.
        """
        present = self._present.get(draft_id)
        if present and present[1] > time.monotonic():
            return present[0]
        saved = await self.state.get(key=f"gmail:draft:{draft_id}")
        if saved:
            try:
                await self.http.request("GET", f"{self.base}/drafts/{saved}", params={"format": "minimal"})
            except MailNotFoundError:
                return None  # sent or discarded: no longer a draft
            self._present[draft_id] = (saved, time.monotonic() + self.presence_ttl)
            return saved
        if not await self.state.get(key=f"gmail:posting:draft:{draft_id}"):
            return None
        # a crash between drafts.create and recording its id: find it by its Message-ID
        body = (await self.http.request("GET", f"{self.base}/drafts", params={
            "q": f"rfc822msgid:draft-{draft_id}@shipdraft", "maxResults": 10})).json()
        drafts = body.get("drafts", [])
        if not drafts:
            return None
        await self.state.put(key=f"gmail:draft:{draft_id}", value=str(drafts[0]["id"]))
        return str(drafts[0]["id"])

    async def find_note(self, *, draft_id: str) -> str | None:
        if not await self.state.get(key=f"gmail:posting:note:{draft_id}"):
            return None
        hits = await self._list(q=f"rfc822msgid:note-{draft_id}@shipdraft", limit=1)
        return str(hits[0]["id"]) if hits else None

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str:
        thread = await self._thread_of(inbound)
        raw = draft_message(inbound=inbound, draft=draft, mailbox_address=self.address,
                            mailbox_name=self.display_name)
        await self.state.put(key=f"gmail:posting:draft:{draft.draft_id}", value="1")
        created = (await self.http.request("POST", f"{self.base}/drafts", json={
            "message": {"raw": b64url(raw), "threadId": thread}})).json()
        await self.state.put(key=f"gmail:draft:{draft.draft_id}", value=str(created["id"]))
        names = [self.draft_label, *intent_labels(email=inbound)]
        labels = await self._label_ids(names)
        await self.http.request("POST", f"{self.base}/messages/{created['message']['id']}/modify",
                                json={"addLabelIds": [labels[n] for n in names]})
        return str(created["id"])

    async def post_note(self, *, inbound: Email, note: Note) -> str:
        thread = await self._thread_of(inbound)
        raw = note_message(inbound=inbound, note=note, mailbox_address=self.address,
                           mailbox_name=self.display_name)
        label = (await self._label_ids([self.note_label]))[self.note_label]
        await self.state.put(key=f"gmail:posting:note:{note.draft_id}", value="1")
        inserted = (await self.http.request("POST", f"{self.base}/messages",
                                            params={"internalDateSource": "dateHeader"},
                                            json={"raw": b64url(raw), "threadId": thread,
                                                  "labelIds": [label]})).json()
        return str(inserted["id"])

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> MailItem | None:
        """The draft as it is now; ``in_reply_to`` is not needed: the draft id survives edits."""
        location = await self.find_draft(draft_id=draft_id)
        if location is None:
            return None
        body = (await self.http.request("GET", f"{self.base}/drafts/{location}", params={"format": "raw"})).json()
        return MailItem(provider_key=location, raw=from_b64url(body["message"]["raw"]))

    async def delete_draft(self, *, draft_id: str) -> bool:
        location = await self.find_draft(draft_id=draft_id)
        self._present.pop(draft_id, None)
        if location is None:
            return False
        await self.http.request("DELETE", f"{self.base}/drafts/{location}")
        return True

    # ------------------------------------------------------------------ sent and history

    async def fetch_sent(self) -> list[MailItem]:
        cursor = await self._sent.current()
        if cursor is None:
            self._sent.advance(await self._profile_history_id())
            return []
        entries, new_cursor = await self._history_or_full_sync(start=cursor, label="SENT")
        items = [MailItem(provider_key=e["id"], raw=await self._raw(e["id"]))
                 for e in entries if "DRAFT" not in e.get("labelIds", ())]
        self._sent.advance(new_cursor)
        return items

    async def list_history(self, *, since: datetime, limit: int = 500) -> list[MailItem]:
        hits = await self._list(q=f"after:{int(since.timestamp())} -in:drafts -label:{_query_label(self.note_label)}",
                                limit=limit)
        return [MailItem(provider_key=h["id"], raw=await self._raw(h["id"])) for h in hits]

    async def wait_for_changes(self, *, timeout: float) -> bool:
        return await self.signal.wait(timeout=timeout)

    # ------------------------------------------------------------------ push

    async def ensure_watch(self) -> list[WatchInfo]:
        """``users.watch`` on the topic; renewed when older than ``watch_renew`` (daily) or close to expiry."""
        if not self.topic:
            return []
        saved = await self.state.get(key="gmail:watch")
        now = self._clock()
        if saved:
            watch = json.loads(saved)
            expires = datetime.fromisoformat(watch["expires_at"])
            if now - datetime.fromisoformat(watch["renewed_at"]) < self.watch_renew and expires - now > timedelta(
                    hours=1):
                return [WatchInfo(resource=self.topic, subscription_id=self.user, expires_at=expires)]
        body = (await self.http.request("POST", f"{self.base}/watch", json={
            "topicName": self.topic, "labelIds": ["INBOX", "SENT"], "labelFilterBehavior": "include"})).json()
        expires = datetime.fromtimestamp(int(body["expiration"]) / 1000, tz=UTC)
        await self.state.put(key="gmail:watch", value=json.dumps({
            "history_id": str(body["historyId"]), "expires_at": expires.isoformat(), "renewed_at": now.isoformat()}))
        return [WatchInfo(resource=self.topic, subscription_id=self.user, expires_at=expires)]

    async def handle_push(self, *, event: PushEvent) -> None:
        self.signal.notify()  # every Gmail notification means "read the history now"

    async def aclose(self) -> None:
        await self.http.aclose()


def _query_label(name: str) -> str:
    """A label name as Gmail search writes it (spaces and slashes become dashes)."""
    return name.lower().replace(" ", "-").replace("/", "-")
