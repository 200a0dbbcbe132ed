"""The CRM's SQL tables, in the event record's database; created by migration 0003.

Searchable text (names) is stored as keys with the "C" collation on PostgreSQL, so a
prefix search is an index range scan whatever the server's locale.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from trunkline.store.schema import EVENT_ID, JSON_DOC, metadata

SEARCH_KEY = String().with_variant(String(collation="C"), "postgresql")

contact = Table(
    "crm_contact",
    metadata,
    Column("id", String(), primary_key=True),
    Column("name", String(), nullable=False),
    Column("name_key", SEARCH_KEY, nullable=False),  # see identity.search_key()
    Column("organisation", String(), nullable=False),
    Column("customer_class", String(), nullable=False),
    Column("value", Double(), nullable=True),
    Column("language", String(), nullable=True),
    Column("owner", String(), nullable=True),
    Column("attributes", JSON_DOC, nullable=False),
    Column("provisional", Boolean(), nullable=False),
    Column("merged_into", String(), nullable=True),
    Column("created_at", Double(), nullable=False),
    Column("updated_at", Double(), nullable=False),
    Column("version", Integer(), nullable=False),
    Index("ix_crm_contact_name_key", "name_key", "id"),
    Index("ix_crm_contact_merged_into", "merged_into"),
)

# Every word of a contact's name, so "smi" finds "John Smith".
name_word = Table(
    "crm_name_word",
    metadata,
    Column("word", SEARCH_KEY, primary_key=True),
    Column("contact_id", String(), primary_key=True),
    Index("ix_crm_name_word_contact", "contact_id"),
)

identity = Table(
    "crm_identity",
    metadata,
    Column("kind", String(), primary_key=True),
    Column("value", String(), primary_key=True),
    Column("contact_id", String(), nullable=False),
    Column("created_at", Double(), nullable=False),
    Index("ix_crm_identity_contact", "contact_id"),
)

note = Table(
    "crm_note",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),
    Column("contact_id", String(), nullable=False),
    Column("at", Double(), nullable=False),
    Column("author", String(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("interaction_id", String(), nullable=True),
    Index("ix_crm_note_contact_at", "contact_id", "at"),
    sqlite_autoincrement=True,
)

case = Table(
    "crm_case",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),
    Column("contact_id", String(), nullable=False),
    Column("subject", String(), nullable=False),
    Column("description", Text(), nullable=False),
    Column("status", String(), nullable=False),
    Column("priority", String(), nullable=False),
    Column("owner", String(), nullable=True),
    Column("created_by", String(), nullable=False),
    Column("created_at", Double(), nullable=False),
    Column("updated_at", Double(), nullable=False),
    Column("closed_at", Double(), nullable=True),
    Index("ix_crm_case_contact_status", "contact_id", "status"),
    Index("ix_crm_case_status_updated", "status", "updated_at"),
    Index("ix_crm_case_owner", "owner"),
    sqlite_autoincrement=True,
)

case_interaction = Table(
    "crm_case_interaction",
    metadata,
    Column("case_id", BigInteger(), primary_key=True),
    Column("interaction_id", String(), primary_key=True),
    Column("at", Double(), nullable=False),
    Column("by", String(), nullable=False),
    Index("ix_crm_case_interaction_interaction", "interaction_id"),
)

# A case's own timeline; contact_id is repeated so a contact's timeline reads one index.
case_entry = Table(
    "crm_case_entry",
    metadata,
    Column("id", EVENT_ID, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger(), nullable=False),
    Column("contact_id", String(), nullable=False),
    Column("at", Double(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("by", String(), nullable=False),
    Column("text", Text(), nullable=False),
    Column("data", JSON_DOC, nullable=False),
    Index("ix_crm_case_entry_case_at", "case_id", "at"),
    Index("ix_crm_case_entry_contact_at", "contact_id", "at"),
    sqlite_autoincrement=True,
)
