"""When to send the next wallboard update: at most one per interval, bursts coalesced.

Sans-IO: time is an argument. The caller marks the board dirty as events arrive, asks
:meth:`Throttle.due` how long to wait, and reports each send with :meth:`Throttle.fired`.
"""

from __future__ import annotations

__all__ = ["Throttle"]


class Throttle:
    """A dirty flag plus the time of the last send.

    Any number of :meth:`mark_dirty` calls between two sends ask for one send; the first
    send after a quiet spell is due at once, later ones ``interval_s`` after the last.
    """

    def __init__(self, interval_s: float = 1.0) -> None:
        if interval_s < 0:
            raise ValueError("interval_s must not be negative")
        self.interval_s = interval_s
        self._last_sent: float | None = None
        self._dirty_since: float | None = None

    @property
    def dirty(self) -> bool:
        return self._dirty_since is not None

    @property
    def dirty_since(self) -> float | None:
        """When the oldest change not yet sent was marked (for latency figures)."""
        return self._dirty_since

    def mark_dirty(self, now: float) -> None:
        """Something changed at ``now``; a later mark before the send changes nothing."""
        if self._dirty_since is None:
            self._dirty_since = now

    def due(self, now: float) -> float | None:
        """Seconds to wait before sending (0.0: send now), or None when nothing is pending."""
        if self._dirty_since is None:
            return None
        if self._last_sent is None:
            return 0.0
        return max(0.0, self._last_sent + self.interval_s - now)

    def fired(self, now: float) -> None:
        """A send happened at ``now``: it carries every change marked so far."""
        self._last_sent = now
        self._dirty_since = None

    def reset(self) -> None:
        """Forget pending changes without counting a send (nobody was there to send to)."""
        self._dirty_since = None
