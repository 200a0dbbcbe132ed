"""The IVR interpreter walked through the example flow with an injected clock, plus a fuzz test."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from trunkline.domain.calendar import BusinessHours
from trunkline.ivr import (
    Command,
    CreateCallback,
    CreateVoicemail,
    Enqueue,
    Flow,
    FlowConfigError,
    Hangup,
    IvrSession,
    LeaveQueue,
    LookupCustomer,
    Outcome,
    Play,
    PromptPiece,
    SayDuration,
    SayNumber,
    SessionState,
    StartHoldMusic,
    StartRecording,
    StopHoldMusic,
    StopPlayback,
    StopRecording,
    TransferOut,
    load_flows,
)
from trunkline.ivr.model import SetNode

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "ivr" / "example.yaml"
OFFICE = BusinessHours(
    name="office",
    timezone="Europe/London",
    weekly={d: ((time(9, 0), time(17, 0)),) for d in ("mon", "tue", "wed", "thu", "fri")},
)
CONFIG = load_flows(EXAMPLE.read_text(), str(EXAMPLE), calendars={"office": OFFICE})
# Wednesday 18 November 2026: London is on UTC in winter.
OPEN = datetime(2026, 11, 18, 10, 0, tzinfo=UTC).timestamp()
CLOSED = datetime(2026, 11, 18, 20, 0, tzinfo=UTC).timestamp()
CALLER = "+447700900123"


class Call:
    """A session plus the clock an adapter would keep; timers fire when time passes them."""

    def __init__(
        self,
        *,
        now: float = OPEN,
        dialled: str = "100",
        caller_id: str = CALLER,
        switches: Mapping[str, bool] | None = None,
    ) -> None:
        self.now = now
        self.session = IvrSession.for_number(
            CONFIG, dialled=dialled, caller_id=caller_id, now=now, switches=switches
        )

    def out(self) -> list[Command]:
        return self.session.pending_commands()

    def start(self) -> list[Command]:
        self.session.start(self.now)
        return self.out()

    def played(self) -> list[Command]:
        self.session.prompt_finished(self.now)
        return self.out()

    def press(self, digits: str) -> list[Command]:
        for d in digits:
            self.session.digit(d, self.now)
        return self.out()

    def wait(self, seconds: float) -> list[Command]:
        """Let ``seconds`` pass, firing every deadline on the way at its own instant."""
        end = self.now + seconds
        while (deadline := self.session.next_deadline()) is not None and deadline <= end:
            self.now = max(self.now, deadline)
            self.session.handle_timer(self.now)
        self.now = end
        return self.out()

    def to_menu(self) -> None:
        assert self.start() == [Play(pieces=("welcome",))]
        assert self.played() == [Play(pieces=("menu",))]

    def to_sales_queue(self) -> None:
        self.to_menu()
        self.played()
        assert self.press("1") == [
            Enqueue(
                queue="sales",
                skills={"english": 2},
                priority=1,
                data={"caller_id": CALLER, "dialled": "100", "intent": "sales"},
                customer={},
            ),
            StartHoldMusic(name="moh"),
        ]
        assert self.session.state is SessionState.IN_QUEUE


def say(position: int, wait_s: float) -> tuple[PromptPiece, ...]:
    return ("queue_position", SayNumber(position), "expected_wait", SayDuration(wait_s))


# -- menu and queue ----------------------------------------------------------------------


def test_press_1_queue_announcements_at_the_right_times_then_answered() -> None:
    call = Call()
    call.to_sales_queue()
    entered = call.now
    assert call.session.next_deadline() == entered + 30
    call.session.queue_update(3, 95.0, call.now)
    assert call.wait(29.9) == []
    assert call.wait(0.1) == [StopHoldMusic(), Play(pieces=say(3, 95.0))]
    assert call.now == entered + 30
    assert call.session.next_deadline() is None  # re-armed when the announcement ends
    call.now += 6
    assert call.played() == [StartHoldMusic(name="moh")]
    assert call.session.next_deadline() == entered + 60
    call.session.queue_update(2, 40.0, call.now)
    # At 60 s the announcement and the callback offer fall due together: one prompt.
    assert call.wait(24) == [StopHoldMusic(), Play(pieces=(*say(2, 40.0), "callback_offer"))]
    assert call.played() == [StartHoldMusic(name="moh")]
    assert call.session.next_deadline() == entered + 90
    call.session.answered_by_agent(call.now)
    assert call.out() == [StopHoldMusic()]
    assert call.session.state is SessionState.FINISHED
    assert call.session.outcome is Outcome.ANSWERED
    assert call.session.next_deadline() is None


def test_no_announcement_before_the_first_queue_update() -> None:
    call = Call()
    call.to_sales_queue()
    assert call.wait(30) == []
    assert call.session.next_deadline() == call.now + 30


def test_answered_during_an_announcement_stops_the_prompt() -> None:
    call = Call()
    call.to_sales_queue()
    call.session.queue_update(1, 10.0, call.now)
    call.wait(30)
    call.session.answered_by_agent(call.now)
    assert call.out() == [StopPlayback()]


def test_menu_timeouts_use_the_retries_then_on_fail() -> None:
    call = Call()
    call.to_menu()
    assert call.played() == []
    assert call.session.state is SessionState.WAITING_INPUT
    assert call.wait(4.9) == []
    assert call.wait(0.1) == [Play(pieces=("sorry", "menu"))]
    call.played()
    assert call.wait(5) == [Play(pieces=("sorry", "menu"))]
    call.played()
    # Third silence: retries (2) are used up; on_fail "agent" queues to support.
    out = call.wait(5)
    assert isinstance(out[0], Enqueue) and out[0].queue == "support"
    assert out[1:] == [StartHoldMusic(name="moh")]


def test_invalid_digit_plays_invalid_then_menu_and_counts_as_an_attempt() -> None:
    call = Call()
    call.to_menu()
    call.played()
    assert call.press("7") == [Play(pieces=("invalid", "menu"))]
    # Barge in on the re-prompt with another wrong key, then run out of tries.
    assert call.press("8") == [StopPlayback(), Play(pieces=("invalid", "menu"))]
    out = call.press("5")
    assert out[0] == StopPlayback()
    assert isinstance(out[1], Enqueue) and out[1].queue == "support"


def test_barge_in_on_the_menu_prompt() -> None:
    call = Call()
    call.to_menu()
    assert call.press("9") == [StopPlayback(), TransferOut(number="+441632960999")]
    assert call.session.outcome is Outcome.TRANSFERRED
    assert call.session.finished


def test_digit_during_welcome_barges_in_and_is_typed_ahead_into_the_menu() -> None:
    call = Call()
    call.start()
    # "2" skips the welcome and chooses the account option without hearing the menu.
    assert call.press("2") == [StopPlayback(), Play(pieces=("enter_account",))]
    assert call.session.node == "account"


def test_non_interruptible_prompt_drops_digits() -> None:
    call = Call(now=CLOSED)
    call.start()
    assert call.played() == [Play(pieces=("closed",), interruptible=False)]
    assert call.press("123") == []
    assert call.played() == [Play(pieces=("leave_message",))]


# -- collect and lookup ------------------------------------------------------------------


def to_account(call: Call) -> None:
    call.to_menu()
    call.played()
    assert call.press("2") == [Play(pieces=("enter_account",))]


def test_collect_with_terminator() -> None:
    call = Call()
    to_account(call)
    assert call.press("123456") == [StopPlayback()]
    assert call.press("#") == [LookupCustomer(by="account", value="123456")]
    assert call.session.variables["account_number"] == "123456"
    assert call.session.state is SessionState.LOOKING_UP


def test_collect_stops_at_max_length() -> None:
    call = Call()
    to_account(call)
    call.played()
    assert call.press("1234567890") == [LookupCustomer(by="account", value="1234567890")]


def test_collect_too_short_then_inter_digit_timeout_with_enough_digits() -> None:
    call = Call()
    to_account(call)
    call.played()
    assert call.press("123#") == [Play(pieces=("invalid_account", "enter_account"))]
    call.played()
    call.press("1234567")
    assert call.wait(7.9) == []
    # No terminator, but at least min digits when the inter-digit timer fires: accepted.
    assert call.wait(0.1) == [LookupCustomer(by="account", value="1234567")]


def test_collect_failures_go_to_on_fail() -> None:
    call = Call()
    to_account(call)
    call.played()
    assert call.wait(8) == [Play(pieces=("sorry", "enter_account"))]
    call.played()
    assert call.press("12#") == [Play(pieces=("invalid_account", "enter_account"))]
    call.played()
    out = call.wait(8)
    assert isinstance(out[0], Enqueue) and out[0].queue == "support"


def test_lookup_found_vip_goes_to_the_vip_queue_with_customer_facts() -> None:
    call = Call()
    to_account(call)
    call.press("123456#")
    call.session.lookup_result(True, {"class": "vip", "name": "Ann"}, call.now)
    enqueue, music = call.out()
    assert enqueue == Enqueue(
        queue="support",
        skills={},
        priority=5,
        data={
            "caller_id": CALLER,
            "dialled": "100",
            "vip": True,
            "account_number": "123456",
        },
        customer={"class": "vip", "name": "Ann"},
    )
    assert music == StartHoldMusic(name="moh")


def test_lookup_not_found_and_lookup_timeout_go_to_the_agent_queue() -> None:
    call = Call()
    to_account(call)
    call.press("123456#")
    call.session.lookup_result(False, None, call.now)
    enqueue = call.out()[0]
    assert isinstance(enqueue, Enqueue) and (enqueue.priority, enqueue.customer) == (0, {})

    call = Call()
    to_account(call)
    call.press("123456#")
    assert call.wait(3.9) == []
    enqueue = call.wait(0.1)[0]
    assert isinstance(enqueue, Enqueue) and enqueue.queue == "support"
    call.session.lookup_result(True, {"class": "vip"}, call.now)  # too late: ignored
    assert call.out() == []


def test_branch_on_a_non_vip_customer_uses_membership() -> None:
    call = Call()
    to_account(call)
    call.press("123456#")
    call.session.lookup_result(True, {"class": "gold", "country": "IE"}, call.now)
    enqueue = call.out()[0]
    assert isinstance(enqueue, Enqueue) and enqueue.priority == 0


# -- hours, switch, voicemail, callback ---------------------------------------------------


def test_business_hours_closed_goes_to_voicemail() -> None:
    call = Call(now=CLOSED)
    call.start()
    assert call.played() == [Play(pieces=("closed",), interruptible=False)]
    assert call.played() == [Play(pieces=("leave_message",))]
    assert call.played() == [StartRecording(recording_id="call-vm1", max_s=120.0)]
    assert call.session.state is SessionState.RECORDING
    call.now += 42
    call.session.recording_finished(42.0, call.now)
    assert call.out() == [
        CreateVoicemail(
            recording_id="call-vm1",
            duration_s=42.0,
            queue="support",
            data={"caller_id": CALLER, "dialled": "100"},
        ),
        Hangup(reason="goodbye"),
    ]
    assert call.session.outcome is Outcome.HUNG_UP


def test_business_hours_open_on_a_weekday_closed_at_the_weekend() -> None:
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=UTC).timestamp()
    call = Call(now=saturday)
    call.start()
    assert call.played() == [Play(pieces=("closed",), interruptible=False)]


def test_voicemail_ends_at_max_length_or_on_the_finish_key() -> None:
    call = Call(now=CLOSED)
    call.start()
    call.played()
    call.played()
    assert call.press("5") == [StopPlayback(), StartRecording(recording_id="call-vm1", max_s=120)]
    out = call.wait(120)
    assert out[0] == StopRecording(recording_id="call-vm1")
    assert isinstance(out[1], CreateVoicemail) and out[1].duration_s == 120
    assert out[2] == Hangup(reason="goodbye")

    call = Call(now=CLOSED)
    call.start()
    call.played()
    call.played()
    call.played()
    call.now += 12.5
    out = call.press("#")
    assert out[0] == StopRecording(recording_id="call-vm1")
    assert isinstance(out[1], CreateVoicemail) and out[1].duration_s == 12.5


def test_emergency_switch_flipped_at_run_time() -> None:
    call = Call()
    call.start()
    call.session.set_switch("storm", True, call.now)  # the supervisor flips it mid-welcome
    assert call.played() == [Play(pieces=("closed",), interruptible=False)]

    # Given at start, and flipped back off before the node is reached.
    call = Call(switches={"storm": True})
    call.start()
    call.session.set_switch("storm", False, call.now)
    assert call.played() == [Play(pieces=("menu",))]

    # A call already past the switch is not pulled out of the menu.
    call = Call()
    call.to_menu()
    call.session.set_switch("storm", True, call.now)
    assert call.press("9") == [StopPlayback(), TransferOut(number="+441632960999")]


def test_callback_offer_while_queued() -> None:
    call = Call()
    call.to_sales_queue()
    assert call.press("1") == []  # not offered yet
    assert call.wait(60) == [StopHoldMusic(), Play(pieces=("callback_offer",))]
    data = {"caller_id": CALLER, "dialled": "100", "intent": "sales"}
    assert call.press("1") == [
        StopPlayback(),
        LeaveQueue(reason="callback"),
        CreateCallback(number=CALLER, queue="sales", data=data),
        Play(pieces=("callback_confirmed",), interruptible=False),
    ]
    assert call.press("1") == []
    assert call.played() == [Hangup(reason="callback")]
    assert call.session.finished


def test_anonymous_caller_is_not_offered_a_callback() -> None:
    call = Call(caller_id="")
    call.to_menu()
    call.played()
    call.press("1")
    assert call.wait(60) == []
    assert call.press("1") == []


def test_voicemail_key_while_queued_leaves_the_queue_and_records() -> None:
    call = Call()
    call.to_sales_queue()
    assert call.press("2") == [
        StopHoldMusic(),
        LeaveQueue(reason="voicemail"),
        Play(pieces=("leave_message",)),
    ]
    assert call.played() == [StartRecording(recording_id="call-vm1", max_s=120)]


def test_callback_to_an_entered_number() -> None:
    call = Call(dialled="200")
    assert call.start() == [Play(pieces=("enter_phone",))]
    call.played()
    assert call.press("01632960123#") == [
        CreateCallback(
            number="01632960123",
            queue="support",
            data={"caller_id": CALLER, "dialled": "200", "phone": "01632960123"},
        ),
        Play(pieces=("callback_confirmed",), interruptible=False),
    ]
    assert call.played() == [Hangup(reason="ivr_hangup")]


def test_digits_typed_during_a_lookup_are_kept_for_the_next_menu() -> None:
    config = load_flows(
        """
        numbers: {"1": f}
        flows:
          f:
            start: look
            nodes:
              look: {crm_lookup: {by: caller_id}, found: m, not_found: m}
              m: {menu: {prompt: [menu], options: {"3": out}}}
              out: {transfer: {to: "+15550100"}}
        """,
        "inline.yaml",
    )
    session = IvrSession.for_number(config, dialled="1", caller_id=CALLER, now=OPEN)
    session.start(OPEN)
    assert session.pending_commands() == [LookupCustomer(by="caller_id", value=CALLER)]
    session.digit("3", OPEN + 1)
    assert session.pending_commands() == []
    session.lookup_result(True, {"class": "gold"}, OPEN + 2)
    # The menu takes the typed-ahead "3" without playing its prompt.
    assert session.pending_commands() == [TransferOut(number="+15550100")]


def test_a_loop_the_loader_would_refuse_is_cut_short_at_run_time() -> None:
    spin = Flow(
        name="spin",
        start="a",
        nodes={"a": SetNode(next="b", priority=1), "b": SetNode(next="a", priority=2)},
    )
    session = IvrSession(spin, caller_id=CALLER, dialled="1", now=OPEN)
    session.start(OPEN)
    assert session.pending_commands() == [Hangup(reason="flow_loop")]
    assert session.finished


# -- hang-up -----------------------------------------------------------------------------


def _welcome(call: Call) -> None:
    call.start()


def _menu_wait(call: Call) -> None:
    call.to_menu()
    call.played()


def _collecting(call: Call) -> None:
    to_account(call)
    call.press("12")


def _looking_up(call: Call) -> None:
    to_account(call)
    call.press("123456#")


def _queued(call: Call) -> None:
    call.to_sales_queue()


def _announcing(call: Call) -> None:
    call.to_sales_queue()
    call.session.queue_update(4, 200.0, call.now)
    call.wait(30)


def _recording(call: Call) -> None:
    call.now = CLOSED
    call.session = IvrSession.for_number(CONFIG, dialled="100", caller_id=CALLER, now=CLOSED)
    call.start()
    call.played()
    call.played()
    call.played()
    call.now += 7


@pytest.mark.parametrize(
    ("reach", "expected"),
    [
        (lambda call: None, []),
        (_welcome, []),
        (_menu_wait, []),
        (_collecting, []),
        (_looking_up, []),
        (_queued, [LeaveQueue(reason="abandoned")]),
        (_announcing, [LeaveQueue(reason="abandoned")]),
        (
            _recording,
            [
                StopRecording(recording_id="call-vm1"),
                CreateVoicemail(
                    recording_id="call-vm1",
                    duration_s=7.0,
                    queue="support",
                    data={"caller_id": CALLER, "dialled": "100"},
                ),
            ],
        ),
    ],
    ids=["idle", "welcome", "menu", "collect", "lookup", "queued", "announcing", "recording"],
)
def test_caller_hang_up_at_any_point_finishes_the_session(reach: Any, expected: list[Any]) -> None:
    call = Call()
    reach(call)
    call.out()
    call.session.caller_hung_up(call.now)
    assert call.out() == expected
    assert call.session.state is SessionState.FINISHED
    assert call.session.outcome is Outcome.CALLER_HUNG_UP
    assert call.session.next_deadline() is None
    # A finished session ignores everything.
    session = call.session
    session.start(call.now)
    session.digit("1", call.now)
    session.prompt_finished(call.now)
    session.handle_timer(call.now + 1000)
    session.lookup_result(True, {}, call.now)
    session.recording_finished(1.0, call.now)
    session.queue_update(1, 1.0, call.now)
    session.answered_by_agent(call.now)
    session.caller_hung_up(call.now)
    assert session.pending_commands() == []
    assert session.next_command() is None


def test_next_command_drains_one_at_a_time() -> None:
    call = Call()
    call.to_menu()
    call.played()
    call.session.digit("1", call.now)
    first = call.session.next_command()
    assert isinstance(first, Enqueue)
    assert call.session.next_command() == StartHoldMusic(name="moh")
    assert call.session.next_command() is None


# -- fuzz --------------------------------------------------------------------------------

NAMES = [f"n{i}" for i in range(6)]
INPUT_KINDS = {"menu", "collect", "queue", "voicemail"}
KINDS = sorted(
    [*INPUT_KINDS, "play", "crm_lookup", "set", "switch", "branch", "callback", "transfer"]
    + ["hangup"]
)
DIGITS = "0123456789*#"


@st.composite
def flows(draw: st.DrawFn) -> dict[str, Any]:
    """A random flow document in YAML data form; invalid ones are rejected by the loader."""
    count = draw(st.integers(1, len(NAMES)))
    names = NAMES[:count]
    target = st.sampled_from(names)
    seconds = st.sampled_from([1, 2.5, 5, 30])
    prompts = st.lists(st.sampled_from(["p", "q"]), max_size=2)
    digit = st.sampled_from(list(DIGITS))
    chosen = [draw(st.sampled_from(KINDS)) for _ in names]
    waiting = [n for n, k in zip(names, chosen, strict=True) if k in INPUT_KINDS]
    has_v = any(k in ("set", "collect") for k in chosen)
    kinds: dict[str, Callable[[], dict[str, Any]]] = {
        "play": lambda: {"play": ["p"], "next": draw(target), "interruptible": draw(st.booleans())},
        "menu": lambda: {
            "menu": {
                "prompt": draw(prompts),
                "options": draw(st.dictionaries(digit, target, min_size=1, max_size=3)),
                "timeout_s": draw(seconds),
                "retries": draw(st.integers(0, 2)),
                "invalid": draw(prompts),
                "no_input": draw(prompts),
            },
            **({"on_fail": draw(target)} if draw(st.booleans()) else {}),
        },
        "collect": lambda: {
            "collect": {
                "prompt": draw(prompts),
                "min": 1,
                "max": draw(st.integers(1, 4)),
                "terminator": draw(st.sampled_from(["#", "*"])),
                "timeout_s": draw(seconds),
                "retries": draw(st.integers(0, 2)),
                "into": "v",
            },
            "next": draw(target),
            **({"on_fail": draw(target)} if draw(st.booleans()) else {}),
        },
        "crm_lookup": lambda: {
            "crm_lookup": {
                "by": draw(st.sampled_from(["caller_id", "v"])) if has_v else "caller_id"
            },
            "found": draw(target),
            "not_found": draw(target),
        },
        "set": lambda: {"set": {"queue": "q", "vars": {"v": "1"}}, "next": draw(target)},
        "switch": lambda: {"switch": {"name": "s", "on": draw(target), "off": draw(target)}},
        "branch": lambda: {
            "branch": {
                "when": [
                    {
                        "if": {"v": {"in": ["1", "12"]}, "caller_id": {"ne": ""}},
                        "then": draw(target),
                    },
                    {"if": {"customer.class": "vip"}, "then": draw(target)},
                ],
                "else": draw(target),
            }
        },
        "queue": lambda: {
            "queue": {
                "name": "q",
                "hold_music": "moh",
                "announce_every_s": draw(seconds),
                "announce": ["position", "expected_wait", "p"],
                "offer_callback_after_s": draw(seconds),
                "callback_key": "1",
                "voicemail_key": "2",
                "voicemail": draw(target),
            }
        },
        "callback": lambda: (
            {"callback": {"number": "caller_id", "queue": "q", "prompt": ["p"]}}
            | ({"next": draw(target)} if draw(st.booleans()) else {})
        ),
        "voicemail": lambda: {
            "voicemail": {"prompt": draw(prompts), "max_s": draw(seconds), "queue": "q"}
        },
        "transfer": lambda: {"transfer": {"to": "+15550100"}},
        "hangup": lambda: {"hangup": {}},
    }
    assert sorted(kinds) == KINDS
    nodes = {}
    for i, (name, kind) in enumerate(zip(names, chosen, strict=True)):
        # Nodes that never wait only lead forward or to a waiting node: no refused loops.
        allowed = names if kind in INPUT_KINDS else [*names[i + 1 :], *waiting]
        target = st.sampled_from(allowed or names)
        nodes[name] = kinds["hangup" if not allowed else kind]()
    return {"numbers": {"1": "f"}, "flows": {"f": {"start": names[0], "nodes": nodes}}}


inputs = st.lists(
    st.one_of(
        st.tuples(st.just("digit"), st.sampled_from(list(DIGITS))),
        st.tuples(st.just("played")),
        st.tuples(st.just("timer")),
        st.tuples(st.just("lookup"), st.booleans()),
        st.tuples(st.just("recorded"), st.floats(0, 200)),
        st.tuples(st.just("update"), st.integers(1, 9)),
        st.tuples(st.just("answered")),
        st.tuples(st.just("hangup")),
        st.tuples(st.just("switch"), st.booleans()),
    ),
    max_size=40,
)

WAITING = {
    SessionState.PLAYING,
    SessionState.WAITING_INPUT,
    SessionState.LOOKING_UP,
    SessionState.IN_QUEUE,
    SessionState.RECORDING,
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(doc=flows(), steps=inputs, caller=st.sampled_from([CALLER, ""]))
def test_random_inputs_on_random_flows_never_break_the_session(
    doc: dict[str, Any], steps: list[tuple[Any, ...]], caller: str
) -> None:
    try:
        config = load_flows(yaml.safe_dump(doc), "fuzz.yaml")
    except FlowConfigError:
        assume(False)
        raise  # unreachable: assume(False) rejects the example
    now = 1_000.0
    session = IvrSession.for_number(config, dialled="1", caller_id=caller, now=now)
    session.start(now)
    emitted: list[Command] = session.pending_commands()
    for step in steps:
        was_finished = session.finished
        now += 0.5
        match step:
            case ("digit", d):
                session.digit(d, now)
            case ("played",):
                session.prompt_finished(now)
            case ("timer",):
                deadline = session.next_deadline()
                now = max(now, deadline) if deadline is not None else now + 10
                session.handle_timer(now)
            case ("lookup", found):
                session.lookup_result(found, {"class": "vip"} if found else None, now)
            case ("recorded", duration):
                session.recording_finished(duration, now)
            case ("update", position):
                session.queue_update(position, position * 30.0, now)
            case ("answered",):
                session.answered_by_agent(now)
            case ("hangup",):
                session.caller_hung_up(now)
            case ("switch", on):
                session.set_switch("s", on, now)
        out = session.pending_commands()
        if was_finished:
            assert out == []
        emitted += out
        if session.finished:
            assert session.next_deadline() is None
        else:
            assert session.state in WAITING
            if session.state in (
                SessionState.WAITING_INPUT,
                SessionState.LOOKING_UP,
                SessionState.RECORDING,
            ):
                assert session.next_deadline() is not None
        assert all(c.pieces for c in out if isinstance(c, Play))
    event(f"after the inputs: {session.state.value}, {session.outcome}")
    if not session.finished:
        session.caller_hung_up(now)
        emitted += session.pending_commands()
    assert session.finished
    enqueued = sum(isinstance(c, Enqueue) for c in emitted)
    left = sum(isinstance(c, LeaveQueue) for c in emitted)
    assert enqueued - left == (1 if session.outcome is Outcome.ANSWERED else 0)
    recordings = sum(isinstance(c, StartRecording) for c in emitted)
    assert recordings == sum(isinstance(c, CreateVoicemail) for c in emitted)
