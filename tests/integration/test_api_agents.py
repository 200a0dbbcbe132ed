"""Agents over REST: presence, a supervisor forcing states, profiles, reference lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.integration.conftest import Centre


async def test_an_agent_sees_only_themselves(centre: Centre) -> None:
    mine = await centre.call("GET", "/api/v1/agents", "ann")
    assert [a["id"] for a in mine["agents"]] == ["ann"]
    everyone = await centre.call("GET", "/api/v1/agents", "sue")
    assert {a["id"] for a in everyone["agents"]} == {"ann", "bob"}
    assert (await centre.call("GET", "/api/v1/agents/ann", "ann"))["state"] == "logged_out"
    denied = await centre.call("GET", "/api/v1/agents/bob", "ann", expect=403)
    assert denied["error_id"] == "forbidden"
    await centre.call("GET", "/api/v1/agents/nobody", "sue", expect=404)


async def test_agent_presence_round_trip(centre: Centre) -> None:
    view = await centre.call("POST", "/api/v1/agents/ann/login", "ann", json={})
    assert view["state"] == "not_ready"
    view = await centre.call("PUT", "/api/v1/agents/ann/state", "ann", json={"state": "ready"})
    assert view["state"] == "ready"
    view = await centre.call(
        "PUT", "/api/v1/agents/ann/state", "ann", json={"state": "not_ready", "reason": "lunch"}
    )
    assert view["state"] == "not_ready" and view["reason"] == "lunch"
    for body in (
        {"state": "not_ready"},
        {"state": "not_ready", "reason": "nap"},
        {"state": "not_ready", "reason": "missed"},  # the system's own reason
        {"state": "asleep"},
    ):
        answer = await centre.call("PUT", "/api/v1/agents/ann/state", "ann", json=body, expect=400)
        assert answer["error_id"] == "invalid_request", body
    again = await centre.call("POST", "/api/v1/agents/ann/login", "ann", expect=409)
    assert again["error_id"] == "illegal_transition"
    view = await centre.call("POST", "/api/v1/agents/ann/logout", "ann", json={"reason": "eod"})
    assert view["state"] == "logged_out"


async def test_a_supervisor_forces_states_an_agent_cannot(centre: Centre) -> None:
    await centre.agent_ready("bob")
    await centre.call(
        "PUT",
        "/api/v1/agents/bob/state",
        "ann",
        json={"state": "not_ready", "reason": "break"},
        expect=403,
    )
    view = await centre.call(
        "PUT", "/api/v1/agents/bob/state", "sue", json={"state": "not_ready", "reason": "break"}
    )
    assert view["state"] == "not_ready" and view["reason"] == "break"
    await centre.call("PUT", "/api/v1/agents/bob/state", "sue", json={"state": "ready"})
    await centre.submit(id="c1")  # offered to bob
    busy = await centre.call("POST", "/api/v1/agents/bob/logout", "bob", json={}, expect=409)
    assert busy["error_id"] == "illegal_transition"
    denied = await centre.call(
        "POST", "/api/v1/agents/bob/logout", "bob", json={"force": True}, expect=403
    )
    assert denied["error_id"] == "forbidden"
    # Not ready first, or the withdrawn offer would be offered straight back to bob.
    await centre.call(
        "PUT", "/api/v1/agents/bob/state", "sue", json={"state": "not_ready", "reason": "break"}
    )
    view = await centre.call("POST", "/api/v1/agents/bob/logout", "sue", json={"force": True})
    assert view["state"] == "logged_out" and view["offers"] == []
    back = await centre.call("GET", "/api/v1/interactions/c1", "sue")
    assert back["state"] == "queued"


async def test_a_supervisor_changes_a_profile_and_routing_follows(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="s1", queue="sales")
    assert (await centre.call("GET", "/api/v1/interactions/s1", "sue"))["state"] == "queued"
    await centre.call(
        "PATCH", "/api/v1/agents/ann/profile", "ann", json={"queues": ["sales"]}, expect=403
    )
    view = await centre.call(
        "PATCH",
        "/api/v1/agents/ann/profile",
        "sue",
        json={"queues": ["support", "sales"], "skills": {"english": 4, "french": 2}},
    )
    assert view["queues"] == ["sales", "support"] and view["skills"]["french"] == 2
    assert view["offers"] == ["s1"]
    events = await centre.call("GET", "/api/v1/interactions/s1/events", "sue")
    assert events["events"][-1]["type"] == "interaction_offered"
    body = await centre.call(
        "PATCH", "/api/v1/agents/ann/profile", "sue", json={"queues": ["nope"]}, expect=404
    )
    assert body["error_id"] == "unknown_queue"
    body = await centre.call("PATCH", "/api/v1/agents/ann/profile", "sue", json={}, expect=400)
    assert body["error_id"] == "invalid_request"


async def test_reference_lists_and_queues(centre: Centre) -> None:
    codes = await centre.call("GET", "/api/v1/wrap-up-codes", "ann")
    assert [c["code"] for c in codes["wrap_up_codes"]] == ["solved", "follow_up"]
    reasons = await centre.call("GET", "/api/v1/not-ready-reasons", "ann")
    by_code = {r["code"]: r for r in reasons["not_ready_reasons"]}
    assert not by_code["break"]["system"] and by_code["disconnected"]["system"]
    await centre.agent_ready("ann")
    await centre.call("POST", "/api/v1/agents/bob/login", "bob", json={})
    await centre.submit(id="s1", queue="sales")
    queues = {q["id"]: q for q in (await centre.call("GET", "/api/v1/queues", "ann"))["queues"]}
    assert queues["support"]["name"] == "Support"
    assert queues["support"]["agents_ready"] == 1 and queues["sales"]["waiting"] == 1
    assert queues["night"]["open"] is False
