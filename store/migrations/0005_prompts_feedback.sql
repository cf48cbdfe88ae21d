-- Prompt versions created through the API, per-mailbox rollouts, which version each message
-- was assigned, and explicit thumbs up/down feedback on drafts and their suggestions.

-- A prompt version is immutable once created: a trigger refuses UPDATE and DELETE.
-- ``version`` is name@first 12 hex digits of the content hash, the same id that
-- agent.llm_drafter.PromptVersion.version gives and that drafts.template_version records.
CREATE TABLE prompt_versions (
    id               bigserial PRIMARY KEY,
    name             text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    version          text NOT NULL UNIQUE,
    content_hash     text NOT NULL UNIQUE,
    system_template  text NOT NULL,
    user_template    text NOT NULL,
    author           text NOT NULL,
    message          text NOT NULL,
    parent           text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION prompt_versions_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'prompt version % is immutable: create a new version instead', OLD.name
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE TRIGGER prompt_versions_immutable BEFORE UPDATE OR DELETE ON prompt_versions
    FOR EACH ROW EXECUTE FUNCTION prompt_versions_immutable();

-- Rollouts are append-only: the newest row of a mailbox is its current rollout, the others its history.
-- config is {"arms": [{"version": name, "percent": n}, ...], "seed": "..."} (agent.rollout.Rollout).
CREATE TABLE prompt_rollouts (
    id          bigserial PRIMARY KEY,
    mailbox_id  bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    config      jsonb NOT NULL,
    author      text NOT NULL,
    message     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prompt_rollouts_current ON prompt_rollouts (mailbox_id, id DESC);

-- The version each message was given, the first time a drafter asked (a retry keeps it). Acceptance
-- per version groups drafts by this arm, so a draft the template drafter wrote after the LLM failed
-- still counts for the version that was tried (intent to treat).
CREATE TABLE prompt_assignments (
    mailbox_id   bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    message_key  text NOT NULL,
    version      text NOT NULL,
    rollout_id   bigint REFERENCES prompt_rollouts(id) ON DELETE SET NULL,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox_id, message_key)
);

-- Explicit feedback: one rating per person per draft (suggestion_index NULL) or per suggestion of a draft.
CREATE TABLE draft_feedback (
    id                bigserial PRIMARY KEY,
    draft_id          uuid NOT NULL REFERENCES drafts(draft_id) ON DELETE CASCADE,
    suggestion_index  integer CHECK (suggestion_index >= 0),
    rating            text NOT NULL CHECK (rating IN ('up', 'down')),
    reason            text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    author            text NOT NULL CHECK (length(author) BETWEEN 1 AND 200),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX draft_feedback_one_per_author
    ON draft_feedback (draft_id, (coalesce(suggestion_index, -1)), author);
CREATE INDEX draft_feedback_recent ON draft_feedback (created_at DESC);
