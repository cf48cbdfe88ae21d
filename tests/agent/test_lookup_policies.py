"""Sender authorization policies (strict, domain_only, off) on the real demo systems.

The directory, ERP, TMS and WMS are the generic SQL connector on the demo
database (PostgreSQL), so the matches, owners and records are the ones the
embedded mailbox uses. Demo facts relied on: kari.nilsen@hansen-mobler.example
is a contact of C100 (Hansen Møbler); anna.lind@sveakok.example of C300 (Svea
Kök); hansen-mobler.example is C100's domain. NK204117 (PO 4500012345,
container MSKU4417209) and NK204118 belong to C100; NK204301 to C300.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from agent.lookup import BusinessSystems, facts_from_records, lookup
from agent.models import (
    DeliveryWindow,
    Draft,
    LookupResult,
    MatchMethod,
    Order,
    Reference,
    ReferenceKind,
    ReferenceSource,
    Shipment,
    Source,
)
from agent.notes import build_note
from agent.profile import AuthorizationPolicy
from connectors.base import RetryableError
from connectors.sql import SqlConnector
from shipdraft.demo import demo_dir
from tests.agent.builders import make_email

pytestmark = pytest.mark.anyio
STRICT, DOMAIN_ONLY, OFF = AuthorizationPolicy.STRICT, AuthorizationPolicy.DOMAIN_ONLY, AuthorizationPolicy.OFF
KARI = "kari.nilsen@hansen-mobler.example"
COLLEAGUE = "new.colleague@hansen-mobler.example"
ANNA = "anna.lind@sveakok.example"


def _ref(value: str, kind: ReferenceKind = ReferenceKind.ORDER_NUMBER) -> Reference:
    return Reference(kind=kind, value=value, raw=value, source=ReferenceSource.NEW_TEXT, span=(0, len(value)))


@pytest.fixture
async def demo(database_url: str) -> AsyncIterator[SqlConnector]:
    config = yaml.safe_load((demo_dir() / "mailbox.yaml").read_text(encoding="utf-8"))["connectors"]["demo"]
    connector = SqlConnector(name="demo", config=config, context={"database_url": database_url})
    yield connector
    await connector.aclose()


def _systems(connector: Any, *, directory: Any = None) -> BusinessSystems:
    return BusinessSystems(directory=directory or connector, orders=connector, tracker=connector,
                           warehouse=connector, names={"directory": "crm", "erp": "sap", "tms": "cargowise",
                                                       "wms": "astro"})


def _mentions(result: LookupResult, value: str) -> bool:
    """Whether anything usable in a draft (records or facts) carries the value."""
    dumped = [r.model_dump_json() for r in (*result.orders, *result.shipments, *result.fulfillments, *result.facts)]
    return any(value in d for d in dumped)


async def test_strict_a_known_contact_sees_their_own_order(demo: SqlConnector) -> None:
    result = await lookup(sender=KARI, references=(_ref("NK204117"),), systems=_systems(demo), policy=STRICT)
    assert result.customer_ids == ("C100",) and not result.withheld
    assert [(m.customer_id, m.method) for m in result.sender_matches] == [("C100", MatchMethod.CONTACT)]
    assert {f.name for f in result.facts} >= {"order.status", "shipment.eta", "warehouse.status"}


async def test_strict_a_same_domain_colleague_is_not_enough(demo: SqlConnector) -> None:
    refs = (_ref("NK204117"), _ref("MSKU4417209", ReferenceKind.CONTAINER_NUMBER))
    result = await lookup(sender=COLLEAGUE, references=refs, systems=_systems(demo), policy=STRICT)
    assert result.customer_ids == () and result.facts == () and not result.orders and not result.shipments
    assert [(m.customer_id, m.method) for m in result.sender_matches] == [("C100", MatchMethod.DOMAIN)]
    assert {w.reference for w in result.withheld} == {"NK204117", "MSKU4417209"}
    assert all("only the email domain matches" in w.reason and "strict" in w.reason for w in result.withheld)


async def test_domain_only_accepts_the_colleague(demo: SqlConnector) -> None:
    result = await lookup(sender=COLLEAGUE, references=(_ref("NK204117"),), systems=_systems(demo),
                          policy=DOMAIN_ONLY)
    assert result.customer_ids == ("C100",) and not result.withheld
    assert _mentions(result, "NK204117") and any(f.name == "shipment.eta" for f in result.facts)


@pytest.mark.parametrize("policy", [STRICT, DOMAIN_ONLY])
async def test_an_attacker_quoting_someone_elses_order_po_and_container_learns_nothing(
        demo: SqlConnector, policy: AuthorizationPolicy) -> None:
    # Svea Kök's buyer (a real contact of C300) quotes Hansen Møbler's order, PO and container, next to
    # one order of her own, and asks for everything.
    refs = (_ref("NK204118"), _ref("4500012345", ReferenceKind.CUSTOMER_PO),
            _ref("MSKU4417209", ReferenceKind.CONTAINER_NUMBER), _ref("SHP31002", ReferenceKind.SHIPMENT_ID),
            _ref("NK204301"))
    result = await lookup(sender=ANNA, references=refs, systems=_systems(demo), policy=policy)
    assert result.customer_ids == ("C300",)
    assert {w.reference for w in result.withheld} == {"NK204118", "4500012345", "MSKU4417209", "SHP31002"}
    assert all(w.reason.endswith("belongs to another customer than the sender's") for w in result.withheld)
    for leaked in ("C100", "NK204117", "NK204118", "MSKU4417209", "SHP-31002", "Per Olsen", "M. Haugland",
                   "Maersk", "4500012345"):
        assert not _mentions(result, leaked), leaked
    assert all(r.customer_id == "C300" for r in (*result.orders, *result.shipments, *result.fulfillments))
    assert _mentions(result, "NK204301")  # her own order is answered as usual
    note = build_note(email=make_email(from_address=ANNA), references=refs, intents=(), lookup=result,
                      similar=(), draft=_draft())
    assert "withheld: NK204118 belongs to another customer" in note.body
    assert "Maersk" not in note.body and "M. Haugland" not in note.body


async def test_a_lookalike_domain_matches_nobody(demo: SqlConnector) -> None:
    result = await lookup(sender="kari.nilsen@hansen-mobler.example.evil.test", references=(_ref("NK204117"),),
                          systems=_systems(demo), policy=DOMAIN_ONLY)
    assert result.sender_matches == () and result.facts == ()
    assert result.withheld[0].reason == "NK204117: the sender is not a known contact of any customer"


async def test_off_uses_every_record_found(demo: SqlConnector) -> None:
    result = await lookup(sender="someone@unknown-shop.example", references=(_ref("NK204118"),),
                          systems=_systems(demo), policy=OFF)
    assert not result.withheld and _mentions(result, "NK204118") and result.customer_ids == ()


class _DownDirectory:
    async def customers_for_sender(self, *, address: str) -> list[Any]:
        raise RetryableError("crm unreachable: connection refused", system="crm")


async def test_a_failed_directory_withholds_everything_and_is_named(demo: SqlConnector) -> None:
    result = await lookup(sender=KARI, references=(_ref("NK204117"),),
                          systems=_systems(demo, directory=_DownDirectory()), policy=STRICT)
    assert result.facts == () and result.withheld[0].reason == (
        "NK204117: the sender could not be verified (the customer directory did not answer)")
    [failure] = result.failures
    assert (failure.system, failure.kind, failure.category) == ("crm", "directory", "retryable")


class _Slow:
    """Adds latency to every call of a real connector (what a remote system costs)."""

    def __init__(self, inner: SqlConnector, *, delay: float, only: str | None = None) -> None:
        self._inner, self._delay, self._only = inner, delay, only
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)

        async def slowed(**kwargs: Any) -> Any:
            self.calls += 1
            if self._only is None or name == self._only:
                await asyncio.sleep(self._delay)
            return await target(**kwargs)

        return slowed


async def test_one_wave_wall_time_is_the_slowest_call_not_the_sum(demo: SqlConnector) -> None:
    slow = _Slow(demo, delay=0.2)
    refs = (_ref("NK204117"), _ref("NK204125"), _ref("NK204096"), _ref("MSKU4417209", ReferenceKind.CONTAINER_NUMBER))
    for _ in range(2):  # grow the connection pool to the wave's size first: we time the fan-out, not connects
        await lookup(sender=KARI, references=refs, systems=_systems(demo), policy=STRICT)
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=refs, systems=_systems(slow), policy=STRICT)
    elapsed = time.perf_counter() - started
    assert slow.calls == 1 + 3 * 3 + 1  # directory, 3 orders x (erp, tms, wms), 1 container
    assert elapsed < 0.2 * 1.9, elapsed  # one wave; a second wave would take 0.4 s, the sum 2.2 s
    assert len(result.orders) == 3 and not result.failures


async def test_a_slow_system_is_named_and_the_others_still_answer(demo: SqlConnector) -> None:
    slow_tms = _Slow(demo, delay=2.0, only="shipments_for_order")
    systems = BusinessSystems(directory=demo, orders=demo, tracker=slow_tms, warehouse=demo,
                              names={"directory": "crm", "erp": "sap", "tms": "cargowise", "wms": "astro"})
    started = time.perf_counter()
    result = await lookup(sender=KARI, references=(_ref("NK204117"),), systems=systems, policy=STRICT, timeout=0.3)
    assert time.perf_counter() - started < 1.0
    assert [(f.system, f.kind, f.reference, f.category) for f in result.failures] == [
        ("cargowise", "tms", "NK204117", "timeout")]
    assert result.orders and result.fulfillments
    note = build_note(email=make_email(), references=(_ref("NK204117"),), intents=(), lookup=result, similar=(),
                      draft=_draft())
    assert ("cargowise (tms) unavailable for NK204117: no answer within 0.3 s, the lookup deadline of this email; "
            "status not checked") in note.body


def _draft() -> Draft:
    return Draft(draft_id="d1", subject="Re: x", body="", language="en", drafter="template", template_version="t")


def test_optional_record_fields_become_facts() -> None:
    src = Source(system="tms", record_id="SHP-1", fetched_at=datetime(2026, 11, 23, tzinfo=UTC))
    start, end = datetime(2026, 12, 3, 7, tzinfo=UTC), datetime(2026, 12, 3, 15, tzinfo=UTC)
    order = Order(order_no="NK1", customer_id="C100", status="shipped", source=src, deliveries=("80001", "80002"))
    shipment = Shipment(shipment_id="SHP-1", order_no="NK1", customer_id="C100", status="delivered", source=src,
                        pod_link="https://tms.example/pod/SHP-1.pdf", delivery_window=DeliveryWindow(start=start,
                                                                                                    end=end))
    facts = {f.name: f.value for f in facts_from_records(orders=(order,), shipments=(shipment,), fulfillments=[])}
    assert facts["order.deliveries"] == "80001, 80002"
    assert facts["shipment.pod_link"] == "https://tms.example/pod/SHP-1.pdf"
    assert facts["shipment.delivery_window"] == "2026-12-03T07:00:00+00:00/2026-12-03T15:00:00+00:00"


class _ErpWithout:
    """The demo ERP, except that it does not know ``missing`` (a WMS or TMS may still know it)."""

    def __init__(self, inner: SqlConnector, *, missing: str) -> None:
        self._inner, self._missing = inner, missing

    async def get_order(self, *, order_no: str) -> Order | None:
        return None if order_no == self._missing else await self._inner.get_order(order_no=order_no)

    async def find_orders_by_po(self, *, customer_po: str) -> list[Order]:
        return await self._inner.find_orders_by_po(customer_po=customer_po)


@pytest.mark.parametrize("policy", [STRICT, DOMAIN_ONLY])
@pytest.mark.parametrize("erp", ["none", "does-not-know"])
async def test_without_the_erps_word_the_warehouse_and_tms_records_are_authorized_too(
        demo: SqlConnector, policy: AuthorizationPolicy, erp: str) -> None:
    # Anna (C300) quotes Hansen Møbler's NK204117; no ERP tells its owner, but the WMS and the TMS know it.
    orders = None if erp == "none" else _ErpWithout(demo, missing="NK204117")
    systems = BusinessSystems(directory=demo, orders=orders, tracker=demo, warehouse=demo,
                              names={"directory": "crm", "erp": "sap", "tms": "cargowise", "wms": "astro"})
    refs = (_ref("NK204117"), _ref("NK204301"))
    result = await lookup(sender=ANNA, references=refs, systems=systems, policy=policy)
    assert [(w.reference, w.reason) for w in result.withheld] == [
        ("NK204117", "NK204117 belongs to another customer than the sender's")]
    assert "NK204117" not in result.not_found
    for leaked in ("C100", "NK204117", "MSKU4417209", "Per Olsen", "Maersk"):
        assert not _mentions(result, leaked), leaked
    assert all(r.customer_id == "C300" for r in (*result.orders, *result.shipments, *result.fulfillments))
    assert _mentions(result, "NK204301")
    note = build_note(email=make_email(from_address=ANNA), references=refs, intents=(), lookup=result, similar=(),
                      draft=_draft())
    assert "withheld: NK204117 belongs to another customer than the sender's" in note.body
    assert "NK204117 not found" not in note.body


@pytest.mark.parametrize(("policy", "visible"), [(STRICT, False), (DOMAIN_ONLY, True)])
async def test_a_colleague_and_a_warehouse_only_mailbox(demo: SqlConnector, policy: AuthorizationPolicy,
                                                        visible: bool) -> None:
    # A mailbox wired to the WMS alone: the warehouse record is authorized like any other.
    systems = BusinessSystems(directory=demo, warehouse=demo, names={"directory": "crm", "wms": "astro"})
    result = await lookup(sender=COLLEAGUE, references=(_ref("NK204117"),), systems=systems, policy=policy)
    assert bool(result.fulfillments) is visible and any(f.name == "warehouse.status" for f in result.facts) is visible
    if visible:
        assert result.withheld == () and result.customer_ids == ("C100",)
    else:
        [withheld] = result.withheld
        assert withheld.reference == "NK204117" and "only the email domain matches" in withheld.reason
        note = build_note(email=make_email(from_address=COLLEAGUE), references=(_ref("NK204117"),), intents=(),
                          lookup=result, similar=(), draft=_draft())
        assert f"withheld: {withheld.reason}" in note.body
