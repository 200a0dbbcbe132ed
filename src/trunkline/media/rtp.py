"""RTP packets (RFC 3550 §5.1), a sans-IO sender and a receiver that keeps loss and jitter."""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass
from typing import Final

from trunkline.media.errors import MalformedPacketError, MediaError

RTP_VERSION: Final = 2
HEADER_SIZE: Final = 12

_SEQ_MOD: Final = 1 << 16
_TS_MOD: Final = 1 << 32
_FIXED_HEADER: Final = struct.Struct("!BBHII")
_EXTENSION_HEADER: Final = struct.Struct("!HH")


@dataclass(frozen=True, slots=True)
class HeaderExtension:
    """The single RTP header extension of RFC 3550 §5.3.1: a profile word and data."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.profile < _SEQ_MOD:
            raise MediaError(f"extension profile {self.profile} does not fit 16 bits")
        # RFC 3550 §5.3.1: the length field counts 32-bit words.
        if len(self.data) % 4 or len(self.data) // 4 >= _SEQ_MOD:
            raise MediaError("extension data must be a whole number of 32-bit words")


@dataclass(slots=True, kw_only=True)
class RtpPacket:
    """One RTP data packet. ``padding`` is the number of padding octets (0: no P bit).

    Mutable like aiortc's, and for speed: a frozen dataclass costs ~3x as much to build,
    and one is built for every packet received.
    """

    payload_type: int
    sequence_number: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: HeaderExtension | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type < 128:
            raise MediaError(f"payload type {self.payload_type} does not fit 7 bits")
        if not 0 <= self.sequence_number < _SEQ_MOD:
            raise MediaError(f"sequence number {self.sequence_number} does not fit 16 bits")
        if not 0 <= self.timestamp < _TS_MOD or not 0 <= self.ssrc < _TS_MOD:
            raise MediaError("timestamp and SSRC must fit 32 bits")
        if self.csrc and (len(self.csrc) > 15 or not all(0 <= c < _TS_MOD for c in self.csrc)):
            raise MediaError("at most 15 CSRCs of 32 bits each")  # RFC 3550 §5.1: CC
        # RFC 3550 §5.1: the last padding octet counts the padding, itself included.
        if not 0 <= self.padding < 256:
            raise MediaError(f"padding of {self.padding} octets does not fit its count octet")

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Decode one datagram; anything that is not a valid RTP packet raises
        :class:`MalformedPacketError` (RFC 3550 §A.1 lists the validity checks)."""
        if len(data) < HEADER_SIZE:
            raise MalformedPacketError(f"RTP packet of {len(data)} octets is shorter than 12")
        first, second, sequence_number, timestamp, ssrc = _FIXED_HEADER.unpack_from(data)
        if first >> 6 != RTP_VERSION:
            raise MalformedPacketError(f"RTP version {first >> 6}, expected 2")
        csrc_count = first & 0x0F
        offset = HEADER_SIZE + 4 * csrc_count
        if offset > len(data):
            raise MalformedPacketError(f"{csrc_count} CSRCs do not fit in the packet")
        csrc = struct.unpack_from(f"!{csrc_count}I", data, HEADER_SIZE)
        extension = None
        if first & 0x10:
            if offset + 4 > len(data):
                raise MalformedPacketError("extension bit set but no extension header")
            profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
            start, offset = offset + 4, offset + 4 + 4 * words
            if offset > len(data):
                raise MalformedPacketError("header extension runs past the packet")
            extension = HeaderExtension(profile, bytes(data[start:offset]))
        end = len(data)
        padding = 0
        if first & 0x20:
            padding = data[-1]
            # A count of zero is impossible (the count octet pads itself), and padding may
            # not eat into the header.
            if padding == 0 or padding > end - offset:
                raise MalformedPacketError(f"padding count {padding} is not in the payload")
            end -= padding
        return cls(
            payload_type=second & 0x7F,
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset:end]),
            marker=bool(second & 0x80),
            csrc=csrc,
            extension=extension,
            padding=padding,
        )

    def __bytes__(self) -> bytes:
        first = RTP_VERSION << 6 | len(self.csrc)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        second = self.payload_type | (0x80 if self.marker else 0)
        parts = [
            _FIXED_HEADER.pack(first, second, self.sequence_number, self.timestamp, self.ssrc),
            struct.pack(f"!{len(self.csrc)}I", *self.csrc),
        ]
        if self.extension is not None:
            ext = self.extension
            parts += [_EXTENSION_HEADER.pack(ext.profile, len(ext.data) // 4), ext.data]
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def is_rtcp(data: bytes) -> bool:
    """True for an RTCP packet arriving on the RTP port (RFC 5761 §4 demultiplexing).

    RTCP packet types 192–223 occupy the second octet where RTP keeps marker and payload
    type; RFC 5761 §4 keeps RTP payload types 64–95 free so the two never collide.
    """
    return len(data) >= 8 and data[0] >> 6 == RTP_VERSION and 192 <= data[1] <= 223


class RtpSender:
    """Numbers outgoing packets of one RTP stream; the caller sends the bytes it returns.

    Sequence number and timestamp start at random values (RFC 3550 §5.1) so that known
    plaintext is less useful to an attacker against encryption; SSRC is random too
    (RFC 3550 §8.1) unless a value is given.
    """

    def __init__(
        self,
        payload_type: int,
        *,
        ssrc: int | None = None,
        rng: random.Random | None = None,
        sequence_number: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        rng = rng or random.Random()
        if ssrc is not None and not 0 <= ssrc < _TS_MOD:
            raise MediaError(f"SSRC {ssrc} does not fit 32 bits")
        self.payload_type = payload_type
        self.ssrc = rng.getrandbits(32) if ssrc is None else ssrc
        self.sequence_number = (
            rng.getrandbits(16) if sequence_number is None else sequence_number % _SEQ_MOD
        )
        self.timestamp = rng.getrandbits(32) if timestamp is None else timestamp % _TS_MOD
        self.packets_sent = 0
        self.octets_sent = 0  # payload octets, as RTCP SR counts them (RFC 3550 §6.4.1)

    def packet(
        self,
        payload: bytes,
        *,
        samples: int,
        marker: bool = False,
        payload_type: int | None = None,
    ) -> bytes:
        """Serialize the next packet, then advance the timestamp by ``samples``.

        The packet carries the current timestamp: ``samples`` is how many sampling
        periods the payload covers (160 for 20 ms of G.711). A telephone event keeps one
        timestamp across its packets (RFC 4733 §2.5.1.2), so those pass ``samples=0``.
        """
        pt = self.payload_type if payload_type is None else payload_type
        if not 0 <= pt < 128:
            raise MediaError(f"payload type {pt} does not fit 7 bits")
        # Packed directly rather than through RtpPacket: this runs 50 times a second per
        # call, and every field is already known to be in range.
        header = _FIXED_HEADER.pack(
            RTP_VERSION << 6,
            pt | (0x80 if marker else 0),
            self.sequence_number,
            self.timestamp,
            self.ssrc,
        )
        self.sequence_number = (self.sequence_number + 1) % _SEQ_MOD
        self.timestamp = (self.timestamp + samples) % _TS_MOD
        self.packets_sent += 1
        self.octets_sent += len(payload)
        return header + payload

    def skip(self, samples: int) -> None:
        """Advance the timestamp over media that was not sent (silence, dropped frames).

        RFC 3550 §5.1: the timestamp follows the sampling clock, so a gap in sending shows
        as a timestamp jump with consecutive sequence numbers, not as loss.
        """
        self.timestamp = (self.timestamp + samples) % _TS_MOD


# RFC 3550 Appendix A.1: a jump forward of up to MAX_DROPOUT counts as loss, a step back of
# up to MAX_MISORDER as a late packet; anything else is a suspected restart of the sender.
_MAX_DROPOUT: Final = 3000
_MAX_MISORDER: Final = 100


@dataclass(slots=True)
class _SourceState:
    ssrc: int
    base_seq: int
    max_seq: int
    cycles: int = 0  # wrap-arounds seen, times 2^16
    bad_seq: int = -1  # the sequence number that would confirm a restart
    received: int = 0
    last_timestamp: int | None = None
    last_arrival: float = 0.0
    jitter: float = 0.0  # in timestamp units, RFC 3550 §6.4.1


class RtpReceiver:
    """Reception statistics of one RTP stream: expected, received, lost and jitter.

    Arrival times are arguments (seconds on any monotonic clock). A new SSRC restarts the
    statistics: it is a new source (RFC 3550 §8), such as after a transfer or re-INVITE.
    """

    def __init__(self, clock_rate: int = 8000) -> None:
        self.clock_rate = clock_rate
        self._source: _SourceState | None = None
        self.ssrc_changes = 0

    @property
    def ssrc(self) -> int | None:
        return None if self._source is None else self._source.ssrc

    @property
    def received(self) -> int:
        return 0 if self._source is None else self._source.received

    @property
    def extended_max_sequence(self) -> int:
        """Highest sequence number seen, with wrap-arounds counted in the high bits."""
        source = self._source
        return 0 if source is None else source.cycles + source.max_seq

    @property
    def expected(self) -> int:
        source = self._source
        if source is None:
            return 0
        return source.cycles + source.max_seq - source.base_seq + 1  # RFC 3550 §A.3

    @property
    def lost(self) -> int:
        """Cumulative loss; negative when duplicates outnumber losses (RFC 3550 §6.4.1)."""
        return self.expected - self.received

    @property
    def jitter(self) -> float:
        """Interarrival jitter in timestamp units (RFC 3550 §6.4.1)."""
        return 0.0 if self._source is None else self._source.jitter

    @property
    def jitter_ms(self) -> float:
        return self.jitter * 1000.0 / self.clock_rate

    def receive(self, packet: RtpPacket, arrival: float) -> bool:
        """Account for one packet; False when it was set aside as a suspected restart."""
        source = self._source
        seq = packet.sequence_number
        if source is None or source.ssrc != packet.ssrc:
            if source is not None:
                self.ssrc_changes += 1
            source = self._source = _SourceState(packet.ssrc, seq, seq)
        elif not self._update_sequence(source, seq):
            return False
        source.received += 1
        self._update_jitter(source, packet.timestamp, arrival)
        return True

    def _update_sequence(self, source: _SourceState, seq: int) -> bool:
        delta = (seq - source.max_seq) % _SEQ_MOD
        if delta < _MAX_DROPOUT:
            if seq < source.max_seq:
                source.cycles += _SEQ_MOD  # in order, but the 16-bit counter wrapped
            source.max_seq = seq
        elif delta <= _SEQ_MOD - _MAX_MISORDER:
            # A big jump: either a stray packet or the sender restarted its numbering.
            # Only two in a row (this one and its successor) prove a restart (§A.1).
            if seq != source.bad_seq:
                source.bad_seq = (seq + 1) % _SEQ_MOD
                return False
            source.base_seq = source.max_seq = seq
            source.cycles, source.received, source.bad_seq = 0, 0, -1
            source.last_timestamp = None
        # Otherwise: a duplicate or a late packet within MAX_MISORDER; counted as received.
        return True

    def _update_jitter(self, source: _SourceState, timestamp: int, arrival: float) -> None:
        last = source.last_timestamp
        if last is not None and timestamp == last:
            # Packets sharing a timestamp (telephone-event updates, RFC 4733 §2.5.1.2) were
            # sampled at one instant; their spread is the sender's pacing, not the network's.
            return
        if last is not None:
            # RFC 3550 §6.4.1 / §A.8: D(i-1, i) from transit times, with the timestamp
            # difference taken modulo 2^32 so a wrap does not look like a 2^32 jump.
            elapsed = (timestamp - last) % _TS_MOD
            if elapsed >= _TS_MOD // 2:
                elapsed -= _TS_MOD
            d = (arrival - source.last_arrival) * self.clock_rate - elapsed
            source.jitter += (abs(d) - source.jitter) / 16.0
        source.last_timestamp = timestamp
        source.last_arrival = arrival
