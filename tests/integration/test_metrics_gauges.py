"""/metrics gauges come from the live statistics: they agree with the wallboard."""

from __future__ import annotations

import re

from conftest import Centre


def gauge(text: str, name: str, **labels: str) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
    return None


async def test_gauges_show_waiting_agents_and_todays_service_level(centre: Centre) -> None:
    await centre.agent_ready("ann")
    await centre.submit(id="c1", medium="chat", queue="support")
    await centre.call("POST", "/api/v1/interactions/c1/accept", "ann")
    for n in range(2):  # nobody ready serves sales (bob is logged out): both wait
        await centre.submit(id=f"e{n}", medium="email", queue="sales")
    resp = await centre.client.get("/metrics")
    text = await resp.text()
    board = await centre.call("GET", "/api/v1/wallboard", "sue")
    queues = {q["id"]: q for q in board["queues"]}
    assert gauge(text, "trunkline_queue_waiting", queue="sales") == queues["sales"]["waiting"] == 2
    assert gauge(text, "trunkline_agents", state="busy") == 1
    # Answered within the threshold: today's service level for support chats is 100 %.
    assert gauge(text, "trunkline_queue_service_level_percent", queue="support", medium="chat") == (
        100.0
    )
    # Nothing answered in sales yet: no ASA (0/0 is left out rather than shown as 0).
    assert gauge(text, "trunkline_queue_asa_seconds", queue="sales", medium="email") is None
