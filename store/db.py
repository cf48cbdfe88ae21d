"""Connection pools. The caller owns the pool and closes it."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool


async def _configure(conn: AsyncConnection) -> None:
    conn.row_factory = dict_row  # type: ignore[assignment]


async def open_pool(*, url: str, min_size: int = 1, max_size: int = 10) -> AsyncConnectionPool:
    """Open an async pool whose connections return rows as dicts."""
    pool = AsyncConnectionPool(url, min_size=min_size, max_size=max_size, configure=_configure, open=False,
                               kwargs={"autocommit": False})
    await pool.open(wait=True, timeout=30)
    return pool
