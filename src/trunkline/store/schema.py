"""The SQL tables of the event record; created and changed only by the Alembic migrations."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY, so the 64-bit id is INTEGER there.
EVENT_ID = BigInteger().with_variant(Integer(), "sqlite")
JSON_DOC = JSON().with_variant(JSONB(), "postgresql")

event = Table(
    "event",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),
    Column("at", Double(), nullable=False),
    Column("type", String(), nullable=False),
    Column("interaction_id", String(), nullable=True),
    Column("agent_id", String(), nullable=True),
    Column("queue", String(), nullable=True),
    Column("payload", Text(), nullable=False),
    Index("ix_event_at", "at"),
    Index("ix_event_interaction_id", "interaction_id"),
    Index("ix_event_agent_id", "agent_id"),
    # Readers page with ``since_id``: an id must never be handed out twice, even on SQLite.
    sqlite_autoincrement=True,
)

interaction = Table(
    "interaction",
    metadata,
    Column("id", String(), primary_key=True),
    Column("medium", String(), nullable=False),
    Column("queue", String(), nullable=False),
    Column("state", String(), nullable=False),
    Column("priority", Integer(), nullable=False),
    Column("rank", Double(), nullable=False),
    Column("skills", JSON_DOC, nullable=False),
    Column("data", JSON_DOC, nullable=False),
    Column("customer_id", String(), nullable=True),
    Column("created_at", Double(), nullable=False),
    Column("updated_at", Double(), nullable=False),
    Column("agent_id", String(), nullable=True),
    Column("preferred_agent", String(), nullable=True),
    Column("disposition", String(), nullable=True),
    Column("notes", Text(), nullable=False),
    Column("seq", BigInteger(), nullable=False),
    Index("ix_interaction_state", "state"),
    Index("ix_interaction_customer", "customer_id", "created_at"),  # screen-pop history
)
