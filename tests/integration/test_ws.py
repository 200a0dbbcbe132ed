"""Websockets: the agent desktop's snapshot, pushes and commands, reconnects and the grace
period; the supervisor's event stream; who may open which."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiohttp import web

from trunkline.domain.events import AgentLoggedIn
from trunkline.web import keys

if TYPE_CHECKING:
    from tests.integration.conftest import Centre, StartCentre

AGENT_WS = "/api/v1/agent/ws"
EVENTS_WS = "/api/v1/events/ws"


async def test_hello_then_offers_are_pushed_and_accepted_over_the_socket(
    centre: Centre,
) -> None:
    await centre.agent_ready("ann")
    ws = await centre.ws(AGENT_WS, "ann")
    hello = await centre.next_message(ws)
    assert hello["type"] == "hello"
    assert hello["agent"]["id"] == "ann" and hello["agent"]["state"] == "ready"
    assert hello["offers"] == [] and hello["interactions"] == []

    await centre.submit(id="c1", medium="chat")
    offered = await centre.next_message(ws, centre.event_of("interaction_offered"))
    assert offered["event"]["interaction_id"] == "c1"
    assert offered["event"]["medium"] == "chat" and offered["event"]["agent_id"] == "ann"

    await ws.send_json({"type": "accept", "id": "r1", "interaction_id": "c1"})
    result = await centre.next_message(ws, lambda m: m["type"] in ("result", "error"))
    assert result == {"type": "result", "id": "r1", "ok": True}
    assert (await centre.call("GET", "/api/v1/interactions/c1", "sue"))["state"] == "assigned"

    await ws.send_json({"type": "complete", "id": 2, "interaction_id": "c1"})
    assert (await centre.next_message(ws, lambda m: m["type"] == "result"))["id"] == 2
    await ws.send_json(
        {"type": "wrap_up", "id": 3, "interaction_id": "c1", "disposition": "nonsense"}
    )
    error = await centre.next_message(ws, lambda m: m["type"] == "error")
    assert error["id"] == 3 and error["error_id"] == "invalid_request"
    await ws.send_json(
        {"type": "wrap_up", "id": 4, "interaction_id": "c1", "disposition": "solved"}
    )
    await centre.next_message(ws, centre.event_of("interaction_completed", "c1"))
    await ws.close()


async def test_only_the_agents_own_events_arrive(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.agent_ready("bob")
    ws = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ws)
    await centre.submit(id="c1")  # to ann (longest idle)
    await centre.submit(id="c2")  # to bob
    await centre.submit(id="c3")  # to ann
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    await centre.call("POST", "/api/v1/interactions/c1/cancel", "sue")
    await centre.call("POST", "/api/v1/interactions/c3/cancel", "sue")
    await centre.call("POST", "/api/v1/interactions/c2/cancel", "sue")
    await ws.send_json({"type": "ping", "id": "p"})
    seen = []
    while (msg := await centre.next_message(ws))["type"] != "pong":
        seen.append(msg["event"])
    # ann hears that c1, which she held, was cancelled, and that c3's offer was withdrawn;
    # nothing of bob's c2.
    kinds = {(e["type"], e.get("interaction_id")) for e in seen}
    assert ("interaction_cancelled", "c1") in kinds
    assert ("offer_revoked", "c3") in kinds
    assert {e.get("interaction_id") for e in seen} <= {None, "c1", "c3"}
    assert {e.get("agent_id", "ann") for e in seen} == {"ann"}
    await ws.close()


async def test_malformed_messages_get_errors_and_the_socket_stays_open(centre: Centre) -> None:
    await centre.call("POST", "/api/v1/agents/ann/login", "ann", json={})
    ws = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ws)
    cases = [
        ("{not json", None, "invalid_json"),
        ('["a list"]', None, "unknown_type"),
        ('{"type": "dance", "id": 7}', 7, "unknown_type"),
        ('{"type": "accept", "id": "a"}', "a", "invalid_request"),
        ('{"type": "accept", "id": "b", "interaction_id": 5}', "b", "invalid_request"),
        ('{"type": "ready", "id": "c", "extra": 1}', "c", "invalid_request"),
        ('{"type": "not_ready", "id": "d", "reason": "nap"}', "d", "invalid_request"),
        ('{"type": "accept", "id": "e", "interaction_id": "gone"}', "e", "offer_gone"),
        ('{"type": "complete", "id": "f", "interaction_id": "gone"}', "f", "unknown_interaction"),
    ]
    for text, request_id, error_id in cases:
        await ws.send_str(text)
        error = await centre.next_message(ws, lambda m: m["type"] == "error")
        assert (error["id"], error["error_id"]) == (request_id, error_id), text
    await ws.send_bytes(b"\x00\x01")
    assert (await centre.next_message(ws, lambda m: m["type"] == "error"))["id"] is None
    await ws.send_json({"type": "ping", "id": 99})
    assert await centre.next_message(ws, lambda m: m["type"] == "pong") == {
        "type": "pong",
        "id": 99,
    }
    await ws.send_json({"type": "ready", "id": "go"})
    assert (await centre.next_message(ws, lambda m: m["type"] == "result"))["ok"] is True
    assert (await centre.agent_state("ann"))["state"] == "ready"
    await ws.close()


async def test_a_reconnecting_desktop_sees_the_pending_offer(centre: Centre) -> None:
    await centre.agent_ready("ann")
    ws = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ws)
    await centre.submit(id="c1")
    await centre.next_message(ws, centre.event_of("interaction_offered", "c1"))
    await ws.close()

    again = await centre.ws(AGENT_WS, "ann")
    hello = await centre.next_message(again)
    assert [o["id"] for o in hello["offers"]] == ["c1"]
    assert hello["offers"][0]["state"] == "offered"
    assert hello["agent"]["state"] == "reserved" and hello["agent"]["connected"] is True
    await again.send_json({"type": "accept", "id": 1, "interaction_id": "c1"})
    await centre.next_message(again, lambda m: m["type"] == "result")
    await again.close()

    third = await centre.ws(AGENT_WS, "ann")
    hello = await centre.next_message(third)
    assert hello["offers"] == [] and [i["id"] for i in hello["interactions"]] == ["c1"]
    await third.close()


async def test_after_the_grace_period_the_offer_goes_back(start_centre: StartCentre) -> None:
    centre = await start_centre(grace=0.2)
    await centre.agent_ready("ann")
    ws = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ws)
    await centre.submit(id="c1")
    await centre.next_message(ws, centre.event_of("interaction_offered", "c1"))
    await ws.close()

    async def disconnected() -> bool:
        agent = await centre.agent_state("ann")
        return bool(agent["state"] == "not_ready" and agent["reason"] == "disconnected")

    await centre.eventually(disconnected)
    record = await centre.call("GET", "/api/v1/interactions/c1", "sue")
    assert record["state"] == "queued" and record["agent_id"] is None


async def test_only_the_last_socket_closing_counts_as_a_disconnect(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(grace=0.2)
    await centre.agent_ready("ann")
    first = await centre.ws(AGENT_WS, "ann")
    second = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(first)
    await centre.next_message(second)
    await first.close()
    connections = centre.app[keys.AGENT_CONNECTIONS]

    async def one_left() -> bool:
        return connections.count("ann") == 1

    await centre.eventually(one_left)
    assert (await centre.agent_state("ann"))["connected"] is True
    await centre.submit(id="c1")  # still routed to ann: one desktop is open
    await centre.next_message(second, centre.event_of("interaction_offered", "c1"))
    await second.close()


async def test_the_supervisor_stream_sees_every_event(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="q0", queue="sales")
    ws = await centre.ws(EVENTS_WS, "sue")
    hello = await centre.next_message(ws)
    assert hello["type"] == "hello"
    assert {q["id"] for q in hello["queues"]} == {"support", "sales", "night"}
    assert {a["id"] for a in hello["agents"]} == {"ann", "bob"}
    assert [i["id"] for i in hello["interactions"]] == ["q0"]
    await centre.submit(id="c1")
    created = await centre.next_message(ws, centre.event_of("interaction_created"))
    assert created["event"]["interaction_id"] == "c1"
    await centre.next_message(ws, centre.event_of("interaction_offered", "c1"))
    await centre.call("POST", "/api/v1/agents/bob/login", "bob", json={})
    logged = await centre.next_message(ws, centre.event_of("agent_logged_in"))
    assert logged["event"]["agent_id"] == "bob"
    await ws.send_json({"type": "accept", "id": 1, "interaction_id": "c1"})
    refused = await centre.next_message(ws, lambda m: m["type"] == "error")
    assert refused["error_id"] == "unknown_type"  # supervisors' sockets only ping
    await ws.close()


async def test_a_subscriber_that_falls_behind_is_closed_with_1013(
    start_centre: StartCentre,
) -> None:
    def small_queue(app: web.Application) -> None:
        app[keys.WS_QUEUE_SIZE] = 3

    centre = await start_centre(configure=small_queue)
    ws = await centre.ws(EVENTS_WS, "sue")
    await centre.next_message(ws)
    # Published in one go, faster than any socket drains: the mailbox overflows.
    centre.service.bus.publish(AgentLoggedIn(at=float(n), agent_id="ann") for n in range(10))
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        pass
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1013


@pytest.mark.parametrize(
    ("path", "user", "status"),
    [
        (EVENTS_WS, "ann", 403),  # an agent cannot watch everyone
        (AGENT_WS, "sue", 403),  # a supervisor login is not an agent
        (AGENT_WS, None, 401),
        (EVENTS_WS, None, 401),
    ],
)
async def test_who_may_open_which_socket(
    centre: Centre, path: str, user: str | None, status: int
) -> None:
    params = {}
    if user is not None:
        await centre.login(user)
        params["token"] = centre.tokens[user]
    with pytest.raises(aiohttp.WSServerHandshakeError) as info:
        await centre.client.ws_connect(path, params=params)
    assert info.value.status == status


async def test_a_bearer_header_also_opens_a_socket(centre: Centre) -> None:
    headers = await centre.login("sue")
    ws = await centre.client.ws_connect(EVENTS_WS, headers=headers)
    assert (await centre.next_message(ws))["type"] == "hello"
    await ws.close()


async def test_shutdown_closes_open_sockets_with_going_away(centre: Centre) -> None:
    await centre.agent_ready("ann")
    ws = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ws)
    await centre.client.server.close()  # runs the app's on_shutdown
    while (msg := await ws.receive(timeout=5)).type is aiohttp.WSMsgType.TEXT:
        pass
    # The close frame's code; the client may then record 1006 as the server hangs up.
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 1001
