"""SIP transports over real loopback sockets, without sipp: malformed datagrams, TCP framing
and keep-alives, refusals, SHA-256 digest, and what ``trunkline serve`` does with its ports."""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from voice_support import (
    AGENT,
    AGENT_PASSWORD,
    TRUNKLINE,
    VoiceServer,
    free_port,
    free_sip_port,
    options_request,
    udp_exchange,
    voice_config,
)

from trunkline.sip.digest import DigestClient
from trunkline.sip.message import Response, StreamParser, parse_message

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceServer]:
    running = VoiceServer.start(tmp_path_factory.mktemp("voice-raw"), voice_config())
    yield running
    running.stop()


def status_of(data: bytes | None) -> int | None:
    if data is None:
        return None
    message = parse_message(data)
    assert isinstance(message, Response)
    return message.status


def options_ok(server: VoiceServer) -> bool:
    # A fresh branch each time: a repeated one would be a retransmission, answered to the
    # socket that sent the original.
    tag = uuid.uuid4().hex[:12]
    data = options_request(server.sip_port, 9, call_id=f"probe-{tag}", branch=f"-{tag}")
    return status_of(udp_exchange(server.sip_port, data)) == 200


MALFORMED = [
    # A Content-Length larger than the datagram (RFC 3261 §18.3 on UDP).
    b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-m1;rport\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:x>\r\nCall-ID: m1\r\nCSeq: 1 OPTIONS\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 500\r\n\r\n",
    # A CSeq whose method is not the request's.
    b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-m2;rport\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:x>\r\nCall-ID: m2\r\nCSeq: 1 INVITE\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
    # A broken Request-URI.
    b"INVITE sip:@@ SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-m3;rport\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: m3\r\nCSeq: 1 INVITE\r\n"
    b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
]


@pytest.mark.parametrize("datagram", MALFORMED, ids=["length", "cseq-method", "uri"])
def test_a_malformed_request_gets_400_and_the_server_keeps_answering(
    server: VoiceServer, datagram: bytes
) -> None:
    assert status_of(udp_exchange(server.sip_port, datagram)) == 400
    assert options_ok(server)


def test_garbage_is_dropped_and_the_server_keeps_answering(server: VoiceServer) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for junk in (b"\x00\xff" * 40, b"hello", b"SIP/2.0 200 OK\r\n\r\n", b"\r\n\r\n"):
            sock.sendto(junk, ("127.0.0.1", server.sip_port))
    assert options_ok(server)


def invite(port: int, user: str, body: bytes, *, branch: str) -> bytes:
    head = (
        f"INVITE sip:{user}@127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK{branch};rport\r\n"
        "From: <sip:caller@127.0.0.1>;tag=c1\r\n"
        f"To: <sip:{user}@127.0.0.1>\r\n"
        f"Call-ID: {branch}\r\n"
        "CSeq: 1 INVITE\r\n"
        "Contact: <sip:caller@127.0.0.1:9>\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


SDP_G729 = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
)


def test_a_call_to_an_unknown_number_gets_404(server: VoiceServer) -> None:
    answer = udp_exchange(server.sip_port, invite(server.sip_port, "nobody", SDP_G729, branch="-u"))
    assert status_of(answer) == 404


def test_a_call_offering_no_g711_gets_488(server: VoiceServer) -> None:
    answer = udp_exchange(server.sip_port, invite(server.sip_port, "echo", SDP_G729, branch="-g"))
    assert status_of(answer) == 488


class TcpPeer:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.local_port = self.sock.getsockname()[1]
        self.parser = StreamParser()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_raw(self, size: int = 65535) -> bytes:
        return self.sock.recv(size)

    def response(self) -> Response:
        while True:
            message = self.parser.next_message()
            if message is not None:
                assert isinstance(message, Response)
                return message
            chunk = self.sock.recv(65535)
            assert chunk, "connection closed"
            self.parser.feed(chunk)

    def close(self) -> None:
        self.sock.close()


def register_over_tcp(peer: TcpPeer, cseq: int, authorization: str | None = None) -> bytes:
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    return (
        "REGISTER sip:trunkline SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP 127.0.0.1:{peer.local_port};branch=z9hG4bK-tcp{cseq}\r\n"
        f"From: <sip:{AGENT}@trunkline>;tag=t1\r\n"
        f"To: <sip:{AGENT}@trunkline>\r\n"
        "Call-ID: tcp-register\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:{AGENT}@127.0.0.1:{peer.local_port};transport=tcp>\r\n"
        "Expires: 120\r\n"
        f"{auth}Content-Length: 0\r\n\r\n"
    ).encode()


def test_register_over_tcp_with_sha256_and_keepalives_on_the_same_connection(
    server: VoiceServer,
) -> None:
    peer = TcpPeer(server.sip_port)
    try:
        # RFC 5626 §4.4.1: a double-CRLF ping is answered by a single CRLF pong.
        peer.send(b"\r\n\r\n")
        assert peer.read_raw(16) == b"\r\n"
        peer.send(register_over_tcp(peer, 1))
        challenge = peer.response()
        assert challenge.status == 401
        offered = challenge.headers.get_all("WWW-Authenticate")
        assert any("SHA-256" in v for v in offered) and any("MD5" in v for v in offered)
        # Our own client prefers SHA-256 whatever the order (RFC 8760 §2.4).
        value = DigestClient().authorization(
            offered, method="REGISTER", uri="sip:trunkline", username=AGENT, password=AGENT_PASSWORD
        )
        assert "algorithm=SHA-256" in value
        peer.send(register_over_tcp(peer, 2, value))
        ok = peer.response()
        assert ok.status == 200
        assert ok.headers.get_all("Contact")[0].endswith(";expires=120")
    finally:
        peer.close()


def test_a_broken_tcp_stream_gets_400_and_is_closed_without_harming_others(
    server: VoiceServer,
) -> None:
    peer = TcpPeer(server.sip_port)
    try:
        # No Content-Length on a stream: framing is lost (RFC 3261 §18.3).
        peer.send(
            b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bK-t\r\n"
            b"From: <sip:a@b>;tag=1\r\nTo: <sip:x>\r\nCall-ID: t\r\nCSeq: 1 OPTIONS\r\n\r\n"
        )
        received = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            chunk = peer.read_raw()
            if not chunk:
                break  # closed by the server
            received += chunk
        assert received.startswith(b"SIP/2.0 400 ")
    finally:
        peer.close()
    assert options_ok(server)


# -- the command's ports -------------------------------------------------------------------


def test_serve_fails_fast_naming_the_sip_port_when_it_is_taken(tmp_path: Path) -> None:
    port = free_sip_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", port))
        (tmp_path / "c.yaml").write_text(voice_config(), encoding="utf-8")
        completed = subprocess.run(
            [
                *TRUNKLINE,
                "serve",
                "--http-port",
                str(free_port()),
                "--sip-port",
                str(port),
                "--config",
                str(tmp_path / "c.yaml"),
                "--database",
                f"sqlite:///{tmp_path / 'x.db'}",
            ],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert completed.returncode == 2
    assert f"cannot listen for SIP on 127.0.0.1:{port}" in completed.stderr.decode()


def test_sip_port_zero_serves_http_without_sip(tmp_path: Path) -> None:
    server = VoiceServer.start(tmp_path, voice_config(), extra=("--sip-port", "0"))
    try:
        assert "SIP listening" not in server.log()
    finally:
        server.stop()
