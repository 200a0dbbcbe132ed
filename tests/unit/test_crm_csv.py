"""Contact CSV without I/O: chunked parsing, row errors with their lines, safe round trips."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.crm.csv_io import (
    CSV_HEADER,
    ContactCsvReader,
    ImportRow,
    RowError,
    contact_csv_row,
    csv_line,
)
from trunkline.crm.model import Contact, Identity, IdentityKind

PHONE = IdentityKind.PHONE
EMAIL = IdentityKind.EMAIL

SAMPLE = (
    "\ufeffID,Name,Phone,Email,Value,attr.Tier\r\n"
    "c1,Ann Archer,020 7946 0018,ann@example.com,12.5,gold\r\n"
    'c2,"Bob ""The Builder""\nBarnes",+1 202 555 0123,,,\r\n'
    "c3,Bad Phone,not-a-phone,,,\r\n"
    "\r\n"
    'c4,"Multi\nline\nname",,,abc,\r\n'
    "c5,Zoë,,ZOE@EXAMPLE.COM;zoe@work.example,,silver\r\n"
    ",Last Without Newline,,,-3,"
)


def read_all(text: str, chunks: list[int] | None = None) -> list[ImportRow | RowError]:
    """Feed ``text`` cut at the ``chunks`` offsets, then close."""
    reader = ContactCsvReader("GB")
    out: list[ImportRow | RowError] = []
    start = 0
    for cut in sorted(chunks or []):
        out += reader.feed(text[start:cut])
        start = cut
    out += reader.feed(text[start:])
    return out + reader.close()


def by_line(results: list[ImportRow | RowError]) -> dict[int, ImportRow | RowError]:
    return {r.line: r for r in results}


def test_rows_carry_given_fields_normalised_identities_and_attributes() -> None:
    rows = by_line(read_all(SAMPLE))
    assert rows[2] == ImportRow(
        line=2,
        id="c1",
        name="Ann Archer",
        value=12.5,
        identities=(Identity(PHONE, "+442079460018"), Identity(EMAIL, "ann@example.com")),
        attributes={"Tier": "gold"},
    )
    bob = rows[3]
    assert isinstance(bob, ImportRow)
    assert bob.name == 'Bob "The Builder"\nBarnes'
    assert bob.identities == (Identity(PHONE, "+12025550123"),)
    assert bob.attributes is None and bob.value is None and bob.organisation is None
    zoe = rows[10]
    assert isinstance(zoe, ImportRow)
    assert [i.value for i in zoe.identities] == ["zoe@example.com", "zoe@work.example"]
    last = rows[11]
    assert isinstance(last, ImportRow) and last.id is None and last.value == -3.0


def test_bad_rows_are_reported_with_the_line_they_start_on_and_reading_goes_on() -> None:
    results = read_all(SAMPLE)
    errors = [r for r in results if isinstance(r, RowError)]
    # Line 3 holds a quoted line break, so "Bad Phone" is on line 5; line 6 is blank and
    # the record starting on line 7 spans three lines, so the next one starts on line 10.
    assert [(e.line, e.field) for e in errors] == [(5, "phone"), (7, "value")]
    assert "not-a-phone" in errors[0].message
    assert [r.line for r in results if isinstance(r, ImportRow)] == [2, 3, 10, 11]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(SAMPLE)), max_size=12))
def test_any_cutting_into_chunks_reads_the_same_as_one_chunk(cuts: list[int]) -> None:
    assert read_all(SAMPLE, cuts) == read_all(SAMPLE)


def test_one_character_at_a_time_reads_the_same() -> None:
    assert read_all(SAMPLE, list(range(len(SAMPLE)))) == read_all(SAMPLE)


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        ("c1,x,abc,,,,", "value", "not a number"),
        ("c1,x,nan,,,,", "value", "finite"),
        ("c1,x,,zz-top-level-123456789,,,", "language", "language code"),
        ("c1,x,,,not json,,", "attributes", "JSON"),
        ("c1,x,,,[1],,", "attributes", "object"),
        ('c1,x,,,"{""a"": NaN}",,', "attributes", "JSON"),
        ("c1,x,,,,bad@,", "email", "e-mail"),
        ("c1,x,,,,,12", "phone", "phone"),
        ("c1,x,,,,,,extra", None, "cells"),
    ],
)
def test_invalid_values_are_row_errors_naming_the_field(
    cells: str, field: str | None, message: str
) -> None:
    text = "id,name,value,language,attributes,email,phone\n" + cells + "\n"
    [error] = read_all(text)
    assert isinstance(error, RowError)
    assert (error.line, error.field) == (2, field)
    assert message in error.message


def test_every_problem_of_a_row_is_in_its_one_error() -> None:
    [error] = read_all("name,value,email\nx,abc,bad@\n")
    assert isinstance(error, RowError)
    assert error.field == "value" and "email" in error.message


def test_empty_cells_are_not_given_and_missing_trailing_cells_are_empty() -> None:
    [row] = read_all("id,name,class,owner,phone\nc1,  ,,\n")
    assert row == ImportRow(line=2, id="c1")


def test_rows_of_only_empty_cells_are_skipped() -> None:
    assert read_all("id,name\n,\n  ,  \n\n") == []


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,name,fax", "unknown column 'fax'"),
        ("id,name,NAME", "appears twice"),
        ("id,,name", "no name"),
        ("id,attr.", "needs a key"),
    ],
)
def test_a_bad_header_is_fatal_and_stops_reading(header: str, message: str) -> None:
    reader = ContactCsvReader("GB")
    [error] = reader.feed(header + "\nc1,Ann\n")
    assert isinstance(error, RowError) and error.line == 1 and message in error.message
    assert reader.fatal == error
    assert reader.feed("c2,Bob\n") == [] and reader.close() == []


def test_an_empty_file_is_fatal_and_a_header_alone_is_not() -> None:
    reader = ContactCsvReader("GB")
    [error] = reader.feed("") + reader.close()
    assert isinstance(error, RowError) and reader.fatal == error
    assert read_all("id,name\r\n") == []


def test_the_header_is_case_insensitive_and_attribute_keys_keep_their_case() -> None:
    [row] = read_all(" NAME , Class ,ATTR.VipSince\nAnn,vip,2019\n")
    assert row == ImportRow(
        line=2, name="Ann", customer_class="vip", attributes={"VipSince": "2019"}
    )


def test_attribute_columns_win_over_the_json_document_and_null_is_kept_for_removal() -> None:
    [row] = read_all('attributes,attr.a\n"{""a"": 1, ""b"": null, ""c"": [1]}",x\n')
    assert isinstance(row, ImportRow)
    assert row.attributes == {"a": "x", "b": None, "c": [1]}


def test_a_file_ending_inside_a_quoted_field_is_an_error_for_that_record() -> None:
    results = read_all('name\nAnn\n"Bob\nstill open')
    assert results[0] == ImportRow(line=2, name="Ann")
    assert isinstance(results[1], RowError) and results[1].line == 3


def test_text_that_was_not_utf8_fails_only_its_own_line() -> None:
    text = b"name\nAnn\nB\xffb\nCid\n".decode("utf-8", errors="surrogateescape")
    results = read_all(text)
    assert [type(r).__name__ for r in results] == ["ImportRow", "RowError", "ImportRow"]
    assert results[1].line == 3 and "UTF-8" in results[1].message


def test_a_line_without_end_is_fatal_instead_of_filling_memory() -> None:
    reader = ContactCsvReader("GB")
    reader.feed("name\n")
    out: list[ImportRow | RowError] = []
    for _ in range(300):
        out += reader.feed("x" * 10_000)
        if reader.fatal:
            break
    assert reader.fatal is not None and out == [reader.fatal]


# -- writing and round trips -------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+441632960123", "'+441632960123"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),  # so that reading strips exactly one apostrophe
        ("'tis", "'tis"),
        ("a,b", '"a,b"'),
        ('say "hi"', '"say ""hi"""'),
        ("two\nlines", '"two\nlines"'),
        ("=a,b", '"\'=a,b"'),
    ],
)
def test_cells_are_quoted_and_protected_from_spreadsheet_formulas(cell: str, written: str) -> None:
    assert csv_line([cell, "x"]) == written + ",x\r\n"


def test_a_leading_apostrophe_is_stripped_on_reading() -> None:
    [row] = read_all("name,organisation,phone\n'=HYPERLINK(1),'+x,'+44 20 7946 0018\n")
    assert isinstance(row, ImportRow)
    assert (row.name, row.organisation) == ("=HYPERLINK(1)", "+x")
    assert row.identities == (Identity(PHONE, "+442079460018"),)


def test_the_header_line_reads_back_as_the_header() -> None:
    assert next(csv.reader(io.StringIO(csv_line(CSV_HEADER)))) == list(CSV_HEADER)


# Text a spreadsheet cell can hold: no NUL or lone surrogates, no surrounding whitespace
# (the reader trims cells), not empty (an empty cell means "not given").
CELL = (
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1)
    .map(str.strip)
    .filter(bool)
)
PHONES = ["+442079460018", "+12025550123", "+33142685300", "+4930901820", "+61293744000"]
JSON_VALUE = st.recursive(
    st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | CELL,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(CELL, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    identities = {Identity(PHONE, p) for p in draw(st.lists(st.sampled_from(PHONES), max_size=3))}
    for local in draw(st.lists(st.from_regex(r"[a-z0-9.]{1,8}", fullmatch=True), max_size=2)):
        identities.add(Identity(EMAIL, f"{local}@example.com"))
    visitor = draw(st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True))
    if visitor is not None:
        identities.add(Identity(IdentityKind.VISITOR, visitor))
    return Contact(
        id=draw(CELL.filter(lambda s: len(s) <= 200)),
        name=draw(CELL),
        organisation=draw(st.just("") | CELL),
        customer_class=draw(st.sampled_from(["standard", "vip", "=gold"])),
        value=draw(st.none() | st.floats(allow_nan=False, allow_infinity=False)),
        language=draw(st.none() | st.sampled_from(["en", "fr", "pt-BR"])),
        owner=draw(st.none() | CELL),
        attributes=draw(st.dictionaries(CELL, JSON_VALUE, max_size=3)),
        identities=tuple(sorted(identities, key=lambda i: (i.kind.value, i.value))),
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(contacts(), min_size=1, max_size=4))
def test_exported_contacts_import_back_unchanged(exported: list[Contact]) -> None:
    text = csv_line(CSV_HEADER) + "".join(csv_line(contact_csv_row(c)) for c in exported)
    rows = read_all(text)
    assert all(isinstance(r, ImportRow) for r in rows), rows
    for contact, row in zip(exported, rows, strict=True):
        assert isinstance(row, ImportRow)
        assert row.id == contact.id
        assert row.name == contact.name
        assert (row.organisation or "") == contact.organisation
        assert row.customer_class == contact.customer_class
        assert row.value == contact.value
        assert row.language == contact.language
        assert row.owner == contact.owner
        assert (row.attributes or {}) == contact.attributes
        assert set(row.identities) == set(contact.identities)
