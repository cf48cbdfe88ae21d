"""Fan-out to the business systems, sender authorization, facts with sources.

Every call for every reference runs concurrently (the sender's customers, the
order, its shipments and its warehouse status are fetched side by side), so the
wall time is that of the slowest call. An order found only by the customer's
PO gets its shipments and warehouse status as soon as the ERP has told its
order number (and the directory that it is the sender's). The whole lookup of
one email, follow-up calls included, runs under one deadline (``timeout``):
what answered before it is used, and each call it cut off (or that was not
asked because it had passed) is a ``LookupFailure`` of category ``timeout``. A
failing system becomes a ``LookupFailure`` as well, never an exception.

Records are authorized afterwards, whichever system found them: a record owned
by a customer the sender does not belong to is withheld, and only a reference
(never the record's content or owner) is reported with the reason. When
nothing found for a quoted reference is the sender's, the reference itself is
withheld ("NK204117 belongs to another customer than the sender's"), whether
the ERP, the TMS or the WMS said so; when the sender's own records come with
another customer's (a PO number two customers use, a consolidated container, a
shipment linked to the sender's order), the other customer's record is
withheld by its own id and the reason names the quoted reference. The order
and its warehouse record are the same order: if either belongs to another
customer, nothing about the order is used.

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
    """Look every usable reference up and return authorized records and facts.

    ``timeout`` is the deadline of the whole lookup of one email, in seconds: every call (the first
    wave and the follow-up calls of orders found by their PO) must answer before it. What answered in
    time is used; each call cut off by the deadline, or not asked because it had passed, becomes a
    ``LookupFailure`` with category ``timeout``.
    """
    failures: list[LookupFailure] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def call(kind: str, ref: str | None, fn: Callable[[], Awaitable[T]], empty: T, *,
                   after_po: bool = False) -> T:
        later = " (asked once the ERP had found the order by its PO)" if after_po else ""
        if loop.time() >= deadline:
            failures.append(LookupFailure(system=systems.name_of(kind), kind=kind, reference=ref,
                                          error=f"not asked: the {timeout:g} s lookup deadline of this email "
                                                f"had passed{later}", category="timeout"))
            return empty
        try:
            async with asyncio.timeout_at(deadline):  # one deadline for every call of this email
                return await fn()
        except TimeoutError:
            failures.append(LookupFailure(system=systems.name_of(kind), kind=kind, reference=ref,
                                          error=f"no answer within {timeout:g} s, the lookup deadline of this "
                                                f"email{later}", category="timeout"))
        except ConnectorError as exc:
            failures.append(LookupFailure(system=systems.name_of(kind), kind=kind, reference=ref,
                                          error=str(exc), category=exc.category.value))
        return empty

    usable = [r for r in references if r.validity != "invalid"]
    order_refs = _unique(r.value for r in usable if r.kind == ReferenceKind.ORDER_NUMBER)
    po_refs = _unique(r.value for r in usable if r.kind == ReferenceKind.CUSTOMER_PO)
    track_refs = [(r.kind, r.value) for r in usable if r.kind in _TRACKABLE]

    o, t, w = systems.orders, systems.tracker, systems.warehouse
    # A task, because the PO chains below wait for the sender's customers as well as the gather does.
    customers_task = asyncio.ensure_future(call("directory", None,
                                                lambda: systems.directory.customers_for_sender(address=sender), []))
    order_tasks = [call("erp", n, lambda n=n: o.get_order(order_no=n), None) for n in order_refs] if o else []
    ship_tasks = [call("tms", n, lambda n=n: t.shipments_for_order(order_no=n), []) for n in order_refs] if t else []
    wms_tasks = [call("wms", n, lambda n=n: w.fulfillment(order_no=n), None) for n in order_refs] if w else []
    track_tasks = [call("tms", v, lambda k=k, v=v: t.track(kind=k, value=v), []) for k, v in track_refs] if t else []

    # An order found only by the customer's PO: its order number is known only once the ERP answers, so
    # its shipments and warehouse status are asked right then, as soon as the sender's customers are known
    # too (without it, "where is PO 4500..." never gets an ETA). Only the sender's orders are followed.
    followed: set[str] = set(order_refs)
    po_shipments: dict[str, list[Shipment]] = {}
    po_fulfillments: dict[str, Fulfillment | None] = {}

    async def po_chain(po: str, erp: OrderSystem) -> list[Order]:
        found = await call("erp", po, lambda: erp.find_orders_by_po(customer_po=po), [])
        if not found or not (t or w):
            return found
        allowed_here = set(accepted_customers(matches=await customers_task, policy=policy))
        new = [x.order_no for x in found if x.order_no not in followed
               and (policy == AuthorizationPolicy.OFF or x.customer_id in allowed_here)]
        followed.update(new)
        more_ship = [call("tms", n, lambda n=n: t.shipments_for_order(order_no=n), [], after_po=True)
                     for n in new] if t else []
        more_wms = [call("wms", n, lambda n=n: w.fulfillment(order_no=n), None, after_po=True)
                    for n in new] if w else []
        answers = await asyncio.gather(*more_ship, *more_wms)
        for n, group in zip(new, answers[:len(more_ship)], strict=False):
            po_shipments[n] = group
        for n, record in zip(new, answers[len(more_ship):], strict=False):
            po_fulfillments[n] = record
        return found

    po_tasks = [po_chain(p, o) for p in po_refs] if o else []
    results = await asyncio.gather(customers_task, *order_tasks, *po_tasks, *ship_tasks, *wms_tasks,
                                   *track_tasks)
    matches: list[CustomerMatch] = results[0]
    it = iter(results[1:])
    orders_by_ref = {n: next(it) for n in order_refs} if order_tasks else {}
    po_orders = {p: next(it) for p in po_refs} if po_tasks else {}
    ships_by_ref: dict[str, list[Shipment]] = {n: next(it) for n in order_refs} if ship_tasks else {}
    wms_by_ref: dict[str, Fulfillment | None] = {n: next(it) for n in order_refs} if wms_tasks else {}
    tracked = [next(it) for _ in track_tasks]

    customers = accepted_customers(matches=matches, policy=policy)
    allowed = set(customers)
    domain_only = {m.customer_id for m in matches} - allowed
    directory_failed = any(f.kind == "directory" for f in failures)

    def authorized(owner: str) -> bool:
        return policy == AuthorizationPolicy.OFF or owner in allowed

    def reason(ref: str, owners: set[str]) -> str:
        return _reason(ref=ref, sender=sender, owners=owners, allowed=allowed, domain_only=domain_only,
                       directory_failed=directory_failed)

    withheld: dict[str, Withheld] = {}  # by reference: a record reached twice is reported once

    def withhold(ref: str, why: str) -> None:
        withheld.setdefault(ref, Withheld(reference=ref, reason=why))

    failed_refs = {f.reference for f in failures}
    not_found: list[str] = []
    orders: dict[str, Order] = {}
    shipments: dict[str, Shipment] = {}
    fulfilled: dict[str, Fulfillment] = {}

    def settle_order(ref: str, order: Order | None, fulfillment: Fulfillment | None,
                     linked: list[Shipment]) -> bool:
        """Use or withhold everything the systems said about one order number; whether anything was found.

        The order and its warehouse record are the order itself: if either belongs to another customer
        (or the systems disagree on the owner) nothing about the order is used. A linked shipment of
        another customer is withheld on its own, by its shipment id, when the rest is the sender's.
        """
        own = [x for x in (order, fulfillment) if x is not None]
        records: list[Order | Fulfillment | Shipment] = [*own, *linked]
        foreign = {x.customer_id for x in records if not authorized(x.customer_id)}
        if any(not authorized(x.customer_id) for x in own) or (records and all(
                not authorized(x.customer_id) for x in records)):
            withhold(ref, reason(ref, foreign))
            return bool(records)
        if order is not None:
            orders.setdefault(order.order_no, order)
        if fulfillment is not None:
            fulfilled.setdefault(fulfillment.order_no, fulfillment)
        for s in linked:
            if authorized(s.customer_id):
                shipments.setdefault(s.shipment_id, s)
            else:
                withhold(s.shipment_id, _partial_reason(ref=ref, what="a shipment linked to it"))
        return bool(records)

    for ref in order_refs:
        found = settle_order(ref, orders_by_ref.get(ref), wms_by_ref.get(ref), ships_by_ref.get(ref, []))
        if not found and ref not in failed_refs:
            not_found.append(ref)
    for ref, found in po_orders.items():
        mine = [x for x in found if authorized(x.customer_id)]
        if not found and ref not in failed_refs:
            not_found.append(ref)
        elif found and not mine:
            withhold(ref, reason(ref, {x.customer_id for x in found}))
        for x in found:
            if not authorized(x.customer_id):
                if mine:  # a PO number two customers both use: only the sender's order is answered
                    withhold(x.order_no, _partial_reason(ref=ref, what="another order with this PO"))
            elif x.order_no not in order_refs:  # an order quoted by its number as well is settled above
                settle_order(x.order_no, x, po_fulfillments.get(x.order_no), po_shipments.get(x.order_no, []))
    for (_, ref), group in zip(track_refs, tracked, strict=False):
        mine = [s for s in group if authorized(s.customer_id)]
        if group and not mine:
            withhold(ref, reason(ref, {x.customer_id for x in group}))
        elif not group and ref not in failed_refs:
            not_found.append(ref)
        for s in group:
            if authorized(s.customer_id):
                shipments.setdefault(s.shipment_id, s)
            elif mine:  # e.g. a consolidated container: only the sender's shipment is answered
                withhold(s.shipment_id, _partial_reason(ref=ref, what="another shipment under it"))
    for ref in withheld:  # a record withheld through one reference is not used through another
        orders.pop(ref, None)
        shipments.pop(ref, None)
        fulfilled.pop(ref, None)

    result_orders = tuple(orders.values())
    result_shipments = tuple(shipments.values())
    result_fulfillments = list(fulfilled.values())
    return LookupResult(
        customer_ids=tuple(customers),
        orders=result_orders,
        shipments=result_shipments,
        fulfillments=tuple(result_fulfillments),
        facts=facts_from_records(orders=result_orders, shipments=result_shipments,
                                 fulfillments=result_fulfillments),
        withheld=tuple(withheld.values()),
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


def _partial_reason(*, ref: str, what: str) -> str:
    """Why a record found next to the sender's own is withheld; never which record, nor whose."""
    return f"{ref}: {what} belongs to another customer than the sender's; only the sender's records are used"


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _num(value: float | None) -> str:
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)
