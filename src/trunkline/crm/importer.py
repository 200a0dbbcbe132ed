"""Streaming contact import: bytes in any chunks, written in batches, progress reported.

Memory stays bounded whatever the file size: input is decoded and parsed a slice at a
time, at most one batch of rows waits to be written, and only the first errors (by line)
are kept for the report.
"""

from __future__ import annotations

import codecs
import heapq
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from trunkline.crm.contacts import ContactStore
from trunkline.crm.csv_io import ContactCsvReader, ImportRow, RowError
from trunkline.domain.errors import TrunklineError

# Input is parsed this many bytes at a time, so one huge chunk from the caller never
# turns into more than a slice's worth of parsed rows at once.
SLICE_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class ImportProgress:
    lines_read: int  # physical lines of the file parsed so far, header included
    imported: int  # rows that created or updated a contact
    failed: int  # rows refused
    bytes_read: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "imported": self.imported,
            "failed": self.failed,
            "bytes_read": self.bytes_read,
        }


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int  # data rows handled: created + updated + failed
    created: int  # contacts created
    updated: int  # rows that updated an existing contact
    failed: int
    errors: list[RowError]  # the first ones by line, at most max_errors_kept
    errors_total: int
    fatal: str | None = None  # why the import stopped early (rows before it are kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "failed": self.failed,
            "errors": [e.as_dict() for e in self.errors],
            "errors_total": self.errors_total,
            "fatal": self.fatal,
        }


ProgressCallback = Callable[[ImportProgress], Awaitable[None]]


async def import_csv(
    chunks: AsyncIterable[bytes],
    store: ContactStore,
    *,
    region: str,
    now: Callable[[], float],
    batch_size: int = 1000,
    on_progress: ProgressCallback | None = None,
    max_errors_kept: int = 1000,
) -> ImportReport:
    """Import contact CSV (UTF-8, see csv_io for the columns) from ``chunks``.

    Each batch is one transaction, so a failure part-way keeps the batches before it;
    the report's ``fatal`` then says where and why. ``on_progress`` is awaited after
    every batch written.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    run = _ImportRun(store, region, now, batch_size, on_progress, max_errors_kept)
    await run.consume(chunks)
    return run.report()


class _KeptErrors:
    """The ``keep`` errors with the lowest line numbers, and how many there were."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        # A max-heap by line (negated), so the highest line is the one to drop.
        self._heap: list[tuple[int, int, RowError]] = []
        self.total = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        if self._keep <= 0:
            return
        item = (-error.line, -self.total, error)  # on a tie, the earlier error stays
        if len(self._heap) < self._keep:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def in_line_order(self) -> list[RowError]:
        return [error for _, _, error in sorted(self._heap, key=lambda i: (-i[0], -i[1]))]


class _ImportRun:
    def __init__(
        self,
        store: ContactStore,
        region: str,
        now: Callable[[], float],
        batch_size: int,
        on_progress: ProgressCallback | None,
        max_errors_kept: int,
    ) -> None:
        self._store = store
        self._now = now
        self._batch_size = batch_size
        self._on_progress = on_progress
        self._reader = ContactCsvReader(region)
        # Bytes that are not UTF-8 become lone surrogates, which the reader reports as an
        # error of the line they are on: one bad byte does not end the import.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
        self._batch: list[ImportRow] = []
        self._errors = _KeptErrors(max_errors_kept)
        self._created = 0
        self._updated = 0
        self._failed = 0
        self._bytes = 0
        self._fatal: str | None = None

    async def consume(self, chunks: AsyncIterable[bytes]) -> None:
        async for chunk in chunks:
            self._bytes += len(chunk)
            view = memoryview(chunk)
            for start in range(0, len(view), SLICE_BYTES):
                text = self._decoder.decode(view[start : start + SLICE_BYTES])
                await self._take(self._reader.feed(text))
                if self._fatal is not None:
                    return
        await self._take(self._reader.feed(self._decoder.decode(b"", final=True)))
        await self._take(self._reader.close())
        await self._flush()

    def report(self) -> ImportReport:
        return ImportReport(
            rows=self._created + self._updated + self._failed,
            created=self._created,
            updated=self._updated,
            failed=self._failed,
            errors=self._errors.in_line_order(),
            errors_total=self._errors.total,
            fatal=self._fatal,
        )

    async def _take(self, items: Iterable[ImportRow | RowError]) -> None:
        for item in items:
            if isinstance(item, ImportRow):
                self._batch.append(item)
                if len(self._batch) >= self._batch_size:
                    await self._flush()
            elif item is self._reader.fatal:
                await self._flush()  # the rows before the problem are good
                self._stop(f"line {item.line}: {item.message}")
            else:
                self._refused(item)
            if self._fatal is not None:
                return

    async def _flush(self) -> None:
        if not self._batch or self._fatal is not None:
            return
        batch, self._batch = self._batch, []
        try:
            outcome = await self._store.import_batch(batch, now=self._now())
        except TrunklineError as exc:
            # The database went away or refused the batch: report how far it got.
            self._stop(f"lines {batch[0].line}-{batch[-1].line} not imported: {exc.message}")
            return
        self._created += outcome.created
        self._updated += outcome.updated
        for error in outcome.errors:
            self._refused(error)
        if self._on_progress is not None:
            await self._on_progress(
                ImportProgress(
                    lines_read=self._reader.lines_read,
                    imported=self._created + self._updated,
                    failed=self._failed,
                    bytes_read=self._bytes,
                )
            )

    def _refused(self, error: RowError) -> None:
        self._failed += 1
        self._errors.add(error)

    def _stop(self, reason: str) -> None:
        if self._fatal is None:
            self._fatal = reason
