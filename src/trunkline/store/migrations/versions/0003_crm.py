"""Create the CRM tables and index interactions by customer for the screen-pop history.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

# Written out rather than imported from crm/schema.py: a migration must not change.
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_KEY = sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "crm_contact",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_key", _KEY, nullable=False),
        sa.Column("organisation", sa.String(), nullable=False),
        sa.Column("customer_class", sa.String(), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("attributes", _JSON, nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("merged_into", sa.String(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_crm_contact_name_key", "crm_contact", ["name_key", "id"])
    op.create_index("ix_crm_contact_merged_into", "crm_contact", ["merged_into"])

    op.create_table(
        "crm_name_word",
        sa.Column("word", _KEY, primary_key=True),
        sa.Column("contact_id", sa.String(), primary_key=True),
    )
    op.create_index("ix_crm_name_word_contact", "crm_name_word", ["contact_id"])

    op.create_table(
        "crm_identity",
        sa.Column("kind", sa.String(), primary_key=True),
        sa.Column("value", sa.String(), primary_key=True),
        sa.Column("contact_id", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_crm_identity_contact", "crm_identity", ["contact_id"])

    op.create_table(
        "crm_note",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("interaction_id", sa.String(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_crm_note_contact_at", "crm_note", ["contact_id", "at"])

    op.create_table(
        "crm_case",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("contact_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_crm_case_contact_status", "crm_case", ["contact_id", "status"])
    op.create_index("ix_crm_case_status_updated", "crm_case", ["status", "updated_at"])
    op.create_index("ix_crm_case_owner", "crm_case", ["owner"])

    op.create_table(
        "crm_case_interaction",
        sa.Column("case_id", sa.BigInteger(), primary_key=True),
        sa.Column("interaction_id", sa.String(), primary_key=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
    )
    op.create_index(
        "ix_crm_case_interaction_interaction", "crm_case_interaction", ["interaction_id"]
    )

    op.create_table(
        "crm_case_entry",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.String(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("by", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_crm_case_entry_case_at", "crm_case_entry", ["case_id", "at"])
    op.create_index("ix_crm_case_entry_contact_at", "crm_case_entry", ["contact_id", "at"])

    op.create_index("ix_interaction_customer", "interaction", ["customer_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_interaction_customer", table_name="interaction")
    for table in (
        "crm_case_entry",
        "crm_case_interaction",
        "crm_case",
        "crm_note",
        "crm_identity",
        "crm_name_word",
        "crm_contact",
    ):
        op.drop_table(table)
