"""In-process fan-out of events to subscribers (websockets, metrics, the simulator).

Agent desktops subscribe by agent: the bus works out once per event which agents it
concerns (it tracks who holds each interaction), so publishing costs O(recipients), not
O(connected desktops).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from trunkline.domain.events import (
    AgentEvent,
    BroadcastSent,
    Event,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionEvent,
    InteractionMoved,
    InteractionOffered,
    InteractionTransferred,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)

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


class AgentRecipients:
    """Which agents an event concerns, tracking who holds each interaction as events pass.

    The holder is needed because an interaction's last events (cancelled, abandoned) no
    longer name the agent who held it.
    """

    def __init__(self) -> None:
        self._holder: dict[str, str] = {}

    def __call__(self, event: Event) -> tuple[str, ...]:
        if isinstance(event, AgentEvent):
            return (event.agent_id,)
        if isinstance(event, BroadcastSent):
            return event.recipients
        if not isinstance(event, InteractionEvent):
            return ()
        iid = event.interaction_id
        match event:
            case InteractionOffered():
                self._holder[iid] = event.agent_id
                return (event.agent_id,)
            case OfferRejected() | OfferTimedOut() | OfferRevoked() | InteractionCompleted():
                self._holder.pop(iid, None)
                return (event.agent_id,)
            case InteractionMoved():
                # The old holder (if on offer) got offer_revoked; a named agent a heads-up.
                return (event.to_agent,) if event.to_agent is not None else ()
            case InteractionTransferred():
                self._holder.pop(iid, None)
                if event.to_agent is not None:  # a heads-up; the offer follows
                    return (event.from_agent, event.to_agent)
                return (event.from_agent,)
            case InteractionAbandoned() | InteractionCancelled():
                holder = self._holder.pop(iid, None)
                return (holder,) if holder is not None else ()
        named = getattr(event, "agent_id", None)
        if isinstance(named, str):
            return (named,)  # offer_accepted, handling_ended
        holder = self._holder.get(iid)
        return (holder,) if holder is not None else ()


class EventBus:
    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._by_agent: dict[str, list[Subscription]] = {}
        self._recipients = AgentRecipients()
        self._listeners: list[Callable[[Event], None]] = []

    def subscribe(
        self, accept: EventFilter | None = None, *, maxsize: int = 10_000
    ) -> Subscription:
        sub = Subscription(self, accept, maxsize)
        self._subs.append(sub)
        return sub

    def subscribe_agent(self, agent_id: str, *, maxsize: int = 10_000) -> Subscription:
        """Every event that concerns ``agent_id``: their state, offers and interactions."""
        sub = Subscription(self, None, maxsize)
        self._by_agent.setdefault(agent_id, []).append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
            return
        for agent_id, subs in self._by_agent.items():
            if sub in subs:
                subs.remove(sub)
                if not subs:
                    del self._by_agent[agent_id]
                return

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
            # Always computed, so the holder map stays right while nobody listens.
            for agent_id in self._recipients(event):
                for sub in tuple(self._by_agent.get(agent_id, ())):
                    sub.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs) + sum(len(subs) for subs in self._by_agent.values())
