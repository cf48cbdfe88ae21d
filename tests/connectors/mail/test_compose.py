"""The draft and note messages: threaded, encoded for every client, readable as stored."""

from __future__ import annotations

import email
import email.policy

from agent.models import Draft, Note
from agent.parsing import parse_email
from connectors.mail.compose import DRAFT_HEADER, NOTE_HEADER, draft_message, note_message
from tests.helpers import make_email

INBOUND = parse_email(raw=make_email(name="Kari Nilsen Åsheim", subject="Når kommer ordre NK204117?",
                                     message_id="<m2@hansen.example>", in_reply_to="<m1@hansen.example>"))
MAILBOX = {"mailbox_address": "ops@nordkyst-logistikk.example", "mailbox_name": "Nordkyst Logistikk – Kundeservice"}


def _read(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_the_draft_threads_and_decodes_to_what_was_written() -> None:
    body = "Hei Kari,\n\nOrdre NK204117 er sendt og kommer fredag.\n\nMed vennlig hilsen\nNordkyst – Kundeservice\n"
    subject = "Re: Når kommer ordre NK204117? – en lang emnelinje som en e-postklient må brette over to linjer"
    raw = draft_message(inbound=INBOUND, draft=Draft(draft_id="d-1", subject=subject, body=body, language="no",
                                                     drafter="template", template_version="v"), **MAILBOX)
    msg = _read(raw)
    assert (msg["Subject"], msg["To"], msg["From"]) == (
        subject, "Kari Nilsen Åsheim <kari.nilsen@hansen-mobler.example>",
        "Nordkyst Logistikk – Kundeservice <ops@nordkyst-logistikk.example>")
    assert (msg["In-Reply-To"], msg["References"]) == ("<m2@hansen.example>", "<m1@hansen.example> <m2@hansen.example>")
    assert msg[DRAFT_HEADER] == "d-1" and msg["Date"].datetime.utcoffset().total_seconds() == 0
    assert msg["Content-Transfer-Encoding"] == "8bit" and msg.get_content() == body
    assert raw.isascii() is False and all(len(line) <= 998 for line in raw.split(b"\n"))  # 8bit, SMTP-safe lines
    assert max(len(line) for line in raw.split(b"\n\n", 1)[0].split(b"\n")) <= 78  # headers folded


def test_a_line_too_long_for_smtp_is_quoted_printable_and_the_note_has_no_recipient() -> None:
    body = "Fakta:\n" + "x" * 1500 + "\nslutt æøå\n"
    raw = note_message(inbound=INBOUND, note=Note(draft_id="d-1", subject="[shipdraft note] Re: ordre", body=body),
                       **MAILBOX)
    msg = _read(raw)
    assert msg["Content-Transfer-Encoding"] == "quoted-printable" and msg.get_content() == body
    assert all(len(line) <= 998 for line in raw.split(b"\n"))
    assert msg[NOTE_HEADER] == "d-1" and not any(msg[h] for h in ("To", "Cc", "Bcc"))


def test_the_fast_header_path_writes_what_compat32_writes() -> None:
    import email.policy
    import random

    from connectors.mail.compose import _POLICY

    rng = random.Random(20261206)
    alphabet = "ab cd\t<>@.,;:-=_!\"'()  æ"
    for _ in range(20_000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 100)))
        name = rng.choice(["To", "Subject", "References", "X-Shipdraft-Draft-Id"])
        assert _POLICY.fold_binary(name, value) == email.policy.compat32.fold_binary(name, value), (name, value)
