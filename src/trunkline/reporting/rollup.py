"""Incremental 15-minute interval rollups: the event record folded into ``rollup_*`` rows.

:class:`Rollup` is the pure core: it folds pages of events with one long-lived
:class:`~trunkline.reporting.fold.Fold` and says which rows each page changed, with their
absolute counters. :class:`RollupWorker` is the thin async adapter: it tails the ``event``
table by id and writes each page's rows and the new checkpoint in one transaction, so a
crash never writes a page twice or half. :func:`rebuild` refolds the whole record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from trunkline.domain.events import Event, event_from_dict
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import Medium
from trunkline.reporting import rollup_sql
from trunkline.reporting.definitions import ReportingSettings, interval_start
from trunkline.reporting.fold import AgentCounters, AgentKey, Fold, QueueCounters, QueueKey
from trunkline.store.errors import StoreError
from trunkline.store.event_store import OPEN_STATES, EventStore
from trunkline.store.event_window import first_event_id_since
from trunkline.store.schema import event, interaction

__all__ = [
    "CHECKPOINT",
    "CONTEXT_S",
    "KEEP_S",
    "PageChanges",
    "RebuildResult",
    "Rollup",
    "RollupWorker",
    "rebuild",
]

log = logging.getLogger(__name__)

CHECKPOINT = "intervals"  # the rollup_checkpoint row of this worker
PAGE_SIZE = 2000
POLL_S = 1.0
# On start the fold is primed from this long before the checkpoint's interval, so the
# rows it rewrites are complete and open interactions and agents have their context.
CONTEXT_S = 24 * 3600
# Rows this far behind the newest event are dropped from memory once written.
KEEP_S = 2 * 24 * 3600
_ANSWERED_STATES = (InteractionState.ASSIGNED, InteractionState.WRAP_UP)

Record = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class PageChanges:
    """The rows one page changed; ``stale_*`` are those the fold does not hold whole
    (before its floor): their stored rows must be added in before they are written."""

    queues: list[QueueKey]
    agents: list[AgentKey]
    stale_queues: list[QueueKey] = field(default_factory=list)
    stale_agents: list[AgentKey] = field(default_factory=list)


class Rollup:
    """Folds the event record page by page and hands back the rows each page changed.

    Rows of intervals at or after the *floor* are complete in the fold; older ones were
    dropped (written earlier, or never read when primed), so a page that reaches back
    before the floor (an agent's state span that began long ago) marks them stale.
    """

    def __init__(self, settings: ReportingSettings, *, keep_s: int = KEEP_S) -> None:
        self.fold = Fold(settings)
        self._keep_s = keep_s
        self._floor: int | None = None  # None: the fold saw the record from its start
        self._loaded_queues: set[QueueKey] = set()
        self._loaded_agents: set[AgentKey] = set()
        self._latest: float | None = None

    @property
    def floor(self) -> int | None:
        return self._floor

    def prime(self, events: Iterable[Event]) -> None:
        """Fold events whose rows are already stored: context only, nothing to write."""
        for e in events:
            self._see(e)
        self.fold.take_changed()

    def set_floor(self, interval: int) -> None:
        """Drop rows before ``interval``; from now on they are stale when touched."""
        self.fold.forget_before(interval)
        self._floor = interval
        self._loaded_queues.clear()
        self._loaded_agents.clear()

    def apply(self, events: Iterable[Event]) -> PageChanges:
        """Fold one page; the rows it changed, and which of those are stale."""
        for e in events:
            self._see(e)
        queues, agents = self.fold.take_changed()
        floor = self._floor
        if floor is None:
            return PageChanges(queues, agents)
        return PageChanges(
            queues,
            agents,
            [k for k in queues if k.interval < floor and k not in self._loaded_queues],
            [k for k in agents if k.interval < floor and k not in self._loaded_agents],
        )

    def load(
        self,
        changes: PageChanges,
        queues: Mapping[QueueKey, QueueCounters],
        agents: Mapping[AgentKey, AgentCounters],
    ) -> None:
        """Add the stored rows of ``changes``' stale keys: the fold's rows become whole."""
        self.fold.add_rows(queues, agents)
        self._loaded_queues.update(changes.stale_queues)
        self._loaded_agents.update(changes.stale_agents)

    def rows(
        self, changes: PageChanges
    ) -> tuple[dict[QueueKey, QueueCounters], dict[AgentKey, AgentCounters]]:
        """The absolute counters of every changed row (copies)."""
        return (
            {k: self.fold.queue_row(k) for k in changes.queues},
            {k: self.fold.agent_row(k) for k in changes.agents},
        )

    def trim(self) -> None:
        """Drop rows ``keep_s`` behind the newest event (call once they are written)."""
        if self._latest is None:
            return
        bound = interval_start(self._latest, self.fold.settings.interval_s) - self._keep_s
        if self._floor is None or bound > self._floor:
            self.set_floor(bound)

    def _see(self, e: Event) -> None:
        self.fold.apply(e)
        if self._latest is None or e.at > self._latest:
            self._latest = e.at


def decode(records: Iterable[Record]) -> list[Event]:
    """Events from stored records; kinds this version does not know are skipped."""
    out: list[Event] = []
    for record in records:
        try:
            out.append(event_from_dict(record))
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("event %s skipped by the rollup: %r", record.get("id"), exc)
    return out


class RollupWorker:
    """Tails the ``event`` table and keeps the rollup tables up to date.

    :meth:`start` primes the fold from the checkpoint; :meth:`catch_up` writes pages until
    the record is exhausted; :meth:`run` does both forever, every ``poll_s`` or sooner when
    :meth:`wake` is called (a bus listener).
    """

    def __init__(
        self,
        store: EventStore,
        settings: ReportingSettings,
        *,
        page_size: int = PAGE_SIZE,
        poll_s: float = POLL_S,
        keep_s: int = KEEP_S,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._store = store
        self._settings = settings
        self._page_size = page_size
        self._poll_s = poll_s
        self._keep_s = keep_s
        self._rollup = Rollup(settings, keep_s=keep_s)
        self._checkpoint = 0
        self._started = False
        self._wakeup = asyncio.Event()

    @property
    def checkpoint(self) -> int:
        """The id of the last event written to the rollups."""
        return self._checkpoint

    def wake(self, _event: Event | None = None) -> None:
        """Catch up now rather than at the next poll (safe to call from a bus listener)."""
        self._wakeup.set()

    async def start(self) -> None:
        """Read the checkpoint and prime the fold from the record before it."""
        if self._started:
            return
        try:
            async with self._store.engine.connect() as conn:
                self._checkpoint = await rollup_sql.read_checkpoint(conn, CHECKPOINT)
                at = None
                if self._checkpoint:
                    query = select(event.c.at).where(event.c.id == self._checkpoint)
                    at = (await conn.execute(query)).scalar()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"rollup checkpoint query failed: {exc}") from exc
        if at is not None:
            await self._prime(float(at))
        self._started = True
        log.info("interval rollups start after event %d", self._checkpoint)

    async def _prime(self, checkpoint_at: float) -> None:
        since = interval_start(checkpoint_at, self._settings.interval_s) - CONTEXT_S
        first = await first_event_id_since(self._store, since)
        since_id = self._checkpoint if first is None else first - 1
        primed = 0
        while since_id < self._checkpoint:
            page = await self._store.events(since_id=since_id, limit=self._page_size)
            records = [r for r in page if int(r["id"]) <= self._checkpoint]
            self._rollup.prime(decode(records))
            primed += len(records)
            if not page or len(records) < len(page):
                break
            since_id = int(page[-1]["id"])
        seeded = await self._seed_open(since, checkpoint_at)
        self._rollup.set_floor(since)
        log.info("rollup fold primed with %d events and %d older open interactions", primed, seeded)

    async def _seed_open(self, since: float, checkpoint_at: float) -> int:
        """Remember interactions opened before the primed window and open at the
        checkpoint, from the snapshot table (e-mails can stay open for days)."""
        t = interaction.c
        query = select(t.id, t.medium, t.queue, t.state, t.updated_at).where(
            t.created_at < since,
            t.state.in_([s.value for s in OPEN_STATES]) | (t.updated_at >= checkpoint_at),
        )
        try:
            async with self._store.engine.connect() as conn:
                rows = (await conn.execute(query)).all()
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"rollup snapshot query failed: {exc}") from exc
        seeded = 0
        for row in rows:
            # The snapshot is as of now; its state says how things stood at the
            # checkpoint only if nothing changed since.
            unchanged = row.updated_at <= checkpoint_at
            answered = unchanged and InteractionState(row.state) in _ANSWERED_STATES
            seeded += self._rollup.fold.remember_open(
                row.id, medium=Medium(row.medium), queue=row.queue, answered=answered
            )
        return seeded

    async def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Write pages until no event is left; returns how many events were folded.

        ``progress`` is called after each page with the events written so far.
        """
        await self.start()
        done = 0
        while True:
            page = await self._store.events(since_id=self._checkpoint, limit=self._page_size)
            if not page:
                return done
            await self._write(page)
            done += len(page)
            if progress is not None:
                progress(done)
            if len(page) < self._page_size:
                return done

    async def _write(self, page: list[dict[str, object]]) -> None:
        last = int(str(page[-1]["id"]))
        changes = self._rollup.apply(decode(page))
        try:
            async with self._store.engine.begin() as conn:
                if changes.stale_queues or changes.stale_agents:
                    queues = await rollup_sql.read_queue_rows(conn, changes.stale_queues)
                    agents = await rollup_sql.read_agent_rows(conn, changes.stale_agents)
                    self._rollup.load(changes, queues, agents)
                queue_rows, agent_rows = self._rollup.rows(changes)
                await rollup_sql.write_rows(
                    conn, queue_rows, agent_rows, checkpoint=(CHECKPOINT, last)
                )
        except (SQLAlchemyError, OSError) as exc:
            # The fold has moved on while the tables have not: start over from them.
            self._reset()
            raise StoreError(f"rollup write failed: {exc}") from exc
        except BaseException:
            self._reset()
            raise
        self._checkpoint = last
        self._rollup.trim()

    def _reset(self) -> None:
        self._rollup = Rollup(self._settings, keep_s=self._keep_s)
        self._started = False

    async def run(self) -> None:
        """Catch up, then wait for a wake-up or the poll interval; until cancelled."""
        while True:
            try:
                await self.catch_up()
            except StoreError as exc:
                log.warning("interval rollups behind: %s", exc)
            except Exception:  # a bug must not end the rollups for good: retry next poll
                log.exception("interval rollups failed")
                self._reset()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_s)
            self._wakeup.clear()


@dataclass(frozen=True, slots=True)
class RebuildResult:
    events: int
    queue_rows: int
    agent_rows: int


async def rebuild(
    store: EventStore,
    settings: ReportingSettings,
    *,
    page_size: int = PAGE_SIZE,
    progress: Callable[[int, int], None] | None = None,
) -> RebuildResult:
    """Clear the rollup tables and fold every recorded event again, page by page.

    ``progress(done, total)`` is called after each page. Run it while no server writes
    rollups to the same database (its worker would rewrite rows from its own fold).
    """
    try:
        async with store.engine.begin() as conn:
            await rollup_sql.clear_rollups(conn)
        async with store.engine.connect() as conn:
            total = int((await conn.execute(select(func.count()).select_from(event))).scalar() or 0)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"rollup rebuild failed: {exc}") from exc
    worker = RollupWorker(store, settings, page_size=page_size)
    report = None if progress is None else (lambda done: progress(done, total))
    if progress is not None:
        progress(0, total)
    done = await worker.catch_up(report)
    try:
        async with store.engine.connect() as conn:
            queues, agents = await rollup_sql.count_rows(conn)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"rollup rebuild failed: {exc}") from exc
    return RebuildResult(events=done, queue_rows=queues, agent_rows=agents)
