"""Fixtures for connector tests: a MariaDB database with business data, environment for REST credentials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import require_service
from tests.connectors.fixtures import ERPNEXT_ENV, INHOUSE_ENV, mariadb_available, mariadb_database


@pytest.fixture
def mariadb_dsn(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh MariaDB database (local server on 127.0.0.1:3306), its DSN also in $TEST_MARIADB_DSN."""
    if not mariadb_available():
        require_service("MariaDB", "the SQL connector is tested against a real MariaDB on 127.0.0.1:3306")
    with mariadb_database() as dsn:
        monkeypatch.setenv("TEST_MARIADB_DSN", dsn)
        yield dsn


@pytest.fixture
def rest_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials the REST fixtures expect, as environment variables (the YAML names them)."""
    for key, value in {**ERPNEXT_ENV, **INHOUSE_ENV}.items():
        monkeypatch.setenv(key, value)
