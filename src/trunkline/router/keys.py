"""Keys of the routing indexes: per queue, (queue, skill) and (queue, skill pair)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

IndexKey = tuple[str, ...]


def index_keys(queues: frozenset[str], skills: Iterable[str]) -> list[IndexKey]:
    """Every list an agent is filed in: per queue, per (queue, skill) and per (queue, skill
    pair). Pairs make a multi-skill interaction's walk short: most agents in a pair list
    already hold two of its skills."""
    names = sorted(skills)
    keys: list[IndexKey] = []
    for queue in sorted(queues):
        keys.append((queue,))
        for i, first in enumerate(names):
            keys.append((queue, first))
            for second in names[i + 1 :]:
                keys.append((queue, first, second))
    return keys


def candidate_keys(queue: str, names: tuple[str, ...]) -> Iterator[IndexKey]:
    """The lists that hold every agent able to serve needs ``names`` (sorted) in ``queue``."""
    if not names:
        yield (queue,)
    elif len(names) == 1:
        yield (queue, names[0])
    else:
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                yield (queue, first, second)
