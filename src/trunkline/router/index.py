"""Routable agents in idle order, per queue and per (queue, skill).

An arriving interaction walks the shortest list that can hold its match and stops at the
first eligible agent. (Waiting interactions are indexed in :mod:`trunkline.router.classes`.)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping

from trunkline.router.records import AgentRecord

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
            agent_id = agent.id
            for lst in agent.indexed_in:
                lst.move_to_end(agent_id)
            return
        lists: list[AgentList] = []
        for queue in agent.spec.queues:
            lists.append(self._by_queue.setdefault(queue, OrderedDict()))
            for skill in agent.spec.skills:
                lists.append(self._by_skill.setdefault((queue, skill), OrderedDict()))
        for members in lists:
            members[agent.id] = agent
        agent.indexed_in = tuple(lists)

    def unfile(self, agent: AgentRecord) -> None:
        agent_id = agent.id
        for lst in agent.indexed_in:
            del lst[agent_id]
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
