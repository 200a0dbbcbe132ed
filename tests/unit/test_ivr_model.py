"""IVR flow files: the example loads, and each kind of mistake is refused naming node and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from trunkline.domain.calendar import ALWAYS_OPEN, BusinessHours
from trunkline.domain.errors import ConfigError, TrunklineError
from trunkline.ivr import FlowConfigError, IvrConfig, UnknownNumberError, load_flows
from trunkline.ivr.model import (
    BranchNode,
    CollectNode,
    MenuNode,
    QueueNode,
    SwitchNode,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "ivr" / "example.yaml"
CALENDARS: dict[str, BusinessHours] = {"office": ALWAYS_OPEN}
PROMPTS = {
    "welcome", "closed", "menu", "invalid", "sorry", "enter_account", "invalid_account",
    "queue_position", "expected_wait", "callback_offer", "callback_confirmed",
    "leave_message", "enter_phone",
}  # fmt: skip


def load(text: str, **kwargs: object) -> IvrConfig:
    kwargs.setdefault("calendars", CALENDARS)
    return load_flows(textwrap.dedent(text), "flows.yaml", **kwargs)  # type: ignore[arg-type]


def problems(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(FlowConfigError) as info:
        load(text, **kwargs)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.details["errors"])
    return lines


def test_example_file_loads_with_every_check_enabled() -> None:
    config = load_flows(
        EXAMPLE.read_text(),
        str(EXAMPLE),
        calendars=CALENDARS,
        queues={"sales", "support"},
        skills={"english"},
        prompts=PROMPTS,
    )
    assert config.warnings == ()
    assert config.numbers == {"+442071234567": "main", "100": "main", "200": "overflow"}
    assert config.switches == {"storm"}
    main = config.flow_for("100")
    assert main.start == "welcome"
    assert main.nodes["storm"] == SwitchNode(name="storm", on="closed_msg", off="menu")
    menu = main.nodes["menu"]
    assert isinstance(menu, MenuNode) and menu.options["1"] == "sales" and menu.retries == 2
    collect = main.nodes["account"]
    assert isinstance(collect, CollectNode)
    assert (collect.min, collect.max, collect.terminator) == (6, 10, "#")
    branch = main.nodes["vip_check"]
    assert isinstance(branch, BranchNode) and branch.cases[1].conditions[0].op == "in"
    queue = main.nodes["queue_sales"]
    assert isinstance(queue, QueueNode) and queue.offer == ("callback_offer",)


def test_unknown_number_is_a_lookup_error() -> None:
    config = load_flows(EXAMPLE.read_text(), "x", calendars=CALENDARS)
    with pytest.raises(UnknownNumberError) as info:
        config.flow_for("999")
    assert isinstance(info.value, LookupError) and isinstance(info.value, TrunklineError)


def test_unknown_next_node_names_node_line_and_suggestion() -> None:
    lines = problems(
        """\
        numbers: {"100": main}
        flows:
          main:
            start: menu
            nodes:
              menu:
                menu:
                  prompt: [menu]
                  options:
                    "1": salez
              sales: {hangup: {}}
        """
    )
    assert lines == [
        "flows.yaml:10: flows.main.nodes.menu.menu.options.1: "
        "unknown node 'salez' (did you mean 'sales'?)"
    ]


def test_missing_start_and_unknown_start() -> None:
    assert problems(
        """\
        flows:
          main:
            nodes: {bye: {hangup: {}}}
        """
    ) == ["flows.yaml:2: flows.main: missing 'start' node"]
    assert problems(
        """\
        flows:
          main:
            start: by
            nodes: {bye: {hangup: {}}}
        """
    ) == ["flows.yaml:3: flows.main.start: unknown node 'by' (did you mean 'bye'?)"]


def test_numbers_must_be_quoted_and_point_at_known_flows() -> None:
    lines = problems(
        """\
        numbers:
          "100": mian
          +442071234567: main
        flows:
          main: {start: bye, nodes: {bye: {hangup: {}}}}
        """
    )
    assert lines == [
        "flows.yaml:2: numbers.100: unknown flow 'mian' (did you mean 'main'?)",
        "flows.yaml:3: numbers[442071234567]: write the dialled number in quotes",
    ]


def test_unreachable_node_is_a_warning_with_its_line() -> None:
    config = load(
        """\
        flows:
          main:
            start: bye
            nodes:
              bye: {hangup: {}}
              spare: {play: [x], next: bye}
        """
    )
    assert config.warnings == ("flows.yaml:6: flows.main.nodes.spare: unreachable node",)


def test_unknown_prompts_are_refused_only_when_a_prompt_set_is_given() -> None:
    text = """\
        flows:
          main:
            start: hi
            nodes:
              hi: {play: [welcom], next: q}
              q: {queue: {name: sales, announce_every_s: 30, announce: [position]}}
        """
    load(text)  # no prompt set: anything goes
    assert problems(text, prompts={"welcome"}) == [
        "flows.yaml:5: flows.main.nodes.hi.play[0]: unknown prompt 'welcom' "
        "(did you mean 'welcome'?)",
        # "position" is read out after the built-in prompt queue_position
        "flows.yaml:6: flows.main.nodes.q.queue.announce[0]: unknown prompt 'queue_position'",
    ]


def test_loop_without_input_node_is_refused_naming_the_nodes() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: a
            nodes:
              a: {play: [hello], next: b}
              b: {set: {vars: {x: 1}}, next: c}
              c: {branch: {when: [{if: {x: 1}, then: a}], else: bye}}
              bye: {hangup: {}}
        """
    )
    assert lines == [
        "flows.yaml:5: flows.main.nodes.a: loop without any input node would never wait "
        "for the caller: a -> b -> c -> a"
    ]


def test_a_loop_through_a_menu_is_fine() -> None:
    load(
        """\
        flows:
          main:
            start: a
            nodes:
              a: {play: [hello], next: m}
              m: {menu: {prompt: [menu], options: {"1": a}}, on_fail: a}
        """
    )


def test_invalid_digits_and_unquoted_terminator() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: m
            nodes:
              m: {menu: {prompt: [menu], options: {"12": c, x: c}}}
              c:
                collect: {into: n, terminator: #
                  }
                next: m
        """
    )
    assert lines == [
        "flows.yaml:5: flows.main.nodes.m.menu.options.12: invalid digit '12': "
        "expected one of 0-9 * # A-D, quoted",
        "flows.yaml:5: flows.main.nodes.m.menu.options.x: invalid digit 'x': "
        "expected one of 0-9 * # A-D, quoted",
        "flows.yaml:7: flows.main.nodes.c.collect.terminator: empty terminator: "
        "write it in quotes, as '#'",
    ]


def test_min_greater_than_max() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: c
            nodes:
              c: {collect: {min: 8, max: 4, into: n}, next: bye}
              bye: {hangup: {}}
        """
    )
    assert lines == [
        "flows.yaml:5: flows.main.nodes.c.collect.min: min (8) is greater than max (4)"
    ]


def test_unknown_calendar_queue_and_skill_when_known_sets_are_given() -> None:
    text = """\
        flows:
          main:
            start: h
            nodes:
              h: {business_hours: ofice, open: s, closed: s}
              s: {set: {queue: salse, skills: {englsh: 2}}, next: q}
              q: {queue: {}}
        """
    assert problems(text, queues={"sales"}, skills={"english"}) == [
        "flows.yaml:5: flows.main.nodes.h.business_hours: unknown calendar 'ofice' "
        "(did you mean 'office'?)",
        "flows.yaml:6: flows.main.nodes.s.set.queue: unknown queue 'salse' (did you mean 'sales'?)",
        "flows.yaml:6: flows.main.nodes.s.set.skills.englsh: unknown skill 'englsh' "
        "(did you mean 'english'?)",
    ]
    # Without the known sets only the calendar is checked (the interpreter needs it).
    assert len(problems(text)) == 1


def test_queue_needs_a_name_from_somewhere() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: q
            nodes:
              q: {queue: {hold_music: moh}}
        """
    )
    assert lines == [
        "flows.yaml:5: flows.main.nodes.q.queue: no queue: give 'name' here or choose one "
        "in a set node"
    ]


def test_lookup_and_callback_variables_must_be_assigned_somewhere() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: c
            nodes:
              c: {collect: {into: account}, next: l}
              l: {crm_lookup: {by: acount}, found: cb, not_found: cb}
              cb: {callback: {number: phone, queue: q}}
        """
    )
    assert lines == [
        "flows.yaml:6: flows.main.nodes.l.crm_lookup.by: variable 'acount' is never "
        "collected or set in this flow (did you mean 'account'?)",
        "flows.yaml:7: flows.main.nodes.cb.callback.number: variable 'phone' is never "
        "collected or set in this flow",
    ]


def test_unknown_fields_kinds_and_duplicates() -> None:
    lines = problems(
        """\
        flows:
          main:
            start: a
            nodes:
              a: {play: [hi], nxt: b}
              b: {play: [hi], hangup: {}}
              c: {next: a}
              d: {menu: {prompt: [m], options: {"1": a}, timout_s: 3}}
              d: {hangup: {}}
        """
    )
    assert lines == [
        "flows.yaml:5: flows.main.nodes.a.nxt: unknown field 'nxt' (did you mean 'next'?)",
        "flows.yaml:5: flows.main.nodes.a: missing 'next'",
        "flows.yaml:6: flows.main.nodes.b: several node kinds (play, hangup): expected "
        "exactly one of play, menu, collect, crm_lookup, set, business_hours, switch, branch, "
        "queue, callback, voicemail, transfer, hangup",
        "flows.yaml:7: flows.main.nodes.c: no node kind: expected exactly one of play, menu, "
        "collect, crm_lookup, set, business_hours, switch, branch, queue, callback, "
        "voicemail, transfer, hangup",
        "flows.yaml:9: flows.main.nodes.d: duplicate key (first written at line 8)",
    ]


def test_switch_targets_written_bare_or_quoted() -> None:
    config = load(
        """\
        flows:
          main:
            start: s
            nodes:
              s: {switch: {name: storm, "on": a, off: b}}
              a: {hangup: {}}
              b: {hangup: {}}
        """
    )
    assert config.flows["main"].nodes["s"] == SwitchNode(name="storm", on="a", off="b")
    lines = problems(
        """\
        flows:
          main:
            start: s
            nodes:
              s: {switch: {name: storm, on: x, off: a}}
              a: {hangup: {}}
        """
    )
    assert lines == ["flows.yaml:5: flows.main.nodes.s.switch.on: unknown node 'x'"]


def test_every_problem_is_reported_at_once_with_structured_details() -> None:
    with pytest.raises(ConfigError) as info:
        load(
            """\
            numbers: {"1": nope}
            flows:
              main:
                start: m
                nodes:
                  m: {menu: {prompt: [m], options: {"1": gone}, retries: -1}}
            """
        )
    errors = info.value.details["errors"]
    assert [(e["line"], e["field"]) for e in errors] == [
        (1, "numbers.1"),
        (6, "flows.main.nodes.m.menu.retries"),  # same line: node fields before references
        (6, "flows.main.nodes.m.menu.options.1"),
    ]
    assert info.value.error_id == "invalid_ivr_flow"


def test_yaml_syntax_error_is_a_flow_error_with_its_line() -> None:
    with pytest.raises(FlowConfigError) as info:
        load("flows:\n  main: {start: a\n")
    assert str(info.value).startswith("flows.yaml:")
    assert "YAML syntax error" in str(info.value)
