"""The durability promise end to end: a killed server comes back with the same queue.

A real ``trunkline serve`` process takes interactions over HTTP, is killed with SIGKILL
(no shutdown code runs), and is started again on the same database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from process_helpers import free_port, http_json
from sqlalchemy.engine import make_url

from trunkline.auth.passwords import hash_password
from trunkline.store.url import to_async_url

pytestmark = pytest.mark.slow

TRUNKLINE = [sys.executable, "-c", "from trunkline.cli import main; raise SystemExit(main())"]
POSTGRES_ENV = "TRUNKLINE_TEST_POSTGRES"

PASSWORD = "s3cret-sup"


class Server:
    """A ``trunkline serve`` subprocess; its output goes to files so it can never block."""

    def __init__(self, workdir: Path, database: str, config: Path, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stderr_path = workdir / f"{name}.stderr"
        args = ["serve", "--http-port", str(self.port), "--sip-port", "0", "--database", database]
        with (workdir / f"{name}.stdout").open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [*TRUNKLINE, *args, "--config", str(config)], cwd=workdir, stdout=out, stderr=err
            )

    def log(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_healthy(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if http_json("GET", f"{self.url}/healthz")[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        pytest.fail(f"server not healthy within {timeout} s:\n{self.log()}")

    def login(self) -> str:
        status, body = http_json(
            "POST", f"{self.url}/api/v1/auth/login", {"username": "sup", "password": PASSWORD}
        )
        assert status == 200, body
        token: str = body["token"]
        return token

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)


def write_config(path: Path) -> Path:
    path.write_text(
        f"""\
skills: [english]
queues:
  support:
    offer_timeout_s: 30
agents:
  - {{id: ann, skills: {{english: 3}}, queues: [support]}}
users:
  - id: sup
    role: supervisor
    password_hash: "{hash_password(PASSWORD)}"
""",
        encoding="utf-8",
    )
    return path


async def _create_database(base: str) -> tuple[str, str]:
    url = make_url(to_async_url(base)).set(drivername="postgresql")
    name = f"trunkline_restart_{uuid.uuid4().hex[:12]}"
    admin_url = url.set(database="postgres").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False), admin_url


async def _drop_database(admin_url: str, database: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'events.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV} to run against PostgreSQL")
    try:
        url, admin_url = asyncio.run(_create_database(base))
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL at {make_url(to_async_url(base))} unreachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield url
    finally:
        asyncio.run(_drop_database(admin_url, make_url(url).database or ""))


def test_killed_server_comes_back_with_the_same_queue_in_the_same_order(
    tmp_path: Path, database: str
) -> None:
    config = write_config(tmp_path / "centre.yaml")
    first = Server(tmp_path, database, config, "first")
    try:
        first.wait_healthy()
        token = first.login()
        media = ("voice", "chat", "email")
        posted = []
        for n in range(20):
            body = {
                "id": f"r{n:02d}",
                "medium": media[n % 3],
                "queue": "support",
                "priority": (0, 2, 0, 1, 5)[n % 5],
                "data": {"n": n},
            }
            status, created = http_json("POST", f"{first.url}/api/v1/interactions", body, token)
            assert status == 201, created
            assert created["state"] == "queued"
            posted.append(body["id"])
        status, listed = http_json("GET", f"{first.url}/api/v1/interactions?limit=100", token=token)
        assert status == 200, listed
        before = [it["id"] for it in listed["interactions"]]
        assert sorted(before) == posted
        assert before != posted  # priorities reorder them, so the order is worth checking
    finally:
        first.kill()
    assert first.proc.returncode == -signal.SIGKILL

    second = Server(tmp_path, database, config, "second")
    try:
        second.wait_healthy()
        token = second.login()
        status, listed = http_json(
            "GET", f"{second.url}/api/v1/interactions?limit=100", token=token
        )
        assert status == 200, listed
        after = listed["interactions"]
        assert [it["id"] for it in after] == before
        assert {it["state"] for it in after} == {"queued"}
        assert [it["data"]["n"] for it in after] == [int(i[1:]) for i in before]
        status, one = http_json("GET", f"{second.url}/api/v1/interactions/r04", token=token)
        assert (status, one["priority"], one["medium"]) == (200, 5, "chat")
        assert "20 open interactions recovered" in second.log()
    finally:
        second.kill()
