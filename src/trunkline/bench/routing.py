"""Routing benchmark: the real engine against a naive full-scan matcher, side by side.

Two regimes on one generated workload: *agents waiting* (every agent ready, each decision
is an arrival choosing an agent) and *interactions waiting* (M interactions queued, each
decision is an agent becoming ready and choosing an interaction). Only the decision call is
timed; the bookkeeping that restores the regime afterwards is not.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from trunkline.domain.agent import AgentSpec, AgentState, CapacityProfile
from trunkline.domain.events import InteractionOffered
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.domain.queue import QueueSpec, WrapUpMode, WrapUpPolicy
from trunkline.router.engine import Router, RouterSettings
from trunkline.router.records import AgentRecord, InteractionRecord

VOICE_ONLY = CapacityProfile(name="voice", limits={Medium.VOICE: 1}, max_total=1)
BLENDED = CapacityProfile(name="blended")
MEDIA_MIX = ((Medium.VOICE, 0.6), (Medium.CHAT, 0.25), (Medium.EMAIL, 0.15))


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    agents: int
    waiting: int
    skills: int
    queues: int
    seed: int


class TimedRouter(Router):
    """The engine, timing its routing decisions while ``timing`` is set.

    A decision is one pairing: finding the agent (or interaction) and making the offer,
    events included. An agent going ready may be paired several times in one call (a chat
    agent takes up to its capacity); each pairing then counts, with the call's time shared
    equally, and the whole call is also reported (``call_p99_us``). A search that finds
    nothing counts as one decision too. Commands also do intake work (creating the
    interaction and its events), reported separately as the command latency.
    """

    timing = False
    decision_ns: list[int]
    call_ns: list[int]

    def _record(self, elapsed: int, pairings: int) -> None:
        self.call_ns.append(elapsed)
        share = elapsed // max(1, pairings)
        self.decision_ns.extend([share] * max(1, pairings))

    def _route_interaction(self, it: InteractionRecord, now: float) -> None:
        if not self.timing:
            return super()._route_interaction(it, now)
        t0 = time.perf_counter_ns()
        super()._route_interaction(it, now)
        self._record(time.perf_counter_ns() - t0, 1)

    def _route_agent(self, agent: AgentRecord, now: float) -> bool:
        if not self.timing:
            return super()._route_agent(agent, now)
        before = len(agent.offers)
        t0 = time.perf_counter_ns()
        offered = super()._route_agent(agent, now)
        self._record(time.perf_counter_ns() - t0, len(agent.offers) - before)
        return offered


class NaiveRouter(TimedRouter):
    """The same engine with its indexes bypassed: every decision scans everything."""

    def _route_interaction(self, it: InteractionRecord, now: float) -> None:
        t0 = time.perf_counter_ns()
        self._naive_route_interaction(it, now)
        if self.timing:
            self._record(time.perf_counter_ns() - t0, 1)

    def _route_agent(self, agent: AgentRecord, now: float) -> bool:
        before = len(agent.offers)
        t0 = time.perf_counter_ns()
        offered = self._naive_route_agent(agent, now)
        if self.timing:
            self._record(time.perf_counter_ns() - t0, len(agent.offers) - before)
        return offered

    def _naive_route_interaction(self, it: InteractionRecord, now: float) -> None:
        if it.preferred_until is not None:
            return
        best: AgentRecord | None = None
        for agent in self._agents.values():
            if (
                agent.routable()
                and not it.need & agent.lacks
                and it.queues & agent.spec.queues
                and agent.spec.id not in it.rejected_by
                and (best is None or agent.idle_seq < best.idle_seq)
            ):
                best = agent
        if best is not None:
            self._offer(it, best, now)

    def _naive_route_agent(self, agent: AgentRecord, now: float) -> bool:
        offered = False
        while agent.routable():
            best: InteractionRecord | None = None
            for it in self._interactions.values():
                if (
                    it.state is InteractionState.QUEUED
                    and it.preferred_until is None
                    and not it.need & agent.lacks
                    and it.queues & agent.spec.queues
                    and agent.spec.id not in it.rejected_by
                    and (best is None or it.key < best.key)
                ):
                    best = it
            if best is None:
                break
            self._offer(best, agent, now)
            offered = True
        return offered


def _queues(n: int) -> dict[str, QueueSpec]:
    return {
        f"q{i}": QueueSpec(id=f"q{i}", wrap_up=WrapUpPolicy(mode=WrapUpMode.NONE)) for i in range(n)
    }


def _agents(w: Workload, rng: random.Random) -> dict[str, AgentSpec]:
    names = [f"s{i}" for i in range(w.skills)]
    out = {}
    for i in range(w.agents):
        held = rng.sample(names, rng.randint(4, min(10, w.skills)))
        out[f"a{i}"] = AgentSpec(
            id=f"a{i}",
            skills={s: rng.randint(1, 5) for s in held},
            queues=frozenset(f"q{q}" for q in rng.sample(range(w.queues), rng.randint(1, 3))),
            capacity=VOICE_ONLY if rng.random() < 0.5 else BLENDED,
        )
    return out


def _requests(w: Workload, rng: random.Random, prefix: str) -> Iterator[InteractionRequest]:
    names = [f"s{i}" for i in range(w.skills)]
    media = [m for m, _ in MEDIA_MIX]
    weights = [p for _, p in MEDIA_MIX]
    n = 0
    while True:
        n += 1
        needed = rng.sample(names, rng.randint(1, 3))
        yield InteractionRequest(
            id=f"{prefix}{n}",
            medium=rng.choices(media, weights)[0],
            queue=f"q{rng.randrange(w.queues)}",
            priority=rng.choice((0, 0, 0, 1, 2)),
            skills={s: rng.randint(1, 3) for s in needed},
        )


def _rate_and_percentiles(samples: list[int]) -> tuple[int, float, float]:
    ordered = sorted(samples)
    total_s = sum(ordered) / 1e9
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        round(len(ordered) / total_s) if total_s else 0,
        round(statistics.median(ordered) / 1000, 2),
        round(p99 / 1000, 2),
    )


def _summary(
    name: str, router: TimedRouter, commands: list[int], matched: int
) -> dict[str, object]:
    rate, p50, p99 = _rate_and_percentiles(router.decision_ns)
    _, _, call_p99 = _rate_and_percentiles(router.call_ns)
    command_rate, command_p50, command_p99 = _rate_and_percentiles(commands)
    return {
        "regime": name,
        "impl": type(router).__name__,
        "decisions": len(router.decision_ns),
        "matched": matched,
        "decisions_per_s": rate,
        "p50_us": p50,
        "p99_us": p99,
        "call_p99_us": call_p99,
        "commands_per_s": command_rate,
        "command_p50_us": command_p50,
        "command_p99_us": command_p99,
    }


def agents_waiting(w: Workload, router_cls: type[TimedRouter], decisions: int) -> dict[str, object]:
    """Every agent ready; each decision is an arrival choosing an agent."""
    rng = random.Random(w.seed)
    router = router_cls(queues=_queues(w.queues), agents=_agents(w, rng), now=0.0)
    now = 1.0
    for agent_id in list(_agents(w, random.Random(w.seed))):
        router.login(agent_id, now, ready=True)
    requests = _requests(w, rng, "i")
    samples: list[int] = []
    router.decision_ns = []
    router.call_ns = []
    matched = 0
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(decisions):
            now += 0.001
            request = next(requests)
            router.timing = True
            t0 = clock()
            router.submit(request, now)
            samples.append(clock() - t0)
            router.timing = False
            view = router.interaction(request.id)
            if view.state is InteractionState.OFFERED and view.agent_id is not None:
                matched += 1
                router.accept(request.id, view.agent_id, now)
                router.wrap_up(request.id, view.agent_id, now)
            else:
                router.cancel(request.id, now)
    finally:
        gc.enable()
    return _summary("agents_waiting", router, samples, matched)


def interactions_waiting(
    w: Workload, router_cls: type[TimedRouter], decisions: int
) -> dict[str, object]:
    """M interactions queued, agents not ready; each decision is an agent going ready."""
    rng = random.Random(w.seed)
    specs = _agents(w, rng)
    router = router_cls(
        queues=_queues(w.queues),
        agents=specs,
        now=0.0,
        settings=RouterSettings(),
    )
    now = 1.0
    agent_ids = list(specs)
    for agent_id in agent_ids:
        router.login(agent_id, now, ready=False, reason="bench")
    requests = _requests(w, rng, "i")
    for _ in range(w.waiting):
        now += 0.001
        router.submit(next(requests), now)
    samples: list[int] = []
    router.decision_ns = []
    router.call_ns = []
    matched = 0
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for n in range(decisions):
            now += 0.001
            agent_id = agent_ids[(n * 7919) % len(agent_ids)]
            router.timing = True
            t0 = clock()
            events = router.set_ready(agent_id, now)
            samples.append(clock() - t0)
            router.timing = False
            # Restore the regime: the agent stops taking work, finishes what it was
            # offered, and as many new arrivals replace the interactions it took.
            router.set_not_ready(agent_id, now, "bench")
            taken = [e.interaction_id for e in events if isinstance(e, InteractionOffered)]
            matched += bool(taken)
            for interaction_id in taken:
                router.accept(interaction_id, agent_id, now)
                router.wrap_up(interaction_id, agent_id, now)
                router.submit(next(requests), now)
            assert router.agent(agent_id).state is AgentState.NOT_READY
    finally:
        gc.enable()
    return _summary("interactions_waiting", router, samples, matched)


Regime = Callable[[Workload, type[TimedRouter], int], dict[str, object]]


def run(
    *,
    agents: int = 10_000,
    waiting: int = 10_000,
    skills: int = 50,
    queues: int = 20,
    seed: int = 1,
    decisions: int = 20_000,
    naive_decisions: int = 300,
    emit: Callable[[str], None] = print,
) -> list[dict[str, object]]:
    """Run both regimes for the indexed engine and the naive scan; print JSON lines."""
    w = Workload(agents=agents, waiting=waiting, skills=skills, queues=queues, seed=seed)
    results = []
    regimes: tuple[Regime, ...] = (agents_waiting, interactions_waiting)
    for regime in regimes:
        fast = regime(w, TimedRouter, decisions)
        naive = regime(w, NaiveRouter, naive_decisions)
        fast_rate = fast["decisions_per_s"]
        naive_rate = naive["decisions_per_s"]
        assert isinstance(fast_rate, int) and isinstance(naive_rate, int)
        line = {
            **fast,
            "naive_decisions_per_s": naive_rate,
            "naive_p50_us": naive["p50_us"],
            "speedup_vs_naive": round(fast_rate / naive_rate, 1),
            "naive_command_p50_us": naive["command_p50_us"],
            "command_speedup_vs_naive": round(
                float(str(naive["command_p50_us"])) / float(str(fast["command_p50_us"])), 1
            ),
            "workload": {
                "agents": agents,
                "waiting": waiting if regime is interactions_waiting else 0,
                "skills": skills,
                "queues": queues,
                "seed": seed,
            },
        }
        del line["impl"]
        emit(json.dumps(line))
        results.append(line)
    return results
