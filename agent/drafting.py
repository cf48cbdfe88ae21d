"""Drafters: the template drafter (offline default and fallback).

Templates are jinja2 files in ``prompts/templates`` rendered in a sandboxed
environment with StrictUndefined; each is identified by name and content hash
and that version is recorded on every draft. The template sees only
authorized records, reference values that were not found, the *number* of
withheld references and which systems failed: never withheld content.

A promised date that has passed when the email is processed (``now`` of the
request, from the pipeline's clock) is never written as if it were ahead:
the templates say it was due and that we are following up. A booking request
gets its pickup date and pallets repeated as the customer wrote them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from typing import Any, Protocol

from jinja2 import PackageLoader, StrictUndefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.sandbox import SandboxedEnvironment

from agent.booking import booking_ask
from agent.errors import TemplateError
from agent.models import Draft, Email, Intent, LookupResult, Reference, SimilarThread, Suggestion
from agent.overdue import eta_passed, overdue_order
from agent.profile import StyleGuide
from agent.verifier import Grounding, defang, verify
from agent.vocabulary import STATUS_TEXT

TEMPLATE_LANGUAGES = ("en", "no", "sv", "da", "de")
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "no": "januar februar mars april mai juni juli august september oktober november desember",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
}
# intents a reply can only answer with a reference; a booking request or a general question needs none
_NEEDS_REFERENCE = frozenset({Intent.ETA_REQUEST, Intent.STATUS_REQUEST, Intent.DELIVERY_CHANGE,
                              Intent.CANCELLATION, Intent.DAMAGE_OR_CLAIM, Intent.DOCUMENTS_REQUEST,
                              Intent.COMPLAINT})


class Drafter(Protocol):
    """Turns a draft request into a draft. Async: an LLM drafter waits on the network."""

    name: str

    async def draft(self, *, request: DraftRequest) -> Draft: ...


@dataclass(frozen=True, slots=True)
class DraftRequest:
    """Everything a drafter may use. Similar threads are style only; facts come from ``lookup``."""

    draft_id: str
    email: Email
    references: tuple[Reference, ...]
    intents: tuple[Intent, ...]
    lookup: LookupResult
    style: StyleGuide
    similar: tuple[SimilarThread, ...] = ()
    now: datetime | None = None  # when the email is processed (the pipeline's clock); None: no date is "past"

    def authorized_references(self) -> tuple[str, ...]:
        """The references a draft may name: the sender's own that were not withheld, and those not found.

        Facts add their own (order numbers, shipments, containers of authorized records) in the grounding.
        """
        withheld = {w.reference for w in self.lookup.withheld}
        own = (v for r in self.references if r.value not in withheld for v in (r.value, r.raw))
        return tuple(dict.fromkeys((*own, *self.lookup.not_found)))

    def grounding(self) -> Grounding:
        """What a draft for this request may state: facts, the customer's email, the mailbox configuration."""
        return Grounding.build(
            facts=self.lookup.facts,
            # references that no system knows were extracted from the email, so the reply may repeat them
            email_texts=(self.email.subject, self.email.reply_text, *self.lookup.not_found),
            sender=self.email.from_address,
            config_texts=(self.style.signature, self.style.company),
            withheld=[w.reference for w in self.lookup.withheld],
            today=self.email.date.date() if self.email.date else None,
            authorized_references=self.authorized_references(),
        )


def template_version(*, name: str, parts: tuple[str, ...]) -> str:
    """``name@hash``: the hash covers the template and every partial it includes."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(files("prompts").joinpath("templates", part).read_text(encoding="utf-8").encode())
    return f"{name}@{digest.hexdigest()[:12]}"


def format_day_month(*, month: int, day: int, lang: str) -> str:
    """A day without a year, as the customer wrote it ("7 December", "7. desember", "7. Dezember")."""
    name = _MONTHS.get(lang, _MONTHS["en"]).split()[month - 1]
    return f"{day} {name}" if lang in ("en", "sv") else f"{day}. {name}"


def format_date(value: date | datetime | None, lang: str) -> str:
    """A date as the template of ``lang`` writes it."""
    if value is None:
        return ""
    if lang == "en":
        months = _MONTHS["en"].split()
        return f"{value.day} {months[value.month - 1]} {value.year}"
    if lang == "sv":
        return value.strftime("%Y-%m-%d")
    return value.strftime("%d.%m.%Y")


_MARK = re.compile(r"^@@([a-z_]+) ?")


def split_suggestions(rendered: str) -> tuple[str, tuple[Suggestion, ...]]:
    """Strip the ``@@kind`` paragraph markers of a rendered template into suggestions."""
    lines: list[str] = []
    blocks: list[tuple[str, list[str]]] = []
    for line in re.sub(r"\n{3,}", "\n\n", rendered).strip().split("\n"):
        m = _MARK.match(line)
        if m:
            line = line[m.end():]
            blocks.append((m.group(1), [line]))
        elif blocks and line.strip():
            blocks[-1][1].append(line)
        lines.append(line)
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    return body, tuple(Suggestion(text="\n".join(text).strip(), kind=kind) for kind, text in blocks)


def reply_subject(subject: str) -> str:
    return subject if re.match(r"^\s*(re|sv|aw|vs|antw)\s*:", subject, re.IGNORECASE) else f"Re: {subject}"


def greeting_name(*, display_name: str, address: str) -> str:
    """A first name to greet, only when the display name is clearly a person's.

    "Kari Nilsen" <kari.nilsen@...> gives "Kari"; "Hansen Møbler Innkjøp" <innkjop@...> gives ""
    (a shared address or a company name is greeted without a name).
    """
    words = display_name.replace(",", " ").split()
    local = address.partition("@")[0].lower()
    if not words or not re.match(r"^[a-zà-ÿ]+[._-][a-zà-ÿ]+", local):
        return ""
    first = words[0].strip("\"'")
    initial = re.split(r"[._-]", local)[0]
    if first.lower() == initial and len(first) > 2:
        return first
    if len(words) > 1 and words[-1].lower() == initial:  # "Nilsen, Kari" <kari.nilsen@...>
        return words[-1]
    return ""


class TemplateDrafter:
    """Renders a per-language reply template from authorized records."""

    name = "template"

    def __init__(self) -> None:
        # auto_reload off: the template versions recorded with each draft are read here once, so an edited
        # template takes effect (with its new version) when the process restarts, never half-way; and no
        # render stats the included files again
        env = SandboxedEnvironment(loader=PackageLoader("prompts", "templates"), undefined=StrictUndefined,
                                   autoescape=False, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self._compiled = {lang: env.get_template(f"reply.{lang}.j2") for lang in TEMPLATE_LANGUAGES}
        for lang in TEMPLATE_LANGUAGES:  # compiled now, not by the first draft that includes it
            env.get_template(f"shipment.{lang}.j2")
        self._versions = {
            lang: template_version(name=f"reply.{lang}", parts=(f"reply.{lang}.j2", f"shipment.{lang}.j2"))
            for lang in TEMPLATE_LANGUAGES
        }

    async def draft(self, *, request: DraftRequest) -> Draft:
        lang = request.email.language if request.email.language in self._compiled else \
            request.style.default_language
        try:
            body = self._compiled[lang].render(**_context(request, lang))
        except JinjaTemplateError as exc:
            raise TemplateError(f"template reply.{lang}.j2 failed: {exc}") from exc
        body, suggestions = split_suggestions(body)
        grounding = request.grounding()
        checked = verify(text=body, grounding=grounding)
        return Draft(
            draft_id=request.draft_id,
            subject=reply_subject(request.email.subject),
            body=checked.text,
            language=lang,
            drafter=self.name,
            template_version=self._versions[lang],
            fact_ids=tuple(f.id for f in request.lookup.facts),
            suggestions=suggestions,
            # a template draft must always pass; if it ever does not, the sentence goes and the note says so
            notes=tuple(defang(text=f"removed unsupported template sentence: {r.sentence!r} "
                                    f"({'; '.join(r.reasons)})", grounding=grounding) for r in checked.removed),
        )


def _context(request: DraftRequest, lang: str) -> dict[str, Any]:
    lk = request.lookup
    status = STATUS_TEXT[lang]

    def d(value: date | datetime | None) -> str:
        return format_date(value, lang)

    def st(code: str) -> str:
        return status.get(code, code.replace("_", " "))

    shipments_by_order: dict[str, list[dict[str, Any]]] = {}
    loose: list[dict[str, Any]] = []
    for s in lk.shipments:
        item = {
            "id": s.shipment_id, "status": st(s.status), "status_code": s.status,
            "carrier": s.carrier or "", "mode": s.mode or "", "container": s.container_no or "",
            "tracking": s.tracking_no or "", "eta": d(s.eta), "delivered": d(s.delivered_at),
            "pod": s.pod_signed_by or "", "destination": s.destination or "",
            "last_place": (s.last_event.location or "") if s.last_event else "",
            "last_time": d(s.last_event.time) if s.last_event else "",
            "eta_passed": eta_passed(shipment=s, now=request.now),
        }
        if s.order_no and any(o.order_no == s.order_no for o in lk.orders):
            shipments_by_order.setdefault(s.order_no, []).append(item)
        else:
            loose.append(item)
    warehouse = {f.order_no: f for f in lk.fulfillments}
    orders = []
    for o in lk.orders:
        f = warehouse.get(o.order_no)
        late = overdue_order(order=o, lookup=lk, now=request.now)
        orders.append({
            # the promised date has passed: written as "was", with a follow-up, never as ahead
            "due_passed": d(late.due) if late else "", "due_kind": late.kind if late else "",
            "nothing_shipped": bool(late and late.nothing_shipped),
            "follow_up": bool(late and not late.upcoming_eta),
            "order_no": o.order_no, "status": st(o.status), "status_code": o.status,
            "po": o.customer_po or "", "requested": d(o.requested_date), "confirmed": d(o.confirmed_date),
            "shipments": shipments_by_order.get(o.order_no, []),
            "warehouse": st(f.status) if f else "", "warehouse_code": f.status if f else "",
            "shipped_at": d(f.shipped_at) if f else "",
        })
    intents = {i.value for i in request.intents}
    name = greeting_name(display_name=request.email.from_name, address=request.email.from_address)
    failed = sorted({f.kind for f in lk.failures})
    booking = {"pickup": "", "pallets": 0}
    if Intent.BOOKING_REQUEST in request.intents:
        ask = booking_ask(text=request.email.reply_text)
        if ask.pickup:
            booking["pickup"] = d(ask.pickup)
        elif ask.pickup_month_day:
            booking["pickup"] = format_day_month(month=ask.pickup_month_day[0], day=ask.pickup_month_day[1],
                                                 lang=lang)
        booking["pallets"] = ask.pallets or 0
    return {
        "name": name,
        "orders": orders,
        "shipments": loose,
        "not_found": list(lk.not_found),
        "withheld": len(lk.withheld),
        "failed": failed,
        "no_references": not request.references and bool(_NEEDS_REFERENCE & set(request.intents)),
        "booking": booking,
        "intents": intents,
        "signature": request.style.signature,
        "company": request.style.company,
        # the mailbox's own greeting and sign-off for this language; empty: the template's wording
        "greeting": request.style.greetings.get(lang, ""),
        "sign_off": request.style.sign_offs.get(lang, ""),
    }
