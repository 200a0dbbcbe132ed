"""A one-line progress bar for long commands, redrawn in place on a terminal stream."""

from __future__ import annotations

from typing import TextIO

__all__ = ["ProgressBar"]

_WIDTH = 30


class ProgressBar:
    """Draws ``[#####.....] done/total  pct%`` on ``stream``, one line rewritten with ``\\r``."""

    def __init__(self, stream: TextIO, *, label: str = "events") -> None:
        self._stream = stream
        self._label = label
        self._drawn = False

    @staticmethod
    def render(done: int, total: int, label: str = "events") -> str:
        fraction = 1.0 if total <= 0 else min(1.0, done / total)
        filled = round(_WIDTH * fraction)
        bar = "#" * filled + "." * (_WIDTH - filled)
        return f"[{bar}] {done}/{total} {label} {100 * fraction:5.1f}%"

    def update(self, done: int, total: int) -> None:
        self._stream.write("\r" + self.render(done, total, self._label))
        self._stream.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
