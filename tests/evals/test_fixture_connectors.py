"""Fixture systems answer like real connectors: normalized lookups, match methods, outages, slowness."""

from __future__ import annotations

import pytest

from agent.lookup import lookup
from agent.models import MatchMethod, Reference, ReferenceKind, ReferenceSource
from agent.profile import AuthorizationPolicy
from connectors.base import (
    CircuitOpenError,
    ConfigurationError,
    ConnectorTimeoutError,
    CustomerDirectory,
    Kind,
    OrderSystem,
    RateLimitedError,
    RetryableError,
    ShipmentTracker,
    SystemError_,
    WarehouseSystem,
)
from evals.cases import BusinessState, Outage
from evals.fixture_connectors import CallLog, fixture_systems, outage_error
from tests.evals.conftest import BUSINESS

NAMES = {Kind.DIRECTORY: "crm", Kind.ERP: "erp", Kind.TMS: "tms", Kind.WMS: "wms"}


def state(**changes: object) -> BusinessState:
    return BusinessState.model_validate({**BUSINESS, **changes})


def ref(value: str, kind: ReferenceKind = ReferenceKind.ORDER_NUMBER) -> Reference:
    return Reference(kind=kind, value=value, raw=value, source=ReferenceSource.NEW_TEXT, span=(0, len(value)))


@pytest.mark.anyio
async def test_each_kind_implements_its_protocol_and_normalizes_identifiers() -> None:
    systems = fixture_systems(state=state(), names=NAMES)
    assert isinstance(systems.directory, CustomerDirectory) and isinstance(systems.orders, OrderSystem)
    assert isinstance(systems.tracker, ShipmentTracker) and isinstance(systems.warehouse, WarehouseSystem)
    assert systems.orders and systems.tracker
    assert (await systems.orders.get_order(order_no="nk-204117")).customer_id == "C100"
    assert await systems.orders.get_order(order_no="NK000000") is None
    assert [o.order_no for o in await systems.orders.find_orders_by_po(customer_po="PO55040")] == ["NK204117"]
    assert [s.shipment_id for s in await systems.tracker.track(kind=ReferenceKind.CONTAINER_NUMBER,
                                                               value="MSKU 441720 9")] == ["SHP-100200"]
    assert [s.shipment_id for s in await systems.tracker.track(kind=ReferenceKind.SHIPMENT_ID,
                                                               value="SHP100300")] == ["SHP-100300"]
    assert len(await systems.tracker.shipments_for_order(order_no="NK204999")) == 1
    assert systems.name_of("erp") == "erp"


@pytest.mark.anyio
async def test_the_directory_tells_contacts_from_domain_matches() -> None:
    directory = fixture_systems(state=state(), names=NAMES).directory
    exact = await directory.customers_for_sender(address="Kari.Nilsen@hansen-mobler.example")
    assert [(m.customer_id, m.method) for m in exact] == [("C100", MatchMethod.CONTACT)]
    colleague = await directory.customers_for_sender(address="lager@hansen-mobler.example")
    assert [(m.customer_id, m.method) for m in colleague] == [("C100", MatchMethod.DOMAIN)]
    assert await directory.customers_for_sender(address="someone@elsewhere.example") == []


@pytest.mark.anyio
async def test_through_the_real_lookup_another_customers_order_is_withheld() -> None:
    log = CallLog()
    found = await lookup(sender="kari.nilsen@hansen-mobler.example", references=(ref("NK204117"), ref("NK204999")),
                         systems=fixture_systems(state=state(), names=NAMES, log=log),
                         policy=AuthorizationPolicy.STRICT, timeout=1.0)
    assert [o.order_no for o in found.orders] == ["NK204117"]
    assert [w.reference for w in found.withheld] == ["NK204999"]
    assert all("Kassel" not in f.value and "2026-12-08" not in f.value for f in found.facts)
    assert {"NK204117", "NK204999", "kari.nilsen@hansen-mobler.example"} <= log.arguments()


@pytest.mark.parametrize(("outage", "error", "category"), [
    (Outage.RETRYABLE, RetryableError, "retryable"),
    (Outage.RATE_LIMITED, RateLimitedError, "rate_limited"),
    (Outage.TIMEOUT, ConnectorTimeoutError, "timeout"),
    (Outage.UNAVAILABLE, CircuitOpenError, "unavailable"),
    (Outage.CONFIGURATION, ConfigurationError, "configuration"),
    (Outage.SYSTEM, SystemError_, "system"),
])
def test_outages_are_the_connector_errors_of_their_category(outage: Outage, error: type, category: str) -> None:
    exc = outage_error(outage=outage, system="erp")
    assert isinstance(exc, error) and exc.category.value == category and exc.system == "erp"


@pytest.mark.anyio
async def test_a_down_system_and_a_slow_one_become_lookup_failures_not_crashes() -> None:
    systems = fixture_systems(state=state(outages={"erp": "rate_limited"}, delays={"tms": 0.5}), names=NAMES)
    found = await lookup(sender="kari.nilsen@hansen-mobler.example", references=(ref("NK204117"),), systems=systems,
                         policy=AuthorizationPolicy.STRICT, timeout=0.05)
    assert {(f.kind, f.category) for f in found.failures} == {("erp", "rate_limited"), ("tms", "timeout")}
    assert found.orders == () and found.shipments == ()
    assert [f.name for f in found.facts] == []  # the warehouse has no record of it in this state


@pytest.mark.anyio
async def test_a_kind_the_case_does_not_configure_is_absent() -> None:
    systems = fixture_systems(state=state(systems=["directory", "erp"]), names=NAMES)
    assert systems.tracker is None and systems.warehouse is None and systems.orders is not None
    found = await lookup(sender="kari.nilsen@hansen-mobler.example", references=(ref("NK204117"),), systems=systems,
                         policy=AuthorizationPolicy.STRICT)
    assert [o.order_no for o in found.orders] == ["NK204117"] and found.shipments == ()


@pytest.mark.anyio
async def test_an_order_known_only_by_the_customers_po_gets_its_shipment_and_eta() -> None:
    from agent.profile import ReferenceRules
    from agent.references import scan_text
    from tests.evals.conftest import PROFILE

    orders = [{**BUSINESS["orders"][0], "customer_po": "4523848903"},
              {**BUSINESS["orders"][1], "customer_po": "4599000001"}]
    rules = ReferenceRules.model_validate(PROFILE["references"])
    # a German customer calls their PO their "Bestellnummer": not the mailbox's order format, so a PO
    text = "Wo bleibt unsere Bestellung mit der Bestellnummer 4523848903? Und die Bestellnummer 4599000001?"
    refs = tuple(scan_text(text=text, source=ReferenceSource.NEW_TEXT, rules=rules))
    assert {(r.kind, r.value) for r in refs} == {(ReferenceKind.CUSTOMER_PO, "4523848903"),
                                                 (ReferenceKind.CUSTOMER_PO, "4599000001")}
    log = CallLog()
    found = await lookup(sender="kari.nilsen@hansen-mobler.example", references=refs,
                         systems=fixture_systems(state=state(orders=orders), names=NAMES, log=log),
                         policy=AuthorizationPolicy.STRICT, timeout=1.0)
    assert [o.order_no for o in found.orders] == ["NK204117"]
    # the order number the ERP gave for the PO is looked up in the TMS: the ETA can reach the draft
    assert [s.shipment_id for s in found.shipments] == ["SHP-100200"]
    assert any(f.name == "shipment.eta" and f.value.startswith("2026-11-26") for f in found.facts)
    # another customer's PO is withheld, and its order is never fetched from the TMS or the WMS
    assert [w.reference for w in found.withheld] == ["4599000001"]
    assert "NK204117" in log.arguments() and "NK204999" not in log.arguments()
