"""Fake business systems implementing the connector Protocols, with demo-like records.

Each fake can add latency, raise a connector error, and records its calls and how many
ran at the same time, so tests can prove failures become data and calls run concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, date, datetime

from agent.lookup import BusinessSystems
from agent.models import CustomerMatch, Fulfillment, LookupResult, MatchMethod, Order, ReferenceKind, Shipment
from agent.references import normalize
from connectors.base import ConnectorError, CustomerDirectory, OrderSystem, ShipmentTracker, WarehouseSystem
from tests.agent.builders import ANNA, KARI, order, shipment, source

K = ReferenceKind


# --------------------------------------------------------------------------- fakes


class Fake:
    """Shared behaviour: optional latency, an error to raise, a call log and an in-flight gauge."""

    def __init__(self, *, delay: float = 0.0, error: ConnectorError | None = None) -> None:
        self.delay = delay
        self.error = error
        self.calls: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def _enter(self, name: str, arg: str) -> None:
        self.calls.append((name, arg))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.error is not None:
                raise self.error
        finally:
            self.in_flight -= 1


class FakeDirectory(Fake):
    def __init__(self, contacts: dict[str, list[str]], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.contacts = contacts

    async def customers_for_sender(self, *, address: str) -> list[CustomerMatch]:
        """Exact contacts; an address given as "@domain" in ``contacts`` matches by domain."""
        await self._enter("customers_for_sender", address)
        exact = self.contacts.get(address)
        if exact is not None:
            return [CustomerMatch(customer_id=c, method=MatchMethod.CONTACT) for c in exact]
        domain = "@" + address.rpartition("@")[2]
        return [CustomerMatch(customer_id=c, method=MatchMethod.DOMAIN) for c in self.contacts.get(domain, [])]


class FakeErp(Fake):
    def __init__(self, orders: Iterable[Order], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.orders = {o.order_no: o for o in orders}

    async def get_order(self, *, order_no: str) -> Order | None:
        await self._enter("get_order", order_no)
        return self.orders.get(order_no)

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        await self._enter("find_orders_by_po", customer_po)
        return [o for o in self.orders.values() if o.customer_po and normalize(o.customer_po) == customer_po]


class FakeTms(Fake):
    def __init__(self, shipments: Iterable[Shipment], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.shipments = list(shipments)

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        await self._enter("shipments_for_order", order_no)
        return [s for s in self.shipments if s.order_no == order_no]

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        await self._enter("track", value)
        field = {K.CONTAINER_NUMBER: "container_no", K.SHIPMENT_ID: "shipment_id"}.get(kind, "tracking_no")
        return [s for s in self.shipments if normalize(getattr(s, field) or "") == value]


class FakeWms(Fake):
    def __init__(self, fulfillments: Iterable[Fulfillment], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.fulfillments = {f.order_no: f for f in fulfillments}

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        await self._enter("fulfillment", order_no)
        return self.fulfillments.get(order_no)


class HangingErp(FakeErp):
    async def get_order(self, *, order_no: str) -> Order | None:
        self.calls.append(("get_order", order_no))
        await asyncio.Event().wait()  # never answers
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- demo-like data

HANSEN_ORDER = order("NK204117", "C100", customer_po="4500012400")  # Kari's customer
HANSEN_SHIPMENT = shipment("SHP-100117", "NK204117", "C100", container_no="MSKU7719028")
# Anna's customer; every detail differs from Hansen's so a leak would show
SVEA_ORDER = order("NK204301", "C300", status="confirmed", customer_po="PO-88152", confirmed=date(2026, 12, 1))
SVEA_SHIPMENT = shipment("SHP-100301", "NK204301", "C300", status="customs_hold", container_no="CMAU5521840",
                         eta=datetime(2026, 12, 8, 12, 0, tzinfo=UTC), carrier="DSV", destination="Göteborg")
HANSEN_FULFILLMENT = Fulfillment(order_no="NK204117", customer_id="C100", warehouse="Bergen", status="packed",
                                 source=source("wms", "NK204117"))
CONTACTS = {KARI: ["C100"], ANNA: ["C300"]}


def systems(*, erp: OrderSystem | None = None, tms: ShipmentTracker | None = None,
            wms: WarehouseSystem | None = None, directory: CustomerDirectory | None = None,
            names: dict[str, str] | None = None) -> BusinessSystems:
    return BusinessSystems(
        directory=directory or FakeDirectory(CONTACTS),
        orders=erp if erp is not None else FakeErp([HANSEN_ORDER, SVEA_ORDER]),
        tracker=tms if tms is not None else FakeTms([HANSEN_SHIPMENT, SVEA_SHIPMENT]),
        warehouse=wms if wms is not None else FakeWms([HANSEN_FULFILLMENT]),
        names=names,
    )


def mentions(result: LookupResult, text: str) -> bool:
    """Whether any authorized record or fact carries ``text``."""
    blobs = [f.subject + f.value + f.source.record_id for f in result.facts]
    blobs += [o.model_dump_json() for o in result.orders]
    blobs += [s.model_dump_json() for s in result.shipments]
    blobs += [f.model_dump_json() for f in result.fulfillments]
    return any(text in b for b in blobs)
