"""The ``interaction`` snapshot: folds a batch of events into one row write per interaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from trunkline.domain.events import (
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionEscalated,
    InteractionEvent,
    InteractionMoved,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)
from trunkline.domain.interaction import InteractionState
from trunkline.store.errors import StoreError
from trunkline.store.schema import interaction


@dataclass(slots=True)
class SnapshotChange:
    """What a batch does to one interaction's row.

    ``full`` means ``values`` is a whole row (the batch holds its ``interaction_created``),
    so it is upserted; otherwise ``values`` only names the columns to update.
    """

    interaction_id: str
    full: bool
    values: dict[str, Any] = field(default_factory=dict)


def fold(events: Iterable[tuple[int, Event]]) -> list[SnapshotChange]:
    """Apply ``(event id, event)`` pairs in order; agent and config events are ignored."""
    changes: dict[str, SnapshotChange] = {}
    for seq, ev in events:
        if not isinstance(ev, InteractionEvent):
            continue
        if isinstance(ev, InteractionCreated):
            changes[ev.interaction_id] = SnapshotChange(
                ev.interaction_id, full=True, values=_created_row(ev, seq)
            )
            continue
        change = changes.get(ev.interaction_id)
        if change is None:
            change = changes[ev.interaction_id] = SnapshotChange(ev.interaction_id, full=False)
        change.values.update(_columns(ev))
        change.values["updated_at"] = ev.at
    return list(changes.values())


def _created_row(ev: InteractionCreated, seq: int) -> dict[str, Any]:
    return {
        "id": ev.interaction_id,
        "medium": ev.medium.value,
        "queue": ev.queue,
        "state": InteractionState.QUEUED.value,
        "priority": ev.priority,
        # Provisional: the router's interaction_queued that follows carries the real rank.
        "rank": ev.created_at,
        "skills": dict(ev.skills),
        "data": dict(ev.data),
        "customer_id": ev.customer_id,
        "created_at": ev.created_at,
        "updated_at": ev.at,
        "agent_id": None,
        "preferred_agent": None,
        "disposition": None,
        "notes": "",
        "seq": seq,
    }


def _columns(ev: InteractionEvent) -> dict[str, Any]:
    """The fold rules: which snapshot columns each interaction event sets."""
    match ev:
        case InteractionQueued():
            return {
                "state": InteractionState.QUEUED.value,
                "queue": ev.queue,
                "priority": ev.priority,
                "rank": ev.rank,
                "skills": dict(ev.skills),
                "preferred_agent": ev.preferred_agent,
                "agent_id": None,
            }
        case InteractionRefused():
            return {"state": InteractionState.REFUSED.value}
        case InteractionOffered():
            return {"state": InteractionState.OFFERED.value, "agent_id": ev.agent_id}
        case OfferRejected() | OfferTimedOut() | OfferRevoked():
            # Back to waiting even if the router's fresh interaction_queued is lost.
            return {"state": InteractionState.QUEUED.value, "agent_id": None}
        case OfferAccepted():
            return {"state": InteractionState.ASSIGNED.value, "agent_id": ev.agent_id}
        case InteractionEscalated():
            return {"skills": dict(ev.skills), "priority": ev.priority, "rank": ev.rank}
        case InteractionTransferred() | InteractionMoved():
            return {"queue": ev.to_queue}
        case HandlingEnded():
            return {"state": InteractionState.WRAP_UP.value}
        case InteractionCompleted():
            return {
                "state": InteractionState.COMPLETED.value,
                "disposition": ev.disposition,
                "notes": ev.notes,
            }
        case InteractionAbandoned():
            return {"state": InteractionState.ABANDONED.value}
        case InteractionCancelled():
            return {"state": InteractionState.CANCELLED.value}
    return {}


async def apply(conn: AsyncConnection, changes: list[SnapshotChange]) -> None:
    """Write ``changes`` inside the caller's transaction: one statement per row shape."""
    full = [c.values for c in changes if c.full]
    if full:
        await conn.execute(_upsert(conn.dialect.name), full)
    # Partial changes of the same shape share one executemany UPDATE.
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        if not change.full:
            shape = tuple(sorted(change.values))
            params = {f"v_{name}": change.values[name] for name in shape}
            params["v_id"] = change.interaction_id
            by_shape.setdefault(shape, []).append(params)
    for shape, rows in by_shape.items():
        # Rows of interactions whose creation was never recorded match nothing: no
        # half-made snapshot is invented for them; their events still are in ``event``.
        stmt = (
            update(interaction)
            .where(interaction.c.id == bindparam("v_id"))
            .values(
                {name: bindparam(f"v_{name}", type_=interaction.c[name].type) for name in shape}
            )
        )
        await conn.execute(stmt, rows)


def _upsert(dialect: str) -> postgresql.Insert | sqlite.Insert:
    # A repeated interaction_created restarts the snapshot rather than failing the batch.
    keep = [c.name for c in interaction.columns if c.name != "id"]
    if dialect == "postgresql":
        pg = postgresql.insert(interaction)
        return pg.on_conflict_do_update(
            index_elements=[interaction.c.id], set_={n: pg.excluded[n] for n in keep}
        )
    if dialect == "sqlite":
        lite = sqlite.insert(interaction)
        return lite.on_conflict_do_update(
            index_elements=[interaction.c.id], set_={n: lite.excluded[n] for n in keep}
        )
    raise StoreError(f"no snapshot upsert for database {dialect!r}")
