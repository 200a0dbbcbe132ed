"""Scratch databases for benchmarks: a temporary SQLite file, or a fresh PostgreSQL
database created on the server the user named and dropped afterwards."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


@asynccontextmanager
async def scratch_database(database: str | None) -> AsyncIterator[str]:
    """The URL of an empty database: SQLite in a temporary directory when ``database`` is
    None, a new database on its server for a PostgreSQL URL, else ``database`` itself."""
    with tempfile.TemporaryDirectory() as tmp:
        if database is None:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        elif database.startswith(("postgresql:", "postgres:")):
            async with _fresh_postgres(database) as url:
                yield url
        else:
            yield database


@asynccontextmanager
async def _fresh_postgres(url: str) -> AsyncIterator[str]:
    parsed = make_url(url)
    name = f"trunkline_bench_{uuid.uuid4().hex[:8]}"
    admin = parsed.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
