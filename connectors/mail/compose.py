"""Build the RFC 822 draft and note messages, threaded to the inbound email.

The draft is addressed to the customer and carries ``X-Shipdraft-Draft-Id``.
The note carries ``X-Shipdraft-Note-For`` and has no recipient header at all:
no client can send it anywhere by accident. Both carry ``In-Reply-To`` and
``References`` and (the draft) the reply subject, so they thread in every
client. Small helpers for the HTTP providers live here too (HTML bodies,
base64url, reading and adding one header), and ``is_resaved_draft``: how the
Maildir and IMAP providers recognise our draft after a mail client re-saved it
without ``X-Shipdraft-Draft-Id``.
"""

from __future__ import annotations

import base64
import email.charset
import email.header
import email.parser
import email.policy
import email.utils
import html
from email.message import Message

from agent.models import Draft, Email, Note

DRAFT_HEADER = "X-Shipdraft-Draft-Id"
NOTE_HEADER = "X-Shipdraft-Note-For"
RECIPIENT_HEADERS = ("To", "Cc", "Bcc")
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)
_8BIT = email.charset.Charset("utf-8")
_8BIT.body_encoding = None  # Content-Transfer-Encoding: 8bit
_QP = email.charset.Charset("utf-8")
_QP.body_encoding = email.charset.QP


class _Compat32Fast(email.policy.Compat32):
    """compat32, writing a one-line ASCII header as it is instead of through ``email.header.Header``.

    For such a value compat32 writes exactly ``name: value`` (tested against it on random values); the
    ``Header`` round trip cost more than half of composing a draft and its note. Anything else (non-ASCII,
    too long for one line, line breaks) goes the standard way.
    """

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (isinstance(value, str) and value.isascii() and "\n" not in value and "\r" not in value
                and len(name) + 2 + len(value) <= (self.max_line_length or 0)):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc, no-any-return]  # private in typeshed


_POLICY = _Compat32Fast()


def _threaded(inbound: Email, *, mailbox_address: str, mailbox_name: str) -> Message:
    # compat32 headers: the same bytes a client sees as policy.default writes them (RFC 2047 words for
    # non-ASCII, folded), at a quarter of the CPU; this runs twice per drafted email
    msg = Message()
    msg["From"] = email.utils.formataddr((mailbox_name, mailbox_address), charset="utf-8")
    msg["Date"] = email.utils.formatdate(usegmt=True)  # "+0000"-equivalent; "-0000" would mean "zone unknown"
    msg["In-Reply-To"] = inbound.message_id
    msg["References"] = " ".join((*inbound.references, inbound.message_id))
    return msg


def draft_message(*, inbound: Email, draft: Draft, mailbox_address: str, mailbox_name: str) -> bytes:
    msg = _threaded(inbound, mailbox_address=mailbox_address, mailbox_name=mailbox_name)
    msg["To"] = email.utils.formataddr((inbound.from_name, inbound.from_address), charset="utf-8")
    msg["Subject"] = _subject(draft.subject)
    msg["Message-ID"] = f"<draft-{draft.draft_id}@shipdraft>"
    msg[DRAFT_HEADER] = draft.draft_id
    return _with_body(msg, draft.body)


def note_message(*, inbound: Email, note: Note, mailbox_address: str, mailbox_name: str) -> bytes:
    msg = _threaded(inbound, mailbox_address=mailbox_address, mailbox_name=f"{mailbox_name} (shipdraft note)")
    msg["Subject"] = _subject(note.subject)
    msg["Message-ID"] = f"<note-{note.draft_id}@shipdraft>"
    msg[NOTE_HEADER] = note.draft_id
    return _with_body(msg, note.body)


def _subject(value: str) -> str | email.header.Header:
    return value if value.isascii() else email.header.Header(value, "utf-8", header_name="Subject")


def _with_body(msg: Message, text: str) -> bytes:
    """A text/plain UTF-8 body: 8bit keeps the stored message readable; quoted-printable only when a line
    is too long for SMTP."""
    msg["MIME-Version"] = "1.0"
    msg.set_payload(text, _8BIT if all(len(line.encode()) < 990 for line in text.splitlines()) else _QP)
    return msg.as_bytes(policy=_POLICY)


def html_body(text: str) -> str:
    """The plain draft text as simple HTML (Graph bodies): escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "<html><body>" + "".join(
        "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    ) + "</body></html>"


def header_value(raw: bytes, name: str) -> str:
    """One header of a raw message ('' when absent), reading the header block only."""
    return str(headers_of(raw).get(name, "")).strip()


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


def is_note(headers: Message) -> bool:
    """A shipdraft internal note: it carries ``X-Shipdraft-Note-For``, or it has no recipient at all."""
    return headers.get(NOTE_HEADER) is not None or not any(
        str(headers.get(h) or "").strip() for h in RECIPIENT_HEADERS)


def is_resaved_draft(headers: Message, *, inbound_message_id: str) -> bool:
    """Whether a message found in Drafts is our draft to ``inbound_message_id`` as a mail client re-saved it.

    Many IMAP clients (Thunderbird, Apple Mail, Outlook over IMAP, Roundcube) drop unknown ``X-`` headers
    when the agent edits and saves a draft: they append a new message and expunge ours. What they keep is
    the threading. So a message counts when it

    - replies to the inbound message: ``In-Reply-To`` names it, or, without ``In-Reply-To``, ``References``
      does (a later draft in the same thread has the later message in ``In-Reply-To``, so it is not taken);
    - carries no ``X-Shipdraft-Draft-Id`` at all (one with another id is another of our drafts; one with
      ours would have been found by the id);
    - is not a shipdraft note (``is_note``).

    The IMAP provider asks the server the same question with ``UID SEARCH`` and checks the answer here.
    """
    wanted = inbound_message_id.strip().casefold()  # IMAP SEARCH compares without case too
    if not wanted or headers.get(DRAFT_HEADER) is not None or is_note(headers):
        return False
    in_reply_to = str(headers.get("In-Reply-To") or "").strip()
    if in_reply_to:
        return wanted in in_reply_to.casefold()
    return wanted in str(headers.get("References") or "").casefold()


def headers_of(raw: bytes) -> Message:
    """The header block of a raw message, parsed (compat32: values as they are)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return _HEADERS.parsebytes(head)
