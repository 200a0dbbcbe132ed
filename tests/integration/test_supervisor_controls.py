"""What the wallboard's controls use: broadcasts to agents, moving waiting interactions,
queue targets and thresholds, the skills list and the configuration file check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from trunkline.config.loader import Config, load_config

if TYPE_CHECKING:
    from tests.integration.conftest import Centre, StartCentre

AGENT_WS = "/api/v1/agent/ws"
EVENTS_WS = "/api/v1/events/ws"


# -- broadcasts ------------------------------------------------------------------------


async def test_a_broadcast_reaches_logged_in_agents_as_a_banner_message(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.agent_ready("bob")
    ann = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ann)  # hello

    sent = await centre.call(
        "POST",
        "/api/v1/broadcasts",
        "sue",
        json={"text": "  Storm outage: use script B "},
        expect=201,
    )
    assert sent["text"] == "Storm outage: use script B"
    assert sent["from"] == "Sue" and sorted(sent["recipients"]) == ["ann", "bob"]

    banner = await centre.next_message(ann, lambda m: m["type"] == "broadcast")
    assert banner["text"] == "Storm outage: use script B" and banner["from"] == "Sue"
    assert banner["queue"] is None
    await ann.close()


async def test_a_queue_broadcast_skips_agents_of_other_queues(centre: Centre) -> None:
    await centre.agent_ready("ann")  # support only
    await centre.agent_ready("bob")  # support and sales
    sent = await centre.call(
        "POST",
        "/api/v1/broadcasts",
        "sue",
        json={"text": "Sales promo ends", "queue": "sales"},
        expect=201,
    )
    assert sent["recipients"] == ["bob"]

    # A desktop that connects afterwards still shows the last hour's broadcasts.
    bob = await centre.ws(AGENT_WS, "bob")
    hello = await centre.next_message(bob)
    assert [b["text"] for b in hello["broadcasts"]] == ["Sales promo ends"]
    ann = await centre.ws(AGENT_WS, "ann")
    assert (await centre.next_message(ann))["broadcasts"] == []
    await bob.close()
    await ann.close()


async def test_broadcasts_are_for_supervisors_and_need_text(centre: Centre) -> None:
    await centre.agent_ready("ann")
    denied = await centre.call("POST", "/api/v1/broadcasts", "ann", json={"text": "hi"}, expect=403)
    assert denied["error_id"] == "forbidden"
    empty = await centre.call("POST", "/api/v1/broadcasts", "sue", json={"text": "   "}, expect=400)
    assert empty["error_id"] == "invalid_request"
    unknown = await centre.call(
        "POST", "/api/v1/broadcasts", "sue", json={"text": "x", "queue": "nope"}, expect=404
    )
    assert unknown["error_id"] == "unknown_queue"


async def test_a_broadcast_is_recorded_with_the_other_events(centre: Centre) -> None:
    events = await centre.ws(EVENTS_WS, "sue")
    await centre.next_message(events)  # hello
    await centre.call("POST", "/api/v1/broadcasts", "sue", json={"text": "Hello all"}, expect=201)
    seen = await centre.next_message(events, centre.event_of("broadcast_sent"))
    assert seen["event"]["by"] == "sue" and seen["event"]["text"] == "Hello all"
    await events.close()


# -- moving waiting interactions -------------------------------------------------------


async def test_a_waiting_interaction_moves_to_another_queue(centre: Centre) -> None:
    events = await centre.ws(EVENTS_WS, "sue")
    await centre.next_message(events)
    await centre.submit(id="w1", queue="support")

    moved = await centre.call(
        "POST", "/api/v1/interactions/w1/move", "sue", json={"queue": "sales"}
    )
    assert moved["queue"] == "sales" and moved["state"] == "queued"
    event = await centre.next_message(events, centre.event_of("interaction_moved", "w1"))
    assert event["event"]["from_queue"] == "support" and event["event"]["by"] == "sue"
    queued = await centre.next_message(events, centre.event_of("interaction_queued", "w1"))
    assert queued["event"]["reason"] == "moved" and queued["event"]["queue"] == "sales"

    # Bob works sales: the moved interaction is offered to him.
    await centre.agent_ready("bob")
    offered = await centre.next_message(events, centre.event_of("interaction_offered", "w1"))
    assert offered["event"]["agent_id"] == "bob"
    await events.close()


async def test_moving_an_offered_interaction_withdraws_the_offer(centre: Centre) -> None:
    await centre.agent_ready("ann")
    ann = await centre.ws(AGENT_WS, "ann")
    await centre.next_message(ann)
    await centre.submit(id="w2", queue="support")
    await centre.next_message(ann, centre.event_of("interaction_offered", "w2"))

    await centre.call("POST", "/api/v1/interactions/w2/move", "sue", json={"queue": "sales"})
    revoked = await centre.next_message(ann, centre.event_of("offer_revoked", "w2"))
    assert revoked["event"]["reason"] == "moved"
    assert (await centre.agent_state("ann"))["state"] == "ready"
    await ann.close()


async def test_a_move_to_a_named_agent_offers_it_to_them_first(centre: Centre) -> None:
    await centre.agent_ready("ann")  # works support, not sales
    await centre.submit(id="w3", queue="sales")  # nobody of sales is ready: it waits
    assert (await centre.call("GET", "/api/v1/interactions/w3", "sue"))["state"] == "queued"

    await centre.call("POST", "/api/v1/interactions/w3/move", "sue", json={"agent": "ann"})
    view = await centre.call("GET", "/api/v1/interactions/w3", "sue")
    assert view["state"] == "offered" and view["agent_id"] == "ann"

    # Someone on a break is not worth waiting for.
    await centre.call("POST", "/api/v1/agents/bob/login", "bob", json={"ready": False})
    await centre.submit(id="w4", queue="sales")
    busy = await centre.call(
        "POST", "/api/v1/interactions/w4/move", "sue", json={"agent": "bob"}, expect=409
    )
    assert busy["details"]["agent_id"] == "bob"


async def test_only_waiting_interactions_move(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="w5", queue="support")
    await centre.call("POST", "/api/v1/interactions/w5/accept", "ann", json={})
    conflict = await centre.call(
        "POST", "/api/v1/interactions/w5/move", "sue", json={"queue": "sales"}, expect=409
    )
    assert "transfer" in conflict["message"]
    same = await centre.call("POST", "/api/v1/interactions/w5/move", "sue", json={}, expect=400)
    assert same["error_id"] == "invalid_request"
    denied = await centre.call(
        "POST", "/api/v1/interactions/w5/move", "ann", json={"queue": "sales"}, expect=403
    )
    assert denied["error_id"] == "forbidden"


async def test_moving_to_the_queue_it_waits_in_is_refused(centre: Centre) -> None:
    await centre.submit(id="w6", queue="support")
    refused = await centre.call(
        "POST", "/api/v1/interactions/w6/move", "sue", json={"queue": "support"}, expect=400
    )
    assert "already waits" in refused["message"]


# -- reference data for the pages ------------------------------------------------------


async def test_queues_carry_their_targets_and_tile_thresholds(centre: Centre) -> None:
    queues = {q["id"]: q for q in (await centre.call("GET", "/api/v1/queues", "ann"))["queues"]}
    assert queues["support"]["service_level"] == {}  # none configured in this centre
    assert queues["sales"]["wallboard"] == {
        "waiting_warn": 5,
        "waiting_alarm": 15,
        "longest_wait_warn_s": 60.0,
        "longest_wait_alarm_s": 180.0,
        "service_level_margin_percent": 10.0,
    }


async def test_the_skills_list_is_readable_by_agents(centre: Centre) -> None:
    skills = await centre.call("GET", "/api/v1/skills", "ann")
    assert set(skills["skills"]) == {"english", "french"}


async def test_the_config_check_reports_the_file_on_disk_without_applying_it(
    start_centre: StartCentre, tmp_path: Path, config_text: Callable[..., str]
) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(config_text())

    async def reload() -> Config:
        return load_config(path)

    centre = await start_centre(reload_config=reload)
    centre.service.config = load_config(path)  # the running config came from that file
    assert await centre.call("GET", "/api/v1/config/check", "ada") == {
        "source": str(path),
        "valid": True,
        "errors": [],
    }

    path.write_text(path.read_text().replace("offer_timeout_s: 300", "offer_timeout_s: -1", 1))
    check = await centre.call("GET", "/api/v1/config/check", "ada")
    assert check["valid"] is False
    (error,) = check["errors"]
    assert error["field"] == "queues.support.offer_timeout_s" and error["line"] is not None
    # Nothing was applied: the running queue keeps its timeout.
    assert centre.service.config.queues["support"].offer_timeout_s == 300
    denied = await centre.call("GET", "/api/v1/config/check", "sue", expect=403)
    assert denied["error_id"] == "forbidden"


@pytest.mark.parametrize("path", ["/desktop", "/wallboard", "/reports", "/admin"])
async def test_pages_are_not_in_the_api_document(centre: Centre, path: str) -> None:
    document = await centre.call("GET", "/api/v1/openapi.json")
    assert path not in document["paths"]
    assert "/api/v1/broadcasts" in document["paths"]
    assert "/api/v1/interactions/{id}/move" in document["paths"]


async def test_agents_see_colleagues_to_transfer_to_but_not_their_skills(centre: Centre) -> None:
    await centre.agent_ready("bob")
    directory = await centre.call("GET", "/api/v1/directory/agents", "ann")
    by_id = {a["id"]: a for a in directory["agents"]}
    assert by_id["bob"]["state"] == "ready" and by_id["bob"]["queues"] == ["sales", "support"]
    assert by_id["ann"]["state"] == "logged_out"
    assert "skills" not in by_id["bob"] and "load" not in by_id["bob"]
