"""Read-only snapshots of router state for the API; never handed back to the engine."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from trunkline.domain.agent import AgentState
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import Medium
from trunkline.router.records import AgentRecord, InteractionRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionView:
    id: str
    medium: Medium
    queue: str
    queues: tuple[str, ...]
    state: InteractionState
    priority: int
    rank: float
    skills: dict[str, int]
    data: dict[str, Any]
    customer_id: str | None
    created_at: float
    agent_id: str | None
    offer_expires_at: float | None
    preferred_agent: str | None
    preferred_until: float | None
    wrap_until: float | None
    rules: tuple[str, ...] = ()

    @classmethod
    def of(cls, it: InteractionRecord) -> InteractionView:
        return cls(
            id=it.id,
            medium=it.medium,
            queue=it.queue,
            queues=tuple(sorted(it.queues)),
            state=it.state,
            priority=it.priority,
            rank=it.rank,
            skills=dict(it.skills),
            data=dict(it.data),
            customer_id=it.customer_id,
            created_at=it.created_at,
            agent_id=it.agent_id,
            offer_expires_at=it.offer_expires_at,
            preferred_agent=it.preferred_agent,
            preferred_until=it.preferred_until,
            wrap_until=it.wrap_until,
            rules=it.rules,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentView:
    id: str
    name: str
    team: str
    state: AgentState
    reason: str
    since: float
    presence: AgentState
    presence_reason: str  # the not-ready reason that applies once current work is done
    connected: bool
    skills: dict[str, int]
    queues: tuple[str, ...]
    load: dict[str, int]
    offers: tuple[str, ...]
    active: tuple[str, ...]
    wrapping: tuple[str, ...]
    capacity: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, agent: AgentRecord) -> AgentView:
        spec = agent.spec
        return cls(
            id=spec.id,
            name=spec.name,
            team=spec.team,
            state=agent.state,
            reason=agent.state_reason,
            since=agent.state_since,
            presence=agent.presence,
            presence_reason=agent.reason,
            connected=agent.connected,
            skills=dict(spec.skills),
            queues=tuple(sorted(spec.queues)),
            load={m.value: n for m, n in agent.load.items() if n},
            offers=tuple(agent.offers),
            active=tuple(agent.active),
            wrapping=tuple(agent.wrapping),
            capacity={m.value: n for m, n in spec.capacity.limits.items()},
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueView:
    id: str
    name: str
    waiting: int
    oldest_created_at: float | None
    agents_logged_in: int
    agents_ready: int
    open: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
