"""Oracle NetSuite order system: SuiteQL to find sales orders, the REST record API to read them.

A sales order's document number (``tranId``) and customer PO (``otherRefNum``) are not record keys, so
they are looked up with SuiteQL first, then the record is read with its lines::

    POST /services/rest/query/v1/suiteql?limit=20     Prefer: transient
         {"q": "SELECT id, tranid FROM transaction WHERE type = 'SalesOrd' AND tranid = 'SO1234'"}
    GET  /services/rest/record/v1/salesOrder/{id}?expandSubResources=true
    POST /services/rest/query/v1/suiteql              (the item fulfillments created from the order)
         {"q": "SELECT DISTINCT t.id, t.tranid FROM transaction t INNER JOIN transactionline tl
                ON tl.transaction = t.id WHERE t.type = 'ItemShip' AND tl.createdfrom = 4711"}

SuiteQL over REST has no bind parameters: values are SQL string literals with quotes doubled, internal
ids must be digits, and a reference with control characters or over 64 characters is not looked up.
SuiteQL answers ``{"items": [...], "hasMore", "count", "offset", "totalResults"}`` with lower-case
column names and string values.

YAML::

    netsuite:
      type: netsuite
      account_id: "1234567_SB1"             # host 1234567-sb1.suitetalk.api.netsuite.com, realm 1234567_SB1
      timezone: Europe/Oslo
      auth: {type: netsuite_tba, consumer_key: env:NS_CONSUMER_KEY, consumer_secret: env:NS_CONSUMER_SECRET,
             token_id: env:NS_TOKEN_ID, token_secret: env:NS_TOKEN_SECRET}

``auth`` may instead be any framework strategy (e.g. ``bearer`` with an OAuth 2.0 M2M access token).
Without ``link`` the source link is the UI page ``https://<account>.app.netsuite.com/app/accounting/
transactions/salesord.nl?id=<internal id>``; a ``link`` template may use ``{record_id}`` (the tranId)
and ``{internal_id}``.

Status (``OrderStatus``): ``orderStatus.id`` (else ``status.refName``) through ``status_map``; default
``A`` Pending Approval -> ``on_hold``, ``B`` Pending Fulfillment -> ``confirmed`` (or
``partially_shipped`` when a line has ``quantityFulfilled`` > 0), ``C`` Cancelled -> ``cancelled``,
``D`` Partially Fulfilled and ``E`` Pending Billing/Partially Fulfilled -> ``partially_shipped``,
``F`` Pending Billing and ``G`` Billed -> ``shipped``, ``H`` Closed -> ``cancelled`` (closed before
fulfilling everything). Dates are ``YYYY-MM-DD`` strings: ``shipDate`` is the confirmed (planned ship)
date; NetSuite has no standard requested delivery date, so ``requested_date`` stays empty. Lines:
``item.refName``, ``description``, ``quantity``, ``quantityFulfilled``. Owner: ``entity.id`` (the
customer's internal id). Errors are ``{"type", "title", "status", "o:errorDetails": [{"detail",
"o:errorCode"}]}``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

from pydantic import ConfigDict, Field

from agent.models import Order, OrderLine, OrderStatus, Source
from connectors.base import SystemError_
from connectors.erp.netsuite_auth import netsuite_tba_from_config
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_date, to_float, to_text

DEFAULT_STATUS = {
    "A": "on_hold", "B": "confirmed", "C": "cancelled", "D": "partially_shipped", "E": "partially_shipped",
    "F": "shipped", "G": "shipped", "H": "cancelled",
    "Pending Approval": "on_hold", "Pending Fulfillment": "confirmed", "Cancelled": "cancelled",
    "Partially Fulfilled": "partially_shipped", "Pending Billing/Partially Fulfilled": "partially_shipped",
    "Pending Billing": "shipped", "Billed": "shipped", "Closed": "cancelled",
}
SUITEQL = "/services/rest/query/v1/suiteql"
RECORD = "/services/rest/record/v1/salesOrder"
_SAFE_VALUE = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")


class NetSuiteConfig(HttpOptions):
    """``connectors.<name>`` of ``type: netsuite``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "netsuite"
    system: str | None = None
    auth: dict[str, Any] | None = None
    account_id: str = Field(pattern=r"^[0-9A-Za-z_]+$", description="account id, 1234567 or 1234567_SB1")
    timezone: str = "UTC"
    link: str | None = None
    status_map: dict[str, str] = Field(default_factory=dict, description="orderStatus id/name -> order status")
    max_orders: int = Field(20, ge=1, le=100)


def suiteql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def account_host(account_id: str) -> str:
    """``1234567_SB1`` -> ``1234567-sb1`` (the account's host label)."""
    return account_id.lower().replace("_", "-")


class NetSuiteOrderSystem(HttpSystem):
    """ERP kind on Oracle NetSuite through SuiteQL and the REST record API."""

    kinds: ClassVar[tuple[str, ...]] = ("erp",)
    options_model: ClassVar[type[HttpOptions]] = NetSuiteConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        auth = config.get("auth")
        tba = isinstance(auth, Mapping) and auth.get("type") == "netsuite_tba"
        account = str(config.get("account_id") or "")
        base = {"base_url": f"https://{account_host(account)}.suitetalk.api.netsuite.com"} if account else {}
        super().__init__(name=name, config={**base, **config, **({"auth": None} if tba else {})}, context=context,
                         **machinery)
        cfg = self.options
        assert isinstance(cfg, NetSuiteConfig)
        self.config = cfg
        if tba:
            assert isinstance(auth, Mapping)
            strategy = netsuite_tba_from_config(auth, connector=name, realm=cfg.account_id.upper())
            self.auth = strategy
            self._client.auth = strategy
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.ORDER, mapping={**DEFAULT_STATUS, **cfg.status_map},
                                 setting=f"connectors.{name}.status_map")

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        order_no = order_no.strip()
        if not _SAFE_VALUE.match(order_no):
            return None
        rows = await self._suiteql("SELECT id, tranid FROM transaction WHERE type = 'SalesOrd' AND tranid = "
                                   + suiteql_literal(order_no), limit=1)
        return await self._read(rows[0]) if rows else None

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        customer_po = customer_po.strip()
        if not _SAFE_VALUE.match(customer_po):
            return []
        rows = await self._suiteql("SELECT id, tranid FROM transaction WHERE type = 'SalesOrd' AND otherrefnum = "
                                   + suiteql_literal(customer_po), limit=self.config.max_orders)
        found = await asyncio.gather(*(self._read(r) for r in rows))
        return [o for o in found if o is not None]

    # ------------------------------------------------------------------ calls

    async def _suiteql(self, query: str, *, limit: int) -> list[dict[str, Any]]:
        body = await self.post_json(SUITEQL, json={"q": query}, params={"limit": str(limit)},
                                    headers={"Prefer": "transient"}, cache=True)
        rows = body.get("items") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise SystemError_(f"{self.system}: SuiteQL answer has no items list", system=self.name)
        return [r for r in rows if isinstance(r, dict)]

    async def _read(self, row: Mapping[str, Any]) -> Order | None:
        internal_id = str(row.get("id") or "")
        if not internal_id.isdigit():
            raise SystemError_(f"{self.system}: SuiteQL row without a numeric id", system=self.name)
        record, fulfillments = await asyncio.gather(
            self.get_json_or_none(f"{RECORD}/{internal_id}", params={"expandSubResources": "true"}),
            self._suiteql("SELECT DISTINCT t.id, t.tranid FROM transaction t INNER JOIN transactionline tl "
                          f"ON tl.transaction = t.id WHERE t.type = 'ItemShip' AND tl.createdfrom = {internal_id}",
                          limit=100))
        if record is None:  # deleted between the query and the read
            return None
        if not isinstance(record, dict):
            raise SystemError_(f"{self.system}: salesOrder answer is not an object", system=self.name)
        return self._order(record, internal_id, [str(f["tranid"]) for f in fulfillments if f.get("tranid")])

    # ------------------------------------------------------------------ mapping

    def _order(self, raw: Mapping[str, Any], internal_id: str, deliveries: list[str]) -> Order:
        number = to_text(raw.get("tranId"))
        entity = raw.get("entity")
        customer = to_text(entity.get("id")) if isinstance(entity, dict) else None
        if not number or not customer:
            raise SystemError_(f"{self.system}: sales order without tranId or entity", system=self.name)
        sublist = raw.get("item")
        items = sublist.get("items") if isinstance(sublist, dict) else None
        lines = [ln for ln in items or [] if isinstance(ln, dict)]
        return Order(
            order_no=number, customer_id=customer, customer_po=to_text(raw.get("otherRefNum")),
            status=self._order_status(raw, lines), confirmed_date=to_date(raw.get("shipDate"), tz=self._tz),
            lines=tuple(self._line(ln, i) for i, ln in enumerate(lines, start=1)),
            deliveries=tuple(deliveries), source=self._source(number, internal_id),
        )

    def _order_status(self, raw: Mapping[str, Any], lines: list[dict[str, Any]]) -> str:
        order_status, status = raw.get("orderStatus"), raw.get("status")
        code = (to_text(order_status.get("id")) if isinstance(order_status, dict) else to_text(order_status)) or (
            to_text(status.get("refName")) if isinstance(status, dict) else to_text(status))
        mapped = self._status(code)
        if mapped == OrderStatus.CONFIRMED.value and any((to_float(ln.get("quantityFulfilled")) or 0) > 0
                                                         for ln in lines):
            return OrderStatus.PARTIALLY_SHIPPED.value
        return mapped

    @staticmethod
    def _line(raw: Mapping[str, Any], index: int) -> OrderLine:
        item = raw.get("item")
        line = to_float(raw.get("line"))
        return OrderLine(line_no=int(line) if line else index,
                         sku=to_text(item.get("refName")) if isinstance(item, dict) else to_text(item),
                         description=to_text(raw.get("description")), qty_ordered=to_float(raw.get("quantity")),
                         qty_shipped=to_float(raw.get("quantityFulfilled")))

    def _source(self, number: str, internal_id: str) -> Source:
        if self.config.link:
            link = (self.config.link.replace("{record_id}", quote(number, safe=""))
                    .replace("{internal_id}", internal_id))
        else:
            link = (f"https://{account_host(self.config.account_id)}.app.netsuite.com"
                    f"/app/accounting/transactions/salesord.nl?id={internal_id}")
        return Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC), link=link)
