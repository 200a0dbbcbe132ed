"""DTMF as RFC 4733 telephone events (detect once, send) and as SIP INFO dtmf-relay bodies."""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass
from typing import Final

from trunkline.media.errors import MalformedPacketError, MediaError
from trunkline.media.rtp import RtpPacket, RtpSender

# RFC 4733 §3.2: events 0-9 are the digits, then *, #, A, B, C, D.
DIGITS: Final = "0123456789*#ABCD"
_EVENT_OF: Final = {digit: event for event, digit in enumerate(DIGITS)}
_PAYLOAD: Final = struct.Struct("!BBH")


def digit_event(digit: str) -> int:
    """The event code of a DTMF digit ('0'–'9', '*', '#', 'A'–'D', any case)."""
    try:
        return _EVENT_OF[digit.upper()]
    except KeyError:
        raise MediaError(f"{digit!r} is not a DTMF digit") from None


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """The four-octet telephone-event payload of RFC 4733 §2.3."""

    event: int
    end: bool = False
    volume: int = 10  # power level in -dBm0, 0..63 (RFC 4733 §2.3.4)
    duration: int = 0  # in timestamp units since the event began (RFC 4733 §2.3.5)

    def __post_init__(self) -> None:
        if not 0 <= self.event < 256:
            raise MediaError(f"event {self.event} does not fit 8 bits")
        if not 0 <= self.volume < 64:
            raise MediaError(f"volume {self.volume} does not fit 6 bits")
        if not 0 <= self.duration < 1 << 16:
            raise MediaError(f"duration {self.duration} does not fit 16 bits")

    @property
    def digit(self) -> str | None:
        return DIGITS[self.event] if self.event < len(DIGITS) else None

    @classmethod
    def parse(cls, payload: bytes) -> TelephoneEvent:
        # RFC 4733 §2.5.1.5 may append further events' blocks; the first one is the
        # current event and the only one this parser reads.
        if len(payload) < 4:
            raise MalformedPacketError(f"telephone-event payload of {len(payload)} octets")
        event, flags, duration = _PAYLOAD.unpack_from(payload)
        # The R bit (0x40) is reserved: senders set it to zero, receivers ignore it.
        return cls(event, bool(flags & 0x80), flags & 0x3F, duration)

    def __bytes__(self) -> bytes:
        return _PAYLOAD.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitReceived:
    """One key press, reported once however many packets carried it."""

    digit: str
    duration_ms: int
    rtp_timestamp: int
    end_seen: bool  # False when every end packet was lost and the end was inferred


@dataclass(slots=True)
class _Pending:
    ssrc: int
    timestamp: int
    digit: str
    duration: int
    last_seen: float


class DtmfDetector:
    """Turns telephone-event packets into digits, each reported exactly once.

    A digit's packets share one RTP timestamp (RFC 4733 §2.5.1.2) and its end packet is
    sent three times (§2.5.1.4), so the timestamp is the identity of a key press. The
    digit is reported on its first end packet; if all end packets are lost, it is reported
    when an event with another timestamp starts, or ``timeout_s`` after its last packet.
    """

    def __init__(
        self, payload_type: int, *, clock_rate: int = 8000, timeout_s: float = 0.5
    ) -> None:
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        # Updates come every 50 ms (RFC 4733 §2.5.1.2 suggests it); 0.5 s of silence is
        # ten missed updates, well beyond a burst of loss in the middle of a long press.
        self.timeout_s = timeout_s
        self._pending: _Pending | None = None
        # Recently finished key presses, so late repeats of their end packets are dropped.
        self._finished: deque[tuple[int, int]] = deque(maxlen=16)

    def receive(self, packet: RtpPacket, now: float) -> list[DigitReceived]:
        """Feed one RTP packet; packets of other payload types are ignored."""
        if packet.payload_type != self.payload_type:
            return []
        event = TelephoneEvent.parse(packet.payload)
        key = (packet.ssrc, packet.timestamp)
        if key in self._finished:
            return []
        reported: list[DigitReceived] = []
        pending = self._pending
        if pending is not None and (pending.ssrc, pending.timestamp) != key:
            # A new event began, so the previous one is over even though no end packet of
            # it arrived.
            reported.append(self._finish(pending, end_seen=False))
            pending = None
        digit = event.digit
        if digit is None:
            return reported  # a tone or signal we do not act on (e.g. 16: hook flash)
        if pending is None:
            pending = self._pending = _Pending(
                packet.ssrc, packet.timestamp, digit, event.duration, now
            )
        pending.duration = max(pending.duration, event.duration)
        pending.last_seen = now
        if event.end:
            reported.append(self._finish(pending, end_seen=True))
        return reported

    def handle_timer(self, now: float) -> list[DigitReceived]:
        """Report a digit whose packets stopped without an end packet."""
        pending = self._pending
        if pending is None or now < pending.last_seen + self.timeout_s:
            return []
        return [self._finish(pending, end_seen=False)]

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` next has something to do, or None."""
        pending = self._pending
        return None if pending is None else pending.last_seen + self.timeout_s

    def _finish(self, pending: _Pending, *, end_seen: bool) -> DigitReceived:
        self._pending = None
        self._finished.append((pending.ssrc, pending.timestamp))
        return DigitReceived(
            digit=pending.digit,
            duration_ms=round(pending.duration * 1000 / self.clock_rate),
            rtp_timestamp=pending.timestamp,
            end_seen=end_seen,
        )


@dataclass(frozen=True, slots=True)
class ScheduledPacket:
    """An RTP datagram and when to send it, in seconds after the first one."""

    at_s: float
    data: bytes


class DtmfSender:
    """Builds the RFC 4733 packet train for one digit on an existing RTP stream.

    Audio on the stream should pause for the train: its packets take sequence numbers
    from ``rtp`` up front, and after the last one the stream's timestamp has moved on by
    the time the train took, so audio resumes in step with the clock.
    """

    def __init__(
        self,
        rtp: RtpSender,
        payload_type: int,
        *,
        clock_rate: int = 8000,
        interval_s: float = 0.05,
        volume: int = 10,
    ) -> None:
        self.rtp = rtp
        self.payload_type = payload_type
        self.clock_rate = clock_rate
        self.interval_s = interval_s
        self.volume = volume

    def packets(self, digit: str, *, duration_s: float = 0.1) -> list[ScheduledPacket]:
        """Start packet (marker set), an update every interval, then three end packets."""
        event = digit_event(digit)
        total = round(duration_s * self.clock_rate)
        if not 0 < total < 1 << 16:
            # RFC 4733 §2.5.1.3 splits longer events into segments; key presses never
            # need that, so it is not offered.
            raise MediaError(f"a {duration_s} s digit does not fit one event segment")
        step = round(self.interval_s * self.clock_rate)
        updates = math.ceil(total / step)  # start and updates, all before the end
        plan: list[tuple[float, TelephoneEvent]] = [
            (k * self.interval_s, TelephoneEvent(event, False, self.volume, k * step))
            for k in range(updates)
        ]
        final = TelephoneEvent(event, True, self.volume, total)
        # RFC 4733 §2.5.1.4: the final packet goes out three times, at the update interval.
        plan += [(duration_s + k * self.interval_s, final) for k in range(3)]
        scheduled = []
        for index, (at_s, payload) in enumerate(plan):
            last = index == len(plan) - 1
            data = self.rtp.packet(
                bytes(payload),
                # RFC 4733 §2.5.1.2: all packets of the event carry its start timestamp.
                samples=round(at_s * self.clock_rate) if last else 0,
                marker=index == 0,  # RFC 4733 §2.5.1.2: the first packet has M set
                payload_type=self.payload_type,
            )
            scheduled.append(ScheduledPacket(at_s, data))
        return scheduled


def parse_dtmf_relay(body: str) -> str | None:
    """The digit of a SIP INFO ``application/dtmf-relay`` body, or None.

    The format has no RFC; in the wild it is ``Signal=5`` and ``Duration=160`` lines. Some
    devices send the event number (``Signal=10`` for ``*``), which RFC 4733 §3.2 maps.
    """
    for line in body.splitlines():
        key, sep, value = line.partition("=")
        if not sep or key.strip().casefold() != "signal":
            continue
        value = value.strip().upper()
        if len(value) == 1 and value in _EVENT_OF:
            return value
        if value.isdigit() and int(value) < len(DIGITS):
            return DIGITS[int(value)]
        return None
    return None
