"""A sans-IO IVR interpreter: one :class:`IvrSession` per call walks a :class:`Flow`.

The session is fed inputs (digits, prompt ends, timers, CRM answers, queue updates, hang-up)
with ``now`` as an argument, and hands back commands for the voice adapter to carry out
(play, enqueue, record, transfer...). It never reads a clock and does no I/O; the adapter
re-arms one timer from :meth:`IvrSession.next_deadline`.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

from trunkline.domain.calendar import BusinessHours
from trunkline.domain.errors import IllegalTransitionError
from trunkline.ivr.model import (
    ANNOUNCE_KEYWORDS,
    CALLER_ID,
    DIALLED,
    DTMF_DIGITS,
    BranchNode,
    CallbackNode,
    CollectNode,
    Condition,
    Flow,
    HangupNode,
    HoursNode,
    IvrConfig,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    QueueNode,
    SetNode,
    SwitchNode,
    TransferNode,
    VoicemailNode,
)

__all__ = [
    "Command",
    "CreateCallback",
    "CreateVoicemail",
    "Enqueue",
    "Hangup",
    "IvrSession",
    "LeaveQueue",
    "LookupCustomer",
    "Outcome",
    "Play",
    "PromptPiece",
    "SayDuration",
    "SayNumber",
    "SessionState",
    "StartHoldMusic",
    "StartRecording",
    "StopHoldMusic",
    "StopPlayback",
    "StopRecording",
    "TransferOut",
]

log = logging.getLogger(__name__)

_N = TypeVar("_N", bound=Node)

# More nodes than this without waiting for anything means a loop that load-time checks
# missed; the call is hung up rather than spun forever.
MAX_STEPS: Final = 1000
# Digits typed ahead are kept up to this many; more are dropped.
MAX_TYPE_AHEAD: Final = 32

# -- commands ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SayNumber:
    """A number read out (queue position)."""

    value: int


@dataclass(frozen=True, slots=True)
class SayDuration:
    """A duration read out in minutes and seconds (expected wait)."""

    seconds: float


PromptPiece = str | SayNumber | SayDuration


@dataclass(frozen=True, slots=True, kw_only=True)
class Play:
    pieces: tuple[PromptPiece, ...]
    interruptible: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPlayback:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupCustomer:
    by: Literal["account", "caller_id"]
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueue:
    queue: str
    skills: Mapping[str, int]
    priority: int
    data: Mapping[str, Any]
    customer: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveQueue:
    reason: str  # "abandoned", "callback", "voicemail"


@dataclass(frozen=True, slots=True, kw_only=True)
class StartHoldMusic:
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StopHoldMusic:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCallback:
    number: str
    queue: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRecording:
    recording_id: str  # the adapter maps it to the file it writes
    max_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRecording:
    recording_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateVoicemail:
    recording_id: str
    duration_s: float
    queue: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferOut:
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup:
    reason: str


Command = (
    Play
    | StopPlayback
    | LookupCustomer
    | Enqueue
    | LeaveQueue
    | StartHoldMusic
    | StopHoldMusic
    | CreateCallback
    | StartRecording
    | StopRecording
    | CreateVoicemail
    | TransferOut
    | Hangup
)

# -- states ------------------------------------------------------------------------------


class SessionState(enum.Enum):
    IDLE = "idle"  # created, not started
    RUNNING = "running"  # walking nodes that need nothing from outside (never seen between inputs)
    PLAYING = "playing"  # waiting for prompt_finished
    WAITING_INPUT = "waiting_input"  # menu or collect waiting for digits, with a deadline
    LOOKING_UP = "looking_up"  # waiting for the CRM
    IN_QUEUE = "in_queue"
    RECORDING = "recording"
    FINISHED = "finished"


_S = SessionState
_TRANSITIONS: Final[Mapping[SessionState, frozenset[SessionState]]] = {
    _S.IDLE: frozenset({_S.RUNNING, _S.FINISHED}),
    _S.RUNNING: frozenset(
        {_S.PLAYING, _S.WAITING_INPUT, _S.LOOKING_UP, _S.IN_QUEUE, _S.RECORDING, _S.FINISHED}
    ),
    _S.PLAYING: frozenset({_S.RUNNING, _S.WAITING_INPUT, _S.RECORDING, _S.FINISHED}),
    _S.WAITING_INPUT: frozenset({_S.PLAYING, _S.RUNNING, _S.FINISHED}),
    _S.LOOKING_UP: frozenset({_S.RUNNING, _S.FINISHED}),
    _S.IN_QUEUE: frozenset({_S.RUNNING, _S.FINISHED}),
    _S.RECORDING: frozenset({_S.RUNNING, _S.FINISHED}),
    _S.FINISHED: frozenset(),
}


class Outcome(enum.Enum):
    ANSWERED = "answered"  # an agent took the queued call: the adapter bridges it
    TRANSFERRED = "transferred"
    HUNG_UP = "hung_up"  # the flow hung up (hangup node, after callback or voicemail)
    CALLER_HUNG_UP = "caller_hung_up"


class _Phase(enum.Enum):
    """What the current node is doing; the state says what the session waits for."""

    NONE = enum.auto()
    PLAY = enum.auto()
    MENU_PROMPT = enum.auto()
    MENU_WAIT = enum.auto()
    COLLECT_PROMPT = enum.auto()
    COLLECT_WAIT = enum.auto()
    LOOKUP = enum.auto()
    QUEUE = enum.auto()
    QUEUE_CONFIRM = enum.auto()  # callback confirmed from the queue; hang up after it
    CALLBACK_CONFIRM = enum.auto()
    VOICEMAIL_PROMPT = enum.auto()
    RECORDING = enum.auto()


@dataclass(slots=True)
class _QueueWait:
    """The bookkeeping of one stay in a queue."""

    queue: str
    entered_at: float
    next_announce: float | None
    offer_at: float | None
    offered: bool
    announcing: bool = False
    position: int | None = None
    expected_wait_s: float | None = None


@dataclass(slots=True)
class _Attributes:
    """What set nodes chose for the interaction the call becomes."""

    queue: str | None = None
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = 0
    data: dict[str, Any] = field(default_factory=dict)


class IvrSession:
    """One call's walk through a flow.

    Feed it inputs, then drain :meth:`pending_commands` and re-arm a timer for
    :meth:`next_deadline`. A finished session ignores every input and emits nothing more.
    Switches (emergency "closed" flags) are read when a switch node is reached, so a flip
    affects calls that reach the node afterwards, not calls already past it.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        caller_id: str,
        dialled: str,
        now: float,
        calendars: Mapping[str, BusinessHours] = MappingProxyType({}),
        switches: Mapping[str, bool] | None = None,
        call_id: str = "call",
    ) -> None:
        self.flow = flow
        self.caller_id = caller_id
        self.dialled = dialled
        self.created_at = now
        self.call_id = call_id
        self._calendars = calendars
        self._switches: dict[str, bool] = dict(switches or {})
        self._state = SessionState.IDLE
        self._outcome: Outcome | None = None
        self._commands: deque[Command] = deque()
        self._deadline: float | None = None
        self._node_name = flow.start
        self._phase = _Phase.NONE
        self._buffer: list[str] = []  # digits typed ahead of the menu/collect that takes them
        self._attempts = 0
        self._digits = ""  # collected so far by a collect node
        self._variables: dict[str, Any] = {}
        self._customer: dict[str, Any] = {}
        self._attrs = _Attributes()
        self._wait: _QueueWait | None = None
        self._recording_id = ""
        self._recording_started = 0.0
        self._recordings = 0

    @classmethod
    def for_number(
        cls,
        config: IvrConfig,
        *,
        dialled: str,
        caller_id: str,
        now: float,
        switches: Mapping[str, bool] | None = None,
        call_id: str = "call",
    ) -> IvrSession:
        """A session on the flow attached to ``dialled`` (:class:`UnknownNumberError`)."""
        return cls(
            config.flow_for(dialled),
            caller_id=caller_id,
            dialled=dialled,
            now=now,
            calendars=config.calendars,
            switches=switches,
            call_id=call_id,
        )

    # -- observation ---------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    @property
    def node(self) -> str:
        """The node the session is at (the last one, once finished)."""
        return self._node_name

    @property
    def variables(self) -> Mapping[str, Any]:
        return MappingProxyType(self._variables)

    @property
    def finished(self) -> bool:
        return self._state is SessionState.FINISHED

    def next_deadline(self) -> float | None:
        return self._deadline

    def pending_commands(self) -> list[Command]:
        """Every command not yet taken, oldest first."""
        out = list(self._commands)
        self._commands.clear()
        return out

    def next_command(self) -> Command | None:
        return self._commands.popleft() if self._commands else None

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> None:
        if self._state is not SessionState.IDLE:
            return
        self._goto(self.flow.start, now)

    def set_switch(self, name: str, on: bool, now: float) -> None:
        self._switches[name] = on

    def digit(self, d: str, now: float) -> None:
        if d not in DTMF_DIGITS:
            log.debug("ignoring non-DTMF symbol %r", d)
            return
        if self._state in (SessionState.IDLE, SessionState.FINISHED):
            return
        phase = self._phase
        if phase in (_Phase.MENU_PROMPT, _Phase.COLLECT_PROMPT):
            self._barge_in(d, now)
        elif phase is _Phase.MENU_WAIT:
            self._menu_digit(d, now)
        elif phase is _Phase.COLLECT_WAIT:
            self._collect_digit(d, now)
        elif phase is _Phase.PLAY:
            node = self._current(PlayNode)
            if node.interruptible:
                self._commands.append(StopPlayback())
                self._type_ahead(d)
                self._goto(node.next, now)
        elif phase is _Phase.LOOKUP:
            self._type_ahead(d)
        elif phase is _Phase.QUEUE:
            self._queue_digit(d, now)
        elif phase is _Phase.VOICEMAIL_PROMPT:
            self._commands.append(StopPlayback())
            self._start_recording(now)
        elif phase is _Phase.RECORDING:
            if d == self._current(VoicemailNode).finish_key:
                self._commands.append(StopRecording(recording_id=self._recording_id))
                self._voicemail_done(now - self._recording_started, now)
        # Confirmation prompts (callback) are not interruptible: digits are dropped.

    def prompt_finished(self, now: float) -> None:
        """The last :class:`Play` ended by itself.

        Not for playback ended by :class:`StopPlayback`: prompts carry no id, so a late
        report of a stopped prompt would be taken for the end of the one that followed it.
        """
        phase = self._phase
        if self._state is not SessionState.PLAYING and phase is not _Phase.QUEUE:
            return
        if phase is _Phase.PLAY:
            self._goto(self._current(PlayNode).next, now)
        elif phase is _Phase.MENU_PROMPT:
            self._wait_for_digits(_Phase.MENU_WAIT, self._current(MenuNode).timeout_s, now)
        elif phase is _Phase.COLLECT_PROMPT:
            self._wait_for_digits(_Phase.COLLECT_WAIT, self._current(CollectNode).timeout_s, now)
        elif phase is _Phase.VOICEMAIL_PROMPT:
            self._start_recording(now)
        elif phase is _Phase.CALLBACK_CONFIRM:
            self._after_callback(now)
        elif phase is _Phase.QUEUE_CONFIRM:
            self._hang_up("callback", now)
        elif phase is _Phase.QUEUE and self._wait is not None and self._wait.announcing:
            self._wait.announcing = False
            hold_music = self._current(QueueNode).hold_music
            if hold_music:
                self._commands.append(StartHoldMusic(name=hold_music))
            self._deadline = self._queue_deadline()

    def handle_timer(self, now: float) -> None:
        if self._deadline is None or now < self._deadline or self.finished:
            return
        phase = self._phase
        if phase is _Phase.MENU_WAIT:
            self._menu_failed(no_input=True, now=now)
        elif phase is _Phase.COLLECT_WAIT:
            node = self._current(CollectNode)
            if len(self._digits) >= node.min:
                self._collect_done(now)  # enough digits and no terminator: accept them
            else:
                self._collect_failed(no_input=not self._digits, now=now)
        elif phase is _Phase.LOOKUP:
            log.info("CRM lookup timed out at node %s", self._node_name)
            self._goto(self._current(LookupNode).not_found, now)
        elif phase is _Phase.QUEUE:
            self._queue_timer(now)
        elif phase is _Phase.RECORDING:
            self._commands.append(StopRecording(recording_id=self._recording_id))
            self._voicemail_done(self._current(VoicemailNode).max_s, now)
        else:
            self._deadline = None

    timer = handle_timer

    def lookup_result(self, found: bool, customer: Mapping[str, Any] | None, now: float) -> None:
        if self._phase is not _Phase.LOOKUP or self.finished:
            return
        node = self._current(LookupNode)
        if found:
            self._customer = dict(customer or {})
            for key, value in _flatten(self._customer, "customer"):
                self._variables[key] = value
            self._goto(node.found, now)
        else:
            self._goto(node.not_found, now)

    def recording_finished(self, duration_s: float, now: float) -> None:
        """The adapter stopped the recording on its own (silence, end of file, max length)."""
        if self._phase is not _Phase.RECORDING or self.finished:
            return
        max_s = self._current(VoicemailNode).max_s
        self._voicemail_done(max(0.0, min(duration_s, max_s)), now)

    def queue_update(self, position: int, expected_wait_s: float | None, now: float) -> None:
        if self._phase is _Phase.QUEUE and self._wait is not None:
            self._wait.position = position
            self._wait.expected_wait_s = expected_wait_s

    def answered_by_agent(self, now: float) -> None:
        if self._phase is not _Phase.QUEUE or self._wait is None:
            return
        if self._wait.announcing:
            self._commands.append(StopPlayback())
        elif self._current(QueueNode).hold_music:
            self._commands.append(StopHoldMusic())
        self._finish(Outcome.ANSWERED)

    def caller_hung_up(self, now: float) -> None:
        if self.finished:
            return
        if self._phase is _Phase.QUEUE:
            self._commands.append(LeaveQueue(reason="abandoned"))
        elif self._phase is _Phase.RECORDING:
            # The message so far is kept: a caller who hangs up to end it is the usual case.
            self._commands.append(StopRecording(recording_id=self._recording_id))
            self._create_voicemail(now - self._recording_started)
        self._finish(Outcome.CALLER_HUNG_UP)

    # -- walking -------------------------------------------------------------------------

    def _set_state(self, new: SessionState) -> None:
        old = self._state
        if new is old:
            return
        if new not in _TRANSITIONS[old]:
            raise IllegalTransitionError(f"IVR session cannot go from {old.value} to {new.value}")
        log.debug("%s -> %s", old.value, new.value)
        self._state = new

    def _finish(self, outcome: Outcome) -> None:
        self._set_state(SessionState.FINISHED)
        self._outcome = outcome
        self._phase = _Phase.NONE
        self._deadline = None
        self._wait = None
        self._buffer.clear()

    def _hang_up(self, reason: str, now: float) -> None:
        self._commands.append(Hangup(reason=reason))
        self._finish(Outcome.HUNG_UP)

    def _current(self, kind: type[_N]) -> _N:
        node = self.flow.nodes[self._node_name]
        assert isinstance(node, kind), f"node {self._node_name} is not a {kind.__name__}"
        return node

    def _goto(self, name: str, now: float) -> None:
        """Enter ``name`` and keep walking until a node waits for something or the call ends."""
        target: str | None = name
        steps = 0
        while target is not None:
            steps += 1
            if steps > MAX_STEPS:
                log.error("IVR flow %s loops without input at %s", self.flow.name, target)
                self._hang_up("flow_loop", now)
                return
            self._set_state(SessionState.RUNNING)
            self._node_name = target
            self._phase = _Phase.NONE
            self._deadline = None
            target = self._enter(self.flow.nodes[target], now)

    def _enter(self, node: Node, now: float) -> str | None:
        """Start ``node``; return the node to go on to at once, or ``None`` to wait."""
        match node:
            case PlayNode():
                self._play(node.prompts, node.interruptible, _Phase.PLAY)
                return None
            case MenuNode():
                self._attempts = 0
                if self._buffer:
                    return self._menu_choice(self._buffer.pop(0), now)
                self._prompt_then_wait(node.prompt, _Phase.MENU_PROMPT, node.timeout_s, now)
                return None
            case CollectNode():
                self._attempts = 0
                self._digits = ""
                if self._buffer:
                    # Typed ahead: the caller knows what to enter, so skip the prompt.
                    self._wait_for_digits(_Phase.COLLECT_WAIT, node.timeout_s, now)
                    self._drain_buffer(now)
                else:
                    self._prompt_then_wait(node.prompt, _Phase.COLLECT_PROMPT, node.timeout_s, now)
                return None
            case LookupNode():
                return self._lookup(node, now)
            case SetNode():
                self._apply_set(node)
                return node.next
            case HoursNode():
                calendar = self._calendars.get(node.calendar)
                if calendar is None:
                    # A session built without the config's calendars: say so, assume open.
                    log.warning("unknown calendar %s: treating it as open", node.calendar)
                    return node.open
                return node.open if calendar.is_open(now) else node.closed
            case SwitchNode():
                return node.on if self._switches.get(node.name, False) else node.off
            case BranchNode():
                for case in node.cases:
                    if all(self._holds(c) for c in case.conditions):
                        return case.then
                return node.otherwise
            case QueueNode():
                self._buffer.clear()
                self._enqueue(node, now)
                return None
            case CallbackNode():
                self._buffer.clear()
                return self._callback(node, now)
            case VoicemailNode():
                self._buffer.clear()
                if node.prompt:
                    self._play(node.prompt, True, _Phase.VOICEMAIL_PROMPT)
                else:
                    self._start_recording(now)
                return None
            case TransferNode():
                self._commands.append(TransferOut(number=node.to))
                self._finish(Outcome.TRANSFERRED)
                return None
            case HangupNode():
                self._hang_up(node.reason, now)
                return None

    def _play(self, pieces: tuple[PromptPiece, ...], interruptible: bool, phase: _Phase) -> None:
        self._commands.append(Play(pieces=pieces, interruptible=interruptible))
        self._set_state(SessionState.PLAYING)
        self._phase = phase

    def _prompt_then_wait(
        self, pieces: tuple[PromptPiece, ...], phase: _Phase, timeout_s: float, now: float
    ) -> None:
        """Play ``pieces`` (interruptible), or wait for digits at once if there are none."""
        if pieces:
            self._play(pieces, True, phase)
            self._deadline = None
        else:
            wait = _Phase.MENU_WAIT if phase is _Phase.MENU_PROMPT else _Phase.COLLECT_WAIT
            self._wait_for_digits(wait, timeout_s, now)

    def _wait_for_digits(self, phase: _Phase, timeout_s: float, now: float) -> None:
        self._set_state(SessionState.WAITING_INPUT)
        self._phase = phase
        self._deadline = now + timeout_s

    def _type_ahead(self, d: str) -> None:
        if len(self._buffer) < MAX_TYPE_AHEAD:
            self._buffer.append(d)

    def _barge_in(self, d: str, now: float) -> None:
        """A digit during an interruptible menu or collect prompt: stop it, count the digit."""
        self._commands.append(StopPlayback())
        if self._phase is _Phase.MENU_PROMPT:
            node = self._current(MenuNode)
            self._wait_for_digits(_Phase.MENU_WAIT, node.timeout_s, now)
            self._menu_digit(d, now)
        else:
            collect = self._current(CollectNode)
            self._wait_for_digits(_Phase.COLLECT_WAIT, collect.timeout_s, now)
            self._collect_digit(d, now)

    # -- menu ----------------------------------------------------------------------------

    def _menu_digit(self, d: str, now: float) -> None:
        target = self._menu_choice(d, now)
        if target is not None:
            self._goto(target, now)

    def _menu_choice(self, d: str, now: float) -> str | None:
        node = self._current(MenuNode)
        target = node.options.get(d)
        if target is not None:
            return target
        return self._menu_failed(no_input=False, now=now, defer=True)

    def _menu_failed(self, *, no_input: bool, now: float, defer: bool = False) -> str | None:
        """Count a failed attempt; re-prompt, or leave by ``on_fail``.

        With ``defer`` the node to go on to is returned rather than entered (the caller is
        already inside :meth:`_goto`'s loop or about to call it).
        """
        node = self._current(MenuNode)
        self._attempts += 1
        self._buffer.clear()  # after a wrong key, typed-ahead digits are not trusted
        if self._attempts > node.retries:
            return self._leave_failed(node.on_fail, "menu_failed", now, defer)
        pieces = (*(node.no_input if no_input else node.invalid), *node.prompt)
        self._prompt_then_wait(pieces, _Phase.MENU_PROMPT, node.timeout_s, now)
        return None

    def _leave_failed(
        self, on_fail: str | None, reason: str, now: float, defer: bool
    ) -> None | str:
        if on_fail is None:
            self._hang_up(reason, now)
            return None
        if defer:
            return on_fail
        self._goto(on_fail, now)
        return None

    # -- collect -------------------------------------------------------------------------

    def _drain_buffer(self, now: float) -> None:
        """Feed typed-ahead digits to the collect node just entered, until it is done."""
        entered = self._node_name
        while self._buffer and self._phase is _Phase.COLLECT_WAIT and self._node_name == entered:
            self._collect_digit(self._buffer.pop(0), now)

    def _collect_digit(self, d: str, now: float) -> None:
        node = self._current(CollectNode)
        if d == node.terminator:
            if len(self._digits) >= node.min:
                self._collect_done(now)
            else:
                self._collect_failed(no_input=not self._digits, now=now)
            return
        self._digits += d
        if len(self._digits) >= node.max:
            self._collect_done(now)
        else:
            self._deadline = now + node.timeout_s  # the inter-digit timeout restarts

    def _collect_done(self, now: float) -> None:
        node = self._current(CollectNode)
        self._variables[node.into] = self._digits
        self._digits = ""
        self._goto(node.next, now)

    def _collect_failed(self, *, no_input: bool, now: float) -> None:
        node = self._current(CollectNode)
        self._attempts += 1
        self._digits = ""
        self._buffer.clear()
        if self._attempts > node.retries:
            self._leave_failed(node.on_fail, "collect_failed", now, defer=False)
            return
        pieces = (*(node.no_input if no_input else node.invalid), *node.prompt)
        self._prompt_then_wait(pieces, _Phase.COLLECT_PROMPT, node.timeout_s, now)

    # -- lookup, set, branch -------------------------------------------------------------

    def _lookup(self, node: LookupNode, now: float) -> str | None:
        by_caller = node.by == CALLER_ID
        value = self.caller_id if by_caller else str(self._variables.get(node.by, ""))
        if not value:
            return node.not_found
        self._commands.append(
            LookupCustomer(by="caller_id" if by_caller else "account", value=value)
        )
        self._set_state(SessionState.LOOKING_UP)
        self._phase = _Phase.LOOKUP
        self._deadline = now + node.timeout_s
        return None

    def _apply_set(self, node: SetNode) -> None:
        if node.queue is not None:
            self._attrs.queue = node.queue
        self._attrs.skills.update(node.skills)
        if node.priority is not None:
            self._attrs.priority = node.priority
        self._attrs.data.update(node.data)
        self._variables.update(node.vars)

    def _value(self, name: str) -> Any:
        if name == CALLER_ID:
            return self.caller_id
        if name == DIALLED:
            return self.dialled
        return self._variables.get(name)

    def _holds(self, condition: Condition) -> bool:
        value = self._value(condition.var)
        if value is None:
            return False  # a missing fact satisfies no test, not even "not equal"
        # Digits are collected as text and YAML may write 123 as a number: compare as text.
        match = any(_same(value, v) for v in condition.values)
        return match if condition.op in ("eq", "in") else not match

    def _interaction_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {CALLER_ID: self.caller_id, DIALLED: self.dialled}
        data.update(self._attrs.data)
        data.update({k: v for k, v in self._variables.items() if not k.startswith("customer.")})
        return data

    # -- queue ---------------------------------------------------------------------------

    def _enqueue(self, node: QueueNode, now: float) -> None:
        queue = node.name or self._attrs.queue or "default"
        self._commands.append(
            Enqueue(
                queue=queue,
                skills=MappingProxyType(dict(self._attrs.skills)),
                priority=self._attrs.priority,
                data=MappingProxyType(self._interaction_data()),
                customer=MappingProxyType(dict(self._customer)),
            )
        )
        if node.hold_music:
            self._commands.append(StartHoldMusic(name=node.hold_music))
        every = node.announce_every_s if node.announce else None
        # Without a caller id there is no number to call back: no offer, key ignored.
        can_call_back = node.callback_key is not None and bool(self.caller_id)
        offer_at = None
        if can_call_back and node.offer_callback_after_s is not None:
            offer_at = now + node.offer_callback_after_s
        self._wait = _QueueWait(
            queue=queue,
            entered_at=now,
            next_announce=now + every if every else None,
            offer_at=offer_at,
            offered=can_call_back and offer_at is None,
        )
        self._set_state(SessionState.IN_QUEUE)
        self._phase = _Phase.QUEUE
        self._deadline = self._queue_deadline()

    def _queue_deadline(self) -> float | None:
        wait = self._wait
        if wait is None or wait.announcing:
            return None  # re-armed when the announcement ends
        due = [t for t in (wait.next_announce, wait.offer_at) if t is not None]
        return min(due) if due else None

    def _queue_timer(self, now: float) -> None:
        wait = self._wait
        if wait is None:
            return
        node = self._current(QueueNode)
        pieces: list[PromptPiece] = []
        if wait.next_announce is not None and wait.next_announce <= now:
            pieces.extend(self._announcement(node, wait))
            every = node.announce_every_s or 0.0
            wait.next_announce += every
            if wait.next_announce <= now:  # the timer came late: do not announce in a burst
                wait.next_announce = now + every
        if wait.offer_at is not None and wait.offer_at <= now:
            wait.offer_at = None
            wait.offered = True
            pieces.extend(node.offer)
        if pieces:
            if node.hold_music:
                self._commands.append(StopHoldMusic())
            self._commands.append(Play(pieces=tuple(pieces), interruptible=True))
            wait.announcing = True
        self._deadline = self._queue_deadline()

    def _announcement(self, node: QueueNode, wait: _QueueWait) -> list[PromptPiece]:
        pieces: list[PromptPiece] = []
        for item in node.announce:
            if item == "position":
                if wait.position is not None:
                    pieces += [ANNOUNCE_KEYWORDS[item], SayNumber(wait.position)]
            elif item == "expected_wait":
                if wait.expected_wait_s is not None:
                    pieces += [ANNOUNCE_KEYWORDS[item], SayDuration(wait.expected_wait_s)]
            else:
                pieces.append(item)
        if _needs_figures(node) and all(isinstance(p, str) for p in pieces):
            return []  # no queue_update yet: stay silent rather than say half a sentence
        return pieces

    def _queue_digit(self, d: str, now: float) -> None:
        wait = self._wait
        node = self._current(QueueNode)
        if wait is None:
            return
        if d == node.callback_key and wait.offered:
            self._leave_queue(wait, node, "callback")
            data = MappingProxyType(self._interaction_data())
            self._commands.append(
                CreateCallback(number=self.caller_id, queue=wait.queue, data=data)
            )
            if node.callback_confirm:
                self._play(node.callback_confirm, False, _Phase.QUEUE_CONFIRM)
                self._deadline = None
            else:
                self._hang_up("callback", now)
        elif d == node.voicemail_key and node.voicemail is not None:
            self._leave_queue(wait, node, "voicemail")
            self._goto(node.voicemail, now)

    def _leave_queue(self, wait: _QueueWait, node: QueueNode, reason: str) -> None:
        if wait.announcing:
            self._commands.append(StopPlayback())
        elif node.hold_music:
            self._commands.append(StopHoldMusic())
        self._commands.append(LeaveQueue(reason=reason))
        self._wait = None
        self._set_state(SessionState.RUNNING)

    # -- callback and voicemail ----------------------------------------------------------

    def _callback(self, node: CallbackNode, now: float) -> str | None:
        number = self.caller_id if node.number == CALLER_ID else self._variables.get(node.number)
        if not number:
            if node.on_fail is None:
                self._hang_up("no_callback_number", now)
                return None
            return node.on_fail
        queue = node.queue or self._attrs.queue or "default"
        data = MappingProxyType(self._interaction_data())
        self._commands.append(CreateCallback(number=str(number), queue=queue, data=data))
        if node.prompt:
            self._play(node.prompt, False, _Phase.CALLBACK_CONFIRM)
            return None
        return self._continue_or_hang_up(node.next, "callback", now)

    def _after_callback(self, now: float) -> None:
        target = self._continue_or_hang_up(self._current(CallbackNode).next, "callback", now)
        if target is not None:
            self._goto(target, now)

    def _continue_or_hang_up(self, target: str | None, reason: str, now: float) -> str | None:
        if target is None:
            self._hang_up(reason, now)
        return target

    def _start_recording(self, now: float) -> None:
        node = self._current(VoicemailNode)
        self._recordings += 1
        self._recording_id = f"{self.call_id}-vm{self._recordings}"
        self._recording_started = now
        self._commands.append(StartRecording(recording_id=self._recording_id, max_s=node.max_s))
        self._set_state(SessionState.RECORDING)
        self._phase = _Phase.RECORDING
        self._deadline = now + node.max_s

    def _create_voicemail(self, duration_s: float) -> None:
        node = self._current(VoicemailNode)
        self._commands.append(
            CreateVoicemail(
                recording_id=self._recording_id,
                duration_s=duration_s,
                queue=node.queue or self._attrs.queue or "default",
                data=MappingProxyType(self._interaction_data()),
            )
        )

    def _voicemail_done(self, duration_s: float, now: float) -> None:
        self._create_voicemail(duration_s)
        self._set_state(SessionState.RUNNING)
        target = self._continue_or_hang_up(self._current(VoicemailNode).next, "voicemail", now)
        if target is not None:
            self._goto(target, now)


def _needs_figures(node: QueueNode) -> bool:
    return any(item in ANNOUNCE_KEYWORDS for item in node.announce)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return str(a) == str(b)


def _flatten(facts: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    """``{"address": {"city": "Leeds"}}`` -> ``customer.address.city``, for branch tests."""
    out: list[tuple[str, Any]] = []
    for key, value in facts.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, name))
        else:
            out.append((name, value))
    return out
