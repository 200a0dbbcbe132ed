"""Interval counters folded from events: pure, no clock, no I/O.

A :class:`Fold` turns the event stream into counters per interval × queue × medium and per
interval × agent. Live statistics and historical rollups both use it, so they report the
same figures; ``docs/metrics.md`` defines each one. Durations are summed as whole
milliseconds, so counters add up exactly however the events are grouped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionMoved,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
)
from trunkline.domain.media import Medium
from trunkline.reporting.definitions import ReportingSettings, to_ms

__all__ = [
    "UNKNOWN_REASON",
    "VISIT_REASONS",
    "AgentCounters",
    "AgentKey",
    "Fold",
    "QueueCounters",
    "QueueKey",
    "derive",
    "derive_agent",
    "merge_rows",
    "per_interval",
    "sum_agent_rows",
    "sum_queue_rows",
]

# The reason recorded for not-ready time whose reason the fold never saw (it started after
# the agent went not ready and was not forked from the fold that saw it).
UNKNOWN_REASON = "unknown"
# InteractionQueued reasons that begin a new visit to a queue after the first: an agent's
# transfer, or a supervisor moving a waiting interaction.
VISIT_REASONS = frozenset({"transferred", "moved"})

_MICROS = 1_000_000
_MS_PER_MINUTE = 60_000


class QueueKey(NamedTuple):
    interval: int  # interval start, epoch seconds
    queue: str
    medium: Medium


class AgentKey(NamedTuple):
    interval: int
    agent: str


@dataclass(slots=True)
class QueueCounters:
    """What happened in one queue on one medium during one interval (docs/metrics.md)."""

    offered: int = 0  # queue visits begun: new arrivals and transfers in
    transferred_in: int = 0  # the part of ``offered`` that came by transfer
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0  # abandons after the short-abandon threshold
    short_abandoned: int = 0
    abandoned_in_sl: int = 0  # part of ``abandoned``
    refused: int = 0
    cancelled: int = 0  # visits withdrawn by the system before an answer
    transferred: int = 0  # transfers out
    wait_answered_ms: int = 0
    wait_abandoned_ms: int = 0  # over ``abandoned`` (short abandons excluded)
    wait_max_ms: int = 0
    handled: int = 0
    handle_ms: int = 0
    completed: int = 0
    wrap_ms: int = 0
    with_disposition: int = 0
    resolved: int = 0
    cost_micros: int = 0  # millionths of the currency unit

    def merge(self, other: QueueCounters) -> None:
        """Add ``other`` into this one (the maximum of the maxima)."""
        # Spelled out: this runs for every row of every report. A test checks every field.
        self.offered += other.offered
        self.transferred_in += other.transferred_in
        self.answered += other.answered
        self.answered_in_sl += other.answered_in_sl
        self.abandoned += other.abandoned
        self.short_abandoned += other.short_abandoned
        self.abandoned_in_sl += other.abandoned_in_sl
        self.refused += other.refused
        self.cancelled += other.cancelled
        self.transferred += other.transferred
        self.wait_answered_ms += other.wait_answered_ms
        self.wait_abandoned_ms += other.wait_abandoned_ms
        if other.wait_max_ms > self.wait_max_ms:
            self.wait_max_ms = other.wait_max_ms
        self.handled += other.handled
        self.handle_ms += other.handle_ms
        self.completed += other.completed
        self.wrap_ms += other.wrap_ms
        self.with_disposition += other.with_disposition
        self.resolved += other.resolved
        self.cost_micros += other.cost_micros

    def copy(self) -> QueueCounters:
        return dataclasses.replace(self)

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


StateKey = tuple[AgentState, str]


@dataclass(slots=True)
class AgentCounters:
    """One agent's interval: milliseconds per (state, reason) and the work they did."""

    state_ms: dict[StateKey, int] = field(default_factory=dict)
    handled: int = 0
    handle_ms: int = 0
    completed: int = 0
    wrap_ms: int = 0

    def merge(self, other: AgentCounters) -> None:
        for key, ms in other.state_ms.items():
            self.state_ms[key] = self.state_ms.get(key, 0) + ms
        self.handled += other.handled
        self.handle_ms += other.handle_ms
        self.completed += other.completed
        self.wrap_ms += other.wrap_ms

    def copy(self) -> AgentCounters:
        return dataclasses.replace(self, state_ms=dict(self.state_ms))

    def as_dict(self) -> dict[str, Any]:
        return {
            "state_ms": {f"{s.value}:{r}": ms for (s, r), ms in sorted(self.state_ms.items())},
            "handled": self.handled,
            "handle_ms": self.handle_ms,
            "completed": self.completed,
            "wrap_ms": self.wrap_ms,
        }


@dataclass(slots=True)
class _Open:
    """What the fold remembers of an interaction until it ends."""

    medium: Medium
    queue: str
    segment_start: float | None = None  # when a transfer put it in a queue; None: arrival
    answered: bool = False  # in the current queue visit
    answered_at: float | None = None  # while an agent handles it


@dataclass(slots=True)
class _Presence:
    state: AgentState
    reason: str
    since: float


class Fold:
    """Folds events into interval counters; feed it events in the order they happened.

    It remembers what later events need and do not carry: each open interaction's medium,
    queue-visit start and answer time, and each logged-in agent's state, reason and since.
    That memory is dropped when the interaction ends or the agent logs out. A fold that
    continues another one's stream starts from :meth:`fork`.
    """

    def __init__(self, settings: ReportingSettings) -> None:
        self._settings = settings
        self._interval_s = settings.interval_s
        self._step_ms = settings.interval_s * 1000
        self._short_ms = to_ms(settings.short_abandon_s)
        self._queues: dict[QueueKey, QueueCounters] = {}
        self._agents: dict[AgentKey, AgentCounters] = {}
        self._open: dict[str, _Open] = {}
        self._presence: dict[str, _Presence] = {}
        # Keys written since the last take_changed(): the rollup rewrites only those rows.
        self._changed_queues: set[QueueKey] = set()
        self._changed_agents: set[AgentKey] = set()
        self._threshold_ms: dict[tuple[str, Medium], int] = {}
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            InteractionCreated: self._created,
            InteractionQueued: self._queued,
            InteractionRefused: self._refused,
            OfferAccepted: self._accepted,
            InteractionTransferred: self._transferred,
            InteractionMoved: self._moved,
            InteractionAbandoned: self._abandoned,
            InteractionCancelled: self._cancelled,
            HandlingEnded: self._handling_ended,
            InteractionCompleted: self._completed,
            AgentStateChanged: self._state_changed,
        }

    @property
    def settings(self) -> ReportingSettings:
        return self._settings

    @property
    def open_interactions(self) -> int:
        """How many interactions the fold remembers (the bound on its memory)."""
        return len(self._open)

    def apply(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    # -- reading -------------------------------------------------------------------------

    def queue_rows(self) -> dict[QueueKey, QueueCounters]:
        """Copies of every queue row, in key order."""
        return {key: self._queues[key].copy() for key in sorted(self._queues)}

    def agent_rows(self) -> dict[AgentKey, AgentCounters]:
        """Copies of every agent row, in key order: closed state spans only."""
        return {key: self._agents[key].copy() for key in sorted(self._agents)}

    def flush_open_states(self, now: float) -> dict[AgentKey, AgentCounters]:
        """:meth:`agent_rows` plus the running time of every current state up to ``now``.

        The fold itself is left as it was: the running time is added to the copies.
        """
        rows = self.agent_rows()
        for agent, presence in self._presence.items():
            self._add_state(rows, agent, presence.state, presence.reason, presence.since, now)
        return dict(sorted(rows.items()))

    def queue_totals(
        self, start: float | None = None, end: float | None = None
    ) -> dict[tuple[str, Medium], QueueCounters]:
        """Per (queue, medium), the counters of the intervals in ``[start, end)`` summed."""
        totals: dict[tuple[str, Medium], QueueCounters] = {}
        for key, counters in self._queues.items():
            if (start is None or key.interval >= start) and (end is None or key.interval < end):
                total = totals.get((key.queue, key.medium))
                if total is None:
                    totals[(key.queue, key.medium)] = counters.copy()
                else:
                    total.merge(counters)
        return totals

    def agent_totals(
        self, start: float | None = None, end: float | None = None, *, now: float | None = None
    ) -> dict[str, AgentCounters]:
        """Per agent, the counters of the intervals in ``[start, end)`` summed; with
        ``now``, the running time of current states too (as :meth:`flush_open_states`)."""
        rows: dict[AgentKey, AgentCounters] = {}
        if now is not None:
            for agent, p in self._presence.items():
                self._add_state(rows, agent, p.state, p.reason, p.since, now)
        totals: dict[str, AgentCounters] = {}
        for source in (self._agents, rows):
            for key, counters in source.items():
                if (start is None or key.interval >= start) and (end is None or key.interval < end):
                    total = totals.get(key.agent)
                    if total is None:
                        totals[key.agent] = counters.copy()
                    else:
                        total.merge(counters)
        return totals

    def presence(self, agent_id: str) -> tuple[AgentState, str, float] | None:
        """The agent's current (state, reason, since), or None when logged out or unseen."""
        p = self._presence.get(agent_id)
        return None if p is None else (p.state, p.reason, p.since)

    # -- rollups ------------------------------------------------------------------------

    def take_changed(self) -> tuple[list[QueueKey], list[AgentKey]]:
        """The keys of the rows changed since the last call, in key order; then forgets them.

        The interval rollup writes exactly these rows after each page of events.
        """
        queues, agents = sorted(self._changed_queues), sorted(self._changed_agents)
        self._changed_queues = set()
        self._changed_agents = set()
        return queues, agents

    def remember_open(
        self, interaction_id: str, *, medium: Medium, queue: str, answered: bool = False
    ) -> bool:
        """Remember an interaction opened before the events this fold saw (from the
        interaction snapshot), so its later transfer or cancellation finds its medium.

        Returns False, changing nothing, when the fold already knows the interaction.
        """
        if interaction_id in self._open:
            return False
        self._open[interaction_id] = _Open(medium=medium, queue=queue, answered=answered)
        return True

    def forget_before(self, interval: int) -> None:
        """Drop the counter rows of intervals before ``interval`` (written elsewhere);
        what the fold remembers of open interactions and agents stays."""
        self._queues = {k: v for k, v in self._queues.items() if k.interval >= interval}
        self._agents = {k: v for k, v in self._agents.items() if k.interval >= interval}
        self._changed_queues = {k for k in self._changed_queues if k.interval >= interval}
        self._changed_agents = {k for k in self._changed_agents if k.interval >= interval}

    def add_rows(
        self,
        queues: Mapping[QueueKey, QueueCounters] | None = None,
        agents: Mapping[AgentKey, AgentCounters] | None = None,
    ) -> None:
        """Add stored rows into this fold's rows (not marked changed)."""
        merge_rows(self._queues, queues or {})
        merge_rows(self._agents, agents or {})

    def queue_row(self, key: QueueKey) -> QueueCounters:
        """A copy of one queue row (zero when the fold has none)."""
        row = self._queues.get(key)
        return QueueCounters() if row is None else row.copy()

    def agent_row(self, key: AgentKey) -> AgentCounters:
        """A copy of one agent row (empty when the fold has none)."""
        row = self._agents.get(key)
        return AgentCounters() if row is None else row.copy()

    # -- combining -----------------------------------------------------------------------

    def merge(self, other: Fold) -> None:
        """Add ``other``'s counters into this fold's (its memory is not taken)."""
        merge_rows(self._queues, other._queues)
        merge_rows(self._agents, other._agents)

    def fork(self) -> Fold:
        """A fold with this one's memory and no counters: it continues the same stream.

        Counters of this fold over events ``[0, k)`` merged with the fork's over
        ``[k, n)`` equal one fold over ``[0, n)``. Live statistics fork at midnight.
        """
        other = Fold(self._settings)
        other._open = {k: dataclasses.replace(v) for k, v in self._open.items()}
        other._presence = {k: dataclasses.replace(v) for k, v in self._presence.items()}
        return other

    # -- internals -----------------------------------------------------------------------

    def _interval(self, at: float) -> int:
        return to_ms(at) // self._step_ms * self._interval_s

    def _queue(self, at: float, queue: str, medium: Medium) -> QueueCounters:
        key = QueueKey(self._interval(at), queue, medium)
        self._changed_queues.add(key)
        counters = self._queues.get(key)
        if counters is None:
            counters = self._queues[key] = QueueCounters()
        return counters

    def _agent(self, at: float, agent: str) -> AgentCounters:
        key = AgentKey(self._interval(at), agent)
        self._changed_agents.add(key)
        counters = self._agents.get(key)
        if counters is None:
            counters = self._agents[key] = AgentCounters()
        return counters

    def _threshold(self, queue: str, medium: Medium) -> int:
        key = (queue, medium)
        ms = self._threshold_ms.get(key)
        if ms is None:
            ms = self._threshold_ms[key] = to_ms(
                self._settings.service_level(queue, medium).threshold_s
            )
        return ms

    def _minute_cost(self, medium: Medium, ms: int) -> int:
        rate = self._settings.cost_per_handled_minute.get(medium, 0.0)
        return round(rate * ms * _MICROS / _MS_PER_MINUTE) if rate else 0

    def _wait_ms(self, it: _Open | None, at: float, waited_s: float) -> int:
        # A first visit waits from arrival, as the router measured it; a visit that began
        # with a transfer waits from the transfer, so the talk before it is not wait.
        if it is None or it.segment_start is None:
            return max(0, to_ms(waited_s))
        return max(0, to_ms(at) - to_ms(it.segment_start))

    def _add_state(
        self,
        rows: dict[AgentKey, AgentCounters],
        agent: str,
        state: AgentState,
        reason: str,
        start: float,
        end: float,
    ) -> None:
        """Add the span [start, end) to ``rows``, split exactly at interval boundaries."""
        start_ms, end_ms = to_ms(start), to_ms(end)
        key = (state, reason)
        step = self._step_ms
        track = rows is self._agents
        while start_ms < end_ms:
            index = start_ms // step
            piece_end = min(end_ms, (index + 1) * step)
            row_key = AgentKey(index * self._interval_s, agent)
            if track:
                self._changed_agents.add(row_key)
            counters = rows.get(row_key)
            if counters is None:
                counters = rows[row_key] = AgentCounters()
            counters.state_ms[key] = counters.state_ms.get(key, 0) + piece_end - start_ms
            start_ms = piece_end

    # -- handlers ------------------------------------------------------------------------

    def _created(self, e: InteractionCreated) -> None:
        if e.interaction_id not in self._open:
            self._open[e.interaction_id] = _Open(medium=e.medium, queue=e.queue)

    def _queued(self, e: InteractionQueued) -> None:
        it = self._open.get(e.interaction_id)
        if it is None:
            it = self._open[e.interaction_id] = _Open(medium=e.medium, queue=e.queue)
        it.medium, it.queue, it.answered_at = e.medium, e.queue, None
        # Only a new arrival or a transfer (an agent's, or a supervisor's move of a waiting
        # interaction) begins a queue visit. A requeue after a reject, a timed-out or
        # revoked offer, or recovery after a restart continues the visit.
        if e.reason == "new":
            it.segment_start, it.answered = None, False
            self._queue(e.at, e.queue, e.medium).offered += 1
        elif e.reason in VISIT_REASONS:
            it.segment_start, it.answered = e.at, False
            counters = self._queue(e.at, e.queue, e.medium)
            counters.offered += 1
            counters.transferred_in += 1

    def _refused(self, e: InteractionRefused) -> None:
        self._open.pop(e.interaction_id, None)
        self._queue(e.at, e.queue, e.medium).refused += 1

    def _accepted(self, e: OfferAccepted) -> None:
        it = self._open.get(e.interaction_id)
        wait = self._wait_ms(it, e.at, e.waited_s)
        if it is None:  # the fold began after the arrival
            it = self._open[e.interaction_id] = _Open(medium=e.medium, queue=e.queue)
        it.answered_at = e.at
        if it.answered:
            return  # answered again after a restart recovered it: one answer per visit
        it.answered = True
        counters = self._queue(e.at, e.queue, e.medium)
        counters.answered += 1
        counters.wait_answered_ms += wait
        counters.wait_max_ms = max(counters.wait_max_ms, wait)
        if wait <= self._threshold(e.queue, e.medium):
            counters.answered_in_sl += 1

    def _transferred(self, e: InteractionTransferred) -> None:
        it = self._open.get(e.interaction_id)
        if it is None:
            return  # the medium is unknown: a fold that starts mid-stream must be forked
        counters = self._queue(e.at, e.from_queue, it.medium)
        counters.transferred += 1
        if it.answered_at is not None:
            # The agent handled this visit up to the transfer: no HandlingEnded marks it.
            handle = max(0, to_ms(e.at) - to_ms(it.answered_at))
            counters.handled += 1
            counters.handle_ms += handle
            counters.cost_micros += self._minute_cost(it.medium, handle)
            agent = self._agent(e.at, e.from_agent)
            agent.handled += 1
            agent.handle_ms += handle
        it.answered_at = None
        it.queue = e.to_queue

    def _moved(self, e: InteractionMoved) -> None:
        it = self._open.get(e.interaction_id)
        if it is None:
            return  # as for a transfer: the medium is unknown
        # Never answered in from_queue (it was waiting), so no handling to close here.
        self._queue(e.at, e.from_queue, it.medium).transferred += 1
        it.queue = e.to_queue

    def _abandoned(self, e: InteractionAbandoned) -> None:
        it = self._open.pop(e.interaction_id, None)
        wait = self._wait_ms(it, e.at, e.waited_s)
        counters = self._queue(e.at, e.queue, e.medium)
        if wait <= self._short_ms:
            counters.short_abandoned += 1  # and nothing else: as if it never arrived
            return
        counters.abandoned += 1
        counters.wait_abandoned_ms += wait
        counters.wait_max_ms = max(counters.wait_max_ms, wait)
        if wait <= self._threshold(e.queue, e.medium):
            counters.abandoned_in_sl += 1

    def _cancelled(self, e: InteractionCancelled) -> None:
        it = self._open.pop(e.interaction_id, None)
        # Only a withdrawn wait is a cancelled visit; once answered, the visit was served.
        if it is not None and not it.answered:
            self._queue(e.at, e.queue, it.medium).cancelled += 1

    def _handling_ended(self, e: HandlingEnded) -> None:
        it = self._open.get(e.interaction_id)
        if it is not None:
            it.answered_at = None
        handle = max(0, to_ms(e.handled_s))
        counters = self._queue(e.at, e.queue, e.medium)
        counters.handled += 1
        counters.handle_ms += handle
        counters.cost_micros += self._minute_cost(e.medium, handle)
        agent = self._agent(e.at, e.agent_id)
        agent.handled += 1
        agent.handle_ms += handle

    def _completed(self, e: InteractionCompleted) -> None:
        self._open.pop(e.interaction_id, None)
        wrap = max(0, to_ms(e.wrap_up_s))
        counters = self._queue(e.at, e.queue, e.medium)
        counters.completed += 1
        counters.wrap_ms += wrap
        if e.disposition:
            counters.with_disposition += 1
            if e.disposition in self._settings.resolved_codes:
                counters.resolved += 1
        per_interaction = self._settings.cost_per_interaction.get(e.medium, 0.0)
        counters.cost_micros += round(per_interaction * _MICROS) + self._minute_cost(e.medium, wrap)
        if e.agent_id:  # completions recovered after a restart may not name the agent
            agent = self._agent(e.at, e.agent_id)
            agent.completed += 1
            agent.wrap_ms += wrap

    def _state_changed(self, e: AgentStateChanged) -> None:
        previous = self._presence.get(e.agent_id)
        # Logged-out time is nobody's staffed time; an unset start (0) is unknowable.
        if e.old is not AgentState.LOGGED_OUT and 0 < e.old_since <= e.at:
            if previous is not None and previous.state is e.old:
                reason = previous.reason
            else:
                reason = UNKNOWN_REASON if e.old is AgentState.NOT_READY else ""
            self._add_state(self._agents, e.agent_id, e.old, reason, e.old_since, e.at)
        if e.new is AgentState.LOGGED_OUT:
            self._presence.pop(e.agent_id, None)
        else:
            self._presence[e.agent_id] = _Presence(state=e.new, reason=e.reason, since=e.at)


# -- rows --------------------------------------------------------------------------------


def merge_rows(
    into: dict[Any, Any],
    rows: Mapping[Any, QueueCounters] | Mapping[Any, AgentCounters],
) -> None:
    """Add every row of ``rows`` into ``into`` (copying rows new to it)."""
    for key, counters in rows.items():
        mine = into.get(key)
        if mine is None:
            into[key] = counters.copy()
        else:
            mine.merge(counters)


def sum_queue_rows(
    rows: Mapping[QueueKey, QueueCounters],
    *,
    queue: str | None = None,
    medium: Medium | None = None,
    start: float | None = None,
    end: float | None = None,
) -> QueueCounters:
    """One counter for the rows matching the filters (intervals in ``[start, end)``)."""
    total = QueueCounters()
    for key, counters in rows.items():
        if (
            (queue is None or key.queue == queue)
            and (medium is None or key.medium is medium)
            and (start is None or key.interval >= start)
            and (end is None or key.interval < end)
        ):
            total.merge(counters)
    return total


def sum_agent_rows(
    rows: Mapping[AgentKey, AgentCounters],
    *,
    agent: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> AgentCounters:
    total = AgentCounters()
    for key, counters in rows.items():
        if (
            (agent is None or key.agent == agent)
            and (start is None or key.interval >= start)
            and (end is None or key.interval < end)
        ):
            total.merge(counters)
    return total


def per_interval(
    rows: Mapping[QueueKey, QueueCounters],
    starts: Iterable[int],
    *,
    queue: str | None = None,
    medium: Medium | None = None,
) -> list[tuple[int, QueueCounters]]:
    """One counter per interval start in ``starts``, zero where nothing happened."""
    by_interval: dict[int, QueueCounters] = {}
    for key, counters in rows.items():
        if (queue is None or key.queue == queue) and (medium is None or key.medium is medium):
            by_interval.setdefault(key.interval, QueueCounters()).merge(counters)
    return [(s, by_interval.get(s, QueueCounters())) for s in starts]


# -- derived figures ---------------------------------------------------------------------

Figure = float | int | bool | None


def _pct(numerator: int, denominator: int) -> float | None:
    return None if denominator <= 0 else 100.0 * numerator / denominator


def _avg_s(ms: int, count: int) -> float | None:
    return None if count <= 0 else ms / count / 1000.0


def _aht(handle_ms: int, handled: int, wrap_ms: int, completed: int) -> float | None:
    handle = _avg_s(handle_ms, handled)
    if handle is None:
        return None
    wrap = _avg_s(wrap_ms, completed)
    return handle if wrap is None else handle + wrap


def derive(
    counters: QueueCounters,
    settings: ReportingSettings | None = None,
    *,
    queue: str | None = None,
    medium: Medium | None = None,
) -> dict[str, Figure]:
    """The figures of docs/metrics.md from one counter; None where they are 0/0.

    Percentages are 0-100. With ``settings``, ``queue`` and ``medium`` the queue's target
    is added (``sl_target_percent``, ``sl_threshold_s``, ``sl_met``).
    """
    c = counters
    sl_base = c.offered - c.short_abandoned
    waits = c.answered + c.abandoned
    out: dict[str, Figure] = {
        "offered": c.offered,
        "transferred_in": c.transferred_in,
        "answered": c.answered,
        "abandoned": c.abandoned,
        "short_abandoned": c.short_abandoned,
        "refused": c.refused,
        "cancelled": c.cancelled,
        "transferred": c.transferred,
        "handled": c.handled,
        "completed": c.completed,
        "answered_in_sl": c.answered_in_sl,
        "abandoned_in_sl": c.abandoned_in_sl,
        "sl_answered": _pct(c.answered_in_sl, sl_base),
        "sl_with_abandons": _pct(c.answered_in_sl + c.abandoned_in_sl, sl_base),
        "abandon_rate": _pct(c.abandoned, sl_base),
        "asa_s": _avg_s(c.wait_answered_ms, c.answered),
        "avg_wait_s": _avg_s(c.wait_answered_ms + c.wait_abandoned_ms, waits),
        "longest_wait_s": c.wait_max_ms / 1000.0 if waits > 0 else None,
        "avg_handle_s": _avg_s(c.handle_ms, c.handled),
        "avg_wrap_s": _avg_s(c.wrap_ms, c.completed),
        "aht_s": _aht(c.handle_ms, c.handled, c.wrap_ms, c.completed),
        "fcr": _pct(c.resolved, c.with_disposition),
        "cost": c.cost_micros / _MICROS,
        "cost_per_contact": None if c.completed <= 0 else c.cost_micros / _MICROS / c.completed,
    }
    if settings is not None and queue is not None and medium is not None:
        target = settings.service_level(queue, medium)
        sl = out["sl_answered"]
        out["sl_target_percent"] = target.percent
        out["sl_threshold_s"] = target.threshold_s
        out["sl_met"] = None if sl is None else sl >= target.percent
    return out


def derive_agent(counters: AgentCounters) -> dict[str, Any]:
    """An agent's figures: time per state and not-ready reason, occupancy, utilisation."""
    by_state: dict[AgentState, int] = {}
    by_reason: dict[str, int] = {}
    for (state, reason), ms in counters.state_ms.items():
        by_state[state] = by_state.get(state, 0) + ms
        if state is AgentState.NOT_READY:
            by_reason[reason] = by_reason.get(reason, 0) + ms
    working = by_state.get(AgentState.BUSY, 0) + by_state.get(AgentState.WRAP_UP, 0)
    available = by_state.get(AgentState.READY, 0) + by_state.get(AgentState.RESERVED, 0)
    staffed = sum(ms for state, ms in by_state.items() if state is not AgentState.LOGGED_OUT)
    return {
        "staffed_s": staffed / 1000.0,
        "state_s": {s.value: by_state[s] / 1000.0 for s in AgentState if s in by_state},
        "not_ready_s": {r: ms / 1000.0 for r, ms in sorted(by_reason.items())},
        "occupancy": _pct(working, working + available),
        "utilisation": _pct(working, staffed),
        "handled": counters.handled,
        "completed": counters.completed,
        "avg_handle_s": _avg_s(counters.handle_ms, counters.handled),
        "avg_wrap_s": _avg_s(counters.wrap_ms, counters.completed),
        "aht_s": _aht(counters.handle_ms, counters.handled, counters.wrap_ms, counters.completed),
    }
