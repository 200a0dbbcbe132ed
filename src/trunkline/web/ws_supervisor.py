"""The supervisor's websocket: a snapshot of queues, agents and interactions, then every event."""

from __future__ import annotations

import logging

from aiohttp import WSCloseCode, web

from trunkline.web import keys, ws_protocol
from trunkline.web.openapi import Route
from trunkline.web.ws_session import HEARTBEAT_S, EventSocket

log = logging.getLogger(__name__)


async def supervisor_socket(request: web.Request) -> web.WebSocketResponse:
    service = request.app[keys.SERVICE]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    request.app[keys.WEBSOCKETS].add(ws)
    try:
        # Snapshot and subscribe with no await in between, so no event falls in the gap.
        hello = ws_protocol.supervisor_hello(
            service.queues(), service.agents(), service.interactions()
        )
        with service.bus.subscribe(maxsize=request.app[keys.WS_QUEUE_SIZE]) as sub:
            session = EventSocket(ws, sub, allowed=frozenset({"ping"}))
            await session.send(hello)
            await session.serve()
    except Exception:
        log.exception("supervisor socket failed")
        await ws.close(code=WSCloseCode.INTERNAL_ERROR)
    finally:
        request.app[keys.WEBSOCKETS].discard(ws)
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
