"""The aiohttp web layer: REST API under /api/v1, agent and supervisor websockets, /metrics."""

from __future__ import annotations

from trunkline.web.app import ROUTES, add_routes, create_app, set_users

__all__ = ["ROUTES", "add_routes", "create_app", "set_users"]
