"""agent.drafting: the template drafter in five languages, grounding of what it may say."""

from __future__ import annotations

import hashlib
import inspect
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib.resources import files

import pytest

from agent.booking import booking_ask, pickup_on
from agent.drafting import TEMPLATE_LANGUAGES, DraftRequest, TemplateDrafter, format_date, greeting_name, reply_subject
from agent.lookup import facts_from_records, lookup
from agent.models import Draft, Email, Intent, LookupResult, Order, Reference, Shipment, Withheld
from agent.profile import AuthorizationPolicy, StyleGuide
from agent.references import extract_references
from tests.agent.builders import ANNA, demo_rules, make_email, order, ref, shipment
from tests.agent.fakes import systems

pytestmark = pytest.mark.anyio

DRAFTER = TemplateDrafter()
STYLE = StyleGuide(company="Nordkyst Logistikk AS", signature="Nordkyst Logistikk – Kundeservice",
                   default_language="en")

GREETING = {"en": "Hi Kari,", "no": "Hei Kari,", "sv": "Hej Kari,", "da": "Hej Kari,", "de": "Hallo Kari,"}
ORDER_LINE = {
    "en": "Order NK204117 (your PO 4500012400) is shipped, with confirmed delivery date 24 November 2026.",
    "no": "Ordre NK204117 (deres innkjøpsordre 4500012400) er sendt, med bekreftet leveringsdato 24.11.2026.",
    "sv": "Order NK204117 (er inköpsorder 4500012400) är skickad, med bekräftat leveransdatum 2026-11-24.",
    "da": "Ordre NK204117 (jeres indkøbsordre 4500012400) er afsendt, med bekræftet leveringsdato 24.11.2026.",
    "de": "Auftrag NK204117 (Ihre Bestellnummer 4500012400) ist versandt, bestätigter Liefertermin 24.11.2026.",
}
IN_TRANSIT = {"en": "in transit", "no": "underveis", "sv": "under transport", "da": "undervejs", "de": "unterwegs"}
ETA = {"en": "3 December 2026", "no": "03.12.2026", "sv": "2026-12-03", "da": "03.12.2026", "de": "03.12.2026"}
NO_ETA = {
    "en": "The carrier has not confirmed an arrival time yet; we are following up.",
    "no": "Transportøren har ikke bekreftet ny ankomsttid ennå; vi følger opp.",
    "sv": "Transportören har inte bekräftat någon ny ankomsttid ännu; vi följer upp.",
    "da": "Transportøren har endnu ikke bekræftet en ny ankomsttid; vi følger op.",
    "de": "Der Frachtführer hat noch keine neue Ankunftszeit bestätigt; wir bleiben dran.",
}
ASK_FOR_REFERENCE = {
    "en": "could you send us the order number, container number or tracking number",
    "no": "kan du sende oss ordrenummer, containernummer eller sporingsnummer",
    "sv": "kan du skicka ordernummer, containernummer eller spårningsnummer",
    "da": "kan du sende os ordrenummer, containernummer eller sporingsnummer",
    "de": "Könnten Sie uns die Auftrags-, Container- oder Sendungsnummer nennen?",
}
NOT_MATCHED = {
    "en": "We could not match one of the references",
    "no": "Vi kunne ikke knytte en av referansene",
    "sv": "Vi kunde inte koppla en av referenserna",
    "da": "Vi kunne ikke knytte en af referencerne",
    "de": "Wir konnten eine der Referenzen",
}


async def draft(request: DraftRequest) -> Draft:
    """Run the drafter whether ``draft`` is sync or async."""
    result = DRAFTER.draft(request=request)
    if inspect.isawaitable(result):
        result = await result
    assert isinstance(result, Draft)
    return result


def request(*, email: Email | None = None, lang: str = "en", orders: tuple[Order, ...] = (),
            shipments: tuple[Shipment, ...] = (), references: tuple[Reference, ...] | None = None,
            intents: tuple[Intent, ...] = (Intent.ETA_REQUEST,), not_found: tuple[str, ...] = (),
            withheld: tuple[Withheld, ...] = (), style: StyleGuide = STYLE) -> DraftRequest:
    email = email or make_email(subject="Ordre NK204117", reply_text="Når kommer ordren?", language=lang)
    facts = facts_from_records(orders=orders, shipments=shipments, fulfillments=[])
    lk = LookupResult(customer_ids=("C100",), orders=orders, shipments=shipments, facts=facts,
                      not_found=not_found, withheld=withheld)
    refs = references if references is not None else tuple(ref(o.order_no) for o in orders)
    return DraftRequest(draft_id="draft-1", email=email, references=refs, intents=intents, lookup=lk, style=style)


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_order_and_shipment_with_eta(lang: str) -> None:
    d = await draft(request(lang=lang, orders=(order(),), shipments=(shipment(),)))
    assert d.language == lang
    assert d.drafter == "template"
    assert d.draft_id == "draft-1"
    assert d.body.startswith(GREETING[lang])
    assert ORDER_LINE[lang] in d.body
    assert "SHP-100117" in d.body and "MSKU7719028" in d.body and "Maersk" in d.body
    assert IN_TRANSIT[lang] in d.body
    assert ETA[lang] in d.body
    assert NO_ETA[lang] not in d.body
    assert d.body.rstrip().endswith("Nordkyst Logistikk – Kundeservice")
    assert d.fact_ids and d.fact_ids == tuple(f"F{i}" for i in range(1, len(d.fact_ids) + 1))
    assert "{{" not in d.body and "{%" not in d.body


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_shipment_without_eta_says_not_confirmed_and_following_up(lang: str) -> None:
    d = await draft(request(lang=lang, orders=(order(),), shipments=(shipment(eta=None),)))
    assert NO_ETA[lang] in d.body
    assert ETA[lang] not in d.body


async def test_two_shipments_of_one_order_are_on_separate_lines() -> None:
    first = shipment("SHP-100117", container_no="MSKU7719028")
    second = shipment("SHP-100118", container_no="CMAU5521840", eta=None)
    d = await draft(request(orders=(order(),), shipments=(first, second),
                            not_found=("NK999999",)))
    lines = d.body.splitlines()
    assert sum(1 for ln in lines if ln.startswith("Shipment SHP-10011")) == 2
    # the paragraph after the shipments is separated by a blank line
    assert re.search(r"following up\.\n\nWe could not find NK999999", d.body)


async def test_delivered_shipment_with_pod() -> None:
    delivered = shipment(status="delivered", eta=None, delivered_at=datetime(2026, 11, 17, 13, 5, tzinfo=UTC),
                         pod_signed_by="J. Smith")
    d = await draft(request(orders=(order(status="delivered"),), shipments=(delivered,)))
    assert "was delivered on 17 November 2026, signed for by J. Smith." in d.body
    assert "following up" not in d.body


async def test_loose_shipment_found_by_container() -> None:
    d = await draft(request(shipments=(shipment(order_no=None),),
                            references=(ref("MSKU7719028"),)))
    assert "Shipment SHP-100117, container MSKU7719028 with Maersk, is in transit" in d.body


async def test_withheld_content_never_appears_in_the_draft() -> None:
    """Anna (C300) asks about Hansen's (C100) order and quotes its container: end to end, nothing leaks."""
    email = make_email(
        subject="Beställning NK204117",
        reply_text="Hej, kan ni skicka packlistan för order NK204117, container MSKU7719028? Vår order "
                   "NK204301 väntar också.",
        language="sv", from_address=ANNA, from_name="Anna Lind",
    )
    references = extract_references(email=email, rules=demo_rules())
    assert {r.value for r in references} == {"NK204117", "MSKU7719028", "NK204301"}
    found = await lookup(sender=ANNA, references=references, systems=systems(), policy=AuthorizationPolicy.STRICT)
    assert {w.reference for w in found.withheld} == {"NK204117", "MSKU7719028"}
    req = DraftRequest(draft_id="d-x", email=email, references=references,
                       intents=(Intent.DOCUMENTS_REQUEST,), lookup=found, style=STYLE)
    d = await draft(req)
    body = d.body
    for secret in ("NK204117", "MSKU7719028", "SHP-100117", "4500012400", "skickad", "under transport",
                   "2026-12-03", "2026-11-24", "Maersk", "Bergen"):
        assert secret not in body, secret
    assert "NK204301" in body  # her own order is answered
    assert "Vi kunde inte koppla några av referenserna" in body  # the withheld ones, generically
    assert d.fact_ids == tuple(f.id for f in found.facts)


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_withheld_paragraph_without_details(lang: str) -> None:
    withheld = (Withheld(reference="NK204117", reason="NK204117 belongs to another customer than the sender's"),)
    d = await draft(request(lang=lang, references=(ref("NK204117"),), withheld=withheld))
    assert "NK204117" not in d.body
    assert "another customer" not in d.body
    assert NOT_MATCHED[lang] in d.body
    without = await draft(request(lang=lang, references=(ref("NK204117"),)))
    assert len(d.body) > len(without.body)  # the generic paragraph is there


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_not_found_reference_is_mentioned_and_asked_about(lang: str) -> None:
    d = await draft(request(lang=lang, references=(ref("NK999999"),), not_found=("NK999999",)))
    (paragraph,) = [p for p in d.body.split("\n\n") if "NK999999" in p]
    assert paragraph.rstrip().endswith("?")


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_email_without_reference_asks_for_one(lang: str) -> None:
    d = await draft(request(lang=lang, references=()))
    assert ASK_FOR_REFERENCE[lang] in d.body
    with_ref = await draft(request(lang=lang, orders=(order(),)))
    assert ASK_FOR_REFERENCE[lang] not in with_ref.body


async def test_intent_paragraphs() -> None:
    d = await draft(request(orders=(order(),), intents=(Intent.DAMAGE_OR_CLAIM, Intent.DELIVERY_CHANGE,
                                                       Intent.CANCELLATION, Intent.DOCUMENTS_REQUEST)))
    assert "open a claim with the carrier" in d.body
    assert "change the delivery" in d.body
    assert "cancellation request" in d.body
    assert "requested documents" in d.body
    plain = await draft(request(orders=(order(),), intents=(Intent.ETA_REQUEST,)))
    assert "claim" not in plain.body and "cancellation" not in plain.body


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_template_version_is_name_at_content_hash(lang: str) -> None:
    d = await draft(request(lang=lang, orders=(order(),)))
    assert re.fullmatch(rf"reply\.{lang}@[0-9a-f]{{12}}", d.template_version)
    digest = hashlib.sha256()
    for part in (f"reply.{lang}.j2", f"shipment.{lang}.j2"):
        digest.update(files("prompts").joinpath("templates", part).read_text(encoding="utf-8").encode())
    assert d.template_version == f"reply.{lang}@{digest.hexdigest()[:12]}"


@pytest.mark.parametrize(("unsupported", "default", "greeting"), [("fr", "no", "Hei"), ("pl", "de", "Hallo"),
                                                                  ("", "en", "Hi")])
async def test_unsupported_language_falls_back_to_the_style_default(unsupported: str, default: str,
                                                                    greeting: str) -> None:
    style = StyleGuide(signature="Kundeservice", default_language=default)
    d = await draft(request(lang=unsupported, orders=(order(),), style=style))
    assert d.language == default
    assert d.template_version.startswith(f"reply.{default}@")
    assert d.body.startswith(f"{greeting} Kari,")


async def test_greeting_without_a_person_name() -> None:
    email = make_email(subject="Status", reply_text="Status?", from_address="innkjop@hansen-mobler.example",
                       from_name="Hansen Møbler Innkjøp", language="no")
    d = await draft(request(email=email, orders=(order(),)))
    assert d.body.startswith("Hei,\n")


async def test_subject_gets_one_reply_prefix() -> None:
    d = await draft(request(email=make_email(subject="SV: Ordre NK204117", reply_text="x")))
    assert d.subject == "SV: Ordre NK204117"
    d = await draft(request(email=make_email(subject="Ordre NK204117", reply_text="x")))
    assert d.subject == "Re: Ordre NK204117"


@pytest.mark.parametrize(
    ("display", "address", "expected"),
    [
        ("Kari Nilsen", "kari.nilsen@hansen-mobler.example", "Kari"),
        ("Nilsen, Kari", "kari.nilsen@hansen-mobler.example", "Kari"),
        ('"Anna Lind"', "anna.lind@sveakok.example", "Anna"),
        ("Tom Baker", "tom_baker@northwind-retail.example", "Tom"),
        ("Hansen Møbler Innkjøp", "innkjop@hansen-mobler.example", ""),
        ("Supply Chain Team", "supplychain@northwind-retail.example", ""),
        ("Kari Nilsen", "post@hansen-mobler.example", ""),
        ("Kari Nilsen", "k.nilsen@hansen-mobler.example", ""),
        ("", "kari.nilsen@hansen-mobler.example", ""),
        ("Jo Li", "jo.li@example.com", ""),
    ],
)
def test_greeting_name(display: str, address: str, expected: str) -> None:
    assert greeting_name(display_name=display, address=address) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "3 December 2026"), ("no", "03.12.2026"), ("da", "03.12.2026"), ("de", "03.12.2026"),
     ("sv", "2026-12-03")],
)
def test_format_date(lang: str, expected: str) -> None:
    assert format_date(date(2026, 12, 3), lang) == expected
    assert format_date(datetime(2026, 12, 3, 23, 0, tzinfo=UTC), lang) == expected
    assert format_date(None, lang) == ""


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Status", "Re: Status"), ("RE: Status", "RE: Status"), ("AW: Auftrag", "AW: Auftrag"),
     ("Sv: Order", "Sv: Order"), ("Research results", "Re: Research results")],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject) == expected


INTENT_PARAGRAPH = {Intent.DAMAGE_OR_CLAIM: "damage", Intent.DELIVERY_CHANGE: "delivery_change",
                    Intent.CANCELLATION: "cancellation", Intent.DOCUMENTS_REQUEST: "documents",
                    Intent.BOOKING_REQUEST: "booking", Intent.COMPLAINT: "complaint"}


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
@pytest.mark.parametrize("intent", list(Intent))
async def test_every_intent_in_every_language_is_answered_and_grounded(lang: str, intent: Intent) -> None:
    d = await draft(request(lang=lang, orders=(order(),), shipments=(shipment(),), intents=(intent,)))
    kinds = [s.kind for s in d.suggestions]
    assert kinds[:2] == ["greeting", "thanks"] and kinds[-1] == "closing"
    assert "order_status" in kinds
    expected = INTENT_PARAGRAPH.get(intent)
    assert set(kinds) & set(INTENT_PARAGRAPH.values()) == ({expected} if expected else set())
    (paragraph,) = [s.text for s in d.suggestions if s.kind == expected] if expected else [""]
    assert paragraph in d.body
    assert d.notes == ()  # the verifier removed nothing


async def test_complaint_and_damage_apologize_once() -> None:
    d = await draft(request(orders=(order(),), intents=(Intent.COMPLAINT, Intent.DAMAGE_OR_CLAIM)))
    kinds = [s.kind for s in d.suggestions]
    assert "damage" in kinds and "complaint" not in kinds


@pytest.mark.parametrize("lang", TEMPLATE_LANGUAGES)
async def test_mailbox_greeting_and_sign_off_replace_the_template_wording(lang: str) -> None:
    style = STYLE.model_copy(update={"greetings": {lang: "Kjære"}, "sign_offs": {lang: "Vennlig hilsen fra oss"}})
    d = await draft(request(lang=lang, orders=(order(),), style=style))
    assert d.body.startswith("Kjære Kari,\n")
    assert d.body.rstrip().endswith("Vennlig hilsen fra oss\nNordkyst Logistikk – Kundeservice")
    assert d.notes == ()
    anonymous = make_email(subject="Status", reply_text="Status?", from_address="post@hansen-mobler.example",
                           from_name="Hansen Møbler", language=lang)
    d = await draft(request(email=anonymous, lang=lang, orders=(order(),), style=style))
    assert d.body.startswith("Kjære,\n")


async def test_partial_order_data_reads_naturally() -> None:
    """No confirmed date, only the requested one; no PO; no shipment yet."""
    pending = order(status="open", confirmed=None, requested=date(2026, 12, 10), customer_po=None)
    d = await draft(request(orders=(pending,)))
    (line,) = [ln for ln in d.body.splitlines() if ln.startswith("Order NK204117")]
    assert line.endswith("; the requested delivery date is 10 December 2026.")
    assert "your PO" not in line and d.notes == ()


# --------------------------------------------------------------------------- passed dates, bookings, authorized set

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "was"), [("en", "The confirmed delivery date was 3 December 2026"),
                                           ("no", "Bekreftet leveringsdato var 03.12.2026"),
                                           ("sv", "Bekräftat leveransdatum var 2026-12-03"),
                                           ("da", "Bekræftet leveringsdato var 03.12.2026"),
                                           ("de", "Der bestätigte Liefertermin war der 03.12.2026")])
async def test_a_confirmed_date_in_the_past_is_not_presented_as_ahead(lang: str, was: str) -> None:
    waiting = order("NK204131", status="confirmed", confirmed=date(2026, 12, 3), customer_po=None)
    req = request(lang=lang, orders=(waiting,))
    ahead = await TemplateDrafter().draft(request=req)  # no clock: nothing is "past"
    late = await TemplateDrafter().draft(request=replace(req, now=NOW))
    assert was not in ahead.body
    assert was in late.body and late.notes == ()
    assert format_date(date(2026, 12, 3), lang) in late.body


async def test_a_date_of_today_or_later_is_still_ahead() -> None:
    today = order(status="confirmed", confirmed=date(2026, 12, 6))
    draft = await TemplateDrafter().draft(request=replace(request(lang="en", orders=(today,)), now=NOW))
    assert "with confirmed delivery date 6 December 2026" in draft.body and " was " not in draft.body


@pytest.mark.parametrize(("text", "pickup", "month_day", "pallets"), [
    ("Could you quote for a 40ft container, ready for collection on 11 December? It is 4 pallets.", None,
     (12, 11), 4),
    ("Vi ønsker å bestille transport av 8 paller fra Tromsø til Drammen, med henting 7. desember.", None,
     (12, 7), 8),
    ("Bitte holen Sie 3 EUR-Paletten am 11.12.2026 in Bremen ab; Lieferung bis 14.12.2026.",
     date(2026, 12, 11), None, 3),
    ("Pickup request: 1 pallet.", None, None, 1),
    ("Delivery by 14.12.2026 and 15.12.2026, please quote.", None, None, None),  # two dates, no pickup word
    # a span and a count per container are not restated as one day and the total
    ("We'd like to book 2 x 40' HC containers, loading in week 50 (7–11 December). Cargo is approx. "
     "18 pallets of knitwear per container.", None, None, None),
    ("Abholung 7.-11.12.2026, 12 Paletten je LKW.", None, None, None),
    ("Henting 9. desember, 12 paller totalt.", None, (12, 9), 12),
])
def test_booking_ask_reads_the_pickup_date_and_pallets(text: str, pickup: date | None,
                                                       month_day: tuple[int, int] | None,
                                                       pallets: int | None) -> None:
    ask = booking_ask(text=text)
    assert (ask.pickup, ask.pickup_month_day, ask.pallets) == (pickup, month_day, pallets)


def test_pickup_year_is_the_next_such_day() -> None:
    ask = booking_ask(text="Abholung am 3. Januar")
    assert pickup_on(ask=ask, reference=date(2026, 12, 6)) == date(2027, 1, 3)
    assert pickup_on(ask=booking_ask(text="hente 3. desember"), reference=date(2026, 12, 6)) == date(2026, 12, 3)


async def test_a_general_question_gets_no_request_for_an_order_number() -> None:
    email = make_email(subject="Åbningstider", reply_text="Har I ændrede åbningstider i julen?", language="da")
    draft = await TemplateDrafter().draft(request=request(email=email, references=(), intents=(Intent.OTHER,)))
    kinds = [s.kind for s in draft.suggestions]
    assert "request_reference" not in kinds and "other" in kinds and draft.notes == ()


def test_the_authorized_set_is_the_senders_own_references_minus_the_withheld_ones() -> None:
    req = request(orders=(order(),), references=(ref("NK204117"), ref("NK204118"), ref("NK999999")),
                  not_found=("NK999999",), withheld=(Withheld(reference="NK204118", reason="another customer"),))
    assert set(req.authorized_references()) == {"NK204117", "NK999999"}
    assert req.grounding().authorized is not None and "NK204118" not in req.grounding().authorized
