"""RTP sessions over asyncio UDP: one socket per call from the configured port range.

Media is symmetric (RFC 4961): we send to wherever the caller's packets come from, which
also gets media through NATs that rewrite the SDP's address. RTCP arriving on the RTP port
is counted and ignored. Playback (later milestones) goes through :meth:`RtpSession.send`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable
from typing import cast

from trunkline.media.errors import MediaError
from trunkline.media.rtp import RtpPacket, RtpSender, is_rtcp
from trunkline.voice.errors import NoRtpPortError, VoiceError

_log = logging.getLogger(__name__)

Address = tuple[str, int]

# G.711 carries one sample per octet (RFC 3551 §4.5.14), so a packet's duration in samples
# is its payload length; other payload types (telephone-event) keep the timestamp.
_G711_PAYLOAD_TYPES = frozenset({0, 8})


class RtpPortPool:
    """Even ports of a range (RFC 3550 §11: RTP even, RTCP the odd one above), handed out
    round-robin so a port just freed is not reused while stray packets may still arrive."""

    def __init__(self, first: int, last: int) -> None:
        start = first + (first % 2)
        self._ports = list(range(start, last, 2)) or [first]
        self._next = 0
        self._in_use: set[int] = set()

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    def bind(self, host: str) -> socket.socket:
        """A UDP socket bound to a free port of the range; raises :class:`NoRtpPortError`."""
        ports = self._ports
        for _ in range(len(ports)):
            port = ports[self._next]
            self._next = (self._next + 1) % len(ports)
            if port in self._in_use:
                continue
            sock = socket.socket(
                socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM
            )
            try:
                sock.bind((host, port))
            except OSError as exc:
                sock.close()
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue  # taken by another program: try the next one
                raise VoiceError(f"cannot bind RTP port {host}:{port}: {exc}") from None
            sock.setblocking(False)
            self._in_use.add(port)
            return sock
        raise NoRtpPortError(f"no free RTP port in {ports[0]}-{ports[-1] + 1}")

    def release(self, port: int) -> None:
        self._in_use.discard(port)


class RtpSession(asyncio.DatagramProtocol):
    """One call's RTP. ``echo=True`` sends every audio packet back, renumbered as our own
    stream (our SSRC, sequence and timestamp), so the caller never sees its own SSRC
    looped back (RFC 3550 §8.2)."""

    def __init__(
        self,
        *,
        local_port: int,
        payload_type: int,
        remote: Address | None,
        echo: bool = False,
        on_closed: Callable[[RtpSession], None] | None = None,
    ) -> None:
        self.local_port = local_port
        self.echo = echo
        self.remote = remote  # from the SDP until the first packet shows where it really is
        self.sender = RtpSender(payload_type)
        self.packets_received = 0
        self.rtcp_received = 0
        self.malformed = 0
        self._latched = False
        self._transport: asyncio.DatagramTransport | None = None
        self._on_closed = on_closed
        self._closed = False

    # -- asyncio -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio's.
        self._transport = cast(asyncio.DatagramTransport, transport)
        if self._closed:
            self._transport.close()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        try:
            self._receive(data, (addr[0], addr[1]))
        except Exception:  # one odd packet must not end the call's media
            _log.exception("RTP packet from %s on port %d", addr, self.local_port)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the caller's socket is not up yet: not worth more.
        _log.debug("RTP port %d: %s", self.local_port, exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    # -- media -------------------------------------------------------------------------------

    def _receive(self, data: bytes, source: Address) -> None:
        if is_rtcp(data):
            self.rtcp_received += 1
            return
        try:
            packet = RtpPacket.parse(data)
        except MediaError:
            self.malformed += 1
            return
        self.packets_received += 1
        if source != self.remote:
            # RFC 4961: send where the media comes from. Log the first latch only; a later
            # move (a phone changing network) is followed quietly.
            if not self._latched:
                _log.debug("RTP port %d latched to %s", self.local_port, source)
            self.remote = source
        self._latched = True
        if self.echo:
            pt = packet.payload_type
            samples = len(packet.payload) if pt in _G711_PAYLOAD_TYPES else 0
            self.send(packet.payload, samples, marker=packet.marker, payload_type=pt)

    def send(
        self,
        payload: bytes,
        samples: int,
        *,
        marker: bool = False,
        payload_type: int | None = None,
    ) -> bool:
        """Send one packet to the caller; ``False`` if there is nowhere to send it yet."""
        transport, remote = self._transport, self.remote
        if transport is None or remote is None or self._closed:
            return False
        data = self.sender.packet(
            payload, samples=samples, marker=marker, payload_type=payload_type
        )
        transport.sendto(data, remote)
        return True

    @property
    def packets_sent(self) -> int:
        return self.sender.packets_sent

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._transport is not None:
            self._transport.close()
        if self._on_closed is not None:
            self._on_closed(self)


class RtpSessions:
    """Opens and closes RTP sessions on ports from one pool, bound to ``host``."""

    def __init__(self, pool: RtpPortPool, host: str) -> None:
        self._pool = pool
        self._host = host
        self._tasks: set[asyncio.Task[object]] = set()

    @property
    def open_count(self) -> int:
        return self._pool.in_use

    def open(self, *, payload_type: int, remote: Address | None, echo: bool) -> RtpSession:
        """Bind a port now (so the SDP can name it) and start receiving on the next loop
        iterations; packets that arrive before then wait in the socket's buffer."""
        sock = self._pool.bind(self._host)
        port = sock.getsockname()[1]
        session = RtpSession(
            local_port=port,
            payload_type=payload_type,
            remote=remote,
            echo=echo,
            on_closed=lambda s: self._pool.release(s.local_port),
        )
        loop = asyncio.get_running_loop()

        async def attach() -> None:
            try:
                await loop.create_datagram_endpoint(lambda: session, sock=sock)
            except Exception:
                sock.close()
                session.close()
                raise

        task: asyncio.Task[object] = loop.create_task(attach())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return session
