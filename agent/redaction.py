"""PII redaction before text leaves for a hosted LLM, and restoration in the draft.

Email addresses, phone numbers, IBANs and payment card numbers (Luhn-checked,
so order numbers are not mistaken for cards) become numbered placeholders
such as ``[EMAIL_1]``; the same value always gets the same placeholder, so
the model can still refer to it and the draft gets the real value back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stdnum import iban as stdnum_iban
from stdnum import luhn

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)\d[\d ()-]{6,16}\d(?!\w)"  # international: +47 55 12 34 56, 0047 ...
    r"|(?<![\w])\d{2,4}[ ]\d{2,4}[ ]\d{2,4}(?:[ ]\d{2,4})?(?!\w)"  # national groups: 55 12 34 56
)
_PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|IBAN|CARD)_(\d+)\]")


@dataclass
class Redactor:
    """Replaces PII with stable placeholders and puts it back; one instance per draft."""

    keep: frozenset[str] = frozenset()  # values that may stay (the mailbox's own address, say)
    _by_value: dict[str, str] = field(default_factory=dict)
    _by_token: dict[str, str] = field(default_factory=dict)

    def redact(self, text: str) -> str:
        text = _EMAIL.sub(lambda m: self._token("EMAIL", m.group(0)), text)
        text = _IBAN.sub(lambda m: self._token("IBAN", m.group(0)) if _is_iban(m.group(0)) else m.group(0), text)
        text = _CARD.sub(lambda m: self._token("CARD", m.group(0)) if _is_card(m.group(0)) else m.group(0), text)
        return _PHONE.sub(lambda m: self._token("PHONE", m.group(0)), text)

    def restore(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._by_token.get(m.group(0), m.group(0)), text)

    @property
    def count(self) -> int:
        return len(self._by_token)

    def _token(self, kind: str, value: str) -> str:
        if value.lower() in self.keep:
            return value
        if value not in self._by_value:
            token = f"[{kind}_{sum(t.startswith(f'[{kind}_') for t in self._by_token) + 1}]"
            self._by_value[value] = token
            self._by_token[token] = value
        return self._by_value[value]


def _is_iban(value: str) -> bool:
    return stdnum_iban.is_valid(value.replace(" ", ""))


def _is_card(value: str) -> bool:
    digits = re.sub(r"\D", "", value)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)
