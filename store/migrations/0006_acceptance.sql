-- Acceptance in full: light edits, per-suggestion survival, time to send, who sent it;
-- drafts can end superseded (a newer customer message) or expired.
ALTER TABLE acceptance_events
    ADD COLUMN light_edit       boolean NOT NULL DEFAULT false,
    ADD COLUMN suggestions      jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN seconds_to_send  real,
    ADD COLUMN sent_by          text;

ALTER TABLE drafts DROP CONSTRAINT drafts_status_check;
ALTER TABLE drafts ADD CONSTRAINT drafts_status_check
    CHECK (status IN ('pending', 'posted', 'sent', 'discarded', 'superseded', 'expired'));
CREATE INDEX acceptance_events_recorded ON acceptance_events (recorded_at);
