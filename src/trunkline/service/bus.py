"""In-process fan-out of events to subscribers (websockets, metrics, the simulator)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from trunkline.domain.events import Event

log = logging.getLogger(__name__)

EventFilter = Callable[[Event], bool]


class Subscription:
    """A bounded mailbox of events; a subscriber that falls too far behind is cut off."""

    def __init__(self, bus: EventBus, accept: EventFilter | None, maxsize: int) -> None:
        self._bus = bus
        self._accept = accept
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize)
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed or (self._accept is not None and not self._accept(event)):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stalled consumer must not hold memory without bound: close it and let the
            # client reconnect and read a fresh snapshot.
            self.overflowed = True
            log.warning("event subscriber fell behind; closing it")
            self._close_now()

    def _close_now(self) -> None:
        while True:
            try:
                self._queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()

    async def get(self) -> Event | None:
        """The next event, or None once the subscription is closed."""
        return await self._queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)
        self._close_now()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(
        self, accept: EventFilter | None = None, *, maxsize: int = 10_000
    ) -> Subscription:
        sub = Subscription(self, accept, maxsize)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """A synchronous callback run for every event, in order (metrics, folds)."""
        self._listeners.append(listener)

    def publish(self, events: Iterable[Event]) -> None:
        for event in events:
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:  # a broken listener must not break routing
                    log.exception("event listener failed on %s", event.kind)
            for sub in tuple(self._subs):
                sub.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)
