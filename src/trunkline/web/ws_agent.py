"""The agent desktop's websocket: a hello snapshot, the agent's events, their commands;
first socket open and last socket closed are reported to the engine."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSCloseCode, web

from trunkline.crm.screenpop import ScreenPops
from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import BroadcastSent, Event, InteractionOffered
from trunkline.web import keys, ws_protocol
from trunkline.web.api_agents import check_choosable_reason
from trunkline.web.api_broadcasts import broadcast_dict
from trunkline.web.api_interactions import check_agent_holds, wrap_up_with_case
from trunkline.web.auth import principal_of
from trunkline.web.errors import ForbiddenError
from trunkline.web.openapi import Route
from trunkline.web.ws_protocol import (
    Accept,
    Command,
    Complete,
    NotReady,
    Ready,
    Reject,
    WrapUp,
)
from trunkline.web.ws_session import HEARTBEAT_S, CommandHandler, Decorator, EventSocket

log = logging.getLogger(__name__)


class AgentConnections:
    """How many desktop sockets each agent has open."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def opened(self, agent_id: str) -> bool:
        """Count one more; True when it is the agent's first."""
        self._open[agent_id] = self._open.get(agent_id, 0) + 1
        return self._open[agent_id] == 1

    def closed(self, agent_id: str) -> bool:
        """Count one less; True when it was the agent's last."""
        left = self._open.get(agent_id, 0) - 1
        if left > 0:
            self._open[agent_id] = left
            return False
        self._open.pop(agent_id, None)
        return True

    def count(self, agent_id: str) -> int:
        return self._open.get(agent_id, 0)


def _screen_pop_of_offers(pops: ScreenPops) -> Decorator:
    """An offer travels with its screen-pop, so the desktop shows it without a fetch."""

    def decorate(event: Event) -> Mapping[str, Any] | None:
        if isinstance(event, InteractionOffered):
            return {"screen_pop": pops.get(event.interaction_id)}
        return None

    return decorate


def _broadcasts_as_messages(event: Event) -> str | None:
    # A desktop shows a broadcast as a banner, not as a routing event.
    if isinstance(event, BroadcastSent):
        return ws_protocol.broadcast(broadcast_dict(event))
    return None


def agent_commands(app: web.Application, agent_id: str) -> CommandHandler:
    service = app[keys.SERVICE]

    async def handle(command: Command) -> None:
        match command:
            case Accept():
                await service.accept(command.interaction_id, agent_id)
            case Reject():
                await service.reject(command.interaction_id, agent_id, command.reason)
            case Ready():
                await service.set_ready(agent_id)
            case NotReady():
                check_choosable_reason(service.config, command.reason)
                await service.set_not_ready(agent_id, command.reason)
            case Complete():
                check_agent_holds(service, agent_id, command.interaction_id)
                await service.end_handling(command.interaction_id, agent_id)
            case WrapUp():
                await wrap_up_with_case(
                    app,
                    command.interaction_id,
                    agent_id,
                    disposition=command.disposition,
                    notes=command.notes,
                    case_id=command.case_id,
                    new_case=command.new_case,
                )

    return handle


def _tell_engine(fn: Callable[[str], None], agent_id: str) -> None:
    try:
        fn(agent_id)
    except TrunklineError as exc:  # the agent was removed by a reload meanwhile
        log.info("agent %s connection change ignored: %s", agent_id, exc)


async def agent_socket(request: web.Request) -> web.WebSocketResponse:
    agent_id = principal_of(request).agent_id
    if agent_id is None:
        raise ForbiddenError("only an agent's login opens the agent socket")
    service = request.app[keys.SERVICE]
    service.agent(agent_id)  # an unknown agent is a 404 before the upgrade
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    request.app[keys.WEBSOCKETS].add(ws)
    connections = request.app[keys.AGENT_CONNECTIONS]
    if connections.opened(agent_id):
        _tell_engine(service.connection_restored, agent_id)
    try:
        # Snapshot and subscribe with no await in between, so no event falls in the gap.
        agent = service.agent(agent_id)
        offers = [service.interaction(i) for i in agent.offers]
        held = [service.interaction(i) for i in (*agent.active, *agent.wrapping)]
        maxsize = request.app[keys.WS_QUEUE_SIZE]
        with service.bus.subscribe_agent(agent_id, maxsize=maxsize) as sub:
            pops = request.app[keys.CRM].pops
            session = EventSocket(
                ws,
                sub,
                allowed=ws_protocol.CLIENT_TYPES,
                handle=agent_commands(request.app, agent_id),
                decorate=_screen_pop_of_offers(pops),
                render=_broadcasts_as_messages,
            )
            recent = [broadcast_dict(b) for b in service.recent_broadcasts(agent_id)]
            hello = ws_protocol.agent_hello(agent, offers, held, pop_of=pops.get, broadcasts=recent)
            await session.send(hello)
            await session.serve()
    except Exception:
        # The upgrade is done: there is no HTTP answer left to give, only a close code.
        log.exception("agent socket of %s failed", agent_id)
        await ws.close(code=WSCloseCode.INTERNAL_ERROR)
    finally:
        request.app[keys.WEBSOCKETS].discard(ws)
        if connections.closed(agent_id):
            _tell_engine(service.connection_lost, agent_id)
    return ws


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/agent/ws",
        handler=agent_socket,
        access="agent",
        summary="The agent desktop's websocket (?token=): hello, events, commands",
        tag="websockets",
        websocket=True,
        description=(
            "Server messages: hello {agent, offers, interactions: each with its screen_pop; "
            "broadcasts of the last hour}, "
            "event {event; an interaction_offered also carries screen_pop}, "
            "broadcast {at, from, text, queue}, "
            "pong, result {id, ok}, error {id, error_id, message}. Client messages: ping, "
            "accept, reject, ready, not_ready, complete, wrap_up, each with an optional id."
        ),
    ),
)
