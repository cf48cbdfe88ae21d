"""Small builders shared by tests."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid


def make_email(*, sender: str = "kari.nilsen@hansen-mobler.example", name: str = "Kari Nilsen",
               subject: str = "Status ordre NK204117", body: str = "Hei, når kommer ordre NK204117?",
               message_id: str | None = None, in_reply_to: str | None = None,
               to: str | None = "ops@nordkyst-logistikk.example", extra: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"{name} <{sender}>"
    if to:
        msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="test.example")
    msg["Date"] = "Mon, 23 Nov 2026 09:00:00 +0100"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content(body)
    return msg.as_bytes()
