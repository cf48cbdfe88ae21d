"""MIME structure and text decoding: what a message is made of.

Walks a message parsed by the standard library's ``email`` package and sorts
its leaves into body text (plain and HTML), attachments, inline images (ignored)
and forwarded messages (``message/rfc822``, walked in turn):

- ``multipart/alternative``: the plain part unless it is empty, else the HTML
  one (a nested ``multipart/related`` branch counts as the HTML one);
- ``multipart/related``: the root part is the body, images referenced by it
  are inline images and ignored;
- ``multipart/mixed`` and the others: text parts without a file name are body
  pieces in order (Apple Mail interleaves them with attachments), everything
  else is an attachment;
- ``message/rfc822`` (also as an attachment, "forward as attachment"): a
  forwarded message.

Text is decoded from any charset Python knows, the usual mislabels fixed
(windows-1252 bytes labelled iso-8859-1 or us-ascii, UTF-8 labelled latin-1,
a missing or unknown charset): UTF-8 first, then the declared charset, then
windows-1252, then charset-normalizer's guess. It never raises.
"""

from __future__ import annotations

import codecs
import email.header
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import Message

MAX_DEPTH = 25  # nesting deeper than this is not walked (a MIME bomb, not a real message)

_WESTERN = frozenset({"iso8859-1", "latin-1", "ascii", "iso8859-15", "cp1252"})
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class RawAttachment:
    filename: str | None
    content_type: str
    payload: bytes
    charset: str | None


@dataclass
class MimeContent:
    """The leaves of one message (or of a forwarded one), sorted by role."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[RawAttachment] = field(default_factory=list)
    forwarded: list[Message] = field(default_factory=list)
    inline_images: int = 0
    truncated: bool = False  # nesting deeper than MAX_DEPTH was not walked


def walk(msg: Message) -> MimeContent:
    """Sort the parts of ``msg`` into body text, attachments and forwarded messages."""
    content = MimeContent()
    _walk(msg, content, depth=0)
    return content


# ----------------------------------------------------------------------------- decoding


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Text from bytes in a declared (possibly wrong or missing) charset; never raises."""
    declared = _codec(charset)
    if payload.isascii():
        return clean_text(payload.decode("ascii"))
    candidates: list[str] = []
    if declared is None or declared in _WESTERN or declared == "utf-8":
        candidates.append("utf-8")  # UTF-8 mislabelled as latin-1 is common; latin-1 text is rarely valid UTF-8
    if declared is not None and declared not in _WESTERN:
        candidates.append(declared)
    candidates.append("cp1252")  # iso-8859-1 and us-ascii labels usually mean windows-1252
    for name in candidates:
        try:
            return clean_text(payload.decode(name))
        except (UnicodeDecodeError, LookupError):
            continue
    guess = _guess(payload)
    if guess is not None:
        return clean_text(guess)
    return clean_text(payload.decode("latin-1"))


def clean_text(text: str) -> str:
    """NFC, Unix newlines, no control or zero-width characters (which also hide references)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def header_text(value: object) -> str:
    """A header value as clean text: RFC 2047 encoded words decoded, raw 8-bit bytes decoded, unfolded."""
    text = "" if value is None else str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # undecoded 8-bit bytes (surrogateescape)
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    text = re.sub(r"\r?\n[ \t]*", " ", text)
    if "=?" in text:
        text = _decode_words(text)
    text = _CONTROL.sub("", text.replace("\r", " ").replace("\n", " "))
    return unicodedata.normalize("NFC", text)


def _decode_words(text: str) -> str:
    """RFC 2047 encoded words, each in its charset (unknown charsets and broken words decoded leniently)."""
    try:
        parts = email.header.decode_header(text)
    except Exception:  # a malformed encoded word: keep the text as it is
        return text
    # with an encoded word present every chunk is bytes; plain chunks keep their own spaces
    return "".join(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset) for chunk, charset in parts)


def part_text(part: Message) -> str:
    """The decoded text of one leaf part."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: take the raw payload
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return clean_text(raw if isinstance(raw, str) else "")
    return decode_bytes(payload, _charset(part))


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    if name.endswith("-i") and name.startswith("iso-8859-"):
        name = name[:-2]  # iso-8859-8-i (logical order) is iso-8859-8 for decoding
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _guess(payload: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: fall back to latin-1 below
        return None
    best = from_bytes(payload[:65536]).best()
    if best is None:
        return None
    try:
        return payload.decode(best.encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # a malformed Content-Type parameter
        return None


# ----------------------------------------------------------------------------- structure


def _ctype(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:
        return None


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return header_text(name).strip() or None if name else None


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    return []


def _walk(part: Message, content: MimeContent, *, depth: int) -> None:
    if depth > MAX_DEPTH:
        content.truncated = True
        return
    ctype = _ctype(part)
    if ctype in ("message/rfc822", "message/global"):
        inner = _children(part)
        if inner:
            content.forwarded.append(inner[0])
            return
        # an unparsed or empty message part: keep it as an attachment
        _attachment(part, content)
        return
    if part.is_multipart():
        children = _children(part)
        if ctype == "multipart/alternative":
            _alternative(children, content, depth=depth)
        elif ctype == "multipart/related":
            _related(part, children, content, depth=depth)
        elif ctype == "multipart/signed":
            for child in children:
                if _ctype(child) in ("application/pgp-signature", "application/pkcs7-signature",
                                     "application/x-pkcs7-signature"):
                    continue
                _walk(child, content, depth=depth + 1)
        else:
            for child in children:
                _walk(child, content, depth=depth + 1)
        return
    _leaf(part, content)


def _leaf(part: Message, content: MimeContent) -> None:
    ctype = _ctype(part)
    disposition = _disposition(part)
    filename = _filename(part)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
        (content.plain if ctype == "text/plain" else content.html).append(part_text(part))
        return
    if ctype.startswith("image/") and disposition != "attachment" and (part.get("Content-ID") or not filename):
        content.inline_images += 1
        return
    _attachment(part, content)


def _attachment(part: Message, content: MimeContent) -> None:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    content.attachments.append(RawAttachment(filename=_filename(part), content_type=_ctype(part),
                                             payload=payload, charset=_charset(part)))


def _alternative(children: list[Message], content: MimeContent, *, depth: int) -> None:
    branches = []
    for child in children:
        sub = MimeContent()
        _walk(child, sub, depth=depth + 1)
        branches.append(sub)
    plain = next((b for b in branches if any(t.strip() for t in b.plain) and not b.html), None)
    rich = next((b for b in reversed(branches) if any(t.strip() for t in b.html)), None)
    chosen = plain or rich or (branches[-1] if branches else None)
    for b in branches:  # attachments and forwards of every branch count; only one branch's text does
        content.attachments.extend(b.attachments)
        content.forwarded.extend(b.forwarded)
        content.inline_images += b.inline_images
        content.truncated |= b.truncated
    if chosen is not None:
        content.plain.extend(chosen.plain)
        content.html.extend(chosen.html)


def _related(part: Message, children: list[Message], content: MimeContent, *, depth: int) -> None:
    if not children:
        return
    start = part.get_param("start") if hasattr(part, "get_param") else None
    root = children[0]
    if isinstance(start, str):
        for child in children:
            if str(child.get("Content-ID", "")).strip() == start.strip():
                root = child
                break
    _walk(root, content, depth=depth + 1)
    for child in children:
        if child is root:
            continue
        if _ctype(child).startswith("image/") and _disposition(child) != "attachment":
            content.inline_images += 1
        else:
            _walk(child, content, depth=depth + 1)
