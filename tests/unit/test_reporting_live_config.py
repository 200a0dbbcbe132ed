"""Live statistics after a configuration reload: new names and memberships, today kept."""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import dedent
from typing import Any

from test_reporting_fold import READY, Script

from trunkline.config import load_config_text
from trunkline.reporting.live import LiveStats

BEFORE = """
queues:
  sales: {name: Sales}
  support: {name: Support}
agents:
  - {id: a1, name: Alice, queues: [sales]}
  - {id: a2, name: Bob, queues: [sales]}
  - {id: a3, name: Carol, queues: [support]}
"""

AFTER = """
queues:
  sales: {name: Sales and renewals}
  support: {name: Support}
agents:
  - {id: a1, name: Alice Smith, queues: [sales, support]}
  - {id: a4, name: Dan, queues: [support]}
"""

T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp()


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_a_reload_renames_moves_and_retires_but_keeps_today() -> None:
    live = LiveStats.from_config(load_config_text(dedent(BEFORE)), now=T0)
    s = Script(T0)
    s.agent(0, "a1", READY)
    s.agent(0, "a2", READY)  # a2 leaves the configuration while logged in
    s.arrive(10, "i1", "sales")
    for event in s.events:
        live.observe(event)
    before = live.snapshot(T0 + 20)

    live.apply_config(load_config_text(dedent(AFTER)))
    after = live.snapshot(T0 + 20)

    queues = by_id(after["queues"])
    assert queues["sales"]["name"] == "Sales and renewals"
    assert queues["sales"]["today"] == by_id(before["queues"])["sales"]["today"]
    assert queues["support"]["agents"]["ready"] == 1  # Alice now serves support too
    agents = by_id(after["agents"])
    assert agents["a1"]["name"] == "Alice Smith"
    assert agents["a1"]["queues"] == ["sales", "support"]
    assert agents["a2"]["state"] == "ready"  # stays while logged in, as in the router
    assert "a3" not in agents  # logged out and gone from the configuration
    assert agents["a4"]["state"] == "logged_out" and agents["a4"]["queues"] == ["support"]
    assert live.agent_states()["a1"].value == "ready"
