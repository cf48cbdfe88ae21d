"""Microsoft Dynamics 365 Business Central order system: API v2.0 ``salesOrders``, lines and shipments.

Business Central keeps a sales order only while it is open: once fully shipped and invoiced the order
is deleted and only its posted documents remain. So an order is read from two places at once:

- ``GET .../companies({id})/salesOrders?$filter=number eq '...'&$expand=salesOrderLines``
- ``GET .../companies({id})/salesShipments?$filter=orderNumber eq '...'&$expand=salesShipmentLines``

and an order found only as posted shipments is reported as ``shipped`` from them. Orders by customer PO
filter ``externalDocumentNumber``. Lists are ``{"value": [...]}``; blank dates are ``0001-01-01``.

YAML::

    bc:
      type: dynamics_bc
      tenant_id: 7e3b...                  # Entra tenant (GUID or domain)
      environment: production
      company_id: 5a2c1e6f-...            # companies({id})
      auth: {type: oauth2_client_credentials,
             token_url: https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token,
             client_id: env:BC_CLIENT_ID, client_secret: env:BC_CLIENT_SECRET,
             scope: https://api.businesscentral.dynamics.com/.default}
      link: "https://businesscentral.dynamics.com/<tenant>/production/?page=42&filter='No.' IS '{record_id}'"

``api_root`` replaces the computed ``/v2.0/{tenant}/{environment}/api/v2.0`` (on-premise:
``base_url: https://bc.example.com:7048``, ``api_root: /BC/api/v2.0``).

Status (``OrderStatus``), first that holds: ``fullyShipped`` true or only posted shipments ->
``shipped``; a line with ``shippedQuantity`` > 0 or a posted shipment -> ``partially_shipped``;
otherwise the API ``status`` through ``status_map`` (default: ``Draft`` -> ``open`` (the UI's "Open"),
``In Review`` -> ``on_hold`` (pending approval), ``Open`` -> ``confirmed`` (the UI's "Released")).
Dates: ``requestedDeliveryDate`` is the requested date; the confirmed date is the latest
``shipmentDate`` of the item lines (the planned shipment date). Owner: ``customerNumber``.
Errors are OData ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.base import ConfigurationError, SystemError_
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_float, to_text

DEFAULT_STATUS = {"Draft": "open", "In Review": "on_hold", "Open": "confirmed"}
BLANK_DATE = date(1, 1, 1)


class BusinessCentralConfig(HttpOptions):
    """``connectors.<name>`` of ``type: dynamics_bc``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "dynamics_bc"
    system: str | None = None
    auth: dict[str, Any] | None = None
    base_url: str = "https://api.businesscentral.dynamics.com"
    tenant_id: str | None = Field(None, pattern=r"^[A-Za-z0-9.\-]+$")
    environment: str = Field("production", pattern=r"^[A-Za-z0-9_\-]+$")
    company_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
    api_root: str | None = Field(None, pattern=r"^/")
    timezone: str = "UTC"
    link: str | None = None
    status_map: dict[str, str] = Field(default_factory=dict, description="BC status -> order status")
    max_orders: int = Field(20, ge=1, le=100)


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date(value: Any, tz: tzinfo) -> date | None:
    found = to_date(value, tz=tz)
    return None if found == BLANK_DATE else found


class BusinessCentralOrderSystem(HttpSystem):
    """ERP kind on Dynamics 365 Business Central (online or on-premise) through API v2.0."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = BusinessCentralConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, BusinessCentralConfig)
        self.config = cfg
        if cfg.api_root is None and not cfg.tenant_id:
            raise ConfigurationError(f"connectors.{name}.tenant_id is required (or set api_root)", system=name,
                                     setting=f"connectors.{name}.tenant_id")
        root = cfg.api_root or f"/v2.0/{cfg.tenant_id}/{cfg.environment}/api/v2.0"
        self._company = f"{root.rstrip('/')}/companies({cfg.company_id})"
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.ORDER, mapping={**DEFAULT_STATUS, **cfg.status_map},
                                 setting=f"connectors.{name}.status_map")

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        orders, shipments = await asyncio.gather(
            self._list("salesOrders", f"number eq {odata_literal(order_no)}", "salesOrderLines"),
            self._list("salesShipments", f"orderNumber eq {odata_literal(order_no)}", "salesShipmentLines"))
        if orders:
            return self._order(orders[0], shipments)
        return self._posted_order(order_no, shipments) if shipments else None

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not customer_po:
            return []
        orders = await self._list("salesOrders", f"externalDocumentNumber eq {odata_literal(customer_po)}",
                                  "salesOrderLines")
        shipments = await asyncio.gather(*(
            self._list("salesShipments", f"orderNumber eq {odata_literal(str(o.get('number')))}",
                       "salesShipmentLines") for o in orders))
        return [self._order(o, s) for o, s in zip(orders, shipments, strict=True)]

    # ------------------------------------------------------------------ calls and mapping

    async def _list(self, entity: str, condition: str, expand: str) -> list[dict[str, Any]]:
        body = await self.get_json(f"{self._company}/{entity}", params={
            "$filter": condition, "$expand": expand, "$top": str(self.config.max_orders)})
        rows = body.get("value") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise SystemError_(f"{self.system}: {entity} answer has no value list", system=self.name)
        return [r for r in rows if isinstance(r, dict)]

    def _order(self, raw: Mapping[str, Any], shipments: list[dict[str, Any]]) -> Order:
        number, customer = to_text(raw.get("number")), to_text(raw.get("customerNumber"))
        if not number or not customer:
            raise SystemError_(f"{self.system}: sales order without number or customerNumber", system=self.name)
        lines = [ln for ln in raw.get("salesOrderLines") or [] if isinstance(ln, dict)]
        items = [ln for ln in lines if ln.get("lineType") in ("Item", None)]
        shipped = any((to_float(ln.get("shippedQuantity")) or 0) > 0 for ln in lines)
        if raw.get("fullyShipped") is True:
            status = OrderStatus.SHIPPED.value
        elif shipped or shipments:
            status = OrderStatus.PARTIALLY_SHIPPED.value
        else:
            status = self._status(raw.get("status"))
        planned = [d for d in (_date(ln.get("shipmentDate"), self._tz) for ln in items) if d is not None]
        return Order(
            order_no=number, customer_id=customer, customer_po=to_text(raw.get("externalDocumentNumber")),
            status=status, requested_date=_date(raw.get("requestedDeliveryDate"), self._tz),
            confirmed_date=max(planned, default=None),
            lines=tuple(OrderLine(line_no=int(ln.get("sequence") or i), sku=to_text(ln.get("lineObjectNumber")),
                                  description=to_text(ln.get("description")),
                                  qty_ordered=to_float(ln.get("quantity")),
                                  qty_shipped=to_float(ln.get("shippedQuantity")))
                        for i, ln in enumerate(lines, start=1)),
            deliveries=tuple(str(s["number"]) for s in shipments if s.get("number")),
            source=self._source(number),
        )

    def _posted_order(self, order_no: str, shipments: list[dict[str, Any]]) -> Order:
        """An order BC deleted after posting: what its posted shipments say."""
        first = shipments[0]
        customer = to_text(first.get("customerNumber"))
        if not customer:
            raise SystemError_(f"{self.system}: sales shipment without customerNumber", system=self.name)
        lines = [ln for s in shipments for ln in s.get("salesShipmentLines") or [] if isinstance(ln, dict)
                 and (to_float(ln.get("quantity")) or 0) > 0]
        dates = [d for d in (_date(s.get("shipmentDate") or s.get("postingDate"), self._tz) for s in shipments)
                 if d is not None]
        return Order(
            order_no=order_no, customer_id=customer, customer_po=to_text(first.get("externalDocumentNumber")),
            status=OrderStatus.SHIPPED, confirmed_date=max(dates, default=None),
            lines=tuple(OrderLine(line_no=int(ln.get("sequence") or i), sku=to_text(ln.get("lineObjectNumber")),
                                  description=to_text(ln.get("description")),
                                  qty_ordered=to_float(ln.get("quantity")), qty_shipped=to_float(ln.get("quantity")))
                        for i, ln in enumerate(lines, start=1)),
            deliveries=tuple(str(s["number"]) for s in shipments if s.get("number")),
            source=self._source(order_no),
        )

    def _source(self, number: str) -> Source:
        link = self.config.link.replace("{record_id}", quote(number, safe="")) if self.config.link else None
        return Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC), link=link)
