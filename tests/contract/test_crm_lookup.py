"""Contract of the screen-pop lookup on both databases: PostgreSQL reads it in one
statement, SQLite in several queries; both must give the same snapshot."""

from __future__ import annotations

from test_crm_timeline import journey, record

from trunkline.config.crm_settings import CrmSettings
from trunkline.crm.cases import CaseChanges, CaseStore
from trunkline.crm.contacts import ContactStore
from trunkline.crm.lookup import lookup, lookup_engine
from trunkline.crm.model import CaseStatus, Identity, IdentityKind
from trunkline.crm.service import CrmService
from trunkline.store import EventStore

PHONE = Identity(IdentityKind.PHONE, "+442079460018")
EMAIL = Identity(IdentityKind.EMAIL, "jane@example.com")
ACCOUNT = Identity(IdentityKind.ACCOUNT, "A100")


async def test_lookup_finds_the_first_known_identity_with_history_and_open_cases(
    store: EventStore,
) -> None:
    contacts, cases = ContactStore(store.engine), CaseStore(store.engine)
    jane = await contacts.create(name="Jane", identities=[PHONE, EMAIL], now=1.0)
    other = await contacts.create(name="Other", identities=[ACCOUNT], now=1.0)
    await record(
        store,
        *(
            journey(f"i{n}", jane.id, 100.0 + n, agent="ann", disposition="solved")
            for n in range(12)
        ),
    )
    open_case = await cases.create(
        contact_id=jane.id, subject="Refund", by="ann", now=5.0, interaction_id="i3"
    )
    closed = await cases.create(contact_id=jane.id, subject="Old", by="ann", now=4.0)
    await cases.update(closed.id, CaseChanges(status=CaseStatus.CLOSED), by="ann", now=6.0)
    engine = lookup_engine(store.engine)
    try:
        # The order of identities is the order of preference.
        found = await lookup(engine, identities=[ACCOUNT, PHONE], history_size=10)
        assert found is not None and found.contact.id == other.id
        found = await lookup(
            engine, identities=[Identity(IdentityKind.PHONE, "+15550000000"), EMAIL]
        )
        assert found is not None and found.contact.id == jane.id
        assert set(found.contact.identities) == {PHONE, EMAIL}
        assert [h.id for h in found.history] == [f"i{n}" for n in range(11, 1, -1)]
        assert found.history[0].disposition == "solved" and found.history[0].agent_id == "ann"
        assert [(c.id, c.interactions) for c in found.open_cases] == [(open_case.id, ("i3",))]
        by_id = await lookup(engine, contact_id=jane.id, history_size=3)
        assert by_id is not None and [h.id for h in by_id.history] == ["i11", "i10", "i9"]
        assert await lookup(engine, identities=[Identity(IdentityKind.VISITOR, "v1")]) is None
        assert await lookup(engine, contact_id="nobody") is None
    finally:
        if engine is not store.engine:
            await engine.dispose()


async def test_a_merged_contact_resolves_to_its_survivor_with_both_histories(
    store: EventStore,
) -> None:
    contacts = ContactStore(store.engine)
    kept = await contacts.create(name="Jane", identities=[EMAIL], now=1.0)
    gone = await contacts.create(identities=[PHONE], provisional=True, now=1.0)
    await record(store, journey("old", gone.id, 10.0, agent="bob"), journey("new", kept.id, 20.0))
    await contacts.merge(kept.id, [gone.id], now=30.0)
    engine = lookup_engine(store.engine)
    try:
        for found in (
            await lookup(engine, identities=[PHONE]),
            await lookup(engine, contact_id=gone.id),
        ):
            assert found is not None and found.contact.id == kept.id
            assert [h.id for h in found.history] == ["new", "old"]
            assert set(found.contact.identities) == {PHONE, EMAIL}
    finally:
        if engine is not store.engine:
            await engine.dispose()


async def test_screen_pops_of_recovered_interactions_are_rebuilt(store: EventStore) -> None:
    crm = CrmService(store.engine, CrmSettings())
    try:
        jane = await crm.contacts.create(name="Jane", identities=[PHONE], now=1.0)
        restored = await crm.restore([("i1", jane.id), ("i2", None), ("i3", "nobody")])
        assert restored == 1
        pop = crm.pops.get("i1")
        assert pop is not None and pop["contact"]["name"] == "Jane"
        assert pop["external"]["status"] == "skipped"
        assert crm.pops.get("i2") is None and crm.pops.get("i3") is None
    finally:
        await crm.close()
