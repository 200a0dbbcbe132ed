"""Create the 15-minute interval rollups and the rollup checkpoint.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from rollup_schema.py: a migration must not change.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_QUEUE_COUNTERS = (
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
_AGENT_COUNTERS = ("handled", "handle_ms", "completed", "wrap_ms")


def upgrade() -> None:
    op.create_table(
        "rollup_queue",
        sa.Column("interval_start", sa.BigInteger(), primary_key=True),
        sa.Column("queue", sa.String(), primary_key=True),
        sa.Column("medium", sa.String(), primary_key=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _QUEUE_COUNTERS),
    )
    op.create_table(
        "rollup_agent",
        sa.Column("interval_start", sa.BigInteger(), primary_key=True),
        sa.Column("agent_id", sa.String(), primary_key=True),
        sa.Column("state_ms", _JSON, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in _AGENT_COUNTERS),
    )
    op.create_table(
        "rollup_checkpoint",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rollup_checkpoint")
    op.drop_table("rollup_agent")
    op.drop_table("rollup_queue")
