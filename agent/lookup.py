"""Fan-out to the business systems, sender authorization, facts with sources.

Every call for every reference runs concurrently in one wave (the sender's
customers, the order, its shipments and its warehouse status are fetched side
by side), so the wall time is that of the slowest call; an order found only by
the customer's PO gets its shipments and warehouse status in a second wave,
once the ERP has told its order number. Records are authorized
afterwards: a record owned by a customer the sender does not belong to is
withheld, and only the reference (never its content) is reported with the
reason. A failing or slow system becomes a ``LookupFailure``, never an
exception.

Who the sender belongs to depends on the mailbox's policy:

- ``strict`` (default): only customers whose contact list holds the sender's
  exact address. A colleague writing from the same domain is not enough.
- ``domain_only``: customers matched by the exact address or by the sender's
  email domain.
- ``off``: no authorization; every record found is used (a trusted internal
  mailbox only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from agent.models import (
    CustomerMatch,
    Fact,
    Fulfillment,
    LookupFailure,
    LookupResult,
    MatchMethod,
    Order,
    Reference,
    ReferenceKind,
    Shipment,
    Source,
    Withheld,
)
from agent.profile import AuthorizationPolicy
from connectors.base import (
    ConnectorError,
    CustomerDirectory,
    OrderSystem,
    ShipmentTracker,
    WarehouseSystem,
)

T = TypeVar("T")
_TRACKABLE = (ReferenceKind.CONTAINER_NUMBER, ReferenceKind.SHIPMENT_ID, ReferenceKind.TRACKING_NUMBER,
              ReferenceKind.AIR_WAYBILL, ReferenceKind.BILL_OF_LADING)


@dataclass(frozen=True, slots=True)
class BusinessSystems:
    """The active systems of a mailbox, by kind; any may be missing."""

    directory: CustomerDirectory
    orders: OrderSystem | None = None
    tracker: ShipmentTracker | None = None
    warehouse: WarehouseSystem | None = None
    names: dict[str, str] | None = None  # kind -> configured system name, for notes

    def name_of(self, kind: str) -> str:
        return (self.names or {}).get(kind, kind)


async def lookup(
    *,
    sender: str,
    references: tuple[Reference, ...],
    systems: BusinessSystems,
    policy: AuthorizationPolicy,
    timeout: float = 10.0,
) -> LookupResult:
    """Look every usable reference up and return authorized records and facts."""
    failures: list[LookupFailure] = []

    async def call(kind: str, ref: str | None, fn: Callable[[], Awaitable[T]], empty: T) -> T:
        try:
            async with asyncio.timeout(timeout):  # like wait_for, without a task per call
                return await fn()
        except TimeoutError:
            failures.append(LookupFailure(system=systems.name_of(kind), kind=kind, reference=ref,
                                          error=f"no answer within {timeout:g} s", category="timeout"))
        except ConnectorError as exc:
            failures.append(LookupFailure(system=systems.name_of(kind), kind=kind, reference=ref,
                                          error=str(exc), category=exc.category.value))
        return empty

    usable = [r for r in references if r.validity != "invalid"]
    order_refs = _unique(r.value for r in usable if r.kind == ReferenceKind.ORDER_NUMBER)
    po_refs = _unique(r.value for r in usable if r.kind == ReferenceKind.CUSTOMER_PO)
    track_refs = [(r.kind, r.value) for r in usable if r.kind in _TRACKABLE]

    o, t, w = systems.orders, systems.tracker, systems.warehouse
    customers_task = call("directory", None,
                          lambda: systems.directory.customers_for_sender(address=sender), [])
    order_tasks = [call("erp", n, lambda n=n: o.get_order(order_no=n), None) for n in order_refs] if o else []
    po_tasks = [call("erp", p, lambda p=p: o.find_orders_by_po(customer_po=p), []) for p in po_refs] if o else []
    ship_tasks = [call("tms", n, lambda n=n: t.shipments_for_order(order_no=n), []) for n in order_refs] if t else []
    wms_tasks = [call("wms", n, lambda n=n: w.fulfillment(order_no=n), None) for n in order_refs] if w else []
    track_tasks = [call("tms", v, lambda k=k, v=v: t.track(kind=k, value=v), []) for k, v in track_refs] if t else []

    results = await asyncio.gather(customers_task, *order_tasks, *po_tasks, *ship_tasks, *wms_tasks,
                                   *track_tasks)
    matches: list[CustomerMatch] = results[0]
    it = iter(results[1:])
    orders_by_ref: list[Order | None] = [next(it) for _ in order_tasks]
    po_orders: list[list[Order]] = [next(it) for _ in po_tasks]
    order_shipments: list[list[Shipment]] = [next(it) for _ in ship_tasks]
    fulfillments: list[Fulfillment | None] = [next(it) for _ in wms_tasks]
    tracked: list[list[Shipment]] = [next(it) for _ in track_tasks]

    customers = accepted_customers(matches=matches, policy=policy)
    allowed = set(customers)
    domain_only = {m.customer_id for m in matches} - allowed
    directory_failed = any(f.kind == "directory" for f in failures)

    def authorized(owner: str) -> bool:
        return policy == AuthorizationPolicy.OFF or owner in allowed

    def reason(ref: str, owners: set[str]) -> str:
        return _reason(ref=ref, sender=sender, owners=owners, allowed=allowed, domain_only=domain_only,
                       directory_failed=directory_failed)

    failed_refs = {f.reference for f in failures if f.kind == "erp"}
    withheld: list[Withheld] = []
    not_found: list[str] = []
    orders: dict[str, Order] = {}
    blocked_orders: set[str] = set()
    for ref, order in zip(order_refs, orders_by_ref, strict=False):
        if order is None:
            if ref not in failed_refs:
                not_found.append(ref)
        elif authorized(order.customer_id):
            orders[order.order_no] = order
        else:
            blocked_orders.add(ref)
            withheld.append(Withheld(reference=ref, reason=reason(ref, {order.customer_id})))
    for ref, found in zip(po_refs, po_orders, strict=False):
        mine = [x for x in found if authorized(x.customer_id)]
        if not found and ref not in failed_refs:
            not_found.append(ref)
        elif found and not mine:
            withheld.append(Withheld(reference=ref, reason=reason(ref, {x.customer_id for x in found})))
        for order in mine:
            orders.setdefault(order.order_no, order)

    # An order found only by the customer's PO: its order number is known only now, so its shipments and
    # warehouse status are a second, small wave (without it, "where is PO 4500..." never gets an ETA).
    po_only = [n for n in orders if n not in order_refs]
    more_ship = [call("tms", n, lambda n=n: t.shipments_for_order(order_no=n), []) for n in po_only] if t else []
    more_wms = [call("wms", n, lambda n=n: w.fulfillment(order_no=n), None) for n in po_only] if w else []
    if more_ship or more_wms:
        second = await asyncio.gather(*more_ship, *more_wms)
        order_shipments = [*order_shipments, *second[:len(more_ship)]]
        fulfillments = [*fulfillments, *second[len(more_ship):]]
    ship_refs = [*order_refs, *po_only] if t else []

    shipments: dict[str, Shipment] = {}
    for ref, group in zip(ship_refs, order_shipments, strict=False):
        if ref in blocked_orders:
            continue
        for s in group:
            if authorized(s.customer_id):
                shipments.setdefault(s.shipment_id, s)
    for (_, ref), group in zip(track_refs, tracked, strict=False):
        mine = [s for s in group if authorized(s.customer_id)]
        if group and not mine:
            withheld.append(Withheld(reference=ref, reason=reason(ref, {x.customer_id for x in group})))
        elif not group and not any(f.reference == ref for f in failures):
            not_found.append(ref)
        for s in mine:
            shipments.setdefault(s.shipment_id, s)
    fulfilled = [f for f in fulfillments if f is not None and authorized(f.customer_id)
                 and f.order_no not in blocked_orders]

    result_orders = tuple(orders.values())
    result_shipments = tuple(shipments.values())
    return LookupResult(
        customer_ids=tuple(customers),
        orders=result_orders,
        shipments=result_shipments,
        fulfillments=tuple(fulfilled),
        facts=facts_from_records(orders=result_orders, shipments=result_shipments, fulfillments=fulfilled),
        withheld=tuple(withheld),
        not_found=tuple(not_found),
        failures=tuple(failures),
        sender_matches=tuple(matches),
    )


def accepted_customers(*, matches: list[CustomerMatch], policy: AuthorizationPolicy) -> list[str]:
    """The customers whose records the sender may see under ``policy``, in the directory's order."""
    if policy == AuthorizationPolicy.STRICT:
        return _unique(m.customer_id for m in matches if m.method == MatchMethod.CONTACT)
    return _unique(m.customer_id for m in matches)


def facts_from_records(
    *, orders: tuple[Order, ...], shipments: tuple[Shipment, ...], fulfillments: list[Fulfillment]
) -> tuple[Fact, ...]:
    """Flatten records into numbered facts, each with the record's source."""
    facts: list[Fact] = []

    def add(subject: str, name: str, value: Any, source: Source) -> None:
        if value is None or value == "":
            return
        if isinstance(value, datetime | date):
            value = value.isoformat()
        facts.append(Fact(id=f"F{len(facts) + 1}", subject=subject, name=name, value=str(value),
                          source=source))

    for order in orders:
        s = order.source
        add(order.order_no, "order.status", order.status, s)
        add(order.order_no, "order.customer_po", order.customer_po, s)
        add(order.order_no, "order.requested_date", order.requested_date, s)
        add(order.order_no, "order.confirmed_date", order.confirmed_date, s)
        add(order.order_no, "order.deliveries", ", ".join(order.deliveries), s)
        for line in order.lines:
            if line.qty_ordered is not None:
                add(order.order_no, f"order.line{line.line_no}.shipped",
                    f"{_num(line.qty_shipped)}/{_num(line.qty_ordered)} {line.description or line.sku or ''}".strip(),
                    s)
    for sh in shipments:
        s = sh.source
        add(sh.shipment_id, "shipment.order_no", sh.order_no, s)
        add(sh.shipment_id, "shipment.status", sh.status, s)
        add(sh.shipment_id, "shipment.carrier", sh.carrier, s)
        add(sh.shipment_id, "shipment.tracking_no", sh.tracking_no, s)
        add(sh.shipment_id, "shipment.container_no", sh.container_no, s)
        add(sh.shipment_id, "shipment.eta", sh.eta, s)
        add(sh.shipment_id, "shipment.delivered_at", sh.delivered_at, s)
        add(sh.shipment_id, "shipment.pod_signed_by", sh.pod_signed_by, s)
        add(sh.shipment_id, "shipment.pod_link", sh.pod_link, s)
        if sh.delivery_window:
            add(sh.shipment_id, "shipment.delivery_window",
                f"{sh.delivery_window.start.isoformat()}/{sh.delivery_window.end.isoformat()}", s)
        if sh.last_event:
            ev = sh.last_event
            add(sh.shipment_id, "shipment.last_event",
                f"{ev.time.isoformat()} {ev.location or ''} {ev.description or ev.code or ''}".strip(), s)
    for f in fulfillments:
        add(f.order_no, "warehouse.status", f.status, f.source)
        add(f.order_no, "warehouse.shipped_at", f.shipped_at, f.source)
    return tuple(facts)


def _reason(*, ref: str, sender: str, owners: set[str], allowed: set[str], domain_only: set[str],
            directory_failed: bool) -> str:
    """Why a reference is withheld; never what the record says, nor which customer owns it."""
    if directory_failed and not allowed:
        return f"{ref}: the sender could not be verified (the customer directory did not answer)"
    if owners & domain_only:
        return (f"{ref}: the sender {sender} is not a known contact of the customer that owns it; only the "
                "email domain matches, and the mailbox policy is strict")
    if not allowed:
        return f"{ref}: the sender is not a known contact of any customer"
    return f"{ref} belongs to another customer than the sender's"


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)
