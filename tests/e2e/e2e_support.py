"""What the end-to-end tests share: the test centre's configuration and logins, a handle on
a real `trunkline serve` process, the console watch, screenshots and logging in through a
page's own form.

Screenshots go to ``$TRUNKLINE_ARTIFACTS`` (default ``tests/e2e/artifacts``) so they can
be looked at after a run. (A module of its own, not conftest: the integration tests have a
conftest too, and test modules import by module name.)
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import (  # noqa: E402
    Page,
)

PASSWORDS: Mapping[str, str] = {
    "ann": "ann-secret",
    "bob": "bob-secret",
    "sue": "sue-secret",  # supervisor
    "ada": "ada-secret",  # admin
}

# The {..._hash} fields are filled in per run. Long offer timeouts: a slow CI machine
# must not see an offer time out while a test is still looking at it.
CONFIG_TEMPLATE = """
centre: {{name: E2E centre, timezone: Europe/London, disconnect_grace_s: 60}}
skills: [english, french, billing]
queues:
  support:
    name: Support
    offer_timeout_s: 120
    wrap_up: {{mode: manual}}
    service_level:
      voice: {{percent: 80, threshold_s: 20}}
      chat: {{percent: 80, threshold_s: 30}}
      email: {{percent: 90, threshold_s: 14400}}
    wallboard: {{waiting_warn: 2, waiting_alarm: 5, longest_wait_warn_s: 30,
                longest_wait_alarm_s: 90}}
  sales:
    name: Sales
    offer_timeout_s: 120
    wrap_up: {{mode: manual}}
    service_level:
      voice: {{percent: 80, threshold_s: 20}}
agents:
  - {{id: ann, name: Ann Archer, team: Support, password_hash: "{ann_hash}",
      skills: {{english: 3, billing: 2}}, queues: [support]}}
  - {{id: bob, name: Bob Baker, team: Sales, password_hash: "{bob_hash}",
      skills: {{english: 4}}, queues: [sales]}}
users:
  - {{id: sue, name: Sue Supervisor, role: supervisor, password_hash: "{sue_hash}"}}
  - {{id: ada, name: Ada Admin, role: admin, password_hash: "{ada_hash}"}}
wrap_up_codes:
  - {{code: solved, label: Solved, resolved: true}}
  - {{code: follow_up, label: Follow-up needed}}
not_ready_reasons:
  - {{code: break, label: Break}}
  - {{code: lunch, label: Lunch}}
crm:
  default_region: GB
"""

ARTIFACTS = Path(os.environ.get("TRUNKLINE_ARTIFACTS", Path(__file__).parent / "artifacts"))
# A laptop screen: the pages must work at this size.
VIEWPORT = {"width": 1366, "height": 768}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running `trunkline serve`; ``api`` calls its REST API as any user."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, user: str) -> str:
        if user not in self.tokens:
            status, body = self.raw_api(
                "POST",
                "/api/v1/auth/login",
                {"username": user, "password": PASSWORDS[user]},
            )
            assert status == 200, body
            self.tokens[user] = body["token"]
        return self.tokens[user]

    def raw_api(
        self, method: str, path: str, body: object = None, *, user: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if user is not None:
            req.add_header("Authorization", f"Bearer {self.token(user)}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def api(self, method: str, path: str, body: object = None, *, user: str = "sue") -> Any:
        """Call the API as ``user``; fail the test on an error answer."""
        status, answer = self.raw_api(method, path, body, user=user)
        assert 200 <= status < 300, f"{method} {path} -> {status}: {answer}"
        return answer

    def submit(self, queue: str = "support", medium: str = "chat", **fields: Any) -> str:
        """A new interaction as a channel would create it; returns its id."""
        answer = self.api(
            "POST", "/api/v1/interactions", {"queue": queue, "medium": medium, **fields}
        )
        interaction_id: str = answer["id"]
        return interaction_id

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_healthy(srv: Server, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if srv.process.poll() is not None:
            raise AssertionError(f"trunkline serve exited:\n{srv.log()}")
        try:
            with urllib.request.urlopen(srv.base_url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"trunkline serve did not come up:\n{srv.log()}")


def chromium_path() -> str | None:
    return os.environ.get("TRUNKLINE_CHROMIUM") or shutil.which("chromium")


@dataclass
class ConsoleWatch:
    """Console errors and uncaught exceptions of every page of a test."""

    errors: list[str] = field(default_factory=list)
    # Substrings of errors a test provokes on purpose (a dropped connection).
    allowed: list[str] = field(default_factory=list)

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed)]


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact (checked by eye before release)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page: Page, server: Server, path: str, user: str) -> None:
    """Open ``path`` and log in through the page's own form."""
    page.goto(server.base_url + path)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Log in").click()
