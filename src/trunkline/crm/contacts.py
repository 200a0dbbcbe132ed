"""Contacts in SQL: create, read, update, find by identity, search by name, merge, import.

Every write is one transaction. Read-modify-write transactions lock what they read
first: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite, which has one writer at a
time, a no-op write takes the database's write lock before anything is read (a plain
SELECT there runs outside the transaction and could read a row about to change).

Invariants kept on every write: ``name_key`` is ``identity.search_key(name)``, the
``crm_name_word`` rows are ``identity.name_words(name)`` (none for a merged contact),
identities only ever belong to contacts that are not merged, and merges are flat.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from collections.abc import AsyncIterator, Collection, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Final, TypeVar

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import TableValuedAlias

from trunkline.crm.csv_io import ImportRow, RowError
from trunkline.crm.errors import (
    ContactMergedError,
    IdentityTakenError,
    StaleContactError,
    UnknownContactError,
)
from trunkline.crm.identity import name_words, search_key
from trunkline.crm.model import DEFAULT_CLASS, Contact, Identity, IdentityKind
from trunkline.crm.schema import case, case_entry, contact, name_word, note
from trunkline.crm.schema import identity as identity_t
from trunkline.domain.errors import ConflictError, InvalidRequestError, TrunklineError
from trunkline.store.errors import StoreError

MAX_SEARCH_LIMIT: Final = 500
# Search: a word prefix of fewer names than this is "rare" (see _search_by_words), and a
# common one first walks at most this many contacts in name order.
RARE_WORD_MATCHES: Final = 10_000
NAME_WALK_BUDGET: Final = 5_000
_NAME_ORDER: Final = (contact.c.name_key, contact.c.id)
MAX_ID_LENGTH: Final = 200
# Ids or identities per IN list: far below both databases' bound-parameter limits.
_IN_CHUNK: Final = 2000
# An import batch is planned again if a concurrent writer took one of its identities.
_IMPORT_ATTEMPTS: Final = 5
# Matches nothing, so it changes nothing, but it is a write: SQLite takes its lock.
_SQLITE_WRITE_LOCK: Final = sql_update(contact).where(false()).values(version=contact.c.version)
_ROW_FIELDS: Final = ("name", "organisation", "customer_class", "value", "language", "owner")

_T = TypeVar("_T")
_IdKey = tuple[str, str]  # (kind, value): a StrEnum hashes unlike its value, so plain str


class Unchanged(Enum):
    """The type of :data:`UNCHANGED`: a field of :class:`ContactChanges` left as it is."""

    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactChanges:
    """What an update changes; every field left at its default stays as it is.

    ``attributes`` is a patch (a key mapped to ``None`` is removed). An identity both
    added and removed stays; removing one the contact does not have does nothing.
    """

    name: str | Unchanged = UNCHANGED
    organisation: str | Unchanged = UNCHANGED
    customer_class: str | Unchanged = UNCHANGED
    value: float | None | Unchanged = UNCHANGED
    language: str | None | Unchanged = UNCHANGED
    owner: str | None | Unchanged = UNCHANGED
    provisional: bool | Unchanged = UNCHANGED
    attributes: Mapping[str, Any] = field(default_factory=dict)
    add_identities: Sequence[Identity] = ()
    remove_identities: Sequence[Identity] = ()


@dataclass(frozen=True, slots=True)
class ContactPage:
    contacts: tuple[Contact, ...]
    next_cursor: str | None  # pass as ``after`` for the next page; None on the last one

    def as_dict(self) -> dict[str, Any]:
        return {"contacts": [c.as_dict() for c in self.contacts], "next_cursor": self.next_cursor}


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one import batch did: contacts created, rows that updated one, rows refused."""

    created: int
    updated: int
    errors: list[RowError]


class ContactStore:
    """The contacts of the CRM, on the event record's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    # -- single contacts -----------------------------------------------------------------

    async def create(
        self,
        *,
        id: str | None = None,
        name: str = "",
        organisation: str = "",
        customer_class: str = DEFAULT_CLASS,
        value: float | None = None,
        language: str | None = None,
        owner: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        identities: Sequence[Identity] = (),
        provisional: bool = False,
        now: float,
    ) -> Contact:
        """A new contact; :class:`ConflictError` if ``id`` exists, IdentityTakenError if
        one of ``identities`` belongs to another contact (also when a concurrent create
        took it first)."""
        wanted = list(dict.fromkeys(identities))
        record = Contact(
            id=uuid.uuid4().hex if id is None else id,
            name=name,
            organisation=organisation,
            customer_class=customer_class,
            value=value,
            language=language,
            owner=owner,
            attributes=dict(attributes or {}),
            provisional=provisional,
            identities=_sorted(wanted),
            created_at=now,
            updated_at=now,
            version=1,
        )
        _check_contact(record)
        try:
            async with self._write() as conn:
                if await _exists(conn, record.id):
                    raise _id_taken(record.id)
                await _check_free(conn, wanted, record.id)
                await conn.execute(insert(contact).values(_columns(record)))
                await _insert_words(conn, {record.id: record.name})
                await _insert_identities(conn, record.id, wanted, now)
        except IntegrityError as exc:
            raise await self._conflict(record.id, wanted, creating=True) from exc
        return record

    async def get(self, contact_id: str) -> Contact:
        """The contact, merged or not (a merged one has ``merged_into`` set)."""
        async with self._read() as conn:
            found = await load_contact(conn, contact_id)
        if found is None:
            raise _unknown(contact_id)
        return found

    async def update(
        self,
        contact_id: str,
        changes: ContactChanges,
        *,
        expected_version: int | None = None,
        now: float,
    ) -> Contact:
        """The contact with ``changes`` applied, its version bumped (even if nothing changed).

        ContactMergedError if it was merged; StaleContactError if ``expected_version`` is
        given and no longer current; IdentityTakenError for an added identity of another.
        """
        _check_changes(changes)
        added = list(dict.fromkeys(changes.add_identities))
        try:
            async with self._write() as conn:
                current = await load_contact(conn, contact_id, for_update=True)
                current = _updatable(current, contact_id, expected_version)
                have = set(current.identities)
                new = [i for i in added if i not in have]
                gone = [i for i in changes.remove_identities if i in have and i not in added]
                await _check_free(conn, new, contact_id)
                updated = _changed(current, changes, [*new, *current.identities], gone, now)
                await conn.execute(
                    sql_update(contact)
                    .where(contact.c.id == contact_id)
                    .values(_mutable_columns(updated))
                )
                if gone:
                    await conn.execute(
                        delete(identity_t).where(
                            identity_t.c.contact_id == contact_id, _identity_match(gone)
                        )
                    )
                await _insert_identities(conn, contact_id, new, now)
                if updated.name != current.name:
                    await _delete_words(conn, [contact_id])
                    await _insert_words(conn, {contact_id: updated.name})
        except IntegrityError as exc:
            raise await self._conflict(contact_id, added, creating=False) from exc
        return updated

    async def find(self, identities: Sequence[Identity]) -> Contact | None:
        """The contact owning the first of ``identities`` (in order) that is known."""
        async with self._read() as conn:
            contact_id = await find_contact_id(conn, identities)
            return None if contact_id is None else await load_contact(conn, contact_id)

    # -- many contacts -------------------------------------------------------------------

    async def search(
        self,
        *,
        text: str | None = None,
        identity: Identity | None = None,
        customer_class: str | None = None,
        provisional: bool | None = None,
        limit: int = 50,
        after: str | None = None,
    ) -> ContactPage:
        """Contacts matching every filter given, by name then id, ``limit`` at a time.

        ``text``: each of its words begins a word of the name ("smi jo" finds John
        Smith); text without any word filters nothing. ``identity``: exact, normalised.
        ``after`` is the previous page's ``next_cursor``. Merged contacts never appear.
        """
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise InvalidRequestError(
                f"limit must be between 1 and {MAX_SEARCH_LIMIT}", details={"limit": limit}
            )
        filters: list[ColumnElement[bool]] = [contact.c.merged_into.is_(None)]
        if identity is not None:
            owner = select(identity_t.c.contact_id).where(_identity_match([identity]))
            filters.append(contact.c.id.in_(owner))
        if customer_class is not None:
            filters.append(contact.c.customer_class == customer_class)
        if provisional is not None:
            filters.append(contact.c.provisional == provisional)
        if after is not None:
            key, last_id = _decode_cursor(after)
            filters.append(tuple_(contact.c.name_key, contact.c.id) > tuple_(key, last_id))
        prefixes = search_prefixes(text or "")
        async with self._read() as conn:
            if not prefixes:
                query = select(contact).where(*filters).order_by(*_NAME_ORDER).limit(limit + 1)
                rows = (await conn.execute(query)).mappings().all()
            else:
                # An identity matches one contact at most: start from it, like a rare word.
                rare = identity is not None or await _has_rare_prefix(conn, prefixes)
                rows = await _search_by_words(conn, filters, prefixes, limit + 1, rare=rare)
            contacts = await _with_identities(conn, rows[:limit])
        cursor = None
        if len(rows) > limit:
            cursor = _encode_cursor(rows[limit - 1]["name_key"], rows[limit - 1]["id"])
        return ContactPage(tuple(contacts), cursor)

    async def count(self) -> int:
        """Contacts that are not merged into another."""
        query = select(func.count()).select_from(contact).where(contact.c.merged_into.is_(None))
        async with self._read() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def iter_all(self, *, batch: int = 1000) -> AsyncIterator[Contact]:
        """Every contact not merged, by id, reading ``batch`` at a time (for export).

        No connection is held while the caller handles a batch, so a slow consumer (a
        download) does not pin one.
        """
        if batch < 1:
            raise InvalidRequestError("batch must be at least 1", details={"batch": batch})
        last: str | None = None
        while True:
            query = select(contact).where(contact.c.merged_into.is_(None))
            if last is not None:
                query = query.where(contact.c.id > last)
            query = query.order_by(contact.c.id).limit(batch)
            async with self._read() as conn:
                rows = (await conn.execute(query)).mappings().all()
                contacts = await _with_identities(conn, rows)
            for found in contacts:
                yield found
            if len(rows) < batch:
                return
            last = rows[-1]["id"]

    async def merge(self, into_id: str, from_ids: Sequence[str], *, now: float) -> Contact:
        """Merge ``from_ids`` into ``into_id`` and return the result (see module docs).

        The sources keep their rows with ``merged_into`` set, so old references resolve;
        their identities, notes and cases move to the target; the target's own values
        win, its empty fields are filled from the first source that has them.
        """
        sources = list(dict.fromkeys(from_ids))
        if not sources:
            raise InvalidRequestError("name at least one contact to merge")
        if into_id in sources:
            raise InvalidRequestError(
                "a contact cannot be merged into itself", details={"contact_id": into_id}
            )
        async with self._write() as conn:
            found = await _locked_rows(conn, [into_id, *sources])
            for contact_id in (into_id, *sources):
                _updatable(found.get(contact_id), contact_id, None)
            target = found[into_id]
            merged = _merged(target, [found[s] for s in sources], now)
            await conn.execute(
                sql_update(contact).where(contact.c.id == into_id).values(_mutable_columns(merged))
            )
            await _retire_sources(conn, into_id, sources, now)
            if merged.name != target.name:
                await _delete_words(conn, [into_id])
                await _insert_words(conn, {into_id: merged.name})
            result = await load_contact(conn, into_id)
        assert result is not None  # locked above, in this transaction
        return result

    # -- import --------------------------------------------------------------------------

    async def import_rows(self, rows: Sequence[ImportRow], *, now: float) -> list[RowError]:
        """Create or update the contacts of ``rows`` in one transaction; the refused rows.

        See :meth:`import_batch`, which also counts what was created and updated.
        """
        return (await self.import_batch(rows, now=now)).errors

    async def import_batch(self, rows: Sequence[ImportRow], *, now: float) -> BatchOutcome:
        """Upsert ``rows`` with a constant number of queries (none per row).

        A row with an ``id`` updates that contact (creates it if unknown); a row without
        one updates the contact owning one of its identities, or creates a contact. The
        rows are applied in order, as if one by one: a later row sees what an earlier
        one created, so the outcome does not depend on how a file is cut into batches.
        """
        for attempt in range(1, _IMPORT_ATTEMPTS + 1):
            try:
                async with self._write() as conn:
                    plan = await _plan_import(conn, rows, now)
                    await plan.write(conn)
                return BatchOutcome(plan.created, plan.updated, plan.errors)
            except IntegrityError as exc:
                # A concurrent writer took an identity or id between our read and write
                # (PostgreSQL only; SQLite writers queue): plan again on what is there now.
                if attempt == _IMPORT_ATTEMPTS:
                    raise StoreError(f"import batch kept conflicting: {exc}") from exc
        raise AssertionError("unreachable")

    # -- plumbing ------------------------------------------------------------------------

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            # Callers (the web layer) answer a TrunklineError; a driver error would be a 500.
            raise StoreError(f"contact query failed: {exc}") from exc

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction; an IntegrityError passes through for the caller to explain."""
        try:
            async with self._engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    await conn.execute(_SQLITE_WRITE_LOCK)
                yield conn
        except IntegrityError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"contact write failed: {exc}") from exc

    async def _conflict(
        self, contact_id: str, identities: Sequence[Identity], *, creating: bool
    ) -> TrunklineError:
        """Why a write broke a unique key: a concurrent writer got there first. The
        failed transaction is gone, so this looks again in a new one."""
        async with self._read() as conn:
            owners = await _owners(conn, identities)
            exists = creating and await _exists(conn, contact_id)
        for ident in identities:
            owner = owners.get(_key(ident))
            if owner is not None and owner != contact_id:
                return _taken(ident, owner)
        if exists:
            return _id_taken(contact_id)
        return StoreError("the contact could not be written: a concurrent change conflicted")


# -- one-connection lookups, for the recognition and screen-pop paths --------------------


async def find_contact_id(conn: AsyncConnection, identities: Sequence[Identity]) -> str | None:
    """The id of the contact owning the first of ``identities`` that is known: one query."""
    wanted = list(dict.fromkeys(identities))
    if not wanted:
        return None
    owners = await _owners(conn, wanted)
    return next((owners[k] for k in map(_key, wanted) if k in owners), None)


async def load_contact(
    conn: AsyncConnection, contact_id: str, *, for_update: bool = False
) -> Contact | None:
    """The contact with its identities (one query), or ``None``; merged ones included.

    ``for_update`` locks its row until the transaction ends (PostgreSQL).
    """
    query = (
        select(
            contact,
            identity_t.c.kind.label("identity_kind"),
            identity_t.c.value.label("identity_value"),
        )
        .select_from(contact.outerjoin(identity_t, identity_t.c.contact_id == contact.c.id))
        .where(contact.c.id == contact_id)
    )
    if for_update:
        query = query.with_for_update(of=contact)
    rows = (await conn.execute(query)).mappings().all()
    if not rows:
        return None
    identities = [
        Identity(IdentityKind(row["identity_kind"]), row["identity_value"])
        for row in rows
        if row["identity_kind"] is not None
    ]
    return contact_from_row(rows[0], identities)


def search_prefixes(text: str) -> list[str]:
    """The word prefixes a name must have to match ``text``.

    A word that begins another query word is implied by it ("jo john" needs only
    "john"), so it is left out: one subquery fewer.
    """
    words = name_words(text)
    return [w for w in words if not any(o != w and o.startswith(w) for o in words)]


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (None: no bound).

    Code point order, which is the byte order of UTF-8: PostgreSQL's "C" collation and
    SQLite's default both compare that way.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code <= 0x10FFFF:
            chars[-1] = chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)  # skip surrogates
            return "".join(chars)
        chars.pop()
    return None


# -- reading helpers ---------------------------------------------------------------------


def contact_from_row(row: Mapping[Any, Any], identities: Iterable[Identity]) -> Contact:
    return Contact(
        id=row["id"],
        name=row["name"],
        organisation=row["organisation"],
        customer_class=row["customer_class"],
        value=row["value"],
        language=row["language"],
        owner=row["owner"],
        attributes=dict(row["attributes"]),
        provisional=bool(row["provisional"]),
        identities=_sorted(identities),
        merged_into=row["merged_into"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
    )


async def _with_identities(conn: AsyncConnection, rows: Sequence[RowMapping]) -> list[Contact]:
    """The contacts of ``rows`` with their identities, read in one query per chunk."""
    found: dict[str, list[Identity]] = {row["id"]: [] for row in rows}
    for ids in _chunks(list(found)):
        query = select(identity_t.c.contact_id, identity_t.c.kind, identity_t.c.value).where(
            identity_t.c.contact_id.in_(ids)
        )
        for row in await conn.execute(query):
            found[row.contact_id].append(Identity(IdentityKind(row.kind), row.value))
    return [contact_from_row(row, found[row["id"]]) for row in rows]


async def _owners(conn: AsyncConnection, identities: Iterable[Identity]) -> dict[_IdKey, str]:
    """Who owns each of ``identities`` that is known, by (kind, value)."""
    owners: dict[_IdKey, str] = {}
    for chunk in _chunks(list(identities)):
        query = select(identity_t.c.kind, identity_t.c.value, identity_t.c.contact_id).where(
            _identity_match(chunk)
        )
        for row in await conn.execute(query):
            owners[(row.kind, row.value)] = row.contact_id
    return owners


def _identity_match(identities: Sequence[Identity]) -> ColumnElement[bool]:
    """``(kind, value)`` among ``identities``: per kind, an IN list on the primary key,
    which PostgreSQL reads as one index scan per kind (a row-value IN list would be an OR
    of one scan per identity)."""
    by_kind: dict[str, list[str]] = {}
    for ident in identities:
        by_kind.setdefault(ident.kind.value, []).append(ident.value)
    clauses = [
        and_(
            identity_t.c.kind == kind,
            identity_t.c.value == values[0] if len(values) == 1 else identity_t.c.value.in_(values),
        )
        for kind, values in by_kind.items()
    ]
    return clauses[0] if len(clauses) == 1 else or_(*clauses)


async def _exists(conn: AsyncConnection, contact_id: str) -> bool:
    query = select(contact.c.id).where(contact.c.id == contact_id)
    return (await conn.execute(query)).first() is not None


async def _locked_rows(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, Contact]:
    """The contacts ``ids`` (those that exist), locked in id order so that concurrent
    lockers of overlapping sets cannot deadlock. Without identities."""
    query = select(contact).where(contact.c.id.in_(ids)).order_by(contact.c.id)
    rows = (await conn.execute(query.with_for_update())).mappings().all()
    return {row["id"]: contact_from_row(row, ()) for row in rows}


def _word_range(prefix: str) -> ColumnElement[bool]:
    """Words beginning with ``prefix``: a range, not LIKE, so an index range scan whatever
    the database's locale (see schema).

    The bounds are rendered into the SQL text rather than bound: PostgreSQL would
    otherwise reuse a generic plan for the prepared statement after a few executions, one
    made without knowing whether the prefix is rare or common, which is all that matters.
    """
    low = literal(prefix, name_word.c.word.type, literal_execute=True)
    end = prefix_end(prefix)
    if end is None:
        return name_word.c.word >= low
    high = literal(end, name_word.c.word.type, literal_execute=True)
    return and_(name_word.c.word >= low, name_word.c.word < high)


def _ids_with_word_prefix(prefix: str) -> Select[tuple[str]]:
    return select(name_word.c.contact_id).where(_word_range(prefix))


async def _has_rare_prefix(conn: AsyncConnection, prefixes: Sequence[str]) -> bool:
    """Whether fewer than RARE_WORD_MATCHES names have a word with one of ``prefixes``:
    counted on the word index only, and never past that bound."""
    counts = [
        select(func.count())
        .select_from(
            select(name_word.c.contact_id)
            .where(_word_range(prefix))
            .limit(RARE_WORD_MATCHES)
            .subquery()
        )
        .scalar_subquery()
        for prefix in prefixes
    ]
    found = (await conn.execute(select(*counts))).one()
    return min(int(n) for n in found) < RARE_WORD_MATCHES


async def _search_by_words(
    conn: AsyncConnection,
    filters: Sequence[ColumnElement[bool]],
    prefixes: Sequence[str],
    count: int,
    *,
    rare: bool,
) -> Sequence[RowMapping]:
    """The first ``count`` contacts, in name order, that pass ``filters`` and have a word
    beginning with each of ``prefixes``.

    Either way of finding them can be slow on its own, and the planner cannot tell which
    (it assumes matches are spread evenly through the name order, while names that begin
    with a prefix are all together): walking the name order finds dense matches at once
    but crosses most of the table for "zoe" when Zoës sort last; starting from the word
    index costs one lookup per match, cheap for a rare word and not for a common one. So
    a rare prefix starts from the word index; common ones first walk a bounded stretch
    of the name order, and only if that finds too few start from the word index.
    """
    if not rare:
        walked = (
            select(contact)
            .where(*filters)
            .order_by(*_NAME_ORDER)
            .limit(NAME_WALK_BUDGET)
            .subquery()
        )
        query = (
            select(walked)
            .where(*(walked.c.id.in_(_ids_with_word_prefix(p)) for p in prefixes))
            .order_by(walked.c.name_key, walked.c.id)
            .limit(count)
        )
        rows = (await conn.execute(query)).mappings().all()
        if len(rows) == count:
            return rows
    words = [contact.c.id.in_(_ids_with_word_prefix(p)) for p in prefixes]
    # OFFSET 0 makes the matches a subquery planned on its own (not merged into the outer
    # query), so the name order cannot tempt the planner into walking it after all.
    matches = select(contact).where(*filters, *words).offset(0).subquery()
    query = select(matches).order_by(matches.c.name_key, matches.c.id).limit(count)
    return (await conn.execute(query)).mappings().all()


def _encode_cursor(name_key: str, contact_id: str) -> str:
    text = json.dumps([name_key, contact_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise _bad_cursor(cursor) from exc
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, str) for part in value)
    ):
        raise _bad_cursor(cursor)
    return value[0], value[1]


def _bad_cursor(cursor: str) -> InvalidRequestError:
    return InvalidRequestError("invalid cursor", details={"cursor": cursor[:100]})


# -- writing helpers ---------------------------------------------------------------------


def _key(ident: Identity) -> _IdKey:
    return (ident.kind.value, ident.value)


def _sorted(identities: Iterable[Identity]) -> tuple[Identity, ...]:
    return tuple(sorted(identities, key=_key))


def _chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _columns(record: Contact) -> dict[str, Any]:
    return {
        "id": record.id,
        "created_at": record.created_at,
        "merged_into": record.merged_into,
        **_mutable_columns(record),
    }


def _mutable_columns(record: Contact) -> dict[str, Any]:
    return {
        "name": record.name,
        "name_key": search_key(record.name),
        "organisation": record.organisation,
        "customer_class": record.customer_class,
        "value": record.value,
        "language": record.language,
        "owner": record.owner,
        "attributes": dict(record.attributes),
        "provisional": record.provisional,
        "updated_at": record.updated_at,
        "version": record.version,
    }


async def _check_free(conn: AsyncConnection, identities: Sequence[Identity], owner: str) -> None:
    if not identities:
        return
    owners = await _owners(conn, identities)
    for ident in identities:
        found = owners.get(_key(ident))
        if found is not None and found != owner:
            raise _taken(ident, found)


async def _insert_identities(
    conn: AsyncConnection, contact_id: str, identities: Sequence[Identity], now: float
) -> None:
    rows = [
        {"kind": i.kind.value, "value": i.value, "contact_id": contact_id, "created_at": now}
        for i in identities
    ]
    await _insert_many(conn, identity_t, rows)


async def _insert_words(conn: AsyncConnection, names: Mapping[str, str]) -> None:
    rows = [
        {"word": word, "contact_id": contact_id}
        for contact_id, name in names.items()
        for word in name_words(name)
    ]
    await _insert_many(conn, name_word, rows)


async def _insert_many(
    conn: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert ``rows`` (all with the same keys) with one statement.

    On PostgreSQL it is ``INSERT ... SELECT FROM unnest(<one array per column>)``: one
    bound parameter per column rather than per value, which spares most of the
    client-side work of an executemany (the import's main cost after parsing).
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await conn.execute(insert(table), list(rows))
        return
    source = _unnest(table, rows)
    await conn.execute(insert(table).from_select(list(rows[0]), select(*source.c)))


async def _update_many(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update contacts by ``id`` from ``rows`` (all with the same keys), like _insert_many."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != "id"]
    if conn.dialect.name != "postgresql":
        params = [{**{c: row[c] for c in columns}, "b_id": row["id"]} for row in rows]
        await conn.execute(sql_update(contact).where(contact.c.id == bindparam("b_id")), params)
        return
    source = _unnest(contact, rows)
    await conn.execute(
        sql_update(contact)
        .where(contact.c.id == source.c.id)
        .values({name: source.c[name] for name in columns})
    )


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]]) -> TableValuedAlias:
    """``unnest(array, ...) AS anon(column, ...)``, typed like ``table``'s columns."""
    names = list(rows[0])
    arrays = [
        bindparam(f"u_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in names
    ]
    return func.unnest(*arrays).table_valued(*names).render_derived()


async def _delete_words(conn: AsyncConnection, contact_ids: Sequence[str]) -> None:
    for ids in _chunks(contact_ids):
        await conn.execute(delete(name_word).where(name_word.c.contact_id.in_(ids)))


async def _retire_sources(
    conn: AsyncConnection, into_id: str, sources: Sequence[str], now: float
) -> None:
    """Point the merged sources (and what was merged into them) at the target, and move
    what hangs off them: identities, notes, cases and case timelines."""
    await conn.execute(
        sql_update(contact)
        .where(contact.c.id.in_(sources))
        .values(merged_into=into_id, updated_at=now, version=contact.c.version + 1)
    )
    # Merges stay flat, so a contact's aliases are one lookup (see crm/aliases.py).
    await conn.execute(
        sql_update(contact).where(contact.c.merged_into.in_(sources)).values(merged_into=into_id)
    )
    for table in (identity_t, note, case, case_entry):
        await conn.execute(
            sql_update(table).where(table.c.contact_id.in_(sources)).values(contact_id=into_id)
        )
    await _delete_words(conn, sources)


# -- rules -------------------------------------------------------------------------------


def _updatable(found: Contact | None, contact_id: str, expected_version: int | None) -> Contact:
    if found is None:
        raise _unknown(contact_id)
    if found.merged_into is not None:
        raise ContactMergedError(
            f"contact {contact_id} was merged into {found.merged_into}",
            details={"contact_id": contact_id, "merged_into": found.merged_into},
        )
    if expected_version is not None and expected_version != found.version:
        raise StaleContactError(
            f"contact {contact_id} is at version {found.version}, not {expected_version}",
            details={"contact_id": contact_id, "current_version": found.version},
        )
    return found


def _changed(
    current: Contact,
    changes: ContactChanges,
    identities: Iterable[Identity],
    gone: Collection[Identity],
    now: float,
) -> Contact:
    def pick(new: _T | Unchanged, old: _T) -> _T:
        return old if isinstance(new, Unchanged) else new

    return replace(
        current,
        name=pick(changes.name, current.name),
        organisation=pick(changes.organisation, current.organisation),
        customer_class=pick(changes.customer_class, current.customer_class),
        value=pick(changes.value, current.value),
        language=pick(changes.language, current.language),
        owner=pick(changes.owner, current.owner),
        provisional=pick(changes.provisional, current.provisional),
        attributes=patched(current.attributes, changes.attributes),
        identities=_sorted(i for i in identities if i not in gone),
        updated_at=now,
        version=current.version + 1,
    )


def patched(attributes: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``attributes`` with ``patch`` applied: keys set, a key mapped to None removed."""
    out = dict(attributes)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _merged(target: Contact, sources: Sequence[Contact], now: float) -> Contact:
    def fill(own: _T, theirs: Iterable[_T]) -> _T:
        return own if own else next((v for v in theirs if v), own)

    attributes = dict(target.attributes)
    for source in sources:
        for key, value in source.attributes.items():
            attributes.setdefault(key, value)
    customer_class = target.customer_class
    if target.provisional:
        # A provisional contact's class is a default; a real record knows better.
        firm = next((s for s in sources if not s.provisional), None)
        customer_class = customer_class if firm is None else firm.customer_class
    value = target.value
    if value is None:
        value = next((s.value for s in sources if s.value is not None), None)
    return replace(
        target,
        name=fill(target.name, (s.name for s in sources)),
        organisation=fill(target.organisation, (s.organisation for s in sources)),
        language=fill(target.language, (s.language for s in sources)),
        owner=fill(target.owner, (s.owner for s in sources)),
        value=value,
        attributes=attributes,
        customer_class=customer_class,
        provisional=target.provisional and all(s.provisional for s in sources),
        updated_at=now,
        version=target.version + 1,
    )


def _check_contact(record: Contact) -> None:
    if not record.id or len(record.id) > MAX_ID_LENGTH:
        raise InvalidRequestError(
            f"a contact id is 1 to {MAX_ID_LENGTH} characters", details={"id": record.id[:100]}
        )
    _check_fields(
        name=record.name,
        organisation=record.organisation,
        customer_class=record.customer_class,
        value=record.value,
        language=record.language,
        owner=record.owner,
        attributes=record.attributes,
    )


def _check_changes(changes: ContactChanges) -> None:
    _check_fields(
        **{
            name: getattr(changes, name)
            for name in (*_ROW_FIELDS, "attributes")
            if not isinstance(getattr(changes, name), Unchanged)
        }
    )


def _check_fields(**fields: Any) -> None:
    """Refuse what the database would (NUL in text, NaN in JSON) as the caller's error,
    and an empty class or a non-finite value, which no screen could show sensibly."""
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequestError(f"{name} contains a NUL character", details={"field": name})
    if fields.get("customer_class", DEFAULT_CLASS) == "":
        raise InvalidRequestError("the class cannot be empty", details={"field": "class"})
    value = fields.get("value")
    if value is not None and not math.isfinite(value):
        raise InvalidRequestError("value must be a finite number", details={"field": "value"})
    if "attributes" in fields:
        try:
            text = json.dumps(dict(fields["attributes"]), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidRequestError(
                f"attributes must be JSON: {exc}", details={"field": "attributes"}
            ) from None
        if "\\u0000" in text:
            raise InvalidRequestError(
                "attributes contain a NUL character", details={"field": "attributes"}
            )


def _unknown(contact_id: str) -> UnknownContactError:
    return UnknownContactError(f"no contact {contact_id!r}", details={"contact_id": contact_id})


def _id_taken(contact_id: str) -> ConflictError:
    return ConflictError(
        f"contact {contact_id!r} already exists", details={"contact_id": contact_id}
    )


def _taken(ident: Identity, owner: str) -> IdentityTakenError:
    return IdentityTakenError(
        f"{ident.kind.value} {ident.value} already belongs to contact {owner}",
        details={"kind": ident.kind.value, "value": ident.value, "contact_id": owner},
    )


# -- import planning ---------------------------------------------------------------------


async def _plan_import(conn: AsyncConnection, rows: Sequence[ImportRow], now: float) -> _ImportPlan:
    """Read what the batch touches (two queries, chunked), then apply the rows in memory."""
    owners = await _owners(conn, {i for row in rows for i in row.identities})
    ids = sorted({row.id for row in rows if row.id is not None} | set(owners.values()))
    stored: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ids):
        query = select(contact).where(contact.c.id.in_(chunk)).order_by(contact.c.id)
        for found in (await conn.execute(query.with_for_update())).mappings():
            stored[found["id"]] = dict(found)
    plan = _ImportPlan(stored, owners, now)
    for row in rows:
        plan.apply(row)
    return plan


@dataclass(slots=True)
class _Draft:
    """A contact's row as the batch leaves it: ``crm_contact`` columns."""

    values: dict[str, Any]
    new: bool
    stored_name: str | None  # the name in the database before the batch (None: new)


class _ImportPlan:
    def __init__(
        self, stored: dict[str, dict[str, Any]], owners: dict[_IdKey, str], now: float
    ) -> None:
        self._stored = stored
        self._owners = owners
        self._now = now
        self._drafts: dict[str, _Draft] = {}
        self._blank = _columns(Contact(id="", created_at=now, updated_at=now))
        self._identities: list[dict[str, Any]] = []
        self.errors: list[RowError] = []
        self.created = 0
        self.updated = 0

    def apply(self, row: ImportRow) -> None:
        """Apply one row, or record why it cannot be (nothing of it is then applied)."""
        keys = list(dict.fromkeys(map(_key, row.identities)))
        target = self._target(row, keys)
        if target is None:
            return
        problem = self._problem(row, target, keys)
        if problem is not None:
            self.errors.append(problem)
            return
        draft = self._draft(target)
        if draft is None:
            draft = self._drafts[target] = self._new_draft(target)
            self.created += 1
        else:
            self.updated += 1
        _apply_row(draft.values, row, self._now)
        for key in keys:
            if key not in self._owners:
                self._owners[key] = target
                self._identities.append(
                    {"kind": key[0], "value": key[1], "contact_id": target, "created_at": self._now}
                )

    def _target(self, row: ImportRow, keys: Sequence[_IdKey]) -> str | None:
        if row.id is not None:
            return row.id
        found = list(dict.fromkeys(self._owners[k] for k in keys if k in self._owners))
        if len(found) > 1:
            self.errors.append(
                RowError(row.line, f"the identities belong to contacts {found[0]} and {found[1]}")
            )
            return None
        return found[0] if found else uuid.uuid4().hex

    def _problem(self, row: ImportRow, target: str, keys: Sequence[_IdKey]) -> RowError | None:
        stored = self._stored.get(target)
        if stored is not None and stored["merged_into"] is not None:
            merged_into = stored["merged_into"]
            return RowError(row.line, f"contact {target} was merged into {merged_into}", "id")
        for kind, value in keys:
            owner = self._owners.get((kind, value), target)
            if owner != target:
                return RowError(row.line, f"{kind} {value} belongs to contact {owner}", kind)
        if row.customer_class == "":
            return RowError(row.line, "the class cannot be empty", "class")
        if row.value is not None and not math.isfinite(row.value):
            return RowError(row.line, "value must be a finite number", "value")
        if row.id is not None and not 0 < len(row.id) <= MAX_ID_LENGTH:
            return RowError(row.line, f"an id is 1 to {MAX_ID_LENGTH} characters", "id")
        return None

    def _draft(self, target: str) -> _Draft | None:
        draft = self._drafts.get(target)
        if draft is None and target in self._stored:
            values = dict(self._stored[target])
            values["attributes"] = dict(values["attributes"])
            values["version"] += 1
            draft = self._drafts[target] = _Draft(values, False, values["name"])
        return draft

    def _new_draft(self, target: str) -> _Draft:
        values = dict(self._blank)
        values["id"] = target
        return _Draft(values, True, None)

    async def write(self, conn: AsyncConnection) -> None:
        """Write the plan: a few statements, each executed for many rows at once."""
        new = [d.values for d in self._drafts.values() if d.new]
        old = [d for d in self._drafts.values() if not d.new]
        for draft in self._drafts.values():
            draft.values["name_key"] = search_key(draft.values["name"])
        await _insert_many(conn, contact, new)
        await _update_many(conn, [_update_params(d.values) for d in old])
        renamed = [d.values["id"] for d in old if d.values["name"] != d.stored_name]
        await _delete_words(conn, renamed)
        named = [*(v["id"] for v in new), *renamed]
        await _insert_words(conn, {i: self._drafts[i].values["name"] for i in named})
        await _insert_many(conn, identity_t, self._identities)


def _apply_row(values: dict[str, Any], row: ImportRow, now: float) -> None:
    for name in _ROW_FIELDS:
        given = getattr(row, name)
        if given is not None:
            values[name] = given
    if row.attributes:
        values["attributes"] = patched(values["attributes"], row.attributes)
    values["provisional"] = False  # an imported record is a real one
    values["updated_at"] = now


def _update_params(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in ("created_at", "merged_into")}
