"""Grounding verifier: every checkable claim in a draft must be supported.

Claims are dates (any common format and locale; a weekday counts when a
supported date falls on it; "today", "tomorrow", "i morgen", "gestern" count
when a fact date is that day counted from the day the email was sent), times, numbers, reference ids, status phrases,
URLs, email addresses and phone numbers. A claim is supported by a fact, by
the inbound email, or by the mailbox configuration (signature, company).
A withheld reference (another customer's) is never supported, even though
the customer wrote it, in whatever form it is written ("nk 204 118",
"NK-204118", "204118"). When the caller gives the authorized set (the
references the lookup let through, the ones no system knows, and those of
facts), a reference-like claim with four digits or more must be in it or in
a fact: the inbound email alone never supports one, so the model cannot echo
a reference the sender quoted or an attacker planted. Sentences with
unsupported claims are removed; the
result says what was removed and why, so the caller can record it in the
note or fall back to the template drafter. A PII placeholder (``[PHONE_1]``)
left in a draft was invented by the model (the real ones are restored before
the check): it is never supported either. ``defang`` makes links and
addresses that no fact supports unclickable before removed text is shown in
the internal note.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

from agent.models import Fact
from agent.vocabulary import MONTHS, STATUS_CLAIMS, WEEKDAYS
from agent.word_trie import word_alternation


class ClaimKind(StrEnum):
    DATE = "date"
    WEEKDAY = "weekday"
    RELATIVE_DATE = "relative_date"
    TIME = "time"
    NUMBER = "number"
    REFERENCE = "reference"
    STATUS = "status"
    URL = "url"
    EMAIL = "email"
    PHONE = "phone"
    PLACEHOLDER = "placeholder"


class Claim(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ClaimKind
    text: str
    start: int
    end: int
    supported: bool
    reason: str = ""


class Removal(BaseModel):
    model_config = ConfigDict(frozen=True)

    sentence: str
    reasons: tuple[str, ...]


class Verification(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    removed: tuple[Removal, ...] = ()
    claims: int = 0
    unsupported: int = 0
    kept_sentences: int = 0
    kept_content: int = 0  # kept sentences of four words or more (not a greeting or a sign-off)

    @property
    def unchanged(self) -> bool:
        return not self.removed


# --------------------------------------------------------------------------- patterns

_MONTH_NAMES = word_alternation(m.lower() for m in MONTHS)
_WEEKDAY_NAMES = word_alternation(d.lower() for d in WEEKDAYS)
_URL = re.compile(r"\bhttps?://[^\s<>\"')\]]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()-]{6,}\d(?!\w)")
_ISO_DATE = re.compile(
    r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_NUM_DATE = re.compile(r"\b(\d{1,2})([./])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?!\d)")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\.?\s+(?:of\s+)?({_MONTH_NAMES})\.?(?:\s+(\d{{4}}))?\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE)
_WEEKDAY = re.compile(rf"\b({_WEEKDAY_NAMES})\b", re.IGNORECASE)
# relative days (offset from the day the email was sent); German "morgen" only lower case ("Guten Morgen")
# and not in the Nordic "god morgen"
_RELATIVE = (  # the longer phrases first: "the day after tomorrow" is not "tomorrow"
    (re.compile(r"\b(today|tonight|this (?:morning|afternoon|evening)|i ?dag|i kveld|i kväll|i aften|heute)\b",
                re.IGNORECASE), 0),
    (re.compile(r"\b(übermorgen|i overmorgen|i övermorgon|the day after tomorrow)\b", re.IGNORECASE), 2),
    (re.compile(r"\b(tomorrow|i ?morgen|i ?morgon)\b", re.IGNORECASE), 1),
    (re.compile(r"(?<!\w)(?<![Gg]od )(?<!GOD )(morgen)\b"), 1),  # not "God morgen" (no, da: good morning)
    (re.compile(r"\b(yesterday|i ?går|gestern)\b", re.IGNORECASE), -1),
)
_PII_PLACEHOLDER = re.compile(r"\[(?:EMAIL|PHONE|IBAN|CARD)_\d+\]")  # agent.redaction's placeholders
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:.]([0-5]\d)(?:\s*(?:h|uhr|hrs))?\b", re.IGNORECASE)
_CONTAINER = re.compile(r"\b[A-Z]{3}[UJZ][ -]?\d{6}[ -]?\d\b")
_REFERENCE = re.compile(r"\b[A-Z][A-Z0-9]*(?:-?\d+)+[A-Z0-9]*\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
# a sentence ends at . ! ? before a capital, but not after "14." (German/Nordic day numbers: "am 14. März")
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\b\d\.)(?<!\b\d\d\.)\s+(?=[A-ZÆØÅÄÖÜ\"'(])")
_STATUS_PHRASES = sorted(((p, code) for code, ps in STATUS_CLAIMS.items() for p in ps), key=lambda x: -len(x[0]))
_STATUS = re.compile(r"\b(" + word_alternation(p.lower() for p, _ in _STATUS_PHRASES) + r")\b", re.IGNORECASE)
_STATUS_CODE = {p.lower(): code for p, code in _STATUS_PHRASES}


def _norm_ref(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def _norm_number(value: str) -> str:
    digits = value.replace(",", ".")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", digits):  # 18.000 / 18,000 thousands separators
        digits = digits.replace(".", "")
    try:
        number = float(digits)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else str(number)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(raw: str | None) -> int | None:
    if not raw:
        return None
    y = int(raw)
    return y + 2000 if y < 100 else y


# --------------------------------------------------------------------------- support


@dataclass
class Grounding:
    """Everything a draft may state, built from facts, the inbound email and the mailbox configuration."""

    dates: set[date] = field(default_factory=set)
    month_days: set[tuple[int, int]] = field(default_factory=set)
    times: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)
    statuses: set[str] = field(default_factory=set)
    texts: list[str] = field(default_factory=list)
    forbidden: set[str] = field(default_factory=set)
    today: date | None = None  # the day the email was sent: what "tomorrow" is counted from
    # references a draft may name (normalized); None: any reference of the email or a fact (no authorized set)
    authorized: set[str] | None = None
    trusted_references: set[str] = field(default_factory=set)  # from facts and the mailbox configuration
    trusted_numbers: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, *, facts: Iterable[Fact], email_texts: Iterable[str], config_texts: Iterable[str],
              withheld: Iterable[str] = (), sender: str = "", today: date | None = None,
              authorized_references: Iterable[str] | None = None) -> Grounding:
        """What a draft may state.

        The customer's email may support dates and numbers (they are the customer's own), but never a
        status, a URL, a phone number or an email address other than the sender's: those must come from
        a fact or the mailbox configuration, so a planted link or a fake "system: the shipment was
        delivered" line in an email can never reach a draft. With ``authorized_references`` (the
        sender's references that the lookup did not withhold), a reference must be one of them or come
        from a fact or the configuration; without it, the email's references count as well (the
        customer's own), except the withheld ones.
        """
        forbidden = {_norm_ref(w) for w in withheld}
        authorized = None
        if authorized_references is not None:
            authorized = set()
            for ref in authorized_references:
                norm = _norm_ref(ref)
                if norm and norm not in forbidden:
                    authorized.add(norm)
                    tail = re.search(r"\d{4,}$", norm)  # "NK204117" may be written "ordre 204117"
                    if tail and not any(f.endswith(tail.group(0)) for f in forbidden):
                        authorized.add(tail.group(0))
        g = cls(forbidden=forbidden, today=today, authorized=authorized)
        for fact in facts:
            g._absorb(fact.value)
            g._absorb(fact.subject)
            if fact.source.link:
                g.texts.append(fact.source.link.lower())
            if fact.name.endswith("status"):
                g.statuses.add(fact.value.strip().lower())
        for text in config_texts:
            g._absorb(text)
        for text in email_texts:
            g._absorb(text, trusted=False)
        if sender:
            g.texts.append(sender.lower())
        return g

    def _absorb(self, text: str, *, trusted: bool = True) -> None:
        if trusted:  # only trusted text may support URLs, email addresses and phone numbers
            self.texts.append(text.lower())
        found = _support_of(text)
        self.dates |= found.dates
        self.month_days |= found.month_days
        self.times |= found.times
        self.references |= found.references
        self.numbers |= found.numbers
        if trusted:
            self.trusted_references |= found.references
            self.trusted_numbers |= found.numbers

    def withheld_in(self, text: str) -> list[str]:
        """The withheld references ``text`` names in any written form (spaces, dashes, dots, lower case).

        A reference of six characters or more is found inside the text with every separator removed
        ("nk 204-118", "N K 2 0 4 1 1 8"); its number of five digits or more also when it stands alone
        ("ordre 204 118").
        """
        if not self.forbidden:
            return []
        compact = re.sub(r"[^0-9A-Z]", "", text.upper())
        joined = re.sub(r"(?<=\d)[\s.\-/]+(?=\d)", "", text)
        runs = set(re.findall(r"\d+", joined))
        found = []
        for ref in sorted(self.forbidden):
            tail = re.search(r"\d{5,}$", ref)
            if (len(ref) >= 6 and ref in compact) or (tail and tail.group(0) in runs):
                found.append(ref)
        return found

    def supports(self, kind: ClaimKind, raw: str, value: object) -> tuple[bool, str]:
        if kind == ClaimKind.REFERENCE or (kind == ClaimKind.NUMBER and len(re.sub(r"\D", "", raw)) >= 6):
            ref = _norm_ref(raw)
            if ref in self.forbidden or (
                len(ref) >= 5 and any(ref.endswith(f) or f.endswith(ref) for f in self.forbidden)
            ):
                return False, f"{raw} is withheld (another customer's reference)"
            if self.authorized is None or len(re.sub(r"\D", "", raw)) < 4:  # "E6", "A4": not identifiers
                if ref in self.references or _norm_number(raw) in self.numbers:
                    return True, ""
                return False, f"reference {raw} is in no fact and not in the email"
            if ref in self.authorized or ref in self.trusted_references or (
                    ref.isdigit() and _norm_number(raw) in self.trusted_numbers):
                return True, ""
            return False, f"reference {raw} is not one of the sender's authorized references"
        if kind == ClaimKind.DATE:
            if isinstance(value, date):
                return (value in self.dates, f"date {raw} matches no fact")
            if isinstance(value, tuple):  # (month, day) without a year, or ambiguous d/m
                return (value in self.month_days, f"date {raw} matches no fact")
            if isinstance(value, list):  # ambiguous 03/04/2026: either reading may be right
                ok = any(v in self.dates for v in value)
                return ok, f"date {raw} matches no fact"
        if kind == ClaimKind.WEEKDAY:
            ok = any(d.weekday() == value for d in self.dates)
            return ok, f"{raw}: no fact date falls on that weekday"
        if kind == ClaimKind.RELATIVE_DATE:
            if self.today is None or not isinstance(value, int):
                return False, f"'{raw}': no date to count from, so no fact can support it"
            day = date.fromordinal(self.today.toordinal() + value)
            return day in self.dates, f"'{raw}' ({day.isoformat()}) matches no fact date"
        if kind == ClaimKind.PLACEHOLDER:
            return False, f"{raw} is a PII placeholder that stands for nothing in this email"
        if kind == ClaimKind.TIME:
            return (value in self.times, f"time {raw} matches no fact")
        if kind == ClaimKind.NUMBER:
            return (value in self.numbers, f"number {raw} is in no fact and not in the email")
        if kind == ClaimKind.STATUS:
            return (value in self.statuses, f"status '{raw}' is not what the systems say")
        if kind in (ClaimKind.URL, ClaimKind.EMAIL):
            needle = raw.lower().rstrip(".,;")
            return (any(needle in t for t in self.texts), f"{kind.value} {raw} is not from a fact or the config")
        if kind == ClaimKind.PHONE:
            digits = re.sub(r"\D", "", raw)
            ok = any(digits in re.sub(r"\D", "", t) for t in self.texts)
            return ok, f"phone {raw} is not from the email or the config"
        return True, ""


# --------------------------------------------------------------------------- scanning


class _Support(NamedTuple):
    """What one text can support: the dates, times, references and numbers it states."""

    dates: frozenset[date]
    month_days: frozenset[tuple[int, int]]
    times: frozenset[str]
    references: frozenset[str]
    numbers: frozenset[str]


_CACHED_TEXT_CHARS = 512
_TOKEN = re.compile(r"[A-Za-z0-9-]{4,}")
_DIGIT_TAIL = re.compile(r"\d{4,}$")


def _support_of(text: str) -> _Support:
    """Short texts (fact values and subjects, which repeat across emails) are scanned once per process."""
    return _support_cached(text) if len(text) <= _CACHED_TEXT_CHARS else _support(text)


def _support(text: str) -> _Support:
    dates: set[date] = set()
    month_days: set[tuple[int, int]] = set()
    times: set[str] = set()
    references: set[str] = set()
    numbers: set[str] = set()
    for claim_kind, raw, _, _, value in _scan(text):
        if claim_kind == ClaimKind.DATE and isinstance(value, date):
            dates.add(value)
            month_days.add((value.month, value.day))
        elif claim_kind == ClaimKind.DATE and isinstance(value, tuple):
            month_days.add(value)
        elif claim_kind == ClaimKind.TIME:
            times.add(str(value))
        elif claim_kind == ClaimKind.REFERENCE:
            references.add(_norm_ref(raw))
        elif claim_kind == ClaimKind.NUMBER:
            numbers.add(str(value))
    for m in _ISO_DATE.finditer(text):  # datetimes in fact values carry times too
        if len(m.group(0)) > 10:
            try:
                moment = datetime.fromisoformat(m.group(0))
            except ValueError:
                continue
            times.add(f"{moment.hour:02d}:{moment.minute:02d}")
    for token in _TOKEN.findall(text):
        if any(c.isdigit() for c in token):
            references.add(_norm_ref(token))
            tail = _DIGIT_TAIL.search(token)  # "NK204117" may be written "ordre 204117"
            if tail:
                references.add(tail.group(0))
    for token in _NUMBER.findall(text):
        numbers.add(_norm_number(token))
    return _Support(frozenset(dates), frozenset(month_days), frozenset(times), frozenset(references),
                    frozenset(numbers))


_support_cached = functools.lru_cache(maxsize=8192)(_support)


def _scan(text: str) -> Iterator[tuple[ClaimKind, str, int, int, object]]:
    """Every claim in ``text`` as (kind, raw, start, end, normalized value); spans never overlap."""
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return not any(s < te and ts < e for ts, te in taken)

    def take(kind: ClaimKind, m: re.Match[str], value: object, group: int = 0) -> Iterator[
            tuple[ClaimKind, str, int, int, object]]:
        s, e = m.span(group)
        if free(s, e):
            taken.append((s, e))
            yield kind, m.group(group), s, e, value

    for m in _PII_PLACEHOLDER.finditer(text):
        yield from take(ClaimKind.PLACEHOLDER, m, m.group(0))
    for m in _URL.finditer(text):
        yield from take(ClaimKind.URL, m, m.group(0))
    for m in _EMAIL.finditer(text):
        yield from take(ClaimKind.EMAIL, m, m.group(0).lower())
    for m in _ISO_DATE.finditer(text):
        d = _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            yield from take(ClaimKind.DATE, m, d)
    for m in _DAY_MONTH.finditer(text):
        month = MONTHS[m.group(2).lower()]
        year = _year(m.group(3))
        value: object = _safe_date(year, month, int(m.group(1))) if year else (month, int(m.group(1)))
        if value:
            yield from take(ClaimKind.DATE, m, value)
    for m in _MONTH_DAY.finditer(text):
        month = MONTHS[m.group(1).lower()]
        year = _year(m.group(3))
        value = _safe_date(year, month, int(m.group(2))) if year else (month, int(m.group(2)))
        if value:
            yield from take(ClaimKind.DATE, m, value)
    for m in _NUM_DATE.finditer(text):
        a, sep, b, year = int(m.group(1)), m.group(2), int(m.group(3)), _year(m.group(4))
        if not year and sep == ".":
            if 1 <= b <= 12 and 1 <= a <= 31:
                yield from take(ClaimKind.DATE, m, (b, a))
            continue
        if not year:
            continue  # "3/4" without a year is too ambiguous to be a date claim; checked as numbers
        if sep == ".":  # d.m.y everywhere we serve
            d = _safe_date(year, b, a)
            if d:
                yield from take(ClaimKind.DATE, m, d)
        else:  # d/m/y (Europe) or m/d/y (US): either reading may be meant
            readings = [x for x in (_safe_date(year, b, a), _safe_date(year, a, b)) if x]
            if readings:
                yield from take(ClaimKind.DATE, m, readings)
    for rx, offset in _RELATIVE:
        for m in rx.finditer(text):
            yield from take(ClaimKind.RELATIVE_DATE, m, offset, 1)
    for m in _TIME.finditer(text):
        yield from take(ClaimKind.TIME, m, f"{int(m.group(1)):02d}:{m.group(2)}")
    for rx in (_CONTAINER, _REFERENCE):
        for m in rx.finditer(text):
            yield from take(ClaimKind.REFERENCE, m, _norm_ref(m.group(0)))
    for m in _PHONE.finditer(text):
        if len(re.sub(r"\D", "", m.group(0))) >= 8 and (" " in m.group(0).strip() or m.group(0).startswith("+")):
            yield from take(ClaimKind.PHONE, m, m.group(0))
    for m in _WEEKDAY.finditer(text):
        yield from take(ClaimKind.WEEKDAY, m, WEEKDAYS[m.group(1).lower()])
    for m in _STATUS.finditer(text):
        yield from take(ClaimKind.STATUS, m, _STATUS_CODE[m.group(1).lower()])
    for m in _NUMBER.finditer(text):
        yield from take(ClaimKind.NUMBER, m, _norm_number(m.group(0)))


def normalized_dates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical) for every date in ``text``: ISO for full dates, ``--MM-DD`` without a year."""
    out = []
    for kind, _, start, end, value in _scan(text):
        if kind != ClaimKind.DATE:
            continue
        if isinstance(value, list):  # ambiguous d/m vs m/d: the European reading comes first
            value = value[0]
        canonical = f"--{value[0]:02d}-{value[1]:02d}" if isinstance(value, tuple) else value.isoformat()
        out.append((start, end, canonical))
    return sorted(out)


def _scanned(text: str) -> tuple[tuple[ClaimKind, str, int, int, object], ...]:
    return tuple(_scan(text))


# Template and signature sentences recur in every draft ("Thank you for your email.", the sign-off): a short
# sentence is scanned once per process. The values are never mutated by the callers.
_scanned_cached = functools.lru_cache(maxsize=8192)(_scanned)


def claims(*, text: str, grounding: Grounding) -> list[Claim]:
    """Every claim in ``text`` with whether it is supported."""
    out = []
    found = _scanned_cached(text) if len(text) <= _CACHED_TEXT_CHARS else _scan(text)
    for kind, raw, start, end, value in found:
        ok, reason = grounding.supports(kind, raw, value)
        out.append(Claim(kind=kind, text=raw, start=start, end=end, supported=ok, reason="" if ok else reason))
    return sorted(out, key=lambda c: c.start)


def sentences(text: str) -> list[str]:
    """Sentences of a draft; a line is never joined to the next one."""
    out: list[str] = []
    for line in text.split("\n"):
        out.extend(_SENTENCE_END.split(line) if line.strip() else [line])
    return out


def verify(*, text: str, grounding: Grounding) -> Verification:
    """Remove every sentence with an unsupported claim; report what was removed and why."""
    kept_lines: list[str] = []
    removed: list[Removal] = []
    total = unsupported = kept = content = 0
    for line in text.split("\n"):
        parts = _SENTENCE_END.split(line) if line.strip() else [line]
        keep_parts = []
        for sentence in parts:
            found = claims(text=sentence, grounding=grounding)
            reasons = [c.reason for c in found if not c.supported]
            total += len(found)
            unsupported += len(reasons)
            if not any("is withheld" in r for r in reasons):  # written in a form no claim pattern reads
                named = grounding.withheld_in(sentence)
                reasons += [f"{ref} is withheld (another customer's reference)" for ref in named]
                unsupported += len(named)
            if reasons:
                removed.append(Removal(sentence=sentence.strip(), reasons=tuple(reasons)))
            else:
                keep_parts.append(sentence)
                kept += bool(sentence.strip())
                content += len(sentence.split()) >= 4
        if keep_parts or not line.strip():
            kept_lines.append(" ".join(p.strip() for p in keep_parts) if len(parts) > 1 else line)
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(kept_lines)).strip() + "\n"
    if not removed:
        cleaned = text
    return Verification(text=cleaned, removed=tuple(removed), claims=total, unsupported=unsupported,
                        kept_sentences=kept, kept_content=content)


def _defanged(value: str) -> str:
    """``https://evil.example/x`` -> ``hxxps://evil[.]example/x``: readable, no longer a link."""
    m = re.match(r"(?i)(https?)://([^/?#]+)", value)
    if m:
        scheme = "hxxps" if m.group(1).lower() == "https" else "hxxp"
        return f"{scheme}://{m.group(2).replace('.', '[.]')}{value[m.end():]}"
    local, _, domain = value.partition("@")
    if domain:
        return f"{local}[@]{domain.replace('.', '[.]')}"
    return value


def defang(*, text: str, grounding: Grounding) -> str:
    """``text`` with every URL and email address that no fact or configuration supports made unclickable.

    For text shown to the agent about what was removed (the internal note): a planted payment link
    must not become a link in our own note.
    """
    out, last = [], 0
    for kind, raw, start, end, value in sorted(_scan(text), key=lambda c: c[2]):
        if kind not in (ClaimKind.URL, ClaimKind.EMAIL) or grounding.supports(kind, raw, value)[0]:
            continue
        out += [text[last:start], _defanged(raw)]
        last = end
    return "".join(out) + text[last:]
