"""``shipdraft inspect``: what the agent sees in one email, without posting anything.

One record per input path: an RFC 822 file, or a plain-text file (no header
lines at the top), which is taken as a body. A file that cannot be read or
parsed gives ``{"path": ..., "error": "<reason>"}``; nothing here raises.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from agent.errors import ParseError
from agent.intents import IntentClassifier, RuleIntentClassifier
from agent.models import Email, Reference
from agent.parsing import parse_email
from agent.profile import ReferenceRules
from agent.references import extract_references

log = logging.getLogger(__name__)

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_EXCERPT = 300


def inspect_file(*, path: Path, rules: ReferenceRules, classifier: IntentClassifier | None = None) -> dict[str, Any]:
    """One JSON-able record for ``path``; ``{"path", "error"}`` when it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return {"path": str(path), "error": f"cannot read: {exc.strerror or exc}"}
    if not raw.strip():
        return {"path": str(path), "error": "empty message"}
    if _is_binary(raw):
        return {"path": str(path), "error": "not a text message (binary content)"}
    if not _HEADER_LINE.match(raw.lstrip()[:200]):
        raw = b"Content-Type: text/plain; charset=utf-8\n\n" + raw  # a plain-text file is a body
    try:
        email = parse_email(raw=raw, strict=False)
        refs = extract_references(email=email, rules=rules)
        intents = (classifier or RuleIntentClassifier()).classify(email=email)
    except ParseError as exc:
        return {"path": str(path), "error": str(exc)}
    except Exception as exc:  # a bug must not hide the other inputs: report it on this line
        log.exception("inspect failed", extra={"path": str(path)})
        return {"path": str(path), "error": f"internal error: {type(exc).__name__}: {exc}"}
    return _record(path=path, email=email, refs=refs, intents=[i.value for i in intents])


def _is_binary(raw: bytes) -> bool:
    """NUL bytes or many control characters near the start: an image, an archive, not an email."""
    head = raw[:4096]
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 12, 13)) or b == 127)
    return controls > len(head) * 0.05


def _record(*, path: Path, email: Email, refs: tuple[Reference, ...], intents: list[str]) -> dict[str, Any]:
    return {
        "path": str(path),
        "from": email.from_address,
        "subject": email.subject,
        "language": email.language,
        "reply_text": email.reply_text,
        "quoted_text": email.quoted_text,
        "signature": email.signature,
        "forwarded": email.forwarded,
        "forwarded_text": email.forwarded_text,
        "hidden_text": email.hidden_text,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                         "text_chars": len(a.text), "text_excerpt": a.text[:_EXCERPT],
                         "skipped_reason": a.skipped_reason} for a in email.attachments],
        "references": [{"kind": r.kind.value, "value": r.value, "raw": r.raw, "validity": r.validity.value,
                        "source": r.source.value, "span": list(r.span), "suggestion": r.suggestion,
                        "carrier": r.carrier} for r in refs],
        "intents": intents,
    }


def format_human(record: dict[str, Any]) -> str:
    """The same record for a person."""
    if "error" in record:
        return f"{record['path']}: ERROR {record['error']}"
    lines = [
        f"{record['path']}",
        f"  from:      {record['from']}",
        f"  subject:   {record['subject']}",
        f"  language:  {record['language']}",
        f"  intents:   {', '.join(record['intents'])}",
        "  references:",
        *(f"    {r['kind']:<17} {r['value']:<16} {r['validity']:<9} ({r['source']}: {r['raw']!r})"
          + (f" did you mean {r['suggestion']}?" if r["suggestion"] else "")
          + (f" [{r['carrier']}]" if r["carrier"] else "")
          for r in record["references"]),
        "  new text:",
        *(f"    | {line}" for line in record["reply_text"].splitlines()),
    ]
    if record["quoted_text"]:
        lines.append(f"  quoted history: {len(record['quoted_text'].splitlines())} lines")
    if record["forwarded"]:
        lines.append(f"  forwarded message: {len(record['forwarded_text'].splitlines())} lines")
    if record["signature"]:
        lines.append(f"  signature: {len(record['signature'].splitlines())} lines")
    if record["hidden_text"]:
        lines.append("  WARNING: the HTML hid text from the reader (dropped; a prompt-injection sign)")
    for a in record["attachments"]:
        what = f"{a['text_chars']} chars of text" if a["text_chars"] else f"no text: {a['skipped_reason']}"
        lines.append(f"  attachment: {a['filename']} ({a['content_type']}, {a['size']} bytes, {what})")
    return "\n".join(lines)
