"""Connection-level reads for the screen-pop: past interactions, open cases, the last agent.

The screen-pop runs these on a connection it already holds, so each helper is one indexed
query (``open_cases`` adds one primary-key lookup for the links of the cases it found).
Driver errors propagate: the caller owns the connection and turns them into StoreError.

The row converters live here too, so the case store, the timeline and the screen-pop
all map rows to records the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, select, union_all
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from trunkline.crm.model import Case, CasePriority, CaseStatus, PastInteraction
from trunkline.crm.schema import case, case_interaction
from trunkline.store.schema import interaction

OPEN_CASE_STATUSES: tuple[CaseStatus, ...] = (CaseStatus.OPEN, CaseStatus.PENDING)

# Only what PastInteraction shows: skills and data are JSON documents the pop never needs.
_PAST_COLUMNS = (
    interaction.c.id,
    interaction.c.medium,
    interaction.c.queue,
    interaction.c.state,
    interaction.c.created_at,
    interaction.c.updated_at,
    interaction.c.agent_id,
    interaction.c.disposition,
    interaction.c.notes,
)


# -- converters --------------------------------------------------------------------------


def past_interaction_from_row(row: Mapping[Any, Any]) -> PastInteraction:
    return PastInteraction(
        id=row["id"],
        medium=row["medium"],
        queue=row["queue"],
        state=row["state"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        agent_id=row["agent_id"],
        disposition=row["disposition"],
        notes=row["notes"],
    )


def case_from_row(row: Mapping[Any, Any], interactions: Sequence[str] = ()) -> Case:
    """A ``crm_case`` row as a record; ``interactions`` are its linked ids, oldest first."""
    return Case(
        id=row["id"],
        contact_id=row["contact_id"],
        subject=row["subject"],
        description=row["description"],
        status=CaseStatus(row["status"]),
        priority=CasePriority(row["priority"]),
        owner=row["owner"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        interactions=tuple(interactions),
    )


# -- interactions ------------------------------------------------------------------------


async def recent_interactions(
    conn: AsyncConnection, customer_ids: Sequence[str], limit: int
) -> tuple[PastInteraction, ...]:
    """The newest ``limit`` interactions recorded under any of ``customer_ids``."""
    return await past_interactions(conn, customer_ids, limit)


async def past_interactions(
    conn: AsyncConnection,
    customer_ids: Sequence[str],
    limit: int,
    *where: ColumnElement[bool],
) -> tuple[PastInteraction, ...]:
    """Like :func:`recent_interactions`, restricted by ``where`` (conditions on the
    ``interaction`` table's columns, e.g. a keyset bound): newest created first, ties by
    id descending."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids or limit < 1:
        return ()
    rows = (await conn.execute(_newest_first(ids, limit, where))).mappings()
    return tuple(past_interaction_from_row(row) for row in rows)


async def last_agent(conn: AsyncConnection, customer_ids: Sequence[str]) -> str | None:
    """The agent of the newest interaction that reached one, for "prefer the last agent"."""
    found = await past_interactions(conn, customer_ids, 1, interaction.c.agent_id.is_not(None))
    return found[0].agent_id if found else None


def _newest_first(
    customer_ids: Sequence[str], limit: int, where: Iterable[ColumnElement[bool]]
) -> Select[Any]:
    """One statement reading each customer id's newest rows from the (customer_id,
    created_at) index.

    ``customer_id IN (...) ORDER BY created_at`` cannot follow that index across several
    ids, so the database would read and sort every interaction of every alias: a
    frequent caller's thousands. One limited, index-ordered branch per id, unioned and
    cut again, reads at most ``limit`` rows per id.
    """
    conditions = tuple(where)

    def branch(customer_id: str) -> Select[Any]:
        return (
            select(*_PAST_COLUMNS)
            .where(interaction.c.customer_id == customer_id, *conditions)
            .order_by(interaction.c.created_at.desc(), interaction.c.id.desc())
            .limit(limit)
        )

    if len(customer_ids) == 1:
        return branch(customer_ids[0])
    # Each branch is wrapped in a subquery: SQLite refuses LIMIT on a bare UNION member.
    merged = union_all(*(select(branch(cid).subquery()) for cid in customer_ids)).subquery()
    return select(merged).order_by(merged.c.created_at.desc(), merged.c.id.desc()).limit(limit)


# -- cases -------------------------------------------------------------------------------


async def open_cases(conn: AsyncConnection, contact_id: str, limit: int = 20) -> tuple[Case, ...]:
    """The contact's open and pending cases, most recently updated first, with links."""
    query = (
        select(case)
        .where(
            case.c.contact_id == contact_id,
            case.c.status.in_([s.value for s in OPEN_CASE_STATUSES]),
        )
        .order_by(case.c.updated_at.desc(), case.c.id.desc())
        .limit(limit)
    )
    rows = (await conn.execute(query)).mappings().all()
    return await cases_with_links(conn, rows)


async def cases_with_links(conn: AsyncConnection, rows: Sequence[RowMapping]) -> tuple[Case, ...]:
    """``crm_case`` rows as records, in the given order, each with its linked interactions."""
    links = await case_links(conn, [row["id"] for row in rows])
    return tuple(case_from_row(row, links.get(row["id"], ())) for row in rows)


async def case_links(conn: AsyncConnection, case_ids: Sequence[int]) -> dict[int, list[str]]:
    """Linked interaction ids by case id, oldest link first (ties by interaction id)."""
    if not case_ids:
        return {}
    query = (
        select(case_interaction.c.case_id, case_interaction.c.interaction_id)
        .where(case_interaction.c.case_id.in_(case_ids))
        .order_by(
            case_interaction.c.case_id, case_interaction.c.at, case_interaction.c.interaction_id
        )
    )
    links: dict[int, list[str]] = {}
    for case_id, interaction_id in await conn.execute(query):
        links.setdefault(case_id, []).append(interaction_id)
    return links
