"""The event record's facade: open (and migrate) a database, append events, query them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import URL, RowMapping, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from trunkline.domain.errors import InvalidRequestError
from trunkline.domain.events import Event
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import Medium
from trunkline.store.errors import StoreError
from trunkline.store.migrations import upgrade_to_head
from trunkline.store.schema import event, interaction
from trunkline.store.url import to_async_url
from trunkline.store.writer import DEFAULT_MAX_BATCH, EventWriter

logger = logging.getLogger(__name__)

# PostgreSQL connections kept open, and how many more may be opened for a burst (those
# are closed again when returned to a full pool).
PG_POOL_SIZE = 20
PG_POOL_OVERFLOW = 10

OPEN_STATES: tuple[InteractionState, ...] = (
    InteractionState.QUEUED,
    InteractionState.OFFERED,
    InteractionState.ASSIGNED,
    InteractionState.WRAP_UP,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveredInteraction:
    """An interaction still open in the record, as the router needs it after a restart."""

    id: str
    medium: Medium
    queue: str
    state: InteractionState
    priority: int
    rank: float
    skills: dict[str, int]
    data: dict[str, Any]
    customer_id: str | None
    created_at: float
    agent_id: str | None
    preferred_agent: str | None


class EventStore:
    """Appends events through a group-committing writer and answers history queries.

    ``url`` is the normalised URL with any password masked; ``dialect`` is ``"sqlite"`` or
    ``"postgresql"``.
    """

    def __init__(self, engine: AsyncEngine, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.engine = engine
        self.url = _display_url(engine.url)
        self.dialect = engine.dialect.name
        self._writer = EventWriter(engine, max_batch=max_batch)

    @classmethod
    async def open(cls, url: str, *, max_batch: int = DEFAULT_MAX_BATCH) -> EventStore:
        """Connect to ``url`` and bring its tables up to the latest migration."""
        parsed = make_url(to_async_url(url))
        _check_sqlite_directory(parsed)
        engine = _create_engine(parsed)
        try:
            await upgrade_to_head(engine)
        except Exception as exc:
            await engine.dispose()
            where = _display_url(engine.url)
            raise StoreError(f"cannot open the event record at {where}: {exc}") from exc
        store = cls(engine, max_batch=max_batch)
        logger.info("event record open at %s", store.url)
        return store

    def append(self, events: Sequence[Event]) -> asyncio.Future[None]:
        """Queue ``events`` for the next commit; the future resolves once they are durable."""
        return self._writer.submit(events)

    async def flush(self) -> None:
        """Wait for everything appended so far; :class:`StoreError` if any of it failed."""
        await self._writer.flush()

    async def close(self) -> None:
        """Write what is pending, then release the database."""
        try:
            await self._writer.close()
        finally:
            await self.engine.dispose()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self.engine.connect() as conn:
                yield conn
        except (SQLAlchemyError, OSError) as exc:
            # Callers (the web layer) answer a TrunklineError; a driver error would be a 500.
            raise StoreError(f"event record query failed: {exc}") from exc

    async def recover(self) -> list[RecoveredInteraction]:
        """Open interactions (queued, offered, assigned, wrap-up) in routing order."""
        query = (
            select(interaction)
            .where(interaction.c.state.in_([s.value for s in OPEN_STATES]))
            .order_by(interaction.c.rank, interaction.c.seq)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [
            RecoveredInteraction(
                id=row["id"],
                medium=Medium(row["medium"]),
                queue=row["queue"],
                state=InteractionState(row["state"]),
                priority=row["priority"],
                rank=row["rank"],
                skills=dict(row["skills"]),
                data=dict(row["data"]),
                customer_id=row["customer_id"],
                created_at=row["created_at"],
                agent_id=row["agent_id"],
                preferred_agent=row["preferred_agent"],
            )
            for row in rows
        ]

    async def interaction(self, interaction_id: str) -> dict[str, Any] | None:
        """The snapshot of one interaction as a JSON-ready dict, or ``None`` if unknown."""
        query = select(interaction).where(interaction.c.id == interaction_id)
        async with self._read() as conn:
            row = (await conn.execute(query)).mappings().first()
        return None if row is None else _snapshot_dict(row)

    async def list_interactions(
        self,
        *,
        state: str | None = None,
        queue: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Snapshots, newest first, optionally of one state and/or queue."""
        _check_page(limit, offset)
        query = select(interaction)
        if state is not None:
            query = query.where(interaction.c.state == str(state))
        if queue is not None:
            query = query.where(interaction.c.queue == queue)
        query = query.order_by(interaction.c.created_at.desc(), interaction.c.seq.desc())
        async with self._read() as conn:
            rows = (await conn.execute(query.limit(limit).offset(offset))).mappings().all()
        return [_snapshot_dict(row) for row in rows]

    async def journeys(
        self,
        start: float,
        end: float,
        *,
        after: tuple[float, str] | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """Interactions created in ``[start, end)``, oldest first, each snapshot with its
        ``events`` (oldest first). Page with ``after`` = the last one's (created_at, id):
        keyset paging stays cheap however deep the export goes."""
        _check_page(limit, 0)
        query = select(interaction).where(
            interaction.c.created_at >= start, interaction.c.created_at < end
        )
        if after is not None:
            query = query.where(tuple_(interaction.c.created_at, interaction.c.id) > tuple_(*after))
        query = query.order_by(interaction.c.created_at, interaction.c.id).limit(limit)
        async with self._read() as conn:
            rows = (await conn.execute(query)).mappings().all()
            ids = [row["id"] for row in rows]
            found = await conn.execute(
                select(event.c.id, event.c.interaction_id, event.c.payload)
                .where(event.c.interaction_id.in_(ids))
                .order_by(event.c.id)
            )
            events: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            for ev in found:
                events[ev.interaction_id].append(_payload_dict(ev.id, ev.payload))
        return [{**_snapshot_dict(row), "events": events[row["id"]]} for row in rows]

    async def interaction_events(self, interaction_id: str) -> list[dict[str, Any]]:
        """Every event of one interaction, oldest first, each with its record ``id``."""
        query = (
            select(event.c.id, event.c.payload)
            .where(event.c.interaction_id == interaction_id)
            .order_by(event.c.id)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_payload_dict(row.id, row.payload) for row in rows]

    async def events(self, *, since_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        """Events with an id above ``since_id``, oldest first, each with its ``id``."""
        _check_page(limit, 0)
        query = select(event.c.id, event.c.payload).where(event.c.id > since_id)
        async with self._read() as conn:
            rows = (await conn.execute(query.order_by(event.c.id).limit(limit))).all()
        return [_payload_dict(row.id, row.payload) for row in rows]

    async def last_agent_states(self) -> dict[str, dict[str, Any]]:
        """Each agent's most recent ``agent_state_changed`` payload, by agent id."""
        latest = (
            select(func.max(event.c.id))
            .where(event.c.type == "agent_state_changed")
            .group_by(event.c.agent_id)
        )
        query = select(event.c.id, event.c.payload).where(event.c.id.in_(latest))
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        out: dict[str, dict[str, Any]] = {}
        for row in rows:
            payload = _payload_dict(row.id, row.payload)
            out[payload["agent_id"]] = payload
        return out


def _create_engine(url: URL) -> AsyncEngine:
    if url.get_backend_name() != "sqlite":
        # Every REST command reads its interaction back and the writer holds a connection
        # while it commits, so a busy server has more than SQLAlchemy's default five
        # connections checked out at once. Each one beyond the pool was opened for one
        # query and closed on return: a new PostgreSQL backend per request under load.
        return create_async_engine(
            url, pool_pre_ping=True, pool_size=PG_POOL_SIZE, max_overflow=PG_POOL_OVERFLOW
        )
    if url.database in (None, "", ":memory:"):
        # Each connection to :memory: is its own empty database, so exactly one connection
        # is shared; a one-slot queue pool (not StaticPool) also keeps the writer's
        # transaction and a reader from interleaving on it.
        engine = create_async_engine(
            url, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=300
        )
    else:
        engine = create_async_engine(url)
    sa_event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _check_sqlite_directory(url: URL) -> None:
    # A clear message for the common mistake, instead of sqlite's "unable to open file".
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if url.query.get("uri"):
        return  # a file: URI, which sqlite itself resolves
    directory = Path(url.database).parent
    if not directory.is_dir():
        raise StoreError(
            f"cannot open the event record: directory {str(directory)!r} does not exist",
            details={"directory": str(directory)},
        )


def _display_url(url: URL) -> str:
    if url.get_backend_name() == "sqlite" and url.database == ":memory:":
        return f"{url.drivername}:///:memory:"  # unencoded, as users write it
    return url.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; NORMAL syncs at checkpoints, not every commit
    # (a power cut may lose the last commits, never corrupt the file).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _check_page(limit: int, offset: int) -> None:
    if limit < 0 or offset < 0:
        raise InvalidRequestError(
            "limit and offset must not be negative", details={"limit": limit, "offset": offset}
        )


def _snapshot_dict(row: RowMapping) -> dict[str, Any]:
    out = dict(row)
    out["skills"] = dict(out["skills"])
    out["data"] = dict(out["data"])
    return out


def _payload_dict(event_id: int, payload: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": event_id}
    out.update(json.loads(payload))
    return out
