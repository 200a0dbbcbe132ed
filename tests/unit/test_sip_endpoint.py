"""The SIP endpoint core, two of them back to back: calls over a lossy in-memory link with an
injected clock (drops, duplicates, reordering), CANCEL, malformed input, TCP, RFC 3581."""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.sip import (
    LocalProtocolError,
    Request,
    Response,
    make_response,
    parse_message,
    parse_uri,
)
from trunkline.sip.dialog import Dialog, DialogState, new_call_id, new_tag
from trunkline.sip.endpoint import (
    AckTimedOut,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    SipEndpoint,
    SipEvent,
    TransactionTimedOut,
)
from trunkline.sip.headers import Headers
from trunkline.sip.transaction import (
    ClientTransactionKey,
    ServerTransactionKey,
    TimerSettings,
    TransactionError,
    UnknownTransactionError,
)

Address = tuple[str, int]
CALLER: Address = ("192.0.2.1", 5060)
CALLEE: Address = ("192.0.2.2", 5060)
SDP = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"


def first_line(data: bytes) -> str:
    return data.split(b"\r\n", 1)[0].decode()


def summary(data: bytes) -> str:
    """``INVITE`` for a request, ``180`` or ``200/INVITE`` style for a response."""
    line = first_line(data)
    if line.startswith("SIP/2.0 "):
        status = line.split()[1]
        cseq = next(x for x in data.split(b"\r\n") if x.startswith(b"CSeq:"))
        return f"{status}/{cseq.split()[-1].decode()}"
    return line.split()[0]


# -- the pair harness ------------------------------------------------------------------------


@dataclass
class Wire:
    """One datagram put on the link: when, by whom, what, and what became of it."""

    time: float
    sender: str
    data: bytes
    fate: str = "sent"

    @property
    def what(self) -> str:
        return summary(self.data)


@dataclass
class Network:
    """An in-memory link with a clock. Datagrams are numbered in the order they are sent;
    ``drop``, ``duplicate`` and ``delay`` pick datagrams by that number."""

    transport: str = "udp"
    clock: float = 0.0
    drop: set[int] = field(default_factory=set)
    duplicate: set[int] = field(default_factory=set)
    delay: dict[int, float] = field(default_factory=dict)
    drop_what: set[str] = field(default_factory=set)  # e.g. {"ACK"}: every such datagram
    outage: tuple[float, float] = (0.0, 0.0)  # everything sent in [start, end) is lost
    wire: list[Wire] = field(default_factory=list)
    phones: dict[Address, Phone] = field(default_factory=dict)
    _queue: list[tuple[float, int, bytes, Address, Address]] = field(default_factory=list)
    _actions: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    _count: int = 0

    def attach(self, phone: Phone) -> None:
        self.phones[phone.public] = phone

    def at(self, when: float, action: Callable[[], None]) -> None:
        self._count += 1
        heapq.heappush(self._actions, (when, self._count, action))

    def _collect(self) -> None:
        for phone in self.phones.values():
            for data, destination, transport in phone.endpoint.datagrams_to_send():
                assert transport == self.transport
                index = len(self.wire)
                wire = Wire(self.clock, phone.name, data)
                self.wire.append(wire)
                start, end = self.outage
                if index in self.drop or wire.what in self.drop_what or start <= self.clock < end:
                    wire.fate = "dropped"
                    continue
                copies = 2 if index in self.duplicate else 1
                for _ in range(copies):
                    self._count += 1
                    when = self.clock + self.delay.get(index, 0.0)
                    entry = (when, self._count, data, destination, phone.public)
                    heapq.heappush(self._queue, entry)

    def _settle(self) -> None:
        """Let every TU react and collect what they send, until nothing moves."""
        moved = True
        while moved:
            moved = False
            for phone in self.phones.values():
                moved |= phone.drain()
            self._collect()

    def step(self, until: float) -> bool:
        self._settle()
        candidates = [self._queue[0][0]] if self._queue else []
        if self._actions:
            candidates.append(self._actions[0][0])
        for phone in self.phones.values():
            deadline = phone.endpoint.get_timer()
            if deadline is not None:
                candidates.append(deadline)
        if not candidates or min(candidates) > until:
            self.clock = max(self.clock, until)
            return False
        self.clock = max(self.clock, min(candidates))
        now = self.clock
        while self._queue and self._queue[0][0] <= now:
            _, _, data, destination, source = heapq.heappop(self._queue)
            target = self.phones.get(destination)
            if target is not None:
                target.endpoint.receive(data, source, transport=self.transport, now=now)
                self._settle()
        while self._actions and self._actions[0][0] <= now:
            heapq.heappop(self._actions)[2]()
            self._settle()
        for phone in self.phones.values():
            deadline = phone.endpoint.get_timer()
            if deadline is not None and deadline <= now:
                phone.endpoint.handle_timer(now)
                self._settle()
        return True

    def run(self, until: float = 120.0) -> None:
        for _ in range(100_000):
            if not self.step(until):
                return
        raise AssertionError("the link never went quiet")

    def sent(self, sender: str | None = None, fate: str | None = None) -> list[str]:
        return [
            w.what
            for w in self.wire
            if (sender is None or w.sender == sender) and (fate is None or w.fate == fate)
        ]

    def times(self, what: str, sender: str | None = None) -> list[float]:
        return [
            w.time for w in self.wire if w.what == what and (sender is None or w.sender == sender)
        ]


class Phone:
    """A scripted TU around one endpoint; subclasses react to events."""

    def __init__(
        self,
        network: Network,
        name: str,
        public: Address,
        *,
        advertised: Address | None = None,
        timers: TimerSettings | None = None,
    ) -> None:
        host, port = advertised or public
        self.network = network
        self.name = name
        self.public = public
        self.endpoint = SipEndpoint(host=host, port=port, timers=timers or TimerSettings())
        self.events: list[SipEvent] = []
        self.dialog: Dialog | None = None
        network.attach(self)

    @property
    def now(self) -> float:
        return self.network.clock

    @property
    def transport(self) -> str:
        return self.network.transport

    @property
    def contact(self) -> str:
        return f"<sip:{self.name}@{self.endpoint.host}:{self.endpoint.port}>"

    def drain(self) -> bool:
        moved = False
        while (event := self.endpoint.next_event()) is not None:
            self.events.append(event)
            self.handle(event)
            moved = True
        return moved

    def handle(self, event: SipEvent) -> None:
        if isinstance(event, RequestReceived) and event.request.method == "BYE":
            dialog = self.dialog
            if dialog is None or dialog.state is DialogState.TERMINATED:
                answer = make_response(event.request, 481)
            else:
                refusal = dialog.receive_request(event.request)
                answer = refusal or make_response(event.request, 200)
            self.endpoint.send_response(event.key, answer, now=self.now)

    def kinds(self) -> list[str]:
        out = []
        for event in self.events:
            if isinstance(event, RequestReceived):
                out.append(f"request {event.request.method}")
            elif isinstance(event, ResponseReceived):
                out.append(f"response {event.response.status}/{event.response.cseq.method}")
            else:
                out.append(type(event).__name__)
        return out


class Caller(Phone):
    def __init__(
        self,
        network: Network,
        public: Address = CALLER,
        *,
        callee: Address = CALLEE,
        hangup_after: float | None = 1.0,
        **kwargs: object,
    ) -> None:
        super().__init__(network, "alice", public, **kwargs)  # type: ignore[arg-type]
        self.callee = callee
        self.hangup_after = hangup_after
        self.invite: Request | None = None
        self.invite_key: ClientTransactionKey | None = None
        self.bye_key: ClientTransactionKey | None = None
        self.bye_status: int | None = None
        self.final_status: int | None = None

    def call(self) -> ClientTransactionKey:
        headers = Headers(
            [
                ("From", f"<sip:alice@example.com>;tag={new_tag()}"),
                ("To", "<sip:bob@example.com>"),
                ("Call-ID", new_call_id(self.endpoint.host)),
                ("CSeq", "1 INVITE"),
                ("Contact", self.contact),
                ("Content-Type", "application/sdp"),
            ]
        )
        self.invite = Request(
            method="INVITE", uri=parse_uri("sip:bob@example.com"), headers=headers, body=SDP
        )
        self.invite_key = self.endpoint.send_request(
            self.invite, self.callee, transport=self.transport, now=self.now
        )
        return self.invite_key

    def hangup(self) -> None:
        dialog = self.dialog
        if dialog is None or dialog.state is DialogState.TERMINATED:
            return
        self.bye_key = self.endpoint.send_request(
            dialog.create_bye(), dialog.next_hop, transport=self.transport, now=self.now
        )

    def handle(self, event: SipEvent) -> None:
        super().handle(event)
        if not isinstance(event, ResponseReceived):
            return
        response = event.response
        if event.key == self.bye_key and response.is_final:
            self.bye_status = response.status
        if event.key != self.invite_key or self.invite is None:
            return
        if response.is_final:
            self.final_status = response.status
        if not response.is_success:
            if self.dialog is not None:
                self.dialog.receive_response(response)
            elif 100 < response.status < 200 and response.to.tag is not None:
                self.dialog = Dialog.from_uac(self.invite, response)
            return
        if self.dialog is None or self.dialog.state is DialogState.EARLY:
            if self.dialog is None:
                self.dialog = Dialog.from_uac(self.invite, response)
            else:
                self.dialog.receive_response(response)
            if self.hangup_after is not None:
                self.network.at(self.now + self.hangup_after, self.hangup)
        dialog = self.dialog
        ack = dialog.create_ack(self.invite)
        self.endpoint.send_ack(event.key, ack, dialog.next_hop)


class Callee(Phone):
    def __init__(
        self,
        network: Network,
        public: Address = CALLEE,
        *,
        ring_after: float | None = 0.0,
        answer_after: float | None = 0.5,
        **kwargs: object,
    ) -> None:
        super().__init__(network, "bob", public, **kwargs)  # type: ignore[arg-type]
        self.ring_after = ring_after
        self.answer_after = answer_after
        self.tag = new_tag()
        self.invite: RequestReceived | None = None
        self.cancelled = False

    def _respond(self, status: int) -> Response:
        assert self.invite is not None
        request = self.invite.request
        headers = [("Contact", self.contact)]
        body = b""
        if status == 200:
            headers.append(("Content-Type", "application/sdp"))
            body = SDP
        return make_response(request, status, to_tag=self.tag, headers=headers, body=body)

    def ring(self) -> None:
        if self.invite is not None and not self.cancelled:
            self.endpoint.send_response(self.invite.key, self._respond(180), now=self.now)

    def answer(self) -> None:
        if self.invite is None or self.cancelled:
            return
        response = self._respond(200)
        self.endpoint.send_response(self.invite.key, response, now=self.now)
        self.dialog = Dialog.from_uas(self.invite.request, response)

    def handle(self, event: SipEvent) -> None:
        super().handle(event)
        if isinstance(event, RequestReceived) and event.request.method == "INVITE":
            assert self.invite is None, "a second INVITE reached the TU"
            self.invite = event
            if self.ring_after is not None:
                self.network.at(self.now + self.ring_after, self.ring)
            if self.answer_after is not None:
                self.network.at(self.now + self.answer_after, self.answer)
        elif isinstance(event, CancelReceived):
            self.cancelled = True
            response = self._respond(487)
            self.endpoint.send_response(event.invite_key, response, now=self.now)
        elif isinstance(event, AckTimedOut):
            dialog = self.dialog
            if dialog is not None and dialog.state is not DialogState.TERMINATED:
                self.endpoint.send_request(
                    dialog.create_bye(), dialog.next_hop, transport=self.transport, now=self.now
                )


def call(network: Network, **caller_kwargs: object) -> tuple[Caller, Callee]:
    caller = Caller(network, **caller_kwargs)  # type: ignore[arg-type]
    callee = Callee(network)
    caller.call()
    return caller, callee


def assert_quiet(*phones: Phone) -> None:
    for phone in phones:
        assert phone.endpoint.transaction_count == 0
        assert phone.endpoint.get_timer() is None


# -- a whole call ----------------------------------------------------------------------------


def test_a_call_completes_and_each_side_sees_the_right_events() -> None:
    network = Network()
    caller = Caller(network)
    callee = Callee(network, ring_after=0.5, answer_after=1.0)
    caller.call()
    network.run()
    assert network.sent() == [
        "INVITE",
        "100/INVITE",  # the callee's TU was silent for 200 ms (RFC 3261 §17.2.1)
        "180/INVITE",
        "200/INVITE",
        "ACK",
        "BYE",
        "200/BYE",
    ]
    assert network.times("100/INVITE") == [pytest.approx(0.2)]
    assert caller.kinds() == [
        "response 100/INVITE",
        "response 180/INVITE",
        "response 200/INVITE",
        "response 200/BYE",
    ]
    assert callee.kinds() == ["request INVITE", "AckReceived", "request BYE"]
    assert caller.bye_status == 200
    assert caller.dialog is not None and callee.dialog is not None
    assert caller.dialog.state is callee.dialog.state is DialogState.TERMINATED
    assert caller.dialog.id.local_tag == callee.dialog.id.remote_tag
    assert_quiet(caller, callee)


def test_the_ack_and_bye_go_to_the_remote_target_with_a_new_branch() -> None:
    network = Network()
    caller, callee = call(network)
    network.run()
    by_what = {w.what: parse_message(w.data) for w in network.wire}
    invite, ack, bye = by_what["INVITE"], by_what["ACK"], by_what["BYE"]
    assert ack.cseq.number == invite.cseq.number == 1  # RFC 3261 §13.2.2.4
    assert bye.cseq.number == 2
    assert isinstance(ack, Request) and str(ack.uri) == "sip:bob@192.0.2.2:5060"
    assert len({invite.branch, ack.branch, bye.branch}) == 3
    assert all(b is not None and b.startswith("z9hG4bK") for b in (invite.branch, ack.branch))


def test_an_options_request_out_of_dialog_is_easy_to_answer() -> None:
    network = Network()
    alice = Phone(network, "alice", CALLER)
    bob = Phone(network, "bob", CALLEE)
    headers = Headers(
        [
            ("From", f"<sip:alice@example.com>;tag={new_tag()}"),
            ("To", "<sip:bob@example.com>"),
            ("Call-ID", new_call_id("a")),
            ("CSeq", "7 OPTIONS"),
        ]
    )
    request = Request(method="OPTIONS", uri=parse_uri("sip:bob@192.0.2.2"), headers=headers)
    key = alice.endpoint.send_request(request, CALLEE, now=0.0)
    network._collect()
    network.step(1.0)
    [received] = bob.events
    assert isinstance(received, RequestReceived)
    answer = make_response(received.request, 200, to_tag="b1", headers=[("Allow", "INVITE")])
    bob.endpoint.send_response(received.key, answer, now=network.clock)
    network.run()
    [got] = alice.events
    assert isinstance(got, ResponseReceived) and got.key == key and got.response.status == 200
    assert got.response.headers.get("Allow") == "INVITE"
    assert_quiet(alice, bob)


# -- retransmissions and loss ----------------------------------------------------------------


def test_a_duplicated_invite_reaches_the_tu_once() -> None:
    network = Network(duplicate={0})
    caller, callee = call(network)
    network.run()
    assert callee.kinds().count("request INVITE") == 1
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_a_lost_invite_is_retransmitted_by_timer_a() -> None:
    network = Network(drop={0, 1})
    caller, callee = call(network)
    network.run()
    assert network.times("INVITE") == [0.0, 0.5, 1.5]
    assert callee.kinds().count("request INVITE") == 1
    assert caller.bye_status == 200


def test_timer_a_doubles_and_timer_b_times_out_at_32_seconds() -> None:
    network = Network(drop_what={"INVITE"})
    caller, callee = call(network)
    network.run()
    assert network.times("INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    [timeout] = [e for e in caller.events if isinstance(e, TransactionTimedOut)]
    assert timeout.key == caller.invite_key
    assert network.clock == 120.0
    assert_quiet(caller, callee)


def test_timer_e_is_capped_at_t2_and_timer_f_times_out_at_32_seconds() -> None:
    network = Network(drop_what={"OPTIONS"})
    alice = Phone(network, "alice", CALLER)
    Phone(network, "bob", CALLEE)
    request = Request(
        method="OPTIONS",
        uri=parse_uri("sip:bob@192.0.2.2"),
        headers=Headers(
            [
                ("From", "<sip:alice@a>;tag=1"),
                ("To", "<sip:bob@b>"),
                ("Call-ID", "x@a"),
                ("CSeq", "1 OPTIONS"),
            ]
        ),
    )
    key = alice.endpoint.send_request(request, CALLEE, now=0.0)
    network.run()
    times = network.times("OPTIONS")
    assert times[:6] == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5]
    assert [b - a for a, b in zip(times[4:], times[5:], strict=False)] == [4.0] * (len(times) - 5)
    assert times[-1] == 31.5
    timeouts = [e for e in alice.events if isinstance(e, TransactionTimedOut)]
    assert timeouts == [TransactionTimedOut(key=key)]
    assert_quiet(alice)


def test_a_lost_200_is_retransmitted_by_the_uas_core_and_acked() -> None:
    network = Network(drop={2})  # INVITE, 180, 200 (lost), ...
    caller, callee = call(network)
    network.run()
    assert network.wire[2].what == "200/INVITE" and network.wire[2].fate == "dropped"
    assert network.times("200/INVITE", "bob") == [0.5, 1.0]  # T1 after the first one
    assert network.sent("alice").count("ACK") == 1
    assert callee.kinds().count("AckReceived") == 1
    assert caller.kinds().count("response 200/INVITE") == 1
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_a_lost_ack_makes_the_200_come_again_and_the_ack_is_resent_automatically() -> None:
    network = Network(drop={3})  # INVITE, 180, 200, ACK (lost)
    caller, callee = call(network, hangup_after=5.0)
    network.run()
    assert network.wire[3].what == "ACK" and network.wire[3].fate == "dropped"
    assert network.times("200/INVITE", "bob") == [0.5, 1.0]
    assert network.times("ACK", "alice") == [0.5, 1.0]
    # The copy of the 200 was re-ACKed by the endpoint: the TU saw the 200 once.
    assert caller.kinds().count("response 200/INVITE") == 1
    assert callee.kinds().count("AckReceived") == 1
    # The re-sent ACK is the same message (RFC 3261 §13.2.2.4), branch and all.
    acks = [w.data for w in network.wire if w.what == "ACK"]
    assert acks[0] == acks[1]
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_every_ack_lost_makes_the_callee_give_up_and_hang_up() -> None:
    network = Network(drop_what={"ACK"})
    caller, callee = call(network, hangup_after=None)
    network.run(200.0)
    bob_200s = network.times("200/INVITE", "bob")
    assert bob_200s[:5] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert all(b - a <= 4.0 for a, b in zip(bob_200s, bob_200s[1:], strict=False))
    assert [type(e) for e in callee.events].count(AckTimedOut) == 1
    # RFC 3261 §13.3.1.4: the UAS ends the dialog with a BYE; the caller answers it.
    assert network.sent("bob")[-1] == "BYE"
    assert "request BYE" in caller.kinds()
    assert_quiet(caller, callee)


def test_a_lost_bye_and_a_lost_200_to_bye_are_recovered() -> None:
    network = Network(drop={4, 6})  # INVITE 180 200 ACK, BYE (lost), BYE, 200 (lost), ...
    caller, callee = call(network)
    network.run()
    assert network.sent() == [
        "INVITE",
        "180/INVITE",
        "200/INVITE",
        "ACK",
        "BYE",
        "BYE",
        "200/BYE",
        "BYE",
        "200/BYE",
    ]
    assert callee.kinds().count("request BYE") == 1
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_reordered_provisional_and_final_still_complete_the_call() -> None:
    network = Network(delay={1: 1.0})  # the 180 arrives after the 200
    caller, callee = call(network)
    network.run()
    assert caller.kinds()[:1] == ["response 200/INVITE"]
    # A 1xx after the 2xx is not in the Accepted table: absorbed (RFC 6026 §8.4).
    assert "response 180/INVITE" not in caller.kinds()
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


# -- CANCEL ----------------------------------------------------------------------------------


def test_cancel_of_a_ringing_invite() -> None:
    network = Network()
    caller = Caller(network)
    callee = Callee(network, answer_after=None)
    key = caller.call()
    network.at(1.0, lambda: caller.endpoint.cancel(key, now=1.0) and None)
    network.run()
    assert network.sent() == ["INVITE", "180/INVITE", "CANCEL", "200/CANCEL", "487/INVITE", "ACK"]
    assert callee.kinds() == ["request INVITE", "CancelReceived"]  # the ACK was absorbed
    assert caller.final_status == 487
    assert "response 200/CANCEL" in caller.kinds()
    messages = [parse_message(w.data) for w in network.wire]
    invite, cancel, ack = messages[0], messages[2], messages[5]
    # RFC 3261 §9.1 and §17.1.1.3: CANCEL and the ACK for the 487 reuse the INVITE's branch.
    assert invite.branch == cancel.branch == ack.branch
    assert ack.to.tag == callee.tag
    assert messages[3].to.tag == callee.tag  # the 200 to CANCEL has the INVITE's To tag
    assert_quiet(caller, callee)


def test_a_cancel_waits_for_a_provisional_response() -> None:
    network = Network()
    caller = Caller(network)
    callee = Callee(network, ring_after=2.0, answer_after=None)
    key = caller.call()
    caller.endpoint.cancel(key, now=0.0)
    network.run()
    # The 100 at 0.2 s releases the CANCEL (RFC 3261 §9.1).
    assert network.sent()[:4] == ["INVITE", "100/INVITE", "CANCEL", "200/CANCEL"]
    assert network.times("CANCEL") == [pytest.approx(0.2)]
    assert caller.final_status == 487
    assert_quiet(caller, callee)


def test_a_cancel_for_an_unknown_invite_gets_481() -> None:
    network = Network()
    alice = Phone(network, "alice", CALLER)
    Phone(network, "bob", CALLEE)
    data = (
        b"CANCEL sip:bob@192.0.2.2 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnothing\r\n"
        b"From: <sip:alice@a>;tag=1\r\nTo: <sip:bob@b>\r\nCall-ID: c@a\r\n"
        b"CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n"
    )
    bob = network.phones[CALLEE]
    bob.endpoint.receive(data, CALLER, now=0.0)
    [(answer, destination, _)] = bob.endpoint.datagrams_to_send()
    assert first_line(answer) == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert destination == CALLER
    assert bob.events == [] and alice.events == []


def test_a_cancel_after_the_final_response_is_refused_locally() -> None:
    network = Network()
    caller, callee = call(network, hangup_after=None)
    network.run(0.7)
    assert caller.invite_key is not None
    with pytest.raises(TransactionError, match="final response"):
        caller.endpoint.cancel(caller.invite_key, now=network.clock)
    with pytest.raises(UnknownTransactionError):
        caller.endpoint.cancel(ClientTransactionKey("z9hG4bKnope", "INVITE"), now=0.0)


# -- malformed input, TCP, RFC 3581 ----------------------------------------------------------


def test_malformed_datagrams_get_400_and_the_endpoint_keeps_working() -> None:
    network = Network()
    caller, callee = call(network)
    bad = (
        b"INVITE sip:bob@192.0.2.2 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKbad\r\n"
        b"From: <sip:eve@a>;tag=1\r\nTo: <sip:bob@b>\r\nCall-ID: bad@a\r\n"
        b"CSeq: 1 INVITE\r\nMax-Forwards: many\r\nContent-Length: 0\r\n\r\n"
    )
    endpoint = callee.endpoint
    for garbage in (bad, b"\x00\xff garbage", b"", b"\r\n\r\n", b"SIP/2.0 200 OK\r\n\r\n"):
        endpoint.receive(garbage, ("192.0.2.9", 5060), now=0.0)
    out = endpoint.datagrams_to_send()
    assert [(first_line(d), dest) for d, dest, _ in out] == [
        ("SIP/2.0 400 Bad Request (Bad Max-Forwards)", ("192.0.2.9", 5060))
    ]
    assert endpoint.next_event() is None
    network.run()
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_a_request_without_branch_gets_400() -> None:
    endpoint = SipEndpoint(host="192.0.2.2", port=5060)
    data = (
        b"OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n"
        b"From: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: nb@a\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    endpoint.receive(data, CALLER, now=0.0)
    [(answer, _, _)] = endpoint.datagrams_to_send()
    assert first_line(answer) == "SIP/2.0 400 Missing Via Branch"
    assert endpoint.next_event() is None


def test_stray_responses_are_dropped() -> None:
    endpoint = SipEndpoint(host="192.0.2.1", port=5060)
    data = (
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKstray\r\n"
        b"From: <sip:a@a>;tag=1\r\nTo: <sip:b@b>;tag=2\r\nCall-ID: s@a\r\nCSeq: 1 INVITE\r\n\r\n"
    )
    endpoint.receive(data, CALLEE, now=0.0)
    assert endpoint.next_event() is None and endpoint.datagrams_to_send() == []


def test_over_tcp_nothing_is_retransmitted_and_nothing_lingers() -> None:
    network = Network(transport="tcp")
    caller = Caller(network)
    callee = Callee(network, ring_after=0.0, answer_after=40.0)  # ring for 40 s
    caller.call()
    network.run(200.0)
    assert network.sent() == ["INVITE", "180/INVITE", "200/INVITE", "ACK", "BYE", "200/BYE"]
    assert parse_message(network.wire[0].data).top_via.transport == "TCP"
    assert caller.bye_status == 200
    assert_quiet(caller, callee)


def test_a_silent_peer_over_tcp_still_times_out_by_timer_b() -> None:
    network = Network(transport="tcp", drop_what={"INVITE"})
    caller = Caller(network)
    Callee(network)
    key = caller.call()
    network.run()
    assert network.times("INVITE") == [0.0]
    assert [e for e in caller.events if isinstance(e, TransactionTimedOut)] == [
        TransactionTimedOut(key=key)
    ]
    assert network.clock == 120.0


def test_rfc3581_received_and_rport_reach_a_caller_behind_nat() -> None:
    network = Network()
    # Alice thinks she is 10.0.0.5:5060; the NAT shows her as 203.0.113.9:40000.
    caller = Caller(network, ("203.0.113.9", 40000), advertised=("10.0.0.5", 5060))
    callee = Callee(network)
    caller.call()
    network.run()
    invite_as_received = callee.events[0]
    assert isinstance(invite_as_received, RequestReceived)
    via = invite_as_received.request.top_via
    assert via.received == "203.0.113.9" and via.rport == 40000
    assert via.sent_by == "10.0.0.5:5060"
    # The key keeps the sent-by the client wrote (RFC 3261 §17.2.3).
    assert invite_as_received.key.sent_by == "10.0.0.5:5060"
    # Responses went back to the public address and the call completed.
    assert caller.kinds()[0] == "response 180/INVITE"
    assert caller.bye_status == 200


def test_received_is_added_without_rport_and_the_reply_goes_to_the_via_port() -> None:
    endpoint = SipEndpoint(host="192.0.2.2", port=5060)
    data = (
        b"OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1\r\n"
        b"From: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: r@a\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    endpoint.receive(data, ("198.51.100.7", 33333), now=0.0)
    event = endpoint.next_event()
    assert isinstance(event, RequestReceived)
    assert event.request.top_via.received == "198.51.100.7"
    assert "rport" not in event.request.top_via.params
    endpoint.send_response(event.key, make_response(event.request, 200, to_tag="t"), now=0.0)
    [(answer, destination, _)] = endpoint.datagrams_to_send()
    assert destination == ("198.51.100.7", 5070)  # RFC 3261 §18.2.2
    assert b"received=198.51.100.7" in answer


def test_received_is_not_added_when_the_source_is_the_sent_by_host() -> None:
    endpoint = SipEndpoint(host="192.0.2.2", port=5060)
    data = (
        b"OPTIONS sip:bob@192.0.2.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK2\r\n"
        b"From: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: r@a\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    endpoint.receive(data, ("192.0.2.1", 5060), now=0.0)
    event = endpoint.next_event()
    assert isinstance(event, RequestReceived)
    assert dict(event.request.top_via.params) == {"branch": "z9hG4bK2"}


def test_send_response_to_an_unknown_transaction_raises_a_lookup_error() -> None:
    endpoint = SipEndpoint(host="192.0.2.2", port=5060)
    request = parse_message(
        b"OPTIONS sip:b@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK3\r\n"
        b"From: <sip:a@a>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: u@a\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    assert isinstance(request, Request)
    with pytest.raises(LookupError):
        endpoint.send_response(
            ServerTransactionKey("z9hG4bK3", "a", "OPTIONS"), make_response(request, 200), now=0.0
        )


def test_acks_and_cancels_are_refused_by_send_request() -> None:
    endpoint = SipEndpoint(host="192.0.2.1", port=5060)
    for method in ("ACK", "CANCEL"):
        request = Request(
            method=method,
            uri=parse_uri("sip:b@b"),
            headers=Headers(
                [
                    ("From", "<sip:a@a>;tag=1"),
                    ("To", "<sip:b@b>"),
                    ("Call-ID", "x@a"),
                    ("CSeq", f"1 {method}"),
                ]
            ),
        )
        with pytest.raises(LocalProtocolError, match=r"send_ack|cancel\(\)"):
            endpoint.send_request(request, CALLEE, now=0.0)


# -- random loss -----------------------------------------------------------------------------

INDICES = st.sets(st.integers(min_value=0, max_value=40), max_size=12)
# An outage: every datagram sent in a window is lost, long enough at times to beat the timers.
OUTAGES = st.tuples(st.floats(0.0, 40.0), st.floats(0.0, 40.0)).map(lambda t: (t[0], t[0] + t[1]))


def assert_clean_end(network: Network, caller: Caller, callee: Callee) -> None:
    completed = caller.bye_status == 200 and callee.kinds().count("request BYE") == 1
    timed_out = any(
        isinstance(e, TransactionTimedOut | AckTimedOut) for e in caller.events + callee.events
    )
    assert completed or timed_out, (network.sent(), caller.kinds(), callee.kinds())
    # Copies of the INVITE never reach the TU twice, nor copies of a 2xx once ACKed.
    assert callee.kinds().count("request INVITE") <= 1
    assert caller.kinds().count("response 200/INVITE") <= 1
    # No transaction or timer is left behind. (A dialog whose BYE timed out may stay up on
    # the far side: only a session timer or media timeout could end it.)
    if completed:
        for phone in (caller, callee):
            assert phone.dialog is None or phone.dialog.state is DialogState.TERMINATED
    assert_quiet(caller, callee)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drop=INDICES, duplicate=INDICES, outage=OUTAGES)
def test_random_loss_and_duplication_complete_the_call_or_time_out_cleanly(
    drop: set[int], duplicate: set[int], outage: tuple[float, float]
) -> None:
    network = Network(drop=drop, duplicate=duplicate, outage=outage)
    caller, callee = call(network)
    network.run(400.0)
    assert_clean_end(network, caller, callee)
    # Without reordering, copies of the ACK are absorbed too.
    assert callee.kinds().count("AckReceived") <= 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    drop=INDICES,
    delay=st.dictionaries(st.integers(0, 30), st.floats(0.0, 3.0), max_size=8),
)
def test_random_reordering_completes_the_call_or_times_out_cleanly(
    drop: set[int], delay: dict[int, float]
) -> None:
    network = Network(drop=drop, delay=delay)
    caller, callee = call(network)
    network.run(400.0)
    assert_clean_end(network, caller, callee)


VALID = [
    path.read_bytes()
    for path in sorted((Path(__file__).parents[1] / "data" / "sip" / "valid").glob("*.sip"))
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=st.sampled_from(VALID),
    cuts=st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=4)), max_size=4),
    transport=st.sampled_from(["udp", "tcp"]),
)
def test_any_datagram_is_survived_and_any_answer_is_well_formed(
    message: bytes, cuts: list[tuple[int, bytes]], transport: str
) -> None:
    data = bytearray(message)
    for position, replacement in cuts:
        position %= len(data) + 1
        data[position : position + len(replacement)] = replacement
    endpoint = SipEndpoint(host="192.0.2.2", port=5060)
    for now in (0.0, 0.1):  # the datagram and a copy of it
        endpoint.receive(bytes(data), ("198.51.100.1", 5060), transport=transport, now=now)
    endpoint.handle_timer(100.0)
    for answer, _, sent_on in endpoint.datagrams_to_send():
        assert sent_on == transport
        # A 400 copies the peer's own (possibly broken) From/To back, so only the status
        # line is ours to vouch for.
        assert re.fullmatch(rb"SIP/2\.0 [1-6][0-9][0-9] [^\r\n]*", answer.split(b"\r\n")[0])
    # Whatever came in, the endpoint still places a call.
    network = Network(transport=transport)
    caller, callee = call(network)
    network.run()
    assert caller.bye_status == 200
