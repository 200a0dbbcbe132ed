"""JSON encoding shared by the REST API and the websockets: enums as values, tuples as lists."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

from aiohttp import web


def jsonable(value: Any) -> Any:
    """``value`` with enums replaced by their values and every sequence made a list."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False)


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=dumps(data), status=status, headers=headers, content_type="application/json"
    )
