"""Pydantic types passed between the pipeline stages.

Every stage takes and returns these models; nothing else crosses a stage
boundary. They are deliberately free of storage and transport concerns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- email


class Attachment(_Model):
    filename: str | None
    content_type: str
    size: int
    text: str = ""  # text extracted from PDF, CSV, XLSX and plain-text attachments (size-capped)
    skipped_reason: str | None = None  # why no text was extracted (too large, unreadable, image, ...)


class Email(_Model):
    """A parsed inbound (or sent) message: what the agent reads."""

    message_id: str
    subject: str
    from_address: str
    from_name: str = ""
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_text: str
    quoted_text: str = ""
    signature: str = ""
    language: str = "en"
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = Field(default_factory=dict)
    forwarded: bool = False  # the message forwards another one (inline or as message/rfc822)
    forwarded_text: str = ""  # the forwarded message(s), kept as context, never as the customer's own words
    hidden_text: bool = False  # the HTML hid text (display:none, font-size:0, ...): dropped, a prompt-injection sign


# --------------------------------------------------------------------------- references


class ReferenceKind(StrEnum):
    ORDER_NUMBER = "order_number"
    CUSTOMER_PO = "customer_po"
    CONTAINER_NUMBER = "container_number"
    SHIPMENT_ID = "shipment_id"
    TRACKING_NUMBER = "tracking_number"
    AIR_WAYBILL = "air_waybill"
    BILL_OF_LADING = "bill_of_lading"
    SSCC = "sscc"
    BOOKING_NUMBER = "booking_number"
    INVOICE_NUMBER = "invoice_number"
    DELIVERY_NOTE = "delivery_note"
    IMO_NUMBER = "imo_number"
    UNLOCODE = "unlocode"


class Validity(StrEnum):
    VALID = "valid"
    UNCHECKED = "unchecked"
    INVALID = "invalid"


class ReferenceSource(StrEnum):
    SUBJECT = "subject"
    NEW_TEXT = "new_text"
    QUOTED = "quoted"
    ATTACHMENT_NAME = "attachment_name"
    FORWARDED = "forwarded"  # inside a forwarded message
    ATTACHMENT = "attachment"  # inside an attachment's text


class Reference(_Model):
    kind: ReferenceKind
    value: str
    raw: str
    source: ReferenceSource
    span: tuple[int, int]
    validity: Validity = Validity.UNCHECKED
    suggestion: str | None = None
    carrier: str | None = None  # for tracking numbers: ups, fedex, dhl_express, ..., when the format tells


# --------------------------------------------------------------------------- intents


class Intent(StrEnum):
    ETA_REQUEST = "eta_request"
    STATUS_REQUEST = "status_request"
    DELIVERY_CHANGE = "delivery_change"
    CANCELLATION = "cancellation"
    DAMAGE_OR_CLAIM = "damage_or_claim"
    DOCUMENTS_REQUEST = "documents_request"
    BOOKING_REQUEST = "booking_request"
    COMPLAINT = "complaint"
    OTHER = "other"


# --------------------------------------------------------------------------- business records
#
# One normalized vocabulary for every connector: status codes below, timezone-aware
# datetimes, and a Source on every record. The ``status`` fields stay plain strings
# (so a record survives a vocabulary extension); connectors map into these codes.


class OrderStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    IN_PRODUCTION = "in_production"
    READY_FOR_PICKUP = "ready_for_pickup"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class ShipmentStatus(StrEnum):
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    AT_PORT = "at_port"
    CUSTOMS_HOLD = "customs_hold"
    DELAYED = "delayed"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    UNKNOWN = "unknown"


class FulfillmentStatus(StrEnum):
    OPEN = "open"
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


class MatchMethod(StrEnum):
    """How a sender was matched to a customer: their exact address, or only their email domain."""

    CONTACT = "contact"
    DOMAIN = "domain"


class Source(_Model):
    """Where a fact came from: the system, its record, and when we asked."""

    system: str
    record_id: str
    fetched_at: datetime
    link: str | None = None


class OrderLine(_Model):
    line_no: int
    sku: str | None = None
    description: str | None = None
    qty_ordered: float | None = None
    qty_shipped: float | None = None


class Order(_Model):
    order_no: str
    customer_id: str
    customer_po: str | None = None
    status: str
    requested_date: date | None = None
    confirmed_date: date | None = None
    lines: tuple[OrderLine, ...] = ()
    source: Source
    deliveries: tuple[str, ...] = ()  # linked delivery / shipment ids in the order system


class ShipmentEvent(_Model):
    time: datetime
    location: str | None = None
    code: str | None = None
    description: str | None = None


class DeliveryWindow(_Model):
    """A promised or estimated delivery window (timezone-aware)."""

    start: datetime
    end: datetime


class Shipment(_Model):
    shipment_id: str
    order_no: str | None
    customer_id: str
    carrier: str | None = None
    mode: str | None = None
    tracking_no: str | None = None
    container_no: str | None = None
    status: str
    origin: str | None = None
    destination: str | None = None
    eta: datetime | None = None
    delivered_at: datetime | None = None
    pod_signed_by: str | None = None
    last_event: ShipmentEvent | None = None
    source: Source
    delivery_window: DeliveryWindow | None = None
    pod_link: str | None = None  # proof of delivery document or page, when delivered


class Fulfillment(_Model):
    order_no: str
    customer_id: str
    warehouse: str | None = None
    status: str
    picked_at: datetime | None = None
    packed_at: datetime | None = None
    shipped_at: datetime | None = None
    source: Source


class CustomerMatch(_Model):
    """One customer a sender belongs to, and how the directory knew."""

    customer_id: str
    method: MatchMethod
    system: str = ""


class Fact(_Model):
    """One statement the draft may rely on, with its id and source."""

    id: str
    subject: str
    name: str
    value: str
    source: Source


class Withheld(_Model):
    """A reference the sender is not authorized to see; never its content."""

    reference: str
    reason: str


class LookupFailure(_Model):
    system: str
    kind: str
    reference: str | None
    error: str
    category: str = ""  # the connector error category: retryable, rate_limited, timeout, configuration, ...


class LookupResult(_Model):
    customer_ids: tuple[str, ...]
    orders: tuple[Order, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    fulfillments: tuple[Fulfillment, ...] = ()
    facts: tuple[Fact, ...] = ()
    withheld: tuple[Withheld, ...] = ()
    not_found: tuple[str, ...] = ()
    failures: tuple[LookupFailure, ...] = ()
    sender_matches: tuple[CustomerMatch, ...] = ()  # every match the directory made, accepted or not


# --------------------------------------------------------------------------- retrieval


class SimilarThread(_Model):
    """A past thread shown as a style example. Never a source of facts."""

    thread_id: str
    subject: str
    customer_text: str
    reply_text: str
    score: float


# --------------------------------------------------------------------------- drafting


class Suggestion(_Model):
    """One sentence or short block of a draft, with the facts it relies on (for per-suggestion acceptance)."""

    text: str
    fact_ids: tuple[str, ...] = ()
    kind: str = "sentence"


class Draft(_Model):
    draft_id: str
    subject: str
    body: str
    language: str
    drafter: str
    template_version: str
    fact_ids: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    notes: tuple[str, ...] = ()  # for the internal note: removals, fallback reason, model remarks
    confidence: float | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    fallback_reason: str | None = None


class Note(_Model):
    draft_id: str
    subject: str
    body: str
    warnings: tuple[str, ...] = ()


class AnalysisResult(_Model):
    """Everything the pipeline worked out for one inbound message before posting."""

    email: Email
    references: tuple[Reference, ...]
    intents: tuple[Intent, ...]
    lookup: LookupResult
    similar: tuple[SimilarThread, ...]
    draft: Draft
    note: Note


class AcceptanceOutcome(StrEnum):
    SENT_AS_IS = "sent_as_is"
    EDITED = "edited"
    REWRITTEN = "rewritten"
    DISCARDED = "discarded"
    REPLIED_WITHOUT_DRAFT = "replied_without_draft"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class SuggestionOutcome(_Model):
    """Whether one suggestion of a draft survived in the reply the agent sent."""

    index: int
    kind: str
    survived: bool
    score: float


class Acceptance(_Model):
    outcome: AcceptanceOutcome
    similarity: float | None = None
    edit_size: int | None = None
    light_edit: bool = False  # edited, but at or above the light-edit threshold
    suggestions: tuple[SuggestionOutcome, ...] = ()
    seconds_to_send: float | None = None
    sent_by: str | None = None
