"""A small stateful stand-in for the Microsoft Graph mail API, served through respx.

It answers only what the provider uses, with the documented shapes: token
endpoint, delta pages (``@odata.nextLink`` / ``@odata.deltaLink``, ``@removed``),
``$value`` MIME, ``createReply`` (201, message with ``isDraft``,
``conversationId``...), message creation (a message created with
``PR_MESSAGE_FLAGS`` without the unsent bit is not a draft), extended property
filters, subscriptions, and the JSON error body
(``error.code``/``error.message``/``innerError``). Every request must carry a
bearer token and ``Prefer: IdType="ImmutableId"``; violations are collected.
"""

from __future__ import annotations

import base64
import email.policy
import email.utils
import itertools
import json
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx

from connectors.mail.graph import MESSAGE_FLAGS, PROP_KIND

USER = "ops@x.example"
TENANT = "11111111-2222-3333-4444-555555555555"
ROOT = "https://graph.microsoft.com/v1.0"
BASE = f"{ROOT}/users/{USER}"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
FOLDER_IDS = {"inbox": "AAMkAGI2-inbox=", "sentitems": "AAMkAGI2-sent=", "drafts": "AAMkAGI2-drafts=",
              "deleteditems": "AAMkAGI2-deleted="}


def graph_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, "innerError": {
        "date": "2026-11-23T09:00:00", "request-id": "a5d2c6b5-0f6f-4e3e-9f51-2c8f0e7e9d41",
        "client-request-id": "a5d2c6b5-0f6f-4e3e-9f51-2c8f0e7e9d41"}}})


@dataclass
class Msg:
    id: str
    folder: str
    raw: bytes | None = None
    subject: str = ""
    body: str = ""
    is_draft: bool = False
    categories: list[str] = field(default_factory=list)
    props: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    to: list[str] = field(default_factory=list)
    internet_message_id: str = ""
    conversation_id: str = "AAQkAGI2-conv="
    conversation_index: str = base64.b64encode(b"\x01" + b"\x01\xd9\x5b\x3c\x4a" + b"G" * 16).decode()
    in_reply_to: str = ""
    seq: int = 0
    received: str = "2026-11-23T09:00:00Z"
    created_json: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {"@odata.type": "#microsoft.graph.message", "@odata.etag": f'W/"CQAAABYAAAB{self.seq}"',
                "id": self.id, "createdDateTime": self.received, "lastModifiedDateTime": self.received,
                "changeKey": f"CQAAABYAAAB{self.seq}", "categories": self.categories,
                "receivedDateTime": self.received, "sentDateTime": self.received, "hasAttachments": False,
                "internetMessageId": self.internet_message_id, "subject": self.subject,
                "bodyPreview": self.body[:255], "importance": "normal", "parentFolderId": FOLDER_IDS[self.folder],
                "conversationId": self.conversation_id, "conversationIndex": self.conversation_index,
                "isDeliveryReceiptRequested": None, "isReadReceiptRequested": False, "isRead": True,
                "isDraft": self.is_draft, "webLink": f"https://outlook.office365.com/owa/?ItemID={self.id}",
                "inferenceClassification": "focused", "body": {"contentType": "html", "content": self.body},
                "toRecipients": [{"emailAddress": {"name": a, "address": a}} for a in self.to],
                "ccRecipients": [], "bccRecipients": [], "replyTo": [], "flag": {"flagStatus": "notFlagged"}}

    def mime(self) -> bytes:
        if self.raw is not None:
            return self.raw
        msg = EmailMessage(policy=email.policy.default)
        msg["From"] = USER
        if self.to:
            msg["To"] = ", ".join(self.to)
        msg["Subject"] = self.subject
        msg["Message-ID"] = self.internet_message_id
        msg["Date"] = email.utils.formatdate()
        if self.in_reply_to:
            msg["In-Reply-To"] = self.in_reply_to
            msg["References"] = self.in_reply_to
        for k, v in self.headers.items():
            msg[k] = v
        text = re.sub(r"<br>", "\n", re.sub(r"</p><p>", "\n\n", self.body))
        msg.set_content(re.sub(r"<[^>]+>", "", text) + "\n")
        return msg.as_bytes()


class FakeGraph:
    def __init__(self, router: respx.MockRouter, *, page_size: int = 2) -> None:
        self.router = router
        self.page_size = page_size
        self.messages: dict[str, Msg] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.seq = itertools.count(1)
        self.ids = itertools.count(1)
        self.expired_tokens: set[str] = set()
        self.removed: list[tuple[int, str, str]] = []  # (seq, folder, id) of messages that left a folder
        self.down = False
        self.throttle_next = 0
        self.violations: list[str] = []
        self.tokens_issued = 0
        self.concurrent = 0
        self.concurrent_peak = 0
        router.post(TOKEN_URL).mock(side_effect=self._token)
        router.route(url__startswith=ROOT).mock(side_effect=self._dispatch)

    # ------------------------------------------------------------------ test controls

    def deliver(self, raw: bytes, *, folder: str = "inbox") -> Msg:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        m = Msg(id=f"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A{next(self.ids):04d}=", folder=folder, raw=raw,
                subject=str(parsed["Subject"] or ""), internet_message_id=str(parsed["Message-ID"] or ""),
                seq=next(self.seq))
        self.messages[m.id] = m
        return m

    def move(self, message_id: str, folder: str, *, sent: bool = False) -> None:
        m = self.messages[message_id]
        self.removed.append((next(self.seq), m.folder, m.id))
        m.folder = folder
        m.seq = next(self.seq)
        if sent:
            m.is_draft = False

    def in_folder(self, folder: str) -> list[Msg]:
        return [m for m in self.messages.values() if m.folder == folder]

    # ------------------------------------------------------------------ endpoints

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        if form.get("grant_type") != ["client_credentials"] or form.get("scope") != [
                "https://graph.microsoft.com/.default"]:
            return httpx.Response(400, json={"error": "invalid_request", "error_description": "AADSTS900144",
                                             "error_codes": [900144], "timestamp": "2026-11-23 09:00:00Z"})
        self.tokens_issued += 1
        return httpx.Response(200, json={"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                         "access_token": f"eyJ0eXAiOiJKV1Qi.fake.{self.tokens_issued}"})

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("Authorization", "").startswith("Bearer eyJ"):
            self.violations.append(f"no bearer token on {request.url.path}")
        if 'IdType="ImmutableId"' not in request.headers.get("Prefer", ""):
            self.violations.append(f"no ImmutableId preference on {request.method} {request.url.path}")
        if self.down:
            return graph_error(503, "ServiceUnavailable", "Service Unavailable")
        if self.throttle_next > 0:
            self.throttle_next -= 1
            resp = graph_error(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
            resp.headers["Retry-After"] = "2"
            return resp
        path = request.url.path.removeprefix("/v1.0")
        query = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        user = f"/users/{USER}"
        if path.startswith("/subscriptions"):
            return self._subscriptions(request, path)
        if not path.startswith(user):
            return graph_error(404, "ErrorInvalidUser", "The requested user is invalid.")
        path = path.removeprefix(user)
        if m := re.fullmatch(r"/mailFolders/(\w+)/messages/delta", path):
            return self._delta(m.group(1), query)
        if m := re.fullmatch(r"/messages/([^/]+)/\$value", path):
            msg = self.messages.get(m.group(1))
            if msg is None:
                return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            return httpx.Response(200, content=msg.mime(), headers={"Content-Type": "text/plain"})
        if m := re.fullmatch(r"/messages/([^/]+)/(createReply|createReplyAll)", path):
            return self._create_reply(m.group(1), json.loads(request.content or b"{}"))
        if path == "/mailFolders/inbox/messages" and request.method == "POST":
            return self._create(json.loads(request.content))
        if path == "/mailFolders/deleteditems":
            return httpx.Response(200, json={"@odata.context": "...", "id": FOLDER_IDS["deleteditems"]})
        if path == "/messages" and request.method == "GET":
            return self._list(query)
        if m := re.fullmatch(r"/mailFolders/(\w+)/messages", path):
            if "receivedDateTime ge" not in query.get("$filter", ""):
                return graph_error(400, "BadRequest", "Unsupported filter in fake")
            rows = [x.json() for x in self.in_folder(m.group(1))]
            return httpx.Response(200, json={"@odata.context": f"{ROOT}/$metadata#users('{USER}')/messages",
                                             "value": rows})
        if m := re.fullmatch(r"/messages/([^/]+)", path):
            msg = self.messages.get(m.group(1))
            if msg is None:
                return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            if request.method == "DELETE":
                self.move(msg.id, "deleteditems")
                return httpx.Response(204)
            return httpx.Response(200, json=msg.json())
        return graph_error(400, "BadRequest", f"Unsupported in fake: {request.method} {path}")

    def _delta(self, folder: str, query: dict[str, str]) -> httpx.Response:
        token = query.get("$deltatoken")
        if token in self.expired_tokens:
            return graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
        if "$skiptoken" in query:
            since, offset = (int(x) for x in query["$skiptoken"].split("-"))
        else:
            since, offset = int(token or 0), 0
            if token is None and "$select" not in query:
                self.violations.append("initial delta request without $select")
        changed = sorted((m for m in self.messages.values() if m.folder == folder and m.seq > since),
                         key=lambda m: m.seq)
        rows: list[dict[str, Any]] = [m.json() for m in changed]
        rows += [{"@odata.type": "#microsoft.graph.message", "id": mid, "@removed": {"reason": "deleted"}}
                 for seq, f, mid in self.removed if f == folder and seq > since]
        page = rows[offset:offset + self.page_size]
        body: dict[str, Any] = {"@odata.context": f"{ROOT}/$metadata#Collection(message)", "value": page}
        top = max([since, *(m.seq for m in changed), *(s for s, f, _ in self.removed if f == folder)])
        link = f"{BASE}/mailFolders/{folder}/messages/delta"
        if offset + self.page_size < len(rows):
            body["@odata.nextLink"] = f"{link}?$skiptoken={since}-{offset + self.page_size}"
        else:
            body["@odata.deltaLink"] = f"{link}?$deltatoken={top}"
        return httpx.Response(200, json=body)

    def _apply(self, msg: Msg, fields: dict[str, Any]) -> None:
        if "body" in fields:
            msg.body = fields["body"]["content"]
        msg.categories = list(fields.get("categories", msg.categories))
        msg.props.update({p["id"]: p["value"] for p in fields.get("singleValueExtendedProperties", [])})
        msg.headers.update({h["name"]: h["value"] for h in fields.get("internetMessageHeaders", [])})
        if "subject" in fields:
            msg.subject = fields["subject"]
        msg.to = [r["emailAddress"]["address"] for r in fields.get("toRecipients", [])] or msg.to

    def _create_reply(self, parent_id: str, payload: dict[str, Any]) -> httpx.Response:
        parent = self.messages.get(parent_id)
        if parent is None:
            return graph_error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        message = payload.get("message", {})
        if "comment" in payload and "body" in message:
            return graph_error(400, "ErrorInvalidRequest", "comment and message.body cannot both be set.")
        sender = email.utils.parseaddr(str(email.message_from_bytes(parent.mime())["From"]))[1]
        draft = Msg(id=f"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A{next(self.ids):04d}=", folder="drafts",
                    subject=f"RE: {parent.subject}", is_draft=True, to=[sender], seq=next(self.seq),
                    internet_message_id=f"<DB{next(self.ids)}@DB9PR.eurprd.prod.outlook.com>",
                    conversation_id=parent.conversation_id, in_reply_to=parent.internet_message_id)
        self._apply(draft, message)
        draft.created_json = payload
        self.messages[draft.id] = draft
        return httpx.Response(201, json={"@odata.context": f"{ROOT}/$metadata#users('{USER}')/messages/$entity",
                                         **draft.json()})

    def _create(self, payload: dict[str, Any]) -> httpx.Response:
        flags = {p["id"]: p["value"] for p in payload.get("singleValueExtendedProperties", [])}.get(MESSAGE_FLAGS)
        msg = Msg(id=f"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A{next(self.ids):04d}=", folder="inbox",
                  is_draft=flags is None or bool(int(flags) & 8), seq=next(self.seq),
                  internet_message_id=f"<DB{next(self.ids)}@DB9PR.eurprd.prod.outlook.com>")
        self._apply(msg, payload)
        msg.created_json = payload
        self.messages[msg.id] = msg
        return httpx.Response(201, json=msg.json())

    def _list(self, query: dict[str, str]) -> httpx.Response:
        flt = query.get("$filter", "")
        if m := re.search(r"ep/id eq '([^']+)' and ep/value eq '([^']+)'", flt):
            prop, value = m.groups()
            hits = [x for x in self.messages.values() if x.props.get(prop) == value]
        elif m := re.search(r"internetMessageId eq '([^']+)'", flt):
            hits = [x for x in self.messages.values() if x.internet_message_id == m.group(1).replace("''", "'")]
        elif "receivedDateTime ge" in flt:
            hits = [x for x in self.messages.values()]
        else:
            return graph_error(400, "BadRequest", "Unsupported filter in fake")
        rows = []
        for x in hits:
            row = x.json()
            if "$expand" in query and PROP_KIND in query["$expand"]:
                row["singleValueExtendedProperties"] = [{"id": PROP_KIND, "value": x.props[PROP_KIND]}] \
                    if PROP_KIND in x.props else []
            rows.append(row)
        return httpx.Response(200, json={"@odata.context": f"{ROOT}/$metadata#users('{USER}')/messages",
                                         "value": rows})

    def _subscriptions(self, request: httpx.Request, path: str) -> httpx.Response:
        if request.method == "POST" and path == "/subscriptions":
            body = json.loads(request.content)
            sub_id = f"7f105c7d-2dc5-4530-97cd-4e7ae6534c{next(self.ids):02d}"
            sub = {"@odata.context": f"{ROOT}/$metadata#subscriptions/$entity", "id": sub_id,
                   "resource": body["resource"], "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
                   "changeType": body["changeType"], "clientState": body.get("clientState"),
                   "notificationUrl": body["notificationUrl"],
                   "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
                   "expirationDateTime": body["expirationDateTime"].replace("Z", ".0000000Z"),
                   "creatorId": "8ee44408-0679-472c-bc2a-692812af3437", "latestSupportedTlsVersion": "v1_2"}
            self.subscriptions[sub_id] = sub
            return httpx.Response(201, json=sub)
        m = re.fullmatch(r"/subscriptions/([^/]+)", path)
        if m and request.method == "PATCH":
            sub = self.subscriptions.get(m.group(1))
            if sub is None:
                return graph_error(404, "ResourceNotFound", "The object was not found.")
            sub["expirationDateTime"] = json.loads(request.content)["expirationDateTime"]
            return httpx.Response(200, json=sub)
        return graph_error(400, "BadRequest", "Unsupported subscription call in fake")


# ------------------------------------------------------------------ the agent's hands in Outlook


def agent_sends(fake: FakeGraph, draft_graph_id: str) -> None:
    """Outlook sends the draft: with immutable ids it keeps its id and lands in Sent Items."""
    fake.move(draft_graph_id, "sentitems", sent=True)


def agent_deletes(fake: FakeGraph, draft_graph_id: str) -> None:
    fake.move(draft_graph_id, "deleteditems")
