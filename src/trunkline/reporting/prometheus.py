"""Prometheus gauges read from the live statistics, the same fold as the wallboard, so
/metrics and the wallboard cannot disagree. (Counters and histograms are bumped from
events in :mod:`trunkline.service.metrics`.)"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from trunkline.reporting.service import ReportingService

# Today's figures per queue and medium: (metric suffix, snapshot key, help).
_TODAY: tuple[tuple[str, str, str], ...] = (
    (
        "service_level_percent",
        "sl_answered",
        "Today's service level: answered within threshold / (offered - short abandons)",
    ),
    ("asa_seconds", "asa_s", "Today's average speed of answer"),
    ("aht_seconds", "aht_s", "Today's average handle time (handle + wrap-up)"),
    ("abandon_rate_percent", "abandon_rate", "Today's abandoned / offered"),
)
# Erlang C estimates per queue and medium.
_ESTIMATE: tuple[tuple[str, str, str], ...] = (
    ("expected_wait_seconds", "expected_wait_s", "Erlang C expected wait for a new arrival"),
    (
        "expected_service_level_percent",
        "service_level_percent",
        "Erlang C service level expected with the agents logged in",
    ),
    ("agents_needed", "agents_needed", "Erlang C agents needed to meet the target"),
)


class LiveGauges(Collector):
    def __init__(self, reporting: ReportingService) -> None:
        self._reporting = reporting

    def collect(self) -> Iterator[Metric]:
        snapshot = self._reporting.snapshot()
        waiting = GaugeMetricFamily(
            "trunkline_queue_waiting", "Interactions waiting in the queue", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "trunkline_queue_oldest_wait_seconds",
            "How long the longest-waiting interaction has waited",
            labels=["queue"],
        )
        today = {
            key: GaugeMetricFamily(f"trunkline_queue_{name}", text, labels=["queue", "medium"])
            for name, key, text in _TODAY
        }
        estimate = {
            key: GaugeMetricFamily(f"trunkline_queue_{name}", text, labels=["queue", "medium"])
            for name, key, text in _ESTIMATE
        }
        for queue in snapshot["queues"]:
            qid = queue["id"]
            waiting.add_metric([qid], queue["waiting"])
            oldest.add_metric([qid], queue["longest_wait_s"] or 0.0)
            _add(today, qid, queue["today_by_medium"])
            _add(estimate, qid, queue["estimate"] or {})
        yield waiting
        yield oldest
        yield from today.values()
        yield from estimate.values()
        agents = GaugeMetricFamily("trunkline_agents", "Agents by state", labels=["state"])
        for state, count in snapshot["centre"]["agents"].items():
            agents.add_metric([state], count)
        yield agents


def _add(
    families: Mapping[str, GaugeMetricFamily], queue: str, by_medium: Mapping[str, Any]
) -> None:
    for medium, figures in by_medium.items():
        for key, family in families.items():
            value = (figures or {}).get(key)
            if isinstance(value, int | float):  # None (0/0) is left out, not reported as 0
                family.add_metric([queue, medium], float(value))
