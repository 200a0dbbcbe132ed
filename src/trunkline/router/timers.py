"""The engine's deadlines: one heap, entries invalidated lazily by a token check."""

from __future__ import annotations

import heapq
from enum import IntEnum


class TimerKind(IntEnum):
    OFFER = 1
    ESCALATION = 2
    PREFERRED = 3
    WRAP_UP = 4
    GRACE = 5


Timer = tuple[float, int, TimerKind, str, int]


class TimerHeap:
    """Deadlines ordered by time; a fired entry is checked against its owner's token."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def push(self, deadline: float, kind: TimerKind, key: str, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (deadline, self._seq, kind, key, token))

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Timer | None:
        if self._heap and self._heap[0][0] <= now:
            return heapq.heappop(self._heap)
        return None

    def __len__(self) -> int:
        return len(self._heap)
