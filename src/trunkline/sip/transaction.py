"""RFC 3261 §17 transactions: the four state machines, their timers and their keys, sans-IO.

Each transaction is fed messages and the current time, appends what it sends to an outbox
list, and says through :meth:`next_deadline` when it next needs the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, NamedTuple

from trunkline.sip.errors import LocalProtocolError, SipError
from trunkline.sip.headers import Headers
from trunkline.sip.message import Request, Response, make_response

_log = logging.getLogger(__name__)

# RFC 3261 §8.1.1.7: a branch that starts with this cookie was built by an RFC 3261 element
# and is unique across space and time, so it alone (with sent-by and method) is the key.
MAGIC_COOKIE = "z9hG4bK"
# Transports that retransmit by themselves; SIP timers that exist only to cover loss are off
# there (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
RELIABLE_TRANSPORTS = frozenset({"tcp", "tls", "sctp", "ws", "wss"})

Address = tuple[str, int]
Datagram = tuple[bytes, Address, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerSettings:
    """T1, T2 and T4 of RFC 3261 §17.1.1.1 and table 4, and the 200 ms of §17.2.1."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0
    trying_delay: float = 0.2
    # RFC 3261 gives a UA's INVITE client transaction no limit once a provisional response
    # has come; a peer that rings forever (or lost its state) would pin it for good. Like a
    # proxy's Timer C (§16.6 step 11: more than 3 minutes, restarted by each provisional),
    # this ends it with a timeout. ``None`` waits forever, as the RFC's UA does.
    timer_c: float | None = 180.0

    def __post_init__(self) -> None:
        if (
            not 0 < self.t1 <= self.t2
            or self.t4 <= 0
            or self.trying_delay < 0
            or (self.timer_c is not None and self.timer_c <= 0)
        ):
            raise ValueError(f"bad SIP timer settings: {self!r}")

    @property
    def timeout(self) -> float:
        """64·T1: Timers B, F, H, J (unreliable), L and M."""
        return 64 * self.t1


DEFAULT_TIMERS = TimerSettings()


class TransactionError(LocalProtocolError):
    """The TU asked a transaction for something its state does not allow."""

    error_id = "sip_transaction_state"


class UnknownTransactionError(SipError, LookupError):
    """No transaction has this key (it never existed or has terminated)."""

    error_id = "sip_unknown_transaction"


class ClientTransactionKey(NamedTuple):
    """RFC 3261 §17.1.3: a response matches by the top Via branch and the CSeq method."""

    branch: str
    method: str


class ServerTransactionKey(NamedTuple):
    """RFC 3261 §17.2.3: branch, sent-by of the top Via, and method (ACK counts as INVITE).

    CANCEL keeps its own method, so it gets a transaction of its own with the INVITE's
    branch (§9.2). The RFC 2543 fallback (matching on Request-URI, tags, Call-ID, CSeq and
    the whole Via) is not implemented: the endpoint refuses requests without a branch.
    """

    branch: str
    sent_by: str
    method: str


def client_key_of(response: Response) -> ClientTransactionKey | None:
    branch = response.top_via.branch
    if branch is None:
        return None
    return ClientTransactionKey(branch, response.cseq.method)


def server_key_of(request: Request) -> ServerTransactionKey | None:
    via = request.top_via
    if via.branch is None:
        return None
    method = "INVITE" if request.method == "ACK" else request.method
    return ServerTransactionKey(via.branch, via.sent_by, method)


class Input(Enum):
    """What a transaction reacts to: a message class or one of its timers."""

    PROVISIONAL = "1xx"
    SUCCESS = "2xx"
    FAILURE = "3xx-6xx"
    REQUEST = "request retransmission"
    ACK = "ACK"
    TRYING = "200 ms timer"  # §17.2.1
    RETRANSMIT = "retransmit timer"  # A, E, G
    TIMEOUT = "timeout timer"  # B, F, H
    WAIT = "wait timer"  # D, I, J, K, L, M


def _status_input(status: int) -> Input:
    if status < 200:
        return Input.PROVISIONAL
    if status < 300:
        return Input.SUCCESS
    return Input.FAILURE


class _Transaction:
    """Shared machinery: the table-driven state, the three timers and the outbox.

    ``armed`` belongs to the owner of the timer heap: the deadline it has an entry for.
    """

    __slots__ = (
        "request",
        "destination",
        "transport",
        "reliable",
        "settings",
        "state",
        "armed",
        "_outbox",
        "_interval",
        "_retransmit_at",
        "_timeout_at",
        "_wait_at",
    )

    _table: ClassVar[Mapping[tuple[Enum, Input], Enum]]
    _terminated: ClassVar[Enum]
    state: Enum

    def __init__(
        self,
        request: Request,
        destination: Address,
        transport: str,
        settings: TimerSettings,
        outbox: list[Datagram],
    ) -> None:
        self.request = request
        self.destination = destination
        self.transport = transport
        self.reliable = transport in RELIABLE_TRANSPORTS
        self.settings = settings
        self.armed: float | None = None
        self._outbox = outbox
        self._interval = settings.t1
        self._retransmit_at: float | None = None
        self._timeout_at: float | None = None
        self._wait_at: float | None = None

    @property
    def terminated(self) -> bool:
        return self.state is self._terminated

    def next_deadline(self) -> float | None:
        """The earliest pending timer, ``None`` if none is running."""
        best: float | None = None
        for deadline in (self._retransmit_at, self._timeout_at, self._wait_at):
            if deadline is not None and (best is None or deadline < best):
                best = deadline
        return best

    def _step(self, event: Input) -> bool:
        """Apply ``event``; ``False`` (and no change) when the table has no entry for it."""
        new = self._table.get((self.state, event))
        if new is None:
            return False
        if new is not self.state:
            _log.debug("%s -> %s", self.state, new)
            self.state = new
            if new is self._terminated:
                self._retransmit_at = self._timeout_at = self._wait_at = None
        return True

    def _send(self, data: bytes) -> None:
        self._outbox.append((data, self.destination, self.transport))

    def _start_wait(self, now: float, duration: float) -> None:
        if duration <= 0:
            # A zero timer (reliable transports) ends the transaction at once.
            self._step(Input.WAIT)
        else:
            self._wait_at = now + duration

    def _next_retransmit(self, now: float, cap: float | None) -> None:
        # Scheduled from the previous deadline, not from `now`, so that a late wake-up does
        # not stretch the whole schedule; a very late one restarts it from `now`.
        interval = self._interval * 2
        if cap is not None and interval > cap:
            interval = cap
        self._interval = interval
        base = self._retransmit_at if self._retransmit_at is not None else now
        deadline = base + interval
        self._retransmit_at = deadline if deadline > now else now + interval

    def _due(self, deadline: float | None, now: float) -> bool:
        return deadline is not None and deadline <= now


# -- client transactions -------------------------------------------------------------------


class InviteClientState(Enum):
    CALLING = "Calling"
    PROCEEDING = "Proceeding"
    ACCEPTED = "Accepted"  # RFC 6026 §7.2
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


_IC = InviteClientState
_INVITE_CLIENT_TABLE: dict[tuple[Enum, Input], Enum] = {
    (_IC.CALLING, Input.RETRANSMIT): _IC.CALLING,
    (_IC.CALLING, Input.TIMEOUT): _IC.TERMINATED,
    (_IC.CALLING, Input.PROVISIONAL): _IC.PROCEEDING,
    (_IC.PROCEEDING, Input.PROVISIONAL): _IC.PROCEEDING,
    (_IC.PROCEEDING, Input.TIMEOUT): _IC.TERMINATED,  # our Timer C, see TimerSettings
    (_IC.CALLING, Input.SUCCESS): _IC.ACCEPTED,
    (_IC.PROCEEDING, Input.SUCCESS): _IC.ACCEPTED,
    # RFC 6026 §8.4: more 2xx (retransmissions, forks) in Accepted go to the TU.
    (_IC.ACCEPTED, Input.SUCCESS): _IC.ACCEPTED,
    (_IC.ACCEPTED, Input.WAIT): _IC.TERMINATED,  # Timer M
    (_IC.CALLING, Input.FAILURE): _IC.COMPLETED,
    (_IC.PROCEEDING, Input.FAILURE): _IC.COMPLETED,
    (_IC.COMPLETED, Input.FAILURE): _IC.COMPLETED,
    (_IC.COMPLETED, Input.WAIT): _IC.TERMINATED,  # Timer D
}


class InviteClientTransaction(_Transaction):
    """RFC 3261 §17.1.1 with the Accepted state of RFC 6026 §7.2.

    A 2xx moves to Accepted instead of Terminated: for 64·T1 (Timer M) further 2xx
    responses still match, so the UAC core can re-ACK a retransmitted 2xx (§13.2.2.4)
    instead of the endpoint dropping it as stray. :meth:`acknowledge` records the ACK the
    TU sent for a 2xx; a later copy of that 2xx is then answered with the same ACK here and
    not passed up.
    """

    __slots__ = ("key", "_acks")

    _table = _INVITE_CLIENT_TABLE
    _terminated = InviteClientState.TERMINATED

    def __init__(
        self,
        request: Request,
        key: ClientTransactionKey,
        destination: Address,
        *,
        transport: str,
        settings: TimerSettings,
        outbox: list[Datagram],
        now: float,
    ) -> None:
        super().__init__(request, destination, transport, settings, outbox)
        self.key = key
        self.state = InviteClientState.CALLING
        self._acks: dict[str | None, Datagram] = {}
        self._send(bytes(request))
        if not self.reliable:
            # RFC 3261 §17.1.1.2: Timer A starts at T1, only over unreliable transports.
            self._retransmit_at = now + settings.t1
        self._timeout_at = now + settings.timeout  # Timer B

    def receive_response(self, response: Response, now: float) -> bool:
        """Feed a matching response; ``True`` if the TU must see it."""
        event = _status_input(response.status)
        before = self.state
        if not self._step(event):
            return False  # e.g. a late 1xx after the final: nothing to do (§17.1.1.2)
        if event is Input.PROVISIONAL:
            self._retransmit_at = None
            timer_c = self.settings.timer_c
            self._timeout_at = None if timer_c is None else now + timer_c
            return True
        if event is Input.SUCCESS:
            if before is InviteClientState.ACCEPTED:
                ack = self._acks.get(response.to.tag)
                if ack is not None:
                    # RFC 3261 §13.2.2.4: every retransmission of the 2xx gets the ACK again.
                    self._outbox.append(ack)
                    return False
                return True
            self._retransmit_at = self._timeout_at = None
            self._wait_at = now + self.settings.timeout  # RFC 6026 Timer M
            return True
        # A final non-2xx: ACK it ourselves, same branch (§17.1.1.3), on every copy.
        self._send(bytes(self.ack_for(response)))
        if before is InviteClientState.COMPLETED:
            return False
        self._retransmit_at = self._timeout_at = None
        # Timer D: at least 32 s on UDP to absorb retransmitted finals, 0 on reliable ones.
        self._start_wait(now, 0.0 if self.reliable else max(32.0, self.settings.timeout))
        return True

    def acknowledge(self, to_tag: str | None, ack: Datagram) -> None:
        """Remember the ACK the TU sent for the 2xx carrying ``to_tag`` (with its address,
        which is the remote target, not necessarily the INVITE's next hop)."""
        if self.state is InviteClientState.ACCEPTED:
            self._acks[to_tag] = ack

    def ack_for(self, response: Response) -> Request:
        """The ACK for a non-2xx final response (RFC 3261 §17.1.1.3)."""
        request = self.request
        original = request.headers
        headers = Headers()
        # Only the top Via, so that the ACK carries the INVITE's branch and nothing else.
        headers.add("Via", original.get("Via") or "")
        for route in original.get_all("Route"):
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        headers.add("From", original.get("From") or "")
        headers.add("To", response.headers.get("To") or "")
        headers.add("Call-ID", original.get("Call-ID") or "")
        headers.add("CSeq", f"{request.cseq.number} ACK")
        return Request(method="ACK", uri=request.uri, headers=headers)

    def handle_timer(self, now: float) -> bool:
        """Run due timers; ``True`` if Timer B (or Timer C) fired: the TU must be told."""
        if self._due(self._timeout_at, now):
            self._step(Input.TIMEOUT)
            return True
        if self._due(self._retransmit_at, now) and self._step(Input.RETRANSMIT):
            # RFC 3261 §17.1.1.2: Timer A doubles without a cap; Timer B ends it first.
            self._send(bytes(self.request))
            self._next_retransmit(now, None)
        if self._due(self._wait_at, now):
            self._step(Input.WAIT)
        return False


class NonInviteClientState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


_NC = NonInviteClientState
_NON_INVITE_CLIENT_TABLE: dict[tuple[Enum, Input], Enum] = {
    (_NC.TRYING, Input.RETRANSMIT): _NC.TRYING,
    (_NC.PROCEEDING, Input.RETRANSMIT): _NC.PROCEEDING,
    (_NC.TRYING, Input.TIMEOUT): _NC.TERMINATED,
    (_NC.PROCEEDING, Input.TIMEOUT): _NC.TERMINATED,
    (_NC.TRYING, Input.PROVISIONAL): _NC.PROCEEDING,
    (_NC.PROCEEDING, Input.PROVISIONAL): _NC.PROCEEDING,
    (_NC.TRYING, Input.SUCCESS): _NC.COMPLETED,
    (_NC.TRYING, Input.FAILURE): _NC.COMPLETED,
    (_NC.PROCEEDING, Input.SUCCESS): _NC.COMPLETED,
    (_NC.PROCEEDING, Input.FAILURE): _NC.COMPLETED,
    (_NC.COMPLETED, Input.WAIT): _NC.TERMINATED,  # Timer K
}


class NonInviteClientTransaction(_Transaction):
    """RFC 3261 §17.1.2: Timer E doubles up to T2, Timer F gives up, Timer K lingers."""

    __slots__ = ("key",)

    _table = _NON_INVITE_CLIENT_TABLE
    _terminated = NonInviteClientState.TERMINATED

    def __init__(
        self,
        request: Request,
        key: ClientTransactionKey,
        destination: Address,
        *,
        transport: str,
        settings: TimerSettings,
        outbox: list[Datagram],
        now: float | None,
    ) -> None:
        super().__init__(request, destination, transport, settings, outbox)
        self.key = key
        self.state = NonInviteClientState.TRYING
        if now is not None:
            self.start(now)

    def start(self, now: float) -> None:
        """Send the request and start Timers E and F (deferred for a CANCEL, §9.1)."""
        self._send(bytes(self.request))
        if not self.reliable:
            self._retransmit_at = now + self.settings.t1  # Timer E
        self._timeout_at = now + self.settings.timeout  # Timer F

    def receive_response(self, response: Response, now: float) -> bool:
        """Feed a matching response; ``True`` if the TU must see it."""
        event = _status_input(response.status)
        if not self._step(event):
            return False  # retransmitted finals in Completed are absorbed (§17.1.2.2)
        if event is not Input.PROVISIONAL:
            self._retransmit_at = self._timeout_at = None
            self._start_wait(now, 0.0 if self.reliable else self.settings.t4)  # Timer K
        return True

    def handle_timer(self, now: float) -> bool:
        """Run due timers; ``True`` if Timer F fired (the TU must be told)."""
        if self._due(self._timeout_at, now):
            self._step(Input.TIMEOUT)
            return True
        if self._due(self._retransmit_at, now) and self._step(Input.RETRANSMIT):
            self._send(bytes(self.request))
            if self.state is NonInviteClientState.PROCEEDING:
                # RFC 3261 §17.1.2.2: once a provisional came, retransmit every T2.
                self._interval = self.settings.t2
            self._next_retransmit(now, self.settings.t2)
        if self._due(self._wait_at, now):
            self._step(Input.WAIT)
        return False


# -- server transactions -------------------------------------------------------------------


class InviteServerState(Enum):
    PROCEEDING = "Proceeding"
    ACCEPTED = "Accepted"  # RFC 6026 §7.1
    COMPLETED = "Completed"
    CONFIRMED = "Confirmed"
    TERMINATED = "Terminated"


_IS = InviteServerState
_INVITE_SERVER_TABLE: dict[tuple[Enum, Input], Enum] = {
    (_IS.PROCEEDING, Input.TRYING): _IS.PROCEEDING,
    (_IS.PROCEEDING, Input.REQUEST): _IS.PROCEEDING,
    (_IS.PROCEEDING, Input.PROVISIONAL): _IS.PROCEEDING,
    (_IS.PROCEEDING, Input.SUCCESS): _IS.ACCEPTED,
    (_IS.PROCEEDING, Input.FAILURE): _IS.COMPLETED,
    # RFC 6026 §8.7: Accepted absorbs INVITE copies, lets the TU's 2xx copies through and
    # passes an ACK that matches it up to the TU; Timer L ends it.
    (_IS.ACCEPTED, Input.REQUEST): _IS.ACCEPTED,
    (_IS.ACCEPTED, Input.SUCCESS): _IS.ACCEPTED,
    (_IS.ACCEPTED, Input.ACK): _IS.ACCEPTED,
    (_IS.ACCEPTED, Input.WAIT): _IS.TERMINATED,
    (_IS.COMPLETED, Input.REQUEST): _IS.COMPLETED,
    (_IS.COMPLETED, Input.RETRANSMIT): _IS.COMPLETED,
    (_IS.COMPLETED, Input.TIMEOUT): _IS.TERMINATED,
    (_IS.COMPLETED, Input.ACK): _IS.CONFIRMED,
    (_IS.CONFIRMED, Input.REQUEST): _IS.CONFIRMED,
    (_IS.CONFIRMED, Input.ACK): _IS.CONFIRMED,
    (_IS.CONFIRMED, Input.WAIT): _IS.TERMINATED,  # Timer I
}


class InviteServerTransaction(_Transaction):
    """RFC 3261 §17.2.1 with the Accepted state of RFC 6026 §7.1.

    A 2xx moves to Accepted (not Terminated) for 64·T1 (Timer L): retransmitted INVITEs
    are absorbed there instead of reaching the TU as new requests. Retransmitting the 2xx
    itself until the ACK is the UAS core's job (§13.3.1.4); the endpoint does it.
    """

    __slots__ = ("key", "last_response", "_trying_at")

    _table = _INVITE_SERVER_TABLE
    _terminated = InviteServerState.TERMINATED

    def __init__(
        self,
        request: Request,
        key: ServerTransactionKey,
        destination: Address,
        *,
        transport: str,
        settings: TimerSettings,
        outbox: list[Datagram],
        now: float,
    ) -> None:
        super().__init__(request, destination, transport, settings, outbox)
        self.key = key
        self.state = InviteServerState.PROCEEDING
        self.last_response: tuple[Response, bytes] | None = None
        # RFC 3261 §17.2.1: send 100 Trying ourselves unless the TU answers within 200 ms.
        self._trying_at: float | None = now + settings.trying_delay

    def next_deadline(self) -> float | None:
        deadline = _Transaction.next_deadline(self)
        trying = self._trying_at
        if trying is not None and (deadline is None or trying < deadline):
            return trying
        return deadline

    def receive_request(self, request: Request, now: float) -> bool:
        """Feed a retransmitted INVITE or an ACK; ``True`` if an ACK must go to the TU."""
        event = Input.ACK if request.method == "ACK" else Input.REQUEST
        before = self.state
        if not self._step(event):
            return False
        if event is Input.REQUEST:
            # RFC 3261 §17.2.1: a copy of the INVITE gets the latest provisional or final
            # response again; in Accepted the TU's own 2xx retransmissions do that.
            # Confirmed only absorbs.
            last = self.last_response
            if last is not None and (
                before is InviteServerState.PROCEEDING or before is InviteServerState.COMPLETED
            ):
                self._send(last[1])
            return False
        if before is InviteServerState.ACCEPTED:
            return True
        if before is InviteServerState.COMPLETED:
            self._retransmit_at = self._timeout_at = None
            self._start_wait(now, 0.0 if self.reliable else self.settings.t4)  # Timer I
        return False

    def send_response(self, response: Response, now: float) -> bytes:
        """Send a response from the TU; return its bytes. Raises if the state forbids it."""
        event = _status_input(response.status)
        before = self.state
        if not self._step(event):
            raise TransactionError(
                f"cannot send {response.status} in INVITE server state {self.state.value}"
            )
        data = bytes(response)
        self._trying_at = None
        self._send(data)
        if before is InviteServerState.ACCEPTED:
            return data
        self.last_response = (response, data)
        if event is Input.SUCCESS:
            self._wait_at = now + self.settings.timeout  # RFC 6026 Timer L
        elif event is Input.FAILURE:
            if not self.reliable:
                self._retransmit_at = now + self.settings.t1  # Timer G
            self._timeout_at = now + self.settings.timeout  # Timer H
        return data

    def handle_timer(self, now: float) -> bool:
        """Run due timers; ``True`` if Timer H fired (the ACK never came)."""
        if self._due(self._trying_at, now):
            self._trying_at = None
            if self._step(Input.TRYING):
                self.send_response(make_response(self.request, 100), now)
        if self._due(self._timeout_at, now):
            self._step(Input.TIMEOUT)
            return True
        if self._due(self._retransmit_at, now) and self._step(Input.RETRANSMIT):
            last = self.last_response
            if last is not None:
                self._send(last[1])
            # RFC 3261 §17.2.1: Timer G doubles up to T2.
            self._next_retransmit(now, self.settings.t2)
        if self._due(self._wait_at, now):
            self._step(Input.WAIT)
        return False


class NonInviteServerState(Enum):
    TRYING = "Trying"
    PROCEEDING = "Proceeding"
    COMPLETED = "Completed"
    TERMINATED = "Terminated"


_NS = NonInviteServerState
_NON_INVITE_SERVER_TABLE: dict[tuple[Enum, Input], Enum] = {
    (_NS.TRYING, Input.REQUEST): _NS.TRYING,
    (_NS.PROCEEDING, Input.REQUEST): _NS.PROCEEDING,
    (_NS.COMPLETED, Input.REQUEST): _NS.COMPLETED,
    (_NS.TRYING, Input.PROVISIONAL): _NS.PROCEEDING,
    (_NS.PROCEEDING, Input.PROVISIONAL): _NS.PROCEEDING,
    (_NS.TRYING, Input.SUCCESS): _NS.COMPLETED,
    (_NS.TRYING, Input.FAILURE): _NS.COMPLETED,
    (_NS.PROCEEDING, Input.SUCCESS): _NS.COMPLETED,
    (_NS.PROCEEDING, Input.FAILURE): _NS.COMPLETED,
    (_NS.COMPLETED, Input.WAIT): _NS.TERMINATED,  # Timer J
}


class NonInviteServerTransaction(_Transaction):
    """RFC 3261 §17.2.2: copies of the request get the last response again; Timer J."""

    __slots__ = ("key", "last_response")

    _table = _NON_INVITE_SERVER_TABLE
    _terminated = NonInviteServerState.TERMINATED

    def __init__(
        self,
        request: Request,
        key: ServerTransactionKey,
        destination: Address,
        *,
        transport: str,
        settings: TimerSettings,
        outbox: list[Datagram],
    ) -> None:
        super().__init__(request, destination, transport, settings, outbox)
        self.key = key
        self.state = NonInviteServerState.TRYING
        self.last_response: tuple[Response, bytes] | None = None

    def receive_request(self, request: Request, now: float) -> bool:
        """Feed a retransmitted request; never passed up (always ``False``)."""
        if self._step(Input.REQUEST) and self.last_response is not None:
            self._send(self.last_response[1])
        return False

    def send_response(self, response: Response, now: float) -> bytes:
        """Send a response from the TU; return its bytes. Raises if the state forbids it."""
        event = _status_input(response.status)
        if not self._step(event):
            raise TransactionError(
                f"cannot send {response.status} in non-INVITE server state {self.state.value}"
            )
        data = bytes(response)
        self._send(data)
        self.last_response = (response, data)
        if event is not Input.PROVISIONAL:
            # Timer J: 64·T1 on UDP absorbs request copies; 0 on reliable transports.
            self._start_wait(now, 0.0 if self.reliable else self.settings.timeout)
        return data

    def handle_timer(self, now: float) -> bool:
        if self._due(self._wait_at, now):
            self._step(Input.WAIT)
        return False


ClientTransaction = InviteClientTransaction | NonInviteClientTransaction
ServerTransaction = InviteServerTransaction | NonInviteServerTransaction
