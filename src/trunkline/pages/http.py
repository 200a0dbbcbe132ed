"""The browser pages (agent desktop, wallboard, reports, admin) and their static files.

The pages hold no data: they log in and talk to the authenticated API like any client,
so serving them needs no token. Everything ships inside the package (no build step).
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aiohttp import web

from trunkline.domain.errors import NotFoundError
from trunkline.web.openapi import Route

__all__ = ["PAGES", "ROUTES", "STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"

# Page path -> its HTML file under static/.
PAGES: dict[str, str] = {
    "/desktop": "desktop.html",
    "/wallboard": "wallboard.html",
    "/reports": "reports.html",
    "/admin": "admin.html",
}

# The pages load only their own scripts and styles and talk only to this server: a
# customer's text that slipped past escaping still could not run or call elsewhere.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".wav": "audio/wav",
    ".json": "application/json",
    ".txt": "text/plain",
}


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    content_type: str
    etag: str


@cache
def _load(relative: str) -> _Asset | None:
    # Files are read once: the package does not change while the server runs.
    root = STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    body = path.read_bytes()
    content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return _Asset(body=body, content_type=content_type or "application/octet-stream", etag=etag)


def _serve(request: web.Request, relative: str) -> web.Response:
    asset = _load(relative)
    if asset is None:
        raise NotFoundError(f"no file {request.path!r}")
    headers = {
        **_SECURITY_HEADERS,
        "ETag": asset.etag,
        # Revalidate every time: an upgrade must not leave a desktop on old scripts.
        "Cache-Control": "no-cache",
    }
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    charset = "utf-8" if asset.content_type.startswith(("text/", "application/json")) else None
    return web.Response(
        body=asset.body, content_type=asset.content_type, charset=charset, headers=headers
    )


async def page(request: web.Request) -> web.Response:
    return _serve(request, PAGES[request.path.rstrip("/") or "/"])


async def static_file(request: web.Request) -> web.Response:
    return _serve(request, request.match_info["path"])


async def home(request: web.Request) -> web.Response:
    raise web.HTTPFound("/desktop")


async def favicon(request: web.Request) -> web.Response:
    # Browsers ask for it whatever the page links; a 404 would be a console error.
    return _serve(request, "icon.svg")


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/",
        handler=home,
        access="public",
        summary="The agent desktop",
        tag="pages",
        documented=False,
    ),
    *(
        Route(
            method="GET",
            path=path,
            handler=page,
            access="public",
            summary=f"The {path[1:]} page",
            tag="pages",
            content_type="text/html",
            documented=False,
        )
        for path in PAGES
    ),
    Route(
        method="GET",
        path="/favicon.ico",
        handler=favicon,
        access="public",
        summary="The pages' icon",
        tag="pages",
        documented=False,
    ),
    Route(
        method="GET",
        path="/static/{path:.+}",
        handler=static_file,
        access="public",
        summary="The pages' scripts, styles and sounds",
        tag="pages",
        documented=False,
    ),
)
