"""word_alternation matches exactly what a longest-first alternation of the same words matches."""

from __future__ import annotations

import random
import re

import pytest

from agent.vocabulary import STATUS_CLAIMS
from agent.word_trie import word_alternation


def _both(words: list[str], flags: int = 0) -> tuple[re.Pattern[str], re.Pattern[str]]:
    plain = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return (re.compile(rf"\b({plain})\b", flags), re.compile(rf"\b({word_alternation(words)})\b", flags))


def test_prefixes_and_shared_stems_match_longest_first() -> None:
    words = ["deliver", "delivered", "delivery", "on hold", "on", "in transit", "in", "a.b", "a+b"]
    reference, trie = _both(words)
    text = "delivered on hold, in transit; a.b deliveryman delivery in on a+b onhold deliver"
    assert [m.group(1) for m in trie.finditer(text)] == [m.group(1) for m in reference.finditer(text)]
    assert [m.group(1) for m in trie.finditer(text)][:4] == ["delivered", "on hold", "in transit", "a.b"]


def test_random_vocabularies_agree_with_the_plain_alternation() -> None:
    rng = random.Random(20261206)
    alphabet = "abcæøå .-"
    for _ in range(200):
        words = list({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))).strip() or "x"
                      for _ in range(rng.randint(1, 30))})
        reference, trie = _both(words, re.IGNORECASE)
        text = "".join(rng.choice(alphabet + "ABÆ") for _ in range(300))
        assert [m.span(1) for m in trie.finditer(text)] == [m.span(1) for m in reference.finditer(text)], words


def test_the_status_vocabulary_compiles_and_matches_every_phrase_in_any_case() -> None:
    phrases = [p.lower() for ps in STATUS_CLAIMS.values() for p in ps]
    _, trie = _both(phrases, re.IGNORECASE)
    for phrase in phrases:
        assert trie.search(f"It is {phrase.upper()} now").group(1).lower() == phrase  # type: ignore[union-attr]


def test_no_words_is_an_error() -> None:
    with pytest.raises(ValueError):
        word_alternation([])
    with pytest.raises(ValueError):
        word_alternation(["ok", ""])
