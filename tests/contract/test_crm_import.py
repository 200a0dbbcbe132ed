"""Contract of the contact import, batch by batch and streamed, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import pytest
from sqlalchemy import delete

from trunkline.crm.contacts import ContactStore
from trunkline.crm.csv_io import CSV_HEADER, ImportRow, contact_csv_row, csv_line
from trunkline.crm.importer import ImportProgress, ImportReport, import_csv
from trunkline.crm.model import Identity, IdentityKind
from trunkline.crm.schema import contact, identity, name_word
from trunkline.store import EventStore

REGION = "GB"


def phone(n: int) -> Identity:
    return Identity(IdentityKind.PHONE, f"+44207946{n:04d}")


def email(local: str) -> Identity:
    return Identity(IdentityKind.EMAIL, f"{local}@example.com")


@pytest.fixture
async def contacts(store: EventStore) -> ContactStore:
    return ContactStore(store.engine)


async def chunked(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def run(
    contacts: ContactStore, text: str | bytes, *, batch_size: int = 1000, max_errors_kept: int = 100
) -> ImportReport:
    """Import ``text`` cut into 7-byte chunks, so records and characters span chunks."""
    data = text.encode() if isinstance(text, str) else text
    return await import_csv(
        chunked(data),
        contacts,
        region=REGION,
        now=lambda: 50.0,
        batch_size=batch_size,
        max_errors_kept=max_errors_kept,
    )


async def name_of(contacts: ContactStore, ident: Identity) -> str | None:
    found = await contacts.find([ident])
    return None if found is None else found.name


async def test_bad_rows_are_reported_by_line_and_the_good_ones_kept(
    contacts: ContactStore,
) -> None:
    await contacts.create(id="taken", identities=[email("carol")], now=1.0)
    report = await run(
        contacts,
        "id,name,phone,email,value\n"
        ",Ann,020 7946 0001,,\n"
        ',"Bob\nBarnes",nonsense,,\n'
        ",Carol,,carol@example.com,oops\n"
        "dan,Dan,,Carol@Example.com,\n"  # the identity of another contact
        ",Eve,,eve@example.com,7\n",
        batch_size=2,
    )
    assert (report.rows, report.created, report.updated, report.failed) == (5, 2, 0, 3)
    assert [(e.line, e.field) for e in report.errors] == [(3, "phone"), (5, "value"), (6, "email")]
    assert "taken" in report.errors[2].message
    assert report.errors_total == report.failed and report.fatal is None
    assert await name_of(contacts, phone(1)) == "Ann"
    assert await name_of(contacts, email("eve")) == "Eve"


async def test_an_id_row_with_anothers_identity_or_a_merged_target_is_refused(
    contacts: ContactStore,
) -> None:
    await contacts.create(id="ann", identities=[phone(1)], now=1.0)
    await contacts.create(id="old", now=1.0)
    await contacts.create(id="new", now=1.0)
    await contacts.merge("new", ["old"], now=2.0)
    errors = await contacts.import_rows(
        [
            ImportRow(line=2, id="bob", name="Bob", identities=(phone(1),)),
            ImportRow(line=3, id="old", name="Revived"),
            ImportRow(line=4, id="cat", name="Cat"),
        ],
        now=3.0,
    )
    assert [(e.line, e.field) for e in errors] == [(2, "phone"), (3, "id")]
    assert "ann" in errors[0].message and "merged into new" in errors[1].message
    assert (await contacts.get("cat")).name == "Cat"
    assert (await contacts.get("old")).name == ""
    assert await contacts.count() == 3  # ann, new, cat: bob was not created


async def test_a_row_whose_identities_belong_to_two_contacts_is_refused(
    contacts: ContactStore,
) -> None:
    ann = await contacts.create(identities=[phone(1)], now=1.0)
    bob = await contacts.create(identities=[phone(2)], now=1.0)
    [error] = await contacts.import_rows(
        [ImportRow(line=9, name="Who", identities=(phone(1), phone(2)))], now=2.0
    )
    assert error.line == 9 and ann.id in error.message and bob.id in error.message


async def test_rows_update_by_identity_or_id_and_empty_cells_change_nothing(
    contacts: ContactStore,
) -> None:
    provisional = await contacts.create(
        identities=[phone(1)], provisional=True, attributes={"seen": 1}, now=1.0
    )
    known = await contacts.create(
        id="k1", name="Kim", organisation="Kim Co", value=5.0, identities=[email("kim")], now=1.0
    )
    report = await run(
        contacts,
        "id,name,organisation,class,value,phone,email,attr.tier\n"
        ",Paula,,vip,,020 7946 0001,paula@example.com,gold\n"  # national format
        "k1,,,,,,,silver\n",
    )
    assert (report.created, report.updated, report.failed) == (0, 2, 0)
    paula = await contacts.get(provisional.id)
    assert (paula.name, paula.customer_class, paula.provisional) == ("Paula", "vip", False)
    assert paula.identities == (email("paula"), phone(1))
    assert paula.attributes == {"seen": 1, "tier": "gold"}
    assert paula.version == 2 and paula.updated_at == 50.0
    kim = await contacts.get(known.id)
    assert (kim.name, kim.organisation, kim.value) == ("Kim", "Kim Co", 5.0)
    assert kim.attributes == {"tier": "silver"}
    assert [c.id for c in (await contacts.search(text="paula")).contacts] == [paula.id]


async def test_later_rows_see_earlier_ones_whatever_the_batch_size(
    store: EventStore, contacts: ContactStore
) -> None:
    text = (
        "id,name,email,phone\n"
        ",Ann,ann@example.com,\n"
        ",Ann Archer,ann@example.com,020 7946 0001\n"  # updates the contact just created
        "x1,Xavier,,\n"
        "x1,,xavier@example.com,\n"  # the same id again: an update
        "x2,Thief,ann@example.com,\n"  # Ann's address for another contact: refused
    )
    results = []
    for batch_size in (1, 2, 1000):
        report = await run(contacts, text, batch_size=batch_size)
        assert report.failed == 1 and report.errors[0].line == 6
        found = await contacts.find([phone(1)])
        assert found is not None
        assert (found.name, found.identities) == ("Ann Archer", (email("ann"), phone(1)))
        results.append((report.created, report.updated))
        async with store.engine.begin() as conn:  # start again from an empty store
            for table in (contact, identity, name_word):
                await conn.execute(delete(table))
    assert results == [(2, 2)] * 3


async def test_a_bad_header_stops_the_import_before_any_row(contacts: ContactStore) -> None:
    report = await run(contacts, "name,fax\nAnn,123\n")
    assert report.fatal is not None and "fax" in report.fatal
    assert report.rows == 0 and await contacts.count() == 0
    empty = await run(contacts, "")
    assert empty.fatal is not None and "header" in empty.fatal


async def test_bytes_that_are_not_utf8_fail_their_line_only(contacts: ContactStore) -> None:
    data = "\ufeffname,email\nAnn,ann@example.com\n".encode() + b"B\xe9b,bob@example.com\n"
    report = await run(contacts, data + "Zoë,zoe@example.com\n".encode())
    assert (report.created, report.failed) == (2, 1)
    assert report.errors[0].line == 3 and "UTF-8" in report.errors[0].message
    assert await name_of(contacts, email("zoe")) == "Zoë"


async def test_only_the_first_errors_are_kept_but_all_are_counted(
    contacts: ContactStore,
) -> None:
    lines = "".join(f"x{n},bad{n}\n" for n in range(40))
    report = await run(contacts, "name,email\n" + lines, batch_size=7, max_errors_kept=3)
    assert report.failed == report.errors_total == 40
    assert [e.line for e in report.errors] == [2, 3, 4]


def generated_csv(count: int) -> Iterable[bytes]:
    yield b"id,name,organisation,class,phone,email,attr.n\n"
    lines = []
    for n in range(count):
        lines.append(
            f"g{n},Person {n} Smith,Org {n % 50},{'vip' if n % 10 == 0 else 'standard'},"
            f"+1202{5_000_000 + n},p{n}@example.com,{n}\n"
        )
        if len(lines) == 500:
            yield "".join(lines).encode()
            lines = []
    yield "".join(lines).encode()


async def test_a_large_import_streams_in_batches_and_reports_progress(
    contacts: ContactStore,
) -> None:
    count = 20_000
    seen: list[ImportProgress] = []

    async def source() -> AsyncIterator[bytes]:
        for chunk in generated_csv(count):
            yield chunk

    async def progress(p: ImportProgress) -> None:
        seen.append(p)

    report = await import_csv(
        source(), contacts, region="US", now=lambda: 1.0, batch_size=2000, on_progress=progress
    )
    assert (report.rows, report.created, report.failed, report.fatal) == (count, count, 0, None)
    assert len(seen) == 10
    assert [p.imported for p in seen] == list(range(2000, count + 1, 2000))
    assert all(a.bytes_read <= b.bytes_read for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1].lines_read == count + 1 and seen[-1].failed == 0
    assert await contacts.count() == count
    assert len((await contacts.search(customer_class="vip", limit=500)).contacts) == 500
    found = await contacts.find([Identity(IdentityKind.PHONE, "+12025001234")])
    assert found is not None and found.id == "g1234" and found.attributes == {"n": "1234"}


async def test_an_export_imports_back_as_the_same_contacts(
    store: EventStore, contacts: ContactStore
) -> None:
    originals = [
        await contacts.create(
            id="c1",
            name='=HYPERLINK("http://evil")',
            organisation='-minus, "quoted"\nand multi-line',
            customer_class="vip",
            value=-1234.5,
            language="pt-BR",
            owner="@agent",
            attributes={"tier": "gold", "n": 3, "nested": {"a": [1, 2.5, None]}},
            identities=[phone(1), phone(2), email("c1"), Identity(IdentityKind.ACCOUNT, "AB12")],
            now=1.0,
        ),
        await contacts.create(id="c2", name="Zoë O'Brien", value=100.0, now=1.0),
        await contacts.create(id="c3", identities=[Identity(IdentityKind.VISITOR, "v-9")], now=1.0),
    ]
    text = csv_line(CSV_HEADER)
    async for found in contacts.iter_all(batch=2):
        text += csv_line(contact_csv_row(found))
    async with store.engine.begin() as conn:
        for table in (contact, identity, name_word):
            await conn.execute(delete(table))

    report = await run(contacts, "\ufeff" + text)

    assert (report.created, report.failed) == (3, 0)
    for original in originals:
        again = await contacts.get(original.id)
        assert again.as_dict() | {"created_at": 1.0, "updated_at": 1.0} == original.as_dict()
