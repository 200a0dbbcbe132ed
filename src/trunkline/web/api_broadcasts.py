"""Supervisors' broadcast messages to agents' desktops under /api/v1/broadcasts."""

from __future__ import annotations

from aiohttp import web

from trunkline.domain.events import BroadcastSent
from trunkline.web import keys
from trunkline.web.auth import principal_of
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route
from trunkline.web.schemas import BroadcastBody, parse_body


def broadcast_dict(event: BroadcastSent) -> dict[str, object]:
    """A broadcast as desktops and the API show it."""
    return {"at": event.at, "from": event.sender, "text": event.text, "queue": event.queue}


async def send_broadcast(request: web.Request) -> web.Response:
    body = await parse_body(request, BroadcastBody)
    principal = principal_of(request)
    event = await request.app[keys.SERVICE].broadcast(
        body.text, by=principal.user_id, sender=principal.name, queue=body.queue
    )
    return json_response(
        {**broadcast_dict(event), "recipients": list(event.recipients)}, status=201
    )


ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/broadcasts",
        handler=send_broadcast,
        access="supervisor",
        summary="Send a message to every logged-in agent, or to one queue's agents",
        tag="agents",
        body=BroadcastBody,
        status=201,
    ),
)
