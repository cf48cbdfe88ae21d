"""Normalization: the status vocabulary and status maps, dates in every format systems send."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from connectors.base import ConfigurationError
from connectors.mapping import StatusMap, resolve_timezone, to_date, to_datetime, to_text, to_texts, vocabulary

OSLO = ZoneInfo("Europe/Oslo")


def test_status_map_maps_passes_vocabulary_through_and_defaults_to_unknown(caplog: pytest.LogCaptureFixture) -> None:
    sap = StatusMap(kind="order", mapping={"A": "open", "B": "partially_shipped", "C": "shipped"})
    assert [sap("A"), sap("B"), sap("C")] == ["open", "partially_shipped", "shipped"]
    assert sap("On Hold") == "on_hold" and sap("cancelled") == "cancelled"  # already vocabulary
    caplog.set_level(logging.WARNING)
    assert sap("Z") == "unknown" and sap("Z") == "unknown" and sap(None) == "unknown"
    assert len([r for r in caplog.records if r.getMessage() == "unmapped status"]) == 1
    erpnext = StatusMap(kind="order", mapping={"To Deliver and Bill": "confirmed"})
    assert erpnext("to deliver and bill ") == "confirmed"  # case and spacing do not matter


def test_status_map_refuses_targets_outside_the_vocabulary() -> None:
    with pytest.raises(ConfigurationError, match="not a shipment status"):
        StatusMap(kind="shipment", mapping={"transit": "moving"}, setting="connectors.dhl.status_map")
    assert "in_transit" in vocabulary("shipment") and "picked" in vocabulary("fulfillment")


def test_datetimes_become_timezone_aware() -> None:
    expected = datetime(2017, 4, 13, tzinfo=UTC)
    assert to_datetime("/Date(1492041600000)/") == expected  # SAP OData V2 Edm.DateTime
    plus_two = to_datetime("/Date(1492041600000+0120)/")  # Edm.DateTimeOffset: offset in minutes
    assert plus_two == expected and plus_two.utcoffset() == timedelta(minutes=120)
    assert to_datetime("2026-11-20T09:13:00Z") == datetime(2026, 11, 20, 9, 13, tzinfo=UTC)
    assert to_datetime("2026-11-20T09:13:00.000+0100") == datetime(2026, 11, 20, 8, 13, tzinfo=UTC)
    naive = to_datetime("2026-11-20 09:13:00", tz=OSLO)  # ERPNext / MariaDB DATETIME: local time
    assert naive == datetime(2026, 11, 20, 8, 13, tzinfo=UTC) and naive.tzinfo is OSLO
    assert to_datetime("20261120", tz=OSLO) == datetime(2026, 11, 20, tzinfo=OSLO)  # UPS date
    assert to_datetime("20261120143000") == datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # UPS date + time
    assert to_datetime(1763629980) == datetime.fromtimestamp(1763629980, tz=UTC)
    assert to_datetime(1763629980000) == datetime.fromtimestamp(1763629980, tz=UTC)
    assert to_datetime(datetime(2026, 1, 1, 12), tz=OSLO).tzinfo is OSLO
    assert to_datetime(date(2026, 1, 1)).tzinfo is UTC
    assert to_datetime(None) is None and to_datetime("") is None
    with pytest.raises(ValueError, match="not a date"):
        to_datetime("next tuesday")


def test_dates_are_read_in_the_system_zone() -> None:
    assert to_date("2026-11-24") == date(2026, 11, 24)
    assert to_date("20261124") == date(2026, 11, 24)
    assert to_date("/Date(1764201600000)/") == date(2025, 11, 27)
    late_utc = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # already the 24th in Oslo
    assert to_date(late_utc, tz=OSLO) == date(2026, 11, 24)
    assert to_date(datetime(2026, 11, 23, 23, 30, tzinfo=timezone(timedelta(hours=-5))), tz=UTC) == date(2026, 11, 24)


def test_values_and_time_zones() -> None:
    assert to_text([7, "Hansen Møbler AS"]) == "Hansen Møbler AS"  # Odoo many2one
    assert to_text(False) is None and to_text(42) == "42"
    assert to_texts(["D1", None, "D2"]) == ("D1", "D2") and to_texts("D1") == ("D1",) and to_texts(None) == ()
    assert resolve_timezone("UTC", setting="x") is UTC
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        resolve_timezone("Mars/Olympus", setting="connectors.x.timezone")
