"""Migrations apply once, are recorded, and a second run is a no-op."""

from __future__ import annotations

import psycopg

from store.migrate import available_migrations, migrate


def test_migrations_are_recorded_and_idempotent(database_url: str) -> None:
    # the template was migrated already: nothing is pending
    assert migrate(url=database_url) == []
    with psycopg.connect(database_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
        ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    assert versions == [v for v, _ in available_migrations()]
    assert ext is not None


def test_unique_keys_per_mailbox(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        constraints = {
            r[0] for r in conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'messages'::regclass"
            )
        }
    assert "UNIQUE (mailbox_id, provider_key)" in constraints
    assert "UNIQUE (mailbox_id, message_id)" in constraints
