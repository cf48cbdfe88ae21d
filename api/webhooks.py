"""Push endpoints of the mailbox providers: record, enqueue, answer at once.

- ``POST {prefix}/graph/{mailbox}``: Microsoft Graph change notifications, and
  ``POST {prefix}/graph/{mailbox}/lifecycle``: lifecycle notifications
  (``reauthorizationRequired``, ``subscriptionRemoved``, ``missed``). Both
  answer the ``validationToken`` handshake (200, text/plain, the token) and
  reject a batch whose ``clientState`` does not match the mailbox's (403).
- ``POST {prefix}/gmail/{mailbox}``: Google Pub/Sub push for Gmail ``watch``.
  The OIDC token Pub/Sub sends is verified (issuer, audience, service account,
  expiry; ``connectors.mail.jwt_verify``) and the notification must be about
  this mailbox's address; anything else is 401/403.

Nothing is processed inline: a verified notification is recorded (the
recorder refuses one it has seen before: a replay gets 409) and handed to
``notify`` (the wiring's "sync this mailbox now": wake the runner or enqueue a
task). Graph gets its 202 within its 3-second limit, Pub/Sub its 204.
Forged and replayed calls are logged and never reach the pipeline.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, SecretStr

from connectors.mail.base import PushEvent, PushKind
from connectors.mail.jwt_verify import GoogleOidcVerifier, TokenRejectedError

log = logging.getLogger(__name__)
MAX_BODY = 1_000_000
_LIFECYCLE = {"reauthorizationRequired": PushKind.REAUTHORIZE, "subscriptionRemoved": PushKind.REMOVED,
              "missed": PushKind.MISSED}


class NotificationRecorder(Protocol):
    """Records a verified notification; False when it was recorded before (a replay)."""

    async def record_notification(self, *, mailbox: str, source: str, key: str, event: PushEvent) -> bool: ...


Notify = Callable[[str, PushEvent], Awaitable[None]]


class GraphHook(BaseModel):
    """What the Graph endpoint of one mailbox checks."""

    model_config = ConfigDict(frozen=True)

    client_state: SecretStr


class GmailHook(BaseModel):
    """What the Gmail endpoint of one mailbox checks."""

    model_config = ConfigDict(frozen=True)

    audience: str
    service_account_email: str
    mailbox_address: str


async def _nothing(mailbox: str, event: PushEvent) -> None:
    return None


def create_webhook_router(
    *,
    recorder: NotificationRecorder,
    graph: Mapping[str, GraphHook] | None = None,
    gmail: Mapping[str, GmailHook] | None = None,
    verifier: GoogleOidcVerifier | None = None,
    notify: Notify = _nothing,
    prefix: str = "/webhooks",
) -> APIRouter:
    """The webhook router; mailboxes not listed in ``graph``/``gmail`` get 404."""
    graph_hooks = dict(graph or {})
    gmail_hooks = dict(gmail or {})
    if gmail_hooks and verifier is None:
        raise ValueError("Gmail push endpoints need a GoogleOidcVerifier")
    router = APIRouter(prefix=prefix, tags=["webhooks"])

    async def _body(request: Request) -> Any:
        data = await request.body()
        if len(data) > MAX_BODY:
            raise HTTPException(status_code=413, detail="body too large")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="body is not JSON") from exc

    async def _record_all(mailbox: str, source: str, events: list[tuple[str, PushEvent]]) -> Response:
        new = [(key, ev) for key, ev in events
               if await recorder.record_notification(mailbox=mailbox, source=source, key=key, event=ev)]
        if events and not new:
            log.warning("webhook replay rejected", extra={"mailbox": mailbox, "source": source, "count": len(events)})
            raise HTTPException(status_code=409, detail="already received")
        for _, ev in new:
            await notify(mailbox, ev)
        return Response(status_code=202)

    def _graph_items(mailbox: str, body: Any, source: str) -> list[dict[str, Any]]:
        hook = graph_hooks.get(mailbox)
        if hook is None:
            raise HTTPException(status_code=404, detail="unknown mailbox")
        items = body.get("value") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise HTTPException(status_code=400, detail="expected a value array")
        expected = hook.client_state.get_secret_value().encode()
        forged = sum(not hmac.compare_digest(str(i.get("clientState", "")).encode(), expected) for i in items)
        if forged:
            log.warning("webhook with wrong clientState rejected",
                        extra={"mailbox": mailbox, "source": source, "forged": forged, "count": len(items)})
            raise HTTPException(status_code=403, detail="clientState mismatch")
        return items

    def _handshake(request: Request) -> PlainTextResponse | None:
        token = request.query_params.get("validationToken")
        if token is None:
            return None
        if len(token) > 4096:
            raise HTTPException(status_code=400, detail="validationToken too long")
        return PlainTextResponse(token, status_code=200)

    @router.post("/graph/{mailbox}", status_code=202)
    async def graph_notifications(mailbox: str, request: Request) -> Response:
        if mailbox not in graph_hooks:
            raise HTTPException(status_code=404, detail="unknown mailbox")
        if (answer := _handshake(request)) is not None:
            return answer
        items = _graph_items(mailbox, await _body(request), "graph")
        events = []
        for i in items:
            resource = i.get("resourceData") if isinstance(i.get("resourceData"), dict) else {}
            key = f"{i.get('subscriptionId', '')}|{i.get('changeType', '')}|{resource.get('id') or i.get('resource')}"
            events.append((key, PushEvent(kind=PushKind.CHANGE, subscription_id=i.get("subscriptionId"))))
        return await _record_all(mailbox, "graph", events)

    @router.post("/graph/{mailbox}/lifecycle", status_code=202)
    async def graph_lifecycle(mailbox: str, request: Request) -> Response:
        if mailbox not in graph_hooks:
            raise HTTPException(status_code=404, detail="unknown mailbox")
        if (answer := _handshake(request)) is not None:
            return answer
        items = _graph_items(mailbox, await _body(request), "graph-lifecycle")
        events = []
        for i in items:
            kind = _LIFECYCLE.get(str(i.get("lifecycleEvent")))
            if kind is None:
                log.warning("unknown Graph lifecycle event ignored", extra={"mailbox": mailbox,
                                                                           "event": str(i.get("lifecycleEvent"))[:50]})
                continue
            key = f"{i.get('subscriptionId', '')}|{i.get('lifecycleEvent')}|{i.get('subscriptionExpirationDateTime')}"
            events.append((key, PushEvent(kind=kind, subscription_id=i.get("subscriptionId"))))
        if not events:
            return Response(status_code=202)
        return await _record_all(mailbox, "graph-lifecycle", events)

    @router.post("/gmail/{mailbox}", status_code=204)
    async def gmail_push(mailbox: str, request: Request) -> Response:
        hook = gmail_hooks.get(mailbox)
        if hook is None:
            raise HTTPException(status_code=404, detail="unknown mailbox")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            log.warning("Gmail push without a token rejected", extra={"mailbox": mailbox})
            raise HTTPException(status_code=401, detail="bearer token required")
        assert verifier is not None
        try:
            await verifier.verify(token=auth.removeprefix("Bearer ").strip(), audience=hook.audience,
                                  email=hook.service_account_email)
        except TokenRejectedError as exc:
            log.warning("Gmail push with a bad token rejected", extra={"mailbox": mailbox, "reason": str(exc)})
            raise HTTPException(status_code=403, detail="token rejected") from exc
        body = await _body(request)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not message.get("messageId") or not message.get("data"):
            raise HTTPException(status_code=400, detail="expected a Pub/Sub push message")
        try:
            data = json.loads(base64.b64decode(str(message["data"]) + "=" * (-len(str(message["data"])) % 4),
                                               altchars=b"-_" if "-" in message["data"] or "_" in message["data"]
                                               else None))
        except (ValueError, binascii.Error) as exc:
            raise HTTPException(status_code=400, detail="message data is not base64 JSON") from exc
        if not isinstance(data, dict) or str(data.get("emailAddress", "")).lower() != hook.mailbox_address.lower():
            log.warning("Gmail push for another mailbox rejected", extra={"mailbox": mailbox})
            raise HTTPException(status_code=403, detail="not this mailbox")
        event = PushEvent(kind=PushKind.CHANGE, cursor=str(data.get("historyId", "")) or None)
        await _record_all(mailbox, "gmail", [(str(message["messageId"]), event)])
        return Response(status_code=204)

    return router
