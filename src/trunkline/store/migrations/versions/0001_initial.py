"""Create the event record and the interaction snapshot.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from schema.py: a migration must not change after release.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("interaction_id", sa.String(), nullable=True),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("queue", sa.String(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_event_at", "event", ["at"])
    op.create_index("ix_event_interaction_id", "event", ["interaction_id"])
    op.create_index("ix_event_agent_id", "event", ["agent_id"])

    op.create_table(
        "interaction",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("medium", sa.String(), nullable=False),
        sa.Column("queue", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Double(), nullable=False),
        sa.Column("skills", _JSON, nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("customer_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("agent_id", sa.String(), nullable=True),
        sa.Column("preferred_agent", sa.String(), nullable=True),
        sa.Column("disposition", sa.String(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_interaction_state", "interaction", ["state"])


def downgrade() -> None:
    op.drop_index("ix_interaction_state", table_name="interaction")
    op.drop_table("interaction")
    op.drop_index("ix_event_agent_id", table_name="event")
    op.drop_index("ix_event_interaction_id", table_name="event")
    op.drop_index("ix_event_at", table_name="event")
    op.drop_table("event")
