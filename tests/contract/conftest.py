"""Backends for the contract suites: a fresh SQLite file and a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from trunkline.store import EventStore, to_async_url

POSTGRES_ENV = "TRUNKLINE_TEST_POSTGRES"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

_unreachable: list[str] = []  # remembered so each test does not wait for its own timeout


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A new, empty database on the test server, dropped afterwards.

    Skipped when the server is unreachable, except under CI, where that is a failure.
    """
    base = make_url(to_async_url(os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)))
    admin = None
    if not _unreachable:
        try:
            admin = await asyncpg.connect(
                base.set(drivername="postgresql").render_as_string(hide_password=False),
                timeout=5,
            )
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            _unreachable.append(f"PostgreSQL at {base.render_as_string()} unreachable: {exc}")
    if admin is None:
        if os.environ.get("CI"):
            pytest.fail(_unreachable[0])
        pytest.skip(_unreachable[0])
    name = f"trunkline_test_{uuid.uuid4().hex[:16]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.db'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    opened = await EventStore.open(store_url)
    try:
        yield opened
    finally:
        await opened.close()
