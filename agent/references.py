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
``invalid`` (the check digit failed: a probable typo, with the one valid
number of the same body as suggestion). Formats that are only digits and
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
    "ordem de compra", "pedido de compra", "zamówienie zakupu", "purchase order no",
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
_PO = re.compile(r"(?<![\w-])PO[ \-]?\d{4,12}(?![\w-])", re.IGNORECASE)
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
_NUMBER_WORD = (r"(?:\s*(?:no|nr|nummer|number|num|numbers|numre|nummern|numéro|número|numero|numer|"
                r"n\.[º°]|n°|nº|n\.|#|ref|reference|id|code|kode|nro)\.?)?")
_SEPARATOR = r"[\s:#.=\-–]{0,6}"


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
    return tuple(sorted(found.values(), key=lambda r: (_SOURCE_RANK[r.source], r.span[0])))


def scan_text(*, text: str, source: ReferenceSource, rules: ReferenceRules) -> Iterator[Reference]:
    """References in one text, earlier detectors taking precedence where spans overlap."""
    taken: list[tuple[int, int]] = []
    scan = _Scan(text=text, source=source, rules=rules)
    for detector in _DETECTORS:
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


@lru_cache(maxsize=256)
def _label_regex(words: tuple[str, ...], upper: tuple[str, ...], value: str) -> re.Pattern[str]:
    def alt(ws: tuple[str, ...]) -> str:
        return "|".join(re.escape(w).replace(r"\ ", r"[\s.]*") for w in sorted(ws, key=len, reverse=True))

    parts = []
    if words:
        parts.append(f"(?:{alt(words)})")
    if upper:
        parts.append(f"(?-i:{alt(upper)})")
    return re.compile(
        rf"{_first_chars((*words, *upper))}(?<![\w/])(?:{'|'.join(parts)})(?![\w/]){_NUMBER_WORD}{_SEPARATOR}"
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
        yield _ref(scan, K.CUSTOMER_PO, normalize(m.group("value")), m.span("value"))
    for m in _PO.finditer(scan.text):
        yield _ref(scan, K.CUSTOMER_PO, normalize(m.group(0)), m.span())


def _order_labels(scan: _Scan) -> Iterator[Reference]:
    rules = scan.rules
    words = tuple(dict.fromkeys((*rules.order_label_words, *EXTRA_ORDER_LABELS)))
    for m in _label_regex(words, (), rules.order_label_value).finditer(scan.text):
        value = normalize(m.group("value"))
        if rules.order_prefix and value.isdigit():
            value = rules.order_prefix.upper() + value
        yield _ref(scan, K.ORDER_NUMBER, value, m.span("value"))


_NUMERIC = re.compile(r"(?<![\w\-/.,+])(\d(?:[ ]?\d){9,33})(?![\w\-/,])")


def _carrier_numbers(scan: _Scan) -> Iterator[Reference]:
    """Digit-only tracking numbers: only with a carrier name or a tracking label just before them."""
    text = scan.text
    for m in _NUMERIC.finditer(text):
        context = _context_before(text, m.start())
        carrier = _carrier_in(context)
        labelled = bool(_tracking_label().search(context))
        if carrier is None and not labelled:
            continue
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
    return bool(re.fullmatch(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}", raw))


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
