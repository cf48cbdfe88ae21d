"""project44 truckload visibility (API v4): shipment status, status history and stop ETAs.

- ``track(shipment_id)``: ``GET {base_url}/api/v4/tl/shipments/{id}/statuses?includeStatusHistory=true``;
- by identifier (``shipments_for_order`` with type ``ORDER``, bills of lading with ``BILL_OF_LADING``):
  ``GET /api/v4/tl/shipments/statuses?shipmentIdentifier.type=ORDER&shipmentIdentifier.value=<n>
  &includeStatusHistory=true``.

The answer is a ``TruckloadShipmentStatus`` (``shipment``, ``latestStatusUpdate``, ``statusUpdates``,
``latestStopStatuses``, ``mapUrl``); a list of them, or ``{"shipmentStatuses": [...]}``, is accepted
too. Authentication is the OAuth 2.0 client credentials grant at ``{base_url}/api/v4/oauth2/token``
(``client_id`` / ``client_secret``), or any ``auth:`` block. Errors are project44's
``{"httpStatusCode", "httpMessage", "errorMessage", "errors": [{"severity", "message", "diagnostic"}],
"supportReferenceId"}``: a 404 is "not found" (``[]``); the others keep ``errorMessage`` and the support
reference in the connector error.

YAML::

    p44:
      type: project44
      base_url: https://na12.api.project44.com      # eu12.api.project44.com for EU tenants
      client_id: env:P44_CLIENT_ID
      client_secret: env:P44_CLIENT_SECRET
      owner_attribute: customerId                    # shipment attribute naming our customer

Owner: the value of the shipment attribute ``owner_attribute`` (``attributes: [{name, value|values}]``,
set when the shipment is created). Without it the owner is empty and the sender authorization
withholds the shipment.

Status (``ShipmentStatus``) from ``latestStatusUpdate.statusCode`` and ``statusReason.code``; stops
from ``latestStopStatuses`` (``EN_ROUTE`` / ``ARRIVED`` / ``DEPARTED``); ``status_map`` (keys:
``CODE`` or ``CODE/REASON``) overrides:

==============================================  ====================
``DISPATCHED`` (any reason)                     ``booked``
``IN_TRANSIT``                                  ``in_transit``; ``delayed`` if the delivery stop's
                                                ``arrivalCode`` is ``LATE``
``AT_STOP`` at the first (pickup) stop          ``booked`` (loading)
``AT_STOP`` at the delivery stop                ``out_for_delivery`` (arrived, unloading)
``AT_STOP`` elsewhere                           ``in_transit``
``COMPLETED`` / ``DEPARTED_FINAL_STOP``         ``delivered``
``COMPLETED`` / ``CANCELED``                    ``exception``
``COMPLETED`` / ``TIMED_OUT``, ``APPROVAL_DENIED``  ``unknown`` (tracking ended, outcome unknown)
==============================================  ====================

Dates: ISO 8601 with the stop's offset. ETA: the delivery stop's (``stopType`` ``DESTINATION``, else
the highest ``stopNumber``) ``arrivalEstimate.estimatedArrivalWindow``: its end is the ETA ("arrives
by"), both ends the ``delivery_window``. Delivered: the first ``AT_STOP`` update at the delivery stop,
else the latest update's time. Link: ``mapUrl`` when project44 gives one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import quote

import httpx
from pydantic import ConfigDict, Field

from agent.models import DeliveryWindow, ReferenceKind, Shipment, ShipmentEvent, ShipmentStatus, Source
from connectors.base import ConfigurationError
from connectors.http import HttpOptions, HttpSystem, error_for_response
from connectors.mapping import RecordKind, StatusMap, resolve_timezone, to_datetime

log = logging.getLogger(__name__)

IDENTIFIER_TYPES: dict[ReferenceKind, str] = {
    ReferenceKind.ORDER_NUMBER: "ORDER",
    ReferenceKind.BILL_OF_LADING: "BILL_OF_LADING",
}
COMPLETED_REASONS: dict[str, str] = {
    "DEPARTED_FINAL_STOP": ShipmentStatus.DELIVERED,
    "CANCELED": ShipmentStatus.EXCEPTION,
    "TIMED_OUT": ShipmentStatus.UNKNOWN,
    "APPROVAL_DENIED": ShipmentStatus.UNKNOWN,
}


class Project44Config(HttpOptions):
    """``connectors.<name>`` of ``type: project44``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "project44"
    system: str | None = None
    auth: dict[str, Any] | None = None  # built from client_id/client_secret unless given
    client_id: str | None = None
    client_secret: str | None = Field(None, pattern=r"^env:", description="env:VARIABLE holding the secret")
    owner_attribute: str = Field("customerId", min_length=1)
    timezone: str = "UTC"
    status_map: dict[str, str] = Field(default_factory=dict)
    include_history: bool = True


class Project44Tracker(HttpSystem):
    """TMS kind on project44 truckload visibility."""

    kinds: ClassVar[tuple[str, ...]] = ("tms",)
    options_model: ClassVar[type[HttpOptions]] = Project44Config
    default_base_url: ClassVar[str] = "https://na12.api.project44.com"

    def __init__(self, *, name: str, config: Mapping[str, Any], context: Mapping[str, Any] | None = None,
                 **machinery: Any) -> None:
        raw = dict(config)
        if raw.get("auth") is None:
            if not (raw.get("client_id") and raw.get("client_secret")):
                raise ConfigurationError(f"connectors.{name}.client_id and connectors.{name}.client_secret "
                                         f"(env:VARIABLE) or connectors.{name}.auth are required", system=name,
                                         setting=f"connectors.{name}.client_id")
            base = str(raw.get("base_url") or self.default_base_url).rstrip("/")
            raw["auth"] = {"type": "oauth2_client_credentials", "token_url": f"{base}/api/v4/oauth2/token",
                           "client_id": raw["client_id"], "client_secret": raw["client_secret"]}
        super().__init__(name=name, config=raw, context=context, **machinery)
        cfg = self.options
        assert isinstance(cfg, Project44Config)
        self.config = cfg
        self._tz: tzinfo = resolve_timezone(cfg.timezone, setting=f"connectors.{name}.timezone")
        self._status = StatusMap(kind=RecordKind.SHIPMENT, mapping=cfg.status_map,
                                 setting=f"connectors.{name}.status_map")

    # ------------------------------------------------------------------ ShipmentTracker

    async def shipments_for_order(self, *, order_no: str) -> list[Shipment]:
        return await self._by_identifier("ORDER", order_no)

    async def track(self, *, kind: ReferenceKind, value: str) -> list[Shipment]:
        value = value.strip()
        if not value:
            return []
        if kind == ReferenceKind.SHIPMENT_ID:
            body = await self.get_json_or_none(f"/api/v4/tl/shipments/{quote(value, safe='')}/statuses",
                                               params=self._history())
            return self._statuses(body)
        if kind in IDENTIFIER_TYPES:
            return await self._by_identifier(IDENTIFIER_TYPES[kind], value)
        return []

    async def _by_identifier(self, kind: str, value: str) -> list[Shipment]:
        value = value.strip()
        if not value:
            return []
        body = await self.get_json_or_none("/api/v4/tl/shipments/statuses", params={
            "shipmentIdentifier.type": kind, "shipmentIdentifier.value": value, **self._history()})
        return self._statuses(body)

    def _history(self) -> dict[str, str]:
        return {"includeStatusHistory": "true" if self.config.include_history else "false"}

    # ------------------------------------------------------------------ errors

    def _decode(self, response: httpx.Response) -> Any:
        if response.is_success:
            return super()._decode(response)
        error = error_for_response(response, system=self.system, name=self.name,
                                   auth_setting=self.auth.setting if self.auth else "")
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and (body.get("errorMessage") or body.get("supportReferenceId")):
            detail = str(body.get("errorMessage") or body.get("httpMessage") or "")[:160]
            error.args = (f"{error.args[0]} ({detail}; support reference {body.get('supportReferenceId', '-')})",)
        raise error

    # ------------------------------------------------------------------ mapping

    def _statuses(self, body: Any) -> list[Shipment]:
        if isinstance(body, dict) and "shipment" in body:
            items: list[Any] = [body]
        elif isinstance(body, dict):
            items = body.get("shipmentStatuses") or body.get("results") or []
        else:
            items = body if isinstance(body, list) else []
        return [self._shipment(i) for i in items
                if isinstance(i, dict) and isinstance(i.get("shipment"), dict) and i["shipment"].get("id")]

    def _shipment(self, raw: Mapping[str, Any]) -> Shipment:
        shipment = raw["shipment"]
        record_id = str(shipment["id"])
        stops = sorted((s for s in shipment.get("shipmentStops") or [] if isinstance(s, dict)),
                       key=lambda s: int(s.get("stopNumber") or 0))
        final = next((s for s in stops if s.get("stopType") == "DESTINATION"), stops[-1] if stops else {})
        first = stops[0] if stops else {}
        stop_statuses = {int(s.get("stopNumber") or 0): s for s in raw.get("latestStopStatuses") or []
                         if isinstance(s, dict)}
        final_no = int(final.get("stopNumber") or 0)
        final_status = stop_statuses.get(final_no, {})
        latest = raw.get("latestStatusUpdate") or {}
        status = self._code(latest, stop_statuses=stop_statuses, first=int(first.get("stopNumber") or 0),
                            final=final_no)
        window_raw = (final_status.get("arrivalEstimate") or {}).get("estimatedArrivalWindow") or {}
        start, end = self._when(window_raw.get("startDateTime")), self._when(window_raw.get("endDateTime"))
        window = DeliveryWindow(start=start, end=end) if start and end and start <= end else None
        delivered = None
        if status == ShipmentStatus.DELIVERED:
            arrivals = [self._when(u.get("timestamp")) for u in raw.get("statusUpdates") or []
                        if isinstance(u, dict) and u.get("statusCode") == "AT_STOP"
                        and int(u.get("stopNumber") or 0) == final_no]
            delivered = min((a for a in arrivals if a), default=None) or self._when(latest.get("timestamp"))
        identifiers = {str(i.get("type")): str(i.get("value")) for i in shipment.get("identifiers") or []
                       if isinstance(i, dict) and i.get("value")}
        carrier = shipment.get("carrierIdentifier") or {}
        event_time = self._when(latest.get("timestamp"))
        reason = latest.get("statusReason") or {}
        return Shipment(
            shipment_id=record_id, order_no=identifiers.get("ORDER"), customer_id=self._owner(shipment),
            carrier=str(carrier.get("value")) if carrier.get("value") else None, mode="truckload",
            tracking_no=identifiers.get("BILL_OF_LADING") or identifiers.get("PRO"), status=status,
            origin=_place(first.get("location")), destination=_place(final.get("location")),
            eta=(end or start) if status != ShipmentStatus.DELIVERED else None, delivered_at=delivered,
            delivery_window=window if status != ShipmentStatus.DELIVERED else None,
            last_event=ShipmentEvent(time=event_time, location=_place(latest), code=latest.get("statusCode"),
                                     description=reason.get("description") or reason.get("code"))
            if event_time else None,
            source=Source(system=self.system, record_id=record_id, fetched_at=datetime.now(UTC),
                          link=raw.get("mapUrl") or None),
        )

    def _code(self, latest: Mapping[str, Any], *, stop_statuses: Mapping[int, Any], first: int, final: int) -> str:
        code = str(latest.get("statusCode") or "")
        reason = str((latest.get("statusReason") or {}).get("code") or "")
        for key in (f"{code}/{reason}", code):
            if key in self.config.status_map:
                return self.config.status_map[key]
        if code == "DISPATCHED":
            return ShipmentStatus.BOOKED
        if code == "IN_TRANSIT":
            late = (stop_statuses.get(final) or {}).get("arrivalCode") == "LATE"
            return ShipmentStatus.DELAYED if late else ShipmentStatus.IN_TRANSIT
        if code == "AT_STOP":
            arrived = [n for n, s in stop_statuses.items() if s.get("statusCode") == "ARRIVED"]
            if final in arrived:
                return ShipmentStatus.OUT_FOR_DELIVERY
            if first in arrived:
                return ShipmentStatus.BOOKED
            return ShipmentStatus.IN_TRANSIT
        if code == "COMPLETED":
            return COMPLETED_REASONS.get(reason, ShipmentStatus.UNKNOWN)
        return self._status(code or None)

    def _owner(self, shipment: Mapping[str, Any]) -> str:
        for attribute in shipment.get("attributes") or []:
            if not isinstance(attribute, dict) or attribute.get("name") != self.config.owner_attribute:
                continue
            values = attribute.get("values") or ([attribute["value"]] if attribute.get("value") else [])
            if values:
                return str(values[0])
        log.info("project44 shipment without an owner attribute", extra={"system": self.name})
        return ""

    def _when(self, value: Any) -> datetime | None:
        return to_datetime(value, tz=self._tz)


def _place(value: Any) -> str | None:
    """A stop ``location`` (``{"address": {...}}``) or a status update (``{"address": {...}}``)."""
    address = value.get("address") if isinstance(value, dict) else None
    if not isinstance(address, dict):
        return None
    text = ", ".join(str(p) for p in (address.get("city"), address.get("state"), address.get("country")) if p)
    return text or None
