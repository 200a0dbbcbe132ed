"""Historical reports over REST: figures from the rollups, CSV shape, daylight-saving days
and who may read what."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import Centre

from trunkline.cli import main
from trunkline.domain.agent import AgentState
from trunkline.domain.events import (
    AgentStateChanged,
    Event,
    InteractionAbandoned,
    InteractionCreated,
    InteractionQueued,
    OfferAccepted,
)
from trunkline.domain.media import Medium
from trunkline.reporting.definitions import settings_from_config
from trunkline.reporting.rollup import RollupWorker
from trunkline.store.event_store import EventStore

DAY = "2024-01-15"
NINE = 1705309200.0  # 2024-01-15 09:00 UTC (the test centre's zone is UTC)


def arrival(iid: str, at: float, queue: str = "support") -> list[Event]:
    return [
        InteractionCreated(
            at=at, interaction_id=iid, medium=Medium.VOICE, queue=queue, priority=0, created_at=at
        ),
        InteractionQueued(
            at=at, interaction_id=iid, queue=queue, medium=Medium.VOICE, priority=0, rank=at
        ),
    ]


def day_events() -> list[Event]:
    return [
        *arrival("v1", NINE),
        OfferAccepted(
            at=NINE + 10,
            interaction_id="v1",
            agent_id="ann",
            queue="support",
            medium=Medium.VOICE,
            waited_s=10.0,
        ),
        *arrival("v2", NINE + 1000),
        InteractionAbandoned(
            at=NINE + 1030,
            interaction_id="v2",
            queue="support",
            medium=Medium.VOICE,
            waited_s=30.0,
        ),
        *arrival("v3", NINE + 2000, queue="sales"),
        AgentStateChanged(at=NINE, agent_id="ann", old=AgentState.LOGGED_OUT, new=AgentState.READY),
        AgentStateChanged(
            at=NINE + 600,
            agent_id="ann",
            old=AgentState.READY,
            new=AgentState.LOGGED_OUT,
            old_since=NINE,
        ),
        AgentStateChanged(at=NINE, agent_id="bob", old=AgentState.LOGGED_OUT, new=AgentState.READY),
        AgentStateChanged(
            at=NINE + 60,
            agent_id="bob",
            old=AgentState.READY,
            new=AgentState.LOGGED_OUT,
            old_since=NINE,
        ),
    ]


async def rolled_up(centre: Centre, events: Sequence[Event]) -> None:
    store = centre.service.store
    store.append(sorted(events, key=lambda e: e.at))
    await store.flush()
    await RollupWorker(store, settings_from_config(centre.service.config)).catch_up()


async def test_day_report_gives_the_figures(centre: Centre) -> None:
    await rolled_up(centre, day_events())
    body = await centre.call("GET", f"/api/v1/reports/queues?from={DAY}&to={DAY}", "sue")
    assert body["group"] == "day"
    [day] = body["groups"]
    assert day["start"] == "2024-01-15T00:00:00+00:00"
    rows = {(r["queue"], r["medium"]): r for r in day["rows"]}
    support = rows[("support", "voice")]
    assert (support["offered"], support["answered"], support["abandoned"]) == (2, 1, 1)
    assert support["sl_answered"] == 50.0
    assert support["asa_s"] == 10.0
    assert support["longest_wait_s"] == 30.0
    assert rows[("sales", "voice")]["offered"] == 1
    assert day["total"]["offered"] == 3

    only = await centre.call(
        "GET", f"/api/v1/reports/queues?from={DAY}&to={DAY}&queue=sales&medium=voice", "sue"
    )
    assert [r["queue"] for r in only["groups"][0]["rows"]] == ["sales"]


async def test_csv_export_opens_as_a_table(centre: Centre) -> None:
    await rolled_up(centre, day_events())
    headers = await centre.login("sue")
    resp = await centre.client.get(
        f"/api/v1/reports/queues?from={DAY}&to={DAY}&group=interval&format=csv", headers=headers
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment; filename=" in resp.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(await resp.text())))
    header, rows = lines[0], lines[1:]
    assert header[:4] == ["start", "end", "queue", "medium"]
    # 09:00 support, 09:15 support, 09:30 sales: one line per group × queue × medium.
    assert [(r[0], r[2]) for r in rows] == [
        ("2024-01-15T09:00:00+00:00", "support"),
        ("2024-01-15T09:15:00+00:00", "support"),
        ("2024-01-15T09:30:00+00:00", "sales"),
    ]
    assert all(len(r) == len(header) for r in rows)
    first = dict(zip(header, rows[0], strict=True))
    assert first["asa_s"] == "10.0"  # a '.' decimal point
    assert first["avg_wrap_s"] == ""  # None is an empty cell


async def test_the_october_change_day_has_100_intervals(centre: Centre) -> None:
    config = centre.service.config
    centre.service.config = dataclasses.replace(
        config, centre=dataclasses.replace(config.centre, timezone="Europe/London")
    )
    body = await centre.call(
        "GET", "/api/v1/reports/queues?from=2024-10-27&to=2024-10-27&group=interval", "sue"
    )
    starts = [g["start"] for g in body["groups"]]
    assert len(starts) == 100
    assert "2024-10-27T01:00:00+01:00" in starts and "2024-10-27T01:00:00+00:00" in starts
    spring = await centre.call(
        "GET", "/api/v1/reports/queues?from=2024-03-31&to=2024-03-31&group=interval", "sue"
    )
    assert len(spring["groups"]) == 92


async def test_agents_read_only_their_own_report(centre: Centre) -> None:
    await rolled_up(centre, day_events())
    path = f"/api/v1/reports/agents?from={DAY}&to={DAY}"
    everyone = await centre.call("GET", path, "sue")
    assert [r["agent_id"] for r in everyone["groups"][0]["rows"]] == ["ann", "bob"]
    own = await centre.call("GET", path, "ann")
    [row] = own["groups"][0]["rows"]
    assert (row["agent_id"], row["staffed_s"]) == ("ann", 600.0)
    assert (await centre.call("GET", path + "&agent=ann", "ann"))["groups"] == own["groups"]
    denied = await centre.call("GET", path + "&agent=bob", "ann", expect=403)
    assert denied["error_id"] == "forbidden"
    await centre.call("GET", f"/api/v1/reports/queues?from={DAY}&to={DAY}", "ann", expect=403)
    await centre.call("GET", f"/api/v1/reports/queues?from={DAY}&to={DAY}", expect=401)


@pytest.mark.parametrize(
    "query",
    [
        "",
        f"from={DAY}",
        f"from=2024-13-01&to={DAY}",
        f"from={DAY}&to=2024-01-14",
        f"from={DAY}&to={DAY}&group=year",
        f"from={DAY}&to={DAY}&medium=pigeon",
        f"from={DAY}&to={DAY}&format=xlsx",
        f"from={DAY}&to={DAY}&colour=red",
        "from=2024-01-01&to=2024-03-01&group=interval",
    ],
)
async def test_invalid_parameters_are_400(centre: Centre, query: str) -> None:
    body = await centre.call("GET", f"/api/v1/reports/queues?{query}", "sue", expect=400)
    assert body["error_id"] == "invalid_request"


async def test_openapi_lists_the_report_routes(centre: Centre) -> None:
    doc = await centre.call("GET", "/api/v1/openapi.json", "sue")
    assert {"/api/v1/reports/queues", "/api/v1/reports/agents"} <= set(doc["paths"])


def test_reports_rebuild_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"

    async def seed() -> None:
        store = await EventStore.open(url)
        try:
            store.append(sorted(day_events(), key=lambda e: e.at))
            await store.flush()
        finally:
            await store.close()

    asyncio.run(seed())
    assert main(["reports", "rebuild", "--database", url, "--page-size", "3"]) == 0
    out, err = capsys.readouterr()
    assert f"{len(day_events())}/{len(day_events())} events 100.0%" in err
    assert f"from {len(day_events())} events: 3 queue rows, 2 agent rows" in out
