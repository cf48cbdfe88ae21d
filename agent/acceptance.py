"""Compare what the agent sent with what was drafted, as a whole and per suggestion.

Both texts are reduced to what the agent wrote (quoted history, signature,
HTML and whitespace removed) before comparison. Similarity is rapidfuzz's
normalized Indel similarity (difflib's ratio, much faster); the edit size is
the Levenshtein distance in characters. Thresholds (configuration, with
these defaults):

=================  ==========  ===================================================
outcome            similarity  meaning
=================  ==========  ===================================================
sent_as_is         >= 0.97     only whitespace or a typo changed
edited (light)     >= 0.80     a few words changed ("lightly edited")
edited             >= 0.50     the draft is recognisably the base of the reply
rewritten          >= 0.20     the agent kept little of it
replied_without_   < 0.20      the agent answered on their own, or sent a reply
draft                          while the draft was left untouched in Drafts
=================  ==========  ===================================================

A suggestion survives when its text, with dates in any format reduced to one
canonical form, is found in the reply with a partial-ratio score of at least
``suggestion`` (default 85): reformatting, a changed date format or a word
swapped do not count as rejection.

The thresholds are the process setting ``SHIPDRAFT_ACCEPTANCE`` (JSON, e.g.
``{"as_is": 0.95, "light_edit": 0.85}``; unset keys keep these defaults); the
observer, ``shipdraft eval run`` and ``shipdraft eval replay`` all use it, so
offline predictions and production outcomes are read with the same ruler.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, Levenshtein

from agent.models import Acceptance, AcceptanceOutcome, Suggestion, SuggestionOutcome
from agent.parsing import html_to_text, split_quoted, split_signature
from agent.verifier import normalized_dates

_SKIP_KINDS = frozenset({"greeting", "thanks", "closing"})


class AcceptanceThresholds(BaseModel):
    """Similarity thresholds of the outcomes (0..1, descending) and of a surviving suggestion (0..100)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    as_is: float = Field(default=0.97, ge=0, le=1, description="sent as is at or above this similarity")
    light_edit: float = Field(default=0.80, ge=0, le=1, description="an edit at or above this is a light edit")
    edited: float = Field(default=0.50, ge=0, le=1, description="edited at or above this, rewritten below")
    rewritten: float = Field(default=0.20, ge=0, le=1, description="below this the reply was written without it")
    suggestion: float = Field(default=85.0, ge=0, le=100, description="partial-ratio score of a surviving suggestion")

    @model_validator(mode="after")
    def _descending(self) -> AcceptanceThresholds:
        if not self.as_is >= self.light_edit >= self.edited >= self.rewritten:
            raise ValueError("thresholds must descend: as_is >= light_edit >= edited >= rewritten")
        return self


def comparable_text(text: str) -> str:
    """The agent-written part of a reply: no quoted history, no signature, no HTML, normalized whitespace."""
    if re.search(r"<(?:html|body|div|p|br|table)\b", text, re.IGNORECASE):
        text = html_to_text(text)
    new, _ = split_signature(split_quoted(text)[0])
    return re.sub(r"\s+", " ", new).strip().lower()


def canonical_dates(text: str) -> str:
    """Replace every date by its canonical form so "14.03.2026" and "14 March 2026" compare equal."""
    out, last = [], 0
    for start, end, value in normalized_dates(text):
        out += [text[last:start], value]
        last = end
    return "".join([*out, text[last:]])


def suggestion_outcomes(*, suggestions: Sequence[Suggestion], sent: str,
                        thresholds: AcceptanceThresholds | None = None) -> tuple[SuggestionOutcome, ...]:
    """Which suggestions survive in the sent reply (greeting, thanks and closing are not scored)."""
    t = thresholds or AcceptanceThresholds()
    reply = canonical_dates(comparable_text(sent))
    out = []
    for i, s in enumerate(suggestions):
        if s.kind in _SKIP_KINDS:
            continue
        text = canonical_dates(re.sub(r"\s+", " ", s.text).strip().lower())
        score = fuzz.partial_ratio(text, reply) if text and reply else 0.0
        out.append(SuggestionOutcome(index=i, kind=s.kind, survived=score >= t.suggestion, score=round(score, 1)))
    return tuple(out)


def compare(*, drafted: str, sent: str, thresholds: AcceptanceThresholds | None = None,
            suggestions: Sequence[Suggestion] = (), draft_left_untouched: bool = False) -> Acceptance:
    """Classify a sent reply against its draft."""
    t = thresholds or AcceptanceThresholds()
    a, b = comparable_text(drafted), comparable_text(sent)
    similarity = Indel.normalized_similarity(a, b)
    edit_size = Levenshtein.distance(a, b)
    if draft_left_untouched or similarity < t.rewritten:
        outcome = AcceptanceOutcome.REPLIED_WITHOUT_DRAFT
    elif similarity >= t.as_is:
        outcome = AcceptanceOutcome.SENT_AS_IS
    elif similarity >= t.edited:
        outcome = AcceptanceOutcome.EDITED
    else:
        outcome = AcceptanceOutcome.REWRITTEN
    return Acceptance(
        outcome=outcome, similarity=round(similarity, 4), edit_size=edit_size,
        light_edit=outcome == AcceptanceOutcome.EDITED and similarity >= t.light_edit,
        suggestions=suggestion_outcomes(suggestions=suggestions, sent=sent, thresholds=t)
        if outcome != AcceptanceOutcome.REPLIED_WITHOUT_DRAFT else (),
    )
