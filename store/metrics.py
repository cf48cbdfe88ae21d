"""Acceptance metrics: rates by dimension, edit sizes, per-suggestion survival, first-response time.

Rates count only drafts that reached a reply or were discarded/expired
(``superseded`` drafts never had a chance and are left out of the
denominator). "as is" is the share sent unchanged; "as is + light" adds
lightly edited drafts.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from psycopg import sql
from psycopg_pool import AsyncConnectionPool


class Dimension(StrEnum):
    MAILBOX = "mailbox"
    INTENT = "intent"
    LANGUAGE = "language"
    DRAFTER = "drafter"
    PROMPT = "prompt"
    WEEK = "week"


_DIMENSION_SQL = {
    Dimension.MAILBOX: sql.SQL("b.name"),
    Dimension.INTENT: sql.SQL("coalesce(i.intent, 'other')"),
    Dimension.LANGUAGE: sql.SQL("coalesce(d.language, '?')"),
    Dimension.DRAFTER: sql.SQL("d.drafter"),
    Dimension.PROMPT: sql.SQL("d.template_version"),
    Dimension.WEEK: sql.SQL("to_char(date_trunc('week', a.recorded_at), 'IYYY-\"W\"IW')"),
}
_FROM = sql.SQL(
    "FROM acceptance_events a JOIN drafts d USING (draft_id) JOIN messages m ON m.id = d.message_id "
    "JOIN mailboxes b ON b.id = d.mailbox_id "
)
_FILTER = sql.SQL(
    "WHERE a.outcome <> 'superseded' AND (%(mailbox)s::text IS NULL OR b.name = %(mailbox)s) "
    "AND (%(since)s::timestamptz IS NULL OR a.recorded_at >= %(since)s) "
)


class MetricsRepository:
    def __init__(self, *, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def acceptance(self, *, by: Dimension, mailbox: str | None = None,
                         since: datetime | None = None) -> list[dict[str, Any]]:
        """Outcome counts and acceptance rates per value of ``by``."""
        joins = sql.SQL("LEFT JOIN LATERAL unnest(m.intents) AS i(intent) ON true ") \
            if by == Dimension.INTENT else sql.SQL("")
        query = sql.SQL(
            "SELECT {dim} AS key, count(*) AS drafts, "
            "count(*) FILTER (WHERE a.outcome = 'sent_as_is') AS sent_as_is, "
            "count(*) FILTER (WHERE a.outcome = 'edited' AND a.light_edit) AS light_edit, "
            "count(*) FILTER (WHERE a.outcome = 'edited' AND NOT a.light_edit) AS edited, "
            "count(*) FILTER (WHERE a.outcome = 'rewritten') AS rewritten, "
            "count(*) FILTER (WHERE a.outcome = 'replied_without_draft') AS replied_without_draft, "
            "count(*) FILTER (WHERE a.outcome = 'discarded') AS discarded, "
            "count(*) FILTER (WHERE a.outcome = 'expired') AS expired "
            "{from_} {joins} {filter} GROUP BY 1 ORDER BY 1"
        ).format(dim=_DIMENSION_SQL[by], from_=_FROM, joins=joins, filter=_FILTER)
        rows = await self._fetch(query, {"mailbox": mailbox, "since": since})
        for r in rows:
            n = r["drafts"] or 1
            r["rate_as_is"] = round(r["sent_as_is"] / n, 4)
            r["rate_as_is_or_light"] = round((r["sent_as_is"] + r["light_edit"]) / n, 4)
        return rows

    async def edit_sizes(self, *, mailbox: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """How many characters agents changed in drafts they edited or rewrote, in buckets."""
        query = sql.SQL(
            "SELECT CASE WHEN a.edit_size = 0 THEN '0' WHEN a.edit_size <= 20 THEN '1-20' "
            "WHEN a.edit_size <= 100 THEN '21-100' WHEN a.edit_size <= 300 THEN '101-300' ELSE '>300' END AS bucket, "
            "count(*) AS drafts {from_} {filter} AND a.edit_size IS NOT NULL "
            "AND a.outcome IN ('sent_as_is', 'edited', 'rewritten') GROUP BY 1 "
            "ORDER BY min(a.edit_size)"
        ).format(from_=_FROM, filter=_FILTER)
        return await self._fetch(query, {"mailbox": mailbox, "since": since})

    async def suggestions(self, *, mailbox: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
        """Per suggestion kind: how often it survives in the sent reply."""
        query = sql.SQL(
            "SELECT s.kind, count(*) AS suggestions, count(*) FILTER (WHERE s.survived) AS survived, "
            "round(avg(CASE WHEN s.survived THEN 1 ELSE 0 END)::numeric, 4)::float AS rate "
            "{from_} CROSS JOIN LATERAL jsonb_to_recordset(a.suggestions) AS s(kind text, survived boolean) "
            "{filter} GROUP BY 1 ORDER BY 2 DESC"
        ).format(from_=_FROM, filter=_FILTER)
        return await self._fetch(query, {"mailbox": mailbox, "since": since})

    async def response_times(self, *, mailbox: str | None = None,
                             since: datetime | None = None) -> list[dict[str, Any]]:
        """First-response time (customer message received -> reply sent), with and without a draft."""
        query = sql.SQL(
            "SELECT CASE WHEN a.outcome = 'replied_without_draft' THEN 'without draft' ELSE 'with draft' END "
            "AS kind, count(*) AS replies, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.sent_at - m.received_at)) AS p50_s, "
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.sent_at - m.received_at)) AS p90_s, "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY a.seconds_to_send) AS draft_to_send_p50_s "
            "{from_} {filter} AND a.sent_at IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).format(from_=_FROM, filter=_FILTER)
        return await self._fetch(query, {"mailbox": mailbox, "since": since})

    async def _fetch(self, query: sql.Composed, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(query, params)
            return [dict(r) for r in await cur.fetchall()]
