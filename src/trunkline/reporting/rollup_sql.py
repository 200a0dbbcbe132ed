"""SQL side of the interval rollups: rows to and from the ``rollup_*`` tables.

Counter rows cross this boundary as :class:`QueueCounters` / :class:`AgentCounters`
keyed by :class:`QueueKey` / :class:`AgentKey`, so the rollup core and the reports never
see SQL. Writes replace whole rows (the rollup always knows a row's absolute counters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, delete, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from trunkline.domain.agent import AgentState
from trunkline.domain.media import Medium
from trunkline.reporting.fold import AgentCounters, AgentKey, QueueCounters, QueueKey
from trunkline.store.rollup_schema import (
    AGENT_COUNTER_COLUMNS,
    QUEUE_COUNTER_COLUMNS,
    rollup_agent,
    rollup_checkpoint,
    rollup_queue,
)

__all__ = [
    "agent_rows_between",
    "clear_rollups",
    "count_rows",
    "queue_rows_between",
    "read_agent_rows",
    "read_checkpoint",
    "read_queue_rows",
    "write_rows",
]

# Keys per IN (...) lookup: well under SQLite's bound-parameter limit.
_LOOKUP_CHUNK = 200


def _upsert(dialect: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    keys = [c.name for c in table.primary_key.columns]
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - EventStore opens only these two
        raise ValueError(f"rollups do not support the {dialect!r} dialect")
    replace = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_=replace)


def _queue_values(key: QueueKey, counters: QueueCounters) -> dict[str, Any]:
    values: dict[str, Any] = {
        "interval_start": key.interval,
        "queue": key.queue,
        "medium": key.medium.value,
    }
    for name in QUEUE_COUNTER_COLUMNS:
        values[name] = getattr(counters, name)
    return values


def _agent_values(key: AgentKey, counters: AgentCounters) -> dict[str, Any]:
    values: dict[str, Any] = {
        "interval_start": key.interval,
        "agent_id": key.agent,
        "state_ms": {f"{s.value}:{r}": ms for (s, r), ms in sorted(counters.state_ms.items())},
    }
    for name in AGENT_COUNTER_COLUMNS:
        values[name] = getattr(counters, name)
    return values


def _queue_row(row: RowMapping) -> tuple[QueueKey, QueueCounters]:
    key = QueueKey(int(row["interval_start"]), row["queue"], Medium(row["medium"]))
    return key, QueueCounters(**{name: int(row[name]) for name in QUEUE_COUNTER_COLUMNS})


def _agent_row(row: RowMapping) -> tuple[AgentKey, AgentCounters]:
    state_ms: dict[tuple[AgentState, str], int] = {}
    for text, ms in dict(row["state_ms"]).items():
        state, _, reason = str(text).partition(":")  # state values hold no colon
        state_ms[(AgentState(state), reason)] = int(ms)
    counters = AgentCounters(
        state_ms=state_ms, **{name: int(row[name]) for name in AGENT_COUNTER_COLUMNS}
    )
    return AgentKey(int(row["interval_start"]), row["agent_id"]), counters


async def write_rows(
    conn: AsyncConnection,
    queues: Mapping[QueueKey, QueueCounters],
    agents: Mapping[AgentKey, AgentCounters],
    *,
    checkpoint: tuple[str, int] | None = None,
) -> None:
    """Replace the given rows (insert or overwrite) and, if given, set the checkpoint."""
    dialect = conn.dialect.name
    if queues:
        values = [_queue_values(k, c) for k, c in queues.items()]
        await conn.execute(_upsert(dialect, rollup_queue, values), values)
    if agents:
        values = [_agent_values(k, c) for k, c in agents.items()]
        await conn.execute(_upsert(dialect, rollup_agent, values), values)
    if checkpoint is not None:
        name, last = checkpoint
        values = [{"name": name, "last_event_id": last}]
        await conn.execute(_upsert(dialect, rollup_checkpoint, values), values)


async def read_checkpoint(conn: AsyncConnection, name: str) -> int:
    """The id of the last event the named rollup wrote; 0 before its first write."""
    query = select(rollup_checkpoint.c.last_event_id).where(rollup_checkpoint.c.name == name)
    last = (await conn.execute(query)).scalar()
    return 0 if last is None else int(last)


async def read_queue_rows(
    conn: AsyncConnection, keys: Iterable[QueueKey]
) -> dict[QueueKey, QueueCounters]:
    """The stored rows of ``keys`` (keys with no row are left out)."""
    wanted = list(keys)
    out: dict[QueueKey, QueueCounters] = {}
    cols = (rollup_queue.c.interval_start, rollup_queue.c.queue, rollup_queue.c.medium)
    for i in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = [(k.interval, k.queue, k.medium.value) for k in wanted[i : i + _LOOKUP_CHUNK]]
        query = select(rollup_queue).where(tuple_(*cols).in_(chunk))
        for row in (await conn.execute(query)).mappings():
            key, counters = _queue_row(row)
            out[key] = counters
    return out


async def read_agent_rows(
    conn: AsyncConnection, keys: Iterable[AgentKey]
) -> dict[AgentKey, AgentCounters]:
    wanted = list(keys)
    out: dict[AgentKey, AgentCounters] = {}
    cols = (rollup_agent.c.interval_start, rollup_agent.c.agent_id)
    for i in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = [(k.interval, k.agent) for k in wanted[i : i + _LOOKUP_CHUNK]]
        query = select(rollup_agent).where(tuple_(*cols).in_(chunk))
        for row in (await conn.execute(query)).mappings():
            key, counters = _agent_row(row)
            out[key] = counters
    return out


async def queue_rows_between(
    conn: AsyncConnection,
    start: int,
    end: int,
    *,
    queue: str | None = None,
    medium: Medium | None = None,
) -> dict[QueueKey, QueueCounters]:
    """Queue rows of the intervals starting in ``[start, end)``, optionally filtered."""
    t = rollup_queue.c
    conditions = [t.interval_start >= start, t.interval_start < end]
    if queue is not None:
        conditions.append(t.queue == queue)
    if medium is not None:
        conditions.append(t.medium == medium.value)
    query = select(rollup_queue).where(and_(*conditions))
    return dict(_queue_row(row) for row in (await conn.execute(query)).mappings())


async def agent_rows_between(
    conn: AsyncConnection, start: int, end: int, *, agent: str | None = None
) -> dict[AgentKey, AgentCounters]:
    t = rollup_agent.c
    conditions = [t.interval_start >= start, t.interval_start < end]
    if agent is not None:
        conditions.append(t.agent_id == agent)
    query = select(rollup_agent).where(and_(*conditions))
    return dict(_agent_row(row) for row in (await conn.execute(query)).mappings())


async def clear_rollups(conn: AsyncConnection) -> None:
    """Delete every rollup row and checkpoint (before a rebuild)."""
    for table in (rollup_queue, rollup_agent, rollup_checkpoint):
        await conn.execute(delete(table))


async def count_rows(conn: AsyncConnection) -> tuple[int, int]:
    """How many (queue, agent) rollup rows are stored."""
    queues = (await conn.execute(select(func.count()).select_from(rollup_queue))).scalar()
    agents = (await conn.execute(select(func.count()).select_from(rollup_agent))).scalar()
    return int(queues or 0), int(agents or 0)
