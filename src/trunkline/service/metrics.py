"""Prometheus metrics folded from events (never read from router internals)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)

WAIT_BUCKETS = (1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600, 14400, 86400)
DECISION_BUCKETS = (
    0.000005,
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
)


class _LiveGauges(Collector):
    """Waiting counts, oldest wait and agents by state, computed at scrape time."""

    def __init__(self, metrics: RoutingMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Metric]:
        now = self._m.clock()
        waiting = GaugeMetricFamily(
            "trunkline_queue_waiting", "Interactions waiting in the queue", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "trunkline_queue_oldest_wait_seconds",
            "How long the longest-waiting interaction has waited",
            labels=["queue"],
        )
        for queue in sorted(self._m.queues | set(self._m.waiting_by_queue)):
            entries = self._m.waiting_by_queue.get(queue, {})
            waiting.add_metric([queue], len(entries))
            oldest.add_metric([queue], max(0.0, now - min(entries.values())) if entries else 0.0)
        yield waiting
        yield oldest
        agents = GaugeMetricFamily("trunkline_agents", "Agents by state", labels=["state"])
        counts = {state: 0 for state in AgentState if state is not AgentState.LOGGED_OUT}
        for state in self._m.agent_states.values():
            if state in counts:
                counts[state] += 1
        for state, n in counts.items():
            agents.add_metric([state.value], n)
        yield agents


class RoutingMetrics:
    """Counters and histograms bumped from events, plus gauges read at scrape time."""

    def __init__(self, clock: object, queues: set[str] | None = None) -> None:
        assert callable(clock)
        self.clock = clock
        self.registry = CollectorRegistry()
        self.queues: set[str] = set(queues or ())
        self.waiting_by_queue: dict[str, dict[str, float]] = {}
        self._waiting_queue: dict[str, str] = {}
        self._arrived: dict[str, float] = {}
        self.agent_states: dict[str, AgentState] = {}
        labels = ["queue", "medium"]
        r = self.registry
        self.offered = Counter(
            "trunkline_interactions_offered",
            "Interactions that arrived in a queue",
            labels,
            registry=r,
        )
        self.answered = Counter(
            "trunkline_interactions_answered",
            "Interactions accepted by an agent",
            labels,
            registry=r,
        )
        self.abandoned = Counter(
            "trunkline_interactions_abandoned",
            "Interactions whose customer left before an answer",
            labels,
            registry=r,
        )
        self.refused = Counter(
            "trunkline_interactions_refused", "Arrivals refused (queue closed)", labels, registry=r
        )
        self.completed = Counter(
            "trunkline_interactions_completed",
            "Interactions closed after wrap-up",
            labels,
            registry=r,
        )
        self.transferred = Counter(
            "trunkline_interactions_transferred",
            "Transfers to another queue or agent",
            ["queue"],
            registry=r,
        )
        self.offers = Counter(
            "trunkline_offers",
            "Offers made to agents, by outcome",
            ["queue", "outcome"],
            registry=r,
        )
        self.wait = Histogram(
            "trunkline_wait_seconds",
            "Time from arrival to answer (answered) or to leaving (abandoned)",
            ["queue", "outcome"],
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.decision = Histogram(
            "trunkline_routing_decision_seconds",
            "Time the routing engine spent on one command that can route",
            buckets=DECISION_BUCKETS,
            registry=r,
        )
        r.register(_LiveGauges(self))

    def _unwait(self, interaction_id: str) -> None:
        queue = self._waiting_queue.pop(interaction_id, None)
        if queue is not None:
            self.waiting_by_queue.get(queue, {}).pop(interaction_id, None)

    def observe(self, event: Event) -> None:
        match event:
            case InteractionCreated():
                self.offered.labels(event.queue, event.medium.value).inc()
                self._arrived[event.interaction_id] = event.created_at
            case InteractionQueued():
                self._unwait(event.interaction_id)
                self._waiting_queue[event.interaction_id] = event.queue
                # The wait counts from arrival (a requeue keeps it), or from the transfer.
                since = event.at
                if event.reason != "transferred":
                    since = self._arrived.get(event.interaction_id, event.at)
                self.waiting_by_queue.setdefault(event.queue, {})[event.interaction_id] = since
            case InteractionOffered():
                self._unwait(event.interaction_id)
            case OfferAccepted():
                self.answered.labels(event.queue, event.medium.value).inc()
                self.offers.labels(event.queue, "accepted").inc()
                self.wait.labels(event.queue, "answered").observe(event.waited_s)
            case OfferRejected():
                self.offers.labels(event.queue, "rejected").inc()
            case OfferTimedOut():
                self.offers.labels(event.queue, "timed_out").inc()
            case OfferRevoked():
                self.offers.labels(event.queue, "revoked").inc()
            case InteractionAbandoned():
                self._unwait(event.interaction_id)
                self._arrived.pop(event.interaction_id, None)
                self.abandoned.labels(event.queue, event.medium.value).inc()
                self.wait.labels(event.queue, "abandoned").observe(event.waited_s)
            case InteractionCancelled():
                self._unwait(event.interaction_id)
                self._arrived.pop(event.interaction_id, None)
            case InteractionRefused():
                self._arrived.pop(event.interaction_id, None)
                self.refused.labels(event.queue, event.medium.value).inc()
            case InteractionCompleted():
                self._arrived.pop(event.interaction_id, None)
                self.completed.labels(event.queue, event.medium.value).inc()
            case InteractionTransferred():
                self.transferred.labels(event.from_queue).inc()
            case AgentStateChanged():
                self.agent_states[event.agent_id] = event.new
            case _:
                pass
