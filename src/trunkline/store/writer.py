"""Group commit of events: one background task writes everything pending in one transaction."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from trunkline.domain.events import Event, event_to_dict
from trunkline.store import snapshot
from trunkline.store.errors import StoreError
from trunkline.store.schema import event

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 5000

# A JSON-escaped NUL: "\u0000" not itself preceded by an escaped backslash.
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(slots=True)
class _Submission:
    events: tuple[Event, ...]
    rows: list[dict[str, Any]]
    future: asyncio.Future[None]


class EventWriter:
    """Writes submitted events and their snapshot changes, many submissions per commit.

    While one commit is in flight, new submissions queue up and all go into the next one.
    ``max_batch`` caps the events per transaction but never splits a submission, so each
    submission commits whole or not at all.
    """

    def __init__(self, engine: AsyncEngine, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._engine = engine
        self._max_batch = max_batch
        self._pending: deque[_Submission] = deque()
        self._in_flight: list[_Submission] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def submit(self, events: Sequence[Event]) -> asyncio.Future[None]:
        """Queue ``events``; the future resolves once they are committed (or fails)."""
        if self._closed:
            raise StoreError("the event writer is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        batch = tuple(events)
        if not batch:
            future.set_result(None)
            return future
        # Encode now, so one unstorable event fails its own caller, not a shared commit.
        rows = [_event_row(ev) for ev in batch]
        # The failure is logged once per batch; nobody has to await the future to see it.
        future.add_done_callback(_mark_retrieved)
        self._pending.append(_Submission(batch, rows, future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="trunkline-event-writer")
        self._wakeup.set()
        return future

    async def flush(self) -> None:
        """Wait until everything submitted so far is committed or has failed.

        Raises :class:`StoreError` if any of it failed to commit.
        """
        futures = [s.future for s in (*self._in_flight, *self._pending)]
        if not futures:
            return
        await asyncio.wait(futures)
        failed = sum(1 for f in futures if not f.cancelled() and f.exception() is not None)
        if failed:
            raise StoreError(f"{failed} of {len(futures)} event submissions failed to commit")

    async def close(self) -> None:
        """Write what is pending, then stop; later submissions raise :class:`StoreError`."""
        self._closed = True
        self._wakeup.set()
        if self._task is not None:
            # asyncio.wait rather than await: a task cancelled earlier must not cancel us.
            await asyncio.wait({self._task})

    async def _run(self) -> None:
        try:
            while True:
                if not self._pending:
                    if self._closed:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                batch = self._take()
                self._in_flight = batch
                try:
                    await self._write(batch)
                except Exception as exc:
                    logger.exception("event batch of %d submissions failed to commit", len(batch))
                    for sub in batch:
                        if not sub.future.done():
                            error = StoreError(f"the event batch failed to commit: {exc}")
                            error.__cause__ = exc
                            sub.future.set_exception(error)
                else:
                    for sub in batch:
                        if not sub.future.done():
                            sub.future.set_result(None)
                finally:
                    self._in_flight = []
        except asyncio.CancelledError:
            for sub in (*self._in_flight, *self._pending):
                sub.future.cancel()
            raise

    def _take(self) -> list[_Submission]:
        first = self._pending.popleft()
        batch = [first]
        size = len(first.events)
        while self._pending and size + len(self._pending[0].events) <= self._max_batch:
            sub = self._pending.popleft()
            batch.append(sub)
            size += len(sub.events)
        return batch

    async def _write(self, batch: list[_Submission]) -> None:
        rows = [row for sub in batch for row in sub.rows]
        events = [ev for sub in batch for ev in sub.events]
        async with self._engine.begin() as conn:
            # The fold needs each row's id (a snapshot's ``seq``), in row order.
            if conn.dialect.name == "sqlite":
                # SQLite cannot return a multi-row insert's ids in parameter order, so
                # SQLAlchemy would insert row by row (23x slower, measured). This writer is
                # the event table's only writer and holds the write lock for the whole
                # transaction, and an INTEGER PRIMARY KEY takes max + 1: the batch's ids
                # are contiguous and end at the new maximum.
                await conn.execute(insert(event), rows)
                last = (await conn.execute(select(func.max(event.c.id)))).scalar_one()
                ids = list(range(last - len(rows) + 1, last + 1))
            else:
                result = await conn.execute(
                    insert(event).returning(event.c.id, sort_by_parameter_order=True), rows
                )
                ids = list(result.scalars())
            await snapshot.apply(conn, snapshot.fold(zip(ids, events, strict=True)))
        logger.debug("committed %d events from %d submissions", len(rows), len(batch))


# One encoder for every event: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _event_row(ev: Event) -> dict[str, Any]:
    try:
        payload = _ENCODER.encode(event_to_dict(ev))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{ev.kind} event cannot be stored as JSON: {exc}") from exc
    if "\\u0000" in payload and _JSON_NUL.search(payload):
        # PostgreSQL text and JSONB reject NUL; refusing here keeps both databases alike.
        raise StoreError(f"{ev.kind} event contains a NUL character")
    return {
        "at": ev.at,
        "type": ev.kind,
        "interaction_id": getattr(ev, "interaction_id", None),
        "agent_id": getattr(ev, "agent_id", None),
        "queue": getattr(ev, "queue", None),
        "payload": payload,
    }


def _mark_retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
