"""Free-text notes on a contact, optionally tied to the interaction they were written in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from trunkline.crm.cases import (
    check_limit,
    checked_text,
    decode_cursor,
    encode_cursor,
    new_id,
    reading,
    require_live_contact,
    writing,
)
from trunkline.crm.model import Note
from trunkline.crm.schema import note
from trunkline.domain.errors import NotFoundError

_NOTES_CURSOR = "notes"


class UnknownNoteError(NotFoundError):
    # Here rather than in crm/errors.py, which is frozen for this change.
    error_id = "unknown_note"


@dataclass(frozen=True, slots=True)
class NotePage:
    notes: tuple[Note, ...]  # newest first
    next_cursor: str | None  # None: this is the last page


def note_from_row(row: RowMapping) -> Note:
    return Note(
        id=row["id"],
        contact_id=row["contact_id"],
        at=row["at"],
        author=row["author"],
        text=row["text"],
        interaction_id=row["interaction_id"],
    )


class NoteStore:
    """Notes of the CRM in the event record's database (see ``crm.schema``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(
        self,
        contact_id: str,
        text: str,
        *,
        author: str,
        now: float,
        interaction_id: str | None = None,
    ) -> Note:
        """Add a note (stripped, 1 to 10000 characters) to a live contact."""
        text = checked_text(text, "text")
        async with writing(self._engine) as conn:
            await require_live_contact(conn, contact_id, lock=True)
            result = await conn.execute(
                insert(note).values(
                    contact_id=contact_id,
                    at=now,
                    author=author,
                    text=text,
                    interaction_id=interaction_id,
                )
            )
        return Note(
            id=new_id(result),
            contact_id=contact_id,
            at=now,
            author=author,
            text=text,
            interaction_id=interaction_id,
        )

    async def delete(self, note_id: int) -> None:
        async with writing(self._engine) as conn:
            gone = await conn.execute(delete(note).where(note.c.id == note_id))
            if gone.rowcount == 0:
                raise UnknownNoteError(f"no note {note_id}", details={"note_id": note_id})

    # Defined last: in the class body, a ``list[...]`` annotation after it would name it.
    async def list(
        self, contact_ids: Sequence[str], *, limit: int = 50, before: str | None = None
    ) -> NotePage:
        """Notes of any of ``contact_ids`` (a contact and its aliases), newest first.

        Pass ``next_cursor`` as ``before`` for the next page.
        """
        check_limit(limit)
        query = select(note).where(note.c.contact_id.in_(list(contact_ids)))
        if before is not None:
            at, note_id = decode_cursor(before, _NOTES_CURSOR, float, int)
            query = query.where(tuple_(note.c.at, note.c.id) < tuple_(at, note_id))
        query = query.order_by(note.c.at.desc(), note.c.id.desc()).limit(limit + 1)
        async with reading(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        notes = tuple(note_from_row(row) for row in rows[:limit])
        last = notes[-1] if len(rows) > limit else None
        cursor = None if last is None else encode_cursor(_NOTES_CURSOR, last.at, last.id)
        return NotePage(notes, cursor)
