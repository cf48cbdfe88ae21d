-- Drafts record what the drafter did: suggestions (for per-suggestion acceptance), the model,
-- token usage and latency, confidence, and why the template drafter took over if it did.
ALTER TABLE drafts
    ADD COLUMN suggestions        jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN model              text,
    ADD COLUMN confidence         real,
    ADD COLUMN prompt_tokens      integer NOT NULL DEFAULT 0,
    ADD COLUMN completion_tokens  integer NOT NULL DEFAULT 0,
    ADD COLUMN latency_ms         integer NOT NULL DEFAULT 0,
    ADD COLUMN fallback_reason    text;

-- Tokens spent per mailbox and day, for the per-mailbox LLM budget.
CREATE TABLE llm_usage (
    mailbox_id  bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    day         date NOT NULL,
    tokens      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, day)
);
