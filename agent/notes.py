"""The internal note: facts with sources, warnings, what is missing, next steps.

The note is for the agent only. It is posted as its own message with no
recipients, so it cannot be sent to the customer by accident. A promised date
or an ETA that has passed when the email is processed (``now``, from the
pipeline's clock) is a warning with a suggested next step.
"""

from __future__ import annotations

from datetime import datetime

from agent.booking import booking_ask, pickup_on
from agent.drafting import reply_subject
from agent.models import Draft, Email, Intent, LookupResult, Note, Reference, SimilarThread, Validity
from agent.overdue import eta_passed, overdue_order

NOTE_SUBJECT_PREFIX = "[shipdraft note]"


def build_note(
    *,
    email: Email,
    references: tuple[Reference, ...],
    intents: tuple[Intent, ...],
    lookup: LookupResult,
    similar: tuple[SimilarThread, ...],
    draft: Draft,
    now: datetime | None = None,
) -> Note:
    """Render the internal note for one draft (plain text, aligned for a mail client).

    ``now`` is when the email is processed; without it no date is treated as passed.
    """
    warnings = _warnings(references=references, lookup=lookup)
    warnings += _passed_dates(email=email, intents=intents, lookup=lookup, now=now)
    if draft.confidence is not None and draft.confidence < 0.5:
        warnings.append(f"low confidence in this draft ({draft.confidence:.2f}): check it closely")
    lines = [
        "INTERNAL NOTE from shipdraft - not for the customer.",
        f"Draft {draft.draft_id} by the {draft.drafter} drafter ({draft.template_version}"
        + (f", model {draft.model}, {draft.prompt_tokens} prompt + {draft.completion_tokens} completion tokens, "
           f"{draft.latency_ms} ms" if draft.model else "")
        + f"), language {draft.language}.",
        f"Intents: {', '.join(i.value for i in intents)}",
        f"Sender customer(s): {', '.join(lookup.customer_ids) or 'none (unknown sender)'}",
        "",
        "References:",
        *([f"  {r.kind.value:<17} {r.value:<16} {r.validity.value:<9} from {r.source.value}"
           + (f" (did you mean {r.suggestion}?)" if r.suggestion else "") for r in references]
          or ["  none found"]),
        "",
        "Facts used (id, subject, fact, value, source, record, fetched):",
        *([f"  {f.id:<4} {f.subject:<12} {f.name:<24} {f.value:<28} {f.source.system} "
           f"{f.source.record_id} {f.source.fetched_at:%Y-%m-%d %H:%M}" for f in lookup.facts]
          or ["  none"]),
    ]
    if warnings:
        lines += ["", "Warnings:", *(f"  ! {w}" for w in warnings)]
    if draft.notes:
        lines += ["", "About this draft:", *(f"  - {n}" for n in draft.notes)]
    missing = _missing(references=references, lookup=lookup)
    if missing:
        lines += ["", "Missing:", *(f"  - {m}" for m in missing)]
    actions = _next_actions(intents=intents, lookup=lookup, references=references)
    actions += _passed_date_actions(lookup=lookup, now=now)
    if actions:
        lines += ["", "Suggested next steps:", *(f"  - {a}" for a in actions)]
    if similar:
        lines += ["", "Similar past threads (style examples only, not facts):",
                  *(f"  - {t.subject} (score {t.score:.2f})" for t in similar)]
    return Note(
        draft_id=draft.draft_id,
        subject=f"{NOTE_SUBJECT_PREFIX} {reply_subject(email.subject)}",
        body="\n".join(lines) + "\n",
        warnings=tuple(warnings),
    )


def _warnings(*, references: tuple[Reference, ...], lookup: LookupResult) -> list[str]:
    out: list[str] = []
    for r in references:
        if r.validity == Validity.INVALID:
            out.append(f"check digit failed for {r.kind.value} {r.raw!r}: probable typo, not looked up"
                       + (f"; nearest valid: {r.suggestion}" if r.suggestion else ""))
    for w in lookup.withheld:
        out.append(f"withheld: {w.reason}")
    for f in lookup.failures:
        ref = f" for {f.reference}" if f.reference else ""
        out.append(f"{f.system} ({f.kind}) unavailable{ref}: {f.error}; status not checked")
    confirmed = {o.order_no: o.confirmed_date for o in lookup.orders if o.confirmed_date}
    for s in lookup.shipments:
        promised = confirmed.get(s.order_no or "")
        if s.eta and promised and s.eta.date() > promised:
            out.append(f"ETA {s.eta.date().isoformat()} of {s.shipment_id} is later than the confirmed "
                       f"delivery date {promised.isoformat()} of {s.order_no}")
        if s.status == "exception":
            out.append(f"{s.shipment_id} has a delivery exception"
                       + (f": {s.last_event.description}" if s.last_event and s.last_event.description else ""))
        elif s.status in ("customs_hold", "delayed"):
            out.append(f"{s.shipment_id} is {s.status.replace('_', ' ')}")
    for o in lookup.orders:
        if o.status in ("on_hold", "cancelled"):
            out.append(f"order {o.order_no} is {o.status.replace('_', ' ')}")
    return out


def _missing(*, references: tuple[Reference, ...], lookup: LookupResult) -> list[str]:
    out = [f"{ref} not found in any system" for ref in lookup.not_found]
    if not references:
        out.append("no order, PO, container or shipment reference in the email; the draft asks for one")
    tms_failed = {f.reference for f in lookup.failures if f.kind == "tms"}
    for o in lookup.orders:
        if not any(s.order_no == o.order_no for s in lookup.shipments) and o.status in ("shipped",
                                                                                         "partially_shipped"):
            if o.order_no in tms_failed or None in tms_failed:  # the TMS did not answer: not a finding
                out.append(f"order {o.order_no} is shipped; its shipment could not be checked (TMS unavailable)")
            else:
                out.append(f"order {o.order_no} is shipped but no shipment was found in the TMS")
    return out


def _next_actions(*, intents: tuple[Intent, ...], lookup: LookupResult,
                  references: tuple[Reference, ...]) -> list[str]:
    out = []
    if Intent.DAMAGE_OR_CLAIM in intents:
        out.append("open a damage claim with the carrier once photos and the delivery note arrive")
    if Intent.DELIVERY_CHANGE in intents:
        out.append("ask the carrier whether the delivery change is possible before confirming it")
    if Intent.DOCUMENTS_REQUEST in intents:
        out.append("attach the requested documents (POD, invoice copy, CMR, packing list) before sending")
    if Intent.CANCELLATION in intents:
        out.append("check whether the order can still be stopped before confirming the cancellation")
    if lookup.failures:
        out.append("re-check the unavailable systems before sending")
    if lookup.withheld:
        out.append("verify the sender's identity before sharing anything about the withheld references")
    return out


def _passed_dates(*, email: Email, intents: tuple[Intent, ...], lookup: LookupResult,
                  now: datetime | None) -> list[str]:
    """Promised dates, ETAs and asked-for pickup dates that are already behind ``now``."""
    if now is None:
        return []
    out = []
    for o in lookup.orders:
        late = overdue_order(order=o, lookup=lookup, now=now)
        if late is None:
            continue
        if late.nothing_shipped:
            out.append(f"order {o.order_no}: {late.kind} delivery date {late.due.isoformat()} has passed and "
                       "nothing has shipped: check with the warehouse/carrier")
        elif not late.upcoming_eta and not any(s.order_no == o.order_no and s.status == "delivered"
                                               for s in lookup.shipments):
            out.append(f"order {o.order_no}: {late.kind} delivery date {late.due.isoformat()} has passed and "
                       "no delivery is reported: check with the carrier")
    for s in lookup.shipments:
        if eta_passed(shipment=s, now=now) and s.eta is not None:
            out.append(f"ETA {s.eta.date().isoformat()} of {s.shipment_id} has passed and the carrier reports no "
                       f"delivery (status {s.status.replace('_', ' ')}): check with "
                       f"{s.carrier or 'the carrier'}")
    if Intent.BOOKING_REQUEST in intents:
        pickup = pickup_on(ask=booking_ask(text=email.reply_text), reference=(email.date or now).date())
        if pickup and pickup < now.date():
            out.append(f"the pickup date asked for ({pickup.isoformat()}) has passed: agree a new date "
                       "with the customer")
    return out


def _passed_date_actions(*, lookup: LookupResult, now: datetime | None) -> list[str]:
    if now is None:
        return []
    out = []
    for o in lookup.orders:
        late = overdue_order(order=o, lookup=lookup, now=now)
        if late and late.nothing_shipped:
            out.append(f"ask the warehouse when {o.order_no} will ship, then give the customer a new delivery "
                       "date before sending")
    for s in lookup.shipments:
        if eta_passed(shipment=s, now=now):
            out.append(f"ask {s.carrier or 'the carrier'} where {s.shipment_id} is and for a new ETA, "
                       "then update the draft")
    return out
