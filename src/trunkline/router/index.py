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

    An agent sits in dozens of lists, so nothing here touches all of them per offer:

    - Filing an agent that was not available appends one entry per list, keyed by a fresh
      sequence number (``filed_seq``): insertion order is filing order.
    - Moving an available agent to the back (it just took a chat and has room for more)
      only gives it a new ``idle_seq``; its entries stay where they are, *ahead* of its
      true place. A walk therefore keeps the smallest ``idle_seq`` among the eligible
      agents it meets and stops at the first entry filed after that: every later entry's
      ``idle_seq`` is at least its key.
    - Unfiling forgets ``filed_seq``: the entries are dead, dropped by the walks that meet
      them or by a compaction once dead entries outnumber live ones.
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
        """Put an agent that just became available, or just took work and still has room,
        at the back of the idle order."""
        self._seq += 1
        seq = self._seq
        agent.idle_seq = seq
        if agent.filed_seq:
            return
        agent.filed_seq = seq
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
        best_idle = self._seq + 1
        for seq, agent in lst.items():
            if agent.filed_seq != seq:
                stale.append(seq)
                continue
            if seq > best_idle:
                break  # filed after the best so far: nothing from here on is idle longer
            if not need & agent.lacks and (not rejected or agent.id not in rejected):
                idle = agent.idle_seq
                if idle < best_idle:
                    found, best_idle = agent, idle
                    if idle == seq:
                        break  # in its true place: it is the longest idle
        if stale:
            for seq in stale:
                del lst[seq]
            self._entries -= len(stale)
        return found

    def live(self, lst: AgentList) -> Iterator[AgentRecord]:
        """The agents of ``lst`` that are still filed there (roughly in idle order: compare
        ``idle_seq`` where order matters)."""
        for seq, agent in lst.items():
            if agent.filed_seq == seq:
                yield agent

    def candidates(self, queue: str, names: tuple[str, ...]) -> AgentList:
        """The shortest list holding every agent of ``queue`` that could serve ``names``."""
        lists = self._lists
        if len(names) < 2:  # the common cases, without building a generator
            return lists.get((queue, names[0]) if names else (queue,), _EMPTY)
        best: AgentList | None = None
        for key in candidate_keys(queue, names):
            lst = lists.get(key)
            if lst is None:
                return _EMPTY
            if best is None or len(lst) < len(best):
                best = lst
        return _EMPTY if best is None else best
