"""ReportingService: the running centre's live statistics, kept from the event bus.

At start it rebuilds today's figures from the event record; then it folds every published
event, rolls the day at the centre's local midnight and hands out snapshots, computed at
most once per clock second while nothing changes, to the REST API and the wallboard feed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trunkline.config.loader import Config
from trunkline.domain.agent import AgentState
from trunkline.domain.events import AgentStateChanged, Event, event_from_dict, event_to_dict
from trunkline.reporting.definitions import local_date, local_day_bounds, settings_from_config
from trunkline.reporting.live import LiveStats
from trunkline.service.routing import RoutingService
from trunkline.store.errors import StoreError
from trunkline.store.event_window import first_event_id_since

__all__ = ["CONTEXT_S", "REPLAY_PAGE", "RESTART_REASON", "ReportingService"]

log = logging.getLogger(__name__)

REPLAY_PAGE = 1000  # events read per query while rebuilding: memory stays bounded
# The rebuild starts this long before today's midnight, so that interactions and agents
# open at midnight are known (their medium, queue, wait start, state and reason).
CONTEXT_S = 24 * 3600.0
# The reason recorded in the live figures for agents whose session ended with the last run.
RESTART_REASON = "restart"
# The midnight timer runs on the loop's monotonic clock; re-reading the wall clock at least
# hourly keeps the roll on time when the two drift apart (NTP steps, a suspended host).
_MAX_TIMER_S = 3600.0

Snapshot = dict[str, Any]
Record = Mapping[str, Any]


class ReportingService:
    """Live statistics of the centre that ``service`` routes; runs on the event loop thread.

    Snapshots are shared between callers (one per clock second and change): read-only.
    """

    def __init__(self, service: RoutingService, *, page_size: int = REPLAY_PAGE) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._service = service
        self._config = service.config
        self._page_size = page_size
        self._live = LiveStats.from_config(service.config, now=service.clock())
        self._version = 0
        self._cached: tuple[tuple[int, int], Snapshot] | None = None
        self._watchers: list[Callable[[], None]] = []
        self._buffer: list[Event] | None = None  # events published while rebuilding
        self._listening = False
        self._running = False
        self._midnight: asyncio.TimerHandle | None = None

    @property
    def live(self) -> LiveStats:
        return self._live

    @property
    def version(self) -> int:
        """Counts changes a snapshot could show: events folded, day rolls, reloads."""
        return self._version

    def watch(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every change; it runs inside event publication, so it
        must be quick and must not raise (the wallboard feed only marks itself dirty)."""
        self._watchers.append(callback)

    # -- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild today's figures from the record, then follow the bus.

        Call it after the routing service has started, so the interactions that service
        recovered are part of the rebuild.
        """
        if self._running:
            return
        if not self._listening:
            # Registered before the rebuild reads anything: events published meanwhile are
            # buffered, never missed. The bus cannot drop a listener; stop() silences it.
            self._service.bus.add_listener(self._on_event)
            self._listening = True
        buffer: list[Event] = []
        self._buffer = buffer
        try:
            live, tail = await self._rebuild(buffer)
        except BaseException:
            self._buffer = None
            raise
        # No await from here on: the buffered events are folded and live folding begins in
        # one step, so no event falls between the two or is counted twice.
        for event in buffer[_overlap(tail, buffer) :]:
            live.observe(event)
        now = self._service.clock()
        live.roll(now)
        _end_stale_sessions(live, self._service, now)
        self._live = live
        self._config = self._service.config
        self._buffer = None
        self._running = True
        self._arm_midnight()
        self._changed()

    async def stop(self) -> None:
        """Stop following the bus and cancel the midnight timer."""
        self._running = False
        if self._midnight is not None:
            self._midnight.cancel()
            self._midnight = None

    async def _rebuild(self, buffer: Sequence[Event]) -> tuple[LiveStats, list[Record]]:
        """Fold the recorded events of yesterday and today into a fresh LiveStats.

        Returns it with the last records read that may also be in ``buffer``: the record
        numbers events in publication order, so those can only be a suffix of what was
        read, never longer than the buffer.
        """
        service = self._service
        settings = settings_from_config(service.config)
        zone = settings.zone
        midnight, _ = local_day_bounds(local_date(service.clock(), zone), zone)
        since = midnight - CONTEXT_S
        # Built as of ``since``: the midnight roll then drops yesterday's counters and keeps
        # what the fold remembers of the interactions and agents still open.
        live = LiveStats.from_config(service.config, now=since, settings=settings)
        try:
            await service.store.flush()  # everything published before the listener, recorded
        except StoreError as exc:
            log.warning("rebuilding live statistics without events that were not recorded: %s", exc)
        first = await first_event_id_since(service.store, since)
        tail: list[Record] = []
        replayed = 0
        if first is not None:
            since_id = first - 1
            while True:
                page = await service.store.events(since_id=since_id, limit=self._page_size)
                for record in page:
                    event = _event(record)
                    if event is not None:
                        live.observe(event)
                replayed += len(page)
                tail.extend(page)
                del tail[: max(0, len(tail) - len(buffer))]
                if len(page) < self._page_size:
                    break
                since_id = int(page[-1]["id"])
        log.info("live statistics rebuilt from %d recorded events", replayed)
        return live, tail

    # -- input -----------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._buffer is not None:
            self._buffer.append(event)
        elif self._running:
            self._live.observe(event)
            self._changed()

    def _changed(self) -> None:
        self._version += 1
        for callback in self._watchers:
            callback()

    def reload(self, config: Config) -> None:
        """Take a reloaded configuration's queue names and agent memberships."""
        self._config = config
        self._live.apply_config(config)
        self._changed()

    def _arm_midnight(self) -> None:
        loop = asyncio.get_running_loop()
        _, day_end = self._live.day
        delay = min(max(0.0, day_end - self._service.clock()), _MAX_TIMER_S)
        self._midnight = loop.call_at(loop.time() + delay, self._on_timer)

    def _on_timer(self) -> None:
        self._midnight = None
        if not self._running:
            return
        if self._live.roll(self._service.clock()):
            log.info("live statistics: a new day began")
            self._changed()
        self._arm_midnight()

    # -- output ----------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The wallboard snapshot now (:meth:`LiveStats.snapshot`), shared while neither
        the clock second nor anything it shows has changed."""
        if self._service.config is not self._config:
            # A reload applied by another path (the admin API with a caller's loader).
            self.reload(self._service.config)
        now = self._service.clock()
        key = (math.floor(now), self._version)
        if self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        snapshot = self._live.snapshot(now)
        self._cached = (key, snapshot)
        return snapshot


def _event(record: Record) -> Event | None:
    try:
        return event_from_dict(record)
    except (KeyError, TypeError, ValueError) as exc:
        # A kind this version does not know (written by a newer one) is not ours to count.
        log.warning("event %s skipped in the rebuild: %r", record.get("id"), exc)
        return None


def _overlap(tail: Sequence[Record], buffer: Sequence[Event]) -> int:
    """How many buffered events the rebuild already read: the largest k for which the last
    k records read are the first k buffered events."""
    limit = min(len(tail), len(buffer))
    if limit == 0:
        return 0
    # Compared in their recorded JSON form, exactly as the writer stored them.
    wanted = [json.loads(json.dumps(event_to_dict(e))) for e in buffer[:limit]]
    stored = [{k: v for k, v in r.items() if k != "id"} for r in tail[len(tail) - limit :]]
    for k in range(limit, 0, -1):
        if stored[limit - k :] == wanted[:k]:
            return k
    return 0


def _end_stale_sessions(live: LiveStats, service: RoutingService, now: float) -> None:
    """Log out, in the live figures only, agents whose session ended with an earlier run.

    The router starts with every agent logged out and records no event for it, so the
    replay would otherwise show yesterday's states as current. ``old_since`` stays 0 (an
    unknown start): the fold adds no time for the cut-off state, as a rebuild of the
    interval rollups would not either.
    """
    for agent_id, state in live.agent_states().items():
        if state is AgentState.LOGGED_OUT:
            continue
        try:
            current = service.agent(agent_id).state
        except LookupError:
            current = AgentState.LOGGED_OUT
        if current is AgentState.LOGGED_OUT:
            live.observe(
                AgentStateChanged(
                    at=now,
                    agent_id=agent_id,
                    old=state,
                    new=AgentState.LOGGED_OUT,
                    reason=RESTART_REASON,
                )
            )
