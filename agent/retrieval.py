"""Similar past threads of the same mailbox, used as style examples (never as facts).

What is indexed: a thread the team has answered, as the customer's new text
(quoted history already removed by parsing) and the reply that was sent,
redacted by the mailbox's ``RedactionPolicy``, with its intents, language
and date (``prepare_thread``). What is searched: the subject and new text
of the inbound email (``query_text``), against the same fields of past
threads (``embedding_text``), by vector similarity and by full-text search;
the two rankings are fused with weighted reciprocal rank fusion (``fuse``).

The store implements ``ThreadIndex``; this module holds the pure parts:
what text goes in, how rankings are fused, what is redacted, and the rule
that retrieval trouble never stops a draft.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from agent.embeddings import EmbedderConfig
from agent.intents import IntentClassifier, RuleIntentClassifier
from agent.models import Email, SimilarThread
from agent.profile import ReferenceRules
from agent.references import extract_references

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 8000


class SearchMode(StrEnum):
    HYBRID = "hybrid"
    VECTOR = "vector"
    TEXT = "text"


class SearchSettings(BaseModel):
    """How similar threads are searched and fused; defaults measured with ``evals/retrieval_eval.py``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int = Field(default=3, ge=1, le=50, description="threads handed to the drafter")
    candidates: int = Field(default=40, ge=1, le=1000, description="k of each ranking before fusion")
    rrf_k: float = Field(default=60.0, gt=0, description="reciprocal rank fusion constant")
    vector_weight: float = Field(default=2.0, ge=0, description="RRF weight of the vector ranking")
    text_weight: float = Field(default=1.0, ge=0, description="RRF weight of the full-text ranking")
    ef_search: int = Field(default=100, ge=1, le=1000, description="HNSW search breadth (pgvector hnsw.ef_search)")
    max_text_terms: int = Field(default=16, ge=1, le=64, description="query words sent to full-text search")
    text_row_budget: int = Field(
        default=1000, ge=10,
        description="full-text search ranks about this many rows at most: the commonest query words are dropped "
                    "(by the planner's word statistics) until the estimate fits",
    )


class RankedList(BaseModel):
    """One ranking of thread ids, best first."""

    model_config = ConfigDict(frozen=True)

    name: str
    ids: tuple[int, ...]


def fuse(*, rankings: Sequence[RankedList], weights: Mapping[str, float], rrf_k: float,
         limit: int) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum over rankings of w / (rrf_k + rank(d)), rank from 1.

    Ties are broken by the best rank anywhere, then by the id (newer first), so the
    order is deterministic.
    """
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking in rankings:
        weight = weights.get(ranking.name, 1.0)
        if weight <= 0:
            continue
        for rank, item in enumerate(ranking.ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
            best[item] = min(best.get(item, rank), rank)
    ordered = sorted(scores, key=lambda i: (-scores[i], best[i], -i))
    return [(i, scores[i]) for i in ordered[:limit]]


# ---------------------------------------------------------------------------------------------- redaction


class RedactionPolicy(BaseModel):
    """What is removed from a thread before it is indexed (and later shown to a drafter as an example).

    Past threads belong to other customers: their identifiers, addresses and
    phone numbers have no place in someone else's draft, and the style of a
    reply survives without them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    references: bool = Field(default=True, description="order, PO, container, shipment and tracking numbers")
    email_addresses: bool = True
    phone_numbers: bool = True
    urls: bool = True


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
# International numbers (+47 912 34 567, 0046-8-123 456) and numbers after a phone label.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ \-/.]?\(?\d{1,4}\)?){2,6}(?!\w)"
    r"|(?i:\b(?:tel|tlf|phone|telefon|mobil|mobile|handy|fon)\.?\s*:?\s*)\(?\d[\d \-/().]{5,}\d",
)


def redact(*, text: str, policy: RedactionPolicy, rules: ReferenceRules) -> str:
    """``text`` with what the policy names replaced by placeholders such as ``[container_number]``."""
    if policy.email_addresses:
        text = _EMAIL.sub("[email]", text)
    if policy.urls:
        text = _URL.sub("[link]", text)
    if policy.phone_numbers:
        text = _PHONE.sub("[phone]", text)
    if policy.references:
        probe = Email(message_id="redaction", subject="", from_address="", reply_text=text)
        spans = sorted(((r.span, r.kind.value) for r in extract_references(email=probe, rules=rules)
                        if r.source == "new_text"), reverse=True)
        for (start, end), kind in spans:
            text = f"{text[:start]}[{kind}]{text[end:]}"
    return text


class RetrievalConfig(BaseModel):
    """A mailbox's ``retrieval:`` block: which embedder, how to search and fuse, what to redact."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    search: SearchSettings = Field(default_factory=SearchSettings)
    redaction: RedactionPolicy = Field(default_factory=RedactionPolicy)


# ---------------------------------------------------------------------------------------------- indexing


class PastThread(BaseModel):
    """An answered thread, ready to be indexed: redacted, with intents, language and date."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mailbox: str
    thread_key: str = Field(description="Message-ID of the customer's message")
    subject: str
    customer_text: str
    reply_text: str
    language: str | None = None
    intents: tuple[str, ...] = ()
    replied_at: datetime | None = None


def prepare_thread(
    *,
    mailbox: str,
    thread_key: str,
    subject: str,
    customer_text: str,
    reply_text: str,
    language: str | None,
    replied_at: datetime | None,
    intents: Sequence[str] | None = None,
    policy: RedactionPolicy | None = None,
    rules: ReferenceRules | None = None,
    classifier: IntentClassifier | None = None,
) -> PastThread:
    """Classify (on the original text), then redact and bound the texts of one answered thread."""
    if intents is None:
        probe = Email(message_id=thread_key, subject=subject, from_address="", reply_text=customer_text,
                      language=language or "en")
        intents = [i.value for i in (classifier or RuleIntentClassifier()).classify(email=probe)]
    policy = policy or RedactionPolicy()
    rules = rules or ReferenceRules()

    def clean(text: str) -> str:
        return redact(text=text[:MAX_TEXT_CHARS], policy=policy, rules=rules)[:MAX_TEXT_CHARS].strip()

    return PastThread(mailbox=mailbox, thread_key=thread_key, subject=clean(subject)[:500],
                      customer_text=clean(customer_text), reply_text=clean(reply_text), language=language,
                      intents=tuple(intents), replied_at=replied_at)


def embedding_text(*, subject: str, customer_text: str) -> str:
    """What is embedded for a past thread: the same shape as ``query_text`` of an inbound email."""
    return f"{subject}\n{customer_text}"[:2000]


def query_text(*, email: Email) -> str:
    """The part of the email that says what it is about: subject and new text."""
    return embedding_text(subject=email.subject, customer_text=email.reply_text)


# ---------------------------------------------------------------------------------------------- searching


class ThreadIndex(Protocol):
    """Search over the mailbox's answered threads; implemented in store/."""

    async def similar(self, *, mailbox: str, text: str, limit: int) -> list[SimilarThread]: ...


async def similar_threads(
    *, index: ThreadIndex | None, mailbox: str, email: Email, limit: int = 3
) -> tuple[SimilarThread, ...]:
    """Up to ``limit`` similar threads; retrieval trouble never stops a draft."""
    if index is None:
        return ()
    try:
        return tuple(await index.similar(mailbox=mailbox, text=query_text(email=email), limit=limit))
    except Exception:  # retrieval is an aid; its failure is logged and the draft goes on
        log.exception("similar-thread retrieval failed", extra={"mailbox": mailbox})
        return ()
