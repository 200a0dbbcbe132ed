"""Router scenarios a contact-centre user would notice, told through events and views.

Each test drives the sans-IO router with a fake clock (:class:`router_helpers.Centre`) and
asserts on who is offered what, in which order, and what the views show afterwards.
"""

from __future__ import annotations

from datetime import date, time
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from router_helpers import (
    DIGITAL,
    ONE_AT_A_TIME,
    T0,
    VOICE_ONLY,
    Centre,
    agent,
    of_type,
    offers,
    only,
    queue,
    utc,
)

from trunkline.domain.agent import AgentState, CapacityProfile
from trunkline.domain.calendar import WEEKDAYS, BusinessHours
from trunkline.domain.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidRequestError,
    UnknownInteractionError,
    UnknownQueueError,
)
from trunkline.domain.events import (
    AgentLoggedOut,
    AgentPresenceChanged,
    AgentProfileChanged,
    AgentStateChanged,
    ConfigReloaded,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionEscalated,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)
from trunkline.domain.interaction import InteractionRequest, InteractionState
from trunkline.domain.media import Medium
from trunkline.domain.queue import (
    ClosedAction,
    EscalationStep,
    SelectionStrategy,
    WrapUpMode,
    WrapUpPolicy,
)
from trunkline.router.engine import RouterSettings
from trunkline.router.errors import AgentBusyError, OfferGoneError
from trunkline.router.rules import compile_rules

EN3 = {"en": 3}

# ---------------------------------------------------------------- 1. global order


@pytest.mark.parametrize(
    ("delay", "expected"),
    [(30, ["urgent", "early"]), (90, ["early", "urgent"])],
    ids=["30s-later-goes-first", "90s-later-goes-second"],
)
def test_priority_acts_as_a_time_offset(delay: float, expected: list[str]) -> None:
    centre = Centre(
        [queue("sales")],
        [agent("a1", "sales")],
        settings=RouterSettings(priority_unit_s=60),
    )
    centre.submit("early", "sales", priority=0)
    centre.advance(delay)
    centre.submit("urgent", "sales", priority=1)
    centre.login("a1")
    assert centre.serve_in_turn("a1") == expected


def test_same_priority_is_served_first_in_first_out() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    for name in ("first", "second", "third"):
        centre.submit(name, "sales", priority=2)
        centre.advance(5)
    # "fourth" and "fifth" arrive in the same second: the order of arrival decides.
    centre.submit("fourth", "sales", priority=2)
    centre.submit("fifth", "sales", priority=2)
    centre.login("a1")
    assert centre.serve_in_turn("a1") == ["first", "second", "third", "fourth", "fifth"]


def test_order_holds_across_two_queues_served_by_one_agent() -> None:
    centre = Centre([queue("sales"), queue("support")], [agent("a1", "sales", "support")])
    centre.submit("sales-1", "sales")
    centre.advance(5)
    centre.submit("support-1", "support")
    centre.advance(5)
    centre.submit("sales-2", "sales")
    centre.login("a1")
    assert centre.serve_in_turn("a1") == ["sales-1", "support-1", "sales-2"]


def test_order_holds_across_media_for_a_blended_agent() -> None:
    centre = Centre([queue("digital")], [agent("a1", "digital", capacity=ONE_AT_A_TIME)])
    centre.submit("email-1", "digital", medium=Medium.EMAIL)
    centre.advance(10)
    centre.submit("chat-1", "digital", medium=Medium.CHAT)
    centre.advance(10)
    centre.submit("email-2", "digital", medium=Medium.EMAIL)
    centre.advance(10)
    centre.submit("chat-urgent", "digital", medium=Medium.CHAT, priority=1)  # ranks at -30 s
    centre.login("a1")
    assert centre.serve_in_turn("a1") == ["chat-urgent", "email-1", "chat-1", "email-2"]


# ------------------------------------------------------------ 2. strict priority


@pytest.mark.parametrize(
    ("strict", "expected"),
    [(True, ["vip", "regular"]), (False, ["regular", "vip"])],
    ids=["strict-priority-first", "plain-queue-an-hour-of-waiting-wins"],
)
def test_strict_priority_serves_higher_priority_first_however_late_it_arrives(
    strict: bool, expected: list[str]
) -> None:
    centre = Centre([queue("vip", strict_priority=strict)], [agent("a1", "vip")])
    centre.submit("regular", "vip", priority=0)
    centre.advance(3600)
    centre.submit("vip", "vip", priority=2)
    centre.login("a1")
    assert centre.serve_in_turn("a1") == expected


# ------------------------------------------------------------------- 3. skills


def test_agent_below_the_required_level_gets_no_offer() -> None:
    centre = Centre([queue("support")], [agent("en2", "support", skills={"en": 2})])
    centre.login("en2")
    events = centre.submit("i1", "support", skills=EN3)
    assert offers(events) == []
    assert centre.waiting() == ["i1"]
    assert centre.router.agent("en2").state is AgentState.READY


def test_agent_above_the_required_level_gets_the_offer_over_a_longer_idle_weaker_one() -> None:
    centre = Centre(
        [queue("support")],
        [agent("en2", "support", skills={"en": 2}), agent("en4", "support", skills={"en": 4})],
    )
    centre.login("en2")
    centre.advance(60)
    centre.login("en4")
    assert offers(centre.submit("i1", "support", skills=EN3)) == [("i1", "en4")]


def test_every_required_skill_must_be_met() -> None:
    centre = Centre(
        [queue("support")],
        [
            agent("english-only", "support", skills={"en": 5}),
            agent("weak-billing", "support", skills={"en": 3, "billing": 1}),
            agent("both", "support", skills={"en": 3, "billing": 2}),
        ],
    )
    centre.login("english-only", "weak-billing", "both")  # "both" is idle the shortest
    events = centre.submit("i1", "support", skills={"en": 3, "billing": 2})
    assert offers(events) == [("i1", "both")]


def test_unservable_interaction_waits_until_an_escalation_lowers_the_level() -> None:
    step = EscalationStep(after_s=30, lower_skills={"en": 2})
    centre = Centre(
        [queue("support", escalation=(step,))],
        [agent("en2", "support", skills={"en": 2})],
    )
    centre.login("en2")
    centre.submit("i1", "support", skills=EN3)
    assert offers(centre.advance(29)) == []
    assert centre.waiting() == ["i1"]
    assert offers(centre.advance(1)) == [("i1", "en2")]


# ----------------------------------------------------------------- 4. capacity


def test_agent_on_a_call_is_offered_no_chat_until_the_call_ends() -> None:
    centre = Centre([queue("phone"), queue("web")], [agent("a1", "phone", "web")])
    centre.login("a1")
    centre.take_call("call", "phone", "a1")
    assert offers(centre.submit("chat", "web", medium=Medium.CHAT)) == []
    assert centre.waiting() == ["chat"]
    assert offers(centre.wrap_up("call", "a1")) == [("chat", "a1")]


def test_agent_holding_a_chat_is_offered_no_call() -> None:
    centre = Centre([queue("phone"), queue("web")], [agent("a1", "phone", "web")])
    centre.login("a1")
    centre.submit("chat", "web", medium=Medium.CHAT)
    centre.accept("chat", "a1")
    assert offers(centre.submit("call", "phone")) == []
    assert offers(centre.wrap_up("chat", "a1")) == [("call", "a1")]


def test_digital_agent_takes_three_chats_and_an_email_but_not_a_fourth_chat() -> None:
    centre = Centre([queue("web")], [agent("a1", "web", capacity=DIGITAL)])
    for name in ("c1", "c2", "c3", "c4"):
        centre.submit(name, "web", medium=Medium.CHAT)
        centre.advance(1)
    centre.submit("e1", "web", medium=Medium.EMAIL)
    events = centre.login("a1")
    assert offers(events) == [("c1", "a1"), ("c2", "a1"), ("c3", "a1"), ("e1", "a1")]
    assert centre.waiting() == ["c4"]
    assert centre.router.agent("a1").load == {"chat": 3, "email": 1}


def test_max_total_caps_the_work_across_media() -> None:
    three_in_all = CapacityProfile(
        limits={Medium.CHAT: 3, Medium.EMAIL: 1}, exclusive=frozenset(), max_total=3
    )
    centre = Centre([queue("web")], [agent("a1", "web", capacity=three_in_all)])
    centre.submit("c1", "web", medium=Medium.CHAT)
    centre.submit("e1", "web", medium=Medium.EMAIL)
    centre.submit("c2", "web", medium=Medium.CHAT)
    centre.submit("c3", "web", medium=Medium.CHAT)
    events = centre.login("a1")
    assert offers(events) == [("c1", "a1"), ("e1", "a1"), ("c2", "a1")]
    assert centre.waiting() == ["c3"]


def test_freeing_one_chat_routes_the_next_waiting_chat_to_that_agent() -> None:
    centre = Centre([queue("web")], [agent("a1", "web", capacity=DIGITAL)])
    centre.login("a1")
    for name in ("c1", "c2", "c3", "c4", "c5"):
        centre.submit(name, "web", medium=Medium.CHAT)
    for name in ("c1", "c2", "c3"):
        centre.accept(name, "a1")
    assert centre.waiting() == ["c4", "c5"]
    assert offers(centre.wrap_up("c2", "a1")) == [("c4", "a1")]
    assert centre.waiting() == ["c5"]


# --------------------------------------------------------- 5. agent selection


def test_longest_idle_agent_is_chosen_by_default() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a2")
    centre.advance(10)
    centre.login("a1")
    assert offers(centre.submit("i1", "sales")) == [("i1", "a2")]


def test_agent_who_just_finished_goes_behind_the_one_still_idle() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a1", "a2")
    assert offers(centre.submit("i1", "sales")) == [("i1", "a1")]
    centre.serve("i1", "a1")
    centre.advance(30)
    assert offers(centre.submit("i2", "sales")) == [("i2", "a2")]


@pytest.mark.parametrize(
    ("strategy", "chosen"),
    [(SelectionStrategy.MOST_SKILLED, "senior"), (SelectionStrategy.LONGEST_IDLE, "junior")],
)
def test_most_skilled_picks_the_higher_level(strategy: SelectionStrategy, chosen: str) -> None:
    centre = Centre(
        [queue("support", strategy=strategy)],
        [
            agent("junior", "support", skills={"en": 3}),
            agent("senior", "support", skills={"en": 5}),
        ],
    )
    centre.login("junior")  # idle longer
    centre.advance(10)
    centre.login("senior")
    assert offers(centre.submit("i1", "support", skills={"en": 2})) == [("i1", chosen)]


def test_least_busy_picks_the_agent_with_fewer_chats() -> None:
    centre = Centre(
        [queue("web", strategy=SelectionStrategy.LEAST_BUSY)],
        [agent("a1", "web", capacity=DIGITAL), agent("a2", "web", capacity=DIGITAL)],
    )
    centre.login("a1")
    centre.submit("c1", "web", medium=Medium.CHAT)
    centre.submit("c2", "web", medium=Medium.CHAT)
    centre.advance(10)
    centre.login("a2")  # a1 has been waiting for work longer
    assert offers(centre.submit("c3", "web", medium=Medium.CHAT)) == [("c3", "a2")]
    assert offers(centre.submit("c4", "web", medium=Medium.CHAT)) == [("c4", "a2")]
    assert centre.router.agent("a1").load == {"chat": 2}
    assert centre.router.agent("a2").load == {"chat": 2}


# ------------------------------------------------------------ 6. preferred agent

HEAD_START = RouterSettings(preferred_head_start_s=20)


def test_free_preferred_agent_gets_the_interaction_first() -> None:
    centre = Centre(
        [queue("sales")], [agent("a1", "sales"), agent("a2", "sales")], settings=HEAD_START
    )
    centre.login("a1", "a2")  # a1 idle longer
    assert offers(centre.submit("i1", "sales", preferred="a2")) == [("i1", "a2")]


def test_busy_preferred_agent_keeps_the_interaction_from_others_during_the_head_start() -> None:
    centre = Centre(
        [queue("sales")], [agent("a1", "sales"), agent("a2", "sales")], settings=HEAD_START
    )
    centre.login("a2")
    centre.take_call("call", "sales", "a2")
    centre.login("a1")
    events = centre.submit("i1", "sales", preferred="a2")
    queued = only(events, InteractionQueued)
    assert (queued.preferred_agent, queued.preferred_until) == ("a2", T0 + 20)
    assert offers(events) == []
    assert offers(centre.advance(19.5)) == []
    assert offers(centre.advance(0.5)) == [("i1", "a1")]


def test_preferred_agent_freed_during_the_head_start_gets_the_interaction() -> None:
    centre = Centre(
        [queue("sales")], [agent("a1", "sales"), agent("a2", "sales")], settings=HEAD_START
    )
    centre.login("a2")
    centre.take_call("call", "sales", "a2")
    centre.login("a1")
    centre.submit("i1", "sales", preferred="a2")
    centre.advance(10)
    assert offers(centre.wrap_up("call", "a2")) == [("i1", "a2")]


def test_logged_out_preferred_agent_means_no_wait() -> None:
    centre = Centre(
        [queue("sales")], [agent("a1", "sales"), agent("a2", "sales")], settings=HEAD_START
    )
    centre.login("a1")
    events = centre.submit("i1", "sales", preferred="a2")
    assert only(events, InteractionQueued).preferred_until is None
    assert offers(events) == [("i1", "a1")]


def test_preferred_agent_who_cannot_take_the_medium_means_no_wait() -> None:
    centre = Centre(
        [queue("mixed")],
        [agent("a1", "mixed"), agent("phone-only", "mixed", capacity=VOICE_ONLY)],
        settings=HEAD_START,
    )
    centre.login("a1", "phone-only")
    events = centre.submit("e1", "mixed", medium=Medium.EMAIL, preferred="phone-only")
    assert offers(events) == [("e1", "a1")]


def test_preferred_agent_on_a_break_means_no_wait() -> None:
    centre = Centre(
        [queue("sales")], [agent("a1", "sales"), agent("a2", "sales")], settings=HEAD_START
    )
    centre.login("a1")
    centre.login("a2", ready=False)
    events = centre.submit("i1", "sales", preferred="a2")
    assert only(events, InteractionQueued).preferred_until is None
    assert offers(events) == [("i1", "a1")]


# --------------------------------------------------------------- 7. escalation


def test_escalation_lowers_a_skill_level() -> None:
    step = EscalationStep(after_s=30, lower_skills={"en": 2})
    centre = Centre(
        [queue("support", escalation=(step,))],
        [agent("en2", "support", skills={"en": 2, "fr": 5})],
    )
    centre.login("en2")
    centre.submit("i1", "support", skills={"en": 4, "fr": 3})
    events = centre.advance(30)
    escalated = only(events, InteractionEscalated)
    assert escalated.interaction_id == "i1"
    assert escalated.step == 1
    assert escalated.skills == {"en": 2, "fr": 3}
    assert escalated.queues == ("support",)
    assert offers(events) == [("i1", "en2")]


def test_escalation_drops_a_skill() -> None:
    step = EscalationStep(after_s=45, drop_skills=frozenset({"billing"}))
    centre = Centre(
        [queue("support", escalation=(step,))],
        [agent("a1", "support", skills={"en": 3})],
    )
    centre.login("a1")
    centre.submit("i1", "support", skills={"en": 3, "billing": 2})
    assert offers(centre.advance(44)) == []
    events = centre.advance(1)
    assert only(events, InteractionEscalated).skills == {"en": 3}
    assert offers(events) == [("i1", "a1")]


def test_escalation_adds_a_queue_whose_agents_become_eligible() -> None:
    step = EscalationStep(after_s=60, add_queues=frozenset({"sales"}))
    centre = Centre(
        [queue("support", escalation=(step,)), queue("sales")],
        [agent("seller", "sales")],
    )
    centre.login("seller")
    centre.submit("i1", "support")
    assert offers(centre.advance(59)) == []
    events = centre.advance(1)
    assert only(events, InteractionEscalated).queues == ("sales", "support")
    assert offers(events) == [("i1", "seller")]


def test_escalation_raises_priority_and_overtakes_an_earlier_arrival() -> None:
    step = EscalationStep(after_s=20, raise_priority=1)
    centre = Centre(
        [queue("plain"), queue("escalating", escalation=(step,))],
        [agent("a1", "plain", "escalating")],
        settings=RouterSettings(priority_unit_s=60),
    )
    centre.login("a1")
    centre.take_call("call", "plain", "a1")
    centre.submit("older", "plain")
    centre.advance(10)
    centre.submit("newer", "escalating")
    escalated = only(centre.advance(20), InteractionEscalated)
    assert (escalated.interaction_id, escalated.priority) == ("newer", 1)
    assert escalated.rank == T0 + 10 - 60
    assert centre.waiting() == ["newer", "older"]
    centre.wrap_up("call", "a1")
    assert centre.serve_in_turn("a1") == ["newer", "older"]


def test_escalation_steps_are_cumulative_and_numbered() -> None:
    steps = (
        EscalationStep(after_s=60, add_queues=frozenset({"sales"})),
        EscalationStep(after_s=30, lower_skills={"en": 2}),
    )
    centre = Centre([queue("support", escalation=steps), queue("sales")], [])
    centre.submit("i1", "support", skills={"en": 4})
    events = of_type(centre.advance(60), InteractionEscalated)
    assert [(e.step, e.at - T0) for e in events] == [(1, 30), (2, 60)]
    assert events[1].skills == {"en": 2}
    assert events[1].queues == ("sales", "support")


# ------------------------------------------------------------ 8. business hours

WORKDAYS = {d: ((time(9), time(17)),) for d in WEEKDAYS[:5]}
OFFICE = BusinessHours(name="office", weekly=WORKDAYS, closed_dates=frozenset({date(2024, 1, 17)}))
MONDAY_EVENING = utc("2024-01-15 20:00")


def test_closed_queue_that_rejects_refuses_the_arrival_and_keeps_nothing() -> None:
    centre = Centre(
        [queue("sales", hours=OFFICE, closed_action=ClosedAction.REJECT)],
        [agent("a1", "sales")],
        now=MONDAY_EVENING,
    )
    centre.login("a1")
    events = centre.submit("i1", "sales")
    assert [type(e) for e in events] == [InteractionCreated, InteractionRefused]
    assert only(events, InteractionRefused).reason == "closed"
    assert centre.router.interactions() == []
    with pytest.raises(UnknownInteractionError):
        centre.router.interaction("i1")


def test_closed_queue_that_overflows_queues_the_arrival_in_the_overflow_queue() -> None:
    centre = Centre(
        [
            queue(
                "sales",
                hours=OFFICE,
                closed_action=ClosedAction.OVERFLOW,
                closed_overflow_queue="night",
            ),
            queue("night"),
        ],
        [agent("day", "sales"), agent("night-shift", "night")],
        now=MONDAY_EVENING,
    )
    centre.login("day", "night-shift")
    events = centre.submit("i1", "sales")
    assert only(events, InteractionQueued).queue == "night"
    assert offers(events) == [("i1", "night-shift")]


def test_closed_queue_that_queues_keeps_the_arrival_until_agents_return() -> None:
    centre = Centre(
        [queue("mail", hours=OFFICE, closed_action=ClosedAction.QUEUE)],
        [agent("a1", "mail")],
        now=MONDAY_EVENING,
    )
    events = centre.submit("e1", "mail", medium=Medium.EMAIL)
    assert only(events, InteractionQueued).queue == "mail"
    centre.advance_to(utc("2024-01-16 09:00"))
    assert centre.waiting() == ["e1"]
    assert offers(centre.login("a1")) == [("e1", "a1")]


def test_closed_queue_routes_normally_once_open_again() -> None:
    centre = Centre(
        [queue("sales", hours=OFFICE, closed_action=ClosedAction.REJECT)],
        [agent("a1", "sales")],
        now=MONDAY_EVENING,
    )
    centre.login("a1")
    assert of_type(centre.submit("night-call", "sales"), InteractionRefused)
    centre.advance_to(utc("2024-01-16 10:00"))
    events = centre.submit("morning-call", "sales")
    assert of_type(events, InteractionRefused) == []
    assert offers(events) == [("morning-call", "a1")]


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2024-01-17 10:00", False),  # Wednesday, a closed date
        ("2024-01-18 10:00", True),  # Thursday, a normal day
        ("2024-01-20 10:00", False),  # Saturday, no window
    ],
)
def test_closed_dates_and_weekends_refuse_arrivals(when: str, is_open: bool) -> None:
    centre = Centre(
        [queue("sales", hours=OFFICE, closed_action=ClosedAction.REJECT)],
        [agent("a1", "sales")],
        now=utc(when),
    )
    refused = of_type(centre.submit("i1", "sales"), InteractionRefused)
    assert (refused == []) is is_open


NIGHT_DESK = BusinessHours(name="night", weekly={"mon": ((time(22), time(6)),)})


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2024-01-15 21:59", False),  # Monday, before the window
        ("2024-01-15 23:00", True),  # Monday night
        ("2024-01-16 03:00", True),  # Tuesday early morning: the tail of Monday's window
        ("2024-01-16 06:00", False),  # the end is exclusive
        ("2024-01-16 23:00", False),  # Tuesday night has no window of its own
    ],
)
def test_overnight_window_runs_past_midnight(when: str, is_open: bool) -> None:
    centre = Centre(
        [queue("night", hours=NIGHT_DESK, closed_action=ClosedAction.REJECT)],
        [agent("a1", "night")],
        now=utc(when),
    )
    centre.login("a1")
    events = centre.submit("i1", "night")
    assert (offers(events) == [("i1", "a1")]) is is_open
    assert bool(of_type(events, InteractionRefused)) is not is_open


# --------------------------------------------------------------------- 9. offers


def test_offer_timeout_makes_the_agent_not_ready_missed() -> None:
    centre = Centre([queue("sales", offer_timeout_s=15)], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    assert of_type(centre.advance(14.9), OfferTimedOut) == []
    events = centre.advance(0.1)
    timed_out = only(events, OfferTimedOut)
    assert (timed_out.interaction_id, timed_out.agent_id) == ("i1", "a1")
    change = only(events, AgentStateChanged)
    assert (change.old, change.new, change.reason) == (
        AgentState.RESERVED,
        AgentState.NOT_READY,
        "missed",
    )
    view = centre.router.agent("a1")
    assert (view.state, view.reason, view.offers) == (AgentState.NOT_READY, "missed", ())
    assert centre.waiting() == ["i1"]


def test_timed_out_interaction_keeps_its_place_ahead_of_later_arrivals() -> None:
    centre = Centre(
        [queue("sales", offer_timeout_s=15)], [agent("a1", "sales"), agent("a2", "sales")]
    )
    centre.login("a2")
    centre.take_call("call", "sales", "a2")
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.advance(5)
    centre.submit("i2", "sales")
    events = centre.advance(10)
    requeued = only(events, InteractionQueued)
    assert (requeued.interaction_id, requeued.reason, requeued.rank) == ("i1", "requeued", T0)
    assert centre.waiting() == ["i1", "i2"]
    assert offers(centre.wrap_up("call", "a2")) == [("i1", "a2")]


def test_timed_out_offer_goes_straight_to_the_next_free_agent() -> None:
    centre = Centre(
        [queue("sales", offer_timeout_s=15)], [agent("a1", "sales"), agent("a2", "sales")]
    )
    centre.login("a1", "a2")
    assert offers(centre.submit("i1", "sales")) == [("i1", "a1")]
    assert offers(centre.advance(15)) == [("i1", "a2")]


def test_rejected_interaction_is_never_offered_again_to_the_rejecting_agent() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    events = centre.reject("i1", "a1")
    assert only(events, OfferRejected).agent_id == "a1"
    assert offers(events) == []
    assert centre.waiting() == ["i1"]
    assert centre.router.agent("a1").state is AgentState.READY
    # Still routable: the next interaction comes to them, the rejected one does not.
    assert offers(centre.submit("i2", "sales")) == [("i2", "a1")]
    assert centre.waiting() == ["i1"]


def test_rejected_chat_is_not_offered_again_to_a_chat_agent_with_room_for_it() -> None:
    centre = Centre(
        [queue("web")],
        [agent("a1", "web", capacity=DIGITAL), agent("a2", "web", capacity=DIGITAL)],
    )
    centre.login("a1")
    centre.submit("c1", "web", medium=Medium.CHAT)
    events = centre.reject("c1", "a1")
    assert offers(events) == []
    assert centre.offered_to("a1") == ()
    assert offers(centre.login("a2")) == [("c1", "a2")]


def test_rejected_interaction_goes_back_to_its_place() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a2")
    centre.take_call("call", "sales", "a2")
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.advance(5)
    centre.submit("i2", "sales")
    # a1 turns i1 down and is given the next one instead.
    assert offers(centre.reject("i1", "a1")) == [("i2", "a1")]
    centre.advance(5)
    centre.submit("i3", "sales")
    assert offers(centre.wrap_up("call", "a2")) == [("i1", "a2")]


def test_accept_is_idempotent_for_the_same_agent() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.advance(4)
    accepted = only(centre.accept("i1", "a1"), OfferAccepted)
    assert (accepted.agent_id, accepted.waited_s) == ("a1", 4)
    assert centre.accept("i1", "a1") == []
    view = centre.router.interaction("i1")
    assert (view.state, view.agent_id) == (InteractionState.ASSIGNED, "a1")


def test_accept_by_another_agent_fails_with_offer_gone() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.login("a2")
    with pytest.raises(OfferGoneError) as caught:
        centre.accept("i1", "a2")
    assert caught.value.error_id == "offer_gone"
    assert centre.offered_to("a1") == ("i1",)


def test_accept_after_the_timeout_fails_with_offer_gone() -> None:
    centre = Centre([queue("sales", offer_timeout_s=15)], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.advance(16)
    with pytest.raises(OfferGoneError) as caught:
        centre.accept("i1", "a1")
    assert caught.value.error_id == "offer_gone"
    assert centre.state("i1") is InteractionState.QUEUED


# ------------------------------------------------------------------- 10. transfer


def test_transfer_to_a_queue_keeps_the_original_rank_and_frees_the_agent() -> None:
    centre = Centre(
        [queue("sales"), queue("support")],
        [agent("a1", "sales", "support"), agent("a2", "support")],
    )
    centre.login("a2")
    centre.take_call("call", "support", "a2")
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    centre.advance(10)
    centre.submit("i2", "support")
    centre.advance(5)
    centre.submit("i3", "support")
    centre.advance(5)
    events = centre.run(centre.router.transfer, "i1", "a1", to_queue="support")
    moved = only(events, InteractionTransferred)
    assert (moved.from_agent, moved.from_queue, moved.to_queue) == ("a1", "sales", "support")
    requeued = only(events, InteractionQueued)
    assert (requeued.reason, requeued.rank) == ("transferred", T0)
    # a1 is free at once, and is given the next one rather than i1 back.
    assert offers(events) == [("i2", "a1")]
    assert centre.waiting() == ["i1", "i3"]
    assert offers(centre.wrap_up("call", "a2")) == [("i1", "a2")]


def test_transferring_agent_does_not_get_the_interaction_back() -> None:
    centre = Centre([queue("sales"), queue("support")], [agent("a1", "sales", "support")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    events = centre.run(centre.router.transfer, "i1", "a1", to_queue="support")
    assert offers(events) == []
    assert centre.waiting() == ["i1"]
    assert centre.router.agent("a1").state is AgentState.READY


TRANSFER_SETUP = [
    queue("sales"),
    queue("support", transfer_head_start_s=30),
]


def test_transfer_to_a_named_agent_offers_it_to_them_even_without_the_skills() -> None:
    centre = Centre(
        TRANSFER_SETUP,
        [
            agent("expert", "support", skills=EN3),
            agent("novice", "support"),
            agent("other", "support", skills=EN3),
        ],
    )
    centre.login("expert")
    centre.submit("i1", "support", skills=EN3)
    centre.accept("i1", "expert")
    centre.login("other", "novice")
    events = centre.run(centre.router.transfer, "i1", "expert", to_agent="novice")
    assert only(events, InteractionTransferred).to_agent == "novice"
    assert offers(events) == [("i1", "novice")]


def test_transfer_to_a_busy_named_agent_waits_its_head_start_then_goes_to_the_queue() -> None:
    centre = Centre(
        TRANSFER_SETUP,
        [
            agent("expert", "support", skills=EN3),
            agent("novice", "sales", "support"),
            agent("other", "support", skills=EN3),
        ],
    )
    centre.login("novice")
    centre.take_call("call", "sales", "novice")
    centre.login("expert")
    centre.submit("i1", "support", skills=EN3)
    centre.accept("i1", "expert")
    centre.login("other")
    events = centre.run(centre.router.transfer, "i1", "expert", to_agent="novice")
    queued = only(events, InteractionQueued)
    assert (queued.preferred_agent, queued.preferred_until) == ("novice", centre.now + 30)
    assert offers(events) == []
    assert offers(centre.advance(29)) == []
    assert offers(centre.advance(1)) == [("i1", "other")]


def test_transfer_to_a_logged_out_agent_is_a_conflict() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("away", "sales")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    with pytest.raises(ConflictError) as caught:
        centre.run(centre.router.transfer, "i1", "a1", to_agent="away")
    assert caught.value.error_id == "conflict"
    view = centre.router.interaction("i1")
    assert (view.state, view.agent_id) == (InteractionState.ASSIGNED, "a1")


def test_transfer_to_oneself_is_refused() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    with pytest.raises(InvalidRequestError):
        centre.run(centre.router.transfer, "i1", "a1", to_agent="a1")
    assert centre.router.agent("a1").active == ("i1",)


# -------------------------------------------------------------------- 11. wrap-up


def busy_with_one_waiting(wrap_up: WrapUpPolicy) -> Centre:
    """a1 handles "i1" while "i2" waits for them."""
    centre = Centre([queue("sales", wrap_up=wrap_up)], [agent("a1", "sales")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    centre.submit("i2", "sales")
    return centre


def test_timed_wrap_up_completes_by_itself_and_only_then_frees_the_agent() -> None:
    centre = busy_with_one_waiting(WrapUpPolicy(mode=WrapUpMode.TIMED, seconds=30))
    centre.advance(10)
    events = centre.end("i1", "a1")
    assert only(events, HandlingEnded).wrap_up_until == T0 + 40
    assert centre.router.agent("a1").state is AgentState.WRAP_UP
    assert centre.advance(29.9) == []
    events = centre.advance(0.1)
    completed = only(events, InteractionCompleted)
    assert (completed.interaction_id, completed.auto, completed.wrap_up_s) == ("i1", True, 30)
    assert offers(events) == [("i2", "a1")]


def test_manual_wrap_up_waits_for_the_agent() -> None:
    centre = busy_with_one_waiting(WrapUpPolicy(mode=WrapUpMode.MANUAL))
    assert only(centre.end("i1", "a1"), HandlingEnded).wrap_up_until is None
    assert centre.advance(3600) == []
    assert centre.router.agent("a1").state is AgentState.WRAP_UP
    events = centre.wrap_up("i1", "a1", disposition="sold", notes="two seats")
    completed = only(events, InteractionCompleted)
    assert (completed.auto, completed.disposition, completed.notes) == (False, "sold", "two seats")
    assert completed.wrap_up_s == 3600
    assert offers(events) == [("i2", "a1")]


def test_no_wrap_up_frees_the_agent_as_soon_as_handling_ends() -> None:
    centre = busy_with_one_waiting(WrapUpPolicy(mode=WrapUpMode.NONE))
    events = centre.end("i1", "a1")
    assert [type(e) for e in events][:2] == [HandlingEnded, InteractionCompleted]
    assert only(events, InteractionCompleted).auto is True
    assert offers(events) == [("i2", "a1")]


def test_wrap_up_straight_from_handling_ends_and_completes_at_once() -> None:
    centre = busy_with_one_waiting(WrapUpPolicy(mode=WrapUpMode.TIMED, seconds=30))
    events = centre.wrap_up("i1", "a1", disposition="resolved")
    kinds = [type(e) for e in events]
    assert kinds.index(HandlingEnded) < kinds.index(InteractionCompleted)
    completed = only(events, InteractionCompleted)
    assert (completed.auto, completed.disposition, completed.wrap_up_s) == (False, "resolved", 0)
    assert offers(events) == [("i2", "a1")]
    # The wrap-up timer that handling started must not complete anything later.
    assert of_type(centre.advance(60), InteractionCompleted) == []


# --------------------------------------------------------------- 12. agent states


def test_logging_in_twice_is_an_illegal_transition() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    with pytest.raises(IllegalTransitionError):
        centre.login("a1")


def test_logout_with_an_active_interaction_is_refused_even_when_forced() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    for force in (False, True):
        with pytest.raises(AgentBusyError) as caught:
            centre.run(centre.router.logout, "a1", force=force)
        assert caught.value.error_id == "agent_has_work"
    assert centre.router.agent("a1").state is AgentState.BUSY


def test_logout_while_reserved_is_refused_without_force() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    with pytest.raises(IllegalTransitionError):
        centre.run(centre.router.logout, "a1")
    assert centre.offered_to("a1") == ("i1",)


def test_forced_logout_requeues_the_offer_and_never_reoffers_it_to_that_agent() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    assert centre.router.agent("a1").presence is AgentState.READY
    events = centre.run(centre.router.logout, "a1", force=True)
    revoked = only(events, OfferRevoked)
    assert (revoked.interaction_id, revoked.agent_id) == ("i1", "a1")
    assert only(events, AgentLoggedOut).agent_id == "a1"
    assert offers(events) == []
    assert centre.router.agent("a1").state is AgentState.LOGGED_OUT
    assert centre.waiting() == ["i1"]
    assert offers(centre.login("a2")) == [("i1", "a2")]


def test_set_ready_while_logged_out_is_an_illegal_transition() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    with pytest.raises(IllegalTransitionError):
        centre.run(centre.router.set_ready, "a1")
    assert centre.router.agent("a1").state is AgentState.LOGGED_OUT


def test_agent_state_changes_chain_old_to_previous_new_and_since_to_previous_time() -> None:
    centre = Centre(
        [queue("sales", offer_timeout_s=10, wrap_up=WrapUpPolicy(seconds=15))],
        [agent("a1", "sales"), agent("a2", "sales")],
        settings=RouterSettings(disconnect_grace_s=20),
    )
    centre.login("a1", ready=False)
    centre.login("a2")
    centre.advance(5)
    centre.run(centre.router.set_ready, "a1")
    centre.submit("i1", "sales")  # a2 (idle longer)
    centre.advance(3)
    centre.submit("i2", "sales")  # a1
    centre.accept("i1", "a2")
    centre.advance(12)  # a1 misses i2, which goes nowhere (a2 busy)
    centre.end("i1", "a2")
    centre.advance(15)  # a2's wrap-up ends: i2 comes to them
    centre.run(centre.router.set_not_ready, "a1", reason="break")
    centre.run(centre.router.set_not_ready, "a1", reason="lunch")
    centre.serve("i2", "a2")
    centre.run(centre.router.connection_lost, "a2")
    centre.advance(20)
    centre.run(centre.router.logout, "a1")
    centre.run(centre.router.logout, "a2")

    seen_states: set[AgentState] = set()
    for agent_id in ("a1", "a2"):
        changes = [e for e in of_type(centre.log, AgentStateChanged) if e.agent_id == agent_id]
        assert changes[0].old is AgentState.LOGGED_OUT
        assert changes[-1].new is AgentState.LOGGED_OUT
        for before, after in pairwise(changes):
            assert after.old is before.new, (before, after)
            assert after.old_since == before.at, (before, after)
        seen_states |= {e.new for e in changes}
    assert seen_states == set(AgentState)
    reasons = {e.reason for e in of_type(centre.log, AgentStateChanged)}
    assert {"login", "missed", "break", "lunch", "disconnected"} <= reasons


# --------------------------------------------------------------- 13. disconnect

GRACE = RouterSettings(disconnect_grace_s=30)


def test_lost_connection_gets_no_new_offers() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")], settings=GRACE)
    centre.login("a1")
    centre.run(centre.router.connection_lost, "a1")
    assert offers(centre.submit("i1", "sales")) == []
    assert centre.waiting() == ["i1"]
    assert centre.router.agent("a1").connected is False


def test_connection_restored_within_grace_resumes_offers() -> None:
    centre = Centre([queue("sales", offer_timeout_s=120)], [agent("a1", "sales")], settings=GRACE)
    centre.login("a1")
    centre.run(centre.router.connection_lost, "a1")
    centre.submit("i1", "sales")
    centre.advance(29)
    assert offers(centre.run(centre.router.connection_restored, "a1")) == [("i1", "a1")]
    # The grace period that was running no longer applies.
    assert centre.advance(60) == []
    view = centre.router.agent("a1")
    assert (view.presence, view.offers) == (AgentState.READY, ("i1",))


def test_grace_expiry_makes_the_agent_not_ready_and_requeues_pending_offers() -> None:
    centre = Centre(
        [queue("sales", offer_timeout_s=120)],
        [agent("a1", "sales"), agent("a2", "sales")],
        settings=GRACE,
    )
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.run(centre.router.connection_lost, "a1")
    assert centre.advance(29.9) == []
    events = centre.advance(0.1)
    revoked = only(events, OfferRevoked)
    assert (revoked.interaction_id, revoked.agent_id, revoked.reason) == (
        "i1",
        "a1",
        "disconnected",
    )
    view = centre.router.agent("a1")
    assert (view.state, view.reason) == (AgentState.NOT_READY, "disconnected")
    assert centre.waiting() == ["i1"]
    assert offers(centre.login("a2")) == [("i1", "a2")]


def test_grace_expiry_leaves_active_interactions_with_the_agent() -> None:
    centre = Centre(
        [queue("web", offer_timeout_s=120)],
        [agent("a1", "web", capacity=DIGITAL)],
        settings=GRACE,
    )
    centre.login("a1")
    centre.submit("c1", "web", medium=Medium.CHAT)
    centre.accept("c1", "a1")
    centre.submit("c2", "web", medium=Medium.CHAT)
    assert centre.offered_to("a1") == ("c2",)
    centre.run(centre.router.connection_lost, "a1")
    events = centre.advance(30)
    assert only(events, OfferRevoked).interaction_id == "c2"
    view = centre.router.agent("a1")
    assert (view.presence, view.active, view.offers) == (AgentState.NOT_READY, ("c1",), ())
    assert centre.router.interaction("c1").agent_id == "a1"
    centre.wrap_up("c1", "a1")
    view = centre.router.agent("a1")
    assert (view.state, view.reason) == (AgentState.NOT_READY, "disconnected")


# ---------------------------------------------------------- 14. cancel / abandon


def test_abandon_while_queued_reports_the_wait() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.submit("i1", "sales")
    centre.advance(42)
    events = centre.cancel("i1")
    abandoned = only(events, InteractionAbandoned)
    assert (abandoned.interaction_id, abandoned.waited_s) == ("i1", 42)
    assert centre.router.interactions() == []


def test_abandon_while_offered_revokes_the_offer_and_frees_the_agent_for_the_next_one() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "sales")
    centre.advance(3)
    centre.submit("i2", "sales")
    events = centre.cancel("i1")
    revoked = only(events, OfferRevoked)
    assert (revoked.interaction_id, revoked.agent_id, revoked.reason) == ("i1", "a1", "abandoned")
    assert only(events, InteractionAbandoned).waited_s == 3
    assert offers(events) == [("i2", "a1")]


def test_cancel_after_completion_is_unknown() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    centre.login("a1")
    centre.take_call("i1", "sales", "a1")
    centre.wrap_up("i1", "a1")
    with pytest.raises(UnknownInteractionError):
        centre.cancel("i1")


# ------------------------------------------------------------- 15. reconfigure


def test_reconfigure_adds_a_queue_and_an_agent_that_route_at_once() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    events = centre.run(
        centre.router.reconfigure,
        queues={"sales": queue("sales"), "billing": queue("billing")},
        agents={"a1": agent("a1", "sales"), "b1": agent("b1", "billing")},
        source="reload",
    )
    reloaded = only(events, ConfigReloaded)
    assert (reloaded.queues, reloaded.agents) == (2, 2)
    assert set(centre.router.queue_ids()) == {"sales", "billing"}
    assert centre.router.agent("b1").state is AgentState.LOGGED_OUT
    centre.login("b1")
    assert offers(centre.submit("i1", "billing")) == [("i1", "b1")]


def retired_queue_centre() -> Centre:
    """Queue "old" is removed from the configuration while "i1" still waits in it."""
    centre = Centre([queue("sales"), queue("old")], [agent("a1", "sales", "old")])
    centre.login("a1")
    centre.take_call("call", "sales", "a1")
    centre.submit("i1", "old")
    centre.run(
        centre.router.reconfigure,
        queues={"sales": queue("sales")},
        agents={"a1": agent("a1", "sales", "old")},
    )
    return centre


def test_removed_queue_keeps_its_waiting_interactions_but_refuses_new_arrivals() -> None:
    centre = retired_queue_centre()
    assert centre.router.queue_ids() == ["sales"]
    with pytest.raises(UnknownQueueError):
        centre.submit("i2", "old")
    assert centre.waiting() == ["i1"]
    assert offers(centre.wrap_up("call", "a1")) == [("i1", "a1")]


def test_removed_queue_refuses_arrivals_overflowing_into_it() -> None:
    day = queue(
        "day",
        hours=BusinessHours(name="never"),
        closed_action=ClosedAction.OVERFLOW,
        closed_overflow_queue="old",
    )
    centre = Centre([day, queue("old")], [agent("a1", "old")])
    centre.submit("i1", "old")  # keeps "old" in use, so the reload retires it
    centre.run(centre.router.reconfigure, queues={"day": day}, agents={"a1": agent("a1", "old")})
    assert centre.router.queue_ids() == ["day"]
    events = centre.submit("i2", "day")
    assert of_type(events, InteractionQueued) == []
    assert only(events, InteractionRefused).reason == "closed"


def test_skill_change_works_for_an_agent_of_a_removed_queue() -> None:
    centre = retired_queue_centre()
    events = centre.run(centre.router.set_profile, "a1", skills={"en": 3}, by="supervisor")
    assert only(events, AgentProfileChanged).skills == {"en": 3}


def test_reload_that_removes_escalation_steps_leaves_waiting_interactions_alone() -> None:
    step = EscalationStep(after_s=30, lower_skills={"en": 2})
    centre = Centre(
        [queue("support", escalation=(step,))],
        [agent("en2", "support", skills={"en": 2})],
    )
    centre.login("en2")
    centre.submit("i1", "support", skills=EN3)
    centre.advance(10)
    centre.run(
        centre.router.reconfigure,
        queues={"support": queue("support")},
        agents={"en2": agent("en2", "support", skills={"en": 2})},
    )
    events = centre.advance(30)
    assert of_type(events, InteractionEscalated) == []
    assert centre.waiting() == ["i1"]


def test_skill_change_routes_a_waiting_interaction_that_now_matches() -> None:
    centre = Centre([queue("support")], [agent("a1", "support", skills={"en": 2})])
    centre.login("a1")
    centre.submit("i1", "support", skills=EN3)
    events = centre.run(centre.router.set_profile, "a1", skills={"en": 3}, by="supervisor")
    changed = only(events, AgentProfileChanged)
    assert (changed.skills, changed.by) == ({"en": 3}, "supervisor")
    assert offers(events) == [("i1", "a1")]


def test_supervisor_drags_an_agent_into_a_queue_and_it_routes_at_once() -> None:
    centre = Centre([queue("sales"), queue("support")], [agent("a1", "sales")])
    centre.login("a1")
    centre.submit("i1", "support")
    events = centre.run(centre.router.set_profile, "a1", queues=["sales", "support"])
    assert only(events, AgentProfileChanged).queues == ("sales", "support")
    assert offers(events) == [("i1", "a1")]


# ------------------------------------------------------------------ 16. restore


def recovered(interaction_id: str, queue_id: str, created_at: float) -> InteractionRequest:
    return InteractionRequest(
        id=interaction_id, medium=Medium.VOICE, queue=queue_id, created_at=created_at
    )


@pytest.mark.parametrize("restore_order", [[0, 1, 2], [2, 0, 1]], ids=["rank-order", "shuffled"])
def test_restored_queued_interactions_come_back_in_rank_order(restore_order: list[int]) -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    # (id, created_at, recorded rank): "b" had been escalated, so it ranks before its age.
    records = [("a", T0 - 300, T0 - 300), ("b", T0 - 60, T0 - 200), ("c", T0 - 100, T0 - 100)]
    for index in restore_order:
        interaction_id, created_at, rank = records[index]
        events = centre.run(
            centre.router.restore,
            recovered(interaction_id, "sales", created_at),
            rank=rank,
            state=InteractionState.QUEUED,
            agent_id=None,
        )
        assert only(events, InteractionQueued).reason == "recovered"
    centre.login("a1")
    assert centre.serve_in_turn("a1") == ["a", "b", "c"]


def test_restored_interaction_in_wrap_up_is_completed() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    events = centre.run(
        centre.router.restore,
        recovered("i1", "sales", T0 - 60),
        rank=T0 - 60,
        state=InteractionState.WRAP_UP,
        agent_id="a1",
    )
    completed = only(events, InteractionCompleted)
    assert (completed.interaction_id, completed.agent_id, completed.auto) == ("i1", "a1", True)
    assert centre.router.interactions() == []


def test_restored_interaction_of_an_unknown_queue_is_cancelled() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales")])
    events = centre.run(
        centre.router.restore,
        recovered("i1", "gone", T0 - 60),
        rank=T0 - 60,
        state=InteractionState.QUEUED,
        agent_id=None,
    )
    cancelled = only(events, InteractionCancelled)
    assert (cancelled.interaction_id, cancelled.reason) == ("i1", "queue_removed")
    assert centre.router.interactions() == []


# -------------------------------------------------------------------- 17. rules


def test_rule_raises_priority_and_is_named_on_creation() -> None:
    gold_first = compile_rules(
        [{"name": "gold-first", "when": {"data.tier": "gold"}, "then": {"priority_delta": 5}}]
    )
    centre = Centre([queue("sales")], [agent("a1", "sales")], rules=gold_first)
    regular = only(centre.submit("regular", "sales", data={"tier": "silver"}), InteractionCreated)
    centre.advance(120)
    gold = only(centre.submit("gold", "sales", data={"tier": "gold"}), InteractionCreated)
    assert (regular.rules, regular.priority) == ((), 0)
    assert (gold.rules, gold.priority) == (("gold-first",), 5)
    centre.login("a1")
    assert centre.serve_in_turn("a1") == ["gold", "regular"]


# ---------------------------------------------------------- property: service order

UNIT_S = 60.0
arrivals = st.lists(
    st.tuples(
        st.integers(0, 3),  # priority
        st.integers(0, 400),  # seconds after T0 (ties allowed)
        st.sampled_from([Medium.VOICE, Medium.CHAT, Medium.EMAIL]),
        st.sampled_from(["sales", "support"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(batch=arrivals)
def test_one_agent_serves_any_batch_in_rank_order(
    batch: list[tuple[int, int, Medium, str]],
) -> None:
    batch = sorted(batch, key=lambda item: item[1])  # arrivals come in time order
    centre = Centre(
        [queue("sales"), queue("support")],
        [agent("a1", "sales", "support", capacity=ONE_AT_A_TIME)],
        settings=RouterSettings(priority_unit_s=UNIT_S),
    )
    for seq, (priority, offset, medium, queue_id) in enumerate(batch):
        centre.advance_to(T0 + offset)
        centre.submit(f"i{seq}", queue_id, medium=medium, priority=priority)
    centre.login("a1")
    expected = sorted(
        range(len(batch)), key=lambda seq: (batch[seq][1] - batch[seq][0] * UNIT_S, seq)
    )
    assert centre.serve_in_turn("a1") == [f"i{seq}" for seq in expected]
    assert centre.waiting() == []


def test_customer_hanging_up_mid_call_ends_handling_rather_than_abandoning() -> None:
    wrap = WrapUpPolicy(mode=WrapUpMode.MANUAL)
    centre = Centre([queue("sales", wrap_up=wrap)], [agent("a1", "sales")])
    centre.login("a1")
    centre.take_call("c1", "sales", "a1")
    events = centre.cancel("c1", reason="abandoned")
    assert only(events, HandlingEnded).interaction_id == "c1"
    assert not of_type(events, InteractionAbandoned)
    assert not of_type(events, InteractionCancelled)
    assert centre.state("c1") is InteractionState.WRAP_UP


def test_transfer_to_an_agent_on_a_break_is_refused_and_the_call_stays() -> None:
    centre = Centre([queue("sales")], [agent("a1", "sales"), agent("a2", "sales")])
    centre.login("a1")
    centre.login("a2", ready=False)
    centre.take_call("c1", "sales", "a1")
    with pytest.raises(ConflictError, match="not available"):
        centre.run(centre.router.transfer, "c1", "a1", to_agent="a2")
    assert centre.state("c1") is InteractionState.ASSIGNED
    assert centre.router.interaction("c1").agent_id == "a1"


def test_a_presence_chosen_during_a_call_is_announced_without_a_state_change() -> None:
    centre = Centre([queue("q")], [agent("a1", "q")])
    centre.login("a1")
    centre.take_call("c1", "q", "a1")
    events = centre.run(centre.router.set_not_ready, "a1", reason="lunch")
    assert of_type(events, AgentStateChanged) == []  # still busy on the call
    change = only(events, AgentPresenceChanged)
    assert (change.presence, change.reason) == (AgentState.NOT_READY, "lunch")
    assert centre.router.agent("a1").presence_reason == "lunch"

    back = centre.run(centre.router.set_ready, "a1")
    assert only(back, AgentPresenceChanged).presence is AgentState.READY
    # Same again: nothing changed, nothing to say.
    assert centre.run(centre.router.set_ready, "a1") == []


def test_a_visible_state_change_carries_the_presence_itself() -> None:
    centre = Centre([queue("q")], [agent("a1", "q")])
    centre.login("a1")
    events = centre.run(centre.router.set_not_ready, "a1", reason="break")
    assert only(events, AgentStateChanged).new is AgentState.NOT_READY
    assert of_type(events, AgentPresenceChanged) == []
