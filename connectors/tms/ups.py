"""UPS Tracking API (REST, OAuth 2.0): packages by tracking number and by shipper reference.

- ``track``: ``GET {base_url}/api/track/v1/details/{inquiryNumber}?locale=en_US``;
- ``shipments_for_order``: ``GET /api/track/v1/reference/details/{referenceNumber}?locale=en_US&
  refNumType=SmallPackage`` (the order number given as a reference when the label was made; UPS
  searches the last 14 days of pickups by default).

Every call carries the headers UPS requires: ``transId`` (unique per request, 32 hex characters) and
``transactionSrc`` (``transaction_src``), and ``Authorization: Bearer`` from the OAuth 2.0 client
credentials grant at ``{base_url}/security/v1/oauth/token`` (client id and secret as HTTP basic,
token cached until it expires). Answers: ``trackResponse.shipment[].package[]``; an unknown number
is a shipment ``warnings[{code: TW0001}]`` or a 404, a malformed one a 400 ``TV1002``: all ``[]``.
Other errors ``{"response": {"errors": [{"code", "message"}]}}`` keep their code in the message.

YAML::

    ups:
      type: ups
      base_url: https://onlinetools.ups.com          # https://wwwcie.ups.com for the test environment
      client_id: env:UPS_CLIENT_ID
      client_secret: env:UPS_CLIENT_SECRET
      transaction_src: shipdraft
      timezone: Europe/Oslo                          # delivery dates/times are local, without offset
      owner: {reference: SHIPMENT, pattern: "^(C\\d+)-"}

Owner: UPS does not know our customers; ``owner.reference`` names the ``referenceNumber[].type``
(``SHIPMENT`` or ``PACKAGE``) whose number carries the customer (``owner.pattern``'s first group,
or ``owner.map`` from number to customer id). Without one the owner is empty and the sender
authorization withholds the package.

Status (``ShipmentStatus``) from ``currentStatus.type`` (UPS activity status types); ``status_map``
(keys: the type or UPS's ``currentStatus.code``) overrides:

==========================================  =====================
``M`` (billing information received)         ``booked``
``P`` (pickup)                               ``picked_up``
``I``, ``W``, ``DO``, ``DD`` (in transit)    ``in_transit``; ``delayed`` with a rescheduled date
``O`` (out for delivery)                     ``out_for_delivery``
``D`` (delivered)                            ``delivered``
``X``, ``RS``, ``MV`` (exception, returned,  ``exception``
voided)
``NA`` or anything else                      ``unknown``
==========================================  =====================

Dates: ``deliveryDate[]`` (``YYYYMMDD``: ``DEL`` delivered, ``RDD`` rescheduled, ``SDD`` scheduled)
with ``deliveryTime`` (``HHMMSS``; ``EDW``/``CDW``/``IDW`` windows fill ``delivery_window``, ``CMT``/
``EOD`` the ETA time, ``DEL`` the delivery time), read in ``timezone``; a date without a time is
midnight. Activities use ``gmtDate``/``gmtTime`` (UTC) shown at ``gmtOffset`` when UPS sends them.
Link: ``https://www.ups.com/track?tracknum={id}``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.models import DeliveryWindow, ReferenceKind, Shipment, ShipmentEvent, ShipmentStatus, Source
from connectors.auth import AuthStrategy, auth_from_config
from connectors.base import ConfigurationError, NotFoundError
from connectors.http import HttpOptions, HttpSystem, error_for_response
from connectors.mapping import RecordKind, StatusMap, resolve_timezone

log = logging.getLogger(__name__)

STATUS_TYPES: dict[str, str] = {
    "M": ShipmentStatus.BOOKED,
    "P": ShipmentStatus.PICKED_UP,
    "I": ShipmentStatus.IN_TRANSIT,
    "W": ShipmentStatus.IN_TRANSIT,
    "DO": ShipmentStatus.IN_TRANSIT,
    "DD": ShipmentStatus.IN_TRANSIT,
    "O": ShipmentStatus.OUT_FOR_DELIVERY,
    "D": ShipmentStatus.DELIVERED,
    "X": ShipmentStatus.EXCEPTION,
    "RS": ShipmentStatus.EXCEPTION,
    "MV": ShipmentStatus.EXCEPTION,
    "NA": ShipmentStatus.UNKNOWN,
}
NOT_FOUND_CODES = frozenset({"TW0001", "TV1002"})
WINDOW_TYPES = frozenset({"EDW", "CDW", "IDW"})
DEFAULT_LINK = "https://www.ups.com/track?loc=en_US&tracknum={id}"


class UpsOwner(BaseModel):
    """Which shipper reference names the owning customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field("SHIPMENT", min_length=1, description="referenceNumber[].type carrying the customer")
    pattern: str | None = Field(None, description="regular expression; its first group is the customer id")
    map: dict[str, str] = Field(default_factory=dict, description="reference number -> customer id")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value


class UpsConfig(HttpOptions):
    """``connectors.<name>`` of ``type: ups``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "ups"
    system: str | None = None
    auth: dict[str, Any] | None = None  # built from client_id/client_secret unless given
    client_id: str | None = None
    client_secret: str | None = Field(None, pattern=r"^env:", description="env:VARIABLE holding the secret")
    transaction_src: str = Field("shipdraft", min_length=1, max_length=512)
    locale: str = Field("en_US", pattern=r"^[a-z]{2}_[A-Z]{2}$")
    ref_num_type: str = Field("SmallPackage", pattern=r"^(SmallPackage|fgv)$")
    reference_lookup: bool = True
    timezone: str = "UTC"
    owner: UpsOwner | None = None
    track_kinds: tuple[ReferenceKind, ...] = (ReferenceKind.TRACKING_NUMBER,)
    status_map: dict[str, str] = Field(default_factory=dict)
    link: str = DEFAULT_LINK


class UpsRequestHeaders(AuthStrategy):
    """Adds ``transId`` (new for every request) and ``transactionSrc``, then runs the wrapped strategy."""

    def __init__(self, *, inner: AuthStrategy, source: str) -> None:
        self.inner, self.source, self.setting = inner, source, inner.setting

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["transId"] = uuid.uuid4().hex
        request.headers["transactionSrc"] = self.source
        flow = self.inner.async_auth_flow(request)
        outgoing = await flow.__anext__()
        while True:
            response = yield outgoing
            try:
                outgoing = await flow.asend(response)
            except StopAsyncIteration:
                return


class UpsTracker(HttpSystem):
    """TMS kind on the UPS Tracking API."""

    kinds: ClassVar[tuple[str, ...]] = ("tms",)
    options_model: ClassVar[type[HttpOptions]] = UpsConfig
    default_base_url: ClassVar[str] = "https://onlinetools.ups.com"

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        raw = dict(config)
        auth_config = raw.pop("auth", None)
        super().__init__(name=name, config=raw, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, UpsConfig)
        self.config = cfg
        if auth_config is None:
            if not (cfg.client_id and cfg.client_secret):
                raise ConfigurationError(f"connectors.{name}.client_id and connectors.{name}.client_secret "
                                         "(env:VARIABLE) are required", system=name,
                                         setting=f"connectors.{name}.client_id")
            auth_config = {"type": "oauth2_client_credentials", "client_auth": "basic",
                           "token_url": self.base_url.rstrip("/") + "/security/v1/oauth/token",
                           "client_id": cfg.client_id, "client_secret": cfg.client_secret}
        inner = auth_from_config(auth_config, connector=name, system=self.system)
        assert inner is not None
        self.auth = UpsRequestHeaders(inner=inner, source=cfg.transaction_src)
        self._client.auth = self.auth
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.SHIPMENT, mapping=cfg.status_map,
                                 setting=f"connectors.{name}.status_map")
        self._owner_pattern = re.compile(cfg.owner.pattern) if cfg.owner and cfg.owner.pattern else None

    # ------------------------------------------------------------------ ShipmentTracker

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        order_no = order_no.strip()
        if not order_no or not self.config.reference_lookup:
            return []
        body = await self.get_json_or_none(f"/api/track/v1/reference/details/{quote(order_no, safe='')}",
                                           params={"locale": self.config.locale,
                                                   "refNumType": self.config.ref_num_type})
        return self._packages(body, order_no=order_no)

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        value = value.strip().replace(" ", "")
        if not value or kind not in self.config.track_kinds:
            return []
        body = await self.get_json_or_none(f"/api/track/v1/details/{quote(value, safe='')}",
                                           params={"locale": self.config.locale})
        return self._packages(body, order_no=None)

    # ------------------------------------------------------------------ errors

    def _decode(self, response: httpx.Response) -> Any:
        if response.is_success:
            return super()._decode(response)
        errors = _errors(response)
        if response.status_code in (400, 404) and any(code in NOT_FOUND_CODES for code, _ in errors):
            raise NotFoundError(f"{self.system}: no tracking information", system=self.name)
        error = error_for_response(response, system=self.system, name=self.name, auth_setting=self.auth.setting)
        if errors:
            error.args = (f"{error.args[0]} ({'; '.join(f'{c} {m}' for c, m in errors)[:200]})",)
        raise error

    # ------------------------------------------------------------------ mapping

    def _packages(self, body: Any, *, order_no: str | None) -> list[Shipment]:
        shipments = ((body or {}).get("trackResponse") or {}).get("shipment") if isinstance(body, dict) else None
        found: list[Shipment] = []
        for shipment in shipments or []:
            if not isinstance(shipment, dict):
                continue
            warnings = {str(w.get("code")) for w in shipment.get("warnings") or [] if isinstance(w, dict)}
            if warnings & NOT_FOUND_CODES:
                continue
            found += [self._package(p, order_no=order_no) for p in shipment.get("package") or []
                      if isinstance(p, dict) and p.get("trackingNumber")]
        return found

    def _package(self, raw: Mapping[str, Any], *, order_no: str | None) -> Shipment:
        number = str(raw["trackingNumber"])
        current = raw.get("currentStatus") or {}
        dates = {str(d.get("type")): str(d.get("date")) for d in raw.get("deliveryDate") or []
                 if isinstance(d, dict) and d.get("date")}
        times = raw.get("deliveryTime") or {}
        kind = str(times.get("type") or "")
        status = self._code(current, rescheduled="RDD" in dates)
        delivered = eta = None
        window = None
        if status == ShipmentStatus.DELIVERED:
            delivered = self._local(dates.get("DEL"), times.get("endTime") if kind == "DEL" else None)
        else:
            day = dates.get("RDD") or dates.get("SDD")
            if day and kind in WINDOW_TYPES and times.get("startTime") and times.get("endTime"):
                start, end = self._local(day, times["startTime"]), self._local(day, times["endTime"])
                if start and end and start <= end:
                    window = DeliveryWindow(start=start, end=end)
            eta = self._local(day, times.get("endTime") if kind in ("CMT", "EOD", *WINDOW_TYPES) else None)
        activities = [a for a in raw.get("activity") or [] if isinstance(a, dict)]
        addresses = {str(a.get("type")): a.get("address") for a in raw.get("packageAddress") or []
                     if isinstance(a, dict)}
        info = raw.get("deliveryInformation") or {}
        service = (raw.get("service") or {}).get("description")
        return Shipment(
            shipment_id=number, order_no=order_no, customer_id=self._owner(raw.get("referenceNumber")),
            carrier=f"UPS {service}".strip() if service else "UPS", mode="parcel", tracking_no=number,
            status=status, origin=_place(addresses.get("ORIGIN")), destination=_place(addresses.get("DESTINATION")),
            eta=eta, delivered_at=delivered, delivery_window=window,
            pod_signed_by=(info.get("receivedBy") or None) if status == ShipmentStatus.DELIVERED else None,
            last_event=self._event(activities[0]) if activities else None,  # UPS lists the most recent first
            source=Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC),
                          link=self.config.link.replace("{id}", number)),
        )

    def _code(self, current: Mapping[str, Any], *, rescheduled: bool) -> str:
        kind, code = current.get("type"), current.get("code")
        for key in (code, kind):
            if key is not None and str(key) in self.config.status_map:
                return self.config.status_map[str(key)]
        status = STATUS_TYPES.get(str(kind)) if kind is not None else None
        if status is None:
            return self._status(kind)
        if status == ShipmentStatus.IN_TRANSIT and rescheduled:
            return ShipmentStatus.DELAYED
        return status

    def _owner(self, references: Any) -> str:
        rule = self.config.owner
        if rule is None:
            return ""
        for ref in references or []:
            if not isinstance(ref, dict) or ref.get("type") != rule.reference or not ref.get("number"):
                continue
            number = str(ref["number"]).strip()
            if rule.map:
                if number in rule.map:
                    return rule.map[number]
                continue
            if self._owner_pattern is None:
                return number
            found = self._owner_pattern.search(number)
            if found:
                return found.group(1) if found.groups() else found.group(0)
        log.info("UPS package without an owner reference", extra={"system": self.name})
        return ""

    def _event(self, raw: Mapping[str, Any]) -> ShipmentEvent | None:
        when = _gmt(raw.get("gmtDate"), raw.get("gmtTime"), raw.get("gmtOffset")) or \
            self._local(raw.get("date"), raw.get("time"))
        if when is None:
            return None
        status = raw.get("status") or {}
        description = str(status.get("description") or "").strip() or None
        return ShipmentEvent(time=when, location=_place((raw.get("location") or {}).get("address")),
                             code=status.get("code") or None, description=description)

    def _local(self, day: Any, clock: Any = None) -> datetime | None:
        """``YYYYMMDD`` + optional ``HHMMSS`` in the configured zone."""
        if not day:
            return None
        stamp = str(day) + (_hhmmss(clock) or "000000")
        try:
            return datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=self._tz)
        except ValueError:
            log.warning("unreadable UPS date", extra={"system": self.name, "value": stamp[:20]})
            return None


def _errors(response: httpx.Response) -> list[tuple[str, str]]:
    """``[(code, message)]`` of a UPS error body ``{"response": {"errors": [...]}}``."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = ((body or {}).get("response") or {}).get("errors") if isinstance(body, dict) else None
    return [(str(e.get("code", "")), str(e.get("message", ""))) for e in errors or [] if isinstance(e, dict)]


def _hhmmss(value: Any) -> str | None:
    text = str(value or "").replace(":", "").strip()
    return text.zfill(6) if text.isdigit() and len(text) <= 6 else None


def _gmt(day: Any, clock: Any, offset: Any) -> datetime | None:
    """UPS ``gmtDate``/``gmtTime`` (UTC) shown at ``gmtOffset`` (``-05:00``)."""
    hhmmss = _hhmmss(clock)
    if not day or not hhmmss:
        return None
    try:
        moment = datetime.strptime(f"{day}{hhmmss}", "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    match = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", str(offset or ""))
    if match:
        minutes = int(match.group(2)) * 60 + int(match.group(3))
        moment = moment.astimezone(timezone(timedelta(minutes=minutes if match.group(1) == "+" else -minutes)))
    return moment


def _place(address: Any) -> str | None:
    if not isinstance(address, dict):
        return None
    country = address.get("countryCode") or address.get("country")
    text = ", ".join(str(p) for p in (address.get("city"), address.get("stateProvince"), country) if p)
    return text or None
