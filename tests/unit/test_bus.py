"""The event bus delivers each event to the agents it concerns, and to everyone else's
unfiltered subscriptions."""

from __future__ import annotations

import asyncio

from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionEscalated,
    InteractionOffered,
    InteractionTransferred,
    OfferAccepted,
    OfferRevoked,
)
from trunkline.domain.media import Medium
from trunkline.service.bus import EventBus, Subscription


def offered(iid: str, agent: str) -> InteractionOffered:
    return InteractionOffered(
        at=1.0, interaction_id=iid, agent_id=agent, queue="q", medium=Medium.CHAT, expires_at=9
    )


def drain(sub: Subscription) -> list[Event]:
    out: list[Event] = []
    while True:
        try:
            item = sub._queue.get_nowait()  # noqa: SLF001 - read what was delivered
        except asyncio.QueueEmpty:
            return out
        if item is not None:
            out.append(item)


async def test_an_agent_hears_of_its_interactions_to_the_end_and_nobody_else_does() -> None:
    bus = EventBus()
    ann = bus.subscribe_agent("ann")
    bob = bus.subscribe_agent("bob")
    everything = bus.subscribe()
    events: list[Event] = [
        offered("c1", "ann"),
        OfferAccepted(
            at=2, interaction_id="c1", agent_id="ann", queue="q", medium=Medium.CHAT, waited_s=1
        ),
        InteractionEscalated(at=3, interaction_id="c1", queue="q", step=1),
        InteractionCancelled(at=4, interaction_id="c1", queue="q", reason="cancelled"),
        offered("c2", "bob"),
        OfferRevoked(at=5, interaction_id="c2", agent_id="bob", queue="q", reason="abandoned"),
        InteractionAbandoned(at=5, interaction_id="c2", queue="q", medium=Medium.CHAT, waited_s=4),
        AgentStateChanged(at=6, agent_id="bob", old=AgentState.READY, new=AgentState.BUSY),
    ]
    bus.publish(events)
    assert [e.kind for e in drain(ann)] == [
        "interaction_offered",
        "offer_accepted",
        "interaction_escalated",
        "interaction_cancelled",
    ]
    # The offer was withdrawn before the abandon: bob no longer holds c2 when it ends.
    assert [e.kind for e in drain(bob)] == [
        "interaction_offered",
        "offer_revoked",
        "agent_state_changed",
    ]
    assert len(drain(everything)) == len(events)


async def test_a_transfer_tells_both_agents_and_ends_the_first_ones_hold() -> None:
    bus = EventBus()
    ann = bus.subscribe_agent("ann")
    bob = bus.subscribe_agent("bob")
    bus.publish(
        [
            offered("c1", "ann"),
            InteractionTransferred(
                at=2,
                interaction_id="c1",
                from_agent="ann",
                from_queue="q",
                to_queue="q",
                to_agent="bob",
            ),
            InteractionCancelled(at=3, interaction_id="c1", queue="q", reason="cancelled"),
        ]
    )
    assert [e.kind for e in drain(ann)] == ["interaction_offered", "interaction_transferred"]
    assert [e.kind for e in drain(bob)] == ["interaction_transferred"]


async def test_a_closed_agent_subscription_receives_nothing_more() -> None:
    bus = EventBus()
    with bus.subscribe_agent("ann") as ann:
        pass
    bus.publish([offered("c1", "ann")])
    assert drain(ann) == []
    assert bus.subscriber_count == 0
