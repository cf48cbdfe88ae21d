"""Per-mailbox settings the domain needs: reference rules, authorization, style.

Loaded from the mailbox YAML by the composition root and handed to the
pipeline; the domain never reads files or environment variables itself.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.errors import ConfigurationError

DEFAULT_ORDER_LABELS = (
    "order", "order no", "order number", "order nr", "ordre", "ordrenr", "ordrenummer",
    "bestilling", "bestillingsnr", "auftrag", "auftragsnr", "auftragsnummer", "bestellung",
    "bestellnummer", "beställning", "order nummer", "ordernummer", "ordernr", "commande",
    "pedido", "ordine", "zamówienie", "tilaus",
)
DEFAULT_PO_LABELS = (
    "po", "po no", "po number", "purchase order", "our po", "your po", "customer po",
    "innkjøpsordre", "vår ref", "unsere bestellnummer", "bestellnr", "inköpsorder",
)


class AuthorizationPolicy(StrEnum):
    STRICT = "strict"
    DOMAIN_ONLY = "domain_only"
    OFF = "off"


class ReferenceRules(BaseModel):
    """How this mailbox's own identifiers look."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_patterns: tuple[str, ...] = ()
    order_label_words: tuple[str, ...] = DEFAULT_ORDER_LABELS
    order_label_value: str = r"[A-Z]{0,4}[- ]?\d{4,10}"
    order_prefix: str = ""
    po_label_words: tuple[str, ...] = DEFAULT_PO_LABELS
    po_label_value: str = r"[A-Z]{0,4}[- ]?\d{4,12}"

    @field_validator("order_patterns", "order_label_value", "po_label_value")
    @classmethod
    def _compiles(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for pattern in (value,) if isinstance(value, str) else value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(f"invalid reference pattern {pattern!r}: {exc}") from exc
        return value

    @cached_property
    def compiled_order_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, re.IGNORECASE) for p in self.order_patterns)


class StyleGuide(BaseModel):
    """How a mailbox writes: the drafters follow it; the verifier accepts what its signature says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    company: str = "Customer service"
    signature: str = "Customer service"
    default_language: str = "en"
    tone: str = "professional and warm"
    greetings: dict[str, str] = Field(default_factory=dict, description="language -> greeting, e.g. no: Hei")
    sign_offs: dict[str, str] = Field(default_factory=dict, description="language -> sign-off line")
    never_promise: tuple[str, ...] = ("compensation or refunds", "a delivery date the systems do not show",
                                      "that a damage claim will be accepted")


class MailboxProfile(BaseModel):
    """What the pipeline knows about the mailbox it drafts for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    address: str
    references: ReferenceRules = Field(default_factory=ReferenceRules)
    authorization: AuthorizationPolicy = AuthorizationPolicy.STRICT
    style: StyleGuide = Field(default_factory=StyleGuide)
    languages: tuple[str, ...] = ("en", "no", "sv", "de", "da")
    replace_untouched_drafts: bool = Field(
        default=True, description="a new customer message replaces the thread's older draft if nobody edited it")
