"""Routable agents in idle order, per queue, per (queue, skill) and per (queue, skill pair).

An arriving interaction walks the shortest list that can hold its match and stops at the
first eligible agent. (Waiting interactions are indexed in :mod:`trunkline.router.classes`.)
"""

from __future__ import annotations

from collections.abc import Iterator

from trunkline.router.keys import IndexKey, candidate_keys
from trunkline.router.records import AgentRecord

AgentList = dict[int, AgentRecord]
_EMPTY: AgentList = {}


class AgentIndex:
    """Routable agents, longest idle first, per queue, (queue, skill) and (queue, pair).

    Each list maps a filing sequence number to the agent, so insertion order is idle order
    and (re)filing only appends. Unfiling just forgets the agent's sequence number: its old
    entries are stale and are dropped by the walks that meet them, or by a compaction once
    stale entries outnumber live ones. An agent sits in dozens of lists; deleting from all
    of them on every offer would cost more than the decision itself.
    """

    __slots__ = ("_lists", "_seq", "_entries", "_live")

    def __init__(self) -> None:
        self._lists: dict[IndexKey, AgentList] = {}
        self._seq = 0
        self._entries = 0
        self._live = 0

    def prepare(self, agent: AgentRecord) -> None:
        """Resolve the lists an agent is filed in once, when its profile is set."""
        self.unfile(agent)
        lists = self._lists
        agent.index_lists = tuple(lists.setdefault(key, {}) for key in agent.index_keys)

    def file(self, agent: AgentRecord) -> None:
        """File an agent that just became available (again) at the back of every list."""
        if agent.filed_seq:
            self._live -= len(agent.index_lists)
        self._seq += 1
        seq = self._seq
        agent.filed_seq = seq
        agent.idle_seq = seq
        for lst in agent.index_lists:
            lst[seq] = agent
        n = len(agent.index_lists)
        self._entries += n
        self._live += n
        if self._entries > 2 * self._live + 50_000:
            self.compact()

    def unfile(self, agent: AgentRecord) -> None:
        if agent.filed_seq:
            self._live -= len(agent.index_lists)
            agent.filed_seq = 0

    def compact(self) -> None:
        """Drop every stale entry; amortised O(1) per filing."""
        entries = 0
        for lst in self._lists.values():
            kept = {seq: a for seq, a in lst.items() if a.filed_seq == seq}
            # In place: agents hold references to these very dicts.
            lst.clear()
            lst.update(kept)
            entries += len(kept)
        self._entries = entries

    def first_eligible(self, lst: AgentList, need: int, rejected: set[str]) -> AgentRecord | None:
        """The longest-idle agent in ``lst`` whose mask covers ``need``."""
        stale: list[int] = []
        found: AgentRecord | None = None
        for seq, agent in lst.items():
            if agent.filed_seq != seq:
                stale.append(seq)
            elif not need & agent.lacks and (not rejected or agent.id not in rejected):
                found = agent
                break
        if stale:
            for seq in stale:
                del lst[seq]
            self._entries -= len(stale)
        return found

    def live(self, lst: AgentList) -> Iterator[AgentRecord]:
        """The agents of ``lst`` that are still filed there, longest idle first."""
        for seq, agent in lst.items():
            if agent.filed_seq == seq:
                yield agent

    def candidates(self, queue: str, names: tuple[str, ...]) -> AgentList:
        """The shortest list holding every agent of ``queue`` that could serve ``names``."""
        best: AgentList | None = None
        lists = self._lists
        for key in candidate_keys(queue, names):
            lst = lists.get(key)
            if lst is None:
                return _EMPTY
            if best is None or len(lst) < len(best):
                best = lst
        return _EMPTY if best is None else best

    def queue_members(self, queue: str) -> Iterator[AgentRecord]:
        return self.live(self._lists.get((queue,), _EMPTY))
