"""RFC 3261 §12 dialogs: creation on both sides, route sets, in-dialog requests, CSeq checks,
target refresh and the re-INVITE glare rules of §14."""

from __future__ import annotations

import random

import pytest

from trunkline.sip import RemoteProtocolError, Request, Response, make_response, parse_message
from trunkline.sip.dialog import (
    Dialog,
    DialogError,
    DialogId,
    DialogState,
    new_call_id,
    new_tag,
    uac_dialog_id,
    uas_dialog_id,
)

INVITE = (
    b"INVITE sip:bob@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKd1\r\n"
    b"Record-Route: <sip:p1.example.com;lr>\r\n"
    b"Record-Route: <sip:p2.example.com;lr>\r\n"
    b'From: "Alice" <sip:alice@example.com>;tag=alice1\r\n'
    b"To: <sip:bob@example.com>\r\n"
    b"Call-ID: dlg@192.0.2.1\r\n"
    b"CSeq: 10 INVITE\r\n"
    b"Contact: <sip:alice@192.0.2.1:5060>\r\n"
    b'Authorization: Digest username="alice"\r\n'
    b"Content-Length: 0\r\n\r\n"
)
BOB_CONTACT = "<sip:bob@192.0.2.2:5070>"


def invite() -> Request:
    message = parse_message(INVITE)
    assert isinstance(message, Request)
    return message


def answer(request: Request, status: int = 200, *, tag: str | None = "bob1") -> Response:
    # A UAS's response copies Record-Route (§12.1.1).
    headers = [("Record-Route", value) for value in request.headers.get_all("Record-Route")]
    headers.append(("Contact", BOB_CONTACT))
    return make_response(request, status, to_tag=tag, headers=headers)


def reparse(message: Request | Response) -> Request | Response:
    """Through the wire and back, as the peer would see it."""
    return parse_message(bytes(message))


def sent(request: Request) -> Request:
    """A dialog's request as the peer receives it: the endpoint adds the Via."""
    request.headers.add("Via", "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx")
    received = reparse(request)
    assert isinstance(received, Request)
    return received


def uac_and_uas() -> tuple[Dialog, Dialog]:
    request = invite()
    response = answer(request)
    uas = Dialog.from_uas(request, response, local_seq=500)
    received = reparse(response)
    assert isinstance(received, Response)
    uac = Dialog.from_uac(request, received)
    return uac, uas


def test_both_sides_agree_on_the_dialog_id_seen_from_each_end() -> None:
    uac, uas = uac_and_uas()
    assert uac.id == DialogId("dlg@192.0.2.1", "alice1", "bob1")
    assert uas.id == DialogId("dlg@192.0.2.1", "bob1", "alice1")
    assert uac.state is uas.state is DialogState.CONFIRMED
    assert uac.is_uac and not uas.is_uac


def test_route_sets_remote_targets_and_sequence_numbers() -> None:
    uac, uas = uac_and_uas()
    # §12.1.2: the UAC reverses Record-Route; §12.1.1: the UAS keeps its order.
    assert [str(r.uri) for r in uac.route_set] == ["sip:p2.example.com;lr", "sip:p1.example.com;lr"]
    assert [str(r.uri) for r in uas.route_set] == ["sip:p1.example.com;lr", "sip:p2.example.com;lr"]
    assert str(uac.remote_target) == "sip:bob@192.0.2.2:5070"
    assert str(uas.remote_target) == "sip:alice@192.0.2.1:5060"
    assert (uac.local_seq, uac.remote_seq) == (10, None)
    assert (uas.local_seq, uas.remote_seq) == (500, 10)
    assert uac.next_hop == ("p2.example.com", 5060)


def test_no_dialog_from_100_or_a_response_without_to_tag() -> None:
    request = invite()
    with pytest.raises(DialogError):
        Dialog.from_uac(request, make_response(request, 100))
    with pytest.raises(DialogError):
        Dialog.from_uac(request, answer(request, 180, tag=None))
    with pytest.raises(DialogError):
        Dialog.from_uas(request, answer(request, 486))


def test_uas_refuses_a_request_without_contact() -> None:
    request = invite()
    request.headers.remove("Contact")
    with pytest.raises(RemoteProtocolError):
        Dialog.from_uas(request, answer(request))


def test_an_early_dialog_is_confirmed_by_the_2xx_which_fixes_the_route_set() -> None:
    request = invite()
    ringing = make_response(request, 180, to_tag="bob1")  # no Contact, no Record-Route
    dialog = Dialog.from_uac(request, ringing)
    assert dialog.state is DialogState.EARLY
    assert dialog.remote_target == request.uri
    assert dialog.route_set == ()
    assert dialog.invite_pending
    dialog.receive_response(answer(request))
    assert dialog.state is DialogState.CONFIRMED
    assert len(dialog.route_set) == 2
    assert str(dialog.remote_target) == "sip:bob@192.0.2.2:5070"
    assert not dialog.invite_pending


def test_a_final_failure_ends_an_early_dialog() -> None:
    request = invite()
    dialog = Dialog.from_uac(request, make_response(request, 183, to_tag="bob1"))
    dialog.receive_response(make_response(request, 486, to_tag="bob1"))
    assert dialog.state is DialogState.TERMINATED


def test_uas_early_dialog_is_confirmed_or_ended_by_its_final_answer() -> None:
    request = invite()
    dialog = Dialog.from_uas(request, answer(request, 180))
    assert dialog.state is DialogState.EARLY
    dialog.response_sent(answer(request, 200))
    assert dialog.state is DialogState.CONFIRMED
    other = Dialog.from_uas(request, answer(request, 180))
    other.response_sent(answer(request, 480))
    assert other.state is DialogState.TERMINATED


def test_in_dialog_requests_carry_tags_routes_and_a_rising_cseq() -> None:
    uac, uas = uac_and_uas()
    bye = uac.create_bye()
    assert bye.method == "BYE"
    assert str(bye.uri) == "sip:bob@192.0.2.2:5070"  # loose routing: the remote target
    assert bye.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]
    assert str(bye.cseq) == "11 BYE"
    assert bye.from_.tag == "alice1" and bye.to.tag == "bob1"
    assert bye.call_id == "dlg@192.0.2.1"
    assert uac.state is DialogState.TERMINATED  # §15.1.1: a BYE ends it at once
    # The UAS side accepts it.
    assert uas.receive_request(sent(bye)) is None
    assert uas.remote_seq == 11
    assert uas.state is DialogState.TERMINATED


def test_the_uas_numbers_its_own_requests_from_its_own_start() -> None:
    _, uas = uac_and_uas()
    info = uas.create_info(b"Signal=5\r\nDuration=160\r\n", content_type="application/dtmf-relay")
    assert str(info.cseq) == "501 INFO"
    assert info.from_.tag == "bob1" and info.to.tag == "alice1"
    assert info.content_type == "application/dtmf-relay"
    assert info.body.startswith(b"Signal=5")
    assert str(info.uri) == "sip:alice@192.0.2.1:5060"
    assert uas.next_hop == ("p1.example.com", 5060)


def test_the_ack_for_a_2xx_reuses_the_invite_cseq_and_credentials() -> None:
    uac, _ = uac_and_uas()
    request = invite()
    ack = sent(uac.create_ack(request))
    assert str(ack.cseq) == "10 ACK"  # RFC 3261 §13.2.2.4
    assert uac.local_seq == 10  # an ACK does not use up a number
    assert ack.headers.get("Authorization") == 'Digest username="alice"'
    assert ack.headers.get_all("Route") == ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"]


def test_strict_routing_puts_the_remote_target_last() -> None:
    request = invite()
    request.headers.remove("Record-Route")
    request.headers.add("Record-Route", "<sip:strict.example.com>")
    uac = Dialog.from_uac(request, answer(request))
    bye = uac.create_bye()
    assert str(bye.uri) == "sip:strict.example.com"
    assert bye.headers.get_all("Route") == ["<sip:bob@192.0.2.2:5070>"]


def test_a_lower_cseq_gets_500() -> None:
    uac, uas = uac_and_uas()
    first = sent(uac.create_info(b"1", content_type="text/plain"))
    second = sent(uac.create_info(b"2", content_type="text/plain"))
    assert uas.receive_request(second) is None
    refusal = uas.receive_request(first)
    assert refusal is not None and refusal.status == 500  # §12.2.2
    assert uas.remote_seq == 12


def test_ack_and_cancel_are_not_sequence_checked() -> None:
    uac, uas = uac_and_uas()
    uas.receive_request(sent(uac.create_info(b"x", content_type="text/plain")))
    assert uas.receive_request(sent(uac.create_ack(invite()))) is None  # CSeq 10 < 11, still fine


def test_a_reinvite_refreshes_the_target_both_ways() -> None:
    uac, uas = uac_and_uas()
    hold = sent(uas.create_reinvite(b"v=0\r\na=sendonly\r\n"))
    hold.headers.set("Contact", "<sip:bob@198.51.100.20:5070>")
    assert hold.content_type == "application/sdp"
    assert uac.receive_request(hold) is None
    assert str(uac.remote_target) == "sip:bob@198.51.100.20:5070"
    ok = make_response(hold, 200, headers=[("Contact", "<sip:alice@203.0.113.1>")])
    uac.response_sent(ok)
    uas.receive_response(ok)
    assert str(uas.remote_target) == "sip:alice@203.0.113.1"
    assert not uac.invite_pending and not uas.invite_pending
    # Resume: the next re-INVITE is allowed now that the first has its answer.
    resume = uas.create_reinvite(b"v=0\r\na=sendrecv\r\n")
    assert str(resume.cseq) == "502 INVITE"


def test_crossing_reinvites_get_491_and_no_second_invite_while_one_is_pending() -> None:
    uac, uas = uac_and_uas()
    ours = sent(uac.create_reinvite(b"offer-a"))
    theirs = sent(uas.create_reinvite(b"offer-b"))
    refusal = uac.receive_request(theirs)
    assert refusal is not None and refusal.status == 491  # §14.2
    with pytest.raises(DialogError):
        uac.create_reinvite(b"again")  # §14.1: ours is still in progress
    assert uas.receive_request(ours) is not None  # the same glare seen from the other side
    uac.receive_response(make_response(ours, 491))
    assert not uac.invite_pending
    assert uac.state is DialogState.CONFIRMED


def test_a_second_remote_invite_before_we_answer_the_first_gets_500_with_retry_after() -> None:
    uac, uas = uac_and_uas()
    first = sent(uas.create_reinvite(b"a"))
    assert uac.receive_request(first) is None
    uas.receive_response(make_response(first, 200))  # pretend: let the UAS build another
    second = sent(uas.create_reinvite(b"b"))
    refusal = uac.receive_request(second)
    assert refusal is not None and refusal.status == 500
    retry = refusal.headers.get("Retry-After")
    assert retry is not None and 0 <= int(retry) <= 10


def test_glare_retry_delays_follow_section_14_1() -> None:
    uac, uas = uac_and_uas()
    rng = random.Random(7)
    uac_delays = [uac.glare_retry_delay(rng) for _ in range(200)]
    uas_delays = [uas.glare_retry_delay(rng) for _ in range(200)]
    assert all(2.1 <= d <= 4.0 for d in uac_delays)  # the Call-ID's owner
    assert all(0.0 <= d <= 2.0 for d in uas_delays)
    assert all(abs(d * 100 - round(d * 100)) < 1e-9 for d in uac_delays + uas_delays)  # 10 ms


def test_a_terminated_dialog_answers_481_and_refuses_to_build_requests() -> None:
    uac, uas = uac_and_uas()
    uas.terminate()
    info = sent(uac.create_info(b"x", content_type="text/plain"))
    refusal = uas.receive_request(info)
    assert refusal is not None and refusal.status == 481
    with pytest.raises(DialogError):
        uas.create_bye()
    with pytest.raises(DialogError):
        uac.create_request("ACK")


def test_481_or_408_to_an_in_dialog_request_ends_the_dialog() -> None:
    for status in (481, 408):
        uac, _ = uac_and_uas()
        info = sent(uac.create_info(b"x", content_type="text/plain"))
        uac.receive_response(make_response(info, status))
        assert uac.state is DialogState.TERMINATED


def test_dialog_ids_of_messages_and_fresh_identifiers() -> None:
    request = invite()
    assert uas_dialog_id(request) is None  # no To tag: out of dialog
    response = answer(request)
    assert uac_dialog_id(response) == DialogId("dlg@192.0.2.1", "alice1", "bob1")
    tag = new_tag()
    assert len(tag) == 12 and tag != new_tag()
    call_id = new_call_id("example.com")
    assert call_id.endswith("@example.com")
