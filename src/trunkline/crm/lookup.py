"""The screen-pop's local read: contact card, recent history and open cases, on one
connection, in a handful of indexed queries (the hot path of every arrival)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from trunkline.crm.aliases import contact_aliases
from trunkline.crm.contacts import find_contact_id, load_contact
from trunkline.crm.history import open_cases, recent_interactions
from trunkline.crm.lookup_pg import lookup_postgres
from trunkline.crm.model import Contact, ContactSnapshot, Identity
from trunkline.store.errors import StoreError

_MAX_MERGE_HOPS = 4  # merges are kept flat; this only guards against a corrupt chain


def lookup_engine(engine: AsyncEngine) -> AsyncEngine:
    """An engine for lookups over ``engine``'s database: on PostgreSQL its own small pool
    in autocommit mode and without a ping per checkout, which together cost more than
    the lookup itself (a BEGIN, a ROLLBACK and a "SELECT 1" round trip); a connection the
    server dropped is retried once instead (see :func:`lookup`). SQLite: ``engine``."""
    if engine.dialect.name != "postgresql":
        return engine
    return create_async_engine(engine.url, isolation_level="AUTOCOMMIT", pool_size=4)


async def lookup(
    engine: AsyncEngine,
    *,
    identities: Sequence[Identity] = (),
    contact_id: str | None = None,
    history_size: int = 10,
) -> ContactSnapshot | None:
    """The snapshot of ``contact_id``, else of the contact owning the first known identity;
    None when neither leads to a contact. A merged contact resolves to its survivor."""
    for attempt in (1, 2):
        try:
            async with engine.connect() as conn:
                return await _lookup(conn, identities, contact_id, history_size)
        except DBAPIError as exc:
            # The pool has thrown the dead connection away; the next checkout reconnects.
            if attempt == 1 and exc.connection_invalidated:
                continue
            raise StoreError(f"CRM lookup failed: {exc}") from exc
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"CRM lookup failed: {exc}") from exc
    raise AssertionError("unreachable")


async def _lookup(
    conn: AsyncConnection,
    identities: Sequence[Identity],
    contact_id: str | None,
    history_size: int,
) -> ContactSnapshot | None:
    if conn.dialect.name == "postgresql":
        found = await lookup_postgres(conn, identities, contact_id, history_size)
        if found is None or found.contact.merged_into is None:
            return found
        # Rare: the id named a contact since merged; read its survivor.
        contact = await _resolve(conn, found.contact.merged_into)
        return None if contact is None else await snapshot_of(conn, contact, history_size)
    if contact_id is None and identities:
        contact_id = await find_contact_id(conn, identities)
    if contact_id is None:
        return None
    contact = await _resolve(conn, contact_id)
    if contact is None:
        return None
    return await snapshot_of(conn, contact, history_size)


async def _resolve(conn: AsyncConnection, contact_id: str) -> Contact | None:
    contact = await load_contact(conn, contact_id)
    hops = 0
    while contact is not None and contact.merged_into is not None and hops < _MAX_MERGE_HOPS:
        contact = await load_contact(conn, contact.merged_into)
        hops += 1
    return contact


async def snapshot_of(
    conn: AsyncConnection, contact: Contact, history_size: int
) -> ContactSnapshot:
    aliases = await contact_aliases(conn, contact.id)
    history = await recent_interactions(conn, aliases, history_size) if history_size else ()
    cases = await open_cases(conn, contact.id)
    return ContactSnapshot(contact=contact, history=history, open_cases=cases)
