"""Contract of the contact store, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import insert, select

from trunkline.crm import contacts as contacts_module
from trunkline.crm.aliases import contact_aliases
from trunkline.crm.contacts import ContactChanges, ContactStore
from trunkline.crm.errors import (
    ContactMergedError,
    IdentityTakenError,
    StaleContactError,
    UnknownContactError,
)
from trunkline.crm.identity import search_key
from trunkline.crm.model import Contact, Identity, IdentityKind
from trunkline.crm.schema import case, case_entry, name_word, note
from trunkline.domain.errors import ConflictError, InvalidRequestError
from trunkline.store import EventStore


def phone(n: int) -> Identity:
    return Identity(IdentityKind.PHONE, f"+4420794600{n:02d}")


def email(local: str) -> Identity:
    return Identity(IdentityKind.EMAIL, f"{local}@example.com")


@pytest.fixture
async def contacts(store: EventStore) -> ContactStore:
    return ContactStore(store.engine)


# -- create, get, update -----------------------------------------------------------------


async def test_a_created_contact_reads_back_whole(contacts: ContactStore) -> None:
    created = await contacts.create(
        name="Ann Archer",
        organisation="Archers Ltd",
        customer_class="vip",
        value=1250.5,
        language="en",
        owner="a7",
        attributes={"tier": "gold", "since": 2019},
        identities=[phone(1), email("ann"), phone(1)],
        now=100.0,
    )
    assert len(created.id) == 32
    assert created.identities == (email("ann"), phone(1))  # by kind, then value; once
    assert (created.version, created.created_at, created.updated_at) == (1, 100.0, 100.0)
    assert await contacts.get(created.id) == created


async def test_an_existing_id_or_anothers_identity_cannot_be_created(
    contacts: ContactStore,
) -> None:
    ann = await contacts.create(id="ann", identities=[phone(1)], now=1.0)
    with pytest.raises(ConflictError):
        await contacts.create(id="ann", now=2.0)
    with pytest.raises(IdentityTakenError) as caught:
        await contacts.create(id="bob", identities=[email("bob"), phone(1)], now=2.0)
    assert caught.value.details == {"kind": "phone", "value": phone(1).value, "contact_id": ann.id}
    with pytest.raises(UnknownContactError):
        await contacts.get("bob")  # nothing of the refused create was written


async def test_of_two_concurrent_creates_with_one_identity_exactly_one_wins(
    contacts: ContactStore,
) -> None:
    for n in range(5):
        results = await asyncio.gather(
            contacts.create(name="first", identities=[phone(n)], now=1.0),
            contacts.create(name="second", identities=[email(f"x{n}"), phone(n)], now=1.0),
            return_exceptions=True,
        )
        winners = [r for r in results if isinstance(r, Contact)]
        losers = [r for r in results if isinstance(r, IdentityTakenError)]
        assert len(winners) == 1 and len(losers) == 1, results
        assert losers[0].details["contact_id"] == winners[0].id
        assert (await contacts.find([phone(n)])) == winners[0]
    assert await contacts.count() == 5


async def test_unknown_contacts_are_reported(contacts: ContactStore) -> None:
    with pytest.raises(UnknownContactError):
        await contacts.get("nobody")
    with pytest.raises(UnknownContactError):
        await contacts.update("nobody", ContactChanges(name="x"), now=1.0)


async def test_an_update_changes_only_what_it_names_and_bumps_the_version(
    contacts: ContactStore,
) -> None:
    ann = await contacts.create(
        name="Ann",
        value=10.0,
        owner="a1",
        attributes={"tier": "gold", "old": 1},
        identities=[phone(1), email("ann")],
        provisional=True,
        now=1.0,
    )
    updated = await contacts.update(
        ann.id,
        ContactChanges(
            name="Ann Archer",
            owner=None,
            provisional=False,
            attributes={"old": None, "new": [1, 2]},
            add_identities=[phone(2)],
            remove_identities=[email("ann"), email("never-had")],
        ),
        now=5.0,
    )
    assert updated.name == "Ann Archer" and updated.owner is None and not updated.provisional
    assert updated.value == 10.0 and updated.customer_class == ann.customer_class
    assert updated.attributes == {"tier": "gold", "new": [1, 2]}
    assert updated.identities == (phone(1), phone(2))
    assert (updated.version, updated.created_at, updated.updated_at) == (2, 1.0, 5.0)
    assert await contacts.get(ann.id) == updated
    assert await contacts.find([email("ann")]) is None
    # The name words follow the name.
    assert [c.id for c in (await contacts.search(text="archer")).contacts] == [ann.id]


async def test_an_update_naming_an_old_version_is_refused(contacts: ContactStore) -> None:
    ann = await contacts.create(name="Ann", now=1.0)
    await contacts.update(ann.id, ContactChanges(name="Ann A"), expected_version=1, now=2.0)
    with pytest.raises(StaleContactError) as caught:
        await contacts.update(ann.id, ContactChanges(name="Ann B"), expected_version=1, now=3.0)
    assert caught.value.details["current_version"] == 2
    assert (await contacts.get(ann.id)).name == "Ann A"


async def test_an_update_cannot_take_anothers_identity(contacts: ContactStore) -> None:
    ann = await contacts.create(identities=[phone(1)], now=1.0)
    bob = await contacts.create(now=1.0)
    with pytest.raises(IdentityTakenError) as caught:
        await contacts.update(bob.id, ContactChanges(add_identities=[phone(1)]), now=2.0)
    assert caught.value.details["contact_id"] == ann.id
    assert (await contacts.get(bob.id)).version == 1


async def test_invalid_values_are_the_callers_error(contacts: ContactStore) -> None:
    with pytest.raises(InvalidRequestError):
        await contacts.create(customer_class="", now=1.0)
    with pytest.raises(InvalidRequestError):
        await contacts.create(value=float("nan"), now=1.0)
    with pytest.raises(InvalidRequestError):
        await contacts.create(attributes={"x": object()}, now=1.0)
    with pytest.raises(InvalidRequestError):
        await contacts.create(name="nul\x00", now=1.0)
    assert await contacts.count() == 0


# -- find and search ---------------------------------------------------------------------


async def test_find_returns_the_owner_of_the_first_known_identity(contacts: ContactStore) -> None:
    ann = await contacts.create(name="Ann", identities=[phone(1)], now=1.0)
    bob = await contacts.create(name="Bob", identities=[email("bob")], now=1.0)
    assert await contacts.find([email("bob"), phone(1)]) == bob
    assert await contacts.find([email("nobody"), phone(1), email("bob")]) == ann
    assert await contacts.find([email("nobody")]) is None
    assert await contacts.find([]) is None


# Each way of finding text matches (see ContactStore.search): from the word index (a rare
# prefix), walking the name order (a common one), and the walk finding too few.
SEARCH_STRATEGIES = pytest.mark.parametrize(
    ("rare_bound", "walk_budget"), [(10_000, 5_000), (1, 1_000), (1, 2)], ids=str
)


async def make_people(contacts: ContactStore) -> dict[str, Contact]:
    people = {
        "john": ("John Smith", "standard", False),
        "jon": ("Jonathan Smithers", "vip", False),
        "jane": ("Jane Smith", "vip", True),
        "zoe": ("Zoë O'Brien-Smith", "standard", False),
        "bob": ("Bob Jones", "standard", False),
    }
    out = {}
    for n, (key, (name, cls, provisional)) in enumerate(people.items()):
        out[key] = await contacts.create(
            id=key,
            name=name,
            customer_class=cls,
            provisional=provisional,
            identities=[phone(n)],
            now=1.0,
        )
    return out


async def search_ids(contacts: ContactStore, **query: Any) -> list[str]:
    return [c.id for c in (await contacts.search(**query)).contacts]


@SEARCH_STRATEGIES
async def test_search_by_word_prefixes_in_any_order(
    contacts: ContactStore, monkeypatch: pytest.MonkeyPatch, rare_bound: int, walk_budget: int
) -> None:
    monkeypatch.setattr(contacts_module, "RARE_WORD_MATCHES", rare_bound)
    monkeypatch.setattr(contacts_module, "NAME_WALK_BUDGET", walk_budget)
    await make_people(contacts)
    assert await search_ids(contacts, text="smi") == ["jane", "john", "jon", "zoe"]
    assert await search_ids(contacts, text="smi jo") == ["john", "jon"]
    assert await search_ids(contacts, text="JO SMITHERS") == ["jon"]
    assert await search_ids(contacts, text="zoe brien") == ["zoe"]  # accents folded
    assert await search_ids(contacts, text="o'brien") == ["zoe"]
    assert await search_ids(contacts, text="mith") == []  # prefixes, not substrings
    assert await search_ids(contacts, text="smith jones") == []


async def test_search_by_identity_class_and_provisional(contacts: ContactStore) -> None:
    await make_people(contacts)
    assert await search_ids(contacts, identity=phone(3)) == ["zoe"]
    assert await search_ids(contacts, identity=email("nobody")) == []
    assert await search_ids(contacts, customer_class="vip") == ["jane", "jon"]
    assert await search_ids(contacts, text="smith", provisional=True) == ["jane"]
    assert await search_ids(contacts, customer_class="vip", provisional=False) == ["jon"]


@SEARCH_STRATEGIES
async def test_paging_returns_every_match_once_in_name_order(
    contacts: ContactStore, monkeypatch: pytest.MonkeyPatch, rare_bound: int, walk_budget: int
) -> None:
    monkeypatch.setattr(contacts_module, "RARE_WORD_MATCHES", rare_bound)
    monkeypatch.setattr(contacts_module, "NAME_WALK_BUDGET", walk_budget)
    names = ["Smith", "smith", "Smyth", "Adam Smith", "Zed Smith", "Smith-Jones", "Éloise Smi"]
    made = [await contacts.create(name=names[n % len(names)], now=1.0) for n in range(23)]
    await contacts.create(name="Other Person", now=1.0)
    expected = sorted(made, key=lambda c: (search_key(c.name), c.id))
    seen: list[Contact] = []
    cursor = None
    pages = 0
    while True:
        page = await contacts.search(text="sm", limit=5, after=cursor)
        seen += page.contacts
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [c.id for c in seen] == [c.id for c in expected]
    assert pages == 5  # 23 matches, 5 a page: the last page has 3 and no cursor


async def test_bad_limits_and_cursors_are_refused(contacts: ContactStore) -> None:
    for limit in (0, 501):
        with pytest.raises(InvalidRequestError):
            await contacts.search(limit=limit)
    for cursor in ("not base64!", "bm90IGpzb24", "WzFd"):  # "not json", "[1]"
        with pytest.raises(InvalidRequestError):
            await contacts.search(after=cursor)


# -- merge -------------------------------------------------------------------------------


async def add_note_and_case(store: EventStore, contact_id: str) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(note).values(contact_id=contact_id, at=1.0, author="a1", text="called")
        )
        result = await conn.execute(
            insert(case).values(
                contact_id=contact_id,
                subject="refund",
                description="",
                status="open",
                priority="normal",
                created_by="a1",
                created_at=1.0,
                updated_at=1.0,
            )
        )
        case_id = result.inserted_primary_key[0]
        await conn.execute(
            insert(case_entry).values(
                case_id=case_id,
                contact_id=contact_id,
                at=1.0,
                kind="opened",
                by="a1",
                text="",
                data={},
            )
        )


async def owners(store: EventStore, table: Any) -> list[str]:
    async with store.engine.connect() as conn:
        return sorted((await conn.execute(select(table.c.contact_id))).scalars())


async def test_a_merge_moves_identities_notes_and_cases_and_fills_empty_fields(
    store: EventStore, contacts: ContactStore
) -> None:
    target = await contacts.create(
        id="t", name="Ann Archer", attributes={"tier": "gold"}, identities=[phone(1)], now=1.0
    )
    first = await contacts.create(
        id="s1",
        name="A. Archer",
        organisation="Archers Ltd",
        value=10.0,
        attributes={"tier": "silver", "since": 2019},
        identities=[email("ann")],
        now=1.0,
    )
    second = await contacts.create(
        id="s2", organisation="Other Ltd", language="fr", identities=[phone(2)], now=1.0
    )
    await add_note_and_case(store, first.id)
    await add_note_and_case(store, second.id)

    merged = await contacts.merge(target.id, [first.id, second.id], now=9.0)

    assert merged.identities == (email("ann"), phone(1), phone(2))
    assert merged.name == "Ann Archer"  # the target's own value wins
    assert (merged.organisation, merged.value, merged.language) == ("Archers Ltd", 10.0, "fr")
    assert merged.attributes == {"tier": "gold", "since": 2019}
    assert (merged.version, merged.updated_at) == (2, 9.0)
    for table in (note, case, case_entry):
        assert await owners(store, table) == ["t", "t"]
    for source in (first, second):
        assert (await contacts.get(source.id)).merged_into == "t"
        assert await contacts.find([*source.identities]) == merged
    assert await owners(store, name_word) == ["t", "t"]  # ann, archer: no source words left
    assert await contacts.count() == 1
    with pytest.raises(ContactMergedError) as caught:
        await contacts.update(first.id, ContactChanges(name="x"), now=10.0)
    assert caught.value.details["merged_into"] == "t"


async def test_a_provisional_target_takes_a_real_sources_class(contacts: ContactStore) -> None:
    await contacts.create(id="p", provisional=True, identities=[phone(1)], now=1.0)
    await contacts.create(id="q", provisional=True, customer_class="other", now=1.0)
    await contacts.create(id="r", name="Real", customer_class="vip", now=1.0)
    kept = await contacts.merge("p", ["q"], now=2.0)
    assert kept.provisional and kept.customer_class == "standard"
    real = await contacts.merge("p", ["r"], now=3.0)
    assert not real.provisional and real.customer_class == "vip" and real.name == "Real"


async def test_chained_merges_stay_flat(store: EventStore, contacts: ContactStore) -> None:
    for cid in ("a", "b", "c", "d"):
        await contacts.create(id=cid, name=cid, now=1.0)
    await contacts.merge("b", ["a"], now=2.0)
    await contacts.merge("c", ["b"], now=3.0)
    await contacts.merge("d", ["c"], now=4.0)
    for cid in ("a", "b", "c"):
        assert (await contacts.get(cid)).merged_into == "d"
    async with store.engine.connect() as conn:
        assert sorted(await contact_aliases(conn, "d")) == ["a", "b", "c", "d"]


async def test_merges_that_make_no_sense_are_refused(contacts: ContactStore) -> None:
    for cid in ("a", "b", "c"):
        await contacts.create(id=cid, now=1.0)
    with pytest.raises(InvalidRequestError):
        await contacts.merge("a", [], now=2.0)
    with pytest.raises(InvalidRequestError):
        await contacts.merge("a", ["b", "a"], now=2.0)
    with pytest.raises(UnknownContactError):
        await contacts.merge("a", ["b", "nobody"], now=2.0)
    await contacts.merge("a", ["b"], now=2.0)
    with pytest.raises(ContactMergedError):
        await contacts.merge("c", ["b"], now=3.0)
    with pytest.raises(ContactMergedError):
        await contacts.merge("b", ["c"], now=3.0)
    assert (await contacts.get("c")).merged_into is None


# -- listing -----------------------------------------------------------------------------


async def test_iter_all_yields_every_live_contact_once_by_id(contacts: ContactStore) -> None:
    ids = [f"c{n:02d}" for n in range(11)]
    for n, cid in enumerate(ids):
        await contacts.create(id=cid, identities=[phone(n)], now=1.0)
    await contacts.merge("c00", ["c05"], now=2.0)
    listed = [c async for c in contacts.iter_all(batch=3)]
    assert [c.id for c in listed] == [cid for cid in ids if cid != "c05"]
    assert listed[0].identities == (phone(0), phone(5))
    assert await contacts.count() == 10
