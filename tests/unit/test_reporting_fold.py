"""The interval fold: a golden scenario with hand-computed figures for every metric in
docs/metrics.md, the edge cases, daylight-saving days, and Hypothesis properties."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.config import load_config_text
from trunkline.domain.agent import AgentState
from trunkline.domain.errors import ConfigError
from trunkline.domain.events import (
    AgentEvent,
    AgentStateChanged,
    Event,
    HandlingEnded,
    InteractionAbandoned,
    InteractionCancelled,
    InteractionCompleted,
    InteractionCreated,
    InteractionEvent,
    InteractionMoved,
    InteractionOffered,
    InteractionQueued,
    InteractionRefused,
    InteractionTransferred,
    OfferAccepted,
    OfferRejected,
    OfferRevoked,
    OfferTimedOut,
)
from trunkline.domain.media import Medium
from trunkline.domain.queue import ServiceLevelTarget
from trunkline.reporting.definitions import (
    DEFAULT_SERVICE_LEVELS,
    ReportingSettings,
    interval_start,
    intervals_of_local_day,
    local_day_bounds,
    local_label,
    settings_from_config,
)
from trunkline.reporting.fold import (
    UNKNOWN_REASON,
    AgentCounters,
    AgentKey,
    Fold,
    QueueCounters,
    QueueKey,
    derive,
    derive_agent,
    per_interval,
    sum_agent_rows,
    sum_queue_rows,
)

VOICE, CHAT, EMAIL = Medium.VOICE, Medium.CHAT, Medium.EMAIL
LOGGED_OUT, NOT_READY, READY = AgentState.LOGGED_OUT, AgentState.NOT_READY, AgentState.READY
RESERVED, BUSY, WRAP_UP = AgentState.RESERVED, AgentState.BUSY, AgentState.WRAP_UP

# Monday 15 January 2024, 09:00 UTC (London is on GMT, so local time reads the same).
T0 = datetime(2024, 1, 15, 9, 0, tzinfo=UTC).timestamp()
I0 = int(T0)  # the 09:00 interval
I1 = I0 + 900  # the 09:15 interval


class Script:
    """Builds an event list the way the router emits it, keeping each agent's state so
    every ``AgentStateChanged`` carries the right ``old`` and ``old_since``."""

    def __init__(self, t0: float = T0) -> None:
        self.t0 = t0
        self.events: list[Event] = []
        self._agents: dict[str, tuple[AgentState, float]] = {}
        self._created: dict[str, float] = {}

    def _at(self, t: float) -> float:
        return self.t0 + t

    def agent(self, t: float, agent_id: str, new: AgentState, reason: str = "") -> None:
        old, since = self._agents.get(agent_id, (LOGGED_OUT, 0.0))
        self.events.append(
            AgentStateChanged(
                at=self._at(t), agent_id=agent_id, old=old, new=new, reason=reason, old_since=since
            )
        )
        self._agents[agent_id] = (new, self._at(t))

    def arrive(self, t: float, iid: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        self._created[iid] = at
        self.events.append(
            InteractionCreated(
                at=at, interaction_id=iid, medium=medium, queue=queue, priority=0, created_at=at
            )
        )
        self.queued(t, iid, queue, medium, "new")

    def queued(self, t: float, iid: str, queue: str, medium: Medium, reason: str) -> None:
        at = self._at(t)
        self.events.append(
            InteractionQueued(
                at=at,
                interaction_id=iid,
                queue=queue,
                medium=medium,
                priority=0,
                rank=self._created.get(iid, at),
                reason=reason,
            )
        )

    def refuse(self, t: float, iid: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        self.events.append(
            InteractionCreated(
                at=at, interaction_id=iid, medium=medium, queue=queue, priority=0, created_at=at
            )
        )
        self.events.append(
            InteractionRefused(
                at=at, interaction_id=iid, queue=queue, medium=medium, reason="closed"
            )
        )

    def offer(self, t: float, iid: str, agent: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        self.events.append(
            InteractionOffered(
                at=at,
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                expires_at=at + 20,
            )
        )

    def accept(self, t: float, iid: str, agent: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        # The router's waited_s always runs from arrival (created_at).
        waited = at - self._created[iid]
        self.events.append(
            OfferAccepted(
                at=at,
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                waited_s=waited,
            )
        )

    def reject(self, t: float, iid: str, agent: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        self.events.append(OfferRejected(at=at, interaction_id=iid, agent_id=agent, queue=queue))
        self.queued(t, iid, queue, medium, "requeued")

    def transfer(
        self, t: float, iid: str, agent: str, from_queue: str, to_queue: str, medium: Medium
    ) -> None:
        at = self._at(t)
        self.events.append(
            InteractionTransferred(
                at=at,
                interaction_id=iid,
                from_agent=agent,
                from_queue=from_queue,
                to_queue=to_queue,
            )
        )
        self.queued(t, iid, to_queue, medium, "transferred")

    def move(self, t: float, iid: str, from_queue: str, to_queue: str, medium: Medium) -> None:
        at = self._at(t)
        self.events.append(
            InteractionMoved(
                at=at, interaction_id=iid, from_queue=from_queue, to_queue=to_queue, by="sup"
            )
        )
        self.queued(t, iid, to_queue, medium, "moved")

    def abandon(self, t: float, iid: str, queue: str, medium: Medium = VOICE) -> None:
        at = self._at(t)
        self.events.append(
            InteractionAbandoned(
                at=at,
                interaction_id=iid,
                queue=queue,
                medium=medium,
                waited_s=at - self._created[iid],
            )
        )

    def cancel(self, t: float, iid: str, queue: str) -> None:
        self.events.append(
            InteractionCancelled(
                at=self._at(t), interaction_id=iid, queue=queue, reason="withdrawn"
            )
        )

    def end(
        self, t: float, iid: str, agent: str, queue: str, medium: Medium, handled_s: float
    ) -> None:
        self.events.append(
            HandlingEnded(
                at=self._at(t),
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                handled_s=handled_s,
            )
        )

    def complete(
        self,
        t: float,
        iid: str,
        agent: str,
        queue: str,
        medium: Medium,
        wrap_s: float,
        disposition: str | None = None,
    ) -> None:
        self.events.append(
            InteractionCompleted(
                at=self._at(t),
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                disposition=disposition,
                wrap_up_s=wrap_s,
                auto=disposition is None,
            )
        )


CONFIG = """
centre: {timezone: Europe/London}
queues:
  sales:
    name: Sales
    service_level:
      voice: {percent: 80, threshold_s: 20}
      email: {percent: 90, threshold_s: 14400}
  support: {name: Support}
  billing: {name: Billing}
wrap_up_codes:
  - {code: resolved, label: Resolved, resolved: true}
  - {code: follow_up, label: Follow-up needed}
"""


def golden_settings() -> ReportingSettings:
    return settings_from_config(
        load_config_text(dedent(CONFIG)),
        cost_per_handled_minute={VOICE: 0.50, CHAT: 0.10},
        cost_per_interaction={VOICE: 0.20, CHAT: 0.05},
    )


def golden_events() -> list[Event]:
    """Two agents and nine interactions between 09:00 and 09:20 (t in seconds from 09:00).

    alice (a1) serves sales and support, bob (a2) starts on a break. Intervals: I0 is
    [0, 900), I1 is [900, 1800).
    """
    s = Script()
    s.agent(0, "a1", READY)
    s.agent(0, "a2", NOT_READY, "break")
    # i1: answered in 10 s by alice, talks 180 s, wraps 30 s, resolved.
    s.arrive(60, "i1", "sales")
    s.offer(60, "i1", "a1", "sales")
    s.agent(60, "a1", RESERVED)
    s.accept(70, "i1", "a1", "sales")
    s.agent(70, "a1", BUSY)
    # i2: hangs up after exactly 5 s, the short-abandon threshold: a short abandon.
    s.arrive(100, "i2", "sales")
    s.abandon(105, "i2", "sales")
    # i3: waits, is rejected once (requeued, still one offer), answered by bob after
    # 190 s, transferred to support after 90 s of talk, answered there 12 s later.
    s.arrive(120, "i3", "sales")
    # i9: an e-mail the system withdraws before anyone answers: a cancelled visit.
    s.arrive(200, "i9", "sales", EMAIL)
    s.cancel(230, "i9", "sales")
    s.end(250, "i1", "a1", "sales", VOICE, handled_s=180)
    s.agent(250, "a1", WRAP_UP)
    s.complete(280, "i1", "a1", "sales", VOICE, wrap_s=30, disposition="resolved")
    s.agent(280, "a1", READY)
    s.offer(280, "i3", "a1", "sales")
    s.agent(280, "a1", RESERVED)
    s.reject(285, "i3", "a1", "sales")
    s.agent(285, "a1", READY)
    s.agent(300, "a2", READY)
    s.offer(300, "i3", "a2", "sales")
    s.agent(300, "a2", RESERVED)
    s.accept(310, "i3", "a2", "sales")
    s.agent(310, "a2", BUSY)
    s.transfer(400, "i3", "a2", "sales", "support", VOICE)
    s.agent(400, "a2", READY)
    s.offer(400, "i3", "a1", "support")
    s.agent(400, "a1", RESERVED)
    s.accept(412, "i3", "a1", "support")  # waited_s says 292 (from arrival); the visit: 12
    s.agent(412, "a1", BUSY)
    # i4: a chat answered in 3 s by bob, 360 s of chat, 10 s of wrap-up, no disposition.
    s.arrive(500, "i4", "sales", CHAT)
    s.offer(500, "i4", "a2", "sales", CHAT)
    s.agent(500, "a2", RESERVED)
    s.accept(503, "i4", "a2", "sales", CHAT)
    s.agent(503, "a2", BUSY)
    # i5: abandons after 15 s (within the 20 s threshold); i6 after 60 s.
    s.arrive(600, "i5", "sales")
    s.abandon(615, "i5", "sales")
    s.arrive(700, "i6", "sales")
    s.abandon(760, "i6", "sales")
    s.end(863, "i4", "a2", "sales", CHAT, handled_s=360)
    s.agent(863, "a2", WRAP_UP)
    s.complete(873, "i4", "a2", "sales", CHAT, wrap_s=10)
    s.agent(873, "a2", READY)
    # i8: offered at 09:14:40 (I0), answered at 09:15:05 (I1) after 25 s.
    s.arrive(880, "i8", "sales")
    s.offer(880, "i8", "a2", "sales")
    s.agent(880, "a2", RESERVED)  # reserved 880-905 crosses 09:15: 20 s in I0, 5 s in I1
    s.accept(905, "i8", "a2", "sales")
    s.agent(905, "a2", BUSY)
    # i7: billing is closed: refused, never offered.
    s.refuse(950, "i7", "billing")
    # alice's busy 412-1000 crosses 09:15: 488 s in I0, 100 s in I1.
    s.end(1000, "i3", "a1", "support", VOICE, handled_s=588)
    s.agent(1000, "a1", WRAP_UP)
    s.complete(1020, "i3", "a1", "support", VOICE, wrap_s=20, disposition="follow_up")
    s.agent(1020, "a1", READY)
    s.end(1085, "i8", "a2", "sales", VOICE, handled_s=180)
    s.agent(1085, "a2", WRAP_UP)
    s.agent(1100, "a1", NOT_READY, "lunch")
    s.complete(1115, "i8", "a2", "sales", VOICE, wrap_s=30, disposition="resolved")
    s.agent(1115, "a2", READY)
    s.agent(1150, "a1", LOGGED_OUT)
    s.agent(1200, "a2", LOGGED_OUT)
    return s.events


def golden_fold() -> Fold:
    fold = Fold(golden_settings())
    fold.apply_all(golden_events())
    return fold


# Every counter of every row, worked out by hand from the script above.
GOLDEN_QUEUE_ROWS = {
    QueueKey(I0, "sales", VOICE): QueueCounters(
        offered=6,  # i1@60, i2@100, i3@120 (its requeue at 285 is not a new visit), i5, i6, i8@880
        answered=2,  # i1@70 (10 s), i3@310 (190 s)
        answered_in_sl=1,  # i1: 10 <= 20
        short_abandoned=1,  # i2: 5.0 <= 5
        abandoned=2,  # i5 (15 s), i6 (60 s)
        abandoned_in_sl=1,  # i5: 5 < 15 <= 20
        transferred=1,  # i3 to support at 400
        wait_answered_ms=200_000,  # 10 + 190 s
        wait_abandoned_ms=75_000,  # 15 + 60 s (the short abandon is left out)
        wait_max_ms=190_000,  # i3
        handled=2,  # i1 ended at 250; i3's visit ended by the transfer at 400
        handle_ms=270_000,  # 180 + (400 - 310) s
        completed=1,  # i1
        wrap_ms=30_000,
        with_disposition=1,
        resolved=1,  # "resolved" is resolved: true
        # 0.50/min x (180 + 90 + 30) s = 0.50 x 5 min = 2.50, + 0.20 for completing i1
        cost_micros=2_700_000,
    ),
    QueueKey(I0, "sales", CHAT): QueueCounters(
        offered=1,  # i4
        answered=1,
        answered_in_sl=1,  # 3 s <= 20 s (chat takes the default 80 % in 20 s)
        wait_answered_ms=3_000,
        wait_max_ms=3_000,
        handled=1,
        handle_ms=360_000,
        completed=1,
        wrap_ms=10_000,  # no disposition: not in the resolution figures
        # 0.10/min x 6 min = 0.60; + 0.05 per interaction; + 0.10 x 10/60 = 0.016667
        cost_micros=666_667,
    ),
    QueueKey(I0, "sales", EMAIL): QueueCounters(offered=1, cancelled=1),  # i9
    QueueKey(I0, "support", VOICE): QueueCounters(
        offered=1,  # i3, transferred in at 400
        transferred_in=1,
        answered=1,  # at 412
        answered_in_sl=1,  # the visit waited 412 - 400 = 12 s, not waited_s = 292
        wait_answered_ms=12_000,
        wait_max_ms=12_000,
    ),
    QueueKey(I1, "sales", VOICE): QueueCounters(
        answered=1,  # i8 at 905, 25 s: offered in I0, answered in I1
        wait_answered_ms=25_000,
        wait_max_ms=25_000,
        handled=1,
        handle_ms=180_000,
        completed=1,
        wrap_ms=30_000,
        with_disposition=1,
        resolved=1,
        cost_micros=1_950_000,  # 0.50 x (180 + 30)/60 = 1.75, + 0.20
    ),
    QueueKey(I1, "billing", VOICE): QueueCounters(refused=1),  # i7
    QueueKey(I1, "support", VOICE): QueueCounters(
        handled=1,  # i3 ended at 1000
        handle_ms=588_000,
        completed=1,
        wrap_ms=20_000,
        with_disposition=1,
        resolved=0,  # follow_up is not a resolution
        # 0.50 x 588/60 = 4.90; + 0.20; + 0.50 x 20/60 = 0.166667
        cost_micros=5_266_667,
    ),
}

GOLDEN_AGENT_ROWS = {
    AgentKey(I0, "a1"): AgentCounters(
        state_ms={
            (READY, ""): 175_000,  # 0-60 and 285-400
            (RESERVED, ""): 27_000,  # 60-70, 280-285, 400-412
            (BUSY, ""): 668_000,  # 70-250 and 412-900 (of 412-1000)
            (WRAP_UP, ""): 30_000,  # 250-280
        },  # 175 + 27 + 668 + 30 = 900 s: the whole interval
        handled=1,  # i1
        handle_ms=180_000,
        completed=1,
        wrap_ms=30_000,
    ),
    AgentKey(I1, "a1"): AgentCounters(
        state_ms={
            (BUSY, ""): 100_000,  # 900-1000
            (WRAP_UP, ""): 20_000,  # 1000-1020
            (READY, ""): 80_000,  # 1020-1100
            (NOT_READY, "lunch"): 50_000,  # 1100-1150, then logged out
        },
        handled=1,  # i3 in support
        handle_ms=588_000,
        completed=1,
        wrap_ms=20_000,
    ),
    AgentKey(I0, "a2"): AgentCounters(
        state_ms={
            (NOT_READY, "break"): 300_000,  # 0-300 (the reason of the event that began it)
            (RESERVED, ""): 33_000,  # 300-310, 500-503, 880-900 (of 880-905)
            (BUSY, ""): 450_000,  # 310-400 and 503-863
            (READY, ""): 107_000,  # 400-500 and 873-880
            (WRAP_UP, ""): 10_000,  # 863-873
        },  # 300 + 33 + 450 + 107 + 10 = 900 s
        handled=2,  # i3's sales visit (90 s, ended by the transfer) and i4 (360 s)
        handle_ms=450_000,
        completed=1,  # i4
        wrap_ms=10_000,
    ),
    AgentKey(I1, "a2"): AgentCounters(
        state_ms={
            (RESERVED, ""): 5_000,  # 900-905
            (BUSY, ""): 180_000,  # 905-1085
            (WRAP_UP, ""): 30_000,  # 1085-1115
            (READY, ""): 85_000,  # 1115-1200, then logged out
        },
        handled=1,  # i8
        handle_ms=180_000,
        completed=1,
        wrap_ms=30_000,
    ),
}


def test_golden_counters_row_by_row() -> None:
    fold = golden_fold()
    assert fold.queue_rows() == GOLDEN_QUEUE_ROWS
    assert fold.agent_rows() == GOLDEN_AGENT_ROWS
    # Every interaction ended and every agent logged out: nothing is remembered.
    assert fold.open_interactions == 0
    assert fold.flush_open_states(T0 + 3600) == GOLDEN_AGENT_ROWS


def test_golden_queue_figures_of_one_interval() -> None:
    settings = golden_settings()
    row = golden_fold().queue_rows()[QueueKey(I0, "sales", VOICE)]
    assert derive(row, settings, queue="sales", medium=VOICE) == {
        "offered": 6,
        "transferred_in": 0,
        "answered": 2,
        "abandoned": 2,
        "short_abandoned": 1,
        "refused": 0,
        "cancelled": 0,
        "transferred": 1,
        "handled": 2,
        "completed": 1,
        "answered_in_sl": 1,
        "abandoned_in_sl": 1,
        "sl_answered": 20.0,  # 1 / (6 - 1)
        "sl_with_abandons": 40.0,  # (1 + 1) / (6 - 1)
        "abandon_rate": 40.0,  # 2 / (6 - 1)
        "asa_s": 100.0,  # (10 + 190) / 2
        "avg_wait_s": 68.75,  # (10 + 190 + 15 + 60) / 4
        "longest_wait_s": 190.0,
        "avg_handle_s": 135.0,  # (180 + 90) / 2
        "avg_wrap_s": 30.0,  # 30 / 1
        "aht_s": 165.0,  # 135 + 30
        "fcr": 100.0,  # 1 resolved / 1 with a disposition
        "cost": 2.7,
        "cost_per_contact": 2.7,  # 2.70 / 1 completed
        "sl_target_percent": 80.0,
        "sl_threshold_s": 20.0,
        "sl_met": False,  # 20 % < 80 %
    }


def test_golden_day_figures_per_queue_and_medium() -> None:
    rows = golden_fold().queue_rows()
    settings = golden_settings()
    sales_voice = derive(sum_queue_rows(rows, queue="sales", medium=VOICE), settings)
    # offered 6; answered 3 (i1 10 s, i3 190 s, i8 25 s); 1 within 20 s.
    assert sales_voice["answered"] == 3
    assert sales_voice["sl_answered"] == 20.0  # 1 / 5
    assert sales_voice["sl_with_abandons"] == 40.0  # (1 + 1) / 5
    assert sales_voice["asa_s"] == 75.0  # (10 + 190 + 25) / 3
    assert sales_voice["avg_wait_s"] == 60.0  # (225 + 75) / 5
    assert sales_voice["longest_wait_s"] == 190.0
    assert sales_voice["avg_handle_s"] == 150.0  # (180 + 90 + 180) / 3
    assert sales_voice["avg_wrap_s"] == 30.0  # (30 + 30) / 2
    assert sales_voice["aht_s"] == 180.0
    assert sales_voice["fcr"] == 100.0  # i1 and i8 resolved
    assert sales_voice["cost"] == 4.65  # 2.70 + 1.95
    assert sales_voice["cost_per_contact"] == 2.325  # 4.65 / 2 completed

    support = derive(sum_queue_rows(rows, queue="support"))
    assert (support["offered"], support["transferred_in"], support["answered"]) == (1, 1, 1)
    assert support["sl_answered"] == 100.0  # 12 s <= 20 s
    assert support["aht_s"] == 608.0  # 588 + 20
    assert support["fcr"] == 0.0  # follow_up only
    assert support["cost"] == 5.266667

    chat = derive(sum_queue_rows(rows, medium=CHAT))
    assert chat["sl_answered"] == 100.0
    assert chat["aht_s"] == 370.0  # 360 + 10
    assert chat["fcr"] is None  # no disposition: 0 / 0
    assert chat["cost"] == 0.666667

    email = derive(sum_queue_rows(rows, medium=EMAIL))
    assert (email["offered"], email["cancelled"], email["sl_answered"]) == (1, 1, 0.0)

    billing = derive(sum_queue_rows(rows, queue="billing"))
    assert (billing["refused"], billing["offered"], billing["sl_answered"]) == (1, 0, None)

    # Centre-wide: 9 visits, 1 by transfer, so 8 distinct contacts (i1-i6, i8, i9); i7 was
    # refused and never offered.
    centre = sum_queue_rows(rows)
    assert centre.offered - centre.transferred_in == 8
    # Visits add up once nobody waits: offered = answered + abandoned + short + cancelled.
    for queue, medium in {(k.queue, k.medium) for k in rows}:
        c = sum_queue_rows(rows, queue=queue, medium=medium)
        assert c.offered == c.answered + c.abandoned + c.short_abandoned + c.cancelled


def test_golden_agent_figures() -> None:
    rows = golden_fold().agent_rows()
    alice_i0 = derive_agent(rows[AgentKey(I0, "a1")])
    assert alice_i0["occupancy"] == pytest.approx(100 * 698 / 900)  # (668 + 30) / 900
    assert alice_i0["utilisation"] == pytest.approx(100 * 698 / 900)  # never not ready

    alice_i1 = derive_agent(rows[AgentKey(I1, "a1")])
    assert alice_i1["state_s"] == {"not_ready": 50.0, "ready": 80.0, "busy": 100.0, "wrap_up": 20.0}
    assert alice_i1["not_ready_s"] == {"lunch": 50.0}
    assert alice_i1["staffed_s"] == 250.0
    assert alice_i1["occupancy"] == 60.0  # (100 + 20) / (100 + 20 + 80)
    assert alice_i1["utilisation"] == 48.0  # (100 + 20) / 250

    alice = derive_agent(sum_agent_rows(rows, agent="a1"))
    assert alice["staffed_s"] == 1150.0  # logged in 0-1150
    assert alice["occupancy"] == pytest.approx(100 * 818 / 1100)  # (768 + 50) / (768+50+255+27)
    assert alice["utilisation"] == pytest.approx(100 * 818 / 1150)
    assert (alice["handled"], alice["avg_handle_s"], alice["avg_wrap_s"]) == (2, 384.0, 25.0)
    assert alice["aht_s"] == 409.0

    bob_i0 = derive_agent(rows[AgentKey(I0, "a2")])
    assert bob_i0["not_ready_s"] == {"break": 300.0}
    assert bob_i0["occupancy"] == pytest.approx(100 * 460 / 600)  # (450+10) / (450+10+107+33)
    assert bob_i0["utilisation"] == pytest.approx(100 * 460 / 900)  # the break is staffed
    assert bob_i0["aht_s"] == 235.0  # (90 + 360) / 2 + 10 / 1


def test_golden_is_the_same_in_any_chunking_and_any_merge() -> None:
    events = golden_events()
    whole = golden_fold()
    rng = random.Random(4)
    for _ in range(20):
        cuts = sorted(rng.sample(range(1, len(events)), 3))
        folds = [Fold(golden_settings())]
        for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
            if lo:
                folds.append(folds[-1].fork())
            folds[-1].apply_all(events[lo:hi])
        for other in folds[1:]:
            folds[0].merge(other)
        assert folds[0].queue_rows() == whole.queue_rows()
        assert folds[0].agent_rows() == whole.agent_rows()


# -- edge cases --------------------------------------------------------------------------


def plain_settings(**overrides: Any) -> ReportingSettings:
    return ReportingSettings(resolved_codes=frozenset({"resolved"}), **overrides)


def fold_of(events: Iterable[Event], settings: ReportingSettings | None = None) -> Fold:
    fold = Fold(settings or plain_settings())
    fold.apply_all(events)
    return fold


def day_total(fold: Fold, **filters: Any) -> QueueCounters:
    return sum_queue_rows(fold.queue_rows(), **filters)


@pytest.mark.parametrize(
    ("waited", "short", "abandoned", "in_sl"),
    [
        (0.0, 1, 0, 0),
        (4.999, 1, 0, 0),
        (5.0, 1, 0, 0),  # exactly the short-abandon threshold: still short
        (5.001, 0, 1, 1),
        (20.0, 0, 1, 1),  # exactly the service-level threshold: within it
        (20.001, 0, 1, 0),
        (600.0, 0, 1, 0),
    ],
)
def test_abandon_thresholds(waited: float, short: int, abandoned: int, in_sl: int) -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.abandon(waited, "i", "q")
    c = day_total(fold_of(s.events))
    assert (c.offered, c.short_abandoned, c.abandoned, c.abandoned_in_sl) == (
        1,
        short,
        abandoned,
        in_sl,
    )
    # A short abandon leaves no trace in the waits or the service-level base.
    assert c.wait_abandoned_ms == (0 if short else round(waited * 1000))
    figures = derive(c)
    assert figures["sl_answered"] == (None if short else 0.0)
    assert figures["sl_with_abandons"] == (None if short else 100.0 * in_sl)


def test_short_abandon_threshold_is_a_setting() -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.abandon(8, "i", "q")
    assert day_total(fold_of(s.events)).abandoned == 1
    assert day_total(fold_of(s.events, plain_settings(short_abandon_s=10))).short_abandoned == 1


@pytest.mark.parametrize(("waited", "in_sl"), [(19.999, 1), (20.0, 1), (20.001, 0)])
def test_answer_at_the_threshold(waited: float, in_sl: int) -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.accept(waited, "i", "a", "q")
    assert day_total(fold_of(s.events)).answered_in_sl == in_sl


def test_requeue_after_reject_timeout_or_revoke_is_offered_once() -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.offer(1, "i", "a1", "q")
    s.reject(4, "i", "a1", "q")
    s.offer(5, "i", "a2", "q")
    s.events.append(OfferTimedOut(at=T0 + 25, interaction_id="i", agent_id="a2", queue="q"))
    s.queued(25, "i", "q", VOICE, "requeued")
    s.offer(26, "i", "a3", "q")
    s.events.append(
        OfferRevoked(at=T0 + 27, interaction_id="i", agent_id="a3", queue="q", reason="gone")
    )
    s.queued(27, "i", "q", VOICE, "requeued")
    s.offer(30, "i", "a4", "q")
    s.accept(31, "i", "a4", "q")
    c = day_total(fold_of(s.events))
    assert (c.offered, c.answered, c.answered_in_sl) == (1, 1, 0)
    assert c.wait_answered_ms == 31_000  # the wait runs from arrival through every requeue


def test_recovered_interaction_is_not_offered_or_answered_twice() -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.accept(10, "i", "a1", "q")
    # The node restarts: the assigned interaction comes back to the queue and is answered
    # again by someone else.
    s.queued(100, "i", "q", VOICE, "recovered")
    s.accept(130, "i", "a2", "q")
    s.end(200, "i", "a2", "q", VOICE, 70)
    s.complete(200, "i", "a2", "q", VOICE, 0)
    c = day_total(fold_of(s.events))
    assert (c.offered, c.answered, c.handled, c.completed) == (1, 1, 1, 1)


def test_transfer_counts_out_of_one_queue_and_into_the_other() -> None:
    s = Script()
    s.arrive(0, "i", "sales", CHAT)
    s.accept(30, "i", "a1", "sales", CHAT)
    s.transfer(90, "i", "a1", "sales", "support", CHAT)
    s.accept(100, "i", "a2", "support", CHAT)  # waited_s = 100, the visit 10
    s.end(160, "i", "a2", "support", CHAT, 60)
    s.complete(170, "i", "a2", "support", CHAT, 10, "resolved")
    fold = fold_of(s.events)
    sales = day_total(fold, queue="sales")
    support = day_total(fold, queue="support")
    assert (sales.offered, sales.answered, sales.transferred, sales.completed) == (1, 1, 1, 0)
    assert (sales.handled, sales.handle_ms, sales.wrap_ms) == (1, 60_000, 0)  # 30 -> 90
    assert (support.offered, support.transferred_in, support.answered) == (1, 1, 1)
    assert (support.wait_answered_ms, support.answered_in_sl) == (10_000, 1)
    assert (support.handled, support.completed, support.resolved) == (1, 1, 1)
    agents = sum_agent_rows(fold.agent_rows(), agent="a1")
    assert (agents.handled, agents.handle_ms) == (1, 60_000)
    assert fold.open_interactions == 0


def test_a_supervisor_move_counts_like_a_transfer_of_a_waiting_interaction() -> None:
    s = Script()
    s.arrive(0, "i", "sales", CHAT)
    s.move(40, "i", "sales", "support", CHAT)
    s.accept(50, "i", "a2", "support", CHAT)  # waited_s = 50; the support visit 10
    s.end(110, "i", "a2", "support", CHAT, 60)
    s.complete(115, "i", "a2", "support", CHAT, 5, "resolved")
    fold = fold_of(s.events)
    sales = day_total(fold, queue="sales")
    support = day_total(fold, queue="support")
    # Left sales unanswered and not abandoned: neither answered nor abandoned there.
    assert (sales.offered, sales.answered, sales.abandoned, sales.transferred) == (1, 0, 0, 1)
    assert (sales.handled, sales.handle_ms) == (0, 0)
    assert (support.offered, support.transferred_in, support.answered) == (1, 1, 1)
    assert (support.wait_answered_ms, support.completed) == (10_000, 1)
    assert fold.open_interactions == 0


def test_transfer_then_abandon_waits_from_the_transfer() -> None:
    s = Script()
    s.arrive(0, "i", "sales")
    s.accept(5, "i", "a1", "sales")
    s.transfer(300, "i", "a1", "sales", "support", VOICE)
    s.abandon(303, "i", "support")  # waited_s = 303; the support visit waited 3 s
    support = day_total(fold_of(s.events), queue="support")
    assert (support.offered, support.short_abandoned, support.abandoned) == (1, 1, 0)


def test_refused_is_not_offered() -> None:
    s = Script()
    s.refuse(0, "i", "q")
    fold = fold_of(s.events)
    c = day_total(fold)
    assert (c.refused, c.offered) == (1, 0)
    assert derive(c)["sl_answered"] is None
    assert fold.open_interactions == 0


def test_cancelled_after_answer_is_not_a_cancelled_visit() -> None:
    s = Script()
    s.arrive(0, "i", "q")
    s.accept(5, "i", "a", "q")
    s.cancel(50, "i", "q")
    c = day_total(fold_of(s.events))
    assert (c.offered, c.answered, c.cancelled) == (1, 1, 0)


def test_unset_old_since_and_logged_out_time_are_not_counted() -> None:
    s = Script()
    s.agent(0, "a", READY)  # old_since 0.0: from logged out
    s.agent(60, "a", LOGGED_OUT)
    s.agent(600, "a", NOT_READY, "break")  # 540 s logged out: nobody's staffed time
    s.agent(660, "a", LOGGED_OUT)
    rows = fold_of(s.events).agent_rows()
    assert sum_agent_rows(rows).state_ms == {(READY, ""): 60_000, (NOT_READY, "break"): 60_000}


def test_flush_open_states_adds_running_time_without_storing_it() -> None:
    s = Script()
    s.agent(0, "a", NOT_READY, "meeting")
    s.agent(100, "a", READY)
    fold = fold_of(s.events)
    before = fold.agent_rows()
    flushed = fold.flush_open_states(T0 + 1000)  # ready 100 -> 1000 crosses 09:15
    assert flushed[AgentKey(I0, "a")].state_ms == {
        (NOT_READY, "meeting"): 100_000,
        (READY, ""): 800_000,
    }
    assert flushed[AgentKey(I1, "a")].state_ms == {(READY, ""): 100_000}
    assert fold.agent_rows() == before  # nothing stored
    assert fold.flush_open_states(T0 + 1000) == flushed  # and reading twice changes nothing
    assert fold.presence("a") == (READY, "", T0 + 100)


def test_a_fold_started_mid_stream_neither_raises_nor_invents() -> None:
    s = Script()
    s.agent(0, "a1", NOT_READY, "break")
    s.arrive(10, "i", "sales")
    s.accept(15, "i", "a1", "sales")
    s.agent(20, "a1", READY)
    s.transfer(60, "i", "a1", "sales", "support", VOICE)
    s.cancel(70, "i", "support")
    late = Fold(plain_settings())
    late.apply_all(s.events[4:])  # from the state change at 20 on
    rows = late.agent_rows()
    # Not-ready began before this fold: its time is known, its reason is not.
    assert rows[AgentKey(I0, "a1")].state_ms == {(NOT_READY, UNKNOWN_REASON): 20_000}
    # The transfer's medium was never seen, so it is not counted; the new visit is.
    c = day_total(late)
    assert (c.transferred, c.offered, c.transferred_in, c.cancelled) == (0, 1, 1, 1)
    # A fork of the fold that saw the beginning knows both.
    early = Fold(plain_settings())
    early.apply_all(s.events[:4])
    rest = early.fork()
    rest.apply_all(s.events[4:])
    assert rest.agent_rows()[AgentKey(I0, "a1")].state_ms == {(NOT_READY, "break"): 20_000}
    assert day_total(rest).transferred == 1


def test_derive_never_raises_and_gives_none_for_zero_over_zero() -> None:
    empty = derive(QueueCounters())
    for name in (
        "sl_answered",
        "sl_with_abandons",
        "abandon_rate",
        "asa_s",
        "avg_wait_s",
        "longest_wait_s",
        "avg_handle_s",
        "avg_wrap_s",
        "aht_s",
        "fcr",
        "cost_per_contact",
    ):
        assert empty[name] is None, name
    assert empty["cost"] == 0.0
    # Answers of this interval can outnumber its arrivals (a backlog from the previous one).
    backlog = derive(QueueCounters(offered=1, short_abandoned=2, answered=3, answered_in_sl=3))
    assert backlog["sl_answered"] is None
    agent = derive_agent(AgentCounters())
    assert (agent["occupancy"], agent["utilisation"], agent["aht_s"]) == (None, None, None)
    # Handled but nothing completed yet: AHT is the handle time alone.
    assert derive(QueueCounters(handled=2, handle_ms=300_000))["aht_s"] == 150.0


# -- settings ----------------------------------------------------------------------------


def test_settings_from_config() -> None:
    settings = golden_settings()
    assert settings.timezone == "Europe/London"
    assert settings.interval_s == 900 and settings.short_abandon_s == 5.0
    assert settings.resolved_codes == frozenset({"resolved"})
    assert settings.service_level("sales", VOICE) == ServiceLevelTarget(percent=80, threshold_s=20)
    # Not configured: the medium's default.
    assert settings.service_level("sales", CHAT) == ServiceLevelTarget(percent=80, threshold_s=20)
    assert settings.service_level("support", EMAIL) == ServiceLevelTarget(
        percent=90, threshold_s=14400
    )
    assert settings.service_level("nowhere", Medium.FAX) == DEFAULT_SERVICE_LEVELS[Medium.FAX]
    assert settings.cost_per_interaction[VOICE] == 0.20


def test_configured_thresholds_apply_per_queue_and_medium() -> None:
    config = load_config_text(
        dedent(
            """
            queues:
              fast: {service_level: {voice: {percent: 90, threshold_s: 10}}}
              slow: {}
            """
        )
    )
    s = Script()
    s.arrive(0, "f", "fast")
    s.accept(15, "f", "a", "fast")
    s.arrive(0, "s", "slow")
    s.accept(15, "s", "a", "slow")
    fold = fold_of(s.events, settings_from_config(config))
    assert day_total(fold, queue="fast").answered_in_sl == 0  # 15 s > 10 s
    assert day_total(fold, queue="slow").answered_in_sl == 1  # 15 s <= default 20 s


@pytest.mark.parametrize(
    "overrides",
    [{"interval_s": 0}, {"interval_s": 7}, {"short_abandon_s": -1}, {"timezone": "Mars/Olympus"}],
)
def test_invalid_settings_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ReportingSettings(**overrides)


# -- daylight saving ---------------------------------------------------------------------


def london(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_local_day_lengths_around_the_changes() -> None:
    assert len(intervals_of_local_day(date(2025, 10, 26), "Europe/London")) == 100  # 25 h
    assert len(intervals_of_local_day(date(2025, 3, 30), "Europe/London")) == 92  # 23 h
    assert len(intervals_of_local_day(date(2025, 6, 1), "Europe/London")) == 96
    # Nepal (+05:45) and Chatham (+12:45) still fall on UTC quarter-hours.
    kathmandu = intervals_of_local_day(date(2025, 6, 1), "Asia/Kathmandu")
    assert len(kathmandu) == 96
    assert local_day_bounds(date(2025, 6, 1), "Asia/Kathmandu")[0] == kathmandu[0]
    assert len(intervals_of_local_day(date(2025, 6, 1), "Pacific/Chatham")) == 96


def test_interval_report_across_the_october_change() -> None:
    """Europe/London, Sunday 26 October 2025: 01:00-02:00 happens twice (BST, then GMT)."""
    day = date(2025, 10, 26)
    starts = intervals_of_local_day(day, "Europe/London")
    assert local_label(starts[0], "Europe/London") == "2025-10-26T00:00:00+01:00"
    assert local_label(starts[-1], "Europe/London") == "2025-10-26T23:45:00+00:00"
    first_0100 = london("2025-10-26T00:00:00+00:00")  # 01:00 BST
    second_0100 = london("2025-10-26T01:00:00+00:00")  # 01:00 GMT
    assert local_label(first_0100, "Europe/London") == "2025-10-26T01:00:00+01:00"
    assert local_label(second_0100, "Europe/London") == "2025-10-26T01:00:00+00:00"

    settings = plain_settings(timezone="Europe/London")
    s = Script(t0=0.0)
    s.arrive(first_0100 + 600, "bst", "q")  # 01:10 BST
    s.arrive(second_0100 + 600, "gmt", "q")  # 01:10 GMT, one hour later
    s.arrive(london("2025-10-25T23:50:00+01:00"), "yesterday", "q")
    # Not ready from 00:50 BST to 01:10 GMT: 80 minutes, not 20.
    s.agent(london("2025-10-26T00:50:00+01:00"), "a", NOT_READY, "training")
    s.agent(second_0100 + 600, "a", LOGGED_OUT)
    fold = fold_of(s.events, settings)

    report = per_interval(fold.queue_rows(), starts)
    assert len(report) == 100
    offered = {local_label(start, "Europe/London"): c.offered for start, c in report if c.offered}
    assert offered == {"2025-10-26T01:00:00+01:00": 1, "2025-10-26T01:00:00+00:00": 1}

    agent_rows = fold.agent_rows()
    training = {
        local_label(k.interval, "Europe/London"): ms // 1000
        for k, c in agent_rows.items()
        for ms in c.state_ms.values()
    }
    assert training == {
        "2025-10-26T00:45:00+01:00": 600,
        "2025-10-26T01:00:00+01:00": 900,
        "2025-10-26T01:15:00+01:00": 900,
        "2025-10-26T01:30:00+01:00": 900,
        "2025-10-26T01:45:00+01:00": 900,
        "2025-10-26T01:00:00+00:00": 600,
    }
    assert sum(training.values()) == 80 * 60
    start, end = local_day_bounds(day, "Europe/London")
    assert end - start == 25 * 3600


def test_interval_start_is_utc_aligned() -> None:
    assert interval_start(T0) == I0
    assert interval_start(T0 + 899.9994) == I0  # 899.999 s after 09:00
    assert interval_start(T0 + 899.9996) == I1  # rounds to 900.000 s: the next interval
    assert interval_start(T0 - 0.001) == I0 - 900


# -- properties on random, consistent event streams -------------------------------------

QUEUES = ("q1", "q2")
MEDIA = (VOICE, CHAT, EMAIL)
AGENTS = ("a1", "a2", "a3")
START = T0  # the streams run over about three hours from here

durations = st.one_of(
    st.sampled_from([0.0, 0.0004, 0.0005, 4.999, 5.0, 5.001, 19.999, 20.0, 20.001, 900.0]),
    st.floats(min_value=0, max_value=1200, allow_nan=False, allow_infinity=False),
)


@st.composite
def life_cycle(draw: st.DrawFn, iid: str) -> tuple[list[Event], tuple[str, Medium] | None]:
    """One interaction's events, in order; and its (queue, medium) if it is left waiting."""
    t = START + draw(st.floats(min_value=0, max_value=7200))
    created = t
    queue, medium = draw(st.sampled_from(QUEUES)), draw(st.sampled_from(MEDIA))
    out: list[Event] = [
        InteractionCreated(
            at=t, interaction_id=iid, medium=medium, queue=queue, priority=0, created_at=t
        )
    ]
    if draw(st.integers(0, 9)) == 0:
        out.append(
            InteractionRefused(at=t, interaction_id=iid, queue=queue, medium=medium, reason="c")
        )
        return out, None

    def queued(reason: str) -> None:
        out.append(
            InteractionQueued(
                at=t,
                interaction_id=iid,
                queue=queue,
                medium=medium,
                priority=0,
                rank=created,
                reason=reason,
            )
        )

    queued("new")
    visits = draw(st.integers(1, 3))
    for visit in range(visits):
        for _ in range(draw(st.integers(0, 2))):
            agent = draw(st.sampled_from(AGENTS))
            t += draw(durations)
            out.append(
                InteractionOffered(
                    at=t,
                    interaction_id=iid,
                    agent_id=agent,
                    queue=queue,
                    medium=medium,
                    expires_at=t + 20,
                )
            )
            t += draw(durations)
            how = draw(st.sampled_from(["reject", "timeout", "revoke"]))
            if how == "reject":
                out.append(OfferRejected(at=t, interaction_id=iid, agent_id=agent, queue=queue))
            elif how == "timeout":
                out.append(OfferTimedOut(at=t, interaction_id=iid, agent_id=agent, queue=queue))
            else:
                out.append(
                    OfferRevoked(at=t, interaction_id=iid, agent_id=agent, queue=queue, reason="r")
                )
            queued("requeued")
        outcome = draw(st.sampled_from(["answer", "answer", "abandon", "cancel", "wait"]))
        t += draw(durations)
        if outcome == "abandon":
            out.append(
                InteractionAbandoned(
                    at=t, interaction_id=iid, queue=queue, medium=medium, waited_s=t - created
                )
            )
            return out, None
        if outcome == "cancel":
            out.append(InteractionCancelled(at=t, interaction_id=iid, queue=queue, reason="x"))
            return out, None
        if outcome == "wait":
            return out, (queue, medium)
        agent = draw(st.sampled_from(AGENTS))
        out.append(
            OfferAccepted(
                at=t,
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                waited_s=t - created,
            )
        )
        answered = t
        t += draw(durations)
        if visit < visits - 1:
            to_queue = draw(st.sampled_from(QUEUES))
            out.append(
                InteractionTransferred(
                    at=t, interaction_id=iid, from_agent=agent, from_queue=queue, to_queue=to_queue
                )
            )
            queue = to_queue
            queued("transferred")
            continue
        ending = draw(st.sampled_from(["complete", "complete", "talking", "wrapping", "cancel"]))
        if ending == "talking":
            return out, None
        if ending == "cancel":
            out.append(InteractionCancelled(at=t, interaction_id=iid, queue=queue, reason="x"))
            return out, None
        out.append(
            HandlingEnded(
                at=t,
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                handled_s=t - answered,
            )
        )
        if ending == "wrapping":
            return out, None
        wrap = draw(durations)
        t += wrap
        out.append(
            InteractionCompleted(
                at=t,
                interaction_id=iid,
                agent_id=agent,
                queue=queue,
                medium=medium,
                disposition=draw(st.sampled_from([None, "", "resolved", "follow_up"])),
                wrap_up_s=wrap,
            )
        )
        return out, None
    raise AssertionError("unreachable: the last visit always returns")


@st.composite
def agent_day(draw: st.DrawFn, agent: str) -> tuple[list[Event], list[tuple[float, float]]]:
    """An agent's state changes, and the spans they were logged in (the last may be open)."""
    t = START + draw(st.floats(min_value=0, max_value=3600))
    state, since = LOGGED_OUT, 0.0
    out: list[Event] = []
    spans: list[tuple[float, float]] = []
    logged_in_at: float | None = None
    for _ in range(draw(st.integers(0, 8))):
        choices = [s for s in AgentState if s is not state]
        new = draw(st.sampled_from(choices))
        reason = draw(st.sampled_from(["break", "lunch", "missed"])) if new is NOT_READY else ""
        out.append(
            AgentStateChanged(
                at=t, agent_id=agent, old=state, new=new, reason=reason, old_since=since
            )
        )
        if state is LOGGED_OUT:
            logged_in_at = t
        elif new is LOGGED_OUT:
            assert logged_in_at is not None
            spans.append((logged_in_at, t))
            logged_in_at = None
        state, since = new, t
        t += draw(durations)
    if logged_in_at is not None:
        spans.append((logged_in_at, float("inf")))  # still logged in: open
    return out, spans


@st.composite
def streams(draw: st.DrawFn) -> dict[str, Any]:
    """A valid stream: life cycles and agent days interleaved in time order."""
    entities: list[list[Event]] = []
    waiting: dict[tuple[str, Medium], int] = {}
    for n in range(draw(st.integers(0, 8))):
        events, left_waiting = draw(life_cycle(f"i{n}"))
        entities.append(events)
        if left_waiting is not None:
            waiting[left_waiting] = waiting.get(left_waiting, 0) + 1
    spans: dict[str, list[tuple[float, float]]] = {}
    for agent in AGENTS[: draw(st.integers(0, len(AGENTS)))]:
        events, spans[agent] = draw(agent_day(agent))
        entities.append(events)
    merged = sorted(
        ((e.at, i, j, e) for i, events in enumerate(entities) for j, e in enumerate(events)),
        key=lambda x: (x[0], x[1], x[2]),
    )
    return {
        "events": [e for *_, e in merged],
        "entities": entities,
        "waiting": waiting,
        "spans": spans,
    }


def folded(events: Iterable[Event]) -> Fold:
    return fold_of(events, plain_settings())


def entity_of(event: Event) -> str:
    assert isinstance(event, InteractionEvent | AgentEvent)
    return event.interaction_id if isinstance(event, InteractionEvent) else event.agent_id


END = START + 6 * 3600.0


@settings(deadline=None, max_examples=150)
@given(streams(), st.data())
def test_any_chunking_gives_the_same_result(stream: dict[str, Any], data: st.DataObject) -> None:
    events = stream["events"]
    whole = folded(events)
    chunked = Fold(plain_settings())
    i = 0
    while i < len(events):
        size = data.draw(st.integers(1, 5))
        chunked.apply_all(events[i : i + size])
        # Reading between chunks (as the live view does) must not change anything.
        chunked.flush_open_states(events[min(i + size, len(events)) - 1].at)
        chunked.queue_rows()
        i += size
    assert chunked.queue_rows() == whole.queue_rows()
    assert chunked.agent_rows() == whole.agent_rows()
    assert chunked.flush_open_states(END) == whole.flush_open_states(END)


@settings(deadline=None, max_examples=150)
@given(streams(), st.data())
def test_merged_folds_over_consecutive_ranges_equal_one_fold(
    stream: dict[str, Any], data: st.DataObject
) -> None:
    events = stream["events"]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=4)))
    folds = [Fold(plain_settings())]
    for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
        if lo:
            folds.append(folds[-1].fork())
        folds[-1].apply_all(events[lo:hi])
    # Merge in a random order: counters add in any grouping.
    order = data.draw(st.permutations(range(len(folds))))
    total = Fold(plain_settings())
    for index in order:
        total.merge(folds[index])
    whole = folded(events)
    assert total.queue_rows() == whole.queue_rows()
    assert total.agent_rows() == whole.agent_rows()


@settings(deadline=None, max_examples=150)
@given(streams(), st.data())
def test_merged_folds_over_disjoint_entities_equal_one_fold(
    stream: dict[str, Any], data: st.DataObject
) -> None:
    # The fold remembers per interaction and per agent only, so splitting the stream by
    # entity (keeping each entity's order) needs no hand-over at all.
    events = stream["events"]
    entities = sorted({entity_of(e) for e in events})
    chosen = set(data.draw(st.lists(st.sampled_from(entities), unique=True))) if entities else set()
    left = folded(e for e in events if entity_of(e) in chosen)
    right = folded(e for e in events if entity_of(e) not in chosen)
    left.merge(right)
    whole = folded(events)
    assert left.queue_rows() == whole.queue_rows()
    assert left.agent_rows() == whole.agent_rows()


@settings(deadline=None, max_examples=150)
@given(streams())
def test_visits_and_agent_time_add_up(stream: dict[str, Any]) -> None:
    fold = folded(stream["events"])
    rows = fold.queue_rows()
    for queue in QUEUES:
        for medium in MEDIA:
            c = sum_queue_rows(rows, queue=queue, medium=medium)
            still_waiting = stream["waiting"].get((queue, medium), 0)
            assert c.offered == (
                c.answered + c.abandoned + c.short_abandoned + c.cancelled + still_waiting
            )
            assert c.answered_in_sl <= c.answered and c.abandoned_in_sl <= c.abandoned
            assert c.resolved <= c.with_disposition <= c.completed
    # Agent time is cut exactly: per agent it sums to the logged-in time, and no interval
    # holds more than its length.
    flushed = fold.flush_open_states(END)
    for agent, spans in stream["spans"].items():
        expected = sum(round(min(b, END) * 1000) - round(a * 1000) for a, b in spans)
        assert sum(sum(c.state_ms.values()) for k, c in flushed.items() if k.agent == agent) == (
            expected
        )
    assert all(sum(c.state_ms.values()) <= 900_000 for c in flushed.values())
    # Memory holds only interactions that have not ended.
    ended = (
        InteractionCompleted,
        InteractionAbandoned,
        InteractionCancelled,
        InteractionRefused,
    )
    open_ids = {e.interaction_id for e in stream["events"] if isinstance(e, InteractionEvent)} - {
        e.interaction_id for e in stream["events"] if isinstance(e, ended)
    }
    assert fold.open_interactions == len(open_ids)


@settings(deadline=None, max_examples=100)
@given(streams(), st.data())
def test_totals_over_a_range_equal_the_sum_of_its_rows(
    stream: dict[str, Any], data: st.DataObject
) -> None:
    fold = folded(stream["events"])
    start = I0 + 900 * data.draw(st.integers(-1, 12))
    end = start + 900 * data.draw(st.integers(0, 24))
    rows = fold.queue_rows()
    totals = fold.queue_totals(start, end)
    for (queue, medium), counters in totals.items():
        assert counters == sum_queue_rows(rows, queue=queue, medium=medium, start=start, end=end)
    assert (
        sum(c.offered for c in totals.values())
        == sum_queue_rows(rows, start=start, end=end).offered
    )
    flushed = fold.flush_open_states(END)
    for agent, agent_total in fold.agent_totals(start, end, now=END).items():
        assert agent_total == sum_agent_rows(flushed, agent=agent, start=start, end=end)


def test_merge_adds_every_field_and_keeps_the_longest_wait() -> None:
    names = [f.name for f in dataclasses.fields(QueueCounters)]
    a = QueueCounters(**{name: i + 1 for i, name in enumerate(names)})
    b = QueueCounters(**{name: 100 * (i + 1) for i, name in enumerate(names)})
    a.merge(b)
    for i, name in enumerate(names):
        expected = 100 * (i + 1) if name == "wait_max_ms" else 101 * (i + 1)
        assert getattr(a, name) == expected, name
    x = AgentCounters(state_ms={(READY, ""): 1, (NOT_READY, "break"): 2}, handled=1, wrap_ms=5)
    x.merge(AgentCounters(state_ms={(READY, ""): 10}, handled=2, handle_ms=7, completed=1))
    assert x == AgentCounters(
        state_ms={(READY, ""): 11, (NOT_READY, "break"): 2},
        handled=3,
        handle_ms=7,
        completed=1,
        wrap_ms=5,
    )
