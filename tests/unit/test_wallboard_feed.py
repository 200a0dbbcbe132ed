"""The wallboard feed without sockets: one snapshot and one delta per tick shared by every
subscriber, a stalled subscriber cut off without holding up the others, bursts coalesced."""

from __future__ import annotations

import json
from typing import Any

import pytest

from trunkline.web.wallboard_feed import WallboardFeed


class Board:
    """A snapshot source that counts its computations; ``waiting`` is what changes."""

    def __init__(self) -> None:
        self.waiting = 0
        self.computed = 0
        self._shared: tuple[int, dict[str, Any]] | None = None

    def snapshot(self) -> dict[str, Any]:
        # Like the reporting service: one snapshot shared while nothing changed.
        if self._shared is None or self._shared[0] != self.waiting:
            self.computed += 1
            snap = {
                "generated_at": float(self.computed),
                "queues": [{"id": "support", "waiting": self.waiting}],
            }
            self._shared = (self.waiting, snap)
        return self._shared[1]


async def test_a_thousand_subscribers_share_one_snapshot_and_one_delta() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot)
    subs = [feed.subscribe() for _ in range(1000)]
    assert board.computed == 1  # every connecting socket got the same snapshot
    assert len({id(feed.snapshot_text(s.shown)) for s in subs}) == 1

    board.waiting = 3
    tick = feed.publish()
    assert tick is not None and board.computed == 2
    texts = set()
    for sub in subs:
        got = await sub.next()
        assert got is tick
        text = feed.delta_text(sub.shown, got)
        assert text is not None
        texts.add(id(text))
        sub.shown = got
    assert len(texts) == 1  # encoded once for all of them
    # A board already showing the tick has nothing to receive.
    assert feed.delta_text(subs[0].shown, tick) is None


async def test_a_tick_that_changes_nothing_sends_nothing() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot)
    sub = feed.subscribe()
    tick = feed.publish()
    assert tick is not None and tick is sub.shown  # same snapshot, same tick
    assert feed.delta_text(sub.shown, await sub.next()) is None


async def test_the_delta_message_carries_only_the_change() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot)
    sub = feed.subscribe()
    board.waiting = 2
    tick = feed.publish()
    assert tick is not None
    text = feed.delta_text(sub.shown, await sub.next())
    assert text is not None
    assert json.loads(text) == {
        "type": "delta",
        "generated_at": 2.0,
        "queues": {"support": {"waiting": 2}},
    }


async def test_a_socket_stuck_in_a_send_is_cut_off_and_the_others_carry_on() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot, backlog=2)
    cut_off: list[str] = []
    stuck = feed.subscribe(on_overflow=lambda: cut_off.append("stuck"))
    reader = feed.subscribe(on_overflow=lambda: cut_off.append("reader"))
    stuck.begin_send()  # and it never returns
    for n in range(1, 6):
        board.waiting = n
        feed.publish()
        reader.begin_send()  # this one's sends return at once
        tick = await reader.next()
        reader.end_send()
        assert tick.snapshot["queues"][0]["waiting"] == n
    assert cut_off == ["stuck"]  # once, at the third tick missed during its one send
    assert stuck.overflowed and not reader.overflowed


async def test_a_slow_socket_is_not_cut_off_and_skips_to_the_newest_tick() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot, backlog=2)
    sub = feed.subscribe(on_overflow=lambda: pytest.fail("a slow socket is not stuck"))
    first = sub.shown
    for n in range(1, 6):  # ticks pile up while the socket waits, not while it sends
        board.waiting = n
        feed.publish()
    newest = await sub.next()
    assert newest.snapshot["queues"][0]["waiting"] == 5
    text = feed.delta_text(first, newest)
    assert text is not None and json.loads(text)["queues"] == {"support": {"waiting": 5}}
    sub.shown = newest
    # Slow sends: each returns, if late, so the socket keeps up in coarser steps.
    for n in range(6, 12):
        sub.begin_send()
        board.waiting = n
        feed.publish()
        sub.end_send()
    assert (await sub.next()).snapshot["queues"][0]["waiting"] == 11


async def test_a_burst_of_marks_makes_one_tick() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot)
    sub = feed.subscribe()
    feed.start()
    try:
        board.waiting = 20
        for _ in range(20):  # twenty events published in one go
            feed.mark_dirty()
        tick = await sub.next()
        assert tick.snapshot["queues"][0]["waiting"] == 20
        assert feed.published == 1
    finally:
        await feed.close()


async def test_without_subscribers_nothing_is_computed() -> None:
    board = Board()
    feed = WallboardFeed(board.snapshot)
    assert feed.publish() is None
    assert board.computed == 0
