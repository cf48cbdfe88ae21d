"""ShipBob fulfillment (API 2025-07): an order's shipments picked, packed and shipped from ShipBob's centers.

``fulfillment(order_no)`` reads ``GET {base_url}/2025-07/order?ReferenceIds=<order_no>&Limit=5`` (the
order number our systems know is ShipBob's ``reference_id``, the store's order id), with
``Authorization: Bearer <personal access token>``. Each order carries its ``shipments[]`` (status, ``status_details``,
``location``, ``estimated_fulfillment_date``, ``actual_fulfillment_date``, ``delivery_date``,
``tracking``). Errors are ASP.NET ``ProblemDetails`` (``{"type", "title", "status", "traceId",
"errors"?}``), mapped by ``HttpSystem`` (401/403 -> ``ConfigurationError`` naming the token).

YAML::

    shipbob:
      type: shipbob
      base_url: https://api.shipbob.com            # https://sandbox-api.shipbob.com for the sandbox
      auth: {type: bearer, token: env:SHIPBOB_PAT}
      customers_by_channel: {"173416": C100}       # ShipBob channel (store) id -> customer id
      customer_id: C100                            # or: the whole account belongs to one customer

Owner: ``customers_by_channel[channel.id]`` (or by channel name), else ``customer_id``; an order of
an unmapped channel gets an empty owner and the sender authorization withholds it.

Status (``FulfillmentStatus``) per shipment from ``status``; ``status_map`` (keys: ``status`` or
``status/status_details[].name``) overrides. The order's status is its least advanced live shipment
(cancelled shipments ignored; all cancelled, or the order ``Cancelled``: ``cancelled``):

=================================================  ==============
``None``, ``Processing``, ``ImportReview``          ``open``
``OnHold``, ``Exception`` (not shipped yet)         ``open``
``LabeledCreated`` (label printed: packed)          ``packed``
``Completed`` (left the fulfillment center)         ``shipped``
``Cancelled``, ``CleanSweeped``                      ``cancelled``
=================================================  ==============

Times: ``shipped_at`` is the latest ``actual_fulfillment_date`` once every live shipment shipped.
ShipBob datetimes are ISO 8601 UTC; naive ones are read as UTC. Warehouse: the shipments'
``location.name``. Link: ``https://web.shipbob.com/app/merchant/#/orders/{id}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

from agent.models import Fulfillment, FulfillmentStatus, Source
from connectors.base import ConfigurationError
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, to_datetime

log = logging.getLogger(__name__)

SHIPMENT_STATUS: dict[str, str] = {
    "None": FulfillmentStatus.OPEN,
    "Processing": FulfillmentStatus.OPEN,
    "ImportReview": FulfillmentStatus.OPEN,
    "OnHold": FulfillmentStatus.OPEN,
    "Exception": FulfillmentStatus.OPEN,
    "LabeledCreated": FulfillmentStatus.PACKED,
    "Completed": FulfillmentStatus.SHIPPED,
    "Cancelled": FulfillmentStatus.CANCELLED,
    "CleanSweeped": FulfillmentStatus.CANCELLED,
}
PROGRESS = (FulfillmentStatus.OPEN, FulfillmentStatus.PICKING, FulfillmentStatus.PICKED, FulfillmentStatus.PACKED,
            FulfillmentStatus.SHIPPED)
DEFAULT_LINK = "https://web.shipbob.com/app/merchant/#/orders/{id}"


class ShipBobConfig(HttpOptions):
    """``connectors.<name>`` of ``type: shipbob``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "shipbob"
    system: str | None = None
    auth: dict[str, Any] | None = None
    api_version: str = Field("2025-07", pattern=r"^(\d{4}-\d{2}|1\.0|2\.0)$")
    customers_by_channel: dict[str, str] = Field(default_factory=dict)
    customer_id: str | None = None
    status_map: dict[str, str] = Field(default_factory=dict)
    link: str = DEFAULT_LINK


class ShipBobWarehouse(HttpSystem):
    """WMS kind on ShipBob."""

    kinds: ClassVar[tuple[str, ...]] = ("wms",)
    options_model: ClassVar[type[HttpOptions]] = ShipBobConfig
    default_base_url: ClassVar[str] = "https://api.shipbob.com"

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, ShipBobConfig)
        if self.auth is None:
            raise ConfigurationError(f"connectors.{name}.auth is required: {{type: bearer, token: env:SHIPBOB_PAT}}",
                                     system=name, setting=f"connectors.{name}.auth")
        self.config = cfg
        self._status = StatusMap(kind=RecordKind.FULFILLMENT, mapping=cfg.status_map,
                                 setting=f"connectors.{name}.status_map")

    # ------------------------------------------------------------------ WarehouseSystem

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        body = await self.get_json_or_none(f"/{self.config.api_version}/order",
                                           params={"ReferenceIds": order_no, "Limit": 5})
        orders = [o for o in body if isinstance(o, dict) and str(o.get("reference_id", "")) == order_no] \
            if isinstance(body, list) else []
        if not orders:
            return None
        if len(orders) > 1:
            log.info("several ShipBob orders for one reference; using the newest", extra={"system": self.name})
        order = max(orders, key=lambda o: str(o.get("created_date") or ""))
        return self._fulfillment(order, order_no=order_no)

    # ------------------------------------------------------------------ mapping

    def _fulfillment(self, order: Mapping[str, Any], *, order_no: str) -> Fulfillment:
        shipments = [s for s in order.get("shipments") or [] if isinstance(s, dict)]
        states = [(s, self._code(s)) for s in shipments]
        live = [(s, c) for s, c in states if c != FulfillmentStatus.CANCELLED]
        if order.get("status") == "Cancelled" or (states and not live):
            status: str = FulfillmentStatus.CANCELLED
        elif not live:
            status = FulfillmentStatus.OPEN
        else:
            ranked = [c for _, c in live if c in PROGRESS]
            status = min(ranked, key=PROGRESS.index) if len(ranked) == len(live) else FulfillmentStatus.UNKNOWN
        shipped = [to_datetime(s.get("actual_fulfillment_date")) for s, c in live if c == FulfillmentStatus.SHIPPED]
        shipped_at = max((d for d in shipped if d), default=None) if status == FulfillmentStatus.SHIPPED else None
        warehouses = sorted({str((s.get("location") or {}).get("name")) for s, _ in live
                             if (s.get("location") or {}).get("name")})
        record_id = str(order.get("id", order_no))
        return Fulfillment(
            order_no=order_no, customer_id=self._owner(order), warehouse=", ".join(warehouses) or None,
            status=status, shipped_at=shipped_at,
            source=Source(system=self.system, record_id=record_id, fetched_at=datetime.now(UTC),
                          link=self.config.link.replace("{id}", record_id)),
        )

    def _code(self, shipment: Mapping[str, Any]) -> str:
        status = str(shipment.get("status") or "None")
        for detail in shipment.get("status_details") or []:
            key = f"{status}/{(detail or {}).get('name')}" if isinstance(detail, dict) else ""
            if key in self.config.status_map:
                return self.config.status_map[key]
        if status in self.config.status_map:
            return self.config.status_map[status]
        return SHIPMENT_STATUS.get(status) or self._status(status)

    def _owner(self, order: Mapping[str, Any]) -> str:
        channel = order.get("channel") or {}
        for key in (channel.get("id"), channel.get("name")):
            if key is not None and str(key) in self.config.customers_by_channel:
                return self.config.customers_by_channel[str(key)]
        if self.config.customer_id:
            return self.config.customer_id
        log.info("ShipBob order of an unmapped channel", extra={"system": self.name})
        return ""
