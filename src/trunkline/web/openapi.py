"""The route table entry type, and the OpenAPI 3.1 document built from that same table
so it cannot drift from what the server answers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel

from trunkline.web import keys
from trunkline.web.encoding import json_response

# Who may call a route; the ranks are agent < supervisor < admin.
Access = Literal["public", "agent", "supervisor", "admin"]

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One endpoint: how aiohttp serves it, who may call it and how OpenAPI describes it."""

    method: str
    path: str
    handler: Handler
    access: Access
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    websocket: bool = False
    content_type: str = "application/json"  # of the answer
    raw_body: str | None = None  # the media type of a body that is not JSON (text/csv)
    description: str = ""
    documented: bool = True  # False for the browser pages and their files

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


def build_document(routes: Iterable[Route], *, title: str, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if not route.documented:
            continue
        operation = _operation(route, schemas)
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # Browsers cannot set headers on a websocket, so those take ?token=.
                "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
            },
            "responses": {
                "Error": {
                    "description": "An error with a stable error_id",
                    "content": {
                        "application/json": {"schema": {"$ref": _REF.format(model="Error")}}
                    },
                }
            },
        },
        "security": [{"bearer": []}],
    }


def _operation(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "x-access": route.access,
    }
    if route.description:
        op["description"] = route.description
    if route.access == "public":
        op["security"] = []
    elif route.websocket:
        op["security"] = [{"queryToken": []}]
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=_REF)
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
        schemas.update(schema.get("$defs", {}))
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": bool(route.body.model_json_schema().get("required")),
            "content": {"application/json": {"schema": _register(route.body, schemas)}},
        }
    elif route.raw_body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {route.raw_body: {"schema": {"type": "string"}}},
        }
    success: dict[str, Any]
    if route.websocket:
        success = {"101": {"description": "Switching to the websocket protocol"}}
    else:
        success = {
            str(route.status): {
                "description": route.summary,
                "content": {route.content_type: {"schema": {}}},
            }
        }
    error = {"$ref": "#/components/responses/Error"}
    op["responses"] = {**success, "4XX": error, "5XX": error}
    return op


def _register(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF)
    # Nested models come back under $defs; OpenAPI keeps them all in components.
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error_id", "message", "details"],
    "properties": {
        "error_id": {"type": "string", "description": "Stable, machine-readable"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}


async def openapi_json(request: web.Request) -> web.Response:
    return json_response(request.app[keys.OPENAPI])


ROUTES: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/api/v1/openapi.json",
        handler=openapi_json,
        access="public",
        summary="This document",
        tag="meta",
    ),
)
