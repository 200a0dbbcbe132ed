"""A fake clock and builders for readable router scenarios (see test_router_scenarios)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from trunkline.domain.agent import AgentSpec, CapacityProfile
from trunkline.domain.events import Event, InteractionOffered
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.domain.queue import QueueSpec, WrapUpMode, WrapUpPolicy
from trunkline.router.engine import Router, RouterSettings, RuleApplier

E = TypeVar("E", bound=Event)


def utc(text: str) -> float:
    """Epoch seconds of an ISO date-time read as UTC: ``utc("2024-01-15 09:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# Monday 15 January 2024, 09:00 UTC.
T0 = utc("2024-01-15 09:00")

NO_WRAP = WrapUpPolicy(mode=WrapUpMode.NONE)
VOICE_ONLY = CapacityProfile(name="voice", limits={Medium.VOICE: 1}, max_total=1)
DIGITAL = CapacityProfile(
    name="digital",
    limits={Medium.CHAT: 3, Medium.EMAIL: 1},
    exclusive=frozenset(),
    max_total=4,
)
# Any medium, but one interaction at a time: the order of service is the order of offers.
ONE_AT_A_TIME = CapacityProfile(
    name="one",
    limits={Medium.VOICE: 1, Medium.CHAT: 1, Medium.EMAIL: 1},
    exclusive=frozenset(),
    max_total=1,
)


def queue(queue_id: str, **fields: Any) -> QueueSpec:
    """A queue with no wrap-up unless told otherwise, so agents free up at once."""
    fields.setdefault("wrap_up", NO_WRAP)
    return QueueSpec(id=queue_id, **fields)


def agent(
    agent_id: str,
    *queues: str,
    skills: Mapping[str, int] | None = None,
    capacity: CapacityProfile | None = None,
) -> AgentSpec:
    return AgentSpec(
        id=agent_id,
        skills=dict(skills or {}),
        queues=frozenset(queues),
        capacity=capacity or CapacityProfile(),
    )


def of_type(events: Iterable[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def only(events: Iterable[Event], kind: type[E]) -> E:
    """The single event of ``kind`` (fails when there are none or several)."""
    found = of_type(events, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


def offers(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(interaction, agent) of every offer, in the order they were made."""
    return [(e.interaction_id, e.agent_id) for e in of_type(events, InteractionOffered)]


class Centre:
    """A router driven by a fake clock; every event it returns is also kept in ``log``.

    Commands run at ``now``; :meth:`advance` moves the clock and fires each deadline at
    its own time, as the asyncio adapter would.
    """

    def __init__(
        self,
        queues: Iterable[QueueSpec],
        agents: Iterable[AgentSpec],
        *,
        now: float = T0,
        settings: RouterSettings | None = None,
        rules: RuleApplier | None = None,
    ) -> None:
        self.now = now
        self.log: list[Event] = []
        self.router = Router(
            queues={q.id: q for q in queues},
            agents={a.id: a for a in agents},
            now=now,
            settings=settings,
            rules=rules,
        )

    def run(self, command: Callable[..., list[Event]], *args: Any, **kwargs: Any) -> list[Event]:
        """Call a router command at the current time and keep its events."""
        events = command(*args, now=self.now, **kwargs)
        self.log.extend(events)
        return events

    # ----------------------------------------------------------------- time

    def advance(self, seconds: float) -> list[Event]:
        return self.advance_to(self.now + seconds)

    def advance_to(self, when: float) -> list[Event]:
        events: list[Event] = []
        while (deadline := self.router.next_deadline()) is not None and deadline <= when:
            self.now = max(self.now, deadline)
            fired = self.router.handle_timer(self.now)
            self.log.extend(fired)
            events.extend(fired)
        self.now = when
        return events

    # -------------------------------------------------------------- commands

    def submit(
        self,
        interaction_id: str,
        queue_id: str,
        *,
        medium: Medium = Medium.VOICE,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        preferred: str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> list[Event]:
        request = InteractionRequest(
            id=interaction_id,
            medium=medium,
            queue=queue_id,
            priority=priority,
            skills=dict(skills or {}),
            data=dict(data or {}),
            preferred_agent=preferred,
        )
        return self.run(self.router.submit, request)

    def login(self, *agent_ids: str, ready: bool = True) -> list[Event]:
        events: list[Event] = []
        for agent_id in agent_ids:
            events += self.run(self.router.login, agent_id, ready=ready)
        return events

    def accept(self, interaction_id: str, agent_id: str) -> list[Event]:
        return self.run(self.router.accept, interaction_id, agent_id)

    def reject(self, interaction_id: str, agent_id: str) -> list[Event]:
        return self.run(self.router.reject, interaction_id, agent_id)

    def end(self, interaction_id: str, agent_id: str) -> list[Event]:
        return self.run(self.router.end_handling, interaction_id, agent_id)

    def wrap_up(self, interaction_id: str, agent_id: str, **kwargs: Any) -> list[Event]:
        return self.run(self.router.wrap_up, interaction_id, agent_id, **kwargs)

    def cancel(self, interaction_id: str, **kwargs: Any) -> list[Event]:
        return self.run(self.router.cancel, interaction_id, **kwargs)

    def take_call(self, interaction_id: str, queue_id: str, agent_id: str) -> None:
        """Put ``agent_id`` on a call (a voice interaction accepted in ``queue_id``)."""
        events = self.submit(interaction_id, queue_id)
        assert offers(events) == [(interaction_id, agent_id)], events
        self.accept(interaction_id, agent_id)

    def serve(self, interaction_id: str, agent_id: str) -> list[Event]:
        """Accept the offer and close it at once (from handling, so no wrap-up wait)."""
        return self.accept(interaction_id, agent_id) + self.wrap_up(interaction_id, agent_id)

    def serve_in_turn(self, agent_id: str) -> list[str]:
        """Serve whatever is offered to ``agent_id``, one at a time, until nothing is."""
        served: list[str] = []
        while pending := self.router.agent(agent_id).offers:
            assert len(pending) == 1, f"{agent_id} holds several offers: {pending}"
            self.serve(pending[0], agent_id)
            served.append(pending[0])
        return served

    # ----------------------------------------------------------------- views

    def offered_to(self, agent_id: str) -> tuple[str, ...]:
        return self.router.agent(agent_id).offers

    def waiting(self) -> list[str]:
        """Ids of the queued interactions, best first."""
        return [v.id for v in self.router.interactions(state=InteractionState.QUEUED)]

    def state(self, interaction_id: str) -> InteractionState:
        return self.router.interaction(interaction_id).state
