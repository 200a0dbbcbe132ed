"""The ``trunkline`` command: config checks, password hashes, serving, reloading, the demo."""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from process_helpers import free_port, http_raw

from trunkline.app import SERVICE_KEY, ServeOptions, build
from trunkline.auth.passwords import hash_password, verify_password
from trunkline.cli import main
from trunkline.domain.errors import ConfigError

TRUNKLINE = [sys.executable, "-c", "from trunkline.cli import main; raise SystemExit(main())"]
PASSWORD = "sup-password"

GOOD = """\
skills: [english]
queues:
  support: {offer_timeout_s: 30}
agents:
  - {id: ann, skills: {english: 3}, queues: [support]}
"""

BAD = """\
queues:
  support: {strategy: random}
agents:
  - {id: ann, queues: [nowhere]}
"""


def supervisor(extra_queues: str = "") -> str:
    return f"""\
queues:
  support: {{}}
{extra_queues}users:
  - {{id: sup, role: supervisor, password_hash: "{hash_password(PASSWORD)}"}}
"""


# -- in process -------------------------------------------------------------------------


def test_check_config_accepts_a_good_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    summary = "1 queues, 1 agents, 0 other users, 0 rules (no admin: serve will create one)"
    assert out == [f"{path}: ok: {summary}"]


def test_check_config_prints_every_error_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert main(["check-config", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert err[0].startswith(f"{path}:2: queues.support.strategy: ")
    assert err[1].startswith(f"{path}:4: agents[0].queues[0]: ")
    assert "nowhere" in err[1]


def test_check_config_on_a_missing_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read the configuration" in capsys.readouterr().err


def test_hash_password_reads_stdin_and_prints_a_hash_that_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))
    assert main(["hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$")
    assert verify_password(printed, "correct horse")
    assert not verify_password(printed, "correct horse\n")


def test_hash_password_refuses_an_empty_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["hash-password"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "empty password" in captured.err


# -- the server in process --------------------------------------------------------------


async def test_a_bad_config_stops_the_server_before_the_database_is_opened(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    db = tmp_path / "never.db"
    options = ServeOptions(config_path=tmp_path / "bad.yaml", database_url=f"sqlite:///{db}")
    with pytest.raises(ConfigError, match=r"bad\.yaml:2: queues\.support\.strategy"):
        await build(options)
    assert not db.exists()


async def test_bootstrap_admin_can_reload_and_a_broken_file_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "centre.yaml"
    config.write_text(supervisor(), encoding="utf-8")
    options = ServeOptions(config_path=config, database_url=f"sqlite:///{tmp_path / 'e.db'}")
    with caplog.at_level(logging.WARNING, logger="trunkline.app"):
        app = await build(options)
        async with TestClient(TestServer(app)) as client:
            created = [r.getMessage() for r in caplog.records if "no admin" in r.getMessage()]
            assert len(created) == 1
            found = re.search(r"user 'admin' with password (\S+);", created[0])
            assert found is not None
            resp = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": found[1]}
            )
            assert resp.status == 200, await resp.text()
            auth = {"Authorization": f"Bearer {(await resp.json())['token']}"}

            config.write_text(BAD, encoding="utf-8")
            resp = await client.post("/api/v1/config/reload", headers=auth)
            assert resp.status == 422, await resp.text()
            assert list(app[SERVICE_KEY].config.queues) == ["support"]

            config.write_text(supervisor("  sales: {}\n"), encoding="utf-8")
            resp = await client.post("/api/v1/config/reload", headers=auth)
            assert resp.status == 200, await resp.text()
            resp = await client.get("/api/v1/queues", headers=auth)
            assert [q["id"] for q in (await resp.json())["queues"]] == ["support", "sales"]
            # The bootstrap admin outlives the reload, with the same password.
            resp = await client.post(
                "/api/v1/auth/login", json={"username": "admin", "password": found[1]}
            )
            assert resp.status == 200
    assert sum("no admin" in r.getMessage() for r in caplog.records) == 1


# -- processes --------------------------------------------------------------------------


class Process:
    """A ``trunkline`` subprocess whose output goes to files (it can never block on a pipe)."""

    def __init__(self, workdir: Path, *args: str) -> None:
        self.out_path = workdir / "stdout.txt"
        self.err_path = workdir / "stderr.txt"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen([*TRUNKLINE, *args], cwd=workdir, stdout=out, stderr=err)

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=20)


class Served(Process):
    def __init__(self, workdir: Path, command: str, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No SIP: these tests are about HTTP, and port 5060 may be anyone's.
        super().__init__(workdir, command, "--http-port", str(self.port), "--sip-port", "0", *args)

    def wait_healthy(self, timeout: float = 20.0) -> None:
        self.wait_until(lambda: http_raw("GET", f"{self.url}/healthz")[0] == 200, timeout)

    def wait_until(
        self, check: Callable[[], bool], timeout: float = 20.0, what: str = "healthy"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"exited with {self.proc.returncode}:\n{self.stderr}")
            try:
                if check():
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        pytest.fail(f"not {what} within {timeout} s:\n{self.stderr}")

    def login(self) -> str:
        status, body = http_raw(
            "POST", f"{self.url}/api/v1/auth/login", {"username": "sup", "password": PASSWORD}
        )
        assert status == 200, body
        token: str = json.loads(body)["token"]
        return token


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for proc in started:
        proc.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database", "mysql://db/x"], "unsupported database URL scheme 'mysql'"),
        (["--database", "sqlite:////no/such/dir/t.db"], "directory '/no/such/dir' does not exist"),
        (["--redis", "http://cache:6379"], "unsupported Redis URL scheme 'http'"),
        (["--config", "BAD"], ":2: queues.support.strategy: "),
    ],
)
def test_serve_refuses_bad_options_with_exit_2_and_no_traceback(
    tmp_path: Path, processes: list[Process], args: list[str], message: str
) -> None:
    (tmp_path / "BAD").write_text(BAD, encoding="utf-8")
    proc = Process(tmp_path, "serve", "--http-port", str(free_port()), "--sip-port", "0", *args)
    processes.append(proc)
    assert proc.wait() == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_health_and_metrics_then_stops_cleanly(
    tmp_path: Path, processes: list[Process], stop_signal: signal.Signals
) -> None:
    server = Served(tmp_path, "serve", "--database", f"sqlite:///{tmp_path / 'e.db'}")
    processes.append(server)
    server.wait_healthy()
    assert f"on {server.url}" in server.stdout
    status, metrics = http_raw("GET", f"{server.url}/metrics")
    assert status == 200 and b"trunkline_queue_waiting" in metrics
    server.proc.send_signal(stop_signal)
    assert server.wait() == 0
    log = server.stderr
    # The default config names no admin: one is created and its password logged once.
    assert len(re.findall(r"no admin in the config: created user 'admin' with password", log)) == 1
    assert "event record closed" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_serve_logs_json_and_says_redis_is_not_used_yet(
    tmp_path: Path, processes: list[Process]
) -> None:
    server = Served(
        tmp_path,
        "serve",
        "--database",
        f"sqlite:///{tmp_path / 'e.db'}",
        "--redis",
        "redis://:hunter2@127.0.0.1:6379/0",
        "--log-format",
        "json",
    )
    processes.append(server)
    server.wait_healthy()
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0
    lines = [json.loads(line) for line in server.stderr.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    redis = [line for line in lines if "Redis" in line["message"]]
    assert len(redis) == 1 and redis[0]["level"] == "warning"
    assert "not active" in redis[0]["message"] and "hunter2" not in redis[0]["message"]


@pytest.mark.slow
def test_sighup_reloads_the_config_and_keeps_it_when_the_file_is_broken(
    tmp_path: Path, processes: list[Process]
) -> None:
    config = tmp_path / "centre.yaml"
    config.write_text(supervisor(), encoding="utf-8")
    server = Served(
        tmp_path, "serve", "--config", str(config), "--database", f"sqlite:///{tmp_path / 'e.db'}"
    )
    processes.append(server)
    server.wait_healthy()
    token = server.login()

    def queue_ids() -> list[str]:
        status, body = http_raw("GET", f"{server.url}/api/v1/queues", token=token)
        assert status == 200, body
        return [q["id"] for q in json.loads(body)["queues"]]

    assert queue_ids() == ["support"]
    config.write_text(BAD, encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_until(lambda: "not reloaded" in server.stderr, what="refusing the broken file")
    assert ":2: queues.support.strategy: " in server.stderr
    assert queue_ids() == ["support"]

    config.write_text(supervisor("  sales: {}\n"), encoding="utf-8")
    server.proc.send_signal(signal.SIGHUP)
    server.wait_until(lambda: "configuration reloaded" in server.stderr, what="reloaded")
    assert queue_ids() == ["support", "sales"]
    # Still no admin in the file: the same bootstrap admin is kept, not a second one.
    assert server.stderr.count("no admin in the config") == 1
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait() == 0


def answered(metrics: bytes) -> float:
    total = 0.0
    for line in metrics.decode().splitlines():
        if line.startswith("trunkline_interactions_answered_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.slow
def test_demo_routes_simulated_traffic_within_seconds(
    tmp_path: Path, processes: list[Process]
) -> None:
    demo = Served(tmp_path, "demo", "--database", f"sqlite:///{tmp_path / 'demo.db'}")
    processes.append(demo)
    demo.wait_healthy()
    assert demo.url in demo.stdout and '"demo"' in demo.stdout
    demo.wait_until(
        lambda: answered(http_raw("GET", f"{demo.url}/metrics")[1]) > 0,
        timeout=60,
        what="answering simulated customers",
    )
    status, body = http_raw(
        "POST", f"{demo.url}/api/v1/auth/login", {"username": "sup", "password": "demo"}
    )
    assert status == 200, body
    demo.proc.send_signal(signal.SIGTERM)
    assert demo.wait() == 0
    assert "demo traffic stopped" in demo.stderr


def test_crm_import_reports_bad_lines_and_export_gives_the_contacts_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = f"sqlite:///{tmp_path / 'crm.db'}"
    source = tmp_path / "contacts.csv"
    source.write_text(
        "name,class,phone,email\n"
        "Ann Archer,vip,+44 20 7946 0001,ann@example.com\n"
        "Bad Number,standard,xx,\n"
        "Carl Cole,gold,,CARL@example.com\n",
        encoding="utf-8",
    )
    assert main(["crm", "import", str(source), "--database", database]) == 1
    out = capsys.readouterr().out
    assert "3 rows: 2 created, 0 updated, 1 failed" in out
    assert "line 3 (phone)" in out
    exported = tmp_path / "out.csv"
    assert main(["crm", "export", str(exported), "--database", database]) == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,name,organisation,class")
    ann, carl = sorted(lines[1:], key=lambda row: row.split(",")[1])
    assert "Ann Archer" in ann and "'+442079460001" in ann and ",vip," in ann
    assert "Carl Cole" in carl and "carl@example.com" in carl
    # The export imports again as updates of the same contacts.
    assert main(["crm", "import", str(exported), "--database", database]) == 0
    assert "2 rows: 0 created, 2 updated, 0 failed" in capsys.readouterr().out
