"""Live statistics over REST: the wallboard snapshot, and one agent's figures for today.

An agent reads their own figures only; supervisors read everyone's and the wallboard.
"""

from __future__ import annotations

from aiohttp import web

from trunkline.domain.errors import UnknownAgentError
from trunkline.web import keys
from trunkline.web.auth import check_agent_scope, principal_of
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route

__all__ = ["ROUTES"]


async def get_wallboard(request: web.Request) -> web.Response:
    return json_response(request.app[keys.REPORTING].snapshot())


async def get_agent_stats(request: web.Request) -> web.Response:
    agent_id = request.match_info["id"]
    # Checked before the lookup: an agent learns nothing about other agents, not even
    # whether they exist.
    check_agent_scope(principal_of(request), agent_id)
    snapshot = request.app[keys.REPORTING].snapshot()
    for row in snapshot["agents"]:
        if row["id"] == agent_id:
            when = {"generated_at": snapshot["generated_at"], "day_start": snapshot["day_start"]}
            return json_response(when | row)
    raise UnknownAgentError(f"no agent {agent_id!r}", details={"agent_id": agent_id})


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/wallboard",
        handler=get_wallboard,
        access="supervisor",
        summary="Live statistics per queue, agent and medium, now and today",
        tag="reporting",
        description=(
            "The wallboard snapshot (docs/metrics.md, Live figures): generated_at, "
            "day_start (local midnight), queues [{id, name, waiting, on_offer, "
            "longest_wait_s, agents by state, today, today_by_medium, estimate}], agents "
            "[{id, name, state, reason, since, queues, interactions, today}], media, centre. "
            "The wallboard websocket sends the same body, then deltas."
        ),
    ),
    Route(
        method="GET",
        path="/api/v1/agents/{id}/stats",
        handler=get_agent_stats,
        access="agent",
        summary="One agent's live state and today's figures (an agent reads only their own)",
        tag="reporting",
        description=(
            "The agent's row of the wallboard snapshot with generated_at and day_start: "
            "state, reason, since, queues, interactions held, and today's figures "
            "(staffed time, time per state and not-ready reason, occupancy, utilisation, "
            "handled, completed, average handle and wrap-up time)."
        ),
    ),
)
