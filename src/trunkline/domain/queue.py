"""Queues as configured: ordering mode, offers, wrap-up, escalation and business hours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from trunkline.domain.calendar import ALWAYS_OPEN, BusinessHours
from trunkline.domain.media import Medium


class SelectionStrategy(StrEnum):
    """How to choose among several eligible agents for one interaction."""

    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"
    LEAST_BUSY = "least_busy"


class ClosedAction(StrEnum):
    """What happens to an arrival when the queue's business hours say closed."""

    QUEUE = "queue"  # accept it and let it wait (e-mail usually)
    REJECT = "reject"  # refuse it with a reason the channel can tell the customer
    OVERFLOW = "overflow"  # send it to another queue


class WrapUpMode(StrEnum):
    NONE = "none"  # no wrap-up: the agent is free as soon as handling ends
    TIMED = "timed"  # wrap-up ends by itself after ``seconds`` (or earlier when submitted)
    MANUAL = "manual"  # wrap-up lasts until the agent submits it


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpPolicy:
    mode: WrapUpMode = WrapUpMode.TIMED
    seconds: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationStep:
    """After ``after_s`` seconds in the queue, loosen or widen what the interaction needs.

    Steps are cumulative and applied in order of ``after_s``.
    """

    after_s: float
    lower_skills: Mapping[str, int] = field(default_factory=dict)  # skill -> new minimum
    drop_skills: frozenset[str] = frozenset()
    add_queues: frozenset[str] = frozenset()  # their agents become eligible too
    raise_priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLevelTarget:
    percent: float = 80.0
    threshold_s: float = 20.0


@dataclass(frozen=True, slots=True, kw_only=True)
class WallboardThresholds:
    """When a queue's wallboard tile turns amber (warn) or red (alarm).

    Service level is amber below the target and red below the target minus
    ``service_level_margin_percent`` points.
    """

    waiting_warn: int = 5
    waiting_alarm: int = 15
    longest_wait_warn_s: float = 60.0
    longest_wait_alarm_s: float = 180.0
    service_level_margin_percent: float = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSpec:
    id: str
    name: str = ""
    strict_priority: bool = False
    strategy: SelectionStrategy = SelectionStrategy.LONGEST_IDLE
    offer_timeout_s: float = 20.0
    wrap_up: WrapUpPolicy = field(default_factory=WrapUpPolicy)
    escalation: tuple[EscalationStep, ...] = ()
    hours: BusinessHours = ALWAYS_OPEN
    closed_action: ClosedAction = ClosedAction.REJECT
    closed_overflow_queue: str | None = None
    service_level: Mapping[Medium, ServiceLevelTarget] = field(default_factory=dict)
    # A named-agent transfer waits this long for that agent before the queue takes it.
    transfer_head_start_s: float = 60.0
    wallboard: WallboardThresholds = field(default_factory=WallboardThresholds)
