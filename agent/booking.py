"""What a booking request asks for, as the customer wrote it: pickup date and pallets.

The template drafter repeats it ("your booking request for 4 pallets with
pickup on 7 December"), so the customer sees we read the request; every
value comes from the customer's new text, so the grounding verifier accepts
it. A date written without a year is repeated without one.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict

from agent.verifier import normalized_dates

# words near the date the goods are to be collected, in the template languages and a few more
_PICKUP = re.compile(
    r"collect|pick ?-?up|ready for|loading|hent|henting|lasting|hämt|upphämt|lastning|afhent|abhol|holen|verlad|"
    r"ophaal|enlèvement|recogida|ritiro|recolha|odbi[oó]r|nouto|nouda",
    re.IGNORECASE)
_PALLETS = re.compile(r"(?<![\w.,])(\d{1,3})\s*(?:x\s*)?(?:eur-?|euro-?|eu-?)?"
                      r"(?:pallets?|paller|pallar|palle|pall|paletten|palette|paletas|palettes?|palety|palet)\b",
                      re.IGNORECASE)
_NEAR = 60  # characters between a pickup word and its date
# "18 pallets per container" / "je Container" / "each": a count per unit, not the total of the booking
_PER_UNIT = re.compile(r"\s*(?:\w+\s+){0,3}?(?:per|each|pro|je|pr\.?|hver|varje|chaque|por|ogni|na)\b", re.IGNORECASE)
# "7–11 December", "7.-11.12.": the date found is the end of a span, not one pickup day
_SPAN_BEFORE = re.compile(r"\d{1,2}\.?\s*(?:[-–—]|to|til|bis|till|à|a)\s*$", re.IGNORECASE)


class BookingAsk(BaseModel):
    """The pickup date and pallet count a booking request names (either may be missing)."""

    model_config = ConfigDict(frozen=True)

    pickup: date | None = None  # written with a year
    pickup_month_day: tuple[int, int] | None = None  # (month, day), written without a year
    pallets: int | None = None


def booking_ask(*, text: str) -> BookingAsk:
    """The pickup date (the date nearest a pickup word, else the only date) and pallets of ``text``.

    Only what can be repeated exactly: a date that ends a span ("7–11 December") and a pallet count per
    container ("18 pallets per container") are left out rather than restated wrongly.
    """
    dates = [(s, e, c) for s, e, c in normalized_dates(text) if not _SPAN_BEFORE.search(text[max(0, s - 12):s])]
    chosen: str | None = None
    if dates:
        words = [m.start() for m in _PICKUP.finditer(text)]
        near = [(min(abs(w - s) for w in words), s, c) for s, e, c in dates if words
                and min(abs(w - s) for w in words) <= _NEAR]
        if near:
            chosen = min(near)[2]
        elif len({c for _, _, c in dates}) == 1:
            chosen = dates[0][2]
    pallets = _PALLETS.search(text)
    if pallets and (int(pallets.group(1)) == 0 or _PER_UNIT.match(text, pallets.end())):
        pallets = None  # a count per container or per day is not the size of the booking
    ask = BookingAsk(pallets=int(pallets.group(1)) if pallets else None)
    if chosen is None:
        return ask
    if chosen.startswith("--"):
        return ask.model_copy(update={"pickup_month_day": (int(chosen[2:4]), int(chosen[5:7]))})
    return ask.model_copy(update={"pickup": date.fromisoformat(chosen)})


def pickup_on(*, ask: BookingAsk, reference: date) -> date | None:
    """The pickup date with its year: written, or the first such day from two months before ``reference``."""
    if ask.pickup:
        return ask.pickup
    if not ask.pickup_month_day:
        return None
    month, day = ask.pickup_month_day
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if (candidate - reference).days >= -60:
            return candidate
    return None
