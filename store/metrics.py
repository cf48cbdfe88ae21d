"""Acceptance metrics: rates by dimension, edit sizes, per-suggestion survival, first-response time.

Rates count only drafts that reached a reply or were discarded/expired
(``superseded`` drafts never had a chance and are left out of the
denominator). "as is" is the share sent unchanged; "as is + light" adds
lightly edited drafts.

First-response time is counted per inbound message that got a reply, drafted
or not (``sent_replies`` holds every reply, ``acceptance_events`` only those
matched to a draft), grouped by whether a draft was there when the reply went.
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


# First-response time, per inbound message that got a reply (whatever happened to it in shipdraft:
# drafted, skipped, quarantined, failed, or stored only after it had been answered):
# - received: the earlier of when shipdraft stored it and its Date header (message_header_date, 0007),
#   so a message that arrived before shipdraft ran is timed from its arrival, not from its import;
# - its first reply: the earliest sent reply (sent_replies, 0007) that points at it (In-Reply-To or
#   References) or, sent after it was received, at the root of its thread;
# - "with draft" when a shipdraft draft for it was in the mailbox when that reply was sent (posted
#   before the reply's Date, give or take a minute: Date headers have one-second resolution and mail
#   clients' clocks drift; or the reply was sent from the draft); "without draft" otherwise.
_RESPONSE_TIMES = sql.SQL(
    "WITH inbound AS ("
    " SELECT m.id, m.mailbox_id, m.message_id, t.root_message_id AS root,"
    "  least(m.received_at, coalesce(message_header_date(m.raw), m.received_at)) AS received"
    " FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id LEFT JOIN threads t ON t.id = m.thread_id"
    " WHERE (%(mailbox)s::text IS NULL OR b.name = %(mailbox)s)"
    "), answered AS ("
    " SELECT i.id, i.received, r.sent_at, r.provider_key FROM inbound i CROSS JOIN LATERAL ("
    "  SELECT s.sent_at, s.provider_key FROM sent_replies s WHERE s.mailbox_id = i.mailbox_id"
    "  AND (s.thread_refs @> ARRAY[i.message_id]"
    "       OR (i.root IS NOT NULL AND s.thread_refs @> ARRAY[i.root] AND s.sent_at >= i.received))"
    "  ORDER BY s.sent_at, s.id LIMIT 1) r"
    " WHERE (%(since)s::timestamptz IS NULL OR r.sent_at >= %(since)s)"
    "), timed AS ("
    " SELECT greatest(extract(epoch FROM x.sent_at - x.received), 0)::float AS seconds,"
    "  EXISTS (SELECT 1 FROM drafts d WHERE d.message_id = x.id AND d.posted_at IS NOT NULL AND"
    "   (d.posted_at <= x.sent_at + interval '1 minute' OR EXISTS (SELECT 1 FROM acceptance_events a"
    "    WHERE a.draft_id = d.draft_id AND a.sent_provider_key = x.provider_key"
    "    AND a.outcome IN ('sent_as_is', 'edited', 'rewritten'))))"
    "  AS drafted,"
    "  (SELECT a.seconds_to_send FROM drafts d JOIN acceptance_events a USING (draft_id)"
    "   WHERE d.message_id = x.id) AS draft_to_send"
    " FROM answered x"
    ") SELECT CASE WHEN drafted THEN 'with draft' ELSE 'without draft' END AS kind, count(*) AS replies,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50_s,"
    " percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_s,"
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY draft_to_send) FILTER (WHERE drafted) AS draft_to_send_p50_s"
    " FROM timed GROUP BY 1 ORDER BY 1"
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
        """First-response time of every inbound message that got a reply, with and without a draft.

        One row per kind (``with draft``, ``without draft``); see ``_RESPONSE_TIMES`` for the definition.
        ``since`` keeps the messages whose first reply was sent at or after it.
        """
        return await self._fetch(_RESPONSE_TIMES, {"mailbox": mailbox, "since": since})

    async def _fetch(self, query: sql.Composed, params: dict[str, Any]) -> list[dict[str, Any]]:
        async with self._pool.connection() as conn, conn.cursor() as cur:
            await cur.execute(query, params)
            return [dict(r) for r in await cur.fetchall()]
