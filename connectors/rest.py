"""Generic REST connector: any kind from a declarative description of a JSON API.

Configured in the mailbox YAML (every ``HttpOptions`` key applies too)::

    type: rest
    system: acme-erp                          # what facts cite as their source (default: the connector name)
    base_url: https://erp.example.com/api/v2
    auth: {type: api_key, header: X-API-Key, key: env:ACME_API_KEY}
    timezone: Europe/Oslo                     # how naive dates and times of this system are read
    link: "https://erp.example.com/orders/{record_id}"   # optional page per record
    status_map:                               # the system's codes -> the shared vocabulary
      order: {OPEN: open, REL: confirmed, PART: partially_shipped, DONE: shipped}
      shipment: {pre-transit: booked, transit: in_transit, failure: exception}
    endpoints:
      order:                                  # get_order; placeholders: {order_no}
        path: /orders/{order_no}
        params: {expand: lines}
        record: data                          # JMESPath to the record (or list of records); default @
        fields: {order_no: number, customer_id: customer.id, status: status,
                 customer_po: externalRef, confirmed_date: confirmedDate, deliveries: "deliveries[].id"}
        lines: {path: lines, fields: {line_no: lineNo, sku: item, qty_ordered: qty, qty_shipped: shipped}}
      orders_by_po:        {path: /orders, params: {po: "{customer_po}"}, record: "data[]", fields: ...}
      shipments_for_order: {path: /shipments, params: {order: "{order_no}"}, record: items, fields: ...}
      track:               {path: /track, params: {number: "{value}", type: "{kind}"}, ...}
      fulfillment:         {path: /fulfillments/{order_no}, fields: ...}
      customers_by_contact: {path: /contacts, params: {email: "{address}"}, record: "data[]",
                             fields: {customer_id: customerId}}
      customers_by_domain:  {path: /customers, params: {domain: "{domain}"}, ...}

Field paths are JMESPath; values are converted to the normalized model
(statuses mapped, datetimes timezone-aware, quantities as numbers). Path
placeholders are URL-encoded; parameter names and values may hold placeholders
too (``params: {"{kind}": "{value}"}``; a literal brace is written ``{{``); an
endpoint may also be a ``method: POST`` with a templated JSON ``body``.
``not_found_if`` (JMESPath) marks a 200 answer that means "no such record";
``paginate`` (see ``connectors.pagination``) pages list endpoints. A 404 is
"not found". An endpoint that is not configured means that call is not served
(``connectors check`` and ``serves(kind)`` say so).
"""

from __future__ import annotations

import asyncio
import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field

from agent.models import (
    CustomerMatch,
    DeliveryWindow,
    Fulfillment,
    MatchMethod,
    Order,
    OrderLine,
    ReferenceKind,
    Shipment,
    ShipmentEvent,
    Source,
)
from connectors.base import ConfigurationError, Kind, NotFoundError, SystemError_
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import (
    RecordKind,
    StatusMap,
    resolve_timezone,
    to_date,
    to_datetime,
    to_float,
    to_text,
    to_texts,
)
from connectors.pagination import compile_path, pagination_from_config

EndpointName = Literal["customers_by_contact", "customers_by_domain", "order", "orders_by_po",
                       "shipments_for_order", "track", "fulfillment"]
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "customers_by_contact": ("address",), "customers_by_domain": ("domain",), "order": ("order_no",),
    "orders_by_po": ("customer_po",), "shipments_for_order": ("order_no",), "track": ("kind", "value"),
    "fulfillment": ("order_no",),
}
_RECORD_OF = {"customers_by_contact": "customer", "customers_by_domain": "customer", "order": "order",
              "orders_by_po": "order", "shipments_for_order": "shipment", "track": "shipment",
              "fulfillment": "fulfillment"}
_COMMON = ("record_id", "link")
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # record -> (required, optional)
    "customer": (("customer_id",), ()),
    "order": (("order_no", "customer_id", "status"),
              ("customer_po", "requested_date", "confirmed_date", "deliveries", *_COMMON)),
    "line": ((), ("line_no", "sku", "description", "qty_ordered", "qty_shipped")),
    "shipment": (("shipment_id", "customer_id", "status"),
                 ("order_no", "carrier", "mode", "tracking_no", "container_no", "origin", "destination", "eta",
                  "delivered_at", "pod_signed_by", "pod_link", "delivery_window_start", "delivery_window_end",
                  "last_event_time", "last_event_location", "last_event_code", "last_event_description", *_COMMON)),
    "fulfillment": (("order_no", "customer_id", "status"),
                    ("warehouse", "picked_at", "packed_at", "shipped_at", *_COMMON)),
}
_DATES = {"requested_date", "confirmed_date"}
_DATETIMES = {"eta", "delivered_at", "picked_at", "packed_at", "shipped_at", "last_event_time",
              "delivery_window_start", "delivery_window_end"}
_NUMBERS = {"qty_ordered", "qty_shipped"}
_KIND_ENDPOINTS = {Kind.DIRECTORY: ("customers_by_contact", "customers_by_domain"), Kind.ERP: ("order",),
                   Kind.TMS: ("shipments_for_order", "track"), Kind.WMS: ("fulfillment",)}


class LinesSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    fields: dict[str, str]


class Endpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["GET", "POST"] = "GET"
    path: str
    params: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    record: str = "@"
    fields: dict[str, str]
    lines: LinesSpec | None = None
    not_found_if: str | None = None
    paginate: dict[str, Any] | None = None
    max_pages: int = Field(5, ge=1)
    cache: bool | None = None  # default: GET yes, POST no


class RestConfig(HttpOptions):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "rest"
    system: str | None = None
    auth: dict[str, Any] | None = None
    timezone: str = "UTC"
    link: str | None = None
    status_map: dict[RecordKind, dict[str, str]] = Field(default_factory=dict)
    endpoints: dict[EndpointName, Endpoint] = Field(default_factory=dict)


class _Fields:
    """Compiled JMESPath field paths of one record kind."""

    def __init__(self, *, record: str, fields: Mapping[str, str], setting: str) -> None:
        required, optional = FIELDS[record]
        unknown = set(fields) - set(required) - set(optional)
        if unknown:
            raise ConfigurationError(f"{setting}: unknown fields {sorted(unknown)} for a {record} "
                                     f"(known: {', '.join((*required, *optional))})", setting=setting)
        missing = set(required) - set(fields)
        if missing:
            raise ConfigurationError(f"{setting}: fields {sorted(missing)} are required for a {record}",
                                     setting=setting)
        self.paths = dict(fields)
        self._compiled = {name: compile_path(path, setting=f"{setting}.{name}") for name, path in fields.items()}

    def read(self, raw: Any) -> dict[str, Any]:
        return {name: expr.search(raw) for name, expr in self._compiled.items()}


def _search(expr: Any, data: Any, *, system: str, name: str, setting: str) -> Any:
    """Evaluate a JMESPath; a type error in the answer (``join`` over a null, ...) is a system error."""
    try:
        return expr(data)
    except JMESPathError as exc:
        raise SystemError_(f"{system}: {setting} does not fit the answer: {exc}", system=name) from exc


class _Call:
    """One configured endpoint, ready to render and run."""

    def __init__(self, *, name: str, spec: Endpoint, connector: str) -> None:
        setting = f"connectors.{connector}.endpoints.{name}"
        self.name, self.spec, self.setting = name, spec, setting
        allowed = PLACEHOLDERS[name]
        templates = [("path", spec.path), *((f"params.{k}", v) for k, v in spec.params.items()),
                     *(("params", k) for k in spec.params), *((f"body{p}", v) for p, v in _strings(spec.body))]
        for where, template in templates:
            _check_template(template, allowed=allowed, setting=f"{setting}.{where}")
        self.record = compile_path(spec.record, setting=f"{setting}.record")
        self.fields = _Fields(record=_RECORD_OF[name], fields=spec.fields, setting=f"{setting}.fields")
        self.lines = None
        if spec.lines is not None:
            if _RECORD_OF[name] != "order":
                raise ConfigurationError(f"{setting}.lines: only order endpoints have lines", setting=setting)
            self.lines = (compile_path(spec.lines.path, setting=f"{setting}.lines.path"),
                          _Fields(record="line", fields=spec.lines.fields, setting=f"{setting}.lines.fields"))
        self.not_found_if = compile_path(spec.not_found_if, setting=f"{setting}.not_found_if") \
            if spec.not_found_if else None
        self.pagination = pagination_from_config(spec.paginate, setting=f"{setting}.paginate")
        self.cache = spec.cache if spec.cache is not None else spec.method == "GET"


class RestConnector(HttpSystem):
    """A JSON API described in YAML; serves each kind whose endpoints are configured."""

    kinds: ClassVar[tuple[str, ...]] = ("directory", "erp", "tms", "wms")
    options_model: ClassVar[type[HttpOptions]] = RestConfig

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, RestConfig)
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        if cfg.link:
            _check_template(cfg.link, allowed=("record_id",), setting=f"connectors.{name}.link")
        self._link = cfg.link
        self._status = {kind: StatusMap(kind=kind, mapping=cfg.status_map.get(kind),
                                        setting=f"connectors.{name}.status_map") for kind in RecordKind}
        self._calls = {ep: _Call(name=ep, spec=spec, connector=name) for ep, spec in cfg.endpoints.items()}
        if not self._calls:
            raise ConfigurationError(f"connectors.{name}.endpoints: configure at least one of "
                                     f"{', '.join(PLACEHOLDERS)}", system=name, setting=f"connectors.{name}.endpoints")

    def serves(self, kind: str) -> bool:
        return any(ep in self._calls for ep in _KIND_ENDPOINTS.get(Kind(kind), ()))

    # ------------------------------------------------------------------ CustomerDirectory

    async def customers_for_sender(self, *, address: str) -> list[CustomerMatch]:
        address = address.strip().lower()
        asks: list[tuple[MatchMethod, str, dict[str, str]]] = [
            (MatchMethod.CONTACT, "customers_by_contact", {"address": address}),
            (MatchMethod.DOMAIN, "customers_by_domain", {"domain": address.rpartition("@")[2]}),
        ]
        asks = [a for a in asks if a[1] in self._calls]
        if not asks:
            raise self._missing("customers_by_contact")
        answers = await asyncio.gather(*(self._records(ep, values) for _, ep, values in asks))
        matches: dict[str, CustomerMatch] = {}
        for (method, ep, _), records in zip(asks, answers, strict=True):
            for raw in records:
                customer = to_text(self._read(self._calls[ep].fields, raw, self._calls[ep].setting)["customer_id"])
                if customer and customer not in matches:
                    matches[customer] = CustomerMatch(customer_id=customer, method=method, system=self.system)
        return list(matches.values())

    # ------------------------------------------------------------------ OrderSystem

    async def get_order(self, *, order_no: str) -> Order | None:
        records = await self._records("order", {"order_no": order_no})
        return self._order("order", records[0]) if records else None

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        if "orders_by_po" not in self._calls:
            return []
        return [self._order("orders_by_po", r) for r in await self._records("orders_by_po",
                                                                            {"customer_po": customer_po})]

    # ------------------------------------------------------------------ ShipmentTracker

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        records = await self._records("shipments_for_order", {"order_no": order_no})
        return [self._shipment("shipments_for_order", r) for r in records]

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        if "track" not in self._calls:
            return []
        records = await self._records("track", {"kind": ReferenceKind(kind).value, "value": value})
        return [self._shipment("track", r) for r in records]

    # ------------------------------------------------------------------ WarehouseSystem

    async def fulfillment(self, *, order_no: str) -> Fulfillment | None:
        records = await self._records("fulfillment", {"order_no": order_no})
        if not records:
            return None
        v = self._values("fulfillment", records[0])
        return Fulfillment(order_no=v["order_no"], customer_id=v["customer_id"], warehouse=v.get("warehouse"),
                           status=self._status[RecordKind.FULFILLMENT](v["status"]), picked_at=v.get("picked_at"),
                           packed_at=v.get("packed_at"), shipped_at=v.get("shipped_at"),
                           source=self._source(v, v["order_no"]))

    # ------------------------------------------------------------------ machinery

    async def _records(self, endpoint: str, values: dict[str, str]) -> list[Any]:
        call = self._calls.get(endpoint)
        if call is None:
            raise self._missing(endpoint)
        spec = call.spec
        path = _render(spec.path, values, encode=True)
        params = {_render(k, values, encode=False): _render(v, values, encode=False) for k, v in spec.params.items()}
        if spec.paginate:
            def items(body: Any) -> Any:
                return self._find(call.record.search, body, f"{call.setting}.record")

            try:
                return [item async for item in self.paginate(path, params=params, items=items,
                                                             pagination=call.pagination, max_pages=spec.max_pages)]
            except NotFoundError:
                return []
        try:
            body = await self.request_json(spec.method, path, params=params or None, cache=call.cache,
                                           json=_render_tree(spec.body, values) if spec.body is not None else None)
        except NotFoundError:
            return []
        if body is None or (call.not_found_if is not None and self._find(call.not_found_if.search, body,
                                                                           f"{call.setting}.not_found_if")):
            return []
        found = self._find(call.record.search, body, f"{call.setting}.record")
        if found is None:
            return []
        return found if isinstance(found, list) else [found]

    def _values(self, endpoint: str, raw: Any) -> dict[str, Any]:
        call = self._calls[endpoint]
        return self._convert(self._read(call.fields, raw, call.setting), setting=call.setting)

    def _read(self, fields: _Fields, raw: Any, setting: str) -> dict[str, Any]:
        return self._find(fields.read, raw, f"{setting}.fields")

    def _find(self, fn: Any, data: Any, setting: str) -> Any:
        return _search(fn, data, system=self.system, name=self.name, setting=setting)

    def _convert(self, values: dict[str, Any], *, setting: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            try:
                if name in _DATES:
                    out[name] = to_date(value, tz=self._tz)
                elif name in _DATETIMES:
                    out[name] = to_datetime(value, tz=self._tz)
                elif name in _NUMBERS:
                    out[name] = to_float(value)
                elif name == "line_no":
                    out[name] = None if value is None else int(value)
                elif name == "deliveries":
                    out[name] = to_texts(value)
                elif name == "status":
                    out[name] = value
                else:
                    out[name] = to_text(value)
            except (TypeError, ValueError) as exc:
                raise SystemError_(f"{self.system}: {setting}.fields.{name} has an unusable value: {exc}",
                                   system=self.name) from exc
        for required in ("customer_id", "order_no", "shipment_id"):
            if required in values and not out.get(required):
                raise SystemError_(f"{self.system}: a record without {required} ({setting}.fields.{required})",
                                   system=self.name)
        return out

    def _order(self, endpoint: str, raw: Any) -> Order:
        call = self._calls[endpoint]
        v = self._values(endpoint, raw)
        lines: list[OrderLine] = []
        if call.lines is not None:
            path, fields = call.lines
            for i, item in enumerate(self._find(path.search, raw, f"{call.setting}.lines.path") or [], start=1):
                x = self._convert(self._read(fields, item, f"{call.setting}.lines"), setting=f"{call.setting}.lines")
                lines.append(OrderLine(line_no=x.get("line_no") or i, sku=x.get("sku"),
                                       description=x.get("description"), qty_ordered=x.get("qty_ordered"),
                                       qty_shipped=x.get("qty_shipped")))
        return Order(order_no=v["order_no"], customer_id=v["customer_id"], customer_po=v.get("customer_po"),
                     status=self._status[RecordKind.ORDER](v["status"]), requested_date=v.get("requested_date"),
                     confirmed_date=v.get("confirmed_date"), lines=tuple(lines),
                     deliveries=v.get("deliveries", ()), source=self._source(v, v["order_no"]))

    def _shipment(self, endpoint: str, raw: Any) -> Shipment:
        v = self._values(endpoint, raw)
        event = None
        if v.get("last_event_time") is not None:
            event = ShipmentEvent(time=v["last_event_time"], location=v.get("last_event_location"),
                                  code=v.get("last_event_code"), description=v.get("last_event_description"))
        window = None
        if v.get("delivery_window_start") and v.get("delivery_window_end"):
            window = DeliveryWindow(start=v["delivery_window_start"], end=v["delivery_window_end"])
        return Shipment(
            shipment_id=v["shipment_id"], order_no=v.get("order_no"), customer_id=v["customer_id"],
            carrier=v.get("carrier"), mode=v.get("mode"), tracking_no=v.get("tracking_no"),
            container_no=v.get("container_no"), status=self._status[RecordKind.SHIPMENT](v["status"]),
            origin=v.get("origin"), destination=v.get("destination"), eta=v.get("eta"),
            delivered_at=v.get("delivered_at"), pod_signed_by=v.get("pod_signed_by"), pod_link=v.get("pod_link"),
            last_event=event, delivery_window=window, source=self._source(v, v["shipment_id"]),
        )

    def _source(self, values: Mapping[str, Any], default_id: str) -> Source:
        record_id = values.get("record_id") or default_id
        link = values.get("link") or (self._link.format(record_id=quote(record_id, safe="")) if self._link else None)
        return Source(system=self.system, record_id=record_id, fetched_at=datetime.now(UTC), link=link)

    def _missing(self, endpoint: str) -> ConfigurationError:
        setting = f"connectors.{self.name}.endpoints.{endpoint}"
        return ConfigurationError(f"{setting} is not configured", system=self.name, setting=setting)


def _check_template(template: str, *, allowed: tuple[str, ...], setting: str) -> None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigurationError(f"{setting}: {template!r} is not a valid template: {exc}", setting=setting) from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            raise ConfigurationError(f"{setting}: placeholder {{{field}}} is not allowed here; use "
                                     f"{', '.join('{' + a + '}' for a in allowed)}", setting=setting)


_URL_SAFE = re.compile(r"^[A-Za-z0-9._~-]*$")


def _render(template: str, values: Mapping[str, str], *, encode: bool) -> str:
    if "{" not in template:
        return template
    return template.format_map({k: quote(v, safe="") if encode and not _URL_SAFE.match(v) else v
                                for k, v in values.items()})


def _render_tree(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _render(node, values, encode=False)
    if isinstance(node, list):
        return [_render_tree(x, values) for x in node]
    if isinstance(node, dict):
        return {k: _render_tree(v, values) for k, v in node.items()}
    return node


def _strings(node: Any, where: str = "") -> list[tuple[str, str]]:
    if isinstance(node, str):
        return [(where, node)]
    if isinstance(node, list):
        return [s for i, x in enumerate(node) for s in _strings(x, f"{where}[{i}]")]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, f"{where}.{k}")]
    return []

