"""Shared fixtures: one embedded PostgreSQL (pgserver, with pgvector) per test session.

Every test that needs a database gets a fresh one, cloned from a migrated
template that already holds the demo business data, so tests never see each
other's rows. ``SHIPDRAFT_TEST_DATABASE_URL`` points the suite at another
PostgreSQL with pgvector instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from shipdraft.demo import load_business_data
from shipdraft.settings import Settings
from shipdraft.wiring import Database, Runtime, open_runtime
from store.migrate import migrate

TEMPLATE_DB = "shipdraft_template"
# Every runtime the tests open (and every worker process they start) embeds with the deterministic
# embedder, which keeps the suite fast; the tests of the real local model ask for it explicitly.
os.environ.setdefault("SHIPDRAFT_EMBEDDER", "deterministic")
_counter = itertools.count()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def _with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The admin URL of the test PostgreSQL (embedded unless configured)."""
    configured = os.environ.get("SHIPDRAFT_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    # not under pytest's basetemp: another pytest run re-chmods that to 0700, which locks out the
    # unprivileged user pgserver runs PostgreSQL as when the tests run as root
    pgdata = Path(tempfile.mkdtemp(prefix="shipdraft-test-pg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture(scope="session")
def template_url(pg_server_url: str) -> str:
    """A migrated database with the demo business data, cloned by every test."""
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(TEMPLATE_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    url = _with_dbname(pg_server_url, TEMPLATE_DB)
    migrate(url=url)
    load_business_data(url=url)
    return url


@pytest.fixture
def database_url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """A fresh database for one test."""
    name = f"t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                       sql.Identifier(TEMPLATE_DB)))
    yield _with_dbname(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "var", poll_interval=0.05,
                    discard_grace_seconds=0)


@pytest.fixture
async def runtime(settings: Settings, database_url: str) -> AsyncIterator[Runtime]:
    async with open_runtime(settings=settings, database=Database(url=database_url, embedded=None)) as rt:
        yield rt


def require_service(name: str, reason: str) -> None:
    """Skip when a local service is missing, except under CI=true where it fails the run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI=true: {reason}")
    pytest.skip(f"{name} unavailable: {reason}")
