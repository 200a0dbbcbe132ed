"""Configuration loading: packaged files, domain objects, and errors that point at the line."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from textwrap import dedent
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from trunkline.auth.passwords import hash_password, needs_rehash, verify_password
from trunkline.config import (
    DEMO_CONFIG,
    Config,
    load_config,
    load_config_text,
    load_packaged_config,
)
from trunkline.domain.agent import CapacityProfile
from trunkline.domain.calendar import ALWAYS_OPEN
from trunkline.domain.errors import ConfigError
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.domain.queue import ClosedAction, SelectionStrategy, WrapUpMode
from trunkline.reporting.definitions import settings_from_config


def load(text: str) -> Config:
    return load_config_text(dedent(text), "config.yaml")


def problems(text: str) -> list[tuple[int | None, str, str]]:
    """(line, field, message) of every error in ``text``."""
    with pytest.raises(ConfigError) as info:
        load(text)
    return [(e["line"], e["field"], e["message"]) for e in info.value.details["errors"]]


def london(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/London")).timestamp()


# -- packaged files --------------------------------------------------------------------


def test_default_config_runs_one_always_open_queue() -> None:
    config = load_config(None)
    assert list(config.queues) == ["general"]
    assert config.queues["general"].hours is ALWAYS_OPEN
    assert config.agents == {} and config.users == {} and config.skills == {}
    assert config.centre.timezone == "UTC"
    assert config.capacity_profiles["default"] == CapacityProfile()
    assert config.wrap_up_codes["resolved"].resolved
    assert not config.wrap_up_codes["follow_up"].resolved
    assert list(config.not_ready_reasons) == [
        "break",
        "lunch",
        "meeting",
        "training",
        "missed",
        "disconnected",
    ]
    assert config.not_ready_reasons["missed"].system
    assert len(config.rules) == 0
    assert config.source.endswith("default.yaml")


def test_demo_config_describes_a_small_centre() -> None:
    config = load_packaged_config(DEMO_CONFIG)
    assert config.centre.timezone == "Europe/London"
    assert set(config.skills) == {"english", "french", "billing", "tech", "sales"}
    assert {"sales", "support", "billing", "overflow"} <= set(config.queues)
    assert config.queues["billing"].strict_priority
    assert config.queues["sales"].closed_action is ClosedAction.OVERFLOW
    first, second = config.queues["support"].escalation
    assert (first.after_s, dict(first.lower_skills)) == (30, {"tech": 2})
    assert (second.after_s, second.add_queues) == (60, frozenset({"overflow"}))
    assert len(config.agents) == 8
    chloe = config.agents["chloe"].capacity
    assert (dict(chloe.limits), chloe.max_total) == ({Medium.CHAT: 3, Medium.EMAIL: 1}, 4)
    assert dict(config.agents["alice"].capacity.limits) == {Medium.VOICE: 1, Medium.CALLBACK: 1}
    assert config.users["sup"].role == "supervisor"
    assert config.users["admin"].role == "admin"
    assert config.users["alice"].role == "agent"
    assert config.users["alice"].agent_id == "alice"
    assert len(config.users) == 10


def test_every_demo_login_has_the_password_demo() -> None:
    config = load_packaged_config(DEMO_CONFIG)
    for user in config.users.values():
        assert user.password_hash is not None
        assert verify_password(user.password_hash, "demo"), user.id


def test_demo_rules_route_by_customer_language_open_cases_and_hours() -> None:
    config = load_packaged_config(DEMO_CONFIG)
    chat = InteractionRequest(
        id="c1",
        medium=Medium.CHAT,
        queue="support",
        customer={"class": "gold", "language": "fr", "open_cases": 1},
    )
    out, names = config.apply_rules(chat, now=london("2024-01-15T10:00"))
    assert names == ("french", "open-case")
    assert (out.priority, dict(out.skills)) == (1, {"french": 3})
    assert config.crm.class_priority == {"vip": 5, "gold": 2}
    email = InteractionRequest(id="e1", medium=Medium.EMAIL, queue="support")
    out, names = config.apply_rules(email, now=london("2024-01-15T23:00"))
    assert (out.queue, out.priority, names) == ("email", -1, ("after-hours-email",))
    out, names = config.apply_rules(email, now=london("2024-01-15T12:00"))
    assert (out.queue, names) == ("support", ())


def test_load_config_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text("queues:\n  q1: {}\n", encoding="utf-8")
    assert list(load_config(path).queues) == ["q1"]
    assert load_config(str(path)).source == str(path)
    path.write_text("queues:\n  q1: {strategy: random}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:2: queues\.q1\.strategy: "):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


# -- domain objects --------------------------------------------------------------------


def test_sections_become_domain_objects() -> None:
    config = load(
        """\
        centre: {name: Acme, timezone: Europe/Paris, priority_unit_s: 30}
        skills: {english: Speaks English, tech: null}
        business_hours:
          office: {weekly: {mon: "09:00-17:00"}}
        capacity_profiles:
          chat5: {limits: {chat: 5}, exclusive: []}
        queues:
          q1:
            strategy: most_skilled
            wrap_up: {mode: manual}
            hours: office
            closed_action: overflow
            closed_overflow_queue: q2
            escalation:
              - {after_s: 60, add_queues: [q2]}
              - {after_s: 10, drop_skills: [tech], raise_priority: 2}
            service_level: {voice: {percent: 90, threshold_s: 15}}
          q2: {name: Second}
        agents:
          - {id: a1, skills: {english: 3}, queues: [q1], capacity: chat5, team: Blue}
        users:
          - {id: boss, name: The Boss, role: admin}
        """
    )
    assert config.centre.name == "Acme" and config.centre.priority_unit_s == 30
    assert config.skills == {"english": "Speaks English", "tech": ""}
    q1 = config.queues["q1"]
    assert q1.strategy is SelectionStrategy.MOST_SKILLED
    assert q1.wrap_up.mode is WrapUpMode.MANUAL
    assert q1.hours.timezone == "Europe/Paris"  # calendars default to the centre's zone
    assert [s.after_s for s in q1.escalation] == [10, 60]  # sorted
    assert q1.escalation[0].drop_skills == frozenset({"tech"})
    assert q1.service_level[Medium.VOICE].threshold_s == 15
    assert config.queues["q2"].name == "Second"
    assert q1.name == "q1"  # defaults to the id
    agent = config.agents["a1"]
    assert (dict(agent.skills), agent.queues, agent.team) == (
        {"english": 3},
        frozenset({"q1"}),
        "Blue",
    )
    assert dict(agent.capacity.limits) == {Medium.CHAT: 5}
    assert agent.capacity.max_total is None
    assert agent.capacity.exclusive == frozenset()
    assert config.users["a1"].password_hash is None
    assert config.users["boss"].name == "The Boss"
    assert config.users["boss"].agent_id is None


def test_empty_file_and_empty_sections_load() -> None:
    assert load("").queues == {}
    config = load("queues:\nagents:\nskills:\n")
    assert (config.queues, config.agents, config.skills) == ({}, {}, {})


def test_skills_may_be_a_list_without_duplicates() -> None:
    assert load("skills: [a, b]").skills == {"a": "", "b": ""}
    assert problems("skills: [a, b, a]") == [(1, "skills", "skill 'a' is listed twice")]


def test_yaml_anchors_and_merge_keys_work() -> None:
    config = load(
        """\
        queues:
          base: &base {offer_timeout_s: 30, strategy: least_busy}
          other:
            <<: *base
            offer_timeout_s: 45
        """
    )
    assert config.queues["other"].offer_timeout_s == 45
    assert config.queues["other"].strategy is SelectionStrategy.LEAST_BUSY


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2024-01-19T21:59", False),  # Friday before the window
        ("2024-01-19T22:00", True),
        ("2024-01-20T05:59", True),  # Saturday morning: the tail of Friday's window
        ("2024-01-20T06:00", False),
        ("2024-01-20T23:00", True),  # Saturday 18:00-24:00
        ("2024-01-21T00:30", False),  # ...ends at midnight
    ],
)
def test_overnight_windows(local: str, expected: bool) -> None:
    config = load(
        """\
        centre: {timezone: Europe/London}
        business_hours:
          night: {weekly: {fri: ["22:00-06:00"], sat: ["18:00-24:00"]}}
        """
    )
    assert config.business_hours["night"].is_open(london(local)) is expected


def test_closed_date_closes_the_overnight_tail_too() -> None:
    config = load(
        """\
        business_hours:
          night:
            timezone: Europe/London
            weekly: {fri: ["22:00-06:00"]}
            closed_dates: [2024-01-19]
        """
    )
    hours = config.business_hours["night"]
    assert not hours.is_open(london("2024-01-19T23:00"))
    assert not hours.is_open(london("2024-01-20T05:00"))
    assert hours.is_open(london("2024-01-26T23:00"))


# -- errors ----------------------------------------------------------------------------


def test_error_names_file_line_and_field() -> None:
    text = """\
        queues:
          sales:
            offer_timeout_s: 0
        """
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value) == (
        "config.yaml:3: queues.sales.offer_timeout_s: Input should be greater than 0"
    )
    assert info.value.details["errors"] == [
        {
            "file": "config.yaml",
            "line": 3,
            "field": "queues.sales.offer_timeout_s",
            "message": "Input should be greater than 0",
        }
    ]
    assert info.value.error_id == "invalid_config"


def test_unknown_key_suggests_the_right_one() -> None:
    text = """\
        queues:
          sales:
            name: Sales
            ofer_timeout_s: 10
        centre: {colour: red}
        """
    typo, unknown = problems(text)
    assert typo == (
        4,
        "queues.sales.ofer_timeout_s",
        "unknown field 'ofer_timeout_s' (did you mean 'offer_timeout_s'?)",
    )
    assert unknown[:2] == (5, "centre.colour")
    assert unknown[2].startswith("unknown field 'colour' (expected one of: name, timezone, ")


def test_unknown_top_level_section() -> None:
    [(line, field, message)] = problems("skills: []\nqueus: {}\n")
    assert (line, field) == (2, "queus")
    assert "did you mean 'queues'" in message


def test_bad_skill_level() -> None:
    text = """\
        skills: [english]
        queues: {q1: {}}
        agents:
          - id: a1
            skills:
              english: 7
        """
    assert problems(text) == [
        (6, "agents[0].skills.english", "Input should be less than or equal to 5")
    ]


def test_unknown_skill_in_an_agent() -> None:
    text = """\
        skills: [english, french]
        agents:
          - id: a1
            skills: {english: 3}
          - id: a2
            skills:
              frech: 2
        """
    assert problems(text) == [
        (7, "agents[1].skills.frech", "unknown skill 'frech' (did you mean 'french'?)")
    ]


def test_unknown_queue_in_add_queues() -> None:
    text = """\
        queues:
          sales:
            escalation:
              - after_s: 30
                add_queues: [overflow, sales]
          support: {}
        """
    assert problems(text) == [
        (
            5,
            "queues.sales.escalation[0].add_queues[0]",
            "unknown queue 'overflow' (declare it under queues:)",
        )
    ]


@pytest.mark.parametrize(
    ("window", "bad"),
    [("08:00-25:00", "'08:00-25:00'"), ("8-18", "'8-18'"), ("08:00", "'08:00'")],
)
def test_bad_time_window(window: str, bad: str) -> None:
    text = f"""\
        business_hours:
          office:
            weekly:
              mon: ["08:00-12:00", "{window}"]
        """
    assert problems(text) == [
        (4, "business_hours.office.weekly.mon[1]", f"expected a window 'HH:MM-HH:MM', got {bad}")
    ]


def test_bad_time_zones() -> None:
    text = """\
        centre:
          timezone: Europe/Londn
        business_hours:
          office: {timezone: Nowhere/Town}
        """
    assert [(line, field) for line, field, _ in problems(text)] == [
        (2, "centre.timezone"),
        (4, "business_hours.office.timezone"),
    ]
    assert "unknown time zone 'Europe/Londn'" in problems(text)[0][2]


def test_bad_character_is_a_syntax_error_with_its_line() -> None:
    with pytest.raises(ConfigError, match=r"^config\.yaml:2: YAML syntax error: unacceptable"):
        load("skills: []\nqueues: \x07\n")


def test_yaml_syntax_error_has_its_line() -> None:
    text = """\
        queues:
          sales: {offer_timeout_s: 10
          support: {}
        """
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(info.value).startswith("config.yaml:3: YAML syntax error: ")
    assert info.value.details["errors"][0]["line"] == 3


def test_every_problem_is_reported_in_line_order() -> None:
    text = """\
        skills: [english]
        queues:
          sales:
            offer_timeout_s: -1
            strategy: fastest
            hours: office
            closed_action: overflow
        agents:
          - id: a1
            skills: {english: 9, tech: 2}
            queues: [sales, support]
            capacity: huge
            password_hash: secret
          - id: a1
        users:
          - {id: a1, role: boss}
        rules:
          - name: vip
            when: {data.tier: {inn: [gold]}}
            then: {priority_delta: 5}
        """
    found = problems(text)
    assert [(line, field) for line, field, _ in found] == [
        (4, "queues.sales.offer_timeout_s"),
        (5, "queues.sales.strategy"),
        (6, "queues.sales.hours"),
        (7, "queues.sales.closed_action"),
        (10, "agents[0].skills.english"),
        (10, "agents[0].skills.tech"),
        (11, "agents[0].queues[1]"),
        (12, "agents[0].capacity"),
        (13, "agents[0].password_hash"),
        (14, "agents[1].id"),
        (16, "users[0].role"),
        (16, "users[0].id"),
        (19, "rules[0].when.data.tier.inn"),
    ]
    messages = [message for _, _, message in found]
    assert messages[3] == "closed_action 'overflow' needs closed_overflow_queue"
    assert messages[5] == "unknown skill 'tech' (declare it under skills:)"
    assert messages[7].startswith("unknown capacity profile 'huge'")
    assert messages[8].startswith("expected an argon2 hash")
    assert messages[9] == messages[11] == "duplicate id 'a1' (also agents[0])"
    assert messages[12].startswith("unknown operator 'inn'")


def test_message_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        load("queues:\n  a: {offer_timeout_s: 0}\n  b: {offer_timeout_s: 0}\n")
    assert str(info.value).splitlines() == [
        "config.yaml:2: queues.a.offer_timeout_s: Input should be greater than 0",
        "config.yaml:3: queues.b.offer_timeout_s: Input should be greater than 0",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "queues:\n  a: {closed_action: overflow, closed_overflow_queue: a}\n",
            (2, "queues.a.closed_overflow_queue", "a queue cannot overflow into itself"),
        ),
        (
            "queues:\n  a: {closed_overflow_queue: b}\n",
            (2, "queues.a.closed_overflow_queue", "unknown queue 'b' (declare it under queues:)"),
        ),
        (
            "queues:\n  a: {}\n  a: {}\n",
            (3, "queues.a", "duplicate key (first written at line 2)"),
        ),
        (
            "wrap_up_codes:\n  - {code: done}\n  - {code: done}\n",
            (3, "wrap_up_codes[1].code", "duplicate code 'done' (also wrap_up_codes[0])"),
        ),
        (
            "queues: {q1: {}}\nagents:\n  - {id: a1, queues: [q1]}\n  - {name: No id}\n",
            (4, "agents[1].id", "Field required"),
        ),
        (
            "queues:\n  1: {}\n",
            (2, "queues[1]", "invalid key: Input should be a valid string"),
        ),
        (
            "queues:\n  general:\n  q2: 5\n",
            (3, "queues.q2", "expected a mapping of settings"),
        ),
        (
            "- just\n- a list\n",
            (None, "", "expected a mapping of sections (centre, queues...)"),
        ),
        (
            "business_hours:\n  office: {weekly: {mon: [17:00-18:00], tue: [9]}}\n",
            (2, "business_hours.office.weekly.tue[0]", "Input should be a valid tuple"),
        ),
        (
            "queues:\n  sales:\n    service_level: {vioce: {percent: 80}}\n",
            (
                3,
                "queues.sales.service_level.vioce",
                "invalid key: Input should be 'voice', 'chat', 'email', 'callback', 'fax' or "
                "'voicemail'",
            ),
        ),
    ],
)
def test_cross_checks_and_shapes(text: str, expected: tuple[int | None, str, str]) -> None:
    assert problems(text) == [expected]


def test_rule_errors_use_declared_skills_and_queues() -> None:
    text = """\
        skills: [english]
        queues: {sales: {}}
        rules:
          - name: r1
            then: {skills: {french: 2}}
          - name: r2
            then: {queue: vip}
        """
    assert problems(text) == [
        (5, "rules[0].then.skills.french", "unknown skill 'french'"),
        (7, "rules[1].then.queue", "unknown queue 'vip'"),
    ]


# -- passwords -------------------------------------------------------------------------


def test_password_round_trip() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horse ")
    assert hash_password("correct horse") != hashed  # salted
    assert not needs_rehash(hashed)


@pytest.mark.parametrize("bad", ["", "secret", "$argon2id$v=19$m=65536,t=3,p=4$bad", "$2b$12$x"])
def test_malformed_hash_never_verifies_and_never_raises(bad: str) -> None:
    assert verify_password(bad, "secret") is False


def test_verify_tolerates_non_string_input() -> None:
    broken: Any = None
    assert verify_password(broken, "x") is False


def test_reporting_section_sets_costs_and_the_short_abandon_threshold() -> None:
    config = load_config_text(
        """
reporting:
  short_abandon_s: 8
  costs:
    voice: {per_handled_minute: 0.9, per_interaction: 0.1}
    email: {per_interaction: 0.4}
""",
        "centre.yaml",
    )
    settings = settings_from_config(config)
    assert settings.short_abandon_s == 8
    assert settings.cost_per_handled_minute[Medium.VOICE] == 0.9
    assert settings.cost_per_interaction[Medium.EMAIL] == 0.4
    assert settings.cost_per_handled_minute[Medium.EMAIL] == 0.0  # not set: free


def test_reporting_section_rejects_negative_costs_and_unknown_media() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config_text(
            "reporting:\n  costs:\n    pigeon: {per_interaction: 1}\n"
            "    voice: {per_handled_minute: -1}\n",
            "centre.yaml",
        )
    text = caught.value.message
    assert "centre.yaml:3" in text and "pigeon" in text
    assert "centre.yaml:4" in text and "per_handled_minute" in text


# -- wallboard thresholds --------------------------------------------------------------


def test_queue_wallboard_thresholds_are_read_and_default() -> None:
    config = load(
        """
        queues:
          support: {wallboard: {waiting_warn: 2, waiting_alarm: 4, longest_wait_alarm_s: 300}}
          sales: {}
        """
    )
    support = config.queues["support"].wallboard
    assert (support.waiting_warn, support.waiting_alarm) == (2, 4)
    assert support.longest_wait_alarm_s == 300.0
    assert config.queues["sales"].wallboard.waiting_alarm == 15


def test_a_warning_threshold_above_its_alarm_is_an_error_on_its_line() -> None:
    found = problems(
        """
        queues:
          support:
            wallboard: {waiting_warn: 9, waiting_alarm: 4}
        """
    )
    assert found == [(4, "queues.support.wallboard", "waiting_warn must not exceed waiting_alarm")]
