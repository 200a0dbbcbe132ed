"""Valid event streams for the rollup contract tests: one script and a Hypothesis strategy."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionQueued,
    InteractionTransferred,
    OfferAccepted,
)
from trunkline.domain.media import Medium

T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp()
QUEUES = ("support", "sales")
MEDIA = (Medium.VOICE, Medium.CHAT, Medium.EMAIL)
AGENTS = ("ann", "bob")


def life(
    iid: str,
    t: float,
    queue: str,
    medium: Medium,
    outcome: str,
    steps: list[float],
    *,
    agent: str = "ann",
    to_queue: str = "sales",
) -> list[Event]:
    """One interaction: arrival, then ``outcome`` (answer, transfer, abandon, cancel, wait)."""
    created = t
    out: list[Event] = [
        InteractionCreated(
            at=t, interaction_id=iid, medium=medium, queue=queue, priority=0, created_at=t
        ),
        InteractionQueued(at=t, interaction_id=iid, queue=queue, medium=medium, priority=0, rank=t),
    ]
    a, b, c = steps
    t += a
    if outcome == "wait":
        return out
    if outcome == "abandon":
        waited = t - created
        return [
            *out,
            InteractionAbandoned(
                at=t, interaction_id=iid, queue=queue, medium=medium, waited_s=waited
            ),
        ]
    if outcome == "cancel":
        return [*out, InteractionCancelled(at=t, interaction_id=iid, queue=queue, reason="x")]
    out.append(
        OfferAccepted(
            at=t,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            waited_s=t - created,
        )
    )
    answered = t
    t += b
    if outcome == "transfer":
        out.append(
            InteractionTransferred(
                at=t, interaction_id=iid, from_agent=agent, from_queue=queue, to_queue=to_queue
            )
        )
        out.append(
            InteractionQueued(
                at=t,
                interaction_id=iid,
                queue=to_queue,
                medium=medium,
                priority=0,
                rank=created,
                reason="transferred",
            )
        )
        t += c
        out.append(
            InteractionAbandoned(
                at=t, interaction_id=iid, queue=to_queue, medium=medium, waited_s=t - created
            )
        )
        return out
    out.append(
        HandlingEnded(
            at=t,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            handled_s=t - answered,
        )
    )
    t += c
    out.append(
        InteractionCompleted(
            at=t,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            disposition="solved",
            wrap_up_s=c,
        )
    )
    return out


def shift(agent: str, t: float, gaps: list[float], reasons: list[str]) -> list[Event]:
    """An agent logging in, cycling through states, and logging out."""
    order = [AgentState.READY, AgentState.BUSY, AgentState.WRAP_UP, AgentState.NOT_READY]
    out: list[Event] = []
    old, since = AgentState.LOGGED_OUT, 0.0
    for n, gap in enumerate(gaps):
        new = order[n % len(order)] if n < len(gaps) - 1 else AgentState.LOGGED_OUT
        reason = reasons[n % len(reasons)] if new is AgentState.NOT_READY else ""
        out.append(
            AgentStateChanged(
                at=t, agent_id=agent, old=old, new=new, reason=reason, old_since=since
            )
        )
        old, since = new, t
        t += gap
    return out


def in_order(*groups: list[Event]) -> list[Event]:
    tagged = [(e.at, g, n, e) for g, events in enumerate(groups) for n, e in enumerate(events)]
    return [e for *_, e in sorted(tagged, key=lambda x: (x[0], x[1], x[2]))]


def scripted() -> list[Event]:
    """About three hours of a small centre, with every kind of visit and a day-old e-mail."""
    return in_order(
        life("e-old", T0 - 30 * 3600, "support", Medium.EMAIL, "answer", [2000.0, 40 * 3600, 60]),
        life("v1", T0, "support", Medium.VOICE, "answer", [12.0, 300.0, 30.0]),
        life("v2", T0 + 850, "support", Medium.VOICE, "answer", [25.0, 120.5, 10.0]),
        life("v3", T0 + 900, "sales", Medium.VOICE, "abandon", [3.0, 0, 0]),
        life("v4", T0 + 1000, "sales", Medium.VOICE, "abandon", [45.0, 0, 0]),
        life("c1", T0 + 1200, "support", Medium.CHAT, "transfer", [5.0, 200.0, 30.0]),
        life("c2", T0 + 1300, "sales", Medium.CHAT, "cancel", [50.0, 0, 0]),
        life("e1", T0 + 2000, "support", Medium.EMAIL, "wait", [0, 0, 0]),
        shift("ann", T0 - 100, [400.0, 700.0, 950.0, 1800.0, 60.0, 3000.0, 10.0], ["break"]),
        shift("bob", T0 + 30, [2000.0, 30.0, 45.0, 4000.0, 5.0], ["lunch"]),
    )


durations = st.sampled_from([0.0, 4.0, 5.0, 20.0, 21.0, 299.9996, 899.0, 1800.0, 5000.0])


@st.composite
def streams(draw: st.DrawFn) -> list[Event]:
    """Random valid streams: a few interactions and agent shifts over a few hours."""
    groups: list[list[Event]] = []
    for n in range(draw(st.integers(0, 6))):
        groups.append(
            life(
                f"i{n}",
                T0 + draw(st.integers(0, 4 * 3600)),
                draw(st.sampled_from(QUEUES)),
                draw(st.sampled_from(MEDIA)),
                draw(st.sampled_from(["answer", "transfer", "abandon", "cancel", "wait"])),
                [draw(durations) for _ in range(3)],
                agent=draw(st.sampled_from(AGENTS)),
                to_queue=draw(st.sampled_from(QUEUES)),
            )
        )
    for agent in AGENTS[: draw(st.integers(0, len(AGENTS)))]:
        gaps = draw(st.lists(durations, min_size=1, max_size=6))
        reasons = [draw(st.sampled_from(["break", "lunch"]))]
        groups.append(shift(agent, T0 + draw(st.integers(0, 3600)), gaps, reasons))
    return in_order(*groups)
