"""Reporting settings and time helpers: the one set of definitions live and historical
reports share (see ``docs/metrics.md`` for every formula).

Interval keys are UTC-aligned epoch seconds. With the default 15-minute interval they are
also local quarter-hours in every real time zone in use today, because every current UTC
offset (including +05:45 and +12:45) is a whole number of quarter-hours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from trunkline.domain.errors import ConfigError
from trunkline.domain.media import Medium
from trunkline.domain.queue import ServiceLevelTarget

if TYPE_CHECKING:  # only the type: reporting does not pull in the config loader
    from trunkline.config.loader import Config

DEFAULT_INTERVAL_S = 900
DEFAULT_SHORT_ABANDON_S = 5.0
# The answer is due within seconds on live media and within hours on deferred ones.
_LIVE_TARGET = ServiceLevelTarget(percent=80.0, threshold_s=20.0)
_DEFERRED_TARGET = ServiceLevelTarget(percent=90.0, threshold_s=4 * 3600.0)
DEFAULT_SERVICE_LEVELS: Mapping[Medium, ServiceLevelTarget] = MappingProxyType(
    {
        Medium.VOICE: _LIVE_TARGET,
        Medium.CHAT: _LIVE_TARGET,
        Medium.CALLBACK: _LIVE_TARGET,
        Medium.EMAIL: _DEFERRED_TARGET,
        Medium.FAX: _DEFERRED_TARGET,
        Medium.VOICEMAIL: _DEFERRED_TARGET,
    }
)

_SECONDS_PER_DAY = 86_400


def _no_targets() -> Mapping[tuple[str, Medium], ServiceLevelTarget]:
    return MappingProxyType({})


def _no_costs() -> Mapping[Medium, float]:
    return MappingProxyType({})


def _default_targets() -> Mapping[Medium, ServiceLevelTarget]:
    return DEFAULT_SERVICE_LEVELS


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportingSettings:
    """What the figures depend on besides the events themselves.

    ``service_levels`` holds the per (queue, medium) targets from the configuration; a
    pair not listed falls back to ``default_service_levels`` for its medium. Costs are in
    the centre's currency, per medium; a medium not listed costs nothing.
    """

    timezone: str = "UTC"
    interval_s: int = DEFAULT_INTERVAL_S
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S
    service_levels: Mapping[tuple[str, Medium], ServiceLevelTarget] = field(
        default_factory=_no_targets
    )
    default_service_levels: Mapping[Medium, ServiceLevelTarget] = field(
        default_factory=_default_targets
    )
    cost_per_handled_minute: Mapping[Medium, float] = field(default_factory=_no_costs)
    cost_per_interaction: Mapping[Medium, float] = field(default_factory=_no_costs)
    resolved_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        problems: list[str] = []
        if (
            not isinstance(self.interval_s, int)
            or self.interval_s <= 0
            or _SECONDS_PER_DAY % self.interval_s
        ):
            # Intervals must tile a day exactly, or days and intervals would not nest.
            problems.append(f"interval_s must divide a day, got {self.interval_s!r}")
        if self.short_abandon_s < 0:
            problems.append(f"short_abandon_s must not be negative, got {self.short_abandon_s}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"unknown time zone {self.timezone!r}")
        for name in ("cost_per_handled_minute", "cost_per_interaction"):
            rates: Mapping[Medium, float] = getattr(self, name)
            if any(rate < 0 for rate in rates.values()):
                problems.append(f"{name} must not be negative")
        if problems:
            raise ConfigError(
                "invalid reporting settings: " + "; ".join(problems),
                details={"errors": problems},
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)  # ZoneInfo caches instances by key

    def service_level(self, queue: str, medium: Medium) -> ServiceLevelTarget:
        """The target for ``queue`` on ``medium``: configured, else the medium's default."""
        target = self.service_levels.get((queue, medium))
        if target is not None:
            return target
        return self.default_service_levels.get(medium, _LIVE_TARGET)


def settings_from_config(
    config: Config,
    *,
    interval_s: int = DEFAULT_INTERVAL_S,
    short_abandon_s: float | None = None,
    cost_per_handled_minute: Mapping[Medium, float] | None = None,
    cost_per_interaction: Mapping[Medium, float] | None = None,
) -> ReportingSettings:
    """Reporting settings from the loaded configuration (its ``reporting:`` section gives
    the short-abandon threshold and the costs; keyword arguments override them)."""
    section = config.reporting
    if short_abandon_s is None:
        short_abandon_s = section.short_abandon_s
    if cost_per_handled_minute is None:
        cost_per_handled_minute = section.cost_per_handled_minute
    if cost_per_interaction is None:
        cost_per_interaction = section.cost_per_interaction
    service_levels = {
        (qid, medium): target
        for qid, spec in config.queues.items()
        for medium, target in spec.service_level.items()
    }
    return ReportingSettings(
        timezone=config.centre.timezone,
        interval_s=interval_s,
        short_abandon_s=short_abandon_s,
        service_levels=MappingProxyType(service_levels),
        cost_per_handled_minute=MappingProxyType(dict(cost_per_handled_minute or {})),
        cost_per_interaction=MappingProxyType(dict(cost_per_interaction or {})),
        resolved_codes=frozenset(code for code, c in config.wrap_up_codes.items() if c.resolved),
    )


# -- time --------------------------------------------------------------------------------


def _zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def to_ms(seconds: float) -> int:
    """Seconds as whole milliseconds: every duration is summed as an integer, so sums
    are exact and do not depend on the order or grouping of the additions."""
    return round(seconds * 1000)


def interval_start(at: float, interval_s: int = DEFAULT_INTERVAL_S) -> int:
    """The start (epoch seconds, UTC-aligned) of the interval holding instant ``at``."""
    step_ms = interval_s * 1000
    return to_ms(at) // step_ms * interval_s


def local_date(at: float, tz: str | ZoneInfo) -> date:
    """The calendar date at instant ``at`` in time zone ``tz``."""
    return datetime.fromtimestamp(at, _zone(tz)).date()


def local_midnight(day: date, tz: str | ZoneInfo) -> float:
    """The instant local ``day`` begins.

    Where a clock change skips midnight, the day begins at the change (zoneinfo reads a
    skipped wall time with the offset in force before it).
    """
    return datetime.combine(day, time(0), tzinfo=_zone(tz)).timestamp()


def local_day_bounds(day: date, tz: str | ZoneInfo) -> tuple[float, float]:
    """``(start, end)`` instants of local ``day``: 23, 24 or 25 hours apart."""
    return local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)


def intervals_of_local_day(
    day: date, tz: str | ZoneInfo, interval_s: int = DEFAULT_INTERVAL_S
) -> list[int]:
    """Start of every interval of local ``day``, in order (100 of them on a 25-hour day).

    Should midnight fall inside an interval (a zone offset that is not a whole number of
    intervals), the interval holding midnight is the day's first.
    """
    start, end = local_day_bounds(day, tz)
    first = interval_start(start, interval_s)
    return list(range(first, math.ceil(end), interval_s))


def local_label(at: float, tz: str | ZoneInfo) -> str:
    """ISO 8601 local time with its offset: the two 01:00s of an autumn change differ."""
    return datetime.fromtimestamp(at, _zone(tz)).isoformat()
