"""Reporting: one set of metric definitions (``docs/metrics.md``) folded from events.

- :mod:`~trunkline.reporting.definitions`: settings, service-level defaults, time helpers;
- :mod:`~trunkline.reporting.fold`: interval counters per queue × medium and per agent;
- :mod:`~trunkline.reporting.live`: "now" and "today" for wallboards, with deltas;
- :mod:`~trunkline.reporting.erlang`: Erlang C estimates;
- :mod:`~trunkline.reporting.throttle`: when the next wallboard update is due;
- :mod:`~trunkline.reporting.service`: the adapter that keeps the live statistics of the
  running centre (rebuilt from the record at start, then fed by the event bus).
"""

from __future__ import annotations

from trunkline.reporting.definitions import (
    DEFAULT_SERVICE_LEVELS,
    ReportingSettings,
    intervals_of_local_day,
    settings_from_config,
)
from trunkline.reporting.fold import (
    AgentCounters,
    AgentKey,
    Fold,
    QueueCounters,
    QueueKey,
    derive,
    derive_agent,
)

__all__ = [
    "DEFAULT_SERVICE_LEVELS",
    "AgentCounters",
    "AgentKey",
    "Fold",
    "QueueCounters",
    "QueueKey",
    "ReportingSettings",
    "derive",
    "derive_agent",
    "intervals_of_local_day",
    "settings_from_config",
]
