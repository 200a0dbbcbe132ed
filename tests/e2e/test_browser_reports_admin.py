"""The reports and admin pages in a real browser against a real server: today's queue
figures as table, chart and CSV; the interaction export; an agent's own report; the
configuration viewer, its file check and a refused reload."""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from e2e_support import ConsoleWatch, Server, log_in, screenshot
from playwright.sync_api import Locator, Page, expect


def handle(server: Server, interaction_id: str, agent: str = "ann") -> None:
    """Answer, end and wrap up an interaction offered to ``agent``, as their desktop would."""
    server.api("POST", f"/api/v1/interactions/{interaction_id}/accept", {}, user=agent)
    server.api("POST", f"/api/v1/interactions/{interaction_id}/complete", {}, user=agent)
    server.api(
        "POST",
        f"/api/v1/interactions/{interaction_id}/wrap-up",
        {"disposition": "solved"},
        user=agent,
    )


def work_a_morning(server: Server) -> list[str]:
    """Ann answers two chats; a third customer hangs up at once (a short abandon)."""
    server.api("POST", "/api/v1/agents/ann/login", {"ready": True}, user="ann")
    ids = []
    for _ in range(2):
        interaction_id = server.submit(queue="support", medium="chat")
        handle(server, interaction_id)
        ids.append(interaction_id)
    gone = server.submit(queue="support", medium="chat")
    server.api("POST", f"/api/v1/interactions/{gone}/cancel", {"reason": "abandoned"})
    ids.append(gone)
    return ids


def today(server: Server) -> str:
    """The centre's date today, as the API counts days (its time zone)."""
    report = server.api("GET", "/api/v1/reports/agents?from=2000-01-01&to=2000-01-01")
    return datetime.now(ZoneInfo(report["timezone"])).date().isoformat()


def wait_for_rollups(server: Server, path: str, done: Callable[[Any], bool]) -> Any:
    """Reports read the interval rollups, which a background worker writes just after the
    events: poll the API (not the page) until they hold what the test did."""
    deadline = time.monotonic() + 15
    while True:
        answer = server.api("GET", path)
        if done(answer):
            return answer
        assert time.monotonic() < deadline, f"rollups never caught up: {answer}"
        time.sleep(0.2)


def morning_recorded(server: Server) -> str:
    """Wait until the reports hold all of :func:`work_a_morning`; returns today's date.

    The rollups are folded from the recorded events, so the export has them all too."""
    day = today(server)
    wait_for_rollups(
        server,
        f"/api/v1/reports/queues?from={day}&to={day}",
        lambda r: (
            (queue_total(r, "offered"), queue_total(r, "completed")) == (3, 2)
            and queue_total(r, "short_abandoned") == 1
        ),
    )
    return day


def queue_total(report: dict[str, Any], key: str) -> int:
    return sum(row[key] for g in report["groups"] for row in g["rows"])


def column(page: Page, header: str) -> int:
    """The index of a report table column (and of its cell in a row), by its header text."""
    headings = page.locator("table.report-table thead").get_by_role("columnheader")
    headers = [" ".join(t.split()) for t in headings.all_inner_texts()]
    return headers.index(header)


def definition(scope: Locator, term: str) -> Locator:
    """The value a definition list gives ``term``."""
    return scope.locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")


def report_row(page: Page, text: str) -> Locator:
    return (
        page.get_by_role("region", name="Queue figures per period")
        .get_by_role("row")
        .filter(has_text=text)
    )


def test_todays_queue_report_matches_what_happened_in_table_chart_and_csv(
    server: Server, new_page: Callable[..., Page]
) -> None:
    work_a_morning(server)
    day = morning_recorded(server)

    page = new_page()
    log_in(page, server, "/reports", "sue")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    # The default selection is today's queues by day, in the centre's time zone.
    expect(page.get_by_role("button", name="Today")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_label("From")).to_have_value(day)
    expect(page.get_by_label("To")).to_have_value(day)
    expect(page.get_by_text("Europe/London")).to_be_visible()

    row = report_row(page, "Support")
    expect(row).to_have_count(1)
    cells = row.get_by_role("cell")
    expect(cells.nth(column(page, "Queue"))).to_have_text("Support")
    expect(cells.nth(column(page, "Medium"))).to_have_text("Chat")
    expect(cells.nth(column(page, "Offered"))).to_have_text("3")
    expect(cells.nth(column(page, "Answered"))).to_have_text("2")
    expect(cells.nth(column(page, "Abandoned"))).to_have_text("0")
    expect(cells.nth(column(page, "Short abandons"))).to_have_text("1")
    # Two answered quickly out of 3 − 1 short abandon: both service levels are 100 %.
    expect(cells.nth(column(page, "Service level (answered)"))).to_have_text("100 %")
    expect(cells.nth(column(page, "Service level (with abandons)"))).to_have_text("100 %")
    expect(cells.nth(column(page, "Target"))).to_have_text("80 % in 30 s")
    expect(cells.nth(column(page, "FCR"))).to_have_text("100 %")

    # The chart is drawn by the vendored Chart.js with the same figures.
    canvas = page.get_by_role("img", name=re.compile("Chart of offered"))
    expect(canvas).to_be_visible()
    figures = page.evaluate(
        """() => {
            const chart = window.Chart.getChart(document.querySelector("canvas"));
            return Object.fromEntries(chart.data.datasets.map((d) => [d.label, d.data]));
        }"""
    )
    assert figures["Offered"] == [3]
    assert figures["Answered"] == [2]
    assert figures["Abandoned"] == [0]
    assert figures["Service level (answered) %"] == [100.0]
    screenshot(page, "reports-queues-today")

    # The CSV of the same selection holds the same figures.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    download = info.value
    assert download.suggested_filename == f"trunkline-queues-day-{day}-{day}.csv"
    with Path(download.path()).open(newline="", encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert [(r["queue"], r["medium"]) for r in lines] == [("support", "chat")]
    assert lines[0]["offered"] == "3"
    assert lines[0]["answered"] == "2"
    assert lines[0]["short_abandoned"] == "1"
    assert lines[0]["sl_answered"] == "100.0"
    expect(page.get_by_text(re.compile(r"Downloaded trunkline-queues-day-.*\.csv"))).to_be_visible()

    # Grouped by 15 minutes the chart has one bar per quarter hour of the day.
    # Choosing from a list shows its report at once.
    page.get_by_label("Group by").select_option("interval")
    expect(page.get_by_role("heading", name=re.compile("by 15 minutes"))).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="periods have figures")).to_be_visible()
    labels = page.evaluate(
        "() => window.Chart.getChart(document.querySelector('canvas')).data.labels.length"
    )
    assert labels in (92, 96, 100)  # 92 / 100 on daylight-saving change days
    expect(report_row(page, "Support").first).to_be_visible()
    page.get_by_label("Show all figures").check()
    expect(page.locator("table.report-table thead")).to_contain_text("Cost per contact")
    screenshot(page, "reports-queues-intervals")


def test_empty_range_says_no_data_and_export_downloads_every_interaction(
    server: Server, new_page: Callable[..., Page]
) -> None:
    ids = work_a_morning(server)
    morning_recorded(server)
    page = new_page()
    log_in(page, server, "/reports", "sue")
    expect(page.get_by_role("heading", name=re.compile(r"^Queues ·"))).to_be_visible()

    page.get_by_label("From").fill("2001-01-01")
    page.get_by_label("To").fill("2001-01-07")
    page.get_by_role("button", name="Show report").click()
    expect(page.get_by_text("No data for this selection.")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Chart of"))).to_be_hidden()
    # The quick pick is no longer pressed: the dates are the user's own.
    expect(page.get_by_role("button", name="Today")).to_have_attribute("aria-pressed", "false")

    # The interaction detail streams from the export endpoint, one row per event.
    page.get_by_role("radio", name="Interaction detail (export)").check()
    page.get_by_role("button", name="Today").click()
    expect(page.get_by_role("button", name="Show report")).to_be_hidden()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    with Path(info.value.path()).open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["interaction_id"] for r in rows} == set(ids)
    assert {"interaction_queued", "offer_accepted"} <= {r["type"] for r in rows}


def test_an_agent_sees_only_their_own_agent_report(
    server: Server, new_page: Callable[..., Page]
) -> None:
    server.api("POST", "/api/v1/agents/bob/login", {"ready": True}, user="bob")
    work_a_morning(server)
    day = today(server)
    wait_for_rollups(
        server,
        f"/api/v1/reports/agents?from={day}&to={day}",
        lambda r: any(row["completed"] == 2 for g in r["groups"] for row in g["rows"]),
    )

    page = new_page()
    log_in(page, server, "/reports", "ann")
    expect(page.get_by_text("As an agent you see your own figures only.")).to_be_visible()
    # No queue report, no export, no choice of agent, no link to the supervisor pages.
    expect(page.get_by_role("heading", name=re.compile(r"^Agents ·"))).to_be_visible()
    expect(page.get_by_role("radio")).to_have_count(0)
    expect(page.get_by_label("Agent", exact=True)).to_be_hidden()
    pages = page.get_by_role("navigation", name="Pages")
    expect(pages.get_by_role("link")).to_have_text(["Desktop", "Reports"])

    table = page.get_by_role("region", name="Agent figures per period")
    expect(table.get_by_role("row").filter(has_text="Ann Archer")).to_have_count(1)
    expect(table).not_to_contain_text("Bob Baker")
    handled = column(page, "Handled")
    expect(
        table.get_by_role("row").filter(has_text="Ann Archer").get_by_role("cell").nth(handled)
    ).to_have_text("2")
    chart = page.get_by_role("img", name=re.compile("Chart of interactions handled"))
    expect(chart).to_be_visible()
    screenshot(page, "reports-agent-own")


def test_admin_page_lists_the_configuration_and_refuses_a_supervisor(
    server: Server, new_page: Callable[..., Page]
) -> None:
    page = new_page()
    log_in(page, server, "/admin", "ada")
    expect(page.get_by_role("heading", name="Configuration", exact=True)).to_be_visible()

    queues = page.get_by_role("region", name="Queues (2)")
    expect(queues.get_by_role("heading", level=3)).to_have_text(
        ["Support (support)", "Sales (sales)"]
    )
    support = queues.get_by_role("article", name="Support (support)")
    expect(definition(support, "Service level")).to_contain_text("Chat: 80 % in 30 s")
    expect(definition(support, "Wallboard")).to_contain_text("Waiting: amber at 2, red at 5")
    expect(definition(support, "Wrap-up")).to_have_text("manual: until the agent submits it")

    agents = page.get_by_role("region", name="Agents (2)")
    ann = agents.get_by_role("row").filter(has_text="Ann Archer")
    expect(ann).to_contain_text("Support")
    expect(ann).to_contain_text("english 3, billing 2")
    expect(agents.get_by_role("row").filter(has_text="Bob Baker")).to_contain_text("sales")

    users = page.get_by_role("region", name="Users (4)")
    expect(users.get_by_role("row").filter(has_text="Sue Supervisor")).to_contain_text("supervisor")
    expect(users).not_to_contain_text("argon2")
    expect(page.get_by_role("region", name="Wrap-up codes")).to_contain_text("Follow-up needed")

    # The contents list moves focus to a section.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Agents").click()
    expect(page).to_have_url(re.compile("#agents$"))
    expect(agents).to_be_in_viewport()
    screenshot(page, "admin-configuration")

    # A supervisor who follows an address to /admin from their reports page is told why
    # the login form is shown, and their own login is refused with the reason.
    refused = new_page()
    log_in(refused, server, "/reports", "sue")
    pages = refused.get_by_role("navigation", name="Pages")
    expect(pages.get_by_role("link")).to_have_text(["Wallboard", "Reports"])
    refused.goto(server.base_url + "/admin")
    expect(
        refused.get_by_text(
            "You are logged in as sue (supervisor); this page needs an admin login."
        )
    ).to_be_visible()
    log_in(refused, server, "/admin", "sue")
    expect(refused.get_by_role("alert")).to_have_text(
        "This page needs the admin role; sue is supervisor."
    )
    expect(refused.get_by_role("heading", name="Configuration", exact=True)).to_have_count(0)
    screenshot(refused, "admin-refused-supervisor")


def test_config_check_shows_file_errors_and_a_refused_reload_keeps_the_running_config(
    server: Server, new_page: Callable[..., Page], console: ConsoleWatch
) -> None:
    # The refused reload is a 422 answer, which Chromium logs as a failed resource.
    console.allowed.append("status of 422")
    source = Path(server.api("GET", "/api/v1/config", user="ada")["source"])
    page = new_page()
    log_in(page, server, "/admin", "ada")
    check = page.get_by_role("region", name="Configuration file check")
    expect(check.get_by_role("status")).to_contain_text("The file on disk is valid")

    good = source.read_text()
    bad = good.replace("offer_timeout_s: 120", "offer_timeout_s: soon", 1)
    line = bad.splitlines().index("    offer_timeout_s: soon") + 1
    source.write_text(bad)

    check.get_by_role("button", name="Check again").click()
    verdict = check.get_by_role("status")
    expect(verdict).to_contain_text("The file on disk has 1 error")
    errors = verdict.get_by_role("row").filter(has_text="offer_timeout_s")
    expect(errors.get_by_role("cell").nth(0)).to_have_text(f"{source.name}:{line}")
    expect(errors.get_by_role("cell").nth(1)).to_have_text("queues.support.offer_timeout_s")
    expect(errors.get_by_role("cell").nth(2)).to_contain_text("valid number")
    screenshot(page, "admin-config-invalid")

    check.get_by_role("button", name="Reload configuration").click()
    outcome = check.get_by_role("alert")
    expect(outcome).to_contain_text("Reload refused")
    expect(outcome).to_contain_text("The running configuration is unchanged.")
    expect(outcome).to_contain_text(f"{source.name}:{line}")
    running = server.api("GET", "/api/v1/config", user="ada")
    assert [q["offer_timeout_s"] for q in running["queues"]] == [120.0, 120.0]
    support = page.get_by_role("article", name="Support (support)")
    expect(definition(support, "Offer timeout")).to_have_text("2:00")

    # Fixed on disk, the reload goes through and the page shows the new configuration.
    source.write_text(good.replace("offer_timeout_s: 120", "offer_timeout_s: 90", 1))
    check.get_by_role("button", name="Reload configuration").click()
    expect(outcome).to_contain_text("Reloaded")
    expect(verdict).to_contain_text("The file on disk is valid")
    expect(definition(support, "Offer timeout")).to_have_text("1:30")
