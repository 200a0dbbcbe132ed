"""The agent desktop in a real browser against a real server: offers with screen-pop,
accept, wrap-up, reject, withdrawal, reconnection, shortcuts, broadcasts, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from e2e_support import ConsoleWatch, Server, log_in, screenshot
from playwright.sync_api import Dialog, Locator, Page, expect

PHONE = "+441632960001"


def open_desktop(new_page: Callable[..., Page], server: Server, user: str = "ann") -> Page:
    """Log in on /desktop and wait until the agent socket is connected."""
    page = new_page()
    log_in(page, server, "/desktop", user)
    expect(connection(page)).to_have_text("Connected")
    return page


def connection(page: Page) -> Locator:
    return page.get_by_role("status", name="Connection")


def agent_state(page: Page) -> Locator:
    return page.get_by_role("status", name="Your state")


def go_ready(page: Page) -> None:
    page.get_by_role("button", name="Ready", exact=True).click()
    expect(agent_state(page)).to_have_text("Ready")


def offer_card(page: Page, name: str | re.Pattern[str]) -> Locator:
    return page.get_by_role("article", name=name)


def new_contact(server: Server, **fields: Any) -> dict[str, Any]:
    contact: dict[str, Any] = server.api("POST", "/api/v1/crm/contacts", fields)
    return contact


def test_offer_with_screen_pop_accept_end_and_wrap_up(
    server: Server, new_page: Callable[..., Page]
) -> None:
    contact = new_contact(
        server,
        name="Vera Vip",
        **{"class": "vip"},
        owner="ann",
        identities=[{"kind": "phone", "value": PHONE}],
    )
    case = server.api(
        "POST", "/api/v1/crm/cases", {"contact_id": contact["id"], "subject": "Router reboots"}
    )
    page = new_page()
    page.goto(server.base_url + "/desktop")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    screenshot(page, "desktop-login")
    page.get_by_label("User name").fill("ann")
    page.get_by_label("Password").fill("ann-secret")
    page.get_by_role("button", name="Log in").click()
    expect(connection(page)).to_have_text("Connected")
    # Logged in to routing by the desktop itself, not ready until the agent says so.
    expect(agent_state(page)).to_have_text("Not ready (Just logged in)")
    assert server.api("GET", "/api/v1/agents/ann")["presence"] == "not_ready"
    go_ready(page)

    interaction_id = server.submit(medium="voice", data={"caller_id": PHONE})
    offer = offer_card(page, re.compile("Vera Vip"))
    expect(offer).to_be_visible()
    expect(offer.get_by_text("VIP", exact=True)).to_be_visible()
    expect(offer.get_by_text("Router reboots")).to_be_visible()
    expect(offer.get_by_text(f"Phone {PHONE}").first).to_be_visible()
    expect(offer.get_by_text(re.compile(r"rings \d+:\d\d more"))).to_be_visible()
    expect(agent_state(page)).to_have_text("Offer ringing · then Ready")
    screenshot(page, "desktop-offer")

    offer.get_by_role("button", name="Accept").click()
    expect(offer).to_have_count(0)
    tab = page.get_by_role("tab", name=re.compile("Vera Vip"))
    expect(tab).to_have_attribute("aria-selected", "true")
    panel = page.get_by_role("tabpanel")
    expect(agent_state(page)).to_have_text("Busy · then Ready")
    # No SIP call is attached to this test interaction: the call controls say so.
    expect(panel.get_by_role("button", name="Hold")).to_have_attribute("aria-disabled", "true")
    expect(panel.get_by_text("need the voice channel")).to_be_visible()
    expect(panel.get_by_text(PHONE).first).to_be_visible()
    timeline = panel.get_by_role("region", name="Customer timeline")
    expect(timeline.get_by_text(re.compile("Case #\\d+ Router reboots"))).to_be_visible()
    screenshot(page, "desktop-active")

    panel.get_by_role("button", name="End", exact=True).click()
    form = panel.get_by_role("form", name="Wrap-up")
    expect(form).to_be_visible()
    expect(agent_state(page)).to_have_text("Wrap-up · then Ready")
    form.get_by_label("Disposition").select_option(label="Solved")
    form.get_by_label("Notes").fill("Replaced the power supply.")
    form.get_by_label("Link to an open case").check()
    form.get_by_label("Case to link").select_option(str(case["id"]))
    screenshot(page, "desktop-wrap-up")
    form.get_by_role("button", name="Finish wrap-up").click()

    expect(tab).to_have_count(0)
    expect(
        page.get_by_text(f"Wrap-up saved · Solved · linked to case #{case['id']}")
    ).to_be_visible()
    expect(page.get_by_text("No interaction in hand.")).to_be_visible()
    expect(agent_state(page)).to_have_text("Ready")
    record = server.api("GET", f"/api/v1/interactions/{interaction_id}")
    assert record["state"] == "completed"
    assert record["disposition"] == "solved"
    assert record["notes"] == "Replaced the power supply."
    linked = server.api("GET", f"/api/v1/crm/cases/{case['id']}")
    assert interaction_id in linked["interactions"]
    assert server.api("GET", "/api/v1/agents/ann")["state"] == "ready"


def test_reject_puts_the_offer_back_and_keeps_the_agent_ready(
    server: Server, new_page: Callable[..., Page]
) -> None:
    page = open_desktop(new_page, server)
    go_ready(page)
    interaction_id = server.submit(medium="chat", data={"visitor": "web-123"})
    offer = offer_card(page, re.compile("Chat"))
    expect(offer).to_be_visible()
    offer.get_by_role("button", name="Reject").click()
    expect(offer).to_have_count(0)
    # A reject is the agent's choice: no "missed" penalty, and the interaction waits for
    # someone else (never offered to the same agent again).
    expect(agent_state(page)).to_have_text("Ready")
    expect(page.get_by_text(re.compile("^No offers"))).to_be_visible()
    assert server.api("GET", f"/api/v1/interactions/{interaction_id}")["state"] == "queued"
    assert server.api("GET", "/api/v1/agents/ann")["state"] == "ready"


def test_an_offer_withdrawn_elsewhere_disappears(
    server: Server, new_page: Callable[..., Page]
) -> None:
    page = open_desktop(new_page, server)
    go_ready(page)
    interaction_id = server.submit(medium="email", data={"subject": "Invoice query"})
    offer = offer_card(page, re.compile("E-mail"))
    expect(offer.get_by_text("Invoice query")).to_be_visible()
    server.api("POST", f"/api/v1/interactions/{interaction_id}/cancel", {})
    expect(offer).to_have_count(0)
    expect(page.get_by_text("The customer left before you answered")).to_be_visible()
    expect(agent_state(page)).to_have_text("Ready")

    # The end of the shift: logging out of the desktop logs out of routing too.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert server.api("GET", "/api/v1/agents/ann")["presence"] == "logged_out"


def test_a_dropped_connection_recovers_with_the_true_state(
    server: Server, new_page: Callable[..., Page], console: ConsoleWatch
) -> None:
    # Reconnection attempts while the network is down fail in the console, by design.
    console.allowed.append("WebSocket connection to")
    console.allowed.append("ERR_INTERNET_DISCONNECTED")
    page = open_desktop(new_page, server)
    go_ready(page)
    page.context.set_offline(True)
    expect(connection(page)).not_to_have_text("Connected")
    lost = page.get_by_role("alert").filter(has_text="Connection to the server lost")
    expect(lost).to_be_visible()
    screenshot(page, "desktop-disconnected")
    # Made while the desktop is away: it must show up once the connection is back.
    server.submit(medium="chat", data={"visitor": "while-offline"})
    page.context.set_offline(False)
    expect(connection(page)).to_have_text("Connected")
    expect(lost).to_be_hidden()
    offer = offer_card(page, re.compile("Chat"))
    expect(offer.get_by_text("while-offline")).to_be_visible()
    expect(agent_state(page)).to_have_text("Offer ringing · then Ready")


def test_keyboard_shortcuts(server: Server, new_page: Callable[..., Page]) -> None:
    page = open_desktop(new_page, server)
    page.keyboard.press("Alt+KeyR")
    expect(agent_state(page)).to_have_text("Ready")
    assert server.api("GET", "/api/v1/agents/ann")["presence"] == "ready"

    page.keyboard.press("Alt+KeyN")
    menu = page.get_by_role("menu", name="Not-ready reasons")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitemradio", name="Break")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(agent_state(page)).to_have_text("Not ready (Lunch)")
    agent = server.api("GET", "/api/v1/agents/ann")
    assert (agent["presence"], agent["presence_reason"]) == ("not_ready", "lunch")

    page.keyboard.press("Shift+Slash")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.get_by_text("Accept the offer that has rung longest")).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    # Accept and end with the keyboard; Alt combos work even inside the notes field.
    page.keyboard.press("Alt+KeyR")
    expect(agent_state(page)).to_have_text("Ready")
    interaction_id = server.submit(medium="chat")
    expect(offer_card(page, re.compile("Chat"))).to_be_visible()
    page.keyboard.press("Alt+KeyA")
    expect(page.get_by_role("tab", name=re.compile("Chat"))).to_be_visible()
    page.keyboard.press("Alt+KeyW")
    form = page.get_by_role("form", name="Wrap-up")
    expect(form.get_by_label("Disposition")).to_be_focused()
    form.get_by_label("Disposition").select_option("follow_up")
    notes = form.get_by_label("Notes")
    notes.fill("Typing a question mark? stays text")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    notes.press("Alt+KeyW")
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_text("Wrap-up saved · Follow-up needed", exact=True)).to_be_visible()
    record = server.api("GET", f"/api/v1/interactions/{interaction_id}")
    assert (record["state"], record["disposition"]) == ("completed", "follow_up")


def test_a_supervisor_broadcast_shows_as_a_banner(
    server: Server, new_page: Callable[..., Page]
) -> None:
    page = open_desktop(new_page, server)
    server.api("POST", "/api/v1/broadcasts", {"text": "Storm outage in the north: expect calls"})
    banners = page.get_by_role("region", name="Messages from supervisors")
    expect(banners.get_by_text("Storm outage in the north: expect calls")).to_be_visible()
    expect(banners.get_by_text(re.compile("Sue Supervisor to all agents"))).to_be_visible()
    screenshot(page, "desktop-broadcast")
    # A reload (as after a reconnect) shows it again from the hello, until dismissed.
    page.reload()
    expect(banners.get_by_text("Storm outage in the north: expect calls")).to_be_visible()
    banners.get_by_role("button", name=re.compile("Dismiss")).click()
    expect(banners.get_by_text("Storm outage in the north")).to_have_count(0)
    page.reload()
    expect(connection(page)).to_have_text("Connected")
    expect(banners.get_by_text("Storm outage in the north")).to_have_count(0)

    # The supervisor who sent it has no agent profile: the desktop says so.
    supervisor = new_page()
    log_in(supervisor, server, "/desktop", "sue")
    expect(supervisor.get_by_role("heading", name="This login is not an agent")).to_be_visible()


def test_customer_text_is_never_markup(server: Server, new_page: Callable[..., Page]) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    new_contact(
        server,
        name=hostile,
        identities=[{"kind": "phone", "value": PHONE}],
    )
    page = open_desktop(new_page, server)
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    go_ready(page)
    server.submit(medium="voice", data={"caller_id": PHONE, "note": "<b>bold?</b>"})
    offer = offer_card(page, re.compile("Voice call"))
    expect(offer.get_by_role("heading", name=hostile, exact=True)).to_be_visible()
    expect(offer.locator("img")).to_have_count(0)
    offer.get_by_role("button", name="Accept").click()
    panel = page.get_by_role("tabpanel")
    expect(panel.get_by_text("<b>bold?</b>", exact=True)).to_be_visible()
    expect(panel.locator("img, b")).to_have_count(0)
    assert dialogs == []


def test_a_refused_wrap_up_is_shown_inline_and_keeps_what_was_typed(
    server: Server, new_page: Callable[..., Page]
) -> None:
    contact = new_contact(server, name="Carla Case", identities=[{"kind": "phone", "value": PHONE}])
    case = server.api(
        "POST", "/api/v1/crm/cases", {"contact_id": contact["id"], "subject": "Soon deleted"}
    )
    page = open_desktop(new_page, server)
    go_ready(page)
    interaction_id = server.submit(medium="voice", data={"caller_id": PHONE})
    offer_card(page, re.compile("Carla Case")).get_by_role("button", name="Accept").click()
    panel = page.get_by_role("tabpanel")
    panel.get_by_role("button", name="End", exact=True).click()
    form = panel.get_by_role("form", name="Wrap-up")
    form.get_by_label("Disposition").select_option("solved")
    form.get_by_label("Notes").fill("Kept after a refusal")
    form.get_by_label("Link to an open case").check()
    expect(form.get_by_label("Case to link")).to_have_value(str(case["id"]))
    # Someone deletes the case while the agent is wrapping up: the server refuses.
    server.api("DELETE", f"/api/v1/crm/cases/{case['id']}", user="ada")
    form.get_by_role("button", name="Finish wrap-up").click()
    expect(form.get_by_role("alert")).to_contain_text("The wrap-up was not saved")
    expect(form.get_by_role("alert")).to_contain_text("unknown_case")
    expect(form.get_by_label("Notes")).to_have_value("Kept after a refusal")
    assert server.api("GET", f"/api/v1/interactions/{interaction_id}")["state"] == "wrap_up"

    form.get_by_label("No case").check()
    form.get_by_role("button", name="Finish wrap-up").click()
    expect(page.get_by_role("tab")).to_have_count(0)
    expect(page.get_by_text("Wrap-up saved · Solved", exact=True)).to_be_visible()
    record = server.api("GET", f"/api/v1/interactions/{interaction_id}")
    assert (record["state"], record["notes"]) == ("completed", "Kept after a refusal")
