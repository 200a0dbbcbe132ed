"""IVR flows as data: the node model, and loading a YAML flow file with every problem reported.

A flow file maps dialled numbers to flows and each flow to named nodes::

    numbers: {"+442071234567": main, "100": main}   # quote numbers: YAML reads 0207 as octal
    flows:
      main:
        start: welcome
        nodes:
          welcome: {play: [welcome], next: hours}    # interruptible: false forbids barge-in
          hours: {business_hours: office, open: storm, closed: closed_msg}
          storm: {switch: {name: storm, on: closed_msg, off: menu}}
          menu:
            menu: {prompt: [menu], options: {"1": sales, "2": account}, timeout_s: 5,
                   retries: 2, invalid: [invalid], no_input: [sorry]}
            on_fail: agent
          account:
            collect: {prompt: [enter_account], min: 6, max: 10, terminator: "#",
                      timeout_s: 8, retries: 2, into: account_number}
            next: lookup
            on_fail: agent
          lookup: {crm_lookup: {by: account_number}, found: vip_check, not_found: agent}
          vip_check:
            branch:
              when: [{if: {customer.class: vip}, then: vip_queue},
                     {if: {customer.country: {in: [GB, IE]}}, then: local}]
              else: agent
          sales: {set: {queue: sales, skills: {english: 2}, priority: 1, data: {intent: sales},
                        vars: {topic: sales}}, next: queue_it}
          queue_it:
            queue: {name: sales, hold_music: moh, announce_every_s: 30,
                    announce: [position, expected_wait], offer_callback_after_s: 60,
                    callback_key: "1", voicemail_key: "2", voicemail: voicemail}
          cb: {callback: {number: caller_id, queue: sales, prompt: [cb_ok]}, next: bye}
          voicemail: {voicemail: {prompt: [leave_message], max_s: 120, queue: support}, next: bye}
          out: {transfer: {to: "+441632960999"}}
          bye: {hangup: {}}

Shape rule: a target chosen by what the caller did (``next``, ``on_fail``, ``found``,
``not_found``, ``open``, ``closed``) sits on the node; a target that is part of the node's own
table (menu ``options``, switch ``on``/``off``, branch ``when``/``else``, the queue's
``voicemail`` node) sits inside the kind's mapping. ``next`` is optional only after
``callback`` and ``voicemail`` (the call is then hung up).

Validation collects every problem and raises one :class:`FlowConfigError` whose lines read
``file:line: flows.main.nodes.menu.options.1: unknown node 'salez' (did you mean 'sales'?)``.
Unreachable nodes are *warnings* (``IvrConfig.warnings``, same format): a flow being edited
often keeps spare nodes, and they cannot harm a call. A cycle made only of nodes that never
wait for the caller (play, set, branch, lookup, ...) is an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from trunkline.config.yaml_lines import KeyPath, LocatedYaml, parse_yaml
from trunkline.domain.calendar import ALWAYS_OPEN, BusinessHours
from trunkline.domain.errors import ConfigError
from trunkline.ivr.errors import FlowConfigError, UnknownNumberError

__all__ = [
    "ANNOUNCE_KEYWORDS",
    "DTMF_DIGITS",
    "BranchNode",
    "CallbackNode",
    "CollectNode",
    "Condition",
    "Flow",
    "HangupNode",
    "HoursNode",
    "IvrConfig",
    "LookupNode",
    "MenuNode",
    "Node",
    "PlayNode",
    "QueueNode",
    "SetNode",
    "SwitchNode",
    "TransferNode",
    "VoicemailNode",
    "WhenCase",
    "load_flows",
]

DTMF_DIGITS = frozenset("0123456789*#ABCD")
# Announcement keywords and the prompt each one starts with (the figure is said after it).
ANNOUNCE_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {"position": "queue_position", "expected_wait": "expected_wait"}
)
CALLER_ID = "caller_id"
DIALLED = "dialled"

# -- nodes -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayNode:
    prompts: tuple[str, ...]
    next: str
    interruptible: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class MenuNode:
    prompt: tuple[str, ...]
    options: Mapping[str, str]
    timeout_s: float = 5.0
    retries: int = 2  # further attempts after the first
    invalid: tuple[str, ...] = ()
    no_input: tuple[str, ...] = ()
    on_fail: str | None = None  # None: hang up


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectNode:
    prompt: tuple[str, ...]
    into: str
    next: str
    min: int = 1
    max: int = 20
    terminator: str | None = None
    timeout_s: float = 5.0  # before the first digit and between digits
    retries: int = 2
    invalid: tuple[str, ...] = ()
    no_input: tuple[str, ...] = ()
    on_fail: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupNode:
    by: str  # "caller_id" or the variable holding an account number
    found: str
    not_found: str
    timeout_s: float = 5.0  # no answer from the CRM counts as not found


@dataclass(frozen=True, slots=True, kw_only=True)
class SetNode:
    next: str
    queue: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class HoursNode:
    calendar: str
    open: str
    closed: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SwitchNode:
    name: str
    on: str
    off: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """One test on a variable: equal to ``value``, or (``op='in'``) one of ``values``."""

    var: str
    op: Literal["eq", "ne", "in", "not_in"]
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WhenCase:
    conditions: tuple[Condition, ...]  # all must hold
    then: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BranchNode:
    cases: tuple[WhenCase, ...]
    otherwise: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueNode:
    name: str | None = None  # None: the queue chosen by an earlier set node
    hold_music: str | None = None
    announce_every_s: float | None = None
    announce: tuple[str, ...] = ()  # "position", "expected_wait" or prompt names
    offer_callback_after_s: float | None = None  # None: the callback key works at once
    offer: tuple[str, ...] = ("callback_offer",)
    callback_key: str | None = None
    callback_confirm: tuple[str, ...] = ("callback_confirmed",)
    voicemail_key: str | None = None
    voicemail: str | None = None  # the node the voicemail key leads to


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackNode:
    number: str = CALLER_ID  # "caller_id" or a variable holding an entered number
    queue: str | None = None
    prompt: tuple[str, ...] = ()
    next: str | None = None  # None: hang up
    on_fail: str | None = None  # no number to call back; None: hang up


@dataclass(frozen=True, slots=True, kw_only=True)
class VoicemailNode:
    prompt: tuple[str, ...] = ()
    max_s: float = 120.0
    queue: str | None = None
    finish_key: str | None = "#"
    next: str | None = None  # None: hang up


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferNode:
    to: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HangupNode:
    reason: str = "ivr_hangup"


Node = (
    PlayNode
    | MenuNode
    | CollectNode
    | LookupNode
    | SetNode
    | HoursNode
    | SwitchNode
    | BranchNode
    | QueueNode
    | CallbackNode
    | VoicemailNode
    | TransferNode
    | HangupNode
)

# Nodes that wait for the caller; a cycle must pass through one of them.
INPUT_NODES = (MenuNode, CollectNode, QueueNode, VoicemailNode)


def targets(node: Node) -> Iterator[str]:
    """Every node name ``node`` can lead to."""
    match node:
        case PlayNode() | SetNode():
            yield node.next
        case MenuNode():
            yield from node.options.values()
            if node.on_fail:
                yield node.on_fail
        case CollectNode():
            yield node.next
            if node.on_fail:
                yield node.on_fail
        case LookupNode():
            yield from (node.found, node.not_found)
        case HoursNode():
            yield from (node.open, node.closed)
        case SwitchNode():
            yield from (node.on, node.off)
        case BranchNode():
            yield from (case.then for case in node.cases)
            yield node.otherwise
        case QueueNode():
            if node.voicemail:
                yield node.voicemail
        case CallbackNode():
            yield from (t for t in (node.next, node.on_fail) if t)
        case VoicemailNode():
            if node.next:
                yield node.next
        case TransferNode() | HangupNode():
            pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    name: str
    start: str
    nodes: Mapping[str, Node]


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrConfig:
    """Loaded flows, the numbers attached to them, and the calendars they may consult."""

    source: str
    numbers: Mapping[str, str]
    flows: Mapping[str, Flow]
    calendars: Mapping[str, BusinessHours]
    switches: frozenset[str] = frozenset()  # emergency switch names used by any flow
    warnings: tuple[str, ...] = ()

    def flow_for(self, dialled: str) -> Flow:
        """The flow attached to ``dialled``; :class:`UnknownNumberError` if there is none."""
        name = self.numbers.get(dialled)
        if name is None:
            raise UnknownNumberError(f"no IVR flow for dialled number {dialled!r}")
        return self.flows[name]


# -- loading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    path: KeyPath
    message: str


_NODE_KEYS = ("next", "on_fail", "found", "not_found", "open", "closed", "interruptible")
_KINDS: Mapping[str, tuple[str, ...]] = {
    # kind -> node-level keys it accepts besides itself
    "play": ("next", "interruptible"),
    "menu": ("on_fail",),
    "collect": ("next", "on_fail"),
    "crm_lookup": ("found", "not_found"),
    "set": ("next",),
    "business_hours": ("open", "closed"),
    "switch": (),
    "branch": (),
    "queue": (),
    "callback": ("next", "on_fail"),
    "voicemail": ("next",),
    "transfer": (),
    "hangup": (),
}


def load_flows(
    text: str,
    source: str,
    *,
    calendars: Mapping[str, BusinessHours] = MappingProxyType({"always": ALWAYS_OPEN}),
    queues: set[str] | None = None,
    skills: set[str] | None = None,
    prompts: set[str] | None = None,
) -> IvrConfig:
    """Load and check a flow file; raise :class:`FlowConfigError` listing every problem.

    Calendar names are always checked against ``calendars``; queues, skills and prompts
    only when the caller passes the known set.
    """
    try:
        doc = parse_yaml(text, source)
    except ConfigError as exc:  # YAML syntax: same words, the IVR's error type
        raise FlowConfigError(exc.message, details=exc.details) from None
    loader = _Loader(calendars, queues, skills, prompts)
    for dup in doc.duplicates:
        loader.problem(dup.path, f"duplicate key (first written at line {dup.first_line})")
    config = loader.document(doc.data, source)
    if loader.problems or config is None:
        raise _error(source, loader.problems, doc)
    warnings = tuple(_format(source, doc, w) for w in loader.warnings)
    return IvrConfig(
        source=source,
        numbers=config.numbers,
        flows=config.flows,
        calendars=MappingProxyType(dict(calendars)),
        switches=config.switches,
        warnings=warnings,
    )


def _field_name(path: Sequence[Hashable]) -> str:
    out = ""
    for part in path:
        # YAML 1.1 reads the keys `on:`/`off:` as booleans; show them as written.
        text = {True: "on", False: "off"}.get(part, str(part)) if isinstance(part, bool) else part
        if isinstance(text, int):
            out += f"[{text}]"
        else:
            out += f".{text}" if out else str(text)
    return out


def _format(source: str, doc: LocatedYaml, problem: _Problem) -> str:
    line = doc.line_of(problem.path)
    where = f"{source}:{line}" if line is not None else source
    name = _field_name(problem.path)
    return f"{where}: {name}: {problem.message}" if name else f"{where}: {problem.message}"


def _error(source: str, problems: Sequence[_Problem], doc: LocatedYaml) -> FlowConfigError:
    ordered = sorted(problems, key=lambda p: doc.line_of(p.path) or 0)
    entries = [
        {
            "file": source,
            "line": doc.line_of(p.path),
            "field": _field_name(p.path),
            "message": p.message,
        }
        for p in ordered
    ]
    message = "\n".join(_format(source, doc, p) for p in ordered)
    return FlowConfigError(message, details={"errors": entries})


def _did_you_mean(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True)
class _Loaded:
    numbers: Mapping[str, str]
    flows: Mapping[str, Flow]
    switches: frozenset[str]


class _Loader:
    """Reads the plain YAML data into nodes, noting each problem with its key path."""

    def __init__(
        self,
        calendars: Mapping[str, BusinessHours],
        queues: set[str] | None,
        skills: set[str] | None,
        prompts: set[str] | None,
    ) -> None:
        self.calendars = calendars
        self.queues = queues
        self.skills = skills
        self.prompts = prompts
        self.problems: list[_Problem] = []
        self.warnings: list[_Problem] = []
        self.switches: set[str] = set()

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(_Problem(path, message))

    # -- document ------------------------------------------------------------------------

    def document(self, data: Any, source: str) -> _Loaded | None:
        if not isinstance(data, Mapping):
            self.problem((), "expected a mapping with 'numbers' and 'flows'")
            return None
        self._keys(data, (), ("numbers", "flows"))
        flows: dict[str, Flow] = {}
        raw_flows = data.get("flows")
        if not isinstance(raw_flows, Mapping) or not raw_flows:
            self.problem(("flows",), "expected a mapping of flow name -> flow")
        else:
            for name, raw in raw_flows.items():
                flow = self.flow(str(name), raw, ("flows", name))
                if flow is not None:
                    flows[str(name)] = flow
        numbers: dict[str, str] = {}
        raw_numbers = data.get("numbers", {})
        if not isinstance(raw_numbers, Mapping):
            self.problem(("numbers",), "expected a mapping of dialled number -> flow name")
            raw_numbers = {}
        flow_names = sorted(str(n) for n in raw_flows) if isinstance(raw_flows, Mapping) else []
        for number, target in raw_numbers.items():
            path = ("numbers", number)
            if not isinstance(number, str):
                # YAML reads +44... and 0207... as integers (0207 even as octal).
                self.problem(path, "write the dialled number in quotes")
                continue
            if not isinstance(target, str):
                self.problem(path, "expected a flow name")
            elif target not in flow_names:
                self.problem(path, f"unknown flow {target!r}{_did_you_mean(target, flow_names)}")
            else:
                numbers[number] = target
        return _Loaded(MappingProxyType(numbers), MappingProxyType(flows), frozenset(self.switches))

    def flow(self, name: str, raw: Any, path: KeyPath) -> Flow | None:
        if not isinstance(raw, Mapping):
            self.problem(path, "expected a mapping with 'start' and 'nodes'")
            return None
        self._keys(raw, path, ("start", "nodes"))
        raw_nodes = raw.get("nodes")
        if not isinstance(raw_nodes, Mapping) or not raw_nodes:
            self.problem((*path, "nodes"), "expected a mapping of node name -> node")
            return None
        before = len(self.problems)
        refs: list[tuple[KeyPath, str]] = []  # (where it is written, node it names)
        nodes: dict[str, Node] = {}
        names = [str(n) for n in raw_nodes]
        variables = _assigned_variables(raw_nodes)
        sets_queue = _any_set_queue(raw_nodes)
        for node_name, raw_node in raw_nodes.items():
            reader = _NodeReader(self, (*path, "nodes", node_name), refs, variables, sets_queue)
            node = reader.node(raw_node)
            if node is not None:
                nodes[str(node_name)] = node
        start = raw.get("start")
        if start is None:
            self.problem(path, "missing 'start' node")
        elif not isinstance(start, str):
            self.problem((*path, "start"), "expected a node name")
        else:
            refs.append(((*path, "start"), start))
        for ref_path, target in refs:
            if target not in names:
                self.problem(ref_path, f"unknown node {target!r}{_did_you_mean(target, names)}")
        # The graph is checked even when nodes are broken, over the nodes that did load, so
        # a loop is reported together with the other problems.
        for cycle in _cycles_without_input(nodes):
            shown = " -> ".join([*cycle, cycle[0]])
            self.problem(
                (*path, "nodes", cycle[0]),
                f"loop without any input node would never wait for the caller: {shown}",
            )
        if len(self.problems) != before or not isinstance(start, str):
            return None
        reachable: set[str] = set()
        stack = [start]
        while stack:
            current = stack.pop()
            if current not in reachable:
                reachable.add(current)
                stack.extend(targets(nodes[current]))
        for node_name in nodes:
            if node_name not in reachable:
                self.warnings.append(_Problem((*path, "nodes", node_name), "unreachable node"))
        return Flow(name=name, start=start, nodes=MappingProxyType(nodes))

    def _keys(self, raw: Mapping[Any, Any], path: KeyPath, allowed: Sequence[str]) -> None:
        for key in raw:
            if key not in allowed:
                name = str(key)
                hint = _did_you_mean(name, allowed) or f" (expected one of: {', '.join(allowed)})"
                self.problem((*path, key), f"unknown field {name!r}{hint}")


def _assigned_variables(raw_nodes: Mapping[Any, Any]) -> set[str]:
    """Variable names some collect or set node of the flow assigns (order not considered)."""
    found: set[str] = set()
    for raw in raw_nodes.values():
        if not isinstance(raw, Mapping):
            continue
        collect = raw.get("collect")
        if isinstance(collect, Mapping) and isinstance(collect.get("into"), str):
            found.add(collect["into"])
        setting = raw.get("set")
        if isinstance(setting, Mapping) and isinstance(setting.get("vars"), Mapping):
            found.update(str(k) for k in setting["vars"])
    return found


def _any_set_queue(raw_nodes: Mapping[Any, Any]) -> bool:
    for raw in raw_nodes.values():
        if isinstance(raw, Mapping):
            setting = raw.get("set")
            if isinstance(setting, Mapping) and setting.get("queue") is not None:
                return True
    return False


def _cycles_without_input(nodes: Mapping[str, Node]) -> list[list[str]]:
    """Strongly connected groups of non-input nodes that contain a cycle (Tarjan)."""
    graph = {
        name: [t for t in targets(node) if t in nodes and not isinstance(nodes[t], INPUT_NODES)]
        for name, node in nodes.items()
        if not isinstance(node, INPUT_NODES)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        # Iterative depth-first search: flows are small, but recursion limits are not ours.
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = graph[node]
            if child < len(successors):
                work.append((node, child + 1))
                succ = successors[child]
                if succ not in index:
                    work.append((succ, 0))
                elif succ in on_stack:
                    low[node] = min(low[node], index[succ])
                continue
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    found.append(_order_cycle(sorted(group), graph))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return found


def _order_cycle(group: list[str], graph: Mapping[str, list[str]]) -> list[str]:
    """Walk the group from its first name along edges inside it, for a readable message."""
    members = set(group)
    order = [group[0]]
    while True:
        nxt = next(
            (t for t in graph[order[-1]] if t in members and t not in order),
            None,
        )
        if nxt is None:
            return order
        order.append(nxt)


class _NodeReader:
    """Reads one node; problems go to the loader with paths under the node."""

    def __init__(
        self,
        loader: _Loader,
        path: KeyPath,
        refs: list[tuple[KeyPath, str]],
        variables: set[str],
        sets_queue: bool,
    ) -> None:
        self.loader = loader
        self.path = path
        self.refs = refs
        self.variables = variables
        self.sets_queue = sets_queue
        self.ok = True

    def problem(self, path: KeyPath, message: str) -> None:
        self.ok = False
        self.loader.problem(path, message)

    def node(self, raw: Any) -> Node | None:
        if not isinstance(raw, Mapping):
            self.problem(self.path, "expected a mapping such as {play: [prompt], next: node}")
            return None
        kinds = [k for k in raw if k in _KINDS]
        if len(kinds) != 1:
            what = "no node kind" if not kinds else f"several node kinds ({', '.join(kinds)})"
            self.problem(self.path, f"{what}: expected exactly one of {', '.join(_KINDS)}")
            return None
        kind = str(kinds[0])
        allowed = (kind, *_KINDS[kind])
        for key in raw:
            if key not in allowed:
                name = str(key)
                hint = _did_you_mean(name, [*_KINDS, *_NODE_KEYS])
                if not hint and key in _NODE_KEYS:
                    hint = f" (a {kind} node takes: {', '.join(_KINDS[kind]) or 'nothing else'})"
                self.problem((*self.path, key), f"unknown field {name!r}{hint}")
        node = getattr(self, f"_{kind}")(raw, raw[kind], (*self.path, kind))
        return node if self.ok else None

    # -- field helpers -------------------------------------------------------------------

    def _ref(self, raw: Mapping[Any, Any], key: Any, path: KeyPath, required: bool = True) -> str:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(path, f"missing {_field_name((key,))!r}")
            return ""
        if not isinstance(value, str):
            self.problem((*path, key), "expected a node name")
            return ""
        self.refs.append(((*path, key), value))
        return value

    def _mapping(self, value: Any, path: KeyPath, allowed: Sequence[Hashable]) -> Mapping[Any, Any]:
        names = list(dict.fromkeys(_field_name((a,)) for a in allowed))
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.problem(path, f"expected a mapping with: {', '.join(names)}")
            return {}
        for key in value:
            if key not in allowed:
                name = _field_name((key,))
                if name in _NODE_KEYS:
                    hint = " (a target: write it on the node, beside the node kind)"
                else:
                    hint = _did_you_mean(name, names) or f" (expected one of: {', '.join(names)})"
                self.problem((*path, key), f"unknown field {name!r}{hint}")
        return value

    def _prompts(
        self, value: Any, path: KeyPath, *, default: Sequence[str] = ()
    ) -> tuple[str, ...]:
        if value is None:
            items: Sequence[Any] = default
        elif isinstance(value, str):
            items = [value]
        elif isinstance(value, list):
            items = value
        else:
            self.problem(path, "expected a list of prompt names")
            return ()
        out: list[str] = []
        for i, item in enumerate(items):
            where = path if isinstance(value, str) or value is None else (*path, i)
            if not isinstance(item, str) or not item:
                self.problem(where, "expected a prompt name")
                continue
            self._known_prompt(item, where)
            out.append(item)
        return tuple(out)

    def _known_prompt(self, name: str, path: KeyPath) -> None:
        known = self.loader.prompts
        if known is not None and name not in known:
            self.problem(path, f"unknown prompt {name!r}{_did_you_mean(name, sorted(known))}")

    def _number(self, raw: Mapping[Any, Any], key: str, path: KeyPath, default: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.problem((*path, key), "expected a number of seconds above 0")
            return default
        return float(value)

    def _optional_seconds(self, raw: Mapping[Any, Any], key: str, path: KeyPath) -> float | None:
        if raw.get(key) is None:
            return None
        return self._number(raw, key, path, 1.0)

    def _int(self, raw: Mapping[Any, Any], key: str, path: KeyPath, default: int, low: int) -> int:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            self.problem((*path, key), f"expected a whole number of at least {low}")
            return default
        return value

    def _digit(self, value: Any, path: KeyPath) -> str | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
            return str(value)
        if isinstance(value, str) and len(value) == 1 and value in DTMF_DIGITS:
            return value
        # An unquoted # starts a YAML comment, which leaves the value empty.
        self.problem(path, f"invalid digit {value!r}: expected one of 0-9 * # A-D, quoted")
        return None

    def _string(self, raw: Mapping[Any, Any], key: str, path: KeyPath) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            self.problem((*path, key), "expected a name")
            return None
        return value

    def _queue_name(
        self, raw: Mapping[Any, Any], path: KeyPath, *, key: str = "queue"
    ) -> str | None:
        name = self._string(raw, key, path)
        if name is None:
            if not self.sets_queue:
                self.problem(path, f"no queue: give {key!r} here or choose one in a set node")
            return None
        known = self.loader.queues
        if known is not None and name not in known:
            self.problem(
                (*path, key), f"unknown queue {name!r}{_did_you_mean(name, sorted(known))}"
            )
        return name

    def _variable(self, raw: Mapping[Any, Any], key: str, path: KeyPath, default: str) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            self.problem((*path, key), "expected 'caller_id' or a variable name")
            return default
        if value != CALLER_ID and value not in self.variables:
            known = sorted(self.variables | {CALLER_ID})
            self.problem(
                (*path, key),
                f"variable {value!r} is never collected or set in this flow"
                f"{_did_you_mean(value, known)}",
            )
        return value

    # -- kinds ---------------------------------------------------------------------------

    def _play(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> PlayNode:
        prompts = self._prompts(value, path)
        if not prompts:
            self.problem(path, "expected at least one prompt")
        interruptible = node.get("interruptible", True)
        if not isinstance(interruptible, bool):
            self.problem((*self.path, "interruptible"), "expected true or false")
            interruptible = True
        return PlayNode(
            prompts=prompts, next=self._ref(node, "next", self.path), interruptible=interruptible
        )

    def _menu(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> MenuNode:
        fields = ("prompt", "options", "timeout_s", "retries", "invalid", "no_input")
        raw = self._mapping(value, path, fields)
        options: dict[str, str] = {}
        raw_options = raw.get("options")
        if not isinstance(raw_options, Mapping) or not raw_options:
            self.problem((*path, "options"), "expected a mapping of digit -> node")
        else:
            for key, _target in raw_options.items():
                digit = self._digit(key, (*path, "options", key))
                target = self._ref(raw_options, key, (*path, "options"))
                if digit is not None and target:
                    options[digit] = target
        return MenuNode(
            prompt=self._prompts(raw.get("prompt"), (*path, "prompt")),
            options=MappingProxyType(options),
            timeout_s=self._number(raw, "timeout_s", path, 5.0),
            retries=self._int(raw, "retries", path, 2, 0),
            invalid=self._prompts(raw.get("invalid"), (*path, "invalid")),
            no_input=self._prompts(raw.get("no_input"), (*path, "no_input")),
            on_fail=self._ref(node, "on_fail", self.path, required=False) or None,
        )

    def _collect(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> CollectNode:
        fields = ("prompt", "min", "max", "terminator", "timeout_s", "retries", "invalid")
        raw = self._mapping(value, path, (*fields, "no_input", "into"))
        low = self._int(raw, "min", path, 1, 1)
        high = self._int(raw, "max", path, max(low, 20), 1)
        if low > high:
            self.problem((*path, "min"), f"min ({low}) is greater than max ({high})")
        into = self._string(raw, "into", path)
        if into is None:
            self.problem(path, "missing 'into' (the variable that receives the digits)")
        elif into in (CALLER_ID, DIALLED) or into.startswith("customer."):
            self.problem((*path, "into"), f"{into!r} is a reserved variable name")
        terminator = self._digit(raw.get("terminator"), (*path, "terminator"))
        if "terminator" in raw and raw["terminator"] is None:
            self.problem((*path, "terminator"), "empty terminator: write it in quotes, as '#'")
        return CollectNode(
            prompt=self._prompts(raw.get("prompt"), (*path, "prompt")),
            into=into or "",
            next=self._ref(node, "next", self.path),
            min=low,
            max=high,
            terminator=terminator,
            timeout_s=self._number(raw, "timeout_s", path, 5.0),
            retries=self._int(raw, "retries", path, 2, 0),
            invalid=self._prompts(raw.get("invalid"), (*path, "invalid")),
            no_input=self._prompts(raw.get("no_input"), (*path, "no_input")),
            on_fail=self._ref(node, "on_fail", self.path, required=False) or None,
        )

    def _crm_lookup(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> LookupNode:
        raw = self._mapping(value, path, ("by", "timeout_s"))
        return LookupNode(
            by=self._variable(raw, "by", path, CALLER_ID),
            found=self._ref(node, "found", self.path),
            not_found=self._ref(node, "not_found", self.path),
            timeout_s=self._number(raw, "timeout_s", path, 5.0),
        )

    def _set(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> SetNode:
        raw = self._mapping(value, path, ("queue", "skills", "priority", "data", "vars"))
        if not raw:
            self.problem(path, "expected at least one of queue, skills, priority, data, vars")
        queue = self._string(raw, "queue", path)
        known = self.loader.queues
        if queue is not None and known is not None and queue not in known:
            self.problem(
                (*path, "queue"), f"unknown queue {queue!r}{_did_you_mean(queue, sorted(known))}"
            )
        skills: dict[str, int] = {}
        raw_skills = raw.get("skills", {})
        if not isinstance(raw_skills, Mapping):
            self.problem((*path, "skills"), "expected a mapping of skill -> level (1-5)")
            raw_skills = {}
        known_skills = self.loader.skills
        for skill, level in raw_skills.items():
            where = (*path, "skills", skill)
            if known_skills is not None and str(skill) not in known_skills:
                hint = _did_you_mean(str(skill), sorted(known_skills))
                self.problem(where, f"unknown skill {str(skill)!r}{hint}")
            elif isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
                self.problem(where, "expected a skill level from 1 to 5")
            else:
                skills[str(skill)] = level
        priority: int | None = None
        if raw.get("priority") is not None:
            priority = self._int(raw, "priority", path, 0, 0)
        data, variables = raw.get("data") or {}, raw.get("vars") or {}
        for key, mapping in (("data", data), ("vars", variables)):
            if not isinstance(mapping, Mapping):
                self.problem((*path, key), "expected a mapping of name -> value")
        data = data if isinstance(data, Mapping) else {}
        variables = variables if isinstance(variables, Mapping) else {}
        return SetNode(
            next=self._ref(node, "next", self.path),
            queue=queue,
            skills=MappingProxyType(skills),
            priority=priority,
            data=MappingProxyType({str(k): v for k, v in data.items()}),
            vars=MappingProxyType({str(k): v for k, v in variables.items()}),
        )

    def _business_hours(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> HoursNode:
        known = sorted(self.loader.calendars)
        if not isinstance(value, str):
            self.problem(path, "expected a calendar name")
        elif value not in self.loader.calendars:
            self.problem(path, f"unknown calendar {value!r}{_did_you_mean(value, known)}")
        return HoursNode(
            calendar=str(value),
            open=self._ref(node, "open", self.path),
            closed=self._ref(node, "closed", self.path),
        )

    def _switch(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> SwitchNode:
        # `on:` and `off:` are YAML 1.1 booleans; accept both spellings.
        raw = self._mapping(value, path, ("name", "on", "off", True, False))
        name = self._string(raw, "name", path)
        if name is None:
            self.problem(path, "missing 'name' (the switch a supervisor flips)")
        else:
            self.loader.switches.add(name)
        on_key = True if True in raw else "on"
        off_key = False if False in raw else "off"
        return SwitchNode(
            name=name or "",
            on=self._ref(raw, on_key, path),
            off=self._ref(raw, off_key, path),
        )

    def _branch(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> BranchNode:
        raw = self._mapping(value, path, ("when", "else"))
        cases: list[WhenCase] = []
        raw_cases = raw.get("when")
        if not isinstance(raw_cases, list) or not raw_cases:
            self.problem((*path, "when"), "expected a list of {if: {...}, then: node}")
            raw_cases = []
        for i, raw_case in enumerate(raw_cases):
            where = (*path, "when", i)
            case = self._mapping(raw_case, where, ("if", "then"))
            conditions = self._conditions(case.get("if"), (*where, "if"))
            then = self._ref(case, "then", where)
            cases.append(WhenCase(conditions=conditions, then=then))
        return BranchNode(cases=tuple(cases), otherwise=self._ref(raw, "else", path))

    def _conditions(self, value: Any, path: KeyPath) -> tuple[Condition, ...]:
        if not isinstance(value, Mapping) or not value:
            self.problem(path, "expected a mapping of variable -> value or {in: [...]}")
            return ()
        out: list[Condition] = []
        for var, test in value.items():
            where = (*path, var)
            if isinstance(test, Mapping):
                if len(test) != 1 or next(iter(test)) not in ("eq", "ne", "in", "not_in"):
                    self.problem(where, "expected one test: eq, ne, in or not_in")
                    continue
                op, operand = next(iter(test.items()))
                if op in ("in", "not_in"):
                    if not isinstance(operand, list) or not _scalars(operand):
                        self.problem((*where, op), "expected a list of values")
                        continue
                    values = tuple(operand)
                elif not _scalars([operand]):
                    self.problem((*where, op), "expected a single value")
                    continue
                else:
                    values = (operand,)
                out.append(Condition(var=str(var), op=op, values=values))
            elif _scalars([test]):
                out.append(Condition(var=str(var), op="eq", values=(test,)))
            else:
                self.problem(where, "expected a value, or {in: [...]}")
        return tuple(out)

    def _queue(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> QueueNode:
        fields = (
            "name",
            "hold_music",
            "announce_every_s",
            "announce",
            "offer_callback_after_s",
            "offer",
            "callback_key",
            "callback_confirm",
            "voicemail_key",
            "voicemail",
        )
        raw = self._mapping(value, path, fields)
        announce: list[str] = []
        raw_announce = raw.get("announce", [])
        if not isinstance(raw_announce, list):
            self.problem((*path, "announce"), "expected a list: position, expected_wait, prompts")
            raw_announce = []
        for i, item in enumerate(raw_announce):
            if not isinstance(item, str) or not item:
                self.problem((*path, "announce", i), "expected position, expected_wait or a prompt")
                continue
            self._known_prompt(ANNOUNCE_KEYWORDS.get(item, item), (*path, "announce", i))
            announce.append(item)
        every = self._optional_seconds(raw, "announce_every_s", path)
        if announce and every is None:
            self.problem(path, "'announce' needs 'announce_every_s'")
        callback_key = self._digit(raw.get("callback_key"), (*path, "callback_key"))
        voicemail_key = self._digit(raw.get("voicemail_key"), (*path, "voicemail_key"))
        if callback_key is not None and callback_key == voicemail_key:
            self.problem((*path, "voicemail_key"), "the same key as callback_key")
        voicemail = self._ref(raw, "voicemail", path, required=False) or None
        if voicemail_key is not None and voicemail is None:
            self.problem(path, "'voicemail_key' needs 'voicemail' (the node to record in)")
        if voicemail is not None and voicemail_key is None:
            self.problem((*path, "voicemail"), "'voicemail' without 'voicemail_key'")
        offer_after = self._optional_seconds(raw, "offer_callback_after_s", path)
        if offer_after is not None and callback_key is None:
            self.problem((*path, "offer_callback_after_s"), "needs 'callback_key'")
        with_callback = callback_key is not None
        return QueueNode(
            name=self._queue_name(raw, path, key="name"),
            hold_music=self._string(raw, "hold_music", path),
            announce_every_s=every,
            announce=tuple(announce),
            offer_callback_after_s=offer_after,
            offer=self._prompts(
                raw.get("offer"),
                (*path, "offer"),
                default=("callback_offer",) if with_callback else (),
            ),
            callback_key=callback_key,
            callback_confirm=self._prompts(
                raw.get("callback_confirm"),
                (*path, "callback_confirm"),
                default=("callback_confirmed",) if with_callback else (),
            ),
            voicemail_key=voicemail_key,
            voicemail=voicemail,
        )

    def _callback(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> CallbackNode:
        raw = self._mapping(value, path, ("number", "queue", "prompt"))
        return CallbackNode(
            number=self._variable(raw, "number", path, CALLER_ID),
            queue=self._queue_name(raw, path),
            prompt=self._prompts(raw.get("prompt"), (*path, "prompt")),
            next=self._ref(node, "next", self.path, required=False) or None,
            on_fail=self._ref(node, "on_fail", self.path, required=False) or None,
        )

    def _voicemail(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> VoicemailNode:
        raw = self._mapping(value, path, ("prompt", "max_s", "queue", "finish_key"))
        finish_key = self._digit(raw.get("finish_key", "#"), (*path, "finish_key"))
        return VoicemailNode(
            prompt=self._prompts(raw.get("prompt"), (*path, "prompt")),
            max_s=self._number(raw, "max_s", path, 120.0),
            queue=self._queue_name(raw, path),
            finish_key=finish_key,
            next=self._ref(node, "next", self.path, required=False) or None,
        )

    def _transfer(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> TransferNode:
        raw = self._mapping(value, path, ("to",))
        to = raw.get("to")
        if not isinstance(to, str) or not to:
            self.problem((*path, "to"), "expected the external number, in quotes")
            to = ""
        return TransferNode(to=to)

    def _hangup(self, node: Mapping[Any, Any], value: Any, path: KeyPath) -> HangupNode:
        raw = self._mapping(value, path, ("reason",))
        reason = self._string(raw, "reason", path)
        return HangupNode(reason=reason or "ivr_hangup")


def _scalars(values: Sequence[Any]) -> bool:
    return all(isinstance(v, str | int | float | bool) for v in values)
