"""RTP sessions on real loopback sockets: symmetric echo under our own SSRC, RTCP ignored,
ports from the range handed out and given back."""

from __future__ import annotations

import asyncio
import socket

import pytest
from voice_support import free_rtp_range

from trunkline.media.rtp import RtpPacket
from trunkline.voice.errors import NoRtpPortError
from trunkline.voice.rtp_session import RtpPortPool, RtpSessions


async def receive(sock: socket.socket) -> bytes:
    async with asyncio.timeout(2.0):
        return await asyncio.get_running_loop().sock_recv(sock, 2048)


async def test_audio_is_echoed_to_its_source_renumbered_and_rtcp_is_ignored() -> None:
    first, last = free_rtp_range(8)
    sessions = RtpSessions(RtpPortPool(first, last), "127.0.0.1")
    # The SDP named another port: symmetric RTP answers where the packets come from.
    session = sessions.open(payload_type=8, remote=("127.0.0.1", 9), echo=True)
    assert first <= session.local_port <= last and session.local_port % 2 == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone:
        phone.bind(("127.0.0.1", 0))
        phone.setblocking(False)
        phone_address = phone.getsockname()
        await asyncio.sleep(0.05)  # let the session's transport attach
        sent = [
            RtpPacket(
                payload_type=8,
                sequence_number=100 + i,
                timestamp=8000 + 160 * i,
                ssrc=0x1234,
                payload=bytes([i]) * 160,
                marker=i == 0,
            )
            for i in range(3)
        ]
        rtcp_receiver_report = bytes([0x80, 201, 0, 1]) + (0x1234).to_bytes(4, "big")
        phone.sendto(rtcp_receiver_report, ("127.0.0.1", session.local_port))
        for packet in sent:
            phone.sendto(bytes(packet), ("127.0.0.1", session.local_port))
        echoed = [RtpPacket.parse(await receive(phone)) for _ in sent]
    assert [p.payload for p in echoed] == [p.payload for p in sent]
    assert [p.payload_type for p in echoed] == [8, 8, 8]
    assert echoed[0].marker and not echoed[1].marker
    # Our own stream: one SSRC that is not the caller's, consecutive numbers, 160 samples apart.
    assert {p.ssrc for p in echoed} == {echoed[0].ssrc} != {0x1234}
    seqs = [p.sequence_number for p in echoed]
    assert seqs == [(seqs[0] + i) % 65536 for i in range(3)]
    stamps = [p.timestamp for p in echoed]
    assert stamps == [(stamps[0] + 160 * i) % 2**32 for i in range(3)]
    assert session.remote == phone_address
    assert (session.packets_received, session.packets_sent, session.rtcp_received) == (3, 3, 1)
    session.close()
    assert sessions.open_count == 0


async def test_the_range_runs_out_then_a_closed_session_frees_its_port() -> None:
    first, _ = free_rtp_range(4)
    sessions = RtpSessions(RtpPortPool(first, first + 3), "127.0.0.1")  # two even ports
    a = sessions.open(payload_type=0, remote=None, echo=True)
    b = sessions.open(payload_type=0, remote=None, echo=True)
    assert {a.local_port, b.local_port} == {first, first + 2}
    with pytest.raises(NoRtpPortError):
        sessions.open(payload_type=0, remote=None, echo=True)
    a.close()
    await asyncio.sleep(0.05)  # the socket closes with its transport
    c = sessions.open(payload_type=0, remote=None, echo=True)
    assert c.local_port == a.local_port
    for s in (b, c):
        s.close()
    await asyncio.sleep(0.05)


async def test_nothing_is_sent_before_the_caller_is_known() -> None:
    first, last = free_rtp_range(4)
    sessions = RtpSessions(RtpPortPool(first, last), "127.0.0.1")
    session = sessions.open(payload_type=0, remote=None, echo=True)
    await asyncio.sleep(0.05)
    assert session.send(b"\xff" * 160, 160) is False
    session.close()
    await asyncio.sleep(0.05)
