"""Versioned SQL migrations, applied once each and recorded in ``schema_migrations``.

Files ``store/migrations/NNNN_name.sql`` run in order, each in its own
transaction, under an advisory lock so that concurrent starters (several
workers, the API) apply each migration exactly once.
"""

from __future__ import annotations

import logging
from importlib.resources import files

import psycopg

from store.errors import MigrationError

log = logging.getLogger(__name__)
_LOCK_KEY = 7_311_402_981


def available_migrations() -> list[tuple[str, str]]:
    """(version, sql) for every migration file shipped with the package, in order."""
    folder = files("store").joinpath("migrations")
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


def migrate(*, url: str) -> list[str]:
    """Apply pending migrations; return the versions applied now."""
    applied_now: list[str] = []
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations").fetchall()}
                for version, sql in available_migrations():
                    if version in done:
                        continue
                    with conn.transaction():
                        conn.execute(sql)  # type: ignore[arg-type]
                        conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                    log.info("migration applied", extra={"version": version})
                    applied_now.append(version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    except psycopg.errors.FeatureNotSupported as exc:
        raise MigrationError(f"the database lacks a required feature (is pgvector installed?): {exc}") from exc
    except psycopg.Error as exc:
        raise MigrationError(f"migration failed: {exc}") from exc
    return applied_now
