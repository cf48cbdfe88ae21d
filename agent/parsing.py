"""MIME -> Email: the text the customer wrote, split from quoted history and signature.

The entry point of the understanding stage. ``parse_email`` reads any RFC 822
message with the standard library's ``email`` package (policy ``default``,
RFC 2047 encoded words decoded), sorts the MIME tree (``agent.mime``), turns
HTML-only bodies into text (``agent.html_text``), reads attachments
(``agent.attachments``), keeps forwarded messages as context, separates the
new text from quoted history and signature (``agent.quotes``) and detects the
language of the new text (``agent.language``).

Only two things raise ``ParseError``: an empty or oversize input, and (with
``strict=True``) a message without a usable From address or Message-ID.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import hashlib
import re
from datetime import datetime
from email.message import Message

from agent.attachments import AttachmentLimits, extract_text
from agent.errors import ParseError
from agent.html_text import html_to_text, render_html
from agent.language import detect_language
from agent.mime import MimeContent, RawAttachment, header_text, walk
from agent.models import Attachment, Email
from agent.quotes import BodyParts, split_body, split_quoted, split_signature

__all__ = ["DEFAULT_MAX_BYTES", "html_to_text", "message_id_of", "parse_email", "split_quoted",
           "split_signature"]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_FORWARD_DEPTH = 5  # forwarded messages inside forwarded messages, at most this deep
_KEPT_HEADERS = ("X-Shipdraft-Draft-Id", "X-Shipdraft-Note-For", "Auto-Submitted", "Precedence", "Sender")
_FORWARD_HEADERS = ("From", "Date", "Subject", "To")


def parse_email(*, raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES, strict: bool = True,
                attachment_limits: AttachmentLimits | None = None) -> Email:
    """Parse one RFC 822 message; raise ParseError with a reason when it cannot be used.

    ``strict=False`` accepts a message without From or Message-ID (for inspection).
    ``attachment_limits`` bounds the text read from attachments (size, pages, rows).
    """
    if not raw or not raw.strip():
        raise ParseError("empty message")
    if len(raw) > max_bytes:
        raise ParseError(f"message is {len(raw)} bytes, over the {max_bytes}-byte limit")
    try:
        # compat32: raw header strings (decoded here, on demand) are several times faster than the
        # header registry of policy.default, which parses every header it is asked for
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # the parser is lenient; anything it raises is a broken message
        raise ParseError(f"unparseable MIME: {exc}") from exc

    from_name, from_address = _address(msg, "From")
    if not from_address and strict:
        raise ParseError("no usable From address")
    message_id = _header(msg, "Message-ID").strip()
    if not message_id and strict:
        raise ParseError("no Message-ID header")

    limits = attachment_limits or AttachmentLimits()
    subject = _header(msg, "Subject").strip()
    content = walk(msg)
    body, hidden = _body_text(content)
    parts = split_body(text=body, subject=_reply_subject(subject=subject, body=body))
    forwarded_texts = [parts.forwarded_text] if parts.forwarded_text else []
    attachments = [_attachment(a, limits) for a in content.attachments]
    hidden = hidden | _forwarded(content, forwarded_texts, attachments, limits, depth=1)
    forwarded_text = "\n\n".join(t for t in forwarded_texts if t).strip()
    return Email(
        message_id=message_id,
        subject=subject,
        from_address=from_address,
        from_name=from_name,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=_date(msg),
        in_reply_to=(_header(msg, "In-Reply-To").strip() or None),
        references=tuple(_header(msg, "References").split()),
        reply_text=parts.new_text,
        quoted_text=parts.quoted_text,
        signature=parts.signature,
        language=_language(subject=subject, parts=parts, forwarded_text=forwarded_text),
        attachments=tuple(attachments),
        headers={k: _header(msg, k) for k in _KEPT_HEADERS if _raw_values(msg, k)},
        forwarded=bool(forwarded_text) or parts.forwarded or bool(content.forwarded),
        forwarded_text=forwarded_text,
        hidden_text=hidden,
    )


def message_id_of(*, raw: bytes) -> str:
    """The Message-ID from the headers alone (cheap), or a content hash when there is none."""
    try:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        value = str(headers.get("Message-ID") or "").strip()
    except Exception:  # unreadable headers: fall back to the hash below
        value = ""
    return value or f"<sha256-{hashlib.sha256(raw).hexdigest()}@shipdraft.invalid>"


# --------------------------------------------------------------------------- helpers


def _reply_subject(*, subject: str, body: str) -> str:
    """The subject as the quote splitter should read it: "VS:" is a reply in Finnish, a forward elsewhere."""
    if re.match(r"\s*vs\s*:", subject, re.IGNORECASE) and detect_language(text=body[:600]) == "fi":
        return "RE:" + subject.split(":", 1)[1]
    return subject


def _language(*, subject: str, parts: BodyParts, forwarded_text: str) -> str:
    text = f"{subject}\n{parts.new_text}"
    if len(re.findall(r"[^\W\d_]{2,}", parts.new_text)) < 3:
        # "FYI, see below" over a forwarded message: the subject and the forward say more
        text = f"{subject}\n{text}\n{forwarded_text[:1000]}"
    return detect_language(text=text)


def _body_text(content: MimeContent) -> tuple[str, bool]:
    plain = "\n\n".join(t for t in content.plain if t.strip())
    if plain.strip():
        return plain, False
    hidden = False
    texts = []
    for html in content.html:
        rendered = render_html(html=html)
        hidden |= rendered.hidden_text
        texts.append(rendered.text)
    return "\n\n".join(t for t in texts if t), hidden


def _attachment(raw: RawAttachment, limits: AttachmentLimits) -> Attachment:
    extracted = extract_text(filename=raw.filename, content_type=raw.content_type, payload=raw.payload,
                             charset=raw.charset, limits=limits)
    return Attachment(filename=raw.filename, content_type=raw.content_type, size=len(raw.payload),
                      text=extracted.text, skipped_reason=extracted.skipped_reason)


def _forwarded(content: MimeContent, texts: list[str], attachments: list[Attachment],
               limits: AttachmentLimits, *, depth: int) -> bool:
    """Render attached (message/rfc822) forwards into ``texts``; their attachments join the list."""
    hidden = False
    for inner in content.forwarded:
        if depth > MAX_FORWARD_DEPTH:
            break
        sub = walk(inner)
        body, sub_hidden = _body_text(sub)
        hidden |= sub_hidden
        head = [f"{name}: {_header(inner, name)}" for name in _FORWARD_HEADERS if _header(inner, name)]
        texts.append("\n".join(["---------- Forwarded message ---------", *head, "", body.strip()]).strip())
        attachments.extend(_attachment(a, limits) for a in sub.attachments)
        hidden |= _forwarded(sub, texts, attachments, limits, depth=depth + 1)
    return hidden


def _raw_values(msg: Message, name: str) -> list[str]:
    """The raw values of a header (compat32 would wrap 8-bit values in a lossy Header object)."""
    lname = name.lower()
    try:
        return [str(v) for k, v in msg.raw_items() if k.lower() == lname]
    except Exception:  # a header line the parser could not store as text
        return []


def _header(msg: Message, name: str) -> str:
    values = _raw_values(msg, name)
    return header_text(values[0]) if values else ""


def _pairs(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs; names decoded after splitting, so an encoded comma splits nothing."""
    try:
        values = _raw_values(msg, name)
        raw = " ".join(re.sub(r"\r?\n[ \t]*", " ", v) for v in values)
        if any("\udc80" <= ch <= "\udcff" for ch in raw):
            raw = header_text(raw)
        pairs = email.utils.getaddresses([raw])
    except Exception:
        return []
    return [(header_text(display).strip(), addr.strip()) for display, addr in pairs]


def _address(msg: Message, name: str) -> tuple[str, str]:
    for display, addr in _pairs(msg, name):
        if "@" in addr:
            return display, addr.lower()
    return "", ""


def _addresses(msg: Message, name: str) -> tuple[str, ...]:
    return tuple(a.lower() for _, a in _pairs(msg, name) if "@" in a)


def _date(msg: Message) -> datetime | None:
    value = _header(msg, "Date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
