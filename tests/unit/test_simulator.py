"""The demo simulator: its decisions without a clock, and a short run on a real service."""

from __future__ import annotations

import asyncio
import random
import statistics
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trunkline.config.loader import DEMO_CONFIG, load_config_text, load_packaged_config
from trunkline.demo.simulator import (
    DEMO_MIX,
    Behaviour,
    OfferAction,
    Simulator,
    SimulatorSettings,
    TrafficKind,
    traffic_for,
)
from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    Event,
    InteractionCompleted,
    InteractionOffered,
    InteractionRefused,
    OfferAccepted,
)
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.router.engine import Router
from trunkline.service.routing import RoutingService, router_settings
from trunkline.store.event_store import EventStore

DEMO = load_packaged_config(DEMO_CONFIG)
MIX = traffic_for(DEMO)
BY_QUEUE = {"sales": ["alice", "bruno"], "support": ["chloe"]}


def arrivals(seed: int, n: int, behaviour: Behaviour | None = None) -> list[InteractionRequest]:
    b = behaviour or Behaviour()
    rng = random.Random(seed)
    return [
        b.arrival(rng, interaction_id=f"i{k}", mix=MIX, agents_by_queue=BY_QUEUE).request
        for k in range(n)
    ]


# -- agents' decisions ------------------------------------------------------------------


def test_the_same_seed_gives_the_same_decisions() -> None:
    b = Behaviour()
    one, two = random.Random(7), random.Random(7)
    first = [(b.offer_response(one), b.handle_time(one, Medium.CHAT)) for _ in range(50)]
    second = [(b.offer_response(two), b.handle_time(two, Medium.CHAT)) for _ in range(50)]
    assert first == second
    assert arrivals(3, 20) == arrivals(3, 20)
    assert arrivals(3, 20) != arrivals(4, 20)


def test_agents_mostly_accept_and_sometimes_reject_or_miss() -> None:
    b = Behaviour()
    rng = random.Random(1)
    responses = [b.offer_response(rng) for _ in range(20_000)]
    share = Counter(r.action for r in responses)
    assert share[OfferAction.REJECT] / len(responses) == pytest.approx(0.05, abs=0.01)
    assert share[OfferAction.MISS] / len(responses) == pytest.approx(0.02, abs=0.005)
    rung = [r.after_s for r in responses if r.action is not OfferAction.MISS]
    assert min(rung) >= 0.5 and max(rung) <= 3.0
    assert all(r.after_s == 0 for r in responses if r.action is OfferAction.MISS)


def test_never_rejecting_agents_never_reject() -> None:
    b = Behaviour(reject_share=0.0, miss_share=0.0)
    rng = random.Random(2)
    assert {b.offer_response(rng).action for _ in range(1000)} == {OfferAction.ACCEPT}


@pytest.mark.parametrize(
    ("medium", "low", "high"),
    [(Medium.VOICE, 5, 20), (Medium.CHAT, 8, 30), (Medium.EMAIL, 3, 10)],
)
def test_handle_times_follow_the_medium(medium: Medium, low: float, high: float) -> None:
    b = Behaviour()
    rng = random.Random(3)
    times = [b.handle_time(rng, medium) for _ in range(2000)]
    assert low <= min(times) and max(times) <= high
    assert statistics.mean(times) == pytest.approx((low + high) / 2, rel=0.05)


def test_dispositions_come_from_the_configured_codes() -> None:
    b = Behaviour()
    rng = random.Random(4)
    codes = list(DEMO.wrap_up_codes)
    assert {b.disposition(rng, codes) for _ in range(500)} == set(codes)
    assert b.disposition(rng, []) is None


def test_breaks_are_occasional_and_bounded() -> None:
    b = Behaviour()
    rng = random.Random(5)
    breaks = [b.take_break(rng) for _ in range(10_000)]
    taken = [p for p in breaks if p is not None]
    assert len(taken) / len(breaks) == pytest.approx(0.03, abs=0.01)
    assert all(15 <= p <= 45 for p in taken)


# -- customers --------------------------------------------------------------------------


def test_arrivals_are_poisson_at_the_given_rate() -> None:
    b = Behaviour()
    rng = random.Random(6)
    gaps = [b.arrival_gap(rng, 2.0) for _ in range(20_000)]
    assert statistics.mean(gaps) == pytest.approx(0.5, rel=0.05)
    # Exponential gaps: the standard deviation equals the mean.
    assert statistics.stdev(gaps) == pytest.approx(0.5, rel=0.05)


def test_customers_bring_realistic_attached_data() -> None:
    requests = arrivals(8, 3000)
    kinds = {(k.queue, k.medium) for k in MIX}
    assert {(r.queue, r.medium) for r in requests} == kinds
    # Each channel attaches the identity the CRM recognises the customer by.
    identity_key = {Medium.EMAIL: "from_address", Medium.CHAT: "visitor_id"}
    assert all(identity_key.get(r.medium, "caller_id") in r.data for r in requests)
    assert all(r.customer_id is None for r in requests)  # recognition decides
    french = [r for r in requests if r.data["country"] in ("FR", "BE")]
    assert len(french) / len(requests) == pytest.approx(0.2, abs=0.03)
    urgent = [r for r in requests if r.priority == 5]
    assert urgent and all(r.queue == "billing" and r.medium is Medium.VOICE for r in urgent)
    assert all(r.data["reason"] == "payment_failed" for r in urgent)
    returning = [r for r in requests if "last_agent" in r.data]
    assert returning and all(r.data["last_agent"] in BY_QUEUE[r.queue] for r in returning)
    assert len({r.id for r in requests}) == len(requests)


def test_callers_and_chatters_lose_patience_but_emails_wait() -> None:
    b = Behaviour()
    rng = random.Random(9)
    drawn = [b.arrival(rng, interaction_id="x", mix=MIX, agents_by_queue={}) for _ in range(2000)]
    for arrival in drawn:
        medium = arrival.request.medium
        if medium is Medium.VOICE:
            assert arrival.patience_s is not None and 20 <= arrival.patience_s <= 90
        elif medium is Medium.CHAT:
            assert arrival.patience_s is not None and 30 <= arrival.patience_s <= 150
        else:
            assert arrival.patience_s is None


def test_another_centre_gets_one_kind_per_queue_and_medium() -> None:
    config = load_config_text(
        """
        queues:
          front: {service_level: {voice: {percent: 80, threshold_s: 20}}}
          web: {}
        """,
        "other.yaml",
    )
    assert traffic_for(config) == (
        TrafficKind(queue="front", medium=Medium.VOICE, weight=1.0),
        TrafficKind(queue="web", medium=Medium.CHAT, weight=1.0),
    )


def test_demo_mix_only_asks_for_configured_skills() -> None:
    assert len(MIX) == len(DEMO_MIX)
    for kind in MIX:
        assert kind.queue in DEMO.queues
        assert set(kind.skills) <= set(DEMO.skills)


def test_demo_traffic_is_routed_at_any_hour_and_refused_only_sometimes() -> None:
    """Every hour of a week: most demo traffic is accepted; billing refuses calls at night."""
    london = ZoneInfo(DEMO.centre.timezone)
    monday = datetime(2025, 3, 3, tzinfo=london)  # no closed date that week
    refused_hours = 0
    for hour in range(7 * 24):
        now = (monday + timedelta(hours=hour, minutes=30)).timestamp()
        router = Router(
            queues=DEMO.queues,
            agents=DEMO.agents,
            now=now,
            settings=router_settings(DEMO),
            rules=DEMO.rules,
        )
        refused = 0.0
        for n, kind in enumerate(MIX):
            request = InteractionRequest(
                id=f"r{n}", medium=kind.medium, queue=kind.queue, skills=dict(kind.skills)
            )
            if any(isinstance(e, InteractionRefused) for e in router.submit(request, now)):
                refused += kind.weight
                assert (kind.queue, kind.medium) == ("billing", Medium.VOICE)
        assert refused / sum(k.weight for k in MIX) < 0.2
        refused_hours += refused > 0
    assert 0 < refused_hours < 7 * 24


# -- a short run against the real service -----------------------------------------------


def test_settings_refuse_a_stopped_clock() -> None:
    with pytest.raises(ValueError):
        SimulatorSettings(speed=0)
    with pytest.raises(ValueError):
        SimulatorSettings(rate=-1)


async def test_simulator_answers_and_completes_interactions_on_a_real_service(
    tmp_path: Path,
) -> None:
    store = await EventStore.open(f"sqlite:///{tmp_path / 'demo.db'}")
    service = RoutingService(config=DEMO, store=store)
    await service.start()
    # Twenty demo seconds per second; no misses, so no agent waits out a real offer timeout.
    settings = SimulatorSettings(speed=20, seed=1, run_id="t", behaviour=Behaviour(miss_share=0.0))
    simulator = Simulator(service, settings)
    seen: list[Event] = []

    def wanted(event: Event) -> bool:
        return isinstance(event, OfferAccepted | InteractionCompleted)

    with service.bus.subscribe(wanted) as events:
        task = asyncio.create_task(simulator.run())
        async with asyncio.timeout(60):  # a bound, not a measurement
            while sum(isinstance(e, InteractionCompleted) and not e.auto for e in seen) < 3:
                event = await events.get()
                assert event is not None
                seen.append(event)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    answered = [e for e in seen if isinstance(e, OfferAccepted)]
    completed = [e for e in seen if isinstance(e, InteractionCompleted) and not e.auto]
    assert answered and all(e.interaction_id.startswith("t-") for e in answered)
    assert all(e.disposition in DEMO.wrap_up_codes for e in completed)
    # (stats.accepted is not compared: an accept whose commit wait is cut by the cancel is
    # on the bus but not yet counted, so the two can differ by the agents in flight.)
    assert simulator.stats.accepted > 0
    # Stopping logs out every agent who holds no work.
    for agent in service.agents():
        if not (agent.active or agent.wrapping):
            assert agent.state is AgentState.LOGGED_OUT, agent.id
    await service.stop()
    recorded = await store.events(limit=100_000)
    assert {e["interaction_id"] for e in recorded if e["type"] == "offer_accepted"} >= {
        e.interaction_id for e in answered
    }
    await store.close()


async def test_an_agent_taken_over_by_a_person_is_left_to_them(tmp_path: Path) -> None:
    store = await EventStore.open(f"sqlite:///{tmp_path / 'demo.db'}")
    service = RoutingService(config=DEMO, store=store)
    await service.start()
    settings = SimulatorSettings(speed=20, seed=2, run_id="h", behaviour=Behaviour(miss_share=0.0))
    humans = {"alice"}  # alice's desktop is open: a person answers her offers
    simulator = Simulator(service, settings, human_at=lambda agent_id: agent_id in humans)
    accepted: list[OfferAccepted] = []
    offered_to_alice: list[str] = []

    def wanted(event: Event) -> bool:
        return isinstance(event, OfferAccepted | InteractionOffered)

    with service.bus.subscribe(wanted) as events:
        task = asyncio.create_task(simulator.run())
        async with asyncio.timeout(60):  # a bound, not a measurement
            while len(accepted) < 10 or not offered_to_alice:
                event = await events.get()
                if isinstance(event, OfferAccepted):
                    accepted.append(event)
                elif isinstance(event, InteractionOffered) and event.agent_id == "alice":
                    offered_to_alice.append(event.interaction_id)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    # Alice was offered work, but the simulator never answered for her.
    assert offered_to_alice and all(e.agent_id != "alice" for e in accepted)
    await service.stop()
    await store.close()
