"""Stateful property tests of the router's invariants, checked against an independent model.

Eligibility here is recomputed from plain specs (no bit masks), so a bug in the engine's
indexes or masks shows up as a disagreement.
"""

from __future__ import annotations

from datetime import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from trunkline.domain.agent import AgentSpec, AgentState, CapacityProfile
from trunkline.domain.calendar import WEEKDAYS, BusinessHours
from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    InteractionMoved,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferRejected,
)
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.domain.queue import (
    ClosedAction,
    EscalationStep,
    QueueSpec,
    SelectionStrategy,
    WrapUpMode,
    WrapUpPolicy,
)
from trunkline.router.engine import Router, RouterSettings
from trunkline.router.views import AgentView, InteractionView

SKILLS = ("en", "fr", "billing")
MEDIA = (Medium.VOICE, Medium.CHAT, Medium.EMAIL)
# Open 08:00-18:00 UTC every day; the clock starts at 1970-01-01 00:00 (closed).
DAY_HOURS = BusinessHours(name="day", weekly={d: ((time(8), time(18)),) for d in WEEKDAYS})

QUEUES = {
    "sales": QueueSpec(id="sales", offer_timeout_s=15, wrap_up=WrapUpPolicy(seconds=10)),
    "support": QueueSpec(
        id="support",
        strategy=SelectionStrategy.MOST_SKILLED,
        wrap_up=WrapUpPolicy(mode=WrapUpMode.MANUAL),
        escalation=(
            EscalationStep(after_s=30, lower_skills={"en": 1}),
            EscalationStep(after_s=60, add_queues=frozenset({"sales"}), raise_priority=1),
        ),
    ),
    "vip": QueueSpec(
        id="vip",
        strict_priority=True,
        strategy=SelectionStrategy.LEAST_BUSY,
        hours=DAY_HOURS,
        closed_action=ClosedAction.REJECT,
        wrap_up=WrapUpPolicy(mode=WrapUpMode.NONE),
    ),
}
PROFILES = (
    CapacityProfile(name="voice", limits={Medium.VOICE: 1}, max_total=1),
    CapacityProfile(),
    CapacityProfile(
        name="chat", limits={Medium.CHAT: 3, Medium.EMAIL: 1}, exclusive=frozenset(), max_total=4
    ),
)

skill_maps = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)
needs = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2)
agent_specs = st.lists(
    st.tuples(
        st.dictionaries(st.sampled_from(SKILLS), st.integers(2, 5), min_size=1, max_size=3),
        st.sets(st.sampled_from(sorted(QUEUES)), min_size=1),
        st.sampled_from(PROFILES),
    ),
    min_size=3,
    max_size=5,
)


# A chat agent wrapping up one chat may still take another within capacity (as in Genesys
# and Twilio); an exclusive medium such as voice blocks that through capacity instead.
ROUTABLE_STATES = (AgentState.READY, AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP)


def can_serve(agent: AgentView, it: InteractionView, profile: CapacityProfile) -> bool:
    """Skills and capacity, from the plain specs."""
    for name, level in it.skills.items():
        if agent.skills.get(name, 0) < level:
            return False
    load = {Medium(m): n for m, n in agent.load.items()}
    return profile.can_take(it.medium, load, sum(load.values()))


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 9 * 3600.0  # 09:00 UTC: the vip queue is open; `advance` crosses 18:00
        self.counter = 0
        self.submitted: set[str] = set()
        self.closed: set[str] = set()
        self.profiles: dict[str, CapacityProfile] = {}
        self.rejections: set[tuple[str, str]] = set()
        self.router: Router

    @initialize(specs=agent_specs)
    def setup(self, specs: list[tuple[dict[str, int], set[str], CapacityProfile]]) -> None:
        agents = {}
        for i, (skills, queues, profile) in enumerate(specs):
            agent_id = f"a{i}"
            agents[agent_id] = AgentSpec(
                id=agent_id, skills=skills, queues=frozenset(queues), capacity=profile
            )
            self.profiles[agent_id] = profile
        self.router = Router(
            queues=QUEUES,
            agents=agents,
            now=self.now,
            settings=RouterSettings(preferred_head_start_s=10, disconnect_grace_s=20),
        )
        for agent_id in agents:
            self.apply(self.router.login(agent_id, self.now, ready=True))

    # ----------------------------------------------------------------- checks

    def apply(self, events: list[Event], before: dict[str, AgentState] | None = None) -> None:
        """Check each offer against the agent's state at the moment it was made."""
        states = dict(before or {})
        for event in events:
            if isinstance(event, AgentStateChanged):
                if event.agent_id in states:
                    assert states[event.agent_id] is event.old
                states[event.agent_id] = event.new
            elif isinstance(event, InteractionRefused):
                assert event.interaction_id in self.submitted
            elif isinstance(event, InteractionQueued) and event.reason == "new":
                # Business hours respected: a closed reject-queue accepts nobody.
                spec = QUEUES[event.queue]
                assert spec.closed_action is not ClosedAction.REJECT or spec.hours.is_open(event.at)
            elif isinstance(event, OfferRejected):
                self.rejections.add((event.interaction_id, event.agent_id))
            elif isinstance(event, InteractionTransferred):
                self.rejections = {p for p in self.rejections if p[0] != event.interaction_id}
                self.rejections.add((event.interaction_id, event.from_agent))
            elif isinstance(event, InteractionMoved):
                # A move is a fresh start: who declined it in the old queue may take it.
                self.rejections = {p for p in self.rejections if p[0] != event.interaction_id}
            elif isinstance(event, InteractionOffered):
                assert states.get(event.agent_id) in ROUTABLE_STATES
                assert (event.interaction_id, event.agent_id) not in self.rejections

    def act(self, fn: object, *args: object, **kwargs: object) -> None:
        assert callable(fn)
        before = {a.id: a.state for a in self.router.agents()}
        try:
            events = fn(*args, **kwargs)
        except TrunklineError:
            return
        self.apply(events, before)

    @invariant()
    def nothing_lost_nothing_doubled(self) -> None:
        if not hasattr(self, "router"):
            return
        views = {v.id: v for v in self.router.interactions()}
        assert set(views) <= self.submitted
        holders: dict[str, str] = {}
        for agent in self.router.agents():
            profile = self.profiles.get(agent.id)
            held = [*agent.offers, *agent.active, *agent.wrapping]
            assert len(held) == len(set(held))
            for iid in held:
                assert iid not in holders, f"{iid} held by {holders[iid]} and {agent.id}"
                holders[iid] = agent.id
                assert views[iid].agent_id == agent.id
            # Capacity respected: the load matches what is held and fits the profile.
            counted: dict[str, int] = {}
            for iid in held:
                counted[views[iid].medium.value] = counted.get(views[iid].medium.value, 0) + 1
            assert counted == agent.load
            if profile is not None and held:
                assert sum(counted.values()) <= (profile.max_total or 99)
                for medium, n in counted.items():
                    assert n <= profile.limits.get(Medium(medium), 0)
                if any(Medium(m) in profile.exclusive for m in counted):
                    assert len(held) == 1
            if agent.state is AgentState.LOGGED_OUT:
                assert not held
        for view in views.values():
            if view.state in (InteractionState.QUEUED,):
                assert view.agent_id is None
            else:
                assert holders.get(view.id) == view.agent_id

    @invariant()
    def work_conserving_and_ordered(self) -> None:
        """No ready agent could take a waiting interaction it is eligible for."""
        if not hasattr(self, "router"):
            return
        waiting = [
            v
            for v in self.router.interactions(state=InteractionState.QUEUED)
            if v.preferred_until is None
        ]
        for agent in self.router.agents():
            if agent.presence is not AgentState.READY or not agent.connected:
                continue
            profile = self.profiles[agent.id]
            for it in waiting:
                if not set(it.queues) & set(agent.queues):
                    continue
                if self.rejected(it.id, agent.id):
                    continue
                assert not can_serve(agent, it, profile), (
                    f"{agent.id} is ready and could serve waiting {it.id}"
                )

    def rejected(self, interaction_id: str, agent_id: str) -> bool:
        record = self.router._interactions.get(interaction_id)  # noqa: SLF001 - test peek
        return record is not None and agent_id in record.rejected_by

    # ------------------------------------------------------------------ rules

    @rule(
        medium=st.sampled_from(MEDIA),
        queue=st.sampled_from(sorted(QUEUES)),
        skills=needs,
        priority=st.integers(-2, 3),
        preferred=st.none() | st.sampled_from(["a0", "a1", "a2"]),
    )
    def submit(
        self,
        medium: Medium,
        queue: str,
        skills: dict[str, int],
        priority: int,
        preferred: str | None,
    ) -> None:
        self.counter += 1
        iid = f"i{self.counter}"
        self.submitted.add(iid)
        request = InteractionRequest(
            id=iid,
            medium=medium,
            queue=queue,
            skills=skills,
            priority=priority,
            preferred_agent=preferred,
        )
        self.act(self.router.submit, request, self.now)

    @rule(index=st.integers(0, 4), ready=st.sampled_from([True, True, True, False]))
    def login(self, index: int, ready: bool) -> None:
        self.act(self.router.login, self.agent_id(index), self.now, ready=ready)

    def agent_id(self, index: int) -> str:
        return f"a{index % len(self.profiles)}"

    @rule(index=st.integers(0, 4), force=st.booleans())
    def logout(self, index: int, force: bool) -> None:
        self.act(self.router.logout, self.agent_id(index), self.now, force=force)

    @rule(index=st.integers(0, 4))
    def ready(self, index: int) -> None:
        self.act(self.router.set_ready, self.agent_id(index), self.now)

    @rule(index=st.integers(0, 4))
    def not_ready(self, index: int) -> None:
        self.act(self.router.set_not_ready, self.agent_id(index), self.now, "break")

    def pick(self, state: InteractionState, n: int) -> InteractionView | None:
        views = self.router.interactions(state=state)
        return views[n % len(views)] if views else None

    @rule(n=st.integers(0, 20))
    def accept(self, n: int) -> None:
        if (it := self.pick(InteractionState.OFFERED, n)) is not None:
            self.act(self.router.accept, it.id, it.agent_id, self.now)

    @rule(n=st.integers(0, 20))
    def reject(self, n: int) -> None:
        if (it := self.pick(InteractionState.OFFERED, n)) is not None:
            self.act(self.router.reject, it.id, it.agent_id, self.now)

    @rule(n=st.integers(0, 20))
    def end_handling(self, n: int) -> None:
        if (it := self.pick(InteractionState.ASSIGNED, n)) is not None:
            self.act(self.router.end_handling, it.id, it.agent_id, self.now)

    @rule(n=st.integers(0, 20))
    def wrap_up(self, n: int) -> None:
        if (it := self.pick(InteractionState.WRAP_UP, n)) is not None:
            self.act(self.router.wrap_up, it.id, it.agent_id, self.now, disposition="ok")

    @rule(n=st.integers(0, 20), queue=st.sampled_from(sorted(QUEUES)), to_agent=st.integers(0, 5))
    def transfer(self, n: int, queue: str, to_agent: int) -> None:
        if (it := self.pick(InteractionState.ASSIGNED, n)) is not None:
            target = f"a{to_agent}" if to_agent < 5 else None
            self.act(
                self.router.transfer, it.id, it.agent_id, self.now, to_queue=queue, to_agent=target
            )

    @rule(
        n=st.integers(0, 20),
        offered=st.booleans(),
        queue=st.sampled_from(sorted(QUEUES)),
        to_agent=st.integers(0, 5),
    )
    def move(self, n: int, offered: bool, queue: str, to_agent: int) -> None:
        state = InteractionState.OFFERED if offered else InteractionState.QUEUED
        if (it := self.pick(state, n)) is not None:
            target = f"a{to_agent}" if to_agent < 5 else None
            self.act(self.router.move, it.id, self.now, to_queue=queue, to_agent=target)

    @rule(n=st.integers(0, 20), state=st.sampled_from(list(InteractionState)[:3]))
    def cancel(self, n: int, state: InteractionState) -> None:
        if (it := self.pick(state, n)) is not None:
            self.act(self.router.cancel, it.id, self.now)

    @rule(
        index=st.integers(0, 4),
        skills=skill_maps,
        queues=st.sets(st.sampled_from(sorted(QUEUES)), min_size=1),
    )
    def change_profile(self, index: int, skills: dict[str, int], queues: set[str]) -> None:
        self.act(
            self.router.set_profile, self.agent_id(index), self.now, skills=skills, queues=queues
        )

    @rule(index=st.integers(0, 4), lost=st.booleans())
    def connection(self, index: int, lost: bool) -> None:
        fn = self.router.connection_lost if lost else self.router.connection_restored
        self.act(fn, self.agent_id(index), self.now)

    @rule(dt=st.sampled_from([0.5, 5.0, 12.0, 35.0, 3600.0 * 4]))
    def advance(self, dt: float) -> None:
        self.now += dt
        deadline = self.router.next_deadline()
        while deadline is not None and deadline <= self.now:
            before = {a.id: a.state for a in self.router.agents()}
            self.apply(self.router.handle_timer(deadline), before)
            deadline = self.router.next_deadline()

    @precondition(lambda self: hasattr(self, "router"))
    @rule()
    def offers_are_consistent(self) -> None:
        for agent in self.router.agents():
            for iid in agent.offers:
                view = self.router.interaction(iid)
                assert view.state is InteractionState.OFFERED
                assert view.offer_expires_at is not None and view.offer_expires_at > self.now - 1e-9


RouterMachine.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRouterInvariants = RouterMachine.TestCase
