"""Agents: their static profile (skills, queues, capacity) and their state machine."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from trunkline.domain.errors import IllegalTransitionError
from trunkline.domain.media import Medium


class AgentState(StrEnum):
    """What a supervisor sees for an agent.

    ``LOGGED_OUT``, ``NOT_READY`` and ``READY`` are chosen by the agent (their presence);
    ``RESERVED``, ``BUSY`` and ``WRAP_UP`` follow from the work they hold and overlay the
    presence while that work lasts.
    """

    LOGGED_OUT = "logged_out"
    NOT_READY = "not_ready"
    READY = "ready"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class AgentCommand(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    READY = "ready"
    NOT_READY = "not_ready"


# The transition table: which commands each displayed state accepts. Anything missing is an
# illegal transition. Presence may change while work is held (it then decides whether more
# work is offered), but nobody logs out while holding an offer or an interaction.
ALLOWED_COMMANDS: Mapping[AgentState, frozenset[AgentCommand]] = {
    AgentState.LOGGED_OUT: frozenset({AgentCommand.LOGIN}),
    AgentState.NOT_READY: frozenset(
        {AgentCommand.READY, AgentCommand.NOT_READY, AgentCommand.LOGOUT}
    ),
    AgentState.READY: frozenset({AgentCommand.READY, AgentCommand.NOT_READY, AgentCommand.LOGOUT}),
    AgentState.RESERVED: frozenset({AgentCommand.READY, AgentCommand.NOT_READY}),
    AgentState.BUSY: frozenset({AgentCommand.READY, AgentCommand.NOT_READY}),
    AgentState.WRAP_UP: frozenset({AgentCommand.READY, AgentCommand.NOT_READY}),
}


def check_command(agent_id: str, state: AgentState, command: AgentCommand) -> None:
    """Raise :class:`IllegalTransitionError` unless ``command`` is allowed in ``state``."""
    if command not in ALLOWED_COMMANDS[state]:
        raise IllegalTransitionError(
            f"agent {agent_id!r} cannot {command.value.replace('_', ' ')} while {state.value}",
            details={"agent_id": agent_id, "state": state.value, "command": command.value},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CapacityProfile:
    """How much work an agent holds at once, per medium.

    An *exclusive* medium (voice by default) is only offered to an agent holding nothing,
    and while held it excludes everything else. ``max_total`` caps the sum across media.
    """

    name: str = "default"
    limits: Mapping[Medium, int] = field(
        default_factory=lambda: {
            Medium.VOICE: 1,
            Medium.CALLBACK: 1,
            Medium.CHAT: 3,
            Medium.EMAIL: 1,
            Medium.FAX: 1,
            Medium.VOICEMAIL: 1,
        }
    )
    exclusive: frozenset[Medium] = frozenset({Medium.VOICE, Medium.CALLBACK})
    max_total: int | None = 4

    def can_take(self, medium: Medium, load: Mapping[Medium, int], total: int) -> bool:
        """Whether one more interaction of ``medium`` fits beside ``load``."""
        limit = self.limits.get(medium, 0)
        if limit <= 0:
            return False
        if total == 0:
            return True
        if medium in self.exclusive:
            return False
        if any(load.get(m, 0) for m in self.exclusive):
            return False
        if self.max_total is not None and total >= self.max_total:
            return False
        return load.get(medium, 0) < limit


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpec:
    """An agent as configured: identity, skills (level 1-5), queues and capacity."""

    id: str
    name: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)
    queues: frozenset[str] = frozenset()
    capacity: CapacityProfile = field(default_factory=CapacityProfile)
    team: str = ""
