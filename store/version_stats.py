"""Acceptance per prompt version of a mailbox, with Wilson intervals, for side-by-side comparison.

A draft counts for its *arm*: the version the rollout assigned to its message
(``prompt_assignments``), or, for drafts written without a rollout selector
(the template drafter), the ``template_version`` on the draft. A draft the
template drafter wrote because the LLM failed or its output was unsupported
therefore still counts for the prompt version that was tried (intent to
treat), and ``fallbacks`` shows how often that happened. The window
(``since``/``until``) applies to when the draft was written, which is when
the version was in force.

Denominators hold the drafts with an outcome except ``superseded`` (a newer
customer message replaced the draft before anyone could use it), as in
``store.metrics``; ``pending`` counts drafts without an outcome yet. The
rates: ``sent_as_is`` (sent unchanged), ``as_is_or_light`` (plus lightly
edited) and ``accepted`` (sent as is or edited at all: not rewritten, not
answered without the draft, not discarded or expired); ``suggestions`` is
the share of scored suggestions that survived in the sent replies. Each has
its Wilson score interval, and against a baseline version Newcombe's
interval of the difference, so 3 of 4 is never read as better than 60 of 100.
"""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, ConfigDict, Field

from agent.models import AcceptanceOutcome
from agent.stats import DEFAULT_CONFIDENCE, Difference, Proportion, difference, proportion
from store.errors import StoreError


class BaselineError(StoreError):
    """The baseline names no version, or a name shared by several versions, in the window."""


class VersionStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: str = Field(description="prompt or template version id, name@hash")
    name: str
    drafts: int
    pending: int = Field(description="drafts without an outcome yet (not in the rates)")
    superseded: int = Field(description="drafts replaced by a newer customer message (not in the rates)")
    fallbacks: int = Field(description="drafts the template drafter wrote instead of the LLM")
    outcomes: dict[str, int]
    sent_as_is: Proportion
    as_is_or_light: Proportion = Field(description="sent as is or lightly edited")
    accepted: Proportion = Field(description="sent as is or edited (lightly or not)")
    suggestions: Proportion = Field(description="scored suggestions that survived in the sent replies")
    mean_similarity: float | None = Field(description="mean similarity of what was sent to the draft")
    thumbs_up: int
    thumbs_down: int
    first_draft_at: datetime
    last_draft_at: datetime


class Comparison(BaseModel):
    """One version against the baseline: differences of the two rates (version minus baseline)."""

    model_config = ConfigDict(frozen=True)

    version: str
    baseline: str
    sent_as_is: Difference | None
    as_is_or_light: Difference | None
    accepted: Difference | None
    suggestions: Difference | None


class MailboxVersionStats(BaseModel):
    model_config = ConfigDict(frozen=True)

    mailbox: str
    since: datetime | None
    until: datetime | None
    confidence: float
    versions: list[VersionStats]
    comparisons: list[Comparison]


_ARMS = """
WITH arm AS (
    SELECT coalesce(pa.version, d.template_version) AS version, d.draft_id, d.created_at,
           d.fallback_reason IS NOT NULL AS fell_back, a.outcome, a.similarity, a.light_edit, a.suggestions
    FROM drafts d
    JOIN mailboxes b ON b.id = d.mailbox_id
    LEFT JOIN prompt_assignments pa ON pa.mailbox_id = d.mailbox_id AND pa.message_key = d.draft_id::text
    LEFT JOIN acceptance_events a ON a.draft_id = d.draft_id
    WHERE b.name = %(mailbox)s
      AND (%(since)s::timestamptz IS NULL OR d.created_at >= %(since)s)
      AND (%(until)s::timestamptz IS NULL OR d.created_at < %(until)s)
)
"""


class VersionStatsRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def for_mailbox(self, *, mailbox: str, since: datetime | None = None, until: datetime | None = None,
                          baseline: str | None = None,
                          confidence: float = DEFAULT_CONFIDENCE) -> MailboxVersionStats:
        """Every version that drafted in the window, side by side; ``baseline`` is a version id or name."""
        params = {"mailbox": mailbox, "since": since, "until": until}
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(
                _ARMS + "SELECT version, count(*) AS drafts, count(outcome) AS outcomes, "
                "count(*) FILTER (WHERE outcome = 'superseded') AS superseded, "
                "count(*) FILTER (WHERE outcome = 'edited' AND light_edit) AS light_edits, "
                "count(*) FILTER (WHERE fell_back) AS fallbacks, "
                "avg(similarity) FILTER (WHERE outcome <> 'superseded') AS mean_similarity, "
                "min(created_at) AS first_draft_at, max(created_at) AS last_draft_at "
                "FROM arm GROUP BY version ORDER BY min(created_at), version", params)
            arms = await cur.fetchall()
            await cur.execute(
                _ARMS + "SELECT version, outcome, count(*) AS n FROM arm WHERE outcome IS NOT NULL "
                "GROUP BY version, outcome", params)
            outcomes = await cur.fetchall()
            await cur.execute(
                _ARMS + "SELECT version, count(*) AS scored, count(*) FILTER (WHERE s.survived) AS survived "
                "FROM arm CROSS JOIN LATERAL jsonb_to_recordset(coalesce(arm.suggestions, '[]'::jsonb)) "
                "AS s(survived boolean) WHERE outcome <> 'superseded' GROUP BY version", params)
            survival = {r["version"]: (int(r["survived"]), int(r["scored"])) for r in await cur.fetchall()}
            await cur.execute(
                _ARMS + "SELECT arm.version, f.rating, count(*) AS n FROM arm "
                "JOIN draft_feedback f ON f.draft_id = arm.draft_id AND f.suggestion_index IS NULL "
                "GROUP BY arm.version, f.rating", params)
            thumbs = await cur.fetchall()
        by_outcome: dict[str, dict[str, int]] = {}
        for r in outcomes:
            by_outcome.setdefault(r["version"], {})[r["outcome"]] = int(r["n"])
        by_rating: dict[tuple[str, str], int] = {(r["version"], r["rating"]): int(r["n"]) for r in thumbs}
        versions = []
        for r in arms:
            counts = by_outcome.get(r["version"], {})
            superseded = int(r["superseded"])
            decided = int(r["outcomes"]) - superseded
            as_is = counts.get(AcceptanceOutcome.SENT_AS_IS.value, 0)
            edited = counts.get(AcceptanceOutcome.EDITED.value, 0)
            survived, scored = survival.get(r["version"], (0, 0))
            versions.append(VersionStats(
                version=r["version"], name=r["version"].split("@", 1)[0], drafts=int(r["drafts"]),
                pending=int(r["drafts"]) - int(r["outcomes"]), superseded=superseded,
                fallbacks=int(r["fallbacks"]), outcomes=counts,
                sent_as_is=proportion(successes=as_is, total=decided, confidence=confidence),
                as_is_or_light=proportion(successes=as_is + int(r["light_edits"]), total=decided,
                                          confidence=confidence),
                accepted=proportion(successes=as_is + edited, total=decided, confidence=confidence),
                suggestions=proportion(successes=survived, total=scored, confidence=confidence),
                mean_similarity=float(r["mean_similarity"]) if r["mean_similarity"] is not None else None,
                thumbs_up=by_rating.get((r["version"], "up"), 0), thumbs_down=by_rating.get((r["version"], "down"), 0),
                first_draft_at=r["first_draft_at"], last_draft_at=r["last_draft_at"],
            ))
        return MailboxVersionStats(mailbox=mailbox, since=since, until=until, confidence=confidence,
                                   versions=versions, comparisons=compare(versions=versions, baseline=baseline))


def compare(*, versions: list[VersionStats], baseline: str | None) -> list[Comparison]:
    """Each version against the baseline (a version id, or a name matching exactly one version)."""
    if baseline is None:
        return []
    base = next((v for v in versions if v.version == baseline), None)
    if base is None:
        named = [v for v in versions if v.name == baseline]
        if len(named) > 1:
            raise BaselineError(f"{baseline!r} names {len(named)} versions here "
                                f"({', '.join(v.version for v in named)}): give the full version id")
        if not named:
            raise BaselineError(f"no draft of version {baseline!r} in this window")
        base = named[0]
    return [Comparison(version=v.version, baseline=base.version,
                       sent_as_is=difference(a=v.sent_as_is, b=base.sent_as_is),
                       as_is_or_light=difference(a=v.as_is_or_light, b=base.as_is_or_light),
                       accepted=difference(a=v.accepted, b=base.accepted),
                       suggestions=difference(a=v.suggestions, b=base.suggestions))
            for v in versions if v.version != base.version]
