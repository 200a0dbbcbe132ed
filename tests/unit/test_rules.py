"""Routing rules: conditions, combinators, clock conditions, actions and load-time errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trunkline.domain.errors import ConfigError
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.router.rules import NO_RULES, RuleSet, compile_rules

# Monday 15 January 2024, 10:00 UTC (London is on GMT then).
MONDAY_10_UTC = datetime(2024, 1, 15, 10, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def at(text: str, tz: str = "UTC") -> float:
    """Epoch seconds of a local ISO time in ``tz``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def rules(text: str, **kwargs: Any) -> RuleSet:
    return compile_rules(yaml.safe_load(text), **kwargs)


def request(**kwargs: Any) -> InteractionRequest:
    fields: dict[str, Any] = {"id": "i1", "medium": Medium.VOICE, "queue": "sales"}
    fields.update(kwargs)
    return InteractionRequest(**fields)


def apply(
    ruleset: RuleSet,
    req: InteractionRequest,
    *,
    now: float = MONDAY_10_UTC,
    timezone: str = "UTC",
    is_open: Callable[[str], bool] = lambda queue: True,
) -> tuple[InteractionRequest, tuple[str, ...]]:
    return ruleset.apply(req, now=now, timezone=timezone, is_open=is_open)


def matches(when: str, req: InteractionRequest, **kwargs: Any) -> bool:
    """Whether a single rule with condition ``when`` matches ``req``."""
    ruleset = rules(f"[{{name: r, when: {when}, then: {{priority_delta: 1}}}}]")
    return apply(ruleset, req, **kwargs)[1] == ("r",)


def with_data(**data: Any) -> InteractionRequest:
    return request(data=data)


# -- the example from the docs ---------------------------------------------------------

EXAMPLE = """
- name: vip-first
  when: {medium: voice, data.tier: {in: [gold, vip]}}
  then: {priority_delta: 5}
- name: french
  when: {any: [{data.language: fr}, {data.country: {in: [FR, BE]}}]}
  then: {skills: {french: 3}}
- name: after-hours-email
  when: {all: [{medium: email}, {open: false}]}
  then: {queue: email, priority: -1}
  stop: true
"""


def test_documented_example_rewrites_a_vip_french_call() -> None:
    out, names = apply(rules(EXAMPLE), request(data={"tier": "vip", "country": "BE"}))
    assert names == ("vip-first", "french")
    assert out.priority == 5
    assert out.skills == {"french": 3}
    assert out.queue == "sales"


def test_documented_example_moves_after_hours_email() -> None:
    req = request(medium=Medium.EMAIL, queue="support", priority=2)
    out, names = apply(rules(EXAMPLE), req, is_open=lambda queue: False)
    assert names == ("after-hours-email",)
    assert (out.queue, out.priority) == ("email", -1)
    out, names = apply(rules(EXAMPLE), req, is_open=lambda queue: True)
    assert names == ()
    assert out is req


# -- operators -------------------------------------------------------------------------

OPERATOR_CASES: list[tuple[str, Mapping[str, Any], bool]] = [
    # plain value: equality, typed (true is not 1, "1" is not 1)
    ("{data.tier: gold}", {"tier": "gold"}, True),
    ("{data.tier: gold}", {"tier": "silver"}, False),
    ("{data.tier: gold}", {}, False),
    ("{data.n: 1}", {"n": 1.0}, True),
    ("{data.n: 1}", {"n": True}, False),
    ("{data.n: 1}", {"n": "1"}, False),
    ("{data.flag: true}", {"flag": True}, True),
    ("{data.flag: true}", {"flag": 1}, False),
    ("{data.x: null}", {"x": None}, True),
    ("{data.x: null}", {}, False),
    ("{data.tier: {eq: gold}}", {"tier": "gold"}, True),
    ("{data.tier: {ne: gold}}", {"tier": "silver"}, True),
    ("{data.tier: {ne: gold}}", {"tier": "gold"}, False),
    ("{data.tier: {ne: gold}}", {}, False),  # missing: every comparison is false
    ("{data.tier: {in: [gold, vip]}}", {"tier": "vip"}, True),
    ("{data.tier: {in: [gold, vip]}}", {"tier": "bronze"}, False),
    ("{data.tier: {in: [gold, vip]}}", {"tier": ["gold"]}, False),
    ("{data.tier: {not_in: [gold, vip]}}", {"tier": "bronze"}, True),
    ("{data.tier: {not_in: [gold, vip]}}", {"tier": "gold"}, False),
    ("{data.tier: {not_in: [gold, vip]}}", {}, False),
    ("{data.age: {gt: 17}}", {"age": 18}, True),
    ("{data.age: {gt: 17}}", {"age": 17}, False),
    ("{data.age: {gte: 17}}", {"age": 17}, True),
    ("{data.age: {lt: 17}}", {"age": 16.5}, True),
    ("{data.age: {lte: 17}}", {"age": 18}, False),
    ("{data.age: {gt: 17}}", {"age": "18"}, False),  # a string is not a number
    ("{data.age: {gt: 17}}", {"age": True}, False),
    ("{data.age: {gt: 17}}", {"age": None}, False),
    ("{data.code: {gte: M}}", {"code": "N"}, True),
    ("{data.code: {gte: M}}", {"code": 5}, False),
    ("{data.vip: {exists: true}}", {"vip": None}, True),
    ("{data.vip: {exists: true}}", {}, False),
    ("{data.vip: {exists: false}}", {}, True),
    ("{data.vip: {exists: false}}", {"vip": 0}, False),
    (r"{data.ref: {matches: 'A\d{3}'}}", {"ref": "A123"}, True),
    (r"{data.ref: {matches: 'A\d{3}'}}", {"ref": "A1234"}, False),  # fullmatch
    (r"{data.ref: {matches: 'A\d{3}'}}", {"ref": "xA123"}, False),
    (r"{data.ref: {matches: '\d+'}}", {"ref": 123}, False),
    ("{data.subject: {contains: refund}}", {"subject": "Please refund me"}, True),
    ("{data.subject: {contains: refund}}", {"subject": "Invoice"}, False),
    ("{data.tags: {contains: urgent}}", {"tags": ["new", "urgent"]}, True),
    ("{data.tags: {contains: urgent}}", {"tags": ["new"]}, False),
    ("{data.tags: {contains: 1}}", {"tags": [True]}, False),
    ("{data.flags: {contains: vip}}", {"flags": {"vip": 1}}, True),
    ("{data.n: {contains: 1}}", {"n": 1}, False),
    ("{data.customer.address.country: FR}", {"customer": {"address": {"country": "FR"}}}, True),
    ("{data.customer.address.country: FR}", {"customer": {"address": "FR"}}, False),
    ("{data.customer.address.country: FR}", {"customer": None}, False),
    ("{data.orders.0.status: open}", {"orders": [{"status": "open"}]}, True),
    ("{data.orders.1.status: open}", {"orders": [{"status": "open"}]}, False),
]


@pytest.mark.parametrize(("when", "data", "expected"), OPERATOR_CASES)
def test_operator(when: str, data: Mapping[str, Any], expected: bool) -> None:
    assert matches(when, with_data(**data)) is expected


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{medium: voice}", True),
        ("{medium: {in: [chat, email]}}", False),
        ("{queue: sales}", True),
        ("{priority: {gte: 3}}", True),
        ("{priority: {gt: 3}}", False),
        ("{customer_id: c42}", True),
        ("{customer_id: {exists: true}}", True),
    ],
)
def test_request_fields(when: str, expected: bool) -> None:
    assert matches(when, request(priority=3, customer_id="c42")) is expected


def test_absent_customer_id_counts_as_missing() -> None:
    assert matches("{customer_id: {exists: false}}", request())
    assert not matches("{customer_id: {ne: c1}}", request())


# -- combinators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{medium: voice, data.tier: gold}", True),  # several fields: all must hold
        ("{medium: chat, data.tier: gold}", False),
        ("{all: [{medium: voice}, {data.tier: gold}]}", True),
        ("{all: [{medium: voice}, {data.tier: vip}]}", False),
        ("{any: [{medium: chat}, {data.tier: gold}]}", True),
        ("{any: [{medium: chat}, {data.tier: vip}]}", False),
        ("{not: {medium: chat}}", True),
        ("{not: {data.missing: 1}}", True),  # not flips the missing-field false
        ("{not: {all: [{medium: voice}, {data.tier: gold}]}}", False),
        ("{any: [{all: [{medium: chat}]}, {not: {any: [{data.tier: vip}]}}]}", True),
        ("{}", True),  # no condition: always
    ],
)
def test_combinators(when: str, expected: bool) -> None:
    assert matches(when, with_data(tier="gold")) is expected


def test_rule_without_when_always_matches() -> None:
    ruleset = rules("[{name: always, then: {priority_delta: 2}}]")
    assert apply(ruleset, request())[0].priority == 2


# -- clock conditions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2024-01-15T08:59", False),
        ("2024-01-15T09:00", True),  # start inclusive
        ("2024-01-15T16:59", True),
        ("2024-01-15T17:00", False),  # end exclusive
    ],
)
def test_time_between(local: str, expected: bool) -> None:
    when = "{time: {between: ['09:00', '17:00']}}"
    assert matches(when, request(), now=at(local)) is expected


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2024-01-15T21:59", False),
        ("2024-01-15T22:00", True),
        ("2024-01-15T23:30", True),
        ("2024-01-16T00:00", True),
        ("2024-01-16T05:59", True),
        ("2024-01-16T06:00", False),
        ("2024-01-16T12:00", False),
    ],
)
def test_time_between_runs_past_midnight(local: str, expected: bool) -> None:
    when = "{time: {between: ['22:00', '06:00']}}"
    assert matches(when, request(), now=at(local)) is expected


def test_time_is_read_in_the_centre_time_zone() -> None:
    # 08:30 UTC in July is 09:30 in London (BST) and 17:30 in Tokyo.
    now = at("2024-07-01T08:30")
    when = "{time: {between: ['09:00', '17:00']}}"
    assert not matches(when, request(), now=now, timezone="UTC")
    assert matches(when, request(), now=now, timezone="Europe/London")
    assert not matches(when, request(), now=now, timezone="Asia/Tokyo")


def test_time_accepts_24_00_as_midnight_end() -> None:
    when = "{time: {between: ['18:00', '24:00']}}"
    assert matches(when, request(), now=at("2024-01-15T23:59"))
    assert not matches(when, request(), now=at("2024-01-15T00:30"))


def test_weekday_single_name_and_list() -> None:
    monday = at("2024-01-15T12:00")
    saturday = at("2024-01-20T12:00")
    assert matches("{weekday: mon}", request(), now=monday)
    assert not matches("{weekday: mon}", request(), now=saturday)
    assert matches("{weekday: {in: [sat, sun]}}", request(), now=saturday)
    assert matches("{weekday: {not_in: [sat, sun]}}", request(), now=monday)


def test_weekday_follows_the_time_zone() -> None:
    # Sunday 23:30 UTC is already Monday 00:30 in Paris.
    now = at("2024-01-14T23:30")
    assert matches("{weekday: sun}", request(), now=now, timezone="UTC")
    assert matches("{weekday: mon}", request(), now=now, timezone="Europe/Paris")


def test_open_asks_about_the_current_queue() -> None:
    asked: list[str] = []

    def is_open(queue: str) -> bool:
        asked.append(queue)
        return queue == "day"

    ruleset = rules(
        """
        - {name: to-night, when: {queue: sales}, then: {queue: night}}
        - {name: closed, when: {open: false}, then: {priority: 9}}
        - {name: opened, when: {open: true}, then: {priority: 1}}
        """
    )
    out, names = apply(ruleset, request(), is_open=is_open)
    # The second rule sees the queue the first one chose.
    assert names == ("to-night", "closed")
    assert asked == ["night", "night"]
    assert out.priority == 9
    _, names = apply(ruleset, request(queue="day"), is_open=is_open)
    assert names == ("opened",)


def test_open_on_an_unknown_queue_is_false() -> None:
    def is_open(queue: str) -> bool:
        raise KeyError(queue)

    assert matches("{open: false}", request(queue="nowhere"), is_open=is_open)


# -- evaluation order and actions ------------------------------------------------------


def test_stop_ends_evaluation() -> None:
    ruleset = rules(
        """
        - {name: a, then: {priority_delta: 1}}
        - {name: b, when: {medium: voice}, then: {priority_delta: 10}, stop: true}
        - {name: c, then: {priority_delta: 100}}
        """
    )
    out, names = apply(ruleset, request())
    assert (out.priority, names) == (11, ("a", "b"))
    # stop only counts when its rule matches
    out, names = apply(ruleset, request(medium=Medium.CHAT))
    assert (out.priority, names) == (101, ("a", "c"))


def test_every_matching_rule_applies_in_order() -> None:
    ruleset = rules(
        """
        - {name: set, then: {priority: 3}}
        - {name: add, then: {priority_delta: 2}}
        - {name: set-and-add, then: {priority_delta: 1, priority: 10}}
        """
    )
    out, names = apply(ruleset, request(priority=7))
    assert names == ("set", "add", "set-and-add")
    assert out.priority == 11  # within one rule: set first, then add


def test_skills_merge_overrides_and_level_zero_removes() -> None:
    ruleset = rules("[{name: s, then: {skills: {french: 3, tech: 0, english: 2}}}]")
    req = request(skills={"tech": 4, "english": 5, "billing": 1})
    out, _ = apply(ruleset, req)
    assert out.skills == {"english": 2, "billing": 1, "french": 3}
    assert req.skills == {"tech": 4, "english": 5, "billing": 1}


def test_data_merge_keeps_the_original_untouched() -> None:
    ruleset = rules("[{name: d, then: {data: {segment: vip, tags: [a]}}}]")
    req = request(data={"segment": "mass", "id": 7})
    out, _ = apply(ruleset, req)
    assert out.data == {"segment": "vip", "id": 7, "tags": ["a"]}
    assert req.data == {"segment": "mass", "id": 7}
    # A list attached by a rule is not shared between interactions.
    out.data["tags"].append("b")
    assert apply(ruleset, req)[0].data["tags"] == ["a"]


def test_preferred_agent_literal_and_from_data() -> None:
    literal = rules("[{name: p, then: {preferred_agent: alice}}]")
    assert apply(literal, request())[0].preferred_agent == "alice"
    from_data = rules("[{name: p, then: {preferred_agent: {from: data.last_agent}}}]")
    assert apply(from_data, with_data(last_agent="bob"))[0].preferred_agent == "bob"
    # Missing or unusable values leave the existing preference alone.
    assert apply(from_data, request(preferred_agent="carol"))[0].preferred_agent == "carol"
    assert apply(from_data, with_data(last_agent=42))[0].preferred_agent is None


def test_queue_action_and_returned_request_is_new() -> None:
    req = request()
    out, names = apply(rules("[{name: q, then: {queue: vip}}]"), req)
    assert (out.queue, names) == ("vip", ("q",))
    assert req.queue == "sales"
    assert (out.id, out.medium) == (req.id, req.medium)


def test_unnamed_rules_are_named_by_index() -> None:
    ruleset = rules("[{then: {priority_delta: 1}}, {then: {priority_delta: 1}}]")
    assert apply(ruleset, request())[1] == ("rules[0]", "rules[1]")


def test_empty_rule_sets() -> None:
    req = request()
    assert apply(NO_RULES, req) == (req, ())
    assert RuleSet.empty() is NO_RULES
    assert compile_rules([]) is NO_RULES
    assert len(rules(EXAMPLE)) == 3


# -- bad rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[{name: x, when: {data.a: {inn: [1]}}, then: {priority: 1}}]", "unknown operator 'inn'"),
        ("[{name: x, when: {data.a: {eq: 1, ne: 2}}, then: {priority: 1}}]", "exactly one"),
        ("[{name: x, when: {data.a: [1, 2]}, then: {priority: 1}}]", "{in: [...]}"),
        ("[{name: x, when: {colour: red}, then: {priority: 1}}]", "unknown field 'colour'"),
        ("[{name: x, when: {data.: 1}, then: {priority: 1}}]", "bad data path"),
        ("[{name: x, when: {medium: vioce}, then: {priority: 1}}]", "unknown medium 'vioce'"),
        ("[{name: x, when: {data.a: {matches: '('}}, then: {priority: 1}}]", "regular expr"),
        ("[{name: x, when: {data.a: {in: gold}}, then: {priority: 1}}]", "expected a list"),
        ("[{name: x, when: {data.a: {gt: [1]}}, then: {priority: 1}}]", "number or a string"),
        ("[{name: x, when: {data.a: {exists: yes please}}, then: {priority: 1}}]", "true or false"),
        ("[{name: x, when: {any: []}, then: {priority: 1}}]", "non-empty list"),
        ("[{name: x, when: {not: [a]}, then: {priority: 1}}]", "a condition is a mapping"),
        ("[{name: x, when: {time: {between: ['25:00', '06:00']}}, then: {priority: 1}}]", "25"),
        ("[{name: x, when: {time: {between: [09:00, 17:00]}}, then: {priority: 1}}]", "quotes"),
        ("[{name: x, when: {time: '09:00'}, then: {priority: 1}}]", "between"),
        ("[{name: x, when: {weekday: monday}, then: {priority: 1}}]", "unknown weekday"),
        ("[{name: x, when: {weekday: {gt: mon}}, then: {priority: 1}}]", "weekday takes"),
        ("[{name: x, when: {open: maybe}, then: {priority: 1}}]", "open takes"),
        ("[{name: x, when: {priority: high}, then: {priority: 1}}]", "priority is a number"),
        ("[{name: x, then: {priority: high}}]", "expected an integer"),
        ("[{name: x, then: {priority_delta: 1.5}}]", "expected an integer"),
        ("[{name: x, then: {skills: {french: 7}}}]", "1-5"),
        ("[{name: x, then: {skills: [french]}}]", "skill: level"),
        ("[{name: x, then: {preferred_agent: {from: last_agent}}}]", "data.<key>"),
        ("[{name: x, then: {colour: red}}]", "unknown action 'colour'"),
        ("[{name: x, then: {data: [1]}}]", "key: value"),
        ("[{name: x, when: {medium: voice}}]", "then"),
        ("[{name: x, then: {priority: 1}, stop: maybe}]", "true or false"),
        ("[{name: x, then: {priority: 1}, also: 1}]", "unknown key 'also'"),
    ],
)
def test_bad_rule_is_rejected_naming_the_rule(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        rules(text)
    message = str(info.value)
    assert message.startswith("rules[0] 'x': ")
    assert expected in message
    (error,) = info.value.details["errors"]
    assert (error["index"], error["rule"]) == (0, "rules[0] 'x'")


def test_bad_unnamed_rule_is_named_by_index_with_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        rules("[{then: {priority: 1}}, {when: {any: [{data.a: {inn: 1}}]}, then: {priority: 1}}]")
    assert str(info.value).startswith("rules[1]: when.any.0.data.a.inn: unknown operator")
    assert info.value.details["errors"][0]["path"] == ("when", "any", 0, "data.a", "inn")


def test_declared_skills_and_queues_are_enforced() -> None:
    text = "[{name: x, then: {skills: {klingon: 2}}}]"
    assert len(rules(text)) == 1  # nothing declared: not checked
    with pytest.raises(ConfigError, match="unknown skill 'klingon'"):
        rules(text, skills=["english"])
    with pytest.raises(ConfigError, match="unknown queue 'vip'"):
        rules("[{name: x, then: {queue: vip}}]", queues=["sales"])
    with pytest.raises(ConfigError, match="unknown queue 'vip'"):
        rules(
            "[{name: x, when: {queue: {in: [sales, vip]}}, then: {priority: 1}}]", queues=["sales"]
        )


def test_every_bad_rule_is_reported_and_duplicate_names_rejected() -> None:
    text = """
    - {name: a, then: {colour: red}}
    - {name: ok, then: {priority: 1}}
    - {name: c, when: {medium: fax, bogus: 1}, then: {priority: 1}}
    - {name: ok, then: {priority: 2}}
    - not a rule
    """
    with pytest.raises(ConfigError) as info:
        rules(text)
    errors = info.value.details["errors"]
    assert [e["index"] for e in errors] == [0, 2, 3, 4]
    assert "duplicate rule name" in errors[2]["message"]
    assert len(str(info.value).splitlines()) == 4


# -- robustness ------------------------------------------------------------------------

# A fixed alphabet: drawing from all of Unicode makes Hypothesis build its character table
# on a fresh checkout, which trips the too-slow health check.
json_text = st.text(alphabet="ab1 .-\\éß中\n", max_size=8)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | json_text
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["a", "b", "0", "tier", "tags"]), children, max_size=4)
    ),
    max_leaves=20,
)

EVERYTHING = """
- {name: eq, when: {data.a: 1}, then: {priority_delta: 1}}
- {name: ne, when: {data.a.b: {ne: x}}, then: {priority_delta: 1}}
- {name: in, when: {data.tier: {in: [gold, 1, true, null]}}, then: {priority_delta: 1}}
- {name: nin, when: {data.tags.0: {not_in: [a, 2.5]}}, then: {priority_delta: 1}}
- {name: gt, when: {data.a: {gt: 3}}, then: {priority_delta: 1}}
- {name: lte, when: {data.b: {lte: m}}, then: {priority_delta: 1}}
- {name: ex, when: {data.a.0.b: {exists: true}}, then: {priority_delta: 1}}
- {name: re, when: {data.b: {matches: '[a-z]+\\d*'}}, then: {priority_delta: 1}}
- name: has
  when: {any: [{data.tags: {contains: a}}, {data.a: {contains: 1}}]}
  then: {data: {seen: true}}
- {name: not, when: {not: {data.tier: {exists: true}}}, then: {skills: {x: 2}}}
- {name: pref, when: {time: {between: ['22:00', '06:00']}}, then: {preferred_agent: {from: data.a}}}
- {name: day, when: {weekday: {in: [mon, tue]}, open: true}, then: {queue: other}}
"""
EVERYTHING_RULES = rules(EVERYTHING)


@given(
    data=st.dictionaries(st.sampled_from(["a", "b", "tier", "tags", "x"]), json_values),
    now=st.floats(min_value=0, max_value=4e9),
)
def test_apply_never_raises_on_arbitrary_data(data: dict[str, Any], now: float) -> None:
    out, names = apply(EVERYTHING_RULES, with_data(**data), now=now, timezone="Europe/London")
    assert set(names) <= set(EVERYTHING_RULES.names)
    assert isinstance(out.priority, int)
    assert out.preferred_agent is None or isinstance(out.preferred_agent, str)
