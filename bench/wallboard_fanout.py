"""Wallboard fan-out benchmark: N websocket clients against a real server on loopback.

    python bench/wallboard_fanout.py [--clients 1000] [--seconds 10] [--rate 50]

The server (routing service, live statistics, web app over a temporary SQLite record) runs
in this process; the clients run in a child process, so their JSON parsing does not eat
the server's loop. Simulated customers arrive at ``--rate`` per second for ``--seconds``.
Prints JSON: delta messages delivered per second across all clients, bytes per second,
snapshots published, snapshot-to-screen latency (a tick's computation to each client's
receipt: the fan-out itself) and event-to-screen latency (an arrival's submit to the
first delta that counts it), both on the same host clock. Deltas are coalesced to one per
second per client by design, so messages/s is at most the client count and event-to-screen
includes up to a second of coalescing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from trunkline.config.loader import load_config_text
from trunkline.domain.interaction import InteractionRequest
from trunkline.domain.media import Medium
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.web import keys
from trunkline.web.app import create_app

CONFIG = """
queues:
  support: {name: Support}
agents:
  - {id: ann, queues: [support]}
users:
  - {id: sup, role: supervisor}
"""
PATH = "/api/v1/wallboard/ws"


def _raise_fd_limit() -> None:
    # A thousand sockets need more descriptors than many shells allow by default.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# -- clients (child process) ------------------------------------------------------------------


def _offered(message: dict[str, Any]) -> int | None:
    """The support queue's ``today.offered`` if this message carries it."""
    queues = message.get("queues")
    if isinstance(queues, list):  # the snapshot
        for queue in queues:
            if queue.get("id") == "support":
                return int(queue["today"]["offered"])
        return None
    if isinstance(queues, dict):  # a delta: {id: changes}
        today = queues.get("support", {}).get("today") or {}
        if "offered" in today:
            return int(today["offered"])
    return None


async def _client(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    connected: asyncio.Event,
    stop: asyncio.Event,
    out: dict[str, Any],
    gate: asyncio.Semaphore,
) -> None:
    async with gate:  # not a thousand handshakes at once
        ws = await session.ws_connect(url, params={"token": token}, max_msg_size=0)
        first = json.loads((await ws.receive()).data)
    connected.set()
    seen: list[tuple[int, float]] = []
    async with ws:
        while not stop.is_set():
            try:
                msg = await ws.receive(timeout=0.5)
            except TimeoutError:
                continue
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            now = time.time()
            out["messages"] += 1
            out["bytes"] += len(msg.data)
            message = json.loads(msg.data)
            out["fanout"].append(now - message["generated_at"])
            offered = _offered(message)
            if offered is not None:
                seen.append((offered, now))
    out["seen"].append(seen)
    out["start_offered"].append(_offered(first) or 0)


async def _run_clients(port: int, token: str, n: int, pipe: Connection) -> None:
    _raise_fd_limit()
    url = f"http://127.0.0.1:{port}{PATH}"
    out: dict[str, Any] = {
        "messages": 0,
        "bytes": 0,
        "fanout": [],
        "seen": [],
        "start_offered": [],
    }
    stop = asyncio.Event()
    gate = asyncio.Semaphore(100)
    events = [asyncio.Event() for _ in range(n)]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        tasks = [
            asyncio.create_task(_client(session, url, token, events[i], stop, out, gate))
            for i in range(n)
        ]
        await asyncio.gather(*(e.wait() for e in events))
        out["connect_s"] = time.monotonic() - started
        out["messages"] = 0  # count from here on: the traffic is about to start
        out["bytes"] = 0
        out["fanout"].clear()
        pipe.send("connected")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    pipe.send(out)


def _clients_main(port: int, token: str, n: int, pipe: Connection) -> None:
    asyncio.run(_run_clients(port, token, n, pipe))


# -- server and traffic (this process) --------------------------------------------------------


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _bench(clients: int, seconds: float, rate: float) -> dict[str, Any]:
    _raise_fd_limit()
    with tempfile.TemporaryDirectory() as tmp:
        store = await EventStore.open(f"sqlite:///{Path(tmp) / 'bench.db'}")
        config = load_config_text(CONFIG, "bench.yaml")
        service = RoutingService(config=config, store=store)
        await service.start()
        app = create_app(service, users=config.users)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        token, _ = app[keys.AUTH].tokens.issue("sup")

        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe()
        child = ctx.Process(target=_clients_main, args=(port, token, clients, theirs))
        child.start()
        loop = asyncio.get_running_loop()
        try:
            assert await loop.run_in_executor(None, ours.recv) == "connected"
            feed = app[keys.WALLBOARD_FEED]
            ticks_before = feed.published
            submitted: list[float] = []
            started = time.time()
            n = 0
            while (elapsed := time.time() - started) < seconds:
                due = int(elapsed * rate) + 1
                while n < due:
                    request = InteractionRequest(id=f"b{n}", medium=Medium.CHAT, queue="support")
                    submitted.append(time.time())
                    await service.submit(request)
                    n += 1
                await asyncio.sleep(max(0.0, (n / rate) - (time.time() - started)))
            traffic_s = time.time() - started
            await asyncio.sleep(1.5)  # the last coalesced delta goes out within a second
            ticks = feed.published - ticks_before
            ours.send("stop")
            result: dict[str, Any] = await loop.run_in_executor(None, ours.recv)
        finally:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
            await runner.cleanup()
            await service.stop()
            await store.close()

    latencies: list[float] = []
    for seen, base in zip(result["seen"], result["start_offered"], strict=True):
        shown = base
        for offered, at in seen:
            for k in range(shown, min(offered, len(submitted))):
                latencies.append(at - submitted[k])
            shown = max(shown, offered)
    window_s = traffic_s + 1.5
    return {
        "clients": clients,
        "arrivals": len(submitted),
        "arrival_rate_per_s": round(len(submitted) / traffic_s, 1),
        "connect_s": round(result["connect_s"], 3),
        "messages": result["messages"],
        "wallboard_fanout_msgs_per_s": round(result["messages"] / window_s, 1),
        "bytes_per_s": round(result["bytes"] / window_s),
        "snapshots_published": ticks,
        # From the snapshot's computation to each client's receipt: the fan-out itself.
        "snapshot_to_screen_ms": {
            "p50": _ms(_percentile(result["fanout"], 0.50)),
            "p99": _ms(_percentile(result["fanout"], 0.99)),
            "max": _ms(max(result["fanout"]) if result["fanout"] else None),
        },
        # From an arrival to the first delta showing it: fan-out plus up to a second of
        # coalescing.
        "event_to_screen_ms": {
            "p50": _ms(_percentile(latencies, 0.50)),
            "p99": _ms(_percentile(latencies, 0.99)),
            "max": _ms(max(latencies) if latencies else None),
            "mean": _ms(statistics.fmean(latencies) if latencies else None),
        },
        "python": sys.version.split()[0],
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=50.0, help="arrivals per second")
    args = parser.parse_args(argv)
    # The server's loop, as ``trunkline serve`` runs it.
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        figures = runner.run(_bench(args.clients, args.seconds, args.rate))
    print(json.dumps(figures, indent=2))
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


if __name__ == "__main__":
    raise SystemExit(main())
