"""Routing rules as data: conditions and actions compiled once into closures, no ``eval``.

A rule set rewrites an :class:`InteractionRequest` before it is queued (queue, priority,
required skills, preferred agent, attached data). It is sans-IO: time comes from ``now``.
"""

from __future__ import annotations

import copy
import dataclasses
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Final
from zoneinfo import ZoneInfo

from trunkline.domain.calendar import WEEKDAYS
from trunkline.domain.errors import ConfigError
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium

__all__ = ["NO_RULES", "Rule", "RuleSet", "compile_rules"]

Path = tuple[str | int, ...]


class _Missing:
    """The value of a field that is not there: every comparison with it is false."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Final = _Missing()


class _State:
    """The request being rewritten, plus the clock inputs of one :meth:`RuleSet.apply`.

    Conditions read the state as earlier rules left it, so a rule can react to the queue
    or priority set by a rule above it. ``skills`` and ``data`` are copied on first write.
    """

    __slots__ = (
        "medium",
        "queue",
        "priority",
        "customer_id",
        "customer",
        "skills",
        "data",
        "preferred_agent",
        "now",
        "timezone",
        "is_open",
        "_local",
    )

    def __init__(
        self,
        request: InteractionRequest,
        now: float,
        timezone: str,
        is_open: Callable[[str], bool],
    ) -> None:
        self.medium: str = request.medium.value
        self.queue = request.queue
        self.priority = request.priority
        self.customer_id = request.customer_id
        self.customer: Mapping[str, Any] = request.customer
        self.skills: Mapping[str, int] = request.skills
        self.data: Mapping[str, Any] = request.data
        self.preferred_agent = request.preferred_agent
        self.now = now
        self.timezone = timezone
        self.is_open = is_open
        self._local: datetime | None = None

    def local(self) -> datetime:
        # Converted lazily: most rule sets never look at the clock.
        if self._local is None:
            self._local = datetime.fromtimestamp(self.now, ZoneInfo(self.timezone))
        return self._local


Predicate = Callable[[_State], bool]
Action = Callable[[_State], None]
Getter = Callable[[_State], Any]
Test = Callable[[Any], bool]


class _RuleError(Exception):
    """One problem in one rule, at ``path`` inside it (raised while compiling)."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# -- values ----------------------------------------------------------------------------

_SCALARS = (str, int, float, bool, type(None))


def _key(value: Any) -> tuple[int, Any] | None:
    """A typed identity for equality: ``True`` is not ``1`` and ``"1"`` is not ``1``.

    Plain ``==`` would let YAML ``yes`` match data ``1``; tagging the kind keeps rule
    literals and JSON data apart. ``None`` for values that are not scalars.
    """
    if value is None:
        return (0, None)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, str(value))  # str() drops StrEnum subclasses
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    return type(value).__name__ if not isinstance(value, str) else repr(value)


# -- matchers --------------------------------------------------------------------------

_ORDER: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
OPERATORS: Final = (
    "eq",
    "ne",
    "in",
    "not_in",
    "gt",
    "gte",
    "lt",
    "lte",
    "exists",
    "matches",
    "contains",
)


def _scalar(value: Any, path: Path) -> Any:
    if not isinstance(value, _SCALARS):
        raise _RuleError(path, f"expected a single value, got {_describe(value)}")
    return value


def _eq(literal: Any) -> Test:
    want = _key(literal)
    return lambda v: v is not _MISSING and _key(v) == want


def _in(literals: Sequence[Any]) -> Test:
    wanted = frozenset(_key(x) for x in literals)
    return lambda v: v is not _MISSING and _key(v) in wanted


def _ordered(op: Callable[[Any, Any], bool], literal: Any) -> Test:
    # Only like with like: a number against a number, a string against a string. Anything
    # else (missing, null, a list, "10" against 9) is simply not a match.
    if isinstance(literal, str):
        return lambda v: isinstance(v, str) and op(v, literal)
    return lambda v: _is_number(v) and op(v, literal)


def _contains(literal: Any) -> Test:
    want = _key(literal)

    def test(v: Any) -> bool:
        if isinstance(v, str):
            return isinstance(literal, str) and literal in v
        if isinstance(v, list | tuple):
            return any(_key(x) == want for x in v)
        if isinstance(v, Mapping):
            return any(_key(k) == want for k in v)
        return False

    return test


def _compile_operator(op: str, arg: Any, path: Path) -> Test:
    here = (*path, op)
    if op in ("eq", "ne"):
        test = _eq(_scalar(arg, here))
        return test if op == "eq" else (lambda v: v is not _MISSING and not test(v))
    if op in ("in", "not_in"):
        if not isinstance(arg, list):
            raise _RuleError(here, f"expected a list, got {_describe(arg)}")
        items = [_scalar(x, (*here, i)) for i, x in enumerate(arg)]
        test = _in(items)
        return test if op == "in" else (lambda v: v is not _MISSING and not test(v))
    if op in _ORDER:
        if not (isinstance(arg, str) or _is_number(arg)):
            raise _RuleError(here, f"expected a number or a string, got {_describe(arg)}")
        return _ordered(_ORDER[op], arg)
    if op == "exists":
        if not isinstance(arg, bool):
            raise _RuleError(here, "expected true or false")
        return (lambda v: v is not _MISSING) if arg else (lambda v: v is _MISSING)
    if op == "matches":
        if not isinstance(arg, str):
            raise _RuleError(here, f"expected a regular expression string, got {_describe(arg)}")
        try:
            pattern = re.compile(arg)
        except re.error as exc:
            raise _RuleError(here, f"bad regular expression: {exc}") from None
        return lambda v: isinstance(v, str) and pattern.fullmatch(v) is not None
    if op == "contains":
        return _contains(_scalar(arg, here))
    raise _RuleError(here, f"unknown operator {op!r} (expected one of: {', '.join(OPERATORS)})")


def _split_matcher(spec: Any, path: Path) -> tuple[str, Any]:
    """``{op: arg}`` → ``(op, arg)``; a plain scalar means ``eq``."""
    if isinstance(spec, Mapping):
        if len(spec) != 1:
            raise _RuleError(path, "a matcher needs exactly one operator, e.g. {in: [a, b]}")
        ((op, arg),) = spec.items()
        return str(op), arg
    if isinstance(spec, list):
        raise _RuleError(path, "a list needs an operator: {in: [...]}")
    return "eq", _scalar(spec, path)


# -- fields ----------------------------------------------------------------------------


def _data_getter(dotted: str, path: Path, *, root: str = "data") -> Getter:
    """A getter for ``dotted`` inside ``state.data`` (or ``state.customer``)."""
    segments = tuple(dotted.split("."))
    if not all(segments):
        raise _RuleError(path, f"bad {root} path {dotted!r}")
    # A numeric segment may also index a list (data.orders.0.id).
    indexes = tuple(int(s) if s.isascii() and s.isdigit() else None for s in segments)
    from_customer = root == "customer"

    def get(state: _State) -> Any:
        current: Any = state.customer if from_customer else state.data
        for segment, index in zip(segments, indexes, strict=True):
            if isinstance(current, Mapping):
                current = current.get(segment, _MISSING)
            elif index is not None and isinstance(current, list | tuple):
                current = current[index] if index < len(current) else _MISSING
            else:
                return _MISSING
            if current is _MISSING:
                return _MISSING
        return current

    return get


_PLAIN_FIELDS: Final[Mapping[str, Getter]] = {
    "medium": lambda s: s.medium,
    "queue": lambda s: s.queue,
    "priority": lambda s: s.priority,
    "customer_id": lambda s: s.customer_id if s.customer_id is not None else _MISSING,
}
FIELDS: Final = (*_PLAIN_FIELDS, "data.<key>", "customer.<key>", "time", "weekday", "open")


class _Checks:
    """What the configuration declares, for catching typos in rule literals at load."""

    def __init__(self, skills: Collection[str] | None, queues: Collection[str] | None) -> None:
        self.skills = None if skills is None else frozenset(skills)
        self.queues = None if queues is None else frozenset(queues)

    def literal(self, field: str, value: Any, path: Path) -> None:
        if field == "medium" and value not in {m.value for m in Medium}:
            media = ", ".join(m.value for m in Medium)
            raise _RuleError(path, f"unknown medium {value!r} (expected one of: {media})")
        if field == "queue":
            self.queue(value, path)
        if field == "priority" and not _is_number(value):
            raise _RuleError(path, f"priority is a number, got {_describe(value)}")

    def queue(self, value: Any, path: Path) -> None:
        if not isinstance(value, str) or not value:
            raise _RuleError(path, f"a queue id is a string, got {_describe(value)}")
        if self.queues is not None and value not in self.queues:
            raise _RuleError(path, f"unknown queue {value!r}")

    def skill(self, value: str, path: Path) -> None:
        if self.skills is not None and value not in self.skills:
            raise _RuleError(path, f"unknown skill {value!r}")


def _parse_clock(value: Any, path: Path) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:00 as the sexagesimal integer 1020.
        raise _RuleError(path, "write times in quotes, e.g. '17:00'")
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value):
        hours, minutes = (int(p) for p in value.split(":"))
        if hours == 24 and minutes == 0:
            return time(0, 0)
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise _RuleError(path, f"expected a time 'HH:MM', got {value!r}")


def _time_condition(spec: Any, path: Path) -> Predicate:
    if not (isinstance(spec, Mapping) and set(spec) == {"between"}):
        raise _RuleError(path, "time takes {between: ['HH:MM', 'HH:MM']}")
    window = spec["between"]
    if not (isinstance(window, list) and len(window) == 2):
        raise _RuleError((*path, "between"), "expected two times ['HH:MM', 'HH:MM']")
    start = _parse_clock(window[0], (*path, "between", 0))
    end = _parse_clock(window[1], (*path, "between", 1))

    def test(state: _State) -> bool:
        now = state.local().time().replace(tzinfo=None)
        if start < end:
            return start <= now < end
        # An end not after the start runs past midnight (22:00-06:00), as in BusinessHours.
        return now >= start or now < end

    return test


def _weekday_condition(spec: Any, path: Path) -> Predicate:
    op, arg = _split_matcher(spec, path)
    if op not in ("eq", "ne", "in", "not_in"):
        raise _RuleError((*path, op), "weekday takes a day name, or in / not_in a list of days")
    for i, day in enumerate(arg if isinstance(arg, list) else [arg]):
        if day not in WEEKDAYS:
            where = (*path, op, i) if isinstance(arg, list) else path
            raise _RuleError(where, f"unknown weekday {day!r} (expected {', '.join(WEEKDAYS)})")
    test = _compile_operator(op, arg, path)
    return lambda state: test(WEEKDAYS[state.local().weekday()])


def _open_condition(spec: Any, path: Path) -> Predicate:
    if not isinstance(spec, bool):
        raise _RuleError(path, "open takes true or false")

    def test(state: _State) -> bool:
        try:
            is_open = bool(state.is_open(state.queue))
        except LookupError:
            # An unknown queue has no hours; the router refuses it later with a clear reason.
            is_open = False
        return is_open is spec

    return test


def _field_condition(field: str, spec: Any, path: Path, checks: _Checks) -> Predicate:
    if field == "time":
        return _time_condition(spec, path)
    if field == "weekday":
        return _weekday_condition(spec, path)
    if field == "open":
        return _open_condition(spec, path)
    if field.startswith("data."):
        getter = _data_getter(field[len("data.") :], path)
    elif field.startswith("customer."):
        # The CRM's facts (class, value, language, open_cases, known): see recognition.
        getter = _data_getter(field[len("customer.") :], path, root="customer")
    elif field in _PLAIN_FIELDS:
        getter = _PLAIN_FIELDS[field]
    else:
        expected = ", ".join((*FIELDS, "all", "any", "not"))
        raise _RuleError(path, f"unknown field {field!r} (expected one of: {expected})")
    op, arg = _split_matcher(spec, path)
    test = _compile_operator(op, arg, path)  # first: it rejects malformed arguments
    if op in ("eq", "ne", "in", "not_in"):
        for i, literal in enumerate(arg if isinstance(arg, list) else [arg]):
            where = (*path, op, i) if isinstance(arg, list) else path
            checks.literal(field, literal, where)
    return lambda state: test(getter(state))


def _condition_list(spec: Any, path: Path, checks: _Checks) -> list[Predicate]:
    if not isinstance(spec, list) or not spec:
        raise _RuleError(path, "expected a non-empty list of conditions")
    return [_compile_condition(item, (*path, i), checks) for i, item in enumerate(spec)]


def _compile_condition(spec: Any, path: Path, checks: _Checks) -> Predicate:
    if not isinstance(spec, Mapping):
        raise _RuleError(path, f"a condition is a mapping of field: matcher, got {_describe(spec)}")
    parts: list[Predicate] = []
    for raw_key, value in spec.items():
        key = str(raw_key)
        here = (*path, key)
        if key == "all":
            parts.append(_all_of(_condition_list(value, here, checks)))
        elif key == "any":
            parts.append(_any_of(_condition_list(value, here, checks)))
        elif key == "not":
            parts.append(_none_of([_compile_condition(value, here, checks)]))
        else:
            parts.append(_field_condition(key, value, here, checks))
    if len(parts) == 1:
        return parts[0]
    return _all_of(parts)  # several fields in one mapping must all hold; {} always holds


def _all_of(parts: Sequence[Predicate]) -> Predicate:
    return lambda state: all(p(state) for p in parts)


def _any_of(parts: Sequence[Predicate]) -> Predicate:
    return lambda state: any(p(state) for p in parts)


def _none_of(parts: Sequence[Predicate]) -> Predicate:
    return lambda state: not any(p(state) for p in parts)


# -- actions ---------------------------------------------------------------------------


def _int(value: Any, path: Path) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _RuleError(path, f"expected an integer, got {_describe(value)}")
    return value


def _set_queue(queue: str) -> Action:
    def act(state: _State) -> None:
        state.queue = queue

    return act


def _set_priority(priority: int) -> Action:
    def act(state: _State) -> None:
        state.priority = priority

    return act


def _add_priority(delta: int) -> Action:
    def act(state: _State) -> None:
        state.priority += delta

    return act


def _merge_skills(levels: Mapping[str, int]) -> Action:
    def act(state: _State) -> None:
        merged = dict(state.skills)
        for skill, level in levels.items():
            if level == 0:
                merged.pop(skill, None)
            else:
                merged[skill] = level
        state.skills = merged

    return act


def _merge_data(extra: Mapping[str, Any]) -> Action:
    # Lists and mappings are copied per request so one interaction cannot mutate what the
    # rule attaches to the next.
    needs_copy = any(not isinstance(v, _SCALARS) for v in extra.values())

    def act(state: _State) -> None:
        state.data = {**state.data, **(copy.deepcopy(extra) if needs_copy else extra)}

    return act


def _preferred_agent(spec: Any, path: Path) -> Action:
    if isinstance(spec, str) and spec:

        def literal(state: _State) -> None:
            state.preferred_agent = spec

        return literal
    source = spec.get("from") if isinstance(spec, Mapping) and len(spec) == 1 else None
    if not (isinstance(source, str) and source.startswith("data.")):
        raise _RuleError(path, "expected an agent id, or {from: data.<key>}")
    getter = _data_getter(source[len("data.") :], (*path, "from"))

    def from_data(state: _State) -> None:
        value = getter(state)
        # Only a usable id replaces the current preference; anything else leaves it alone.
        if isinstance(value, str) and value:
            state.preferred_agent = value

    return from_data


ACTIONS: Final = ("queue", "priority", "priority_delta", "skills", "preferred_agent", "data")


def _compile_actions(spec: Any, path: Path, checks: _Checks) -> tuple[Action, ...]:
    if not isinstance(spec, Mapping):
        raise _RuleError(path, f"then is a mapping of action: value, got {_describe(spec)}")
    actions: list[Action] = []
    for key in spec:
        if key not in ACTIONS:
            raise _RuleError(
                (*path, str(key)), f"unknown action {key!r} (expected one of: {', '.join(ACTIONS)})"
            )
    # A fixed order (set the priority before adding to it) whatever the YAML key order.
    for key in ACTIONS:
        if key not in spec:
            continue
        value, here = spec[key], (*path, key)
        if key == "queue":
            checks.queue(value, here)
            actions.append(_set_queue(value))
        elif key == "priority":
            actions.append(_set_priority(_int(value, here)))
        elif key == "priority_delta":
            actions.append(_add_priority(_int(value, here)))
        elif key == "skills":
            actions.append(_merge_skills(_skill_levels(value, here, checks)))
        elif key == "preferred_agent":
            actions.append(_preferred_agent(value, here))
        elif key == "data":
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise _RuleError(here, "expected a mapping of key: value")
            actions.append(_merge_data(dict(value)))
    return tuple(actions)


def _skill_levels(spec: Any, path: Path, checks: _Checks) -> dict[str, int]:
    if not isinstance(spec, Mapping):
        raise _RuleError(path, "expected a mapping of skill: level")
    levels: dict[str, int] = {}
    for skill, level in spec.items():
        here = (*path, str(skill))
        if not isinstance(skill, str):
            raise _RuleError(here, "a skill name is a string")
        checks.skill(skill, here)
        if _int(level, here) not in range(0, 6):
            raise _RuleError(here, "a skill level is 1-5, or 0 to drop the skill")
        levels[skill] = level
    return levels


# -- rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled rule: a predicate over the request and the actions it triggers."""

    name: str
    condition: Predicate
    actions: tuple[Action, ...]
    stop: bool = False


_RULE_KEYS: Final = ("name", "when", "then", "stop")


def _compile_rule(index: int, raw: Any, checks: _Checks) -> Rule:
    if not isinstance(raw, Mapping):
        raise _RuleError((), f"a rule is a mapping with when / then, got {_describe(raw)}")
    for key in raw:
        if key not in _RULE_KEYS:
            raise _RuleError(
                (str(key),), f"unknown key {key!r} (expected one of: {', '.join(_RULE_KEYS)})"
            )
    name = raw.get("name", f"rules[{index}]")
    if not isinstance(name, str) or not name:
        raise _RuleError(("name",), "a rule name is a non-empty string")
    stop = raw.get("stop", False)
    if not isinstance(stop, bool):
        raise _RuleError(("stop",), "expected true or false")
    if "then" not in raw and not stop:
        raise _RuleError((), "a rule needs then: (actions) or stop: true")
    condition = _compile_condition(raw.get("when", {}), ("when",), checks)
    actions = _compile_actions(raw["then"], ("then",), checks) if "then" in raw else ()
    return Rule(name=name, condition=condition, actions=actions, stop=stop)


class RuleSet:
    """An ordered list of compiled rules. Immutable, so one instance serves every request."""

    __slots__ = ("_rules",)

    def __init__(self, rules: Sequence[Rule] = ()) -> None:
        self._rules: tuple[Rule, ...] = tuple(rules)

    @classmethod
    def empty(cls) -> RuleSet:
        return NO_RULES

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(rule.name for rule in self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"RuleSet({list(self.names)!r})"

    def apply(
        self,
        request: InteractionRequest,
        *,
        now: float,
        timezone: str,
        is_open: Callable[[str], bool],
    ) -> tuple[InteractionRequest, tuple[str, ...]]:
        """Run every rule in order over ``request``; return the rewritten request and the
        names of the rules that matched. A matching rule with ``stop`` ends the run.

        ``now`` is epoch seconds, ``timezone`` the centre's (for ``time`` and ``weekday``),
        ``is_open(queue)`` answers the ``open`` condition.
        """
        if not self._rules:
            return request, ()
        state = _State(request, now, timezone, is_open)
        matched: list[str] = []
        for rule in self._rules:
            if not rule.condition(state):
                continue
            matched.append(rule.name)
            for action in rule.actions:
                action(state)
            if rule.stop:
                break
        if not matched:
            return request, ()
        rewritten = dataclasses.replace(
            request,
            queue=state.queue,
            priority=state.priority,
            skills=state.skills,
            data=state.data,
            preferred_agent=state.preferred_agent,
        )
        return rewritten, tuple(matched)


NO_RULES: Final = RuleSet()


def compile_rules(
    raw: Sequence[Mapping[str, Any]],
    *,
    skills: Collection[str] | None = None,
    queues: Collection[str] | None = None,
) -> RuleSet:
    """Compile the YAML form of ``rules:`` into a :class:`RuleSet`.

    ``skills`` / ``queues``, when given, are the declared names that rules may use. Every
    bad rule is reported (one problem per rule) in a :class:`ConfigError` whose
    ``details["errors"]`` items carry ``index``, ``rule``, ``path`` (inside the rule),
    ``field`` and ``message``.
    """
    checks = _Checks(skills, queues)
    compiled: list[Rule] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        label = _label(index, item)
        try:
            rule = _compile_rule(index, item, checks)
            if rule.name in seen:
                raise _RuleError(
                    ("name",), f"duplicate rule name (first at rules[{seen[rule.name]}])"
                )
            seen[rule.name] = index
            compiled.append(rule)
        except _RuleError as exc:
            field = ".".join(str(p) for p in exc.path)
            errors.append(
                {
                    "index": index,
                    "rule": label,
                    "path": exc.path,
                    "field": field,
                    "message": exc.message,
                }
            )
    if errors:
        lines = [
            f"{e['rule']}: {e['field']}: {e['message']}"
            if e["field"]
            else f"{e['rule']}: {e['message']}"
            for e in errors
        ]
        raise ConfigError("\n".join(lines), details={"errors": errors})
    return RuleSet(compiled) if compiled else NO_RULES


def _label(index: int, raw: Any) -> str:
    """How an error names a rule: ``rules[2] 'vip-first'``, or just ``rules[2]``."""
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return f"rules[{index}] {name!r}" if isinstance(name, str) and name else f"rules[{index}]"
