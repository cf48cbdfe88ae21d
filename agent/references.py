"""Identifier extraction and validation.

Finds, in the subject, the new text, forwarded messages, attachment names and
texts, and the quoted history:

- the mailbox's own order numbers (per-mailbox patterns, and label words in
  twelve languages: order, ordre, ordrenr, bestilling, Auftrag, Bestellung,
  commande, pedido, ordine, zamówienie, tilaus, ...), customer POs;
- container numbers (ISO 6346), bills of lading (label words or a carrier
  SCAC prefix), air waybills (label, or the NNN-NNNNNNNN form), parcel
  tracking numbers (UPS 1Z, FedEx, DHL Express and eCommerce, USPS, UPU S10
  as used by PostNord and Bring, GLS, DPD, Bring consignment numbers),
  SSCC-18, booking, invoice and delivery note numbers, IMO vessel numbers,
  UN/LOCODEs, shipment ids.

Every reference has its normalized value (upper case, no spaces or dashes),
the raw text, where it was found and its span there, and a validity: ``valid``
(check digit verified), ``unchecked`` (the kind has no check digit) or
``invalid`` (the check digit failed: a probable typo; the suggestion is the one
valid number of the same kind a typo away that the email itself holds, none
when two are equally near, else the one valid number of the same body).
Table header cells label the cells under them. Formats that are only digits and
could be anything (a FedEx or DHL waybill, a GLS parcel number) need a label
or a carrier name next to them; self-describing formats (1Z..., S10, ISO 6346)
do not. The same (kind, value) found twice is reported once, from the most
relevant place. Check digits: ``agent.identifiers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from agent import identifiers as ids
from agent.models import Email, Reference, ReferenceKind, ReferenceSource, Validity
from agent.profile import ReferenceRules

K = ReferenceKind
_SOURCE_RANK = {
    ReferenceSource.SUBJECT: 0,
    ReferenceSource.NEW_TEXT: 1,
    ReferenceSource.FORWARDED: 2,
    ReferenceSource.ATTACHMENT_NAME: 3,
    ReferenceSource.ATTACHMENT: 4,
    ReferenceSource.QUOTED: 5,
}

# ISO 3166-1 alpha-2 (S10 destination countries, UN/LOCODE country part).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COUNTRIES = _words(
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW "
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI "
    "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN "
    "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF "
    "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV "
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE "
    "YT ZA ZM ZW XK"
)
_S10_CARRIER = {"NO": "bring", "SE": "postnord", "DK": "postnord", "FI": "posti", "US": "usps",
                "DE": "deutsche_post", "GB": "royal_mail", "NL": "postnl"}
# Ocean carrier SCAC codes that prefix their bill of lading numbers.
_SCAC = ("MAEU|MEDU|MSCU|HLCU|CMDU|COSU|ONEY|EGLV|YMLU|YMJA|HDMU|ZIMU|OOLU|SUDU|APLU|ANNU|WHLC|PABV|SMLM|"
         "MATS|SEAU|ACLU|CHVW|KKLU|NYKS|MOLU|HJSC|SAFM|TSHG|IRSU|ESPU|CULU|GSLU|SITC|RCLU|TRKU|ECUW|UASC")

# Label words per kind, in English, Norwegian, Swedish, Danish, Finnish, German, Dutch, French,
# Spanish, Italian, Portuguese and Polish. Upper-case-only abbreviations are listed apart.
EXTRA_ORDER_LABELS = (
    "order", "order no", "order number", "order nr", "ordre", "ordrenr", "ordrenummer", "ordreno",
    "bestilling", "bestillingsnr", "bestillingsnummer", "auftrag", "auftragsnr", "auftragsnummer",
    "bestellung", "bestellnummer", "beställning", "beställningsnummer", "beställningsnr", "ordernummer",
    "ordernr", "order nummer", "tilaus", "tilausnumero", "tilausnro", "bestelling", "bestelnummer",
    "commande", "numéro de commande", "n° de commande", "no de commande", "pedido", "número de pedido",
    "nº de pedido", "ordine", "numero d'ordine", "numero ordine", "n. ordine", "encomenda",
    "número da encomenda", "zamówienie", "zamówienia", "nr zamówienia", "numer zamówienia", "sales order",
    "salgsordre", "kundeordre", "kundorder", "kundenauftrag",
)
EXTRA_PO_LABELS = (
    "po", "po no", "po number", "purchase order", "our po", "your po", "customer po", "innkjøpsordre",
    "vår ref", "unsere bestellnummer", "bestellnr", "inköpsorder", "indkøbsordre", "ostotilaus",
    "inkooporder", "bon de commande", "orden de compra", "ordine d'acquisto", "ordine di acquisto",
    "ordem de compra", "pedido de compra", "zamówienie zakupu", "purchase order no", "p.o", "p/o",
    "bestell-nr", "kundenbestellnummer", "ihre bestellnummer", "inköpsordernr", "innkjøpsordrenr",
    "indkøbsordrenr", "ostotilausnumero", "inkoopordernummer", "numéro de bon de commande",
    "número de orden de compra", "numero ordine d'acquisto", "número da ordem de compra",
    "numer zamówienia zakupu", "customer order", "customer order no", "your order ref",
)
_LABELS: dict[ReferenceKind, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (case-insensitive words, upper-case-only abbreviations)
    K.BOOKING_NUMBER: ((
        "booking", "booking no", "booking number", "booking ref", "booking reference", "bookingnummer",
        "bookingnr", "bookingreferanse", "bokningsnummer", "bokningsnr", "bokning", "buchungsnummer",
        "buchungsnr", "buchung", "varausnumero", "varaus", "boekingsnummer", "boeking", "réservation",
        "numéro de réservation", "número de reserva", "reserva", "prenotazione", "numero di prenotazione",
        "numer rezerwacji", "rezerwacja", "carrier booking", "booking confirmation no",
    ), ("BKG", "BKG NO")),
    K.INVOICE_NUMBER: ((
        "invoice", "invoice no", "invoice number", "faktura", "fakturanr", "fakturanummer", "fakturanumret",
        "rechnung", "rechnungsnr", "rechnungsnummer", "lasku", "laskun numero", "laskunumero", "factuur",
        "factuurnummer", "facture", "numéro de facture", "n° de facture", "factura", "número de factura",
        "fattura", "numero fattura", "numero della fattura", "fatura", "número da fatura", "numer faktury",
        "faktury", "faktura vat", "commercial invoice",
    ), ("INV",)),
    K.DELIVERY_NOTE: ((
        "delivery note", "delivery note no", "dispatch note", "følgeseddel", "følgesedel", "følgeseddelnr",
        "pakkseddel", "följesedel", "följesedelsnummer", "lieferschein", "lieferscheinnummer",
        "lieferscheinnr", "lähete", "lähetenumero", "pakbon", "afleverbon", "bon de livraison",
        "albarán", "albaran", "bolla di consegna", "documento di trasporto", "guia de remessa",
        "guia de transporte", "dowód dostawy", "wydanie zewnętrzne", "leveringsseddel",
    ), ("DN", "DDT", "WZ")),
    K.BILL_OF_LADING: ((
        "bill of lading", "b/l", "b/l no", "bl no", "bl number", "master b/l", "house b/l", "konossement",
        "konnossement", "konossementnr", "connaissement", "conocimiento de embarque", "polizza di carico",
        "conhecimento de embarque", "konosament", "konossementti", "cognossement", "ocean bill of lading",
        "sea waybill", "seawaybill", "sjøfraktbrev", "sjöfraktsedel",
    ), ("BL", "BOL", "MBL", "HBL", "MB/L", "HB/L", "OBL", "SWB")),
    K.AIR_WAYBILL: ((
        "air waybill", "airway bill", "air way bill", "airwaybill", "awb", "mawb", "hawb", "luftfrachtbrief",
        "flyfraktbrev", "flygfraktsedel", "luftfragtbrev", "lentorahtikirja", "luchtvrachtbrief",
        "lettre de transport aérien", "guía aérea", "guia aérea", "lettera di vettura aerea",
        "conhecimento aéreo", "lotniczy list przewozowy",
    ), ("LTA",)),
    K.SSCC: ((
        "sscc", "sscc no", "sscc number", "sscc-nr", "nve", "nve-nr", "pallet id", "pallet label",
        "kolli-id", "kolli id", "colli id", "serial shipping container code",
    ), ()),
    K.IMO_NUMBER: (("imo", "imo no", "imo number", "imo-nr", "imo nr"), ()),
}
_UNLOCODE_LABELS = (
    "port of loading", "port of discharge", "place of receipt", "place of delivery", "port of origin",
    "port of destination", "un/locode", "unlocode", "locode", "lastehavn", "lossehavn", "lastningshamn",
    "lossningshamn", "lastningshavn", "losningshavn", "ladehafen", "löschhafen", "verladehafen",
    "bestimmungshafen", "lastaussatama", "purkusatama", "laadhaven", "loshaven", "port de chargement",
    "port de déchargement", "puerto de carga", "puerto de descarga", "porto di carico", "porto di scarico",
    "porto de carga", "porto de descarga", "port załadunku", "port rozładunku", "origin port",
    "destination port", "transhipment", "transshipment", "via",
)
_UNLOCODE_ABBREVIATIONS = ("POL", "POD", "POR", "PLD", "FPD", "T/S")
_TRACKING_LABELS = (
    "tracking", "tracking no", "tracking number", "tracking id", "tracking code", "track & trace",
    "track and trace", "trackingnummer", "tracking-nummer", "sporingsnummer", "sporing", "sporingsnr",
    "kollinummer", "kollinr", "sendingsnummer", "sendingsnr", "spårningsnummer", "spårnings-id", "kolli-id",
    "kollinummer", "försändelse-id", "sendungsnummer", "sendungsverfolgung", "paketnummer", "paketschein",
    "seurantatunnus", "seurantanumero", "lähetystunnus", "volgnummer", "trackingcode", "numéro de suivi",
    "numéro de colis", "número de seguimiento", "número de envío", "numero di tracking",
    "numero di spedizione", "código de rastreio", "código de rastreamento", "numer przesyłki",
    "numer śledzenia", "waybill", "waybill no", "consignment", "consignment no", "consignment number",
    "parcel number", "parcel no", "pakkenummer", "forsendelsesnummer", "fraktbrevnummer", "fraktbrev",
)
_CARRIER_WORDS: dict[str, str] = {
    "fedex": "fedex", "fed ex": "fedex", "tnt": "fedex", "dhl": "dhl", "ups": "ups", "usps": "usps",
    "gls": "gls", "dpd": "dpd", "bring": "bring", "posten": "bring", "postnord": "postnord",
    "post nord": "postnord", "posti": "posti", "budbee": "budbee", "db schenker": "schenker",
    "schenker": "schenker", "dsv": "dsv", "instabox": "instabox",
}

# Self-describing formats.
_CONTAINER = re.compile(r"(?<![\w-])([A-Z]{3}[UJZ])[ \-]?(\d{6})[ \-]?(\d)(?![\w-])", re.IGNORECASE)
_SHIPMENT = re.compile(r"(?<![\w-])SHP-?\d{5,8}(?![\w-])", re.IGNORECASE)
_PO = re.compile(r"(?<![\w-])P\.?O[ \-.#:]{0,2}\d{4,12}(?:[-/]\d{1,8})?(?![\w-])", re.IGNORECASE)
_UPS = re.compile(r"(?<![\w-])1Z ?(?:[A-Z0-9] ?){15}[A-Z0-9](?![\w-])", re.IGNORECASE)
_S10 = re.compile(r"(?<![\w-])([A-Z]{2}) ?(\d{3}) ?(\d{3}) ?(\d{2})(\d) ?([A-Z]{2})(?![\w-])")
_DHL_ECOMMERCE = re.compile(r"(?<![\w-])(?:GM|LX|RX|UV)\d{16,22}(?![\w-])")
_DHL_PIECE = re.compile(r"(?<![\w-])J(?:JD|VGL|JVGL)\d{9,18}(?![\w-])")
_DPD_BARCODE = re.compile(r"(?<![\w-])(\d(?: ?\d){26}) ?([0-9A-Z])(?![\w-])")
_AWB_DASH = re.compile(r"(?<![\w\-/.+])(\d{3})-(\d{4} ?\d{4})(?![\w\-/.])")
_SCAC_BL = re.compile(rf"(?<![\w-])(?:{_SCAC})[A-Z0-9]{{6,14}}(?![\w-])")
_SSCC_AI = re.compile(r"\(00\)\s?(\d(?: ?\d){17})(?![\w-])")
_SSCC_BARE = re.compile(r"(?<![\w\-/.,+])(?:00)?(\d{18})(?![\w\-/.,])")
_DIGITS = re.compile(r"\d")
_FOREIGN_ORDER_VALUE = r"\d{7,12}"  # a customer's PO called their order: digits only, never a year

# Values after a label word.
_VALUE_GENERIC = r"[A-Z0-9](?:[A-Z0-9/\-]{2,22})[A-Z0-9]"
_VALUE = {
    K.BOOKING_NUMBER: _VALUE_GENERIC,
    K.INVOICE_NUMBER: _VALUE_GENERIC,
    K.DELIVERY_NOTE: _VALUE_GENERIC,
    K.BILL_OF_LADING: r"[A-Z0-9]{4}[A-Z0-9\-]{4,18}",
    K.AIR_WAYBILL: r"\d{3}[ \-]?\d{4} ?\d{4}",
    K.SSCC: r"(?:\(00\) ?)?\d(?: ?\d){17}",
    K.IMO_NUMBER: r"\d{7}",
}
# After a label: the end of the word, or a number word glued to it ("Inköpsordernummer", "Ordersnr").
_LABEL_END = r"(?:(?![\w/])|(?=s?-?(?:nummer|numret|nummern|nr|nro)(?![\w])))"
# A number word after the label, set apart by spaces or a dash ("Lieferschein-Nr.") or glued to it.
_NUMBER_WORD = (r"(?:(?:\s*-?\s*|s-?)(?:no|nr|nummer|number|num|numbers|numre|nummern|numret|numéro|número|"
                r"numero|numer|n\.[º°]|n°|nº|n\.|#|ref|reference|id|code|kode|nro)\.?)?")
_SEPARATOR = r"[\s:#.=\-–|]{0,6}"  # "|": a two-column table row "Booking number | 234567890"


@dataclass(frozen=True, slots=True)
class _Scan:
    text: str
    source: ReferenceSource
    rules: ReferenceRules


def normalize(value: str) -> str:
    """Upper case with spaces, dots, slashes and dashes removed."""
    return re.sub(r"[\s.\-/()]", "", value).upper()


def extract_references(*, email: Email, rules: ReferenceRules) -> tuple[Reference, ...]:
    """All references in the email, deduplicated by (kind, value), best source first."""
    found: dict[tuple[ReferenceKind, str], Reference] = {}
    texts = [
        (ReferenceSource.SUBJECT, email.subject),
        (ReferenceSource.NEW_TEXT, email.reply_text),
        (ReferenceSource.FORWARDED, email.forwarded_text),
        *((ReferenceSource.ATTACHMENT_NAME, a.filename or "") for a in email.attachments),
        *((ReferenceSource.ATTACHMENT, a.text) for a in email.attachments),
        (ReferenceSource.QUOTED, email.quoted_text),
    ]
    for source, text in texts:
        if not text:
            continue
        if source == ReferenceSource.ATTACHMENT_NAME:
            text = re.sub(r"[_+]", " ", re.sub(r"\.[A-Za-z0-9]{2,5}$", "", text))  # "PL_NK-204509.pdf"
        for ref in scan_text(text=text, source=source, rules=rules):
            key = (ref.kind, ref.value)
            if key not in found or _SOURCE_RANK[source] < _SOURCE_RANK[found[key].source]:
                found[key] = ref
    refs = _suggest_from_context(list(found.values()))
    return tuple(sorted(refs, key=lambda r: (_SOURCE_RANK[r.source], r.span[0])))


_TYPO_DISTANCE = 2


def _suggest_from_context(refs: list[Reference]) -> list[Reference]:
    """An invalid number next to a valid one of the same kind a typo away: that one is the suggestion.

    "MSKU7719082" in the new text and "MSKU7719028" in the quoted history: the customer swapped two
    digits, and the number the thread already holds is a better guess than the computed check digit.
    The nearest candidates within two edits count; when more than one is nearest there is no
    suggestion at all (never a guess between two real numbers). Without one, the computed
    suggestion (the same body with the right check character) stays.
    """
    valid: dict[ReferenceKind, list[str]] = {}
    for r in refs:
        if r.validity == Validity.VALID:
            valid.setdefault(r.kind, []).append(r.value)
    if not valid:
        return refs
    out = []
    for r in refs:
        if r.validity == Validity.INVALID and r.kind in valid:
            near = [(d, v) for v in valid[r.kind] if (d := _edit_distance(r.value, v)) <= _TYPO_DISTANCE]
            if near:
                best = min(d for d, _ in near)
                nearest = {v for d, v in near if d == best}
                r = r.model_copy(update={"suggestion": nearest.pop() if len(nearest) == 1 else None})
        out.append(r)
    return out


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: substitutions, insertions, deletions, adjacent transpositions."""
    if abs(len(a) - len(b)) > _TYPO_DISTANCE:
        return _TYPO_DISTANCE + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def scan_text(*, text: str, source: ReferenceSource, rules: ReferenceRules) -> Iterator[Reference]:
    """References in one text, earlier detectors taking precedence where spans overlap."""
    return _scan(_Scan(text=text, source=source, rules=rules), (*_DETECTORS, _table_columns))


def _scan(scan: _Scan, detectors: tuple[Callable[[_Scan], Iterator[Reference]], ...]) -> Iterator[Reference]:
    taken: list[tuple[int, int]] = []
    for detector in detectors:
        for ref in detector(scan):
            s, e = ref.span
            if any(a < e and s < b for a, b in taken):
                continue
            taken.append(ref.span)
            yield ref


# ----------------------------------------------------------------------------- helpers


def _ref(scan: _Scan, kind: ReferenceKind, value: str, span: tuple[int, int], *,
         check: tuple[str, str] | None = None, carrier: str | None = None, corrected: str | None = None) -> Reference:
    """A reference; ``check`` is (given check character, computed one) for kinds that have one.

    ``corrected`` is the valid number for a failed check digit when the check character is not the last one.
    """
    validity, suggestion = Validity.UNCHECKED, None
    if check is not None:
        given, computed = check
        if given == computed:
            validity = Validity.VALID
        else:
            validity = Validity.INVALID
            suggestion = corrected or (value[: len(value) - len(given)] + computed if value.endswith(given) else None)
    return Reference(kind=kind, value=value, raw=scan.text[span[0]:span[1]], source=scan.source, span=span,
                     validity=validity, suggestion=suggestion, carrier=carrier)


_GLUED_NUMBER_WORDS = ("nummer", "numret", "numero", "nro", "nr")


def _label_alternative(word: str) -> str:
    """One label word as a regex: a space or a dash inside it may be written as space, dot, dash or nothing,
    and a glued number word may be set apart ("Rechnungsnr" = "Rechnungs-Nr." = "Rechnungs Nr")."""
    for suffix in _GLUED_NUMBER_WORDS:
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and stem[-1].isalpha():
            return re.escape(stem) + r"[\s.\-]*" + re.escape(suffix)
    return re.sub(r"\\[ \-]", r"[\\s.\\-]*", re.escape(word))


@lru_cache(maxsize=256)
def _label_regex(words: tuple[str, ...], upper: tuple[str, ...], value: str) -> re.Pattern[str]:
    def alt(ws: tuple[str, ...]) -> str:
        return "|".join(_label_alternative(w) for w in sorted(ws, key=len, reverse=True))

    parts = []
    if words:
        parts.append(f"(?:{alt(words)})")
    if upper:
        parts.append(f"(?-i:{alt(upper)})")
    return re.compile(
        rf"{_first_chars((*words, *upper))}(?<![\w/])(?:{'|'.join(parts)}){_LABEL_END}{_NUMBER_WORD}{_SEPARATOR}"
        rf"(?P<value>(?<![\w-]){value}(?![\w-]))",
        re.IGNORECASE,
    )


def _first_chars(words: tuple[str, ...]) -> str:
    """A lookahead on the possible first letters: the regex engine skips other positions at once."""
    chars = {c for w in words if w for c in (w[0].lower(), w[0].upper())}
    return "(?=[" + "".join(re.escape(c) for c in sorted(chars)) + "])" if chars else ""


def _context_before(text: str, start: int, width: int = 80) -> str:
    """The text before ``start`` on the same line and the line above (for table headers and labels)."""
    begin = max(0, start - width)
    window = text[begin:start]
    lines = window.split("\n")
    return "\n".join(lines[-2:]).lower()


def _carrier_in(context: str) -> str | None:
    found = None
    best = -1
    for word, carrier in _CARRIER_WORDS.items():
        for m in re.finditer(rf"(?<![\w]){re.escape(word)}(?![\w])", context):
            if m.start() > best:
                best, found = m.start(), carrier
    return found


@lru_cache(maxsize=1)
def _tracking_label() -> re.Pattern[str]:
    words = "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in sorted(_TRACKING_LABELS, key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{words})(?![\w])", re.IGNORECASE)


# ----------------------------------------------------------------------------- detectors


def _containers(scan: _Scan) -> Iterator[Reference]:
    for m in _CONTAINER.finditer(scan.text):
        value = "".join(m.groups()).upper()
        yield _ref(scan, K.CONTAINER_NUMBER, value, m.span(), check=(value[10], ids.container_check(value[:10])))


def _order_patterns(scan: _Scan) -> Iterator[Reference]:
    for pattern in scan.rules.compiled_order_patterns:
        for m in pattern.finditer(scan.text):
            yield _ref(scan, K.ORDER_NUMBER, normalize(m.group(0)), m.span())


def _shipments(scan: _Scan) -> Iterator[Reference]:
    for m in _SHIPMENT.finditer(scan.text):
        yield _ref(scan, K.SHIPMENT_ID, normalize(m.group(0)), m.span())


def _self_describing_tracking(scan: _Scan) -> Iterator[Reference]:
    text = scan.text
    for m in _UPS.finditer(text):
        value = normalize(m.group(0))
        if sum(c.isdigit() for c in value) < 8:
            continue  # "1Z" followed by a word, not a tracking number
        yield _ref(scan, K.TRACKING_NUMBER, value, m.span(), check=(value[17], ids.ups_check(value[2:17])),
                   carrier="ups")
    for m in _S10.finditer(text):
        country = m.group(6)
        if country not in _COUNTRIES:
            continue
        serial = m.group(2) + m.group(3) + m.group(4)
        value = normalize(m.group(0))
        computed = ids.s10_check(serial)
        yield _ref(scan, K.TRACKING_NUMBER, value, m.span(), check=(m.group(5), computed),
                   carrier=_S10_CARRIER.get(country, "post"), corrected=m.group(1) + serial + computed + country)
    for m in _DHL_ECOMMERCE.finditer(text):
        yield _ref(scan, K.TRACKING_NUMBER, m.group(0), m.span(), carrier="dhl_ecommerce")
    for m in _DHL_PIECE.finditer(text):
        yield _ref(scan, K.TRACKING_NUMBER, m.group(0), m.span(), carrier="dhl_express")
    for m in _DPD_BARCODE.finditer(text):
        body = normalize(m.group(1))
        value = body + m.group(2)
        computed = ids.mod37_36_check(body)
        if computed != m.group(2) and _carrier_in(_context_before(text, m.start())) != "dpd":
            continue  # 28 characters that fail the check and are not called DPD: not a parcel number
        yield _ref(scan, K.TRACKING_NUMBER, value, m.span(), check=(m.group(2), computed), carrier="dpd")


def _labelled(kind: ReferenceKind) -> Callable[[_Scan], Iterator[Reference]]:
    words, upper = _LABELS[kind]

    def detect(scan: _Scan) -> Iterator[Reference]:
        for m in _label_regex(words, upper, _VALUE[kind]).finditer(scan.text):
            raw = m.group("value")
            value = normalize(raw)
            span = m.span("value")
            if kind in (K.BOOKING_NUMBER, K.INVOICE_NUMBER, K.DELIVERY_NOTE, K.BILL_OF_LADING):
                if len(_DIGITS.findall(value)) < 4 or _looks_like_date(raw):
                    continue
                if kind != K.BILL_OF_LADING and _CONTAINER.fullmatch(raw):
                    continue  # "booking MSKU7719028": the container detector already has it
                yield _ref(scan, kind, value, span)
            elif kind == K.AIR_WAYBILL:
                yield _ref(scan, kind, value, span, check=(value[10], ids.awb_check(value[3:10])))
            elif kind == K.SSCC:
                value = value[2:] if len(value) == 20 else value
                yield _ref(scan, kind, value, span, check=(value[17], ids.gs1_check(value[:17])))
            elif kind == K.IMO_NUMBER:
                yield _ref(scan, kind, value, span, check=(value[6], ids.imo_check(value[:6])))

    return detect


def _awb_dash(scan: _Scan) -> Iterator[Reference]:
    for m in _AWB_DASH.finditer(scan.text):
        value = m.group(1) + m.group(2).replace(" ", "")
        if value[10] == ids.awb_check(value[3:10]):  # unlabelled: only a valid one is an air waybill
            yield _ref(scan, K.AIR_WAYBILL, value, m.span(), check=(value[10], value[10]))


def _scac_bills(scan: _Scan) -> Iterator[Reference]:
    for m in _SCAC_BL.finditer(scan.text):
        value = m.group(0).upper()
        if len(_DIGITS.findall(value)) >= 6 and not _CONTAINER.fullmatch(value):
            yield _ref(scan, K.BILL_OF_LADING, value, m.span())


def _sscc_unlabelled(scan: _Scan) -> Iterator[Reference]:
    for m in _SSCC_AI.finditer(scan.text):
        value = normalize(m.group(1))
        yield _ref(scan, K.SSCC, value, m.span(), check=(value[17], ids.gs1_check(value[:17])))
    for m in _SSCC_BARE.finditer(scan.text):
        value = m.group(1)
        if value[17] == ids.gs1_check(value[:17]):  # unlabelled: only a valid one is an SSCC
            yield _ref(scan, K.SSCC, value, m.span(), check=(value[17], value[17]))


def _customer_pos(scan: _Scan) -> Iterator[Reference]:
    rules = scan.rules
    words = tuple(dict.fromkeys((*rules.po_label_words, *EXTRA_PO_LABELS)))
    for m in _label_regex(words, (), rules.po_label_value).finditer(scan.text):
        if not _not_a_po(m):
            yield _ref(scan, K.CUSTOMER_PO, normalize(m.group("value")), m.span("value"))
    for m in _PO.finditer(scan.text):
        if not _looks_like_date(re.sub(r"^P\.?O[ \-.#:]*", "", m.group(0), flags=re.IGNORECASE)):
            yield _ref(scan, K.CUSTOMER_PO, normalize(m.group(0)), m.span())
    # A customer's PO is in the customer's format, not the mailbox's: after an explicit PO label any
    # identifier-like value with enough digits counts ("PO: 12345-A", "P/O BT-2024/118"), never a date.
    for m in _label_regex(words, (), _VALUE_GENERIC).finditer(scan.text):
        raw = m.group("value")
        value = normalize(raw)
        if len(_DIGITS.findall(value)) >= 4 and not _not_a_po(m):
            yield _ref(scan, K.CUSTOMER_PO, value, m.span("value"))


def _not_a_po(m: re.Match[str]) -> bool:
    """"PO Box 1234" is an address, "PO 2024" a year."""
    raw = m.group("value")
    return _looks_like_date(raw) or bool(re.match(r"bo(?:x|ks)\b", raw, re.IGNORECASE))


def _order_labels(scan: _Scan) -> Iterator[Reference]:
    rules = scan.rules
    words = tuple(dict.fromkeys((*rules.order_label_words, *EXTRA_ORDER_LABELS)))
    for m in _label_regex(words, (), rules.order_label_value).finditer(scan.text):
        if _looks_like_date(m.group("value")):
            continue
        value = normalize(m.group("value"))
        if rules.order_prefix and value.isdigit():
            value = rules.order_prefix.upper() + value
        yield _ref(scan, K.ORDER_NUMBER, value, m.span("value"))
    # "unsere Bestellnummer 4523848903", "our order 4500012345": a long number after an order word that the
    # mailbox's own order format refuses is the customer's own order number, that is their PO
    own = re.compile(rules.order_label_value, re.IGNORECASE)
    for m in _label_regex(words, (), _FOREIGN_ORDER_VALUE).finditer(scan.text):
        if not own.fullmatch(m.group("value")):
            yield _ref(scan, K.CUSTOMER_PO, m.group("value"), m.span("value"))


_NUMERIC = re.compile(r"(?<![\w\-/.,+])(\d(?:[ ]?\d){9,33})(?![\w\-/,])")


# Words that say a number next to a carrier name is something else: a customer or account number, a phone.
_OTHER_NUMBER = re.compile(
    r"(?<![\w])(?:kunden?\w*|kund\w*|customer|account|acct|konto\w*|kontonr|tili\w*|asiakas\w*|klant\w*|"
    r"client\w*|cliente|klient\w*|compte|cuenta|conto|conta|tel|tlf|phone|telefon\w*|call|ring|fax|mob\w*|"
    r"hotline|org|vat|iban|kid|agreement|avtale\w*|vertrag\w*|contract)(?![\w])[^\n\d]{0,25}$")


def _carrier_numbers(scan: _Scan) -> Iterator[Reference]:
    """Digit-only tracking numbers: only with a carrier name or a tracking label just before them."""
    text = scan.text
    for m in _NUMERIC.finditer(text):
        context = _context_before(text, m.start())
        carrier = _carrier_in(context)
        labelled = bool(_tracking_label().search(context))
        if carrier is None and not labelled:
            continue
        if _OTHER_NUMBER.search(context[-40:]):
            continue  # "GLS Kundennummer 1234567890", "call DHL on 0800 123 4567": not a parcel
        digits = m.group(1).replace(" ", "")
        ref = _numeric_tracking(scan, digits, m.span(1), carrier=carrier)
        if ref is not None:
            yield ref
        elif labelled and 10 <= len(digits) <= 22:
            yield _ref(scan, K.TRACKING_NUMBER, digits, m.span(1), carrier=carrier)


def _numeric_tracking(scan: _Scan, digits: str, span: tuple[int, int], *, carrier: str | None) -> Reference | None:
    n = len(digits)
    schemes: list[tuple[str, str, str]] = []  # (carrier, given, computed)
    if n == 12 and carrier in (None, "fedex"):
        schemes.append(("fedex", digits[11], ids.fedex_express_check(digits[:11])))
    if n == 15 and carrier in (None, "fedex"):
        schemes.append(("fedex", digits[14], ids.gs1_check(digits[:14])))
    if n == 10 and carrier in (None, "dhl"):
        schemes.append(("dhl_express", digits[9], ids.dhl_express_check(digits[:9])))
    if n in (20, 22) and digits.startswith("9") and carrier in (None, "usps"):
        schemes.append(("usps", digits[-1], ids.gs1_check(digits[:-1])))
    if n == 12 and carrier == "gls":
        schemes.append(("gls", digits[11], ids.gs1_check(digits[:11])))
    if n == 17 and carrier in (None, "bring", "postnord"):
        schemes.append((carrier or "bring", digits[16], ids.gs1_check(digits[:16])))
    if carrier in _SSCC_CARRIERS and (n == 18 or (n == 20 and digits.startswith("00"))):
        # Nordic and DHL parcel ids ("kollinummer 370...") are SSCCs: GS1 mod 10 over the last 18 digits
        schemes.append((carrier, digits[-1], ids.gs1_check(digits[-18:-1])))
    if carrier is None:
        valid = [s for s in schemes if s[1] == s[2]]
        if len(valid) == 1:
            name, given, computed = valid[0]
            return _ref(scan, K.TRACKING_NUMBER, digits, span, check=(given, computed), carrier=name)
        return None
    if schemes:
        name, given, computed = schemes[0]
        return _ref(scan, K.TRACKING_NUMBER, digits, span, check=(given, computed), carrier=name)
    if carrier in ("gls", "dpd", "postnord", "bring", "dhl", "ups", "usps", "fedex", "schenker", "dsv",
                   "budbee", "instabox", "posti") and 10 <= n <= 22:
        name = "dhl_paket" if carrier == "dhl" and n in (12, 20) else carrier
        return _ref(scan, K.TRACKING_NUMBER, digits, span, carrier=name)
    return None


_SSCC_CARRIERS = frozenset({"bring", "postnord", "posti", "dhl", "schenker", "dsv"})


_LOCODE = re.compile(r"(?<![\w])(?-i:([A-Z]{2}) ?([A-Z2-9]{3}))(?![\w])")


@lru_cache(maxsize=1)
def _locode_label() -> re.Pattern[str]:
    words = "|".join(re.escape(w).replace(r"\ ", r"\s*") for w in sorted(_UNLOCODE_LABELS, key=len, reverse=True))
    upper = "|".join(re.escape(w) for w in _UNLOCODE_ABBREVIATIONS)
    first = _first_chars((*_UNLOCODE_LABELS, *_UNLOCODE_ABBREVIATIONS))
    return re.compile(rf"{first}(?<![\w])(?:{words}|(?-i:{upper}))(?![\w])", re.IGNORECASE)


def _unlocodes(scan: _Scan) -> Iterator[Reference]:
    """UN/LOCODEs after a port label on the same line (or in the row under a table header with one)."""
    text = scan.text
    label = _locode_label()
    seen: set[int] = set()
    for m in label.finditer(text):
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        region = [(m.end(), min(line_end, m.end() + 60))]
        if "|" in text[max(0, text.rfind("\n", 0, m.start())):line_end]:  # a table header row
            next_end = text.find("\n", line_end + 1)
            region.append((line_end, len(text) if next_end < 0 else next_end))
        for start, end in region:
            for c in _LOCODE.finditer(text, start, end):
                if c.start() in seen or c.group(1) not in _COUNTRIES:
                    continue
                if c.group(0) in _UNLOCODE_ABBREVIATIONS or c.group(0).replace(" ", "") in ("ETA", "ETD"):
                    continue
                seen.add(c.start())
                yield _ref(scan, K.UNLOCODE, c.group(1) + c.group(2), c.span())


def _looks_like_date(raw: str) -> bool:
    """A date or a bare year ("invoice 2024", "PO 2024" name a year, not a document)."""
    return bool(re.fullmatch(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}"
                             r"|(?:19|20)\d{2}", raw.strip()))


_DETECTORS: tuple[Callable[[_Scan], Iterator[Reference]], ...] = (
    _containers,
    _order_patterns,
    _shipments,
    _self_describing_tracking,
    _labelled(K.AIR_WAYBILL),
    _awb_dash,
    _labelled(K.IMO_NUMBER),
    _labelled(K.SSCC),
    _sscc_unlabelled,
    _labelled(K.BILL_OF_LADING),
    _scac_bills,
    _labelled(K.BOOKING_NUMBER),
    _labelled(K.INVOICE_NUMBER),
    _labelled(K.DELIVERY_NOTE),
    _customer_pos,
    _order_labels,
    _carrier_numbers,
    _unlocodes,
)


# ----------------------------------------------------------------------------- tables

_MAX_TABLE_CELLS = 2000  # cells read under a label column per text (a long CSV is not read whole)
_CELL = re.compile(r"[^|\n]+")


@lru_cache(maxsize=8)
def _any_label(rules: ReferenceRules) -> re.Pattern[str]:
    """Any label word of any kind: which table header cells name a reference column."""
    words = {*rules.order_label_words, *EXTRA_ORDER_LABELS, *rules.po_label_words, *EXTRA_PO_LABELS,
             *_TRACKING_LABELS, *_CARRIER_WORDS, *_UNLOCODE_LABELS, *(w.lower() for w in _UNLOCODE_ABBREVIATIONS)}
    for kind_words, upper in _LABELS.values():
        words.update(kind_words)
        words.update(w.lower() for w in upper)
    alt = "|".join(_label_alternative(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])(?:{alt}){_LABEL_END}", re.IGNORECASE)


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The (start, end) of each " | "-separated cell of the line text[start:end], whitespace trimmed."""
    out = []
    for m in _CELL.finditer(text, start, end):
        a, b = m.span()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out.append((a, b))
    return out


def _table_columns(scan: _Scan) -> Iterator[Reference]:
    """Values in the rows under a header cell that is a label ("PO | Pallets" over "4500123456 | 12").

    Tables come from HTML bodies and from CSV/XLSX attachments, rendered one row per line with cells
    joined by " | ". Each cell under a label column is read as "<header>: <cell>" by the detectors above;
    only rows with as many cells as the header are read (a row with empty cells does not line up).
    """
    text = scan.text
    if " | " not in text:
        return
    label = _any_label(scan.rules)
    budget = _MAX_TABLE_CELLS
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
    i = 0
    while i < len(lines) and budget > 0:
        start, end = lines[i]
        i += 1
        if " | " not in text[start:end]:
            continue
        header = _cells(text, start, end)
        columns = [(j, text[a:b]) for j, (a, b) in enumerate(header)
                   if 0 < b - a <= 40 and not _DIGITS.search(text[a:b]) and label.search(text[a:b])]
        if not columns:
            continue
        while i < len(lines) and budget > 0:
            row = _cells(text, *lines[i])
            if len(row) != len(header) or " | " not in text[lines[i][0]:lines[i][1]]:
                break
            i += 1
            for j, name in columns:
                a, b = row[j]
                if not _DIGITS.search(text, a, b) and not _LOCODE.fullmatch(text, a, b):
                    continue
                budget -= 1
                offset = len(name) + 2
                cell = _Scan(text=f"{name}: {text[a:b]}", source=scan.source, rules=scan.rules)
                for ref in _scan(cell, _DETECTORS):
                    s, e = ref.span
                    if s >= offset:
                        yield ref.model_copy(update={"span": (a + s - offset, a + e - offset)})
