"""The supervisor's websocket: a snapshot of queues, agents and interactions, then every event."""

from __future__ import annotations

from aiohttp import web

from trunkline.web import keys, ws_protocol
from trunkline.web.openapi import Route
from trunkline.web.ws_session import EventSocket, open_socket


async def supervisor_socket(request: web.Request) -> web.WebSocketResponse:
    service = request.app[keys.SERVICE]
    async with open_socket(request, "supervisor") as ws:
        # Snapshot and subscribe with no await in between, so no event falls in the gap.
        hello = ws_protocol.supervisor_hello(
            service.queues(), service.agents(), service.interactions()
        )
        with service.bus.subscribe(maxsize=request.app[keys.WS_QUEUE_SIZE]) as sub:
            session = EventSocket(ws, sub, allowed=frozenset({"ping"}))
            await session.send(hello)
            await session.serve()
    return ws


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/events/ws",
        handler=supervisor_socket,
        access="supervisor",
        summary="Every routing event, after a hello snapshot (?token=)",
        tag="websockets",
        websocket=True,
    ),
)
