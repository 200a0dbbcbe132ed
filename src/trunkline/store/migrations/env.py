"""Alembic environment: migrates the connection that ``upgrade_to_head`` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from trunkline.store.rollup_schema import metadata  # the record's tables and the rollups


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode lets later migrations copy tables.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError(
        "trunkline migrations run in-process: call "
        "trunkline.store.migrations.upgrade_to_head(engine) (EventStore.open does)"
    )
_run(_connection)
