"""Odoo Inventory as the warehouse system: the ``stock.picking`` transfers of a sales order.

Over JSON-2 (Odoo 19+, the default) or XML-RPC, through ``connectors.erp.odoo_rpc.OdooRpc``. Per
order, concurrently: ``stock.picking`` ``search_read`` with ``[["origin", "=", order_no]]`` (Odoo
writes the sales order's name into ``origin`` of every transfer it creates: pick, pack, delivery),
and ``sale.order`` ``search_read`` by ``name`` for the owning customer.

YAML::

    odoo_wms:
      type: odoo_pickings
      base_url: https://nordkyst.odoo.com
      protocol: json2                  # or xmlrpc (needs login)
      database: nordkyst
      login: api@nordkyst.example      # XML-RPC only
      api_key: env:ODOO_API_KEY
      customer_field: partner_id       # sale.order many2one naming the customer (as the Odoo ERP adapter)
      pack_types: [Pack]               # picking type names (after "WH: ") of the packing step

Status (``FulfillmentStatus``) from the live (not ``cancel``) transfers, in this order; ``state`` is
draft / waiting / confirmed / assigned / done / cancel; ``status_map`` (``{state: status}``) overrides
the row of an outgoing transfer's ``state``:

==========================================================  =============
every transfer cancelled                                     ``cancelled``
every outgoing (``picking_type_code``) transfer ``done``     ``shipped``
a packing transfer (``pack_types``) ``done``                 ``packed``
another internal transfer (the pick step) ``done``           ``picked``
an internal transfer ``assigned`` (ready to pick)            ``picking``
otherwise (draft, waiting, confirmed, assigned delivery)     ``open``
==========================================================  =============

Times: ``date_done`` (naive UTC in Odoo) of the pick step, the pack step and the last delivery.
Owner: the id of the sale order's ``customer_field`` (``[id, "name"]``), else the delivery's
``partner_id`` (the shipping address: a child contact id, so authorization may withhold it).
Warehouse: the first segment of the delivery's ``location_id`` (``"WH/Stock"`` -> ``WH``). Link:
``{base_url}/odoo/action-stock.action_picking_tree_all/{id}`` unless ``link`` says otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from agent.models import Fulfillment, FulfillmentStatus, Source
from connectors.auth import secret_from_env
from connectors.erp.odoo_rpc import OdooRpc
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, to_datetime, to_text

PICKING_FIELDS = ("name", "origin", "state", "picking_type_code", "picking_type_id", "partner_id", "location_id",
                  "scheduled_date", "date_deadline", "date_done", "carrier_id", "carrier_tracking_ref")


class OdooPickingsConfig(HttpOptions):
    """``connectors.<name>`` of ``type: odoo_pickings``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "odoo_pickings"
    system: str | None = None
    auth: dict[str, Any] | None = None  # set from api_key/database for JSON-2; not for users to fill
    protocol: Literal["json2", "xmlrpc"] = "json2"
    database: str | None = None
    login: str | None = None
    api_key: str = Field(pattern=r"^env:", description="env:VARIABLE holding the API key")
    customer_field: str = Field("partner_id", pattern=r"^[a-z_][a-z0-9_]*$")
    pack_types: tuple[str, ...] = ("Pack",)
    status_map: dict[str, str] = Field(default_factory=dict)
    link: str | None = None
    max_pickings: int = Field(50, ge=1, le=500)


class OdooPickingsWarehouse(HttpSystem):
    """WMS kind on Odoo Inventory transfers."""

    kinds: ClassVar[tuple[str, ...]] = ("wms",)
    options_model: ClassVar[type[HttpOptions]] = OdooPickingsConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        raw = dict(config)
        if raw.get("protocol", "json2") == "json2" and "api_key" in raw:
            raw["auth"] = {"type": "odoo", "key": raw["api_key"], "database": raw.get("database")}
        super().__init__(name=name, config=raw, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, OdooPickingsConfig)
        self.config = cfg
        key = secret_from_env(cfg.api_key, setting=f"connectors.{name}.api_key") if cfg.protocol == "xmlrpc" else None
        self.rpc = OdooRpc(system=self, protocol=cfg.protocol, database=cfg.database, login=cfg.login, key=key,
                           setting=f"connectors.{name}")
        self._status = StatusMap(kind=RecordKind.FULFILLMENT, mapping=cfg.status_map,
                                 setting=f"connectors.{name}.status_map")
        self._link = cfg.link or self.base_url.rstrip("/") + "/odoo/action-stock.action_picking_tree_all/{record_id}"

    async def aclose(self) -> None:
        await self.rpc.aclose()
        await super().aclose()

    # ------------------------------------------------------------------ WarehouseSystem

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        pickings, orders = await asyncio.gather(
            self.rpc.search_read(model="stock.picking", domain=[["origin", "=", order_no]],
                                 fields=list(PICKING_FIELDS), limit=self.config.max_pickings, order="id"),
            self.rpc.search_read(model="sale.order", domain=[["name", "=", order_no]],
                                 fields=["name", self.config.customer_field], limit=1))
        if not pickings:
            return None
        return self._fulfillment(order_no, pickings, orders[0] if orders else None)

    # ------------------------------------------------------------------ mapping

    def _fulfillment(self, order_no: str, pickings: list[dict[str, Any]], order: Mapping[str, Any] | None
                     ) -> Fulfillment:
        live = [p for p in pickings if p.get("state") != "cancel"]
        outgoing = [p for p in live if p.get("picking_type_code") == "outgoing"]
        internal = [p for p in live if p.get("picking_type_code") == "internal"]
        packs = [p for p in internal if self._is_pack(p)]
        picks = [p for p in internal if not self._is_pack(p)]
        status = self._state(live, outgoing, picks, packs)
        anchor = (outgoing or live or pickings)[-1]
        owner = (order or {}).get(self.config.customer_field) if order else None
        if not (isinstance(owner, list) and owner):
            owner = anchor.get("partner_id")
        return Fulfillment(
            order_no=order_no, customer_id=str(owner[0]) if isinstance(owner, list) and owner else "",
            warehouse=_warehouse(anchor.get("location_id")), status=status,
            picked_at=_done(picks), packed_at=_done(packs),
            shipped_at=_done(outgoing) if status == FulfillmentStatus.SHIPPED else None,
            source=Source(system=self.system, record_id=str(anchor.get("id")), fetched_at=datetime.now(UTC),
                          link=self._link.replace("{record_id}", str(anchor.get("id")))),
        )

    def _state(self, live: list[dict[str, Any]], outgoing: list[dict[str, Any]], picks: list[dict[str, Any]],
               packs: list[dict[str, Any]]) -> str:
        for picking in outgoing:
            state = str(picking.get("state"))
            if state in self.config.status_map:
                return self._status(self.config.status_map[state])
        if not live:
            return FulfillmentStatus.CANCELLED
        if outgoing and all(p.get("state") == "done" for p in outgoing):
            return FulfillmentStatus.SHIPPED
        if any(p.get("state") == "done" for p in packs):
            return FulfillmentStatus.PACKED
        if any(p.get("state") == "done" for p in picks):
            return FulfillmentStatus.PICKED
        if any(p.get("state") == "assigned" for p in picks):
            return FulfillmentStatus.PICKING
        return FulfillmentStatus.OPEN

    def _is_pack(self, picking: Mapping[str, Any]) -> bool:
        name = to_text(picking.get("picking_type_id")) or ""
        return name.split(":")[-1].strip() in self.config.pack_types


def _done(pickings: list[dict[str, Any]]) -> datetime | None:
    stamps = [to_datetime(p.get("date_done"), tz=UTC) for p in pickings if p.get("state") == "done"]
    return max((s for s in stamps if s), default=None)


def _warehouse(location: Any) -> str | None:
    name = to_text(location)
    return name.split("/")[0] if name else None
