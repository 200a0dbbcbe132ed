"""Where a time window begins in the event record.

:class:`~trunkline.store.event_store.EventStore` pages events by id; rebuilding "today"
after a restart needs the first id of a time window, which the ``ix_event_at`` index
answers without scanning older history.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from trunkline.store.errors import StoreError
from trunkline.store.event_store import EventStore
from trunkline.store.schema import event

__all__ = ["first_event_id_since"]


async def first_event_id_since(store: EventStore, at: float) -> int | None:
    """The smallest id of the events recorded at or after ``at``; None when there are none.

    The smallest id rather than the earliest ``at``: events are numbered in the order they
    were published, so paging on from this id replays them in that order.
    """
    query = select(func.min(event.c.id)).where(event.c.at >= at)
    try:
        async with store.engine.connect() as conn:
            first = (await conn.execute(query)).scalar()
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"event record query failed: {exc}") from exc
    return None if first is None else int(first)
