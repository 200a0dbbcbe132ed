"""The wallboard websocket's wire format (JSON text), apart from the socket that sends it.

Server to client: ``{"type": "snapshot", ...snapshot}`` once on connect, then
``{"type": "delta", ...}`` with what changed since the previous message
(:func:`trunkline.reporting.live.delta`: keyed lists become ``{id: changes}``, gone ids
are listed under ``removed``). Client to server: ``ping`` only, answered with ``pong``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trunkline.reporting.live import delta
from trunkline.web.encoding import dumps

__all__ = ["CLIENT_TYPES", "delta_message", "snapshot_message"]

CLIENT_TYPES: frozenset[str] = frozenset({"ping"})


def snapshot_message(snapshot: Mapping[str, Any]) -> str:
    return dumps({"type": "snapshot", **snapshot})


def delta_message(previous: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """The delta from ``previous`` to ``current``; None when only the time differs."""
    change = delta(previous, current)
    if change.keys() <= {"generated_at"}:
        return None
    return dumps({"type": "delta", **change})
