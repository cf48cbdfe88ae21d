"""In-memory business systems built from a case's business state.

One class per kind implements that kind's Protocol of ``connectors.base``
over the case's records, exactly as a real connector would answer: lookups by
normalized identifiers, ``None`` / ``[]`` when nothing matches, and failure
only through the connector error tree. A case can make a kind fail (``outages``:
the error of that category on every call) or slow (``delays``: seconds per
call, so the lookup timeout can strike). Every call is recorded, so tests can
check what the pipeline asked for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeVar

from agent.lookup import BusinessSystems
from agent.models import CustomerMatch, Fulfillment, MatchMethod, Order, ReferenceKind, Shipment
from agent.references import normalize
from connectors.base import (
    CircuitOpenError,
    ConfigurationError,
    ConnectorError,
    ConnectorTimeoutError,
    Kind,
    RateLimitedError,
    RetryableError,
    SystemError_,
)
from evals.cases import BusinessState, Outage


def outage_error(*, outage: Outage, system: str) -> ConnectorError:
    """The connector error a real system of that failure category raises."""
    message = {
        Outage.RETRYABLE: "503 Service Unavailable",
        Outage.RATE_LIMITED: "429 Too Many Requests",
        Outage.TIMEOUT: "read timed out",
        Outage.UNAVAILABLE: "circuit open after repeated failures",
        Outage.CONFIGURATION: "401 Unauthorized: check the credentials",
        Outage.SYSTEM: "the system answered with an unreadable body",
    }[outage]
    if outage == Outage.RATE_LIMITED:
        return RateLimitedError(message, system=system, retry_after=30.0)
    if outage == Outage.TIMEOUT:
        return ConnectorTimeoutError(message, system=system)
    if outage == Outage.UNAVAILABLE:
        return CircuitOpenError(message, system=system, retry_after=60.0)
    if outage == Outage.CONFIGURATION:
        return ConfigurationError(message, system=system, setting="connectors.*.credentials")
    if outage == Outage.SYSTEM:
        return SystemError_(message, system=system)
    return RetryableError(message, system=system)


@dataclass
class CallLog:
    """Every call the pipeline made, as (kind, method, argument)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def arguments(self) -> set[str]:
        return {arg for _, _, arg in self.calls}


class _Fixture:
    def __init__(self, *, kind: Kind, system: str, state: BusinessState, log: CallLog) -> None:
        self.kind = kind
        self.system = system
        self.name = system
        self._state = state
        self._log = log

    async def _enter(self, method: str, argument: str) -> None:
        self._log.calls.append((self.kind.value, method, argument))
        delay = self._state.delays.get(self.kind, 0.0)
        if delay:
            await asyncio.sleep(delay)
        outage = self._state.outages.get(self.kind)
        if outage is not None:
            raise outage_error(outage=outage, system=self.system)

    def serves(self, kind: str) -> bool:
        return kind == self.kind.value

    async def aclose(self) -> None:
        return None


F = TypeVar("F", bound=_Fixture)


class FixtureDirectory(_Fixture):
    async def customers_for_sender(self, *, address: str) -> list[CustomerMatch]:
        await self._enter("customers_for_sender", address)
        address = address.strip().lower()
        domain = address.rpartition("@")[2]
        matches = [CustomerMatch(customer_id=c.id, method=MatchMethod.CONTACT, system=self.system)
                   for c in self._state.customers if address in c.contacts]
        contacted = {m.customer_id for m in matches}
        matches += [CustomerMatch(customer_id=c.id, method=MatchMethod.DOMAIN, system=self.system)
                    for c in self._state.customers if domain in c.domains and c.id not in contacted]
        return matches


class FixtureOrderSystem(_Fixture):
    async def get_order(self, *, order_no: str) -> Order | None:
        await self._enter("get_order", order_no)
        wanted = normalize(order_no)
        return next((o for o in self._state.orders if normalize(o.order_no) == wanted), None)

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        await self._enter("find_orders_by_po", customer_po)
        wanted = normalize(customer_po)
        return [o for o in self._state.orders if o.customer_po and normalize(o.customer_po) == wanted]


class FixtureTracker(_Fixture):
    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        await self._enter("shipments_for_order", order_no)
        wanted = normalize(order_no)
        return [s for s in self._state.shipments if s.order_no and normalize(s.order_no) == wanted]

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        await self._enter("track", f"{kind.value}:{value}")
        wanted = normalize(value)

        def key(s: Shipment) -> str | None:
            if kind == ReferenceKind.CONTAINER_NUMBER:
                return s.container_no
            if kind == ReferenceKind.SHIPMENT_ID:
                return s.shipment_id
            return s.tracking_no  # tracking numbers, air waybills and bills of lading are the carrier's number

        return [s for s in self._state.shipments if (k := key(s)) and normalize(k) == wanted]


class FixtureWarehouse(_Fixture):
    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        await self._enter("fulfillment", order_no)
        wanted = normalize(order_no)
        return next((f for f in self._state.fulfillments if normalize(f.order_no) == wanted), None)


def fixture_systems(*, state: BusinessState, names: dict[Kind, str], log: CallLog | None = None) -> BusinessSystems:
    """The case's systems as the pipeline sees them; a kind not in ``state.systems`` is not configured."""
    calls = log if log is not None else CallLog()

    def make(cls: type[F], kind: Kind) -> F:
        return cls(kind=kind, system=names.get(kind, kind.value), state=state, log=calls)

    configured = set(state.systems)
    return BusinessSystems(
        directory=make(FixtureDirectory, Kind.DIRECTORY),  # every case has one (BusinessState checks)
        orders=make(FixtureOrderSystem, Kind.ERP) if Kind.ERP in configured else None,
        tracker=make(FixtureTracker, Kind.TMS) if Kind.TMS in configured else None,
        warehouse=make(FixtureWarehouse, Kind.WMS) if Kind.WMS in configured else None,
        names={k.value: names.get(k, k.value) for k in state.systems},
    )
