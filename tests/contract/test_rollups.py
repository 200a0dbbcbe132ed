"""Interval rollups over SQLite and PostgreSQL: the rows the worker writes page by page
equal one in-memory Fold over the same events, after a restart and after a rebuild."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rollup_streams import scripted, streams
from sqlalchemy import delete

from trunkline.domain.events import Event
from trunkline.reporting import rollup_sql
from trunkline.reporting.definitions import ReportingSettings
from trunkline.reporting.fold import Fold
from trunkline.reporting.rollup import RollupWorker, rebuild
from trunkline.store import EventStore
from trunkline.store.rollup_schema import rollup_agent, rollup_checkpoint, rollup_queue
from trunkline.store.schema import event, interaction

SETTINGS = ReportingSettings(
    timezone="Europe/London",
    resolved_codes=frozenset({"solved"}),
    cost_per_handled_minute={},
)

Rows = tuple[dict[Any, Any], dict[Any, Any]]


def folded(events: Sequence[Event]) -> Rows:
    fold = Fold(SETTINGS)
    fold.apply_all(events)
    return fold.queue_rows(), fold.agent_rows()


async def stored(store: EventStore) -> Rows:
    async with store.engine.connect() as conn:
        queues = await rollup_sql.queue_rows_between(conn, 0, 2**62)
        agents = await rollup_sql.agent_rows_between(conn, 0, 2**62)
    return dict(sorted(queues.items())), dict(sorted(agents.items()))


async def record(store: EventStore, events: Sequence[Event], batch: int = 5) -> None:
    for i in range(0, len(events), batch):
        store.append(events[i : i + batch])
    await store.flush()


async def test_worker_rows_equal_the_fold_and_survive_a_rebuild(store: EventStore) -> None:
    events = scripted()
    await record(store, events)
    worker = RollupWorker(store, SETTINGS, page_size=7)
    assert await worker.catch_up() == len(events)
    expected = folded(events)
    assert expected[0] and expected[1]
    assert await stored(store) == expected
    assert await worker.catch_up() == 0  # nothing new: nothing written

    result = await rebuild(store, SETTINGS, page_size=11)
    assert result.events == len(events)
    assert (result.queue_rows, result.agent_rows) == tuple(len(r) for r in expected)
    assert await stored(store) == expected


async def test_a_restarted_worker_continues_exactly(store: EventStore) -> None:
    events = scripted()
    half = len(events) // 2
    await record(store, events[:half])
    await RollupWorker(store, SETTINGS, page_size=4).catch_up()
    await record(store, events[half:])
    restarted = RollupWorker(store, SETTINGS, page_size=4)
    await restarted.catch_up()
    assert await stored(store) == folded(events)


async def test_rows_behind_the_kept_window_are_completed_from_the_tables(
    store: EventStore,
) -> None:
    # keep_s = 0: every page drops what it wrote, so an agent's state span that reaches
    # back must add the stored rows in rather than overwrite them.
    events = scripted()
    await record(store, events)
    await RollupWorker(store, SETTINGS, page_size=3, keep_s=0).catch_up()
    assert await stored(store) == folded(events)


async def _clear(store: EventStore) -> None:
    async with store.engine.begin() as conn:
        for table in (event, interaction, rollup_queue, rollup_agent, rollup_checkpoint):
            await conn.execute(delete(table))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stream=streams(), data=st.data())
async def test_any_paging_and_restart_equal_one_fold(
    store: EventStore, stream: list[Event], data: st.DataObject
) -> None:
    await _clear(store)
    cut = data.draw(st.integers(0, len(stream)), label="restart after")
    await record(store, stream[:cut], batch=data.draw(st.integers(1, 9), label="batch"))
    first = RollupWorker(store, SETTINGS, page_size=data.draw(st.integers(1, 6), label="page"))
    await first.catch_up()
    await record(store, stream[cut:])
    second = RollupWorker(store, SETTINGS, page_size=data.draw(st.integers(1, 6), label="page2"))
    await second.catch_up()
    assert await stored(store) == folded(stream)
