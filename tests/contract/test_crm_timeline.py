"""Contract of the screen-pop history reads and the contact timeline, on SQLite and PostgreSQL.

Interaction history comes from real events recorded through the event store, so these
tests also pin what the snapshot table gives the CRM.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from trunkline.crm.aliases import contact_aliases
from trunkline.crm.cases import CaseChanges, CaseStore
from trunkline.crm.errors import ContactMergedError, UnknownContactError
from trunkline.crm.history import last_agent, open_cases, recent_interactions
from trunkline.crm.model import CaseStatus
from trunkline.crm.notes import NoteStore
from trunkline.crm.schema import contact
from trunkline.crm.timeline import TimelinePage, contact_timeline
from trunkline.domain.errors import InvalidRequestError
from trunkline.domain.events import (
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionCreated,
    InteractionOffered,
    InteractionQueued,
    OfferAccepted,
)
from trunkline.domain.media import Medium
from trunkline.store import EventStore

HANDLED = [
    "interaction_created",
    "interaction_queued",
    "interaction_offered",
    "offer_accepted",
    "handling_ended",
    "interaction_completed",
]

# -- helpers -----------------------------------------------------------------------------


async def add_contact(engine: AsyncEngine, contact_id: str) -> None:
    """A bare contact row: the contact store is not what these tests are about."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(contact).values(
                id=contact_id,
                name=contact_id,
                name_key=contact_id,
                organisation="",
                customer_class="standard",
                attributes={},
                provisional=False,
                created_at=1.0,
                updated_at=1.0,
                version=1,
            )
        )


async def merge(engine: AsyncEngine, gone: str, into: str) -> None:
    """What a merge leaves behind for these reads: the merged contact points at the kept one."""
    async with engine.begin() as conn:
        await conn.execute(update(contact).where(contact.c.id == gone).values(merged_into=into))


def journey(
    iid: str,
    customer: str | None,
    at: float,
    *,
    agent: str | None = None,
    disposition: str | None = None,
    notes: str = "",
) -> list[Event]:
    """An interaction's events: handled by ``agent`` and wrapped up, or abandoned."""
    events: list[Event] = [
        InteractionCreated(
            at=at,
            interaction_id=iid,
            medium=Medium.VOICE,
            queue="support",
            priority=0,
            customer_id=customer,
            created_at=at,
        ),
        InteractionQueued(
            at=at + 1, interaction_id=iid, queue="support", medium=Medium.VOICE, priority=0, rank=at
        ),
    ]
    if agent is None:
        events.append(
            InteractionAbandoned(
                at=at + 5, interaction_id=iid, queue="support", medium=Medium.VOICE, waited_s=4
            )
        )
        return events
    common: dict[str, Any] = {"interaction_id": iid, "agent_id": agent, "queue": "support"}
    return [
        *events,
        InteractionOffered(at=at + 2, medium=Medium.VOICE, expires_at=at + 22, **common),
        OfferAccepted(at=at + 3, medium=Medium.VOICE, waited_s=3, **common),
        HandlingEnded(at=at + 10, medium=Medium.VOICE, handled_s=7, **common),
        InteractionCompleted(
            at=at + 12, medium=Medium.VOICE, disposition=disposition, notes=notes, **common
        ),
    ]


async def record(store: EventStore, *journeys: list[Event]) -> None:
    for events in journeys:
        store.append(events)
    await store.flush()


async def page_through(engine: AsyncEngine, contact_id: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page: TimelinePage = await contact_timeline(engine, contact_id, limit=limit, before=cursor)
        assert len(page.items) <= limit
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        cursor = page.next_cursor


def keys(items: list[dict[str, Any]]) -> list[tuple[float, str, Any]]:
    return [(item["at"], item["type"], item["id"]) for item in items]


@pytest.fixture
async def customers(store: EventStore) -> EventStore:
    """c-1, with c-old merged into it, and an unrelated c-2; all with recorded history."""
    for contact_id in ("c-1", "c-old", "c-2"):
        await add_contact(store.engine, contact_id)
    await record(
        store,
        journey("i-1", "c-1", 100.0, agent="ann", disposition="sale", notes="upgraded"),
        journey("i-2", "c-old", 200.0, agent="bob", disposition="complaint", notes="angry"),
        journey("i-3", "c-1", 300.0),  # abandoned: never reached an agent
        journey("i-4", "c-2", 400.0, agent="cid"),
        journey("i-5", None, 500.0, agent="ann"),  # anonymous
    )
    return store


# -- screen-pop history ------------------------------------------------------------------


async def test_recent_interactions_are_newest_first_under_every_alias(
    customers: EventStore,
) -> None:
    await merge(customers.engine, "c-old", "c-1")
    async with customers.engine.connect() as conn:
        aliases = await contact_aliases(conn, "c-1")
        everything = await recent_interactions(conn, aliases, 10)
        newest_two = await recent_interactions(conn, aliases, 2)
        own_only = await recent_interactions(conn, ["c-1"], 10)
        nobody = await recent_interactions(conn, [], 10)

    assert [i.id for i in everything] == ["i-3", "i-2", "i-1"]
    assert newest_two == everything[:2]
    assert [i.id for i in own_only] == ["i-3", "i-1"]
    assert nobody == ()
    abandoned, complaint, sale = everything
    assert (abandoned.state, abandoned.agent_id, abandoned.disposition) == ("abandoned", None, None)
    assert complaint.as_dict() == {
        "id": "i-2",
        "medium": "voice",
        "queue": "support",
        "state": "completed",
        "created_at": 200.0,
        "updated_at": 212.0,
        "agent_id": "bob",
        "disposition": "complaint",
        "notes": "angry",
    }
    assert (sale.agent_id, sale.disposition, sale.notes) == ("ann", "sale", "upgraded")


async def test_last_agent_is_the_one_of_the_newest_interaction_that_reached_one(
    customers: EventStore,
) -> None:
    async with customers.engine.connect() as conn:
        assert await last_agent(conn, ["c-1", "c-old"]) == "bob"  # i-3 was abandoned
        assert await last_agent(conn, ["c-1"]) == "ann"
        assert await last_agent(conn, ["c-2"]) == "cid"
        assert await last_agent(conn, ["c-9"]) is None
        assert await last_agent(conn, []) is None


async def test_open_cases_are_open_and_pending_most_recently_updated_first(
    customers: EventStore,
) -> None:
    cases = CaseStore(customers.engine)
    older = await cases.create(
        contact_id="c-1", subject="a", by="ann", now=10, interaction_id="i-1"
    )
    await cases.link(older.id, "i-3", by="ann", now=11)
    newer = await cases.create(contact_id="c-1", subject="b", by="ann", now=20)
    await cases.update(newer.id, CaseChanges(status=CaseStatus.PENDING), by="ann", now=30)
    done = await cases.create(contact_id="c-1", subject="c", by="ann", now=40)
    await cases.update(done.id, CaseChanges(status=CaseStatus.CLOSED), by="ann", now=50)
    await cases.create(contact_id="c-2", subject="d", by="ann", now=60)

    async with customers.engine.connect() as conn:
        found = await open_cases(conn, "c-1")
        first = await open_cases(conn, "c-1", limit=1)
        none = await open_cases(conn, "c-9")
    assert found == (await cases.get(newer.id), await cases.get(older.id))
    assert found[1].interactions == ("i-1", "i-3")
    assert first == found[:1] and none == ()


# -- timeline ----------------------------------------------------------------------------


async def test_the_timeline_merges_interactions_notes_and_case_entries_newest_first(
    customers: EventStore,
) -> None:
    engine = customers.engine
    notes, cases = NoteStore(engine), CaseStore(engine)
    before_merge = await notes.add("c-old", "old note", author="ann", now=50)
    await merge(engine, "c-old", "c-1")
    case = await cases.create(
        contact_id="c-1", subject="Refund", by="ann", now=120, interaction_id="i-1"
    )
    note = await notes.add(
        "c-1", "called about refund", author="bob", now=150, interaction_id="i-2"
    )
    at_200 = await notes.add("c-1", "same time", author="bob", now=200)
    comment = await cases.comment(case.id, "refund sent", by="bob", now=200)
    await notes.add("c-2", "not ours", author="bob", now=250)

    page = await contact_timeline(engine, "c-1")
    assert page.next_cursor is None
    _, linked, opened = (e.id for e in (await cases.entries(case.id)).entries)
    # Equal times order by type, descending: note, interaction, case.
    assert keys(page.items) == [
        (300.0, "interaction", "i-3"),
        (200.0, "note", at_200.id),
        (200.0, "interaction", "i-2"),  # recorded under the merged contact's id
        (200.0, "case", comment.id),
        (150.0, "note", note.id),
        (120.0, "case", linked),
        (120.0, "case", opened),
        (100.0, "interaction", "i-1"),
        (50.0, "note", before_merge.id),
    ]

    by_key = {(item["type"], item["id"]): item for item in page.items}
    handled = by_key["interaction", "i-1"]
    assert (handled["agent_id"], handled["disposition"], handled["notes"]) == (
        "ann",
        "sale",
        "upgraded",
    )
    assert [e["type"] for e in handled["events"]] == HANDLED
    event_ids = [e["id"] for e in handled["events"]]
    assert event_ids == sorted(event_ids)
    assert handled["events"][-1]["disposition"] == "sale"
    assert handled["cases"] == [case.id]
    assert by_key["interaction", "i-2"]["cases"] == []
    assert by_key["note", note.id] == {"type": "note", **note.as_dict()}
    assert by_key["case", comment.id] == {
        "type": "case",
        **comment.as_dict(),
        "subject": "Refund",
    }
    assert by_key["case", linked]["data"] == {"interaction_id": "i-1"}

    for limit in (1, 2, 4):
        assert keys(await page_through(engine, "c-1", limit)) == keys(page.items), limit


async def test_timeline_paging_returns_each_item_once_when_everything_shares_a_time(
    store: EventStore,
) -> None:
    engine = store.engine
    await add_contact(engine, "c-1")
    await record(store, *(journey(f"t-{n}", "c-1", 500.0, agent="ann") for n in range(5)))
    notes, cases = NoteStore(engine), CaseStore(engine)
    for n in range(4):
        await notes.add("c-1", f"note {n}", author="ann", now=500.0)
    case = await cases.create(contact_id="c-1", subject="Tied", by="ann", now=500.0)
    for n in range(3):
        await cases.comment(case.id, f"comment {n}", by="ann", now=500.0)

    full = (await contact_timeline(engine, "c-1", limit=500)).items
    assert len(full) == 5 + 4 + 4
    assert [i["type"] for i in full] == ["note"] * 4 + ["interaction"] * 5 + ["case"] * 4
    assert {i["id"] for i in full if i["type"] == "interaction"} == {f"t-{n}" for n in range(5)}
    for limit in (1, 2, 3, 5):
        assert keys(await page_through(engine, "c-1", limit)) == keys(full), limit


async def test_the_timeline_of_an_unknown_or_merged_contact_is_refused(
    customers: EventStore,
) -> None:
    engine = customers.engine
    await merge(engine, "c-old", "c-1")
    with pytest.raises(UnknownContactError):
        await contact_timeline(engine, "nobody")
    with pytest.raises(ContactMergedError) as caught:
        await contact_timeline(engine, "c-old")
    assert caught.value.details["merged_into"] == "c-1"

    await NoteStore(engine).add("c-1", "a", author="ann", now=1)
    await NoteStore(engine).add("c-1", "b", author="ann", now=2)
    notes_cursor = (await NoteStore(engine).list(["c-1"], limit=1)).next_cursor
    assert notes_cursor is not None
    for bad in ("garbage", notes_cursor):
        with pytest.raises(InvalidRequestError):
            await contact_timeline(engine, "c-1", before=bad)
    for limit in (0, 501):
        with pytest.raises(InvalidRequestError):
            await contact_timeline(engine, "c-1", limit=limit)
