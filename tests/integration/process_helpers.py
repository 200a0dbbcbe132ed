"""Helpers for tests that run Trunkline as a real process and talk HTTP to it."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_raw(
    method: str, url: str, body: object = None, token: str | None = None
) -> tuple[int, bytes]:
    """One HTTP request; returns the status and the raw body (errors included)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def http_json(
    method: str, url: str, body: object = None, token: str | None = None
) -> tuple[int, Any]:
    status, raw = http_raw(method, url, body, token)
    return status, json.loads(raw or b"null")
