"""DTMF: the RFC 4733 payload, one report per key press whatever the network does, SIP INFO."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.media import (
    DigitReceived,
    DtmfDetector,
    DtmfSender,
    MalformedPacketError,
    MediaError,
    RtpPacket,
    RtpSender,
    TelephoneEvent,
    parse_dtmf_relay,
)
from trunkline.media.dtmf import DIGITS, digit_event

PT = 101

# --- Payload -------------------------------------------------------------------------------


def test_golden_payloads_from_a_real_capture() -> None:
    # sipp's dtmf_2833_5.pcap: the start packet, then the end packet (sent three times).
    assert TelephoneEvent.parse(bytes.fromhex("050a0000")) == TelephoneEvent(5, False, 10, 0)
    assert TelephoneEvent.parse(bytes.fromhex("058a08c0")) == TelephoneEvent(5, True, 10, 2240)
    assert bytes(TelephoneEvent(5, True, 10, 2240)) == bytes.fromhex("058a08c0")


def test_the_reserved_bit_is_ignored_and_extra_octets_tolerated() -> None:
    # R (0x40) is reserved; RFC 4733 §2.5.1.5 may append blocks for earlier events.
    event = TelephoneEvent.parse(bytes.fromhex("0bca03200a8a0320"))
    assert event == TelephoneEvent(11, True, 10, 800)
    assert event.digit == "#"


def test_short_payloads_are_malformed() -> None:
    with pytest.raises(MalformedPacketError):
        TelephoneEvent.parse(b"\x05\x0a\x00")


def test_fields_that_do_not_fit_are_refused() -> None:
    with pytest.raises(MediaError):
        TelephoneEvent(5, volume=64)
    with pytest.raises(MediaError):
        TelephoneEvent(5, duration=1 << 16)


@given(
    st.builds(
        TelephoneEvent,
        st.integers(0, 255),
        st.booleans(),
        st.integers(0, 63),
        st.integers(0, 65535),
    )
)
def test_any_event_survives_serialize_then_parse(event: TelephoneEvent) -> None:
    assert TelephoneEvent.parse(bytes(event)) == event


def test_event_codes_of_the_sixteen_digits() -> None:
    assert [digit_event(d) for d in "0123456789*#ABCD"] == list(range(16))
    assert digit_event("b") == 13
    with pytest.raises(MediaError):
        digit_event("E")


# --- Sender and detector back to back ------------------------------------------------------


def train(digit: str, *, ssrc: int = 42, duration_s: float = 0.1) -> list[RtpPacket]:
    rtp = RtpSender(0, ssrc=ssrc, sequence_number=1000, timestamp=8000)
    return [
        RtpPacket.parse(p.data) for p in DtmfSender(rtp, PT).packets(digit, duration_s=duration_s)
    ]


def test_the_packet_train_follows_rfc_4733() -> None:
    rtp = RtpSender(0, ssrc=42, sequence_number=1000, timestamp=8000)
    scheduled = DtmfSender(rtp, PT).packets("7", duration_s=0.12)
    packets = [RtpPacket.parse(p.data) for p in scheduled]
    events = [TelephoneEvent.parse(p.payload) for p in packets]
    # Start, updates every 50 ms, end at 120 ms, end repeated twice 50 ms apart.
    assert [p.at_s for p in scheduled] == pytest.approx([0.0, 0.05, 0.1, 0.12, 0.17, 0.22])
    assert [e.duration for e in events] == [0, 400, 800, 960, 960, 960]
    assert [e.end for e in events] == [False] * 3 + [True] * 3
    assert {e.event for e in events} == {7}
    assert [p.marker for p in packets] == [True] + [False] * 5
    assert {p.timestamp for p in packets} == {8000}  # one timestamp for the whole event
    assert {p.payload_type for p in packets} == {PT}
    assert [p.sequence_number for p in packets] == list(range(1000, 1006))
    # Audio resumes after the train with the clock moved on by the time the train took.
    audio = RtpPacket.parse(rtp.packet(b"\xff" * 160, samples=160))
    assert (audio.payload_type, audio.sequence_number) == (0, 1006)
    assert audio.timestamp == 8000 + round(0.22 * 8000)


@pytest.mark.parametrize("digit", list(DIGITS))
def test_every_digit_is_reported_exactly_once(digit: str) -> None:
    detector = DtmfDetector(PT)
    reports = [r for i, p in enumerate(train(digit)) for r in detector.receive(p, 0.05 * i)]
    assert reports == [
        DigitReceived(digit=digit, duration_ms=100, rtp_timestamp=8000, end_seen=True)
    ]
    assert detector.next_deadline() is None
    assert detector.handle_timer(100.0) == []


def test_a_captured_style_train_with_one_sequence_number_for_the_repeats() -> None:
    # Some gateways repeat the end packet verbatim (same sequence number); sipp's captures
    # do. Only the timestamp identifies the key press, so this is still one digit.
    detector = DtmfDetector(PT)
    start = RtpPacket(
        payload_type=PT,
        sequence_number=1,
        timestamp=500,
        ssrc=9,
        marker=True,
        payload=bytes(TelephoneEvent(3, False, 10, 0)),
    )
    end = RtpPacket(
        payload_type=PT,
        sequence_number=2,
        timestamp=500,
        ssrc=9,
        payload=bytes(TelephoneEvent(3, True, 10, 800)),
    )
    got = detector.receive(start, 0.0) + sum((detector.receive(end, 0.1) for _ in range(3)), [])
    assert [r.digit for r in got] == ["3"]


def test_lost_end_packets_are_covered_by_the_next_event() -> None:
    detector = DtmfDetector(PT)
    first = [p for p in train("1") if not TelephoneEvent.parse(p.payload).end]
    second = train("2", duration_s=0.1)
    second = [replace(p, timestamp=16000, sequence_number=2000 + i) for i, p in enumerate(second)]
    reports: list[DigitReceived] = []
    for i, packet in enumerate(first + second):
        reports += detector.receive(packet, 0.05 * i)
    assert [(r.digit, r.end_seen) for r in reports] == [("1", False), ("2", True)]
    assert reports[0].duration_ms == 50  # the longest duration that did arrive


def test_lost_end_packets_of_the_last_digit_are_covered_by_the_timeout() -> None:
    detector = DtmfDetector(PT, timeout_s=0.5)
    start = train("9")[0]
    assert detector.receive(start, 10.0) == []
    assert detector.next_deadline() == pytest.approx(10.5)
    assert detector.handle_timer(10.49) == []
    assert [r.digit for r in detector.handle_timer(10.5)] == ["9"]
    assert detector.next_deadline() is None
    # End packets straggling in after the timeout must not report the digit again.
    for packet in train("9")[1:]:
        assert detector.receive(packet, 10.6) == []


def test_a_long_press_keeps_the_digit_open_while_updates_arrive() -> None:
    detector = DtmfDetector(PT, timeout_s=0.5)
    packets = train("5", duration_s=2.0)
    for i, packet in enumerate(packets[:-3]):
        assert detector.receive(packet, 0.05 * i) == []
        assert detector.handle_timer(0.05 * i + 0.2) == []
    (report,) = detector.receive(packets[-3], 2.0)
    assert (report.digit, report.duration_ms) == ("5", 2000)


def test_other_payload_types_and_non_digit_events_are_ignored() -> None:
    detector = DtmfDetector(PT)
    audio = RtpPacket(payload_type=0, sequence_number=1, timestamp=0, ssrc=1, payload=b"\xff")
    flash = RtpPacket(
        payload_type=PT,
        sequence_number=2,
        timestamp=160,
        ssrc=1,
        payload=bytes(TelephoneEvent(16, True, 10, 800)),
    )
    assert detector.receive(audio, 0.0) == [] and detector.receive(flash, 0.0) == []
    assert detector.next_deadline() is None


def test_the_same_timestamp_from_another_source_is_another_key_press() -> None:
    detector = DtmfDetector(PT)
    a = [r.digit for i, p in enumerate(train("4", ssrc=1)) for r in detector.receive(p, i)]
    b = [r.digit for i, p in enumerate(train("4", ssrc=2)) for r in detector.receive(p, i)]
    assert a == b == ["4"]


def test_a_malformed_event_payload_raises_for_the_caller_to_drop() -> None:
    detector = DtmfDetector(PT)
    bad = RtpPacket(payload_type=PT, sequence_number=1, timestamp=0, ssrc=1, payload=b"\x01")
    with pytest.raises(MalformedPacketError):
        detector.receive(bad, 0.0)


def test_digits_that_do_not_fit_one_segment_are_refused() -> None:
    sender = DtmfSender(RtpSender(0, ssrc=1), PT)
    with pytest.raises(MediaError):
        sender.packets("1", duration_s=9.0)  # 72000 samples > 65535
    with pytest.raises(MediaError):
        sender.packets("X")


# --- SIP INFO application/dtmf-relay -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        ("Signal=5\r\nDuration=160\r\n", "5"),
        ("Signal= *\r\nDuration= 250", "*"),
        ("signal=#\n", "#"),
        ("Duration=100\r\nSignal=d\r\n", "D"),
        ("Signal=10\r\nDuration=160", "*"),  # the event number, as some phones send it
        ("Signal=11", "#"),
        ("Signal=15", "D"),
        ("Signal=16", None),
        ("Signal=X\r\nDuration=160", None),
        ("Duration=160", None),
        ("", None),
        ("garbage", None),
    ],
)
def test_dtmf_relay_bodies(body: str, digit: str | None) -> None:
    assert parse_dtmf_relay(body) == digit
