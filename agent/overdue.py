"""Promised dates that have already passed when an email is processed.

A confirmed (or requested) delivery date or a carrier ETA in the past must
never be presented as upcoming: the template drafter says it was due and
that we are following up, and the internal note warns the agent. Everything
here is pure: "now" is given by the caller (the pipeline's clock), never read
from the wall clock.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from agent.models import Fulfillment, LookupResult, Order, Shipment

_DONE_ORDER = frozenset({"delivered", "cancelled"})
_LEFT_ORDER = frozenset({"shipped", "partially_shipped", "delivered"})
_LEFT_WAREHOUSE = frozenset({"shipped"})


class OverdueOrder(BaseModel):
    """An order whose promised delivery date has passed before it was delivered."""

    model_config = ConfigDict(frozen=True)

    order_no: str
    due: date
    kind: str  # "confirmed" or "requested": which date of the order it is
    nothing_shipped: bool  # no line, shipment or warehouse record says anything has left
    upcoming_eta: bool  # a shipment of the order still has an ETA ahead: the carrier's date is current


def due_date(*, order: Order) -> tuple[date, str] | None:
    """The date the customer was promised: the confirmed one, else the requested one."""
    if order.confirmed_date:
        return order.confirmed_date, "confirmed"
    if order.requested_date:
        return order.requested_date, "requested"
    return None


def nothing_shipped(*, order: Order, shipments: tuple[Shipment, ...], fulfillment: Fulfillment | None) -> bool:
    """Whether no record says any of the order has left: status, lines, shipments and warehouse agree."""
    if order.status in _LEFT_ORDER or any(s.order_no == order.order_no for s in shipments):
        return False
    if fulfillment is not None and (fulfillment.status in _LEFT_WAREHOUSE or fulfillment.shipped_at):
        return False
    return not any(line.qty_shipped for line in order.lines)


def eta_passed(*, shipment: Shipment, now: datetime | None) -> bool:
    """Whether the shipment's ETA is before ``now`` and the carrier has not reported it delivered."""
    if now is None or shipment.eta is None or shipment.status == "delivered" or shipment.delivered_at:
        return False
    eta = shipment.eta if shipment.eta.tzinfo or now.tzinfo is None else shipment.eta.replace(tzinfo=now.tzinfo)
    current = now if now.tzinfo or eta.tzinfo is None else now.replace(tzinfo=eta.tzinfo)
    return eta < current


def overdue_order(*, order: Order, lookup: LookupResult, now: datetime | None) -> OverdueOrder | None:
    """The order's passed due date, or None when it is still ahead, missing, or the order is done."""
    due = due_date(order=order)
    if now is None or due is None or order.status in _DONE_ORDER or due[0] >= now.date():
        return None
    fulfillment = next((f for f in lookup.fulfillments if f.order_no == order.order_no), None)
    upcoming = any(s.order_no == order.order_no and s.eta is not None and s.status != "delivered"
                   and not eta_passed(shipment=s, now=now) for s in lookup.shipments)
    return OverdueOrder(order_no=order.order_no, due=due[0], kind=due[1],
                        nothing_shipped=nothing_shipped(order=order, shipments=lookup.shipments,
                                                        fulfillment=fulfillment),
                        upcoming_eta=upcoming)
