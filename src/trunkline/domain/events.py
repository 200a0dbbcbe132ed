"""Events: every change of an interaction or an agent, the one source of truth.

Each event is a frozen dataclass named in the past tense. ``at`` is epoch seconds.
:func:`event_to_dict` / :func:`event_from_dict` give the stable JSON form stored in the
event record and pushed over websockets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from trunkline.domain.agent import AgentState
from trunkline.domain.media import Medium


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    kind: ClassVar[str] = "event"
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionEvent(Event):
    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionCreated(InteractionEvent):
    kind: ClassVar[str] = "interaction_created"
    medium: Medium
    queue: str
    priority: int
    skills: Mapping[str, int] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    customer: Mapping[str, Any] = field(default_factory=dict)  # the CRM's facts, see request
    created_at: float
    rules: tuple[str, ...] = ()  # names of the routing rules that matched


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionQueued(InteractionEvent):
    """The interaction waits in ``queue``; ``reason`` says why it (re)entered."""

    kind: ClassVar[str] = "interaction_queued"
    queue: str
    medium: Medium
    priority: int
    rank: float
    skills: Mapping[str, int] = field(default_factory=dict)
    preferred_agent: str | None = None
    preferred_until: float | None = None
    reason: str = "new"  # new | requeued | transferred | recovered


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionRefused(InteractionEvent):
    kind: ClassVar[str] = "interaction_refused"
    queue: str
    medium: Medium
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionOffered(InteractionEvent):
    kind: ClassVar[str] = "interaction_offered"
    agent_id: str
    queue: str
    medium: Medium
    expires_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferAccepted(InteractionEvent):
    kind: ClassVar[str] = "offer_accepted"
    agent_id: str
    queue: str
    medium: Medium
    waited_s: float  # from arrival to answer: the speed of answer


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRejected(InteractionEvent):
    kind: ClassVar[str] = "offer_rejected"
    agent_id: str
    queue: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferTimedOut(InteractionEvent):
    kind: ClassVar[str] = "offer_timed_out"
    agent_id: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRevoked(InteractionEvent):
    """An offer withdrawn before the agent answered (caller hung up, agent went away)."""

    kind: ClassVar[str] = "offer_revoked"
    agent_id: str
    queue: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionEscalated(InteractionEvent):
    kind: ClassVar[str] = "interaction_escalated"
    queue: str
    step: int
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: tuple[str, ...] = ()
    priority: int = 0  # the new priority (absolute)
    rank: float = 0.0  # the new place in the order


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionTransferred(InteractionEvent):
    kind: ClassVar[str] = "interaction_transferred"
    from_agent: str
    from_queue: str
    to_queue: str
    to_agent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionMoved(InteractionEvent):
    """A supervisor moved a waiting interaction to another queue or a named agent.

    An ``interaction_queued`` with reason "moved" follows; for reports the visit to
    ``from_queue`` ends as transferred, like an agent's transfer.
    """

    kind: ClassVar[str] = "interaction_moved"
    from_queue: str
    to_queue: str
    to_agent: str | None = None
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionAbandoned(InteractionEvent):
    """The customer left before an agent answered."""

    kind: ClassVar[str] = "interaction_abandoned"
    queue: str
    medium: Medium
    waited_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionCancelled(InteractionEvent):
    kind: ClassVar[str] = "interaction_cancelled"
    queue: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HandlingEnded(InteractionEvent):
    """The conversation is over; wrap-up follows (or completion, with no wrap-up)."""

    kind: ClassVar[str] = "handling_ended"
    agent_id: str
    queue: str
    medium: Medium
    handled_s: float
    wrap_up_until: float | None = None  # None: manual wrap-up or none at all


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionCompleted(InteractionEvent):
    kind: ClassVar[str] = "interaction_completed"
    agent_id: str
    queue: str
    medium: Medium
    disposition: str | None = None
    notes: str = ""
    wrap_up_s: float = 0.0
    auto: bool = False  # ended by the wrap-up timer rather than by the agent


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentEvent(Event):
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedIn(AgentEvent):
    kind: ClassVar[str] = "agent_logged_in"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoggedOut(AgentEvent):
    kind: ClassVar[str] = "agent_logged_out"
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(AgentEvent):
    kind: ClassVar[str] = "agent_state_changed"
    old: AgentState
    new: AgentState
    reason: str = ""  # not-ready reason code, or why the system changed it
    old_since: float = 0.0  # when the old state began: time in state = at - old_since


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPresenceChanged(AgentEvent):
    """The agent's chosen presence changed while their shown state stayed (busy, then not
    ready): what applies once the work in hand is done."""

    kind: ClassVar[str] = "agent_presence_changed"
    presence: AgentState
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentProfileChanged(AgentEvent):
    """A supervisor changed the agent's skills or queues; routing follows at once."""

    kind: ClassVar[str] = "agent_profile_changed"
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: tuple[str, ...] = ()
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class BroadcastSent(Event):
    """A supervisor's message to agents: all logged-in agents, or those of ``queue``."""

    kind: ClassVar[str] = "broadcast_sent"
    by: str  # the sender's user id
    sender: str  # the sender's name, as agents see it
    text: str
    queue: str | None = None
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigReloaded(Event):
    kind: ClassVar[str] = "config_reloaded"
    source: str
    queues: int
    agents: int


EVENT_TYPES: Mapping[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        InteractionCreated,
        InteractionQueued,
        InteractionRefused,
        InteractionOffered,
        OfferAccepted,
        OfferRejected,
        OfferTimedOut,
        OfferRevoked,
        InteractionEscalated,
        InteractionTransferred,
        InteractionMoved,
        InteractionAbandoned,
        InteractionCancelled,
        HandlingEnded,
        InteractionCompleted,
        AgentLoggedIn,
        AgentLoggedOut,
        AgentStateChanged,
        AgentPresenceChanged,
        AgentProfileChanged,
        BroadcastSent,
        ConfigReloaded,
    )
}


_FIELD_NAMES: dict[type[Event], tuple[str, ...]] = {}


def _field_names(cls: type[Event]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form: ``{"type": kind, ...fields}``."""
    out: dict[str, Any] = {"type": event.kind}
    # Field names are cached per class: this runs for every event recorded and pushed.
    for name in _field_names(type(event)):
        value = getattr(event, name)
        if type(value) in _SCALARS:
            out[name] = value
        elif isinstance(value, Mapping):
            out[name] = dict(value)
        elif isinstance(value, tuple):
            out[name] = list(value)
        else:
            out[name] = value
    return out


_SCALARS = frozenset({str, float, int, bool, type(None)})


def event_from_dict(data: Mapping[str, Any]) -> Event:
    """Inverse of :func:`event_to_dict`; unknown keys are ignored for forward compatibility."""
    cls = EVENT_TYPES[data["type"]]
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in ("medium",):
            value = Medium(value)
        elif f.name in ("old", "new"):
            value = AgentState(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
