"""Alembic migrations of the event record, run in-process by :func:`upgrade_to_head`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

SCRIPT_LOCATION = Path(__file__).resolve().parent

# Any constant will do; it only has to be the same for every node sharing the database.
_PG_MIGRATION_LOCK = 0x7472756E6B6C696E  # "trunklin"


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Create or upgrade the tables, in one transaction, with no alembic.ini needed."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Nodes starting together must not run the same migration twice.
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        await conn.run_sync(_upgrade)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at these scripts, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")
