"""Business hours: weekly opening windows in a time zone, with closed dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class BusinessHours:
    """Opening windows per weekday (local time, end exclusive) and closed dates.

    A window whose end is not after its start runs past midnight (22:00-06:00).
    """

    name: str
    timezone: str = "UTC"
    weekly: Mapping[str, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    closed_dates: frozenset[date] = frozenset()

    def is_open(self, at: float) -> bool:
        """Whether the calendar is open at epoch second ``at``."""
        local = datetime.fromtimestamp(at, ZoneInfo(self.timezone))
        day = local.date()
        now = local.time().replace(tzinfo=None)
        today = WEEKDAYS[local.weekday()]
        yesterday = WEEKDAYS[(local.weekday() - 1) % 7]
        if day not in self.closed_dates:
            for start, end in self.weekly.get(today, ()):
                if start < end and start <= now < end:
                    return True
                if end <= start and now >= start:
                    return True
        # The tail of yesterday's overnight window belongs to yesterday's date.
        if day.fromordinal(day.toordinal() - 1) not in self.closed_dates:
            for start, end in self.weekly.get(yesterday, ()):
                if end <= start and now < end:
                    return True
        return False


ALWAYS_OPEN = BusinessHours(
    name="always",
    weekly={d: ((time(0, 0), time(0, 0)),) for d in WEEKDAYS},
)
