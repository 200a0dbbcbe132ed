"""Screen-pop benchmark: CRM lookups and the time from an interaction's creation to its
offer, with the full screen-pop, arriving on the agent's websocket.

It loads ``contacts`` contacts (a phone number and an e-mail each) through the real CSV
importer, gives a sample of them a history (ten past interactions, an open case) and

1. times ``lookups`` CRM lookups (identity → contact card, history, open cases) one after
   another, in this process: ``lookup_p50_ms`` / ``lookup_p99_ms``;
2. starts the real web application in a server process of its own
   (:mod:`trunkline.bench.screenpop_server`, on the loop ``trunkline serve`` uses) with
   ``agents`` agents, connects every agent's desktop over a websocket from this process,
   creates ``interactions`` interactions over the REST API at ``rate`` per second, each
   with a sampled customer's phone number written the way a caller id arrives (national
   format), and times each from just before the request is sent until its offer,
   carrying the screen-pop, is read from the agent's websocket: ``offer_p50_ms`` /
   ``offer_p99_ms``. Both timestamps are taken in this process.

The clients' own work no longer shares the server's loop; what is left of them is
reported (``client_cpu_percent``, ``client_loop_lag_*``) beside what the server saw of
itself (CPU, garbage-collection pauses, loop stalls, new database connections), and how
many offers slower than 20 ms overlapped a server pause or stall.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import signal
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert

from trunkline.bench.databases import scratch_database
from trunkline.bench.screenpop_server import (
    REGION,
    STALL_TICK_S,
    load_bench_config,
    loop_factory,
)
from trunkline.crm.importer import import_csv
from trunkline.crm.lookup import lookup
from trunkline.crm.model import Identity, IdentityKind
from trunkline.crm.service import CrmService
from trunkline.store.event_store import EventStore
from trunkline.store.schema import interaction as interaction_table

CLASSES = (("vip", 0.05), ("gold", 0.15), ("standard", 0.80))
FIRST = ("Ada", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon")
LAST = ("Smith", "Jones", "Taylor", "Brown", "Wilson", "O'Neil", "Müller", "Khan", "Lee")
HISTORY = 10  # past interactions of each sampled customer
SAMPLE = 1000  # customers that call during the benchmark
SLOW_OFFER_S = 0.020  # the p99 target: offers slower than this are counted


def _phone(i: int) -> str:
    """Contact ``i``'s number in E.164: London numbers +44 20 7xxx xxxx."""
    return f"+44207{i:07d}"


def _national(i: int) -> str:
    """The same number as a caller id often arrives: national format with spaces."""
    digits = f"{i:07d}"
    return f"020 7{digits[:3]} {digits[3:]}"


def _csv_chunks(contacts: int, seed: int, chunk_rows: int = 5000) -> AsyncIterator[bytes]:
    rng = random.Random(seed)
    names = [c for c, _ in CLASSES]
    weights = [w for _, w in CLASSES]

    async def chunks() -> AsyncIterator[bytes]:
        yield b"id,name,class,phone,email\n"
        for start in range(0, contacts, chunk_rows):
            lines = []
            for i in range(start, min(contacts, start + chunk_rows)):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                klass = rng.choices(names, weights)[0]
                lines.append(f'c{i},"{name}",{klass},{_phone(i)},customer{i}@example.com\n')
            yield "".join(lines).encode()

    return chunks()


async def _give_history(store: EventStore, crm: CrmService, sample: Sequence[int]) -> None:
    """Ten closed interactions and one open case for each sampled customer."""
    now = time.time()
    rows: list[dict[str, Any]] = []
    seq = 0
    for i in sample:
        for k in range(HISTORY):
            seq += 1
            at = now - 86_400 * (k + 1)
            rows.append(
                {
                    "id": f"past-{i}-{k}",
                    "medium": ("voice", "chat", "email")[k % 3],
                    "queue": "support",
                    "state": "completed",
                    "priority": 0,
                    "rank": at,
                    "skills": {},
                    "data": {},
                    "customer_id": f"c{i}",
                    "created_at": at,
                    "updated_at": at + 300,
                    "agent_id": f"a{k}",
                    "preferred_agent": None,
                    "disposition": "resolved",
                    "notes": "Customer asked about their last invoice.",
                    "seq": seq,
                }
            )
    async with store.engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            await conn.execute(insert(interaction_table), rows[start : start + 5000])
    for i in sample:
        await crm.create_case(contact_id=f"c{i}", subject="Invoice query", by="bench")


@dataclass
class _Timings:
    sent: dict[str, float] = field(default_factory=dict)
    offered: dict[str, float] = field(default_factory=dict)
    without_pop: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0


async def _agent_desktop(
    session: aiohttp.ClientSession, base: str, token: str, timings: _Timings
) -> None:
    """One agent's desktop: note each offer's arrival, accept it, finish it at once."""
    headers = {"Authorization": f"Bearer {token}"}
    async with session.ws_connect(f"{base}/api/v1/agent/ws?token={token}") as ws:
        async for msg in ws:
            # The clock is read as the frame is handed over, before decoding it: the
            # client's own JSON parsing is not the server's time.
            received = time.perf_counter()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            event = data.get("event") or {}
            if data.get("type") != "event" or event.get("type") != "interaction_offered":
                continue
            iid = event["interaction_id"]
            if iid in timings.sent:
                timings.offered[iid] = received
                if not data.get("screen_pop", {}) or not data["screen_pop"].get("contact"):
                    timings.without_pop += 1
                if len(timings.offered) >= timings.expected:
                    timings.done.set()
            url = f"{base}/api/v1/interactions/{iid}"
            async with session.post(url + "/accept", headers=headers, json={}) as r:
                await r.read()
            async with session.post(url + "/complete", headers=headers, json={}) as r:
                await r.read()


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    return {
        "p50": round(statistics.median(values) * 1000, 3),
        "p99": round(_percentile(values, 0.99) * 1000, 3),
        "max": round(max(values) * 1000, 3),
    }


async def _prepare(
    url: str,
    *,
    contacts: int,
    agents: int,
    lookups: int,
    seed: int,
    rng: random.Random,
    progress: Callable[[str], None],
) -> tuple[str, float, list[int], list[float]]:
    """Load the contacts, give the sample a history and time the lookups, in this
    process; everything is closed again before the server starts on the same database."""
    store = await EventStore.open(url)
    config = load_bench_config(agents)
    crm = CrmService(store.engine, config.crm)
    try:
        progress(f"loading {contacts} contacts")
        started = time.perf_counter()
        report = await import_csv(
            _csv_chunks(contacts, seed), crm.contacts, region=REGION, now=time.time
        )
        load_s = time.perf_counter() - started
        if report.failed or report.fatal:
            raise RuntimeError(f"contact load failed: {report.as_dict()}")
        sample = rng.sample(range(contacts), min(SAMPLE, contacts))
        await _give_history(store, crm, sample)
        if store.dialect == "postgresql":
            async with store.engine.begin() as conn:
                await conn.exec_driver_sql("ANALYZE")

        progress(f"timing {lookups} lookups")
        lookup_s = []
        for n in range(lookups):
            identity = Identity(IdentityKind.PHONE, _phone(sample[n % len(sample)]))
            t0 = time.perf_counter()
            found = await lookup(crm.reads, identities=[identity], history_size=HISTORY)
            lookup_s.append(time.perf_counter() - t0)
            assert found is not None and len(found.history) == HISTORY
        return store.dialect, load_s, sample, lookup_s
    finally:
        await crm.close()
        await store.close()


class _Server:
    """The server process: started on the scratch database, stopped by its PID."""

    def __init__(self, process: asyncio.subprocess.Process, ready: dict[str, Any]) -> None:
        self.process = process
        self.port: int = ready["port"]
        self.tokens: dict[str, str] = ready["tokens"]
        self.observed: dict[str, Any] = {}

    @classmethod
    @asynccontextmanager
    async def running(cls, database: str, agents: int) -> AsyncIterator[_Server]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "trunkline.bench.screenpop_server",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,  # the tokens and the observations are long lines
        )
        server: _Server | None = None
        try:
            assert process.stdin is not None and process.stdout is not None
            spec = {"database": database, "agents": agents}
            process.stdin.write(json.dumps(spec).encode() + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            if not line:
                raise RuntimeError("the benchmark server exited before it was ready")
            server = cls(process, json.loads(line))
            yield server
        finally:
            await _stop(process, server)

    def cpu_s(self) -> float:
        """User and system CPU seconds the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # proc(5): utime and stime are fields 14 and 15; fields[0] here is field 3.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _stop(process: asyncio.subprocess.Process, server: _Server | None) -> None:
    """SIGTERM, read what the server observed, then SIGKILL if it has not gone in time."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):  # exited, not yet reaped
            process.send_signal(signal.SIGTERM)
    try:
        if process.stdout is not None:
            rest = await asyncio.wait_for(process.stdout.read(), timeout=30)
            lines = rest.decode().splitlines()
            if server is not None and lines:
                server.observed = json.loads(lines[-1])
        await asyncio.wait_for(process.wait(), timeout=10)
    except (TimeoutError, json.JSONDecodeError):
        pass
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def _loop_lag_watch(lags: list[float]) -> asyncio.Task[None]:
    """The client process's own lateness: an offer read late is not the server's fault."""

    async def watch() -> None:
        while True:
            before = time.perf_counter()  # uvloop's loop.time() only has milliseconds
            await asyncio.sleep(0.005)
            lags.append(time.perf_counter() - before - 0.005)

    return asyncio.create_task(watch())


def _during(slow: Sequence[tuple[float, float]], spans: Sequence[tuple[float, float]]) -> int:
    """How many (start, end) offers overlap any (start, end) span."""
    return sum(1 for s, e in slow if any(a < e and s < b for a, b in spans))


async def run_async(
    *,
    contacts: int,
    agents: int,
    interactions: int,
    lookups: int,
    rate: float,
    database: str | None,
    seed: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    rng = random.Random(seed)
    async with scratch_database(database) as url:
        dialect, load_s, sample, lookup_s = await _prepare(
            url,
            contacts=contacts,
            agents=agents,
            lookups=lookups,
            seed=seed,
            rng=rng,
            progress=progress,
        )
        progress("starting the server process")
        async with _Server.running(url, agents) as server:
            timed = await _drive(server, sample, agents, interactions, rate, progress)
        observed = server.observed
    offer_s = [timings_offered - sent for sent, timings_offered in timed.pairs]
    lookup_ms = _ms(lookup_s)
    offer_ms = _ms(offer_s)
    slow = [(s, o) for s, o in timed.pairs if o - s > SLOW_OFFER_S]
    window = (timed.started, timed.ended)
    gc_spans = [
        (a, a + ms / 1000)
        for a, ms, _gen in observed.get("gc_pauses", [])
        if window[0] <= a <= window[1]
    ]
    stalls = [(a, ms, cpu) for a, ms, *cpu in observed.get("stalls", [])]
    stall_spans = [(a - ms / 1000, a) for a, ms, _cpu in stalls if window[0] <= a <= window[1]]
    stalled_ms = sum(
        ms + 1000 * STALL_TICK_S for a, ms, _cpu in stalls if window[0] <= a <= window[1]
    )
    stalled_cpu_ms = sum(sum(cpu) for a, _ms, cpu in stalls if window[0] <= a <= window[1])
    wall_s = timed.ended - timed.started
    return {
        "database": dialect,
        "contacts": contacts,
        "agents": agents,
        "import_rows_per_s": round(contacts / load_s),
        "lookups": lookups,
        "lookup_p50_ms": lookup_ms["p50"],
        "lookup_p99_ms": lookup_ms["p99"],
        "interactions": interactions,
        "offers_received": len(offer_s),
        "offers_without_screen_pop": timed.without_pop,
        "rate_per_s": rate,
        "offer_p50_ms": offer_ms["p50"],
        "offer_p99_ms": offer_ms["p99"],
        "offer_max_ms": offer_ms["max"],
        "clients": "separate process",
        "server_loop": observed.get("loop", "unknown"),
        "server_cpu_percent": round(100 * timed.server_cpu_s / wall_s, 1),
        "client_cpu_percent": round(100 * timed.client_cpu_s / wall_s, 1),
        "client_loop_lag_p99_ms": _ms(timed.client_lags)["p99"],
        "client_loop_lag_max_ms": _ms(timed.client_lags)["max"],
        "server_gc_pauses": len(gc_spans),
        "server_gc_max_ms": round(max((b - a for a, b in gc_spans), default=0.0) * 1000, 3),
        "server_stalls_over_5ms": len(stall_spans),
        "server_stall_cpu_share": round(stalled_cpu_ms / stalled_ms, 2) if stalled_ms else None,
        "server_stall_max_ms": round(max((b - a for a, b in stall_spans), default=0.0) * 1000, 3),
        "server_db_connects": sum(
            1 for a in observed.get("connects", []) if window[0] <= a <= window[1]
        ),
        "offers_over_20ms": len(slow),
        "offers_over_20ms_during_server_gc": _during(slow, gc_spans),
        "offers_over_20ms_during_server_stall": _during(slow, stall_spans),
    }


@dataclass
class _Timed:
    pairs: list[tuple[float, float]]  # (sent, offer read) per interaction
    without_pop: int
    started: float
    ended: float
    server_cpu_s: float
    client_cpu_s: float
    client_lags: list[float]


async def _drive(
    server: _Server,
    sample: Sequence[int],
    agents: int,
    interactions: int,
    rate: float,
    progress: Callable[[str], None],
) -> _Timed:
    """The clients: every agent's desktop on a websocket, and the arrivals over REST."""
    base = f"http://127.0.0.1:{server.port}"
    timings = _Timings(expected=interactions)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        progress(f"connecting {agents} agent desktops")
        desktops = []
        for n in range(agents):
            token = server.tokens[f"a{n}"]
            headers = {"Authorization": f"Bearer {token}"}
            async with session.post(
                f"{base}/api/v1/agents/a{n}/login", headers=headers, json={"ready": True}
            ) as r:
                r.raise_for_status()
            desktops.append(asyncio.create_task(_agent_desktop(session, base, token, timings)))
        await asyncio.sleep(1.0)  # let every socket finish its hello
        headers = {"Authorization": f"Bearer {server.tokens['sup']}"}
        progress(f"creating {interactions} interactions at {rate}/s")
        lags: list[float] = []
        watcher = _loop_lag_watch(lags)
        # The client is the measuring instrument: its collector should not add pauses.
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], 50_000), 50, 100)
        server_cpu0, client_cpu0 = server.cpu_s(), _own_cpu_s()
        started = time.perf_counter()
        try:
            gap = 1.0 / rate
            next_at = time.perf_counter()
            posts = []
            for n in range(interactions):
                customer = sample[n % len(sample)]
                iid = uuid.uuid4().hex
                body = {
                    "id": iid,
                    "medium": "chat",
                    "queue": "support",
                    "data": {"caller_id": _national(customer)},
                }
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += gap
                timings.sent[iid] = time.perf_counter()
                posts.append(
                    asyncio.create_task(
                        _post(session, f"{base}/api/v1/interactions", headers, body)
                    )
                )
            await asyncio.gather(*posts)
            try:
                await asyncio.wait_for(timings.done.wait(), timeout=60)
            except TimeoutError:
                progress("some offers never arrived")
        finally:
            ended = time.perf_counter()
            server_cpu, client_cpu = server.cpu_s() - server_cpu0, _own_cpu_s() - client_cpu0
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            watcher.cancel()
            for task in desktops:
                task.cancel()
            await asyncio.gather(watcher, *desktops, return_exceptions=True)
    return _Timed(
        pairs=[(timings.sent[i], timings.offered[i]) for i in timings.offered],
        without_pop=timings.without_pop,
        started=started,
        ended=ended,
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
        client_lags=lags,
    )


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: dict[str, Any]
) -> None:
    async with session.post(url, headers=headers, json=body) as response:
        if response.status != 201:
            raise RuntimeError(f"creating an interaction failed: {await response.text()}")


def run(
    *,
    contacts: int = 100_000,
    agents: int = 1000,
    interactions: int = 2000,
    lookups: int = 5000,
    rate: float = 50.0,
    database: str | None = None,
    seed: int = 1,
    emit: Callable[[str], None] = print,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(
            run_async(
                contacts=contacts,
                agents=agents,
                interactions=interactions,
                lookups=lookups,
                rate=rate,
                database=database,
                seed=seed,
                progress=progress,
            )
        )
    emit(json.dumps(result))
    return result
