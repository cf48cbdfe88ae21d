-- Mailbox push notifications (Graph change/lifecycle notifications, Gmail Pub/Sub pushes):
-- recorded by the webhook, handled later by the runner or a worker. The unique key is the
-- replay protection: the same notification recorded twice is refused.
-- Provider cursors (delta links, history ids, UIDs, subscriptions) live in sync_state (0001).
CREATE TABLE mail_notifications (
    id               bigserial PRIMARY KEY,
    mailbox_id       bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    source           text NOT NULL,
    dedup_key        text NOT NULL,
    kind             text NOT NULL,
    subscription_id  text,
    cursor           text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    handled_at       timestamptz,
    UNIQUE (mailbox_id, source, dedup_key)
);
CREATE INDEX mail_notifications_pending ON mail_notifications (mailbox_id, id) WHERE handled_at IS NULL;
