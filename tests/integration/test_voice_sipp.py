"""Real sipp against a real ``trunkline serve``: OPTIONS, digest REGISTER, calls to the echo
number with RTP, CANCEL before answer and a 10 % lossy link, over UDP and TCP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from voice_support import (
    AGENT,
    AGENT_PASSWORD,
    G711A_PCAP,
    VoiceServer,
    run_sipp,
    sipp_path,
    voice_config,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceServer]:
    sipp_path()  # skip before starting anything when sipp is missing
    workdir = tmp_path_factory.mktemp("voice")
    # Debug logging: each call's end is logged with its RTP counts, which the echo test reads.
    running = VoiceServer.start(workdir, voice_config(), extra=("--log-level", "debug"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ringing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoiceServer]:
    sipp_path()
    workdir = tmp_path_factory.mktemp("voice-ringing")
    running = VoiceServer.start(workdir, voice_config(answer_delay_s=2.0))
    yield running
    running.stop()


TRANSPORTS = pytest.mark.parametrize("transport", ["u1", "t1"], ids=["udp", "tcp"])


@TRANSPORTS
def test_options_probe_is_answered_200(server: VoiceServer, tmp_path: Path, transport: str) -> None:
    result = run_sipp(server, tmp_path, "-t", transport, "-m", "3", scenario="options.xml")
    assert result.returncode == 0, result.errors or result.output


@TRANSPORTS
def test_an_agent_registers_with_digest_and_removes_its_bindings(
    server: VoiceServer, tmp_path: Path, transport: str
) -> None:
    result = run_sipp(
        server,
        tmp_path,
        "-t",
        transport,
        "-s",
        AGENT,
        "-au",
        AGENT,
        "-ap",
        AGENT_PASSWORD,
        "-m",
        "1",
        scenario="register.xml",
    )
    assert result.returncode == 0, result.errors or result.output


def test_a_wrong_password_is_refused_with_403(server: VoiceServer, tmp_path: Path) -> None:
    result = run_sipp(
        server,
        tmp_path,
        "-s",
        AGENT,
        "-au",
        AGENT,
        "-ap",
        "not-the-password",
        "-m",
        "1",
        scenario="register_wrong_password.xml",
    )
    assert result.returncode == 0, result.errors or result.output


def test_the_register_scenario_fails_for_an_agent_without_sip_credentials(
    server: VoiceServer, tmp_path: Path
) -> None:
    # bob has no sip_ha1: the scenario expecting a 200 must fail (it gets 403).
    result = run_sipp(
        server, tmp_path, "-s", "bob", "-au", "bob", "-ap", "x", "-m", "1", scenario="register.xml"
    )
    assert result.returncode != 0
    assert "403" in result.errors


@TRANSPORTS
def test_calls_to_the_echo_number_complete(
    server: VoiceServer, tmp_path: Path, transport: str
) -> None:
    # sipp's built-in UAC: INVITE with SDP, 200, ACK, BYE, 200.
    result = run_sipp(
        server, tmp_path, "-sn", "uac", "-s", "echo", "-t", transport, "-m", "20", "-r", "20"
    )
    assert result.returncode == 0, result.errors or result.output


def test_a_configured_echo_number_answers_too(server: VoiceServer, tmp_path: Path) -> None:
    result = run_sipp(server, tmp_path, "-sn", "uac", "-s", "4242", "-m", "2")
    assert result.returncode == 0, result.errors or result.output


def test_a_call_with_audio_gets_every_packet_echoed(server: VoiceServer, tmp_path: Path) -> None:
    if not G711A_PCAP.exists():
        pytest.skip(f"{G711A_PCAP} is missing (Debian package sip-tester)")
    result = run_sipp(
        server,
        tmp_path,
        "-s",
        "echo",
        "-key",
        "pcap",
        str(G711A_PCAP),
        "-m",
        "1",
        scenario="echo_call.xml",
    )
    assert result.returncode == 0, result.errors or result.output
    ended = re.findall(r"ended: RTP (\d+) received, (\d+) sent", server.log())
    # The capture holds 236 packets; on loopback none is lost, and each is sent back.
    assert ("236", "236") in ended, server.log()[-3000:]


def test_cancel_before_answer_gets_487(ringing_server: VoiceServer, tmp_path: Path) -> None:
    result = run_sipp(ringing_server, tmp_path, "-s", "echo", "-m", "3", scenario="cancel.xml")
    # sipp fails a call on any message it did not expect, so a late 200 (the delayed answer
    # of a cancelled call) or a 487 retransmitted after our ACK would show here.
    assert result.returncode == 0, result.errors or result.output
    assert "Traceback" not in ringing_server.log()


def test_every_call_completes_over_a_link_losing_10_percent(
    server: VoiceServer, tmp_path: Path
) -> None:
    # -lost 10 drops one message in ten each way; retransmissions (ours and sipp's) must
    # carry every call through.
    result = run_sipp(
        server, tmp_path, "-sn", "uac", "-s", "echo", "-lost", "10", "-m", "40", "-r", "10"
    )
    assert result.returncode == 0, result.errors or result.output


def test_the_server_logged_no_failures(server: VoiceServer) -> None:
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
