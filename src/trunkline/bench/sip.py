"""SIP call-rate benchmark: sipp's built-in UAC calls the echo number of a real
``trunkline serve`` at a fixed rate; prints calls answered per second, failed calls and the
server's CPU use as one JSON line.

The server runs as a subprocess on free ports with a throwaway database, so its CPU time
(read from ``/proc/PID/stat``) is its own and not sipp's.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from trunkline.domain.errors import TrunklineError

_SERVE = [sys.executable, "-c", "from trunkline.cli import main; raise SystemExit(main())"]


class BenchError(TrunklineError):
    error_id = "bench_failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRateResult:
    test: str
    transport: str
    target_rate: float
    duration_s: float
    calls_attempted: int
    calls_completed: int
    calls_per_s: float
    failed_calls: int
    server_cpu_percent: float
    cores: int


def _free_port() -> int:
    # Free for UDP and TCP both, since SIP listens on both.
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise BenchError("no free port")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (proc(5): fields 14 and 15, in clock ticks)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; the fields after it start past ")".
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise BenchError("the server did not become healthy")


def _last_stats(path: Path) -> dict[str, str]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    if len(rows) < 2:
        raise BenchError(f"sipp wrote no statistics to {path}")
    return dict(zip(rows[0], rows[-1], strict=False))


def run_call_rate(
    *,
    rate: float = 1000.0,
    duration_s: float = 30.0,
    transport: str = "u1",
    sipp: str | None = None,
    progress: bool = True,
) -> CallRateResult:
    """Start a server, run sipp at ``rate`` calls/s for ``duration_s``, stop the server."""
    binary = sipp or shutil.which("sipp")
    if binary is None:
        raise BenchError("sipp is not installed (Debian package sip-tester)")
    calls = max(1, round(rate * duration_s))
    with tempfile.TemporaryDirectory(prefix="trunkline-bench-sip-") as tmp:
        work = Path(tmp)
        config = work / "bench.yaml"
        # A wide RTP range: every call in flight holds one port (sipp's UAC sends no RTP).
        config.write_text('voice: {rtp_ports: "40000-49999", echo_numbers: [echo]}\n')
        http_port, sip_port = _free_port(), _free_port()
        log = (work / "server.log").open("wb")
        server = subprocess.Popen(
            [
                *_SERVE,
                "serve",
                "--http-port",
                str(http_port),
                "--sip-port",
                str(sip_port),
                "--config",
                str(config),
                "--database",
                f"sqlite:///{work / 'bench.db'}",
                "--log-level",
                "warning",
            ],
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{http_port}/healthz", server)
            stats = work / "stats.csv"
            command = [
                binary,
                "-sn",
                "uac",
                "-s",
                "echo",
                f"127.0.0.1:{sip_port}",
                "-i",
                "127.0.0.1",
                "-p",
                str(_free_port()),
                "-t",
                transport,
                "-r",
                f"{rate:g}",
                "-m",
                str(calls),
                "-nostdin",
                "-timeout",
                f"{int(duration_s * 2 + 60)}s",
                "-trace_stat",
                "-stf",
                str(stats),
                "-fd",
                "1",
            ]
            if progress:
                print(f"sipp: {calls} calls at {rate:g}/s over {transport}", file=sys.stderr)
            cpu_before = _cpu_seconds(server.pid)
            started = time.monotonic()
            subprocess.run(
                command,
                cwd=work,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                timeout=duration_s * 3 + 120,
            )
            elapsed = time.monotonic() - started
            cpu = _cpu_seconds(server.pid) - cpu_before
            last = _last_stats(stats)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()
    completed = int(last.get("SuccessfulCall(C)", "0") or 0)
    return CallRateResult(
        test="sip_call_rate",
        transport="udp" if transport.startswith("u") else "tcp",
        target_rate=rate,
        duration_s=round(elapsed, 2),
        calls_attempted=calls,
        calls_completed=completed,
        calls_per_s=round(completed / elapsed, 1) if elapsed > 0 else 0.0,
        # Strict: a call not completed for any reason (refused, timed out, never placed
        # because sipp fell behind) counts as failed.
        failed_calls=calls - completed,
        server_cpu_percent=round(100 * cpu / elapsed, 1) if elapsed > 0 else 0.0,
        cores=os.cpu_count() or 1,
    )


def run(
    *, rate: float, duration_s: float, transport: str = "u1", sipp: str | None = None
) -> CallRateResult:
    """The ``trunkline bench sip`` entry point: prints one JSON line."""
    result = run_call_rate(rate=rate, duration_s=duration_s, transport=transport, sipp=sipp)
    print(json.dumps(asdict(result)), flush=True)
    return result
