"""The engine's mutable records of interactions and agents (internal to the router)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trunkline.domain.agent import AgentSpec, AgentState, CapacityProfile
from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import ALL_MEDIA, Medium
from trunkline.router.keys import index_keys
from trunkline.router.skillmask import media_bits

if TYPE_CHECKING:
    from trunkline.router.classes import AgentClass


ProfileBits = tuple[int, frozenset[Medium], tuple[tuple[Medium, int, int], ...], int | None]


def profile_bits(profile: CapacityProfile) -> ProfileBits:
    """Precompute a capacity profile's media bits: idle, exclusive media, shared limits."""
    idle = media_bits(m for m in ALL_MEDIA if profile.limits.get(m, 0) > 0)
    shared = tuple(
        (m, media_bits([m]), profile.limits.get(m, 0))
        for m in ALL_MEDIA
        if m not in profile.exclusive and profile.limits.get(m, 0) > 0
    )
    return idle, profile.exclusive, shared, profile.max_total


def free_media_bits(bits: ProfileBits, load: dict[Medium, int], total: int) -> int:
    """The media an agent holding ``load`` can take one more of; the same rule as
    :meth:`CapacityProfile.can_take`, precomputed because it runs on every offer."""
    idle, exclusive, shared, max_total = bits
    if total == 0:
        return idle
    if max_total is not None and total >= max_total:
        return 0
    for medium in exclusive:
        if load.get(medium):
            return 0
    free = 0
    for medium, bit, limit in shared:
        if load.get(medium, 0) < limit:
            free |= bit
    return free


class InteractionRecord:
    """One interaction as the router tracks it; ``key`` orders the universal queue."""

    __slots__ = (
        "id",
        "medium",
        "queue",
        "queues",
        "priority",
        "skills",
        "data",
        "customer_id",
        "created_at",
        "rank",
        "seq",
        "key",
        "need",
        "need_skills",
        "skill_names",
        "gen",
        "state",
        "agent_id",
        "offer_expires_at",
        "offer_token",
        "preferred_agent",
        "preferred_until",
        "pref_need",
        "rejected_by",
        "escalation_step",
        "escalation_base",
        "escalation_token",
        "assigned_at",
        "wrap_started_at",
        "wrap_until",
        "wrap_token",
        "rules",
    )

    def __init__(
        self,
        *,
        id: str,
        medium: Medium,
        queue: str,
        priority: int,
        skills: dict[str, int],
        data: dict[str, Any],
        customer_id: str | None,
        created_at: float,
        seq: int,
    ) -> None:
        self.id = id
        self.medium = medium
        self.queue = queue
        self.queues: frozenset[str] = frozenset({queue})
        self.priority = priority
        self.skills = skills
        self.data = data
        self.customer_id = customer_id
        self.created_at = created_at
        self.rank = created_at
        self.seq = seq
        self.key: tuple[float, int] = (created_at, seq)
        self.need = 0
        self.need_skills = 0  # ``need`` without the medium bit
        self.skill_names: tuple[str, ...] = ()  # required skills, sorted (index lookups)
        self.gen = 0  # bumped whenever filed entries of this interaction become stale
        self.state = InteractionState.QUEUED
        self.agent_id: str | None = None
        self.offer_expires_at: float | None = None
        self.offer_token = 0
        self.preferred_agent: str | None = None
        self.preferred_until: float | None = None
        # What the preferred agent must have: the full need, or only the medium for a
        # transfer to a named agent (a person chose them).
        self.pref_need = 0
        self.rejected_by: set[str] = set()
        self.escalation_step = 0
        self.escalation_base = created_at
        self.escalation_token = 0
        self.assigned_at: float | None = None
        self.wrap_started_at: float | None = None
        self.wrap_until: float | None = None
        self.wrap_token = 0
        self.rules: tuple[str, ...] = ()


class AgentRecord:
    """One agent: presence, held work, and the packed mask of what it can take now."""

    __slots__ = (
        "id",
        "spec",
        "cap",
        "cls",
        "presence",
        "reason",
        "state",
        "state_reason",
        "state_since",
        "load",
        "total",
        "offers",
        "active",
        "wrapping",
        "skill_bits",
        "mask",
        "lacks",
        "idle_seq",
        "filed_seq",
        "index_keys",
        "index_lists",
        "connected",
        "grace_token",
        "held",
        "retired",
    )

    def __init__(self, spec: AgentSpec, skill_bits: int, now: float) -> None:
        self.id = spec.id
        self.spec = spec
        self.cap = profile_bits(spec.capacity)
        self.cls: AgentClass | None = None
        self.presence = AgentState.LOGGED_OUT
        self.reason = ""
        self.state = AgentState.LOGGED_OUT
        self.state_reason = ""
        self.state_since = now
        self.load: dict[Medium, int] = {}
        self.total = 0
        self.offers: dict[str, InteractionRecord] = {}
        self.active: dict[str, InteractionRecord] = {}
        self.wrapping: dict[str, InteractionRecord] = {}
        self.skill_bits = skill_bits
        self.mask = 0
        self.lacks = -1
        self.idle_seq = 0
        # Its sequence number in the available-agent index while filed there, else 0.
        self.filed_seq = 0
        self.index_keys = index_keys(spec.queues, spec.skills)
        self.index_lists: tuple[dict[int, AgentRecord], ...] = ()
        self.connected = True
        self.grace_token = 0
        # Interactions waiting for this agent during their preferred-agent head start.
        self.held: dict[str, InteractionRecord] = {}
        self.retired = False

    def routable(self) -> bool:
        return (
            self.presence is AgentState.READY
            and self.connected
            and not self.retired
            and self.mask != self.skill_bits
        )

    def set_spec(self, spec: AgentSpec, skill_bits: int) -> None:
        self.spec = spec
        self.index_keys = index_keys(spec.queues, spec.skills)
        self.cap = profile_bits(spec.capacity)
        self.skill_bits = skill_bits
        self.refresh_mask()

    def refresh_mask(self) -> None:
        """Recompute which media this agent can take one more of, folded into its mask."""
        self.mask = self.skill_bits | free_media_bits(self.cap, self.load, self.total)
        self.lacks = ~self.mask

    def add_load(self, medium: Medium, delta: int) -> None:
        self.load[medium] = self.load.get(medium, 0) + delta
        self.total += delta
        self.refresh_mask()

    def displayed_state(self) -> AgentState:
        if self.presence is AgentState.LOGGED_OUT:
            return AgentState.LOGGED_OUT
        if self.active:
            return AgentState.BUSY
        if self.offers:
            return AgentState.RESERVED
        if self.wrapping:
            return AgentState.WRAP_UP
        return self.presence
