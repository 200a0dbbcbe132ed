"""The server half of the screen-pop benchmark: the real web application in a process of
its own, on the event loop ``trunkline serve`` uses, so the clients' work is not counted.

Run as ``python -m trunkline.bench.screenpop_server``. It reads one JSON line on stdin
(``database``, ``agents``), listens on a free loopback port, and writes one JSON line on
stdout: the port and a token per user. It stops on SIGTERM or SIGINT, or when stdin
closes (so it never outlives a benchmark that died), and then writes a second JSON line
with what it observed about itself: garbage-collection pauses and event-loop stalls.

With ``TRUNKLINE_BENCH_PROBES=1`` it also times each REST request and each screen-pop
build, to say where a slow offer spent its time.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware
from sqlalchemy import event as sa_event

from trunkline.config.loader import Config, UserSpec, load_config_text
from trunkline.crm.service import CrmService
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.web import keys
from trunkline.web.app import create_app

REGION = "GB"
STALL_TICK_S = 0.005  # the loop-lag probe's period
STALL_REPORTED_S = 0.005  # lateness beyond the tick that counts as a stall
PROBES_ENV = "TRUNKLINE_BENCH_PROBES"


def config_text(agents: int) -> str:
    """The centre the benchmark runs: one chat queue, ``agents`` agents serving it."""
    lines = [
        "centre: {timezone: Europe/London, preferred_head_start_s: 0}",
        "capacity_profiles:",
        "  chats: {limits: {chat: 3, voice: 1}}",
        "queues:",
        "  support: {offer_timeout_s: 60, wrap_up: {mode: none}}",
        f"crm: {{default_region: {REGION}, class_priority: {{vip: 30, gold: 10}}}}",
        "agents:",
    ]
    lines += [f"  - {{id: a{n}, queues: [support], capacity: chats}}" for n in range(agents)]
    return "\n".join(lines) + "\n"


def load_bench_config(agents: int) -> Config:
    return load_config_text(config_text(agents), "bench.yaml")


@dataclass
class _Observations:
    """What the server saw of itself; timestamps are ``time.perf_counter`` seconds, which
    is CLOCK_MONOTONIC and so comparable with the client process's."""

    gc_pauses: list[tuple[float, float, int]] = field(default_factory=list)  # start, s, gen
    stalls: list[tuple[float, float, float]] = field(default_factory=list)  # at, late, cpu
    requests: list[tuple[float, float, str]] = field(default_factory=list)  # start, s, path
    connects: list[float] = field(default_factory=list)  # new database connections
    _gc_started: float = 0.0

    def on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            elapsed = time.perf_counter() - self._gc_started
            self.gc_pauses.append((self._gc_started, elapsed, info["generation"]))

    async def watch_loop(self) -> None:
        """Sleep a short tick again and again; waking late means the loop was busy."""
        while True:
            before, cpu_before = time.perf_counter(), time.thread_time()
            await asyncio.sleep(STALL_TICK_S)
            after = time.perf_counter()
            late = after - before - STALL_TICK_S
            if late > STALL_REPORTED_S:
                # The loop thread's CPU over the same interval tells a long callback (busy)
                # from a process that was waiting for a core (other processes ran).
                self.stalls.append((after, late, time.thread_time() - cpu_before))

    def summary(self) -> dict[str, Any]:
        return {
            "loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
            "gc_pauses": [[round(a, 6), round(s * 1000, 3), g] for a, s, g in self.gc_pauses],
            "stalls": [
                [round(a, 6), round(s * 1000, 3), round(c * 1000, 3)] for a, s, c in self.stalls
            ],
            "requests": [[round(a, 6), round(s * 1000, 3), p] for a, s, p in self.requests],
            "connects": [round(a, 6) for a in self.connects],
        }


def _timing_middleware(observations: _Observations) -> Middleware:
    @web.middleware
    async def timed(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            kind = request.path.rsplit("/", 1)[-1] if "/interactions/" in request.path else "create"
            observations.requests.append((started, time.perf_counter() - started, kind))

    return timed


async def serve(database: str, agents: int, out: Callable[[str], None]) -> None:
    observations = _Observations()
    probes = os.environ.get(PROBES_ENV) == "1"
    store = await EventStore.open(database)
    config = load_bench_config(agents)
    service = RoutingService(config=config, store=store)
    crm = CrmService(
        store.engine, config.crm, clock=service.clock, agent_available=service.can_hold_for
    )
    runner: web.AppRunner | None = None
    watcher: asyncio.Task[None] | None = None
    try:
        await service.start()
        users = {
            f"a{n}": UserSpec(id=f"a{n}", role="agent", agent_id=f"a{n}") for n in range(agents)
        }
        users["sup"] = UserSpec(id="sup", role="supervisor")
        app = create_app(service, users=users, crm=crm)
        if probes:
            app.middlewares.append(_timing_middleware(observations))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        tokens = app[keys.AUTH].tokens
        issued = {user: tokens.issue(user)[0] for user in users}
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        _stop_when_stdin_closes(loop, stop)
        gc.callbacks.append(observations.on_gc)
        for engine in {store.engine, crm.reads}:
            sa_event.listen(
                engine.sync_engine.pool,
                "connect",
                lambda *_args: observations.connects.append(time.perf_counter()),
            )
        watcher = asyncio.create_task(observations.watch_loop())
        out(json.dumps({"port": port, "pid": os.getpid(), "tokens": issued}))
        await stop.wait()
    finally:
        if watcher is not None:
            watcher.cancel()
        if observations.on_gc in gc.callbacks:
            gc.callbacks.remove(observations.on_gc)
        out(json.dumps(observations.summary()))
        if runner is not None:
            await runner.cleanup()
        await service.stop()
        await crm.close()
        await store.close()


def _stop_when_stdin_closes(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def wait_for_eof() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_eof, daemon=True, name="stdin-eof").start()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop ``trunkline serve`` runs on: uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def main() -> int:
    spec = json.loads(sys.stdin.readline())

    def out(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(serve(spec["database"], int(spec["agents"]), out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
