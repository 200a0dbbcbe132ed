"""The external CRM connector against a real HTTP server on 127.0.0.1 (no mocks).

Each test scripts the server's answer with ``CrmServer.respond`` and reads what the server
received from ``CrmServer.seen``, so what crosses the wire is what is asserted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from trunkline.config.crm_settings import ExternalCrmSettings
from trunkline.crm.external import DISABLED, ExternalCrm, ExternalResult
from trunkline.domain.errors import ConfigError

PHONE = "+441632960123"
SECRET = "s3cret-token-value"

CUSTOMER = {
    "customer": {"id": "C-42", "name": "Grace Hopper", "vip": True},
    "accounts": [{"number": "ACC-1", "balance": 12.5}, {"number": "ACC-2"}],
}
FIELDS = {
    "id": "customer.id",
    "name": "customer.name",
    "vip": "customer.vip",
    "account": "accounts.0.number",
    "balance": "accounts.0.balance",
    "missing": "customer.address.city",
}

Responder = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path: str  # decoded
    raw_path: str  # as sent, percent-encoding included
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class CrmServer:
    """A stand-in for somebody else's CRM: records every request, answers as scripted."""

    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    respond: Responder | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)  # frees held handlers
    finished: int = 0  # handlers that ran to completion

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(
                method=request.method,
                path=request.path,
                raw_path=request.raw_path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=await request.read(),
            )
        )
        self.arrived.set()
        response = await (self.respond or answer_json(CUSTOMER))(request)
        self.finished += 1
        return response

    async def hold(self) -> None:
        """Block a handler until the test releases it (bounded, so teardown never hangs)."""
        try:
            async with asyncio.timeout(5):
                await self.release.wait()
        except TimeoutError:
            pass


def answer_json(document: Any, status: int = 200) -> Responder:
    async def respond(request: web.Request) -> web.StreamResponse:
        return web.json_response(document, status=status)

    return respond


def answer_text(text: str, status: int = 200) -> Responder:
    async def respond(request: web.Request) -> web.StreamResponse:
        return web.Response(text=text, status=status, content_type="application/json")

    return respond


@pytest.fixture
async def server() -> AsyncIterator[CrmServer]:
    crm = CrmServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", crm.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    crm.base = f"http://{host}:{port}"
    yield crm
    crm.release.set()
    await runner.cleanup()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def connect(clock: FakeClock) -> AsyncIterator[Callable[..., Awaitable[ExternalCrm]]]:
    """Build and start connectors from settings keywords; closes them all at the end."""
    made: list[ExternalCrm] = []

    async def make(environ: dict[str, str] | None = None, **kw: Any) -> ExternalCrm:
        kw.setdefault("timeout_s", 2.0)  # generous: only the timeout test wants it short
        crm = ExternalCrm(ExternalCrmSettings(**kw), environ=environ or {}, clock=clock)
        await crm.start()
        made.append(crm)
        return crm

    yield make
    for crm in made:
        await crm.close()


Connect = Callable[..., Awaitable[ExternalCrm]]


# -- answers ------------------------------------------------------------------------------


async def test_answer_is_mapped_into_fields(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", fields=FIELDS)
    result = await crm.fetch({"phone": PHONE}, contact_id="c1")
    assert result.status == "ok", result.message
    assert dict(result.record) == {
        "id": "C-42",
        "name": "Grace Hopper",
        "vip": True,  # JSON values stay JSON values
        "account": "ACC-1",
        "balance": 12.5,
    }  # "missing" names a path the answer lacks: left out
    assert result.cached is False and result.message == "" and result.url is None
    assert server.seen[0].method == "GET"
    assert server.seen[0].headers["Accept"] == "application/json"
    assert result.as_dict() == {
        "status": "ok",
        "record": dict(result.record),
        "url": None,
        "message": "",
        "cached": False,
    }


async def test_without_fields_the_whole_object_is_the_record(
    server: CrmServer, connect: Connect
) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "ok"
    assert dict(result.record) == CUSTOMER


async def test_plus_of_e164_number_arrives_intact(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}?phone={phone}&mail={email}")
    result = await crm.fetch({"phone": PHONE, "email": "a+b@example.com"})
    assert result.status == "ok", result.message
    seen = server.seen[0]
    assert seen.path == f"/customers/{PHONE}"
    assert "%2B441632960123" in seen.raw_path  # encoded, so no server reads it as a space
    assert seen.query == {"phone": PHONE, "mail": "a+b@example.com"}


async def test_identity_and_kind_follow_configured_order(
    server: CrmServer, connect: Connect
) -> None:
    crm = await connect(url=server.base + "/by/{kind}/{identity}", identities=("account", "phone"))
    await crm.fetch({"email": "x@example.com", "phone": PHONE})
    await crm.fetch({"phone": PHONE, "account": "AC-7"})
    assert [s.path for s in server.seen] == [f"/by/phone/{PHONE}", "/by/account/AC-7"]


async def test_list_answer_takes_first_object_and_empty_list_is_not_found(
    server: CrmServer, connect: Connect
) -> None:
    crm = await connect(url=server.base + "/search?q={phone}", fields={"id": "customer.id"})
    server.respond = answer_json(["noise", CUSTOMER, {"customer": {"id": "C-2"}}])
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "ok" and dict(result.record) == {"id": "C-42"}

    server.respond = answer_json([])
    result = await crm.fetch({"phone": "+15551234567"})
    assert result.status == "not_found" and dict(result.record) == {}


# -- headers and secrets ----------------------------------------------------------------


async def test_env_header_arrives_and_never_appears_in_messages(
    server: CrmServer, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    crm = await connect(
        url=server.base + "/customers/{phone}",
        headers={"Authorization": "Bearer ${CRM_TOKEN}", "X-Tenant": "acme"},
        environ={"CRM_TOKEN": SECRET},
    )

    async def echo_auth(request: web.Request) -> web.StreamResponse:
        # A careless server that echoes the credentials into its error page.
        return web.Response(status=500, text=f"bad token {request.headers['Authorization']}")

    server.respond = echo_auth
    with caplog.at_level(logging.DEBUG, logger="trunkline.crm.external"):
        result = await crm.fetch({"phone": PHONE})
    assert server.seen[0].headers["Authorization"] == f"Bearer {SECRET}"
    assert server.seen[0].headers["X-Tenant"] == "acme"
    assert result.status == "error"
    assert SECRET not in result.message
    assert SECRET not in json.dumps(result.as_dict())
    assert SECRET not in caplog.text
    assert "500" in result.message


def test_missing_env_var_is_a_config_error() -> None:
    settings = ExternalCrmSettings(
        url="https://crm.example/customers/{phone}",
        headers={"Authorization": "Bearer ${CRM_TOKEN}"},
    )
    with pytest.raises(ConfigError) as info:
        ExternalCrm(settings, environ={"OTHER": "x"})
    assert "Authorization" in info.value.message and "CRM_TOKEN" in info.value.message
    assert info.value.details["errors"][0]["field"] == "crm.external.headers.Authorization"


@pytest.mark.parametrize(
    ("url", "screen_pop_url", "named"),
    [
        ("https://crm.example/c/{phone_number}", None, "{phone_number}"),
        ("https://crm.example/c/{external.id}", None, "{external.id}"),
        ("https://crm.example/c/{phone}", "https://crm.example/p/{customer}", "{customer}"),
        ("https://crm.example/c/{phone!r}", None, "{phone}"),
    ],
)
def test_bad_placeholder_is_a_config_error(
    url: str, screen_pop_url: str | None, named: str
) -> None:
    settings = ExternalCrmSettings(url=url, screen_pop_url=screen_pop_url)
    with pytest.raises(ConfigError) as info:
        ExternalCrm(settings, environ={})
    assert named in info.value.message


def test_screen_pop_field_must_be_mapped() -> None:
    settings = ExternalCrmSettings(
        url="https://crm.example/c/{phone}",
        fields={"id": "customer.id"},
        screen_pop_url="https://crm.example/p/{external.name}",
    )
    with pytest.raises(ConfigError, match="external.name"):
        ExternalCrm(settings, environ={})


# -- failures ---------------------------------------------------------------------------


async def test_slow_endpoint_times_out(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", timeout_s=0.2)

    async def slow(request: web.Request) -> web.StreamResponse:
        await server.hold()
        return web.json_response(CUSTOMER)

    server.respond = slow
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "timeout"
    assert "0.2 s" in result.message
    assert len(server.seen) == 1 and server.finished == 0  # answered before the server did
    # Timeouts are not cached: the next call asks again.
    server.release.set()
    server.respond = None
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "ok" and not result.cached


async def test_server_error_is_error_and_not_cached(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")
    server.respond = answer_text('{"detail": "boom"}', status=500)
    first = await crm.fetch({"phone": PHONE})
    second = await crm.fetch({"phone": PHONE})
    assert first.status == second.status == "error"
    assert "HTTP 500" in first.message
    assert first.record == {} and not second.cached
    assert len(server.seen) == 2


async def test_not_found_is_cached(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")
    server.respond = answer_json({"error": "no such customer"}, status=404)
    first = await crm.fetch({"phone": PHONE})
    second = await crm.fetch({"phone": PHONE})
    assert (first.status, first.cached) == ("not_found", False)
    assert (second.status, second.cached) == ("not_found", True)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{not json", "invalid JSON"),
        ('"just a string"', "not an object"),
        ("[1, 2]", "non-objects"),
        ("", "invalid JSON"),
    ],
)
async def test_bad_json_is_error(
    server: CrmServer, connect: Connect, body: str, expected: str
) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")
    server.respond = answer_text(body)
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "error" and expected in result.message


async def test_oversized_answer_is_error(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")

    async def huge(request: web.Request) -> web.StreamResponse:
        # Streamed without a Content-Length, so the limit is enforced while reading.
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"pad": "')
        for _ in range(40):
            await response.write(b"x" * 65536)
        await response.write(b'"}')
        await response.write_eof()
        return response

    server.respond = huge
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "error" and "larger than" in result.message


async def test_connection_refused_is_error(connect: Connect) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    crm = await connect(url=f"http://127.0.0.1:{port}/customers/{{phone}}")
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "error"
    assert "cannot reach" in result.message
    assert PHONE not in result.message


async def test_redirect_is_not_followed(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", headers={"X-Key": "k"})

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("http://elsewhere.invalid/steal")

    server.respond = redirect
    result = await crm.fetch({"phone": PHONE})
    assert result.status == "error" and "HTTP 302" in result.message


# -- cache --------------------------------------------------------------------------------


async def test_cache_hit_means_one_request(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", fields={"id": "customer.id"})
    first = await crm.fetch({"phone": PHONE})
    second = await crm.fetch({"phone": PHONE})
    assert (first.cached, second.cached) == (False, True)
    assert dict(second.record) == {"id": "C-42"}
    assert len(server.seen) == 1


async def test_cached_record_cannot_be_edited_through_a_result(
    server: CrmServer, connect: Connect
) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")
    first = await crm.fetch({"phone": PHONE})
    first.record["customer"]["name"] = "edited by a screen-pop"
    second = await crm.fetch({"phone": PHONE})
    assert second.cached and second.record["customer"]["name"] == "Grace Hopper"


async def test_ttl_expiry_refetches(server: CrmServer, connect: Connect, clock: FakeClock) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", cache_ttl_s=60)
    await crm.fetch({"phone": PHONE})
    clock.now += 59
    assert (await crm.fetch({"phone": PHONE})).cached
    clock.now += 1
    again = await crm.fetch({"phone": PHONE})
    assert not again.cached and again.status == "ok"
    assert len(server.seen) == 2


async def test_zero_ttl_disables_cache(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", cache_ttl_s=0)
    await crm.fetch({"phone": PHONE})
    await crm.fetch({"phone": PHONE})
    assert len(server.seen) == 2


async def test_lru_evicts_least_recently_used(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{account}", cache_size=2)

    async def fetch(account: str) -> ExternalResult:
        return await crm.fetch({"account": account})

    await fetch("A")
    await fetch("B")
    assert (await fetch("A")).cached  # A is now the most recently used
    await fetch("C")  # evicts B
    assert (await fetch("A")).cached
    assert not (await fetch("B")).cached
    assert [s.path for s in server.seen] == ["/customers/A", "/customers/B", "/customers/C"] + [
        "/customers/B"
    ]


async def test_concurrent_fetches_share_one_request(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", fields={"id": "customer.id"})
    gate = asyncio.Event()

    async def gated(request: web.Request) -> web.StreamResponse:
        await gate.wait()
        return web.json_response(CUSTOMER)

    server.respond = gated
    calls = [asyncio.create_task(crm.fetch({"phone": PHONE})) for _ in range(5)]
    await server.arrived.wait()  # every call has started by the time the request lands
    gate.set()
    results = await asyncio.gather(*calls)
    assert [r.status for r in results] == ["ok"] * 5
    assert all(dict(r.record) == {"id": "C-42"} for r in results)
    assert len(server.seen) == 1


async def test_waiters_time_out_when_the_shared_request_hangs(
    server: CrmServer, connect: Connect
) -> None:
    crm = await connect(url=server.base + "/customers/{phone}", timeout_s=0.2)

    async def slow(request: web.Request) -> web.StreamResponse:
        await server.hold()
        return web.json_response(CUSTOMER)

    server.respond = slow
    results = await asyncio.gather(*(crm.fetch({"phone": PHONE}) for _ in range(3)))
    assert [r.status for r in results] == ["timeout"] * 3
    assert len(server.seen) == 1


async def test_close_during_fetch_answers_error(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/customers/{phone}")

    async def slow(request: web.Request) -> web.StreamResponse:
        await server.hold()
        return web.json_response(CUSTOMER)

    server.respond = slow
    call = asyncio.create_task(crm.fetch({"phone": PHONE}))
    await server.arrived.wait()
    await crm.close()
    result = await call
    assert result.status == "error" and "closed" in result.message
    assert (await crm.fetch({"phone": PHONE})).status == "error"


# -- POST, skipped, screen-pop link -------------------------------------------------------


async def test_post_sends_json_body(server: CrmServer, connect: Connect) -> None:
    crm = await connect(url=server.base + "/lookup", method="POST", identities=("account", "phone"))
    result = await crm.fetch(
        {"phone": PHONE, "email": "not-sent@example.com", "account": "AC-7"}, contact_id="c1"
    )
    assert result.status == "ok"
    seen = server.seen[0]
    assert seen.method == "POST"
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == {
        "identities": {"account": "AC-7", "phone": PHONE},
        "contact_id": "c1",
    }
    # The body is part of the cache key: the same body is a hit, another is not.
    assert (await crm.fetch({"phone": PHONE, "account": "AC-7"}, contact_id="c1")).cached
    assert not (await crm.fetch({"phone": PHONE}, contact_id="c1")).cached
    assert len(server.seen) == 2


async def test_skipped_when_needed_identity_is_absent(server: CrmServer, connect: Connect) -> None:
    crm = await connect(
        url=server.base + "/customers/{email}",
        screen_pop_url="https://crm.example/search?phone={phone}",
    )
    result = await crm.fetch({"phone": PHONE}, contact_id="c1")
    assert result.status == "skipped"
    assert "{email}" in result.message
    assert result.url == "https://crm.example/search?phone=%2B441632960123"
    assert server.seen == []


async def test_screen_pop_url_uses_external_field(server: CrmServer, connect: Connect) -> None:
    crm = await connect(
        url=server.base + "/customers/{phone}",
        fields={"id": "customer.id", "name": "customer.name"},
        screen_pop_url="https://crm.example/contacts/{external.id}?from={contact_id}",
    )
    result = await crm.fetch({"phone": PHONE}, contact_id="c 1")
    assert result.status == "ok"
    assert result.url == "https://crm.example/contacts/C-42?from=c%201"
    assert (
        crm.screen_pop_url({}, contact_id="c1", record={"id": "a/b"})
        == "https://crm.example/contacts/a%2Fb?from=c1"
    )

    server.respond = answer_text("oops", status=503)
    failed = await crm.fetch({"phone": "+15551234567"}, contact_id="c2")
    assert failed.status == "error" and failed.url is None  # no {external.id} to link to


def test_disabled_result() -> None:
    assert DISABLED.status == "disabled"
    assert DISABLED.as_dict() == {
        "status": "disabled",
        "record": {},
        "url": None,
        "message": "",
        "cached": False,
    }


@pytest.fixture(autouse=True)
def _no_env_leak(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Connectors here read environ={} unless a test passes one: make sure none of them
    # quietly depends on the developer's real environment.
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    yield
