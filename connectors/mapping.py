"""Normalization shared by every connector: status vocabulary, status maps, dates and values.

Every record leaving a connector speaks one vocabulary (``OrderStatus``,
``ShipmentStatus``, ``FulfillmentStatus`` of ``agent.models``) and carries
timezone-aware datetimes. This module turns what systems send into that:

- ``StatusMap``: a per-mailbox mapping from a system's codes to the vocabulary
  (``status_map.order: {B: partially_shipped, C: shipped}``); codes already in
  the vocabulary pass through, anything else becomes ``unknown`` (logged).
- ``to_datetime`` / ``to_date``: ISO 8601 (with ``Z`` or offsets), OData V2
  ``/Date(1492041600000)/``, compact ``YYYYMMDD[HHMM[SS]]``, epoch seconds or
  milliseconds, and naive values, which are read in the system's configured
  time zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agent.models import FulfillmentStatus, OrderStatus, ShipmentStatus
from connectors.base import ConfigurationError


class RecordKind(StrEnum):
    ORDER = "order"
    SHIPMENT = "shipment"
    FULFILLMENT = "fulfillment"


VOCABULARY: dict[RecordKind, type[StrEnum]] = {
    RecordKind.ORDER: OrderStatus,
    RecordKind.SHIPMENT: ShipmentStatus,
    RecordKind.FULFILLMENT: FulfillmentStatus,
}
UNKNOWN = "unknown"
log = logging.getLogger(__name__)

_ODATA_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d+)?\)/$")
_COMPACT = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


def vocabulary(kind: RecordKind | str) -> frozenset[str]:
    """The normalized status codes of one record kind."""
    return frozenset(m.value for m in VOCABULARY[RecordKind(kind)])


def resolve_timezone(name: str, *, setting: str) -> tzinfo:
    """A time zone by IANA name (``Europe/Oslo``) or ``UTC``; a wrong name is a configuration error."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(f"{setting}: unknown time zone {name!r} (use an IANA name such as "
                                 "Europe/Oslo)", setting=setting) from exc


class StatusMap:
    """Maps one system's status codes of one record kind to the shared vocabulary."""

    def __init__(self, *, kind: RecordKind | str, mapping: Mapping[str, str] | None = None,
                 setting: str = "status_map") -> None:
        self.kind = RecordKind(kind)
        allowed = vocabulary(self.kind)
        exact: dict[str, str] = {}
        for raw, target in (mapping or {}).items():
            if str(target) not in allowed:
                raise ConfigurationError(
                    f"{setting}.{self.kind.value}: {raw!r} maps to {target!r}, which is not a {self.kind.value} "
                    f"status; use one of {', '.join(sorted(allowed))}", setting=f"{setting}.{self.kind.value}")
            exact[str(raw)] = str(target)
        self._exact = exact
        self._folded = {k.strip().casefold(): v for k, v in exact.items()}
        self._allowed = allowed
        self._reported: set[str] = set()

    def __call__(self, raw: Any) -> str:
        if raw is None:
            return UNKNOWN
        text = str(raw)
        if text in self._exact:
            return self._exact[text]
        folded = text.strip().casefold()
        if folded in self._folded:
            return self._folded[folded]
        code = folded.replace(" ", "_").replace("-", "_")
        if code in self._allowed:
            return code
        if text not in self._reported:  # once per instance and code, not once per record
            self._reported.add(text)
            log.warning("unmapped status", extra={"record_kind": self.kind.value, "status": text[:64]})
        return UNKNOWN


def to_datetime(value: Any, *, tz: tzinfo = UTC) -> datetime | None:
    """A timezone-aware datetime from what a system sends; naive values are read in ``tz``."""
    if value is None or value == "" or value is False:  # Odoo sends false for an empty field
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=tz)
    if isinstance(value, bool):
        raise ValueError(f"not a date/time: {value!r}")
    if isinstance(value, int | float | Decimal):
        seconds = float(value) / 1000 if abs(float(value)) >= 1e11 else float(value)
        return datetime.fromtimestamp(seconds, tz=UTC)
    text = str(value).strip()
    odata = _ODATA_DATE.match(text)
    if odata:
        moment = datetime.fromtimestamp(int(odata.group(1)) / 1000, tz=UTC)
        if odata.group(2):  # Edm.DateTimeOffset /Date(ms+120)/: UTC milliseconds, offset in minutes
            moment = moment.astimezone(timezone(timedelta(minutes=int(odata.group(2)))))
        return moment
    if text.isdigit() and len(text) in _COMPACT:
        return datetime.strptime(text, _COMPACT[len(text)]).replace(tzinfo=tz)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"not a date/time: {text[:40]!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def to_date(value: Any, *, tz: tzinfo = UTC) -> date | None:
    """A calendar date; a datetime is converted to ``tz`` first (a promise made in the system's zone)."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(tz)).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        return date.fromisoformat(text)
    if text.isdigit() and len(text) == 8:
        return datetime.strptime(text, "%Y%m%d").date()
    moment = to_datetime(value, tz=tz)
    if moment is None:
        return None
    if _ODATA_DATE.match(text):  # OData V2 Edm.DateTime dates are midnight UTC
        return moment.astimezone(UTC).date()
    return moment.astimezone(tz).date()


def to_float(value: Any) -> float | None:
    if value is None or value == "" or value is False:
        return None
    return float(value)


def to_text(value: Any) -> str | None:
    """A display string; ``None`` and empty stay ``None``; a two-item Odoo many2one gives its name."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], str):
        return value[1]
    return str(value)


def to_texts(value: Any) -> tuple[str, ...]:
    """A tuple of strings from a list, a single value, or nothing."""
    if value is None or value == "" or value is False:
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value if v not in (None, ""))
    return (str(value),)
