"""Indexes that keep a routing decision independent of how many agents or interactions exist.

Routable agents are filed in idle order per queue and per (queue, skill); an arriving
interaction walks the shortest list that can hold its match. Waiting interactions are
filed in rank order per (queue, medium); an agent freeing up walks the lists of its queues
for the media it can take. Each walk stops at the first eligible entry.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from sortedcontainers import SortedList

from trunkline.domain.media import Medium
from trunkline.router.records import AgentRecord, InteractionRecord

AgentList = OrderedDict[str, AgentRecord]
_EMPTY: AgentList = OrderedDict()


class AgentIndex:
    """Routable agents, longest idle first, per queue and per (queue, skill)."""

    __slots__ = ("_by_queue", "_by_skill", "_seq")

    def __init__(self) -> None:
        self._by_queue: dict[str, AgentList] = {}
        self._by_skill: dict[tuple[str, str], AgentList] = {}
        self._seq = 0

    def file(self, agent: AgentRecord) -> None:
        """File (or move to the back of every list) an agent that just became available."""
        self._seq += 1
        agent.idle_seq = self._seq
        if agent.indexed_in:
            for lst in agent.indexed_in:
                assert isinstance(lst, OrderedDict)
                lst.move_to_end(agent.id)
            return
        lists: list[AgentList] = []
        for queue in agent.spec.queues:
            lst = self._by_queue.get(queue)
            if lst is None:
                lst = self._by_queue[queue] = OrderedDict()
            lists.append(lst)
            for skill in agent.spec.skills:
                key = (queue, skill)
                lst = self._by_skill.get(key)
                if lst is None:
                    lst = self._by_skill[key] = OrderedDict()
                lists.append(lst)
        for lst in lists:
            lst[agent.id] = agent
        agent.indexed_in = tuple(lists)

    def unfile(self, agent: AgentRecord) -> None:
        for lst in agent.indexed_in:
            assert isinstance(lst, OrderedDict)
            del lst[agent.id]
        agent.indexed_in = ()

    def candidates(self, queue: str, skills: Mapping[str, int]) -> AgentList:
        """The shortest list that contains every agent of ``queue`` able to serve ``skills``."""
        if not skills:
            return self._by_queue.get(queue, _EMPTY)
        best = _EMPTY
        best_len = -1
        by_skill = self._by_skill
        for skill, level in skills.items():
            if level <= 0:
                continue
            lst = by_skill.get((queue, skill))
            if lst is None:
                return _EMPTY
            n = len(lst)
            if best_len < 0 or n < best_len:
                best, best_len = lst, n
        if best_len < 0:
            return self._by_queue.get(queue, _EMPTY)
        return best

    def queue_members(self, queue: str) -> Iterator[AgentRecord]:
        return iter(self._by_queue.get(queue, _EMPTY).values())


Entry = tuple[float, int, InteractionRecord]


class WaitingIndex:
    """Waiting interactions in rank order, per (queue, medium)."""

    __slots__ = ("_lists",)

    def __init__(self) -> None:
        self._lists: dict[tuple[str, Medium], SortedList] = {}

    def add(self, it: InteractionRecord) -> None:
        entry = (it.rank, it.seq, it)
        for queue in it.queues:
            key = (queue, it.medium)
            lst = self._lists.get(key)
            if lst is None:
                lst = self._lists[key] = SortedList()
            lst.add(entry)

    def remove(self, it: InteractionRecord) -> None:
        entry = (it.rank, it.seq, it)
        for queue in it.queues:
            self._lists[(queue, it.medium)].remove(entry)

    def lists_for(self, queues: Iterable[str], media: Iterable[Medium]) -> list[SortedList]:
        out = []
        for queue in queues:
            for medium in media:
                lst = self._lists.get((queue, medium))
                if lst:
                    out.append(lst)
        return out

    def waiting(self, queue: str) -> Iterator[InteractionRecord]:
        """Every interaction waiting in ``queue``, any medium (not in rank order across media)."""
        for (q, _medium), lst in self._lists.items():
            if q == queue:
                for entry in lst:
                    yield entry[2]
