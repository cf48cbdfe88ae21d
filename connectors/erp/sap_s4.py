"""SAP S/4HANA order system: ``API_SALES_ORDER_SRV`` (OData V2) plus ``API_OUTBOUND_DELIVERY_SRV``.

One call per order: ``A_SalesOrder('{SalesOrder}')`` expanded with its items, their schedule lines and
the subsequent documents of the process flow; then, when ``follow_deliveries`` is on (the default), one
call per outbound delivery found there (``A_OutbDeliveryHeader('{DeliveryDocument}')`` of
``API_OUTBOUND_DELIVERY_SRV;v=0002``) to see picking and goods issue. Orders by customer PO use
``$filter=PurchaseOrderByCustomer eq '...'``. Every call sends ``sap-client`` when configured.

YAML::

    sap:
      type: sap_s4
      base_url: https://my-s4.example.com          # host only; service paths are fixed
      sap_client: "100"                            # optional, on-premise client
      auth: {type: basic, username: SHIPDRAFT_COMM, password: env:SAP_PASSWORD}
      timezone: Europe/Berlin                      # how DeliveryTime etc. are read
      link: "https://my-s4.example.com/ui#SalesOrder-manageV2&/SalesOrderManage('{record_id}')"

Status (``OrderStatus``), decided from the header status fields (single letters: ``A`` not yet,
``B`` partly, ``C`` completely processed) and, when followed, the deliveries:

=======================================================================  =====================
condition (first that holds)                                             status
=======================================================================  =====================
``OverallSDDocumentRejectionSts`` = C (every item rejected)              ``cancelled``
``OverallSDProcessStatus`` = C (completed, billed)                       ``shipped``
deliveries followed: every delivery goods-issued (``OverallGoodsMovement
Status`` C) and ``OverallDeliveryStatus`` = C                            ``shipped``
deliveries followed: some delivery goods-issued                          ``partially_shipped``
deliveries not followed: ``OverallDeliveryStatus`` C / B                 ``shipped`` / ``partially_shipped``
``DeliveryBlockReason`` set or ``TotalBlockStatus`` B/C                  ``on_hold``
every followed delivery picked (``OverallPickingStatus`` C)              ``ready_for_pickup``
a schedule line has a confirmed quantity or a delivery exists            ``confirmed``
otherwise                                                                ``open``
=======================================================================  =====================

(In SD, ``OverallDeliveryStatus`` C means delivery documents exist for every quantity, not that the
goods left: that is the delivery's goods movement status, hence following the deliveries.)

Dates: OData V2 ``/Date(ms)/`` (midnight UTC for ``Edm.DateTime`` dates). ``requested_date`` is the
header ``RequestedDeliveryDate``; ``confirmed_date`` the latest ``ConfirmedDeliveryDate`` of the
schedule lines with a confirmed quantity. Lines: ``SalesOrderItem``, ``Material``,
``SalesOrderItemText``, ``RequestedQuantity``, shipped = the sum of the schedule lines'
``DeliveredQtyInOrderQtyUnit``. Owner: ``SoldToParty``. Deliveries: subsequent documents of category
``J`` (outbound delivery). Errors are the OData V2 ``{"error": {"code", "message": {"value"}}}`` body.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.base import SystemError_
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import resolve_timezone, to_date, to_float, to_text

log = logging.getLogger(__name__)

SALES_ORDER_SERVICE = "/sap/opu/odata/sap/API_SALES_ORDER_SRV"
DELIVERY_SERVICE = "/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002"
EXPAND = "to_Item/to_ScheduleLine,to_SubsequentProcFlowDoc"
DELIVERY_CATEGORY = "J"  # SD document category of an outbound delivery


class SapS4Config(HttpOptions):
    """``connectors.<name>`` of ``type: sap_s4``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "sap_s4"
    system: str | None = None
    auth: dict[str, Any] | None = None
    sap_client: str | None = Field(None, pattern=r"^\d{3}$", description="SAP client (Mandant), three digits")
    timezone: str = "UTC"
    link: str | None = Field(None, description="page per order; {record_id} is the sales order number")
    follow_deliveries: bool = True
    max_orders: int = Field(20, ge=1, le=100, description="orders read per customer PO ($top)")


def odata_literal(value: str) -> str:
    """An OData string literal: quotes doubled, wrapped in quotes (safe inside a key or ``$filter``)."""
    return "'" + value.replace("'", "''") + "'"


def odata_key(value: str) -> str:
    """A quoted key predicate, percent-encoded for a path segment: ``('4711')``."""
    return "(" + quote(odata_literal(value), safe="'") + ")"


def odata_results(body: Any) -> list[dict[str, Any]]:
    """The records of an OData V2 answer: ``{"d": {"results": [...]}}`` or ``{"d": {...}}``."""
    if not isinstance(body, dict) or not isinstance(body.get("d"), dict):
        raise SystemError_("SAP answer is not an OData V2 JSON envelope")
    inner = body["d"]
    results = inner.get("results") if "results" in inner else [inner]
    return [r for r in results or [] if isinstance(r, dict)]


def _nav(record: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    value = record.get(name)
    if isinstance(value, dict):
        value = value.get("results", [])
    return [v for v in value or [] if isinstance(v, dict)] if isinstance(value, list) else []


class SapS4OrderSystem(HttpSystem):
    """ERP kind on SAP S/4HANA (Cloud or on-premise) through the released OData V2 APIs."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = SapS4Config

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, SapS4Config)
        self.config = cfg
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._headers = {"sap-client": cfg.sap_client} if cfg.sap_client else {}

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        body = await self.get_json_or_none(f"{SALES_ORDER_SERVICE}/A_SalesOrder{odata_key(order_no)}",
                                           params={"$expand": EXPAND}, headers=self._headers)
        if body is None:
            return None
        records = odata_results(body)
        return await self._order(records[0]) if records else None

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not customer_po:
            return []
        body = await self.get_json(f"{SALES_ORDER_SERVICE}/A_SalesOrder", headers=self._headers, params={
            "$filter": f"PurchaseOrderByCustomer eq {odata_literal(customer_po)}", "$expand": EXPAND,
            "$top": str(self.config.max_orders)})
        return list(await asyncio.gather(*(self._order(r) for r in odata_results(body))))

    # ------------------------------------------------------------------ mapping

    async def _order(self, raw: Mapping[str, Any]) -> Order:
        number = to_text(raw.get("SalesOrder"))
        customer = to_text(raw.get("SoldToParty"))
        if not number or not customer:
            raise SystemError_(f"{self.system}: sales order without SalesOrder or SoldToParty", system=self.name)
        items = _nav(raw, "to_Item")
        schedule = [line for item in items for line in _nav(item, "to_ScheduleLine")]
        delivery_ids = tuple(dict.fromkeys(
            str(d["SubsequentDocument"]) for d in _nav(raw, "to_SubsequentProcFlowDoc")
            if d.get("SubsequentDocumentCategory") == DELIVERY_CATEGORY and d.get("SubsequentDocument")))
        deliveries = await self._deliveries(delivery_ids) if self.config.follow_deliveries else None
        confirmed = [to_date(s.get("ConfirmedDeliveryDate"), tz=self._tz) for s in schedule
                     if (to_float(s.get("ConfdOrderQtyByMatlAvailCheck")) or 0) > 0]
        return Order(
            order_no=number, customer_id=customer, customer_po=to_text(raw.get("PurchaseOrderByCustomer")),
            status=order_status(raw, schedule=schedule, deliveries=deliveries, delivery_ids=delivery_ids),
            requested_date=to_date(raw.get("RequestedDeliveryDate"), tz=self._tz),
            confirmed_date=max((d for d in confirmed if d is not None), default=None),
            lines=tuple(self._line(item) for item in items), deliveries=delivery_ids,
            source=Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC),
                          link=self.config.link.replace("{record_id}", quote(number, safe=""))
                          if self.config.link else None),
        )

    def _line(self, item: Mapping[str, Any]) -> OrderLine:
        shipped = [to_float(s.get("DeliveredQtyInOrderQtyUnit")) for s in _nav(item, "to_ScheduleLine")]
        known = [q for q in shipped if q is not None]
        return OrderLine(line_no=int(str(item.get("SalesOrderItem") or 0)), sku=to_text(item.get("Material")),
                         description=to_text(item.get("SalesOrderItemText")),
                         qty_ordered=to_float(item.get("RequestedQuantity")),
                         qty_shipped=sum(known) if known else None)

    async def _deliveries(self, ids: tuple[str, ...]) -> list[dict[str, Any]]:
        async def one(delivery: str) -> dict[str, Any] | None:
            body = await self.get_json_or_none(f"{DELIVERY_SERVICE}/A_OutbDeliveryHeader{odata_key(delivery)}",
                                               headers=self._headers)
            if body is None:  # archived or not visible to this user: the order status still stands
                log.info("delivery not readable", extra={"system": self.name, "delivery": delivery})
                return None
            found = odata_results(body)
            return found[0] if found else None
        return [d for d in await asyncio.gather(*(one(i) for i in ids)) if d is not None]


def order_status(header: Mapping[str, Any], *, schedule: list[dict[str, Any]],
                 deliveries: list[dict[str, Any]] | None, delivery_ids: tuple[str, ...] = ()) -> str:
    """The normalized status of a sales order (the table in the module docstring)."""
    if header.get("OverallSDDocumentRejectionSts") == "C":
        return OrderStatus.CANCELLED
    if header.get("OverallSDProcessStatus") == "C":
        return OrderStatus.SHIPPED
    delivery_status = header.get("OverallDeliveryStatus") or header.get("OverallTotalDeliveryStatus")
    if deliveries is not None:
        issued = [d.get("OverallGoodsMovementStatus") == "C" for d in deliveries]
        if issued and all(issued) and delivery_status == "C":
            return OrderStatus.SHIPPED
        if any(issued) or any(d.get("OverallGoodsMovementStatus") == "B" for d in deliveries):
            return OrderStatus.PARTIALLY_SHIPPED
    elif delivery_status in ("B", "C"):
        return OrderStatus.SHIPPED if delivery_status == "C" else OrderStatus.PARTIALLY_SHIPPED
    if header.get("DeliveryBlockReason") or header.get("TotalBlockStatus") in ("B", "C"):
        return OrderStatus.ON_HOLD
    if deliveries and all(d.get("OverallPickingStatus") == "C" for d in deliveries):
        return OrderStatus.READY_FOR_PICKUP
    if delivery_ids or any((to_float(s.get("ConfdOrderQtyByMatlAvailCheck")) or 0) > 0 for s in schedule):
        return OrderStatus.CONFIRMED
    return OrderStatus.OPEN
