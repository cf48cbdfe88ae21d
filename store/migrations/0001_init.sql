-- shipdraft schema, version 1: mailboxes, messages, threads, references, facts,
-- drafts, acceptance, audit log, past threads for retrieval, provider sync state.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE mailboxes (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    address     text NOT NULL,
    provider    text NOT NULL,
    config      jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE threads (
    id              bigserial PRIMARY KEY,
    mailbox_id      bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    subject         text NOT NULL DEFAULT '',
    root_message_id text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (mailbox_id, root_message_id)
);

CREATE TABLE messages (
    id            bigserial PRIMARY KEY,
    mailbox_id    bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    thread_id     bigint REFERENCES threads(id) ON DELETE SET NULL,
    provider_key  text NOT NULL,
    message_id    text NOT NULL,
    raw           bytea NOT NULL,
    size          integer NOT NULL,
    from_address  text,
    subject       text,
    in_reply_to   text,
    reply_text    text,
    quoted_text   text,
    language      text,
    intents       text[],
    state         text NOT NULL DEFAULT 'received'
                  CHECK (state IN ('received', 'processing', 'drafted', 'quarantined', 'skipped', 'failed')),
    error         text,
    attempts      integer NOT NULL DEFAULT 0,
    lease_until   timestamptz,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    UNIQUE (mailbox_id, provider_key),
    UNIQUE (mailbox_id, message_id)
);
CREATE INDEX messages_pending ON messages (mailbox_id, id) WHERE state IN ('received', 'processing', 'failed');

CREATE TABLE message_references (
    message_id  bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind        text NOT NULL,
    value       text NOT NULL,
    raw         text NOT NULL,
    source      text NOT NULL,
    validity    text NOT NULL,
    PRIMARY KEY (message_id, kind, value)
);
CREATE INDEX message_references_value ON message_references (value);

CREATE TABLE drafts (
    draft_id          uuid PRIMARY KEY,
    message_id        bigint NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
    mailbox_id        bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    subject           text NOT NULL,
    body              text NOT NULL,
    note              text NOT NULL,
    language          text NOT NULL,
    drafter           text NOT NULL,
    template_version  text NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'posted', 'sent', 'discarded')),
    location          text,
    note_location     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    posted_at         timestamptz,
    missing_since     timestamptz
);
CREATE INDEX drafts_open ON drafts (mailbox_id) WHERE status = 'posted';

CREATE TABLE facts (
    id           bigserial PRIMARY KEY,
    message_id   bigint NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    fact_key     text NOT NULL,
    subject      text NOT NULL,
    name         text NOT NULL,
    value        text NOT NULL,
    source_system text NOT NULL,
    record_id    text NOT NULL,
    link         text,
    fetched_at   timestamptz NOT NULL,
    UNIQUE (message_id, fact_key)
);

CREATE TABLE acceptance_events (
    id                 bigserial PRIMARY KEY,
    draft_id           uuid NOT NULL UNIQUE REFERENCES drafts(draft_id) ON DELETE CASCADE,
    outcome            text NOT NULL,
    similarity         real,
    edit_size          integer,
    sent_provider_key  text,
    sent_at            timestamptz,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    mailbox_id  bigint REFERENCES mailboxes(id) ON DELETE CASCADE,
    message_id  bigint REFERENCES messages(id) ON DELETE CASCADE,
    action      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_message ON audit_log (message_id);

CREATE TABLE past_threads (
    id            bigserial PRIMARY KEY,
    mailbox_id    bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    thread_key    text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    customer_text text NOT NULL,
    reply_text    text NOT NULL,
    language      text,
    replied_at    timestamptz,
    tsv           tsvector GENERATED ALWAYS AS
                  (to_tsvector('simple', coalesce(subject, '') || ' ' || customer_text)) STORED,
    embedding     vector(384),
    UNIQUE (mailbox_id, thread_key)
);
CREATE INDEX past_threads_tsv ON past_threads USING gin (tsv);

CREATE TABLE sync_state (
    mailbox_id  bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       text NOT NULL,
    PRIMARY KEY (mailbox_id, key)
);
