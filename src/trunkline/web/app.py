"""The web application: routes from one table, error and auth middleware, websockets."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import WSCloseCode, web

from trunkline import __version__
from trunkline.config.loader import Config, UserSpec
from trunkline.service.routing import RoutingService
from trunkline.web import (
    api_admin,
    api_agents,
    api_auth,
    api_interactions,
    keys,
    openapi,
    ws_agent,
    ws_supervisor,
)
from trunkline.web.auth import Authenticator, auth_middleware, set_users
from trunkline.web.errors import error_middleware
from trunkline.web.openapi import Route, build_document
from trunkline.web.ws_agent import AgentConnections

__all__ = ["ROUTES", "add_routes", "create_app", "set_users"]

ROUTES: tuple[Route, ...] = (
    *api_auth.ROUTES,
    *api_interactions.ROUTES,
    *api_agents.ROUTES,
    *api_admin.ROUTES,
    *ws_agent.ROUTES,
    *ws_supervisor.ROUTES,
    *openapi.ROUTES,
)

WS_QUEUE_SIZE = 10_000


def create_app(
    service: RoutingService,
    *,
    users: Mapping[str, UserSpec],
    reload_config: Callable[[], Awaitable[Config]] | None = None,
    token_ttl_s: float = 12 * 3600,
) -> web.Application:
    """The REST API, websockets, /healthz and /metrics over ``service``.

    ``users`` are every login; ``reload_config`` re-reads the configuration file for
    ``POST /api/v1/config/reload`` (the endpoint answers 501 without it).
    """
    app = web.Application(middlewares=[error_middleware, auth_middleware])
    app[keys.SERVICE] = service
    app[keys.AUTH] = Authenticator(users, ttl_s=token_ttl_s)
    app[keys.RELOAD] = reload_config
    app[keys.RELOAD_LOCK] = asyncio.Lock()
    app[keys.AGENT_CONNECTIONS] = AgentConnections()
    app[keys.WEBSOCKETS] = weakref.WeakSet()
    app[keys.WS_QUEUE_SIZE] = WS_QUEUE_SIZE
    app[keys.ROUTE_SPECS] = {}
    add_routes(app, ROUTES)
    app.on_shutdown.append(_close_websockets)
    return app


def add_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Register table entries: served, guarded by their access level and documented.

    Other features mount their routes through this so they appear in the OpenAPI
    document; a route added to the router directly still needs a token.
    """
    specs = app[keys.ROUTE_SPECS]
    for route in routes:
        specs[app.router.add_route(route.method, route.path, route.handler)] = route
    app[keys.OPENAPI] = build_document(specs.values(), title="Trunkline API", version=__version__)


async def _close_websockets(app: web.Application) -> None:
    # Open sockets would hold shutdown until their clients leave; 1001 tells them to
    # reconnect (to this node once it is back, or to another).
    sockets = app[keys.WEBSOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
