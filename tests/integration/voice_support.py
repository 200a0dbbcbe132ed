"""What the voice integration tests share: a real ``trunkline serve`` with SIP on free ports,
sipp runs against it, and raw SIP over UDP/TCP sockets.

(A module of its own, not conftest, so the e2e and integration conftests stay apart.)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from trunkline.sip.digest import ha1

TRUNKLINE = [sys.executable, "-c", "from trunkline.cli import main; raise SystemExit(main())"]
SIPP_DATA = Path(__file__).resolve().parent.parent / "data" / "sipp"
G711A_PCAP = Path("/usr/share/sip-tester/g711a.pcap")
AGENT = "ann"
AGENT_PASSWORD = "ann-phone-secret"


def sipp_path() -> str:
    """The sipp binary, or skip (fail under CI, where ``make test`` installs it)."""
    path = shutil.which("sipp")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("sipp is not installed (Debian package sip-tester; make test installs it)")
        pytest.skip("sipp is not installed (Debian package sip-tester)")
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_sip_port() -> int:
    """A port free for both UDP and TCP (SIP listens on both)."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket() as tcp:
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def free_rtp_range(size: int = 40) -> tuple[int, int]:
    """A block of UDP ports that looks unused, inside the range the config accepts."""
    for _ in range(50):
        base = free_port(socket.SOCK_DGRAM) & ~1
        if not 1024 <= base <= 65535 - size:
            continue
        taken = False
        for port in range(base, base + size, 2):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    taken = True
                    break
        if not taken:
            return base, base + size - 1
    raise RuntimeError("no free block of RTP ports")


def voice_config(*, answer_delay_s: float = 0.0, rtp: tuple[int, int] | None = None) -> str:
    first, last = rtp or free_rtp_range()
    return f"""\
agents:
  - id: {AGENT}
    sip_ha1:
      sha256: {ha1(AGENT, "trunkline", AGENT_PASSWORD, "SHA-256")}
      md5: {ha1(AGENT, "trunkline", AGENT_PASSWORD, "MD5")}
  - {{id: bob}}
voice:
  realm: trunkline
  rtp_ports: "{first}-{last}"
  echo_numbers: [echo, "4242"]
  echo_answer_delay_s: {answer_delay_s}
  # sipp 3.6 reads only the first challenge and knows only MD5 (RFC 8760 clients pick).
  digest_algorithms: [MD5, SHA-256]
"""


@dataclass
class VoiceServer:
    """A ``trunkline serve`` subprocess with SIP on ``sip_port``; output goes to files."""

    workdir: Path
    http_port: int
    sip_port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, workdir: Path, config: str, *, extra: tuple[str, ...] = ()) -> VoiceServer:
        config_path = workdir / "voice.yaml"
        config_path.write_text(config, encoding="utf-8")
        http_port, sip_port = free_port(), free_sip_port()
        log_path = workdir / "server.log"
        args = [
            "serve",
            "--http-port",
            str(http_port),
            "--sip-port",
            str(sip_port),
            "--config",
            str(config_path),
            "--database",
            f"sqlite:///{workdir / 'voice.db'}",
            *extra,
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*TRUNKLINE, *args], cwd=workdir, stdout=log, stderr=subprocess.STDOUT
            )
        server = cls(workdir, http_port, sip_port, process, log_path)
        try:
            server.wait_ready()
        except BaseException:
            server.stop()
            raise
        return server

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """/healthz answers (SIP binds before HTTP, so SIP is up too)."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        pytest.fail(f"server not ready within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@dataclass(frozen=True)
class SippResult:
    returncode: int
    output: str
    errors: str  # sipp's -trace_err file, where it explains failed calls


def run_sipp(
    server: VoiceServer,
    workdir: Path,
    *args: str,
    scenario: str | None = None,
    timeout: float = 60.0,
) -> SippResult:
    """Run sipp against the server until it has made its calls (``-m``); 0 means all passed."""
    binary = sipp_path()
    run_dir = workdir / f"sipp-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir()
    command = [binary]
    if scenario is not None:
        command += ["-sf", str(SIPP_DATA / scenario)]
    command += [
        f"127.0.0.1:{server.sip_port}",
        "-i",
        "127.0.0.1",
        "-p",
        str(free_sip_port()),
        "-mp",
        str(free_rtp_range(4)[0]),
        "-nostdin",
        "-trace_err",
        "-timeout",
        f"{int(timeout)}s",
        *args,
    ]
    completed = subprocess.run(
        command, cwd=run_dir, capture_output=True, timeout=timeout + 30, check=False
    )
    errors = "".join(p.read_text(errors="replace") for p in run_dir.glob("*_errors.log"))
    output = (completed.stdout + completed.stderr).decode(errors="replace")
    return SippResult(completed.returncode, output[-4000:], errors[-4000:])


# -- raw SIP -------------------------------------------------------------------------------


def options_request(port: int, local_port: int, *, call_id: str, branch: str) -> bytes:
    return (
        f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{branch};rport\r\n"
        f"From: <sip:probe@127.0.0.1>;tag=probe\r\n"
        f"To: <sip:127.0.0.1:{port}>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def udp_exchange(port: int, data: bytes, *, timeout: float = 3.0) -> bytes | None:
    """Send one datagram from a fresh socket; the first answer that is not 100, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        sock.sendto(data, ("127.0.0.1", port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer, _ = sock.recvfrom(65535)
            except TimeoutError:
                return None
            if not answer.startswith(b"SIP/2.0 100 "):
                return answer
    return None
