"""Screen-pop benchmark: CRM lookups and the time from an interaction's creation to its
offer, with the full screen-pop, arriving on the agent's websocket.

It loads ``contacts`` contacts (a phone number and an e-mail each) through the real CSV
importer, gives a sample of them a history (ten past interactions, an open case), starts
the real web application on loopback with ``agents`` agents whose desktops are connected
over websockets, then

1. times ``lookups`` CRM lookups (identity → contact card, history, open cases) one after
   another: ``lookup_p50_ms`` / ``lookup_p99_ms``;
2. creates ``interactions`` interactions over the REST API at ``rate`` per second, each
   with a sampled customer's phone number written the way a caller id arrives (national
   format), and times each from just before the request is sent until its offer, carrying
   the screen-pop, is read from the agent's websocket: ``offer_p50_ms`` / ``offer_p99_ms``.

The clients run in the same process and event loop as the server, so their own work
counts against the figures: the numbers are conservative.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert

from trunkline.bench.databases import scratch_database
from trunkline.config.loader import UserSpec, load_config_text
from trunkline.crm.importer import import_csv
from trunkline.crm.lookup import lookup
from trunkline.crm.model import Identity, IdentityKind
from trunkline.crm.service import CrmService
from trunkline.service.routing import RoutingService
from trunkline.store.event_store import EventStore
from trunkline.store.schema import interaction as interaction_table
from trunkline.web import keys
from trunkline.web.app import create_app

REGION = "GB"
CLASSES = (("vip", 0.05), ("gold", 0.15), ("standard", 0.80))
FIRST = ("Ada", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon")
LAST = ("Smith", "Jones", "Taylor", "Brown", "Wilson", "O'Neil", "Müller", "Khan", "Lee")
HISTORY = 10  # past interactions of each sampled customer
SAMPLE = 1000  # customers that call during the benchmark


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


def _config_text(agents: int) -> str:
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
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(msg.data)
            event = data.get("event") or {}
            if data.get("type") != "event" or event.get("type") != "interaction_offered":
                continue
            iid = event["interaction_id"]
            if iid in timings.sent:
                timings.offered[iid] = time.perf_counter()
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
    return {
        "p50": round(statistics.median(values) * 1000, 3),
        "p99": round(_percentile(values, 0.99) * 1000, 3),
    }


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
        store = await EventStore.open(url)
        config = load_config_text(_config_text(agents), "bench.yaml")
        service = RoutingService(config=config, store=store)
        crm = CrmService(
            store.engine, config.crm, clock=service.clock, agent_available=service.can_hold_for
        )
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

            await service.start()
            users = {
                f"a{n}": UserSpec(id=f"a{n}", role="agent", agent_id=f"a{n}") for n in range(agents)
            }
            users["sup"] = UserSpec(id="sup", role="supervisor")
            app = create_app(service, users=users, crm=crm)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            base = f"http://127.0.0.1:{port}"
            tokens = app[keys.AUTH].tokens
            timings = _Timings(expected=interactions)
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                progress(f"connecting {agents} agent desktops")
                desktops = []
                for n in range(agents):
                    token, _ = tokens.issue(f"a{n}")
                    headers = {"Authorization": f"Bearer {token}"}
                    async with session.post(
                        f"{base}/api/v1/agents/a{n}/login", headers=headers, json={"ready": True}
                    ) as r:
                        r.raise_for_status()
                    desktops.append(
                        asyncio.create_task(_agent_desktop(session, base, token, timings))
                    )
                await asyncio.sleep(1.0)  # let every socket finish its hello
                sup, _ = tokens.issue("sup")
                headers = {"Authorization": f"Bearer {sup}"}
                progress(f"creating {interactions} interactions at {rate}/s")
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
                for task in desktops:
                    task.cancel()
                await asyncio.gather(*desktops, return_exceptions=True)
            await runner.cleanup()
            await service.stop()
            offer_s = [timings.offered[i] - timings.sent[i] for i in timings.offered]
            lookup_ms = _ms(lookup_s)
            offer_ms = _ms(offer_s)
            return {
                "database": store.dialect,
                "contacts": contacts,
                "agents": agents,
                "import_rows_per_s": round(contacts / load_s),
                "lookups": lookups,
                "lookup_p50_ms": lookup_ms["p50"],
                "lookup_p99_ms": lookup_ms["p99"],
                "interactions": interactions,
                "offers_received": len(offer_s),
                "offers_without_screen_pop": timings.without_pop,
                "rate_per_s": rate,
                "offer_p50_ms": offer_ms["p50"],
                "offer_p99_ms": offer_ms["p99"],
            }
        finally:
            await crm.close()
            await store.close()


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
    result = asyncio.run(
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
