"""Typed keys for the web application's shared state and per-request values."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from aiohttp.web_urldispatcher import AbstractRoute

    from trunkline.config.loader import Config
    from trunkline.crm.service import CrmService
    from trunkline.reporting.service import ReportingService
    from trunkline.service.intake import Intake
    from trunkline.service.routing import RoutingService
    from trunkline.web.auth import Authenticator, Principal
    from trunkline.web.openapi import Route
    from trunkline.web.wallboard_feed import WallboardFeed
    from trunkline.web.ws_agent import AgentConnections

ReloadConfig = Callable[[], Awaitable["Config"]]

SERVICE: web.AppKey[RoutingService] = web.AppKey("trunkline.service")
CRM: web.AppKey[CrmService] = web.AppKey("trunkline.crm")
# New interactions enter here: CRM recognition, then routing.
INTAKE: web.AppKey[Intake] = web.AppKey("trunkline.intake")
# Live statistics and the wallboard fan-out built on them.
REPORTING: web.AppKey[ReportingService] = web.AppKey("trunkline.reporting")
WALLBOARD_FEED: web.AppKey[WallboardFeed] = web.AppKey("trunkline.wallboard_feed")
AUTH: web.AppKey[Authenticator] = web.AppKey("trunkline.auth")
RELOAD: web.AppKey[ReloadConfig | None] = web.AppKey("trunkline.reload_config")
RELOAD_LOCK: web.AppKey[asyncio.Lock] = web.AppKey("trunkline.reload_lock")
# Which table entry each registered aiohttp route came from (the auth middleware reads it).
ROUTE_SPECS: web.AppKey[dict[AbstractRoute, Route]] = web.AppKey("trunkline.route_specs")
OPENAPI: web.AppKey[Mapping[str, Any]] = web.AppKey("trunkline.openapi")
AGENT_CONNECTIONS: web.AppKey[AgentConnections] = web.AppKey("trunkline.agent_connections")
# Every open websocket, so shutdown can close them instead of waiting on them.
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("trunkline.websockets")
# A subscriber this far behind is cut off (close 1013) and must reconnect for a snapshot.
WS_QUEUE_SIZE: web.AppKey[int] = web.AppKey("trunkline.ws_queue_size")

PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("trunkline.principal")
