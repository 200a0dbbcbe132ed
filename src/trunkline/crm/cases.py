"""Cases: a contact's open matters, each with its own timeline of entries.

Every write is one transaction that also appends the case entries describing it, so a
case's timeline never disagrees with the case. Lists page by keyset (an opaque cursor),
which stays cheap however deep a client pages.

The small helpers at the end (transactions, cursors, text checks, the contact check) are
shared by the note store and the timeline.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final, TypeVar

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trunkline.crm.errors import ContactMergedError, UnknownCaseError, UnknownContactError
from trunkline.crm.history import case_from_row, case_links, cases_with_links
from trunkline.crm.model import Case, CaseEntry, CasePriority, CaseStatus
from trunkline.crm.schema import case, case_entry, case_interaction, contact
from trunkline.domain.errors import InvalidRequestError
from trunkline.store.errors import StoreError

MAX_SUBJECT = 200
MAX_TEXT = 10_000  # a comment or a note
MAX_PAGE = 500

_CASES_CURSOR = "cases"
_ENTRIES_CURSOR = "entries"


class Unchanged(Enum):
    """The value of a :class:`CaseChanges` field that leaves the case's value as it is."""

    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseChanges:
    """What an update changes; fields left :data:`UNCHANGED` keep their value.

    ``owner=None`` unassigns the case. ``comment`` adds a comment entry with the change.
    """

    subject: str | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    status: CaseStatus | Unchanged = UNCHANGED
    priority: CasePriority | Unchanged = UNCHANGED
    owner: str | None | Unchanged = UNCHANGED
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CasePage:
    cases: tuple[Case, ...]
    next_cursor: str | None  # None: this is the last page


@dataclass(frozen=True, slots=True)
class EntryPage:
    entries: tuple[CaseEntry, ...]  # newest first
    next_cursor: str | None


def entry_from_row(row: RowMapping) -> CaseEntry:
    return CaseEntry(
        id=row["id"],
        case_id=row["case_id"],
        contact_id=row["contact_id"],
        at=row["at"],
        kind=row["kind"],
        by=row["by"],
        text=row["text"],
        data=dict(row["data"]),
    )


class CaseStore:
    """Cases of the CRM in the event record's database (see ``crm.schema``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        *,
        contact_id: str,
        subject: str,
        description: str = "",
        priority: CasePriority = CasePriority.NORMAL,
        owner: str | None = None,
        by: str,
        now: float,
        interaction_id: str | None = None,
    ) -> Case:
        """Open a case for a live contact, linked to ``interaction_id`` if given."""
        subject = checked_text(subject, "subject", MAX_SUBJECT)
        priority = _member(CasePriority, priority, "priority")
        async with writing(self._engine) as conn:
            await require_live_contact(conn, contact_id, lock=True)
            result = await conn.execute(
                insert(case).values(
                    contact_id=contact_id,
                    subject=subject,
                    description=description,
                    status=CaseStatus.OPEN.value,
                    priority=priority.value,
                    owner=owner,
                    created_by=by,
                    created_at=now,
                    updated_at=now,
                    closed_at=None,
                )
            )
            case_id = new_id(result)
            opened = {"subject": subject, "priority": priority.value, "owner": owner}
            await _add_entry(conn, case_id, contact_id, now, "opened", by, description, opened)
            if interaction_id is not None:
                await _link(conn, case_id, contact_id, interaction_id, by=by, now=now)
            return await _load(conn, case_id)

    async def get(self, case_id: int) -> Case:
        async with reading(self._engine) as conn:
            return await _load(conn, case_id)

    async def update(self, case_id: int, changes: CaseChanges, *, by: str, now: float) -> Case:
        """Apply ``changes``, writing one entry per kind of change; a no-op writes nothing.

        Any status may follow any other: closing stamps ``closed_at``, leaving closed
        clears it.
        """
        wanted = _checked_changes(changes)
        comment = None if changes.comment is None else checked_text(changes.comment, "comment")
        async with writing(self._engine) as conn:
            current = await _load(conn, case_id, lock=True)
            values: dict[str, Any] = {}
            status = wanted.pop("status", current.status)
            if status != current.status:
                values["status"] = status.value
                values["closed_at"] = now if status is CaseStatus.CLOSED else None
                moved = {"from": current.status.value, "to": status.value}
                await _add_entry(conn, case_id, current.contact_id, now, "status", by, "", moved)
            fields = _field_changes(current, wanted)
            if fields:
                values.update({name: change["to"] for name, change in fields.items()})
                data = {"fields": fields}
                await _add_entry(conn, case_id, current.contact_id, now, "updated", by, "", data)
            if comment is not None:
                await _add_entry(conn, case_id, current.contact_id, now, "comment", by, comment)
            if values or comment is not None:
                await _touch(conn, case_id, now, values)
            return await _load(conn, case_id)

    async def comment(self, case_id: int, text: str, *, by: str, now: float) -> CaseEntry:
        """Add a comment; it counts as activity, so the case's ``updated_at`` moves."""
        text = checked_text(text, "comment")
        async with writing(self._engine) as conn:
            current = await _load(conn, case_id, lock=True)
            entry_id = await _add_entry(conn, case_id, current.contact_id, now, "comment", by, text)
            await _touch(conn, case_id, now)
        return CaseEntry(
            id=entry_id,
            case_id=case_id,
            contact_id=current.contact_id,
            at=now,
            kind="comment",
            by=by,
            text=text,
        )

    async def link(self, case_id: int, interaction_id: str, *, by: str, now: float) -> Case:
        """Link an interaction (closed cases too); linking the same pair again is a no-op."""
        async with writing(self._engine) as conn:
            current = await _load(conn, case_id, lock=True)
            if await _link(conn, case_id, current.contact_id, interaction_id, by=by, now=now):
                await _touch(conn, case_id, now)
                return await _load(conn, case_id)
            return current

    async def entries(
        self, case_id: int, *, limit: int = 100, before: str | None = None
    ) -> EntryPage:
        """The case's entries, newest first; pass ``next_cursor`` as ``before`` for more."""
        check_limit(limit)
        query = select(case_entry).where(case_entry.c.case_id == case_id)
        if before is not None:
            at, entry_id = decode_cursor(before, _ENTRIES_CURSOR, float, int)
            query = query.where(tuple_(case_entry.c.at, case_entry.c.id) < tuple_(at, entry_id))
        query = query.order_by(case_entry.c.at.desc(), case_entry.c.id.desc()).limit(limit + 1)
        async with reading(self._engine) as conn:
            await _load_row(conn, case_id)  # an unknown case is an error, not an empty page
            rows = (await conn.execute(query)).mappings().all()
        entries = tuple(entry_from_row(row) for row in rows[:limit])
        more = len(rows) > limit
        last = entries[-1] if more else None
        cursor = None if last is None else encode_cursor(_ENTRIES_CURSOR, last.at, last.id)
        return EntryPage(entries, cursor)

    async def for_interaction(self, interaction_id: str) -> tuple[Case, ...]:
        """The cases an interaction is linked to, most recently updated first."""
        query = (
            select(case)
            .join(case_interaction, case_interaction.c.case_id == case.c.id)
            .where(case_interaction.c.interaction_id == interaction_id)
            .order_by(case.c.updated_at.desc(), case.c.id.desc())
        )
        async with reading(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
            return await cases_with_links(conn, rows)

    async def delete(self, case_id: int) -> None:
        """Remove the case with its links and entries (for erasure: nothing is kept)."""
        async with writing(self._engine) as conn:
            gone = await conn.execute(delete(case).where(case.c.id == case_id))
            if gone.rowcount == 0:
                raise _unknown(case_id)
            await conn.execute(
                delete(case_interaction).where(case_interaction.c.case_id == case_id)
            )
            await conn.execute(delete(case_entry).where(case_entry.c.case_id == case_id))

    # Defined last: in the class body, a ``list[...]`` annotation after it would name it.
    async def list(
        self,
        *,
        contact_ids: Sequence[str] | None = None,
        status: Sequence[CaseStatus] | None = None,
        owner: str | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> CasePage:
        """Cases matching every filter given, most recently updated first (ties: newest id).

        Pass ``next_cursor`` as ``after`` for the next page.
        """
        check_limit(limit)
        query = select(case)
        if contact_ids is not None:
            query = query.where(case.c.contact_id.in_(list(contact_ids)))
        if status is not None:
            query = query.where(
                case.c.status.in_([_member(CaseStatus, s, "status").value for s in status])
            )
        if owner is not None:
            query = query.where(case.c.owner == owner)
        if after is not None:
            at, case_id = decode_cursor(after, _CASES_CURSOR, float, int)
            query = query.where(tuple_(case.c.updated_at, case.c.id) < tuple_(at, case_id))
        query = query.order_by(case.c.updated_at.desc(), case.c.id.desc()).limit(limit + 1)
        async with reading(self._engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
            cases = await cases_with_links(conn, rows[:limit])
        last = cases[-1] if len(rows) > limit else None
        cursor = None if last is None else encode_cursor(_CASES_CURSOR, last.updated_at, last.id)
        return CasePage(cases, cursor)


# -- case internals ----------------------------------------------------------------------


def _unknown(case_id: int) -> UnknownCaseError:
    return UnknownCaseError(f"no case {case_id}", details={"case_id": case_id})


async def _load_row(conn: AsyncConnection, case_id: int, *, lock: bool = False) -> RowMapping:
    query = select(case).where(case.c.id == case_id)
    if lock:
        # Serialises writers of one case, so each entry's "from" is true (on SQLite the
        # transaction's write lock does it: see ``writing``).
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise _unknown(case_id)
    return row


async def _load(conn: AsyncConnection, case_id: int, *, lock: bool = False) -> Case:
    row = await _load_row(conn, case_id, lock=lock)
    links = await case_links(conn, [case_id])
    return case_from_row(row, links.get(case_id, ()))


async def _add_entry(
    conn: AsyncConnection,
    case_id: int,
    contact_id: str,
    at: float,
    kind: str,
    by: str,
    text: str = "",
    data: Mapping[str, Any] | None = None,
) -> int:
    result = await conn.execute(
        insert(case_entry).values(
            case_id=case_id,
            contact_id=contact_id,
            at=at,
            kind=kind,
            by=by,
            text=text,
            data=dict(data or {}),
        )
    )
    return new_id(result)


async def _touch(
    conn: AsyncConnection, case_id: int, now: float, values: Mapping[str, Any] | None = None
) -> None:
    await conn.execute(
        update(case).where(case.c.id == case_id).values({**(values or {}), "updated_at": now})
    )


async def _link(
    conn: AsyncConnection,
    case_id: int,
    contact_id: str,
    interaction_id: str,
    *,
    by: str,
    now: float,
) -> bool:
    """Link and write the "linked" entry; False (and nothing written) if already linked.

    ON CONFLICT DO NOTHING rather than look-then-insert: two agents linking the same
    interaction at once must not fail on the primary key.
    """
    row = {"case_id": case_id, "interaction_id": interaction_id, "at": now, "by": by}
    stmt = _insert_ignoring_duplicates(conn.dialect.name, row)
    if (await conn.execute(stmt)).first() is None:
        return False
    data = {"interaction_id": interaction_id}
    await _add_entry(conn, case_id, contact_id, now, "linked", by, "", data)
    return True


def _insert_ignoring_duplicates(dialect: str, row: Mapping[str, Any]) -> Any:
    key = [case_interaction.c.case_id, case_interaction.c.interaction_id]
    if dialect == "postgresql":
        pg = (
            postgresql.insert(case_interaction)
            .values(row)
            .on_conflict_do_nothing(index_elements=key)
        )
        return pg.returning(case_interaction.c.case_id)
    if dialect == "sqlite":
        lite = (
            sqlite.insert(case_interaction).values(row).on_conflict_do_nothing(index_elements=key)
        )
        return lite.returning(case_interaction.c.case_id)
    raise StoreError(f"no case link insert for database {dialect!r}")


def _checked_changes(changes: CaseChanges) -> dict[str, Any]:
    """The fields ``changes`` sets, validated and normalised, by column name."""
    wanted: dict[str, Any] = {}
    if not isinstance(changes.subject, Unchanged):
        wanted["subject"] = checked_text(changes.subject, "subject", MAX_SUBJECT)
    if not isinstance(changes.description, Unchanged):
        wanted["description"] = changes.description
    if not isinstance(changes.status, Unchanged):
        wanted["status"] = _member(CaseStatus, changes.status, "status")
    if not isinstance(changes.priority, Unchanged):
        wanted["priority"] = _member(CasePriority, changes.priority, "priority")
    if not isinstance(changes.owner, Unchanged):
        wanted["owner"] = changes.owner
    return wanted


def _field_changes(current: Case, wanted: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: {"from", "to"}}`` for each wanted field that differs, as stored values."""
    fields: dict[str, dict[str, Any]] = {}
    for name, value in wanted.items():
        new = value.value if isinstance(value, Enum) else value
        old = getattr(current, name)
        old = old.value if isinstance(old, Enum) else old
        if new != old:
            fields[name] = {"from": old, "to": new}
    return fields


# -- shared by the CRM stores ------------------------------------------------------------

_E = TypeVar("_E", bound=Enum)


@asynccontextmanager
async def _store_errors(
    opened: AbstractAsyncContextManager[AsyncConnection], what: str
) -> AsyncIterator[AsyncConnection]:
    try:
        async with opened as conn:
            yield conn
    except (SQLAlchemyError, OSError) as exc:
        # Callers (the web layer) answer a TrunklineError; a driver error would be a 500.
        raise StoreError(f"CRM {what} failed: {exc}") from exc


def reading(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """A connection for reads; driver errors become :class:`StoreError`."""
    return _store_errors(engine.connect(), "query")


@asynccontextmanager
async def writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One transaction, committed on success; driver errors become :class:`StoreError`."""
    async with _store_errors(engine.begin(), "write") as conn:
        if conn.dialect.name == "sqlite":
            # The driver only begins a transaction at the first write, so the reads a
            # write depends on (the current status, the contact check) would not be in
            # it. SQLite's write lock, taken first, makes them so, as row locks do on
            # PostgreSQL; other writers wait for it (the busy timeout).
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


async def require_live_contact(
    conn: AsyncConnection, contact_id: str, *, lock: bool = False
) -> None:
    """:class:`UnknownContactError` or :class:`ContactMergedError` unless the contact is
    current: records must go to the contact a merge kept.

    ``lock`` (in a write) holds the contact row until commit, so a merge cannot slip
    between this check and the write that relies on it.
    """
    query = select(contact.c.merged_into).where(contact.c.id == contact_id)
    if lock:
        query = query.with_for_update(read=True)
    row = (await conn.execute(query)).first()
    if row is None:
        raise UnknownContactError(f"no contact {contact_id!r}", details={"contact_id": contact_id})
    if row.merged_into is not None:
        raise ContactMergedError(
            f"contact {contact_id!r} was merged into {row.merged_into!r}",
            details={"contact_id": contact_id, "merged_into": row.merged_into},
        )


def new_id(result: CursorResult[Any]) -> int:
    """The id the database gave the row a single-row INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None:  # only for an executemany or a non-INSERT: a bug here, not bad input
        raise StoreError("the database returned no id for the new row")
    return int(key[0])


def checked_text(value: str, name: str, maximum: int = MAX_TEXT) -> str:
    """``value`` stripped; :class:`InvalidRequestError` if that is empty or too long."""
    text = value.strip()
    if not 1 <= len(text) <= maximum:
        raise InvalidRequestError(
            f"{name} must be 1 to {maximum} characters", details={"field": name, "max": maximum}
        )
    return text


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(
            f"limit must be 1 to {MAX_PAGE}", details={"limit": limit, "max": MAX_PAGE}
        )


def _member(kind: type[_E], value: Any, name: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = [m.value for m in kind]
        raise InvalidRequestError(
            f"{name} must be one of {allowed}", details={"field": name, "allowed": allowed}
        ) from None


def encode_cursor(tag: str, *key: float | int | str) -> str:
    """An opaque page cursor for ``key``. The tag stops one list's cursor being used on
    another; JSON keeps floats exact, which keyset paging needs."""
    raw = json.dumps([tag, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(
    cursor: str, tag: str, *shape: type[Any] | tuple[type[Any], ...]
) -> tuple[Any, ...]:
    """The key of a cursor from :func:`encode_cursor` with ``tag``, each part of the type
    in ``shape``; anything else is an :class:`InvalidRequestError`."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, binascii.Error):
        raw = None
    if not isinstance(raw, list) or len(raw) != len(shape) + 1 or raw[0] != tag:
        raise _bad_cursor(cursor)
    key: list[Any] = []
    for value, kind in zip(raw[1:], shape, strict=True):
        part = _cursor_part(value, kind if isinstance(kind, tuple) else (kind,))
        if part is None:
            raise _bad_cursor(cursor)
        key.append(part)
    return tuple(key)


_BIGINT = 2**63  # ids are 64-bit: a larger one would be a driver error, not a bad request


def _cursor_part(value: Any, kinds: tuple[type[Any], ...]) -> Any:
    if isinstance(value, bool):
        return None
    if float in kinds and isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, int) and not -_BIGINT <= value < _BIGINT:
        return None
    return value if isinstance(value, kinds) else None


def _bad_cursor(cursor: str) -> InvalidRequestError:
    return InvalidRequestError("invalid page cursor", details={"cursor": cursor})
