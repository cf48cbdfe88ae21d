"""agent.lookup: authorization of every record kind, facts with sources, failures as data, one deadline per email."""

from __future__ import annotations

import time

import pytest

from agent.lookup import BusinessSystems, lookup
from agent.models import Fulfillment, LookupResult, ReferenceKind, Validity
from agent.profile import AuthorizationPolicy
from connectors.base import (
    ConfigurationError,
    ConnectorError,
    CustomerDirectory,
    OrderSystem,
    RateLimitedError,
    RetryableError,
    ShipmentTracker,
    WarehouseSystem,
)
from tests.agent.builders import ANNA, FETCHED, KARI, STRANGER, order, ref, shipment, source
from tests.agent.fakes import (
    CONTACTS,
    HANSEN_FULFILLMENT,
    HANSEN_ORDER,
    HANSEN_SHIPMENT,
    SVEA_ORDER,
    SVEA_SHIPMENT,
    FakeDirectory,
    FakeErp,
    FakeTms,
    FakeWms,
    HangingErp,
    mentions,
    systems,
)

pytestmark = pytest.mark.anyio

K = ReferenceKind
STRICT = AuthorizationPolicy.STRICT


# --------------------------------------------------------------------------- tests


def test_fakes_implement_the_protocols() -> None:
    s = systems()
    assert isinstance(s.directory, CustomerDirectory)
    assert isinstance(s.orders, OrderSystem)
    assert isinstance(s.tracker, ShipmentTracker)
    assert isinstance(s.warehouse, WarehouseSystem)


async def test_authorized_order_gives_facts_with_sources() -> None:
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=systems(), policy=STRICT)
    assert result.customer_ids == ("C100",)
    assert [o.order_no for o in result.orders] == ["NK204117"]
    assert [s.shipment_id for s in result.shipments] == ["SHP-100117"]
    assert [f.order_no for f in result.fulfillments] == ["NK204117"]
    assert result.withheld == () and result.not_found == () and result.failures == ()
    facts = {(f.subject, f.name): f for f in result.facts}
    assert facts[("NK204117", "order.status")].value == "shipped"
    assert facts[("NK204117", "order.confirmed_date")].value == "2026-11-24"
    assert facts[("NK204117", "order.customer_po")].value == "4500012400"
    assert facts[("SHP-100117", "shipment.eta")].value.startswith("2026-12-03")
    assert facts[("SHP-100117", "shipment.container_no")].value == "MSKU7719028"
    assert facts[("NK204117", "warehouse.status")].value == "packed"
    assert facts[("NK204117", "order.status")].source.system == "erp"
    assert facts[("SHP-100117", "shipment.status")].source.system == "tms"
    assert facts[("NK204117", "warehouse.status")].source.system == "wms"
    assert all(f.source.fetched_at == FETCHED and f.source.record_id for f in result.facts)
    ids = [f.id for f in result.facts]
    assert ids == [f"F{i}" for i in range(1, len(ids) + 1)]


async def test_order_found_by_customer_po() -> None:
    result = await lookup(sender=ANNA, references=(ref("PO88152", K.CUSTOMER_PO),), systems=systems(),
                          policy=STRICT)
    assert [o.order_no for o in result.orders] == ["NK204301"]
    assert any(f.name == "order.customer_po" and f.value == "PO-88152" for f in result.facts)


async def test_order_of_another_customer_is_withheld() -> None:
    result = await lookup(sender=ANNA, references=(ref("NK204117"),), systems=systems(), policy=STRICT)
    assert result.customer_ids == ("C300",)
    assert result.orders == () and result.shipments == () and result.fulfillments == ()
    assert result.facts == ()
    assert [w.reference for w in result.withheld] == ["NK204117"]
    assert "another customer" in result.withheld[0].reason
    assert result.not_found == ()


async def test_other_customers_order_and_container_both_withheld_next_to_own_order() -> None:
    refs = (ref("NK204301"), ref("NK204117"), ref("MSKU7719028", K.CONTAINER_NUMBER, validity=Validity.VALID))
    result = await lookup(sender=ANNA, references=refs, systems=systems(), policy=STRICT)
    assert {w.reference for w in result.withheld} == {"NK204117", "MSKU7719028"}
    # Anna's own order is answered ...
    assert [o.order_no for o in result.orders] == ["NK204301"]
    assert [s.shipment_id for s in result.shipments] == ["SHP-100301"]
    assert {f.subject for f in result.facts} == {"NK204301", "SHP-100301"}
    # ... and nothing of Hansen's order leaks through the container or the warehouse
    for secret in ("NK204117", "MSKU7719028", "SHP-100117", "4500012400", "C100", "packed"):
        assert not mentions(result, secret), secret


async def test_unknown_sender_gets_nothing_under_strict() -> None:
    refs = (ref("NK204117"), ref("MSKU7719028", K.CONTAINER_NUMBER, validity=Validity.VALID))
    result = await lookup(sender=STRANGER, references=refs, systems=systems(), policy=STRICT)
    assert result.customer_ids == ()
    assert result.facts == () and result.orders == () and result.shipments == () and result.fulfillments == ()
    assert {w.reference for w in result.withheld} == {"NK204117", "MSKU7719028"}
    assert all("not a known contact" in w.reason for w in result.withheld)


async def test_policy_off_lets_an_unknown_sender_through() -> None:
    result = await lookup(sender=STRANGER, references=(ref("NK204117"),), systems=systems(),
                          policy=AuthorizationPolicy.OFF)
    assert [o.order_no for o in result.orders] == ["NK204117"]
    assert result.withheld == ()
    assert any(f.name == "order.status" for f in result.facts)


async def test_unknown_order_is_not_found() -> None:
    result = await lookup(sender=KARI, references=(ref("NK999999"),), systems=systems(), policy=STRICT)
    assert result.not_found == ("NK999999",)
    assert result.failures == () and result.withheld == () and result.facts == ()


async def test_unknown_container_is_not_found() -> None:
    refs = (ref("TGHU6604319", K.CONTAINER_NUMBER, validity=Validity.VALID),)
    result = await lookup(sender=KARI, references=refs, systems=systems(), policy=STRICT)
    assert result.not_found == ("TGHU6604319",)


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (RetryableError("HTTP 503 from ERP", system="sap-s4"), "503"),
        (RateLimitedError("too many requests", system="sap-s4", retry_after=30), "too many requests"),
        (ConfigurationError("ERP password rejected: check env:SAP_PASSWORD", system="sap-s4"), "SAP_PASSWORD"),
    ],
)
async def test_erp_error_becomes_a_lookup_failure_naming_the_system(error: ConnectorError, text: str) -> None:
    s = systems(erp=FakeErp([HANSEN_ORDER], error=error), names={"erp": "sap-s4", "tms": "project44"})
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=s, policy=STRICT)
    (failure,) = result.failures
    assert (failure.system, failure.kind, failure.reference) == ("sap-s4", "erp", "NK204117")
    assert text in failure.error
    assert result.not_found == ()  # a failed lookup is not "not found"
    assert result.orders == ()
    # the other systems still answer
    assert [s.shipment_id for s in result.shipments] == ["SHP-100117"]
    assert any(f.source.system == "tms" for f in result.facts)


async def test_tms_configuration_error_on_tracking() -> None:
    s = systems(tms=FakeTms([HANSEN_SHIPMENT], error=ConfigurationError("bad API key", system="p44")),
                names={"tms": "project44"})
    refs = (ref("MSKU7719028", K.CONTAINER_NUMBER, validity=Validity.VALID),)
    result = await lookup(sender=KARI, references=refs, systems=s, policy=STRICT)
    (failure,) = result.failures
    assert (failure.system, failure.kind, failure.reference) == ("project44", "tms", "MSKU7719028")
    assert "bad API key" in failure.error
    assert result.not_found == () and result.shipments == ()


async def test_directory_failure_withholds_everything() -> None:
    directory = FakeDirectory(CONTACTS, error=RetryableError("LDAP down"))
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=systems(directory=directory),
                          policy=STRICT)
    assert [f.kind for f in result.failures] == ["directory"]
    assert result.facts == () and result.orders == ()
    assert [w.reference for w in result.withheld] == ["NK204117"]


async def test_hanging_connector_becomes_a_failure_after_the_timeout() -> None:
    s = systems(erp=HangingErp([HANSEN_ORDER]), names={"erp": "dynamics-bc"})
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=s, policy=STRICT, timeout=0.2)
    elapsed = time.perf_counter() - started
    assert 0.15 <= elapsed < 1.5
    (failure,) = result.failures
    assert (failure.system, failure.kind, failure.reference) == ("dynamics-bc", "erp", "NK204117")
    assert "0.2" in failure.error
    assert result.not_found == ()
    assert [s.shipment_id for s in result.shipments] == ["SHP-100117"]  # the TMS answered in time


async def test_invalid_check_digit_references_are_not_looked_up() -> None:
    tms = FakeTms([HANSEN_SHIPMENT])
    refs = (ref("MSKU7719027", K.CONTAINER_NUMBER, validity=Validity.INVALID, suggestion="MSKU7719028"),)
    result = await lookup(sender=KARI, references=refs, systems=systems(tms=tms), policy=STRICT)
    assert tms.calls == []
    assert result.not_found == () and result.failures == () and result.shipments == ()


async def test_missing_systems_are_skipped() -> None:
    s = BusinessSystems(directory=FakeDirectory(CONTACTS), orders=FakeErp([HANSEN_ORDER]))
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=s, policy=STRICT)
    assert [o.order_no for o in result.orders] == ["NK204117"]
    assert result.shipments == () and result.fulfillments == () and result.failures == ()


async def test_calls_run_concurrently() -> None:
    orders = [order(f"NK2050{i:02d}", "C100") for i in range(10)]
    shipments = [shipment(f"SHP-2050{i:02d}", f"NK2050{i:02d}", "C100") for i in range(10)]
    erp = FakeErp(orders, delay=0.1)
    tms = FakeTms(shipments, delay=0.1)
    wms = FakeWms([], delay=0.1)
    directory = FakeDirectory(CONTACTS, delay=0.1)
    refs = tuple(ref(o.order_no) for o in orders)
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=refs,
                          systems=systems(erp=erp, tms=tms, wms=wms, directory=directory), policy=STRICT)
    elapsed = time.perf_counter() - started
    assert len(result.orders) == 10 and len(result.shipments) == 10
    assert len(erp.calls) == len(tms.calls) == len(wms.calls) == 10
    # 31 calls of 0.1 s each: serial would take 3.1 s, one wave takes about 0.1 s
    assert elapsed < 0.5, elapsed
    assert erp.max_in_flight == tms.max_in_flight == wms.max_in_flight == 10


async def test_duplicate_references_are_looked_up_once() -> None:
    erp = FakeErp([HANSEN_ORDER])
    refs = (ref("NK204117"), ref("NK204117"))
    result = await lookup(sender=KARI, references=refs, systems=systems(erp=erp), policy=STRICT)
    assert erp.calls == [("get_order", "NK204117")]
    assert len(result.orders) == 1


# --------------------------------------------------------------------------- one deadline per email


def _timeouts(result: LookupResult) -> list[tuple[str, str | None]]:
    return sorted((f.kind, f.reference) for f in result.failures if f.category == "timeout")


async def test_one_deadline_covers_the_follow_up_calls_of_an_order_found_by_its_po() -> None:
    # The PO answers after 0.2 s; the TMS then needs 0.2 s more, past the 0.3 s deadline of the email.
    erp = FakeErp([HANSEN_ORDER], delay=0.2)
    tms = FakeTms([HANSEN_SHIPMENT], delay=0.2)
    wms = FakeWms([HANSEN_FULFILLMENT], delay=0.05)
    s = systems(erp=erp, tms=tms, wms=wms, names={"tms": "project44"})
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=(ref("4500012400", K.CUSTOMER_PO),), systems=s, policy=STRICT,
                          timeout=0.3)
    elapsed = time.perf_counter() - started
    assert 0.28 <= elapsed < 0.45, elapsed  # the deadline, not 0.2 s + a second full timeout
    assert tms.calls == [("shipments_for_order", "NK204117")]
    (failure,) = result.failures
    assert (failure.system, failure.kind, failure.reference, failure.category) == (
        "project44", "tms", "NK204117", "timeout")
    assert "no answer within 0.3 s, the lookup deadline of this email" in failure.error
    assert "found the order by its PO" in failure.error
    # what arrived before the deadline is used
    assert [o.order_no for o in result.orders] == ["NK204117"]
    assert [f.status for f in result.fulfillments] == ["packed"]
    assert result.shipments == () and result.not_found == () and result.withheld == ()


async def test_a_hanging_call_does_not_hold_back_the_follow_up_of_a_po() -> None:
    # NK204555 hangs in the ERP until the deadline; the order found by PO gets its shipment meanwhile.
    erp = HangingErp([HANSEN_ORDER])
    tms = FakeTms([HANSEN_SHIPMENT], delay=0.2)
    refs = (ref("NK204555"), ref("4500012400", K.CUSTOMER_PO))
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=refs, systems=systems(erp=erp, tms=tms), policy=STRICT,
                          timeout=0.5)
    elapsed = time.perf_counter() - started
    assert 0.45 <= elapsed < 0.65, elapsed  # two waves in a row would take 0.5 + 0.2 s
    assert _timeouts(result) == [("erp", "NK204555")]
    assert [s.shipment_id for s in result.shipments] == ["SHP-100117"]
    assert [o.order_no for o in result.orders] == ["NK204117"]


async def test_follow_up_calls_after_the_deadline_are_not_asked_and_named() -> None:
    # Policy off: the order found by PO is followed once the directory gives up, at the deadline.
    directory = FakeDirectory(CONTACTS, delay=1.0)
    tms, wms = FakeTms([HANSEN_SHIPMENT]), FakeWms([HANSEN_FULFILLMENT])
    s = systems(directory=directory, tms=tms, wms=wms)
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=(ref("4500012400", K.CUSTOMER_PO),), systems=s,
                          policy=AuthorizationPolicy.OFF, timeout=0.2)
    elapsed = time.perf_counter() - started
    assert 0.18 <= elapsed < 0.4, elapsed
    assert _timeouts(result) == [("directory", None), ("tms", "NK204117"), ("wms", "NK204117")]
    not_asked = [f for f in result.failures if f.kind in ("tms", "wms")]
    assert all(f.error.startswith("not asked: the 0.2 s lookup deadline of this email had passed")
               for f in not_asked)
    assert tms.calls == [] and wms.calls == []  # nothing is sent to a system once the deadline has passed
    assert [o.order_no for o in result.orders] == ["NK204117"]


async def test_every_system_hanging_ends_at_the_deadline_with_every_call_named() -> None:
    slow = dict(delay=5.0)
    s = systems(directory=FakeDirectory(CONTACTS, **slow), erp=FakeErp([HANSEN_ORDER], **slow),
                tms=FakeTms([HANSEN_SHIPMENT], **slow), wms=FakeWms([HANSEN_FULFILLMENT], **slow))
    refs = (ref("NK204117"), ref("4500012400", K.CUSTOMER_PO), ref("MSKU7719028", K.CONTAINER_NUMBER))
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=refs, systems=s, policy=STRICT, timeout=0.25)
    elapsed = time.perf_counter() - started
    assert 0.23 <= elapsed < 0.5, elapsed
    assert _timeouts(result) == [("directory", None), ("erp", "4500012400"), ("erp", "NK204117"),
                                 ("tms", "MSKU7719028"), ("tms", "NK204117"), ("wms", "NK204117")]
    assert all("0.25 s" in f.error for f in result.failures)
    assert result.facts == () and result.not_found == () and result.withheld == ()


# --------------------------------------------------------------------------- authorization of every record kind

SVEA_FULFILLMENT = Fulfillment(order_no="NK204301", customer_id="C300", warehouse="Jönköping", status="picked",
                               source=source("wms", "NK204301"))


@pytest.mark.parametrize("erp", [None, "unknown"], ids=["no-erp", "erp-does-not-know"])
async def test_another_customers_warehouse_record_is_withheld_with_a_reason(erp: str | None) -> None:
    orders = FakeErp([]) if erp else None
    s = BusinessSystems(directory=FakeDirectory(CONTACTS), orders=orders, warehouse=FakeWms([HANSEN_FULFILLMENT]))
    result = await lookup(sender=ANNA, references=(ref("NK204117"),), systems=s, policy=STRICT)
    assert result.fulfillments == () and result.facts == ()
    assert [(w.reference, w.reason) for w in result.withheld] == [
        ("NK204117", "NK204117 belongs to another customer than the sender's")]
    assert result.not_found == ()  # found, but not hers: not "not found"


async def test_another_customers_shipments_of_an_order_number_are_withheld_without_an_erp() -> None:
    s = BusinessSystems(directory=FakeDirectory(CONTACTS), tracker=FakeTms([HANSEN_SHIPMENT]),
                        warehouse=FakeWms([HANSEN_FULFILLMENT]))
    result = await lookup(sender=ANNA, references=(ref("NK204117"),), systems=s, policy=STRICT)
    assert [w.reference for w in result.withheld] == ["NK204117"]
    assert result.shipments == () and result.fulfillments == () and result.facts == ()
    for secret in ("SHP-100117", "MSKU7719028", "packed", "C100"):
        assert not mentions(result, secret), secret


async def test_the_senders_order_with_a_warehouse_record_of_another_customer_is_withheld_whole() -> None:
    # The ERP says Svea's, the WMS says Hansen's: the systems disagree, nothing about the order is used.
    wms = FakeWms([HANSEN_FULFILLMENT.model_copy(update={"order_no": "NK204301"})])
    result = await lookup(sender=ANNA, references=(ref("NK204301"),), systems=systems(wms=wms), policy=STRICT)
    assert result.orders == () and result.shipments == () and result.fulfillments == () and result.facts == ()
    assert [(w.reference, w.reason) for w in result.withheld] == [
        ("NK204301", "NK204301 belongs to another customer than the sender's")]


async def test_another_customers_shipment_linked_to_the_senders_order_is_withheld_by_its_id() -> None:
    stray = shipment("SHP-100999", "NK204301", "C100", container_no="MSKU7719028")
    tms = FakeTms([SVEA_SHIPMENT, stray])
    result = await lookup(sender=ANNA, references=(ref("NK204301"),), systems=systems(tms=tms), policy=STRICT)
    assert [o.order_no for o in result.orders] == ["NK204301"]
    assert [s.shipment_id for s in result.shipments] == ["SHP-100301"]
    assert [(w.reference, w.reason) for w in result.withheld] == [
        ("SHP-100999", "NK204301: a shipment linked to it belongs to another customer than the sender's; only the "
                       "sender's records are used")]
    assert not mentions(result, "SHP-100999") and not mentions(result, "MSKU7719028")


async def test_a_po_two_customers_use_answers_only_the_senders_order() -> None:
    hansen = order("NK204117", "C100", customer_po="PO-88152")
    erp = FakeErp([hansen, SVEA_ORDER])
    wms = FakeWms([HANSEN_FULFILLMENT, SVEA_FULFILLMENT])
    result = await lookup(sender=ANNA, references=(ref("PO88152", K.CUSTOMER_PO),),
                          systems=systems(erp=erp, wms=wms), policy=STRICT)
    assert [o.order_no for o in result.orders] == ["NK204301"]
    assert [f.order_no for f in result.fulfillments] == ["NK204301"]
    assert [s.shipment_id for s in result.shipments] == ["SHP-100301"]
    assert [w.reference for w in result.withheld] == ["NK204117"]
    assert result.withheld[0].reason.startswith("PO88152: another order with this PO belongs to another customer")
    # Hansen's order is never followed up in the TMS or the WMS
    assert ("fulfillment", "NK204117") not in wms.calls
    for secret in ("NK204117", "SHP-100117", "Bergen"):
        assert not mentions(result, secret), secret


async def test_a_consolidated_container_answers_only_the_senders_shipment() -> None:
    svea_in_same_box = SVEA_SHIPMENT.model_copy(update={"container_no": "MSKU7719028"})
    tms = FakeTms([HANSEN_SHIPMENT, svea_in_same_box])
    refs = (ref("MSKU7719028", K.CONTAINER_NUMBER, validity=Validity.VALID),)
    result = await lookup(sender=ANNA, references=refs, systems=systems(tms=tms), policy=STRICT)
    assert [s.shipment_id for s in result.shipments] == ["SHP-100301"]
    assert [w.reference for w in result.withheld] == ["SHP-100117"]
    assert "MSKU7719028: another shipment under it belongs to another customer" in result.withheld[0].reason
    assert not mentions(result, "SHP-100117")


async def test_found_by_the_tms_only_is_not_reported_not_found() -> None:
    s = BusinessSystems(directory=FakeDirectory(CONTACTS), orders=FakeErp([]), tracker=FakeTms([HANSEN_SHIPMENT]))
    result = await lookup(sender=KARI, references=(ref("NK204117"),), systems=s, policy=STRICT)
    assert [s.shipment_id for s in result.shipments] == ["SHP-100117"]
    assert result.not_found == () and result.withheld == ()
