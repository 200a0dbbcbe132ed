"""Sans-IO pacing of outgoing media frames on a fixed 20 ms grid, and a send-lateness meter."""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

FRAME_S: Final = 0.020
# Frames more than this late are dropped rather than sent in a burst (see Playout.due).
MAX_BACKLOG_S: Final = 0.200
# Float slack when comparing a computed deadline with a clock reading: t0 + n * 0.02 is
# rarely exact in binary, and a frame due "now" must not wait for the next wake-up.
_EPSILON: Final = 1e-9


@dataclass(slots=True)
class _Segment:
    frames: tuple[bytes, ...]
    loop: bool
    index: int = 0


class JitterMeter:
    """Records how late each frame left against its deadline; reports percentiles in ms."""

    def __init__(self) -> None:
        self._lateness = array("d")

    def __len__(self) -> int:
        return len(self._lateness)

    def record(self, deadline: float, sent_at: float) -> None:
        self._lateness.append(sent_at - deadline)

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile ``q`` (0–100) of lateness in ms; 0.0 before any record."""
        if not self._lateness:
            return 0.0
        ordered = sorted(self._lateness)
        rank = max(1, math.ceil(q / 100 * len(ordered)))
        return ordered[rank - 1] * 1000.0

    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    def max_ms(self) -> float:
        return max(self._lateness, default=0.0) * 1000.0

    def reset(self) -> None:
        self._lateness = array("d")


class Playout:
    """Which frames are due, for one outgoing stream started at ``t0``.

    Frame ``n`` of the stream is due at ``t0 + n * frame_s``, computed from ``t0`` every
    time, never by adding up sleeps, so wake-up error never accumulates into drift. A late
    wake-up gets every frame whose time has come, so the stream catches up at once.

    The stream plays segments in order: a prompt, then whatever was queued after it. A
    looping segment (music on hold) repeats until something is queued behind it; then it
    finishes its current pass and the queued segment follows.

    A caller wires it to an :class:`~trunkline.media.rtp.RtpSender` like this::

        frames = playout.due(now)
        if playout.gap:
            rtp.skip(playout.gap * 160)   # keep the RTP clock in step with t0's grid
        for frame in frames:
            send(rtp.packet(frame, samples=160))
        rearm(playout.next_deadline())
    """

    def __init__(
        self,
        t0: float,
        frames: Sequence[bytes] = (),
        *,
        loop: bool = False,
        frame_s: float = FRAME_S,
        max_backlog_s: float = MAX_BACKLOG_S,
        meter: JitterMeter | None = None,
    ) -> None:
        self.t0 = t0
        self.frame_s = frame_s
        self.max_backlog_s = max_backlog_s
        self.meter = meter
        self._segments: deque[_Segment] = deque()
        self._slot = 0  # grid index of the next frame to send
        self._last_sent_slot = -1
        self.gap = 0  # grid slots left empty before the frames the last due() returned
        self.skipped = 0  # frames dropped after stalls, in total
        if frames:
            self._segments.append(_Segment(tuple(frames), loop))

    @property
    def done(self) -> bool:
        """Nothing left to send (finished or stopped); enqueue() starts it again."""
        return not self._segments

    def deadline(self, slot: int) -> float:
        return self.t0 + slot * self.frame_s

    def next_deadline(self) -> float:
        """When the next frame is due; ``math.inf`` when there is nothing to send."""
        return math.inf if self.done else self.deadline(self._slot)

    def enqueue(self, frames: Sequence[bytes], now: float, *, loop: bool = False) -> None:
        """Play ``frames`` after what is already queued.

        ``now`` matters only if the stream had run dry: the new frames then start at the
        next slot of the grid, instead of counting the idle time as backlog to skip.
        """
        if not frames:
            return
        if self.done:
            self._slot = max(self._slot, math.ceil((now - self.t0) / self.frame_s - _EPSILON))
        self._segments.append(_Segment(tuple(frames), loop))

    def stop(self) -> None:
        """Drop the current and queued frames at once (barge-in, hang-up)."""
        self._segments.clear()

    def due(self, now: float) -> list[bytes]:
        """Every frame whose deadline is at or before ``now``, in order.

        After a stall of more than ``max_backlog_s`` (a GC pause, an overloaded loop), the
        frames older than that are dropped and only the last ``max_backlog_s`` is sent.
        The receiver's jitter buffer (typically 40–200 ms) discards packets that arrive
        after their playout time, so sending older ones would only cost bandwidth and
        push a burst at the far end; dropping them keeps the content in step with the
        clock, and the far end conceals the hole as it would loss. See :attr:`gap`.
        """
        self.gap = 0
        if self.done:
            return []
        due_until = math.floor((now - self.t0) / self.frame_s + _EPSILON)  # last due slot
        oldest = math.ceil((now - self.max_backlog_s - self.t0) / self.frame_s - _EPSILON)
        if oldest > self._slot:
            dropped = self._advance(oldest - self._slot)
            self.skipped += dropped
            self._slot += dropped
        frames: list[bytes] = []
        while self._slot <= due_until and self._segments:
            segment = self._segments[0]
            frames.append(segment.frames[segment.index])
            if self.meter is not None:
                self.meter.record(self.deadline(self._slot), now)
            self._advance(1)
            if len(frames) == 1:
                self.gap = self._slot - self._last_sent_slot - 1
            self._last_sent_slot = self._slot
            self._slot += 1
        return frames

    def _advance(self, count: int) -> int:
        """Move the content on by up to ``count`` frames; returns how many it moved."""
        moved = 0
        while moved < count and self._segments:
            segment = self._segments[0]
            remaining = len(segment.frames) - segment.index
            if segment.loop and len(self._segments) == 1:
                # Looping with nothing queued: wrap around without walking every pass.
                segment.index = (segment.index + count - moved) % len(segment.frames)
                return count
            step = min(remaining, count - moved)
            segment.index += step
            moved += step
            if segment.index == len(segment.frames):
                # Finished, or a loop that ends its pass because a successor is queued.
                self._segments.popleft()
        return moved
