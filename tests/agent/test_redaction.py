"""PII redaction for hosted LLMs: emails, phones, IBANs and card numbers, restored afterwards."""

from __future__ import annotations

from agent.redaction import Redactor


def test_redacts_and_restores_every_kind() -> None:
    text = ("Mail kari.nilsen@hansen-mobler.example or call +47 912 34 567 / 55 12 34 56. "
            "IBAN NO93 8601 1117 947, card 4111 1111 1111 1111. Order NK204117, container MSKU 771902 8.")
    r = Redactor()
    red = r.redact(text)
    for secret in ("kari.nilsen@", "912 34 567", "55 12 34 56", "NO93 8601 1117 947", "4111 1111 1111 1111"):
        assert secret not in red
    assert "[EMAIL_1]" in red and "[PHONE_1]" in red and "[PHONE_2]" in red and "[IBAN_1]" in red
    assert "[CARD_1]" in red
    assert "NK204117" in red and "MSKU 771902 8" in red  # business references stay
    assert r.restore(red) == text


def test_same_value_same_placeholder_and_invalid_numbers_stay() -> None:
    r = Redactor()
    red = r.redact("a@b.example wrote to a@b.example; 4500 0124 7100 1234 is not a card (Luhn fails)")
    assert red.count("[EMAIL_1]") == 2
    assert "[CARD_" not in red


def test_keep_leaves_the_mailbox_address() -> None:
    r = Redactor(keep=frozenset({"ops@nordkyst-logistikk.example"}))
    assert r.redact("to ops@nordkyst-logistikk.example") == "to ops@nordkyst-logistikk.example"
