"""DHL Shipment Tracking – Unified: one tracker for every DHL business (Express, Parcel, eCommerce, Freight, DGF).

``GET {base_url}/track/shipments?trackingNumber=<n>`` with the ``DHL-API-Key`` header; optional
``service``, ``language``, ``requesterCountryCode``, ``originCountryCode``, ``recipientPostalCode``
come from the configuration. The answer is ``{"shipments": [...]}``; an unknown number is a 404
``application/problem+json`` body ``{"title", "status", "detail", "instance"}`` (-> ``[]``), a wrong
key a 401 (-> ``ConfigurationError`` naming ``connectors.<name>.auth.key``), the daily quota a 429.

YAML::

    dhl:
      type: dhl
      auth: {type: api_key, header: DHL-API-Key, key: env:DHL_API_KEY}
      language: en                      # optional query options
      timezone: Europe/Berlin           # for timestamps DHL sends without an offset
      owner: {reference: customer-reference, pattern: "^(C\\d+)"}
      track_kinds: [tracking_number, air_waybill, shipment_id]   # add container_number for DGF

DHL only tracks by number: ``shipments_for_order`` answers ``[]`` (the API has no search by order),
``track`` asks DHL for the kinds in ``track_kinds`` and answers ``[]`` for the others without a call.

Owner: DHL does not know our customers. ``owner.reference`` names the ``details.references[].type``
whose ``number`` identifies the customer (``customer-reference``, ``shipper-account-number``,
``customer-order-number``, ...); ``owner.pattern`` (first group) extracts it and ``owner.map``
translates a number (an account number) to a customer id. A shipment without one gets an empty
owner, so the sender authorization withholds it: never shown to a customer it cannot be tied to.

Status (``ShipmentStatus``) from ``status.statusCode``; ``status_map`` (keys: DHL's detailed
``status.status`` texts or the codes) overrides:

=================  ==================
``pre-transit``     ``booked``
``transit``         ``in_transit``
``delivered``       ``delivered``
``failure``         ``exception``
``unknown``         ``unknown``
=================  ==================

Dates: ISO 8601; values without an offset (proof-of-delivery timestamps, some services) are read in
``timezone``. ETA: ``estimatedTimeOfDelivery``, else the end of ``estimatedDeliveryTimeFrame``, which
also fills ``delivery_window``. Delivered: ``details.proofOfDelivery.timestamp``, else the status
timestamp of a delivered shipment. Link: the shipment's ``serviceUrl``, else ``link`` with ``{id}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agent.models import DeliveryWindow, ReferenceKind, Shipment, ShipmentEvent, ShipmentStatus, Source
from connectors.base import ConfigurationError
from connectors.http import HttpOptions, HttpSystem
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_datetime

log = logging.getLogger(__name__)

STATUS_CODES: dict[str, str] = {
    "pre-transit": ShipmentStatus.BOOKED,
    "transit": ShipmentStatus.IN_TRANSIT,
    "delivered": ShipmentStatus.DELIVERED,
    "failure": ShipmentStatus.EXCEPTION,
    "unknown": ShipmentStatus.UNKNOWN,
}
DEFAULT_LINK = "https://www.dhl.com/global-en/home/tracking.html?tracking-id={id}&submit=1"


class DhlOwner(BaseModel):
    """Which shipper reference names the owning customer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str = Field(min_length=1, description="details.references[].type carrying the customer")
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


class DhlConfig(HttpOptions):
    """``connectors.<name>`` of ``type: dhl``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "dhl"
    system: str | None = None
    auth: dict[str, Any] | None = None
    service: str | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}$")
    requester_country_code: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    origin_country_code: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    recipient_postal_code: str | None = None
    timezone: str = "UTC"
    owner: DhlOwner | None = None
    track_kinds: tuple[ReferenceKind, ...] = (ReferenceKind.TRACKING_NUMBER, ReferenceKind.AIR_WAYBILL,
                                              ReferenceKind.SHIPMENT_ID)
    status_map: dict[str, str] = Field(default_factory=dict)
    link: str = DEFAULT_LINK


class DhlTracker(HttpSystem):
    """TMS kind on DHL Shipment Tracking – Unified."""

    kinds: ClassVar[tuple[str, ...]] = ("tms",)
    options_model: ClassVar[type[HttpOptions]] = DhlConfig
    default_base_url: ClassVar[str] = "https://api-eu.dhl.com"

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        super().__init__(name=name, config=config, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, DhlConfig)
        if self.auth is None:
            raise ConfigurationError(f"connectors.{name}.auth is required: {{type: api_key, header: DHL-API-Key, "
                                     "key: env:DHL_API_KEY}", system=name, setting=f"connectors.{name}.auth")
        self.config = cfg
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.SHIPMENT, mapping=cfg.status_map,
                                 setting=f"connectors.{name}.status_map")
        self._owner_pattern = re.compile(cfg.owner.pattern) if cfg.owner and cfg.owner.pattern else None

    # ------------------------------------------------------------------ ShipmentTracker

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        """DHL cannot search by order number: always ``[]`` (ask the ERP/TMS for the tracking numbers)."""
        return []

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        value = value.strip()
        if not value or kind not in self.config.track_kinds:
            return []
        body = await self.get_json_or_none("/track/shipments", params=self._params(value))
        if not isinstance(body, dict):
            return []
        return [self._shipment(s) for s in body.get("shipments") or [] if isinstance(s, dict) and s.get("id")]

    # ------------------------------------------------------------------ mapping

    def _params(self, number: str) -> dict[str, str]:
        cfg = self.config
        options = {"trackingNumber": number, "service": cfg.service, "language": cfg.language,
                   "requesterCountryCode": cfg.requester_country_code,
                   "originCountryCode": cfg.origin_country_code, "recipientPostalCode": cfg.recipient_postal_code}
        return {k: v for k, v in options.items() if v}

    def _shipment(self, raw: Mapping[str, Any]) -> Shipment:
        number = str(raw["id"])
        status = raw.get("status") or {}
        details = raw.get("details") or {}
        pod = details.get("proofOfDelivery") or {}
        code = self._code(status)
        frame = raw.get("estimatedDeliveryTimeFrame") or {}
        start, end = self._when(frame.get("estimatedFrom")), self._when(frame.get("estimatedThrough"))
        window = DeliveryWindow(start=start, end=end) if start and end and start <= end else None
        eta = self._when(raw.get("estimatedTimeOfDelivery")) or end
        delivered = None
        if code == ShipmentStatus.DELIVERED:
            delivered = self._when(pod.get("timestamp")) or self._when(status.get("timestamp"))
        events = [e for e in raw.get("events") or [] if isinstance(e, dict) and e.get("timestamp")]
        latest = max(events, key=lambda e: self._when(e["timestamp"]) or datetime.min.replace(tzinfo=UTC),
                     default=status if status.get("timestamp") else None)
        product = (details.get("product") or {}).get("productName")
        return Shipment(
            shipment_id=number, order_no=_reference(details, "customer-order-number"),
            customer_id=self._owner(details), carrier=f"DHL {product}" if product else "DHL",
            mode=raw.get("service"), tracking_no=number,
            container_no=_reference(details, "container-number"), status=code,
            origin=_place(raw.get("origin")), destination=_place(raw.get("destination")),
            eta=None if code == ShipmentStatus.DELIVERED else eta, delivered_at=delivered,
            pod_signed_by=_signer(pod.get("signed")), pod_link=pod.get("documentUrl") or None,
            delivery_window=window if code != ShipmentStatus.DELIVERED else None,
            last_event=self._event(latest) if latest else None,
            source=Source(system=self.system, record_id=number, fetched_at=datetime.now(UTC),
                          link=raw.get("serviceUrl") or self.config.link.replace("{id}", number)),
        )

    def _code(self, status: Mapping[str, Any]) -> str:
        detailed, code = status.get("status"), status.get("statusCode")
        for key in (detailed, code):
            if key is not None and str(key) in self.config.status_map:
                return self.config.status_map[str(key)]
        return STATUS_CODES.get(str(code), self._status(code))

    def _owner(self, details: Mapping[str, Any]) -> str:
        rule = self.config.owner
        if rule is None:
            return ""
        for ref in details.get("references") or []:
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
        log.info("DHL shipment without an owner reference", extra={"system": self.name})
        return ""

    def _event(self, raw: Mapping[str, Any]) -> ShipmentEvent | None:
        when = self._when(raw.get("timestamp"))
        if when is None:
            return None
        return ShipmentEvent(time=when, location=_place(raw.get("location")),
                             code=raw.get("statusCode") or None,
                             description=raw.get("description") or raw.get("status") or None)

    def _when(self, value: Any) -> datetime | None:
        return to_datetime(value, tz=self._tz)


def _reference(details: Mapping[str, Any], kind: str) -> str | None:
    for ref in details.get("references") or []:
        if isinstance(ref, dict) and ref.get("type") == kind and ref.get("number"):
            return str(ref["number"])
    return None


def _place(value: Any) -> str | None:
    """``{"address": {"addressLocality": "Oslo", "countryCode": "NO"}}`` -> ``Oslo, NO``."""
    address = (value or {}).get("address") if isinstance(value, dict) else None
    if not isinstance(address, dict):
        return None
    parts = [address.get("addressLocality"), address.get("countryCode")]
    text = ", ".join(str(p) for p in parts if p)
    return text or None


def _signer(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    name = value.get("name") or " ".join(p for p in (value.get("givenName"), value.get("familyName")) if p)
    return name or value.get("organizationName") or None
