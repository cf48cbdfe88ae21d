"""A small stateful stand-in for the Gmail API, served through respx and checked against Google's discovery document.

Every request is matched to a method of ``gmail.v1.json`` (shipped by
google-api-python-client): HTTP method and path template, query parameters
the method declares, and request body fields of its request schema. Anything
else is collected in ``violations``. Shapes follow the API reference: history
pages (``history[].messagesAdded[].message``, ``historyId``, ``nextPageToken``),
drafts (``{id, message{id, threadId, labelIds}}``), ``messages.list``
(``messages[]{id, threadId}``, ``resultSizeEstimate``), ``watch``
(``historyId``, ``expiration`` in epoch millis) and the Google error body.
"""

from __future__ import annotations

import base64
import email
import email.policy
import itertools
import json
import re
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import respx

USER = "ops@x.example"
ROOT = "https://gmail.googleapis.com/"
BASE = f"{ROOT}gmail/v1/users/{USER}"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SYSTEM_LABELS = ["INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "UNREAD", "IMPORTANT", "STARRED"]
_STANDARD_PARAMS = {"alt", "fields", "key", "oauth_token", "prettyPrint", "quotaUser", "$.xgafv", "callback",
                    "access_token", "upload_protocol", "uploadType"}


def discovery() -> dict[str, Any]:
    path = files("googleapiclient").joinpath("discovery_cache", "documents", "gmail.v1.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _methods(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def walk(resources: dict[str, Any]) -> None:
        for res in resources.values():
            out.extend(res.get("methods", {}).values())
            walk(res.get("resources", {}))

    walk(doc["resources"])
    return out


def google_error(status: int, reason: str, message: str, state: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": status, "message": message, "errors": [
        {"message": message, "domain": "global", "reason": reason}], "status": state}})


@dataclass
class GMsg:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str] = field(default_factory=list)
    history_id: int = 0

    @property
    def header(self) -> email.message.Message:
        return email.message_from_bytes(self.raw, policy=email.policy.compat32)


class FakeGmail:
    def __init__(self, router: respx.MockRouter) -> None:
        self.doc = discovery()
        self.methods = _methods(self.doc)
        self.messages: dict[str, GMsg] = {}
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.labels: dict[str, str] = {n: n for n in SYSTEM_LABELS}  # id -> name
        self.history: list[dict[str, Any]] = []
        self.history_id = itertools.count(100_000)
        self.ids = itertools.count(1)
        self.oldest_history = 0
        self.down = False
        self.throttle_next = 0  # answer this many requests with 403 userRateLimitExceeded
        self.fail_next: list[httpx.Response] = []  # canned error answers for the next requests
        self.violations: list[str] = []
        self.calls: list[str] = []
        self.watch_calls: list[dict[str, Any]] = []
        router.post(TOKEN_URL).mock(side_effect=self._token)
        router.route(url__startswith=ROOT).mock(side_effect=self._dispatch)

    # ------------------------------------------------------------------ test controls

    def _new_history(self, msg: GMsg) -> None:
        hid = next(self.history_id)
        msg.history_id = hid
        self.history.append({"id": str(hid), "messages": [{"id": msg.id, "threadId": msg.thread_id}],
                             "messagesAdded": [{"message": {"id": msg.id, "threadId": msg.thread_id,
                                                            "labelIds": list(msg.labels)}}]})

    def deliver(self, raw: bytes, *, labels: tuple[str, ...] = ("INBOX", "UNREAD"), thread_id: str | None = None,
                ) -> GMsg:
        mid = f"18c{next(self.ids):013x}"
        msg = GMsg(id=mid, thread_id=thread_id or mid, raw=raw, labels=list(labels))
        self.messages[mid] = msg
        self._new_history(msg)
        return msg

    def agent_sends(self, draft_id: str) -> GMsg:
        """Gmail sends the draft: the draft is gone, a SENT message appears in the thread."""
        draft = self.messages.pop(self.drafts.pop(draft_id))
        return self.deliver(draft.raw, labels=("SENT",), thread_id=draft.thread_id)

    def agent_edits(self, draft_id: str, *, old: bytes, new: bytes) -> GMsg:
        """Gmail saves an edited draft as a new message under the same draft id (drafts.update)."""
        before = self.messages.pop(self.drafts[draft_id])
        after = self.deliver(before.raw.replace(old, new), labels=tuple(before.labels), thread_id=before.thread_id)
        self.drafts[draft_id] = after.id
        return after

    def agent_deletes(self, draft_id: str) -> None:
        self.messages.pop(self.drafts.pop(draft_id))

    def expire_history(self) -> None:
        self.oldest_history = next(self.history_id)

    # ------------------------------------------------------------------ discovery check

    def _check(self, request: httpx.Request) -> None:
        path = request.url.path.lstrip("/")
        for m in self.methods:
            template = m.get("flatPath") or m["path"]
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            if m["httpMethod"] == request.method and re.match(pattern, path):
                break
        else:
            self.violations.append(f"{request.method} {path}: no such method in the discovery document")
            return
        declared = set(m.get("parameters", {}))
        for name in parse_qs(urlsplit(str(request.url)).query):
            if name not in declared and name not in _STANDARD_PARAMS:
                self.violations.append(f"{m['id']}: unknown query parameter {name}")
        for name, spec in m.get("parameters", {}).items():
            if spec.get("location") == "query" and spec.get("required") and name not in str(request.url):
                self.violations.append(f"{m['id']}: missing required parameter {name}")
        if request.content:
            schema = self.doc["schemas"][m["request"]["$ref"]] if "request" in m else None
            if schema is None:
                self.violations.append(f"{m['id']}: takes no request body")
                return
            self._check_body(m["id"], json.loads(request.content), schema)
        self.calls.append(m["id"])

    def _check_body(self, where: str, body: dict[str, Any], schema: dict[str, Any]) -> None:
        props = schema.get("properties", {})
        for key, value in body.items():
            if key not in props:
                self.violations.append(f"{where}: unknown body field {key}")
            elif "$ref" in props[key] and isinstance(value, dict):
                self._check_body(f"{where}.{key}", value, self.doc["schemas"][props[key]["$ref"]])

    # ------------------------------------------------------------------ endpoints

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        if form.get("grant_type") not in (["urn:ietf:params:oauth:grant-type:jwt-bearer"], ["refresh_token"]):
            return httpx.Response(400, json={"error": "unsupported_grant_type", "error_description": "Invalid grant"})
        return httpx.Response(200, json={"access_token": "ya29.a0AfB_fake", "expires_in": 3599,
                                         "token_type": "Bearer"})

    def _dispatch(self, request: httpx.Request) -> httpx.Response:
        self._check(request)
        if request.headers.get("Authorization") != "Bearer ya29.a0AfB_fake":
            self.violations.append("request without the bearer token")
        if self.down:
            return google_error(503, "backendError", "The service is currently unavailable.", "UNAVAILABLE")
        if self.fail_next:
            return self.fail_next.pop(0)
        if self.throttle_next > 0:
            self.throttle_next -= 1
            return google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded", "PERMISSION_DENIED")
        path = request.url.path.removeprefix(f"/gmail/v1/users/{USER}")
        query = parse_qs(urlsplit(str(request.url)).query)
        q = {k: v[0] for k, v in query.items()}
        body = json.loads(request.content) if request.content else {}
        if path == "/profile":
            return httpx.Response(200, json={"emailAddress": USER, "messagesTotal": len(self.messages),
                                             "threadsTotal": len(self.messages), "historyId": str(self._top())})
        if path == "/history":
            return self._history(q)
        if path == "/messages" and request.method == "GET":
            return self._list(q, query.get("labelIds", []))
        if path == "/messages" and request.method == "POST":
            msg = self.deliver(base64.urlsafe_b64decode(body["raw"]), labels=tuple(body.get("labelIds", [])),
                               thread_id=body.get("threadId"))
            return httpx.Response(200, json={"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.labels})
        if m := re.fullmatch(r"/messages/([^/]+)/modify", path):
            msg = self.messages[m.group(1)]
            msg.labels += [x for x in body.get("addLabelIds", []) if x not in msg.labels]
            return httpx.Response(200, json={"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.labels})
        if m := re.fullmatch(r"/messages/([^/]+)", path):
            msg = self.messages.get(m.group(1))
            if msg is None:
                return google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND")
            out = {"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.labels,
                   "historyId": str(msg.history_id), "internalDate": "1795460400000", "sizeEstimate": len(msg.raw)}
            if q.get("format") == "raw":
                out["raw"] = base64.urlsafe_b64encode(msg.raw).decode()
            return httpx.Response(200, json=out)
        if path == "/labels" and request.method == "GET":
            return httpx.Response(200, json={"labels": [
                {"id": i, "name": n, "type": "system" if i == n else "user"} for i, n in self.labels.items()]})
        if path == "/labels" and request.method == "POST":
            lid = f"Label_{len(self.labels)}"
            self.labels[lid] = body["name"]
            return httpx.Response(200, json={"id": lid, "name": body["name"], "type": "user",
                                             "messageListVisibility": "show", "labelListVisibility": "labelShow"})
        if path == "/drafts" and request.method == "POST":
            msg = body["message"]
            draft_msg = self.deliver(base64.urlsafe_b64decode(msg["raw"]), labels=("DRAFT",),
                                     thread_id=msg.get("threadId"))
            did = f"r-{next(self.ids)}{7_000_000_000_000}"
            self.drafts[did] = draft_msg.id
            return httpx.Response(200, json={"id": did, "message": {
                "id": draft_msg.id, "threadId": draft_msg.thread_id, "labelIds": ["DRAFT"]}})
        if path == "/drafts" and request.method == "GET":
            wanted = re.findall(r"rfc822msgid:(\S+)", q.get("q", ""))
            hits = [{"id": d, "message": {"id": mid, "threadId": self.messages[mid].thread_id}}
                    for d, mid in self.drafts.items() if not wanted or mid in wanted]
            return httpx.Response(200, json={"drafts": hits, "resultSizeEstimate": len(hits)} if hits else
                                  {"resultSizeEstimate": 0})
        if m := re.fullmatch(r"/drafts/([^/]+)", path):
            if m.group(1) not in self.drafts:
                return google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND")
            if request.method == "DELETE":
                self.agent_deletes(m.group(1))
                return httpx.Response(204)
            msg = self.messages[self.drafts[m.group(1)]]
            out_msg: dict[str, Any] = {"id": msg.id, "threadId": msg.thread_id, "labelIds": msg.labels}
            if q.get("format") == "raw":
                out_msg["raw"] = base64.urlsafe_b64encode(msg.raw).decode()
            return httpx.Response(200, json={"id": m.group(1), "message": out_msg})
        if path == "/watch":
            self.watch_calls.append(body)
            return httpx.Response(200, json={"historyId": str(self._top()), "expiration": "1796065200000"})
        return google_error(400, "invalidArgument", f"unsupported in fake: {path}", "INVALID_ARGUMENT")

    def _top(self) -> int:
        return int(self.history[-1]["id"]) if self.history else 99_999

    def _history(self, q: dict[str, str]) -> httpx.Response:
        start = int(q["startHistoryId"])
        if start < self.oldest_history:
            return google_error(404, "notFound", "Requested entity was not found.", "NOT_FOUND")
        label = q.get("labelId")
        records = [h for h in self.history if int(h["id"]) > start and (
            label is None or any(label in a["message"]["labelIds"] for a in h["messagesAdded"]))]
        offset = int(q.get("pageToken", 0))
        page = records[offset:offset + 2]
        body: dict[str, Any] = {"historyId": str(self._top())}
        if page:
            body["history"] = page
        if offset + 2 < len(records):
            body["nextPageToken"] = str(offset + 2)
        return httpx.Response(200, json=body)

    def _list(self, q: dict[str, str], label_ids: list[str]) -> httpx.Response:
        query = q.get("q", "")
        hits = list(self.messages.values())
        ids = re.findall(r"rfc822msgid:(\S+?)(?=[\s}]|$)", query)
        if ids:
            hits = [m for m in hits if str(m.header["Message-ID"] or "").strip("<>") in ids]
        if after := re.search(r"after:(\d+)", query):
            hits = [m for m in hits if after.group(1)]
        if "-in:drafts" in query:
            hits = [m for m in hits if "DRAFT" not in m.labels]
        for excluded in re.findall(r"-label:(\S+)", query):
            hits = [m for m in hits if not any(
                self.labels.get(x, "").lower().replace(" ", "-").replace("/", "-") == excluded for x in m.labels)]
        if label_ids:
            hits = [m for m in hits if all(lb in m.labels for lb in label_ids)]
        hits = [m for m in hits if "TRASH" not in m.labels]
        body: dict[str, Any] = {"resultSizeEstimate": len(hits)}
        if hits:
            body["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in hits]
        return httpx.Response(200, json=body)
