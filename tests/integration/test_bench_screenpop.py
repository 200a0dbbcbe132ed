"""The screen-pop benchmark at a tiny size: the server runs in a process of its own, every
offer arrives with its screen-pop, and no server process outlives the run, even one that
fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trunkline.bench import screenpop

pytestmark = pytest.mark.slow


def _live_children() -> list[int]:
    """PIDs of this process's children that are still running (not zombies)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        state, ppid = text.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state != "Z":
            children.append(int(stat.parent.name))
    return children


def _exists(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


async def _small_run() -> dict[str, object]:
    return await screenpop.run_async(
        contacts=300,
        agents=4,
        interactions=20,
        lookups=10,
        rate=50.0,
        database=None,
        seed=3,
        progress=lambda _msg: None,
    )


async def test_offers_carry_the_screen_pop_from_a_separate_server_process() -> None:
    before = _live_children()
    result = await _small_run()
    assert result["clients"] == "separate process"
    assert result["offers_received"] == 20
    assert result["offers_without_screen_pop"] == 0
    assert 0 < float(result["offer_p50_ms"]) <= float(result["offer_p99_ms"])
    # The server did the work: its CPU is measured in its own process.
    assert float(result["server_cpu_percent"]) > 0
    assert _live_children() == before


async def test_a_failing_client_still_stops_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []

    async def fail(server: screenpop._Server, *_args: object) -> None:
        started.append(server.process.pid)
        raise RuntimeError("client failed")

    monkeypatch.setattr(screenpop, "_drive", fail)
    with pytest.raises(RuntimeError, match="client failed"):
        await _small_run()
    assert started and not _exists(started[0])
