"""Odoo order system: ``sale.order`` with its lines and outgoing ``stock.picking`` deliveries.

Over JSON-2 (Odoo 19+, the default) or XML-RPC (older databases), through ``connectors.erp.odoo_rpc``.
Per order: one ``sale.order`` ``search_read`` (by ``name`` or by ``client_order_ref`` for the
customer's PO), then concurrently its ``sale.order.line`` records (section and note lines left out)
and its pickings (``picking_ids``; outgoing ones become ``deliveries``, by picking name).

YAML::

    odoo:
      type: odoo
      base_url: https://nordkyst.odoo.com
      protocol: json2                 # or xmlrpc (needs login)
      database: nordkyst              # X-Odoo-Database for JSON-2; the db argument for XML-RPC
      login: api@nordkyst.example     # XML-RPC only
      api_key: env:ODOO_API_KEY
      timezone: Europe/Oslo           # the zone the promised dates are read in
      customer_field: partner_id      # many2one naming the owning customer (its id is the customer id)

Status (``OrderStatus``) from ``state`` and ``delivery_status`` (Odoo 16+), first that holds:

=====================================================  =====================
``state`` = ``cancel``                                  ``cancelled``
``state`` in ``draft``, ``sent`` (quotation)            ``open``
``delivery_status`` = ``full``                          ``shipped``
``delivery_status`` = ``partial``                       ``partially_shipped``
no ``delivery_status``: every outgoing picking done     ``shipped``; some done: ``partially_shipped``
``state`` in ``sale``, ``done`` (confirmed, locked)     ``confirmed``
=====================================================  =====================

``status_map`` (``{state: status}``) overrides the row of a ``state``. Dates: ``commitment_date``
(the delivery date promised to the customer), else ``expected_date``, as naive UTC datetimes turned
into a date in ``timezone``. Owner: the id of ``customer_field`` (``[id, "name"]``). Link:
``{base_url}/odoo/sales/{id}`` unless ``link`` says otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.auth import secret_from_env
from connectors.base import SystemError_
from connectors.erp.odoo_rpc import OdooRpc
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_datetime, to_float, to_text

ORDER_FIELDS = ("name", "state", "client_order_ref", "commitment_date", "expected_date", "date_order",
                "picking_ids", "delivery_status")
LINE_FIELDS = ("sequence", "product_id", "name", "product_uom_qty", "qty_delivered", "display_type")
PICKING_FIELDS = ("name", "state", "picking_type_code", "scheduled_date", "date_done")


class OdooConfig(HttpOptions):
    """``connectors.<name>`` of ``type: odoo``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "odoo"
    system: str | None = None
    auth: dict[str, Any] | None = None  # set from api_key/database for JSON-2; not for users to fill
    protocol: Literal["json2", "xmlrpc"] = "json2"
    database: str | None = None
    login: str | None = None
    api_key: str = Field(pattern=r"^env:", description="env:VARIABLE holding the API key")
    timezone: str = "UTC"
    link: str | None = None
    customer_field: str = Field("partner_id", pattern=r"^[a-z_][a-z0-9_]*$")
    status_map: dict[str, str] = Field(default_factory=dict)
    max_orders: int = Field(20, ge=1, le=200)


class OdooOrderSystem(HttpSystem):
    """ERP kind on Odoo (Online, Odoo.sh or on-premise)."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = OdooConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        raw = dict(config)
        if raw.get("protocol", "json2") == "json2" and "api_key" in raw:
            raw["auth"] = {"type": "odoo", "key": raw["api_key"], "database": raw.get("database")}
        super().__init__(name=name, config=raw, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, OdooConfig)
        self.config = cfg
        key = secret_from_env(cfg.api_key, setting=f"connectors.{name}.api_key") if cfg.protocol == "xmlrpc" else None
        self.rpc = OdooRpc(system=self, protocol=cfg.protocol, database=cfg.database, login=cfg.login, key=key,
                           setting=f"connectors.{name}")
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        StatusMap(kind=RecordKind.ORDER, mapping=cfg.status_map, setting=f"connectors.{name}.status_map")  # check
        self._link = cfg.link or self.base_url.rstrip("/") + "/odoo/sales/{record_id}"

    async def aclose(self) -> None:
        await self.rpc.aclose()
        await super().aclose()

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        rows = await self._orders([["name", "=", order_no]], limit=1)
        return rows[0] if rows else None

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not customer_po:
            return []
        return await self._orders([["client_order_ref", "=", customer_po]], limit=self.config.max_orders)

    # ------------------------------------------------------------------ reading and mapping

    async def _orders(self, domain: list[Any], *, limit: int) -> list[Order]:
        rows = await self.rpc.search_read(model="sale.order", domain=domain, limit=limit,
                                          fields=[*ORDER_FIELDS, self.config.customer_field])
        return list(await asyncio.gather(*(self._order(row) for row in rows)))

    async def _order(self, raw: Mapping[str, Any]) -> Order:
        record_id, number = raw.get("id"), to_text(raw.get("name"))
        owner = raw.get(self.config.customer_field)
        if not number or not isinstance(record_id, int) or not isinstance(owner, list) or not owner:
            raise SystemError_(f"{self.system}: sale.order without id, name or {self.config.customer_field}",
                               system=self.name)
        picking_ids = [p for p in raw.get("picking_ids") or [] if isinstance(p, int)]
        lines, pickings = await asyncio.gather(
            self.rpc.search_read(model="sale.order.line", domain=[["order_id", "=", record_id]],
                                 fields=list(LINE_FIELDS), limit=500, order="sequence, id"),
            self.rpc.search_read(model="stock.picking", domain=[["id", "in", picking_ids]],
                                 fields=list(PICKING_FIELDS), limit=200) if picking_ids else _nothing())
        outgoing = [p for p in pickings if p.get("picking_type_code") in ("outgoing", None)]
        products = [ln for ln in lines if not ln.get("display_type")]
        promised = raw.get("commitment_date") or raw.get("expected_date")
        return Order(
            order_no=number, customer_id=str(owner[0]), customer_po=to_text(raw.get("client_order_ref")),
            status=self._status(raw, outgoing),
            confirmed_date=self._date(promised),
            lines=tuple(OrderLine(line_no=i, sku=_product_code(ln.get("product_id")),
                                  description=to_text(ln.get("name")),
                                  qty_ordered=to_float(ln.get("product_uom_qty")),
                                  qty_shipped=to_float(ln.get("qty_delivered")))
                        for i, ln in enumerate(products, start=1)),
            deliveries=tuple(str(p["name"]) for p in outgoing if p.get("name") and p.get("state") != "cancel"),
            source=Source(system=self.system, record_id=str(record_id), fetched_at=datetime.now(UTC),
                          link=self._link.replace("{record_id}", str(record_id))),
        )

    def _status(self, raw: Mapping[str, Any], pickings: list[dict[str, Any]]) -> str:
        state = str(raw.get("state") or "")
        if state in self.config.status_map:
            return self.config.status_map[state]
        if state == "cancel":
            return OrderStatus.CANCELLED
        if state in ("draft", "sent"):
            return OrderStatus.OPEN
        delivery = raw.get("delivery_status")
        if delivery == "full":
            return OrderStatus.SHIPPED
        if delivery == "partial":
            return OrderStatus.PARTIALLY_SHIPPED
        live = [p for p in pickings if p.get("state") != "cancel"]
        if not delivery and live:
            done = [p.get("state") == "done" for p in live]
            if all(done):
                return OrderStatus.SHIPPED
            if any(done):
                return OrderStatus.PARTIALLY_SHIPPED
        if state in ("sale", "done"):
            return OrderStatus.CONFIRMED
        return OrderStatus.UNKNOWN

    def _date(self, value: Any) -> date | None:
        moment = to_datetime(value, tz=UTC)  # Odoo datetimes are naive UTC
        return to_date(moment, tz=self._tz) if moment is not None else None


async def _nothing() -> list[dict[str, Any]]:
    return []


def _product_code(value: Any) -> str | None:
    """``[id, "[HM-SOFA] Sofa"]`` -> ``HM-SOFA`` (the internal reference), else the display name."""
    name = to_text(value)
    if name and name.startswith("[") and "]" in name:
        return name[1:name.index("]")]
    return name
