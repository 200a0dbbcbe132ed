"""The SQL tables of the 15-minute interval rollups that historical reports read.

Created by migration 0002. ``rollup_queue`` has one integer column per
:class:`~trunkline.reporting.fold.QueueCounters` field; ``rollup_agent`` keeps the
per-(state, reason) milliseconds as a JSON map ``{"state:reason": ms}``.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, String, Table
from sqlalchemy.dialects.postgresql import JSONB

# One MetaData with the event record's tables: the migrations build exactly all of them.
from trunkline.store.schema import metadata

__all__ = [
    "AGENT_COUNTER_COLUMNS",
    "QUEUE_COUNTER_COLUMNS",
    "metadata",
    "rollup_agent",
    "rollup_checkpoint",
    "rollup_queue",
]

JSON_DOC = JSON().with_variant(JSONB(), "postgresql")

# The QueueCounters fields, in their declared order (a test checks the two agree).
QUEUE_COUNTER_COLUMNS: tuple[str, ...] = (
    "offered",
    "transferred_in",
    "answered",
    "answered_in_sl",
    "abandoned",
    "short_abandoned",
    "abandoned_in_sl",
    "refused",
    "cancelled",
    "transferred",
    "wait_answered_ms",
    "wait_abandoned_ms",
    "wait_max_ms",
    "handled",
    "handle_ms",
    "completed",
    "wrap_ms",
    "with_disposition",
    "resolved",
    "cost_micros",
)
AGENT_COUNTER_COLUMNS: tuple[str, ...] = ("handled", "handle_ms", "completed", "wrap_ms")

rollup_queue = Table(
    "rollup_queue",
    metadata,
    Column("interval_start", BigInteger(), primary_key=True),
    Column("queue", String(), primary_key=True),
    Column("medium", String(), primary_key=True),
    *(Column(name, BigInteger(), nullable=False) for name in QUEUE_COUNTER_COLUMNS),
)

rollup_agent = Table(
    "rollup_agent",
    metadata,
    Column("interval_start", BigInteger(), primary_key=True),
    Column("agent_id", String(), primary_key=True),
    Column("state_ms", JSON_DOC, nullable=False),
    *(Column(name, BigInteger(), nullable=False) for name in AGENT_COUNTER_COLUMNS),
)

rollup_checkpoint = Table(
    "rollup_checkpoint",
    metadata,
    Column("name", String(), primary_key=True),
    Column("last_event_id", BigInteger(), nullable=False),
)
