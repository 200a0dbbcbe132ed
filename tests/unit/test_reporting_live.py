"""Live statistics: the wallboard snapshot, the roll at the centre's local midnight, and
deltas that carry only what changed."""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass
from datetime import UTC, datetime
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from router_helpers import Centre
from router_helpers import agent as router_agent
from router_helpers import queue as router_queue
from test_reporting_fold import (
    BUSY,
    CHAT,
    EMAIL,
    NOT_READY,
    READY,
    RESERVED,
    VOICE,
    WRAP_UP,
    Script,
)

from trunkline.config import load_config_text
from trunkline.domain.agent import AgentState
from trunkline.domain.errors import TrunklineError
from trunkline.domain.events import AgentProfileChanged, Event
from trunkline.domain.interaction import InteractionState
from trunkline.domain.queue import WrapUpMode, WrapUpPolicy
from trunkline.reporting.definitions import ReportingSettings
from trunkline.reporting.live import LiveStats, delta
from trunkline.service.bus import EventBus

CONFIG = """
centre: {timezone: Europe/London}
queues:
  sales:
    name: Sales
    service_level: {voice: {percent: 80, threshold_s: 20}}
  support: {name: Support}
agents:
  - {id: a1, name: Alice, queues: [sales, support]}
  - {id: a2, name: Bob, queues: [sales]}
  - {id: a3, name: Carol, queues: [support]}
"""

# Monday 15 January 2024, 09:00 UTC = 09:00 in London (GMT).
T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp()


def live_stats(now: float, config: str = CONFIG) -> LiveStats:
    return LiveStats.from_config(load_config_text(dedent(config)), now=now)


def morning() -> Script:
    """09:00-09:01:40: alice takes i1, bob is on a break, three wait and one abandons."""
    s = Script(T0)
    s.agent(0, "a1", READY)
    s.agent(0, "a2", NOT_READY, "break")
    s.arrive(10, "i1", "sales")
    s.offer(10, "i1", "a1", "sales")
    s.agent(10, "a1", RESERVED)
    s.accept(14, "i1", "a1", "sales")
    s.agent(14, "a1", BUSY)
    s.arrive(20, "i2", "sales")
    s.arrive(30, "i3", "sales", CHAT)
    s.arrive(40, "i4", "support", EMAIL)
    s.arrive(50, "i5", "sales")
    s.abandon(60, "i5", "sales")
    return s


def observe(live: LiveStats, events: list[Event]) -> None:
    for event in events:
        live.observe(event)


@pytest.fixture
def no_erlang(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the Erlang C module were not written yet."""
    monkeypatch.setitem(sys.modules, "trunkline.reporting.erlang", None)


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


@pytest.mark.usefixtures("no_erlang")
def test_snapshot_after_a_scripted_morning() -> None:
    live = live_stats(T0)
    bus = EventBus()
    bus.add_listener(live.observe)
    bus.publish(morning().events)
    snap = live.snapshot(T0 + 100)
    json.dumps(snap, allow_nan=False)  # JSON-ready as it is

    assert snap["generated_at"] == T0 + 100
    assert [q["id"] for q in snap["queues"]] == ["sales", "support"]
    sales, support = snap["queues"]
    assert sales["name"] == "Sales"
    assert sales["waiting"] == 2  # i2 (voice) and i3 (chat)
    assert sales["on_offer"] == 0
    assert sales["longest_wait_s"] == 80.0  # i2 since 09:00:20
    assert sales["agents"] == {"not_ready": 1, "ready": 0, "reserved": 0, "busy": 1, "wrap_up": 0}
    assert sales["estimate"] is None  # no Erlang C module
    today = sales["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (4, 1, 1)
    assert (today["asa_s"], today["longest_wait_s"]) == (4.0, 10.0)  # i1 4 s; i5 left at 10 s
    assert today["sl_answered"] == 25.0  # 1 of 4 (i5's 10 s is not a short abandon)
    assert set(sales["today_by_medium"]) == {"voice", "chat"}
    voice = sales["today_by_medium"]["voice"]
    assert (voice["offered"], voice["sl_target_percent"], voice["sl_threshold_s"]) == (3, 80, 20)

    assert (support["waiting"], support["longest_wait_s"]) == (1, 60.0)
    # a3 is logged out, so only alice counts in support.
    assert support["agents"] == {"not_ready": 0, "ready": 0, "reserved": 0, "busy": 1, "wrap_up": 0}

    agents = by_id(snap["agents"])
    assert list(agents) == ["a1", "a2", "a3"]
    alice = agents["a1"]
    assert (alice["name"], alice["state"], alice["reason"], alice["since"]) == (
        "Alice",
        "busy",
        "",
        T0 + 14,
    )
    assert alice["queues"] == ["sales", "support"]
    assert alice["interactions"] == [
        {"id": "i1", "queue": "sales", "medium": "voice", "phase": "handling"}
    ]
    # ready 10 s, reserved 4 s, then busy 86 s up to now.
    assert alice["today"]["occupancy"] == 86.0
    assert alice["today"]["state_s"] == {"ready": 10.0, "reserved": 4.0, "busy": 86.0}
    bob = agents["a2"]
    assert (bob["state"], bob["reason"], bob["interactions"]) == ("not_ready", "break", [])
    assert bob["today"]["not_ready_s"] == {"break": 100.0}
    assert bob["today"]["occupancy"] is None  # never available: 0 / 0
    assert bob["today"]["utilisation"] == 0.0
    assert (agents["a3"]["state"], agents["a3"]["since"]) == ("logged_out", None)

    media = by_id(snap["media"])
    assert list(media) == ["voice", "chat", "email", "callback", "fax", "voicemail"]
    assert (media["voice"]["waiting"], media["voice"]["longest_wait_s"]) == (1, 80.0)
    assert (media["chat"]["waiting"], media["email"]["waiting"]) == (1, 1)
    assert media["voice"]["today"]["offered"] == 3
    assert snap["centre"]["agents"]["busy"] == 1
    assert snap["centre"]["today"]["offered"] == 5


@pytest.mark.usefixtures("no_erlang")
def test_offers_profiles_and_wrap_up_move_the_now_figures() -> None:
    live = live_stats(T0)
    s = morning()
    observe(live, s.events)
    done = len(s.events)
    s.agent(120, "a2", READY)
    s.offer(120, "i2", "a2", "sales")
    s.agent(120, "a2", RESERVED)
    s.end(130, "i1", "a1", "sales", VOICE, handled_s=116)
    s.agent(130, "a1", WRAP_UP)
    observe(live, s.events[done:])
    live.observe(AgentProfileChanged(at=T0 + 131, agent_id="a2", queues=("support",)))
    snap = live.snapshot(T0 + 140)
    sales, support = snap["queues"]
    assert (sales["waiting"], sales["on_offer"]) == (2, 1)  # i2 is ringing at bob's: waiting
    assert sales["longest_wait_s"] == 120.0
    # Bob moved to support with his offer; alice, in both queues, is wrapping up.
    assert sales["agents"] == {"not_ready": 0, "ready": 0, "reserved": 0, "busy": 0, "wrap_up": 1}
    assert support["agents"] == {
        "not_ready": 0,
        "ready": 0,
        "reserved": 1,
        "busy": 0,
        "wrap_up": 1,
    }
    agents = by_id(snap["agents"])
    assert agents["a2"]["interactions"] == [
        {"id": "i2", "queue": "sales", "medium": "voice", "phase": "offered"}
    ]
    assert agents["a2"]["queues"] == ["support"]
    assert agents["a1"]["interactions"] == [
        {"id": "i1", "queue": "sales", "medium": "voice", "phase": "wrap_up"}
    ]
    assert sales["today"]["handled"] == 1 and sales["today"]["avg_handle_s"] == 116.0


@dataclass(frozen=True)
class _FakeEstimate:
    expected_wait_s: float
    service_level_percent: float
    agents_needed: int | None
    probability_of_wait: float


def test_estimate_uses_the_recent_arrival_rate_and_todays_handle_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[Any, ...]] = []

    def erlang_c_estimate(*args: Any) -> _FakeEstimate:
        calls.append(args)
        return _FakeEstimate(float("inf"), 0.0, 3, 1.0)

    fake = types.ModuleType("trunkline.reporting.erlang")
    fake.erlang_c_estimate = erlang_c_estimate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "trunkline.reporting.erlang", fake)
    live = live_stats(T0)
    observe(live, morning().events)
    snap = live.snapshot(T0 + 100)
    sales = snap["queues"][0]
    # An infinite expected wait (an unstable queue) is sent as null.
    assert sales["estimate"]["voice"] == {
        "expected_wait_s": None,
        "service_level_percent": 0.0,
        "agents_needed": 3,
        "probability_of_wait": 1.0,
    }
    assert set(sales["estimate"]) == {"voice", "chat"}  # configured, or arrived lately
    # sales voice: 3 arrivals in 30 min; nothing handled yet, so 180 s; alice and bob are
    # logged in; 20 s and 80 % from the queue's configuration.
    assert calls[0] == (3 / 1800, 180.0, 2, 20.0, 80.0)
    assert calls[1] == (1 / 1800, 180.0, 2, 20.0, 80.0)  # chat: the default target
    # Half an hour later the morning's arrivals no longer count.
    calls.clear()
    live.snapshot(T0 + 100 + 1800)
    assert calls[0][0] == 0.0


def test_estimate_with_the_real_module_is_json_ready() -> None:
    pytest.importorskip("trunkline.reporting.erlang")
    live = live_stats(T0)
    observe(live, morning().events)
    snap = live.snapshot(T0 + 100)
    json.dumps(snap, allow_nan=False)
    estimate = snap["queues"][0]["estimate"]
    assert estimate is not None
    for field in ("expected_wait_s", "service_level_percent", "agents_needed"):
        assert field in estimate["voice"]


# -- midnight ----------------------------------------------------------------------------

# 1 July 2024: London is on BST (UTC+1), so local midnight is 23:00 UTC.
SUMMER = datetime(2024, 7, 1, 22, 0, tzinfo=UTC).timestamp()  # 23:00 local
LOCAL_MIDNIGHT = datetime(2024, 7, 1, 23, 0, tzinfo=UTC).timestamp()


@pytest.mark.usefixtures("no_erlang")
def test_today_restarts_at_local_midnight_and_calls_across_it_stay_right() -> None:
    live = live_stats(SUMMER)
    s = Script(SUMMER)
    s.agent(0, "a1", READY)
    s.agent(0, "a2", READY)
    s.arrive(3000, "i1", "sales")  # 23:50 local
    s.offer(3000, "i1", "a1", "sales")
    s.agent(3000, "a1", RESERVED)
    s.accept(3300, "i1", "a1", "sales")  # 23:55 local, after 300 s
    s.agent(3300, "a1", BUSY)
    observe(live, s.events)
    before = live.snapshot(SUMMER + 3480)["queues"][0]["today"]
    assert (before["offered"], before["answered"], before["asa_s"]) == (1, 1, 300.0)

    # 00:02 local: the transfer is the first event of the new day.
    done = len(s.events)
    s.transfer(3720, "i1", "a1", "sales", "support", VOICE)
    s.agent(3720, "a1", READY)
    s.offer(3720, "i1", "a2", "support")
    s.accept(3780, "i1", "a2", "support")  # the support visit waited 60 s
    observe(live, s.events[done:])
    assert live.day == (LOCAL_MIDNIGHT, LOCAL_MIDNIGHT + 86400)
    snap = live.snapshot(LOCAL_MIDNIGHT + 600)
    sales, support = by_id(snap["queues"])["sales"], by_id(snap["queues"])["support"]
    # Yesterday's arrival and answer are gone from today; the transfer is today's, and
    # the fold still knows i1 is a voice call answered at 23:55 (handled 7 min in sales).
    assert (sales["today"]["offered"], sales["today"]["answered"]) == (0, 0)
    assert sales["today"]["transferred"] == 1
    assert sales["today"]["avg_handle_s"] == 420.0
    assert (support["today"]["offered"], support["today"]["asa_s"]) == (1, 60.0)
    # Alice's day starts at midnight: 600 s staffed today, whatever came before.
    assert by_id(snap["agents"])["a1"]["today"]["staffed_s"] == 600.0


def test_roll_follows_the_centre_zone_not_utc() -> None:
    live = live_stats(SUMMER)
    assert live.day[1] == LOCAL_MIDNIGHT
    assert not live.roll(LOCAL_MIDNIGHT - 1)
    assert live.roll(LOCAL_MIDNIGHT)
    assert not live.roll(LOCAL_MIDNIGHT + 1)
    # Midnight UTC an hour later is 01:00 in London: no new day.
    assert not live.roll(datetime(2024, 7, 2, 0, 0, tzinfo=UTC).timestamp())
    assert live.day == (LOCAL_MIDNIGHT, LOCAL_MIDNIGHT + 86400)


@pytest.mark.usefixtures("no_erlang")
def test_snapshot_rolls_a_quiet_night() -> None:
    live = live_stats(SUMMER)
    s = Script(SUMMER)
    s.arrive(60, "i1", "sales")
    s.abandon(90, "i1", "sales")
    observe(live, s.events)
    assert live.snapshot(SUMMER + 120)["queues"][0]["today"]["abandoned"] == 1
    snap = live.snapshot(LOCAL_MIDNIGHT + 5)  # no event since: the snapshot itself rolls
    assert snap["day_start"] == LOCAL_MIDNIGHT
    assert snap["queues"][0]["today"]["abandoned"] == 0


# -- deltas ------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_erlang")
def test_delta_carries_only_what_changed() -> None:
    live = live_stats(T0)
    observe(live, morning().events)
    first = live.snapshot(T0 + 100)
    assert delta(first, first) == {"generated_at": T0 + 100}
    assert delta(first, live.snapshot(T0 + 100)) == {"generated_at": T0 + 100}

    s = Script(T0)
    s.arrive(100, "i6", "support")
    observe(live, s.events)
    second = live.snapshot(T0 + 100)
    change = delta(first, second)
    assert set(change) == {"generated_at", "queues", "media", "centre"}
    assert set(change["queues"]) == {"support"}  # sales and the agents did not change
    support = change["queues"]["support"]
    assert support["waiting"] == 2
    assert "longest_wait_s" not in support  # i4 is still the longest
    assert "name" not in support and "agents" not in support
    assert support["today"] == {"offered": 2}
    assert support["today_by_medium"] == {"voice": second["queues"][1]["today_by_medium"]["voice"]}
    assert set(change["media"]) == {"voice"}
    assert change["media"]["voice"]["waiting"] == 2
    # Centre-wide, the new arrival also moves the rates over offered.
    assert set(change["centre"]) == {"today"}
    assert change["centre"]["today"]["offered"] == 6
    assert change["centre"]["today"]["sl_answered"] == pytest.approx(100 / 6, abs=0.001)


def test_delta_lists_removed_ids_and_clears_vanished_keys() -> None:
    before = {
        "generated_at": 1.0,
        "queues": [{"id": "a", "x": 1, "y": {"k": 1, "gone": 2}}, {"id": "b", "x": 1}],
        "note": "old",
    }
    after = {
        "generated_at": 2.0,
        "queues": [{"id": "a", "x": 1, "y": {"k": 2}}, {"id": "c", "x": 3}],
    }
    assert delta(before, after) == {
        "generated_at": 2.0,
        "queues": {"a": {"y": {"k": 2, "gone": None}}, "c": {"id": "c", "x": 3}},
        "note": None,
        "removed": {"queues": ["b"]},
    }


# -- against the real router -------------------------------------------------------------

ACTIONS = (
    "submit",
    "submit",
    "login",
    "ready",
    "not_ready",
    "accept",
    "accept",
    "accept",
    "reject",
    "end",
    "wrap_up",
    "wrap_up",
    "transfer",
    "transfer",
    "abandon",
    "withdraw",
    "logout",
    "login",
    "advance",
    "advance",
)
ROUTER_QUEUES = ("q1", "q2")


def drive(centre: Centre, action: str, pick: int, seconds: float) -> None:
    """Apply one random command; commands the router refuses are simply skipped."""
    router = centre.router
    agent_id = ("a1", "a2", "a3")[pick % 3]
    view = router.agent(agent_id)
    open_ids = [v.id for v in router.interactions()]
    try:
        if action == "submit":
            medium = (VOICE, CHAT, EMAIL)[pick % 3]
            centre.submit(f"i{len(centre.log)}", ROUTER_QUEUES[pick % 2], medium=medium)
        elif action == "login":
            centre.login(agent_id, ready=pick % 2 == 0)
        elif action == "ready":
            centre.run(router.set_ready, agent_id)
        elif action == "not_ready":
            centre.run(router.set_not_ready, agent_id, reason=("break", "lunch")[pick % 2])
        elif action == "accept" and view.offers:
            centre.accept(view.offers[0], agent_id)
        elif action == "reject" and view.offers:
            centre.reject(view.offers[0], agent_id)
        elif action == "end" and view.active:
            centre.end(view.active[0], agent_id)
        elif action == "wrap_up" and (view.active or view.wrapping):
            held = (view.active + view.wrapping)[0]
            centre.wrap_up(held, agent_id, disposition=("resolved", None, "follow_up")[pick % 3])
        elif action == "transfer" and view.active:
            to_queue = ROUTER_QUEUES[pick % 2]
            centre.run(router.transfer, view.active[0], agent_id, to_queue=to_queue)
        elif action == "abandon" and open_ids:
            centre.cancel(open_ids[pick % len(open_ids)])
        elif action == "withdraw" and open_ids:
            centre.cancel(open_ids[pick % len(open_ids)], reason="withdrawn")
        elif action == "logout":
            centre.run(router.logout, agent_id)
    except TrunklineError:
        pass
    if action == "advance":
        centre.advance(seconds)
    else:
        centre.advance(seconds / 30)


@settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(ACTIONS),
            st.integers(0, 1000),
            st.floats(min_value=0, max_value=90, allow_nan=False),
        ),
        max_size=60,
    )
)
def test_live_figures_agree_with_the_router(commands: list[tuple[str, int, float]]) -> None:
    centre = Centre(
        [
            router_queue(
                "q1", offer_timeout_s=60, wrap_up=WrapUpPolicy(mode=WrapUpMode.TIMED, seconds=30)
            ),
            router_queue("q2", offer_timeout_s=60, wrap_up=WrapUpPolicy(mode=WrapUpMode.MANUAL)),
        ],
        [router_agent("a1", "q1", "q2"), router_agent("a2", "q1"), router_agent("a3", "q2")],
        now=T0,
    )
    for command in commands:
        drive(centre, *command)
    live = LiveStats(
        ReportingSettings(resolved_codes=frozenset({"resolved"})),
        now=T0,
        queues={"q1": "Q1", "q2": "Q2"},
        memberships={"a1": ["q1", "q2"], "a2": ["q1"], "a3": ["q2"]},
    )
    for event in centre.log:
        live.observe(event)
    snap = live.snapshot(centre.now)
    router = centre.router
    waiting_states = (InteractionState.QUEUED, InteractionState.OFFERED)
    for q in snap["queues"]:
        waiting = [v for v in router.interactions() if v.queue == q["id"]]
        assert q["waiting"] == sum(v.state in waiting_states for v in waiting)
        assert q["on_offer"] == sum(v.state is InteractionState.OFFERED for v in waiting)
        by_state = {s: 0 for s in q["agents"]}
        for a in router.agents():
            if a.state is not AgentState.LOGGED_OUT and q["id"] in a.queues:
                by_state[a.state.value] += 1
        assert q["agents"] == by_state
    for a in snap["agents"]:
        view = router.agent(a["id"])
        assert (a["state"], a["reason"]) == (view.state.value, view.reason)
        assert {i["id"] for i in a["interactions"]} == {*view.offers, *view.active, *view.wrapping}
        # Every logged-in second is in exactly one state.
        assert a["today"]["staffed_s"] == pytest.approx(
            sum(a["today"]["state_s"].values()), abs=0.002
        )
    # Visits add up per queue and medium, counting those the router still has waiting.
    totals = live.fold.queue_totals()
    for (queue, medium), c in totals.items():
        still = sum(
            v.queue == queue and v.medium is medium and v.state in waiting_states
            for v in router.interactions()
        )
        assert c.offered == c.answered + c.abandoned + c.short_abandoned + c.cancelled + still
        assert c.resolved <= c.with_disposition <= c.completed
    # The fold remembers exactly the interactions the router still holds.
    assert live.fold.open_interactions == len(router.interactions())
