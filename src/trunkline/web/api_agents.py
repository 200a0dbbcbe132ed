"""Agents under /api/v1: views, login/logout, presence and profile.

An agent acts on themselves only; a supervisor may act on anyone (forcing a state).
"""

from __future__ import annotations

from aiohttp import web

from trunkline.config.loader import Config
from trunkline.domain.errors import InvalidRequestError
from trunkline.web import keys
from trunkline.web.auth import check_agent_scope, principal_of
from trunkline.web.encoding import json_response
from trunkline.web.errors import ForbiddenError
from trunkline.web.openapi import Route
from trunkline.web.schemas import (
    AgentLoginBody,
    AgentLogoutBody,
    AgentProfileBody,
    AgentStateBody,
    parse_body,
)


def check_choosable_reason(config: Config, reason: str) -> None:
    known = config.not_ready_reasons.get(reason)
    # "missed" and "disconnected" are facts the system records; choosing them by hand
    # would make those reports lie.
    if known is not None and known.system:
        raise InvalidRequestError(
            f"not-ready reason {reason!r} is set by the system only", details={"reason": reason}
        )


def _target(request: web.Request) -> str:
    agent_id = request.match_info["id"]
    check_agent_scope(principal_of(request), agent_id)
    return agent_id


async def list_agents(request: web.Request) -> web.Response:
    principal = principal_of(request)
    service = request.app[keys.SERVICE]
    if principal.is_supervisor:
        views = service.agents()
    elif principal.agent_id is not None:
        views = [service.agent(principal.agent_id)]
    else:
        views = []
    return json_response({"agents": [v.as_dict() for v in views]})


async def get_agent(request: web.Request) -> web.Response:
    agent_id = _target(request)
    return json_response(request.app[keys.SERVICE].agent(agent_id).as_dict())


async def agent_login(request: web.Request) -> web.Response:
    agent_id = _target(request)
    body = await parse_body(request, AgentLoginBody)
    view = await request.app[keys.SERVICE].login(agent_id, ready=body.ready)
    return json_response(view.as_dict())


async def agent_logout(request: web.Request) -> web.Response:
    agent_id = _target(request)
    body = await parse_body(request, AgentLogoutBody)
    if body.force and not principal_of(request).is_supervisor:
        raise ForbiddenError("only a supervisor may force a logout")
    view = await request.app[keys.SERVICE].logout(agent_id, reason=body.reason, force=body.force)
    return json_response(view.as_dict())


async def set_agent_state(request: web.Request) -> web.Response:
    agent_id = _target(request)
    body = await parse_body(request, AgentStateBody)
    service = request.app[keys.SERVICE]
    if body.state == "ready":
        view = await service.set_ready(agent_id)
    else:
        reason = body.reason or ""
        check_choosable_reason(service.config, reason)
        view = await service.set_not_ready(agent_id, reason)
    return json_response(view.as_dict())


async def set_agent_profile(request: web.Request) -> web.Response:
    agent_id = request.match_info["id"]
    body = await parse_body(request, AgentProfileBody)
    view = await request.app[keys.SERVICE].set_profile(
        agent_id,
        skills=body.skills,
        queues=body.queues,
        by=principal_of(request).user_id,
    )
    return json_response(view.as_dict())


async def agent_directory(request: web.Request) -> web.Response:
    # What a colleague may know of another (who, which team and queues, whether they can
    # take a transfer now), without the skills and load a supervisor sees.
    views = request.app[keys.SERVICE].agents()
    return json_response(
        {
            "agents": [
                {"id": v.id, "name": v.name, "team": v.team, "state": v.state, "queues": v.queues}
                for v in views
            ]
        }
    )


_BASE = "/api/v1/agents"

ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/directory/agents",
        handler=agent_directory,
        access="agent",
        summary="Every agent's name, team, queues and state, for choosing a transfer target",
        tag="agents",
    ),
    Route(
        method="GET",
        path=_BASE,
        handler=list_agents,
        access="agent",
        summary="Agents and their states (an agent sees only themselves)",
        tag="agents",
    ),
    Route(
        method="GET",
        path=_BASE + "/{id}",
        handler=get_agent,
        access="agent",
        summary="One agent",
        tag="agents",
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/login",
        handler=agent_login,
        access="agent",
        summary="Log the agent in, ready or not ready",
        tag="agents",
        body=AgentLoginBody,
    ),
    Route(
        method="POST",
        path=_BASE + "/{id}/logout",
        handler=agent_logout,
        access="agent",
        summary="Log the agent out (force, supervisors only, withdraws pending offers)",
        tag="agents",
        body=AgentLogoutBody,
    ),
    Route(
        method="PUT",
        path=_BASE + "/{id}/state",
        handler=set_agent_state,
        access="agent",
        summary="Set ready or not ready with a reason (a supervisor forces it)",
        tag="agents",
        body=AgentStateBody,
    ),
    Route(
        method="PATCH",
        path=_BASE + "/{id}/profile",
        handler=set_agent_profile,
        access="supervisor",
        summary="Change an agent's skills or queues; routing follows at once",
        tag="agents",
        body=AgentProfileBody,
    ),
)
