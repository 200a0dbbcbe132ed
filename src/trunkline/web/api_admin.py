"""Queues, reference lists, configuration and reload under /api/v1; /healthz and /metrics."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from trunkline.config.loader import Config, load_config
from trunkline.domain.errors import ConfigError
from trunkline.domain.queue import QueueSpec
from trunkline.web import keys
from trunkline.web.auth import set_users
from trunkline.web.encoding import json_response
from trunkline.web.errors import ReloadUnavailableError
from trunkline.web.openapi import Route


def _queue_summary(q: QueueSpec) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name or q.id,
        "strategy": q.strategy,
        "strict_priority": q.strict_priority,
        "offer_timeout_s": q.offer_timeout_s,
        "wrap_up": {"mode": q.wrap_up.mode, "seconds": q.wrap_up.seconds},
        "hours": q.hours.name,
        "closed_action": q.closed_action,
        "closed_overflow_queue": q.closed_overflow_queue,
        "service_level": {
            medium: {"percent": t.percent, "threshold_s": t.threshold_s}
            for medium, t in q.service_level.items()
        },
        "escalation": [
            {
                "after_s": s.after_s,
                "lower_skills": dict(s.lower_skills),
                "drop_skills": sorted(s.drop_skills),
                "add_queues": sorted(s.add_queues),
                "raise_priority": s.raise_priority,
            }
            for s in q.escalation
        ],
        "transfer_head_start_s": q.transfer_head_start_s,
        "wallboard": dataclasses.asdict(q.wallboard),
    }


def config_summary(config: Config) -> dict[str, Any]:
    """What an admin needs to see of the running configuration; never a password hash."""
    return {
        "source": config.source,
        "centre": dataclasses.asdict(config.centre),
        "skills": dict(config.skills),
        "queues": [_queue_summary(q) for q in config.queues.values()],
        "capacity_profiles": {
            name: {
                "limits": dict(p.limits),
                "exclusive": sorted(p.exclusive),
                "max_total": p.max_total,
            }
            for name, p in config.capacity_profiles.items()
        },
        "agents": [
            {
                "id": a.id,
                "name": a.name,
                "team": a.team,
                "skills": dict(a.skills),
                "queues": sorted(a.queues),
                "capacity": a.capacity.name,
            }
            for a in config.agents.values()
        ],
        "users": [
            {"id": u.id, "name": u.name, "role": u.role, "agent_id": u.agent_id}
            for u in config.users.values()
        ],
        "wrap_up_codes": _wrap_up_codes(config),
        "not_ready_reasons": _not_ready_reasons(config),
        "rules": list(config.rules.names),
    }


def _wrap_up_codes(config: Config) -> list[dict[str, Any]]:
    return [dataclasses.asdict(c) for c in config.wrap_up_codes.values()]


def _not_ready_reasons(config: Config) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in config.not_ready_reasons.values()]


async def list_queues(request: web.Request) -> web.Response:
    service = request.app[keys.SERVICE]
    specs = service.config.queues
    queues = []
    for view in service.queues():
        entry = view.as_dict()
        spec = specs.get(view.id)
        if spec is not None:  # a queue a reload removed stays listed while it has work
            entry["service_level"] = {
                medium: {"percent": t.percent, "threshold_s": t.threshold_s}
                for medium, t in spec.service_level.items()
            }
            entry["wallboard"] = dataclasses.asdict(spec.wallboard)
        queues.append(entry)
    return json_response({"queues": queues})


async def wrap_up_codes(request: web.Request) -> web.Response:
    config = request.app[keys.SERVICE].config
    return json_response({"wrap_up_codes": _wrap_up_codes(config)})


async def list_skills(request: web.Request) -> web.Response:
    config = request.app[keys.SERVICE].config
    return json_response({"skills": dict(config.skills)})


async def not_ready_reasons(request: web.Request) -> web.Response:
    config = request.app[keys.SERVICE].config
    return json_response({"not_ready_reasons": _not_ready_reasons(config)})


async def get_config(request: web.Request) -> web.Response:
    return json_response(config_summary(request.app[keys.SERVICE].config))


async def check_config(request: web.Request) -> web.Response:
    """Validate the running configuration's file as it is on disk now, applying nothing.

    An admin editing the file sees its mistakes before a reload would refuse it.
    """
    source = request.app[keys.SERVICE].config.source
    path = Path(source)
    if not await asyncio.to_thread(path.is_file):
        return json_response({"source": None, "valid": True, "errors": []})
    try:
        await asyncio.to_thread(load_config, path)
    except ConfigError as exc:
        return json_response({"source": source, "valid": False, "errors": exc.details["errors"]})
    return json_response({"source": source, "valid": True, "errors": []})


async def reload_config(request: web.Request) -> web.Response:
    load = request.app[keys.RELOAD]
    if load is None:
        raise ReloadUnavailableError("this server has no configuration file to reload")
    service = request.app[keys.SERVICE]
    # One reload at a time: two interleaved ones could leave users from one file and
    # queues from the other.
    async with request.app[keys.RELOAD_LOCK]:
        config = await load()  # a ConfigError leaves the running configuration as it was
        # A loader may apply the file itself (the server's does, keeping its bootstrap
        # admin among the users); only apply what it has not.
        if service.config is not config:
            await service.reload(config)
            set_users(request.app, config.users)
    return json_response(
        {
            "source": config.source,
            "queues": len(config.queues),
            "agents": len(config.agents),
            "users": len(config.users),
        }
    )


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[keys.SERVICE].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/queues",
        handler=list_queues,
        access="agent",
        summary="Queues with waiting counts and agents",
        tag="queues",
    ),
    Route(
        method="GET",
        path="/api/v1/wrap-up-codes",
        handler=wrap_up_codes,
        access="agent",
        summary="Dispositions an agent may choose at wrap-up",
        tag="reference",
    ),
    Route(
        method="GET",
        path="/api/v1/skills",
        handler=list_skills,
        access="agent",
        summary="The skills agents, queues and rules may use, with their descriptions",
        tag="reference",
    ),
    Route(
        method="GET",
        path="/api/v1/not-ready-reasons",
        handler=not_ready_reasons,
        access="agent",
        summary="Not-ready reason codes (system ones are flagged)",
        tag="reference",
    ),
    Route(
        method="GET",
        path="/api/v1/config",
        handler=get_config,
        access="admin",
        summary="A summary of the running configuration (no password hashes)",
        tag="admin",
    ),
    Route(
        method="GET",
        path="/api/v1/config/check",
        handler=check_config,
        access="admin",
        summary="Validate the configuration file on disk now, without applying it",
        tag="admin",
    ),
    Route(
        method="POST",
        path="/api/v1/config/reload",
        handler=reload_config,
        access="admin",
        summary="Reload the configuration file (422 with file/line errors when invalid)",
        tag="admin",
    ),
    Route(
        method="GET",
        path="/healthz",
        handler=healthz,
        access="public",
        summary="Liveness",
        tag="meta",
    ),
    Route(
        method="GET",
        path="/metrics",
        handler=metrics,
        access="public",
        summary="Prometheus metrics",
        tag="meta",
        content_type="text/plain",
    ),
)
