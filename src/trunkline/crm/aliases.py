"""The ids a contact is known by: its own and those of every contact merged into it.

Merging never rewrites the event record, so a merged contact's interactions keep their
old customer id; history queries look them up under all the aliases.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from trunkline.crm.schema import contact


async def contact_aliases(conn: AsyncConnection, contact_id: str) -> list[str]:
    """``contact_id`` first, then the ids merged into it (merges are kept flat: see merge)."""
    rows = await conn.execute(select(contact.c.id).where(contact.c.merged_into == contact_id))
    return [contact_id, *(r[0] for r in rows)]
