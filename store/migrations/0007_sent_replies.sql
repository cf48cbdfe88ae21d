-- First-response time needs every reply the team sent, not only the replies matched to a draft:
-- acceptance_events records a sent reply only for a draft, so an inbound message that never got a
-- draft (skipped, quarantined, failed, or stored after it was already answered) had no reply on
-- record. sent_replies keeps each sent message that answers something (it has In-Reply-To or
-- References), with the Message-IDs it points at and when it was sent.
CREATE TABLE sent_replies (
    id            bigserial PRIMARY KEY,
    mailbox_id    bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    provider_key  text NOT NULL,
    message_id    text,
    thread_refs   text[] NOT NULL,              -- In-Reply-To and References, Message-IDs with <>
    sent_at       timestamptz NOT NULL,         -- the Date header; when it was recorded if absent
    draft_id      text,                         -- X-Shipdraft-Draft-Id when the reply carries it
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mailbox_id, provider_key)
);
CREATE INDEX sent_replies_thread_refs ON sent_replies USING gin (thread_refs);

-- The replies already on record (matched to a draft) are sent replies too.
INSERT INTO sent_replies (mailbox_id, provider_key, thread_refs, sent_at, draft_id, recorded_at)
SELECT d.mailbox_id, coalesce(a.sent_provider_key, 'acceptance:' || a.draft_id::text), ARRAY[m.message_id],
       a.sent_at, a.draft_id::text, a.recorded_at
FROM acceptance_events a JOIN drafts d USING (draft_id) JOIN messages m ON m.id = d.message_id
WHERE a.sent_at IS NOT NULL
ON CONFLICT (mailbox_id, provider_key) DO NOTHING;

-- When a message was written, from its Date header (NULL when absent or unreadable). messages.received_at
-- is when shipdraft stored the message, which for a message that arrived before shipdraft ran (or while
-- it was stopped) is later than its arrival; first-response time starts at the earlier of the two.
CREATE FUNCTION message_header_date(raw bytea) RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    head  text := split_part(replace(encode(substring(raw FROM 1 FOR 16384), 'escape'), E'\r', ''), E'\n\n', 1);
    value text := substring(head FROM '(?in)^date:[ \t]*([^\n]*)');
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN regexp_replace(value, '\s*\(.*\)\s*$', '')::timestamptz;  -- "... +0100 (CET)"
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;
