"""Live statistics: "now" and "today since local midnight", folded from the event bus.

The adapter wires ``bus.add_listener(live.observe)``, calls :meth:`LiveStats.roll` at
the centre's local midnight, and sends :meth:`LiveStats.snapshot` and :func:`delta` to
wallboards. Time comes only from events' ``at`` and the ``now`` arguments.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentProfileChanged,
    AgentStateChanged,
    Event,
    HandlingEnded,
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
from trunkline.domain.media import ALL_MEDIA, Medium
from trunkline.reporting.definitions import (
    ReportingSettings,
    local_date,
    local_day_bounds,
    settings_from_config,
)
from trunkline.reporting.fold import (
    VISIT_REASONS,
    AgentCounters,
    Fold,
    QueueCounters,
    derive,
    derive_agent,
)

if TYPE_CHECKING:
    from trunkline.config.loader import Config

__all__ = ["DEFAULT_AHT_S", "ESTIMATE_WINDOW_S", "LiveStats", "delta"]

log = logging.getLogger(__name__)

ESTIMATE_WINDOW_S = 1800.0  # the arrival rate is the offered count over this window
DEFAULT_AHT_S = 180.0  # the handle time assumed before today has any
# Agents by state on a wallboard: every state but logged out, always all keys.
_SHOWN_STATES = tuple(s for s in AgentState if s is not AgentState.LOGGED_OUT)
_ESTIMATE_FIELDS = (
    "expected_wait_s",
    "service_level_percent",
    "agents_needed",
    "probability_of_wait",
)


@dataclass(slots=True)
class _Interaction:
    queue: str
    medium: Medium
    created_at: float
    wait_since: float | None = None  # None: not waiting for an agent
    phase: str = "new"  # new | waiting | offered | handling | wrap_up
    agent: str | None = None


@dataclass(slots=True)
class _Agent:
    name: str
    queues: frozenset[str]
    team: str = ""
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""
    since: float | None = None
    holds: dict[str, None] = field(default_factory=dict)  # interaction ids, in order


class LiveStats:
    """Per queue, agent and medium figures for now and for today in the centre's zone.

    ``queues`` maps queue id to display name; ``memberships`` maps agent id to the queues
    configured for it (supervisors' changes then arrive as ``AgentProfileChanged``).
    """

    def __init__(
        self,
        settings: ReportingSettings,
        *,
        now: float,
        queues: Mapping[str, str],
        memberships: Mapping[str, Iterable[str]],
        agent_names: Mapping[str, str] | None = None,
        agent_teams: Mapping[str, str] | None = None,
    ) -> None:
        self._settings = settings
        self._zone = settings.zone
        self._queue_names = dict(queues)
        names = agent_names or {}
        teams = agent_teams or {}
        self._agents: dict[str, _Agent] = {
            aid: _Agent(name=names.get(aid, aid), queues=frozenset(qs), team=teams.get(aid, ""))
            for aid, qs in memberships.items()
        }
        self._interactions: dict[str, _Interaction] = {}
        self._arrivals: deque[tuple[float, str, Medium]] = deque()
        self._configured_media: dict[str, set[Medium]] = {}
        for qid, medium in settings.service_levels:
            self._configured_media.setdefault(qid, set()).add(medium)
        self._fold = Fold(settings)
        self._day_start, self._day_end = local_day_bounds(local_date(now, self._zone), self._zone)

    @classmethod
    def from_config(
        cls, config: Config, *, now: float, settings: ReportingSettings | None = None
    ) -> LiveStats:
        return cls(
            settings or settings_from_config(config),
            now=now,
            queues={qid: spec.name or qid for qid, spec in config.queues.items()},
            memberships={aid: spec.queues for aid, spec in config.agents.items()},
            agent_names={aid: spec.name or aid for aid, spec in config.agents.items()},
            agent_teams={aid: spec.team for aid, spec in config.agents.items()},
        )

    def apply_config(self, config: Config) -> None:
        """Take a reloaded configuration's queue names and agents' names and memberships.

        Today's figures are kept. As in the router, an agent gone from the configuration
        stays while logged in or holding work; a queue gone from it stays listed while it
        has figures or waiting interactions today. Service-level targets and the time zone
        stay as they were when these statistics were built (a restart applies them).
        """
        self._queue_names = {qid: spec.name or qid for qid, spec in config.queues.items()}
        for aid, spec in config.agents.items():
            agent = self._agent(aid)
            agent.name = spec.name or aid
            agent.team = spec.team
            agent.queues = frozenset(spec.queues)
        for aid in [a for a in self._agents if a not in config.agents]:
            agent = self._agents[aid]
            if agent.state is AgentState.LOGGED_OUT and not agent.holds:
                del self._agents[aid]

    @property
    def fold(self) -> Fold:
        """Today's fold (its rows may include spans of agent states begun before midnight)."""
        return self._fold

    def agent_states(self) -> dict[str, AgentState]:
        """Each known agent's current state, as the last event about them said."""
        return {aid: agent.state for aid, agent in self._agents.items()}

    @property
    def day(self) -> tuple[float, float]:
        """``(start, end)`` of the local day "today" covers."""
        return self._day_start, self._day_end

    # -- input ---------------------------------------------------------------------------

    def roll(self, now: float) -> bool:
        """Start a new day if ``now`` is past local midnight; True when it did.

        Today's counters restart, while what the fold remembers of open interactions and
        agents carries over, so a call that spans midnight is still counted right.
        """
        if now < self._day_end:
            return False
        self._day_start, self._day_end = local_day_bounds(local_date(now, self._zone), self._zone)
        self._fold = self._fold.fork()
        return True

    def observe(self, event: Event) -> None:
        """The bus listener: fold one event (in the order the bus publishes them)."""
        if event.at >= self._day_end:
            self.roll(event.at)
        self._fold.apply(event)
        self._track(event)

    def _track(self, e: Event) -> None:
        match e:
            case InteractionCreated():
                self._interactions.setdefault(
                    e.interaction_id,
                    _Interaction(queue=e.queue, medium=e.medium, created_at=e.created_at),
                )
            case InteractionQueued():
                it = self._interactions.get(e.interaction_id)
                if it is None:  # recovered after a restart: its arrival time is unknown
                    it = _Interaction(queue=e.queue, medium=e.medium, created_at=e.at)
                    self._interactions[e.interaction_id] = it
                self._release(e.interaction_id, it)
                it.queue, it.medium, it.phase = e.queue, e.medium, "waiting"
                # The wait runs from arrival through requeues, but restarts with each new
                # queue visit (a transfer or a move), as the service level counts it.
                if e.reason in VISIT_REASONS:
                    it.wait_since = e.at
                elif it.wait_since is None:
                    it.wait_since = it.created_at
                if e.reason == "new" or e.reason in VISIT_REASONS:
                    self._arrivals.append((e.at, e.queue, e.medium))
                    self._prune_arrivals(e.at)
            case InteractionOffered():
                it = self._interactions.get(e.interaction_id)
                if it is not None:
                    it.phase = "offered"
                    self._hold(e.interaction_id, it, e.agent_id)
            case OfferAccepted():
                it = self._interactions.get(e.interaction_id)
                if it is None:
                    it = _Interaction(queue=e.queue, medium=e.medium, created_at=e.at)
                    self._interactions[e.interaction_id] = it
                it.phase, it.wait_since = "handling", None
                self._hold(e.interaction_id, it, e.agent_id)
            case OfferRejected() | OfferTimedOut() | OfferRevoked() | InteractionTransferred():
                it = self._interactions.get(e.interaction_id)
                if it is not None:
                    self._release(e.interaction_id, it)
                    it.phase = "waiting"
            case HandlingEnded():
                it = self._interactions.get(e.interaction_id)
                if it is not None:
                    it.phase = "wrap_up"
            case (
                InteractionCompleted()
                | InteractionAbandoned()
                | InteractionCancelled()
                | InteractionRefused()
            ):
                it = self._interactions.pop(e.interaction_id, None)
                if it is not None:
                    self._release(e.interaction_id, it)
            case AgentStateChanged():
                agent = self._agent(e.agent_id)
                agent.state, agent.reason, agent.since = e.new, e.reason, e.at
            case AgentProfileChanged():
                self._agent(e.agent_id).queues = frozenset(e.queues)
            case _:
                pass

    def _agent(self, agent_id: str) -> _Agent:
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _Agent(name=agent_id, queues=frozenset())
        return agent

    def _hold(self, interaction_id: str, it: _Interaction, agent_id: str) -> None:
        if it.agent != agent_id:
            self._release(interaction_id, it)
        it.agent = agent_id
        self._agent(agent_id).holds[interaction_id] = None

    def _release(self, interaction_id: str, it: _Interaction) -> None:
        if it.agent is not None:
            holder = self._agents.get(it.agent)
            if holder is not None:
                holder.holds.pop(interaction_id, None)
            it.agent = None

    def _prune_arrivals(self, now: float) -> None:
        horizon = now - ESTIMATE_WINDOW_S
        while self._arrivals and self._arrivals[0][0] <= horizon:
            self._arrivals.popleft()

    # -- output --------------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        """Everything a wallboard shows, JSON-ready (rolls the day first if due).

        ``{"generated_at", "day_start", "queues": [{id, name, waiting, on_offer,
        longest_wait_s, agents: {state: n}, today, today_by_medium: {medium: ...},
        estimate: {medium: ...} | null}], "agents": [{id, name, team, state, reason, since,
        queues, interactions: [{id, queue, medium, phase}], today}], "media": [{id,
        waiting, longest_wait_s, today}], "centre": {agents, today, agents_today}}``.
        ``today`` holds :func:`derive` figures (agents: :func:`derive_agent`); an agent's
        time in state is ``generated_at - since``, left to the client so that a ticking
        clock does not make every snapshot differ.
        """
        self.roll(now)
        self._prune_arrivals(now)
        start, end = self._day_start, self._day_end
        # One pass over today's rows; every total below is built from these few sums.
        totals = self._fold.queue_totals(start, end)
        agent_totals = self._fold.agent_totals(start, end, now=now)
        by_queue: dict[str, dict[Medium, QueueCounters]] = {}
        by_medium: dict[Medium, QueueCounters] = {}
        centre = QueueCounters()
        for (qid, medium), counters in sorted(totals.items(), key=_by_medium_order):
            by_queue.setdefault(qid, {})[medium] = counters
            by_medium.setdefault(medium, QueueCounters()).merge(counters)
            centre.merge(counters)
        arrivals: dict[tuple[str, Medium], int] = {}
        for at, qid, medium in self._arrivals:
            if now - ESTIMATE_WINDOW_S < at <= now:
                arrivals[(qid, medium)] = arrivals.get((qid, medium), 0) + 1
        waits: dict[str, list[float]] = {}
        on_offer: dict[str, int] = {}
        waits_by_medium: dict[Medium, list[float]] = {}
        for it in self._interactions.values():
            if it.wait_since is None:
                continue
            wait = max(0.0, now - it.wait_since)
            waits.setdefault(it.queue, []).append(wait)
            waits_by_medium.setdefault(it.medium, []).append(wait)
            if it.phase == "offered":
                on_offer[it.queue] = on_offer.get(it.queue, 0) + 1
        by_queue_state = self._agents_by_queue_state()
        queue_ids = list(self._queue_names)
        extra = set(by_queue) | set(waits) | set(by_queue_state)
        queue_ids += sorted(extra - set(queue_ids))
        queues = []
        for qid in queue_ids:
            media = by_queue.get(qid, {})
            total = QueueCounters()
            for counters in media.values():
                total.merge(counters)
            queues.append(
                {
                    "id": qid,
                    "name": self._queue_names.get(qid, qid),
                    "waiting": len(waits.get(qid, ())),
                    "on_offer": on_offer.get(qid, 0),
                    "longest_wait_s": max(waits.get(qid, ()), default=0.0),
                    "agents": by_queue_state.get(qid, dict.fromkeys(_SHOWN_STATES, 0)),
                    "today": derive(total),
                    "today_by_medium": {
                        m: derive(c, self._settings, queue=qid, medium=m) for m, c in media.items()
                    },
                    "estimate": self._estimate(qid, media, arrivals, by_queue_state.get(qid)),
                }
            )
        agents = []
        for aid, agent in self._agents.items():
            agents.append(
                {
                    "id": aid,
                    "name": agent.name,
                    "team": agent.team,
                    "state": agent.state,
                    "reason": agent.reason,
                    "since": agent.since,
                    "queues": sorted(agent.queues),
                    "interactions": [
                        {
                            "id": iid,
                            "queue": self._interactions[iid].queue,
                            "medium": self._interactions[iid].medium,
                            "phase": self._interactions[iid].phase,
                        }
                        for iid in agent.holds
                        if iid in self._interactions
                    ],
                    "today": derive_agent(agent_totals.get(aid, AgentCounters())),
                }
            )
        media_rows = [
            {
                "id": m,
                "waiting": len(waits_by_medium.get(m, ())),
                "longest_wait_s": max(waits_by_medium.get(m, ()), default=0.0),
                "today": derive(by_medium.get(m, QueueCounters())),
            }
            for m in ALL_MEDIA
        ]
        all_agents = AgentCounters()
        for agent_counters in agent_totals.values():
            all_agents.merge(agent_counters)
        centre_agents = dict.fromkeys(_SHOWN_STATES, 0)
        for agent in self._agents.values():
            if agent.state in centre_agents:
                centre_agents[agent.state] += 1
        snapshot = {
            "generated_at": now,
            "day_start": start,
            "queues": queues,
            "agents": agents,
            "media": media_rows,
            "centre": {
                "agents": centre_agents,
                "today": derive(centre),
                "agents_today": derive_agent(all_agents),
            },
        }
        result: dict[str, Any] = _jsonable(snapshot)
        return result

    def _agents_by_queue_state(self) -> dict[str, dict[AgentState, int]]:
        out: dict[str, dict[AgentState, int]] = {}
        for agent in self._agents.values():
            if agent.state is AgentState.LOGGED_OUT:
                continue
            for qid in agent.queues:
                counts = out.setdefault(qid, dict.fromkeys(_SHOWN_STATES, 0))
                counts[agent.state] += 1
        return out

    def _estimate(
        self,
        queue: str,
        today: Mapping[Medium, QueueCounters],
        arrivals: Mapping[tuple[str, Medium], int],
        agents_by_state: Mapping[AgentState, int] | None,
    ) -> dict[str, Any] | None:
        """Erlang C per medium: configured for the queue or arrived in the last 30 min."""
        estimate = _erlang_function()
        if estimate is None:
            return None
        media = {m for (qid, m) in arrivals if qid == queue}
        media.update(self._configured_media.get(queue, ()))
        agents = sum(agents_by_state.values()) if agents_by_state else 0
        out: dict[str, Any] = {}
        for medium in sorted(media, key=ALL_MEDIA.index):
            counters = today.get(medium)
            aht = derive(counters)["aht_s"] if counters is not None else None
            target = self._settings.service_level(queue, medium)
            try:
                result = estimate(
                    arrivals.get((queue, medium), 0) / ESTIMATE_WINDOW_S,
                    aht if isinstance(aht, float) and aht > 0 else DEFAULT_AHT_S,
                    agents,
                    target.threshold_s,
                    target.percent,
                )
                out[medium.value] = _estimate_fields(result)
            except Exception:  # an estimate must never take the wallboard down
                log.exception("Erlang C estimate failed for %s/%s", queue, medium.value)
                out[medium.value] = None
        return out


def _by_medium_order(item: tuple[tuple[str, Medium], QueueCounters]) -> tuple[str, int]:
    return item[0][0], ALL_MEDIA.index(item[0][1])


def _erlang_function() -> Callable[..., Any] | None:
    """``erlang_c_estimate`` if its module is installed yet, else None."""
    try:
        module = importlib.import_module("trunkline.reporting.erlang")
    except ModuleNotFoundError as exc:
        if exc.name == "trunkline.reporting.erlang":
            return None
        raise
    function = getattr(module, "erlang_c_estimate", None)
    return function if callable(function) else None


def _estimate_fields(result: Any) -> dict[str, Any]:
    """Every field of the estimate (the four the snapshot promises at least)."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    return {name: getattr(result, name) for name in _ESTIMATE_FIELDS}


def _jsonable(value: Any) -> Any:
    """Enums to their values, keys to strings, floats rounded; inf and NaN to None."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {_key(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _key(key: Any) -> str:
    return key.value if isinstance(key, Enum) else str(key)


# -- deltas ------------------------------------------------------------------------------

_SAME = object()


def delta(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``previous`` to ``current`` (two snapshots).

    Lists of objects with an ``id`` (queues, agents, media) become maps id -> changed
    fields, and ids gone from such a list are listed under ``removed``. Inside objects
    only changed keys appear, recursively; a key that disappeared is sent as null.
    ``generated_at`` is always present.
    """
    out: dict[str, Any] = {"generated_at": current.get("generated_at")}
    removed: dict[str, list[Any]] = {}
    for key, value in current.items():
        if key == "generated_at":
            continue
        old = previous.get(key)
        if _keyed(value) and (key not in previous or _keyed(old)):
            changes, gone = _diff_keyed(old or [], value)
            if changes:
                out[key] = changes
            if gone:
                removed[key] = gone
        elif key not in previous:
            out[key] = value
        elif (change := _diff(old, value)) is not _SAME:
            out[key] = change
    for key in previous:
        if key not in current:
            out[key] = None
    if removed:
        out["removed"] = removed
    return out


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) and "id" in v for v in value)


def _diff_keyed(
    old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[Any]]:
    before = {item["id"]: item for item in old}
    changes: dict[str, Any] = {}
    for item in new:
        prior = before.get(item["id"])
        change = dict(item) if prior is None else _diff(prior, item)
        if change is not _SAME:
            changes[str(item["id"])] = change
    present = {item["id"] for item in new}
    return changes, [i for i in before if i not in present]


def _diff(old: Any, new: Any) -> Any:
    """``_SAME``, or what to send so that ``old`` becomes ``new``."""
    if old == new:
        return _SAME
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: dict[str, Any] = {}
        for key, value in new.items():
            if key not in old:
                out[key] = value
            elif (change := _diff(old[key], value)) is not _SAME:
                out[key] = change
        out.update({key: None for key in old if key not in new})
        return out
    return new
