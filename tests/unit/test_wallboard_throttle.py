"""The wallboard throttle: at most one send per interval, bursts coalesced, nothing sent
while nothing changed. Time is an argument, so these run on a fake clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.reporting.throttle import Throttle


def test_the_first_change_after_a_quiet_spell_is_due_at_once() -> None:
    throttle = Throttle(1.0)
    assert throttle.due(100.0) is None and not throttle.dirty
    throttle.mark_dirty(100.0)
    assert throttle.due(100.0) == 0.0
    throttle.fired(100.0)
    assert throttle.due(100.2) is None  # sent, and nothing changed since


def test_changes_within_the_interval_wait_for_it_and_share_one_send() -> None:
    throttle = Throttle(1.0)
    throttle.mark_dirty(10.0)
    throttle.fired(10.0)
    for at in (10.1, 10.2, 10.25):
        throttle.mark_dirty(at)
    assert throttle.dirty_since == 10.1  # the oldest change waiting, for latency figures
    assert throttle.due(10.25) == pytest.approx(0.75)
    assert throttle.due(10.9) == pytest.approx(0.1)
    assert throttle.due(11.0) == 0.0
    throttle.fired(11.0)
    assert throttle.due(11.0) is None and throttle.dirty_since is None


def test_after_a_long_pause_a_change_goes_out_at_once() -> None:
    throttle = Throttle(1.0)
    throttle.mark_dirty(0.0)
    throttle.fired(0.0)
    throttle.mark_dirty(30.0)
    assert throttle.due(30.0) == 0.0


def test_reset_drops_pending_changes_without_counting_a_send() -> None:
    throttle = Throttle(1.0)
    throttle.mark_dirty(5.0)
    throttle.reset()
    assert throttle.due(5.0) is None
    throttle.mark_dirty(5.1)
    assert throttle.due(5.1) == 0.0  # no send happened, so nothing to wait for


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError):
        Throttle(-1.0)


def simulate(events: list[float], interval_s: float = 1.0) -> list[float]:
    """The send loop of a wallboard socket, driven by a fake clock: each event marks the
    board dirty; one timer per pending send fires at ``now + due(now)``."""
    throttle = Throttle(interval_s)
    sends: list[float] = []
    timer: float | None = None
    for at in [*sorted(events), math.inf]:
        if timer is not None and timer <= at:
            throttle.fired(timer)
            sends.append(timer)
            timer = None
        if at == math.inf:
            break
        throttle.mark_dirty(at)
        if timer is None:
            wait = throttle.due(at)
            assert wait is not None
            timer = at + wait
    return sends


def test_a_burst_of_twenty_changes_in_a_few_milliseconds_makes_two_sends() -> None:
    burst = [1000.0 + n * 0.0002 for n in range(20)]
    sends = simulate(burst)
    # The first change goes at once; the other 19 share one send a second later.
    assert sends == [1000.0, 1001.0]


@given(
    st.lists(
        st.floats(min_value=0.0, max_value=60.0, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=200,
    )
)
def test_sends_are_an_interval_apart_and_the_last_covers_the_last_change(
    events: list[float],
) -> None:
    sends = simulate(events)
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sends, sends[1:], strict=False))
    assert sends[-1] >= max(events)  # nothing is left unsent
    # One send at the first change, then at most one per second until a second after the
    # last: the bound the wallboard test checks for a burst.
    assert len(sends) <= min(len(events), math.floor(max(events) - min(events)) + 2)
    # Each change is sent within one interval of happening.
    for at in events:
        assert any(at <= sent <= at + 1.0 + 1e-9 for sent in sends)
