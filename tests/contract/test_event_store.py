"""Contract of the SQL event record, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import create_async_engine

from trunkline.domain.agent import AgentState
from trunkline.domain.errors import InvalidRequestError, TrunklineError
from trunkline.domain.events import (
    EVENT_TYPES,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPresenceChanged,
    AgentProfileChanged,
    AgentStateChanged,
    BroadcastSent,
    ConfigReloaded,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionEscalated,
    InteractionMoved,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
    event_from_dict,
)
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import Medium
from trunkline.store import EventStore, StoreError, to_async_url
from trunkline.store.schema import metadata

# -- builders ----------------------------------------------------------------------------


def created(
    iid: str,
    at: float,
    *,
    queue: str = "sales",
    medium: Medium = Medium.VOICE,
    priority: int = 0,
    skills: dict[str, int] | None = None,
    data: dict[str, Any] | None = None,
    customer_id: str | None = None,
) -> InteractionCreated:
    return InteractionCreated(
        at=at,
        interaction_id=iid,
        medium=medium,
        queue=queue,
        priority=priority,
        skills=skills or {},
        data=data or {},
        customer_id=customer_id,
        created_at=at,
    )


def queued(
    iid: str,
    at: float,
    rank: float,
    *,
    queue: str = "sales",
    priority: int = 0,
    skills: dict[str, int] | None = None,
    preferred_agent: str | None = None,
) -> InteractionQueued:
    return InteractionQueued(
        at=at,
        interaction_id=iid,
        queue=queue,
        medium=Medium.VOICE,
        priority=priority,
        rank=rank,
        skills=skills or {},
        preferred_agent=preferred_agent,
    )


def offered(iid: str, at: float, agent: str) -> InteractionOffered:
    return InteractionOffered(
        at=at,
        interaction_id=iid,
        agent_id=agent,
        queue="sales",
        medium=Medium.VOICE,
        expires_at=at + 20,
    )


def accepted(iid: str, at: float, agent: str) -> OfferAccepted:
    return OfferAccepted(
        at=at, interaction_id=iid, agent_id=agent, queue="sales", medium=Medium.VOICE, waited_s=3
    )


def one_of_each_kind() -> list[Event]:
    """Every event kind, with awkward values: exact floats, nesting, None, unicode."""
    return [
        InteractionCreated(
            at=1_700_000_000.123456,
            interaction_id="i-1",
            medium=Medium.EMAIL,
            queue="support",
            priority=2,
            skills={"fr": 3, "billing": 1},
            data={"subject": "Reçu ✓", "lines": [1, 2.5, None], "vip": True, "n": {"a": {}}},
            customer_id="c-42",
            created_at=1_700_000_000.1,
            rules=("vip", "french"),
        ),
        InteractionQueued(
            at=0.1 + 0.2,
            interaction_id="i-1",
            queue="support",
            medium=Medium.EMAIL,
            priority=2,
            rank=1_699_999_940.1,
            skills={"fr": 3},
            preferred_agent="a-7",
            preferred_until=1_700_000_030.0,
            reason="requeued",
        ),
        InteractionRefused(
            at=3, interaction_id="i-2", queue="night", medium=Medium.FAX, reason="closed"
        ),
        InteractionOffered(
            at=4, interaction_id="i-1", agent_id="a-7", queue="support", medium=Medium.EMAIL,
            expires_at=24.5,
        ),
        OfferAccepted(
            at=4.5, interaction_id="i-1", agent_id="a-7", queue="support", medium=Medium.EMAIL,
            waited_s=4.4,
        ),
        OfferRejected(at=5, interaction_id="i-1", agent_id="a-7", queue="support", reason="busy"),
        OfferTimedOut(at=6, interaction_id="i-1", agent_id="a-8", queue="support"),
        OfferRevoked(at=7, interaction_id="i-1", agent_id="a-9", queue="support", reason="hangup"),
        InteractionEscalated(
            at=8, interaction_id="i-1", queue="support", step=1, skills={"fr": 1},
            queues=("overflow", "fr-backup"), priority=3,
        ),
        InteractionTransferred(
            at=9, interaction_id="i-1", from_agent="a-7", from_queue="support",
            to_queue="billing", to_agent="a-1",
        ),
        InteractionAbandoned(
            at=10, interaction_id="i-3", queue="sales", medium=Medium.VOICE, waited_s=61.25
        ),
        InteractionCancelled(at=11, interaction_id="i-4", queue="sales", reason="duplicate"),
        HandlingEnded(
            at=12, interaction_id="i-1", agent_id="a-1", queue="billing", medium=Medium.EMAIL,
            handled_s=300.5, wrap_up_until=None,
        ),
        InteractionCompleted(
            at=13, interaction_id="i-1", agent_id="a-1", queue="billing", medium=Medium.EMAIL,
            disposition="resolved", notes="line one\nline 'two'", wrap_up_s=12.0, auto=True,
        ),
        AgentLoggedIn(at=14, agent_id="a-1"),
        AgentLoggedOut(at=15, agent_id="a-1", reason="end of shift"),
        AgentStateChanged(
            at=16, agent_id="a-1", old=AgentState.READY, new=AgentState.NOT_READY,
            reason="lunch", old_since=2.0,
        ),
        AgentProfileChanged(
            at=17, agent_id="a-1", skills={"de": 5}, queues=("support", "sales"), by="sup"
        ),
        ConfigReloaded(at=18, source="/etc/trunkline.yaml", queues=4, agents=12),
        InteractionMoved(
            at=19, interaction_id="i-5", from_queue="sales", to_queue="vip", to_agent="a-2",
            by="sue",
        ),
        AgentPresenceChanged(
            at=21, agent_id="a-3", presence=AgentState.NOT_READY, reason="lunch"
        ),
        BroadcastSent(
            at=20, by="sue", sender="Sue", text="Storm: use script B", queue="sales",
            recipients=("a-1", "a-2"),
        ),
    ]  # fmt: skip


async def fetch_all_events(store: EventStore) -> list[dict[str, Any]]:
    return await store.events(limit=100_000)


def count_commits(store: EventStore) -> list[int]:
    """A one-element counter of the transactions the store commits from now on."""
    counter = [0]

    def on_commit(_conn: Connection) -> None:
        counter[0] += 1

    sa_event.listen(store.engine.sync_engine, "commit", on_commit)
    return counter


@asynccontextmanager
async def write_lock(store: EventStore) -> AsyncIterator[None]:
    """Another client holds the event table's write lock until the block ends."""
    url = store.engine.url
    if store.dialect == "sqlite":
        assert url.database is not None
        other = sqlite3.connect(url.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("COMMIT")
            other.close()
        return
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    pg = await asyncpg.connect(dsn)
    try:
        async with pg.transaction():
            await pg.execute("LOCK TABLE event IN EXCLUSIVE MODE")
            yield
    finally:
        await pg.close()


# -- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///var/trunkline.db", "sqlite+aiosqlite:///var/trunkline.db"),
        ("sqlite:////var/lib/trunkline.db", "sqlite+aiosqlite:////var/lib/trunkline.db"),
        ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
        ("sqlite+aiosqlite:///t.db", "sqlite+aiosqlite:///t.db"),
        ("./trunkline.db", "sqlite+aiosqlite:///./trunkline.db"),
        ("/srv/data/events.db", "sqlite+aiosqlite:////srv/data/events.db"),
        (":memory:", "sqlite+aiosqlite:///:memory:"),
        ("postgresql://tl@db.internal:5433/cc", "postgresql+asyncpg://tl@db.internal:5433/cc"),
        ("postgres://tl:s3cret@db/cc", "postgresql+asyncpg://tl:s3cret@db/cc"),
        ("postgresql+asyncpg://tl@db/cc", "postgresql+asyncpg://tl@db/cc"),
        ("  postgresql://tl@db/cc  ", "postgresql+asyncpg://tl@db/cc"),
    ],
)
def test_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert to_async_url(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "mysql://root:hunter2@db/cc",
        "http://example.com/db",
        "postgresql+psycopg2://tl:hunter2@db/cc",
        "postgresql://tl:hunter2@db:port/cc",
    ],
)
def test_bad_urls_are_refused_without_leaking_the_password(bad: str) -> None:
    with pytest.raises(StoreError) as caught:
        to_async_url(bad)
    assert isinstance(caught.value, TrunklineError)
    assert "hunter2" not in str(caught.value)
    assert "sqlite" in str(caught.value) or "malformed" in str(caught.value)


async def test_a_missing_sqlite_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(StoreError, match="does not exist") as caught:
        await EventStore.open(f"sqlite:///{missing / 'events.db'}")
    assert str(missing) in str(caught.value)


async def test_an_unreachable_server_is_a_store_error() -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    with pytest.raises(StoreError, match="cannot open the event record") as caught:
        await EventStore.open("postgresql://tl:hunter2@127.0.0.1:1/cc")
    assert "hunter2" not in str(caught.value)


# -- the record --------------------------------------------------------------------------


async def test_every_event_kind_round_trips_exactly(store: EventStore) -> None:
    events = one_of_each_kind()
    assert {ev.kind for ev in events} == set(EVENT_TYPES), "add the new kind to this test"

    await store.append(events)
    stored = await fetch_all_events(store)

    assert [event_from_dict(row) for row in stored] == events
    ids = [row["id"] for row in stored]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_interaction_history_and_paging(store: EventStore) -> None:
    await store.append([created("a", 1), created("b", 2), queued("a", 3, rank=1)])
    await store.append([AgentLoggedIn(at=4, agent_id="x"), offered("a", 5, "x")])

    history = await store.interaction_events("a")
    assert [row["type"] for row in history] == [
        "interaction_created",
        "interaction_queued",
        "interaction_offered",
    ]
    assert await store.interaction_events("nobody") == []

    first = await store.events(limit=2)
    rest = await store.events(since_id=first[-1]["id"])
    assert [r["type"] for r in first + rest] == [
        "interaction_created",
        "interaction_created",
        "interaction_queued",
        "agent_logged_in",
        "interaction_offered",
    ]
    assert await store.events(since_id=rest[-1]["id"]) == []
    with pytest.raises(InvalidRequestError):
        await store.events(limit=-1)


# Each step: the events, then what the snapshot shows afterwards.
LIFE_CYCLE: list[tuple[list[Event], dict[str, Any]]] = [
    (
        [
            created(
                "i",
                100.0,
                queue="sales",
                medium=Medium.CHAT,
                priority=1,
                skills={"en": 2},
                data={"order": 7},
                customer_id="c-1",
            )
        ],
        {
            "state": "queued",
            "medium": "chat",
            "queue": "sales",
            "priority": 1,
            "rank": 100.0,
            "skills": {"en": 2},
            "data": {"order": 7},
            "customer_id": "c-1",
            "created_at": 100.0,
            "agent_id": None,
        },
    ),
    (
        [queued("i", 101.0, rank=40.0, priority=2, skills={"en": 3}, preferred_agent="bob")],
        {"state": "queued", "rank": 40.0, "priority": 2, "skills": {"en": 3}},
    ),
    ([offered("i", 102.0, "ann")], {"state": "offered", "agent_id": "ann"}),
    (
        [OfferTimedOut(at=122.0, interaction_id="i", agent_id="ann", queue="sales")],
        {"state": "queued", "agent_id": None, "rank": 40.0},
    ),
    (
        [
            InteractionEscalated(
                at=130.0, interaction_id="i", queue="sales", step=1, skills={"en": 1}, priority=5
            )
        ],
        {"state": "queued", "skills": {"en": 1}, "priority": 5},
    ),
    ([offered("i", 131.0, "bob")], {"state": "offered", "agent_id": "bob"}),
    ([accepted("i", 132.0, "bob")], {"state": "assigned", "agent_id": "bob"}),
    (
        [
            InteractionTransferred(
                at=140.0, interaction_id="i", from_agent="bob", from_queue="sales", to_queue="vip"
            )
        ],
        {"queue": "vip"},
    ),
    (
        [
            queued("i", 141.0, rank=35.0, queue="vip", priority=5, skills={"en": 1}),
            offered("i", 142.0, "cy"),
            accepted("i", 143.0, "cy"),
        ],
        {"state": "assigned", "queue": "vip", "agent_id": "cy", "rank": 35.0},
    ),
    (
        [
            HandlingEnded(
                at=150.0, interaction_id="i", agent_id="cy", queue="vip", medium=Medium.CHAT,
                handled_s=7.0,
            )
        ],
        {"state": "wrap_up", "agent_id": "cy"},
    ),
    (
        [
            InteractionCompleted(
                at=160.0, interaction_id="i", agent_id="cy", queue="vip", medium=Medium.CHAT,
                disposition="sold", notes="upgrade to gold",
            )
        ],
        {
            "state": "completed",
            "disposition": "sold",
            "notes": "upgrade to gold",
            "updated_at": 160.0,
            "created_at": 100.0,
            "data": {"order": 7},
        },
    ),
]  # fmt: skip


async def test_snapshot_follows_the_life_cycle_commit_by_commit(store: EventStore) -> None:
    for events, expected in LIFE_CYCLE:
        await store.append(events)
        snap = await store.interaction("i")
        assert snap is not None
        assert {k: snap[k] for k in expected} == expected, events[-1].kind


async def test_snapshot_folds_a_whole_life_cycle_in_one_batch(store: EventStore) -> None:
    # All in one submission: the fold must apply them in order, not keep the first or last.
    everything = [ev for events, _ in LIFE_CYCLE for ev in events]
    await store.append(everything)
    expected: dict[str, Any] = {}
    for _, step in LIFE_CYCLE:
        expected.update(step)
    snap = await store.interaction("i")
    assert snap is not None
    assert {k: snap[k] for k in expected} == expected
    assert snap["seq"] == (await fetch_all_events(store))[0]["id"]


@pytest.mark.parametrize("back", [OfferRejected, OfferTimedOut, OfferRevoked])
async def test_an_offer_that_falls_through_puts_it_back_in_queue(
    store: EventStore, back: Callable[..., Event]
) -> None:
    extra = {"reason": "x"} if back is not OfferTimedOut else {}
    await store.append([created("i", 1), queued("i", 1, rank=1), offered("i", 2, "ann")])
    await store.append([back(at=3, interaction_id="i", agent_id="ann", queue="sales", **extra)])

    snap = await store.interaction("i")
    assert snap is not None and (snap["state"], snap["agent_id"]) == ("queued", None)
    assert [r.id for r in await store.recover()] == ["i"]


async def test_recover_returns_open_interactions_in_rank_order(store: EventStore) -> None:
    # Ids sort the other way round from creation, so an order by id would show.
    await store.append(
        [
            created("z-first", 1),
            created("y-second", 2),
            created("x-third", 3, medium=Medium.EMAIL, skills={"de": 2}, data={"k": [1]}),
            created("w-offered", 4),
            created("v-assigned", 5),
            created("u-wrap", 6),
            created("t-done", 7),
            created("s-gone", 8),
            created("r-cancelled", 9),
            created("q-refused", 10),
        ]
    )
    await store.append(
        [
            queued("z-first", 11, rank=50.0),
            queued("y-second", 11, rank=50.0),
            queued("x-third", 11, rank=-5.0, skills={"de": 2}, preferred_agent="ann"),
            offered("w-offered", 12, "ann"),
            offered("v-assigned", 12, "bob"),
            accepted("v-assigned", 13, "bob"),
            offered("u-wrap", 12, "cy"),
            accepted("u-wrap", 13, "cy"),
            HandlingEnded(
                at=14, interaction_id="u-wrap", agent_id="cy", queue="sales",
                medium=Medium.VOICE, handled_s=1,
            ),
            offered("t-done", 12, "dee"),
            accepted("t-done", 13, "dee"),
            InteractionCompleted(
                at=14, interaction_id="t-done", agent_id="dee", queue="sales",
                medium=Medium.VOICE,
            ),
            InteractionAbandoned(
                at=14, interaction_id="s-gone", queue="sales", medium=Medium.VOICE, waited_s=6
            ),
            InteractionCancelled(at=14, interaction_id="r-cancelled", queue="sales", reason="x"),
            InteractionRefused(
                at=14, interaction_id="q-refused", queue="sales", medium=Medium.VOICE, reason="x"
            ),
        ]
    )  # fmt: skip

    recovered = await store.recover()

    # x by rank; w, v, u keep their provisional rank (created_at 4, 5, 6); z before y: a tie.
    assert [r.id for r in recovered] == ["x-third", "w-offered", "v-assigned", "u-wrap",
                                         "z-first", "y-second"]  # fmt: skip
    by_id = {r.id: r for r in recovered}
    x = by_id["x-third"]
    assert (x.medium, x.state, x.skills, x.data) == (
        Medium.EMAIL,
        InteractionState.QUEUED,
        {"de": 2},
        {"k": [1]},
    )
    assert (x.preferred_agent, x.created_at, x.rank) == ("ann", 3, -5.0)
    assert (by_id["v-assigned"].state, by_id["v-assigned"].agent_id) == ("assigned", "bob")
    assert by_id["u-wrap"].state is InteractionState.WRAP_UP
    for gone, state in [
        ("t-done", "completed"),
        ("s-gone", "abandoned"),
        ("r-cancelled", "cancelled"),
        ("q-refused", "refused"),
    ]:
        snap = await store.interaction(gone)
        assert snap is not None and snap["state"] == state


async def test_list_interactions_newest_first_with_filters(store: EventStore) -> None:
    await store.append(
        [
            created("old", 1, queue="sales"),
            created("mid", 2, queue="support"),
            created("new", 3, queue="sales"),
            offered("mid", 4, "ann"),
        ]
    )

    assert [r["id"] for r in await store.list_interactions()] == ["new", "mid", "old"]
    assert [r["id"] for r in await store.list_interactions(queue="sales")] == ["new", "old"]
    assert [r["id"] for r in await store.list_interactions(state=InteractionState.OFFERED)] == [
        "mid"
    ]
    assert [r["id"] for r in await store.list_interactions(limit=1, offset=1)] == ["mid"]
    assert await store.interaction("nobody") is None
    with pytest.raises(InvalidRequestError):
        await store.list_interactions(offset=-1)


# -- the writer ----------------------------------------------------------------------------


async def test_concurrent_submitters_share_commits(store: EventStore) -> None:
    submitters, each = 100, 10
    commits = count_commits(store)
    started: list[int] = []
    all_started = asyncio.Event()

    async def submitter(n: int) -> None:
        for k in range(each):
            future = store.append([AgentLoggedIn(at=n * each + k, agent_id=f"a-{n}")])
            if k == 0:
                started.append(n)
                if len(started) == submitters:
                    all_started.set()
            await future

    async with write_lock(store):
        # The first commit is stuck behind another client's lock while everyone submits.
        tasks = [asyncio.create_task(submitter(n)) for n in range(submitters)]
        await all_started.wait()
    await asyncio.gather(*tasks)

    stored = await fetch_all_events(store)
    assert sorted(row["at"] for row in stored) == list(range(submitters * each))
    assert 1 <= commits[0] <= submitters * each // 10, f"{commits[0]} commits"


async def test_max_batch_splits_a_backlog(store_url: str) -> None:
    store = await EventStore.open(store_url, max_batch=10)
    try:
        commits = count_commits(store)
        futures = [store.append([AgentLoggedIn(at=i, agent_id="a")]) for i in range(95)]
        big = store.append([AgentLoggedIn(at=100 + i, agent_id="b") for i in range(25)])
        await asyncio.gather(*futures, big)

        # 95 single events in batches of 10, then the big submission whole, never split.
        assert commits[0] == 11
        assert len(await fetch_all_events(store)) == 120
    finally:
        await store.close()


async def test_a_failed_commit_fails_its_futures_and_the_writer_carries_on(
    store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.append([created("kept", 1)])
    failing = True

    def disk_full(_conn: Connection) -> None:
        if failing:
            raise OSError("disk full")

    sa_event.listen(store.engine.sync_engine, "commit", disk_full)
    with caplog.at_level(logging.ERROR, logger="trunkline.store"):
        lost_a = store.append([created("lost-a", 2), queued("kept", 2, rank=9)])
        lost_b = store.append([created("lost-b", 3)])
        for future in (lost_a, lost_b):
            with pytest.raises(StoreError, match="disk full"):
                await future
        lost_c = store.append([created("lost-c", 4)])
        with pytest.raises(StoreError, match="1 of 1"):
            await store.flush()
        assert lost_c.exception() is not None
    assert any("failed to commit" in r.getMessage() for r in caplog.records)

    failing = False
    await store.append([created("later", 5)])

    # Nothing of the failed batches is half-written: neither events nor snapshots.
    stored = await fetch_all_events(store)
    assert [(r["type"], r["interaction_id"]) for r in stored] == [
        ("interaction_created", "kept"),
        ("interaction_created", "later"),
    ]
    assert await store.interaction("lost-a") is None
    kept = await store.interaction("kept")
    assert kept is not None and kept["rank"] == 1.0


@pytest.mark.parametrize(
    "data",
    [{"when": object()}, {"ratio": math.nan}, {"text": "nul\x00byte"}],
    ids=["not-json", "nan", "nul"],
)
async def test_an_unstorable_event_fails_only_its_own_caller(
    store: EventStore, data: dict[str, Any]
) -> None:
    neighbour = store.append([created("fine", 1)])
    with pytest.raises(StoreError):
        store.append([created("bad", 2, data=data)])
    await neighbour
    assert [r["interaction_id"] for r in await fetch_all_events(store)] == ["fine"]


async def test_the_record_survives_close_and_reopen(store_url: str) -> None:
    store = await EventStore.open(store_url)
    await store.append([created("a", 1), queued("a", 1, rank=7.5), created("b", 2)])
    # Not awaited: close must still write it.
    store.append([offered("a", 3, "ann"), InteractionAbandoned(
        at=4, interaction_id="b", queue="sales", medium=Medium.VOICE, waited_s=2)])  # fmt: skip
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        store.append([created("c", 5)])

    reopened = await EventStore.open(store_url)
    try:
        recovered = await reopened.recover()
        assert [(r.id, r.state, r.agent_id, r.rank) for r in recovered] == [
            ("a", InteractionState.OFFERED, "ann", 7.5)
        ]
        assert len(await fetch_all_events(reopened)) == 5
        await reopened.append([accepted("a", 6, "ann")])
        assert [r["id"] for r in await fetch_all_events(reopened)] == [1, 2, 3, 4, 5, 6]
    finally:
        await reopened.close()


async def test_closing_twice_and_with_nothing_pending(store_url: str) -> None:
    store = await EventStore.open(store_url)
    await store.flush()
    await store.close()
    await store.close()


# -- schema --------------------------------------------------------------------------------


async def test_migrations_build_exactly_the_declared_schema(store: EventStore) -> None:
    def diff(conn: Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    async with store.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert version == "0003"


async def test_a_broken_database_is_reported_as_a_store_error(store: EventStore) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text("DROP TABLE interaction"))
    with pytest.raises(StoreError, match="query failed"):
        await store.recover()


async def test_sqlite_in_memory_works_for_demos() -> None:
    store = await EventStore.open("sqlite:///:memory:")
    try:
        assert store.url == "sqlite+aiosqlite:///:memory:"
        writes = [store.append([created(f"i{n}", n)]) for n in range(20)]
        # Reads while the writer is busy share the single connection without interleaving.
        snapshots = await asyncio.gather(*(store.interaction(f"i{n}") for n in range(20)))
        await asyncio.gather(*writes)
        assert all(s is None or s["state"] == "queued" for s in snapshots)
        assert len(await store.recover()) == 20
    finally:
        await store.close()


async def test_store_url_hides_the_password() -> None:
    engine = create_async_engine(to_async_url("postgres://tl:hunter2@db.internal/cc"))
    try:
        store = EventStore(engine)
        assert (store.url, store.dialect) == (
            "postgresql+asyncpg://tl:***@db.internal/cc",
            "postgresql",
        )
    finally:
        await engine.dispose()


async def test_last_agent_states_gives_each_agents_latest_change(store: EventStore) -> None:
    def change(agent: str, at: float, old: AgentState, new: AgentState) -> AgentStateChanged:
        return AgentStateChanged(at=at, agent_id=agent, old=old, new=new, old_since=at - 1)

    await store.append(
        [
            change("ann", 1, AgentState.LOGGED_OUT, AgentState.READY),
            change("bob", 2, AgentState.LOGGED_OUT, AgentState.NOT_READY),
            change("ann", 3, AgentState.READY, AgentState.BUSY),
        ]
    )
    await store.flush()
    latest = await store.last_agent_states()
    assert {agent: (p["new"], p["at"]) for agent, p in latest.items()} == {
        "ann": ("busy", 3),
        "bob": ("not_ready", 2),
    }


async def test_journeys_page_through_a_time_range_with_their_events(store: EventStore) -> None:
    # Two share a creation time, so the id breaks the tie across a page boundary.
    await store.append([created("b", 10), created("a", 10), created("c", 20), created("z", 99)])
    await store.append(
        [InteractionCancelled(at=30, interaction_id="a", queue="sales", reason="cancelled")]
    )
    await store.flush()
    first = await store.journeys(0, 50, limit=2)
    assert [j["id"] for j in first] == ["a", "b"]
    assert [e["type"] for e in first[0]["events"]] == [
        "interaction_created",
        "interaction_cancelled",
    ]
    last = first[-1]
    rest = await store.journeys(0, 50, after=(last["created_at"], last["id"]), limit=2)
    assert [j["id"] for j in rest] == ["c"]  # "z" was created after the range
    assert await store.journeys(0, 50, after=(20, "c"), limit=2) == []
