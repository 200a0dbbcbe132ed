"""The sans-IO SIP endpoint: the transaction layer plus the UA core's 2xx/ACK duties, fed with
datagrams and the time, handing back datagrams to send, events and one timer deadline."""

from __future__ import annotations

import heapq
import logging
import secrets
from collections import deque
from dataclasses import dataclass

from trunkline.sip.dialog import new_tag
from trunkline.sip.errors import LocalProtocolError, RemoteProtocolError, SipError
from trunkline.sip.headers import Headers
from trunkline.sip.message import (
    Request,
    Response,
    bad_request_response,
    is_keepalive,
    make_response,
    parse_message,
)
from trunkline.sip.transaction import (
    DEFAULT_TIMERS,
    MAGIC_COOKIE,
    RELIABLE_TRANSPORTS,
    Address,
    ClientTransaction,
    ClientTransactionKey,
    Datagram,
    InviteClientState,
    InviteClientTransaction,
    InviteServerState,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    ServerTransaction,
    ServerTransactionKey,
    TimerSettings,
    TransactionError,
    UnknownTransactionError,
)

_log = logging.getLogger(__name__)

TransactionKey = ClientTransactionKey | ServerTransactionKey


# -- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived:
    """A new request (not a copy, not an ACK, not a CANCEL); answer it with ``key``."""

    request: Request
    key: ServerTransactionKey
    source: Address
    transport: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseReceived:
    """A response for one of our client transactions (copies absorbed)."""

    response: Response
    key: ClientTransactionKey


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionTimedOut:
    """Timer B or F (a client transaction got no final response: act as if 408), or Timer H
    (a server INVITE transaction never saw the ACK for its non-2xx final response)."""

    key: TransactionKey


@dataclass(frozen=True, slots=True, kw_only=True)
class AckReceived:
    """The ACK for a 2xx (its own transaction, RFC 3261 §17.1.1.3); belongs to a dialog.

    Copies of an ACK for a 2xx this endpoint is still retransmitting are absorbed.
    """

    request: Request
    source: Address
    transport: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReceived:
    """A CANCEL matched an INVITE with no final response yet. It has been answered 200; the
    TU must now answer the INVITE with 487 through ``invite_key`` (RFC 3261 §9.2)."""

    request: Request
    invite_key: ServerTransactionKey


@dataclass(frozen=True, slots=True, kw_only=True)
class AckTimedOut:
    """A 2xx to an INVITE was retransmitted for 64·T1 and never ACKed (RFC 3261 §13.3.1.4):
    the TU should end the session with a BYE."""

    invite_key: ServerTransactionKey
    call_id: str
    cseq: int


SipEvent = (
    RequestReceived
    | ResponseReceived
    | TransactionTimedOut
    | AckReceived
    | CancelReceived
    | AckTimedOut
)


# -- the UAS core's 2xx retransmission -------------------------------------------------------


class _SuccessRetransmission:
    """RFC 3261 §13.3.1.4: the UAS core resends a 2xx to INVITE until the ACK arrives.

    After the ACK it lingers until 64·T1 so that copies of the ACK are absorbed.
    """

    __slots__ = (
        "invite_key",
        "call_id",
        "cseq",
        "datagram",
        "armed",
        "acked",
        "terminated",
        "_outbox",
        "_t2",
        "_interval",
        "_retransmit_at",
        "_give_up_at",
    )

    def __init__(
        self,
        invite_key: ServerTransactionKey,
        response: Response,
        datagram: Datagram,
        *,
        settings: TimerSettings,
        outbox: list[Datagram],
        now: float,
    ) -> None:
        self.invite_key = invite_key
        self.call_id = response.call_id
        self.cseq = response.cseq.number
        self.datagram = datagram
        self.armed: float | None = None
        self.acked = False
        self.terminated = False
        self._outbox = outbox
        self._t2 = settings.t2
        self._interval = settings.t1
        self._retransmit_at: float | None = now + settings.t1
        self._give_up_at = now + settings.timeout

    def next_deadline(self) -> float | None:
        if self.terminated:
            return None
        at = self._retransmit_at
        return at if at is not None and at < self._give_up_at else self._give_up_at

    def ack(self) -> bool:
        """Note an ACK; ``True`` for the first one."""
        first = not self.acked
        self.acked = True
        self._retransmit_at = None
        return first

    def handle_timer(self, now: float) -> bool:
        """Run due timers; ``True`` when giving up without an ACK."""
        if self._give_up_at <= now:
            self.terminated = True
            return not self.acked
        at = self._retransmit_at
        if at is not None and at <= now:
            self._outbox.append(self.datagram)
            # The interval doubles from T1 and stays at T2 (§13.3.1.4).
            self._interval = min(self._interval * 2, self._t2)
            at += self._interval
            self._retransmit_at = at if at > now else now + self._interval
        return False


# Everything with a deadline in the endpoint's heap.
_TimedOwner = ClientTransaction | ServerTransaction | _SuccessRetransmission


# -- the endpoint ----------------------------------------------------------------------------


class SipEndpoint:
    """Transactions (RFC 3261 §17) and the transport rules of §18 and RFC 3581, sans-IO.

    Automatic here: retransmissions and their absorption (Timers A, E, G), timeouts (B, F,
    H), the linger timers (D, I, J, K, L, M), 100 Trying after 200 ms, the ACK for non-2xx
    finals, received/rport, 400 to malformed requests, 200 (or 481) to CANCEL, 2xx
    retransmission until ACK (§13.3.1.4) and re-ACK of a 2xx copy once the TU has ACKed it
    through :meth:`send_ack` (§13.2.2.4).

    The TU's job: answering every request (including the 487 to a cancelled INVITE and the
    BYE after :class:`AckTimedOut`), dialogs, ACKing a 2xx, choosing destinations.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        timers: TimerSettings = DEFAULT_TIMERS,
    ) -> None:
        self.host = host
        self.port = port
        self.timers = timers
        self._sent_by = f"{host}:{port}"
        # RFC 3261 §8.1.1.7: branches unique in space (random prefix) and time (counter).
        self._branch_base = f"{MAGIC_COOKIE}{secrets.token_hex(5)}-"
        self._branch_count = 0
        self._outbox: list[Datagram] = []
        self._events: deque[SipEvent] = deque()
        self._clients: dict[ClientTransactionKey, ClientTransaction] = {}
        self._servers: dict[ServerTransactionKey, ServerTransaction] = {}
        self._successes: dict[tuple[str, int], _SuccessRetransmission] = {}
        self._pending_cancels: dict[ClientTransactionKey, NonInviteClientTransaction] = {}
        self._heap: list[tuple[float, int, _TimedOwner]] = []
        self._heap_count = 0

    # -- output ------------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[Datagram]:
        """``(data, destination, transport)`` queued since the last call."""
        out = self._outbox[:]
        self._outbox.clear()
        return out

    def next_event(self) -> SipEvent | None:
        events = self._events
        return events.popleft() if events else None

    def get_timer(self) -> float | None:
        """The earliest deadline of any transaction, ``None`` if nothing waits."""
        heap = self._heap
        while heap:
            deadline, _, owner = heap[0]
            if owner.armed == deadline and not owner.terminated:
                return deadline
            heapq.heappop(heap)  # stale: superseded or its owner has ended
        return None

    def handle_timer(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            deadline, _, owner = heapq.heappop(heap)
            if owner.armed != deadline or owner.terminated:
                continue
            owner.armed = None
            if owner.handle_timer(now):
                if isinstance(owner, _SuccessRetransmission):
                    self._events.append(
                        AckTimedOut(
                            invite_key=owner.invite_key, call_id=owner.call_id, cseq=owner.cseq
                        )
                    )
                else:
                    self._events.append(TransactionTimedOut(key=owner.key))
            self._settle(owner)

    @property
    def transaction_count(self) -> int:
        """Live client and server transactions (for metrics and leak tests)."""
        return len(self._clients) + len(self._servers)

    # -- input -------------------------------------------------------------------------------

    def receive(self, data: bytes, source: Address, *, transport: str = "udp", now: float) -> None:
        """Feed one datagram. Never raises on bad input: a malformed request is answered
        (400, 505...) when it can be, anything else unusable is dropped and logged."""
        if is_keepalive(data):
            return
        try:
            message = parse_message(data)
        except RemoteProtocolError as exc:
            _log.info("malformed message from %s: %s", source, exc.message)
            answer = bad_request_response(data, exc)
            if answer is not None:
                self._outbox.append((bytes(answer), source, transport))
            return
        self.receive_message(message, source, transport=transport, now=now)

    def receive_message(
        self, message: Request | Response, source: Address, *, transport: str, now: float
    ) -> None:
        """Feed one parsed message (stream transports parse with :class:`StreamParser`)."""
        try:
            if isinstance(message, Request):
                self._receive_request(message, source, transport, now)
            else:
                self._receive_response(message, now)
        except SipError as exc:
            # A value that parsed but that a later step refuses (our own bug or an odd
            # peer): the message is lost, the endpoint goes on.
            _log.warning("dropped a message from %s: %s", source, exc)

    def _receive_request(
        self, request: Request, source: Address, transport: str, now: float
    ) -> None:
        via = request.top_via
        source_host = source[0]
        # RFC 3261 §18.2.1: `received` when the packet came from elsewhere than sent-by;
        # RFC 3581 §4: with `rport` asked for, both the address and the port, always.
        if via.has_rport:
            _replace_top_via(request, via.with_params(received=source_host, rport=str(source[1])))
        elif source_host != via.host:
            _replace_top_via(request, via.with_params(received=source_host))
        branch = via.branch
        method = request.method
        if branch is None:
            # Only the RFC 2543 matching rules could place this request; we do not keep them.
            if method != "ACK":
                answer = make_response(request, 400, "Missing Via Branch", to_tag=new_tag())
                self._outbox.append((bytes(answer), source, transport))
            return
        key = ServerTransactionKey(branch, via.sent_by, "INVITE" if method == "ACK" else method)
        txn = self._servers.get(key)
        if txn is not None:
            # A copy of the request, or the ACK for a non-2xx: the transaction absorbs it.
            if txn.receive_request(request, now):
                self._ack_received(request, source, transport)
            self._settle(txn)
            return
        if method == "ACK":
            # An ACK for a 2xx has a branch of its own (§17.1.1.3): it is the UA core's.
            self._ack_received(request, source, transport)
            return
        destination = _response_destination(via.port, via.has_rport, source, transport)
        if method == "CANCEL":
            self._receive_cancel(request, key, destination, transport, now)
            return
        if method == "INVITE":
            txn = InviteServerTransaction(
                request,
                key,
                destination,
                transport=transport,
                settings=self.timers,
                outbox=self._outbox,
                now=now,
            )
        else:
            txn = NonInviteServerTransaction(
                request,
                key,
                destination,
                transport=transport,
                settings=self.timers,
                outbox=self._outbox,
            )
        self._servers[key] = txn
        self._settle(txn)
        self._events.append(
            RequestReceived(request=request, key=key, source=source, transport=transport)
        )

    def _receive_cancel(
        self,
        request: Request,
        key: ServerTransactionKey,
        destination: Address,
        transport: str,
        now: float,
    ) -> None:
        txn = NonInviteServerTransaction(
            request,
            key,
            destination,
            transport=transport,
            settings=self.timers,
            outbox=self._outbox,
        )
        self._servers[key] = txn
        invite = self._servers.get(key._replace(method="INVITE"))
        if not isinstance(invite, InviteServerTransaction):
            # RFC 3261 §9.2: nothing to cancel.
            txn.send_response(make_response(request, 481, to_tag=new_tag()), now)
        else:
            # §9.2: the 200 to CANCEL should carry the To tag of the INVITE's responses.
            last = invite.last_response
            tag = last[0].to.tag if last is not None else None
            txn.send_response(make_response(request, 200, to_tag=tag or new_tag()), now)
            if invite.state is InviteServerState.PROCEEDING:
                self._events.append(CancelReceived(request=request, invite_key=invite.key))
        self._settle(txn)

    def _ack_received(self, request: Request, source: Address, transport: str) -> None:
        record = self._successes.get((request.call_id, request.cseq.number))
        if record is not None and not record.ack():
            return  # a copy of an ACK already passed up
        self._events.append(AckReceived(request=request, source=source, transport=transport))

    def _receive_response(self, response: Response, now: float) -> None:
        # RFC 3261 §18.1.2 would also compare the top Via's sent-by with ours; the branch we
        # generated is unique already, so a lookup by it is enough.
        branch = response.top_via.branch
        if branch is None:
            _log.debug("response without branch dropped")
            return
        key = ClientTransactionKey(branch, response.cseq.method)
        txn = self._clients.get(key)
        if txn is None:
            _log.debug("stray %s response dropped (%s)", response.status, key)
            return
        if txn.receive_response(response, now):
            self._events.append(ResponseReceived(response=response, key=key))
        if isinstance(txn, InviteClientTransaction):
            cancel = self._pending_cancels.get(key)
            if cancel is not None and response.is_provisional:
                # RFC 3261 §9.1: the CANCEL waited for a provisional response; send it now.
                del self._pending_cancels[key]
                cancel.start(now)
                self._settle(cancel)
            elif cancel is not None and response.is_final:
                self._drop_pending_cancel(key)
        self._settle(txn)

    # -- sending -----------------------------------------------------------------------------

    def _new_branch(self) -> str:
        self._branch_count += 1
        return f"{self._branch_base}{self._branch_count:x}"

    def _push_via(self, request: Request, transport: str, branch: str) -> None:
        # RFC 3581 §3: ask for rport so that replies find us behind a NAT.
        via = f"SIP/2.0/{transport.upper()} {self._sent_by};branch={branch};rport"
        headers = request.headers
        below = headers.get_all("Via")
        headers.set("Via", via)
        for value in below:
            headers.add("Via", value)
        if "Max-Forwards" not in headers:
            headers.add("Max-Forwards", "70")  # RFC 3261 §8.1.1.6

    def send_request(
        self, request: Request, destination: Address, *, transport: str = "udp", now: float
    ) -> ClientTransactionKey:
        """Start a client transaction: our Via with a fresh branch goes on top, the request
        is queued, and responses come back as :class:`ResponseReceived` with this key."""
        method = request.method
        if method == "ACK":
            raise LocalProtocolError("an ACK has no transaction: use send_ack or send_stateless")
        if method == "CANCEL":
            raise LocalProtocolError("a CANCEL must reuse the INVITE's branch: use cancel()")
        branch = self._new_branch()
        self._push_via(request, transport, branch)
        key = ClientTransactionKey(branch, method)
        txn: ClientTransaction
        if method == "INVITE":
            txn = InviteClientTransaction(
                request,
                key,
                destination,
                transport=transport,
                settings=self.timers,
                outbox=self._outbox,
                now=now,
            )
        else:
            txn = NonInviteClientTransaction(
                request,
                key,
                destination,
                transport=transport,
                settings=self.timers,
                outbox=self._outbox,
                now=now,
            )
        self._clients[key] = txn
        self._settle(txn)
        return key

    def cancel(self, invite_key: ClientTransactionKey, *, now: float) -> ClientTransactionKey:
        """CANCEL our INVITE (RFC 3261 §9.1); responses come back under the returned key.

        Before any provisional response the CANCEL is held back, as §9.1 requires, and sent
        when one arrives; if the INVITE ends first, it is dropped without an event.
        """
        invite = self._clients.get(invite_key)
        if not isinstance(invite, InviteClientTransaction):
            raise UnknownTransactionError(f"no INVITE client transaction {invite_key}")
        if invite.state not in (InviteClientState.CALLING, InviteClientState.PROCEEDING):
            raise TransactionError("the INVITE already has a final response")
        key = ClientTransactionKey(invite_key.branch, "CANCEL")
        if key in self._clients:
            raise TransactionError("this INVITE is already being cancelled")
        original = invite.request
        source = original.headers
        headers = Headers()
        headers.add("Via", source.get("Via") or "")  # the same branch (§9.1)
        for route in source.get_all("Route"):
            headers.add("Route", route)
        headers.add("Max-Forwards", "70")
        for name in ("From", "To", "Call-ID"):
            headers.add(name, source.get(name) or "")
        headers.add("CSeq", f"{original.cseq.number} CANCEL")
        request = Request(method="CANCEL", uri=original.uri, headers=headers)
        started = invite.state is InviteClientState.PROCEEDING
        txn = NonInviteClientTransaction(
            request,
            key,
            invite.destination,
            transport=invite.transport,
            settings=self.timers,
            outbox=self._outbox,
            now=now if started else None,
        )
        self._clients[key] = txn
        if started:
            self._settle(txn)
        else:
            self._pending_cancels[invite_key] = txn
        return key

    def send_response(self, key: ServerTransactionKey, response: Response, *, now: float) -> None:
        """Answer a request through its server transaction.

        A 2xx to an INVITE is then retransmitted here until its ACK (§13.3.1.4); without one
        after 64·T1, :class:`AckTimedOut` tells the TU to send BYE.
        """
        txn = self._servers.get(key)
        if txn is None:
            raise UnknownTransactionError(f"no server transaction {key}")
        data = txn.send_response(response, now)
        if isinstance(txn, InviteServerTransaction) and response.is_success:
            record_key = (response.call_id, response.cseq.number)
            if record_key not in self._successes:
                record = _SuccessRetransmission(
                    key,
                    response,
                    (data, txn.destination, txn.transport),
                    settings=self.timers,
                    outbox=self._outbox,
                    now=now,
                )
                self._successes[record_key] = record
                self._settle(record)
        self._settle(txn)

    def send_ack(
        self,
        invite_key: ClientTransactionKey,
        ack: Request,
        destination: Address,
        *,
        transport: str | None = None,
    ) -> None:
        """Send the TU's ACK for a 2xx to our INVITE (built by the dialog) and remember it,
        so that copies of that 2xx are re-ACKed here and not passed up (§13.2.2.4)."""
        invite = self._clients.get(invite_key)
        if transport is None:
            transport = invite.transport if invite is not None else "udp"
        if "Via" not in ack.headers:
            self._push_via(ack, transport, self._new_branch())
        datagram = (bytes(ack), destination, transport)
        self._outbox.append(datagram)
        if isinstance(invite, InviteClientTransaction):
            invite.acknowledge(ack.to.tag, datagram)

    def send_stateless(
        self, message: Request | Response, destination: Address, *, transport: str = "udp"
    ) -> None:
        """Send outside any transaction (a late 2xx copy, an ACK for a 2xx the TU tracks
        itself). A request without Via gets ours with a fresh branch."""
        if isinstance(message, Request) and "Via" not in message.headers:
            self._push_via(message, transport, self._new_branch())
        self._outbox.append((bytes(message), destination, transport))

    # -- timers and bookkeeping --------------------------------------------------------------

    def _settle(self, owner: _TimedOwner) -> None:
        """Forget an owner that has ended, else make sure the heap has its next deadline."""
        if owner.terminated:
            if isinstance(owner, _SuccessRetransmission):
                key = (owner.call_id, owner.cseq)
                if self._successes.get(key) is owner:
                    del self._successes[key]
            elif isinstance(owner, ClientTransaction):
                if self._clients.get(owner.key) is owner:
                    del self._clients[owner.key]
                if owner.key in self._pending_cancels:
                    self._drop_pending_cancel(owner.key)
            elif self._servers.get(owner.key) is owner:
                del self._servers[owner.key]
            return
        deadline = owner.next_deadline()
        armed = owner.armed
        # Lazy invalidation: an entry is pushed only when the deadline moves earlier; a
        # later one is found when the older entry pops and finds nothing due.
        if deadline is not None and (armed is None or deadline < armed):
            owner.armed = deadline
            self._heap_count += 1
            heapq.heappush(self._heap, (deadline, self._heap_count, owner))

    def _drop_pending_cancel(self, invite_key: ClientTransactionKey) -> None:
        cancel = self._pending_cancels.pop(invite_key)
        if self._clients.get(cancel.key) is cancel:
            del self._clients[cancel.key]


def _replace_top_via(request: Request, via: object) -> None:
    headers = request.headers
    below = headers.get_all("Via")[1:]
    headers.set("Via", str(via))
    for value in below:
        headers.add("Via", value)


def _response_destination(
    via_port: int | None, rport: bool, source: Address, transport: str
) -> Address:
    # RFC 3261 §18.2.2: on a stream, back on the connection; RFC 3581 §4: with rport, to the
    # packet's source port; otherwise to the received address and the sent-by port.
    if transport in RELIABLE_TRANSPORTS or rport:
        return source
    return (source[0], via_port if via_port is not None else 5060)
