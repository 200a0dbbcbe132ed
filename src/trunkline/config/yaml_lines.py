"""YAML text → plain data, plus the line of every key path, for errors that point at the file.

Parsing follows ``yaml.SafeLoader`` exactly; the lines come from the marks of the node
graph that ``compose`` builds, walked alongside the constructed data.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from trunkline.domain.errors import ConfigError

KeyPath = tuple[Hashable, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A key written twice in one mapping: YAML keeps the last silently, we report it."""

    path: KeyPath
    line: int
    first_line: int


@dataclass(frozen=True, slots=True)
class LocatedYaml:
    """The document's data and the 1-based line where each key path is written."""

    data: Any
    lines: Mapping[KeyPath, int]
    duplicates: tuple[Duplicate, ...] = ()

    def line_of(self, path: Sequence[Hashable]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that is written in the file."""
        key = tuple(path)
        while True:
            line = self.lines.get(key)
            if line is not None or not key:
                return line
            key = key[:-1]


def parse_yaml(text: str, source: str) -> LocatedYaml:
    """Parse one YAML document; a syntax error becomes a :class:`ConfigError` with its line."""
    try:
        # The reader rejects control characters as soon as the loader is built.
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source, text) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return LocatedYaml(data=None, lines={})
        # Before construction: SafeLoader flattens merge keys (<<) into the node in place,
        # which would make inherited keys look like duplicates.
        duplicates = tuple(_find_duplicates(loader, root))
        data = loader.construct_document(root)
        lines: dict[KeyPath, int] = {}
        _map_lines(loader, root, (), lines, set())
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source, text) from None
    finally:
        loader.dispose()
    return LocatedYaml(data=data, lines=lines, duplicates=duplicates)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _key(loader: yaml.SafeLoader, node: Node) -> Hashable:
    # The constructed key (``1:`` is the int 1, ``on:`` is True), so paths equal data keys.
    if isinstance(node, ScalarNode):
        key = loader.construct_object(node)
        return key if isinstance(key, Hashable) else repr(key)
    return f"<{type(node).__name__} at line {_line(node)}>"


def _map_lines(
    loader: yaml.SafeLoader, node: Node, path: KeyPath, lines: dict[KeyPath, int], seen: set[int]
) -> None:
    lines.setdefault(path, _line(node))
    # An aliased node is walked once, at its anchor: re-walking it under every alias would
    # loop on recursive aliases and blow up on "billion laughs" documents. Errors inside an
    # alias fall back to the line where the alias is used.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        # Later pairs win, as in the constructed dict (merged keys come first).
        for key_node, value_node in node.value:
            key_path = (*path, _key(loader, key_node))
            lines[key_path] = _line(key_node)
            _map_lines(loader, value_node, key_path, lines, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(loader, item, (*path, index), lines, seen)


def _find_duplicates(loader: yaml.SafeLoader, root: Node) -> list[Duplicate]:
    found: list[Duplicate] = []
    seen: set[int] = set()
    stack: list[tuple[Node, KeyPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[Hashable, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = _key(loader, key_node)
                if key in first:
                    found.append(Duplicate((*path, key), _line(key_node), first[key]))
                else:
                    first[key] = _line(key_node)
                stack.append((value_node, (*path, key)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
    found.sort(key=lambda d: d.line)
    return found


def _syntax_error(exc: yaml.YAMLError, source: str, text: str = "") -> ConfigError:
    line: int | None = None
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        if mark is not None:
            line = int(mark.line) + 1
    elif isinstance(exc, yaml.reader.ReaderError):
        # A bad character has a character offset, not a mark.
        line = text.count("\n", 0, exc.position) + 1
        message = str(exc).splitlines()[0]
    else:
        message = str(exc)
    where = f"{source}:{line}" if line is not None else source
    return ConfigError(
        f"{where}: YAML syntax error: {message}",
        details={"errors": [{"file": source, "line": line, "field": "", "message": message}]},
    )
