"""Build the RFC 822 draft and note messages, threaded to the inbound email.

The draft is addressed to the customer and carries ``X-Shipdraft-Draft-Id``.
The note carries ``X-Shipdraft-Note-For`` and has no recipient header at all:
no client can send it anywhere by accident. Both carry ``In-Reply-To`` and
``References`` and (the draft) the reply subject, so they thread in every
client. Small helpers for the HTTP providers live here too (HTML bodies,
base64url, reading and adding one header).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import email.utils
import html
from email.message import EmailMessage

from agent.models import Draft, Email, Note

DRAFT_HEADER = "X-Shipdraft-Draft-Id"
NOTE_HEADER = "X-Shipdraft-Note-For"
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def _threaded(inbound: Email, *, mailbox_address: str, mailbox_name: str) -> EmailMessage:
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = email.utils.formataddr((mailbox_name, mailbox_address))
    msg["Date"] = email.utils.formatdate(usegmt=True)  # "+0000"-equivalent; "-0000" would mean "zone unknown"
    msg["In-Reply-To"] = inbound.message_id
    msg["References"] = " ".join((*inbound.references, inbound.message_id))
    return msg


def draft_message(*, inbound: Email, draft: Draft, mailbox_address: str, mailbox_name: str) -> bytes:
    msg = _threaded(inbound, mailbox_address=mailbox_address, mailbox_name=mailbox_name)
    msg["To"] = email.utils.formataddr((inbound.from_name, inbound.from_address))
    msg["Subject"] = draft.subject
    msg["Message-ID"] = f"<draft-{draft.draft_id}@shipdraft>"
    msg[DRAFT_HEADER] = draft.draft_id
    msg.set_content(draft.body, cte=_cte(draft.body))
    return msg.as_bytes()


def note_message(*, inbound: Email, note: Note, mailbox_address: str, mailbox_name: str) -> bytes:
    msg = _threaded(inbound, mailbox_address=mailbox_address, mailbox_name=f"{mailbox_name} (shipdraft note)")
    msg["Subject"] = note.subject
    msg["Message-ID"] = f"<note-{note.draft_id}@shipdraft>"
    msg[NOTE_HEADER] = note.draft_id
    msg.set_content(note.body, cte=_cte(note.body))
    return msg.as_bytes()


def _cte(body: str) -> str:
    """8bit keeps the stored message readable; quoted-printable only when a line is too long for SMTP."""
    return "8bit" if all(len(line.encode()) < 990 for line in body.splitlines()) else "quoted-printable"


def html_body(text: str) -> str:
    """The plain draft text as simple HTML (Graph bodies): escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "<html><body>" + "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    ) + "</body></html>"


def header_value(raw: bytes, name: str) -> str:
    """One header of a raw message ('' when absent), reading the header block only."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return str(_HEADERS.parsebytes(head).get(name, "")).strip()


def with_header(raw: bytes, name: str, value: str) -> bytes:
    """The raw message with one header added on top (replacing none); bytes below are untouched."""
    if "\n" in value or "\r" in value:
        raise ValueError("header values must be one line")
    eol = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    return f"{name}: {value}".encode() + eol + raw


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def from_b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
