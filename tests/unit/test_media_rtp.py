"""RTP: golden headers, hostile input, the sender's numbering and the receiver's statistics."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.media import (
    DtmfDetector,
    HeaderExtension,
    MalformedPacketError,
    MediaError,
    RtpPacket,
    RtpReceiver,
    RtpSender,
    alaw_decode,
    is_rtcp,
)

# --- Golden packets ------------------------------------------------------------------------

# The first telephone-event packet of sipp's dtmf_2833_5.pcap: V=2, M=1, PT=101,
# seq 0x1fdb, timestamp 0xa8c0, SSRC 0x0e05384e; payload event 5, volume 10, duration 0.
SIPP_DTMF_START = bytes.fromhex("80e51fdb0000a8c00e05384e050a0000")

# Built by hand: V=2 P=1 X=1 CC=2 | M=0 PT=8 | seq 65535 | ts 0xFFFFFFFF | SSRC 0xdeadbeef
# | CSRC 1, 2 | extension profile 0xBEDE, 1 word: 01 02 03 04 | payload "abc"
# | 3 octets of padding, the last one counting them.
HAND_BUILT = bytes.fromhex(
    "b2" "08" "ffff" "ffffffff" "deadbeef"
    "00000001" "00000002"
    "bede0001" "01020304"
    "616263"
    "000003"
)  # fmt: skip


def test_a_captured_dtmf_header_parses_to_its_fields() -> None:
    packet = RtpPacket.parse(SIPP_DTMF_START)
    assert packet == RtpPacket(
        payload_type=101,
        sequence_number=0x1FDB,
        timestamp=0xA8C0,
        ssrc=0x0E05384E,
        payload=b"\x05\x0a\x00\x00",
        marker=True,
    )
    assert bytes(packet) == SIPP_DTMF_START


def test_every_optional_header_part_parses_and_serializes_back() -> None:
    packet = RtpPacket.parse(HAND_BUILT)
    assert packet.payload_type == 8 and not packet.marker
    assert (packet.sequence_number, packet.timestamp) == (65535, 0xFFFFFFFF)
    assert packet.ssrc == 0xDEADBEEF
    assert packet.csrc == (1, 2)
    assert packet.extension == HeaderExtension(0xBEDE, b"\x01\x02\x03\x04")
    assert packet.payload == b"abc"
    assert packet.padding == 3
    assert bytes(packet) == HAND_BUILT


def test_a_minimal_header_with_empty_payload_is_valid() -> None:
    packet = RtpPacket.parse(bytes.fromhex("80000001000000a012345678"))
    assert (packet.payload_type, packet.sequence_number, packet.timestamp) == (0, 1, 160)
    assert packet.payload == b""


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "shorter than 12"),
        (bytes.fromhex("80000001000000a0123456"), "shorter than 12"),
        (bytes.fromhex("40000001000000a012345678"), "version 1"),
        (bytes.fromhex("c0000001000000a012345678"), "version 3"),
        (bytes.fromhex("81000001000000a012345678"), "CSRC"),  # CC=1, nothing follows
        (bytes.fromhex("90000001000000a012345678"), "no extension header"),
        (bytes.fromhex("90000001000000a012345678bede0002aabbccdd"), "past the packet"),
        (bytes.fromhex("a0000001000000a012345678aa00"), "padding count 0"),
        (bytes.fromhex("a0000001000000a012345678aa03"), "padding count 3"),
        (bytes.fromhex("a0000001000000a01234567802"), "padding count 2"),
    ],
)
def test_malformed_packets_are_rejected_as_remote_errors(data: bytes, why: str) -> None:
    with pytest.raises(MalformedPacketError, match=why) as info:
        RtpPacket.parse(data)
    assert info.value.error_id == "rtp_malformed"


def test_padding_may_take_the_whole_payload() -> None:
    packet = RtpPacket.parse(bytes.fromhex("a0000001000000a0123456780002"))
    assert packet.payload == b"" and packet.padding == 2


def test_packets_that_cannot_be_encoded_are_refused_when_built() -> None:
    with pytest.raises(MediaError):
        RtpPacket(payload_type=128, sequence_number=0, timestamp=0, ssrc=0)
    with pytest.raises(MediaError):
        RtpPacket(payload_type=0, sequence_number=1 << 16, timestamp=0, ssrc=0)
    with pytest.raises(MediaError):
        RtpPacket(payload_type=0, sequence_number=0, timestamp=0, ssrc=0, csrc=(0,) * 16)
    with pytest.raises(MediaError):
        HeaderExtension(1, b"abc")


# --- Properties ----------------------------------------------------------------------------

u32 = st.integers(0, (1 << 32) - 1)
packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence_number=st.integers(0, 65535),
    timestamp=u32,
    ssrc=u32,
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrc=st.lists(u32, max_size=15).map(tuple),
    extension=st.none()
    | st.builds(
        HeaderExtension,
        st.integers(0, 65535),
        st.integers(0, 8).flatmap(lambda words: st.binary(min_size=4 * words, max_size=4 * words)),
    ),
    padding=st.integers(0, 255),
)


@given(packets)
def test_any_packet_survives_serialize_then_parse(packet: RtpPacket) -> None:
    assert RtpPacket.parse(bytes(packet)) == packet


@given(st.binary(max_size=120))
def test_arbitrary_bytes_parse_or_raise_malformed_and_nothing_else(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except MalformedPacketError:
        return
    assert RtpPacket.parse(bytes(packet)) == packet


@given(st.binary(min_size=12, max_size=60))
def test_version_2_bytes_mostly_parse_and_reserialize_to_the_same_header(data: bytes) -> None:
    data = bytes([0x80 | data[0] & 0x0F]) + data[1:]  # V=2, no padding, no extension
    try:
        packet = RtpPacket.parse(data)
    except MalformedPacketError:
        assert 12 + 4 * (data[0] & 0x0F) > len(data)  # only the CSRC list can overrun
        return
    assert bytes(packet) == data


# --- RTCP on the RTP port ------------------------------------------------------------------


def test_rtcp_is_told_apart_from_rtp_by_the_second_octet() -> None:
    receiver_report = bytes.fromhex("80c9000112345678")  # RR, no report blocks
    sender_report = bytes.fromhex("80c8000612345678") + bytes(20)
    assert is_rtcp(receiver_report) and is_rtcp(sender_report)
    assert not is_rtcp(SIPP_DTMF_START)  # PT 101 with marker: 0xE5 = 229
    assert not is_rtcp(bytes.fromhex("80800001000000a012345678"))  # PT 0 with marker
    assert not is_rtcp(bytes.fromhex("80e00001000000a012345678"))  # PT 96 with marker
    assert not is_rtcp(b"\x80\xc9")  # too short for any RTCP packet


# --- Sender --------------------------------------------------------------------------------


def test_the_sender_starts_from_random_values_and_then_counts() -> None:
    a = RtpSender(0, rng=random.Random(1))
    b = RtpSender(0, rng=random.Random(2))
    assert (a.ssrc, a.sequence_number, a.timestamp) != (b.ssrc, b.sequence_number, b.timestamp)
    again = RtpSender(0, rng=random.Random(1))
    assert (again.ssrc, again.sequence_number) == (a.ssrc, a.sequence_number)

    first = RtpPacket.parse(a.packet(b"\xff" * 160, samples=160, marker=True))
    second = RtpPacket.parse(a.packet(b"\xff" * 160, samples=160))
    assert first.marker and not second.marker
    assert first.ssrc == second.ssrc == a.ssrc
    assert second.sequence_number == (first.sequence_number + 1) % 65536
    assert second.timestamp == (first.timestamp + 160) % (1 << 32)
    assert (a.packets_sent, a.octets_sent) == (2, 320)


def test_sequence_and_timestamp_wrap_around() -> None:
    sender = RtpSender(8, ssrc=7, sequence_number=65534, timestamp=(1 << 32) - 160)
    seen = [RtpPacket.parse(sender.packet(b"x", samples=160)) for _ in range(3)]
    assert [p.sequence_number for p in seen] == [65534, 65535, 0]
    assert [p.timestamp for p in seen] == [(1 << 32) - 160, 0, 160]
    assert {p.ssrc for p in seen} == {7} and {p.payload_type for p in seen} == {8}


def test_a_packet_may_use_another_payload_type_and_skip_advances_the_clock() -> None:
    sender = RtpSender(0, ssrc=1, sequence_number=10, timestamp=1000)
    event = RtpPacket.parse(sender.packet(b"\x05\x0a\x00\x00", samples=0, payload_type=101))
    assert event.payload_type == 101 and sender.timestamp == 1000
    sender.skip(480)
    audio = RtpPacket.parse(sender.packet(b"\xff", samples=160))
    assert (audio.payload_type, audio.sequence_number, audio.timestamp) == (0, 11, 1480)


# --- Receiver ------------------------------------------------------------------------------


def feed(receiver: RtpReceiver, seqs: list[int], *, ssrc: int = 1) -> None:
    for i, seq in enumerate(seqs):
        packet = RtpPacket(payload_type=0, sequence_number=seq, timestamp=160 * i, ssrc=ssrc)
        receiver.receive(packet, 0.02 * i)


def test_in_order_packets_lose_nothing() -> None:
    receiver = RtpReceiver()
    feed(receiver, list(range(100, 150)))
    assert (receiver.expected, receiver.received, receiver.lost) == (50, 50, 0)


def test_gaps_count_as_loss() -> None:
    receiver = RtpReceiver()
    feed(receiver, [1, 2, 4, 5, 9, 10])
    assert (receiver.expected, receiver.received, receiver.lost) == (10, 6, 4)


def test_loss_is_counted_across_the_sequence_wrap() -> None:
    receiver = RtpReceiver()
    seqs = [(65530 + i) % 65536 for i in range(20)]
    del seqs[8]  # 65538 -> 2 never arrives
    feed(receiver, seqs)
    assert receiver.extended_max_sequence == 65536 + 13
    assert (receiver.expected, receiver.received, receiver.lost) == (20, 19, 1)


def test_a_late_packet_fills_its_gap_and_a_duplicate_makes_loss_negative() -> None:
    receiver = RtpReceiver()
    feed(receiver, [1, 2, 4, 3, 5])
    assert receiver.lost == 0
    feed(receiver, [6, 6])
    assert receiver.lost == -1  # RFC 3550 §6.4.1: duplicates are counted


def test_a_sequence_restart_is_believed_only_after_two_packets_in_a_row() -> None:
    receiver = RtpReceiver()
    feed(receiver, [100, 101, 102])
    stray = RtpPacket(payload_type=0, sequence_number=40000, timestamp=0, ssrc=1)
    assert not receiver.receive(stray, 1.0)
    assert (receiver.expected, receiver.received) == (3, 3)
    follow = RtpPacket(payload_type=0, sequence_number=40001, timestamp=160, ssrc=1)
    assert receiver.receive(follow, 1.02)
    assert (receiver.expected, receiver.received, receiver.lost) == (1, 1, 0)


def test_a_new_ssrc_starts_new_statistics() -> None:
    receiver = RtpReceiver()
    feed(receiver, [1, 3], ssrc=1)
    feed(receiver, [500, 501], ssrc=2)
    assert (receiver.ssrc, receiver.expected, receiver.lost, receiver.ssrc_changes) == (2, 2, 0, 1)


def test_steady_arrivals_have_no_jitter_even_across_the_timestamp_wrap() -> None:
    receiver = RtpReceiver()
    start = (1 << 32) - 800
    for i in range(20):
        ts = (start + 160 * i) % (1 << 32)
        packet = RtpPacket(payload_type=0, sequence_number=i, timestamp=ts, ssrc=1)
        receiver.receive(packet, 5.0 + 0.02 * i)
    assert receiver.jitter == pytest.approx(0.0, abs=1e-6)


def test_jitter_follows_the_rfc_3550_estimator() -> None:
    receiver = RtpReceiver()
    # Every other packet arrives 5 ms late, so each transit difference is 40 samples and
    # RFC 3550 §6.4.1 gives J_n = 40 * (1 - (15/16)^n) after n differences.
    for i in range(30):
        packet = RtpPacket(payload_type=0, sequence_number=i, timestamp=160 * i, ssrc=1)
        receiver.receive(packet, 0.02 * i + (0.005 if i % 2 else 0.0))
    assert receiver.jitter == pytest.approx(40 * (1 - (15 / 16) ** 29))
    assert receiver.jitter_ms == pytest.approx(receiver.jitter / 8)


def test_packets_sharing_a_timestamp_do_not_count_as_jitter() -> None:
    receiver = RtpReceiver()
    for i in range(6):  # one telephone event: updates 50 ms apart, one timestamp
        packet = RtpPacket(payload_type=101, sequence_number=i, timestamp=8000, ssrc=1)
        receiver.receive(packet, 0.05 * i)
    assert receiver.jitter == 0.0 and receiver.lost == 0


# --- Real captures (Debian's sip-tester package ships them; skipped without it) -----------

SIPP = Path("/usr/share/sip-tester")
PCMA_SILENCE = b"\xd5"


def capture_rtp(path: Path) -> list[tuple[float, bytes]]:
    """UDP payloads of a classic little-endian pcap file of Ethernet/IPv4 frames."""
    data = path.read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4
    out, offset = [], 24
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        frame = data[offset + 16 : offset + 16 + length]
        offset += 16 + length
        ip_header = (frame[14] & 0x0F) * 4
        out.append((seconds + micros / 1e6, frame[14 + ip_header + 8 :]))
    return out


needs_sipp = pytest.mark.skipif(not SIPP.is_dir(), reason="sip-tester captures not installed")


@needs_sipp
def test_a_real_g711a_call_leg_parses_with_no_loss_and_low_jitter() -> None:
    receiver = RtpReceiver()
    payloads = []
    for arrival, datagram in capture_rtp(SIPP / "g711a.pcap"):
        assert not is_rtcp(datagram)
        packet = RtpPacket.parse(datagram)
        assert bytes(packet) == datagram
        receiver.receive(packet, arrival)
        payloads.append(packet.payload)
    assert (receiver.expected, receiver.lost) == (236, 0)
    assert receiver.jitter_ms < 2.0
    assert {len(p) for p in payloads} == {240}  # 30 ms packets
    assert payloads[0] == PCMA_SILENCE * 240  # the leg opens with A-law silence...
    assert alaw_decode(payloads[0][:1]) == struct.pack("<h", 8)  # ...which decodes to +8


@needs_sipp
@pytest.mark.parametrize(
    ("name", "digit"), [(str(n), str(n)) for n in range(10)] + [("star", "*"), ("pound", "#")]
)
def test_real_rfc_2833_captures_yield_their_digit_once(name: str, digit: str) -> None:
    detector = DtmfDetector(101)
    reports = []
    for arrival, datagram in capture_rtp(SIPP / f"dtmf_2833_{name}.pcap"):
        reports += detector.receive(RtpPacket.parse(datagram), arrival)
    assert [(r.digit, r.end_seen, r.duration_ms) for r in reports] == [(digit, True, 280)]
