"""SIP over UDP and TCP: thin asyncio adapters around one sans-IO :class:`SipEndpoint`.

Both transports feed the same endpoint; after every input the pump sends what the endpoint
queued, hands its events to the application and re-arms one ``loop.call_at`` for the
earliest deadline (the aioquic pattern). Nothing received can stop a listener: a failure
while handling one message is logged and the next one is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import Protocol, cast

from trunkline.sip.endpoint import SipEndpoint, SipEvent
from trunkline.sip.errors import RemoteProtocolError
from trunkline.sip.message import StreamParser, bad_request_response
from trunkline.sip.transaction import Address

_log = logging.getLogger(__name__)

_CRLF = b"\r\n"
_UDP_BUFFER_BYTES = 4 * 1024 * 1024  # the kernel caps it at net.core.rmem_max


class Application(Protocol):
    """The transaction user the pump hands events to; it may have deadlines of its own."""

    def handle(self, event: SipEvent, now: float) -> None: ...

    def get_timer(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...


def _address(peer: object) -> Address:
    # IPv6 peers come as 4-tuples; the endpoint keys on (host, port).
    assert isinstance(peer, tuple)
    return (str(peer[0]), int(peer[1]))


class SipTransports:
    """The UDP socket and TCP listener of one endpoint, and the pump between them."""

    def __init__(self, endpoint: SipEndpoint, application: Application) -> None:
        self.endpoint = endpoint
        self.application = application
        self._loop: asyncio.AbstractEventLoop | None = None
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: dict[Address, _TcpConnection] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._pumping = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen on UDP and TCP ``host:port`` (0: a free port, the same for both); returns
        the port. Raises :class:`OSError` when either cannot bind."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), local_addr=(host, port)
        )
        self._udp = udp
        sock = udp.get_extra_info("socket")
        if sock is not None:
            # Bursts of calls arrive faster than one loop iteration drains them; a datagram
            # dropped by a full buffer costs the caller a 500 ms retransmission (Timer A).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_BUFFER_BYTES)
        bound = int(udp.get_extra_info("sockname")[1])
        try:
            self._tcp = await loop.create_server(
                lambda: _TcpConnection(self), host=host, port=bound, reuse_address=True
            )
        except OSError:
            udp.close()
            self._udp = None
            raise
        return bound

    async def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        for connection in list(self._connections.values()):
            connection.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()
            self._tcp = None

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    # -- input -------------------------------------------------------------------------------

    def datagram_received(self, data: bytes, source: Address) -> None:
        try:
            self.endpoint.receive(data, source, transport="udp", now=self._now())
        except Exception:
            _log.exception("SIP datagram from %s could not be handled", source)
        self.pump()

    def connection_opened(self, peer: Address, connection: _TcpConnection) -> None:
        self._connections[peer] = connection

    def connection_closed(self, peer: Address, connection: _TcpConnection) -> None:
        if self._connections.get(peer) is connection:
            del self._connections[peer]

    # -- the pump ----------------------------------------------------------------------------

    def pump(self) -> None:
        """Send, dispatch, repeat until quiet; then re-arm the one timer."""
        if self._pumping:
            return  # an application callback fed the endpoint; the outer loop carries on
        self._pumping = True
        try:
            endpoint = self.endpoint
            while True:
                self._flush()
                event = endpoint.next_event()
                if event is None:
                    break
                try:
                    self.application.handle(event, self._now())
                except Exception:
                    _log.exception("SIP application failed on %s", type(event).__name__)
            self._flush()
        finally:
            self._pumping = False
        self._rearm()

    def _flush(self) -> None:
        for data, destination, transport in self.endpoint.datagrams_to_send():
            try:
                if transport == "udp":
                    if self._udp is not None:
                        self._udp.sendto(data, destination)
                else:
                    connection = self._connections.get(destination)
                    if connection is None:
                        # RFC 3261 §18.2.2 would have us open a connection; not done yet.
                        _log.info("no TCP connection to %s: message dropped", destination)
                    else:
                        connection.write(data)
            except OSError as exc:
                _log.info("cannot send to %s: %s", destination, exc)

    def _rearm(self) -> None:
        loop = self._loop
        if loop is None:
            return
        deadlines = [
            d for d in (self.endpoint.get_timer(), self.application.get_timer()) if d is not None
        ]
        at = min(deadlines) if deadlines else None
        if at == self._timer_at and (at is None or self._timer is not None):
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = at
        if at is not None:
            self._timer = loop.call_at(at, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = self._now()
        try:
            self.endpoint.handle_timer(now)
            self.application.handle_timer(now)
        except Exception:
            _log.exception("SIP timer handling failed")
        self.pump()


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransports) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._owner.datagram_received(data, _address(addr))

    def error_received(self, exc: Exception) -> None:
        # ICMP errors for an earlier sendto (a phone gone away): the transaction times out.
        _log.debug("SIP UDP error: %s", exc)


class _TcpConnection(asyncio.Protocol):
    """One TCP peer: a :class:`StreamParser` frames its messages (RFC 3261 §18.3)."""

    def __init__(self, owner: SipTransports) -> None:
        self._owner = owner
        self._parser = StreamParser()
        self._transport: asyncio.Transport | None = None
        self._peer: Address | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio's.
        self._transport = cast(asyncio.Transport, transport)
        self._peer = _address(self._transport.get_extra_info("peername"))
        self._owner.connection_opened(self._peer, self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._peer is not None:
            self._owner.connection_closed(self._peer, self)
        self._transport = None

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        try:
            self._receive(data)
        except Exception:
            _log.exception("SIP over TCP from %s could not be handled", self._peer)
        self._owner.pump()

    def _receive(self, data: bytes) -> None:
        parser = self._parser
        peer = self._peer
        assert peer is not None
        parser.feed(data)
        # RFC 5626 §4.4.1: each double-CRLF ping is answered with one CRLF pong.
        pings = parser.take_pings()
        if pings:
            self.write(_CRLF * pings)
        endpoint = self._owner.endpoint
        now = self._owner._now()
        while True:
            try:
                message = parser.next_message()
            except RemoteProtocolError as exc:
                answer = bad_request_response(b"", exc)
                if answer is not None:
                    self.write(bytes(answer))
                if parser.broken:
                    # Framing is lost: nothing later on this stream can be trusted.
                    _log.info("closing SIP/TCP from %s: %s", peer, exc.message)
                    self.close()
                    return
                continue
            if message is None:
                break
            endpoint.receive_message(message, peer, transport="tcp", now=now)
        pings = parser.take_pings()
        if pings:
            self.write(_CRLF * pings)
