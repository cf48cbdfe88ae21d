"""agent.language: short business emails in the twelve served languages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agent.language import detect_language
from agent.parsing import parse_email
from tests.helpers import make_email

SAMPLES_FILE = Path(__file__).resolve().parents[2] / "evals" / "understanding" / "language_samples.yaml"

SAMPLES: dict[str, list[str]] = {
    "no": [
        "Hei, når kommer ordre NK204117? Vi har ikke fått noen beskjed.",
        "Kan dere sende meg fakturakopi for bestillingen? Takk.",
        "Hei! Hva er status på leveransen vår? Mvh Kari",
        "Varene er forsinket. Når blir de levert til lageret i Bergen?",
        "Takk for svaret. Jeg venter på oppdatering fra dere.",
        "Sendingen er ikke kommet fram ennå. Kan dere sjekke hvor den er?",
        "Hei, kan dere bekrefte at ordren er sendt i dag?",
    ],
    "sv": [
        "Hej, när kommer beställning 204312? Vi har inte fått någon bekräftelse.",
        "Kan ni skicka en kopia på fakturan? Tack.",
        "Hej! Vad är status på vår leverans? Mvh Anna",
        "Varorna är försenade. När blir de levererade till lagret i Göteborg?",
        "Tack för svaret. Jag väntar på en uppdatering från er.",
        "Sändningen har inte kommit fram ännu. Kan ni kolla var den är?",
        "Vi vill ändra leveransadressen. Vänliga hälsningar Anna",
    ],
    "da": [
        "Hej, hvornår kommer ordre 204117? Vi har ikke fået nogen besked.",
        "Kan I sende mig en kopi af fakturaen? Tak.",
        "Hej! Hvad er status på vores levering? Venlig hilsen Mette",
        "Varerne er forsinket. Hvornår bliver de leveret til lageret i Aarhus?",
        "Tak for svaret. Jeg venter på en opdatering fra jer.",
        "Forsendelsen er ikke kommet frem endnu. Kan I tjekke hvor den er?",
        "Vi vil gerne ændre leveringsadressen. Venlig hilsen Mette",
    ],
    "de": [
        "Guten Tag, wann kommt der Auftrag 204203 in Hamburg an?",
        "Können Sie uns bitte eine Rechnungskopie schicken? Danke.",
        "Hallo, wie ist der Stand unserer Bestellung? Mit freundlichen Grüßen",
        "Die Ware ist noch nicht angekommen. Wo bleibt die Sendung?",
        "Sehr geehrte Damen und Herren, die Lieferung ist verspätet.",
        "Bitte liefern Sie an die neue Adresse. Danke und Gruß",
    ],
    "en": [
        "Hi, when will order NK204401 arrive? Thanks, Tom",
        "Could you please send us a copy of the invoice?",
        "Hello, what is the status of our shipment? Kind regards",
        "The delivery is late again. Where is the container now?",
        "Dear team, please change the delivery address for this order.",
        "Thank you for the update, we will wait for the new ETA.",
    ],
}


@pytest.mark.parametrize(("expected", "text"), [(lang, t) for lang, texts in SAMPLES.items() for t in texts])
def test_short_business_emails(expected: str, text: str) -> None:
    assert detect_language(text=text) == expected


@pytest.mark.parametrize("default", ["en", "no", "de"])
def test_empty_or_wordless_text_gives_the_default(default: str) -> None:
    assert detect_language(text="", default=default) == default
    assert detect_language(text="   \n\t", default=default) == default
    assert detect_language(text="NK204117 / 12.11.2026 - 42 !!", default=default) == default


def test_default_default_is_english() -> None:
    assert detect_language(text="") == "en"


def test_parse_email_detects_the_new_text_not_the_quoted_history() -> None:
    body = (
        "Hei, takk for svaret. Når kommer resten av ordren? Vi har ikke fått noe ennå.\n\n"
        "On Fri, 20 Nov 2026 at 13:12, Ops <ops@nordkyst-logistikk.example> wrote:\n"
        "> Dear Kari, thank you for your email. Your order has been shipped and we will\n"
        "> send you the tracking link when we have it. The delivery is expected this week.\n"
        "> Please let us know if you have any questions. Kind regards, the customer service team\n"
    )
    em = parse_email(raw=make_email(subject="SV: Ordre NK204125", body=body))
    assert em.language == "no"


def _samples() -> list[tuple[str, str]]:
    data = yaml.safe_load(SAMPLES_FILE.read_text(encoding="utf-8"))
    return [(lang, text) for lang, texts in data.items() for text in texts]


@pytest.mark.parametrize(("expected", "text"), _samples())
def test_the_language_samples_of_twelve_languages(expected: str, text: str) -> None:
    assert detect_language(text=text) == expected


def test_the_samples_cover_every_served_language() -> None:
    from agent.language import SUPPORTED

    assert {lang for lang, _ in _samples()} == set(SUPPORTED)
    assert sum(1 for lang, _ in _samples() if lang in ("no", "sv", "da")) >= 50


def test_nynorsk_counts_as_norwegian() -> None:
    assert detect_language(text="Kva tid kjem varene fram? Vi har ikkje fått noko melding frå dykk enno.") == "no"


def test_a_swedish_only_word_does_not_outvote_the_model_on_norwegian() -> None:
    # "godset" is Swedish too; the model reads Norwegian or Danish, and Swedish is not among its plausible answers
    assert detect_language(text="Godset kom frem med skader, tre kolli er knust.") == "no"
