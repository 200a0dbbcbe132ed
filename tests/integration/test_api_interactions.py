"""Interactions over REST: arrival on several media, an agent's whole handling, scoping,
bad input answered with 4xx and a stable error_id, and metrics moving with the traffic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client.parser import text_string_to_metric_families

if TYPE_CHECKING:
    from tests.integration.conftest import Centre


async def _metric(centre: Centre, name: str, **labels: str) -> float:
    resp = await centre.client.get("/metrics")
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


async def test_interactions_of_several_media_are_offered(centre: Centre) -> None:
    await centre.agent_ready("ann")
    chat = await centre.submit(id="chat-1", medium="chat", skills={"english": 2})
    email = await centre.submit(id="mail-1", medium="email", data={"subject": "Invoice"})
    voice = await centre.submit(medium="voice", priority=3, customer_id="cust-9")
    assert chat["state"] == "offered" and chat["agent_id"] == "ann"
    # Default capacity: up to 3 chats and 1 e-mail beside each other, voice alone.
    assert email["state"] == "offered" and email["data"] == {"subject": "Invoice"}
    assert voice["state"] == "queued" and voice["agent_id"] is None
    assert len(voice["id"]) == 32  # generated
    mine = await centre.call("GET", "/api/v1/interactions", "ann")
    assert {i["id"] for i in mine["interactions"]} == {"chat-1", "mail-1"}
    everything = await centre.call("GET", "/api/v1/interactions", "sue")
    assert everything["total"] == 3
    assert everything["interactions"][0]["id"] == voice["id"]  # priority 3 ranks first
    queued = await centre.call("GET", "/api/v1/interactions?state=queued", "sue")
    assert [i["id"] for i in queued["interactions"]] == [voice["id"]]
    page = await centre.call("GET", "/api/v1/interactions?limit=1&offset=1", "sue")
    assert page["total"] == 3 and len(page["interactions"]) == 1


async def test_accept_complete_and_wrap_up_leave_a_record(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1", medium="chat")
    accepted = await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    assert accepted["state"] == "assigned" and accepted["agent_id"] == "ann"
    ended = await centre.call("POST", "/api/v1/interactions/c1/complete", "ann")
    assert ended["state"] == "wrap_up"
    done = await centre.call(
        "POST",
        "/api/v1/interactions/c1/wrap-up",
        "ann",
        json={"disposition": "solved", "notes": "reset the password"},
    )
    assert done["state"] == "completed"
    assert done["disposition"] == "solved" and done["notes"] == "reset the password"
    # Closed: the recorded snapshot answers, to its agent and to supervisors.
    record = await centre.call("GET", "/api/v1/interactions/c1", "ann")
    assert record["state"] == "completed" and record["agent_id"] == "ann"
    await centre.call("GET", "/api/v1/interactions/c1", "bob", expect=404)
    events = await centre.call("GET", "/api/v1/interactions/c1/events", "sue")
    kinds = [e["type"] for e in events["events"]]
    assert kinds == [
        "interaction_created",
        "interaction_queued",
        "interaction_offered",
        "offer_accepted",
        "handling_ended",
        "interaction_completed",
    ]
    assert (await centre.agent_state("ann"))["state"] == "ready"


async def test_an_agent_cannot_see_or_touch_another_agents_interaction(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.call("POST", "/api/v1/agents/bob/login", "bob", json={"ready": False})
    await centre.submit(id="c1")
    hidden = await centre.call("GET", "/api/v1/interactions/c1", "bob", expect=404)
    assert hidden["error_id"] == "unknown_interaction"
    assert (await centre.call("GET", "/api/v1/interactions", "bob"))["interactions"] == []
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    for action in ("complete", "wrap-up"):
        body = await centre.call("POST", f"/api/v1/interactions/c1/{action}", "bob", expect=404)
        assert "ann" not in body["message"]
    body = await centre.call(
        "POST", "/api/v1/interactions/c1/transfer", "bob", json={"queue": "sales"}, expect=404
    )
    assert body["error_id"] == "unknown_interaction"
    # Acting for someone else is a supervisor's right only.
    await centre.call(
        "POST", "/api/v1/interactions/c1/complete", "bob", json={"agent_id": "ann"}, expect=403
    )
    await centre.call("GET", "/api/v1/interactions/nope", "ann", expect=404)


async def test_a_supervisor_acts_for_an_agent(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1")
    body = await centre.call("POST", "/api/v1/interactions/c1/accept", "sue", expect=400)
    assert body["error_id"] == "invalid_request"  # which agent?
    await centre.call("POST", "/api/v1/interactions/c1/accept", "sue", json={"agent_id": "ann"})
    await centre.call(
        "POST",
        "/api/v1/interactions/c1/wrap-up",
        "sue",
        json={"agent_id": "ann", "disposition": "follow_up"},
    )
    record = await centre.call("GET", "/api/v1/interactions/c1", "sue")
    assert record["disposition"] == "follow_up"


async def test_reject_puts_it_back_for_someone_else(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1")
    body = await centre.call(
        "POST", "/api/v1/interactions/c1/reject", "ann", json={"reason": "not my language"}
    )
    assert body["agent"]["offers"] == []
    waiting = await centre.call("GET", "/api/v1/interactions/c1", "sue")
    assert waiting["state"] == "queued"
    await centre.agent_ready("bob")
    offered = await centre.call("GET", "/api/v1/interactions/c1", "bob")
    assert offered["state"] == "offered" and offered["agent_id"] == "bob"
    # The offer is gone for ann: accepting it now is a conflict, not a success.
    gone = await centre.call("POST", "/api/v1/interactions/c1/accept", "ann", expect=409)
    assert gone["error_id"] == "offer_gone"


async def test_transfer_to_another_queue(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1")
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    await centre.agent_ready("bob")
    body = await centre.call(
        "POST", "/api/v1/interactions/c1/transfer", "ann", json={"queue": "sales"}
    )
    assert body["agent"]["active"] == []
    moved = await centre.call("GET", "/api/v1/interactions/c1", "sue")
    assert moved["queue"] == "sales" and moved["agent_id"] == "bob"
    assert moved["state"] == "offered"
    nowhere = await centre.call(
        "POST", "/api/v1/interactions/c1/transfer", "bob", json={}, expect=400
    )
    assert nowhere["error_id"] == "invalid_request"


async def test_unknown_disposition_is_refused_with_the_allowed_ones(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1")
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    body = await centre.call(
        "POST",
        "/api/v1/interactions/c1/wrap-up",
        "ann",
        json={"disposition": "made_up"},
        expect=400,
    )
    assert body["error_id"] == "invalid_request"
    assert body["details"]["allowed"] == ["solved", "follow_up"]
    still = await centre.call("GET", "/api/v1/interactions/c1", "ann")
    assert still["state"] == "assigned"


async def test_duplicate_closed_queue_and_cancel(centre: Centre) -> None:
    await centre.submit(id="c1")
    dup = await centre.call(
        "POST",
        "/api/v1/interactions",
        "sue",
        json={"id": "c1", "medium": "chat", "queue": "support"},
        expect=409,
    )
    assert dup["error_id"] == "duplicate_interaction"
    refused = await centre.submit(id="n1", medium="voice", queue="night")
    assert refused["state"] == "refused" and refused["reason"] == "closed"
    unknown = await centre.call(
        "POST",
        "/api/v1/interactions",
        "sue",
        json={"medium": "chat", "queue": "nope"},
        expect=404,
    )
    assert unknown["error_id"] == "unknown_queue"
    cancelled = await centre.call(
        "POST", "/api/v1/interactions/c1/cancel", "sue", json={"reason": "cancelled"}
    )
    assert cancelled["state"] == "cancelled"
    await centre.call("POST", "/api/v1/interactions/c1/cancel", "sue", expect=404)
    await centre.call("POST", "/api/v1/interactions/c1/cancel", "ann", expect=403)


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("not json", b"{medium: chat", "invalid_json"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
    ("a list", [], "invalid_request"),
    ("missing medium", {"queue": "support"}, "invalid_request"),
    ("unknown medium", {"medium": "pigeon", "queue": "support"}, "invalid_request"),
    (
        "priority as text",
        {"medium": "chat", "queue": "support", "priority": "3"},
        "invalid_request",
    ),
    ("unknown field", {"medium": "chat", "queue": "support", "colour": "red"}, "invalid_request"),
    (
        "skill level 9",
        {"medium": "chat", "queue": "support", "skills": {"english": 9}},
        "invalid_request",
    ),
    (
        "skill level true",
        {"medium": "chat", "queue": "support", "skills": {"english": True}},
        "invalid_request",
    ),
    ("id with a slash", {"id": "a/b", "medium": "chat", "queue": "support"}, "invalid_request"),
    ("data not an object", {"medium": "chat", "queue": "support", "data": [1]}, "invalid_request"),
]


async def test_bad_bodies_get_4xx_with_an_error_id(centre: Centre) -> None:
    headers = await centre.login("sue")
    for name, body, error_id in BAD_BODIES:
        kw: dict[str, Any] = {"data": body} if isinstance(body, bytes) else {"json": body}
        resp = await centre.client.post("/api/v1/interactions", headers=headers, **kw)
        assert resp.status == 400, name
        answer = await resp.json()
        assert answer["error_id"] == error_id, (name, answer)
        assert set(answer) == {"error_id", "message", "details"}
    resp = await centre.client.post(
        "/api/v1/interactions", headers=headers, json={"medium": "chat", "queue": 5}
    )
    details = (await resp.json())["details"]["errors"]
    assert details[0]["field"] == "queue" and details[0]["message"]


async def test_passwords_are_never_echoed_in_errors(centre: Centre) -> None:
    body = await centre.call(
        "POST",
        "/api/v1/auth/login",
        json={"username": "ann", "password": 12345678},
        expect=400,
    )
    assert "12345678" not in str(body)


async def test_bad_query_strings_and_huge_bodies(centre: Centre) -> None:
    for query in ("limit=abc", "limit=100000", "limit=0", "offset=-1", "state=lost", "foo=1"):
        body = await centre.call("GET", f"/api/v1/interactions?{query}", "sue", expect=400)
        assert body["error_id"] == "invalid_request", query
    headers = await centre.login("sue")
    big = {"medium": "chat", "queue": "support", "data": {"blob": "x" * 2_000_000}}
    resp = await centre.client.post("/api/v1/interactions", headers=headers, json=big)
    assert resp.status == 413
    assert (await resp.json())["error_id"] == "request_too_large"


async def test_metrics_follow_the_traffic(centre: Centre) -> None:
    labels = {"queue": "support", "medium": "chat"}
    assert await _metric(centre, "trunkline_interactions_answered_total", **labels) == 0.0
    await centre.agent_ready("ann")
    await centre.submit(id="c1", medium="chat")
    await centre.submit(id="c2", medium="chat")
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    await centre.call("POST", "/api/v1/interactions/c2/cancel", "sue")
    assert await _metric(centre, "trunkline_interactions_offered_total", **labels) == 2.0
    assert await _metric(centre, "trunkline_interactions_answered_total", **labels) == 1.0
    assert await _metric(centre, "trunkline_interactions_abandoned_total", **labels) == 1.0
