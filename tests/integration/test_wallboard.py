"""The wallboard: live statistics over REST and a websocket, who may read what, bursts
coalesced into few deltas, today's figures rebuilt from the record after a restart, and
the roll at the centre's local midnight."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from trunkline.app import ServeOptions, build
from trunkline.auth.passwords import hash_password
from trunkline.config.loader import Config, load_config_text
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.reporting.definitions import local_day_bounds
from trunkline.reporting.service import ReportingService
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.web import keys
from trunkline.web.app import create_app
from trunkline.web.wallboard_feed import WallboardSubscriber
from trunkline.web.ws_wallboard import WallboardSession

if TYPE_CHECKING:
    from tests.integration.conftest import Centre, StartCentre

WALLBOARD = "/api/v1/wallboard"
WALLBOARD_WS = "/api/v1/wallboard/ws"
PASSWORDS = {"ann": "ann-secret", "sue": "sue-secret"}


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in items}


def chat(interaction_id: str, queue: str = "support") -> InteractionRequest:
    return InteractionRequest(id=interaction_id, medium=Medium.CHAT, queue=queue)


# -- applying deltas, as a wallboard page would ------------------------------------------


def _merge(old: Any, change: Any) -> Any:
    if isinstance(old, dict) and isinstance(change, dict):
        for key, value in change.items():
            old[key] = _merge(old.get(key), value)
        return old
    return change


def apply_delta(board: dict[str, Any], delta: dict[str, Any]) -> None:
    """Bring ``board`` (a snapshot) up to date with one delta message."""
    removed = delta.get("removed", {})
    for key, change in delta.items():
        if key in ("type", "removed"):
            continue
        current = board.get(key)
        if isinstance(current, list):  # queues, agents, media: keyed by id
            items = by_id(current)
            for item_id, fields in change.items():
                if item_id in items:
                    _merge(items[item_id], fields)
                else:
                    current.append(fields)
            gone = {str(i) for i in removed.get(key, ())}
            board[key] = [item for item in current if str(item["id"]) not in gone]
        else:
            board[key] = _merge(current, change)


# -- REST ---------------------------------------------------------------------------------


async def test_the_snapshot_shows_who_waits_and_what_was_answered(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="v1", medium="voice")  # offered to ann
    await centre.call("POST", "/api/v1/interactions/v1/accept", "ann")
    await centre.submit(id="v2", medium="voice")  # ann is on a call: it waits
    await centre.submit(id="v3", medium="voice")
    await centre.call("POST", "/api/v1/interactions/v3/cancel", "sue")  # gone within 5 s
    await centre.submit(id="e1", medium="email", queue="sales")  # nobody in sales

    snap = await centre.call("GET", WALLBOARD, "sue")
    support, sales = by_id(snap["queues"])["support"], by_id(snap["queues"])["sales"]
    assert (support["waiting"], support["on_offer"]) == (1, 0)
    today = support["today"]
    assert (today["offered"], today["answered"], today["short_abandoned"]) == (3, 1, 1)
    assert today["abandoned"] == 0 and today["answered_in_sl"] == 1
    assert today["sl_answered"] == 50.0  # 1 answered in time of 3 offered less 1 short abandon
    assert support["agents"]["busy"] == 1
    assert set(support["today_by_medium"]) == {"voice"}
    assert (sales["waiting"], sales["today"]["offered"], sales["today"]["answered"]) == (1, 1, 0)
    ann = by_id(snap["agents"])["ann"]
    assert ann["state"] == "busy"
    assert ann["interactions"] == [
        {"id": "v1", "queue": "support", "medium": "voice", "phase": "handling"}
    ]
    media = by_id(snap["media"])
    assert (media["voice"]["waiting"], media["email"]["waiting"]) == (1, 1)
    assert (snap["centre"]["today"]["offered"], snap["centre"]["today"]["answered"]) == (4, 1)

    await centre.call("POST", "/api/v1/interactions/v1/complete", "ann")
    await centre.call(
        "POST", "/api/v1/interactions/v1/wrap-up", "ann", json={"disposition": "solved"}
    )
    snap = await centre.call("GET", WALLBOARD, "sue")
    support = by_id(snap["queues"])["support"]
    assert (support["waiting"], support["on_offer"]) == (1, 1)  # v2 now offered to ann
    assert (support["today"]["handled"], support["today"]["completed"]) == (1, 1)
    assert support["today"]["fcr"] == 100.0
    own = await centre.call("GET", "/api/v1/agents/ann/stats", "ann")
    assert own["state"] == "reserved" and own["day_start"] == snap["day_start"]
    assert (own["today"]["handled"], own["today"]["completed"]) == (1, 1)


async def test_agents_read_their_own_figures_only(centre: Centre) -> None:
    await centre.call("GET", WALLBOARD, "ann", expect=403)
    await centre.call("GET", "/api/v1/agents/bob/stats", "ann", expect=403)
    # Not even whether an agent exists: refused before the lookup.
    await centre.call("GET", "/api/v1/agents/nobody/stats", "ann", expect=403)
    own = await centre.call("GET", "/api/v1/agents/ann/stats", "ann")
    assert (own["id"], own["state"], own["queues"]) == ("ann", "logged_out", ["support"])
    assert own["today"]["handled"] == 0

    bob = await centre.call("GET", "/api/v1/agents/bob/stats", "sue")
    assert bob["id"] == "bob" and bob["queues"] == ["sales", "support"]
    await centre.call("GET", "/api/v1/agents/nobody/stats", "sue", expect=404)
    await centre.call("GET", WALLBOARD, "ada")  # admins are supervisors too
    await centre.call("GET", WALLBOARD, expect=401)

    doc = await centre.call("GET", "/api/v1/openapi.json")
    paths = doc["paths"]
    assert paths[WALLBOARD]["get"]["x-access"] == "supervisor"
    assert paths[WALLBOARD_WS]["get"]["x-access"] == "supervisor"
    assert paths["/api/v1/agents/{id}/stats"]["get"]["x-access"] == "agent"


@pytest.mark.parametrize(("user", "status"), [("ann", 403), (None, 401)])
async def test_only_supervisors_open_the_wallboard_socket(
    centre: Centre, user: str | None, status: int
) -> None:
    params = {}
    if user is not None:
        await centre.login(user)
        params["token"] = centre.tokens[user]
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await centre.client.ws_connect(WALLBOARD_WS, params=params)
    assert info.value.status == status


async def test_a_reload_by_any_path_reaches_the_wallboard(
    centre: Centre, config_text: Callable[..., str]
) -> None:
    renamed = config_text().replace("name: Support", "name: Help desk")
    await centre.service.reload(load_config_text(renamed, "centre.yaml"))
    snap = await centre.call("GET", WALLBOARD, "sue")
    assert by_id(snap["queues"])["support"]["name"] == "Help desk"


# -- websocket ----------------------------------------------------------------------------


async def test_the_socket_starts_with_the_snapshot_and_answers_pings(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1", queue="sales")
    ws = await centre.ws(WALLBOARD_WS, "sue")
    first = await centre.next_message(ws)
    rest = await centre.call("GET", WALLBOARD, "sue")
    assert first["type"] == "snapshot"
    assert first["day_start"] == rest["day_start"]
    assert [q["id"] for q in first["queues"]] == ["support", "sales", "night"]
    assert by_id(first["queues"])["sales"]["waiting"] == 1
    assert by_id(first["agents"])["ann"]["state"] == "ready"
    assert by_id(first["queues"])["sales"]["today"] == by_id(rest["queues"])["sales"]["today"]

    await ws.send_json({"type": "ping", "id": 7})
    assert await centre.next_message(ws) == {"type": "pong", "id": 7}
    await ws.send_json({"type": "accept", "id": 8, "interaction_id": "c1"})
    refused = await centre.next_message(ws)
    assert (refused["type"], refused["error_id"]) == ("error", "unknown_type")
    await ws.close()


async def test_a_burst_arrives_in_at_most_two_deltas(centre: Centre) -> None:
    ws = await centre.ws(WALLBOARD_WS, "sue")
    board = await centre.next_message(ws)
    assert board["type"] == "snapshot"

    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(centre.service.submit(chat(f"b{n}")) for n in range(20)))
    burst_s = loop.time() - started

    deltas = 0
    async with asyncio.timeout(10):
        while by_id(board["queues"])["support"]["waiting"] < 20:
            message = await centre.next_message(ws)
            assert message["type"] == "delta", message
            deltas += 1
            apply_delta(board, message)
    # One delta for the first change, then at most one a second: two for a burst that
    # took less than a second, as it does unless the machine stalls.
    assert 1 <= deltas <= 2 + math.floor(burst_s)
    rest = await centre.call("GET", WALLBOARD, "sue")
    support = by_id(board["queues"])["support"]
    assert support["today"] == by_id(rest["queues"])["support"]["today"]
    assert support["today"]["offered"] == 20
    assert by_id(board["media"])["chat"]["waiting"] == 20
    await ws.close()


async def test_deltas_follow_changes_and_stay_consistent_with_rest(centre: Centre) -> None:
    ws = await centre.ws(WALLBOARD_WS, "sue")
    board = await centre.next_message(ws)

    async def until(check: Callable[[dict[str, Any]], bool]) -> None:
        async with asyncio.timeout(10):
            while not check(board):
                message = await centre.next_message(ws)
                if message["type"] == "delta":
                    apply_delta(board, message)

    await centre.agent_ready("ann")
    await until(lambda b: by_id(b["agents"])["ann"]["state"] == "ready")
    await centre.submit(id="c1")
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    await until(lambda b: by_id(b["queues"])["support"]["today"]["answered"] == 1)
    assert by_id(board["agents"])["ann"]["interactions"][0]["id"] == "c1"
    await ws.close()


async def test_a_stuck_socket_is_closed_with_1013_and_the_others_carry_on(
    start_centre: StartCentre, monkeypatch: pytest.MonkeyPatch
) -> None:
    def small_backlog(app: web.Application) -> None:
        app[keys.WALLBOARD_FEED].backlog = 2

    centre = await start_centre(configure=small_backlog)
    forward = WallboardSession._forward
    stuck: list[WallboardSession] = []

    async def first_one_stuck(self: WallboardSession, sub: WallboardSubscriber) -> None:
        if not stuck:  # as if its client had stopped reading and a send never returned
            stuck.append(self)
            sub.begin_send()
            await asyncio.Event().wait()
        await forward(self, sub)

    monkeypatch.setattr(WallboardSession, "_forward", first_one_stuck)
    slow = await centre.ws(WALLBOARD_WS, "sue")
    assert (await centre.next_message(slow))["type"] == "snapshot"
    healthy = await centre.ws(WALLBOARD_WS, "sue")
    board = await centre.next_message(healthy)

    feed = centre.app[keys.WALLBOARD_FEED]
    for n in range(3):
        await centre.service.submit(chat(f"c{n}"))
        feed.publish()  # a tick, as the feed's task makes at most once a second
    while (msg := await slow.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        pass
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1013

    async with asyncio.timeout(10):
        while by_id(board["queues"])["support"]["waiting"] < 3:
            apply_delta(board, await centre.next_message(healthy))
    await healthy.close()


# -- restart ------------------------------------------------------------------------------


@asynccontextmanager
async def running_centre(
    db: Path, config: Config
) -> AsyncIterator[tuple[TestClient[Any, Any], RoutingService]]:
    """A centre over the SQLite file ``db``, stopped (not killed) on exit."""
    store = await EventStore.open(f"sqlite:///{db}")
    service = RoutingService(config=config, store=store)
    await service.start()
    client: TestClient[web.Request, web.Application] = TestClient(
        TestServer(create_app(service, users=config.users))
    )
    await client.start_server()
    try:
        yield client, service
    finally:
        await client.close()
        await service.stop()
        await store.close()


async def as_user(client: TestClient[Any, Any], user: str, password: str) -> dict[str, str]:
    resp = await client.post("/api/v1/auth/login", json={"username": user, "password": password})
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def get_json(client: TestClient[Any, Any], path: str, headers: dict[str, str]) -> Any:
    resp = await client.get(path, headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


def today_figures(snap: dict[str, Any]) -> dict[str, Any]:
    """Everything counted today, without what runs with the clock."""
    return {
        "queues": {
            q["id"]: (q["today"], q["today_by_medium"], q["waiting"]) for q in snap["queues"]
        },
        "media": {m["id"]: m["today"] for m in snap["media"]},
        "centre": snap["centre"]["today"],
        "agents": {
            a["id"]: (a["today"]["handled"], a["today"]["completed"], a["today"]["aht_s"])
            for a in snap["agents"]
        },
    }


async def test_todays_figures_are_rebuilt_after_a_restart(
    tmp_path: Path, config_text: Callable[..., str]
) -> None:
    config = load_config_text(config_text(), "centre.yaml")
    db = tmp_path / "centre.db"
    async with running_centre(db, config) as (client, service):
        await service.login("ann", ready=True)
        for n in (1, 2):
            await service.submit(chat(f"c{n}"))
            await service.accept(f"c{n}", "ann")
            await service.end_handling(f"c{n}", "ann")
            await service.wrap_up(f"c{n}", "ann", disposition="solved")
        await service.set_not_ready("ann", "break")
        await service.submit(chat("c3"))  # waits: ann is on a break
        await service.submit(chat("c4"))
        await service.cancel("c4")  # a short abandon
        await service.submit(chat("e1", queue="sales"))
        sue = await as_user(client, "sue", PASSWORDS["sue"])
        before = await get_json(client, WALLBOARD, sue)
        assert by_id(before["agents"])["ann"]["state"] == "not_ready"

    async with running_centre(db, config) as (client, service):
        sue = await as_user(client, "sue", PASSWORDS["sue"])
        after = await get_json(client, WALLBOARD, sue)
        assert after["day_start"] == before["day_start"]
        assert today_figures(after) == today_figures(before)
        support = by_id(after["queues"])["support"]
        assert support["today"]["offered"] == 4 and support["today"]["answered"] == 2
        assert support["today"]["short_abandoned"] == 1 and support["waiting"] == 1
        # The restarted router has everyone logged out; the wallboard agrees.
        ann = by_id(after["agents"])["ann"]
        assert (ann["state"], ann["reason"]) == ("logged_out", "restart")

        # The rebuild pages through the record: tiny pages give the same figures.
        paged = ReportingService(service, page_size=2)
        await paged.start()
        try:
            assert today_figures(paged.snapshot()) == today_figures(after)
        finally:
            await paged.stop()


async def test_events_during_the_rebuild_are_counted_once(
    tmp_path: Path, config_text: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config_text(config_text(), "centre.yaml")
    store = await EventStore.open(f"sqlite:///{tmp_path / 'centre.db'}")
    service = RoutingService(config=config, store=store)
    await service.start()
    for n in range(5):
        await service.submit(chat(f"old{n}"))
    pending: list[asyncio.Task[Any]] = []
    read = store.events

    async def read_while_busy(*, since_id: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        n = len(pending)
        if n < 4:
            # Alternately: recorded before this page is read, and still in flight while
            # it is, so some pages hold events the bus also delivered during the rebuild.
            task = asyncio.create_task(service.submit(chat(f"new{n}")))
            pending.append(task)
            if n % 2 == 0:
                await task
        return await read(since_id=since_id, limit=limit)

    monkeypatch.setattr(store, "events", read_while_busy)
    reporting = ReportingService(service, page_size=2)
    try:
        await reporting.start()
        await asyncio.gather(*pending)
        support = by_id(reporting.snapshot()["queues"])["support"]
        assert support["today"]["offered"] == 5 + len(pending)
        assert support["waiting"] == 5 + len(pending)
    finally:
        await reporting.stop()
        await service.stop()
        await store.close()


# -- the composition root -----------------------------------------------------------------


def write_config(path: Path, *, support_name: str) -> Path:
    path.write_text(
        f"""\
queues:
  support: {{name: {support_name}}}
agents:
  - {{id: ann, queues: [support]}}
users:
  - {{id: sue, role: supervisor, password_hash: "{hash_password(PASSWORDS["sue"])}"}}
  - {{id: ada, role: admin, password_hash: "{hash_password(PASSWORDS["sue"])}"}}
""",
        encoding="utf-8",
    )
    return path


async def test_the_server_serves_the_wallboard_and_reloads_its_names(tmp_path: Path) -> None:
    config = write_config(tmp_path / "centre.yaml", support_name="Support")
    options = ServeOptions(config_path=config, database_url=f"sqlite:///{tmp_path / 'e.db'}")
    app = await build(options)
    async with TestClient(TestServer(app)) as client:
        sue = await as_user(client, "sue", PASSWORDS["sue"])
        resp = await client.post(
            "/api/v1/interactions", json={"medium": "chat", "queue": "support"}, headers=sue
        )
        assert resp.status == 201, await resp.text()
        snap = await get_json(client, WALLBOARD, sue)
        support = by_id(snap["queues"])["support"]
        assert (support["name"], support["waiting"], support["today"]["offered"]) == (
            "Support",
            1,
            1,
        )

        write_config(config, support_name="Help desk")
        ada = await as_user(client, "ada", PASSWORDS["sue"])
        resp = await client.post("/api/v1/config/reload", headers=ada)
        assert resp.status == 200, await resp.text()
        snap = await get_json(client, WALLBOARD, sue)
        assert by_id(snap["queues"])["support"]["name"] == "Help desk"

    again = await build(options)  # the same record: today is rebuilt from it
    async with TestClient(TestServer(again)) as client:
        sue = await as_user(client, "sue", PASSWORDS["sue"])
        support = by_id((await get_json(client, WALLBOARD, sue))["queues"])["support"]
        assert (support["waiting"], support["today"]["offered"]) == (1, 1)


# -- midnight -----------------------------------------------------------------------------


class ManualClock:
    """Epoch seconds that move only when told."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# A Sunday-to-Monday midnight in London, far from any clock change.
LONDON_MIDNIGHT, _ = local_day_bounds(date(2024, 1, 15), "Europe/London")


async def test_the_day_rolls_at_local_midnight(
    tmp_path: Path, config_text: Callable[..., str]
) -> None:
    midnight = LONDON_MIDNIGHT
    config = load_config_text(
        config_text().replace("centre: {", "centre: {timezone: Europe/London, "), "centre.yaml"
    )
    clock = ManualClock(midnight - 600)
    store = await EventStore.open(f"sqlite:///{tmp_path / 'centre.db'}")
    service = RoutingService(config=config, store=store, clock=clock)
    await service.start()
    reporting = ReportingService(service)
    try:
        await service.submit(chat("late"))  # 23:50, and still waiting after midnight
        clock.now = midnight - 0.2
        await reporting.start()  # the timer is set 0.2 s ahead
        assert reporting.live.day[1] == midnight
        new_day = asyncio.Event()
        reporting.watch(lambda: new_day.set() if reporting.live.day[0] == midnight else None)
        clock.now = midnight + 0.01  # midnight passes before the timer is due
        # Nothing but the timer rolls the day here: no event, no snapshot is asked for.
        await asyncio.wait_for(new_day.wait(), timeout=5)

        snap = reporting.snapshot()
        support = by_id(snap["queues"])["support"]
        assert snap["day_start"] == midnight
        assert support["today"]["offered"] == 0  # yesterday's arrival is not today's
        assert support["waiting"] == 1  # but the customer is still waiting
        assert support["longest_wait_s"] == pytest.approx(600.01, abs=0.01)
    finally:
        await reporting.stop()
        await service.stop()
        await store.close()


def test_apply_delta_helper_matches_the_wire_format() -> None:
    board = {
        "generated_at": 1.0,
        "queues": [{"id": "a", "waiting": 1, "today": {"offered": 1, "answered": 0}}],
        "centre": {"today": {"offered": 1}},
    }
    apply_delta(
        board,
        json.loads(
            json.dumps(
                {
                    "type": "delta",
                    "generated_at": 2.0,
                    "queues": {"a": {"today": {"answered": 1}}, "b": {"id": "b", "waiting": 0}},
                    "centre": {"today": {"offered": 2}},
                    "removed": {},
                }
            )
        ),
    )
    assert board == {
        "generated_at": 2.0,
        "queues": [
            {"id": "a", "waiting": 1, "today": {"offered": 1, "answered": 1}},
            {"id": "b", "waiting": 0},
        ],
        "centre": {"today": {"offered": 2}},
    }
