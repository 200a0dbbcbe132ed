"""Prometheus counters and histograms bumped from events (never read from router internals).

The gauges (waiting, oldest wait, agents by state, today's figures, Erlang C) come from the
live statistics, :mod:`trunkline.reporting.prometheus`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from trunkline.domain.events import (
    Event,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionCreated,
    InteractionMoved,
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


class RoutingMetrics:
    """Counters and histograms bumped from events, plus gauges read at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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

    def observe(self, event: Event) -> None:
        match event:
            case InteractionCreated():
                self.offered.labels(event.queue, event.medium.value).inc()
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
                self.abandoned.labels(event.queue, event.medium.value).inc()
                self.wait.labels(event.queue, "abandoned").observe(event.waited_s)
            case InteractionRefused():
                self.refused.labels(event.queue, event.medium.value).inc()
            case InteractionCompleted():
                self.completed.labels(event.queue, event.medium.value).inc()
            case InteractionTransferred() | InteractionMoved():
                self.transferred.labels(event.from_queue).inc()
            case _:
                pass
