"""Errors of the web layer and the middleware that answers every error as JSON.

The body is always ``{error_id, message, details}``; a traceback never leaves the server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from trunkline.domain.errors import TrunklineError
from trunkline.web.encoding import json_response

log = logging.getLogger(__name__)


class InvalidJsonError(TrunklineError):
    error_id = "invalid_json"
    status = 400


class UnauthenticatedError(TrunklineError):
    error_id = "unauthenticated"
    status = 401


class InvalidCredentialsError(TrunklineError):
    error_id = "invalid_credentials"
    status = 401


class ForbiddenError(TrunklineError):
    error_id = "forbidden"
    status = 403


class ReloadUnavailableError(TrunklineError):
    error_id = "reload_unavailable"
    status = 501


# aiohttp raises these itself (routing, body size); give each a stable id.
_HTTP_ERROR_IDS: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
}


def error_body(error_id: str, message: str, details: Mapping[str, Any] | None = None) -> Any:
    return {"error_id": error_id, "message": message, "details": dict(details or {})}


def error_response(
    error_id: str,
    message: str,
    *,
    status: int,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    return json_response(error_body(error_id, message, details), status=status, headers=headers)


def trunkline_error_response(exc: TrunklineError) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(
        exc.error_id, exc.message, status=exc.status, details=exc.details, headers=headers
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except TrunklineError as exc:
        if exc.status >= 500:
            log.error("%s %s failed: %s", request.method, request.path, exc)
        return trunkline_error_response(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and the like are answers, not errors
        headers = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
        error_id = _HTTP_ERROR_IDS.get(exc.status, "http_error")
        # aiohttp's own explanation when it gave one ("No WebSocket UPGRADE hdr", the size
        # limit), else the bare reason phrase.
        text = (exc.text or "").strip()
        message = text if text and text != f"{exc.status}: {exc.reason}" else exc.reason
        return error_response(error_id, message, status=exc.status, headers=headers)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response("internal_error", "internal server error", status=500)
