"""Frame pacing on an injected clock: on time, late wake-ups, long stalls, loops and queues."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.media import JitterMeter, Playout

T0 = 1000.0


def frames(tag: str, count: int) -> tuple[bytes, ...]:
    return tuple(f"{tag}{i}".encode() for i in range(count))


def test_frames_leave_at_t0_plus_n_times_20ms() -> None:
    playout = Playout(T0, frames("a", 3))
    assert playout.next_deadline() == T0
    assert playout.due(T0 - 0.001) == []
    assert playout.due(T0) == [b"a0"]
    assert playout.next_deadline() == pytest.approx(T0 + 0.02)
    assert playout.due(T0 + 0.0199) == []
    assert playout.due(T0 + 0.02) == [b"a1"]  # due exactly at its deadline, float or not
    assert playout.due(T0 + 0.04) == [b"a2"]
    assert playout.done and playout.next_deadline() == math.inf
    assert playout.due(T0 + 1.0) == []


def test_a_late_wake_up_sends_the_backlog_at_once() -> None:
    playout = Playout(T0, frames("a", 10))
    assert playout.due(T0) == [b"a0"]
    assert playout.due(T0 + 0.065) == [b"a1", b"a2", b"a3"]
    assert playout.gap == 0 and playout.skipped == 0
    assert playout.next_deadline() == pytest.approx(T0 + 0.08)  # back on the grid


def test_no_drift_when_every_wake_up_is_late() -> None:
    # A timer that always fires 3 ms late must not push the stream 3 ms later each frame:
    # after 10,000 frames (200 s) the next deadline is still exactly on t0's grid.
    playout = Playout(T0, frames("a", 10_001))
    sent = 0
    while sent < 10_000:
        wake = playout.next_deadline() + 0.003
        sent += len(playout.due(wake))
    assert sent == 10_000
    assert playout.next_deadline() == pytest.approx(T0 + 10_000 * 0.02, abs=1e-9)


def test_a_long_stall_skips_ahead_instead_of_bursting_it_all() -> None:
    meter = JitterMeter()
    playout = Playout(T0, frames("a", 200), meter=meter)
    assert playout.due(T0) == [b"a0"]
    sent = playout.due(T0 + 1.0)  # a one-second stall: frames 1..50 are due
    # Only the last 200 ms (deadlines 0.8 s .. 1.0 s, both included) go out; the content
    # stays in step with the clock: the frame due at 1.0 s is frame 50.
    assert sent == [f"a{i}".encode() for i in range(40, 51)]
    assert (playout.gap, playout.skipped) == (39, 39)
    assert max(meter.percentile_ms(100), meter.max_ms()) == pytest.approx(200.0)
    assert playout.due(T0 + 1.02) == [b"a51"] and playout.gap == 0


def test_a_stall_longer_than_the_prompt_ends_it() -> None:
    playout = Playout(T0, frames("a", 5))
    assert playout.due(T0 + 10.0) == []
    assert playout.done and playout.skipped == 5


def test_looping_music_on_hold_wraps_and_survives_stalls() -> None:
    playout = Playout(T0, frames("m", 3), loop=True)
    assert playout.due(T0 + 0.1) == [b"m0", b"m1", b"m2", b"m0", b"m1", b"m2"]
    assert not playout.done
    # 100 s later: slots 6..4994 are dropped by arithmetic, not by walking the loop.
    sent = playout.due(T0 + 100.1)
    assert len(sent) == 11 and playout.skipped == 4989
    assert sent[-1] == [b"m0", b"m1", b"m2"][5005 % 3]


def test_a_queued_prompt_follows_without_a_gap() -> None:
    playout = Playout(T0, frames("a", 2))
    playout.enqueue(frames("b", 2), now=T0)
    assert playout.due(T0 + 0.06) == [b"a0", b"a1", b"b0", b"b1"]
    assert playout.done


def test_a_loop_finishes_its_pass_when_something_is_queued_behind_it() -> None:
    playout = Playout(T0, frames("m", 3), loop=True)
    assert playout.due(T0 + 0.02) == [b"m0", b"m1"]
    playout.enqueue(frames("p", 2), now=T0 + 0.03)
    assert playout.due(T0 + 0.12) == [b"m2", b"p0", b"p1"]
    assert playout.done


def test_a_prompt_queued_after_the_stream_ran_dry_starts_on_the_next_slot() -> None:
    playout = Playout(T0, frames("a", 2))
    assert playout.due(T0 + 0.02) == [b"a0", b"a1"] and playout.done
    # Three seconds of nothing, then a new prompt: it is not "3 s late", nothing is
    # dropped, and the idle slots are reported so the RTP clock can jump over them.
    playout.enqueue(frames("b", 3), now=T0 + 3.005)
    assert playout.next_deadline() == pytest.approx(T0 + 3.02)
    assert playout.due(T0 + 3.01) == []
    assert playout.due(T0 + 3.02) == [b"b0"]
    assert playout.gap == 149 and playout.skipped == 0


def test_stop_drops_everything_and_a_new_prompt_can_follow() -> None:
    playout = Playout(T0, frames("a", 50), loop=True)
    playout.enqueue(frames("b", 5), now=T0)
    assert playout.due(T0) == [b"a0"]
    playout.stop()
    assert playout.done and playout.due(T0 + 0.5) == []
    playout.enqueue(frames("c", 1), now=T0 + 0.5)
    assert playout.due(T0 + 0.5) == [b"c0"]


def test_empty_playouts_are_done() -> None:
    playout = Playout(T0)
    assert playout.done and playout.due(T0 + 1) == []
    playout.enqueue((), now=T0)
    assert playout.done


@settings(max_examples=50)
@given(
    st.lists(st.floats(0.0, 0.15), min_size=1, max_size=60),
    st.integers(1, 40),
    st.booleans(),
)
def test_without_long_stalls_every_frame_goes_once_in_order_never_early(
    waits: list[float], count: int, loop: bool
) -> None:
    content = frames("x", count)
    playout = Playout(T0, content, loop=loop)
    now, sent = T0, []
    for wait in waits:
        now += wait
        batch = playout.due(now)
        for offset, _ in enumerate(batch):
            assert playout.deadline(len(sent) + offset) <= now + 1e-9
        sent += batch
        assert playout.gap == 0
    assert sent == [content[i % count] for i in range(len(sent))]
    if not loop:
        assert len(sent) == min(count, math.floor((now - T0) / 0.02 + 1e-9) + 1)


@settings(max_examples=50)
@given(st.lists(st.floats(0.0, 2.0), min_size=1, max_size=30))
def test_with_stalls_the_content_stays_in_step_with_the_clock(waits: list[float]) -> None:
    content = tuple(i.to_bytes(2, "big") for i in range(97))
    meter = JitterMeter()
    playout = Playout(T0, content, loop=True, meter=meter)
    now, slot = T0, 0
    for wait in waits:
        now += wait
        batch = playout.due(now)
        slot += playout.gap
        for frame in batch:
            # The frame sent in slot n is the one a stall-free stream would send there,
            # and it is neither early nor older than the backlog limit.
            assert int.from_bytes(frame, "big") == slot % len(content)
            assert now - 0.2 - 1e-9 <= playout.deadline(slot) <= now + 1e-9
            slot += 1
    assert slot == math.floor((now - T0) / 0.02 + 1e-9) + 1  # nothing due is left behind
    assert 0.0 <= meter.percentile_ms(0) and meter.max_ms() <= 200.0 + 1e-6


def test_jitter_meter_percentiles_use_nearest_rank() -> None:
    meter = JitterMeter()
    assert meter.p99_ms() == 0.0 and len(meter) == 0
    for i in range(100):
        meter.record(10.0, 10.0 + (i + 1) / 1000)  # 1 ms .. 100 ms late
    assert len(meter) == 100
    assert meter.p50_ms() == pytest.approx(50.0)
    assert meter.p99_ms() == pytest.approx(99.0)
    assert meter.max_ms() == pytest.approx(100.0)
    meter.reset()
    assert len(meter) == 0
