"""Skills, levels and media packed into one integer, so eligibility is a single AND.

Each skill gets five bits, one per level: an agent at level 3 sets the bits for levels 1-3,
an interaction needing level 2 sets only the level-2 bit. Each medium gets one bit, set on
the agent while it can take one more interaction of that medium. An agent can serve an
interaction exactly when ``need & ~agent_mask == 0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from trunkline.domain.media import ALL_MEDIA, Medium

LEVELS = 5
_MEDIUM_BIT: dict[Medium, int] = {m: 1 << i for i, m in enumerate(ALL_MEDIA)}
_SKILL_BASE = len(ALL_MEDIA)


class SkillRegistry:
    """Gives every skill name a stable bit position, on first sight."""

    __slots__ = ("_index",)

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._index: dict[str, int] = {}
        for name in names:
            self.position(name)

    def position(self, name: str) -> int:
        pos = self._index.get(name)
        if pos is None:
            pos = self._index[name] = _SKILL_BASE + LEVELS * len(self._index)
        return pos

    def agent_skill_bits(self, skills: Mapping[str, int]) -> int:
        bits = 0
        for name, level in skills.items():
            base = self.position(name)
            for lvl in range(min(max(level, 0), LEVELS)):
                bits |= 1 << (base + lvl)
        return bits

    def need_bits(self, medium: Medium, skills: Mapping[str, int]) -> int:
        bits = _MEDIUM_BIT[medium]
        for name, level in skills.items():
            if level <= 0:
                continue
            # A minimum above 5 can never be met; it keeps an impossible bit (level 5's).
            bits |= 1 << (self.position(name) + min(level, LEVELS) - 1)
        return bits


def media_bits(media: Iterable[Medium]) -> int:
    bits = 0
    for medium in media:
        bits |= _MEDIUM_BIT[medium]
    return bits
