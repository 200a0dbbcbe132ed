"""Recognition, CRM-driven routing and the screen-pop an agent's offer carries, through the
real web app: REST to create customers and interactions, the agent websocket for offers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from conftest import Centre, StartCentre

GB = "crm: {default_region: GB, class_priority: {vip: 50}}\n"
NUMBER = "+442079460018"


async def _contact(centre: Centre, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Jane Doe")
    body.setdefault("identities", [{"kind": "phone", "value": NUMBER}])
    return await centre.call("POST", "/api/v1/crm/contacts", "ann", json=body, expect=201)


async def _handle(centre: Centre, agent: str, iid: str, **wrap: Any) -> dict[str, Any]:
    """Accept, finish and wrap up ``iid`` as ``agent``; returns the wrap-up answer."""
    base = f"/api/v1/interactions/{iid}"
    await centre.call("POST", base + "/accept", agent, json={})
    await centre.call("POST", base + "/complete", agent, json={})
    result: dict[str, Any] = await centre.call("POST", base + "/wrap-up", agent, json=wrap)
    return result


async def test_offer_carries_contact_history_and_open_cases(start_centre: StartCentre) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(
        centre,
        **{"class": "gold", "owner": "bob", "attributes": {"plan": "Fibre 500"}},
        identities=[
            {"kind": "phone", "value": NUMBER},
            {"kind": "email", "value": "jane@example.com"},
        ],
    )
    case = await centre.call(
        "POST",
        "/api/v1/crm/cases",
        "ann",
        json={"contact_id": contact["id"], "subject": "Router keeps rebooting"},
        expect=201,
    )
    await centre.agent_ready("ann")
    first = await centre.submit(data={"caller_id": "020 7946 0018"})
    await _handle(centre, "ann", first["id"], disposition="solved", notes="Reset the router")

    ws = await centre.ws("/api/v1/agent/ws", "ann")
    await centre.next_message(ws, lambda m: m["type"] == "hello")
    second = await centre.submit(medium="email", data={"from_address": "JANE@Example.com"})
    offer = await centre.next_message(ws, centre.event_of("interaction_offered", second["id"]))
    pop = offer["screen_pop"]

    assert pop["contact"]["id"] == contact["id"]
    assert pop["contact"]["name"] == "Jane Doe"
    assert pop["contact"]["class"] == "gold"
    assert pop["contact"]["owner"] == "bob"
    assert pop["contact"]["attributes"] == {"plan": "Fibre 500"}
    assert {i["value"] for i in pop["contact"]["identities"]} == {NUMBER, "jane@example.com"}
    assert pop["recognised_by"] == {"kind": "email", "value": "jane@example.com"}
    assert [h["id"] for h in pop["history"]] == [first["id"]]
    assert pop["history"][0]["disposition"] == "solved"
    assert pop["history"][0]["notes"] == "Reset the router"
    assert pop["history"][0]["medium"] == "chat"
    assert [c["id"] for c in pop["open_cases"]] == [case["id"]]
    assert pop["external"]["status"] == "disabled"
    await ws.close()


@pytest.mark.parametrize(
    "caller_id",
    [
        "+44 20 7946 0018",
        "020 7946 0018",
        "(020) 7946-0018",
        "0044 20 7946 0018",
        "tel:+442079460018",
    ],
)
async def test_caller_id_in_any_format_is_recognised(
    start_centre: StartCentre, caller_id: str
) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(centre)
    created = await centre.submit(data={"caller_id": caller_id})
    assert created["customer_id"] == contact["id"]


async def test_the_interaction_carries_the_customer_class_and_language(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(centre, **{"class": "vip", "language": "fr"})
    created = await centre.submit(data={"caller_id": NUMBER})
    events = await centre.call("GET", f"/api/v1/interactions/{created['id']}/events", "sue")
    first = events["events"][0]
    assert first["type"] == "interaction_created"
    assert first["customer_id"] == contact["id"]
    assert first["customer"]["class"] == "vip"
    assert first["customer"]["language"] == "fr"
    assert first["customer"]["known"] is True


async def test_unknown_caller_gets_a_provisional_contact_and_merging_keeps_history(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(extra=GB)
    await centre.agent_ready("ann")
    call = await centre.submit(data={"caller_id": "01632 960 001", "customer_name": "J. Doe"})
    provisional = await centre.call("GET", f"/api/v1/crm/contacts/{call['customer_id']}", "ann")
    assert provisional["provisional"] is True
    assert provisional["name"] == "J. Doe"
    assert provisional["identities"] == [{"kind": "phone", "value": "+441632960001"}]
    await _handle(centre, "ann", call["id"], disposition="solved", notes="First call")

    real = await _contact(centre, identities=[{"kind": "email", "value": "jd@example.com"}])
    merged = await centre.call(
        "POST",
        f"/api/v1/crm/contacts/{real['id']}/merge",
        "sue",
        json={"from": [provisional["id"]]},
    )
    assert {i["value"] for i in merged["identities"]} == {"+441632960001", "jd@example.com"}
    assert merged["provisional"] is False
    gone = await centre.call("GET", f"/api/v1/crm/contacts/{provisional['id']}", "ann")
    assert gone["merged_into"] == real["id"]

    timeline = await centre.call("GET", f"/api/v1/crm/contacts/{real['id']}/timeline", "ann")
    calls = [item for item in timeline["items"] if item["type"] == "interaction"]
    assert [c["id"] for c in calls] == [call["id"]]
    assert calls[0]["notes"] == "First call"

    ws = await centre.ws("/api/v1/agent/ws", "ann")
    await centre.next_message(ws, lambda m: m["type"] == "hello")
    again = await centre.submit(data={"caller_id": "+44 1632 960001"})
    assert again["customer_id"] == real["id"]
    offer = await centre.next_message(ws, centre.event_of("interaction_offered", again["id"]))
    assert [h["id"] for h in offer["screen_pop"]["history"]] == [call["id"]]
    await ws.close()


async def test_a_vip_waiting_outranks_standard_customers_who_came_first(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(extra=GB)
    await _contact(centre, **{"class": "vip"})
    # Voice: one call at a time, so the first offer shows who ranks first.
    standard = await centre.submit(medium="voice", data={"caller_id": "01632 960 111"})
    vip = await centre.submit(medium="voice", data={"caller_id": NUMBER})
    assert vip["priority"] == 50 and standard["priority"] == 0
    await centre.agent_ready("ann")
    ann = await centre.agent_state("ann")
    assert ann["offers"] == [vip["id"]]


async def test_rules_route_by_customer_class(start_centre: StartCentre) -> None:
    rules = "rules:\n  - {name: vip-desk, when: {customer.class: vip}, then: {queue: sales}}\n"
    centre = await start_centre(extra=GB + rules)
    await _contact(centre, **{"class": "vip"})
    vip = await centre.submit(data={"caller_id": NUMBER})
    other = await centre.submit(data={"caller_id": "01632 960 222"})
    assert vip["queue"] == "sales" and vip["rules"] == ["vip-desk"]
    assert other["queue"] == "support"


@pytest.mark.parametrize("preferred", ["[last_agent]", "[]"])
async def test_the_customers_last_agent_gets_a_head_start(
    start_centre: StartCentre, preferred: str
) -> None:
    centre = await start_centre(
        extra=f"crm: {{default_region: GB, preferred_agents: {preferred}}}\n"
    )
    await _contact(centre)
    await centre.agent_ready("bob")
    earlier = await centre.submit(data={"caller_id": NUMBER})
    await _handle(centre, "bob", earlier["id"], disposition="solved")
    # Ann has now waited longest; only the preference sends the customer back to Bob.
    await centre.call(
        "PUT", "/api/v1/agents/bob/state", "bob", json={"state": "not_ready", "reason": "break"}
    )
    await centre.agent_ready("ann")
    await centre.call("PUT", "/api/v1/agents/bob/state", "bob", json={"state": "ready"})
    again = await centre.submit(data={"caller_id": NUMBER})
    expected = "bob" if preferred == "[last_agent]" else "ann"
    assert again["agent_id"] == expected


async def test_the_account_owner_is_preferred_when_ready(start_centre: StartCentre) -> None:
    centre = await start_centre(extra="crm: {default_region: GB, preferred_agents: [owner]}\n")
    await _contact(centre, owner="bob")
    await centre.agent_ready("ann")
    await centre.agent_ready("bob")
    created = await centre.submit(data={"caller_id": NUMBER})
    assert created["agent_id"] == "bob"
    assert created["preferred_agent"] == "bob"


async def test_a_record_changed_while_waiting_reaches_the_offer(start_centre: StartCentre) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(centre)
    waiting = await centre.submit(data={"caller_id": NUMBER})
    await centre.call(
        "PATCH",
        f"/api/v1/crm/contacts/{contact['id']}",
        "sue",
        json={"name": "Jane Smith", "class": "vip"},
    )
    await centre.call(
        "POST",
        "/api/v1/crm/cases",
        "sue",
        json={"contact_id": contact["id"], "subject": "Billing dispute"},
        expect=201,
    )
    ws = await centre.ws("/api/v1/agent/ws", "ann")
    await centre.next_message(ws, lambda m: m["type"] == "hello")
    await centre.agent_ready("ann")
    offer = await centre.next_message(ws, centre.event_of("interaction_offered", waiting["id"]))
    assert offer["screen_pop"]["contact"]["name"] == "Jane Smith"
    assert offer["screen_pop"]["contact"]["class"] == "vip"
    assert [c["subject"] for c in offer["screen_pop"]["open_cases"]] == ["Billing dispute"]
    await ws.close()


async def test_a_reconnecting_desktop_gets_its_offer_with_the_screen_pop(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(centre)
    await centre.agent_ready("ann")
    offered = await centre.submit(data={"caller_id": NUMBER})
    ws = await centre.ws("/api/v1/agent/ws", "ann")
    hello = await centre.next_message(ws, lambda m: m["type"] == "hello")
    assert [o["id"] for o in hello["offers"]] == [offered["id"]]
    assert hello["offers"][0]["screen_pop"]["contact"]["id"] == contact["id"]
    pop = await centre.call("GET", f"/api/v1/interactions/{offered['id']}/screen-pop", "ann")
    assert pop["screen_pop"]["contact"]["id"] == contact["id"]
    await centre.call("GET", f"/api/v1/interactions/{offered['id']}/screen-pop", "bob", expect=404)
    await ws.close()


async def test_wrap_up_opens_a_case_or_links_one(start_centre: StartCentre) -> None:
    centre = await start_centre(extra=GB)
    contact = await _contact(centre)
    other = await _contact(
        centre, name="Someone Else", identities=[{"kind": "phone", "value": "+441632960999"}]
    )
    foreign = await centre.call(
        "POST",
        "/api/v1/crm/cases",
        "ann",
        json={"contact_id": other["id"], "subject": "Not Jane's"},
        expect=201,
    )
    await centre.agent_ready("ann")
    first = await centre.submit(data={"caller_id": NUMBER})
    opened = await _handle(
        centre,
        "ann",
        first["id"],
        disposition="follow_up",
        new_case={"subject": "Refund owed", "priority": "high"},
    )
    case = opened["case"]
    assert case["contact_id"] == contact["id"]
    assert case["interactions"] == [first["id"]]
    assert case["priority"] == "high" and case["owner"] == "ann"

    second = await centre.submit(data={"caller_id": NUMBER})
    base = f"/api/v1/interactions/{second['id']}"
    await centre.call("POST", base + "/accept", "ann", json={})
    await centre.call("POST", base + "/complete", "ann", json={})
    await centre.call("POST", base + "/wrap-up", "ann", json={"case_id": foreign["id"]}, expect=400)
    still = await centre.call("GET", base, "ann")
    assert still["state"] == "wrap_up"  # refused before anything was done
    linked = await centre.call("POST", base + "/wrap-up", "ann", json={"case_id": case["id"]})
    assert linked["case"]["interactions"] == [first["id"], second["id"]]
    assert linked["state"] == "completed"


# -- the external CRM ----------------------------------------------------------------


@pytest.fixture
async def external_crm() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A real HTTP server playing the other CRM; ``behaviour['mode']`` picks its answer."""
    behaviour: dict[str, Any] = {"mode": "ok", "seen": []}

    async def customer(request: web.Request) -> web.Response:
        behaviour["seen"].append(request.query.get("phone"))
        if behaviour["mode"] == "slow":
            await asyncio.sleep(1.5)
        if behaviour["mode"] == "fail":
            return web.Response(status=500, text="database on fire")
        return web.json_response({"id": "X-42", "tier": "platinum", "balance": {"due": 12.5}})

    app = web.Application()
    app.router.add_get("/customers", customer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", behaviour
    finally:
        await runner.cleanup()


def _external_config(base: str) -> str:
    return (
        "crm:\n"
        "  default_region: GB\n"
        "  external:\n"
        f"    url: '{base}/customers?phone={{phone}}'\n"
        "    fields: {external_id: id, tier: tier, amount_due: balance.due}\n"
        "    timeout_s: 0.3\n"
        "    cache_ttl_s: 0\n"
        f"    screen_pop_url: '{base}/ui/customers/{{external.external_id}}'\n"
    )


@pytest.mark.parametrize(("mode", "status"), [("ok", "ok"), ("slow", "timeout"), ("fail", "error")])
async def test_the_external_crm_joins_the_screen_pop_or_is_reported_missing(
    start_centre: StartCentre,
    external_crm: tuple[str, dict[str, Any]],
    mode: str,
    status: str,
) -> None:
    base, behaviour = external_crm
    behaviour["mode"] = mode
    centre = await start_centre(extra=_external_config(base))
    contact = await _contact(centre)
    ws = await centre.ws("/api/v1/agent/ws", "ann")
    await centre.next_message(ws, lambda m: m["type"] == "hello")
    await centre.agent_ready("ann")
    created = await centre.submit(data={"caller_id": "020 7946 0018"})
    offer = await centre.next_message(ws, centre.event_of("interaction_offered", created["id"]))
    pop = offer["screen_pop"]
    assert behaviour["seen"] == [NUMBER]  # the "+" arrived intact
    assert pop["contact"]["id"] == contact["id"]  # the local part is always there
    assert pop["external"]["status"] == status
    if status == "ok":
        assert pop["external"]["record"] == {
            "external_id": "X-42",
            "tier": "platinum",
            "amount_due": 12.5,
        }
        assert pop["external"]["url"] == f"{base}/ui/customers/X-42"
    else:
        assert pop["external"]["record"] == {}
        assert pop["external"]["message"]
    await ws.close()


# -- roles and bulk transfers --------------------------------------------------------


async def test_only_admins_import_and_export_the_crm(start_centre: StartCentre) -> None:
    centre = await start_centre(extra=GB)
    await _contact(centre)
    for user in ("ann", "sue"):
        headers = await centre.login(user)
        export = await centre.client.get("/api/v1/crm/export", headers=headers)
        assert export.status == 403
        imported = await centre.client.post(
            "/api/v1/crm/import", headers=headers, data=b"name\nX\n"
        )
        assert imported.status == 403
    await centre.call(
        "POST", "/api/v1/crm/contacts/x/merge", "ann", json={"from": ["y"]}, expect=403
    )
    headers = await centre.login("ada")
    export = await centre.client.get("/api/v1/crm/export", headers=headers)
    assert export.status == 200
    text = await export.text()
    assert "Jane Doe" in text and "'+442079460018" in text


async def test_csv_import_reports_bad_rows_by_line_and_keeps_good_ones(
    start_centre: StartCentre,
) -> None:
    centre = await start_centre(extra=GB)
    csv_text = (
        "name,class,phone,email\n"
        "Ann Archer,vip,020 7946 0001,ann@example.com\n"
        "Bad Phone,standard,not-a-number,bad@example.com\n"
        '"Multi\nLine",gold,020 7946 0003,\n'
        "Bad Mail,standard,,nobody-at-example\n"
        "Carl Cole,standard,020 7946 0005,carl@example.com\n"
    )
    headers = await centre.login("ada")
    resp = await centre.client.post(
        "/api/v1/crm/import",
        headers={**headers, "Content-Type": "text/csv"},
        data=csv_text.encode(),
    )
    assert resp.status == 200
    lines = [line for line in (await resp.text()).splitlines() if line]
    done = json.loads(lines[-1])
    assert done["type"] == "done"
    assert done["created"] == 3 and done["failed"] == 2
    assert [e["line"] for e in done["errors"]] == [3, 6]
    found = await centre.call("GET", "/api/v1/crm/contacts?q=020 7946 0005", "ann")
    assert [c["name"] for c in found["contacts"]] == ["Carl Cole"]
    by_name = await centre.call("GET", "/api/v1/crm/contacts?q=arch", "ann")
    assert [c["name"] for c in by_name["contacts"]] == ["Ann Archer"]
