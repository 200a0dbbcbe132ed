"""Interactions: what a customer brings, on any medium, and their life cycle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from trunkline.domain.errors import IllegalTransitionError
from trunkline.domain.media import Medium


class InteractionState(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WRAP_UP = "wrap_up"
    COMPLETED = "completed"
    ABANDONED = "abandoned"
    CANCELLED = "cancelled"
    REFUSED = "refused"


TERMINAL_STATES: frozenset[InteractionState] = frozenset(
    {
        InteractionState.COMPLETED,
        InteractionState.ABANDONED,
        InteractionState.CANCELLED,
        InteractionState.REFUSED,
    }
)

# The life-cycle table; a change not listed here is a bug or a bad request.
TRANSITIONS: Mapping[InteractionState, frozenset[InteractionState]] = {
    InteractionState.QUEUED: frozenset(
        {InteractionState.OFFERED, InteractionState.ABANDONED, InteractionState.CANCELLED}
    ),
    InteractionState.OFFERED: frozenset(
        {
            InteractionState.ASSIGNED,
            InteractionState.QUEUED,
            InteractionState.ABANDONED,
            InteractionState.CANCELLED,
        }
    ),
    InteractionState.ASSIGNED: frozenset(
        {
            InteractionState.WRAP_UP,
            InteractionState.COMPLETED,
            InteractionState.QUEUED,
            InteractionState.CANCELLED,
        }
    ),
    InteractionState.WRAP_UP: frozenset({InteractionState.COMPLETED}),
    InteractionState.COMPLETED: frozenset(),
    InteractionState.ABANDONED: frozenset(),
    InteractionState.CANCELLED: frozenset(),
    InteractionState.REFUSED: frozenset(),
}


def check_transition(
    interaction_id: str, old: InteractionState, new: InteractionState, action: str
) -> None:
    if new not in TRANSITIONS[old]:
        raise IllegalTransitionError(
            f"interaction {interaction_id!r} cannot {action} while {old.value}",
            details={"interaction_id": interaction_id, "state": old.value, "action": action},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class InteractionRequest:
    """What a channel (or the API) asks to route. Rules may still change queue and needs."""

    id: str
    medium: Medium
    queue: str
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    customer_id: str | None = None
    # What the CRM knows of the customer, for rules and reports: class, value, language,
    # open_cases, known (False for a provisional contact). Set by recognition.
    customer: Mapping[str, Any] = field(default_factory=dict)
    preferred_agent: str | None = None
    created_at: float | None = None
