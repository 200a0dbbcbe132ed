"""A contact's timeline: its interactions, notes and case entries, newest first, as one list.

The three sources are read with one keyset query each, never more than a page, and
merged here. The order is (at, type, id), descending, and the cursor is the last item's
key, so paging returns every item exactly once even when many share a time. Interactions
recorded under the ids of contacts merged into this one belong to its timeline.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trunkline.crm.aliases import contact_aliases
from trunkline.crm.cases import (
    check_limit,
    decode_cursor,
    encode_cursor,
    entry_from_row,
    reading,
    require_live_contact,
)
from trunkline.crm.history import past_interactions
from trunkline.crm.notes import note_from_row
from trunkline.crm.schema import case, case_entry, case_interaction, note
from trunkline.domain.errors import InvalidRequestError
from trunkline.store.event_store import _payload_dict  # the record's one JSON-to-event mapping
from trunkline.store.schema import event, interaction

_TIMELINE_CURSOR = "timeline"
CASE, INTERACTION, NOTE = "case", "interaction", "note"

# (at, type, id): the position of an item, and the cursor's content.
_Key = tuple[float, str, int | str]


@dataclass(frozen=True, slots=True)
class TimelinePage:
    items: list[dict[str, Any]]  # newest first
    next_cursor: str | None  # None: this is the last page


@dataclass(frozen=True, slots=True)
class _Item:
    at: float
    type: str
    id: int | str
    body: dict[str, Any]


async def contact_timeline(
    engine: AsyncEngine, contact_id: str, *, limit: int = 50, before: str | None = None
) -> TimelinePage:
    """One page of the contact's timeline; pass ``next_cursor`` as ``before`` for more.

    :class:`UnknownContactError` for an unknown contact, :class:`ContactMergedError` (with
    ``details['merged_into']``) for one merged away: its timeline is the survivor's.
    """
    check_limit(limit)
    after = None if before is None else _decode(before)
    async with reading(engine) as conn:
        await require_live_contact(conn, contact_id)
        ids = await contact_aliases(conn, contact_id)
        # One row more than a page from each source tells whether another page exists.
        sources = (
            await _case_items(conn, ids, limit + 1, after),
            await _interaction_items(conn, ids, limit + 1, after),
            await _note_items(conn, ids, limit + 1, after),
        )
        # Sources never share a type, so (at, type) orders across them; within one, the
        # database's own order (ties by id, in its collation) is kept as it is, so the
        # cursor compares ids exactly as the next page's query will.
        merged = heapq.merge(*sources, key=lambda i: (i.at, i.type), reverse=True)
        page = list(islice(merged, limit))
        await _add_journeys(conn, page)
    more = sum(len(source) for source in sources) > limit
    last = page[-1] if more else None
    cursor = None if last is None else encode_cursor(_TIMELINE_CURSOR, last.at, last.type, last.id)
    return TimelinePage([{"type": i.type, "at": i.at, **i.body} for i in page], cursor)


def _decode(cursor: str) -> _Key:
    at, kind, item_id = decode_cursor(cursor, _TIMELINE_CURSOR, float, str, (int, str))
    expected = str if kind == INTERACTION else int
    if kind not in (CASE, INTERACTION, NOTE) or not isinstance(item_id, expected):
        raise InvalidRequestError("invalid page cursor", details={"cursor": cursor})
    return at, kind, item_id


def _after(
    at: ColumnElement[float], item_id: ColumnElement[Any], kind: str, cursor: _Key | None
) -> tuple[ColumnElement[bool], ...]:
    """The condition for one source's items that come after ``cursor`` (descending)."""
    if cursor is None:
        return ()
    last_at, last_kind, last_id = cursor
    if kind < last_kind:  # at the cursor's time, this type still comes after it
        return (at <= last_at,)
    if kind > last_kind:
        return (at < last_at,)
    return (tuple_(at, item_id) < tuple_(last_at, last_id),)


async def _interaction_items(
    conn: AsyncConnection, ids: Sequence[str], limit: int, cursor: _Key | None
) -> list[_Item]:
    keyset = _after(interaction.c.created_at, interaction.c.id, INTERACTION, cursor)
    found = await past_interactions(conn, ids, limit, *keyset)
    return [_Item(p.created_at, INTERACTION, p.id, p.as_dict()) for p in found]


async def _note_items(
    conn: AsyncConnection, ids: Sequence[str], limit: int, cursor: _Key | None
) -> list[_Item]:
    query = (
        select(note)
        .where(note.c.contact_id.in_(ids), *_after(note.c.at, note.c.id, NOTE, cursor))
        .order_by(note.c.at.desc(), note.c.id.desc())
        .limit(limit)
    )
    rows = (await conn.execute(query)).mappings()
    notes = [note_from_row(row) for row in rows]
    return [_Item(n.at, NOTE, n.id, n.as_dict()) for n in notes]


async def _case_items(
    conn: AsyncConnection, ids: Sequence[str], limit: int, cursor: _Key | None
) -> list[_Item]:
    keyset = _after(case_entry.c.at, case_entry.c.id, CASE, cursor)
    query = (
        select(case_entry, case.c.subject)
        .join(case, case.c.id == case_entry.c.case_id)
        .where(case_entry.c.contact_id.in_(ids), *keyset)
        .order_by(case_entry.c.at.desc(), case_entry.c.id.desc())
        .limit(limit)
    )
    items = []
    for row in (await conn.execute(query)).mappings():
        entry = entry_from_row(row)
        items.append(
            _Item(entry.at, CASE, entry.id, {**entry.as_dict(), "subject": row["subject"]})
        )
    return items


async def _add_journeys(conn: AsyncConnection, page: Sequence[_Item]) -> None:
    """Give each interaction of the page its events (oldest first) and linked case ids:
    one query for each, whatever the page's size."""
    bodies = {item.id: item.body for item in page if item.type == INTERACTION}
    if not bodies:
        return
    for body in bodies.values():
        body["events"] = []
        body["cases"] = []
    events = (
        select(event.c.id, event.c.interaction_id, event.c.payload)
        .where(event.c.interaction_id.in_(list(bodies)))
        .order_by(event.c.id)
    )
    for row in await conn.execute(events):
        bodies[row.interaction_id]["events"].append(_payload_dict(row.id, row.payload))
    links = (
        select(case_interaction.c.interaction_id, case_interaction.c.case_id)
        .where(case_interaction.c.interaction_id.in_(list(bodies)))
        .order_by(case_interaction.c.case_id)
    )
    for link in await conn.execute(links):
        bodies[link.interaction_id]["cases"].append(link.case_id)
