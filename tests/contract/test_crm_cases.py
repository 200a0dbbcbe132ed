"""Contract of the CRM's cases and notes, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from trunkline.crm.cases import CaseChanges, CaseStore
from trunkline.crm.errors import ContactMergedError, UnknownCaseError, UnknownContactError
from trunkline.crm.model import Case, CaseEntry, CasePriority, CaseStatus, Note
from trunkline.crm.notes import NoteStore, UnknownNoteError
from trunkline.crm.schema import case_entry, case_interaction, contact
from trunkline.domain.errors import InvalidRequestError
from trunkline.store import EventStore

# -- helpers -----------------------------------------------------------------------------


async def add_contact(
    engine: AsyncEngine, contact_id: str, *, merged_into: str | None = None
) -> None:
    """A bare contact row: the contact store is not what these tests are about."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(contact).values(
                id=contact_id,
                name=contact_id,
                name_key=contact_id,
                organisation="",
                customer_class="standard",
                value=None,
                language=None,
                owner=None,
                attributes={},
                provisional=False,
                merged_into=merged_into,
                created_at=1.0,
                updated_at=1.0,
                version=1,
            )
        )


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.fixture
async def cases(store: EventStore) -> CaseStore:
    for contact_id in ("c-1", "c-2", "c-3"):
        await add_contact(store.engine, contact_id)
    return CaseStore(store.engine)


async def all_entries(
    cases: CaseStore, case_id: int
) -> list[tuple[float, str, str, str, dict[str, Any]]]:
    page = await cases.entries(case_id, limit=500)
    assert page.next_cursor is None
    return [(e.at, e.kind, e.by, e.text, dict(e.data)) for e in page.entries]


# -- cases -------------------------------------------------------------------------------


async def test_a_case_goes_open_pending_closed_and_reopened_with_its_timeline(
    cases: CaseStore,
) -> None:
    opened = await cases.create(
        contact_id="c-1",
        subject="  Broken router  ",
        description="no lights",
        by="ann",
        now=100.0,
        interaction_id="i-1",
    )
    assert (opened.subject, opened.status, opened.priority, opened.owner) == (
        "Broken router",
        CaseStatus.OPEN,
        CasePriority.NORMAL,
        None,
    )
    assert (opened.created_by, opened.created_at, opened.updated_at) == ("ann", 100.0, 100.0)
    assert opened.closed_at is None and opened.interactions == ("i-1",)

    pending = await cases.update(
        opened.id, CaseChanges(status=CaseStatus.PENDING), by="bob", now=110
    )
    assert (pending.status, pending.updated_at, pending.closed_at) == (
        CaseStatus.PENDING,
        110,
        None,
    )

    closing = CaseChanges(status=CaseStatus.CLOSED, comment=" replaced it ")
    closed = await cases.update(opened.id, closing, by="bob", now=120.0)
    assert (closed.status, closed.closed_at, closed.updated_at) == (CaseStatus.CLOSED, 120.0, 120.0)

    reopened = await cases.update(opened.id, CaseChanges(status=CaseStatus.OPEN), by="ann", now=130)
    assert (reopened.status, reopened.closed_at) == (CaseStatus.OPEN, None)

    edit = CaseChanges(
        subject="Router dead", description="no lights", priority=CasePriority.HIGH, owner="bob"
    )
    edited = await cases.update(opened.id, edit, by="ann", now=140.0)
    assert (edited.subject, edited.priority, edited.owner) == (
        "Router dead",
        CasePriority.HIGH,
        "bob",
    )
    assert await cases.get(opened.id) == edited

    assert await all_entries(cases, opened.id) == [
        (
            140.0,
            "updated",
            "ann",
            "",
            {
                "fields": {  # the description did not change, so it is not listed
                    "subject": {"from": "Broken router", "to": "Router dead"},
                    "priority": {"from": "normal", "to": "high"},
                    "owner": {"from": None, "to": "bob"},
                }
            },
        ),
        (130.0, "status", "ann", "", {"from": "closed", "to": "open"}),
        (120.0, "comment", "bob", "replaced it", {}),
        (120.0, "status", "bob", "", {"from": "pending", "to": "closed"}),
        (110.0, "status", "bob", "", {"from": "open", "to": "pending"}),
        (100.0, "linked", "ann", "", {"interaction_id": "i-1"}),
        (
            100.0,
            "opened",
            "ann",
            "no lights",
            {"subject": "Broken router", "priority": "normal", "owner": None},
        ),
    ]


async def test_an_update_that_changes_nothing_writes_nothing(cases: CaseStore) -> None:
    made = await cases.create(contact_id="c-1", subject="Refund", owner="bob", by="ann", now=10)
    same = CaseChanges(subject=" Refund ", status=CaseStatus.OPEN, owner="bob", description="")
    for changes in (CaseChanges(), same):
        assert await cases.update(made.id, changes, by="ann", now=20) == made
    assert len((await cases.entries(made.id)).entries) == 1  # just "opened"


async def test_comments_are_entries_and_count_as_activity(cases: CaseStore) -> None:
    made = await cases.create(contact_id="c-2", subject="Refund", by="ann", now=10)
    entry = await cases.comment(made.id, "  called back  ", by="bob", now=15)
    assert (entry.case_id, entry.contact_id, entry.kind, entry.text) == (
        made.id,
        "c-2",
        "comment",
        "called back",
    )
    assert (await cases.entries(made.id, limit=1)).entries == (entry,)
    assert (await cases.get(made.id)).updated_at == 15


async def test_entries_page_newest_first_each_exactly_once(cases: CaseStore) -> None:
    made = await cases.create(contact_id="c-1", subject="Noisy line", by="ann", now=1)
    for n in range(7):
        await cases.comment(made.id, f"note {n}", by="ann", now=2 + n // 3)  # ties on `at`
    everything = (await cases.entries(made.id)).entries
    seen: list[CaseEntry] = []
    cursor = None
    while True:
        page = await cases.entries(made.id, limit=3, before=cursor)
        seen.extend(page.entries)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(everything) and len(seen) == 8
    assert [e.text for e in seen[:3]] == ["note 6", "note 5", "note 4"]


async def test_linking_is_idempotent_and_allowed_on_closed_cases(cases: CaseStore) -> None:
    made = await cases.create(contact_id="c-1", subject="Outage", by="ann", now=10)
    await cases.link(made.id, "i-2", by="ann", now=20)
    linked = await cases.link(made.id, "i-1", by="bob", now=30)
    again = await cases.link(made.id, "i-2", by="bob", now=40)
    assert again == linked and again.interactions == ("i-2", "i-1") and again.updated_at == 30
    kinds = [kind for _, kind, *_ in await all_entries(cases, made.id)]
    assert kinds == ["linked", "linked", "opened"]

    await cases.update(made.id, CaseChanges(status=CaseStatus.CLOSED), by="ann", now=50)
    closed = await cases.link(made.id, "i-3", by="ann", now=60)
    assert closed.status is CaseStatus.CLOSED and closed.interactions == ("i-2", "i-1", "i-3")

    other = await cases.create(
        contact_id="c-2", subject="Billing", by="bob", now=70, interaction_id="i-2"
    )
    assert [c.id for c in await cases.for_interaction("i-2")] == [other.id, made.id]
    assert await cases.for_interaction("i-9") == ()


async def test_concurrent_changes_keep_a_consistent_case_history(cases: CaseStore) -> None:
    made = await cases.create(contact_id="c-1", subject="Contested", by="ann", now=1)
    statuses = [CaseStatus.PENDING, CaseStatus.CLOSED, CaseStatus.OPEN] * 3
    await asyncio.gather(
        *(
            cases.update(made.id, CaseChanges(status=s), by=f"agent-{n}", now=2 + n)
            for n, s in enumerate(statuses)
        ),
        *(cases.link(made.id, "i-1", by=f"agent-{n}", now=20) for n in range(4)),
    )
    # In the order they were written (the ids), not by their callers' clocks.
    entries = sorted((await cases.entries(made.id)).entries, key=lambda e: e.id)
    moves = [dict(e.data) for e in entries if e.kind == "status"]
    # Each change starts from where the previous one left the case: none read a stale status.
    assert moves and moves[0]["from"] == "open"
    assert all(a["to"] == b["from"] for a, b in zip(moves, moves[1:], strict=False))
    assert moves[-1]["to"] == (await cases.get(made.id)).status.value
    assert [e.kind for e in entries].count("linked") == 1


async def test_delete_removes_the_case_its_links_and_entries(
    cases: CaseStore, store: EventStore
) -> None:
    kept = await cases.create(contact_id="c-1", subject="Keep", by="ann", now=1, interaction_id="i")
    gone = await cases.create(contact_id="c-1", subject="Drop", by="ann", now=2, interaction_id="i")
    await cases.comment(gone.id, "bye", by="ann", now=3)
    await cases.delete(gone.id)
    assert await cases.for_interaction("i") == (kept,)
    assert await count(store.engine, case_entry) == 2  # kept's opened and linked
    assert await count(store.engine, case_interaction) == 1
    for attempt in (cases.get(gone.id), cases.entries(gone.id), cases.delete(gone.id)):
        with pytest.raises(UnknownCaseError) as caught:
            await attempt
        assert caught.value.details == {"case_id": gone.id}


async def test_lists_filter_and_page_through_every_case_exactly_once(cases: CaseStore) -> None:
    made: list[Case] = []
    for n in range(13):
        case = await cases.create(
            contact_id=f"c-{n % 3 + 1}",
            subject=f"case {n}",
            owner="bob" if n % 2 else None,
            by="ann",
            now=100.0 + n // 3,  # three cases share each time: ties are broken by id
        )
        if n % 4:
            status = CaseStatus.PENDING if n % 4 == 1 else CaseStatus.CLOSED
            case = await cases.update(
                case.id, CaseChanges(status=status), by="ann", now=case.updated_at
            )
        made.append(case)
    newest_first = sorted(made, key=lambda c: (c.updated_at, c.id), reverse=True)

    async def page_through(**filters: Any) -> list[Case]:
        seen: list[Case] = []
        cursor = None
        while True:
            page = await cases.list(limit=4, after=cursor, **filters)
            assert len(page.cases) <= 4
            seen.extend(page.cases)
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    assert await page_through() == newest_first
    open_statuses = [CaseStatus.OPEN, CaseStatus.PENDING]
    checks: list[tuple[dict[str, Any], Callable[[Case], bool]]] = [
        ({"contact_ids": ["c-1", "c-3"]}, lambda c: c.contact_id in ("c-1", "c-3")),
        ({"status": open_statuses}, lambda c: c.status is not CaseStatus.CLOSED),
        ({"owner": "bob"}, lambda c: c.owner == "bob"),
        (
            {"contact_ids": ["c-2"], "status": [CaseStatus.CLOSED], "owner": "bob"},
            lambda c: (c.contact_id, c.status, c.owner) == ("c-2", CaseStatus.CLOSED, "bob"),
        ),
        ({"contact_ids": []}, lambda c: False),
    ]
    for filters, keep in checks:
        expected = [c for c in newest_first if keep(c)]
        assert await page_through(**filters) == expected, filters
    exact = await cases.list(limit=13)
    assert len(exact.cases) == 13 and exact.next_cursor is None


async def test_bad_case_requests_are_refused(cases: CaseStore) -> None:
    for subject in ("   ", "x" * 201):
        with pytest.raises(InvalidRequestError):
            await cases.create(contact_id="c-1", subject=subject, by="ann", now=1)
    made = await cases.create(contact_id="c-1", subject="x" * 200, by="ann", now=1)
    with pytest.raises(InvalidRequestError):
        await cases.update(made.id, CaseChanges(comment=" "), by="ann", now=2)
    with pytest.raises(InvalidRequestError):
        await cases.update(made.id, CaseChanges(status="lost"), by="ann", now=2)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        await cases.comment(made.id, "", by="ann", now=2)
    assert len((await cases.entries(made.id)).entries) == 1

    entries_cursor = (await cases.entries(made.id, limit=1)).next_cursor
    await cases.create(contact_id="c-1", subject="another", by="ann", now=2)
    list_cursor = (await cases.list(limit=1)).next_cursor
    assert entries_cursor is None and list_cursor is not None
    for limit in (0, 501):
        with pytest.raises(InvalidRequestError):
            await cases.list(limit=limit)
    for bad in ("garbage", "", "W10", list_cursor[:-2]):
        with pytest.raises(InvalidRequestError):
            await cases.list(after=bad)
    with pytest.raises(InvalidRequestError):  # one list's cursor is not another's
        await cases.entries(made.id, before=list_cursor)

    for attempt in (
        cases.get(999),
        cases.update(999, CaseChanges(owner="bob"), by="ann", now=3),
        cases.comment(999, "hello", by="ann", now=3),
        cases.link(999, "i-1", by="ann", now=3),
    ):
        with pytest.raises(UnknownCaseError):
            await attempt


async def test_cases_and_notes_go_to_current_contacts_only(
    cases: CaseStore, store: EventStore
) -> None:
    await add_contact(store.engine, "c-old")
    async with store.engine.begin() as conn:
        await conn.execute(update(contact).where(contact.c.id == "c-old").values(merged_into="c-1"))
    notes = NoteStore(store.engine)
    attempts = [
        (cases.create(contact_id="c-old", subject="s", by="ann", now=1), ContactMergedError),
        (notes.add("c-old", "hello", author="ann", now=1), ContactMergedError),
        (cases.create(contact_id="nobody", subject="s", by="ann", now=1), UnknownContactError),
        (notes.add("nobody", "hello", author="ann", now=1), UnknownContactError),
    ]
    for attempt, error in attempts:
        with pytest.raises(error) as caught:
            await attempt
        if error is ContactMergedError:
            assert caught.value.details["merged_into"] == "c-1"
    assert (await cases.list()).cases == () and (await notes.list(["c-old", "nobody"])).notes == ()


# -- notes -------------------------------------------------------------------------------


async def test_notes_list_newest_first_across_contacts_and_page(
    cases: CaseStore, store: EventStore
) -> None:
    notes = NoteStore(store.engine)
    first = await notes.add("c-1", "  prefers e-mail ", author="ann", now=10, interaction_id="i-1")
    assert (first.contact_id, first.text, first.author, first.at, first.interaction_id) == (
        "c-1",
        "prefers e-mail",
        "ann",
        10,
        "i-1",
    )
    tied = [await notes.add("c-2", f"tied {n}", author="bob", now=20) for n in range(3)]
    await notes.add("c-3", "someone else", author="bob", now=30)
    expected = [*reversed(tied), first]

    assert (await notes.list(["c-1", "c-2"])).notes == tuple(expected)
    seen: list[Note] = []
    cursor = None
    while True:
        page = await notes.list(["c-1", "c-2"], limit=2, before=cursor)
        seen.extend(page.notes)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected

    await notes.delete(tied[1].id)
    assert [n.text for n in (await notes.list(["c-2"])).notes] == ["tied 2", "tied 0"]
    with pytest.raises(UnknownNoteError) as caught:
        await notes.delete(tied[1].id)
    assert caught.value.error_id == "unknown_note"

    for text in ("  ", "x" * 10_001):
        with pytest.raises(InvalidRequestError):
            await notes.add("c-1", text, author="ann", now=40)
    assert len((await notes.add("c-1", "x" * 10_000, author="ann", now=40)).text) == 10_000
    with pytest.raises(InvalidRequestError):
        await notes.list(["c-1"], before="not-a-cursor")
