"""The web application: routes from one table, error and auth middleware, websockets."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping

from aiohttp import WSCloseCode, web

from trunkline import __version__
from trunkline.config.loader import Config, UserSpec
from trunkline.crm.external import ExternalCrm
from trunkline.crm.service import CrmService
from trunkline.pages import http as pages
from trunkline.reporting.prometheus import LiveGauges
from trunkline.reporting.service import ReportingService
from trunkline.service.intake import Intake
from trunkline.service.routing import RoutingService
from trunkline.web import (
    api_admin,
    api_agents,
    api_auth,
    api_broadcasts,
    api_crm,
    api_crm_bulk,
    api_crm_cases,
    api_export,
    api_interactions,
    api_reports,
    api_wallboard,
    keys,
    openapi,
    ws_agent,
    ws_supervisor,
    ws_wallboard,
)
from trunkline.web.auth import Authenticator, auth_middleware, set_users
from trunkline.web.errors import error_middleware
from trunkline.web.openapi import Route, build_document
from trunkline.web.wallboard_feed import WallboardFeed
from trunkline.web.ws_agent import AgentConnections

__all__ = ["ROUTES", "add_routes", "create_app", "run_crm", "run_reporting", "set_users"]

ROUTES: tuple[Route, ...] = (
    *api_auth.ROUTES,
    *api_interactions.ROUTES,
    *api_agents.ROUTES,
    *api_broadcasts.ROUTES,
    *api_admin.ROUTES,
    *api_wallboard.ROUTES,
    *api_reports.ROUTES,
    *api_export.ROUTES,
    *api_crm.ROUTES,
    *api_crm_cases.ROUTES,
    *api_crm_bulk.ROUTES,
    *ws_agent.ROUTES,
    *ws_supervisor.ROUTES,
    *ws_wallboard.ROUTES,
    *openapi.ROUTES,
    *pages.ROUTES,
)

WS_QUEUE_SIZE = 10_000


def create_app(
    service: RoutingService,
    *,
    users: Mapping[str, UserSpec],
    reload_config: Callable[[], Awaitable[Config]] | None = None,
    token_ttl_s: float = 12 * 3600,
    reporting: ReportingService | None = None,
    crm: CrmService | None = None,
) -> web.Application:
    """The REST API, websockets, /healthz and /metrics over ``service``.

    ``users`` are every login; ``reload_config`` re-reads the configuration file for
    ``POST /api/v1/config/reload`` (the endpoint answers 501 without it). ``reporting``
    is started by the caller; without it the app builds one over ``service`` and starts
    it with the app (``service`` must have started by then). ``crm`` likewise: without
    it the app builds one over the service's database and configuration.
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
    if reporting is None:
        reporting = ReportingService(service)
        app.cleanup_ctx.append(run_reporting(reporting))
    app[keys.REPORTING] = reporting
    if crm is None:
        external_settings = service.config.crm.external
        crm = CrmService(
            service.store.engine,
            service.config.crm,
            clock=service.clock,
            agent_available=service.can_hold_for,
            external=ExternalCrm(external_settings) if external_settings is not None else None,
        )
        app.cleanup_ctx.append(run_crm(crm))
    app[keys.CRM] = crm
    app[keys.INTAKE] = Intake(service, crm)
    service.bus.add_listener(crm.pops.observe)
    service.metrics.registry.register(LiveGauges(reporting))
    feed = WallboardFeed(reporting.snapshot)
    reporting.watch(feed.mark_dirty)
    app[keys.WALLBOARD_FEED] = feed
    app.cleanup_ctx.append(_run_feed(feed))
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


CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def run_reporting(reporting: ReportingService) -> CleanupCtx:
    """A ``cleanup_ctx`` entry: rebuild and follow the live statistics while the app runs."""

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        await reporting.start()
        try:
            yield
        finally:
            await reporting.stop()

    return ctx


def run_crm(crm: CrmService) -> CleanupCtx:
    """A ``cleanup_ctx`` entry: the CRM's external connector opens and closes with the app."""

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        await crm.start()
        try:
            yield
        finally:
            await crm.close()

    return ctx


def _run_feed(feed: WallboardFeed) -> CleanupCtx:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        feed.start()
        try:
            yield
        finally:
            await feed.close()

    return ctx


async def _close_websockets(app: web.Application) -> None:
    # Open sockets would hold shutdown until their clients leave; 1001 tells them to
    # reconnect (to this node once it is back, or to another).
    sockets = app[keys.WEBSOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")
