"""The four RFC 3261 §17 transaction state machines on their own: timers driven by an
injected clock, what each sends, what reaches the TU, and the transaction keys."""

from __future__ import annotations

import logging

import pytest

from trunkline.sip import Request, Response, make_response, parse_message
from trunkline.sip.transaction import (
    ClientTransactionKey,
    Datagram,
    InviteClientState,
    InviteClientTransaction,
    InviteServerState,
    InviteServerTransaction,
    NonInviteClientState,
    NonInviteClientTransaction,
    NonInviteServerState,
    NonInviteServerTransaction,
    ServerTransactionKey,
    TimerSettings,
    TransactionError,
    client_key_of,
    server_key_of,
)

PEER = ("192.0.2.2", 5060)
BRANCH = "z9hG4bKtx1"


def request(method: str = "INVITE", *, branch: str = BRANCH, cseq: int = 1) -> Request:
    message = parse_message(
        f"{method} sip:bob@192.0.2.2 SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "Route: <sip:proxy.example.com;lr>\r\n"
        "From: <sip:alice@example.com>;tag=a1\r\n"
        "To: <sip:bob@example.com>\r\n"
        "Call-ID: tx@192.0.2.1\r\n"
        f"CSeq: {cseq} {method}\r\n"
        "Contact: <sip:alice@192.0.2.1>\r\n"
        "Content-Length: 0\r\n\r\n".encode()
    )
    assert isinstance(message, Request)
    return message


def response(to: Request, status: int, tag: str | None = "b1") -> Response:
    return make_response(to, status, to_tag=tag if status > 100 else None)


def lines(outbox: list[Datagram]) -> list[str]:
    out = [data.split(b"\r\n", 1)[0].decode() for data, _, _ in outbox]
    outbox.clear()
    return out


def drive(txn: object, until: float, outbox: list[Datagram], step: float = 0.25) -> list[float]:
    """Run the transaction's timers up to ``until``; the times at which it sent anything."""
    sent: list[float] = []
    now = 0.0
    while now <= until:
        deadline = txn.next_deadline()  # type: ignore[attr-defined]
        if deadline is None or deadline > until:
            break
        now = deadline
        before = len(outbox)
        txn.handle_timer(now)  # type: ignore[attr-defined]
        sent += [now] * (len(outbox) - before)
    return sent


def invite_client(
    transport: str = "udp", **settings: float
) -> tuple[InviteClientTransaction, list[Datagram]]:
    outbox: list[Datagram] = []
    txn = InviteClientTransaction(
        request(),
        ClientTransactionKey(BRANCH, "INVITE"),
        PEER,
        transport=transport,
        settings=TimerSettings(**settings),
        outbox=outbox,
        now=0.0,
    )
    return txn, outbox


def non_invite_client(transport: str = "udp") -> tuple[NonInviteClientTransaction, list[Datagram]]:
    outbox: list[Datagram] = []
    txn = NonInviteClientTransaction(
        request("OPTIONS"),
        ClientTransactionKey(BRANCH, "OPTIONS"),
        PEER,
        transport=transport,
        settings=TimerSettings(),
        outbox=outbox,
        now=0.0,
    )
    return txn, outbox


def invite_server(transport: str = "udp") -> tuple[InviteServerTransaction, list[Datagram]]:
    outbox: list[Datagram] = []
    invite = request()
    key = server_key_of(invite)
    assert key is not None
    txn = InviteServerTransaction(
        invite, key, PEER, transport=transport, settings=TimerSettings(), outbox=outbox, now=0.0
    )
    return txn, outbox


def non_invite_server(transport: str = "udp") -> tuple[NonInviteServerTransaction, list[Datagram]]:
    outbox: list[Datagram] = []
    options = request("OPTIONS")
    key = server_key_of(options)
    assert key is not None
    txn = NonInviteServerTransaction(
        options, key, PEER, transport=transport, settings=TimerSettings(), outbox=outbox
    )
    return txn, outbox


# -- INVITE client (§17.1.1, RFC 6026) --------------------------------------------------------


def test_timer_a_doubles_from_t1_and_timer_b_ends_calling_at_64_t1() -> None:
    txn, outbox = invite_client()
    assert lines(outbox) == ["INVITE sip:bob@192.0.2.2 SIP/2.0"]
    sent = drive(txn, 31.9, outbox)
    assert sent == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert txn.next_deadline() == 32.0
    assert txn.handle_timer(32.0) is True
    assert txn.state is InviteClientState.TERMINATED
    assert txn.next_deadline() is None


def test_t1_is_configurable_and_scales_every_timer() -> None:
    txn, outbox = invite_client(t1=0.1, t2=0.8)
    sent = drive(txn, 6.35, outbox)
    assert sent == pytest.approx([0.1, 0.3, 0.7, 1.5, 3.1, 6.3])
    assert txn.next_deadline() == pytest.approx(6.4)


def test_a_late_wake_up_retransmits_once_and_keeps_the_schedule() -> None:
    txn, outbox = invite_client()
    lines(outbox)
    txn.handle_timer(1.6)  # slept through 0.5 and 1.5
    assert len(outbox) == 1
    assert txn.next_deadline() == 2.6  # 1.6 + 1.0: restarted from now, not in the past


def test_no_timer_a_over_tcp_but_timer_b_still_runs() -> None:
    txn, outbox = invite_client("tcp")
    lines(outbox)
    assert drive(txn, 31.9, outbox) == []
    assert txn.handle_timer(32.0) is True


def test_a_provisional_stops_retransmissions_and_goes_up() -> None:
    txn, outbox = invite_client()
    lines(outbox)
    invite = txn.request
    assert txn.receive_response(response(invite, 100), 0.2) is True
    assert txn.state is InviteClientState.PROCEEDING
    assert txn.receive_response(response(invite, 180), 0.3) is True
    assert drive(txn, 100.0, outbox) == []
    assert txn.state is InviteClientState.PROCEEDING


def test_timer_c_ends_a_proceeding_invite_that_never_gets_a_final_response() -> None:
    txn, outbox = invite_client(timer_c=180.0)
    txn.receive_response(response(txn.request, 180), 1.0)
    txn.receive_response(response(txn.request, 183), 100.0)  # each provisional restarts it
    assert txn.next_deadline() == 280.0
    assert txn.handle_timer(280.0) is True
    assert txn.state is InviteClientState.TERMINATED


def test_a_non_2xx_final_is_acked_by_the_transaction_with_the_same_branch() -> None:
    txn, outbox = invite_client()
    lines(outbox)
    busy = response(txn.request, 486, "callee")
    assert txn.receive_response(busy, 1.0) is True
    assert txn.state is InviteClientState.COMPLETED
    [(data, destination, _)] = outbox
    ack = parse_message(data)
    assert isinstance(ack, Request) and ack.method == "ACK"
    # RFC 3261 §17.1.1.3: same Request-URI, top Via (branch), From, Call-ID, CSeq number and
    # Route; To from the response (with its tag).
    assert ack.uri == txn.request.uri and destination == PEER
    assert ack.headers.get_all("Via") == txn.request.headers.get_all("Via")[:1]
    assert ack.branch == BRANCH
    assert ack.to.tag == "callee" and ack.from_.tag == "a1"
    assert str(ack.cseq) == "1 ACK"
    assert ack.headers.get_all("Route") == ["<sip:proxy.example.com;lr>"]
    outbox.clear()
    # A copy of the 486 is ACKed again but not passed up.
    assert txn.receive_response(busy, 2.0) is False
    assert len(outbox) == 1
    # Timer D: 32 s on UDP.
    assert txn.next_deadline() == 33.0
    txn.handle_timer(33.0)
    assert txn.state is InviteClientState.TERMINATED


def test_timer_d_is_zero_over_tcp() -> None:
    txn, outbox = invite_client("tcp")
    assert txn.receive_response(response(txn.request, 603), 1.0) is True
    assert txn.state is InviteClientState.TERMINATED


def test_a_2xx_moves_to_accepted_and_copies_are_re_acked_once_the_tu_acked() -> None:
    txn, outbox = invite_client()
    lines(outbox)
    ok = response(txn.request, 200)
    assert txn.receive_response(ok, 1.0) is True
    assert txn.state is InviteClientState.ACCEPTED
    assert outbox == []  # the ACK for a 2xx is the TU's (RFC 3261 §13.2.2.4)
    # Before the TU has ACKed, a copy goes up again.
    assert txn.receive_response(ok, 1.2) is True
    ack: Datagram = (b"ACK sip:bob@192.0.2.2 SIP/2.0\r\n...", ("192.0.2.9", 5080), "udp")
    txn.acknowledge("b1", ack)
    assert txn.receive_response(ok, 1.5) is False
    assert outbox == [ack]
    # A 2xx from another fork (another To tag) still goes up (RFC 6026 §8.4).
    assert txn.receive_response(response(txn.request, 200, "fork2"), 1.6) is True
    # Late provisionals and non-2xx finals are not in the Accepted table: ignored.
    assert txn.receive_response(response(txn.request, 180), 1.7) is False
    assert txn.receive_response(response(txn.request, 500), 1.7) is False
    # Timer M = 64·T1.
    assert txn.next_deadline() == 33.0
    assert txn.handle_timer(33.0) is False
    assert txn.state is InviteClientState.TERMINATED


def test_transitions_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="trunkline.sip.transaction")
    txn, _ = invite_client()
    txn.receive_response(response(txn.request, 180), 0.1)
    assert "InviteClientState.CALLING -> InviteClientState.PROCEEDING" in caplog.messages


# -- non-INVITE client (§17.1.2) -------------------------------------------------------------


def test_timer_e_doubles_to_t2_and_timer_f_fires_at_64_t1() -> None:
    txn, outbox = non_invite_client()
    lines(outbox)
    sent = drive(txn, 31.9, outbox)
    assert sent == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert txn.handle_timer(32.0) is True
    assert txn.state is NonInviteClientState.TERMINATED


def test_after_a_provisional_timer_e_retransmits_every_t2() -> None:
    txn, outbox = non_invite_client()
    lines(outbox)
    txn.handle_timer(0.5)
    assert txn.receive_response(response(txn.request, 100), 0.6) is True
    assert txn.state is NonInviteClientState.PROCEEDING
    sent = drive(txn, 20.0, outbox)
    assert sent == [1.5, 5.5, 9.5, 13.5, 17.5]


def test_a_final_response_goes_up_once_and_timer_k_waits_t4() -> None:
    txn, outbox = non_invite_client()
    ok = response(txn.request, 200)
    assert txn.receive_response(ok, 1.0) is True
    assert txn.receive_response(ok, 1.1) is False
    assert txn.state is NonInviteClientState.COMPLETED
    assert txn.next_deadline() == 6.0
    txn.handle_timer(6.0)
    assert txn.state is NonInviteClientState.TERMINATED


def test_over_tcp_timer_e_is_off_and_timer_k_is_zero() -> None:
    txn, outbox = non_invite_client("tcp")
    lines(outbox)
    assert txn.next_deadline() == 32.0  # only Timer F
    assert txn.receive_response(response(txn.request, 404), 1.0) is True
    assert txn.state is NonInviteClientState.TERMINATED


# -- INVITE server (§17.2.1, RFC 6026) --------------------------------------------------------


def test_100_trying_is_sent_when_the_tu_is_silent_for_200_ms() -> None:
    txn, outbox = invite_server()
    assert txn.next_deadline() == pytest.approx(0.2)
    txn.handle_timer(0.2)
    assert lines(outbox) == ["SIP/2.0 100 Trying"]
    assert txn.next_deadline() is None


def test_no_100_trying_when_the_tu_answers_in_time() -> None:
    txn, outbox = invite_server()
    txn.send_response(response(txn.request, 180), 0.1)
    assert txn.next_deadline() is None
    assert lines(outbox) == ["SIP/2.0 180 Ringing"]


def test_invite_copies_get_the_last_provisional_again() -> None:
    txn, outbox = invite_server()
    assert txn.receive_request(txn.request, 0.05) is False
    assert outbox == []  # nothing sent yet, nothing to repeat
    txn.send_response(response(txn.request, 180), 0.1)
    lines(outbox)
    assert txn.receive_request(txn.request, 0.5) is False
    assert lines(outbox) == ["SIP/2.0 180 Ringing"]


def test_a_non_2xx_final_is_retransmitted_by_timer_g_until_timer_h() -> None:
    txn, outbox = invite_server()
    txn.send_response(response(txn.request, 486), 0.0)
    assert txn.state is InviteServerState.COMPLETED
    lines(outbox)
    sent = drive(txn, 31.9, outbox)
    assert sent == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert txn.handle_timer(32.0) is True  # the ACK never came: the TU is told
    assert txn.state is InviteServerState.TERMINATED


def test_the_ack_confirms_and_timer_i_absorbs_ack_copies() -> None:
    txn, outbox = invite_server()
    busy = response(txn.request, 486)
    txn.send_response(busy, 0.0)
    lines(outbox)
    assert txn.receive_request(txn.request, 0.3) is False
    assert lines(outbox) == ["SIP/2.0 486 Busy Here"]  # an INVITE copy gets the final again
    ack = request("ACK")
    assert txn.receive_request(ack, 1.0) is False
    assert txn.state is InviteServerState.CONFIRMED
    assert txn.receive_request(ack, 1.1) is False
    assert drive(txn, 10.0, outbox) == []  # Timer G stopped
    assert txn.state is InviteServerState.TERMINATED  # Timer I = T4 = 5 s


def test_over_tcp_no_timer_g_and_timer_i_is_zero() -> None:
    txn, outbox = invite_server("tcp")
    txn.send_response(response(txn.request, 404), 0.0)
    assert txn.next_deadline() == 32.0  # only Timer H
    txn.receive_request(request("ACK"), 0.1)
    assert txn.state is InviteServerState.TERMINATED


def test_a_2xx_moves_to_accepted_which_absorbs_invites_and_passes_acks_up() -> None:
    txn, outbox = invite_server()
    txn.send_response(response(txn.request, 200), 0.1)
    assert txn.state is InviteServerState.ACCEPTED
    lines(outbox)
    assert txn.receive_request(txn.request, 0.6) is False
    assert outbox == []  # RFC 6026 §8.7: the 2xx retransmissions are the TU's
    txn.send_response(response(txn.request, 200), 0.6)
    assert lines(outbox) == ["SIP/2.0 200 OK"]
    assert txn.receive_request(request("ACK"), 0.7) is True
    assert txn.next_deadline() == pytest.approx(32.1)  # Timer L
    txn.handle_timer(32.1)
    assert txn.state is InviteServerState.TERMINATED


def test_the_tu_cannot_answer_twice() -> None:
    txn, _ = invite_server()
    txn.send_response(response(txn.request, 486), 0.0)
    with pytest.raises(TransactionError):
        txn.send_response(response(txn.request, 200), 0.1)
    with pytest.raises(TransactionError):
        txn.send_response(response(txn.request, 180), 0.1)


# -- non-INVITE server (§17.2.2) -------------------------------------------------------------


def test_request_copies_are_absorbed_then_answered_with_the_last_response() -> None:
    txn, outbox = non_invite_server()
    assert txn.receive_request(txn.request, 0.1) is False
    assert outbox == []  # Trying: nothing to repeat
    txn.send_response(response(txn.request, 100), 0.2)
    lines(outbox)
    txn.receive_request(txn.request, 0.3)
    assert lines(outbox) == ["SIP/2.0 100 Trying"]
    txn.send_response(response(txn.request, 200), 0.4)
    lines(outbox)
    txn.receive_request(txn.request, 0.5)
    assert lines(outbox) == ["SIP/2.0 200 OK"]
    assert txn.state is NonInviteServerState.COMPLETED
    assert txn.next_deadline() == pytest.approx(32.4)  # Timer J = 64·T1
    txn.handle_timer(32.4)
    assert txn.state is NonInviteServerState.TERMINATED
    with pytest.raises(TransactionError):
        txn.send_response(response(txn.request, 200), 33.0)


def test_timer_j_is_zero_over_tcp() -> None:
    txn, _ = non_invite_server("tcp")
    txn.send_response(response(txn.request, 200), 0.0)
    assert txn.state is NonInviteServerState.TERMINATED


# -- keys (§17.1.3, §17.2.3, §9.2) -----------------------------------------------------------


def test_server_keys_put_ack_with_its_invite_and_cancel_apart() -> None:
    invite, ack, cancel = request(), request("ACK"), request("CANCEL")
    assert server_key_of(invite) == ServerTransactionKey(BRANCH, "192.0.2.1:5060", "INVITE")
    assert server_key_of(ack) == server_key_of(invite)
    assert server_key_of(cancel) == ServerTransactionKey(BRANCH, "192.0.2.1:5060", "CANCEL")
    other = request(branch="z9hG4bKother")
    assert server_key_of(other) != server_key_of(invite)


def test_client_keys_use_branch_and_cseq_method() -> None:
    invite = request()
    assert client_key_of(response(invite, 180)) == ClientTransactionKey(BRANCH, "INVITE")
    assert client_key_of(response(request("CANCEL"), 200)) == ClientTransactionKey(BRANCH, "CANCEL")


def test_a_request_without_branch_has_no_key() -> None:
    message = parse_message(
        b"OPTIONS sip:b@b SIP/2.0\r\nVia: SIP/2.0/UDP a\r\nFrom: <sip:a@a>;tag=1\r\n"
        b"To: <sip:b@b>\r\nCall-ID: k@a\r\nCSeq: 1 OPTIONS\r\n\r\n"
    )
    assert isinstance(message, Request)
    assert server_key_of(message) is None


@pytest.mark.parametrize(
    "values",
    [{"t1": 0.0}, {"t1": 5.0, "t2": 4.0}, {"t4": 0.0}, {"trying_delay": -1.0}, {"timer_c": 0.0}],
)
def test_bad_timer_settings_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        TimerSettings(**values)
