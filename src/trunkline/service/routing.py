"""RoutingService: the one place that feeds the engine, records its events and re-arms its timer.

Every command reads the clock once, calls the sans-IO :class:`Router`, publishes the events
to the bus at once (live views stay instant) and hands them to the event record. Commands
that accept work from outside (a new interaction) wait until their events are committed,
so an interaction the API acknowledged survives a crash.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec

from trunkline.config.loader import Config
from trunkline.domain.agent import AgentState
from trunkline.domain.errors import InvalidRequestError, UnknownQueueError
from trunkline.domain.events import AgentLoggedOut, AgentStateChanged, BroadcastSent, Event
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.router.engine import Router, RouterSettings
from trunkline.router.errors import DuplicateInteractionError
from trunkline.router.views import AgentView, InteractionView, QueueView
from trunkline.service.bus import EventBus
from trunkline.service.metrics import RoutingMetrics
from trunkline.store.event_store import EventStore

log = logging.getLogger(__name__)

P = ParamSpec("P")
RECENT_BROADCASTS = 10  # at most this many in a desktop's hello
Clock = Callable[[], float]


def router_settings(config: Config) -> RouterSettings:
    centre = config.centre
    return RouterSettings(
        priority_unit_s=centre.priority_unit_s,
        preferred_head_start_s=centre.preferred_head_start_s,
        disconnect_grace_s=centre.disconnect_grace_s,
        timezone=centre.timezone,
    )


class RoutingService:
    """Owns the router for this process. All methods run on the event loop thread."""

    def __init__(self, *, config: Config, store: EventStore, clock: Clock = time.time) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.bus = EventBus()
        self.metrics = RoutingMetrics()
        self.bus.add_listener(self.metrics.observe)
        self.router = Router(
            queues=config.queues,
            agents=config.agents,
            now=clock(),
            settings=router_settings(config),
            rules=config.rules,
        )
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        # Kept so a desktop that reconnects still shows what it missed meanwhile.
        self._broadcasts: deque[BroadcastSent] = deque(maxlen=200)

    # ----------------------------------------------------------------- life cycle

    async def start(self) -> int:
        """Bring back interactions left open by the previous run; returns how many."""
        recovered = await self.store.recover()
        for rec in recovered:
            request = InteractionRequest(
                id=rec.id,
                medium=rec.medium,
                queue=rec.queue,
                priority=rec.priority,
                skills=rec.skills,
                data=rec.data,
                customer_id=rec.customer_id,
                preferred_agent=rec.preferred_agent,
                created_at=rec.created_at,
            )
            self._run(
                self.router.restore,
                request,
                rank=rec.rank,
                state=rec.state,
                agent_id=rec.agent_id,
                now=self.clock(),
            )
        await self._record_restart_logouts()
        await self.store.flush()
        # Agents, queues, indexes and recovered interactions live as long as the process:
        # freezing them spares every full collection a rescan of the whole routing state.
        gc.freeze()
        # Fewer, not shorter, collections: with thousands of open sockets a full
        # collection stalls the loop for tens of milliseconds, and every offer waiting
        # behind it inherits the stall (the screen-pop benchmark's p99).
        gen0, _, _ = gc.get_threshold()
        gc.set_threshold(max(gen0, 50_000), 50, 100)
        if recovered:
            log.info("recovered %d open interactions from the event record", len(recovered))
        return len(recovered)

    async def _record_restart_logouts(self) -> None:
        """A restart logs every agent out (their desktops must log in again); record it, so
        the event record does not leave anyone ready or busy since before the restart."""
        now = self.clock()
        events: list[Event] = []
        for agent_id, last in sorted((await self.store.last_agent_states()).items()):
            old = AgentState(last["new"])
            if old is AgentState.LOGGED_OUT:
                continue
            events.append(
                AgentStateChanged(
                    at=now,
                    agent_id=agent_id,
                    old=old,
                    new=AgentState.LOGGED_OUT,
                    reason="restart",
                    old_since=float(last["at"]),
                )
            )
            events.append(AgentLoggedOut(at=now, agent_id=agent_id, reason="restart"))
        self._emit(events)

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.store.flush()

    # ------------------------------------------------------------------ plumbing

    def _run(self, fn: Callable[P, list[Event]], *args: P.args, **kwargs: P.kwargs) -> list[Event]:
        """Run one engine command; its events are published and queued for the record."""
        return self._execute(fn, *args, **kwargs)[0]

    def _execute(
        self, fn: Callable[P, list[Event]], *args: P.args, **kwargs: P.kwargs
    ) -> tuple[list[Event], asyncio.Future[None] | None]:
        started = time.perf_counter()
        events = fn(*args, **kwargs)
        self.metrics.decision.observe(time.perf_counter() - started)
        commit = self._emit(events)
        self._rearm()
        return events, commit

    async def _command(
        self, fn: Callable[P, list[Event]], *args: P.args, **kwargs: P.kwargs
    ) -> list[Event]:
        """Run a command and wait until its events are committed (batches commit in order)."""
        events, commit = self._execute(fn, *args, **kwargs)
        if commit is not None:
            await asyncio.shield(commit)
        return events

    def _emit(self, events: list[Event]) -> asyncio.Future[None] | None:
        if not events:
            return None
        self.bus.publish(events)
        # A failed commit is logged by the writer, once per batch.
        return self.store.append(events)

    def _rearm(self) -> None:
        deadline = self.router.next_deadline()
        if deadline == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = deadline
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        # The engine speaks epoch seconds; the loop's timer speaks its monotonic clock.
        delay = max(0.0, deadline - self.clock())
        self._timer = loop.call_at(loop.time() + delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        self._run(self.router.handle_timer, self.clock())

    # --------------------------------------------------------------- interactions

    async def submit(
        self, request: InteractionRequest, *, fresh_id: bool = False
    ) -> InteractionView | None:
        """Route a new interaction; returns its view, or None when it was refused.

        ``fresh_id``: the caller generated the id, so the record need not be checked for it.
        """
        if not fresh_id and await self.store.interaction(request.id) is not None:
            # Closed interactions leave the engine's memory but never free their id.
            raise DuplicateInteractionError(
                f"interaction {request.id!r} already exists",
                details={"interaction_id": request.id},
            )
        await self._command(self.router.submit, request, self.clock())
        try:
            return self.router.interaction(request.id)
        except LookupError:
            return None

    async def cancel(self, interaction_id: str, *, reason: str = "abandoned") -> None:
        await self._command(self.router.cancel, interaction_id, self.clock(), reason=reason)

    async def accept(self, interaction_id: str, agent_id: str) -> InteractionView:
        await self._command(self.router.accept, interaction_id, agent_id, self.clock())
        return self.router.interaction(interaction_id)

    async def reject(self, interaction_id: str, agent_id: str, reason: str = "") -> None:
        await self._command(self.router.reject, interaction_id, agent_id, self.clock(), reason)

    async def end_handling(self, interaction_id: str, agent_id: str) -> None:
        await self._command(self.router.end_handling, interaction_id, agent_id, self.clock())

    async def wrap_up(
        self,
        interaction_id: str,
        agent_id: str,
        *,
        disposition: str | None = None,
        notes: str = "",
    ) -> None:
        if disposition is not None and disposition not in self.config.wrap_up_codes:
            raise InvalidRequestError(
                f"unknown wrap-up code {disposition!r}",
                details={"disposition": disposition, "allowed": list(self.config.wrap_up_codes)},
            )
        await self._command(
            self.router.wrap_up,
            interaction_id,
            agent_id,
            self.clock(),
            disposition=disposition,
            notes=notes,
        )

    async def transfer(
        self,
        interaction_id: str,
        agent_id: str,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
    ) -> None:
        if to_queue is None and to_agent is None:
            raise InvalidRequestError("a transfer needs a queue or an agent")
        await self._command(
            self.router.transfer,
            interaction_id,
            agent_id,
            self.clock(),
            to_queue=to_queue,
            to_agent=to_agent,
        )

    async def move(
        self,
        interaction_id: str,
        *,
        to_queue: str | None = None,
        to_agent: str | None = None,
        by: str = "",
    ) -> None:
        """A supervisor moves a waiting interaction (see :meth:`Router.move`)."""
        if to_queue is None and to_agent is None:
            raise InvalidRequestError("a move needs a queue or an agent")
        await self._command(
            self.router.move,
            interaction_id,
            self.clock(),
            to_queue=to_queue,
            to_agent=to_agent,
            by=by,
        )

    async def broadcast(
        self, text: str, *, by: str, sender: str, queue: str | None = None
    ) -> BroadcastSent:
        """Send a supervisor's message to every logged-in agent, or those of ``queue``.

        It is recorded like any event; agents who log in later do not get it (a desktop
        that reconnects does, through :meth:`recent_broadcasts`).
        """
        if queue is not None and queue not in self.router.queue_ids():
            raise UnknownQueueError(f"no queue {queue!r}", details={"queue": queue})
        recipients = tuple(
            a.id
            for a in self.router.agents()
            if a.state is not AgentState.LOGGED_OUT and (queue is None or queue in a.queues)
        )
        event = BroadcastSent(
            at=self.clock(), by=by, sender=sender, text=text, queue=queue, recipients=recipients
        )
        self._broadcasts.append(event)
        commit = self._emit([event])
        if commit is not None:
            await asyncio.shield(commit)
        return event

    def recent_broadcasts(self, agent_id: str, *, within_s: float = 3600.0) -> list[BroadcastSent]:
        """The broadcasts ``agent_id`` received in the last ``within_s``, oldest first."""
        since = self.clock() - within_s
        mine = [b for b in self._broadcasts if b.at >= since and agent_id in b.recipients]
        return mine[-RECENT_BROADCASTS:]

    # --------------------------------------------------------------------- agents

    def _check_reason(self, reason: str) -> None:
        if reason not in self.config.not_ready_reasons:
            raise InvalidRequestError(
                f"unknown not-ready reason {reason!r}",
                details={"reason": reason, "allowed": list(self.config.not_ready_reasons)},
            )

    async def login(self, agent_id: str, *, ready: bool = False) -> AgentView:
        await self._command(self.router.login, agent_id, self.clock(), ready=ready)
        return self.router.agent(agent_id)

    async def logout(self, agent_id: str, *, reason: str = "", force: bool = False) -> AgentView:
        await self._command(self.router.logout, agent_id, self.clock(), reason=reason, force=force)
        return self.router.agent(agent_id)

    async def set_ready(self, agent_id: str) -> AgentView:
        await self._command(self.router.set_ready, agent_id, self.clock())
        return self.router.agent(agent_id)

    async def set_not_ready(self, agent_id: str, reason: str) -> AgentView:
        self._check_reason(reason)
        await self._command(self.router.set_not_ready, agent_id, self.clock(), reason)
        return self.router.agent(agent_id)

    async def set_profile(
        self,
        agent_id: str,
        *,
        skills: Mapping[str, int] | None = None,
        queues: Iterable[str] | None = None,
        by: str = "",
    ) -> AgentView:
        if skills is not None:
            unknown = sorted(set(skills) - set(self.config.skills))
            if unknown and self.config.skills:
                raise InvalidRequestError(f"unknown skills {unknown}", details={"unknown": unknown})
        await self._command(
            self.router.set_profile, agent_id, self.clock(), skills=skills, queues=queues, by=by
        )
        return self.router.agent(agent_id)

    def connection_lost(self, agent_id: str) -> None:
        self._run(self.router.connection_lost, agent_id, self.clock())

    def connection_restored(self, agent_id: str) -> None:
        self._run(self.router.connection_restored, agent_id, self.clock())

    async def reload(self, config: Config) -> None:
        """Swap in a new configuration; interactions in flight are kept."""
        await self._command(
            self.router.reconfigure,
            queues=config.queues,
            agents=config.agents,
            now=self.clock(),
            settings=router_settings(config),
            rules=config.rules,
            source=config.source,
        )
        self.config = config

    # ---------------------------------------------------------------------- views

    def interaction(self, interaction_id: str) -> InteractionView:
        return self.router.interaction(interaction_id)

    async def interaction_record(self, interaction_id: str) -> dict[str, Any] | None:
        """The live view when open, else the recorded snapshot (closed interactions)."""
        try:
            return _jsonable(self.router.interaction(interaction_id).as_dict())
        except LookupError:
            return await self.store.interaction(interaction_id)

    def interactions(
        self, *, state: InteractionState | None = None, queue: str | None = None
    ) -> list[InteractionView]:
        return self.router.interactions(state=state, queue=queue)

    def agents(self) -> list[AgentView]:
        return self.router.agents()

    def agent(self, agent_id: str) -> AgentView:
        return self.router.agent(agent_id)

    def can_hold_for(self, agent_id: str, medium: Medium) -> bool:
        """Whether the router would give ``agent_id`` a head start on ``medium`` now."""
        return self.router.can_hold_for(agent_id, medium)

    def queues(self) -> list[QueueView]:
        return self.router.queues(self.clock())


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Medium | InteractionState):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out
