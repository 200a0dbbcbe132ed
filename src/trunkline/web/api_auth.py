"""Login, logout and "who am I" under /api/v1."""

from __future__ import annotations

from aiohttp import web

from trunkline.web import keys
from trunkline.web.auth import principal_of
from trunkline.web.encoding import json_response
from trunkline.web.openapi import Route
from trunkline.web.schemas import LoginBody, parse_body


async def login(request: web.Request) -> web.Response:
    body = await parse_body(request, LoginBody)
    principal = await request.app[keys.AUTH].login(body.username, body.password)
    return json_response({"token": principal.token, **principal.as_dict()})


async def logout(request: web.Request) -> web.Response:
    request.app[keys.AUTH].logout(principal_of(request).token)
    return json_response({"ok": True})


async def me(request: web.Request) -> web.Response:
    # The centre's name and time zone come along: pages show "today" in the centre's zone.
    centre = request.app[keys.SERVICE].config.centre
    return json_response(
        {
            **principal_of(request).as_dict(),
            "centre": {"name": centre.name, "timezone": centre.timezone},
        }
    )


ROUTES: tuple[Route, ...] = (
    Route(
        method="POST",
        path="/api/v1/auth/login",
        handler=login,
        access="public",
        summary="Exchange a username and password for a bearer token",
        tag="auth",
        body=LoginBody,
    ),
    Route(
        method="POST",
        path="/api/v1/auth/logout",
        handler=logout,
        access="agent",
        summary="Revoke the token used for this request",
        tag="auth",
    ),
    Route(
        method="GET",
        path="/api/v1/me",
        handler=me,
        access="agent",
        summary="The logged-in user, and the centre's name and time zone",
        tag="auth",
    ),
)
