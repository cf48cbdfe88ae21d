"""ERPNext / Frappe order system: ``Sales Order`` documents and their ``Delivery Note``s (REST ``/api/resource``).

Per order: ``GET /api/resource/Sales Order/{name}`` (``{"data": {...}}``, child table ``items``
included) and the submitted delivery notes made against it, ``GET /api/resource/Delivery Note`` with
``filters=[["Delivery Note Item","against_sales_order","=","{name}"],["docstatus","=",1]]``. Orders by
customer PO list ``Sales Order`` names with ``filters=[["po_no","=","..."]]`` and read each.

YAML::

    erpnext:
      type: erpnext
      base_url: https://erp.nordkyst.example
      auth: {type: erpnext, api_key: env:ERPNEXT_KEY, api_secret: env:ERPNEXT_SECRET}  # token key:secret
      timezone: Europe/Oslo
      follow_delivery_notes: true

Status (``OrderStatus``), first that holds: ``docstatus`` 2 or ``status`` ``Cancelled`` ->
``cancelled``; ``status`` in ``status_map`` -> that; ``On Hold`` -> ``on_hold``; ``Draft`` ->
``open``; ``delivery_status`` / ``per_delivered``: ``Fully Delivered`` or 100 % -> ``shipped``,
``Partly Delivered`` or > 0 % -> ``partially_shipped``; ``Closed`` with nothing delivered ->
``cancelled``; ``To Deliver and Bill`` / ``To Deliver`` / ``To Bill`` / ``Completed`` ->
``confirmed`` (``To Bill``/``Completed`` are already caught as delivered). ERPNext's "delivered"
means a delivery note was submitted: the goods left, hence ``shipped``.
Dates: ``delivery_date`` (``YYYY-MM-DD``) is the confirmed date. Owner: ``customer`` (the Customer
document name). Errors: Frappe's ``{"exc_type", "exception", "_server_messages"}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.base import SystemError_
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_float, to_text

SALES_ORDER = "/api/resource/Sales Order"
DELIVERY_NOTE = "/api/resource/Delivery Note"


class ErpNextConfig(HttpOptions):
    """``connectors.<name>`` of ``type: erpnext``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "erpnext"
    system: str | None = None
    auth: dict[str, Any] | None = None
    timezone: str = "UTC"
    link: str | None = None
    status_map: dict[str, str] = Field(default_factory=dict, description="Sales Order status -> order status")
    follow_delivery_notes: bool = True
    max_orders: int = Field(20, ge=1, le=100)


class ErpNextOrderSystem(HttpSystem):
    """ERP kind on ERPNext (Frappe Cloud or self-hosted)."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = ErpNextConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, ErpNextConfig)
        self.config = cfg
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._overrides = StatusMap(kind=RecordKind.ORDER, mapping=cfg.status_map,
                                    setting=f"connectors.{name}.status_map")
        self._link = cfg.link or self.base_url.rstrip("/") + "/app/sales-order/{record_id}"

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        body = await self.get_json_or_none(f"{SALES_ORDER}/{quote(order_no, safe='')}")
        if body is None:
            return None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict):
            raise SystemError_(f"{self.system}: Sales Order answer without data", system=self.name)
        notes = await self._delivery_notes(str(data.get("name") or order_no)) \
            if self.config.follow_delivery_notes else []
        return self._order(data, notes)

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not customer_po:
            return []
        body = await self.get_json(SALES_ORDER, params={
            "filters": json.dumps([["po_no", "=", customer_po]]), "fields": json.dumps(["name"]),
            "limit_page_length": str(self.config.max_orders)})
        names = [str(r["name"]) for r in (body or {}).get("data") or [] if isinstance(r, dict) and r.get("name")]
        found = await asyncio.gather(*(self.get_order(order_no=n) for n in names))
        return [o for o in found if o is not None]

    async def _delivery_notes(self, order: str) -> list[dict[str, Any]]:
        body = await self.get_json(DELIVERY_NOTE, params={
            "filters": json.dumps([["Delivery Note Item", "against_sales_order", "=", order], ["docstatus", "=", 1]]),
            "fields": json.dumps(["name", "status", "posting_date", "lr_no", "lr_date", "transporter_name"]),
            "limit_page_length": "50"})
        return [r for r in (body or {}).get("data") or [] if isinstance(r, dict)]

    def _order(self, raw: Mapping[str, Any], notes: list[dict[str, Any]]) -> Order:
        number, customer = to_text(raw.get("name")), to_text(raw.get("customer"))
        if not number or not customer:
            raise SystemError_(f"{self.system}: Sales Order without name or customer", system=self.name)
        items = [i for i in raw.get("items") or [] if isinstance(i, dict)]
        return Order(
            order_no=number, customer_id=customer, customer_po=to_text(raw.get("po_no")),
            status=self._status(raw), confirmed_date=to_date(raw.get("delivery_date"), tz=self._tz),
            lines=tuple(OrderLine(line_no=int(i.get("idx") or n), sku=to_text(i.get("item_code")),
                                  description=to_text(i.get("item_name")), qty_ordered=to_float(i.get("qty")),
                                  qty_shipped=to_float(i.get("delivered_qty")))
                        for n, i in enumerate(items, start=1)),
            deliveries=tuple(str(n["name"]) for n in notes if n.get("name")),
            source=Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC),
                          link=self._link.replace("{record_id}", quote(number, safe=""))),
        )

    def _status(self, raw: Mapping[str, Any]) -> str:
        status = str(raw.get("status") or "")
        if raw.get("docstatus") == 2 or status == "Cancelled":
            return OrderStatus.CANCELLED
        if status in self.config.status_map:
            return self._overrides(status)
        if status == "On Hold":
            return OrderStatus.ON_HOLD
        if status == "Draft" or raw.get("docstatus") == 0:
            return OrderStatus.OPEN
        delivered = to_float(raw.get("per_delivered")) or 0.0
        delivery = raw.get("delivery_status")
        if delivery == "Fully Delivered" or delivered >= 100:
            return OrderStatus.SHIPPED
        if delivery == "Partly Delivered" or delivered > 0:
            return OrderStatus.PARTIALLY_SHIPPED
        if status == "Closed":
            return OrderStatus.CANCELLED
        return OrderStatus.CONFIRMED
