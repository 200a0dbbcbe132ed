"""The supervisor wallboard in a real browser against a real server.

Figures are checked as a supervisor sees them (tiles by their queue's region, agents by
their row in the agent grid); changes made from the wallboard are checked through the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from e2e_support import ConsoleWatch, Server, log_in, screenshot
from playwright.sync_api import Locator, Page, expect

from trunkline.reporting.live import delta

# Long enough for a loaded CI machine; the wallboard sends at most one delta a second.
LIVE_MS = 5000

NewPage = Callable[..., Page]


# -- helpers ------------------------------------------------------------------------------


def open_wallboard(new_page: NewPage, server: Server, query: str = "") -> Page:
    page = new_page()
    log_in(page, server, "/wallboard" + query, "sue")
    expect(connection(page)).to_have_text("Live", timeout=LIVE_MS)
    return page


def connection(page: Page) -> Locator:
    return page.get_by_role("status", name="Connection")


def tile(page: Page, queue_name: str) -> Locator:
    return page.get_by_role("region", name=queue_name, exact=True)


def figure(page: Page, queue_name: str, name: str) -> Locator:
    """A tile's figure: waiting, longest, sl, answered, abandoned, expected, needed."""
    return tile(page, queue_name).get_by_test_id(name)


def agent_row(page: Page, agent_name: str) -> Locator:
    grid = page.get_by_role("table", name="Agents, their state and work")
    return grid.get_by_role("row").filter(has_text=agent_name)


def agent_state(page: Page, agent_name: str) -> Locator:
    return agent_row(page, agent_name).get_by_role("cell").nth(2)


def interaction_row(page: Page, text: str) -> Locator:
    table = page.get_by_role("table", name="Interactions waiting and in progress")
    return table.get_by_role("row").filter(has_text=text)


def log_in_agent(server: Server, agent: str, *, ready: bool) -> None:
    server.api("POST", f"/api/v1/agents/{agent}/login", {"ready": ready}, user=agent)


def has_route(server: Server, path: str) -> bool:
    spec = server.api("GET", "/api/v1/openapi.json")
    return path in spec.get("paths", {})


# -- tests --------------------------------------------------------------------------------


def test_wallboard_follows_an_interaction_step_by_step(new_page: NewPage, server: Server) -> None:
    log_in_agent(server, "ann", ready=True)
    page = open_wallboard(new_page, server)
    expect(agent_state(page, "Ann Archer")).to_have_text("Ready", timeout=LIVE_MS)
    expect(figure(page, "Support", "waiting")).to_have_text("0")

    iid = server.submit(queue="support", medium="chat", data={"name": "Zoe Quinn"})
    expect(figure(page, "Support", "waiting")).to_have_text("1", timeout=LIVE_MS)
    expect(agent_state(page, "Ann Archer")).to_have_text("Offered", timeout=LIVE_MS)
    expect(interaction_row(page, "Zoe Quinn")).to_contain_text("Offered")
    expect(interaction_row(page, "Zoe Quinn")).to_contain_text("Ann Archer")
    screenshot(page, "wallboard-offered")

    server.api("POST", f"/api/v1/interactions/{iid}/accept", {}, user="ann")
    expect(figure(page, "Support", "answered")).to_have_text("1", timeout=LIVE_MS)
    expect(figure(page, "Support", "waiting")).to_have_text("0", timeout=LIVE_MS)
    expect(agent_state(page, "Ann Archer")).to_have_text("Busy", timeout=LIVE_MS)
    expect(agent_row(page, "Ann Archer")).to_contain_text("Chat · Support · in progress")
    expect(interaction_row(page, "Zoe Quinn")).to_contain_text("In progress")
    screenshot(page, "wallboard-busy")

    server.api("POST", f"/api/v1/interactions/{iid}/complete", {}, user="ann")
    expect(agent_state(page, "Ann Archer")).to_have_text("Wrap-up", timeout=LIVE_MS)
    expect(interaction_row(page, "Zoe Quinn")).to_contain_text("Wrap-up", timeout=LIVE_MS)

    server.api("POST", f"/api/v1/interactions/{iid}/wrap-up", {"disposition": "solved"}, user="ann")
    expect(agent_state(page, "Ann Archer")).to_have_text("Ready", timeout=LIVE_MS)
    expect(interaction_row(page, "Zoe Quinn")).to_have_count(0, timeout=LIVE_MS)
    expect(page.get_by_text("Nothing waiting or in progress.")).to_be_visible()
    # Time in state ticks between updates, from the server's clock.
    in_state = agent_row(page, "Ann Archer").get_by_role("cell").nth(3)
    expect(in_state).to_have_text(re.compile(r"^0:\d\d$"))
    expect(in_state).not_to_have_text(in_state.text_content() or "", timeout=LIVE_MS)
    screenshot(page, "wallboard-after-wrap-up")


def test_times_follow_the_servers_clock_not_the_browsers(new_page: NewPage, server: Server) -> None:
    # A laptop whose clock is two hours fast still shows true times in state and waits.
    page = new_page()
    page.clock.install(time=datetime.now(UTC) + timedelta(hours=2))
    log_in(page, server, "/wallboard", "sue")
    expect(connection(page)).to_have_text("Live", timeout=LIVE_MS)
    log_in_agent(server, "ann", ready=False)
    server.submit(queue="sales", medium="voice")
    in_state = agent_row(page, "Ann Archer").get_by_role("cell").nth(3)
    expect(agent_state(page, "Ann Archer")).to_have_text("Not ready login", timeout=LIVE_MS)
    expect(in_state).to_have_text(re.compile(r"^0:0\d$"))
    expect(figure(page, "Sales", "longest")).to_have_text(re.compile(r"^0:0\d$"))


def test_tile_turns_amber_then_red_with_a_text_cue(new_page: NewPage, server: Server) -> None:
    # Support's thresholds: waiting amber at 2, red at 5 (tests/e2e/e2e_support.py).
    page = open_wallboard(new_page, server)
    level = tile(page, "Support").locator(".tile-level")
    waiting = tile(page, "Support").locator(".fig-waiting")
    expect(level).to_have_text("✓ OK")
    expect(waiting).to_have_class(re.compile(r"\blevel-ok\b"))
    for _ in range(2):
        server.submit(queue="support", medium="chat")
    expect(figure(page, "Support", "waiting")).to_have_text("2", timeout=LIVE_MS)
    expect(waiting).to_have_class(re.compile(r"\blevel-warn\b"))
    # Colour is never alone: the tile says in words what is wrong.
    expect(level).to_contain_text(re.compile(r"(Warning|Alarm): waiting"))
    for _ in range(3):
        server.submit(queue="support", medium="chat")
    expect(figure(page, "Support", "waiting")).to_have_text("5", timeout=LIVE_MS)
    expect(waiting).to_have_class(re.compile(r"\blevel-alarm\b"))
    expect(level).to_contain_text("✖ Alarm: waiting")
    expect(tile(page, "Support")).to_have_class(re.compile(r"\btile-level-alarm\b"))
    # The longest wait ticks while nobody answers (between the server's updates).
    longest = figure(page, "Support", "longest")
    expect(longest).to_have_text(re.compile(r"^\d+:\d\d$"))
    expect(longest).not_to_have_text(longest.text_content() or "", timeout=LIVE_MS)
    screenshot(page, "wallboard-alarm")


def test_dragging_an_agent_onto_a_queue_routes_that_queue_to_them(
    new_page: NewPage, server: Server
) -> None:
    log_in_agent(server, "ann", ready=False)
    log_in_agent(server, "bob", ready=True)
    page = open_wallboard(new_page, server)
    bob = agent_row(page, "Bob Baker")
    expect(bob).to_contain_text("Sales")

    bob.drag_to(tile(page, "Support"))
    expect(bob.get_by_role("button", name="Remove Bob Baker from Support")).to_be_visible(
        timeout=LIVE_MS
    )
    assert server.api("GET", "/api/v1/agents/bob")["queues"] == ["sales", "support"]

    iid = server.submit(queue="support", medium="chat", data={"name": "Yann Ortiz"})
    expect(agent_state(page, "Bob Baker")).to_have_text("Offered", timeout=LIVE_MS)
    offered = server.api("GET", "/api/v1/agents/bob", user="bob")
    assert iid in offered["offers"]
    assert server.api("GET", f"/api/v1/interactions/{iid}")["agent_id"] == "bob"
    screenshot(page, "wallboard-after-drag")

    # And out again with the chip's remove button.
    bob.get_by_role("button", name="Remove Bob Baker from Support").click()
    expect(bob.get_by_role("button", name="Remove Bob Baker from Support")).to_have_count(
        0, timeout=LIVE_MS
    )
    assert server.api("GET", "/api/v1/agents/bob")["queues"] == ["sales"]


def test_dragging_queue_chips_moves_and_removes_memberships(
    new_page: NewPage, server: Server
) -> None:
    page = open_wallboard(new_page, server)
    ann = agent_row(page, "Ann Archer")
    support_chip = ann.get_by_role("listitem").filter(has_text="Support")
    # A queue chip dropped on another queue's tile moves the agent there.
    support_chip.drag_to(tile(page, "Sales"))
    expect(ann.get_by_role("button", name="Remove Ann Archer from Sales")).to_be_visible(
        timeout=LIVE_MS
    )
    expect(ann.get_by_role("button", name="Remove Ann Archer from Support")).to_have_count(0)
    assert server.api("GET", "/api/v1/agents/ann")["queues"] == ["sales"]

    # Dragged out onto the bin that shows while dragging, it is removed.
    chip = ann.get_by_role("listitem").filter(has_text="Sales")
    chip.hover()
    page.mouse.down()
    box = tile(page, "Support").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 20, steps=5)
    bin_ = page.get_by_text("Drop here to remove from this queue")
    expect(bin_).to_be_visible()
    bin_box = bin_.bounding_box()
    assert bin_box is not None
    page.mouse.move(
        bin_box["x"] + bin_box["width"] / 2, bin_box["y"] + bin_box["height"] / 2, steps=5
    )
    page.mouse.up()
    expect(ann).to_contain_text("no queue", timeout=LIVE_MS)
    assert server.api("GET", "/api/v1/agents/ann")["queues"] == []
    expect(bin_).to_be_hidden()


def test_queue_membership_without_a_mouse(new_page: NewPage, server: Server) -> None:
    page = open_wallboard(new_page, server)
    page.get_by_role("button", name="Queues of Ann Archer").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Queues of Ann Archer")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Support")).to_be_checked()
    expect(dialog.get_by_label("Sales")).not_to_be_checked()
    dialog.get_by_label("Sales").check()
    dialog.get_by_label("Support").uncheck()
    dialog.get_by_role("button", name="Save queues").press("Enter")
    expect(dialog).to_have_count(0)
    ann = agent_row(page, "Ann Archer")
    expect(ann.get_by_role("button", name="Remove Ann Archer from Sales")).to_be_visible(
        timeout=LIVE_MS
    )
    expect(ann.get_by_role("button", name="Remove Ann Archer from Support")).to_have_count(0)
    assert server.api("GET", "/api/v1/agents/ann")["queues"] == ["sales"]


def test_skill_level_edited_in_place_takes_effect_on_routing(
    new_page: NewPage, server: Server
) -> None:
    log_in_agent(server, "ann", ready=True)
    page = open_wallboard(new_page, server)
    # Ann has english 3: an interaction needing english 5 waits although she is ready.
    iid = server.submit(queue="support", medium="chat", skills={"english": 5})
    expect(figure(page, "Support", "waiting")).to_have_text("1", timeout=LIVE_MS)
    expect(agent_state(page, "Ann Archer")).to_have_text("Ready")

    level = page.get_by_label("english level for Ann Archer")
    expect(level).to_have_value("3")
    level.select_option("5")
    expect(page.get_by_text("Ann Archer: english set to 5.")).to_be_visible(timeout=LIVE_MS)
    assert server.api("GET", "/api/v1/agents/ann")["skills"]["english"] == 5
    # Routing follows at once: the waiting interaction is offered to her now.
    expect(agent_state(page, "Ann Archer")).to_have_text("Offered", timeout=LIVE_MS)
    assert server.api("GET", f"/api/v1/interactions/{iid}")["agent_id"] == "ann"

    # Add a configured skill she lacks, and remove one.
    page.get_by_role("button", name="Add a skill to Ann Archer").click()
    dialog = page.get_by_role("dialog", name="Add a skill to Ann Archer")
    dialog.get_by_label("Skill").select_option("french")
    dialog.get_by_label("Level (1–5)").select_option("2")
    dialog.get_by_role("button", name="Add skill").click()
    expect(page.get_by_label("french level for Ann Archer")).to_have_value("2", timeout=LIVE_MS)
    page.get_by_role("button", name="Remove skill billing from Ann Archer").click()
    expect(page.get_by_label("billing level for Ann Archer")).to_have_count(0, timeout=LIVE_MS)
    assert server.api("GET", "/api/v1/agents/ann")["skills"] == {"english": 5, "french": 2}


def test_force_an_agents_state_and_logout(new_page: NewPage, server: Server) -> None:
    log_in_agent(server, "ann", ready=True)
    page = open_wallboard(new_page, server)
    expect(agent_state(page, "Ann Archer")).to_have_text("Ready", timeout=LIVE_MS)

    page.get_by_label("New state for Ann Archer").select_option(label="Not ready – Lunch")
    page.get_by_role("button", name="Apply state for Ann Archer").click()
    expect(agent_state(page, "Ann Archer")).to_have_text("Not ready Lunch", timeout=LIVE_MS)
    ann = server.api("GET", "/api/v1/agents/ann")
    assert (ann["state"], ann["reason"]) == ("not_ready", "lunch")

    page.get_by_label("New state for Ann Archer").select_option(label="Ready")
    page.get_by_role("button", name="Apply state for Ann Archer").click()
    expect(agent_state(page, "Ann Archer")).to_have_text("Ready", timeout=LIVE_MS)
    assert server.api("GET", "/api/v1/agents/ann")["state"] == "ready"

    page.get_by_label("New state for Ann Archer").select_option(label="Log out")
    page.get_by_role("button", name="Apply state for Ann Archer").click()
    dialog = page.get_by_role("dialog", name="Log Ann Archer out?")
    dialog.get_by_role("button", name="Log out").click()
    expect(agent_state(page, "Ann Archer")).to_have_text("Logged out", timeout=LIVE_MS)
    assert server.api("GET", "/api/v1/agents/ann")["state"] == "logged_out"


def test_move_a_waiting_interaction_to_another_queue(new_page: NewPage, server: Server) -> None:
    if not has_route(server, "/api/v1/interactions/{id}/move"):
        pytest.xfail("POST /api/v1/interactions/{id}/move is not in the API yet")
    page = open_wallboard(new_page, server)
    iid = server.submit(queue="support", medium="email", data={"name": "Xavier Pratt"})
    row = interaction_row(page, "Xavier Pratt")
    expect(row).to_contain_text("Support", timeout=LIVE_MS)
    expect(row).to_contain_text("Waiting")

    row.get_by_role("button", name=re.compile(r"^Move ")).click()
    dialog = page.get_by_role("dialog", name=re.compile("^Move Xavier Pratt"))
    dialog.get_by_label("To queue").select_option(label="Sales")
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(dialog).to_have_count(0, timeout=LIVE_MS)
    expect(row).to_contain_text("Sales", timeout=LIVE_MS)
    expect(figure(page, "Sales", "waiting")).to_have_text("1", timeout=LIVE_MS)
    expect(figure(page, "Support", "waiting")).to_have_text("0", timeout=LIVE_MS)
    assert server.api("GET", f"/api/v1/interactions/{iid}")["queue"] == "sales"
    screenshot(page, "wallboard-after-move")


def test_move_to_a_named_agent(new_page: NewPage, server: Server) -> None:
    if not has_route(server, "/api/v1/interactions/{id}/move"):
        pytest.xfail("POST /api/v1/interactions/{id}/move is not in the API yet")
    log_in_agent(server, "ann", ready=True)  # ready, but not in sales
    log_in_agent(server, "bob", ready=False)
    page = open_wallboard(new_page, server)
    iid = server.submit(queue="sales", medium="chat", data={"name": "Willa Stone"})
    row = interaction_row(page, "Willa Stone")
    expect(row).to_contain_text("Waiting", timeout=LIVE_MS)
    row.get_by_role("button", name=re.compile(r"^Move ")).click()
    dialog = page.get_by_role("dialog", name=re.compile("^Move Willa Stone"))
    # Only agents who can take it now are offered as choices.
    expect(dialog.get_by_label("To agent").locator("option")).to_have_text(
        ["Any agent of the queue", "Ann Archer (ready)"]
    )
    dialog.get_by_label("To agent").select_option(label="Ann Archer (ready)")
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(row).to_contain_text("Offered", timeout=LIVE_MS)
    expect(row).to_contain_text("Ann Archer")
    expect(agent_state(page, "Ann Archer")).to_have_text("Offered", timeout=LIVE_MS)
    assert server.api("GET", f"/api/v1/interactions/{iid}")["agent_id"] == "ann"


def test_broadcast_to_a_queue_and_to_everyone(new_page: NewPage, server: Server) -> None:
    if not has_route(server, "/api/v1/broadcasts"):
        pytest.xfail("POST /api/v1/broadcasts is not in the API yet")
    log_in_agent(server, "ann", ready=True)
    log_in_agent(server, "bob", ready=False)
    page = open_wallboard(new_page, server)
    form = page.get_by_role("region", name="Broadcast to agents")

    form.get_by_label("Message").fill("Support: system maintenance at 17:00")
    form.get_by_label("To").select_option(label="Support agents")
    form.get_by_role("button", name="Send broadcast").click()
    sent = form.get_by_role("list", name="Sent while this page is open")
    expect(sent.get_by_role("listitem").first).to_contain_text(
        "Support agents · 1 received: Support: system maintenance at 17:00", timeout=LIVE_MS
    )
    expect(form.get_by_label("Message")).to_have_value("")

    form.get_by_label("Message").fill("Team meeting in 10 minutes")
    form.get_by_label("To").select_option(label="All agents")
    form.get_by_role("button", name="Send broadcast").click()
    expect(sent.get_by_role("listitem").first).to_contain_text(
        "All agents · 2 received: Team meeting in 10 minutes", timeout=LIVE_MS
    )
    screenshot(page, "wallboard-broadcast")


def test_big_screen_mode_has_only_tiles(new_page: NewPage, server: Server) -> None:
    server.submit(queue="sales", medium="voice")
    page = open_wallboard(new_page, server, "?mode=big")
    expect(tile(page, "Support")).to_be_visible()
    expect(tile(page, "Sales")).to_be_visible()
    expect(figure(page, "Sales", "waiting")).to_have_text("1")
    # No controls but the way out.
    expect(page.get_by_role("button")).to_have_count(1)
    expect(page.get_by_role("button")).to_have_text("Exit big screen")
    for role in ("link", "combobox", "textbox", "checkbox", "table"):
        expect(page.get_by_role(role)).to_have_count(0)
    expect(page.get_by_role("region", name="Agents", exact=True)).to_be_hidden()
    # Large type: the figures fill the screen.
    size = figure(page, "Support", "waiting").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"
    )
    assert size >= 40, size
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    screenshot(page, "wallboard-big-screen")

    page.get_by_role("button", name="Exit big screen").click()
    expect(page.get_by_role("region", name="Agents", exact=True)).to_be_visible()
    assert "mode=big" not in page.url
    page.get_by_role("button", name="Big screen").click()
    expect(page.get_by_role("button", name="Exit big screen")).to_be_visible()
    assert "mode=big" in page.url


def test_dropped_connection_is_marked_stale_and_recovers(
    new_page: NewPage, server: Server, console: ConsoleWatch
) -> None:
    # Reconnect attempts while offline fail, and Chromium logs each one as an error.
    console.allowed += ["WebSocket connection to", "ERR_INTERNET_DISCONNECTED"]
    page = open_wallboard(new_page, server)
    banner = page.get_by_role("alert").filter(has_text="Not live")
    expect(banner).to_be_hidden()
    expect(tile(page, "Sales").get_by_text("not live")).to_be_hidden()

    page.context.set_offline(True)
    expect(banner).to_be_visible(timeout=LIVE_MS)
    expect(connection(page)).to_contain_text("not live")
    expect(tile(page, "Sales").get_by_text("not live")).to_be_visible()
    # Something happens meanwhile: the stale board cannot know.
    server.submit(queue="sales", medium="voice")
    expect(figure(page, "Sales", "waiting")).to_have_text("0")
    screenshot(page, "wallboard-stale")

    page.context.set_offline(False)
    expect(connection(page)).to_have_text("Live", timeout=15000)
    expect(banner).to_be_hidden()
    expect(figure(page, "Sales", "waiting")).to_have_text("1", timeout=LIVE_MS)
    expect(tile(page, "Sales").get_by_text("not live")).to_be_hidden()


def test_filters_and_no_console_errors_at_laptop_size(new_page: NewPage, server: Server) -> None:
    log_in_agent(server, "ann", ready=True)
    page = open_wallboard(new_page, server)
    expect(agent_row(page, "Ann Archer")).to_have_count(1)
    expect(agent_row(page, "Bob Baker")).to_have_count(1)
    page.get_by_label("Team").select_option(label="Sales")
    expect(agent_row(page, "Ann Archer")).to_have_count(0)
    expect(agent_row(page, "Bob Baker")).to_have_count(1)
    page.get_by_label("Team").select_option(label="All teams")
    agents = page.get_by_role("region", name="Agents", exact=True)
    agents.get_by_label("Queue", exact=True).select_option(label="Support")
    expect(agent_row(page, "Ann Archer")).to_have_count(1)
    expect(agent_row(page, "Bob Baker")).to_have_count(0)
    # The chart is drawn (Chart.js under the page's CSP) and has a text alternative.
    chart = page.get_by_role("img", name=re.compile("^Today by 15 minutes"))
    expect(chart).to_have_attribute("aria-label", re.compile("offered|no intervals"))
    assert page.evaluate("typeof globalThis.Chart") == "function"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    screenshot(page, "wallboard-laptop")


def _without_nulls(value: Any) -> Any:
    # delta() sends a key that disappeared as null: absent and null read the same.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def test_deltas_applied_in_the_browser_match_the_servers_snapshots(
    new_page: NewPage, server: Server
) -> None:
    """applyDelta (wallboard/delta.js) inverts trunkline.reporting.live.delta."""
    page = open_wallboard(new_page, server)
    snapshots = [server.api("GET", "/api/v1/wallboard")]
    log_in_agent(server, "ann", ready=True)
    iid = server.submit(queue="support", medium="chat")
    snapshots.append(server.api("GET", "/api/v1/wallboard"))
    server.api("POST", f"/api/v1/interactions/{iid}/accept", {}, user="ann")
    server.api("PATCH", "/api/v1/agents/bob/profile", {"queues": ["sales", "support"]})
    snapshots.append(server.api("GET", "/api/v1/wallboard"))
    base = snapshots[-1]
    crafted = [
        # an agent gone, a queue added, a nested key gone, a list replaced
        {
            **base,
            "agents": base["agents"][:1],
            "queues": [*base["queues"], {**base["queues"][0], "id": "extra", "name": "Extra"}],
            "centre": {k: v for k, v in base["centre"].items() if k != "agents_today"},
        },
        {**base, "agents": [], "media": base["media"][::-1], "generated_at": 1.0},
    ]
    pairs = list(zip(snapshots, snapshots[1:], strict=False)) + [(base, c) for c in crafted]
    pairs += [(c, base) for c in crafted]
    for previous, current in pairs:
        change = delta(previous, current)
        applied = page.evaluate(
            """async ([previous, change]) => {
                const { applyDelta } = await import("/static/wallboard/delta.js");
                return applyDelta(previous, change);
            }""",
            [previous, change],
        )
        got = _without_nulls(applied)
        want = _without_nulls(current)
        for key in ("queues", "agents", "media"):
            # New ids come after known ones; the order of a keyed list is not part of it.
            got[key] = sorted(got[key], key=lambda item: str(item["id"]))
            want[key] = sorted(want[key], key=lambda item: str(item["id"]))
        assert got == want
