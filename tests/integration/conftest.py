"""Shared fixtures for the web layer: a routing service over a temporary SQLite record and
an aiohttp test client in front of it, with real argon2 logins."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from trunkline.auth.passwords import hash_password
from trunkline.config.loader import Config, load_config_text
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.web.app import create_app

PASSWORDS: Mapping[str, str] = {
    "ann": "ann-secret",
    "bob": "bob-secret",
    "sue": "sue-secret",  # supervisor
    "ada": "ada-secret",  # admin
}

# {grace} and the {..._hash} fields are filled in per test run.
CONFIG_TEMPLATE = """
centre: {{disconnect_grace_s: {grace}}}
skills: [english, french]
business_hours:
  never: {{weekly: {{}}}}
queues:
  support: {{name: Support, offer_timeout_s: 300, wrap_up: {{mode: manual}}}}
  sales: {{name: Sales, offer_timeout_s: 300, wrap_up: {{mode: manual}}}}
  night: {{name: Night line, hours: never, closed_action: reject}}
agents:
  - {{id: ann, name: Ann, password_hash: "{ann_hash}", skills: {{english: 3}}, queues: [support]}}
  - {{id: bob, name: Bob, password_hash: "{bob_hash}", skills: {{english: 3}},
      queues: [support, sales]}}
users:
  - {{id: sue, name: Sue, role: supervisor, password_hash: "{sue_hash}"}}
  - {{id: ada, name: Ada, role: admin, password_hash: "{ada_hash}"}}
wrap_up_codes:
  - {{code: solved, label: Solved, resolved: true}}
  - {{code: follow_up, label: Follow-up needed}}
not_ready_reasons:
  - {{code: break, label: Break}}
  - {{code: lunch, label: Lunch}}
"""


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    # argon2 is slow on purpose: hash once per session.
    return {f"{user}_hash": hash_password(pw) for user, pw in PASSWORDS.items()}


@pytest.fixture
def config_text(password_hashes: dict[str, str]) -> Callable[..., str]:
    def render(grace: float = 30.0, extra: str = "") -> str:
        return CONFIG_TEMPLATE.format(grace=grace, **password_hashes) + extra

    return render


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 5.0) -> None:
    """Poll ``check`` until it holds; fail after ``within`` seconds (never a fixed sleep)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


@dataclass
class Centre:
    """A running web app over a fresh service, with helpers tests share."""

    service: RoutingService
    app: web.Application
    client: TestClient[web.Request, web.Application]
    tokens: dict[str, str] = field(default_factory=dict)

    async def login(self, user: str) -> dict[str, str]:
        """Log ``user`` in (once) and return the Authorization header to send."""
        if user not in self.tokens:
            resp = await self.client.post(
                "/api/v1/auth/login", json={"username": user, "password": PASSWORDS[user]}
            )
            assert resp.status == 200, await resp.text()
            self.tokens[user] = (await resp.json())["token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(
        self, method: str, path: str, user: str | None = None, *, expect: int = 200, **kw: Any
    ) -> Any:
        """One request as ``user``; asserts the status and returns the JSON body."""
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers.update(await self.login(user))
        resp = await self.client.request(method, path, headers=headers, **kw)
        body = await resp.text()
        assert resp.status == expect, f"{method} {path}: {resp.status} {body}"
        assert resp.content_type == "application/json", resp.content_type
        return json.loads(body)

    async def agent_ready(self, agent: str) -> None:
        await self.call("POST", f"/api/v1/agents/{agent}/login", agent, json={"ready": True})

    async def submit(self, **body: Any) -> Any:
        body.setdefault("medium", "chat")
        body.setdefault("queue", "support")
        return await self.call("POST", "/api/v1/interactions", "sue", json=body, expect=201)

    async def ws(self, path: str, user: str) -> aiohttp.ClientWebSocketResponse:
        await self.login(user)
        return await self.client.ws_connect(path, params={"token": self.tokens[user]})

    async def agent_state(self, agent: str) -> Any:
        return await self.call("GET", f"/api/v1/agents/{agent}", "sue")

    async def eventually(
        self, check: Callable[[], Awaitable[bool]], *, within: float = 5.0
    ) -> None:
        await eventually(check, within=within)

    async def next_message(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        match: Callable[[dict[str, Any]], bool] = lambda m: True,
        *,
        within: float = 5.0,
    ) -> dict[str, Any]:
        return await next_message(ws, match, within=within)

    @staticmethod
    def event_of(kind: str, interaction_id: str | None = None) -> Callable[[dict[str, Any]], bool]:
        return event_of(kind, interaction_id)


async def next_message(
    ws: aiohttp.ClientWebSocketResponse,
    match: Callable[[dict[str, Any]], bool] = lambda m: True,
    *,
    within: float = 5.0,
) -> dict[str, Any]:
    """The next message on ``ws`` that ``match`` accepts (others are skipped)."""
    async with asyncio.timeout(within):
        while True:
            msg = await ws.receive()
            assert msg.type is aiohttp.WSMsgType.TEXT, f"socket ended: {msg.type} {msg.data!r}"
            data: dict[str, Any] = json.loads(msg.data)
            if match(data):
                return data


def event_of(kind: str, interaction_id: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """Matches ``{"type": "event"}`` messages carrying an event of ``kind``."""

    def match(msg: dict[str, Any]) -> bool:
        if msg.get("type") != "event" or msg["event"]["type"] != kind:
            return False
        return interaction_id is None or msg["event"].get("interaction_id") == interaction_id

    return match


StartCentre = Callable[..., Awaitable[Centre]]


@pytest.fixture
async def start_centre(
    tmp_path: Path, config_text: Callable[..., str]
) -> AsyncIterator[StartCentre]:
    """Start centres on demand: ``await start_centre(grace=0.2, configure=...)``."""
    running: list[Centre] = []

    async def start(
        *,
        grace: float = 30.0,
        extra: str = "",
        reload_config: Callable[[], Awaitable[Config]] | None = None,
        token_ttl_s: float = 3600.0,
        configure: Callable[[web.Application], None] | None = None,
    ) -> Centre:
        config = load_config_text(config_text(grace=grace, extra=extra), "centre.yaml")
        store = await EventStore.open(f"sqlite:///{tmp_path / f'events{len(running)}.db'}")
        service = RoutingService(config=config, store=store)
        await service.start()
        app = create_app(
            service, users=config.users, reload_config=reload_config, token_ttl_s=token_ttl_s
        )
        if configure is not None:
            configure(app)
        client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
        await client.start_server()
        centre = Centre(service=service, app=app, client=client)
        running.append(centre)
        return centre

    yield start
    for centre in running:
        await centre.client.close()
        await centre.service.stop()
        await centre.service.store.close()


@pytest.fixture
async def centre(start_centre: StartCentre) -> Centre:
    return await start_centre()
