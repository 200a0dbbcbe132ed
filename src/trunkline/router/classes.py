"""Waiting interactions indexed by need, through agent classes.

Agents with the same skills (and levels) and the same queues form one *class*. When an
interaction has to wait, it is filed once in a rank-ordered heap per eligible class and
medium. An agent with free capacity then only looks at the heads of its own class's heaps:
the work does not grow with the number of waiting interactions.

Heaps are cleaned lazily: an entry is stale when the interaction is no longer waiting, or was
filed again since (``gen`` moved on). Stale entries are dropped when they reach the head,
and all heaps are compacted when stale entries pile up.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from trunkline.domain.interaction import InteractionState
from trunkline.domain.media import ALL_MEDIA, Medium
from trunkline.router.keys import IndexKey, candidate_keys, index_keys
from trunkline.router.records import InteractionRecord

Entry = tuple[float, int, int, InteractionRecord]  # rank, seq, gen, interaction
_QUEUED = InteractionState.QUEUED


class AgentClass:
    """Agents who can serve exactly the same interactions (capacity aside)."""

    __slots__ = ("key", "skill_bits", "queues", "skills", "heaps", "members")

    def __init__(self, skill_bits: int, queues: frozenset[str], skills: frozenset[str]) -> None:
        self.key = (skill_bits, queues)
        self.skill_bits = skill_bits
        self.queues = queues
        self.skills = skills
        self.heaps: dict[Medium, list[Entry]] = {m: [] for m in ALL_MEDIA}
        self.members = 0

    def can_serve(self, it: InteractionRecord) -> bool:
        return not it.need_skills & ~self.skill_bits and not self.queues.isdisjoint(it.queues)


def is_live(entry: Entry) -> bool:
    it = entry[3]
    return it.gen == entry[2] and it.state is _QUEUED and it.preferred_until is None


class ClassIndex:
    """Agent classes by (queue, skill), and the heaps of waiting interactions they hold."""

    __slots__ = ("_classes", "_lists", "_filed", "_kept")

    def __init__(self) -> None:
        self._classes: dict[tuple[int, frozenset[str]], AgentClass] = {}
        self._lists: dict[IndexKey, list[AgentClass]] = {}
        self._filed = 0  # entries pushed since the last compaction
        self._kept = 0  # entries the last compaction kept

    def class_for(
        self, skill_bits: int, queues: frozenset[str], skills: frozenset[str]
    ) -> tuple[AgentClass, bool]:
        """The class of an agent with this profile; True when it was just created."""
        key = (skill_bits, queues)
        cls = self._classes.get(key)
        if cls is not None:
            return cls, False
        cls = self._classes[key] = AgentClass(skill_bits, queues, skills)
        for index_key in index_keys(queues, skills):
            self._lists.setdefault(index_key, []).append(cls)
        return cls, True

    def _candidates(self, queue: str, it: InteractionRecord) -> list[AgentClass]:
        best: list[AgentClass] | None = None
        for key in candidate_keys(queue, it.skill_names):
            lst = self._lists.get(key)
            if lst is None:
                return []
            if best is None or len(lst) < len(best):
                best = lst
        return [] if best is None else best

    def file(self, it: InteractionRecord) -> None:
        """File a waiting interaction with every class that could serve it."""
        it.gen += 1
        entry: Entry = (it.rank, it.seq, it.gen, it)
        medium = it.medium
        need = it.need_skills
        several = len(it.queues) > 1
        seen: set[int] = set()
        push = heapq.heappush
        for queue in it.queues:
            for cls in self._candidates(queue, it):
                if need & ~cls.skill_bits:
                    continue
                if several:
                    if id(cls) in seen:
                        continue
                    seen.add(id(cls))
                push(cls.heaps[medium], entry)
                self._filed += 1

    def withdraw(self, it: InteractionRecord) -> None:
        """Make every filed entry of ``it`` stale (it was offered, cancelled or changed)."""
        it.gen += 1

    def fill(self, cls: AgentClass, waiting: Iterator[InteractionRecord]) -> None:
        """Give a new class the interactions already waiting that it can serve."""
        for it in waiting:
            if cls.can_serve(it):
                heapq.heappush(cls.heaps[it.medium], (it.rank, it.seq, it.gen, it))
                self._filed += 1

    def head(self, cls: AgentClass, medium: Medium) -> Entry | None:
        """The best live entry of a class's heap for ``medium`` (stale heads are dropped)."""
        heap = cls.heaps[medium]
        while heap:
            entry = heap[0]
            it = entry[3]
            if it.gen == entry[2] and it.state is _QUEUED and it.preferred_until is None:
                return entry
            heapq.heappop(heap)
        return None

    def first_not_rejected(self, cls: AgentClass, medium: Medium, agent_id: str) -> Entry | None:
        """Like :meth:`head`, but skipping interactions this agent turned down."""
        heap = cls.heaps[medium]
        aside: list[Entry] = []
        found: Entry | None = None
        while heap:
            entry = heapq.heappop(heap)
            it = entry[3]
            if not (it.gen == entry[2] and it.state is _QUEUED and it.preferred_until is None):
                continue
            aside.append(entry)
            if agent_id not in it.rejected_by:
                found = entry
                break
        for entry in aside:
            heapq.heappush(heap, entry)
        return found

    def needs_compaction(self) -> bool:
        # Compaction costs O(entries); running it only once the heaps have at least doubled
        # since the last one keeps its cost O(1) per filing, amortised.
        return self._filed > 50_000 and self._filed > self._kept

    def compact(self) -> None:
        """Drop every stale entry."""
        live = 0
        for cls in self._classes.values():
            for medium, heap in cls.heaps.items():
                if heap:
                    kept = [e for e in heap if is_live(e)]
                    heapq.heapify(kept)
                    cls.heaps[medium] = kept
                    live += len(kept)
        self._kept = live
        self._filed = 0

    def __len__(self) -> int:
        return len(self._classes)
