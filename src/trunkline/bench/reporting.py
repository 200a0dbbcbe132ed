"""Reporting benchmark: ingest through the real event writer, roll up, then run reports.

It generates a month of a 200-agent centre scaled to ``events``: consistent agent
timelines (log in, offers, talk, wrap-up, breaks) merged in time order, plus abandons.
It prints one JSON line with ``ingest_events_per_s``, ``rollup_events_per_s``,
``report_day_ms`` and ``report_month_ms`` (medians of repeated runs).
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from trunkline.bench.databases import scratch_database
from trunkline.config.loader import load_config_text
from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentLoggedIn,
    AgentStateChanged,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCompleted,
    InteractionCreated,
    InteractionOffered,
    InteractionQueued,
    OfferAccepted,
)
from trunkline.domain.media import Medium
from trunkline.reporting.definitions import settings_from_config
from trunkline.reporting.reports import queue_report
from trunkline.reporting.rollup import rebuild
from trunkline.store.event_store import EventStore

TIMEZONE = "Europe/London"
QUEUES = 10
AGENTS = 200
DAYS = 30
EVENTS_PER_HANDLED = 10  # created, queued, offered, accepted, ended, completed + 4 states
MEDIA = ((Medium.VOICE, 0.6), (Medium.CHAT, 0.25), (Medium.EMAIL, 0.15))
BATCH = 500


def _config_text() -> str:
    queues = "\n".join(f"  q{i}: {{}}" for i in range(QUEUES))
    return f"centre: {{timezone: {TIMEZONE}}}\nqueues:\n{queues}\n"


def _agent_day(
    agent: str, day_start: float, shifts: int, rng: random.Random, counter: Iterator[int]
) -> Iterator[Event]:
    """One agent's working day: ``shifts`` interactions handled one after another."""
    now = day_start + rng.uniform(0, 1800)
    yield AgentLoggedIn(at=now, agent_id=agent)
    state, since = AgentState.READY, now
    yield AgentStateChanged(
        at=now, agent_id=agent, old=AgentState.LOGGED_OUT, new=state, old_since=now
    )
    media = [m for m, _ in MEDIA]
    weights = [w for _, w in MEDIA]
    for _ in range(shifts):
        now += rng.expovariate(1 / 40)  # idle until the next offer
        medium = rng.choices(media, weights)[0]
        queue = f"q{rng.randrange(QUEUES)}"
        iid = f"i{next(counter)}"
        waited = rng.expovariate(1 / 15)
        created = now - waited
        yield InteractionCreated(
            at=created,
            interaction_id=iid,
            medium=medium,
            queue=queue,
            priority=0,
            created_at=created,
        )
        yield InteractionQueued(
            at=created, interaction_id=iid, queue=queue, medium=medium, priority=0, rank=created
        )
        yield InteractionOffered(
            at=now, interaction_id=iid, agent_id=agent, queue=queue, medium=medium, expires_at=now
        )
        for new in (AgentState.RESERVED,):
            yield AgentStateChanged(at=now, agent_id=agent, old=state, new=new, old_since=since)
            state, since = new, now
        now += rng.uniform(2, 8)
        yield OfferAccepted(
            at=now,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            waited_s=now - created,
        )
        yield AgentStateChanged(
            at=now, agent_id=agent, old=state, new=AgentState.BUSY, old_since=since
        )
        state, since = AgentState.BUSY, now
        handled = rng.expovariate(1 / 240)
        now += handled
        yield HandlingEnded(
            at=now,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            handled_s=handled,
        )
        yield AgentStateChanged(
            at=now, agent_id=agent, old=state, new=AgentState.WRAP_UP, old_since=since
        )
        state, since = AgentState.WRAP_UP, now
        wrap = rng.uniform(5, 40)
        now += wrap
        yield InteractionCompleted(
            at=now,
            interaction_id=iid,
            agent_id=agent,
            queue=queue,
            medium=medium,
            disposition="resolved",
            wrap_up_s=wrap,
        )
        yield AgentStateChanged(
            at=now, agent_id=agent, old=state, new=AgentState.READY, old_since=since
        )
        state, since = AgentState.READY, now


def _abandons(
    day_start: float, count: int, rng: random.Random, counter: Iterator[int]
) -> Iterator[Event]:
    arrivals = sorted(day_start + rng.uniform(0, 12 * 3600) for _ in range(count))
    for created in arrivals:
        iid = f"i{next(counter)}"
        queue = f"q{rng.randrange(QUEUES)}"
        medium = Medium.VOICE if rng.random() < 0.8 else Medium.CHAT
        waited = rng.uniform(1, 120)
        yield InteractionCreated(
            at=created,
            interaction_id=iid,
            medium=medium,
            queue=queue,
            priority=0,
            created_at=created,
        )
        yield InteractionQueued(
            at=created, interaction_id=iid, queue=queue, medium=medium, priority=0, rank=created
        )
        yield InteractionAbandoned(
            at=created + waited, interaction_id=iid, queue=queue, medium=medium, waited_s=waited
        )


def month_of_events(total: int, first_day: date, seed: int) -> Iterator[Event]:
    """About ``total`` events over :data:`DAYS` days, in time order."""
    rng = random.Random(seed)
    counter = iter(range(1, 10**12))
    handled_per_day = max(1, total // (EVENTS_PER_HANDLED + 1) // DAYS)
    zone = ZoneInfo(TIMEZONE)
    for offset in range(DAYS):
        day = first_day + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, 8, tzinfo=zone).timestamp()
        per_agent, extra = divmod(handled_per_day, AGENTS)
        day_events: list[Event] = []
        for n in range(AGENTS):
            day_events.extend(_agent_day(f"a{n}", start, per_agent + (n < extra), rng, counter))
        day_events.extend(_abandons(start, max(1, handled_per_day // 20), rng, counter))
        # An arrival is stamped before the offer that ends its wait, so per-agent streams
        # are not sorted; a stable sort keeps each agent's same-instant events in order.
        day_events.sort(key=lambda e: e.at)
        yield from day_events


async def run_async(events: int, database: str | None, seed: int) -> dict[str, object]:
    async with scratch_database(database) as url:
        store = await EventStore.open(url)
        try:
            settings = settings_from_config(load_config_text(_config_text(), "bench.yaml"))
            first_day = date(2026, 10, 1)  # the month holds the October clock change
            generated = list(month_of_events(events, first_day, seed))
            started = time.perf_counter()
            pending = []
            for i in range(0, len(generated), BATCH):
                pending.append(store.append(generated[i : i + BATCH]))
            await asyncio.gather(*pending)
            ingest_s = time.perf_counter() - started

            started = time.perf_counter()
            result = await rebuild(store, settings)
            rollup_s = time.perf_counter() - started

            busiest = first_day + timedelta(days=DAYS // 2)
            last_day = first_day + timedelta(days=DAYS - 1)
            day_ms = await _median_ms(
                lambda: queue_report(store, settings, first=busiest, last=busiest, group="interval")
            )
            month_ms = await _median_ms(
                lambda: queue_report(store, settings, first=first_day, last=last_day, group="day")
            )
            return {
                "events": len(generated),
                "database": store.dialect,
                "ingest_events_per_s": round(len(generated) / ingest_s),
                "rollup_events_per_s": round(result.events / rollup_s),
                "report_day_ms": day_ms,
                "report_month_ms": month_ms,
                "rollup_rows": {"queue": result.queue_rows, "agent": result.agent_rows},
            }
        finally:
            await store.close()


async def _median_ms(report: Callable[[], Awaitable[object]], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await report()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def run(
    *,
    events: int = 200_000,
    database: str | None = None,
    seed: int = 1,
    emit: Callable[[str], None] = print,
) -> dict[str, object]:
    result = asyncio.run(run_async(events, database, seed))
    emit(json.dumps(result))
    return result
