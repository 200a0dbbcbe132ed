"""The sans-IO routing engine: commands in, events and the next deadline out.

The engine never reads a clock: every command takes ``now`` (epoch seconds). Each public
command returns the events it caused, in order; :meth:`Router.next_deadline` and
:meth:`Router.handle_timer` drive offer timeouts, escalation steps, preferred-agent head
starts, timed wrap-up and the disconnect grace period.

It is work-conserving: after every command no routable agent could serve any waiting
interaction it is eligible for. Matching is triggered from both sides, an arrival walks the
available agents of its queues and an agent with free capacity walks the waiting
interactions of its queues, each walk stopping at the first eligible entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from trunkline.domain.agent import (
    AgentCommand,
    AgentSpec,
    AgentState,
    check_command,
)
from trunkline.domain.calendar import ALWAYS_OPEN
from trunkline.domain.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidRequestError,
    UnknownAgentError,
    UnknownInteractionError,
    UnknownQueueError,
)
from trunkline.domain.events import (
    AgentLoggedIn,
    AgentLoggedOut,
    AgentPresenceChanged,
    AgentProfileChanged,
    AgentStateChanged,
    ConfigReloaded,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionEscalated,
    InteractionMoved,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)
from trunkline.domain.interaction import (
    InteractionRequest,
    InteractionState,
    check_transition,
)
from trunkline.domain.media import ALL_MEDIA, Medium
from trunkline.domain.queue import (
    ClosedAction,
    EscalationStep,
    QueueSpec,
    SelectionStrategy,
    WrapUpMode,
)
from trunkline.router.classes import ClassIndex
from trunkline.router.errors import (
    AgentBusyError,
    DuplicateInteractionError,
    OfferGoneError,
)
from trunkline.router.index import AgentIndex, AgentList
from trunkline.router.records import AgentRecord, InteractionRecord
from trunkline.router.skillmask import LEVELS, SkillRegistry, media_bits
from trunkline.router.timers import TimerHeap, TimerKind
from trunkline.router.views import AgentView, InteractionView, QueueView

log = logging.getLogger(__name__)

# A strict-priority queue ranks one priority step as this many seconds of waiting: in
# practice priority always dominates, and FIFO holds within a priority.
STRICT_PRIORITY_UNIT_S = 1e9
MISSED_REASON = "missed"
DISCONNECTED_REASON = "disconnected"
_MEDIUM_BITS = {m: media_bits([m]) for m in ALL_MEDIA}
_ALL_MEDIA_BITS = media_bits(ALL_MEDIA)


class RuleApplier(Protocol):
    """Routing rules as the engine sees them (see :mod:`trunkline.router.rules`)."""

    def apply(
        self,
        request: InteractionRequest,
        *,
        now: float,
        timezone: str,
        is_open: Callable[[str], bool],
    ) -> tuple[InteractionRequest, tuple[str, ...]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterSettings:
    # Priority acts as waiting time: priority p ranks as if it had waited p units longer.
    priority_unit_s: float = 60.0
    preferred_head_start_s: float = 20.0
    disconnect_grace_s: float = 30.0
    timezone: str = "UTC"


class Router:
    """The universal queue and the skills router for every medium."""

    def __init__(
        self,
        *,
        queues: Mapping[str, QueueSpec],
        agents: Mapping[str, AgentSpec],
        now: float,
        settings: RouterSettings | None = None,
        rules: RuleApplier | None = None,
    ) -> None:
        self._settings = settings or RouterSettings()
        self._rules = rules
        self._queues: dict[str, QueueSpec] = dict(queues)
        self._retired_queues: set[str] = set()
        self._steps: dict[str, tuple[EscalationStep, ...]] = {}
        self._skills = SkillRegistry()
        self._agents: dict[str, AgentRecord] = {}
        self._interactions: dict[str, InteractionRecord] = {}
        self._agent_index = AgentIndex()
        self._classes = ClassIndex()
        self._timers = TimerHeap()
        self._seq = 0
        self._out: list[Event] = []
        for spec in agents.values():
            self._add_agent(spec, now)

    def _add_agent(self, spec: AgentSpec, now: float) -> AgentRecord:
        agent = AgentRecord(spec, self._skills.agent_skill_bits(spec.skills), now)
        self._agents[spec.id] = agent
        self._agent_index.prepare(agent)
        self._assign_class(agent)
        return agent

    def _assign_class(self, agent: AgentRecord) -> None:
        if agent.cls is not None:
            agent.cls.members -= 1
        cls, created = self._classes.class_for(
            agent.skill_bits, agent.spec.queues, frozenset(agent.spec.skills)
        )
        cls.members += 1
        agent.cls = cls
        if created:
            self._classes.fill(cls, self._waiting_interactions())

    def _waiting_interactions(self) -> Iterator[InteractionRecord]:
        for it in self._interactions.values():
            if it.state is InteractionState.QUEUED and it.preferred_until is None:
                yield it

    # ------------------------------------------------------------------ helpers

    def _take_events(self) -> list[Event]:
        if self._classes.needs_compaction():
            self._classes.compact()
        out, self._out = self._out, []
        return out

    def _agent(self, agent_id: str) -> AgentRecord:
        agent = self._agents.get(agent_id)
        if agent is None:
            raise UnknownAgentError(f"no agent {agent_id!r}", details={"agent_id": agent_id})
        return agent

    def _interaction(self, interaction_id: str) -> InteractionRecord:
        it = self._interactions.get(interaction_id)
        if it is None:
            raise UnknownInteractionError(
                f"no open interaction {interaction_id!r}",
                details={"interaction_id": interaction_id},
            )
        return it

    def _queue(self, queue_id: str) -> QueueSpec:
        spec = self._queues.get(queue_id)
        if spec is None:
            raise UnknownQueueError(f"no queue {queue_id!r}", details={"queue": queue_id})
        return spec

    def _escalation(self, queue_id: str) -> tuple[EscalationStep, ...]:
        steps = self._steps.get(queue_id)
        if steps is None:
            steps = tuple(sorted(self._queue(queue_id).escalation, key=lambda s: s.after_s))
            self._steps[queue_id] = steps
        return steps

    def _rank(self, queue_id: str, created_at: float, priority: int) -> float:
        spec = self._queue(queue_id)
        unit = STRICT_PRIORITY_UNIT_S if spec.strict_priority else self._settings.priority_unit_s
        return created_at - priority * unit

    def _is_open(self, queue_id: str, now: float) -> bool:
        hours = self._queue(queue_id).hours
        return hours is ALWAYS_OPEN or hours.is_open(now)

    @staticmethod
    def _check_skills(skills: Mapping[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, level in skills.items():
            if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= LEVELS:
                raise InvalidRequestError(
                    f"skill {name!r} needs a level from 1 to {LEVELS}",
                    details={"skill": name, "level": level},
                )
            if level:
                out[name] = level
        return out

    # ----------------------------------------------------------- interactions

    def submit(self, request: InteractionRequest, now: float) -> list[Event]:
        """Accept a new interaction: apply the rules, business hours, then route it."""
        if request.id in self._interactions:
            raise DuplicateInteractionError(
                f"interaction {request.id!r} already exists", details={"interaction_id": request.id}
            )
        matched: tuple[str, ...] = ()
        if self._rules is not None:
            request, matched = self._rules.apply(
                request,
                now=now,
                timezone=self._settings.timezone,
                is_open=lambda q: q in self._queues and self._is_open(q, now),
            )
        if request.queue not in self._queues or request.queue in self._retired_queues:
            raise UnknownQueueError(f"no queue {request.queue!r}", details={"queue": request.queue})
        skills = self._check_skills(request.skills)
        created_at = request.created_at if request.created_at is not None else now
        self._seq += 1
        it = InteractionRecord(
            id=request.id,
            medium=request.medium,
            queue=request.queue,
            priority=request.priority,
            skills=skills,
            data=dict(request.data),
            customer_id=request.customer_id,
            created_at=created_at,
            seq=self._seq,
        )
        it.rules = matched
        it.preferred_agent = request.preferred_agent
        self._out.append(
            InteractionCreated(
                at=now,
                interaction_id=it.id,
                medium=it.medium,
                queue=it.queue,
                priority=it.priority,
                skills=dict(skills),
                data=dict(it.data),
                customer_id=it.customer_id,
                customer=dict(request.customer),
                created_at=created_at,
                rules=matched,
            )
        )
        queue_id = self._queue_for_arrival(it.queue, now)
        if queue_id is None:
            it.state = InteractionState.REFUSED
            self._out.append(
                InteractionRefused(
                    at=now, interaction_id=it.id, queue=it.queue, medium=it.medium, reason="closed"
                )
            )
            return self._take_events()
        it.queue = queue_id
        it.queues = frozenset({queue_id})
        self._interactions[it.id] = it
        self._enqueue(it, now, reason="new", head_start=self._settings.preferred_head_start_s)
        return self._take_events()

    def _queue_for_arrival(self, queue_id: str, now: float) -> str | None:
        """Apply business hours: the queue to wait in, or None when the arrival is refused."""
        if self._is_open(queue_id, now):
            return queue_id
        spec = self._queue(queue_id)
        if spec.closed_action is ClosedAction.QUEUE:
            return queue_id
        if spec.closed_action is ClosedAction.OVERFLOW and spec.closed_overflow_queue:
            # One hop only: a closed overflow queue queues or refuses, it never overflows on.
            target = spec.closed_overflow_queue
            if (
                target in self._queues
                and target not in self._retired_queues
                and (
                    self._is_open(target, now)
                    or self._queue(target).closed_action is ClosedAction.QUEUE
                )
            ):
                return target
        return None

    def restore(
        self,
        request: InteractionRequest,
        *,
        rank: float,
        state: InteractionState,
        agent_id: str | None,
        now: float,
    ) -> list[Event]:
        """Bring back an interaction recovered from the event record after a restart.

        Queued and offered ones return to their original place; assigned ones return to the
        queue (their agent's session is gone); ones in wrap-up are completed.
        """
        created_at = request.created_at if request.created_at is not None else now
        if request.id in self._interactions:
            return []
        if state is InteractionState.WRAP_UP:
            self._out.append(
                InteractionCompleted(
                    at=now,
                    interaction_id=request.id,
                    agent_id=agent_id or "",
                    queue=request.queue,
                    medium=request.medium,
                    auto=True,
                )
            )
            return self._take_events()
        if request.queue not in self._queues:
            log.warning(
                "recovered interaction %s names unknown queue %s", request.id, request.queue
            )
            self._out.append(
                InteractionCancelled(
                    at=now, interaction_id=request.id, queue=request.queue, reason="queue_removed"
                )
            )
            return self._take_events()
        self._seq += 1
        it = InteractionRecord(
            id=request.id,
            medium=request.medium,
            queue=request.queue,
            priority=request.priority,
            skills=self._check_skills(request.skills),
            data=dict(request.data),
            customer_id=request.customer_id,
            created_at=created_at,
            seq=self._seq,
        )
        it.preferred_agent = request.preferred_agent
        self._interactions[it.id] = it
        self._enqueue(it, now, reason="recovered", head_start=0.0, rank=rank)
        return self._take_events()

    def _enqueue(
        self,
        it: InteractionRecord,
        now: float,
        *,
        reason: str,
        head_start: float,
        rank: float | None = None,
        skip_skills_for_preferred: bool = False,
    ) -> None:
        it.rank = rank if rank is not None else self._rank(it.queue, it.created_at, it.priority)
        it.key = (it.rank, it.seq)
        self._set_need(it)
        it.state = InteractionState.QUEUED
        it.agent_id = None
        it.offer_expires_at = None
        it.preferred_until = None
        self._schedule_escalation(it)
        preferred = self._agents.get(it.preferred_agent) if it.preferred_agent else None
        if preferred is not None and head_start > 0 and self._can_hold_for(preferred, it.medium):
            it.pref_need = _MEDIUM_BITS[it.medium] if skip_skills_for_preferred else it.need
            if (it.pref_need & ~(preferred.skill_bits | _ALL_MEDIA_BITS)) == 0:
                it.preferred_until = now + head_start
                preferred.held[it.id] = it
                self._timers.push(it.preferred_until, TimerKind.PREFERRED, it.id, it.seq)
        self._out.append(self._queued_event(it, now, reason))
        if it.preferred_until is not None:
            assert preferred is not None
            self._route_agent(preferred, now)
            return
        self._route_or_wait(it, now)

    def _set_need(self, it: InteractionRecord) -> None:
        it.need = self._skills.need_bits(it.medium, it.skills)
        it.need_skills = it.need & ~_ALL_MEDIA_BITS
        it.skill_names = tuple(sorted(it.skills))

    def _route_or_wait(self, it: InteractionRecord, now: float) -> None:
        """Offer a waiting interaction now if an agent is free, else file it by need."""
        self._route_interaction(it, now)
        if it.state is InteractionState.QUEUED:
            self._classes.file(it)

    @staticmethod
    def _can_hold_for(agent: AgentRecord, medium: Medium) -> bool:
        """Worth waiting for: ready (busy is fine, on a break is not) and able to take the
        medium at all."""
        return (
            agent.presence is AgentState.READY
            and agent.connected
            and not agent.retired
            and bool(agent.cap[0] & _MEDIUM_BITS[medium])
        )

    def _queued_event(self, it: InteractionRecord, now: float, reason: str) -> InteractionQueued:
        return InteractionQueued(
            at=now,
            interaction_id=it.id,
            queue=it.queue,
            medium=it.medium,
            priority=it.priority,
            rank=it.rank,
            skills=dict(it.skills),
            preferred_agent=it.preferred_agent if it.preferred_until is not None else None,
            preferred_until=it.preferred_until,
            reason=reason,
        )

    def _requeue(self, it: InteractionRecord, now: float, reason: str) -> None:
        """Put an interaction back in its original place (its rank is unchanged)."""
        it.state = InteractionState.QUEUED
        it.agent_id = None
        it.offer_expires_at = None
        self._out.append(self._queued_event(it, now, reason))
        self._route_or_wait(it, now)

    def _schedule_escalation(self, it: InteractionRecord) -> None:
        steps = self._escalation(it.queue)
        it.escalation_token += 1
        if it.escalation_step < len(steps):
            deadline = it.escalation_base + steps[it.escalation_step].after_s
            self._timers.push(deadline, TimerKind.ESCALATION, it.id, it.escalation_token)

    def cancel(self, interaction_id: str, now: float, *, reason: str = "abandoned") -> list[Event]:
        """The customer left (``abandoned``) or someone withdrew the interaction."""
        it = self._interaction(interaction_id)
        if reason == "abandoned" and it.state is InteractionState.ASSIGNED:
            # The customer left mid-conversation: that ends handling, it is not an abandon.
            self._end_handling(it, self._agents[it.agent_id or ""], now)
            return self._take_events()
        abandoned = reason == "abandoned" and it.state in (
            InteractionState.QUEUED,
            InteractionState.OFFERED,
        )
        target = InteractionState.ABANDONED if abandoned else InteractionState.CANCELLED
        check_transition(it.id, it.state, target, "be cancelled")
        agent: AgentRecord | None = None
        if it.state is InteractionState.QUEUED:
            self._unqueue(it)
        elif it.state is InteractionState.OFFERED:
            agent = self._agents[it.agent_id or ""]
            self._withdraw_offer(it, agent)
            self._out.append(
                OfferRevoked(
                    at=now, interaction_id=it.id, agent_id=agent.id, queue=it.queue, reason=reason
                )
            )
        elif it.state is InteractionState.ASSIGNED:
            agent = self._agents[it.agent_id or ""]
            del agent.active[it.id]
            agent.add_load(it.medium, -1)
        it.state = target
        if abandoned:
            self._out.append(
                InteractionAbandoned(
                    at=now,
                    interaction_id=it.id,
                    queue=it.queue,
                    medium=it.medium,
                    waited_s=now - it.created_at,
                )
            )
        else:
            self._out.append(
                InteractionCancelled(at=now, interaction_id=it.id, queue=it.queue, reason=reason)
            )
        del self._interactions[it.id]
        if agent is not None:
            self._agent_freed(agent, now)
        return self._take_events()

    def _unqueue(self, it: InteractionRecord) -> None:
        """Take a QUEUED interaction out of the waiting index or its preferred agent's hold."""
        if it.preferred_until is not None:
            holder = self._agents.get(it.preferred_agent or "")
            if holder is not None:
                holder.held.pop(it.id, None)
            it.preferred_until = None
        else:
            self._classes.withdraw(it)

    # ------------------------------------------------------------------ offers

    def _offer(self, it: InteractionRecord, agent: AgentRecord, now: float) -> None:
        if it.preferred_until is not None:
            self._unqueue(it)
        else:
            it.gen += 1  # its filed entries are stale now (the hot path of _unqueue)
        it.state = InteractionState.OFFERED
        it.agent_id = agent.id
        it.offer_expires_at = now + self._queues[it.queue].offer_timeout_s
        it.offer_token += 1
        self._timers.push(it.offer_expires_at, TimerKind.OFFER, it.id, it.offer_token)
        agent.offers[it.id] = it
        agent.add_load(it.medium, 1)
        self._out.append(
            InteractionOffered(
                at=now,
                interaction_id=it.id,
                agent_id=agent.id,
                queue=it.queue,
                medium=it.medium,
                expires_at=it.offer_expires_at,
            )
        )
        self._sync_agent(agent, now, moved=True)

    def _withdraw_offer(self, it: InteractionRecord, agent: AgentRecord) -> None:
        del agent.offers[it.id]
        agent.add_load(it.medium, -1)
        it.offer_token += 1
        it.offer_expires_at = None
        it.agent_id = None

    def _offered_to(self, interaction_id: str, agent_id: str) -> InteractionRecord:
        it = self._interactions.get(interaction_id)
        if it is None or it.state is not InteractionState.OFFERED or it.agent_id != agent_id:
            raise OfferGoneError(
                f"interaction {interaction_id!r} is not on offer to agent {agent_id!r}",
                details={"interaction_id": interaction_id, "agent_id": agent_id},
            )
        return it

    def accept(self, interaction_id: str, agent_id: str, now: float) -> list[Event]:
        """The agent takes the offer. Accepting what one already holds changes nothing."""
        agent = self._agent(agent_id)
        it = self._interactions.get(interaction_id)
        if it is not None and it.state is InteractionState.ASSIGNED and it.agent_id == agent_id:
            return []
        it = self._offered_to(interaction_id, agent_id)
        del agent.offers[it.id]
        agent.active[it.id] = it
        it.state = InteractionState.ASSIGNED
        it.assigned_at = now
        it.offer_token += 1
        it.offer_expires_at = None
        self._out.append(
            OfferAccepted(
                at=now,
                interaction_id=it.id,
                agent_id=agent_id,
                queue=it.queue,
                medium=it.medium,
                waited_s=now - it.created_at,
            )
        )
        self._sync_agent(agent, now, moved=False)
        return self._take_events()

    def reject(
        self, interaction_id: str, agent_id: str, now: float, reason: str = ""
    ) -> list[Event]:
        """The agent declines: the interaction goes back to its place, never to them again."""
        agent = self._agent(agent_id)
        it = self._offered_to(interaction_id, agent_id)
        self._withdraw_offer(it, agent)
        it.rejected_by.add(agent_id)
        self._out.append(
            OfferRejected(
                at=now, interaction_id=it.id, agent_id=agent_id, queue=it.queue, reason=reason
            )
        )
        self._requeue(it, now, "requeued")
        self._agent_freed(agent, now)
        return self._take_events()

    def _offer_timed_out(self, it: InteractionRecord, now: float) -> None:
        agent = self._agents[it.agent_id or ""]
        self._withdraw_offer(it, agent)
        self._out.append(
            OfferTimedOut(at=now, interaction_id=it.id, agent_id=agent.id, queue=it.queue)
        )
        # Redirect on no answer: the agent is not left ready to miss the next one too.
        agent.presence = AgentState.NOT_READY
        agent.reason = MISSED_REASON
        self._sync_agent(agent, now, moved=False)
        self._requeue(it, now, "requeued")

    # ---------------------------------------------------------------- handling

    def _held_by(self, interaction_id: str, agent_id: str, action: str) -> InteractionRecord:
        it = self._interaction(interaction_id)
        if it.agent_id != agent_id or it.state not in (
            InteractionState.ASSIGNED,
            InteractionState.WRAP_UP,
        ):
            raise IllegalTransitionError(
                f"agent {agent_id!r} cannot {action} interaction {interaction_id!r}: "
                f"it is {it.state.value}"
                + (f" with {it.agent_id!r}" if it.agent_id and it.agent_id != agent_id else ""),
                details={"interaction_id": interaction_id, "agent_id": agent_id},
            )
        return it

    def end_handling(self, interaction_id: str, agent_id: str, now: float) -> list[Event]:
        """The conversation is over; wrap-up starts as the queue's policy says."""
        it = self._held_by(interaction_id, agent_id, "end")
        self._end_handling(it, self._agents[agent_id], now)
        return self._take_events()

    def _end_handling(self, it: InteractionRecord, agent: AgentRecord, now: float) -> None:
        check_transition(it.id, it.state, InteractionState.WRAP_UP, "end handling")
        policy = self._queue(it.queue).wrap_up
        handled_s = now - (it.assigned_at if it.assigned_at is not None else now)
        del agent.active[it.id]
        agent.wrapping[it.id] = it
        it.state = InteractionState.WRAP_UP
        it.wrap_started_at = now
        it.wrap_until = now + policy.seconds if policy.mode is WrapUpMode.TIMED else None
        self._out.append(
            HandlingEnded(
                at=now,
                interaction_id=it.id,
                agent_id=agent.id,
                queue=it.queue,
                medium=it.medium,
                handled_s=handled_s,
                wrap_up_until=it.wrap_until,
            )
        )
        if policy.mode is WrapUpMode.NONE:
            self._complete(it, agent, now, disposition=None, notes="", auto=True)
            return
        if it.wrap_until is not None:
            it.wrap_token += 1
            self._timers.push(it.wrap_until, TimerKind.WRAP_UP, it.id, it.wrap_token)
        self._sync_agent(agent, now, moved=False)

    def wrap_up(
        self,
        interaction_id: str,
        agent_id: str,
        now: float,
        *,
        disposition: str | None = None,
        notes: str = "",
    ) -> list[Event]:
        """Close the interaction with a disposition; from handling it ends the call too."""
        it = self._held_by(interaction_id, agent_id, "wrap up")
        agent = self._agents[agent_id]
        if it.state is InteractionState.ASSIGNED:
            self._end_handling(it, agent, now)
            if it.id not in self._interactions:  # no wrap-up: already completed
                return self._take_events()
        self._complete(it, agent, now, disposition=disposition, notes=notes, auto=False)
        return self._take_events()

    def _complete(
        self,
        it: InteractionRecord,
        agent: AgentRecord,
        now: float,
        *,
        disposition: str | None,
        notes: str,
        auto: bool,
    ) -> None:
        check_transition(it.id, it.state, InteractionState.COMPLETED, "complete")
        del agent.wrapping[it.id]
        agent.add_load(it.medium, -1)
        it.state = InteractionState.COMPLETED
        it.wrap_token += 1
        started = it.wrap_started_at if it.wrap_started_at is not None else now
        self._out.append(
            InteractionCompleted(
                at=now,
                interaction_id=it.id,
                agent_id=agent.id,
                queue=it.queue,
                medium=it.medium,
                disposition=disposition,
                notes=notes,
                wrap_up_s=now - started,
                auto=auto,
            )
        )
        del self._interactions[it.id]
        self._agent_freed(agent, now)

    def transfer(
        self,
        interaction_id: str,
        agent_id: str,
        now: float,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> list[Event]:
        """Hand an assigned interaction to another queue, or to a named agent first.

        It keeps its original place in the order. A named agent gets the queue's transfer
        head start (skills not required: a person chose them); after it, the queue takes it.
        """
        it = self._held_by(interaction_id, agent_id, "transfer")
        check_transition(it.id, it.state, InteractionState.QUEUED, "be transferred")
        spec = self._live_queue(to_queue or it.queue)
        if to_agent is not None:
            if to_agent == agent_id:
                raise InvalidRequestError("cannot transfer an interaction to oneself")
            self._check_available(to_agent, it.medium, "transfer")
        agent = self._agents[agent_id]
        del agent.active[it.id]
        agent.add_load(it.medium, -1)
        self._out.append(
            InteractionTransferred(
                at=now,
                interaction_id=it.id,
                from_agent=agent_id,
                from_queue=it.queue,
                to_queue=spec.id,
                to_agent=to_agent,
            )
        )
        it.assigned_at = None
        self._requeue_in(it, spec, to_agent, now, reason="transferred", rejected_by={agent_id})
        self._agent_freed(agent, now)
        return self._take_events()

    def _live_queue(self, queue_id: str) -> QueueSpec:
        """The queue work may be sent to: configured, and not retired by a reload."""
        spec = self._queue(queue_id)
        if queue_id in self._retired_queues:
            raise UnknownQueueError(f"no queue {queue_id!r}", details={"queue": queue_id})
        return spec

    def _check_available(self, agent_id: str, medium: Medium, what: str) -> None:
        """A named agent must be worth waiting for (see :meth:`_can_hold_for`)."""
        target = self._agent(agent_id)
        if not self._can_hold_for(target, medium):
            raise ConflictError(
                f"agent {agent_id!r} is not available for a {medium.value} {what} "
                f"({target.state.value})",
                details={"agent_id": agent_id, "state": target.state.value},
            )

    def _requeue_in(
        self,
        it: InteractionRecord,
        spec: QueueSpec,
        to_agent: str | None,
        now: float,
        *,
        reason: str,
        rejected_by: set[str],
    ) -> None:
        """Start a new visit to queue ``spec`` (a transfer or a move), keeping the place the
        arrival time gives; a named agent gets the queue's transfer head start (skills not
        required: a person chose them)."""
        it.queue = spec.id
        it.queues = frozenset({spec.id})
        it.rejected_by = rejected_by
        it.preferred_agent = to_agent
        it.escalation_step = 0
        it.escalation_base = now
        self._enqueue(
            it,
            now,
            reason=reason,
            head_start=spec.transfer_head_start_s if to_agent else 0.0,
            rank=self._rank(spec.id, it.created_at, it.priority),
            skip_skills_for_preferred=True,
        )

    def move(
        self,
        interaction_id: str,
        now: float,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
        by: str = "",
    ) -> list[Event]:
        """A supervisor moves a waiting interaction to another queue or a named agent.

        Only waiting work moves (an assigned one is the holder's to transfer); one on
        offer has the offer withdrawn first. It keeps its place in the order by arrival
        time, and a named agent gets the target queue's transfer head start.
        """
        it = self._interaction(interaction_id)
        if it.state not in (InteractionState.QUEUED, InteractionState.OFFERED):
            raise ConflictError(
                f"interaction {interaction_id!r} is {it.state.value}: only a waiting "
                "interaction can be moved (its agent may transfer it)",
                details={"interaction_id": interaction_id, "state": it.state.value},
            )
        spec = self._live_queue(to_queue or it.queue)
        if to_agent is None and spec.id == it.queue:
            raise InvalidRequestError(
                f"interaction {interaction_id!r} already waits in queue {spec.id!r}",
                details={"queue": spec.id},
            )
        if to_agent is not None:
            self._check_available(to_agent, it.medium, "interaction")
        offered_to: AgentRecord | None = None
        if it.state is InteractionState.QUEUED:
            self._unqueue(it)
        else:
            offered_to = self._agents[it.agent_id or ""]
            self._withdraw_offer(it, offered_to)
            self._out.append(
                OfferRevoked(
                    at=now,
                    interaction_id=it.id,
                    agent_id=offered_to.id,
                    queue=it.queue,
                    reason="moved",
                )
            )
        self._out.append(
            InteractionMoved(
                at=now,
                interaction_id=it.id,
                from_queue=it.queue,
                to_queue=spec.id,
                to_agent=to_agent,
                by=by,
            )
        )
        # A new queue is a fresh start: who declined it before may take it now.
        self._requeue_in(it, spec, to_agent, now, reason="moved", rejected_by=set())
        if offered_to is not None:
            self._agent_freed(offered_to, now)
        return self._take_events()

    # ------------------------------------------------------------------ matching

    def _route_interaction(self, it: InteractionRecord, now: float) -> None:
        """Offer a newly waiting interaction to the best available agent, if any."""
        if it.preferred_until is not None:
            return
        strategy = self._queues[it.queue].strategy
        best: AgentRecord | None = None
        for queue_id in it.queues:
            candidates = self._agent_index.candidates(queue_id, it.skill_names)
            if not candidates:
                continue
            if strategy is SelectionStrategy.LONGEST_IDLE:
                found = self._agent_index.first_eligible(candidates, it.need, it.rejected_by)
            else:
                found = self._best_scored(it, candidates, strategy)
            if found is not None and (
                best is None or self._better_agent(found, best, it, strategy)
            ):
                best = found
        if best is not None:
            self._offer(it, best, now)

    @staticmethod
    def _score(agent: AgentRecord, it: InteractionRecord, strategy: SelectionStrategy) -> int:
        if strategy is SelectionStrategy.MOST_SKILLED:
            skills = agent.spec.skills
            return sum(skills.get(name, 0) for name in it.skills)
        return -agent.total

    def _best_scored(
        self, it: InteractionRecord, candidates: AgentList, strategy: SelectionStrategy
    ) -> AgentRecord | None:
        """The eligible agent with the best score; the longest idle among equals."""
        need = it.need
        rejected = it.rejected_by
        best: AgentRecord | None = None
        best_key = (0, 0)
        for agent in self._agent_index.live(candidates):
            if need & agent.lacks or (rejected and agent.spec.id in rejected):
                continue
            key = (self._score(agent, it, strategy), -agent.idle_seq)
            if best is None or key > best_key:
                best, best_key = agent, key
        return best

    def _better_agent(
        self,
        a: AgentRecord,
        b: AgentRecord,
        it: InteractionRecord,
        strategy: SelectionStrategy,
    ) -> bool:
        if strategy is not SelectionStrategy.LONGEST_IDLE:
            sa, sb = self._score(a, it, strategy), self._score(b, it, strategy)
            if sa != sb:
                return sa > sb
        return a.idle_seq < b.idle_seq

    def _agent_freed(self, agent: AgentRecord, now: float, *, moved: bool = True) -> None:
        """Capacity or presence opened up: give the agent waiting work first, and only then
        file it as available (filing an agent that takes work at once is wasted effort)."""
        self._sync_state(agent, now)
        offered = self._route_agent(agent, now)
        self._sync_index(agent, moved=moved and not offered)

    def _route_agent(self, agent: AgentRecord, now: float) -> bool:
        """Give an agent with free capacity the best waiting interactions it can serve."""
        offered = False
        while agent.routable():
            lacks = agent.lacks
            aid = agent.spec.id
            best: InteractionRecord | None = None
            for it in agent.held.values():
                if not it.pref_need & lacks and aid not in it.rejected_by:
                    if best is None or it.key < best.key:
                        best = it
            mask = agent.mask
            cls = agent.cls
            assert cls is not None
            classes = self._classes
            for medium in ALL_MEDIA:
                if not mask & _MEDIUM_BITS[medium]:
                    continue
                entry = classes.head(cls, medium)
                if entry is None:
                    continue
                if entry[3].rejected_by and aid in entry[3].rejected_by:
                    entry = classes.first_not_rejected(cls, medium, aid)
                    if entry is None:
                        continue
                if best is None or (entry[0], entry[1]) < best.key:
                    best = entry[3]
            if best is None:
                break
            self._offer(best, agent, now)
            offered = True
        return offered

    def _sync_agent(self, agent: AgentRecord, now: float, *, moved: bool) -> None:
        """Keep the agent index and the displayed state in step with the agent's record."""
        self._sync_index(agent, moved=moved)
        self._sync_state(agent, now)

    def _sync_index(self, agent: AgentRecord, *, moved: bool) -> None:
        if agent.routable():
            if moved or not agent.filed_seq:
                self._agent_index.file(agent)
        elif agent.filed_seq:
            self._agent_index.unfile(agent)

    def _sync_state(self, agent: AgentRecord, now: float) -> None:
        state = agent.displayed_state()
        reason = agent.reason if state is AgentState.NOT_READY else ""
        if state is not agent.state or reason != agent.state_reason:
            self._out.append(
                AgentStateChanged(
                    at=now,
                    agent_id=agent.spec.id,
                    old=agent.state,
                    new=state,
                    reason=reason,
                    old_since=agent.state_since,
                )
            )
            if log.isEnabledFor(logging.DEBUG):
                log.debug("agent %s: %s -> %s", agent.id, agent.state, state)
            agent.state = state
            agent.state_reason = reason
            agent.state_since = now

    # ------------------------------------------------------------------ agents

    def login(
        self, agent_id: str, now: float, *, ready: bool = False, reason: str = "login"
    ) -> list[Event]:
        agent = self._agent(agent_id)
        if agent.retired:
            raise UnknownAgentError(f"no agent {agent_id!r}", details={"agent_id": agent_id})
        check_command(agent_id, agent.state, AgentCommand.LOGIN)
        agent.presence = AgentState.READY if ready else AgentState.NOT_READY
        agent.reason = "" if ready else reason
        agent.connected = True
        agent.refresh_mask()
        self._out.append(AgentLoggedIn(at=now, agent_id=agent_id))
        self._agent_freed(agent, now)
        return self._take_events()

    def logout(
        self, agent_id: str, now: float, *, reason: str = "", force: bool = False
    ) -> list[Event]:
        """Log out. ``force`` (a supervisor) also withdraws pending offers; never held work."""
        agent = self._agent(agent_id)
        if agent.active or agent.wrapping:
            raise AgentBusyError(
                f"agent {agent_id!r} still holds interactions; finish or transfer them first",
                details={"agent_id": agent_id, "interactions": [*agent.active, *agent.wrapping]},
            )
        if agent.offers and force:
            # Unroutable first, so the revoked offers cannot come straight back to them.
            agent.presence = AgentState.NOT_READY
            agent.reason = "logging_out"
            self._revoke_offers(agent, now, "agent_logged_out")
        check_command(agent_id, agent.state, AgentCommand.LOGOUT)
        agent.presence = AgentState.LOGGED_OUT
        agent.reason = ""
        self._sync_agent(agent, now, moved=False)
        self._out.append(AgentLoggedOut(at=now, agent_id=agent_id, reason=reason))
        self._release_held(agent, now)
        if agent.retired:
            del self._agents[agent_id]
        return self._take_events()

    def _release_held(self, agent: AgentRecord, now: float) -> None:
        """The head start ends early: the preferred agent went away."""
        held = sorted(agent.held.values(), key=lambda it: it.key)
        agent.held.clear()
        for it in held:
            it.preferred_until = None
            self._route_or_wait(it, now)

    def _revoke_offers(self, agent: AgentRecord, now: float, reason: str) -> None:
        for it in sorted(agent.offers.values(), key=lambda it: it.key):
            self._withdraw_offer(it, agent)
            self._out.append(
                OfferRevoked(
                    at=now, interaction_id=it.id, agent_id=agent.id, queue=it.queue, reason=reason
                )
            )
            it.state = InteractionState.QUEUED
            self._sync_agent(agent, now, moved=False)
            self._requeue(it, now, "requeued")

    def set_ready(self, agent_id: str, now: float) -> list[Event]:
        agent = self._agent(agent_id)
        check_command(agent_id, agent.state, AgentCommand.READY)
        was_routable = agent.routable()
        before = (agent.presence, agent.reason)
        agent.presence = AgentState.READY
        agent.reason = ""
        self._agent_freed(agent, now, moved=not was_routable)
        self._presence_changed(agent, before, now)
        return self._take_events()

    def set_not_ready(self, agent_id: str, now: float, reason: str) -> list[Event]:
        agent = self._agent(agent_id)
        check_command(agent_id, agent.state, AgentCommand.NOT_READY)
        before = (agent.presence, agent.reason)
        agent.presence = AgentState.NOT_READY
        agent.reason = reason
        self._sync_agent(agent, now, moved=False)
        self._presence_changed(agent, before, now)
        return self._take_events()

    def _presence_changed(
        self, agent: AgentRecord, before: tuple[AgentState, str], now: float
    ) -> None:
        """Tell the desktop a presence chosen during work (busy, then not ready) when the
        displayed state did not change, so no ``AgentStateChanged`` carried it."""
        if (agent.presence, agent.reason) == before:
            return
        if any(isinstance(e, AgentStateChanged) and e.agent_id == agent.id for e in self._out):
            return
        self._out.append(
            AgentPresenceChanged(
                at=now, agent_id=agent.id, presence=agent.presence, reason=agent.reason
            )
        )

    def set_profile(
        self,
        agent_id: str,
        now: float,
        *,
        skills: Mapping[str, int] | None = None,
        queues: Iterable[str] | None = None,
        by: str = "",
    ) -> list[Event]:
        """Change an agent's skills or queues on the fly; routing follows at once."""
        agent = self._agent(agent_id)
        new_skills = self._check_skills(skills) if skills is not None else dict(agent.spec.skills)
        new_queues = frozenset(queues) if queues is not None else agent.spec.queues
        for queue_id in new_queues if queues is not None else ():
            if queue_id not in self._queues or queue_id in self._retired_queues:
                raise UnknownQueueError(f"no queue {queue_id!r}", details={"queue": queue_id})
        self._apply_spec(agent, replace(agent.spec, skills=new_skills, queues=new_queues), now)
        self._out.append(
            AgentProfileChanged(
                at=now,
                agent_id=agent_id,
                skills=dict(new_skills),
                queues=tuple(sorted(new_queues)),
                by=by,
            )
        )
        self._route_agent(agent, now)
        return self._take_events()

    def _apply_spec(self, agent: AgentRecord, spec: AgentSpec, now: float) -> None:
        agent.set_spec(spec, self._skills.agent_skill_bits(spec.skills))
        self._agent_index.prepare(agent)
        self._assign_class(agent)
        self._sync_agent(agent, now, moved=False)

    def connection_lost(self, agent_id: str, now: float) -> list[Event]:
        """The agent's last desktop connection dropped: no new offers; after a grace
        period the agent is made not ready and pending offers go back to the queue."""
        agent = self._agent(agent_id)
        if agent.presence is AgentState.LOGGED_OUT or not agent.connected:
            return []
        agent.connected = False
        agent.grace_token += 1
        self._timers.push(
            now + self._settings.disconnect_grace_s, TimerKind.GRACE, agent_id, agent.grace_token
        )
        self._sync_agent(agent, now, moved=False)
        return self._take_events()

    def connection_restored(self, agent_id: str, now: float) -> list[Event]:
        agent = self._agent(agent_id)
        if agent.connected:
            return []
        agent.connected = True
        agent.grace_token += 1
        self._sync_agent(agent, now, moved=False)
        self._route_agent(agent, now)
        return self._take_events()

    def _grace_expired(self, agent: AgentRecord, now: float) -> None:
        if agent.presence is not AgentState.LOGGED_OUT:
            agent.presence = AgentState.NOT_READY
            agent.reason = DISCONNECTED_REASON
        self._revoke_offers(agent, now, DISCONNECTED_REASON)
        self._sync_agent(agent, now, moved=False)

    # ------------------------------------------------------------------ config

    def reconfigure(
        self,
        *,
        queues: Mapping[str, QueueSpec],
        agents: Mapping[str, AgentSpec],
        now: float,
        settings: RouterSettings | None = None,
        rules: RuleApplier | None = None,
        source: str = "",
    ) -> list[Event]:
        """Swap in a reloaded configuration, keeping every interaction in flight.

        A removed queue stays (retired: no arrivals) while interactions still use it; a
        removed agent who is logged in stays until they log out.
        """
        if settings is not None:
            self._settings = settings
        self._rules = rules
        in_use = {q for it in self._interactions.values() for q in it.queues}
        new_queues = dict(queues)
        self._retired_queues = {q for q in self._queues if q not in new_queues and q in in_use}
        for queue_id in self._retired_queues:
            new_queues[queue_id] = self._queues[queue_id]
        self._queues = new_queues
        self._steps.clear()
        for spec in agents.values():
            agent = self._agents.get(spec.id)
            if agent is None:
                self._add_agent(spec, now)
                continue
            agent.retired = False
            valid = frozenset(q for q in spec.queues if q in self._queues)
            if spec != agent.spec:
                self._apply_spec(agent, replace(spec, queues=valid), now)
        for agent_id in [a for a in self._agents if a not in agents]:
            agent = self._agents[agent_id]
            if agent.presence is AgentState.LOGGED_OUT:
                del self._agents[agent_id]
            else:
                agent.retired = True
                self._sync_agent(agent, now, moved=False)
        self._out.append(
            ConfigReloaded(at=now, source=source, queues=len(queues), agents=len(agents))
        )
        for agent in list(self._agents.values()):
            self._route_agent(agent, now)
        return self._take_events()

    # ------------------------------------------------------------------ time

    def next_deadline(self) -> float | None:
        return self._timers.next_deadline()

    def handle_timer(self, now: float) -> list[Event]:
        """Fire every deadline that is due at ``now``."""
        while (timer := self._timers.pop_due(now)) is not None:
            _deadline, _seq, kind, key, token = timer
            if kind is TimerKind.GRACE:
                agent = self._agents.get(key)
                if agent is not None and not agent.connected and agent.grace_token == token:
                    self._grace_expired(agent, now)
                continue
            it = self._interactions.get(key)
            if it is None:
                continue
            if kind is TimerKind.OFFER:
                if it.state is InteractionState.OFFERED and it.offer_token == token:
                    self._offer_timed_out(it, now)
            elif kind is TimerKind.ESCALATION:
                if it.escalation_token == token and it.state in (
                    InteractionState.QUEUED,
                    InteractionState.OFFERED,
                ):
                    self._escalate(it, now)
            elif kind is TimerKind.PREFERRED:
                if (
                    it.state is InteractionState.QUEUED
                    and it.preferred_until is not None
                    and it.preferred_until <= now
                    and it.seq == token
                ):
                    self._end_head_start(it, now)
            elif kind is TimerKind.WRAP_UP:
                if it.state is InteractionState.WRAP_UP and it.wrap_token == token:
                    agent = self._agents[it.agent_id or ""]
                    self._complete(it, agent, now, disposition=None, notes="", auto=True)
        return self._take_events()

    def _end_head_start(self, it: InteractionRecord, now: float) -> None:
        holder = self._agents.get(it.preferred_agent or "")
        if holder is not None:
            holder.held.pop(it.id, None)
        it.preferred_until = None
        self._route_or_wait(it, now)

    def _escalate(self, it: InteractionRecord, now: float) -> None:
        steps = self._escalation(it.queue)
        if it.escalation_step >= len(steps):  # a reload removed the remaining steps
            return
        step = steps[it.escalation_step]
        queued = it.state is InteractionState.QUEUED and it.preferred_until is None
        if queued:
            self._classes.withdraw(it)
        skills = dict(it.skills)
        for name, level in step.lower_skills.items():
            if name in skills:
                skills[name] = min(skills[name], level)
        for name in step.drop_skills:
            skills.pop(name, None)
        it.skills = {k: v for k, v in skills.items() if v > 0}
        extra = frozenset(q for q in step.add_queues if q in self._queues)
        it.queues = it.queues | extra
        if step.raise_priority:
            it.priority += step.raise_priority
            it.rank = self._rank(it.queue, it.created_at, it.priority)
            it.key = (it.rank, it.seq)
        self._set_need(it)
        it.escalation_step += 1
        self._out.append(
            InteractionEscalated(
                at=now,
                interaction_id=it.id,
                queue=it.queue,
                step=it.escalation_step,
                skills=dict(it.skills),
                queues=tuple(sorted(it.queues)),
                priority=it.priority,
                rank=it.rank,
            )
        )
        self._schedule_escalation(it)
        if queued:
            self._route_or_wait(it, now)

    # ------------------------------------------------------------------ views

    def interaction(self, interaction_id: str) -> InteractionView:
        return InteractionView.of(self._interaction(interaction_id))

    def interactions(
        self, *, state: InteractionState | None = None, queue: str | None = None
    ) -> list[InteractionView]:
        return [
            InteractionView.of(it)
            for it in sorted(self._interactions.values(), key=lambda it: it.key)
            if (state is None or it.state is state) and (queue is None or queue in it.queues)
        ]

    def agent(self, agent_id: str) -> AgentView:
        return AgentView.of(self._agent(agent_id))

    def can_hold_for(self, agent_id: str, medium: Medium) -> bool:
        """Whether a preferred-agent head start for ``agent_id`` would hold ``medium`` now
        (the same test :meth:`submit` applies); False for an unknown agent."""
        agent = self._agents.get(agent_id)
        return agent is not None and self._can_hold_for(agent, medium)

    def agents(self) -> list[AgentView]:
        return [AgentView.of(a) for a in self._agents.values()]

    def queue_ids(self) -> list[str]:
        return [q for q in self._queues if q not in self._retired_queues]

    def queues(self, now: float) -> list[QueueView]:
        waiting: dict[str, list[float]] = {q: [] for q in self._queues}
        for it in self._interactions.values():
            if it.state is InteractionState.QUEUED:
                waiting[it.queue].append(it.created_at)
        views = []
        for queue_id, spec in self._queues.items():
            members = [a for a in self._agents.values() if queue_id in a.spec.queues]
            views.append(
                QueueView(
                    id=queue_id,
                    name=spec.name or queue_id,
                    waiting=len(waiting[queue_id]),
                    oldest_created_at=min(waiting[queue_id], default=None),
                    agents_logged_in=sum(a.presence is not AgentState.LOGGED_OUT for a in members),
                    agents_ready=sum(a.presence is AgentState.READY for a in members),
                    open=self._is_open(queue_id, now),
                )
            )
        return views

    @property
    def settings(self) -> RouterSettings:
        return self._settings
