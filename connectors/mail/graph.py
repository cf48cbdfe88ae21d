"""Microsoft Graph mailbox provider: Outlook / Exchange Online shared mailboxes.

Auth is app-only (client credentials, secret or certificate) against
``/users/{mailbox}``; every request sends ``Prefer: IdType="ImmutableId"`` so a
draft keeps its id when the agent sends it and the copy in Sent Items can be
recognised by that id.

- Inbound and sent mail: delta queries on Inbox and Sent Items from the
  stored ``@odata.deltaLink`` (a webhook only says "sync now"; without webhooks
  the same delta query is the polling fallback). An expired token (410 or
  ``syncStateNotFound``/``resyncRequired``) falls back to a full resync from the
  mailbox's baseline; messages the store already has are not fetched again.
  The raw MIME comes from ``/messages/{id}/$value``.
- Finding our draft again: the provider writes "posting draft X" into its
  sync state before the ``createReply``, so a message it never tried to post
  costs no request; after a crash it finds the draft by its extended property
  (outside Deleted Items). A draft seen present is trusted for
  ``presence_ttl`` seconds, so the discard check does not poll every pass.
- Draft: one ``createReply`` (or ``createReplyAll``, mailbox setting) whose
  ``message`` carries the HTML body, the categories ("AI draft", intents) and
  two single-value extended properties: the draft id and its kind.
- Internal note: a message created in the Inbox that is *not a draft*
  (``PR_MESSAGE_FLAGS`` = read, without the unsent bit), with no recipient at
  all, the "AI note" category, the ``X-Shipdraft-Note-For`` header and the
  parent's conversation index extended by one child block, so Outlook shows it
  in the customer's conversation. Having no recipients and not being a draft,
  Outlook offers no Send button for it.
- Change notifications: ``ensure_watch`` creates subscriptions on Inbox and
  Sent Items (with ``clientState`` and a lifecycle URL) and renews them before
  expiry; ``handle_push`` reacts to lifecycle events.
- Throttling: at most 4 concurrent requests per mailbox; 429 honours
  ``Retry-After`` (see ``connectors.mail.http``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from agent.models import Draft, Email, Note
from connectors.mail.base import (
    MailConfigError,
    MailError,
    MailItem,
    MailNotFoundError,
    MemorySyncState,
    PushEvent,
    PushKind,
    SyncExpiredError,
    SyncState,
    WatchInfo,
)
from connectors.mail.compose import DRAFT_HEADER, NOTE_HEADER, header_value, html_body, with_header
from connectors.mail.http import ProviderHttp, error_code
from connectors.mail.labels import DRAFT_LABEL, NOTE_LABEL, intent_labels
from connectors.mail.oauth import MicrosoftClientCredentials, resolve_secret
from connectors.mail.rounds import BoundedMap, ChangeSignal, PendingRound, SentCursor

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
_GUID = "{5b0f6a55-2d0c-4a53-9a27-64a2f0c4d7e1}"
PROP_DRAFT_ID = f"String {_GUID} Name ShipdraftDraftId"
PROP_KIND = f"String {_GUID} Name ShipdraftKind"
MESSAGE_FLAGS = "Integer 0x0E07"  # PR_MESSAGE_FLAGS: 1 = read; without 8 (unsent) the item is not a draft
CONVERSATION_INDEX = "Binary 0x0071"  # PR_CONVERSATION_INDEX
CONVERSATION_TOPIC = "String 0x0070"  # PR_CONVERSATION_TOPIC
IMMUTABLE = 'IdType="ImmutableId"'
_SELECT = "id,internetMessageId,conversationId,conversationIndex,categories,isDraft,receivedDateTime"
_EXPIRED_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}


class TokenProvider(Protocol):
    async def __call__(self) -> str: ...

    def invalidate(self) -> None: ...


class GraphSettings(BaseModel):
    """The ``provider`` block of a Graph mailbox (secrets only as ``env:NAME``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = "graph"
    tenant_id: str
    client_id: str
    client_secret: str | None = None
    certificate_key: str | None = None
    certificate_thumbprint: str | None = None
    mailbox: str | None = None
    reply_all: bool = False
    notification_url: str | None = None
    lifecycle_url: str | None = None
    client_state: str | None = None
    subscription_minutes: int = 4200
    renew_before_minutes: int = 720
    draft_category: str = DRAFT_LABEL
    note_category: str = NOTE_LABEL
    base_url: str = GRAPH_URL
    authority: str = "https://login.microsoftonline.com"
    page_size: int = 50


def _graph_error(response: httpx.Response) -> MailError | None:
    if response.status_code == 410 or error_code(response).lower() in _EXPIRED_CODES:
        return SyncExpiredError(f"delta token expired: {response.status_code} {error_code(response)}")
    return None


def _odata(value: str) -> str:
    return value.replace("'", "''")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def child_conversation_index(parent: bytes, *, now: datetime) -> bytes | None:
    """The parent's PR_CONVERSATION_INDEX plus one 5-byte child block (MS-OXOMSG 2.2.1.3); None if unusable."""
    if len(parent) < 22:
        return None
    header_time = int.from_bytes(parent[1:6] + b"\x00\x00\x00", "big")  # FILETIME without its low 24 bits
    now_ft = int((now.timestamp() + 11_644_473_600) * 10_000_000)
    delta = max(0, now_ft - header_time)
    block = (delta >> 18) & 0x7FFFFFFF if delta < (1 << 49) else (1 << 31) | ((delta >> 23) & 0x7FFFFFFF)
    tail = secrets.randbits(4) << 4
    return parent + block.to_bytes(4, "big") + bytes([tail])


class GraphMailbox:
    """One Exchange Online (shared) mailbox through Microsoft Graph."""

    def __init__(
        self,
        *,
        name: str,
        address: str,
        display_name: str = "",
        token: TokenProvider,
        user: str | None = None,
        state: SyncState | None = None,
        reply_all: bool = False,
        notification_url: str | None = None,
        lifecycle_url: str | None = None,
        client_state: SecretStr | None = None,
        subscription_minutes: int = 4200,
        renew_before: timedelta = timedelta(hours=12),
        draft_category: str = DRAFT_LABEL,
        note_category: str = NOTE_LABEL,
        base_url: str = GRAPH_URL,
        page_size: int = 50,
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
        self.reply_all = reply_all
        self.notification_url, self.lifecycle_url = notification_url, lifecycle_url
        self._client_state = client_state
        self.subscription_minutes = subscription_minutes
        self.renew_before = renew_before
        self.draft_category, self.note_category = draft_category, note_category
        self.base = f"{base_url.rstrip('/')}/users/{self.user}"
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self._clock = clock or (lambda: datetime.now(UTC))
        self.http = ProviderHttp(token=token, invalidate_token=token.invalidate, headers={"Prefer": IMMUTABLE},
                                 max_concurrency=4, classify=_graph_error, client=client, sleep=sleep)
        self._inbox = PendingRound(state=self.state, cursor_key="graph:delta:inbox")
        self._sent = SentCursor(state=self.state, cursor_key="graph:delta:sentitems")
        self._ids = BoundedMap()  # internetMessageId -> Graph id of inbound messages
        self._conversation = BoundedMap()  # Graph id -> conversationIndex (base64)
        self._found: dict[str, dict[str, str]] = {}  # draft id -> {"note": id} found with the draft lookup
        self._seen_sent: set[str] = set()
        self._deleted_folder: str | None = None
        self._present: dict[str, tuple[str, float]] = {}  # draft id -> (location, until): found present lately
        self.presence_ttl = presence_ttl
        self.signal = ChangeSignal()

    def __repr__(self) -> str:
        return f"GraphMailbox(name={self.name!r}, user={self.user!r})"

    @classmethod
    def from_config(cls, *, name: str, config: Mapping[str, Any], address: str, display_name: str,
                    base_dir: Path, state: SyncState | None = None,
                    environ: Mapping[str, str] | None = None) -> GraphMailbox:
        """From the mailbox YAML's ``provider`` block; secrets are read from the named variables."""
        try:
            cfg = GraphSettings.model_validate(dict(config))
        except ValueError as exc:
            raise MailConfigError(f"mailbox {name}: provider (graph): {exc}") from exc
        token = MicrosoftClientCredentials(
            tenant_id=cfg.tenant_id, client_id=cfg.client_id, authority=cfg.authority,
            client_secret=resolve_secret(cfg.client_secret, setting="provider.client_secret", environ=environ)
            if cfg.client_secret else None,
            certificate_key=resolve_secret(cfg.certificate_key, setting="provider.certificate_key",
                                           environ=environ) if cfg.certificate_key else None,
            certificate_thumbprint=cfg.certificate_thumbprint)
        if cfg.notification_url and not cfg.client_state:
            raise MailConfigError(f"mailbox {name}: provider.client_state (env:NAME) is required with "
                                  "notification_url")
        client_state = resolve_secret(cfg.client_state, setting="provider.client_state", environ=environ) \
            if cfg.client_state else None
        return cls(name=name, address=address, display_name=display_name, token=token, user=cfg.mailbox,
                   state=state, reply_all=cfg.reply_all, notification_url=cfg.notification_url,
                   lifecycle_url=cfg.lifecycle_url or cfg.notification_url, client_state=client_state,
                   subscription_minutes=cfg.subscription_minutes,
                   renew_before=timedelta(minutes=cfg.renew_before_minutes), draft_category=cfg.draft_category,
                   note_category=cfg.note_category, base_url=cfg.base_url, page_size=cfg.page_size)

    # ------------------------------------------------------------------ inbound

    async def fetch_new(self) -> list[MailItem]:
        if self._inbox.open:
            return self._inbox.items()
        entries, cursor = await self._delta_or_resync(folder="inbox", link=await self._inbox.cursor())
        entries = [e for e in entries if not e.get("isDraft") and self.note_category not in e.get("categories", ())]
        for e in entries:
            if e.get("internetMessageId"):
                self._ids[e["internetMessageId"]] = e["id"]
            if e.get("conversationIndex"):
                self._conversation[e["id"]] = e["conversationIndex"]
        known = await self.state.known_keys(keys=[e["id"] for e in entries])
        items = [MailItem(provider_key=e["id"], raw=await self._raw(e["id"])) for e in entries if e["id"] not in known]
        return await self._inbox.start(items=items, cursor=cursor)

    async def acknowledge(self, *, provider_key: str) -> None:
        await self._inbox.acknowledge(provider_key=provider_key)

    async def _baseline(self) -> datetime:
        saved = await self.state.get(key="graph:since")
        if saved:
            return datetime.fromisoformat(saved)
        now = self._clock()
        await self.state.put(key="graph:since", value=now.isoformat())
        return now

    async def _delta_or_resync(self, *, folder: str, link: str | None) -> tuple[list[dict[str, Any]], str | None]:
        if link is not None:
            try:
                return await self._delta(folder=folder, link=link)
            except SyncExpiredError:
                log.warning("delta token expired; full resync", extra={"mailbox": self.name, "folder": folder})
        return await self._delta(folder=folder, link=None)

    async def _delta(self, *, folder: str, link: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """One delta round (all pages): changed messages (removals dropped) and the new deltaLink."""
        url = link or f"{self.base}/mailFolders/{folder}/messages/delta"
        params: dict[str, str] | None = None
        if link is None:
            params = {"$select": _SELECT, "$filter": f"receivedDateTime ge {_iso(await self._baseline())}"}
        entries: list[dict[str, Any]] = []
        prefer = {"Prefer": f"{IMMUTABLE}, odata.maxpagesize={self.page_size}"}
        while True:
            body = (await self.http.request("GET", url, params=params, headers=prefer)).json()
            entries.extend(m for m in body.get("value", []) if "@removed" not in m and "id" in m)
            if body.get("@odata.nextLink"):
                url, params = body["@odata.nextLink"], None
                continue
            return entries, body.get("@odata.deltaLink")

    async def _raw(self, graph_id: str) -> bytes:
        return (await self.http.request("GET", f"{self.base}/messages/{graph_id}/$value")).content

    # ------------------------------------------------------------------ drafts and notes

    async def _own(self, draft_id: str) -> dict[str, dict[str, Any]]:
        """Our draft and note for this draft id (not in Deleted Items), by kind, in one request."""
        flt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{PROP_DRAFT_ID}' and ep/value eq '{_odata(draft_id)}')"
        body = (await self.http.request("GET", f"{self.base}/messages", params={
            "$filter": flt, "$select": "id,isDraft,parentFolderId,categories,lastModifiedDateTime",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{PROP_KIND}')"})).json()
        found: dict[str, dict[str, Any]] = {}
        candidates = body.get("value", [])
        if candidates:
            deleted = await self._deleted_items_id()
            for m in candidates:
                if m.get("parentFolderId") == deleted:
                    continue
                kinds = [p.get("value") for p in m.get("singleValueExtendedProperties", [])]
                kind = kinds[0] if kinds else ("draft" if m.get("isDraft") else "note")
                if kind == "draft" and not m.get("isDraft"):
                    continue  # the sent copy: no longer a draft
                found.setdefault(kind, m)
        return found

    async def _deleted_items_id(self) -> str:
        if self._deleted_folder is None:
            body = (await self.http.request("GET", f"{self.base}/mailFolders/deleteditems",
                                            params={"$select": "id"})).json()
            self._deleted_folder = str(body["id"])
        return self._deleted_folder

    async def _attempted(self, kind: str, draft_id: str) -> bool:
        """Whether this mailbox ever started posting this draft or note (written before the POST)."""
        return bool(await self.state.get(key=f"graph:posting:{kind}:{draft_id}"))

    async def find_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> str | None:
        """Our draft, if it is still a draft; no request at all when we never tried to post it.

        ``in_reply_to`` is ignored: the extended property survives edits in every client.
        """
        present = self._present.get(draft_id)
        if present and present[1] > time.monotonic():
            return present[0]
        if not await self._attempted("draft", draft_id) and not await self._attempted("note", draft_id):
            self._found[draft_id] = {}
            return None
        found = await self._own(draft_id)
        self._found[draft_id] = {k: v["id"] for k, v in found.items()}
        if "draft" not in found:
            return None
        self._present[draft_id] = (found["draft"]["id"], time.monotonic() + self.presence_ttl)
        return str(found["draft"]["id"])

    async def find_note(self, *, draft_id: str) -> str | None:
        cached = self._found.pop(draft_id, None)
        if cached is not None:  # looked up together with the draft a moment ago
            return cached.get("note")
        if not await self._attempted("note", draft_id):
            return None
        found = await self._own(draft_id)
        return found["note"]["id"] if "note" in found else None

    async def _inbound_id(self, inbound: Email) -> str:
        known = self._ids.get(inbound.message_id) or await self.state.provider_key_for(message_id=inbound.message_id)
        if known:
            return known
        body = (await self.http.request("GET", f"{self.base}/messages", params={
            "$filter": f"internetMessageId eq '{_odata(inbound.message_id)}'",
            "$select": "id,conversationIndex"})).json()
        if not body.get("value"):
            raise MailNotFoundError(f"inbound message {inbound.message_id} is not in the mailbox")
        first = body["value"][0]
        if first.get("conversationIndex"):
            self._conversation[first["id"]] = first["conversationIndex"]
        self._ids[inbound.message_id] = first["id"]
        return str(first["id"])

    async def post_draft(self, *, inbound: Email, draft: Draft) -> str:
        parent = await self._inbound_id(inbound)
        action = "createReplyAll" if self.reply_all else "createReply"
        message = {
            "body": {"contentType": "html", "content": html_body(draft.body)},
            "categories": [self.draft_category, *intent_labels(email=inbound)],
            "singleValueExtendedProperties": [{"id": PROP_DRAFT_ID, "value": draft.draft_id},
                                              {"id": PROP_KIND, "value": "draft"}],
        }
        await self.state.put(key=f"graph:posting:draft:{draft.draft_id}", value="1")
        created = (await self.http.request("POST", f"{self.base}/messages/{parent}/{action}",
                                           json={"message": message})).json()
        await self.state.put(key=f"graph:draft:{created['id']}", value=draft.draft_id)
        return str(created["id"])

    async def post_note(self, *, inbound: Email, note: Note) -> str:
        parent = await self._inbound_id(inbound)
        props = [{"id": MESSAGE_FLAGS, "value": "1"}, {"id": PROP_DRAFT_ID, "value": note.draft_id},
                 {"id": PROP_KIND, "value": "note"}, {"id": CONVERSATION_TOPIC, "value": inbound.subject}]
        index = await self._conversation_index(parent)
        child = child_conversation_index(index, now=self._clock()) if index else None
        if child:
            props.append({"id": CONVERSATION_INDEX, "value": base64.b64encode(child).decode()})
        message = {
            "subject": note.subject,
            "body": {"contentType": "html", "content": html_body(note.body)},
            "from": {"emailAddress": {"name": f"{self.display_name} (shipdraft note)", "address": self.address}},
            "categories": [self.note_category],
            "internetMessageHeaders": [{"name": NOTE_HEADER, "value": note.draft_id}],
            "singleValueExtendedProperties": props,
        }
        await self.state.put(key=f"graph:posting:note:{note.draft_id}", value="1")
        created = (await self.http.request("POST", f"{self.base}/mailFolders/inbox/messages", json=message)).json()
        return str(created["id"])

    async def _conversation_index(self, graph_id: str) -> bytes | None:
        value = self._conversation.get(graph_id)
        if value is None:
            body = (await self.http.request("GET", f"{self.base}/messages/{graph_id}",
                                            params={"$select": "conversationIndex"})).json()
            value = body.get("conversationIndex")
        return base64.b64decode(value) if value else None

    async def fetch_draft(self, *, draft_id: str, in_reply_to: str | None = None) -> MailItem | None:
        """The draft as it is now; ``in_reply_to`` is not needed: the draft id survives edits."""
        found = await self._own(draft_id)
        if "draft" not in found:
            return None
        return MailItem(provider_key=found["draft"]["id"], raw=await self._raw(found["draft"]["id"]))

    async def delete_draft(self, *, draft_id: str) -> bool:
        found = await self._own(draft_id)
        self._present.pop(draft_id, None)
        if "draft" not in found:
            return False
        await self.http.request("DELETE", f"{self.base}/messages/{found['draft']['id']}")
        return True

    # ------------------------------------------------------------------ sent and history

    async def fetch_sent(self) -> list[MailItem]:
        entries, cursor = await self._delta_or_resync(folder="sentitems", link=await self._sent.current())
        items = []
        for e in entries:
            if e["id"] in self._seen_sent or e.get("isDraft"):
                continue
            raw = await self._raw(e["id"])
            draft_id = await self.state.get(key=f"graph:draft:{e['id']}")  # immutable id: same as the draft's
            if draft_id:
                self._present.pop(draft_id, None)
            if draft_id and not header_value(raw, DRAFT_HEADER):
                raw = with_header(raw, DRAFT_HEADER, draft_id)
            items.append(MailItem(provider_key=e["id"], raw=raw))
            self._seen_sent.add(e["id"])
        self._sent.advance(cursor)
        return items

    async def list_history(self, *, since: datetime, limit: int = 500) -> list[MailItem]:
        items: list[MailItem] = []
        for folder in ("inbox", "sentitems"):
            url: str | None = f"{self.base}/mailFolders/{folder}/messages"
            params: dict[str, str] | None = {"$filter": f"receivedDateTime ge {_iso(since)}",
                                             "$select": "id,categories", "$top": str(self.page_size),
                                             "$orderby": "receivedDateTime desc"}
            while url and len(items) < limit:
                body = (await self.http.request("GET", url, params=params)).json()
                for m in body.get("value", []):
                    if self.note_category in m.get("categories", ()) or len(items) >= limit:
                        continue
                    items.append(MailItem(provider_key=m["id"], raw=await self._raw(m["id"])))
                url, params = body.get("@odata.nextLink"), None
        return items

    async def wait_for_changes(self, *, timeout: float) -> bool:
        return await self.signal.wait(timeout=timeout)

    # ------------------------------------------------------------------ change notifications

    async def ensure_watch(self) -> list[WatchInfo]:
        """Subscriptions on Inbox and Sent Items: created when missing, renewed before expiry."""
        if not self.notification_url or self._client_state is None:
            return []
        out = []
        for folder in ("inbox", "sentitems"):
            out.append(await self._ensure_subscription(folder))
        return out

    async def _ensure_subscription(self, folder: str, *, force_renew: bool = False) -> WatchInfo:
        key = f"graph:subscription:{folder}"
        saved = await self.state.get(key=key)
        now = self._clock()
        expires = now + timedelta(minutes=self.subscription_minutes)
        if saved:
            sub = json.loads(saved)
            current = datetime.fromisoformat(sub["expires_at"])
            if not force_renew and current - now > self.renew_before:
                return WatchInfo(resource=sub["resource"], subscription_id=sub["id"], expires_at=current)
            try:
                body = (await self.http.request("PATCH", f"{self.base_url}/subscriptions/{sub['id']}",
                                                json={"expirationDateTime": _iso(expires)})).json()
                return await self._save_subscription(key, body, resource=sub["resource"])
            except MailNotFoundError:
                log.warning("subscription gone; creating a new one", extra={"mailbox": self.name})
        assert self._client_state is not None
        resource = f"/users/{self.user}/mailFolders('{folder}')/messages"
        body = (await self.http.request("POST", f"{self.base_url}/subscriptions", json={
            "changeType": "created", "notificationUrl": self.notification_url,
            "lifecycleNotificationUrl": self.lifecycle_url or self.notification_url, "resource": resource,
            "expirationDateTime": _iso(expires), "clientState": self._client_state.get_secret_value(),
            "latestSupportedTlsVersion": "v1_2"})).json()
        return await self._save_subscription(key, body, resource=resource)

    async def _save_subscription(self, key: str, body: Mapping[str, Any], *, resource: str) -> WatchInfo:
        expires = datetime.fromisoformat(str(body["expirationDateTime"]).replace("Z", "+00:00"))
        await self.state.put(key=key, value=json.dumps({"id": body["id"], "resource": resource,
                                                        "expires_at": expires.isoformat()}))
        return WatchInfo(resource=resource, subscription_id=str(body["id"]), expires_at=expires)

    async def handle_push(self, *, event: PushEvent) -> None:
        """Lifecycle: reauthorize (renew now), recreate a removed subscription, resync after missed ones."""
        if event.kind == PushKind.CHANGE or event.kind == PushKind.MISSED:
            self.signal.notify()  # the next pass runs the delta query, which catches up on anything missed
            return
        for folder in ("inbox", "sentitems"):
            saved = await self.state.get(key=f"graph:subscription:{folder}")
            if not saved or json.loads(saved)["id"] != event.subscription_id:
                continue
            if event.kind == PushKind.REMOVED:
                await self.state.put(key=f"graph:subscription:{folder}", value="")
                await self._ensure_subscription(folder)
            else:
                await self._ensure_subscription(folder, force_renew=True)
            self.signal.notify()

    async def aclose(self) -> None:
        await self.http.aclose()
