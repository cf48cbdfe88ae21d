"""One Protocol per kind of business system, the connector error tree and the registry.

The lookup stage asks for "the order system", never for "SAP". A connector is
a named, configured connection to one system; it may implement any number of
kinds (``directory``, ``erp``, ``tms``, ``wms``) and says which ones it serves.

Every connector returns the normalized records of ``agent.models`` (status
codes of the shared vocabulary, timezone-aware datetimes, a ``Source`` on each
record) and reports failure only through the error tree below:

=====================  ===========================  ==============================================
error                  category                     meaning
=====================  ===========================  ==============================================
RetryableError         ``retryable``                transient (connection reset, 5xx); try later
RateLimitedError       ``rate_limited``             the system said slow down (429, 503 + Retry-After)
ConnectorTimeoutError  ``timeout``                  no answer within the configured timeout
CircuitOpenError       ``unavailable``              the system failed repeatedly; not called for now
NotFoundError          ``not_found``                no such record (Protocol methods return None/[])
ConfigurationError     ``configuration``            our setup is wrong; ``setting`` names what to fix
SystemError_           ``system``                   the system answered with something unusable
=====================  ===========================  ==============================================

Built-in and third-party connectors register the same way: a factory (usually
the connector class) under the ``shipdraft.connectors`` entry point group,
called as ``factory(name=..., config=..., context=...)`` and carrying a
``kinds`` tuple.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from agent.models import CustomerMatch, Fulfillment, Order, ReferenceKind, Shipment

ENTRY_POINT_GROUP = "shipdraft.connectors"
log = logging.getLogger(__name__)


class Kind(StrEnum):
    """The kinds of business system a mailbox can use."""

    DIRECTORY = "directory"
    ERP = "erp"
    TMS = "tms"
    WMS = "wms"


class ErrorCategory(StrEnum):
    RETRYABLE = "retryable"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    NOT_FOUND = "not_found"
    CONFIGURATION = "configuration"
    SYSTEM = "system"


# --------------------------------------------------------------------------- errors


class ConnectorError(Exception):
    """Base of every connector error. ``system`` names the configured system."""

    retryable = False
    category = ErrorCategory.SYSTEM

    def __init__(self, message: str, *, system: str = "") -> None:
        super().__init__(message)
        self.system = system


class RetryableError(ConnectorError):
    """A transient failure (connection reset, 5xx). ``retry_after`` in seconds when the system said."""

    retryable = True
    category = ErrorCategory.RETRYABLE

    def __init__(self, message: str, *, system: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, system=system)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """The system asked us to slow down (429, or 503 with ``Retry-After``)."""

    category = ErrorCategory.RATE_LIMITED


class ConnectorTimeoutError(RetryableError):
    """No answer within the configured per-call timeout."""

    category = ErrorCategory.TIMEOUT


class CircuitOpenError(RetryableError):
    """The circuit breaker of this system is open: it is not called until ``retry_after`` passes."""

    category = ErrorCategory.UNAVAILABLE


class NotFoundError(ConnectorError):
    """The system has no such record."""

    category = ErrorCategory.NOT_FOUND


class ConfigurationError(ConnectorError):
    """The configuration is wrong (credentials, URL, query); ``setting`` names what to fix."""

    category = ErrorCategory.CONFIGURATION

    def __init__(self, message: str, *, system: str = "", setting: str = "") -> None:
        super().__init__(message, system=system)
        self.setting = setting


class SystemError_(ConnectorError):
    """The system answered with something we cannot use."""

    category = ErrorCategory.SYSTEM


# --------------------------------------------------------------------------- one Protocol per kind


@runtime_checkable
class OrderSystem(Protocol):
    """ERP: orders by number or by the customer's PO. Not found is ``None`` / ``[]``."""

    async def get_order(self, *, order_no: str) -> Order | None: ...

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]: ...


@runtime_checkable
class ShipmentTracker(Protocol):
    """TMS / visibility: the shipments of an order, or by container, tracking number, AWB, B/L, id."""

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]: ...

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]: ...


@runtime_checkable
class WarehouseSystem(Protocol):
    """WMS: the fulfillment (pick, pack, ship) of an order."""

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None: ...


@runtime_checkable
class CustomerDirectory(Protocol):
    """Which customers a sender belongs to, and how each was matched (exact contact or domain)."""

    async def customers_for_sender(self, *, address: str) -> list[CustomerMatch]: ...


KIND_PROTOCOLS: dict[Kind, type] = {
    Kind.DIRECTORY: CustomerDirectory,
    Kind.ERP: OrderSystem,
    Kind.TMS: ShipmentTracker,
    Kind.WMS: WarehouseSystem,
}


class Connector(Protocol):
    """What the registry constructs: a named, configured connection to one system."""

    name: str
    system: str

    def serves(self, kind: str) -> bool: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class HealthCheck(Protocol):
    """Optional: a connector that knows a better self-test than one probe lookup per kind."""

    async def check(self) -> str: ...


class ConnectorFactory(Protocol):
    kinds: tuple[str, ...]

    def __call__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any]) -> Connector: ...


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True, slots=True)
class RegisteredConnector:
    """One entry point of the ``shipdraft.connectors`` group, loaded or not."""

    type: str
    target: str
    distribution: str
    kinds: tuple[str, ...] = ()
    factory: ConnectorFactory | None = None
    error: str = ""


def connector_registry() -> list[RegisteredConnector]:
    """Every entry point of the group, sorted by type; one that fails to load carries its error."""
    found: list[RegisteredConnector] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ""
        try:
            factory = ep.load()
        except Exception as exc:  # a broken third-party plugin must not hide the others
            log.warning("connector entry point failed to load", extra={"type": ep.name, "target": ep.value})
            found.append(RegisteredConnector(type=ep.name, target=ep.value, distribution=dist,
                                             error=f"{type(exc).__name__}: {exc}"))
            continue
        kinds = tuple(str(k) for k in getattr(factory, "kinds", ()))
        found.append(RegisteredConnector(type=ep.name, target=ep.value, distribution=dist, kinds=kinds,
                                         factory=factory))
    return sorted(found, key=lambda r: r.type)


def registered_connectors() -> dict[str, ConnectorFactory]:
    """Every loadable connector factory by type (what ``type:`` in the mailbox YAML names)."""
    return {r.type: r.factory for r in connector_registry() if r.factory is not None}
