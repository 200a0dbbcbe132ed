"""Historical reports: rollup rows grouped into local intervals, days, weeks or months.

Reports read only the ``rollup_*`` tables (never raw events) and turn merged counters into
figures with the same ``derive`` / ``derive_agent`` the live view uses. Periods follow the
centre's local calendar, so a 25-hour autumn day has 100 intervals.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, get_args

from sqlalchemy.exc import SQLAlchemyError

from trunkline.domain.agent import AgentState
from trunkline.domain.media import Medium
from trunkline.reporting import rollup_sql
from trunkline.reporting.definitions import (
    ReportingSettings,
    interval_start,
    intervals_of_local_day,
    local_day_bounds,
    local_label,
    local_midnight,
)
from trunkline.reporting.fold import AgentCounters, QueueCounters, derive, derive_agent
from trunkline.store.errors import StoreError
from trunkline.store.event_store import EventStore

__all__ = [
    "GROUPS",
    "Group",
    "Period",
    "agent_report",
    "agent_report_csv",
    "periods",
    "queue_report",
    "queue_report_csv",
]

Group = Literal["interval", "day", "week", "month"]
GROUPS: tuple[Group, ...] = get_args(Group)
Report = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Period:
    """One group of a report: the instants ``[start, end)``."""

    start: float
    end: float


def periods(first: date, last: date, group: Group, settings: ReportingSettings) -> list[Period]:
    """The report's groups covering local days ``first`` to ``last`` (inclusive), in order.

    Weeks (Monday to Sunday) and months are cut to the range at its ends.
    """
    zone = settings.zone
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if group == "interval":
        step = settings.interval_s
        return [Period(s, s + step) for d in days for s in intervals_of_local_day(d, zone, step)]
    if group == "day":
        return [Period(*local_day_bounds(d, zone)) for d in days]
    starts: list[date] = []
    for d in days:
        head = d - timedelta(days=d.weekday()) if group == "week" else d.replace(day=1)
        if not starts or head != _head(starts[-1], group):
            starts.append(max(head, first))
    ends = [*starts[1:], last + timedelta(days=1)]
    return [
        Period(local_midnight(s, zone), local_midnight(e, zone))
        for s, e in zip(starts, ends, strict=True)
    ]


def _head(d: date, group: Group) -> date:
    return d - timedelta(days=d.weekday()) if group == "week" else d.replace(day=1)


def _bounds(groups: Sequence[Period], settings: ReportingSettings) -> tuple[int, int]:
    return interval_start(groups[0].start, settings.interval_s), math.ceil(groups[-1].end)


def _group_of(starts: list[float], interval: int) -> int:
    return bisect.bisect_right(starts, interval) - 1


def _label(at: float, settings: ReportingSettings) -> str:
    return local_label(at, settings.zone)


async def queue_report(
    store: EventStore,
    settings: ReportingSettings,
    *,
    first: date,
    last: date,
    group: Group,
    queue: str | None = None,
    medium: Medium | None = None,
) -> Report:
    """Figures per group × queue × medium, and each group's total over its rows.

    Every group is listed, with no rows where nothing happened.
    """
    groups = periods(first, last, group, settings)
    start, end = _bounds(groups, settings)
    try:
        async with store.engine.connect() as conn:
            rows = await rollup_sql.queue_rows_between(conn, start, end, queue=queue, medium=medium)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"report query failed: {exc}") from exc
    starts = [p.start for p in groups]
    merged: list[dict[tuple[str, Medium], QueueCounters]] = [{} for _ in groups]
    for key, counters in rows.items():
        index = _group_of(starts, key.interval)
        if 0 <= index < len(groups) and key.interval < groups[index].end:
            into = merged[index].get((key.queue, key.medium))
            if into is None:
                merged[index][(key.queue, key.medium)] = counters
            else:
                into.merge(counters)
    out_groups = []
    for period, by_key in zip(groups, merged, strict=True):
        total = QueueCounters()
        out_rows = []
        for (q, m), counters in sorted(by_key.items()):
            total.merge(counters)
            out_rows.append(
                {"queue": q, "medium": m.value} | derive(counters, settings, queue=q, medium=m)
            )
        out_groups.append(
            {
                "start": _label(period.start, settings),
                "end": _label(period.end, settings),
                "rows": out_rows,
                "total": derive(total),
            }
        )
    return _envelope(first, last, group, settings) | {
        "filters": {"queue": queue, "medium": None if medium is None else medium.value},
        "groups": out_groups,
    }


async def agent_report(
    store: EventStore,
    settings: ReportingSettings,
    *,
    first: date,
    last: date,
    group: Group,
    agent: str | None = None,
) -> Report:
    """Figures per group × agent: time per state and not-ready reason, occupancy, work."""
    groups = periods(first, last, group, settings)
    start, end = _bounds(groups, settings)
    try:
        async with store.engine.connect() as conn:
            rows = await rollup_sql.agent_rows_between(conn, start, end, agent=agent)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"report query failed: {exc}") from exc
    starts = [p.start for p in groups]
    merged: list[dict[str, AgentCounters]] = [{} for _ in groups]
    for key, counters in rows.items():
        index = _group_of(starts, key.interval)
        if 0 <= index < len(groups) and key.interval < groups[index].end:
            into = merged[index].get(key.agent)
            if into is None:
                merged[index][key.agent] = counters
            else:
                into.merge(counters)
    out_groups = [
        {
            "start": _label(period.start, settings),
            "end": _label(period.end, settings),
            "rows": [{"agent_id": a} | derive_agent(c) for a, c in sorted(by_agent.items())],
        }
        for period, by_agent in zip(groups, merged, strict=True)
    ]
    return _envelope(first, last, group, settings) | {
        "filters": {"agent": agent},
        "groups": out_groups,
    }


def _envelope(first: date, last: date, group: Group, settings: ReportingSettings) -> Report:
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "group": group,
        "timezone": settings.timezone,
        "interval_s": settings.interval_s,
    }


# -- CSV ---------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    # Spreadsheets in any locale read '.' decimals from CSV text; an empty cell is "no value".
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _write(header: Sequence[str], lines: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for line in lines:
        writer.writerow([_cell(v) for v in line])
    return buffer.getvalue()


def queue_report_csv(report: Report) -> str:
    """One line per group × queue × medium of ``report``, after a header line."""
    figures: list[str] = []
    for g in report["groups"]:
        for row in g["rows"]:
            figures.extend(k for k in row if k not in ("queue", "medium") and k not in figures)
    header = ["start", "end", "queue", "medium", *figures]
    lines = (
        [g["start"], g["end"], row["queue"], row["medium"], *(row.get(k) for k in figures)]
        for g in report["groups"]
        for row in g["rows"]
    )
    return _write(header, lines)


def agent_report_csv(report: Report) -> str:
    """One line per group × agent; state and not-ready times as ``state_s.*`` columns."""
    reasons = sorted({r for g in report["groups"] for row in g["rows"] for r in row["not_ready_s"]})
    states = [s.value for s in AgentState if s is not AgentState.LOGGED_OUT]
    plain = [
        "staffed_s",
        "occupancy",
        "utilisation",
        "handled",
        "completed",
        "avg_handle_s",
        "avg_wrap_s",
        "aht_s",
    ]
    header = [
        "start",
        "end",
        "agent_id",
        *plain,
        *(f"state_s.{s}" for s in states),
        *(f"not_ready_s.{r}" for r in reasons),
    ]
    lines = (
        [
            g["start"],
            g["end"],
            row["agent_id"],
            *(row[k] for k in plain),
            *(row["state_s"].get(s, 0.0) for s in states),
            *(row["not_ready_s"].get(r, 0.0) for r in reasons),
        ]
        for g in report["groups"]
        for row in g["rows"]
    )
    return _write(header, lines)
