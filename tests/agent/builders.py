"""Small builders for the agent tests: emails, references and business records.

Pure data, no I/O: the demo customers are reused by name only (C100 Hansen Møbler,
C300 Svea Kök) so the fixtures read like the demo mailbox.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from agent.models import (
    Email,
    Order,
    OrderLine,
    Reference,
    ReferenceKind,
    ReferenceSource,
    Shipment,
    ShipmentEvent,
    Source,
    Validity,
)
from agent.profile import ReferenceRules
from shipdraft.config import demo_config_path, load_mailbox_config

FETCHED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEMO_DIR = Path(demo_config_path()).parent

KARI = "kari.nilsen@hansen-mobler.example"  # contact of C100
ANNA = "anna.lind@sveakok.example"  # contact of C300
STRANGER = "mike@unknown-shop.example"  # contact of nobody


def demo_rules() -> ReferenceRules:
    """The ReferenceRules of the demo mailbox (NK + 6 digits, prefix NK)."""
    return load_mailbox_config(path=demo_config_path()).references


def make_email(*, subject: str = "Question", reply_text: str = "", quoted_text: str = "",
               language: str = "en", from_address: str = KARI, from_name: str = "Kari Nilsen") -> Email:
    return Email(message_id="<test@x.example>", subject=subject, from_address=from_address,
                 from_name=from_name, reply_text=reply_text, quoted_text=quoted_text, language=language)


def ref(value: str, kind: ReferenceKind = ReferenceKind.ORDER_NUMBER, *,
        validity: Validity = Validity.UNCHECKED, source: ReferenceSource = ReferenceSource.NEW_TEXT,
        suggestion: str | None = None) -> Reference:
    return Reference(kind=kind, value=value, raw=value, source=source, span=(0, len(value)),
                     validity=validity, suggestion=suggestion)


def source(system: str, record_id: str) -> Source:
    return Source(system=system, record_id=record_id, fetched_at=FETCHED)


def order(order_no: str = "NK204117", customer_id: str = "C100", *, status: str = "shipped",
          customer_po: str | None = "4500012400", confirmed: date | None = date(2026, 11, 24),
          requested: date | None = None, system: str = "erp") -> Order:
    return Order(order_no=order_no, customer_id=customer_id, customer_po=customer_po, status=status,
                 requested_date=requested, confirmed_date=confirmed,
                 lines=(OrderLine(line_no=1, sku="SOFA-3", description="Sofa 3-seter", qty_ordered=12,
                                  qty_shipped=12),),
                 source=source(system, order_no))


def shipment(shipment_id: str = "SHP-100117", order_no: str | None = "NK204117", customer_id: str = "C100", *,
             status: str = "in_transit", container_no: str | None = "MSKU7719028",
             eta: datetime | None = datetime(2026, 12, 3, 10, 0, tzinfo=UTC), carrier: str | None = "Maersk",
             destination: str | None = "Bergen", delivered_at: datetime | None = None,
             pod_signed_by: str | None = None, system: str = "tms") -> Shipment:
    return Shipment(shipment_id=shipment_id, order_no=order_no, customer_id=customer_id, carrier=carrier,
                    mode="sea", container_no=container_no, status=status, destination=destination, eta=eta,
                    delivered_at=delivered_at, pod_signed_by=pod_signed_by,
                    last_event=ShipmentEvent(time=datetime(2026, 11, 21, 14, 0, tzinfo=UTC), location="Hamburg",
                                             code="DEP", description="Departed"),
                    source=source(system, shipment_id))
