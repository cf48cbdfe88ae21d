"""The embedded PostgreSQL 16 with pgvector (the ``pgserver`` wheel) for zero-configuration runs."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def start_embedded(*, data_dir: Path) -> tuple[str, Any]:
    """Start (or attach to) the embedded server under ``data_dir/pgdata``; return (url, handle).

    Keep the handle alive as long as the database is used: pgserver stops the
    server when the last process holding it exits.
    """
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI)
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: production deployments never start it

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    server.psql("SET client_min_messages TO warning; CREATE EXTENSION IF NOT EXISTS vector;")  # no NOTICE on reruns
    log.info("embedded PostgreSQL ready", extra={"pgdata": str(pgdata)})
    return server.get_uri(), server
