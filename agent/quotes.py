"""Quoted history, forwarded messages and signatures in a plain-text body.

Splits what the customer wrote now from what came before, in the mail clients
and languages Northern European logistics teams use:

- Outlook header blocks ("From: / Sent: / To: / Subject:" and their localized
  forms "Fra: / Sendt:", "Von: / Gesendet:", "Från: / Skickat:", "De : /
  Envoyé :", ...), "-----Original Message-----" in twelve languages and the
  "________" line Outlook on the web puts above the block;
- attribution lines ("On <date>, <name> wrote:", "Den <date> skrev <name>:",
  "Am <date> schrieb <name>:", "Le <date>, <name> a écrit :", Gmail's split
  over two lines, Apple Mail's "On <date>, at <time>, <name> wrote:", ...);
- "> " quoting anywhere, so bottom-posting and inline answers keep the new
  lines and lose the quoted ones;
- forward separators ("---------- Forwarded message ---------", "Begin
  forwarded message:", localized): the forwarded message is kept apart as
  context, not as the customer's words and not as history;
- signatures: "-- ", "Sent from my iPhone" and localized variants, "Get
  Outlook for iOS", contact blocks after a sign-off (name, title, company,
  phone numbers, addresses) and confidentiality disclaimers.

Pure functions over ``str``; nothing here raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ----------------------------------------------------------------------------- vocabulary

_ORIGINAL = (
    r"original\s+message|opprinnelig\s+melding|ursprüngliche\s+nachricht|ursprungligt\s+meddelande|"
    r"oprindelig\s+meddelelse|alkuperäinen\s+viesti|oorspronkelijk\s+bericht|message\s+d'origine|"
    r"mensaje\s+original|messaggio\s+originale|mensagem\s+original|wiadomość\s+oryginalna|"
    r"original\s+meddelelse|originalmeddelande|opprinnelig\s+e-post|oryginalna\s+wiadomość|"
    r"originele\s+bericht|alkuperäinen\s+sähköposti"
)
_FORWARD = (
    r"forwarded\s+message|videresendt\s+melding|videresendt\s+(?:besked|meddelelse)|"
    r"weitergeleitete\s+nachricht|vidarebefordrat\s+(?:meddelande|mejl)|välitetty\s+viesti|"
    r"doorgestuurd\s+bericht|message\s+transféré|mensaje\s+reenviado|messaggio\s+inoltrato|"
    r"mensagem\s+(?:encaminhada|reencaminhada)|wiadomość\s+przekazana(?:\s+dalej)?|forwarded\s+e-?mail"
)
_FORWARD_LINE = re.compile(
    rf"^\s*(?:-{{2,}}|_{{2,}}|={{2,}})?\s*(?:{_FORWARD})\s*(?:-{{2,}}|_{{2,}}|={{2,}})?\s*:?\s*$"
    r"|^\s*(?:begin\s+forwarded\s+message|begynnelse\s+på\s+videresendt\s+melding|"
    r"anfang\s+der\s+weitergeleiteten\s+nachricht|vidarebefordrat\s+mejl|start\s+på\s+videresendt\s+besked|"
    r"début\s+du\s+message\s+réexpédié|inicio\s+del\s+mensaje\s+reenviado|inizio\s+messaggio\s+inoltrato|"
    r"begin\s+doorgestuurd\s+bericht|início\s+da\s+mensagem\s+reencaminhada|"
    r"początek\s+przekazywanej\s+wiadomości|välitetty\s+viesti\s+alkaa)\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL_LINE = re.compile(rf"^\s*-{{2,}}\s*(?:{_ORIGINAL})\s*-{{2,}}\s*$", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
# "From:" in the languages we serve; French puts a space before the colon, Outlook may bold with '*'.
_FROM_FIELD = re.compile(
    r"^\s*\*?(?:from|fra|von|från|van|de|da|od|lähettäjä|afsender|avsender|remitente|mittente|remetente|"
    r"nadawca|expéditeur)\s*\*?\s*:\s*\*?\s*\S", re.IGNORECASE)
_OTHER_FIELD = re.compile(
    r"^\s*\*?(?:sent|sendt|gesendet|skickat|envoyé|enviado(?:\s+el)?|inviato|enviada(?:\s+em)?|wysłano|"
    r"lähetetty|verzonden|verstuurd|date|datum|dato|data|fecha|päivämäärä|päiväys|"
    r"to|til|an|till|à|para|a|aan|do|vastaanottaja|destinataire|"
    r"subject|emne|betreff|ämne|objet|asunto|oggetto|assunto|temat|aihe|onderwerp|"
    r"cc|kopi|kopia|kopie|copie)\s*\*?\s*:", re.IGNORECASE)
# Apple Mail writes "... heeft <name> het volgende geschreven:" (nl) and "Wiadomość napisana przez <name>
# w dniu <date>:" (pl); Thunderbird writes "<name> pisze:" (pl).
# The fields that make "From:" lines a header block and not a route ("From: Oslo / To: Hamburg / Date: ...").
_SUBJECT_FIELD = re.compile(
    r"^\s*\*?(?:subject|emne|betreff|ämne|objet|asunto|oggetto|assunto|temat|aihe|onderwerp)\s*\*?\s*:",
    re.IGNORECASE)
_SENT_FIELD = re.compile(
    r"^\s*\*?(?:sent|sendt|gesendet|skickat|envoyé|enviado(?:\s+el)?|inviato|enviada(?:\s+em)?|wysłano|"
    r"lähetetty|verzonden|verstuurd|date|datum|dato|data|fecha|päivämäärä|päiväys)\s*\*?\s*:", re.IGNORECASE)
_ADDRESS_VALUE = re.compile(r"@|mailto:|<[^>]+>|\[[^]]+\]")
_WROTE = (r"wrote|skrev|schrieb|a\s+écrit|escribió|schreef|ha\s+scritto|escreveu|napisał\(a\)|napisała|"
          r"napisał|kirjoitti|has\s+written|a\s+scris|het\s+volgende\s+geschreven|geschreven|"
          r"napisana\s+przez|pisze")
_ATTRIBUTION = re.compile(rf"^(?!\s*>).{{0,240}}?\b(?:{_WROTE})\b[^\n]{{0,200}}?\s*:\s*$", re.IGNORECASE)
# "as I wrote yesterday at 10:15:" is the customer's sentence, not an attribution line.
_FIRST_PERSON_WROTE = re.compile(
    rf"\b(?:i|we|jeg|vi|jag|ich|wir|je|nous|yo|io|eu|ja|my|me)\s+(?:have\s+|har\s+|habe\s+)?(?:{_WROTE})\b",
    re.IGNORECASE)
_DATE_OR_ADDRESS = re.compile(r"\d{1,2}[:.]\d{2}|\b(?:19|20)\d{2}\b|@")
_BARE_ATTRIBUTION = re.compile(rf"^(?!\s*>)\s*[^\n:]{{1,80}}\b(?:{_WROTE})\s*:\s*$", re.IGNORECASE)

_MOBILE = re.compile(
    r"""^\s*(?:
        (?:sent|sendt|skickat|skickad|verzonden|verstuurd|wysłane|lähetetty|enviado|inviato|envoyé)
            \s+(?:from|fra|från|fr\xe5n|vanaf|van|z|desde|do|da|dal|de|depuis)\s+(?:my|min|mi|mitt|mijn|mojego|meu|mio|mon)?\s*\S.{0,40}
      | von\s+meine[mr]\S*\s+.{1,40}?\s*gesendet
      | (?:lähetetty|inviato\s+da|wysłane\s+z)\s+\S.{0,40}
      | (?:get|hent|skaffa|hämta|få|télécharger|obtenir|obtener|descargar|scarica|baixe(?:\s+o)?|
         pobierz(?:\s+aplikację)?|hanki|download|download\s+de)\s+outlook
            \s+(?:for|för|für|pour|para|per|dla|til|voor|iOS|Android).{0,30}
      | sent\s+(?:with|from)\s+proton\s*mail.{0,30}
      | outlook\s+für\s+\S+\s+beziehen
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_DASHES = re.compile(r"^(?:--|—|–|-- ?|__)\s*$")
# A sign-off: a short line around one of these words ("Vielen Dank und freundliche Grüße", "Mvh", ...).
_VALEDICTION = re.compile(
    r"""^\s*(?:[^\W\d_][\w'’.-]*[\s,]+){0,4}(?:
        regards | br | thanks | thank\s+you | cheers | sincerely | faithfully | best
      | hilsen | hilsner | mvh | m\.v\.h | takk | tak | hälsningar | hälsning | tack | venligst
      | grüße | grüßen | grüsse | grüssen | gruß | gruss | mfg | dank | danke
      | terveisin | terveiset | kiitos | groet | groeten | bedankt
      | cordialement | salutations | bien\s+à\s+vous | merci
      | saludos | saludo | atentamente | gracias | cordiali\s+saluti | saluti | grazie
      | cumprimentos | atenciosamente | obrigad[oa] | abraço | abraços
      | pozdrawiam | poważaniem | pozdrowieniami | dziękuję | dzięki
    )(?:[\s,]+[^\W\d_][\w'’.-]*){0,4}\s*[,.!]?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_CONTACT = re.compile(
    r"""(?:
        \b(?:tel|tlf|phone|ph|mob|mobile|mobil|cell|fax|telefon|telefone|teléfono|telefono|puh|puhelin|gsm|
            direct|direkte|direkt|dir|m|t|p|f|tél|móvil|cellulare|telemóvel|handy|vaihde|kom)\b\.?\s*[:.]?\s*\(?\+?\d
      | ^\s*\+?\(?\d[\d\s()./-]{7,}\d\s*$
      | \+\d{1,3}[\s(]*\d[\d\s()./-]{5,}\d
      | [\w.+-]+@[\w-]+\.[\w.-]+
      | \bwww\.[\w-]+\.\w+ | https?://
      | \b(?:AS|ASA|AB|ApS|A/S|GmbH|AG|KG|Ltd|Limited|LLC|Inc|Oy|Oyj|BV|NV|SA|SAS|SARL|Srl|Lda|plc|S\.L)\.?\s*$
      | (?:B\.V\.|S\.A\.|S\.p\.A\.|S\.r\.l\.|S\.L\.|Sp\.\s*z\s*o\.o\.)\s*$
      | \b(?:org\.?\s*nr|org\.?\s*no|vat|ust-?id|mva|moms|cvr|y-tunnus|kvk|nip|krs|regon|hrb|hra|
            amtsgericht|registergericht|handelsregister|geschäftsführer(?:in)?|sitz\s+der\s+gesellschaft|
            foretaksregisteret|registered\s+(?:office|in)|company\s+(?:no|number|reg)|rcs|siret|siren|
            p\.?\s*iva|partita\s+iva|cif|nif)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_DISCLAIMER = re.compile(
    r"confidential|intended\s+(?:solely\s+)?(?:only\s+)?for\s+the\s+(?:use|addressee)|intended\s+recipient|"
    r"vertraulich|konfidensiell|konfidentiell|fortrolig|luottamuksellinen|vertrouwelijk|confidentiel|"
    r"confidencial|riservat|poufn|disclaimer|think\s+before\s+(?:you\s+)?print|"
    r"consider\s+the\s+environment|tenk\s+miljø|tänk\s+på\s+miljön|denken\s+sie\s+an\s+die\s+umwelt|"
    r"general\s+terms|nsab\s*2015|nordic\s+association\s+of\s+freight|ads(?:p)?\b.*(?:gültig|fassung)|"
    r"alle\s+oppdrag\s+utføres|all\s+business\s+is\s+(?:undertaken|transacted)|"
    r"this\s+e-?mail\s+(?:and\s+any|is|may)|denne\s+e-?post(?:en)?\s+(?:og|er|kan)|"
    r"detta\s+e-?(?:post|mejl)(?:meddelande)?\s+(?:och|är|kan)|diese\s+e-?mail\s+(?:und|ist|kann|enthält)|"
    r"denne\s+e-?mail\s+(?:og|er|kan)|ce\s+(?:message|courriel)\s+(?:et|est)|este\s+(?:mensaje|correo)|"
    r"questo\s+messaggio|esta\s+mensagem|ta\s+wiadomość|tämä\s+viesti|dit\s+bericht|deze\s+e-?mail",
    re.IGNORECASE,
)
_NAME_LINE = re.compile(r"^\s*[^\W\d_][\w.'’ -]{0,48}\s*$")

# Forward prefixes of subjects ("VS:" is a forward in Norwegian/Danish, a reply in Finnish).
_SUBJECT_PREFIX = re.compile(r"^\s*([a-zäöå]{1,7})\s*:", re.IGNORECASE)
_FORWARD_PREFIXES = frozenset({"fw", "fwd", "vs", "vb", "wg", "tr", "rv", "i", "enc", "pd", "doorst", "vl",
                               "trs", "inoltro", "reenv"})


@dataclass(frozen=True, slots=True)
class BodyParts:
    """A plain-text body split into its parts."""

    new_text: str
    quoted_text: str = ""
    signature: str = ""
    forwarded_text: str = ""
    forwarded: bool = False


# ----------------------------------------------------------------------------- public API


def split_body(*, text: str, subject: str = "") -> BodyParts:
    """New text, quoted history, signature and forwarded content of a plain-text body."""
    new, quoted, forwarded_text, forwarded = _split(text=text, subject=subject)
    new, signature = split_signature(new)
    return BodyParts(new_text=new, quoted_text=quoted, signature=signature, forwarded_text=forwarded_text,
                     forwarded=forwarded)


def split_quoted(text: str) -> tuple[str, str]:
    """Split a body into (new text, quoted history); forwarded content counts as history here."""
    new, quoted, forwarded_text, _ = _split(text=text, subject="")
    return new, _tidy("\n\n".join(p for p in (quoted, forwarded_text) if p))


def split_signature(text: str) -> tuple[str, str]:
    """Split off a signature: '-- ', mobile footers, a contact block after the sign-off, disclaimers."""
    lines = text.splitlines()
    cut = _signature_start(lines)
    if cut is None:
        return _tidy(text), ""
    return _tidy("\n".join(lines[:cut])), _tidy("\n".join(lines[cut:]))


def is_forward_subject(subject: str) -> bool:
    """Whether the subject's latest prefix marks a forward (FW:, Fwd:, WG:, VS:, VB:, TR:, RV:, I:, ...)."""
    m = _SUBJECT_PREFIX.match(subject or "")
    return bool(m) and m.group(1).lower() in _FORWARD_PREFIXES


# ----------------------------------------------------------------------------- quoting


def _split(*, text: str, subject: str) -> tuple[str, str, str, bool]:
    lines = text.splitlines()
    new: list[str] = []
    quoted: list[str] = []
    forwarded: list[str] = []
    i = 0
    n = len(lines)
    is_forward = False
    while i < n:
        line = lines[i]
        kind, width = _header_at(lines, i)
        if kind == "block":
            # Hotmail and some webmails put "Date:" and "Subject:" above "From:": they belong to the block
            while new and _OTHER_FIELD.match(new[-1]) and not new[-1].lstrip().startswith(">"):
                i -= 1
                new.pop()
        if kind == "forward" or (kind == "block" and is_forward_subject(subject)):
            is_forward = True
            forwarded.extend(lines[i:])
            break
        if kind == "block":
            quoted.extend(lines[i:])
            break
        if kind == "attribution":
            j = i + width
            while j < n and not lines[j].strip():
                j += 1
            if j < n and lines[j].lstrip().startswith(">"):
                # header followed by '>' lines: the quote ends where the '>' lines end
                k = j
                while k < n and (lines[k].lstrip().startswith(">") or not lines[k].strip()):
                    k += 1
                if k < n:
                    quoted.extend(lines[i:k])
                    i = k
                    continue
                quoted.extend(lines[i:])
                break
            quoted.extend(lines[i:])
            break
        if line.lstrip().startswith(">"):
            quoted.append(line)
        else:
            new.append(line)
        i += 1
    return _tidy("\n".join(new)), _tidy("\n".join(quoted)), _tidy("\n".join(forwarded)), is_forward


def _has_content(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def _header_at(lines: list[str], i: int) -> tuple[str | None, int]:
    """What kind of history header starts at line ``i``, and how many lines it spans."""
    line = lines[i]
    stripped = line.strip()
    if not stripped or stripped.startswith(">"):
        return None, 0
    if len(stripped) <= 90 and (_FORWARD_LINE.match(line)):
        return "forward", 1
    if stripped.startswith("-") and _ORIGINAL_LINE.match(line):
        return "block", 1
    if stripped.startswith("_") and _UNDERSCORES.match(line):
        window = lines[i + 1 : i + 3]
        if any(_FROM_FIELD.match(w) for w in window):
            return "block", 1
        return None, 0
    if ":" in stripped[:30] and _FROM_FIELD.match(line):
        window = lines[i + 1 : i + 6]
        if sum(1 for w in window if _OTHER_FIELD.match(w)) >= 1 and _field_block(lines, i):
            return "block", 1
        return None, 0
    ends_colon = stripped.endswith(":")
    if "@" not in stripped and _FIRST_PERSON_WROTE.search(stripped):
        return None, 0
    if ends_colon and len(stripped) <= 400 and _ATTRIBUTION.match(line) and _DATE_OR_ADDRESS.search(line):
        return "attribution", 1
    # Gmail and Apple wrap long attribution lines: try this line joined with the next one or two.
    if not ends_colon and _DATE_OR_ADDRESS.search(line) and not _ends_sentence(line):
        for extra in (1, 2):
            if i + extra >= len(lines) or not lines[i + extra].rstrip().endswith(":"):
                continue
            joined = " ".join(part.strip() for part in lines[i : i + extra + 1])
            if len(joined) <= 400 and _ATTRIBUTION.match(joined):
                return "attribution", extra + 1
    if ends_colon and _BARE_ATTRIBUTION.match(line):
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and lines[j].lstrip().startswith(">"):
            return "attribution", 1
    return None, 0


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith((".", "?", "!"))


def _field_block(lines: list[str], i: int) -> bool:
    """A From: line is a header block when its next lines are header fields, not prose.

    A block names a sender by address ("Kari <kari@x.no>", "[mailto:...]") or, where Exchange shows only a
    display name, carries both a sent/date field and a subject field: "From: Oslo / To: Hamburg / Date:
    12.03." in a transport request is a route, not quoted history.
    """
    fields = 1
    sent = subject = False
    for w in lines[i + 1 : i + 6]:
        if not w.strip():
            break
        if _OTHER_FIELD.match(w):
            fields += 1
            sent |= bool(_SENT_FIELD.match(w))
            subject |= bool(_SUBJECT_FIELD.match(w))
    if fields < 2:
        return False
    value = lines[i].split(":", 1)[1] if ":" in lines[i] else ""
    return bool(_ADDRESS_VALUE.search(value)) or (sent and subject)


# ----------------------------------------------------------------------------- signatures


def _signature_start(lines: list[str]) -> int | None:
    n = len(lines)
    for i, line in enumerate(lines):
        if i > 0 and len(line) < 90 and (_DASHES.match(line) or _MOBILE.match(line)) and _has_content(lines[:i]):
            return i
    # A confidentiality disclaimer paragraph ends the message at the latest (looked for near the end).
    limit = n
    for i in range(max(0, n - 40), n):
        if (_DISCLAIMER.search(lines[i]) and (i == 0 or not lines[i - 1].strip() or _is_short(lines[i - 1]))
                and _has_content(lines[:i]) and i >= n // 3):
            limit = _paragraph_start(lines, i)
            break
    # A contact block after the sign-off: the valediction and the name stay, the rest goes.
    start = _contact_block_start(lines, limit)
    if start is not None:
        return start
    return limit if limit < n else None


def _paragraph_start(lines: list[str], i: int) -> int:
    while i > 0 and lines[i - 1].strip() and not _VALEDICTION.match(lines[i - 1]):
        i -= 1
    return i


def _is_short(line: str) -> bool:
    return len(line.strip()) <= 60


def _contact_block_start(lines: list[str], limit: int) -> int | None:
    """Where a trailing run of short contact-like lines begins, if there is one."""
    end = limit
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    if end == 0:
        return None
    # Walk up over short lines (blank lines allowed) while they look like a signature.
    start = end
    contacts = 0
    nonblank = 0
    i = end - 1
    while i >= 0:
        line = lines[i]
        s = line.strip()
        if not s:
            i -= 1
            continue
        if _VALEDICTION.match(s) or nonblank >= 12 or not _sig_like(s):
            break
        if _CONTACT.search(s):
            contacts += 1
        nonblank += 1
        start = i
        i -= 1
    if contacts == 0 or not _has_content(lines[:start]):
        return None
    valediction_at = i if i >= 0 and _VALEDICTION.match(lines[i].strip()) else None
    if valediction_at is not None:
        # "Kind regards," / "Tom Baker" / <contact lines>: keep the name right after the valediction.
        k = valediction_at + 1
        while k < end and not lines[k].strip():
            k += 1
        if k < end and _NAME_LINE.match(lines[k]) and not _CONTACT.search(lines[k]):
            k += 1
        return k if k < end else (limit if limit < len(lines) else None)
    return start


def _sig_like(line: str) -> bool:
    """A line that may belong to a signature: contact data, or a short line that is not a sentence."""
    if _CONTACT.search(line):
        return True
    words = line.split()
    if len(words) > 7 or line.endswith(("?", "!", ":")):
        return False
    return not (line.endswith(".") and len(words) >= 4)


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t\u00a0]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()
