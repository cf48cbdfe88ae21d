"""Microsoft Dynamics 365 Finance & Operations (Supply Chain Management) order system over OData.

F&O publishes data entities under ``/data``; sales orders are ``SalesOrderHeadersV2`` and their lines
``SalesOrderLines`` (the "Sales order lines V2" entity). Both are per company (``dataAreaId``), and a
query only sees the caller's default company unless it says ``cross-company=true``::

    GET /data/SalesOrderHeadersV2?cross-company=true&$filter=SalesOrderNumber eq '000123'&$select=...
    GET /data/SalesOrderLines?cross-company=true
        &$filter=SalesOrderNumber eq '000123' and dataAreaId eq 'usmf'&$select=...

Orders by customer PO filter ``CustomersOrderReference``. With ``company`` set, every query adds
``dataAreaId eq '<company>'`` (one legal entity); without it, all companies the app user may read are
searched, and the lines are read from the order's own company. Lists are ``{"value": [...]}``.

YAML::

    fo:
      type: dynamics_fo
      base_url: https://contoso-prod.operations.dynamics.com
      company: usmf                          # optional: one legal entity (dataAreaId)
      timezone: Europe/Oslo
      auth: {type: oauth2_client_credentials,
             token_url: https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token,
             client_id: env:FO_CLIENT_ID, client_secret: env:FO_CLIENT_SECRET,
             scope: https://contoso-prod.operations.dynamics.com/.default}
      link: "https://contoso-prod.operations.dynamics.com/?cmp={company}&mi=SalesTableListPage"

Without ``link`` the source link is the record's OData address
``/data/SalesOrderHeadersV2(dataAreaId='usmf',SalesOrderNumber='000123')``.

Status (``OrderStatus``), first that holds: header ``SalesOrderStatus`` through ``status_map``
(default: ``Delivered`` -> ``shipped`` (packing slip posted for everything), ``Invoiced`` -> ``shipped``,
``Canceled`` -> ``cancelled``); for ``Backorder`` / ``None`` (open order): a line ``Delivered`` or
``Invoiced`` -> ``partially_shipped``; a ``ConfirmedShippingDate`` -> ``confirmed``; else ``open``.
Lines have no delivered quantity in this entity: a line ``Delivered``/``Invoiced`` counts as shipped in
full, ``Canceled`` lines are left out. Dates: ``RequestedShippingDate`` / ``ConfirmedShippingDate``
(``Edm.DateTimeOffset``, date-only fields arrive as ``...T12:00:00Z``; blank is ``1900-01-01``), read as
calendar dates in ``timezone``. Owner: ``OrderingCustomerAccountNumber`` (the customer account).
Errors are OData ``{"error": {"code", "message", "innererror": {...}}}``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.base import SystemError_
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_float, to_text

log = logging.getLogger(__name__)

DEFAULT_STATUS = {"Delivered": "shipped", "Invoiced": "shipped", "Canceled": "cancelled"}
OPEN_STATUSES = frozenset({"Backorder", "None"})
SHIPPED_LINE_STATUSES = frozenset({"Delivered", "Invoiced"})
BLANK_YEAR = 1900  # F&O's empty date: 1900-01-01
HEADER_FIELDS = ("SalesOrderNumber", "dataAreaId", "SalesOrderStatus", "OrderingCustomerAccountNumber",
                 "CustomersOrderReference", "RequestedShippingDate", "ConfirmedShippingDate")
LINE_FIELDS = ("SalesOrderNumber", "dataAreaId", "LineNumber", "ItemNumber", "LineDescription",
               "OrderedSalesQuantity", "SalesOrderLineStatus", "RequestedShippingDate", "ConfirmedShippingDate")


class FinanceOperationsConfig(HttpOptions):
    """``connectors.<name>`` of ``type: dynamics_fo``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "dynamics_fo"
    system: str | None = None
    auth: dict[str, Any] | None = None
    base_url: str = Field(pattern=r"^https?://")
    company: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{1,8}$", description="dataAreaId, e.g. usmf")
    timezone: str = "UTC"
    link: str | None = None
    status_map: dict[str, str] = Field(default_factory=dict, description="SalesOrderStatus -> order status")
    max_orders: int = Field(20, ge=1, le=100)


def odata_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _date(value: Any, tz: tzinfo) -> date | None:
    found = to_date(value, tz=tz)
    return None if found is None or found.year <= BLANK_YEAR else found


class FinanceOperationsOrderSystem(HttpSystem):
    """ERP kind on Dynamics 365 Finance & Operations through its OData data entities."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = FinanceOperationsConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, FinanceOperationsConfig)
        self.config = cfg
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.ORDER, mapping={**DEFAULT_STATUS, **cfg.status_map},
                                 setting=f"connectors.{name}.status_map")

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not order_no:
            return None
        headers = await self._headers(f"SalesOrderNumber eq {odata_literal(order_no)}")
        if not headers:
            return None
        if len(headers) > 1:  # the same number in several legal entities: set `company`
            log.warning("order number found in several companies", extra={
                "system": self.name, "companies": sorted(str(h.get("dataAreaId")) for h in headers)})
        header = headers[0]
        return self._order(header, await self._lines(header))

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not customer_po:
            return []
        headers = await self._headers(f"CustomersOrderReference eq {odata_literal(customer_po)}")
        lines = await asyncio.gather(*(self._lines(h) for h in headers))
        return [self._order(h, ln) for h, ln in zip(headers, lines, strict=True)]

    # ------------------------------------------------------------------ calls

    def _company_condition(self, company: str | None) -> str:
        return f" and dataAreaId eq {odata_literal(company)}" if company else ""

    async def _headers(self, condition: str) -> list[dict[str, Any]]:
        return await self._list("SalesOrderHeadersV2", {
            "$filter": condition + self._company_condition(self.config.company),
            "$select": ",".join(HEADER_FIELDS), "$top": str(self.config.max_orders)})

    async def _lines(self, header: Mapping[str, Any]) -> list[dict[str, Any]]:
        number = str(header.get("SalesOrderNumber") or "")
        company = to_text(header.get("dataAreaId")) or self.config.company
        return await self._list("SalesOrderLines", {
            "$filter": f"SalesOrderNumber eq {odata_literal(number)}" + self._company_condition(company),
            "$select": ",".join(LINE_FIELDS)})

    async def _list(self, entity: str, params: dict[str, str]) -> list[dict[str, Any]]:
        body = await self.get_json(f"/data/{entity}", params={"cross-company": "true", **params})
        rows = body.get("value") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise SystemError_(f"{self.system}: {entity} answer has no value list", system=self.name)
        return [r for r in rows if isinstance(r, dict)]

    # ------------------------------------------------------------------ mapping

    def _order(self, raw: Mapping[str, Any], lines: list[dict[str, Any]]) -> Order:
        number = to_text(raw.get("SalesOrderNumber"))
        customer = to_text(raw.get("OrderingCustomerAccountNumber"))
        if not number or not customer:
            raise SystemError_(f"{self.system}: sales order without SalesOrderNumber or "
                               "OrderingCustomerAccountNumber", system=self.name)
        kept = sorted((ln for ln in lines if ln.get("SalesOrderLineStatus") != "Canceled"),
                      key=lambda ln: to_float(ln.get("LineNumber")) or 0)
        confirmed = _date(raw.get("ConfirmedShippingDate"), self._tz)
        if confirmed is None:
            planned = [d for d in (_date(ln.get("ConfirmedShippingDate"), self._tz) for ln in kept) if d]
            confirmed = max(planned, default=None)
        return Order(
            order_no=number, customer_id=customer, customer_po=to_text(raw.get("CustomersOrderReference")),
            status=self._order_status(raw, kept, confirmed),
            requested_date=_date(raw.get("RequestedShippingDate"), self._tz), confirmed_date=confirmed,
            lines=tuple(self._line(ln, i) for i, ln in enumerate(kept, start=1)),
            source=self._source(number, to_text(raw.get("dataAreaId")) or ""),
        )

    def _order_status(self, raw: Mapping[str, Any], lines: list[dict[str, Any]], confirmed: date | None) -> str:
        status = to_text(raw.get("SalesOrderStatus"))
        if status not in OPEN_STATUSES:
            return self._status(status)
        if any(ln.get("SalesOrderLineStatus") in SHIPPED_LINE_STATUSES for ln in lines):
            return OrderStatus.PARTIALLY_SHIPPED.value
        return OrderStatus.CONFIRMED.value if confirmed else OrderStatus.OPEN.value

    @staticmethod
    def _line(raw: Mapping[str, Any], index: int) -> OrderLine:
        ordered = to_float(raw.get("OrderedSalesQuantity"))
        shipped = ordered if raw.get("SalesOrderLineStatus") in SHIPPED_LINE_STATUSES else None
        number = to_float(raw.get("LineNumber"))
        return OrderLine(line_no=int(number) if number else index, sku=to_text(raw.get("ItemNumber")),
                         description=to_text(raw.get("LineDescription")), qty_ordered=ordered, qty_shipped=shipped)

    def _source(self, number: str, company: str) -> Source:
        if self.config.link:
            link = (self.config.link.replace("{record_id}", quote(number, safe=""))
                    .replace("{company}", quote(company, safe="")))
        else:
            key = f"dataAreaId={odata_literal(company)},SalesOrderNumber={odata_literal(number)}"
            path = quote(key, safe=",='")
            link = f"{self.base_url.rstrip('/')}/data/SalesOrderHeadersV2({path})"
        return Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC), link=link)
