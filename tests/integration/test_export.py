"""The interaction export: every interaction of a date range with its whole journey,
streamed page by page as NDJSON or CSV; supervisors only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import Centre

from trunkline.web import api_export


def today() -> date:
    """The centre's date (its time zone is UTC), read after the traffic was created."""
    return datetime.now(UTC).date()


async def five_interactions_one_handled(centre: Centre) -> None:
    await centre.agent_ready("ann")
    for n in range(5):
        await centre.submit(id=f"x{n}", medium="email", queue="support")
    # ann holds one e-mail at a time: x0 was offered to her.
    await centre.call("POST", "/api/v1/interactions/x0/accept", "ann")
    await centre.call(
        "POST", "/api/v1/interactions/x0/wrap-up", "ann", json={"disposition": "solved"}
    )


async def test_ndjson_export_streams_every_journey_across_pages(
    centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_export, "PAGE", 2)  # five interactions: three pages
    await five_interactions_one_handled(centre)
    headers = await centre.login("sue")
    day = today()
    resp = await centre.client.get(
        f"/api/v1/reports/interactions?from={day}&to={day}", headers=headers
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    journeys = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert [j["id"] for j in journeys] == ["x0", "x1", "x2", "x3", "x4"]
    handled = [e["type"] for e in journeys[0]["events"]]
    assert handled[:2] == ["interaction_created", "interaction_queued"]
    assert {"offer_accepted", "handling_ended", "interaction_completed"} <= set(handled)
    assert journeys[0]["disposition"] == "solved"
    assert all(j["events"][0]["type"] == "interaction_created" for j in journeys)


async def test_csv_export_has_one_row_per_event(centre: Centre) -> None:
    await five_interactions_one_handled(centre)
    headers = await centre.login("sue")
    day = today()
    resp = await centre.client.get(
        f"/api/v1/reports/interactions?from={day}&to={day}&format=csv", headers=headers
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(await resp.text())))
    header, body = rows[0], rows[1:]
    assert header == list(api_export.CSV_COLUMNS)
    recorded = await centre.service.store.interaction_events("x0")
    x0_rows = [r for r in body if r[0] == "x0"]
    assert len(x0_rows) == len(recorded) > 0
    assert [r[5] for r in x0_rows] == [e["type"] for e in recorded]
    assert all(len(r) == len(header) for r in body)


async def test_an_empty_range_exports_nothing_and_agents_cannot_export(centre: Centre) -> None:
    await five_interactions_one_handled(centre)
    day = today()
    yesterday = day - timedelta(days=1)
    headers = await centre.login("sue")
    resp = await centre.client.get(
        f"/api/v1/reports/interactions?from={yesterday}&to={yesterday}", headers=headers
    )
    assert resp.status == 200 and await resp.text() == ""
    agent = await centre.login("ann")
    resp = await centre.client.get(
        f"/api/v1/reports/interactions?from={day}&to={day}", headers=agent
    )
    assert resp.status == 403
    bad = await centre.client.get(
        f"/api/v1/reports/interactions?from={day}&to={yesterday}", headers=headers
    )
    assert bad.status == 400
    assert (await bad.json())["error_id"] == "invalid_request"
