"""What the customer asks for: a rule-based, offline, multilingual classifier.

Keyword stems per intent in English, Norwegian, Swedish, Danish, Finnish,
German, Dutch, French, Spanish, Italian, Portuguese and Polish, over the
subject and the new text only (never quoted history, never a forwarded
message: "FW: Booking confirmation" is not a booking request). Several
intents may apply; ``other`` only when none does. A document word counts as a
documents request only in a sentence that asks for something ("send", "need",
"please", a question), not in "the packing list is attached".

``IntentClassifier`` is the interface; an LLM classifier implements the same
``classify`` and can stand in for ``RuleIntentClassifier``.
"""

from __future__ import annotations

import re
from typing import Protocol

from agent.models import Email, Intent

_RULES: dict[Intent, tuple[str, ...]] = {
    Intent.ETA_REQUEST: (
        # en
        r"\beta\b", r"\bwhen\b.{0,50}\b(arriv|deliver|expect|come|land|get here|be (with|at|in) )",
        r"where is", r"where are", r"arrived .{0,40}\byet\b", r"arrival (date|time)", r"(date|time) of arrival",
        r"where (?:our|my|your|the) (?:\w+ )?(?:parcel|package|shipment|container|order|goods|delivery|consignment|"
        r"pallets?|cargo|freight)\b[^?.!]{0,80}?\b(?:is|are)\b",
        r"when will .{0,40}(available|ready)", r"expected (delivery|arrival)", r"how long",
        # no / da / sv
        r"når\b.{0,50}\b(kommer|ankomm|lever|fram|blir|land)",
        r"\bankomst", r"forventet", r"hvor er", r"hvor blir",
        r"hvor (?:(?:vår|vårt|våre|vores|jeres) )?(?:pakke|sending|forsendelse|container|ordre|vare|levering|gods|"
        r"palle)\w*\b[^?.!]{0,80}\b(?:er|befinner)\b",
        r"hvornår", r"när\b.{0,50}\b(kommer|anländ|lever|fram|kan vi|land)",
        r"var är", r"beräknad",
        r"var (?:(?:vårt|vår|våra|mitt|min) )?(?:paket|sändning|försändelse|container|order|varor|gods|leverans|"
        r"pall)\w*\b[^?.!]{0,80}\b(?:är|befinner)\b",
        r"leveranstid", r"leveringstid", r"räkna med",
        # de
        r"wann\b.{0,50}\b(kommt|kommen|ankomm|liefer|geliefert|eintreff|zugestellt|da)", r"ankunft", r"voraussichtlich",
        r"wo (ist|bleibt|befinde)", r"liefertermin (für|von|des|der)", r"eintreffen", r"bis wann",
        r"\bwo (?:unser|mein|ihr|die|der|das)\w* (?:\w+ )?(?:paket|sendung|container|auftrag|ware|lieferung|"
        r"bestellung|palette)\w*\b[^?.!]{0,80}?\b(?:ist|sind|bleibt)\b",
        # fi
        r"milloin", r"arvioitu", r"saapumis", r"missä (on|ovat|viipyy)", r"toimitusaika",
        # nl
        r"wanneer\b.{0,50}\b(geleverd|aankom|komt|arriveer|bezorgd|lever)", r"verwachte (aankomst|levering)",
        r"waar (is|blijft)", r"levertijd",
        # fr
        r"quand\b.{0,50}\b(arriv|livr)", r"date (d'arrivée|de livraison) prévue", r"où (est|en est|se trouve)",
        r"délai de livraison", r"arrivée prévue",
        # es
        r"cuándo\b.{0,50}\b(lleg|entreg)", r"fecha (estimada|prevista) de (llegada|entrega)",
        r"dónde está", r"plazo de entrega",
        # it
        r"quando\b.{0,50}\b(arriv|consegn)", r"data (prevista|stimata) di (arrivo|consegna)", r"dove si trova",
        # pt
        r"quando\b.{0,50}\b(cheg|entreg)", r"previsão de (chegada|entrega)", r"onde está",
        # pl
        r"kiedy\b.{0,50}\b(dotrze|dojdzie|przyjedzie|dostarcz|będzie)", r"przewidywan\w* (termin|dat)",
        r"gdzie (jest|są)",
    ),
    Intent.STATUS_REQUEST: (
        r"\bstatus\b", r"update (on|about|regarding|for|zur|zum|zu (der|dem|unserer|unserem))\b",
        r"\b(any|an|ein|some) update\b", r"any (news|update)", r"has .{0,30}(shipped|been sent|left)",
        r"how far (along )?(is|are)", r"hvor langt", r"hur långt", r"hvor langt er",
        r"har (ni|dere|du|i) (skickat|sendt|afsendt)", r"(haben|habt) (sie|ihr) .{0,30}(verschickt|versandt)",
        r"been (shipped|dispatched)", r"in production", r"on (track|schedule)",
        r"sendt\b", r"skickats", r"afsendt", r"versendet", r"verschickt", r"stand (der|unserer|unseres|ihrer|ihres)",
        r"oppdatering", r"uppdatering", r"opdatering", r"hvordan (går det|ligger det an)", r"hur går det",
        r"i rute", r"nyheter", r"nyt om", r"order ?confirmation", r"ordrebekreftelse", r"orderbekräftelse",
        r"ordrebekræftelse", r"auftragsbestätigung", r"tagit emot", r"mottatt (ordren|bestillingen)",
        r"received (our|the) order",
        r"tilanne", r"lähetetty", r"päivitys",
        r"stand van zaken", r"verzonden",
        r"statut", r"état de", r"expédiée?s?\b", r"mise à jour",
        r"estado", r"enviad[oa]", r"novedades", r"actualización",
        r"lo stato (di|della|del|dell)", r"spedit[oa]", r"aggiornamento", r"novità",
        r"situação", r"atualização", r"novidades",
        r"wysłan", r"aktualizacj", r"jaki jest status",
    ),
    Intent.DELIVERY_CHANGE: (
        r"change (the |of )?(delivery|address|date)", r"new (delivery )?address", r"reschedul",
        r"deliver (it |them )?(to|on) .{0,40}instead", r"postpone", r"instead of", r"move the delivery",
        r"different address", r"earlier delivery",
        r"endre (levering|adresse|dato)", r"ny (leverings)?adresse", r"utsett", r"flytte leveringen",
        r"annen adresse", r"ändra (leverans|adress|datum)", r"ny adress", r"skjut(a)? upp", r"i stället för",
        r"\bændre\b", r"ændring af (lever|adresse|dato)", r"udskyd", r"anden adresse", r"flytte leveringen",
        r"lieferadresse ändern", r"neue (liefer)?adresse", r"verschieben", r"andere adresse",
        r"liefertermin ändern", r"(liefer)?adresse .{0,40}ändern",
        r"(liefer(adresse|anschrift|termin|datum)|anschrift)\b[^?!]{0,140}?\b(ändern|abändern|anpassen|korrigieren)\b",
        r"nicht nach\s.{0,40}sondern", r"umleiten",
        r"muuttaa toimitus", r"toimitusosoite", r"siirtää toimitu", r"siirtää toimitus",
        r"leveradres", r"levering (verplaatsen|uitstellen)", r"ander adres", r"verplaatsen",
        r"(modifier|changer) l'adresse", r"reporter la livraison", r"adresse de livraison", r"décaler",
        r"cambiar la dirección", r"(aplazar|posponer) la entrega", r"dirección de entrega",
        r"(cambiare|modificare) l'indirizzo", r"(rimandare|posticipare) la consegna", r"indirizzo di consegna",
        r"alterar a (morada|endereço)", r"adiar a entrega", r"morada de entrega", r"endereço de entrega",
        r"zmieni\w* adres", r"przełoż\w* dostaw", r"zmian\w* (adresu|terminu)", r"adres dostawy",
    ),
    Intent.CANCELLATION: (
        r"\bcancel(?!led)", r"kanseller(?!t)", r"avbestill(?!t)", r"annuller(?!et)", r"avbeställ(?!d)",
        r"afbestil(?!t)", r"makuler(?!ad|t)",
        r"stornieren", r"storniere\b", r"stornierung (von|des|der|für|unser)", r"annulla(?!t)",
        r"annuler", r"\banul(ar|en|e|amos)\b", r"cancelar", r"cancella", r"anulowa",
        r"peruut", r"peru(ta|mme|tamme)\b",
        r"annuleren", r"annuleer", r"storno\b", r"trekke tilbake bestillingen",
    ),
    Intent.DAMAGE_OR_CLAIM: (
        r"damage", r"broken", r"missing (items|parts|pallets?|goods|cartons|boxes|cases)", r"\bclaim", r"shortage",
        r"\b\d+ \w+ (are |were )?missing",
        r"\b(\d+|to|tre|fire|två|fyra|zwei|drei|vier|deux|trois|dos|tres|due|duas|dwie|trzy|kaksi|kolme|twee|drie)"
        r" \w+ (mangler|saknas|fehlen|fehlt|brakuje|faltan|faltam|mancano|ontbreken|manquent|puuttuu)",
        r"(mangler|saknas|fehlen|brakuje|faltan|faltam|mancano|ontbreken|manquent|puuttuu) \d+",
        r"crushed", r"wet\b", r"\bleak",
        r"skade", r"ødelagt", r"reklamasjon", r"reklamere", r"knust",
        r"skada", r"trasig", r"reklamation", r"reklamera", r"krossad",
        r"beskadig", r"itu\b", r"reklamere",
        r"beschädig", r"schaden", r"kaputt", r"bruch", r"nass",
        r"vaurio", r"rikki", r"reklamaatio", r"vahing",
        r"beschadigd", r"kapot", r"schade",
        r"endommag", r"cassé", r"avarie",
        r"dañad", r"\broto\b", r"\brotos\b", r"\b(llegó|llegaron|está|están|estaba|estaban) rot[ao]s?\b",
        r"reclamación",
        r"danneggiat", r"rott[aoie]\b", r"reclamo",
        r"danificad", r"partid[oa]s?\b", r"avariad", r"reclamação",
        r"uszkodz", r"zniszcz", r"reklamacj", r"szkod",
        r"våt\b",
    ),
    Intent.BOOKING_REQUEST: (
        r"\bbook\b", r"\bbooking (request|enquiry|inquiry)",
        r"quote for", r"quotation", r"rate request", r"pick ?up request", r"request a pick ?up",
        r"transport request", r"(spot )?rate for",
        r"bestille transport", r"booke\b", r"pristilbud", r"tilbud på", r"prisforespørsel",
        r"\bboka\b", r"offert", r"upphämtning av",
        r"\b(hente|hämta|afhente|abholen|collect|pick up)\b[^?.!]{0,60}\b(\d+|en|ett|et|eine?n?|one|two|three|four|"
        r"to|tre|fire|två|fyra|zwei|drei|vier) (eur-?|euro)?(pall|palle|palett)",
        r"\b\d+ (eur-?|euro)?(pall\w*|palle\w*|palett\w*)\b[^?.!]{0,60}\b(hente|hämta|afhente|abholen|collect|"
        r"pick(ed)? up)\b",
        r"bestille afhentning", r"afhentning af",
        r"\bbuchen\b", r"angebot", r"transportanfrage", r"abholung buchen",
        r"varata", r"tarjou", r"noud(on|ot) ",
        r"\bboeken\b", r"offerte", r"transportaanvraag",
        r"réserver", r"devis", r"cotation", r"demande d'enlèvement",
        r"\breservar\b", r"cotización", r"presupuesto", r"solicitud de recogida",
        r"prenotare", r"preventivo", r"quotazione", r"richiesta di ritiro",
        r"cotação", r"orçamento", r"pedido de recolha", r"agendar (a )?(recolha|coleta)",
        r"zarezerwowa", r"wycen", r"zlecenie transportu", r"zamówić transport", r"zamówić odbiór",
    ),
    Intent.COMPLAINT: (
        r"unacceptable", r"disappointed", r"not happy", r"complain", r"again late", r"third time",
        r"second time", r"once again", r"poor service", r"frustrat",
        r"uakseptabelt", r"skuffet", r"ikke greit", r"tredje gang", r"andre gang", r"klage\b", r"klager\b",
        r"ikke i orden",
        r"oacceptabelt", r"besvik", r"klagomål", r"tredje gången", r"andra gången",
        r"uacceptabelt", r"skuffe",
        r"inakzeptabel", r"enttäuscht", r"beschwerde", r"(zweite|dritte) mal", r"unzufrieden", r"ärgerlich",
        r"ei ole hyväksyttävää", r"petty", r"valitus", r"kolmas kerta", r"jälleen myöhässä",
        r"onacceptabel", r"teleurgesteld", r"klacht", r"derde keer", r"alweer",
        r"inacceptable", r"déçu", r"plainte", r"troisième fois", r"encore une fois",
        r"inaceptable", r"decepcionad", r"queja", r"tercera vez", r"otra vez",
        r"inaccettabile", r"delus[oi]", r"lamentela", r"terza volta", r"ancora una volta",
        r"inaceitável", r"desiludid", r"queixa", r"terceira vez", r"mais uma vez",
        r"nie do przyjęcia", r"niedopuszczaln", r"rozczarowan", r"skarg", r"po raz kolejny", r"trzeci raz",
    ),
}
_DOCUMENT_NOUNS = re.compile(
    r"\bpod\b|proof of delivery|invoice copy|(send|resend|need|forward) (us |me )?(the |a |an )?(\w+ )?invoice|"
    r"copy of .{0,20}invoice|\bcmr\b|packing list|bill of lading|\bb/l\b|"
    r"certificate|commercial invoice|delivery note|documents?\b|paperwork|signed (cmr|receipt)|"
    r"pakkliste|packlista|pakkeliste|packliste|lieferschein|konossement|fraktbrev|fraktsedel|fragtbrev|"
    r"kopi av faktura|fakturakopi|kopia på faktura|fakturakopia|kopia av fakturan|kopi af faktura|"
    r"rechnungskopie|kopie der (handels)?rechnung|leveringsbevis|leveransbevis|kvittering|"
    r"zustellnachweis|ablieferbeleg|ablieferungsnachweis|frachtbrief|ursprungszeugnis|dokument|"
    r"sertifikat|certifikat|zertifikat|unterlagen|temperaturlogg|temperature log|"
    r"toimitustodistu|laskun kopio|kopio laskusta|pakkauslista|rahtikirja|asiakirj|"
    r"afleverbewijs|kopie (van de )?factuur|paklijst|pakbon|vrachtbrief|\bdocumenten\b|"
    r"(send|resend|forward|sende|skicka|senden|schicken|zusenden|sturen|toesturen|envoyer|renvoyer|enviar|"
    r"reenviar|inviare|przesła\w*|lähettä\w*)\b.{0,25}\b(invoice|faktur\w*|rechnung|lasku\w*|factu\w*|"
    r"fattur\w*|fatura)|"
    r"preuve de livraison|copie de (la )?facture|liste de colisage|lettre de voiture|documents?\b|"
    r"prueba de entrega|copia de (la )?factura|lista de (empaque|embalaje)|albarán|documentos?\b|"
    r"prova di consegna|copia (della )?fattura|lista di imballaggio|\bddt\b|documenti\b|"
    r"comprovativo de entrega|comprovante de entrega|cópia da fatura|lista de embalagem|romaneio|"
    r"potwierdzeni\w* dostawy|kopi\w* faktury|list\w* przewozow|specyfikacj\w*|list\w* pakowania|dokument\w*",
)  # matched against lower-cased text
_REQUEST_CUES = re.compile(
    r"\?|please|pls|could you|can you|would you|send|need|require|provide|forward|share|mail (it|us|me)|"
    r"kan dere|kan du|send|sende|trenger|behøver|trenger|ønsker|gjerne|vennligst|"
    r"kan ni|skicka|behöver|vill ha|mejla|snälla|vänligen|kan i|venligst|har brug for|"
    r"bitte|senden|schicken|benötigen|brauchen|übermitteln|zukommen|"
    r"voisitte|lähettä|tarvitse|pyydä|"
    r"kunt u|kunnen jullie|sturen|toesturen|nodig|graag|"
    r"pourriez|pouvez|envoyer|merci de|besoin|"
    r"podría|pueden|puede|enviar|envíen|necesit|"
    r"potete|potreste|inviare|invia|abbiamo bisogno|serve\b|"
    r"podem|poderiam|enviar|precis|"
    r"prosz|czy mogą|przesła|potrzebuj",
    re.IGNORECASE,
)
# "B/L no. MAEU123456789", "delivery note LS-550115": the document word labels a reference, it asks for nothing.
_REFERENCE_AFTER = re.compile(r"\s*(?:no\.?|nr\.?|n[.°º]+|number|nummer|#|:)\s*[A-Z]{0,4}[- ]?\d{3,}", re.IGNORECASE)
_LABEL_NOUN = re.compile(r"b/l|bill of lading|delivery note|cmr|lieferschein|pakbon|følgeseddel|följesedel|albarán|"
                         r"ddt|fraktbrev|frachtbrief", re.IGNORECASE)
_VALUE_AFTER = re.compile(r"\s*[A-Z]{0,4}[- ]?\d{3,}", re.IGNORECASE)
_ATTACHED = re.compile(
    r"attached|enclosed|vedlagt|vedlegg|bifogat|bifogad|vedhæftet|anbei|im anhang|beigefügt|liitteenä|liitteen|"
    r"bijgevoegd|in de bijlage|ci-joint|en pièce jointe|adjunto|en anexo|in allegato|allegat[oa]|em anexo|"
    r"w załączniku|załączam")
_STRONG_REQUEST = re.compile(
    r"\b(send|resend|need|require|sende|trenger|skicka|behöver|har brug|senden|schicken|benötigen|envoyer|besoin|"
    r"enviar|necesit|inviare|bisogno|precis|przesła|potrzebuj|lähettä|tarvitse|sturen|nodig)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
# DOTALL: mail text is hard-wrapped, so "when ... arrive" is often split over two lines.
# The text is lower-cased once and capped, so the patterns run without IGNORECASE (several times faster).
def _lookahead(rules: tuple[str, ...]) -> str:
    """A lookahead on the first letter of every rule, when each starts with a letter (after ``\\b``)."""
    firsts = set()
    for rule in rules:
        head = rule[2:] if rule.startswith("\\b") else rule
        if not head or not head[0].isalpha():
            return ""
        firsts.add(head[0])
    return "(?=[" + "".join(sorted(firsts)) + "])"


_COMPILED = {intent: re.compile(_lookahead(rules) + "(?:" + "|".join(rules) + ")", re.DOTALL)
             for intent, rules in _RULES.items()}
_MAX_CHARS = 2500  # what a customer asks for is said early; long bodies are logs and pasted documents
_ORDER = (Intent.ETA_REQUEST, Intent.STATUS_REQUEST, Intent.DELIVERY_CHANGE, Intent.CANCELLATION,
          Intent.DAMAGE_OR_CLAIM, Intent.DOCUMENTS_REQUEST, Intent.BOOKING_REQUEST, Intent.COMPLAINT)


# "Thanks for the update" acknowledges a status, it does not ask for one: removed before the rules run.
_THANKS = re.compile(
    r"(?:thanks?|thank you|many thanks|takk|tack|tak|danke|vielen dank|bedankt|dank je|dank u|merci|gracias|"
    r"grazie|obrigad[oa]|dziękuję|dzięki|kiitos)\s+(?:(?:for|för|für|voor|pour|por|per|pela|pelo|za)\s+)?"
    r"(?:(?:the|your|this|das|die|den|de|la|l'|el|il|o|a|din|deres|dere|ditt|er|jeres)\s+)?"
    r"(?:update|oppdatering\w*|uppdatering\w*|opdatering\w*|aktualisierung|mise à jour|actualización|"
    r"aggiornamento|atualização|aktualizacj\w*|päivityksestä|status ?update|info\w*|rückmeldung|svar\w*|"
    r"reply|response)"
)


# "Vi må booke bil for uttak", "we need to book a truck": the customer books its own vehicle, it asks us for
# nothing; removed before the rules run (a request to us says "can you book", "please book", ...).
_OWN_BOOKING = re.compile(
    r"\b(?:vi|we|wir|jeg|jag|i)\s+(?:må|skal|måste|ska|need to|have to|must|will|'ll|müssen|werden|sollen)\s+"
    r"(?:også\s+|även\s+|also\s+|auch\s+|selv\s+|själva\s+)?(?:booke|boka|book|bestille|beställa|bestelle?n?)\s+"
    r"(?:en\s+|ett\s+|a\s+|our own\s+|einen\s+)?"
    r"(?:bil|lastebil|lastbil|vogn|truck|lorry|vehicle|driver|sjåfør|chaufför)\b"
    r"|\bwir\s+(?:müssen|werden)\s+(?:noch\s+|auch\s+)?(?:einen\s+)?(?:lkw|wagen|fahrer)\s+(?:buchen|bestellen)\b"
)


class IntentClassifier(Protocol):
    """What the customer asks for in one email; several intents may apply, ``other`` when none does."""

    def classify(self, *, email: Email) -> tuple[Intent, ...]: ...


class RuleIntentClassifier:
    """Keyword rules over the subject and the new text (never the quoted history or a forward)."""

    def classify(self, *, email: Email) -> tuple[Intent, ...]:
        subject = _strip_prefixes(email.subject)
        text = _THANKS.sub(" ", f"{subject}\n\n{email.reply_text}"[:_MAX_CHARS].lower())
        text = _OWN_BOOKING.sub(" ", text)
        found = []
        for intent in _ORDER:
            if intent == Intent.DOCUMENTS_REQUEST:
                if _asks_for_documents(text):
                    found.append(intent)
            elif _COMPILED[intent].search(text):
                found.append(intent)
        return tuple(found) or (Intent.OTHER,)


def _asks_for_documents(text: str) -> bool:
    if not _DOCUMENT_NOUNS.search(text):
        return False
    for sentence in _SENTENCE.split(text):
        nouns = [m for m in _DOCUMENT_NOUNS.finditer(sentence) if not _labels_a_reference(sentence, m)]
        if not nouns or not _REQUEST_CUES.search(sentence):
            continue
        if _ATTACHED.search(sentence) and not _STRONG_REQUEST.search(sentence):
            continue  # "please find the packing list attached": the customer sends, not asks
        return True
    return False


def _labels_a_reference(sentence: str, m: re.Match[str]) -> bool:
    if _REFERENCE_AFTER.match(sentence, m.end()):
        return True
    return bool(_LABEL_NOUN.fullmatch(m.group(0)) and _VALUE_AFTER.match(sentence, m.end()))


_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|vb|wg|fw|fwd|tr|rv|r|i|enc|res|odp|pd|vl|antw|doorst)\s*:\s*)+",
                     re.IGNORECASE)


def _strip_prefixes(subject: str) -> str:
    """Subjects without "RE:", "SV:", "FW:", "WG:", ... (a forward's subject says what was forwarded)."""
    m = _PREFIX.match(subject)
    if m and re.search(r"(?:fw|fwd|wg|vb|tr|rv|i|enc|pd|vl|doorst)\s*:", m.group(0), re.IGNORECASE):
        return ""  # "FW: Booking confirmation 123": the subject belongs to the forwarded message
    return subject[m.end():] if m else subject
