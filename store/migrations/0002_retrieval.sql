-- shipdraft schema, version 2: similar-thread retrieval.
--
-- past_threads becomes LIST-partitioned by mailbox: one partition per mailbox,
-- each with its own HNSW index (pgvector) and GIN index (full-text search).
-- A search reads only its mailbox's partition, so an approximate HNSW scan
-- never has to filter out other mailboxes' rows: pgvector 0.6 has no
-- iterative index scans, and a filtered HNSW query on one shared table
-- returns too few rows when the mailbox is a small share of the table.
-- A trigger creates the partition when a mailbox is created.
--
-- The HNSW index belongs to the partition, not to the parent table, so that
-- a large import can drop it and build it again afterwards: pgvector builds
-- an index 7 to 20 times faster than it inserts into one (measured at 90k and 5k rows).
--
-- Rows keep the name of the model that computed their embedding
-- (embedding_model), so a model change shows which vectors to recompute.

ALTER TABLE past_threads RENAME TO past_threads_v1;
ALTER TABLE past_threads_v1 ALTER COLUMN id DROP DEFAULT;
ALTER SEQUENCE past_threads_id_seq OWNED BY NONE;
ALTER TABLE past_threads_v1 RENAME CONSTRAINT past_threads_pkey TO past_threads_v1_pkey;
ALTER TABLE past_threads_v1 RENAME CONSTRAINT past_threads_mailbox_id_thread_key_key TO past_threads_v1_key;
ALTER INDEX past_threads_tsv RENAME TO past_threads_v1_tsv;

CREATE TABLE past_threads (
    id              bigint NOT NULL DEFAULT nextval('past_threads_id_seq'),
    mailbox_id      bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    thread_key      text NOT NULL,
    subject         text NOT NULL DEFAULT '',
    customer_text   text NOT NULL,
    reply_text      text NOT NULL,
    language        text,
    intents         text[] NOT NULL DEFAULT '{}',
    replied_at      timestamptz,
    indexed_at      timestamptz NOT NULL DEFAULT now(),
    tsv             tsvector GENERATED ALWAYS AS
                    (to_tsvector('simple', coalesce(subject, '') || ' ' || customer_text)) STORED,
    embedding       vector(384),
    embedding_model text,
    PRIMARY KEY (mailbox_id, id),
    UNIQUE (mailbox_id, thread_key)
) PARTITION BY LIST (mailbox_id);
ALTER SEQUENCE past_threads_id_seq OWNED BY past_threads.id;

CREATE INDEX past_threads_tsv ON past_threads USING gin (tsv);
CREATE INDEX past_threads_unembedded ON past_threads (mailbox_id, id) WHERE embedding IS NULL;

-- The partition of one mailbox: past_threads_m<mailbox id>.
CREATE FUNCTION past_threads_create_partition(mailbox bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF past_threads FOR VALUES IN (%s)',
                   'past_threads_m' || mailbox, mailbox);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I USING hnsw (embedding vector_cosine_ops) '
                   'WITH (m = 16, ef_construction = 64)',
                   'past_threads_m' || mailbox || '_embedding', 'past_threads_m' || mailbox);
    -- the full-text planner statistics also drive which query words are worth searching
    EXECUTE format('ALTER TABLE %I ALTER COLUMN tsv SET STATISTICS 1000', 'past_threads_m' || mailbox);
END
$$;

CREATE FUNCTION past_threads_partition_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM past_threads_create_partition(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER mailboxes_past_threads_partition AFTER INSERT ON mailboxes
    FOR EACH ROW EXECUTE FUNCTION past_threads_partition_trigger();

SELECT past_threads_create_partition(id) FROM mailboxes;

INSERT INTO past_threads (id, mailbox_id, thread_key, subject, customer_text, reply_text, language, replied_at,
                          embedding)
SELECT id, mailbox_id, thread_key, subject, customer_text, reply_text, language, replied_at, embedding
FROM past_threads_v1;

DROP TABLE past_threads_v1;
