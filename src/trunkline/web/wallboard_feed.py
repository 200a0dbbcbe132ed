"""The wallboard fan-out: one shared snapshot per tick for every socket, bursts coalesced.

Events mark the feed dirty; its one task publishes a snapshot at most once per interval to
every subscriber's one-tick mailbox without ever waiting on a socket, so a stalled socket
cannot hold up the others (and is cut off once stuck for too many ticks). The delta
between two ticks is computed and encoded once, and every socket whose board showed the
same tick sends the same text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.reporting.throttle import Throttle
from trunkline.web import wallboard_protocol

__all__ = ["BACKLOG", "TICK_S", "Tick", "WallboardFeed", "WallboardSubscriber"]

log = logging.getLogger(__name__)

TICK_S = 1.0  # the fastest a wallboard changes: at most one delta per second per socket
# Ticks that may pass while one send is stuck before the socket is cut off: about 10 s.
BACKLOG = 10

SnapshotSource = Callable[[], Mapping[str, Any]]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True, eq=False)
class Tick:
    """One published snapshot, numbered so deltas between two ticks can be shared."""

    serial: int
    snapshot: Mapping[str, Any]


class WallboardSubscriber:
    """One socket's mailbox: the newest tick not yet taken, and ``shown``, the tick its
    board displays.

    Older ticks are superseded, never queued: a delta from ``shown`` to the newest tick
    carries them all. A tick offered while the socket is inside a send counts as missed;
    more than ``backlog`` missed ticks in one send mean the socket is stuck, and it is cut
    off (``on_overflow``).
    """

    def __init__(
        self, first: Tick, *, backlog: int, on_overflow: Callable[[], None] | None = None
    ) -> None:
        self.shown = first
        self._backlog = backlog
        self._on_overflow = on_overflow
        self._newest: Tick | None = None
        self._arrived = asyncio.Event()
        self._sending = False
        self.missed = 0  # ticks offered during the send in progress
        self.overflowed = False

    def offer(self, tick: Tick) -> None:
        """Leave ``tick`` for the socket without waiting on it."""
        if self.overflowed:
            return
        self._newest = tick
        self._arrived.set()
        if not self._sending:
            return
        self.missed += 1
        if self.missed > self._backlog:
            # One send has not returned for a whole backlog of ticks: the client stopped
            # reading. Let it reconnect for a fresh snapshot instead of waiting on it.
            self.overflowed = True
            self._newest = None
            log.warning("wallboard subscriber fell behind; closing it")
            if self._on_overflow is not None:
                self._on_overflow()

    async def next(self) -> Tick:
        """Wait for a tick newer than the last one taken, and take it."""
        while self._newest is None:
            self._arrived.clear()
            await self._arrived.wait()
        return self.newest(self._newest)

    def newest(self, tick: Tick) -> Tick:
        """Take the newest tick left since ``tick`` was taken, or keep ``tick``."""
        if self._newest is not None:
            tick, self._newest = self._newest, None
        self._arrived.clear()
        return tick

    def begin_send(self) -> None:
        self._sending = True

    def end_send(self) -> None:
        self._sending = False
        self.missed = 0


class WallboardFeed:
    """Publishes ``source()`` to subscribers at most once per ``interval_s``, when dirty.

    ``source`` should share one snapshot while nothing changes (the reporting service
    does); ``clock`` is monotonic seconds, for the throttle.
    """

    def __init__(
        self,
        source: SnapshotSource,
        *,
        interval_s: float = TICK_S,
        backlog: int = BACKLOG,
        clock: Clock = time.monotonic,
    ) -> None:
        if backlog < 1:
            raise ValueError("backlog must be at least 1")
        self._source = source
        self.interval_s = interval_s
        self.backlog = backlog  # read at each subscribe
        self._clock = clock
        self._throttle = Throttle(interval_s)
        self._wake = asyncio.Event()
        self._subscribers: dict[WallboardSubscriber, None] = {}
        self._latest: Tick | None = None
        self._serial = 0
        self._deltas: dict[tuple[int, int], str | None] = {}
        self._snapshot_text: tuple[int, str] | None = None
        self._task: asyncio.Task[None] | None = None
        self.published = 0  # ticks published so far (tests, the benchmark)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    # -- input -----------------------------------------------------------------------------

    def mark_dirty(self) -> None:
        """Something the wallboard shows changed (called for every event: cheap)."""
        self._throttle.mark_dirty(self._clock())
        self._wake.set()

    def subscribe(self, *, on_overflow: Callable[[], None] | None = None) -> WallboardSubscriber:
        """A subscriber whose board starts at the current snapshot, the one to send first.

        Taking the snapshot and subscribing happen together, so no change falls between.
        """
        sub = WallboardSubscriber(self.current(), backlog=self.backlog, on_overflow=on_overflow)
        self._subscribers[sub] = None
        return sub

    def unsubscribe(self, sub: WallboardSubscriber) -> None:
        self._subscribers.pop(sub, None)

    # -- output ----------------------------------------------------------------------------

    def current(self) -> Tick:
        """The current snapshot as a tick (the same tick while the source shares one)."""
        snapshot = self._source()
        latest = self._latest
        if latest is not None and latest.snapshot is snapshot:
            return latest
        self._serial += 1
        self._latest = Tick(self._serial, snapshot)
        # Deltas cached so far lead to older ticks; sockets always move to the newest.
        self._deltas.clear()
        return self._latest

    def publish(self) -> Tick | None:
        """Offer one shared snapshot to every subscriber; None when nobody listens."""
        if not self._subscribers:
            return None
        tick = self.current()
        self.published += 1
        for sub in list(self._subscribers):
            sub.offer(tick)
        return tick

    def snapshot_text(self, tick: Tick) -> str:
        """The snapshot message of ``tick``, encoded once however many sockets connect."""
        if self._snapshot_text is None or self._snapshot_text[0] != tick.serial:
            self._snapshot_text = (tick.serial, wallboard_protocol.snapshot_message(tick.snapshot))
        return self._snapshot_text[1]

    def delta_text(self, shown: Tick, tick: Tick) -> str | None:
        """The delta message from ``shown`` to ``tick`` (None: nothing to send), computed
        once for every socket making the same step."""
        if shown is tick:
            return None
        key = (shown.serial, tick.serial)
        if key not in self._deltas:
            self._deltas[key] = wallboard_protocol.delta_message(shown.snapshot, tick.snapshot)
        return self._deltas[key]

    # -- the task --------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="wallboard-feed")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            wait = self._throttle.due(self._clock())
            if wait is None:
                self._wake.clear()
                continue
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            # No await from here to the publish: a change marked after this point marks
            # the feed dirty again and gets the next tick.
            self._wake.clear()
            if not self._subscribers:
                self._throttle.reset()  # nobody to tell; a new socket reads a fresh snapshot
                continue
            self._throttle.fired(self._clock())
            try:
                self.publish()
            except Exception:  # one bad snapshot must not end the feed for good
                log.exception("wallboard snapshot failed")
