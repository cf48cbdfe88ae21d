"""agent.notes: the internal note (facts with sources, warnings, missing, next steps)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agent.lookup import facts_from_records
from agent.models import (
    Draft,
    Fulfillment,
    Intent,
    LookupFailure,
    LookupResult,
    Note,
    Order,
    OrderLine,
    Reference,
    ReferenceKind,
    ReferenceSource,
    Shipment,
    SimilarThread,
    Validity,
    Withheld,
)
from agent.notes import NOTE_SUBJECT_PREFIX, build_note
from tests.agent.builders import make_email, order, ref, shipment, source

K = ReferenceKind
DRAFT = Draft(draft_id="draft-42", subject="Re: Ordre NK204117", body="Hei Kari,\n", language="no",
              drafter="template", template_version="reply.no@0123456789ab")
EMAIL = make_email(subject="Ordre NK204117", reply_text="Når kommer ordren?", language="no")


def lookup_result(*, orders: tuple[Order, ...] = (), shipments: tuple[Shipment, ...] = (),
                  fulfillments: tuple[Fulfillment, ...] = (), customer_ids: tuple[str, ...] = ("C100",),
                  withheld: tuple[Withheld, ...] = (), not_found: tuple[str, ...] = (),
                  failures: tuple[LookupFailure, ...] = ()) -> LookupResult:
    facts = facts_from_records(orders=orders, shipments=shipments, fulfillments=list(fulfillments))
    return LookupResult(customer_ids=customer_ids, orders=orders, shipments=shipments, fulfillments=fulfillments,
                        facts=facts, withheld=withheld, not_found=not_found, failures=failures)


def note_for(lk: LookupResult, references: tuple[Reference, ...] = (ref("NK204117"),),
             intents: tuple[Intent, ...] = (Intent.ETA_REQUEST,), similar: tuple[SimilarThread, ...] = ()) -> Note:
    return build_note(email=EMAIL, references=references, intents=intents, lookup=lk, similar=similar, draft=DRAFT)


def test_subject_header_and_draft_id() -> None:
    note = note_for(lookup_result(orders=(order(),)))
    assert note.subject.startswith(NOTE_SUBJECT_PREFIX)
    assert note.subject == "[shipdraft note] Re: Ordre NK204117"
    assert note.draft_id == "draft-42"
    assert note.body.startswith("INTERNAL NOTE from shipdraft - not for the customer.")
    assert "reply.no@0123456789ab" in note.body
    assert "Intents: eta_request" in note.body
    assert "Sender customer(s): C100" in note.body


def test_facts_table_lists_each_fact_id_and_its_source_system() -> None:
    fulfillment = Fulfillment(order_no="NK204117", customer_id="C100", status="packed",
                              shipped_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
                              source=source("astro-wms", "F-204117"))
    lk = lookup_result(orders=(order(system="sap-s4"),), shipments=(shipment(system="project44"),),
                       fulfillments=(fulfillment,))
    note = note_for(lk)
    lines = note.body.splitlines()
    assert len(lk.facts) > 10
    for fact in lk.facts:
        (line,) = [ln for ln in lines if ln.strip().startswith(f"{fact.id} ")]
        assert fact.source.system in line
        assert fact.source.record_id in line
        assert fact.name in line
        assert "2026-11-23 09:00" in line  # fetched at
    systems = {f.source.system for f in lk.facts}
    assert systems == {"sap-s4", "project44", "astro-wms"}


def test_no_facts_says_none() -> None:
    note = note_for(lookup_result(customer_ids=()))
    assert "Facts used (id, subject, fact, value, source, record, fetched):\n  none" in note.body
    assert "none (unknown sender)" in note.body
    assert note.warnings == ()


def test_warning_when_eta_is_later_than_the_confirmed_date() -> None:
    late = lookup_result(orders=(order(confirmed=date(2026, 11, 24)),),
                         shipments=(shipment(eta=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),))
    (warning,) = note_for(late).warnings
    assert "2026-12-03" in warning and "2026-11-24" in warning
    assert "SHP-100117" in warning and "NK204117" in warning
    assert f"! {warning}" in note_for(late).body
    on_time = lookup_result(orders=(order(confirmed=date(2026, 12, 5)),),
                            shipments=(shipment(eta=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),))
    assert note_for(on_time).warnings == ()


def test_warning_for_withheld_reference() -> None:
    lk = lookup_result(customer_ids=("C300",), withheld=(Withheld(
        reference="NK204117", reason="NK204117 belongs to another customer than the sender's"),))
    note = note_for(lk)
    assert note.warnings == ("withheld: NK204117 belongs to another customer than the sender's",)
    assert "verify the sender's identity" in note.body


def test_warning_for_connector_failure() -> None:
    lk = lookup_result(failures=(LookupFailure(system="sap-s4", kind="erp", reference="NK204117",
                                               error="no answer within 10 s"),))
    note = note_for(lk)
    (warning,) = note.warnings
    assert warning.startswith("sap-s4 (erp) unavailable for NK204117: no answer within 10 s")
    assert "status not checked" in warning
    assert "re-check the unavailable systems" in note.body


def test_warning_for_invalid_check_digit() -> None:
    bad = Reference(kind=K.CONTAINER_NUMBER, value="MSKU7719027", raw="MSKU 771902 7",
                    source=ReferenceSource.NEW_TEXT, span=(0, 13), validity=Validity.INVALID,
                    suggestion="MSKU7719028")
    note = note_for(lookup_result(), references=(bad,))
    (warning,) = note.warnings
    assert "check digit failed" in warning
    assert "'MSKU 771902 7'" in warning
    assert "MSKU7719028" in warning
    assert "did you mean MSKU7719028?" in note.body


def test_warnings_for_problem_statuses() -> None:
    lk = lookup_result(orders=(order(status="on_hold", confirmed=None),),
                       shipments=(shipment(status="customs_hold", eta=None),))
    warnings = note_for(lk).warnings
    assert "SHP-100117 is customs hold" in warnings
    assert "order NK204117 is on hold" in warnings


def test_all_warnings_together() -> None:
    bad = ref("MSKU7719027", K.CONTAINER_NUMBER, validity=Validity.INVALID)
    lk = lookup_result(
        orders=(order(),), shipments=(shipment(),),
        withheld=(Withheld(reference="NK204301", reason="NK204301 belongs to another customer than the sender's"),),
        failures=(LookupFailure(system="dhl", kind="tms", reference=None, error="HTTP 503"),),
    )
    warnings = note_for(lk, references=(ref("NK204117"), bad)).warnings
    assert len(warnings) == 4
    assert any(w.startswith("check digit failed") for w in warnings)
    assert any(w.startswith("withheld:") for w in warnings)
    assert any(w.startswith("dhl (tms) unavailable: HTTP 503") for w in warnings)
    assert any(w.startswith("ETA 2026-12-03") for w in warnings)


def test_missing_section() -> None:
    note = note_for(lookup_result(not_found=("NK999999",)), references=(ref("NK999999"),))
    assert "NK999999 not found in any system" in note.body
    note = note_for(lookup_result(), references=())
    assert "no order, PO, container or shipment reference" in note.body
    assert "References:\n  none found" in note.body
    note = note_for(lookup_result(orders=(order(status="shipped"),)))
    assert "order NK204117 is shipped but no shipment was found in the TMS" in note.body
    down = LookupFailure(system="dhl", kind="tms", reference="NK204117", error="no answer", category="timeout")
    note = note_for(lookup_result(orders=(order(status="shipped"),), failures=(down,)))
    assert "order NK204117 is shipped; its shipment could not be checked (TMS unavailable)" in note.body
    assert "no shipment was found" not in note.body  # a TMS that did not answer found nothing either way


def test_next_steps_follow_intents_and_similar_threads_are_labelled() -> None:
    similar = (SimilarThread(thread_id="t1", subject="Skadet sofa", customer_text="...", reply_text="...",
                             score=0.8123),)
    note = note_for(lookup_result(orders=(order(),), shipments=(shipment(eta=None),)),
                    intents=(Intent.DAMAGE_OR_CLAIM, Intent.CANCELLATION), similar=similar)
    assert "open a damage claim with the carrier" in note.body
    assert "check whether the order can still be stopped" in note.body
    assert "Similar past threads (style examples only, not facts):" in note.body
    assert "Skadet sofa (score 0.81)" in note.body


def test_references_are_listed_with_validity_and_source() -> None:
    refs = (ref("NK204117", source=ReferenceSource.SUBJECT),
            ref("MSKU7719028", K.CONTAINER_NUMBER, validity=Validity.VALID, source=ReferenceSource.QUOTED))
    body = note_for(lookup_result(), references=refs).body
    (order_line,) = [ln for ln in body.splitlines() if "NK204117" in ln and "order_number" in ln]
    assert "unchecked" in order_line and "from subject" in order_line
    (container_line,) = [ln for ln in body.splitlines() if "MSKU7719028" in ln]
    assert "valid" in container_line and "from quoted" in container_line


def test_llm_draft_header_usage_removals_and_low_confidence() -> None:
    llm = DRAFT.model_copy(update={
        "drafter": "llm", "template_version": "draft-v1@a1b2c3d4e5f6", "model": "openai:gpt-4o-mini",
        "prompt_tokens": 1180, "completion_tokens": 210, "latency_ms": 1432, "confidence": 0.31,
        "notes": ("removed unsupported sentence: 'We will refund 500 EUR.' (number 500 is in no fact and not in "
                  "the email)",)})
    note = build_note(email=EMAIL, references=(ref("NK204117"),), intents=(Intent.ETA_REQUEST,),
                      lookup=lookup_result(orders=(order(),)), similar=(), draft=llm)
    assert ("by the llm drafter (draft-v1@a1b2c3d4e5f6, model openai:gpt-4o-mini, 1180 prompt + 210 completion "
            "tokens, 1432 ms)") in note.body
    assert "About this draft:\n  - removed unsupported sentence: 'We will refund 500 EUR.'" in note.body
    assert "low confidence in this draft (0.31): check it closely" in note.warnings


def test_fallback_reason_is_in_the_note() -> None:
    fell_back = DRAFT.model_copy(update={
        "fallback_reason": "the LLM failed (rate_limited): the provider rate-limited the request (429)",
        "notes": ("template drafter used instead of the LLM: the LLM failed (rate_limited): the provider "
                  "rate-limited the request (429)",)})
    note = build_note(email=EMAIL, references=(ref("NK204117"),), intents=(Intent.ETA_REQUEST,),
                      lookup=lookup_result(orders=(order(),)), similar=(), draft=fell_back)
    assert "  - template drafter used instead of the LLM: the LLM failed (rate_limited)" in note.body
    assert "by the template drafter (reply.no@0123456789ab)" in note.body


def test_delivery_exception_warning() -> None:
    lk = lookup_result(orders=(order(),), shipments=(shipment(status="exception", eta=None),))
    assert "SHP-100117 has a delivery exception: Departed" in note_for(lk).warnings


NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _waiting_order() -> Order:
    """Confirmed for 3 December, 0/30 shipped, no shipment and nothing from the warehouse."""
    o = order("NK204131", status="confirmed", confirmed=date(2026, 12, 3), customer_po=None)
    return o.model_copy(update={"lines": (OrderLine(line_no=1, sku="CHAIR", qty_ordered=30, qty_shipped=0),)})


def test_a_passed_confirmed_date_with_nothing_shipped_is_a_warning_with_a_next_step() -> None:
    note = build_note(email=EMAIL, references=(ref("NK204131"),), intents=(Intent.ETA_REQUEST,),
                      lookup=lookup_result(orders=(_waiting_order(),)), similar=(), draft=DRAFT, now=NOW)
    assert ("order NK204131: confirmed delivery date 2026-12-03 has passed and nothing has shipped: "
            "check with the warehouse/carrier") in note.warnings
    assert "ask the warehouse when NK204131 will ship" in note.body


def test_a_passed_eta_without_delivery_is_a_warning() -> None:
    late = shipment(eta=datetime(2026, 12, 4, 14, 0, tzinfo=UTC), carrier="DSV")
    note = build_note(email=EMAIL, references=(ref("NK204117"),), intents=(Intent.ETA_REQUEST,),
                      lookup=lookup_result(orders=(order(confirmed=date(2026, 12, 10)),), shipments=(late,)),
                      similar=(), draft=DRAFT, now=NOW)
    assert any(w.startswith("ETA 2026-12-04 of SHP-100117 has passed") and "check with DSV" in w
               for w in note.warnings)
    assert "ask DSV where SHP-100117 is and for a new ETA" in note.body


def test_dates_ahead_delivered_orders_and_no_clock_give_no_passed_date_warning() -> None:
    ahead = order(status="confirmed", confirmed=date(2026, 12, 10))
    delivered = order("NK204131", status="delivered", confirmed=date(2026, 12, 1))
    for now in (NOW, None):
        note = build_note(email=EMAIL, references=(), intents=(Intent.ETA_REQUEST,),
                          lookup=lookup_result(orders=(ahead, delivered)), similar=(), draft=DRAFT, now=now)
        assert not any("has passed" in w for w in note.warnings)
    note = build_note(email=EMAIL, references=(), intents=(Intent.ETA_REQUEST,),
                      lookup=lookup_result(orders=(_waiting_order(),)), similar=(), draft=DRAFT, now=None)
    assert not any("has passed" in w for w in note.warnings)


def test_a_pickup_date_asked_for_that_has_passed_is_a_warning() -> None:
    email = make_email(subject="Henting", reply_text="Kan dere hente 4 paller i Drammen 3. desember?",
                       language="no")
    note = build_note(email=email, references=(), intents=(Intent.BOOKING_REQUEST,), lookup=lookup_result(),
                      similar=(), draft=DRAFT, now=NOW)
    assert "the pickup date asked for (2026-12-03) has passed: agree a new date with the customer" in note.warnings
