"""Contacts as CSV, without I/O: a reader fed text in any chunks, and a line writer.

The reader turns records into :class:`ImportRow` (values checked, identities normalised)
or :class:`RowError` (line and field of the problem), so one bad row never stops an
import. The writer protects cells from spreadsheet formula injection with a leading
apostrophe, which the reader strips again: an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from trunkline.crm.errors import InvalidIdentityError
from trunkline.crm.identity import normalise
from trunkline.crm.model import Contact, Identity, IdentityKind

FIELD_COLUMNS: Final = ("id", "name", "organisation", "class", "value", "language", "owner")
IDENTITY_COLUMNS: Final = ("phone", "email", "account", "visitor")
CSV_HEADER: Final[tuple[str, ...]] = (*FIELD_COLUMNS, *IDENTITY_COLUMNS, "attributes")
ATTR_PREFIX: Final = "attr."
IDENTITY_SEPARATOR: Final = ";"

# A record longer than this is not a contact but a broken file (an unclosed quote, or
# no line breaks at all); stopping there keeps the reader's memory bounded.
MAX_RECORD_CHARS: Final = 1_000_000
MAX_ID_LENGTH: Final = 200
MAX_CLASS_LENGTH: Final = 64

# What a spreadsheet would run as a formula (OWASP "CSV injection"); apostrophes in front
# are counted too, so that a value which itself starts with "'=" survives a round trip.
_FORMULA_RE: Final = re.compile(r"'*[=+\-@\t\r]")
_PROTECTED_RE: Final = re.compile(r"'+[=+\-@\t\r]")
_NEEDS_QUOTES_RE: Final = re.compile(r'[,"\r\n]')
# Lone surrogates are bytes that were not UTF-8 (the importer decodes with
# "surrogateescape"); PostgreSQL stores neither them nor NUL.
_UNSTORABLE_RE: Final = re.compile("[\x00\ud800-\udfff]")
_LANGUAGE_RE: Final = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,4}")
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportRow:
    """One contact record of an import; ``None`` means the column was empty (not given)."""

    line: int  # the physical line the record starts on; the header is line 1
    id: str | None = None
    name: str | None = None
    organisation: str | None = None
    customer_class: str | None = None
    value: float | None = None
    language: str | None = None
    owner: str | None = None
    identities: tuple[Identity, ...] = ()  # normalised, without duplicates
    # A patch: keys set to these values; a key mapped to None is removed.
    attributes: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message, "field": self.field}


# -- writing -----------------------------------------------------------------------------


def csv_line(cells: Iterable[str]) -> str:
    """One CSV record (RFC 4180, CRLF-terminated) whose cells open safely in a spreadsheet."""
    return ",".join(_quote(_protect(cell)) for cell in cells) + "\r\n"


def contact_csv_row(contact: Contact) -> list[str]:
    """The cells of ``contact`` in :data:`CSV_HEADER` order (unprotected: see csv_line)."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in IDENTITY_COLUMNS}
    for ident in sorted(contact.identities, key=lambda i: (i.kind.value, i.value)):
        by_kind[ident.kind.value].append(ident.value)
    attributes = ""
    if contact.attributes:
        attributes = json.dumps(
            dict(contact.attributes), ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )
    return [
        contact.id,
        contact.name,
        contact.organisation,
        contact.customer_class,
        _format_value(contact.value),
        contact.language or "",
        contact.owner or "",
        *(IDENTITY_SEPARATOR.join(by_kind[kind]) for kind in IDENTITY_COLUMNS),
        attributes,
    ]


async def contact_csv_chunks(
    contacts: AsyncIterable[Contact], *, rows_per_chunk: int = 500
) -> AsyncIterator[str]:
    """The export as text: the header line, then the contacts' lines a chunk at a time."""
    yield csv_line(CSV_HEADER)
    lines: list[str] = []
    async for contact in contacts:
        lines.append(csv_line(contact_csv_row(contact)))
        if len(lines) >= rows_per_chunk:
            yield "".join(lines)
            lines.clear()
    if lines:
        yield "".join(lines)


def _protect(cell: str) -> str:
    return "'" + cell if _FORMULA_RE.match(cell) else cell


def _unprotect(cell: str) -> str:
    return cell[1:] if _PROTECTED_RE.match(cell) else cell


def _quote(cell: str) -> str:
    if _NEEDS_QUOTES_RE.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _format_value(value: float | None) -> str:
    if value is None:
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # "1200", not "1200.0", for people reading the sheet
    return repr(value)  # the shortest text that reads back as the same float


# -- reading -----------------------------------------------------------------------------


class _Lines:
    """The complete physical lines not yet parsed, handed to ``csv.reader`` one by one.

    Remembers the lines of the record being parsed, so an unfinished record (a quoted
    field still open at the end of the text so far) can be put back until more arrives.
    """

    def __init__(self) -> None:
        self.pending: deque[str] = deque()
        self.record: list[str] = []
        self.handed = 0  # lines handed out, i.e. the number of the last one
        self.starved = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if not self.pending:
            self.starved = True
            raise StopIteration
        line = self.pending.popleft()
        self.record.append(line)
        self.handed += 1
        return line

    def start_record(self) -> int:
        """Forget the last record's lines; the number of the line the next one starts on."""
        self.record = []
        self.starved = False
        return self.handed + 1

    def put_back(self) -> None:
        self.pending.extendleft(reversed(self.record))
        self.handed -= len(self.record)
        self.record = []

    def pending_chars(self) -> int:
        return sum(len(line) for line in self.pending)


ReadResult = ImportRow | RowError


class ContactCsvReader:
    """Parses contact CSV fed in arbitrary chunks of text: ``feed()``, then ``close()``.

    Both return the records completed so far, in file order. A header problem is fatal:
    it is returned as a :class:`RowError` for line 1, :attr:`fatal` is set and further
    input is ignored.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        self.fatal: RowError | None = None
        self._lines = _Lines()
        self._csv = csv.reader(self._lines)
        self._tail: list[str] = []  # the text after the last line break
        self._tail_chars = 0
        self._started = False
        self._closed = False
        self._columns: tuple[str, ...] | None = None

    @property
    def lines_read(self) -> int:
        """Physical lines parsed so far (those of an unfinished record not included)."""
        return self._lines.handed

    def feed(self, text: str) -> list[ReadResult]:
        if self._closed:
            raise ValueError("the reader is closed")
        if self.fatal is not None or not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        self._split_lines(text)
        return self._parse(final=False)

    def close(self) -> list[ReadResult]:
        """The last records, and a fatal error if the file had no header at all."""
        if self._closed:
            return []
        self._closed = True
        if self.fatal is not None:
            return []
        last = "".join(self._tail)
        self._tail = []
        if last:
            self._lines.pending.append(last)
        out = self._parse(final=True)
        if self._columns is None and self.fatal is None:
            self.fatal = RowError(1, "the file is empty: a header row is required")
            out.append(self.fatal)
        return out

    def _split_lines(self, text: str) -> None:
        if "\n" not in text:
            self._tail.append(text)
            self._tail_chars += len(text)
            return
        head, _, rest = text.rpartition("\n")
        parts = "".join(self._tail) + head
        self._lines.pending.extend(line + "\n" for line in parts.split("\n"))
        self._tail = [rest] if rest else []
        self._tail_chars = len(rest)

    def _parse(self, *, final: bool) -> list[ReadResult]:
        out: list[ReadResult] = []
        while self.fatal is None:
            start = self._lines.start_record()
            try:
                cells = next(self._csv)
            except StopIteration:
                if self._lines.record:  # a record cut short by the end of the text so far
                    self._unfinished(start, final, out)
                break
            except csv.Error as exc:
                out.append(RowError(start, f"malformed CSV: {exc}"))
                continue
            if self._lines.starved:
                self._unfinished(start, final, out)
                break
            out.extend(self._record(start, cells))
        if self.fatal is None and self._tail_chars > MAX_RECORD_CHARS:
            self._fail(self._lines.handed + 1, "a line is longer than the limit", out)
        return out

    def _unfinished(self, start: int, final: bool, out: list[ReadResult]) -> None:
        if final:
            out.append(RowError(start, "the file ends inside a quoted field"))
            return
        self._lines.put_back()
        if self._lines.pending_chars() + self._tail_chars > MAX_RECORD_CHARS:
            self._fail(start, "a quoted field is never closed (the record is too long)", out)

    def _fail(self, line: int, message: str, out: list[ReadResult]) -> None:
        self.fatal = RowError(line, message)
        out.append(self.fatal)
        self._lines.pending.clear()
        self._tail = []

    def _record(self, line: int, cells: list[str]) -> list[ReadResult]:
        if not any(cell.strip() for cell in cells):
            return []  # a blank line, or one of empty cells: spreadsheets leave these
        if any(_UNSTORABLE_RE.search(raw) for raw in self._lines.record):
            error = RowError(line, "the line is not valid UTF-8 text or contains NUL")
            if self._columns is None:
                self._fail(line, error.message, [])
            return [error]
        if self._columns is None:
            return self._header(line, cells)
        return [_parse_row(line, cells, self._columns, self.region)]

    def _header(self, line: int, cells: list[str]) -> list[ReadResult]:
        columns, problem = _header_columns(cells)
        if problem is not None:
            out: list[ReadResult] = []
            self._fail(line, problem, out)
            return out
        self._columns = columns
        return []


def _header_columns(cells: list[str]) -> tuple[tuple[str, ...], str | None]:
    columns: list[str] = []
    for number, cell in enumerate(cells, start=1):
        name = cell.strip()
        lowered = name.lower()
        if lowered.startswith(ATTR_PREFIX):
            key = name[len(ATTR_PREFIX) :].strip()
            if not key:
                return (), f"column {number}: an attr. column needs a key, e.g. attr.tier"
            column = ATTR_PREFIX + key  # attribute keys keep their case
        elif lowered in CSV_HEADER:
            column = lowered
        elif not name:
            return (), f"column {number} has no name"
        else:
            allowed = ", ".join(CSV_HEADER)
            return (), f"unknown column {name!r} (allowed: {allowed}, attr.<key>)"
        if column in columns:
            return (), f"column {name!r} appears twice"
        columns.append(column)
    return tuple(columns), None


def _parse_row(line: int, cells: list[str], columns: tuple[str, ...], region: str) -> ReadResult:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        return RowError(line, f"the line has {len(cells)} cells, the header {len(columns)}")
    given: dict[str, str] = {}
    for column, raw in zip(columns, cells, strict=False):  # missing cells are empty
        cell = _unprotect(raw).strip()
        if cell:
            given[column] = cell
    problems: list[tuple[str, str]] = []
    row = _build_row(line, given, region, problems)
    if problems:
        # Every problem of the row at once, so the file can be fixed in one go.
        field, message = problems[0]
        more = "; ".join(f"{f}: {m}" for f, m in problems[1:])
        return RowError(line, message + (f" (also {more})" if more else ""), field)
    return row


def _build_row(
    line: int, given: dict[str, str], region: str, problems: list[tuple[str, str]]
) -> ImportRow:
    return ImportRow(
        line=line,
        id=_checked(given, "id", _valid_id, "is too long for an id", problems),
        name=given.get("name"),
        organisation=given.get("organisation"),
        customer_class=_checked(given, "class", _valid_class, "is not a class name", problems),
        value=_parse_value(given.get("value"), problems),
        language=_checked(
            given, "language", _valid_language, "is not a language code like en", problems
        ),
        owner=given.get("owner"),
        identities=_parse_identities(given, region, problems),
        attributes=_parse_attributes(given, problems),
    )


def _checked(
    given: dict[str, str],
    column: str,
    valid: Callable[[str], bool],
    message: str,
    problems: list[tuple[str, str]],
) -> str | None:
    text = given.get(column)
    if text is None or valid(text):
        return text
    problems.append((column, f"{_excerpt(text)} {message}"))
    return None


def _valid_id(text: str) -> bool:
    return len(text) <= MAX_ID_LENGTH


def _valid_class(text: str) -> bool:
    return len(text) <= MAX_CLASS_LENGTH and not _CONTROL_RE.search(text)


def _valid_language(text: str) -> bool:
    return _LANGUAGE_RE.fullmatch(text) is not None


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _parse_value(text: str | None, problems: list[tuple[str, str]]) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(("value", f"{_excerpt(text)} is not a number"))
        return None
    if not math.isfinite(value):
        problems.append(("value", f"{_excerpt(text)} is not a finite number"))
        return None
    return value


def _parse_identities(
    given: dict[str, str], region: str, problems: list[tuple[str, str]]
) -> tuple[Identity, ...]:
    found: dict[Identity, None] = {}  # ordered and without duplicates
    for column in IDENTITY_COLUMNS:
        cell = given.get(column)
        if cell is None:
            continue
        for part in cell.split(IDENTITY_SEPARATOR):
            raw = part.strip()
            if not raw:
                continue
            try:
                found[normalise(IdentityKind(column), raw, region=region)] = None
            except InvalidIdentityError as exc:
                problems.append((column, exc.message))
    return tuple(found)


def _parse_attributes(
    given: dict[str, str], problems: list[tuple[str, str]]
) -> Mapping[str, Any] | None:
    attributes: dict[str, Any] = {}
    document = given.get("attributes")
    if document is not None:
        try:
            parsed = json.loads(document, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            problems.append(("attributes", f"not valid JSON: {exc}"))
            return None
        if not isinstance(parsed, dict):
            problems.append(("attributes", 'must be a JSON object, e.g. {"tier": "gold"}'))
        elif not _storable(parsed):
            problems.append(("attributes", "contains a NUL character or a lone surrogate"))
        else:
            attributes.update(parsed)
    for column, cell in given.items():
        if column.startswith(ATTR_PREFIX):
            attributes[column[len(ATTR_PREFIX) :]] = cell  # the more specific column wins
    return attributes or None


def _storable(value: Any) -> bool:
    """Whether the JSON holds no text that PostgreSQL refuses (NUL, lone surrogates).

    Only reached for documents json.loads could nest, so the recursion is bounded.
    """
    if isinstance(value, str):
        return _UNSTORABLE_RE.search(value) is None
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
