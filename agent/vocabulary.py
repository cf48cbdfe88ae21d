"""Words the drafters write and the verifier checks: status phrases, months, weekdays.

Status phrases are what a reply says about an order or a shipment. The
verifier treats each phrase as a claim of its status code, so a draft may
only say "delivered" when a fact says ``delivered``. Only phrases that carry
a status on their own are listed for checking: words such as "confirmed" or
"open" are too common in ordinary sentences ("we will confirm") to be
treated as claims.
"""

from __future__ import annotations

# The normalized status vocabulary, rendered per language (used by the template drafter).
STATUS_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "open": "received and open", "confirmed": "confirmed", "in_production": "in production",
        "ready_for_pickup": "ready for pickup", "shipped": "shipped",
        "partially_shipped": "partially shipped", "delivered": "delivered", "cancelled": "cancelled",
        "on_hold": "on hold", "booked": "booked with the carrier", "picked_up": "picked up by the carrier",
        "in_transit": "in transit", "at_port": "at the port", "customs_hold": "held in customs",
        "out_for_delivery": "out for delivery", "exception": "reported with a delivery exception",
        "delayed": "delayed", "picking": "being picked", "picked": "picked", "packed": "packed",
    },
    "no": {
        "open": "mottatt og åpen", "confirmed": "bekreftet", "in_production": "i produksjon",
        "ready_for_pickup": "klar for henting", "shipped": "sendt", "partially_shipped": "delvis sendt",
        "delivered": "levert", "cancelled": "kansellert", "on_hold": "satt på vent",
        "booked": "booket hos transportøren", "picked_up": "hentet av transportøren",
        "in_transit": "underveis", "at_port": "på havnen", "customs_hold": "holdt tilbake i tollen",
        "out_for_delivery": "ute for levering", "exception": "meldt med avvik", "delayed": "forsinket",
        "picking": "under plukking", "picked": "plukket", "packed": "pakket",
    },
    "sv": {
        "open": "mottagen och öppen", "confirmed": "bekräftad", "in_production": "i produktion",
        "ready_for_pickup": "klar för upphämtning", "shipped": "skickad",
        "partially_shipped": "delvis skickad", "delivered": "levererad", "cancelled": "avbeställd",
        "on_hold": "pausad", "booked": "bokad hos transportören", "picked_up": "hämtad av transportören",
        "in_transit": "under transport", "at_port": "i hamnen", "customs_hold": "stoppad i tullen",
        "out_for_delivery": "ute för leverans", "exception": "rapporterad med avvikelse",
        "delayed": "försenad", "picking": "under plockning", "picked": "plockad", "packed": "packad",
    },
    "da": {
        "open": "modtaget og åben", "confirmed": "bekræftet", "in_production": "i produktion",
        "ready_for_pickup": "klar til afhentning", "shipped": "afsendt",
        "partially_shipped": "delvist afsendt", "delivered": "leveret", "cancelled": "annulleret",
        "on_hold": "sat i bero", "booked": "booket hos transportøren",
        "picked_up": "afhentet af transportøren", "in_transit": "undervejs", "at_port": "på havnen",
        "customs_hold": "tilbageholdt i tolden", "out_for_delivery": "ude til levering",
        "exception": "meldt med afvigelse", "delayed": "forsinket", "picking": "under pluk",
        "picked": "plukket", "packed": "pakket",
    },
    "de": {
        "open": "eingegangen und offen", "confirmed": "bestätigt", "in_production": "in Produktion",
        "ready_for_pickup": "abholbereit", "shipped": "versandt", "partially_shipped": "teilweise versandt",
        "delivered": "zugestellt", "cancelled": "storniert", "on_hold": "angehalten",
        "booked": "beim Frachtführer gebucht", "picked_up": "vom Frachtführer abgeholt",
        "in_transit": "unterwegs", "at_port": "im Hafen", "customs_hold": "im Zoll angehalten",
        "out_for_delivery": "in der Zustellung", "exception": "mit einer Abweichung gemeldet",
        "delayed": "verspätet", "picking": "in der Kommissionierung", "picked": "kommissioniert",
        "packed": "verpackt",
    },
}

# Phrases that claim a status whatever the sentence around them; code -> phrases in every language.
STATUS_CLAIMS: dict[str, tuple[str, ...]] = {
    "delivered": ("delivered", "levert", "ble levert", "levererad", "levererades", "leveret", "blev leveret",
                  "zugestellt", "geliefert", "ausgeliefert"),
    # Norwegian "sendt" is also "sent" ("vi har sendt"): only its status forms count
    "shipped": ("shipped", "has been shipped", "dispatched", "er sendt", "ble sendt", "blitt sendt", "skickad",
                "skickats", "afsendt", "versandt", "verschickt"),
    "partially_shipped": ("partially shipped", "partly shipped", "delvis sendt", "delvis skickad",
                          "delvist afsendt", "teilweise versandt", "teilgeliefert"),
    "in_transit": ("in transit", "on its way", "on the way", "underveis", "under transport", "undervejs",
                   "unterwegs"),
    "delayed": ("delayed", "late", "forsinket", "försenad", "verspätet", "verzögert"),
    "customs_hold": ("held in customs", "customs hold", "stuck in customs", "holdt tilbake i tollen",
                     "stoppad i tullen", "tilbageholdt i tolden", "im zoll angehalten", "zollstopp"),
    "out_for_delivery": ("out for delivery", "ute for levering", "ute för leverans", "ude til levering",
                         "in der zustellung"),
    "cancelled": ("cancelled", "canceled", "kansellert", "avbestilt", "avbeställd", "annulleret", "storniert"),
    "on_hold": ("on hold", "satt på vent", "pausad", "sat i bero", "angehalten"),
    "at_port": ("at the port", "in port", "på havnen", "i hamnen", "im hafen"),
    "picked_up": ("picked up", "collected", "hentet", "hämtad", "afhentet", "abgeholt"),
    "ready_for_pickup": ("ready for pickup", "ready for collection", "klar for henting", "klar för upphämtning",
                         "klar til afhentning", "abholbereit"),
    "in_production": ("in production", "i produksjon", "i produktion", "in produktion"),
    "exception": ("delivery exception", "meldt med avvik", "rapporterad med avvikelse", "meldt med afvigelse",
                  "mit einer abweichung gemeldet"),
    "packed": ("packed", "pakket", "packad", "verpackt"),
    "picked": ("picked", "plukket", "plockad", "kommissioniert"),
    "picking": ("being picked", "under plukking", "under plockning", "under pluk", "in der kommissionierung"),
}

MONTHS: dict[str, int] = {}
for _names in (
    "january february march april may june july august september october november december",
    "januar februar mars april mai juni juli august september oktober november desember",
    "januari februari mars april maj juni juli augusti september oktober november december",
    "januar februar marts april maj juni juli august september oktober november december",
    "januar februar märz april mai juni juli august september oktober november dezember",
):
    for _i, _name in enumerate(_names.split(), start=1):
        MONTHS.setdefault(_name, _i)
        MONTHS.setdefault(_name[:3], _i)
MONTHS.update({"sept": 9, "mrz": 3, "maerz": 3, "okt": 10, "des": 12, "dez": 12})

WEEKDAYS: dict[str, int] = {}
for _names in (
    "monday tuesday wednesday thursday friday saturday sunday",
    "mandag tirsdag onsdag torsdag fredag lørdag søndag",
    "måndag tisdag onsdag torsdag fredag lördag söndag",
    "mandag tirsdag onsdag torsdag fredag lørdag søndag",
    "montag dienstag mittwoch donnerstag freitag samstag sonntag",
):
    for _i, _name in enumerate(_names.split()):
        WEEKDAYS.setdefault(_name, _i)
