"""Demo traffic: simulated customers and agents driving the real RoutingService in-process.

Two halves. :class:`Behaviour` is the pure part: given a ``random.Random`` it decides what
a customer brings and what an agent does next, in *demo seconds*, without reading a clock.
:class:`Simulator` is the asyncio part: it sleeps those durations (divided by ``speed``) and
calls the service exactly as the web layer would, so every event, metric and record row the
demo shows is real.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from trunkline.config.loader import Config
from trunkline.demo.customers import any_customer
from trunkline.domain.agent import AgentState
from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import Event, InteractionOffered
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.router.errors import AgentBusyError
from trunkline.router.views import InteractionView
from trunkline.service.routing import RoutingService

log = logging.getLogger(__name__)

Submit = Callable[[InteractionRequest], Awaitable[InteractionView | None]]

Span = tuple[float, float]  # a uniform range of demo seconds


# -- the pure part ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficKind:
    """One kind of customer contact in the traffic mix, drawn with probability ~ weight."""

    queue: str
    medium: Medium
    weight: float
    skills: Mapping[str, int] = field(default_factory=dict)
    urgent_share: float = 0.0  # drawn at priority 5 (a failed payment)


# The demo centre's mix (config/demo.yaml): mostly support chats and sales calls. Billing
# keeps office hours and refuses calls out of hours, so refusals show at night too.
DEMO_MIX: tuple[TrafficKind, ...] = (
    TrafficKind(queue="sales", medium=Medium.VOICE, weight=16, skills={"sales": 2}),
    TrafficKind(queue="sales", medium=Medium.CALLBACK, weight=3, skills={"sales": 1}),
    TrafficKind(queue="support", medium=Medium.CHAT, weight=34, skills={"tech": 3}),
    TrafficKind(queue="support", medium=Medium.EMAIL, weight=8, skills={"tech": 2}),
    TrafficKind(
        queue="billing", medium=Medium.VOICE, weight=10, skills={"billing": 2}, urgent_share=0.15
    ),
    TrafficKind(queue="billing", medium=Medium.EMAIL, weight=5, skills={"billing": 1}),
    TrafficKind(queue="email", medium=Medium.EMAIL, weight=6),
    TrafficKind(queue="overflow", medium=Medium.CHAT, weight=7),
)


class OfferAction(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    MISS = "miss"  # let it ring until the router times it out


@dataclass(frozen=True, slots=True)
class OfferResponse:
    action: OfferAction
    after_s: float  # ring time before answering or declining (0 for a miss)


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrival:
    """A simulated customer: what they ask for and how long they wait before leaving."""

    request: InteractionRequest
    patience_s: float | None  # None: never abandons (an e-mail waits for its answer)


def _spans(**spans: Span) -> Mapping[Medium, Span]:
    return MappingProxyType({Medium(name): span for name, span in spans.items()})


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """How simulated people behave. Every method is a pure function of the rng it is given."""

    ring_s: Span = (0.5, 3.0)
    handle_s: Mapping[Medium, Span] = field(
        default_factory=lambda: _spans(
            voice=(5, 20),
            callback=(5, 20),
            chat=(8, 30),
            email=(3, 10),
            fax=(3, 10),
            voicemail=(3, 10),
        )
    )
    wrap_s: Span = (1.0, 5.0)
    reject_share: float = 0.05
    miss_share: float = 0.02
    break_share: float = 0.03  # chance of a break after finishing an interaction
    break_s: Span = (15.0, 45.0)
    missed_recovery_s: Span = (3.0, 10.0)  # how long a missed offer keeps the agent away
    # Media absent here never abandon (e-mail, callback requests).
    patience_s: Mapping[Medium, Span] = field(
        default_factory=lambda: _spans(voice=(20, 90), chat=(30, 150))
    )
    returning_share: float = 0.1  # customers naming their last agent (relationship routing)

    # -- agents

    def offer_response(self, rng: random.Random) -> OfferResponse:
        draw = rng.random()
        if draw < self.miss_share:
            return OfferResponse(OfferAction.MISS, 0.0)
        action = (
            OfferAction.REJECT if draw < self.miss_share + self.reject_share else OfferAction.ACCEPT
        )
        return OfferResponse(action, rng.uniform(*self.ring_s))

    def handle_time(self, rng: random.Random, medium: Medium) -> float:
        return rng.uniform(*self.handle_s.get(medium, (5.0, 20.0)))

    def wrap_time(self, rng: random.Random) -> float:
        return rng.uniform(*self.wrap_s)

    def disposition(self, rng: random.Random, codes: Sequence[str]) -> str | None:
        return rng.choice(codes) if codes else None

    def take_break(self, rng: random.Random) -> float | None:
        """The length of a break to take now, or None to stay ready."""
        if rng.random() >= self.break_share:
            return None
        return rng.uniform(*self.break_s)

    def missed_recovery(self, rng: random.Random) -> float:
        return rng.uniform(*self.missed_recovery_s)

    # -- customers

    def arrival_gap(self, rng: random.Random, rate: float) -> float:
        """Poisson arrivals: exponential gaps with mean ``1 / rate`` demo seconds."""
        return rng.expovariate(rate)

    def arrival(
        self,
        rng: random.Random,
        *,
        interaction_id: str,
        mix: Sequence[TrafficKind],
        agents_by_queue: Mapping[str, Sequence[str]],
    ) -> Arrival:
        kind = rng.choices(mix, weights=[k.weight for k in mix])[0]
        who = any_customer(rng)
        french = who.language == "fr"
        # The channel attaches who is calling; the CRM recognises them (class, language).
        data: dict[str, Any] = {
            **who.identity_data(kind.medium),
            "country": rng.choice(("FR", "BE")) if french else rng.choice(("GB", "GB", "IE")),
        }
        priority = 0
        if kind.urgent_share and rng.random() < kind.urgent_share:
            priority = 5
            data["reason"] = "payment_failed"
        known = agents_by_queue.get(kind.queue, ())
        if known and rng.random() < self.returning_share:
            data["last_agent"] = rng.choice(known)
        span = self.patience_s.get(kind.medium)
        return Arrival(
            request=InteractionRequest(
                id=interaction_id,
                medium=kind.medium,
                queue=kind.queue,
                priority=priority,
                skills=dict(kind.skills),
                data=data,
            ),
            patience_s=None if span is None else rng.uniform(*span),
        )


def traffic_for(config: Config) -> tuple[TrafficKind, ...]:
    """The demo mix on this config's queues and skills; else one kind per queue and medium.

    ``trunkline demo --config other.yaml`` then still produces traffic its agents can take.
    """
    skills = set(config.skills)
    kinds = tuple(
        replace(k, skills={s: level for s, level in k.skills.items() if s in skills})
        for k in DEMO_MIX
        if k.queue in config.queues
    )
    if kinds:
        return kinds
    return tuple(
        TrafficKind(queue=qid, medium=medium, weight=1.0)
        for qid, spec in config.queues.items()
        for medium in (spec.service_level or (Medium.CHAT,))
    )


# -- the asyncio part ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorSettings:
    rate: float = 1.0  # customer arrivals per demo second
    speed: float = 1.0  # demo seconds per wall-clock second (tests run it faster)
    seed: int | None = None  # None: different traffic each run
    behaviour: Behaviour = field(default_factory=Behaviour)
    agents: tuple[str, ...] | None = None  # agents to drive; None: every configured agent
    run_id: str | None = None  # interaction id prefix; None: random, unique across runs

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.speed <= 0:
            raise ValueError("the demo rate and speed must be positive")


@dataclass(slots=True)
class SimulatorStats:
    arrivals: int = 0
    refused: int = 0
    abandoned: int = 0
    accepted: int = 0
    rejected: int = 0
    missed: int = 0
    completed: int = 0
    breaks: int = 0


@dataclass(slots=True)
class _AgentState:
    id: str
    rng: random.Random
    on_break: bool = False


class Simulator:
    """Customers and agents for the demo. Run :meth:`run` as a task; cancel it to stop.

    Each agent has its own rng seeded from the simulator's seed and its id, so its choices
    do not depend on how the event loop interleaves the others.
    """

    def __init__(
        self,
        service: RoutingService,
        settings: SimulatorSettings | None = None,
        *,
        submit: Submit | None = None,
        human_at: Callable[[str], bool] | None = None,
    ) -> None:
        self.service = service
        # A person who opens an agent's desktop takes that agent over: the simulator then
        # leaves its offers, breaks and wrap-ups to them until the desktop closes.
        self._human_at: Callable[[str], bool] = human_at or (lambda _agent_id: False)
        # Arrivals enter like any channel's: through the intake (CRM recognition) if given.
        self._submit: Submit = submit if submit is not None else service.submit
        self.settings = settings or SimulatorSettings()
        self.behaviour = self.settings.behaviour
        self.stats = SimulatorStats()
        seed = self.settings.seed
        config = service.config
        agent_ids = self.settings.agents if self.settings.agents is not None else config.agents
        self._agents = {
            aid: _AgentState(aid, random.Random(None if seed is None else f"{seed}:{aid}"))
            for aid in agent_ids
        }
        self._customer_rng = random.Random(None if seed is None else f"{seed}:customers")
        # Ids must not collide with a previous run's interactions in the same database.
        self._run_id = self.settings.run_id or f"demo-{uuid.uuid4().hex[:6]}"
        self._mix = traffic_for(config)
        self._agents_by_queue = {
            q: sorted(a.id for a in config.agents.values() if q in a.queues) for q in config.queues
        }
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Log the agents in and bring customers until cancelled; then log the agents out."""
        log.info(
            "demo traffic: %d agents, %.2f arrivals/s across %d kinds (%s)",
            len(self._agents),
            self.settings.rate * self.settings.speed,
            len(self._mix),
            ", ".join(sorted({f"{k.queue}/{k.medium.value}" for k in self._mix})),
        )
        try:
            for agent in self._agents.values():
                self._spawn(self._agent(agent))
            await self._customers()
        finally:
            await self._shutdown()

    # -- plumbing

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A demo bug should show, but not stop the rest of the demo.
            log.error("demo task failed", exc_info=task.exception())

    async def _sleep(self, demo_s: float) -> None:
        await asyncio.sleep(demo_s / self.settings.speed)

    async def _call(self, command: Coroutine[Any, Any, object]) -> bool:
        """Run a service command; a refusal (the offer is gone, the call ended) is False."""
        try:
            await command
        except TrunklineError as exc:
            log.debug("demo command refused: %s", exc)
            return False
        return True

    async def _shutdown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        still_working = []
        for agent_id in self._agents:
            try:
                await self.service.logout(agent_id, reason="demo stopped", force=True)
            except AgentBusyError:
                still_working.append(agent_id)  # held work comes back queued after a restart
            except TrunklineError as exc:
                log.debug("demo agent %s not logged out: %s", agent_id, exc)
        if still_working:
            log.info("demo agents still holding work: %s", ", ".join(still_working))
        log.info("demo traffic stopped: %s", self.stats)

    # -- customers

    async def _customers(self) -> None:
        n = 0
        while True:
            await self._sleep(self.behaviour.arrival_gap(self._customer_rng, self.settings.rate))
            n += 1
            arrival = self.behaviour.arrival(
                self._customer_rng,
                interaction_id=f"{self._run_id}-{n}",
                mix=self._mix,
                agents_by_queue=self._agents_by_queue,
            )
            self._spawn(self._customer(arrival))

    async def _customer(self, arrival: Arrival) -> None:
        iid = arrival.request.id
        try:
            view = await self._submit(arrival.request)
        except TrunklineError as exc:
            log.warning("demo interaction %s not submitted: %s", iid, exc)
            return
        self.stats.arrivals += 1
        if view is None:
            self.stats.refused += 1  # the queue is closed and refuses arrivals
            return
        if arrival.patience_s is None:
            return
        await self._sleep(arrival.patience_s)
        try:
            state = self.service.interaction(iid).state
        except LookupError:
            return  # already completed
        if state in (InteractionState.QUEUED, InteractionState.OFFERED):
            if await self._call(self.service.cancel(iid, reason="abandoned")):
                self.stats.abandoned += 1

    # -- agents

    async def _agent(self, me: _AgentState) -> None:
        def offered_to_me(event: Event) -> bool:
            return isinstance(event, InteractionOffered) and event.agent_id == me.id

        # Subscribe before logging in: logging in ready may produce an offer at once.
        with self.service.bus.subscribe(offered_to_me) as offers:
            if not await self._call(self.service.login(me.id, ready=True)):
                await self._call(self.service.set_ready(me.id))  # already logged in
            while (offer := await offers.get()) is not None:
                assert isinstance(offer, InteractionOffered)
                self._spawn(self._answer(me, offer))
        log.warning("demo agent %s stopped: its event mailbox overflowed", me.id)

    async def _answer(self, me: _AgentState, offer: InteractionOffered) -> None:
        if self._human_at(me.id):
            return
        iid = offer.interaction_id
        response = self.behaviour.offer_response(me.rng)
        if response.action is OfferAction.MISS:
            self.stats.missed += 1
            # The offer timeout is the router's, in real seconds: wait it out, then the
            # agent notices the "missed" not-ready state and comes back.
            await asyncio.sleep(max(0.0, offer.expires_at - self.service.clock()))
            await self._sleep(self.behaviour.missed_recovery(me.rng))
            await self._back_to_ready(me)
            return
        await self._sleep(response.after_s)
        if self._human_at(me.id):
            return
        if response.action is OfferAction.REJECT:
            if await self._call(self.service.reject(iid, me.id, reason="busy")):
                self.stats.rejected += 1
            return
        if not await self._call(self.service.accept(iid, me.id)):
            return  # the customer hung up while it rang
        self.stats.accepted += 1
        await self._sleep(self.behaviour.handle_time(me.rng, offer.medium))
        if self._human_at(me.id) or not await self._call(self.service.end_handling(iid, me.id)):
            return
        await self._sleep(self.behaviour.wrap_time(me.rng))
        if self._human_at(me.id):
            return
        code = self.behaviour.disposition(me.rng, list(self.service.config.wrap_up_codes))
        # A timed wrap-up may have closed it already; the router then refuses, which is fine.
        if await self._call(self.service.wrap_up(iid, me.id, disposition=code)):
            self.stats.completed += 1
        pause = self.behaviour.take_break(me.rng)
        if pause is not None and not me.on_break:
            await self._break(me, pause)

    async def _break(self, me: _AgentState, pause: float) -> None:
        reasons = [r.code for r in self.service.config.not_ready_reasons.values() if not r.system]
        if not reasons:
            return
        reason = "break" if "break" in reasons else reasons[0]
        me.on_break = True
        try:
            if not await self._call(self.service.set_not_ready(me.id, reason)):
                return
            self.stats.breaks += 1
            await self._sleep(pause)
        finally:
            me.on_break = False
        if not self._human_at(me.id):
            await self._call(self.service.set_ready(me.id))

    async def _back_to_ready(self, me: _AgentState) -> None:
        if self._human_at(me.id):
            return
        try:
            view = self.service.agent(me.id)
        except LookupError:
            return
        if view.presence is AgentState.NOT_READY and not me.on_break:
            await self._call(self.service.set_ready(me.id))
